// A minimal OVSP v1 client on plain browser WebRTC, used by the media tests. It is deliberately
// independent of the SDK: it speaks the wire protocol (docs/protocol.md) directly, with one
// WebSocket, a pub PC (the client offers) and a sub PC (the server offers).

export class OvspRoom {
  /**
   * @param {string} wsUrl  ws://host:port/ovsp
   * @param {string} token  JWT
   */
  constructor(wsUrl, token) {
    this.wsUrl = wsUrl;
    this.token = token;
    this.nextId = 1;
    this.pending = new Map();
    this.lastSeq = 0;
    this.events = [];
    this.self = null;
    this.members = new Map();
    /** track_id → {track, kind, member_id, mid, receiver} of received tracks */
    this.remote = new Map();
    /** mid → sub.offer mids entry, from the latest applied sub offer */
    this.subMids = {};
    this.subChain = Promise.resolve();
    this.published = new Map(); // cid → track
    this.pubOfferId = 0;
    this.timers = [];
    this.log = [];
    this.dataReceived = [];
    this.joinStarted = 0;
    this.firstFrameAt = 0;
    /** Milestones of the join, in ms since join() started. */
    this.marks = {};
  }

  mark(name) {
    if (this.marks[name] === undefined) this.marks[name] = Math.round(performance.now() - this.joinStarted);
  }

  note(msg) {
    this.log.push(`${Math.round(performance.now())} ${msg}`);
  }

  request(method, params = {}) {
    const id = String(this.nextId++);
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
    });
  }

  notify(method, params) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
    }
  }

  onFrame(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.id !== undefined && msg.id !== null && (msg.result !== undefined || msg.error)) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) {
        const e = new Error(`${p.method}: ${msg.error.message} (${msg.error.code})`);
        e.code = msg.error.code;
        p.reject(e);
      } else {
        p.resolve(msg.result);
      }
      return;
    }
    if (msg.method === 'event') {
      const ev = msg.params;
      if (typeof ev.seq === 'number') {
        if (ev.seq <= this.lastSeq) return;
        this.lastSeq = ev.seq;
      }
      this.events.push({ type: ev.type, at: performance.now(), data: ev.data });
      this.onEvent(ev.type, ev.data || {});
    }
  }

  onEvent(type, data) {
    switch (type) {
      case 'sub.offer':
        this.subChain = this.subChain.then(() => this.applySubOffer(data)).catch((e) => this.note(`sub.offer failed: ${e}`));
        break;
      case 'ice.candidate': {
        const pc = data.pc === 'pub' ? this.pubPc : this.subPc;
        if (!pc || !data.candidate) break;
        pc.addIceCandidate({ candidate: data.candidate, sdpMid: data.sdp_mid ?? null, sdpMLineIndex: data.sdp_m_line_index ?? 0 })
          .catch((e) => this.note(`addIceCandidate: ${e}`));
        break;
      }
      case 'member.joined':
        this.members.set(data.member.id, data.member);
        break;
      case 'member.left':
        this.members.delete(data.member_id);
        for (const [tid, r] of this.remote) if (r.member_id === data.member_id) this.remote.delete(tid);
        break;
      case 'track.unpublished':
        this.remote.delete(data.track_id);
        break;
      default:
        break;
    }
  }

  async applySubOffer(data) {
    if (data.reset && this.subPc) {
      this.subPc.close();
      this.subPc = null;
      this.remote.clear();
      document.getElementById('remote').replaceChildren();
    }
    if (!this.subPc) this.makeSubPc();
    // ontrack fires inside setRemoteDescription: the new mids map must already be in place.
    this.subMids = data.mids || {};
    await this.subPc.setRemoteDescription({ type: 'offer', sdp: data.sdp });
    const answer = await this.subPc.createAnswer();
    await this.subPc.setLocalDescription(answer);
    // A mid mapped to null (or re-pointed) no longer carries its old track.
    for (const [tid, r] of this.remote) {
      const m = this.subMids[r.mid];
      if (!m || m.track_id !== tid) this.remote.delete(tid);
    }
    // Re-pointed or reused mids carry a new track on the same receiver.
    for (const t of this.subPc.getTransceivers()) {
      const m = t.mid != null ? this.subMids[t.mid] : null;
      if (m && !this.remote.has(m.track_id)) this.addRemote(t, m);
    }
    this.mark('sub_offer_applied');
    await this.request('sub.answer', { offer_id: data.offer_id, sdp: this.subPc.localDescription.sdp });
    if (Object.values(this.subMids).some((m) => m)) this.mark('media_offer_answered');
  }

  addRemote(transceiver, m) {
    this.mark('remote_track');
    const track = transceiver.receiver.track;
    this.remote.set(m.track_id, {
      track,
      kind: m.kind,
      member_id: m.member_id,
      mid: transceiver.mid,
      receiver: transceiver.receiver,
    });
    // A sink makes Chromium decode the video.
    const el = document.createElement(m.kind === 'video' ? 'video' : 'audio');
    el.autoplay = true;
    el.muted = true;
    el.playsInline = true;
    el.srcObject = new MediaStream([track]);
    el.dataset.trackId = m.track_id;
    document.getElementById('remote').appendChild(el);
    el.play().catch(() => {});
  }

  makeSubPc() {
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.onicecandidate = (e) => this.notify('ice.candidate', {
      pc: 'sub',
      candidate: e.candidate ? e.candidate.candidate : null,
      sdp_mid: e.candidate ? e.candidate.sdpMid : undefined,
      sdp_m_line_index: e.candidate ? e.candidate.sdpMLineIndex : undefined,
    });
    pc.ontrack = (e) => {
      const m = e.transceiver.mid != null ? this.subMids[e.transceiver.mid] : null;
      if (m && !this.remote.has(m.track_id)) this.addRemote(e.transceiver, m);
    };
    pc.ondatachannel = (e) => {
      e.channel.binaryType = 'arraybuffer';
      e.channel.onmessage = (m) => this.dataReceived.push({ label: e.channel.label, bytes: new Uint8Array(m.data) });
    };
    pc.onconnectionstatechange = () => {
      this.note(`sub pc ${pc.connectionState}`);
      if (pc.connectionState === 'connected') this.mark('sub_connected');
    };
    this.subPc = pc;
  }

  makePubPc() {
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.onicecandidate = (e) => this.notify('ice.candidate', {
      pc: 'pub',
      candidate: e.candidate ? e.candidate.candidate : null,
      sdp_mid: e.candidate ? e.candidate.sdpMid : undefined,
      sdp_m_line_index: e.candidate ? e.candidate.sdpMLineIndex : undefined,
    });
    pc.onconnectionstatechange = () => this.note(`pub pc ${pc.connectionState}`);
    this.reliable = pc.createDataChannel('ovsp-reliable', { ordered: true });
    this.lossy = pc.createDataChannel('ovsp-lossy', { ordered: false, maxRetransmits: 0 });
    this.pubPc = pc;
  }

  /** Connects, joins, and publishes the fake camera and microphone if asked. */
  async join({ audio = true, video = true, autoSubscribe = true, videoConstraints, videoCodec } = {}) {
    this.videoConstraints = videoConstraints;
    this.videoCodec = videoCodec;
    this.joinStarted = performance.now();
    this.ws = new WebSocket(this.wsUrl, 'ovsp.v1');
    this.ws.onmessage = (m) => this.onFrame(m.data);
    this.ws.onclose = (e) => this.note(`ws closed ${e.code}`);
    await new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject(new Error('websocket failed'));
    });
    this.mark('ws_open');
    this.makeSubPc();
    const connected = await this.request('session.connect', {
      protocol: { major: 1, minor: 0 },
      token: this.token,
      client: { sdk: 'ovsp-media-test', version: '0.1.0', browser: navigator.userAgent },
      capabilities: ['data_tracks'],
    });
    this.sessionId = connected.session_id;
    this.mark('connected');
    const snap = await this.request('room.join', { auto_subscribe: autoSubscribe });
    this.mark('joined');
    this.self = snap.self;
    for (const m of snap.members || []) this.members.set(m.id, m);
    this.timers.push(setInterval(() => this.notify('session.ack', { seq: this.lastSeq }), 1000));
    this.timers.push(setInterval(() => this.request('ping', { ts: Date.now(), ack: this.lastSeq }).catch(() => {}), 5000));
    if (audio || video) await this.publish({ audio, video });
    return snap;
  }

  async publish({ audio = true, video = true } = {}) {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio,
      video: video ? this.videoConstraints || { width: 320, height: 240, frameRate: 15 } : false,
    });
    this.localStream = stream;
    if (!this.pubPc) this.makePubPc();
    const mids = {};
    const cids = [];
    for (const track of stream.getTracks()) {
      const cid = track.kind === 'audio' ? 'c-mic' : 'c-cam';
      const res = await this.request('track.publish', {
        cid,
        kind: track.kind,
        source: track.kind === 'audio' ? 'microphone' : 'camera',
      });
      this.published.set(cid, res.track);
      const t = this.pubPc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      if (track.kind === 'video' && this.videoCodec === 'H264') {
        // Offer only H.264 constrained baseline, packetization mode 1 (and its RTX).
        const codecs = RTCRtpSender.getCapabilities('video').codecs.filter(
          (c) => (c.mimeType === 'video/H264' && /profile-level-id=42e01f/.test(c.sdpFmtpLine) && /packetization-mode=1/.test(c.sdpFmtpLine)) ||
            c.mimeType === 'video/rtx',
        );
        t.setCodecPreferences(codecs);
      }
      cids.push([t, cid]);
    }
    this.pubTransceivers = cids;
    const offer = await this.pubPc.createOffer();
    await this.pubPc.setLocalDescription(offer);
    for (const [t, cid] of cids) mids[t.mid] = cid;
    this.pubOfferId += 1;
    const res = await this.request('pub.offer', { offer_id: this.pubOfferId, sdp: this.pubPc.localDescription.sdp, mids });
    await this.pubPc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
  }

  /** Polls the sub PC every 10 ms until a video track of `memberId` has decoded a frame. */
  async firstFrame(memberId, timeoutMs = 15000) {
    const end = performance.now() + timeoutMs;
    while (performance.now() < end) {
      const s = await this.inbound();
      if (Object.values(s).some((x) => x.member_id === memberId && x.kind === 'video' && x.frames > 0)) {
        this.mark('first_frame');
        return this.marks.first_frame;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return null;
  }

  /** ICE restart of the pub PC: a new offer with fresh credentials and `ice_restart`. */
  async pubIceRestart() {
    const offer = await this.pubPc.createOffer({ iceRestart: true });
    await this.pubPc.setLocalDescription(offer);
    return this.sendPubOffer(true);
  }

  /** `pub.reset`: a brand new pub PC carrying the same tracks (same cids). */
  async pubReset() {
    await this.request('pub.reset', {});
    this.pubPc.close();
    this.pubPc = null;
    this.makePubPc();
    this.pubTransceivers = [];
    for (const track of this.localStream.getTracks()) {
      const t = this.pubPc.addTransceiver(track, { direction: 'sendonly', streams: [this.localStream] });
      this.pubTransceivers.push([t, track.kind === 'audio' ? 'c-mic' : 'c-cam']);
    }
    const offer = await this.pubPc.createOffer();
    await this.pubPc.setLocalDescription(offer);
    return this.sendPubOffer(false);
  }

  async sendPubOffer(iceRestart) {
    const mids = {};
    for (const [t, cid] of this.pubTransceivers) mids[t.mid] = cid;
    this.pubOfferId += 1;
    const res = await this.request('pub.offer', {
      offer_id: this.pubOfferId,
      sdp: this.pubPc.localDescription.sdp,
      mids,
      ice_restart: iceRestart,
    });
    await this.pubPc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
  }

  trackOf(kind) {
    const t = [...this.published.values()].find((x) => x.kind === kind);
    return t ? t.id : null;
  }

  /** Inbound stats of the received tracks: track_id → {kind, member_id, bytes, frames, packets}. */
  async inbound() {
    const out = {};
    if (!this.subPc) return out;
    const stats = await this.subPc.getStats();
    const byMid = {};
    const codecs = {};
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.mid != null) byMid[s.mid] = s;
      if (s.type === 'codec') codecs[s.id] = s.mimeType;
    });
    for (const [tid, r] of this.remote) {
      const s = byMid[r.mid];
      out[tid] = {
        kind: r.kind,
        member_id: r.member_id,
        mid: r.mid,
        bytes: s ? s.bytesReceived : 0,
        packets: s ? s.packetsReceived : 0,
        frames: s && s.framesDecoded != null ? s.framesDecoded : 0,
        codec: s && s.codecId ? codecs[s.codecId] : undefined,
      };
      if (r.kind === 'video' && out[tid].frames > 0 && !this.firstFrameAt) this.firstFrameAt = performance.now();
    }
    return out;
  }

  /** Sends a data-track frame on `ovsp-reliable` (version 1, handle, seq, optional destinations). */
  sendData(handle, seq, payload, destinations) {
    const enc = new TextEncoder();
    const dest = destinations ? destinations.map((d) => enc.encode(d)) : null;
    const body = enc.encode(payload);
    let len = 8 + body.length;
    if (dest) len += 1 + dest.reduce((n, d) => n + 1 + d.length, 0);
    const buf = new Uint8Array(len);
    const view = new DataView(buf.buffer);
    buf[0] = 1;
    buf[1] = dest ? 1 : 0;
    view.setUint16(2, handle);
    view.setUint32(4, seq);
    let pos = 8;
    if (dest) {
      buf[pos++] = dest.length;
      for (const d of dest) {
        buf[pos++] = d.length;
        buf.set(d, pos);
        pos += d.length;
      }
    }
    buf.set(body, pos);
    this.reliable.send(buf);
  }

  async leave() {
    await this.request('room.leave', {});
    this.close();
  }

  close() {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.pubPc) this.pubPc.close();
    if (this.subPc) this.subPc.close();
    if (this.localStream) for (const t of this.localStream.getTracks()) t.stop();
    if (this.ws) this.ws.close();
  }
}
