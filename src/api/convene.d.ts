// ---------------------------------------------------------------------------------------------
// Convene public API types. This file is embedded into the generated `convene.d.ts` through a
// `typescript_custom_section`; the classes below are the exported wasm classes (their generated
// declarations are skipped so that these exact ones apply).
// ---------------------------------------------------------------------------------------------

/** A JSON object of application metadata. */
export type Meta = Record<string, unknown>;

/** Logging level of the SDK. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "silent";

/** Stable names of the typed errors (one per numeric code). */
export type ConveneErrorName =
  | "ParseError"
  | "InvalidRequestError"
  | "MethodNotFoundError"
  | "InvalidParamsError"
  | "InternalError"
  | "AccessTokenInvalidError"
  | "AccessTokenHeaderInvalidError"
  | "AccessTokenIssuerInvalidError"
  | "AccessTokenExpiredError"
  | "AccessTokenNotYetValidError"
  | "AccessTokenGrantsInvalidError"
  | "AccessTokenSignatureInvalidError"
  | "SignalingConnectionError"
  | "SignalingConnectionDisconnectedError"
  | "SignalingConnectionTimeoutError"
  | "SignalingIncomingMessageInvalidError"
  | "SignalingOutgoingMessageInvalidError"
  | "SignalingServerBusyError"
  | "RoomMaxParticipantsExceededError"
  | "RoomNotFoundError"
  | "RoomCompletedError"
  | "ParticipantMaxTracksExceededError"
  | "ParticipantNotFoundError"
  | "ParticipantDuplicateIdentityError"
  | "TrackInvalidError"
  | "TrackNameIsDuplicatedError"
  | "MediaClientLocalDescFailedError"
  | "MediaServerLocalDescFailedError"
  | "MediaClientRemoteDescFailedError"
  | "MediaServerRemoteDescFailedError"
  | "MediaNoSupportedCodecError"
  | "MediaConnectionError"
  | "MediaDTLSTransportFailedError"
  | "ConfigurationAcquireFailedError"
  | "ConfigurationAcquireTurnFailedError"
  | "ProtocolVersionUnsupportedError"
  | "NotConnectedError"
  | "NotJoinedError"
  | "AlreadyJoinedError"
  | "SessionUnknownError"
  | "ResumeTokenInvalidError"
  | "RequestIdReusedError"
  | "RateLimitedError"
  | "MessageTooLargeError"
  | "ServerDrainingError"
  | "PermissionDeniedError"
  | "RoleNotAllowedError"
  | "MediaNotAllowedError"
  | "RoomLockedError"
  | "RemovedFromRoomError"
  | "NotOnAclError"
  | "TokenMismatchError"
  | "InvalidRoleTransitionError"
  | "TrackNotFoundError"
  | "TrackNotOwnedError"
  | "InvalidLayersError"
  | "DataHandlesExhaustedError"
  | "StaleOfferError"
  | "NegotiationInProgressError"
  | "MidsInconsistentError"
  | "SubscriptionNotAllowedError"
  | "LayoutNotFoundError"
  | "InvalidPositionError"
  | "EgressNotFoundError"
  | "EgressUnavailableError"
  | "InvalidMediaUrlError"
  | "MetaInvalidError"
  | "PayloadTooLargeError"
  | "RecipientNotFoundError"
  | "InvalidAclEntryError"
  | "OvspError"
  | (string & {});

/** Extra detail carried by a typed error. */
export interface ConveneErrorData {
  reason?: string;
  retryable?: boolean;
  retry_after_ms?: number;
  permission?: string;
  field?: string;
  action?: "disconnect" | "resume" | "rejoin";
}

/**
 * Every rejected promise and every error event carries a real `Error` of this shape: `name` is
 * the stable name of `code` (for example 20104 → "AccessTokenExpiredError").
 */
export interface ConveneError extends Error {
  readonly name: ConveneErrorName;
  readonly code: number;
  readonly message: string;
  readonly data?: ConveneErrorData;
}

/** The twilio-style base error (the same object as {@link ConveneError}). */
export type TwilioError = ConveneError;

/** Returns the stable error name of a numeric code ("OvspError" when unknown). */
export function errorName(code: number): ConveneErrorName;

// ============================================================================================
// RoomSession (video room session: browser half and room-control half)
// ============================================================================================

/** Constructor parameters of {@link RoomSession}. */
export interface RoomSessionOptions {
  /** Room token (a JWT with the `ovsp` claim). */
  token: string;
  /** Element into which the remote members' video is rendered, following the room layout. */
  rootElement?: HTMLElement | null;
  /** Whether to apply the local overlay on top of your video. */
  applyLocalVideoOverlay?: boolean;
  /** ICE servers used in addition to those the server announces (TURN needs username and credential). */
  iceServers?: RTCIceServer[];
  /** A custom media stream to publish in place of camera and microphone. */
  localStream?: MediaStream;
  /** What the SDK writes to the console (default "warn"; "silent" writes nothing). */
  logLevel?: LogLevel;
  /** Id of the audio output device; a default speaker when undefined. */
  speakerId?: string;
  /** Stop the camera while video is self-muted (it is acquired again on videoUnmute). */
  stopCameraWhileMuted?: boolean;
  /** Stop the microphone while audio is self-muted (it is acquired again on audioUnmute). */
  stopMicrophoneWhileMuted?: boolean;
  /** Audio constraints used when joining (deprecated here: prefer join's parameter). */
  audio?: MediaTrackConstraints | boolean;
  /** Video constraints used when joining (deprecated here: prefer join's parameter). */
  video?: MediaTrackConstraints | boolean;
  /** Server URL (`ws(s)://host/ovsp`); defaults to the page's origin. */
  host?: string;
}

/** Parameters of {@link RoomSession.join}. */
export interface RoomSessionJoinParams {
  audio?: MediaTrackConstraints | boolean;
  video?: MediaTrackConstraints | boolean;
  /** Receive audio from the room (default true). */
  receiveAudio?: boolean;
  /** Receive video from the room (default true). */
  receiveVideo?: boolean;
  /** Send audio (default true for members). */
  sendAudio?: boolean;
  /** Send video (default true for members). */
  sendVideo?: boolean;
}

/** Interactivity mode of the local member. */
export type InteractivityMode = "member" | "audience";

/** A layout position. */
export type VideoPosition =
  | "auto"
  | "off-canvas"
  | "playback"
  | "full-screen"
  | `reserved-${number}`
  | `standard-${number}`;

/** Mapping of member ids (or "self") to layout positions. */
export type VideoPositions = Record<string, VideoPosition>;

/** What a member may receive or send after promote/demote. */
export type MediaAllowed = "all" | "audio-only" | "video-only";

/** A member of a room session (fields in camelCase). */
export interface RoomSessionMember {
  id: string;
  roomId: string;
  roomSessionId: string;
  name: string;
  type: "member" | "screen" | "device";
  identity?: string;
  role?: InteractivityMode;
  state?: "joining" | "active" | "reconnecting";
  handraised: boolean;
  visible: boolean;
  audioMuted: boolean;
  videoMuted: boolean;
  deaf: boolean;
  talking?: boolean;
  inputVolume: number;
  outputVolume: number;
  inputSensitivity: number;
  requestedPosition?: VideoPosition;
  currentPosition?: VideoPosition;
  meta: Meta;
  /** On `member.updated*`: the camelCase names of the changed fields. */
  updated?: string[];
}

/** The room as seen in `room.*` events and the RoomSession's room properties. */
export interface RoomSessionState {
  id: string;
  roomId: string;
  roomSessionId: string;
  name: string;
  displayName: string;
  layoutName: string;
  hideVideoMuted: boolean;
  prioritizeHandraise?: boolean;
  locked?: boolean;
  recording: boolean;
  streaming?: boolean;
  meta: Meta;
  previewUrl?: string;
  memberCount?: number;
  audienceCount?: number;
  updated?: string[];
}

/** A recording of the room (control it with pause/resume/stop). */
export interface RoomSessionRecording {
  readonly id: string;
  readonly roomSessionId: string;
  readonly state: "recording" | "paused" | "completed" | "failed";
  readonly duration?: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** A playback in the room. */
export interface RoomSessionPlayback {
  readonly id: string;
  readonly roomSessionId: string;
  readonly url: string;
  readonly state: "playing" | "paused" | "completed";
  readonly volume: number;
  readonly position?: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  setVolume(volume: number): Promise<void>;
  seek(timecode: number): Promise<void>;
  forward(offset?: number): Promise<void>;
  rewind(offset?: number): Promise<void>;
}

/** An RTMP stream of the room. */
export interface RoomSessionStream {
  readonly id: string;
  readonly roomSessionId: string;
  readonly url: string;
  readonly state: "streaming" | "completed";
  readonly duration?: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  stop(): Promise<void>;
}

/** One layer of a layout: where a member is drawn (normalised 0..1 geometry). */
export interface VideoLayoutLayer {
  memberId?: string;
  position: VideoPosition;
  x: number;
  y: number;
  width: number;
  height: number;
  z?: number;
  /** The same geometry in percent, as the classic layout events carry it. */
  visible?: boolean;
}

/** A room layout. */
export interface VideoLayout {
  name: string;
  layers: VideoLayoutLayer[];
}

/** The full state returned by `subscribe()` and carried by `room.joined`. */
export interface RoomSessionFullState extends RoomSessionState {
  memberId: string;
  members: RoomSessionMember[];
  recordings: RoomSessionRecording[];
  playbacks: RoomSessionPlayback[];
  streams: RoomSessionStream[];
  layout?: VideoLayout;
}

/** Payload of the `member.*` events. */
export interface MemberEventParams {
  member: RoomSessionMember;
  room_id: string;
  room_session_id: string;
}

/** Payload of `member.left`. */
export interface MemberLeftEventParams extends MemberEventParams {
  reason?: string;
}

/** Payload of `member.talking*`. */
export interface MemberTalkingEventParams {
  member: { id: string; roomId: string; roomSessionId: string; talking: boolean };
  room_id: string;
  room_session_id: string;
}

/** Payload of `room.*` events. */
export interface RoomEventParams {
  room: RoomSessionState;
  room_id: string;
  room_session_id: string;
}

/** Payload of `layout.changed`. */
export interface LayoutChangedEventParams {
  layout: VideoLayout;
  room_id: string;
  room_session_id: string;
}

/** Payload of `room.audience_count`. */
export interface AudienceCountEventParams {
  room_session_id: string;
  room_id: string;
  total: number;
}

/** Payload of `room.left`. */
export interface RoomLeftEventParams {
  reason?: string;
  error?: ConveneError;
}

/** A connection state of the session. */
export type ConnectionState = "new" | "connecting" | "connected" | "reconnecting" | "disconnected";

/** Payload of `call.state`. */
export interface CallStateEventParams {
  state: ConnectionState;
  /** Why the session is reconnecting or disconnected, when abnormal. */
  error?: ConveneError;
}

/** The events of {@link RoomSession}, with their handler signatures. */
export interface RoomSessionEvents {
  "room.joined": (params: RoomSessionFullState) => void;
  "room.subscribed": (params: RoomSessionFullState) => void;
  "room.left": (params: RoomLeftEventParams) => void;
  "room.started": (params: RoomEventParams) => void;
  "room.updated": (params: RoomEventParams) => void;
  "room.ended": (params: RoomEventParams) => void;
  "room.audience_count": (params: AudienceCountEventParams) => void;
  "layout.changed": (params: LayoutChangedEventParams) => void;
  "member.joined": (params: MemberEventParams) => void;
  "member.left": (params: MemberLeftEventParams) => void;
  "member.updated": (params: MemberEventParams) => void;
  "member.updated.audioMuted": (params: MemberEventParams) => void;
  "member.updated.videoMuted": (params: MemberEventParams) => void;
  "member.updated.deaf": (params: MemberEventParams) => void;
  "member.updated.onHold": (params: MemberEventParams) => void;
  "member.updated.visible": (params: MemberEventParams) => void;
  "member.updated.inputVolume": (params: MemberEventParams) => void;
  "member.updated.outputVolume": (params: MemberEventParams) => void;
  "member.updated.inputSensitivity": (params: MemberEventParams) => void;
  "member.updated.handraised": (params: MemberEventParams) => void;
  "member.updated.name": (params: MemberEventParams) => void;
  "member.updated.meta": (params: MemberEventParams) => void;
  "member.updated.state": (params: MemberEventParams) => void;
  "member.updated.role": (params: MemberEventParams) => void;
  "member.updated.requestedPosition": (params: MemberEventParams) => void;
  "member.updated.currentPosition": (params: MemberEventParams) => void;
  "member.talking": (params: MemberTalkingEventParams) => void;
  "member.talking.started": (params: MemberTalkingEventParams) => void;
  "member.talking.ended": (params: MemberTalkingEventParams) => void;
  "recording.started": (recording: RoomSessionRecording) => void;
  "recording.updated": (recording: RoomSessionRecording) => void;
  "recording.ended": (recording: RoomSessionRecording) => void;
  "playback.started": (playback: RoomSessionPlayback) => void;
  "playback.updated": (playback: RoomSessionPlayback) => void;
  "playback.ended": (playback: RoomSessionPlayback) => void;
  "stream.started": (stream: RoomSessionStream) => void;
  "stream.ended": (stream: RoomSessionStream) => void;
  /** The connection state changed (`new`, `connecting`, `connected`, `reconnecting`, `disconnected`). */
  "call.state": (params: CallStateEventParams) => void;
  /** The browser blocked playback of remote media; call `resumePlayback()` from a user gesture. */
  "autoplay.blocked": (params: { element: HTMLMediaElement }) => void;
  "destroy": () => void;
}

/** Names of the {@link RoomSession} events. */
export type RoomSessionEventNames = keyof RoomSessionEvents;

/** `{ memberId }` targeting another member; omitted or undefined targets yourself. */
export interface MemberTarget {
  memberId?: string;
}

/** An additional device (camera, microphone, screen share) attached to the session. */
export interface RoomSessionDevice {
  readonly id: string;
  readonly memberId?: string;
  readonly localStream?: MediaStream;
  readonly kind: "camera" | "microphone" | "device" | "screen";
  audioMute(): Promise<void>;
  audioUnmute(): Promise<void>;
  videoMute(): Promise<void>;
  videoUnmute(): Promise<void>;
  leave(): Promise<void>;
}

/** A local screen share. */
export type RoomSessionScreenShare = RoomSessionDevice;

/** Parameters of startScreenShare. */
export interface StartScreenShareParams {
  audio?: boolean | MediaTrackConstraints;
  video?: boolean | MediaTrackConstraints;
  layout?: string;
  positions?: VideoPositions;
}

/** Parameters of addCamera / addMicrophone / addDevice. */
export interface AddDeviceParams {
  audio?: boolean | MediaTrackConstraints;
  video?: boolean | MediaTrackConstraints;
}

/** A video room session. */
export declare class RoomSession {
  constructor(options: RoomSessionOptions);
  free(): void;

  // --- properties (browser half) ---
  readonly active: boolean;
  readonly cameraId: string | null;
  readonly cameraLabel: string | null;
  readonly deviceList: RoomSessionDevice[];
  readonly interactivityMode: InteractivityMode;
  readonly localAudioTrack: MediaStreamTrack | undefined;
  readonly localStream: MediaStream | undefined;
  readonly localVideoTrack: MediaStreamTrack | undefined;
  readonly localOverlay: { readonly id: string; readonly domElement?: HTMLElement } | undefined;
  readonly memberId: string;
  readonly microphoneId: string | null;
  readonly microphoneLabel: string | null;
  readonly permissions: string[];
  readonly previewUrl: string | undefined;
  readonly remoteStream: MediaStream | undefined;
  readonly roomId: string;
  readonly roomSessionId: string;
  readonly screenShareList: RoomSessionScreenShare[];
  // --- properties (room-control half) ---
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly hideVideoMuted: boolean;
  readonly layoutName: string;
  readonly meta: Meta;
  readonly recording: boolean;
  /** @deprecated use getRecordings */
  readonly recordings: RoomSessionRecording[];

  // --- lifecycle ---
  join(params?: RoomSessionJoinParams): Promise<RoomSession>;
  leave(): Promise<void>;
  destroy(): void;
  subscribe(): Promise<RoomSessionFullState>;
  /** Resume media playback that the browser blocked (call it from a user gesture). */
  resumePlayback(): Promise<void>;

  // --- devices ---
  addCamera(params?: MediaTrackConstraints): Promise<RoomSessionDevice>;
  addMicrophone(params?: MediaTrackConstraints): Promise<RoomSessionDevice>;
  addDevice(params: AddDeviceParams): Promise<RoomSessionDevice>;
  updateCamera(constraints: MediaTrackConstraints): Promise<void>;
  updateMicrophone(constraints: MediaTrackConstraints): Promise<void>;
  updateSpeaker(params: { deviceId: string }): Promise<undefined>;
  startScreenShare(params?: StartScreenShareParams): Promise<RoomSessionScreenShare>;
  /** @deprecated use startScreenShare */
  createScreenShareObject(params?: StartScreenShareParams): Promise<RoomSessionScreenShare>;
  setLocalStream(stream: MediaStream): Promise<void>;

  // --- moderation ---
  audioMute(params?: MemberTarget): Promise<void>;
  audioUnmute(params?: MemberTarget): Promise<void>;
  videoMute(params?: MemberTarget): Promise<void>;
  videoUnmute(params?: MemberTarget): Promise<void>;
  deaf(params?: MemberTarget): Promise<void>;
  undeaf(params?: MemberTarget): Promise<void>;
  getMembers(): Promise<{ members: RoomSessionMember[] }>;
  removeMember(params: { memberId: string }): Promise<void>;
  removeAllMembers(): Promise<void>;
  lock(): Promise<void>;
  unlock(): Promise<void>;
  promote(params: {
    memberId: string;
    joinAudioMuted?: boolean;
    joinVideoMuted?: boolean;
    mediaAllowed?: MediaAllowed;
    meta?: Meta;
    permissions?: string[];
  }): Promise<void>;
  demote(params: { memberId: string; mediaAllowed?: MediaAllowed }): Promise<void>;
  setRaisedHand(params?: { memberId?: string; raised?: boolean }): Promise<void>;
  setPrioritizeHandraise(param?: boolean): Promise<boolean>;
  setHideVideoMuted(value: boolean): Promise<void>;
  /** @deprecated use setHideVideoMuted(false) */
  showVideoMuted(): Promise<void>;
  setInputVolume(params: { memberId?: string; volume: number }): Promise<void>;
  setOutputVolume(params: { memberId?: string; volume: number }): Promise<void>;
  setInputSensitivity(params: { memberId?: string; value: number }): Promise<void>;
  /** @deprecated use setInputVolume */
  setMicrophoneVolume(params: { memberId?: string; volume: number }): Promise<void>;
  /** @deprecated use setOutputVolume */
  setSpeakerVolume(params: { memberId?: string; volume: number }): Promise<void>;
  sendDigits(dtmf: string): Promise<void>;

  // --- meta ---
  getMeta(): Promise<{ meta: Meta }>;
  setMeta(meta: Meta): Promise<void>;
  updateMeta(meta: Meta): Promise<void>;
  deleteMeta(keys: string[]): Promise<void>;
  getMemberMeta(params?: { memberId?: string }): Promise<{ meta: Meta }>;
  setMemberMeta(params: { memberId?: string; meta: Meta }): Promise<void>;
  updateMemberMeta(params: { memberId?: string; meta: Meta }): Promise<void>;
  deleteMemberMeta(params: { memberId?: string; keys: string[] }): Promise<void>;

  // --- layouts ---
  getLayouts(): Promise<{ layouts: string[] }>;
  setLayout(params: { name: string; positions?: VideoPositions }): Promise<void>;
  setPositions(params: { positions: VideoPositions }): Promise<void>;
  setMemberPosition(params: { memberId?: string; position: VideoPosition }): Promise<void>;

  // --- recordings, playbacks, streams ---
  startRecording(): Promise<RoomSessionRecording>;
  getRecordings(): Promise<{ recordings: RoomSessionRecording[] }>;
  play(params: {
    url: string;
    volume?: number;
    seekPosition?: number;
    positions?: VideoPositions;
    layout?: string;
  }): Promise<RoomSessionPlayback>;
  getPlaybacks(): Promise<{ playbacks: RoomSessionPlayback[] }>;
  startStream(params: { url: string }): Promise<RoomSessionStream>;
  getStreams(): Promise<{ streams: RoomSessionStream[] }>;

  // --- events ---
  on<K extends keyof RoomSessionEvents>(event: K, fn: RoomSessionEvents[K]): RoomSession;
  once<K extends keyof RoomSessionEvents>(event: K, fn: RoomSessionEvents[K]): RoomSession;
  off<K extends keyof RoomSessionEvents>(event: K, fn?: RoomSessionEvents[K]): RoomSession;
  removeAllListeners<K extends keyof RoomSessionEvents>(event?: K): RoomSession;
}

// ============================================================================================
// Room (stream/subscription oriented room)
// ============================================================================================

/** Status of a {@link Room}. */
export type Status = "initialized" | "connecting" | "connected" | "disconnecting" | "disconnected";

/** A participant of a {@link Room}. */
export interface Participant {
  readonly id: string;
  readonly context?: string;
  readonly streams: { readonly [key: string]: string };
  readonly canReceiveMessages: boolean;
  readonly origin: "local" | "remote" | "telephony_engine";
}

/** A stream: the tracks of one participant sharing a stream key. */
export interface Stream {
  readonly id: string;
  readonly key: string;
  readonly participantId: string;
  readonly origin: "local" | "remote";
  readonly audioTrack?: MediaStreamTrack;
  readonly videoTrack?: MediaStreamTrack;
  readonly isAudioEnabled: boolean;
  readonly isVideoEnabled: boolean;
  readonly isAudioCensored: boolean;
  readonly isVideoCensored: boolean;
  readonly isConfigured: boolean;
}

/** The observable state of a {@link Room}. */
export interface State {
  readonly status: Status;
  readonly localParticipantId: string;
  readonly participants: { readonly [id: string]: Participant };
  readonly streams: { readonly [id: string]: Stream };
}

/** A chat message. */
export interface Message {
  type: "text";
  payload: string;
  meta?: Meta;
}

/** Per-participant network quality. */
export interface NetworkMetrics {
  [participantId: string]: {
    connectionQuality: "excellent" | "good" | "fair" | "poor" | "bad" | "unknown";
    level?: number;
    streams?: { [key: string]: unknown };
  };
}

/** Readable WebRTC statistics of one stream. */
export interface WebRTCStats {
  audio?: { inbound?: Record<string, unknown>; outbound?: Record<string, unknown> };
  video?: { inbound?: Record<string, unknown>; outbound?: Record<string, unknown> };
}

/** Tracks of a stream. */
export interface StreamTracks {
  audio?: MediaStreamTrack;
  video?: MediaStreamTrack | { track?: MediaStreamTrack; options?: { enableSimulcast?: boolean } };
}

/** Subscription configuration. */
export interface SubscriptionConfig {
  audio: boolean;
  video: boolean;
}

/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

/** The events of {@link Room}. */
export interface Events {
  state_changed: (state: State) => void;
  connected: (state: State) => void;
  disconnected: (state: State) => void;
  participant_joined: (participantId: string, state: State) => void;
  participant_leaving: (participantId: string, reason: "kicked" | null, state: State) => void;
  participant_left: (participantId: string, state: State) => void;
  stream_published: (participantId: string, key: string, state: State) => void;
  stream_unpublished: (participantId: string, key: string, state: State) => void;
  track_enabled: (participantId: string, key: string, kind: "audio" | "video", state: State) => void;
  track_disabled: (participantId: string, key: string, kind: "audio" | "video", state: State) => void;
  track_censored: (participantId: string, key: string, kind: "audio" | "video", state: State) => void;
  track_uncensored: (participantId: string, key: string, kind: "audio" | "video", state: State) => void;
  audio_activity: (participantId: string, key: string | null, state: State) => void;
  subscription_started: (participantId: string, key: string, state: State) => void;
  subscription_reconfigured: (participantId: string, key: string, state: State) => void;
  subscription_ended: (participantId: string, key: string, state: State) => void;
  message_received: (
    participantId: string,
    message: Message,
    recipients: string[] | null,
    state: State,
  ) => void;
  network_metrics_report: (networkMetrics: NetworkMetrics) => void;
  /** The room disconnected because of an error (for example an expired client token). */
  error: (error: ConveneError) => void;
}

/** Options of a {@link Room}. */
export interface RoomOptions {
  /** Client token (JWT). */
  clientToken: string;
  /** Server URL (`ws(s)://host/ovsp`); defaults to the page's origin. */
  host?: string;
  /** Application context of the local participant. */
  context?: unknown;
  /** What the SDK writes to the console (default "warn"; "silent" writes nothing). */
  logLevel?: LogLevel;
  /** ICE servers used in addition to those the server announces. */
  iceServers?: RTCIceServer[];
}

/** A room of participants publishing and subscribing to streams. */
export declare class Room {
  constructor(options: RoomOptions);
  free(): void;
  /** The unique identifier of the room. */
  readonly id: string;
  on<E extends keyof Events>(event: E, callback: Events[E]): Unsubscribe;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  updateClientToken(clientToken: string): Promise<void>;
  getState(): State;
  getLocalParticipant(): Participant;
  getLocalStreams(): { [key: string]: Stream };
  addStream(key: string, tracks?: StreamTracks): Promise<void>;
  updateStream(key: string, tracks?: StreamTracks): Promise<void>;
  removeStream(key: string): Promise<void>;
  addSubscription(participantId: string, key: string, config: SubscriptionConfig): Promise<void>;
  updateSubscription(participantId: string, key: string, config: SubscriptionConfig): Promise<void>;
  removeSubscription(participantId: string, key: string): Promise<void>;
  getParticipantStreams(participantId: string): Map<string, Stream>;
  getParticipantStream(participantId: string, key: string): Stream | undefined;
  getWebRTCStatsForStream(participantId: string, key: string): Promise<WebRTCStats>;
  sendMessage(message: Message, recipients?: string[]): Promise<void>;
  enableNetworkMetricsReport(participantIds: string[], options?: { includeStreams?: boolean }): Promise<void>;
  disableNetworkMetricsReport(participantIds?: string[]): Promise<void>;
}

/** Creates a {@link Room}. */
export function initialize(options: RoomOptions): Promise<Room>;

// ============================================================================================
// Call (call channel with named tracks and user permissions)
// ============================================================================================

/** Local tracks by name. */
export type TracksByName = { [name: string]: MediaStreamTrack };

/** Channel configuration. */
export interface CallConfig {
  maxUsers?: number;
  hideVideoMuted?: boolean;
  prioritizeHandraise?: boolean;
  defaultLayout?: string;
  /** Receive audio from the call (own receive side). */
  recvAudio?: boolean;
  /** Receive video from the call (own receive side). */
  recvVideo?: boolean;
}

/** The outcome of a call operation. */
export interface CallStatus {
  ok: boolean;
  channel: string;
}

/** A user with its permissions. */
export interface User {
  id: string;
  /** May send media (true: everything the server allows; or a list of sources). */
  send?: boolean | Array<"microphone" | "camera" | "screen" | "screen_audio" | "data" | "custom">;
  /** May receive media (true: all kinds; or a list of kinds). */
  recv?: boolean | Array<"audio" | "video" | "data">;
  /** Grant admin rights (mute others, moderate). */
  admin?: boolean;
}

/** An active user with its tracks. */
export interface ActiveUser {
  id: string;
  tracks: { [trackName: string]: { kind: "audio" | "video" | "data"; muted: boolean } };
  audioMuted: boolean;
  videoMuted: boolean;
}

/** A track event payload. */
export interface CallTrackEvent {
  userId: string;
  trackName: string;
  kind: "audio" | "video" | "data";
  /** The remote (or local) MediaStreamTrack when available. */
  track?: MediaStreamTrack;
  muted?: boolean;
  reason?: string;
}

/** A user event payload. */
export interface CallUserEvent {
  userId: string;
  users?: string[];
  reason?: string;
}

/** Events of {@link Call}. */
export interface CallEventMap {
  "user:join": CallUserEvent;
  "user:leave": CallUserEvent;
  "user:add": CallUserEvent;
  "user:del": CallUserEvent;
  "user:mod": CallUserEvent;
  "track:add": CallTrackEvent;
  "track:del": CallTrackEvent;
  "track:mute": CallTrackEvent;
  "cnl:config": { channel: string; config: CallConfig };
  "cnl:delete": { channel: string; reason?: string };
  status: { status: Call["status"]; error?: ConveneError };
}

/** Options of a {@link Call}. */
export interface CallOptions {
  /** The user token (JWT). */
  token: string;
  /** Server URL (`ws(s)://host/ovsp`); defaults to the page's origin. */
  host?: string;
  /** What the SDK writes to the console (default "warn"; "silent" writes nothing). */
  logLevel?: LogLevel;
  /** ICE servers used in addition to those the server announces. */
  iceServers?: RTCIceServer[];
}

/** A call on a channel. */
export declare class Call {
  constructor(options: CallOptions);
  free(): void;
  /** The current call channel. */
  readonly channel: string;
  /** Current call status. */
  readonly status: "connected" | "connecting" | "disconnected" | "checking";
  create(channelId: string, tracks?: TracksByName, config?: CallConfig): Promise<CallStatus>;
  join(channelId: string, tracks?: TracksByName): Promise<CallStatus>;
  delete(reason?: string): Promise<CallStatus>;
  addTracks(tracks: TracksByName): Promise<void>;
  removeTracks(name: string | string[]): Promise<void>;
  muteTracks(trackName: string | string[], newState: boolean): Promise<void>;
  addUsers(users: string[]): Promise<CallStatus>;
  delUsers(users: string[]): Promise<CallStatus>;
  modUsers(users: User[]): Promise<CallStatus>;
  muteUser(userId: string, kind: "audio" | "video", newState: boolean, reason?: string): Promise<void>;
  configure(config: CallConfig): Promise<CallStatus>;
  getUsers(): Promise<ActiveUser[]>;
  on<K extends keyof CallEventMap>(event: K, handler: (ev: CallEventMap[K]) => any): void;
  /** Leave the call (stops local tracks, closes the connection). */
  leave(): Promise<void>;
}

// ============================================================================================
// connect(): rooms of participants, track publications and data tracks
// ============================================================================================

/** Network quality level 0..5 (null while unknown). */
export type NetworkQualityLevel = number | null;

/** Kind of a track. */
export type TrackKind = "audio" | "video" | "data";

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Room name (informative: the token names the room). */
  name?: string;
  /** Local tracks (or MediaStreamTracks) to publish once connected. */
  tracks?: Array<LocalTrack | MediaStreamTrack>;
  /** Acquire and publish a microphone (default true when `tracks` is absent). */
  audio?: boolean | MediaTrackConstraints;
  /** Acquire and publish a camera (default true when `tracks` is absent). */
  video?: boolean | MediaTrackConstraints;
  /** Subscribe to every track automatically (default true). */
  automaticSubscription?: boolean;
  dominantSpeaker?: boolean;
  networkQuality?: boolean;
  /** Server URL (`ws(s)://host/ovsp`); defaults to the page's origin. */
  host?: string;
  /** What the SDK writes to the console (default "warn"; "silent" writes nothing). */
  logLevel?: LogLevel;
  /** ICE servers used in addition to those the server announces. */
  iceServers?: RTCIceServer[];
}

/** Event emitter shared by the participant, track and room objects. */
export interface TypedEmitter<M> {
  on<K extends keyof M>(event: K, listener: M[K]): this;
  once<K extends keyof M>(event: K, listener: M[K]): this;
  off<K extends keyof M>(event: K, listener?: M[K]): this;
  removeAllListeners<K extends keyof M>(event?: K): this;
}

/** Events of every track. */
export interface TrackEvents {
  disabled: (track: Track) => void;
  enabled: (track: Track) => void;
  started: (track: Track) => void;
  stopped: (track: Track) => void;
  dimensionsChanged: (track: VideoTrack) => void;
  message: (data: string | ArrayBuffer, track: RemoteDataTrack) => void;
  subscribed: (track: Track) => void;
  unsubscribed: (track: Track) => void;
  switchedOff: (track: Track) => void;
  switchedOn: (track: Track) => void;
}

/** A track. */
export interface Track extends TypedEmitter<TrackEvents> {
  readonly kind: TrackKind;
  readonly name: string;
  /** Server id of the track once published. */
  readonly sid: string | null;
}

/** A media track. */
export interface MediaTrack extends Track {
  readonly kind: "audio" | "video";
  readonly id: string;
  readonly isStarted: boolean;
  readonly isEnabled: boolean;
  readonly mediaStreamTrack: MediaStreamTrack;
  attach(element?: HTMLMediaElement | string): HTMLMediaElement;
  detach(element?: HTMLMediaElement | string): HTMLMediaElement[];
}

export interface AudioTrack extends MediaTrack { readonly kind: "audio" }
export interface VideoTrack extends MediaTrack {
  readonly kind: "video";
  readonly dimensions: { width: number | null; height: number | null };
}

/** A local media track. */
export interface LocalMediaTrack extends MediaTrack {
  readonly isStopped: boolean;
  enable(enabled?: boolean): this;
  disable(): this;
  stop(): this;
  restart(constraints?: MediaTrackConstraints): Promise<void>;
}
export interface LocalAudioTrack extends LocalMediaTrack { readonly kind: "audio" }
export interface LocalVideoTrack extends LocalMediaTrack {
  readonly kind: "video";
  readonly dimensions: { width: number | null; height: number | null };
}

/** Options of a local data track (at most one of the two retransmission limits). */
export interface LocalDataTrackOptions {
  name?: string;
  /** Ordered delivery (default true). */
  ordered?: boolean;
  /** Retransmission time limit in ms (default null: none). */
  maxPacketLifeTime?: number | null;
  /** Retransmission count limit (default null: none). */
  maxRetransmits?: number | null;
}

/** A local data track: messages travel on the data channel, reliably when ordered without limits. */
export interface LocalDataTrack extends Track {
  readonly kind: "data";
  readonly id: string;
  readonly ordered: boolean;
  readonly reliable: boolean;
  readonly maxPacketLifeTime: number | null;
  readonly maxRetransmits: number | null;
  /** Send a message (at most 65535 bytes) to every subscriber; a string arrives as a string, binary as an ArrayBuffer. */
  send(data: string | ArrayBuffer | ArrayBufferView): void;
}

/** `new LocalDataTrack(options)` creates a local data track (as {@link createLocalDataTrack}). */
export declare const LocalDataTrack: { new (options?: LocalDataTrackOptions): LocalDataTrack };

export type LocalTrack = LocalAudioTrack | LocalVideoTrack | LocalDataTrack;

/** A remote media track. */
export interface RemoteMediaTrack extends MediaTrack {
  readonly sid: string;
  readonly isSwitchedOff: boolean;
}
export interface RemoteAudioTrack extends RemoteMediaTrack { readonly kind: "audio" }
export interface RemoteVideoTrack extends RemoteMediaTrack {
  readonly kind: "video";
  readonly dimensions: { width: number | null; height: number | null };
}
export interface RemoteDataTrack extends Track {
  readonly kind: "data";
  readonly sid: string;
  readonly isSubscribed: boolean;
  /** Whether the publisher sends reliably (ordered, no retransmission limit). */
  readonly reliable: boolean;
}
export type RemoteTrack = RemoteAudioTrack | RemoteVideoTrack | RemoteDataTrack;

/** Events of a track publication. */
export interface TrackPublicationEvents {
  trackDisabled: () => void;
  trackEnabled: () => void;
  subscribed: (track: RemoteTrack) => void;
  unsubscribed: (track: RemoteTrack) => void;
  subscriptionFailed: (error: ConveneError) => void;
  trackSwitchedOff: (track: RemoteTrack) => void;
  trackSwitchedOn: (track: RemoteTrack) => void;
}

/** A published track. */
export interface TrackPublication extends TypedEmitter<TrackPublicationEvents> {
  readonly trackName: string;
  readonly trackSid: string;
  readonly kind: TrackKind;
  readonly isTrackEnabled: boolean;
}
export interface LocalTrackPublication extends TrackPublication {
  readonly track: LocalTrack;
  unpublish(): this;
}
export interface LocalAudioTrackPublication extends LocalTrackPublication { readonly kind: "audio" }
export interface LocalVideoTrackPublication extends LocalTrackPublication { readonly kind: "video" }
export interface LocalDataTrackPublication extends LocalTrackPublication { readonly kind: "data" }
export interface RemoteTrackPublication extends TrackPublication {
  readonly track: RemoteTrack | null;
  readonly isSubscribed: boolean;
}
export interface RemoteAudioTrackPublication extends RemoteTrackPublication { readonly kind: "audio" }
export interface RemoteVideoTrackPublication extends RemoteTrackPublication { readonly kind: "video" }
export interface RemoteDataTrackPublication extends RemoteTrackPublication { readonly kind: "data" }

/** Events of every participant. */
export interface ParticipantEvents {
  disconnected: (participant: VideoParticipant) => void;
  networkQualityLevelChanged: (networkQualityLevel: NetworkQualityLevel) => void;
  reconnecting: (participant: VideoParticipant) => void;
  reconnected: (participant: VideoParticipant) => void;
  trackDimensionsChanged: (track: VideoTrack) => void;
  trackDisabled: (track: Track) => void;
  trackEnabled: (track: Track) => void;
  trackStarted: (track: Track) => void;
}

/** A participant of a {@link VideoRoom} (named `Participant` in the classic API). */
export interface VideoParticipant extends TypedEmitter<ParticipantEvents> {
  readonly sid: string;
  readonly identity: string;
  readonly state: "connected" | "reconnecting" | "disconnected";
  readonly networkQualityLevel: NetworkQualityLevel;
  readonly tracks: Map<string, TrackPublication>;
  readonly audioTracks: Map<string, TrackPublication>;
  readonly videoTracks: Map<string, TrackPublication>;
  readonly dataTracks: Map<string, TrackPublication>;
}

/** Events of the local participant. */
export interface LocalParticipantEvents extends ParticipantEvents {
  trackPublished: (publication: LocalTrackPublication) => void;
  trackPublicationFailed: (error: ConveneError, localTrack: LocalTrack) => void;
  trackStopped: (track: LocalTrack) => void;
  /** @deprecated */
  trackAdded: (track: LocalTrack) => void;
  /** @deprecated */
  trackRemoved: (track: LocalTrack) => void;
}

/** The local participant. */
export interface LocalParticipant extends Omit<VideoParticipant, keyof TypedEmitter<unknown>>, TypedEmitter<LocalParticipantEvents> {
  readonly tracks: Map<string, LocalTrackPublication>;
  readonly audioTracks: Map<string, LocalAudioTrackPublication>;
  readonly videoTracks: Map<string, LocalVideoTrackPublication>;
  readonly dataTracks: Map<string, LocalDataTrackPublication>;
  publishTrack(track: LocalTrack | MediaStreamTrack, options?: { name?: string; priority?: string }): Promise<LocalTrackPublication>;
  unpublishTrack(track: LocalTrack | MediaStreamTrack): LocalTrackPublication | null;
}

/** Events of a remote participant. */
export interface RemoteParticipantEvents extends ParticipantEvents {
  trackMessage: (data: string | ArrayBuffer, track: RemoteDataTrack) => void;
  trackPublished: (publication: RemoteTrackPublication) => void;
  trackSubscribed: (track: RemoteTrack, publication: RemoteTrackPublication) => void;
  trackSubscriptionFailed: (error: ConveneError, publication: RemoteTrackPublication) => void;
  trackUnpublished: (publication: RemoteTrackPublication) => void;
  trackUnsubscribed: (track: RemoteTrack, publication: RemoteTrackPublication) => void;
  trackSwitchedOff: (track: RemoteTrack, publication: RemoteTrackPublication) => void;
  trackSwitchedOn: (track: RemoteTrack, publication: RemoteTrackPublication) => void;
  /** @deprecated use trackSubscribed */
  trackAdded: (track: RemoteTrack) => void;
  /** @deprecated use trackUnsubscribed */
  trackRemoved: (track: RemoteTrack) => void;
}

/** A remote participant. */
export interface RemoteParticipant extends Omit<VideoParticipant, keyof TypedEmitter<unknown>>, TypedEmitter<RemoteParticipantEvents> {
  readonly tracks: Map<string, RemoteTrackPublication>;
  readonly audioTracks: Map<string, RemoteAudioTrackPublication>;
  readonly videoTracks: Map<string, RemoteVideoTrackPublication>;
  readonly dataTracks: Map<string, RemoteDataTrackPublication>;
}

/** Events of a {@link VideoRoom}. */
export interface VideoRoomEvents {
  disconnected: (room: VideoRoom, error: ConveneError | null) => void;
  dominantSpeakerChanged: (dominantSpeaker: RemoteParticipant | null) => void;
  participantConnected: (participant: RemoteParticipant) => void;
  participantDisconnected: (participant: RemoteParticipant) => void;
  participantReconnecting: (participant: RemoteParticipant) => void;
  participantReconnected: (participant: RemoteParticipant) => void;
  reconnected: () => void;
  reconnecting: (error: ConveneError) => void;
  recordingStarted: () => void;
  recordingStopped: () => void;
  trackDimensionsChanged: (track: RemoteVideoTrack, participant: RemoteParticipant) => void;
  trackDisabled: (track: RemoteTrack, participant: RemoteParticipant) => void;
  trackEnabled: (track: RemoteTrack, participant: RemoteParticipant) => void;
  trackMessage: (data: string | ArrayBuffer, track: RemoteDataTrack, participant: RemoteParticipant) => void;
  trackPublished: (publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  trackStarted: (track: RemoteTrack, participant: RemoteParticipant) => void;
  trackSubscribed: (track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  trackSubscriptionFailed: (error: ConveneError, publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  trackUnpublished: (publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  trackUnsubscribed: (track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  trackSwitchedOff: (track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  trackSwitchedOn: (track: RemoteTrack, publication: RemoteTrackPublication, participant: RemoteParticipant) => void;
  /** @deprecated use trackSubscribed */
  trackAdded: (track: RemoteTrack, participant: RemoteParticipant) => void;
  /** @deprecated use trackUnsubscribed */
  trackRemoved: (track: RemoteTrack, participant: RemoteParticipant) => void;
}

/** A connected room (what {@link connect} resolves to). */
export declare class VideoRoom {
  private constructor();
  free(): void;
  readonly sid: string;
  readonly name: string;
  readonly state: "connected" | "reconnecting" | "disconnected";
  readonly isRecording: boolean;
  readonly localParticipant: LocalParticipant;
  readonly participants: Map<string, RemoteParticipant>;
  readonly dominantSpeaker: RemoteParticipant | null;
  disconnect(): this;
  getStats(): Promise<RTCStatsReport[]>;
  on<K extends keyof VideoRoomEvents>(event: K, listener: VideoRoomEvents[K]): this;
  once<K extends keyof VideoRoomEvents>(event: K, listener: VideoRoomEvents[K]): this;
  off<K extends keyof VideoRoomEvents>(event: K, listener?: VideoRoomEvents[K]): this;
  removeAllListeners<K extends keyof VideoRoomEvents>(event?: K): this;
}

/** Connect to a room and publish local tracks. */
export function connect(token: string, options?: ConnectOptions): Promise<VideoRoom>;

/** Create a local data track to publish with `connect({tracks})` or `publishTrack`. */
export function createLocalDataTrack(options?: LocalDataTrackOptions): LocalDataTrack;

/** Acquire local audio/video tracks. */
export function createLocalTracks(options?: { audio?: boolean | MediaTrackConstraints; video?: boolean | MediaTrackConstraints }): Promise<Array<LocalAudioTrack | LocalVideoTrack>>;
