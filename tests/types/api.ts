// Type test of the package's public API: every documented method and event, with the parameter
// and payload shapes of the API documents. Compiled with `tsc --noEmit`; nothing runs. The
// `@ts-expect-error` lines are negative checks: each must be a type error, or tsc fails.
import {
  Call,
  connect,
  createLocalDataTrack,
  createLocalTracks,
  errorName,
  LocalDataTrack,
  initialize,
  Room,
  RoomSession,
  type ActiveUser,
  type CallStatus,
  type ConveneError,
  type LocalTrackPublication,
  type Message,
  type NetworkMetrics,
  type Participant,
  type RemoteParticipant,
  type RemoteTrack,
  type RemoteTrackPublication,
  type RoomSessionDevice,
  type RoomSessionMember,
  type RoomSessionPlayback,
  type RoomSessionRecording,
  type RoomSessionStream,
  type State,
  type Stream,
  type Unsubscribe,
  type VideoRoom,
  type WebRTCStats,
} from "convene";

declare const el: HTMLElement;
declare const stream: MediaStream;
declare const track: MediaStreamTrack;

function isString(_: string): void {}
function isNumber(_: number): void {}
function isBoolean(_: boolean): void {}

// --------------------------------------------------------------------------------------------
// RoomSession
// --------------------------------------------------------------------------------------------
async function roomSession(): Promise<void> {
  const roomSession = new RoomSession({
    token: "eyJ...",
    rootElement: document.getElementById("myVideoElement"),
    applyLocalVideoOverlay: true,
    iceServers: [{ urls: ["stun:stun.example.net:3478"] }],
    localStream: stream,
    logLevel: "debug",
    speakerId: "default",
    stopCameraWhileMuted: true,
    stopMicrophoneWhileMuted: false,
    audio: true,
    video: { width: 1280, height: 720 },
  });
  new RoomSession({ token: "t", rootElement: el });
  // @ts-expect-error the token is required
  new RoomSession({ rootElement: el });
  // @ts-expect-error logLevel is an enumeration
  new RoomSession({ token: "t", logLevel: "loud" });

  // properties (browser half)
  isBoolean(roomSession.active);
  const cam: string | null = roomSession.cameraId;
  const camLabel: string | null = roomSession.cameraLabel;
  const devices: RoomSessionDevice[] = roomSession.deviceList;
  const mode: "member" | "audience" = roomSession.interactivityMode;
  const at: MediaStreamTrack | undefined = roomSession.localAudioTrack;
  const ls: MediaStream | undefined = roomSession.localStream;
  const vt: MediaStreamTrack | undefined = roomSession.localVideoTrack;
  const overlay = roomSession.localOverlay;
  isString(roomSession.memberId);
  const mic: string | null = roomSession.microphoneId;
  const micLabel: string | null = roomSession.microphoneLabel;
  const perms: string[] = roomSession.permissions;
  const preview: string | undefined = roomSession.previewUrl;
  const rs: MediaStream | undefined = roomSession.remoteStream;
  isString(roomSession.roomId);
  isString(roomSession.roomSessionId);
  const shares: RoomSessionDevice[] = roomSession.screenShareList;
  // properties (room-control half)
  isString(roomSession.id);
  isString(roomSession.name);
  isString(roomSession.displayName);
  isBoolean(roomSession.hideVideoMuted);
  isString(roomSession.layoutName);
  const meta: Record<string, unknown> = roomSession.meta;
  isBoolean(roomSession.recording);
  const recs: RoomSessionRecording[] = roomSession.recordings;
  void [cam, camLabel, devices, mode, at, ls, vt, overlay, mic, micLabel, perms, preview, rs, shares, meta, recs];
  // @ts-expect-error properties are read-only
  roomSession.memberId = "x";

  // lifecycle
  const joined: RoomSession = await roomSession.join();
  await roomSession.join({ audio: true, video: { deviceId: "cam-2" }, receiveAudio: true, receiveVideo: false });
  void joined;
  const full = await roomSession.subscribe();
  isString(full.name);
  const members0: RoomSessionMember[] = full.members;
  void members0;
  await roomSession.resumePlayback();

  // devices
  const camDev = await roomSession.addCamera({ width: 640 });
  await camDev.videoMute();
  await camDev.leave();
  await roomSession.addMicrophone({ echoCancellation: true });
  await roomSession.addDevice({ audio: true, video: false });
  await roomSession.updateCamera({ deviceId: "abc" });
  await roomSession.updateMicrophone({ deviceId: "def" });
  await roomSession.updateSpeaker({ deviceId: "ghi" });
  const share = await roomSession.startScreenShare({ audio: true, video: true, layout: "2x1", positions: { self: "reserved-1" } });
  await share.leave();
  await roomSession.createScreenShareObject();
  await roomSession.setLocalStream(stream);
  // @ts-expect-error updateSpeaker needs a deviceId
  await roomSession.updateSpeaker({});

  // moderation: self and {memberId}
  const id = "de550c0c-3fac-4efd-b06f-b5b8614b8966";
  await roomSession.audioMute();
  await roomSession.audioMute({ memberId: id });
  await roomSession.audioUnmute({ memberId: id });
  await roomSession.videoMute({ memberId: id });
  await roomSession.videoUnmute();
  await roomSession.deaf({ memberId: id });
  await roomSession.undeaf();
  // @ts-expect-error memberId is a string
  await roomSession.audioMute({ memberId: 5 });
  const { members } = await roomSession.getMembers();
  for (const m of members) {
    isString(m.id);
    isString(m.name);
    isBoolean(m.audioMuted);
    isBoolean(m.videoMuted);
    isBoolean(m.deaf);
    isBoolean(m.visible);
    isBoolean(m.handraised);
    isNumber(m.inputVolume);
    isNumber(m.outputVolume);
    isNumber(m.inputSensitivity);
    isString(m.roomSessionId);
    isString(m.roomId);
    const t: "member" | "screen" | "device" = m.type;
    void t;
  }
  await roomSession.removeMember({ memberId: id });
  // @ts-expect-error removeMember needs a memberId
  await roomSession.removeMember({});
  await roomSession.removeAllMembers();
  await roomSession.lock();
  await roomSession.unlock();
  await roomSession.promote({
    memberId: id,
    mediaAllowed: "all",
    joinAudioMuted: true,
    joinVideoMuted: false,
    meta: { vip: true },
    permissions: ["room.self.audio_mute", "room.self.audio_unmute", "room.list_available_layouts"],
  });
  await roomSession.demote({ memberId: id, mediaAllowed: "audio-only" });
  // @ts-expect-error mediaAllowed is an enumeration
  await roomSession.demote({ memberId: id, mediaAllowed: "some" });
  await roomSession.setRaisedHand({ memberId: id, raised: false });
  await roomSession.setRaisedHand();
  const prioritized: boolean = await roomSession.setPrioritizeHandraise(false);
  void prioritized;
  await roomSession.setHideVideoMuted(false);
  isBoolean(roomSession.hideVideoMuted);
  await roomSession.showVideoMuted();
  await roomSession.setInputVolume({ memberId: id, volume: -10 });
  await roomSession.setOutputVolume({ memberId: id, volume: -10 });
  await roomSession.setInputSensitivity({ memberId: id, value: 80 });
  await roomSession.setMicrophoneVolume({ memberId: id, volume: 5 });
  await roomSession.setSpeakerVolume({ memberId: id, volume: 5 });
  // @ts-expect-error setInputSensitivity takes `value`, not `volume`
  await roomSession.setInputSensitivity({ memberId: id, volume: 80 });
  await roomSession.sendDigits("1234#");

  // meta
  const m1 = await roomSession.getMeta();
  void m1.meta;
  await roomSession.setMeta({ foo: "bar", baz: true });
  await roomSession.updateMeta({ baz: false, t: 10 });
  await roomSession.deleteMeta(["foo"]);
  const m2 = await roomSession.getMemberMeta();
  void m2.meta;
  await roomSession.getMemberMeta({ memberId: id });
  await roomSession.setMemberMeta({ memberId: id, meta: { email: "joe@example.com" } });
  await roomSession.updateMemberMeta({ memberId: id, meta: { baz: false, t: 10 } });
  await roomSession.updateMemberMeta({ meta: { self: true } });
  await roomSession.deleteMemberMeta({ memberId: id, keys: ["foo"] });
  // @ts-expect-error deleteMeta takes a list of keys
  await roomSession.deleteMeta("foo");

  // layouts
  const { layouts } = await roomSession.getLayouts();
  const firstLayout: string | undefined = layouts[0];
  void firstLayout;
  await roomSession.setLayout({ name: "6x6" });
  await roomSession.setLayout({ name: "2x1", positions: { [id]: "reserved-1" } });
  await roomSession.setPositions({
    positions: {
      "1bf4d4fb-a3e4-4d46-80a8-3ebfdceb2a60": "reserved-1",
      "e0c5be44-d6c7-438f-8cda-f859a1a0b1e7": "auto",
    },
  });
  await roomSession.setMemberPosition({ memberId: id, position: "off-canvas" });
  // @ts-expect-error not a position
  await roomSession.setMemberPosition({ memberId: id, position: "left" });

  // recordings, playbacks, streams
  const rec = await roomSession.startRecording();
  await rec.pause();
  await rec.resume();
  await rec.stop();
  const recList = await roomSession.getRecordings();
  if (recList.recordings.length > 0) {
    isString(recList.recordings[0]!.id);
  }
  const playback = await roomSession.play({ url: "rtmp://example.com/foo", seekPosition: 0, positions: { self: "auto" }, layout: "1x1" });
  await playback.setVolume(10);
  await playback.seek(1000);
  await playback.stop();
  const pl = await roomSession.getPlaybacks();
  void pl.playbacks;
  const st = await roomSession.startStream({ url: "rtmp://example.com" });
  setTimeout(() => st.stop(), 60000);
  const sl = await roomSession.getStreams();
  for (const s of sl.streams) {
    isString(s.id);
    isString(s.url);
  }

  // events
  roomSession.on("member.joined", (e) => {
    isString(e.member.name);
    isString(e.room_session_id);
  });
  roomSession.on("member.left", (e) => isString(e.member.id));
  roomSession.on("member.updated", (e) => {
    const u: string[] | undefined = e.member.updated;
    void u;
    void e.member.meta;
  });
  roomSession.on("member.updated.audioMuted", (e) => isBoolean(e.member.audioMuted));
  roomSession.on("member.updated.videoMuted", (e) => isBoolean(e.member.videoMuted));
  roomSession.on("member.updated.deaf", (e) => isBoolean(e.member.deaf));
  roomSession.on("member.updated.onHold", (e) => void e);
  roomSession.on("member.updated.visible", (e) => isBoolean(e.member.visible));
  roomSession.on("member.updated.inputVolume", (e) => isNumber(e.member.inputVolume));
  roomSession.on("member.updated.outputVolume", (e) => isNumber(e.member.outputVolume));
  roomSession.on("member.updated.inputSensitivity", (e) => isNumber(e.member.inputSensitivity));
  roomSession.on("member.talking", (e) => isBoolean(e.member.talking));
  roomSession.on("member.talking.started", (e) => isString(e.member.id));
  roomSession.on("member.talking.ended", (e) => isString(e.member.id));
  roomSession.on("room.joined", (s) => isString(s.memberId));
  roomSession.on("room.subscribed", (s) => void s.members);
  roomSession.on("room.left", (e) => void e.error?.code);
  roomSession.on("room.started", (e) => isString(e.room.name));
  roomSession.on("room.updated", (e) => void e.room.meta);
  roomSession.on("room.ended", (e) => isString(e.room_id));
  roomSession.on("room.audience_count", (e) => {
    isString(e.room_session_id);
    isString(e.room_id);
    isNumber(e.total);
  });
  roomSession.on("layout.changed", (e) => {
    isString(e.layout.name);
    for (const l of e.layout.layers) {
      isNumber(l.x);
      isNumber(l.y);
      isNumber(l.width);
      isNumber(l.height);
    }
  });
  roomSession.on("recording.started", (r: RoomSessionRecording) => isString(r.state));
  roomSession.on("recording.updated", (r) => isString(r.id));
  roomSession.on("recording.ended", (r) => isString(r.id));
  roomSession.on("playback.started", (p: RoomSessionPlayback) => isString(p.url));
  roomSession.on("playback.updated", (p) => isNumber(p.volume));
  roomSession.on("playback.ended", (p) => isString(p.id));
  roomSession.on("stream.started", (s: RoomSessionStream) => isString(s.url));
  roomSession.on("stream.ended", (s) => isString(s.id));
  roomSession.on("call.state", (e) => {
    const s: "new" | "connecting" | "connected" | "reconnecting" | "disconnected" = e.state;
    void s;
    if (e.error) isNumber(e.error.code);
  });
  roomSession.on("autoplay.blocked", (e) => void e.element.play());
  roomSession.on("member.updated.handraised", (e) => isBoolean(e.member.handraised));
  roomSession.on("member.updated.currentPosition", (e) => void e.member.currentPosition);
  roomSession.on("destroy", () => {});
  const handler = (e: { member: RoomSessionMember }) => isString(e.member.id);
  roomSession.once("member.joined", handler).on("member.left", handler);
  roomSession.off("member.joined", handler);
  roomSession.off("member.joined");
  roomSession.removeAllListeners("member.left");
  roomSession.removeAllListeners();
  // @ts-expect-error unknown event name
  roomSession.on("member.exploded", () => {});
  // @ts-expect-error wrong payload type for the event
  roomSession.on("room.audience_count", (e: { total: string }) => void e);

  await roomSession.leave();
  roomSession.destroy();

  // errors
  try {
    await roomSession.join();
  } catch (e) {
    const err = e as ConveneError;
    isString(err.name);
    isNumber(err.code);
    isString(err.message);
    const asError: Error = err;
    void asError;
  }
  isString(errorName(53105));
}

// --------------------------------------------------------------------------------------------
// Room
// --------------------------------------------------------------------------------------------
async function room(): Promise<void> {
  const room = new Room({ clientToken: "eyJ...", context: { role: "host" }, logLevel: "warn", iceServers: [{ urls: "stun:stun.example.net" }] });
  const room2: Room = await initialize({ clientToken: "eyJ..." });
  void room2;
  isString(room.id);
  const unsubscribe: Unsubscribe = room.on("state_changed", (state: State) => {
    const s: "initialized" | "connecting" | "connected" | "disconnecting" | "disconnected" = state.status;
    void s;
    isString(state.localParticipantId);
    for (const p of Object.values(state.participants)) isBoolean(p.canReceiveMessages);
    for (const s2 of Object.values(state.streams)) isString(s2.key);
  });
  unsubscribe();
  room.on("connected", (state) => isString(state.status));
  room.on("disconnected", (state) => isString(state.status));
  room.on("participant_joined", (participantId, state) => {
    isString(participantId);
    void state.participants[participantId];
  });
  room.on("participant_leaving", (participantId, reason, state) => {
    isString(participantId);
    const r: "kicked" | null = reason;
    void [r, state];
  });
  room.on("participant_left", (participantId, state) => void [participantId, state]);
  room.on("stream_published", (participantId, key, state) => {
    isString(participantId);
    isString(key);
    void state;
  });
  room.on("stream_unpublished", (participantId, key) => void [participantId, key]);
  room.on("track_enabled", (participantId, key, kind, state) => {
    const k: "audio" | "video" = kind;
    void [participantId, key, k, state];
  });
  room.on("track_disabled", (_p, _k, kind) => void kind);
  room.on("track_censored", (_p, _k, kind) => void kind);
  room.on("track_uncensored", (_p, _k, kind) => void kind);
  room.on("audio_activity", (participantId, key, state) => {
    const k: string | null = key;
    void [participantId, k, state];
  });
  room.on("subscription_started", (participantId, key) => void [participantId, key]);
  room.on("subscription_reconfigured", (participantId, key) => void [participantId, key]);
  room.on("subscription_ended", (participantId, key) => void [participantId, key]);
  room.on("message_received", (participantId, message: Message, recipients, state) => {
    isString(message.payload);
    const r: string[] | null = recipients;
    void [participantId, r, state];
  });
  room.on("network_metrics_report", (metrics: NetworkMetrics) => void metrics);
  room.on("error", (err) => isNumber(err.code));
  // @ts-expect-error participant_joined's first argument is an id, not a number
  room.on("participant_joined", (participantId: number) => void participantId);
  // @ts-expect-error unknown event
  room.on("participant_exploded", () => {});

  await room.connect();
  await room.updateClientToken("eyJ...new");
  const state: State = room.getState();
  void state;
  const me: Participant = room.getLocalParticipant();
  const origin: "local" | "remote" | "telephony_engine" = me.origin;
  void origin;
  const localStreams: { [key: string]: Stream } = room.getLocalStreams();
  void localStreams;
  await room.addStream("main", { audio: track, video: track });
  await room.addStream("screen", { video: { track, options: { enableSimulcast: true } } });
  await room.updateStream("main", { audio: track });
  await room.removeStream("screen");
  await room.addSubscription("participant-1", "main", { audio: true, video: true });
  await room.updateSubscription("participant-1", "main", { audio: true, video: false });
  await room.removeSubscription("participant-1", "main");
  // @ts-expect-error the subscription config needs both flags
  await room.addSubscription("participant-1", "main", { audio: true });
  const streams: Map<string, Stream> = room.getParticipantStreams("participant-1");
  const s1: Stream | undefined = room.getParticipantStream("participant-1", "main");
  void [streams, s1];
  const stats: WebRTCStats = await room.getWebRTCStatsForStream("participant-1", "main");
  void stats;
  await room.sendMessage({ type: "text", payload: "hello" });
  await room.sendMessage({ type: "text", payload: "hi" }, ["participant-1"]);
  // @ts-expect-error only text messages exist
  await room.sendMessage({ type: "binary", payload: "x" });
  await room.enableNetworkMetricsReport(["participant-1"], { includeStreams: true });
  await room.disableNetworkMetricsReport();
  await room.disableNetworkMetricsReport(["participant-1"]);
  await room.disconnect();
}

// --------------------------------------------------------------------------------------------
// Call
// --------------------------------------------------------------------------------------------
async function call(): Promise<void> {
  const call = new Call({ token: "eyJ..." });
  new Call({ token: "eyJ...", logLevel: "silent", iceServers: [{ urls: ["turn:t.example.net"], username: "u", credential: "c" }] });
  isString(call.channel);
  const status: "connected" | "connecting" | "disconnected" | "checking" = call.status;
  void status;
  const created: CallStatus = await call.create("channel-1", { cam: track, mic: track }, { maxUsers: 8 });
  isBoolean(created.ok);
  await call.join("channel-1", { cam: track });
  await call.join("channel-1");
  await call.addTracks({ screen: track });
  await call.removeTracks("screen");
  await call.removeTracks(["cam", "mic"]);
  await call.muteTracks("mic", true);
  await call.muteTracks(["mic", "cam"], false);
  await call.addUsers(["bob", "carol"]);
  await call.delUsers(["carol"]);
  await call.modUsers([{ id: "bob", send: false, recv: true }]);
  await call.muteUser("bob", "audio", true, "too loud");
  await call.muteUser("bob", "video", false);
  // @ts-expect-error kind is audio or video
  await call.muteUser("bob", "screen", true);
  await call.configure({ hideVideoMuted: true });
  const users: ActiveUser[] = await call.getUsers();
  for (const u of users) {
    for (const [name, t] of Object.entries(u.tracks)) {
      isString(name);
      isBoolean(t.muted);
    }
  }
  call.on("user:join", (ev) => isString(ev.userId));
  call.on("user:leave", (ev) => isString(ev.userId));
  call.on("user:add", (ev) => void ev.users);
  call.on("user:del", (ev) => void ev.users);
  call.on("user:mod", (ev) => void ev.users);
  call.on("track:add", (ev) => {
    isString(ev.trackName);
    void ev.track;
  });
  call.on("track:del", (ev) => isString(ev.trackName));
  call.on("track:mute", (ev) => void ev.muted);
  call.on("cnl:config", (ev) => void ev.config);
  call.on("cnl:delete", (ev) => void ev.reason);
  call.on("status", (ev) => void ev.status);
  // @ts-expect-error unknown call event
  call.on("user:exploded", () => {});
  await call.delete("meeting over");
  await call.leave();
}

// --------------------------------------------------------------------------------------------
// connect(): participants, publications, tracks, data tracks
// --------------------------------------------------------------------------------------------
async function video(): Promise<void> {
  const dataTrack: LocalDataTrack = createLocalDataTrack({ name: "chat" });
  const localTracks = await createLocalTracks({ audio: true, video: { width: 640 } });
  const room: VideoRoom = await connect("eyJ...", {
    name: "my-room",
    tracks: [...localTracks, dataTrack],
    automaticSubscription: true,
    dominantSpeaker: true,
    networkQuality: true,
  });
  await connect("eyJ...", { audio: true, video: false, logLevel: "error", iceServers: [{ urls: "stun:stun.example.net" }] });
  const lossy: LocalDataTrack = new LocalDataTrack({ name: "cursor", ordered: false, maxRetransmits: 0 });
  isBoolean(lossy.reliable);
  const lifetime: number | null = lossy.maxPacketLifeTime;
  void lifetime;
  lossy.send(new Uint8Array([1, 2, 3]));
  // @ts-expect-error a data track sends strings and binary data only
  lossy.send({ x: 1 });
  // @ts-expect-error logLevel is an enumeration
  void connect("eyJ...", { logLevel: "chatty" });
  isString(room.sid);
  isString(room.name);
  const st: "connected" | "reconnecting" | "disconnected" = room.state;
  void st;
  isBoolean(room.isRecording);
  const lp = room.localParticipant;
  isString(lp.identity);
  isString(lp.sid);
  lp.tracks.forEach((pub: LocalTrackPublication) => isString(pub.trackName));
  lp.audioTracks.forEach((pub) => void pub.track);
  lp.videoTracks.forEach((pub) => void pub.track);
  lp.dataTracks.forEach((pub) => void pub.track);
  const pub = await lp.publishTrack(track, { name: "extra" });
  pub.unpublish();
  lp.unpublishTrack(track);
  lp.on("trackPublished", (p) => isString(p.trackSid));
  lp.on("trackPublicationFailed", (err, t) => void [err.code, t.kind]);
  lp.on("networkQualityLevelChanged", (level) => void level);
  dataTrack.send("hello");
  dataTrack.send(new ArrayBuffer(8));

  room.participants.forEach((participant: RemoteParticipant) => {
    isString(participant.identity);
    participant.tracks.forEach((publication: RemoteTrackPublication) => {
      isBoolean(publication.isSubscribed);
      if (publication.track && publication.track.kind !== "data") {
        document.body.appendChild(publication.track.attach());
      }
    });
    participant.on("trackSubscribed", (t: RemoteTrack) => void t.sid);
    participant.on("trackUnsubscribed", (t) => void t);
    participant.on("trackPublished", (p) => void p.trackName);
    participant.on("trackUnpublished", (p) => void p.trackName);
    participant.on("trackMessage", (data, t) => void [data, t.name]);
    participant.on("trackEnabled", (t) => void t);
    participant.on("trackDisabled", (t) => void t);
    participant.on("disconnected", (p) => void p.identity);
  });
  room.on("participantConnected", (participant) => isString(participant.identity));
  room.on("participantDisconnected", (participant) => {
    participant.tracks.forEach((p) => {
      if (p.track && p.track.kind !== "data") p.track.detach().forEach((m) => m.remove());
    });
  });
  room.on("participantReconnecting", (p) => void p);
  room.on("participantReconnected", (p) => void p);
  room.on("disconnected", (r, error) => {
    if (error) isNumber(error.code);
    r.localParticipant.tracks.forEach((p) => void p.track);
  });
  room.on("dominantSpeakerChanged", (speaker) => void speaker?.identity);
  room.on("reconnected", () => {});
  room.on("reconnecting", (error) => isNumber(error.code));
  room.on("recordingStarted", () => {});
  room.on("recordingStopped", () => {});
  room.on("trackDimensionsChanged", (t, p) => void [t.dimensions, p]);
  room.on("trackDisabled", (t, p) => void [t, p]);
  room.on("trackEnabled", (t, p) => void [t, p]);
  room.on("trackMessage", (data, t, p) => void [data, t, p]);
  room.on("trackPublished", (publication, participant) => void [publication.trackSid, participant.sid]);
  room.on("trackStarted", (t, p) => void [t, p]);
  room.on("trackSubscribed", (t, publication, participant) => {
    if (t.kind !== "data") {
      document.getElementById(`participant-view-${participant.identity}`)?.appendChild(t.attach());
    }
    void publication;
  });
  room.on("trackSubscriptionFailed", (error, publication, participant) => void [error.code, publication, participant]);
  room.on("trackUnpublished", (publication, participant) => void [publication, participant]);
  room.on("trackUnsubscribed", (t, publication, participant) => void [t, publication, participant]);
  room.on("trackSwitchedOff", (t, publication, participant) => void [t, publication, participant]);
  room.on("trackSwitchedOn", (t, publication, participant) => void [t, publication, participant]);
  // @ts-expect-error unknown room event
  room.on("trackExploded", () => {});
  const stats = await room.getStats();
  void stats;
  room.disconnect();
}

void [roomSession, room, call, video];
