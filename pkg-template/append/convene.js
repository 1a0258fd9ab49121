// Appended to the generated convene.js by scripts/lib/merge-pkg.mjs (comment lines are dropped).
// A class whose wasm side exports one dispatcher, `_c(index, a, b, c, d)` with the index of the
// name in its list, gets its public methods and getters here, from one list of names each (the
// lists are the `*_API` constants of src/api/wire.rs; host tests keep them equal to these lines
// and to convene.d.ts): a leading "." marks a getter, "~" a method that returns the object
// itself. Another class adopts it by exporting `_c` and adding one api(...) line.
function api(C, names) {
  names.split(' ').forEach((n, i) => {
    const k = n.replace(/^[.~]/, '');
    Object.defineProperty(C.prototype, k, n[0] == '.' ? { get() { return this._c(i) }, configurable: true } : {
      value: n[0] == '~' ? function (a, b) { this._c(i, a, b); return this } : function (a, b, c, d) { return this._c(i, a, b, c, d) },
      writable: true, configurable: true });
  });
}
api(RoomSession, "audioMute audioUnmute videoMute videoUnmute deaf undeaf getMembers removeMember removeAllMembers lock unlock promote demote setRaisedHand setPrioritizeHandraise setHideVideoMuted showVideoMuted setInputVolume setMicrophoneVolume setOutputVolume setSpeakerVolume setInputSensitivity getMeta setMeta updateMeta deleteMeta getMemberMeta setMemberMeta updateMemberMeta deleteMemberMeta getLayouts setLayout setPositions setMemberPosition startRecording getRecordings play getPlaybacks startStream getStreams sendDigits join leave addCamera addMicrophone addDevice startScreenShare createScreenShareObject updateCamera updateMicrophone updateSpeaker setLocalStream subscribe resumePlayback destroy ~on ~once ~off ~removeAllListeners .active .memberId .roomId .roomSessionId .id .name .displayName .layoutName .meta .hideVideoMuted .recording .recordings .permissions .interactivityMode .previewUrl .localOverlay .localStream .localAudioTrack .localVideoTrack .cameraId .cameraLabel .microphoneId .microphoneLabel .remoteStream .deviceList .screenShareList");
// RoomSession's `_c` returns an error (of on, once, off, removeAllListeners) instead of throwing
// it: it is thrown here (no value the class returns is an Error).
{ const c = RoomSession.prototype._c; RoomSession.prototype._c = function (i, a, b) { const x = c.call(this, i, a, b); if (x instanceof Error) throw x; return x } }
api(RoomSessionDevice, ".id .kind .memberId .localStream audioMute audioUnmute videoMute videoUnmute leave");
api(Egress, ".id .roomSessionId .state .url .volume .position .duration .startedAt .endedAt pause resume stop setVolume seek forward rewind");
api(Call, ".channel .status create join delete addTracks removeTracks muteTracks addUsers delUsers modUsers muteUser configure getUsers on leave");
// `initialize(options)`: a promise of `new Room(options)` (rejected with what it throws).
export function initialize(o) { return new Promise((r) => r(new Room(o))) }
api(Room, ".id on connect disconnect updateClientToken getState getLocalParticipant getLocalStreams addStream updateStream removeStream addSubscription updateSubscription removeSubscription getParticipantStreams getParticipantStream getWebRTCStatsForStream sendMessage enableNetworkMetricsReport disableNetworkMetricsReport");
// The `on` of Room and Call throws the error its dispatcher returns (their `_c` never throw);
// Room's returns the function that removes the listener: index 20 of its dispatcher.
Room.prototype.on = function (e, f) { const x = this._c(1, e, f); if (x) throw x; return () => this._c(20, e, f) };
Call.prototype.on = function (e, f) { const x = this._c(14, e, f); if (x) throw x };
api(LocalTrack, ".id .name .kind .sid .mediaStreamTrack .isEnabled .isStarted .isStopped .dimensions .ordered .reliable .maxPacketLifeTime .maxRetransmits ~enable ~disable ~stop restart attach detach send ~on ~once ~off ~removeAllListeners");
// A second handle on the same track (index 24 of its dispatcher), which a room takes back when
// it is handed a LocalTrack; only LocalTrack objects have it.
LocalTrack.prototype._share = function () { return this._c(24) };
api(VideoRoom, ".sid .name .state .isRecording .localParticipant .participants .dominantSpeaker ~disconnect getStats ~on ~once ~off ~removeAllListeners");
// VideoRoom's `getStats`: the reports of its publishing and subscribing connections that exist
// (its dispatcher, index 8, gives the promise of both; none when a request fails).
VideoRoom.prototype.getStats = function () { return this._c(8).then((a) => a.filter((r) => typeof r == "object" && r), () => []) };
// LocalTrack's `dimensions`: the width and height of its track's settings (each null if unknown).
Object.defineProperty(LocalTrack.prototype, "dimensions", { get() { const t = this.mediaStreamTrack, s = t ? t.getSettings() : {}, n = (v) => v === undefined ? null : v; return { width: n(s.width), height: n(s.height) } }, configurable: true });
// The `_c` of LocalTrack and VideoRoom return an error instead of throwing it: it is thrown here
// (and the string LocalTrack's attach, index 17, fails with where there is no document).
for (const C of [LocalTrack, VideoRoom]) { const c = C.prototype._c; C.prototype._c = function (i, a, b) { const x = c.call(this, i, a, b); if (x instanceof Error || i == 17 && typeof x == "string") throw x; return x } }
// `new LocalDataTrack(options)` is createLocalDataTrack (a plain function returns its object).
export { createLocalDataTrack as LocalDataTrack };
