// Appended to the generated convene.js by scripts/lib/merge-pkg.mjs (comment lines are dropped).
// A class whose wasm side exports one dispatcher, `_c(name, a, b)` (or `_c(index, a, b)` with the
// name's index in the list, when the third argument is set), gets its public methods and getters
// here, from one list of names each (host tests in src/api keep the lists equal to convene.d.ts):
// a leading "." marks a getter, "~" a method that returns the object itself. Another class adopts
// it by exporting `_c` and adding one api(...) line.
function api(C, names, byIndex) {
  names.split(' ').forEach((n, i) => {
    const k = n.replace(/^[.~]/, ''), c = byIndex ? i : k;
    Object.defineProperty(C.prototype, k, n[0] == '.' ? { get() { return this._c(c) }, configurable: true } : {
      value: n[0] == '~' ? function (a, b) { this._c(c, a, b); return this } : function (a, b) { return this._c(c, a, b) },
      writable: true, configurable: true });
  });
}
api(RoomSession, "audioMute audioUnmute videoMute videoUnmute deaf undeaf getMembers removeMember removeAllMembers lock unlock promote demote setRaisedHand setPrioritizeHandraise setHideVideoMuted showVideoMuted setInputVolume setMicrophoneVolume setOutputVolume setSpeakerVolume setInputSensitivity getMeta setMeta updateMeta deleteMeta getMemberMeta setMemberMeta updateMemberMeta deleteMemberMeta getLayouts setLayout setPositions setMemberPosition startRecording getRecordings play getPlaybacks startStream getStreams sendDigits join leave addCamera addMicrophone addDevice startScreenShare createScreenShareObject updateCamera updateMicrophone updateSpeaker setLocalStream subscribe resumePlayback destroy ~on ~once ~off ~removeAllListeners .active .memberId .roomId .roomSessionId .id .name .displayName .layoutName .meta .hideVideoMuted .recording .recordings .permissions .interactivityMode .previewUrl .localOverlay .localStream .localAudioTrack .localVideoTrack .cameraId .cameraLabel .microphoneId .microphoneLabel .remoteStream .deviceList .screenShareList", 1);
api(RoomSessionDevice, ".id .kind .memberId .localStream audioMute audioUnmute videoMute videoUnmute leave", 1);
api(Egress, ".id .roomSessionId .state .url .volume .position .duration .startedAt .endedAt pause resume stop setVolume seek forward rewind", 1);
