//! A scriptable sans-IO fake OVSP server, a fake browser PeerConnection and a harness that
//! wires them to a `SessionMachine` in virtual time.
//!
//! The server speaks the real wire format (every frame goes through `ovsp` encode/decode),
//! keeps a per-session replay buffer and response cache, and lets tests script the room:
//! other members joining, updating and leaving, lost frames, dead sockets, forgotten sessions.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};

use convene_core::ovsp::codes::Code;
use convene_core::ovsp::envelope::{
    ClientFrame, EventEnvelope, Request, Response, RpcError, ServerFrame,
};
use convene_core::ovsp::model::PcKind;
use convene_core::ovsp::model::{Member, Room, SelfMember, SessionAction, Track};
use convene_core::{
    Command, Config, CoreError, CoreEvent, IceState, Input, Output, PeerEvent, PeerOp,
    RequestHandle, SdpType, SessionMachine,
};
use serde_json::{json, Value};

/// What the server does on the socket.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerOut {
    /// A text frame to the client.
    Frame(String),
    /// Close the socket with a code.
    Close(u16),
}

/// Server-side state of one session.
#[derive(Debug, Clone)]
pub struct Sess {
    pub id: String,
    pub resume_token: String,
    pub member_id: String,
    pub seq: u64,
    /// (seq, encoded event frame)
    pub buffer: VecDeque<(u64, String)>,
    pub cache: BTreeMap<String, (String, Value, String)>,
    pub acked: u64,
    pub joined: bool,
    pub sub_offer_id: u32,
    /// The server's side of the pub PC: mid -> the cid negotiated on it. A mid keeps its
    /// track until `pub.reset` (an m-section cannot change tracks).
    pub pub_mids: BTreeMap<String, String>,
    pub tracks: BTreeMap<String, Track>,
}

/// The fake server. One room; the client under test is one member; the other members are
/// scripted by the test.
#[derive(Debug)]
pub struct FakeServer {
    pub now: u64,
    pub room: Room,
    pub members: BTreeMap<String, Member>,
    pub sessions: BTreeMap<String, Sess>,
    /// The session attached to the open socket.
    pub current: Option<String>,
    /// A socket is open and has said session.connect (or not yet).
    pub socket_open: bool,
    pub replay_limit: usize,
    pub permissions: Vec<String>,
    /// Every request that had an effect (cached replays are not logged).
    pub effects: Vec<(String, Value)>,
    /// Every frame received (decoded method + params), including notifications.
    pub received: Vec<(Option<String>, String, Value)>,
    /// Methods that fail with the given error.
    pub fail: BTreeMap<String, RpcError>,
    /// Methods that fail once with the given error, then work again.
    pub fail_once: BTreeMap<String, RpcError>,
    pub next_member: u64,
    pub next_track: u64,
    pub next_session: u64,
    pub timers: Value,
    /// Send a sub.offer after room.join.
    pub offer_on_join: bool,
}

impl Default for FakeServer {
    fn default() -> Self {
        Self::new()
    }
}

/// A token the fake server understands: `tok:<identity>:<expires_at_ms>`.
pub fn token(identity: &str, exp: u64) -> String {
    format!("tok:{identity}:{exp}")
}

pub fn member_json(id: &str, version: u64) -> Value {
    json!({"id": id, "identity": format!("id-{id}"), "role": "member", "state": "active",
           "version": version, "audio_muted": false, "video_muted": false, "tracks": []})
}

impl FakeServer {
    pub fn new() -> Self {
        FakeServer {
            now: 0,
            room: serde_json::from_value(json!({"id":"rm_1","name":"standup","version":1}))
                .expect("room"),
            members: BTreeMap::new(),
            sessions: BTreeMap::new(),
            current: None,
            socket_open: false,
            replay_limit: 2048,
            permissions: vec!["room.self.*".into(), "room.member.audio_mute".into()],
            effects: Vec::new(),
            received: Vec::new(),
            fail: BTreeMap::new(),
            fail_once: BTreeMap::new(),
            next_member: 1,
            next_track: 1,
            next_session: 1,
            timers: json!({"ping_interval_ms":5000,"ping_timeout_ms":15000,
                           "resume_window_ms":30000,"request_timeout_ms":10000}),
            offer_on_join: true,
        }
    }

    /// Adds a member that is already in the room before the client joins.
    pub fn seed_member(&mut self, id: &str) {
        let m: Member = serde_json::from_value(member_json(id, 1)).expect("member");
        self.members.insert(id.to_owned(), m);
    }

    fn session_mut(&mut self) -> Option<&mut Sess> {
        let id = self.current.clone()?;
        self.sessions.get_mut(&id)
    }

    /// Durable event to the client's session (buffered; sent if a socket is attached).
    pub fn emit(&mut self, event_type: &str, data: Value) -> Vec<ServerOut> {
        let attached = self.socket_open && self.current.is_some();
        let now = self.now;
        let limit = self.replay_limit;
        let Some(s) = self.session_mut_any() else {
            return Vec::new();
        };
        if !s.joined {
            return Vec::new();
        }
        s.seq += 1;
        let env = EventEnvelope {
            event_type: event_type.to_owned(),
            ts: now,
            seq: Some(s.seq),
            data: data.into(),
        };
        let frame = ServerFrame::Event(env).encode();
        s.buffer.push_back((s.seq, frame.clone()));
        while s.buffer.len() > limit {
            s.buffer.pop_front();
        }
        if attached {
            vec![ServerOut::Frame(frame)]
        } else {
            Vec::new()
        }
    }

    /// Volatile event (never buffered).
    pub fn emit_volatile(&mut self, event_type: &str, data: Value) -> Vec<ServerOut> {
        if !(self.socket_open && self.current.is_some()) {
            return Vec::new();
        }
        let env = EventEnvelope {
            event_type: event_type.to_owned(),
            ts: self.now,
            seq: None,
            data: data.into(),
        };
        vec![ServerOut::Frame(ServerFrame::Event(env).encode())]
    }

    /// The most recent session (attached or not).
    fn session_mut_any(&mut self) -> Option<&mut Sess> {
        let id = self
            .current
            .clone()
            .or_else(|| self.sessions.keys().last().cloned())?;
        self.sessions.get_mut(&id)
    }

    pub fn session(&self) -> Option<&Sess> {
        let id = self
            .current
            .clone()
            .or_else(|| self.sessions.keys().last().cloned())?;
        self.sessions.get(&id)
    }

    // ------------------------------------------------------------ scripted room changes

    pub fn member_joins(&mut self, id: &str) -> Vec<ServerOut> {
        let m: Member = serde_json::from_value(member_json(id, 1)).expect("member");
        self.members.insert(id.to_owned(), m.clone());
        self.emit("member.joined", json!({ "member": m }))
    }

    pub fn member_leaves(&mut self, id: &str, reason: &str) -> Vec<ServerOut> {
        let mut out = Vec::new();
        if let Some(m) = self.members.remove(id) {
            for t in m.tracks {
                out.extend(self.emit(
                    "track.unpublished",
                    json!({"track_id": t.id, "member_id": id, "reason": "left"}),
                ));
            }
        }
        out.extend(self.emit("member.left", json!({"member_id": id, "reason": reason})));
        out
    }

    /// Sets a member field (bumping its version) and emits `member.updated`.
    pub fn member_update(&mut self, id: &str, field: &str, value: Value) -> Vec<ServerOut> {
        let Some(m) = self.members.get_mut(id) else {
            return Vec::new();
        };
        let mut v = serde_json::to_value(&*m).expect("member json");
        v[field] = value.clone();
        v["version"] = json!(m.version + 1);
        *m = serde_json::from_value(v).expect("member back");
        let partial = json!({"id": id, "version": m.version, field: value});
        self.emit(
            "member.updated",
            json!({"member": partial, "updated": [field]}),
        )
    }

    pub fn member_publishes(&mut self, id: &str, kind: &str, source: &str) -> Vec<ServerOut> {
        let tid = format!("tr_{}", self.next_track);
        self.next_track += 1;
        let t: Track = serde_json::from_value(json!({"id": tid, "member_id": id, "version": 1,
            "kind": kind, "source": source, "stream_key": "main"}))
        .expect("track");
        if let Some(m) = self.members.get_mut(id) {
            m.tracks.push(t.clone());
        }
        self.emit("track.published", json!({ "track": t }))
    }

    pub fn snapshot(&self, member_id: &str, seq: u64) -> Value {
        let own_tracks: Vec<Track> = self
            .sessions
            .values()
            .find(|s| s.member_id == member_id)
            .map(|s| s.tracks.values().cloned().collect())
            .unwrap_or_default();
        let me: SelfMember = serde_json::from_value(json!({
            "id": member_id, "identity": "alice", "role": "member", "version": 1,
            "permissions": self.permissions,
            "media_allowed": {"send": ["microphone","camera"], "recv": ["audio","video","data"]},
            "tracks": own_tracks,
        }))
        .expect("self");
        json!({
            "seq": seq,
            "room": self.room,
            "self": me,
            "members": self.members.values().collect::<Vec<_>>(),
            "layout": {"name": "grid-responsive", "layers": []},
            "recordings": [], "playbacks": [], "streams": [],
        })
    }

    // ------------------------------------------------------------ socket

    pub fn on_open(&mut self) {
        self.socket_open = true;
        self.current = None;
    }

    pub fn on_close(&mut self) {
        self.socket_open = false;
        self.current = None;
    }

    /// Forget every session (as after the resume window).
    pub fn forget_sessions(&mut self) {
        self.sessions.clear();
        self.current = None;
    }

    fn respond(
        &mut self,
        id: &str,
        method: &str,
        params: &Value,
        outcome: Result<Value, RpcError>,
    ) -> ServerOut {
        let seq = self.session().map(|s| s.seq).unwrap_or(0);
        let resp = match outcome {
            Ok(v) => Response::ok_with_seq(id, &v, seq),
            Err(e) => Response::err(Some(id.to_owned()), e),
        };
        let frame = ServerFrame::Response(resp).encode();
        if let Some(s) = self.session_mut() {
            s.cache.insert(
                id.to_owned(),
                (method.to_owned(), params.clone(), frame.clone()),
            );
        }
        ServerOut::Frame(frame)
    }

    pub fn on_frame(&mut self, text: &str) -> Vec<ServerOut> {
        let frame = match ClientFrame::decode(text) {
            Ok(f) => f,
            Err(e) => {
                return vec![ServerOut::Frame(
                    ServerFrame::Response(e.to_response()).encode(),
                )]
            }
        };
        match frame {
            ClientFrame::Notification(n) => {
                self.received
                    .push((None, n.method.clone(), n.params.clone().into()));
                if n.method == "session.ack" {
                    let seq = n.params["seq"].as_u64().unwrap_or(0);
                    if let Some(s) = self.session_mut() {
                        s.acked = s.acked.max(seq);
                    }
                }
                Vec::new()
            }
            ClientFrame::Request(r) => {
                self.received.push((
                    Some(r.id.clone()),
                    r.method.clone(),
                    r.params.clone().into(),
                ));
                self.on_request(r)
            }
        }
    }

    fn on_request(&mut self, r: Request) -> Vec<ServerOut> {
        let Request { id, method, params } = r;
        // The fake server handles params as serde_json values.
        let params = Value::from(params);
        if self.current.is_none() && method != "session.connect" {
            let e = RpcError::new(Code::NOT_CONNECTED, "first message must be session.connect");
            return vec![
                ServerOut::Frame(ServerFrame::Response(Response::err(Some(id), e)).encode()),
                ServerOut::Close(4009),
            ];
        }
        if method == "session.connect" {
            return self.on_connect(&id, &params);
        }
        // Response cache (B3.2).
        if let Some(s) = self.session_mut() {
            if let Some((m, p, frame)) = s.cache.get(&id) {
                if *m == method && *p == params {
                    return vec![ServerOut::Frame(frame.clone())];
                }
                let e = RpcError::new(Code::REQUEST_ID_REUSED, "request id reused");
                return vec![ServerOut::Frame(
                    ServerFrame::Response(Response::err(Some(id), e)).encode(),
                )];
            }
        }
        if let Some(e) = self
            .fail
            .get(&method)
            .cloned()
            .or_else(|| self.fail_once.remove(&method))
        {
            return vec![self.respond(&id, &method, &params, Err(e))];
        }
        self.effects.push((method.clone(), params.clone()));
        let mut out = Vec::new();
        let result: Result<Value, RpcError> = match method.as_str() {
            "room.join" => {
                let (mid, seq) = {
                    let Some(s) = self.session_mut() else {
                        return out;
                    };
                    s.joined = true;
                    (s.member_id.clone(), s.seq)
                };
                let snap = self.snapshot(&mid, seq);
                out.push(self.respond(&id, &method, &params, Ok(snap)));
                if self.offer_on_join {
                    out.extend(self.send_sub_offer(false));
                }
                return out;
            }
            "ping" => Ok(json!({"ts": params["ts"], "server_ts": self.now})),
            "room.leave" => {
                out.push(self.respond(&id, &method, &params, Ok(json!({}))));
                if let Some(sid) = self.current.clone() {
                    self.sessions.remove(&sid);
                }
                out.push(ServerOut::Close(1000));
                return out;
            }
            "member.audio_mute" | "member.remove" => {
                let target = params["member_id"].as_str().unwrap_or("").to_owned();
                let own = self
                    .session()
                    .map(|s| s.member_id.clone())
                    .unwrap_or_default();
                let suffix = method.trim_start_matches("member.");
                let perm = if target.is_empty() || target == own {
                    format!("room.self.{suffix}")
                } else {
                    format!("room.member.{suffix}")
                };
                if !convene_core::ovsp::perm::has_permission(&self.permissions, &perm) {
                    Err(RpcError::new(Code::PERMISSION_DENIED, "permission denied")
                        .with_permission(perm))
                } else if method == "member.remove" {
                    out.extend(self.member_leaves(&target, "removed"));
                    Ok(json!({}))
                } else {
                    out.extend(self.member_update(&target, "audio_muted", json!(true)));
                    Ok(json!({}))
                }
            }
            "track.publish" => {
                let tid = format!("tr_{}", self.next_track);
                self.next_track += 1;
                let mid = self
                    .session()
                    .map(|s| s.member_id.clone())
                    .unwrap_or_default();
                let mut t = json!({"id": tid, "member_id": mid, "version": 1,
                    "cid": params["cid"], "kind": params["kind"], "source": params["source"],
                    "muted": params.get("muted").cloned().unwrap_or(json!(false))});
                if let Some(k) = params.get("stream_key") {
                    t["stream_key"] = k.clone();
                }
                if params["kind"] == "data" {
                    t["data_handle"] = json!(self.next_track);
                    t["reliable"] = params.get("reliable").cloned().unwrap_or(json!(true));
                }
                let track: Track = serde_json::from_value(t.clone()).expect("track");
                if let Some(s) = self.session_mut() {
                    s.tracks.insert(tid, track);
                }
                Ok(json!({ "track": t }))
            }
            "pub.offer" => {
                let offer_id = params["offer_id"].as_u64().unwrap_or(0);
                let mids = params["mids"].as_object().cloned().unwrap_or_default();
                let Some(s) = self.session_mut() else {
                    return out;
                };
                let clash = mids.iter().find(|(mid, cid)| {
                    s.pub_mids
                        .get(*mid)
                        .is_some_and(|had| cid.as_str() != Some(had.as_str()))
                });
                if let Some((mid, _)) = clash {
                    let e = RpcError::new(
                        Code::MIDS_INCONSISTENT,
                        format!("mid {mid} carries another track"),
                    );
                    return vec![self.respond(&id, &method, &params, Err(e))];
                }
                for (mid, cid) in &mids {
                    s.pub_mids
                        .insert(mid.clone(), cid.as_str().unwrap_or_default().to_owned());
                }
                out.push(self.respond(
                    &id,
                    &method,
                    &params,
                    Ok(json!({"offer_id": offer_id, "sdp": format!("answer-{offer_id}")})),
                ));
                // Newly negotiated tracks go live.
                let tracks: Vec<Track> = self
                    .session()
                    .map(|s| s.tracks.values().cloned().collect())
                    .unwrap_or_default();
                for t in tracks {
                    let cid = t.cid.clone().unwrap_or_default();
                    if mids.values().any(|c| c.as_str() == Some(cid.as_str()))
                        && !self
                            .effects
                            .iter()
                            .any(|(m, p)| m == "live" && p.as_str() == Some(t.id.as_str()))
                    {
                        self.effects.push(("live".into(), json!(t.id)));
                        out.extend(self.emit("track.published", json!({ "track": t })));
                    }
                }
                return out;
            }
            "track.unpublish" => {
                let tid = params["track_id"].as_str().unwrap_or("").to_owned();
                let mid = self
                    .session()
                    .map(|s| s.member_id.clone())
                    .unwrap_or_default();
                if let Some(s) = self.session_mut() {
                    s.tracks.remove(&tid);
                }
                out.extend(self.emit(
                    "track.unpublished",
                    json!({"track_id": tid, "member_id": mid, "reason": "unpublished"}),
                ));
                Ok(json!({}))
            }
            "sub.update" => {
                let mut subs = Vec::new();
                for a in params["add"].as_array().cloned().unwrap_or_default() {
                    let tracks: Vec<String> = match a.get("member_id").and_then(Value::as_str) {
                        Some(m) => self
                            .members
                            .get(m)
                            .map(|m| m.tracks.iter().map(|t| t.id.clone()).collect())
                            .unwrap_or_default(),
                        None => a["track_id"]
                            .as_str()
                            .map(|s| vec![s.to_owned()])
                            .unwrap_or_default(),
                    };
                    for t in tracks {
                        subs.push(json!({"track_id": t, "state": "active"}));
                    }
                }
                Ok(json!({ "subscriptions": subs }))
            }
            "sub.ice_restart" => {
                out.push(self.respond(&id, &method, &params, Ok(json!({}))));
                out.extend(self.send_sub_offer(true));
                return out;
            }
            "message.send" => Ok(json!({"message_id": "msg_1", "ts": self.now})),
            "pub.reset" => {
                if let Some(s) = self.session_mut() {
                    s.pub_mids.clear();
                }
                Ok(json!({}))
            }
            _ => Ok(json!({})),
        };
        out.push(self.respond(&id, &method, &params, result));
        out
    }

    pub fn send_sub_offer(&mut self, ice_restart: bool) -> Vec<ServerOut> {
        let mids: BTreeMap<String, Value> = self
            .members
            .values()
            .flat_map(|m| m.tracks.iter())
            .enumerate()
            .map(|(i, t)| {
                (
                    (i + 1).to_string(),
                    json!({"track_id": t.id, "member_id": t.member_id, "kind": t.kind}),
                )
            })
            .collect();
        let offer_id = match self.session_mut_any() {
            Some(s) => {
                s.sub_offer_id += 1;
                s.sub_offer_id
            }
            None => return Vec::new(),
        };
        self.emit(
            "sub.offer",
            json!({"offer_id": offer_id, "sdp": format!("sub-offer-{offer_id}"),
                   "ice_restart": ice_restart, "mids": mids}),
        )
    }

    fn on_connect(&mut self, id: &str, params: &Value) -> Vec<ServerOut> {
        let err = |code: Code, msg: &str| {
            let mut e = RpcError::new(code, msg);
            if code == Code::SESSION_UNKNOWN {
                e = e.with_action(SessionAction::Rejoin);
            }
            vec![ServerOut::Frame(
                ServerFrame::Response(Response::err(Some(id.to_owned()), e)).encode(),
            )]
        };
        if let Some(resume) = params.get("resume").filter(|r| !r.is_null()) {
            let sid = resume["session_id"].as_str().unwrap_or("").to_owned();
            let rt = resume["resume_token"].as_str().unwrap_or("");
            let last = resume["last_seq"].as_u64().unwrap_or(0);
            let Some(s) = self.sessions.get(&sid) else {
                return err(Code::SESSION_UNKNOWN, "session unknown");
            };
            if s.resume_token != rt {
                return err(Code::RESUME_TOKEN_INVALID, "resume token invalid");
            }
            let oldest = s.buffer.front().map(|(q, _)| *q).unwrap_or(s.seq + 1);
            let gap = last + 1 < oldest && last < s.seq;
            let new_rt = format!("rt_{}_{}", sid, self.now);
            let member_id = s.member_id.clone();
            let seq = s.seq;
            let replay: Vec<String> = s
                .buffer
                .iter()
                .filter(|(q, _)| *q > last)
                .map(|(_, f)| f.clone())
                .collect();
            if let Some(s) = self.sessions.get_mut(&sid) {
                s.resume_token = new_rt.clone();
            }
            self.current = Some(sid.clone());
            let mut result = json!({
                "session_id": sid, "resume_token": new_rt, "protocol": {"major":1,"minor":0},
                "capabilities": [], "timers": self.timers, "ice_servers": [], "resumed": true,
            });
            if gap {
                result["snapshot"] = self.snapshot(&member_id, seq);
            } else {
                result["replay"] = json!({"from": last + 1, "to": seq});
            }
            let mut out = vec![ServerOut::Frame(
                ServerFrame::Response(Response::ok(id, &result)).encode(),
            )];
            if !gap {
                out.extend(replay.into_iter().map(ServerOut::Frame));
            }
            return out;
        }
        // Fresh connect: validate the token.
        let tok = params["token"].as_str().unwrap_or("");
        let parts: Vec<&str> = tok.split(':').collect();
        if parts.len() != 3 || parts[0] != "tok" {
            return err(Code::TOKEN_INVALID, "token invalid");
        }
        let exp: u64 = parts[2].parse().unwrap_or(0);
        if self.now >= exp {
            return err(Code::TOKEN_EXPIRED, "token expired");
        }
        let sid = format!("ses_{}", self.next_session);
        let member_id = format!("mem_self{}", self.next_session);
        self.next_session += 1;
        let rt = format!("rt_{sid}_0");
        self.sessions.insert(
            sid.clone(),
            Sess {
                id: sid.clone(),
                resume_token: rt.clone(),
                member_id,
                seq: 0,
                buffer: VecDeque::new(),
                cache: BTreeMap::new(),
                acked: 0,
                joined: false,
                sub_offer_id: 0,
                pub_mids: BTreeMap::new(),
                tracks: BTreeMap::new(),
            },
        );
        self.current = Some(sid.clone());
        let result = json!({
            "session_id": sid, "resume_token": rt, "protocol": {"major":1,"minor":0},
            "capabilities": [], "identity": parts[1], "timers": self.timers,
            "ice_servers": [{"urls": ["stun:stun.example.net:3478"]}], "resumed": false,
            "token_expires_at": exp,
        });
        vec![ServerOut::Frame(
            ServerFrame::Response(Response::ok(id, &result)).encode(),
        )]
    }
}

/// A fake browser: answers PeerOps with the PeerEvents a real PeerConnection would produce.
#[derive(Debug, Default)]
pub struct FakePeer {
    pub pub_exists: bool,
    pub sub_exists: bool,
    /// cid -> mid on the pub PC
    pub transceivers: BTreeMap<String, String>,
    pub next_mid: u32,
    pub offers: u32,
    /// Report ICE connected as soon as a remote description is set.
    pub auto_ice: bool,
    /// `createOffer` does not resolve by itself (the test feeds the description).
    pub manual_offer: bool,
}

impl FakePeer {
    pub fn on_op(&mut self, op: &PeerOp) -> Vec<PeerEvent> {
        match op {
            PeerOp::CreatePc { pc, .. } => {
                match pc {
                    PcKind::Pub => {
                        self.pub_exists = true;
                        self.transceivers.clear();
                        self.next_mid = 0;
                    }
                    _ => self.sub_exists = true,
                }
                Vec::new()
            }
            PeerOp::ClosePc { pc } => {
                match pc {
                    PcKind::Pub => {
                        self.pub_exists = false;
                        self.transceivers.clear();
                    }
                    _ => self.sub_exists = false,
                }
                Vec::new()
            }
            PeerOp::AddTransceiver { cid, .. } => {
                self.transceivers
                    .insert(cid.clone(), self.next_mid.to_string());
                self.next_mid += 1;
                Vec::new()
            }
            PeerOp::RemoveTransceiver { cid } => {
                self.transceivers.remove(cid);
                Vec::new()
            }
            PeerOp::CreateOffer { .. } if self.manual_offer => Vec::new(),
            PeerOp::CreateOffer { pc, ice_restart } => {
                self.offers += 1;
                vec![PeerEvent::DescriptionCreated {
                    pc: *pc,
                    sdp_type: SdpType::Offer,
                    sdp: format!("offer-{} ice_restart={ice_restart}", self.offers),
                }]
            }
            PeerOp::CreateAnswer { pc } => vec![PeerEvent::DescriptionCreated {
                pc: *pc,
                sdp_type: SdpType::Answer,
                sdp: "sub-answer".into(),
            }],
            PeerOp::SetLocalDescription { pc, .. } => vec![PeerEvent::LocalDescriptionSet {
                pc: *pc,
                mids: if *pc == PcKind::Pub {
                    self.transceivers.clone().into_iter().collect()
                } else {
                    Default::default()
                },
            }],
            PeerOp::SetRemoteDescription { pc, .. } => {
                let mut v = vec![PeerEvent::RemoteDescriptionSet { pc: *pc }];
                if self.auto_ice {
                    v.push(PeerEvent::IceState {
                        pc: *pc,
                        state: IceState::Connected,
                    });
                }
                v
            }
            _ => Vec::new(),
        }
    }
}

/// Wires a machine, the fake server and the fake browser together in virtual time.
pub struct Harness {
    pub m: SessionMachine,
    pub server: FakeServer,
    pub peer: FakePeer,
    pub now: u64,
    /// The client's socket is connected to the server.
    pub connected: bool,
    /// Frames in both directions are silently lost (a dead network that does not close).
    pub blackhole: bool,
    /// The network refuses new sockets.
    pub offline: bool,
    /// Server-to-client frames are lost (but the server believes it sent them).
    pub lose_downlink: bool,
    /// Server-to-client event frames are lost; responses still arrive.
    pub drop_events: bool,
    pub inbox: VecDeque<Input>,
    /// Every output, in order, with the time it was polled.
    pub log: Vec<(u64, Output)>,
    next_handle: u64,
}

impl Harness {
    pub fn new(server: FakeServer) -> Self {
        let mut cfg = Config::new("wss://fake/ovsp", token("alice", 1_000_000_000), 7);
        cfg.capabilities = vec![];
        Self::with_config(server, cfg)
    }

    pub fn with_config(server: FakeServer, cfg: Config) -> Self {
        Harness {
            m: SessionMachine::new(cfg),
            server,
            peer: FakePeer {
                auto_ice: true,
                ..FakePeer::default()
            },
            now: 1000,
            connected: false,
            blackhole: false,
            offline: false,
            lose_downlink: false,
            drop_events: false,
            inbox: VecDeque::new(),
            log: Vec::new(),
            next_handle: 1,
        }
    }

    /// Submits a command; returns its handle.
    pub fn command(&mut self, command: Command) -> RequestHandle {
        let handle = RequestHandle(self.next_handle);
        self.next_handle += 1;
        self.inbox.push_back(Input::Command { handle, command });
        self.run();
        handle
    }

    pub fn input(&mut self, input: Input) {
        self.inbox.push_back(input);
        self.run();
    }

    /// Delivers server outputs to the client.
    pub fn deliver(&mut self, outs: Vec<ServerOut>) {
        for o in outs {
            if !self.connected || self.blackhole || self.lose_downlink {
                continue;
            }
            match o {
                ServerOut::Frame(f) => self.downlink(f),
                ServerOut::Close(code) => {
                    self.connected = false;
                    self.server.on_close();
                    self.inbox.push_back(Input::SocketClosed {
                        code,
                        reason: String::new(),
                    });
                }
            }
        }
        self.run();
    }

    /// A server frame reaches the client (unless `drop_events` loses it).
    fn downlink(&mut self, f: String) {
        if self.drop_events && matches!(ServerFrame::decode(&f), Ok(ServerFrame::Event(_))) {
            return;
        }
        self.inbox.push_back(Input::frame(&f));
    }

    /// Runs inputs and outputs until both are quiet.
    pub fn run(&mut self) {
        loop {
            while let Some(out) = self.m.poll_output() {
                self.log.push((self.now, out.clone()));
                self.perform(out);
            }
            match self.inbox.pop_front() {
                Some(i) => self.m.handle_input(self.now, i),
                None => break,
            }
        }
    }

    fn perform(&mut self, out: Output) {
        match out {
            Output::OpenSocket { .. } => {
                // A new socket: what the old one still had queued is dropped, as a driver
                // ignores events of a socket it replaced.
                self.inbox.retain(|i| {
                    !matches!(
                        i,
                        Input::FrameReceived(_) | Input::SocketClosed { .. } | Input::SocketOpened
                    )
                });
                if self.offline {
                    self.inbox.push_back(Input::SocketClosed {
                        code: 1006,
                        reason: "offline".into(),
                    });
                } else {
                    self.connected = true;
                    self.server.on_open();
                    self.inbox.push_back(Input::SocketOpened);
                }
            }
            Output::CloseSocket { .. } => {
                if self.connected {
                    self.connected = false;
                    self.server.on_close();
                }
            }
            Output::SendFrame(f) => {
                if self.connected && !self.blackhole {
                    self.server.now = self.now;
                    let outs = self.server.on_frame(&f.to_string());
                    for o in outs {
                        if !self.connected || self.lose_downlink {
                            continue;
                        }
                        match o {
                            ServerOut::Frame(f) => self.downlink(f),
                            ServerOut::Close(code) => {
                                self.connected = false;
                                self.server.on_close();
                                self.inbox.push_back(Input::SocketClosed {
                                    code,
                                    reason: String::new(),
                                });
                            }
                        }
                    }
                }
            }
            Output::Peer(op) => {
                for ev in self.peer.on_op(&op) {
                    self.inbox.push_back(Input::Peer(ev));
                }
            }
            Output::Event(_) | Output::Completed { .. } => {}
        }
    }

    /// Advances virtual time to `now + ms`, firing every machine timer on the way.
    pub fn advance(&mut self, ms: u64) {
        let target = self.now + ms;
        loop {
            match self.m.poll_timeout() {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    self.server.now = self.now;
                    self.inbox.push_back(Input::Timeout);
                    self.run();
                }
                _ => break,
            }
        }
        self.now = target;
        self.server.now = target;
    }

    /// The network drops the connection (both sides see it closed).
    pub fn cut(&mut self, code: u16) {
        if self.connected {
            self.connected = false;
            self.server.on_close();
            self.inbox.push_back(Input::SocketClosed {
                code,
                reason: String::new(),
            });
            self.run();
        }
    }

    /// Joins and settles; panics if the join did not complete.
    pub fn join(&mut self) -> RequestHandle {
        let h = self.command(Command::Join);
        assert!(self.completion(h).is_some(), "join did not complete");
        h
    }

    pub fn mark(&self) -> usize {
        self.log.len()
    }

    pub fn outputs_since(&self, mark: usize) -> Vec<Output> {
        self.log[mark..].iter().map(|(_, o)| o.clone()).collect()
    }

    pub fn events_since(&self, mark: usize) -> Vec<CoreEvent> {
        self.log[mark..]
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Event(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn event_kinds_since(&self, mark: usize) -> Vec<&'static str> {
        self.events_since(mark)
            .iter()
            .map(CoreEvent::kind)
            .collect()
    }

    pub fn completion(&self, h: RequestHandle) -> Option<Result<Value, CoreError>> {
        self.log.iter().find_map(|(_, o)| match o {
            Output::Completed { handle, result } if *handle == h => {
                Some(result.clone().map(Value::from))
            }
            _ => None,
        })
    }

    pub fn completions_of(&self, h: RequestHandle) -> usize {
        self.log
            .iter()
            .filter(|(_, o)| matches!(o, Output::Completed { handle, .. } if *handle == h))
            .count()
    }

    /// Client requests sent since `mark`: (id, method, params).
    pub fn requests_since(&self, mark: usize) -> Vec<(String, String, Value)> {
        self.log[mark..]
            .iter()
            .filter_map(|(_, o)| match o {
                Output::SendFrame(f) => match ClientFrame::decode_value(f.clone()) {
                    Ok(ClientFrame::Request(r)) => Some((r.id, r.method, r.params.into())),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    pub fn notifications_since(&self, mark: usize) -> Vec<(String, Value)> {
        self.log[mark..]
            .iter()
            .filter_map(|(_, o)| match o {
                Output::SendFrame(f) => match ClientFrame::decode_value(f.clone()) {
                    Ok(ClientFrame::Notification(n)) => Some((n.method, n.params.into())),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    pub fn methods_since(&self, mark: usize) -> Vec<String> {
        self.requests_since(mark)
            .into_iter()
            .map(|(_, m, _)| m)
            .collect()
    }

    pub fn peer_ops_since(&self, mark: usize) -> Vec<PeerOp> {
        self.log[mark..]
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Peer(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }
}
