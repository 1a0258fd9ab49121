//! Signaling sessions.
//!
//! A socket task reads the first frame (`session.connect`, within the deadline), authenticates,
//! and then either creates a session actor or re-attaches to an existing one (resume). From then
//! on it only forwards frames. The session actor outlives its socket for the resume window and
//! owns everything per-session: the durable `seq`, the replay buffer, the response cache, the
//! rate limiter and the request queue (requests are executed strictly one after another).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use ovsp::codes::{CloseCode, Code};
use ovsp::envelope::{ClientFrame, RpcError};
use ovsp::model::{MediaAllowed, Role};
use ovsp::token::OvspGrant;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info};

use crate::auth::TokenError;
use crate::http::AppState;
use crate::hub::{HubCmd, HubHandle};
use crate::room::{JoinRequest, RoomCmd, RoomHandle, RoomInit};
use crate::util::{new_id, new_resume_token, now_ms, RateLimiter};
use crate::wire::{err, error_frame, ok_frame, params, EventMsg};

/// What a socket writer sends.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// A text frame; shared with the replay buffer without copying.
    Text(Utf8Bytes),
    Close(u16, String),
}

impl Outbound {
    fn text(s: String) -> Self {
        Outbound::Text(Utf8Bytes::from(s))
    }
}

/// The sending side of one socket: frames queue here for its writer task. It counts the
/// queued bytes, and can make the writer drop its queue and close at once (a peer too slow to
/// keep up is disconnected and resumes; its events are in the replay buffer).
#[derive(Clone)]
pub(crate) struct OutTx {
    tx: mpsc::UnboundedSender<Outbound>,
    queued: Arc<AtomicUsize>,
    abort: Arc<std::sync::atomic::AtomicBool>,
}

impl OutTx {
    fn send(&self, o: Outbound) -> Result<(), ()> {
        if let Outbound::Text(t) = &o {
            self.queued.fetch_add(t.len(), Ordering::Relaxed);
        }
        self.tx.send(o).map_err(|_| ())
    }

    /// Bytes queued and not yet written.
    fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Skips everything queued and closes with `code`.
    fn abort(&self, code: CloseCode, reason: &str) {
        self.abort.store(true, Ordering::Relaxed);
        let _ = self.tx.send(Outbound::Close(code.0, reason.into()));
    }
}

/// The validated grants of a session's current token.
#[derive(Debug, Clone)]
pub(crate) struct Grants {
    pub identity: String,
    pub grant: OvspGrant,
    pub expires_at_ms: u64,
}

impl Grants {
    pub fn role(&self) -> Role {
        self.grant.role
    }

    pub fn media_allowed(&self) -> MediaAllowed {
        self.grant.effective_media_allowed()
    }
}

/// Checks a JWT and extracts the grants.
pub(crate) fn validate_token(state: &AppState, token: &str) -> Result<Grants, TokenError> {
    let now_s = now_ms() / 1000;
    let payload = state.config.keys.verify(token, now_s)?;
    let identity = payload
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let exp = payload.get("exp").and_then(Value::as_u64).unwrap_or(0);
    let grant_value = payload
        .get("ovsp")
        .cloned()
        .ok_or(TokenError::Grants("missing ovsp claim"))?;
    let grant: OvspGrant = serde_json::from_value(grant_value)
        .map_err(|_| TokenError::Grants("invalid ovsp claim"))?;
    let room_ok = !grant.room.is_empty()
        && grant.room.len() <= ovsp::limits::MAX_ID_LEN
        && !grant.room.chars().any(char::is_control);
    if !room_ok {
        return Err(TokenError::Grants("invalid room"));
    }
    if identity.len() > ovsp::limits::MAX_ID_LEN || identity.chars().any(char::is_control) {
        return Err(TokenError::UnknownIssuer("invalid sub"));
    }
    if grant.role == Role::Unknown {
        return Err(TokenError::Grants("unknown role"));
    }
    let too_big = |m: &Option<ovsp::model::Meta>| {
        m.as_ref().is_some_and(|m| {
            serde_json::to_string(m).map_or(true, |s| s.len() > ovsp::limits::MAX_META_BYTES)
        })
    };
    if too_big(&grant.meta) || too_big(&grant.room_meta) {
        return Err(TokenError::Grants("meta exceeds 16 KiB"));
    }
    Ok(Grants {
        identity,
        grant,
        expires_at_ms: exp.saturating_mul(1000),
    })
}

/// Messages from a room to a session (events, replies, forced close), all on one channel so
/// that their order is the room's order.
pub(crate) enum SessionMsg {
    Event(Arc<EventMsg>),
    Reply {
        id: String,
        outcome: Result<Value, RpcError>,
        effect: Option<Effect>,
    },
    Snapshot(Option<Value>),
    Close(CloseInfo),
    /// The member's media session was created: its event stream.
    MediaEvents(crate::media::SessionEvents),
}

/// Side effects a room reports with a reply.
pub(crate) enum Effect {
    Joined { room: RoomHandle, member_id: String },
    Left,
}

/// Why and how a room ends a session.
#[derive(Debug, Clone)]
pub(crate) struct CloseInfo {
    pub reason: &'static str,
    pub code: Code,
    pub message: String,
    pub action: &'static str,
    pub close_code: CloseCode,
    pub by: Option<String>,
}

/// Control messages for the session actor.
pub(crate) enum Ctl {
    Attach {
        out: OutTx,
        req_id: String,
        resume_token: String,
        last_seq: u64,
        reply: oneshot::Sender<Result<u64, RpcError>>,
    },
    SocketClosed {
        gen: u64,
    },
    SocketTimeout {
        gen: u64,
    },
    Shutdown,
}

/// A frame forwarded by a socket reader.
pub(crate) struct Inbound {
    gen: u64,
    text: Result<String, ()>,
}

/// Cloneable handle to a session actor.
#[derive(Clone)]
pub(crate) struct SessionHandle {
    ctl: mpsc::UnboundedSender<Ctl>,
    frames: mpsc::UnboundedSender<Inbound>,
}

impl SessionHandle {
    /// Ends the session with `session.closing{server_shutdown, action: resume}` and close 4012.
    pub(crate) fn shutdown(&self) {
        let _ = self.ctl.send(Ctl::Shutdown);
    }
}

const ID_PREFIX_SESSION: &str = "ses_";

fn server_capabilities(state: &AppState) -> Vec<&'static str> {
    let mut caps = vec![ovsp::capabilities::LAYOUTS];
    if state.media.is_some() {
        caps.push(ovsp::capabilities::DATA_TRACKS);
    }
    if state.config.dev {
        // Failure scenarios for conformance tests; never offered outside dev mode.
        caps.push(ovsp::capabilities::DEBUG_SIMULATE);
    }
    caps
}

fn timers(state: &AppState) -> Value {
    json!({
        "ping_interval_ms": ovsp::limits::PING_INTERVAL_MS,
        "ping_timeout_ms": state.config.ping_timeout.as_millis() as u64,
        "resume_window_ms": state.config.resume_window.as_millis() as u64,
        "request_timeout_ms": ovsp::limits::REQUEST_TIMEOUT_MS,
    })
}

/// Runs one WebSocket until it closes.
pub(crate) async fn run_socket(state: AppState, socket: WebSocket, subprotocol_ok: bool) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut out_rx) = mpsc::unbounded_channel::<Outbound>();
    let out_tx = OutTx {
        tx,
        queued: Arc::new(AtomicUsize::new(0)),
        abort: Arc::new(std::sync::atomic::AtomicBool::new(false)),
    };
    let (queued, abort) = (out_tx.queued.clone(), out_tx.abort.clone());
    // When the writer last completed a send: a peer that keeps taking our frames is alive even
    // if its own frames are stuck behind ours (a busy socket may not be read meanwhile).
    let last_write = Arc::new(AtomicU64::new(now_ms()));
    let writer_progress = last_write.clone();
    tokio::spawn(async move {
        while let Some(o) = out_rx.recv().await {
            match o {
                Outbound::Text(t) => {
                    let len = t.len();
                    if abort.load(Ordering::Relaxed) {
                        queued.fetch_sub(len, Ordering::Relaxed);
                        continue;
                    }
                    if sink.send(Message::Text(t)).await.is_err() {
                        break;
                    }
                    queued.fetch_sub(len, Ordering::Relaxed);
                    writer_progress.store(now_ms(), Ordering::Relaxed);
                }
                Outbound::Close(code, reason) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        })))
                        .await;
                    break;
                }
            }
        }
        let _ = sink.close().await;
    });

    if !subprotocol_ok {
        let mut e = err(
            Code::PROTOCOL_VERSION_UNSUPPORTED,
            "no supported subprotocol offered",
        );
        e.data.get_or_insert_with(Default::default).supported =
            Some(vec![ovsp::SUBPROTOCOL.to_string()]);
        let _ = out_tx.send(Outbound::text(error_frame(None, e)));
        let _ = out_tx.send(Outbound::Close(
            CloseCode::UNSUPPORTED_VERSION.0,
            "unsupported version".into(),
        ));
        return;
    }

    // Phase 1: wait for a successful session.connect.
    let deadline = tokio::time::Instant::now() + state.config.first_frame_timeout;
    let (session, gen) = loop {
        let msg = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => {
                let _ = out_tx.send(Outbound::text(error_frame(
                    None,
                    err(
                        Code::NOT_CONNECTED,
                        "no session.connect within the deadline",
                    ),
                )));
                let _ = out_tx.send(Outbound::Close(
                    CloseCode::TIMEOUT.0,
                    "connect timeout".into(),
                ));
                return;
            }
            Ok(None) | Ok(Some(Err(_))) => return,
            Ok(Some(Ok(m))) => m,
        };
        let text = match msg {
            Message::Text(t) => t.to_string(),
            Message::Binary(_) => String::new(),
            Message::Close(_) => return,
            _ => continue,
        };
        match connect(&state, &text, &out_tx).await {
            ConnectOutcome::Connected(handle, gen) => break (handle, gen),
            ConnectOutcome::Retry => continue,
            ConnectOutcome::Closed => return,
        }
    };

    // Phase 2: forward frames to the session actor.
    let ping_timeout = state.config.ping_timeout;
    loop {
        match tokio::time::timeout(ping_timeout, stream.next()).await {
            Err(_) => {
                let since_write = now_ms().saturating_sub(last_write.load(Ordering::Relaxed));
                if since_write < ping_timeout.as_millis() as u64 {
                    continue;
                }
                info!("no inbound frame within the ping timeout");
                let _ = session.ctl.send(Ctl::SocketTimeout { gen });
                break;
            }
            Ok(Some(Err(e))) => {
                info!(error = %e, "socket error");
                let _ = session.ctl.send(Ctl::SocketClosed { gen });
                break;
            }
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                let _ = session.ctl.send(Ctl::SocketClosed { gen });
                break;
            }
            Ok(Some(Ok(Message::Text(t)))) => {
                let ok = session
                    .frames
                    .send(Inbound {
                        gen,
                        text: Ok(t.to_string()),
                    })
                    .is_ok();
                if !ok {
                    break;
                }
            }
            Ok(Some(Ok(Message::Binary(_)))) => {
                if session.frames.send(Inbound { gen, text: Err(()) }).is_err() {
                    break;
                }
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

enum ConnectOutcome {
    Connected(SessionHandle, u64),
    Retry,
    Closed,
}

fn send_close(out: &OutTx, frame: String, close: CloseCode, reason: &str) -> ConnectOutcome {
    let _ = out.send(Outbound::text(frame));
    let _ = out.send(Outbound::Close(close.0, reason.into()));
    ConnectOutcome::Closed
}

async fn connect(state: &AppState, text: &str, out: &OutTx) -> ConnectOutcome {
    if text.len() > ovsp::limits::MAX_FRAME_BYTES {
        return send_close(
            out,
            error_frame(None, err(Code::MESSAGE_TOO_LARGE, "frame too large")),
            CloseCode::PROTOCOL_VIOLATION,
            "frame too large",
        );
    }
    let req = match ClientFrame::decode(text) {
        Ok(ClientFrame::Request(r)) if r.method == "session.connect" => r,
        Ok(ClientFrame::Request(r)) => {
            return send_close(
                out,
                error_frame(
                    Some(r.id),
                    err(
                        Code::NOT_CONNECTED,
                        "the first message must be session.connect",
                    ),
                ),
                CloseCode::PROTOCOL_VIOLATION,
                "not connected",
            )
        }
        Ok(ClientFrame::Notification(_)) => {
            return send_close(
                out,
                error_frame(
                    None,
                    err(
                        Code::NOT_CONNECTED,
                        "the first message must be session.connect",
                    ),
                ),
                CloseCode::PROTOCOL_VIOLATION,
                "not connected",
            )
        }
        Err(e) => {
            return send_close(
                out,
                error_frame(e.id.clone(), err(e.code, e.message.clone())),
                CloseCode::PROTOCOL_VIOLATION,
                "not connected",
            )
        }
    };
    let p: ovsp::methods::SessionConnectParams = match params(&Value::from(req.params.clone())) {
        Ok(p) => p,
        Err(e) => {
            return send_close(
                out,
                error_frame(Some(req.id), e),
                CloseCode::PROTOCOL_VIOLATION,
                "invalid params",
            )
        }
    };
    if p.protocol.major != ovsp::PROTOCOL_MAJOR {
        let mut e = err(
            Code::PROTOCOL_VERSION_UNSUPPORTED,
            "protocol major version not supported",
        );
        e.data.get_or_insert_with(Default::default).supported =
            Some(vec![ovsp::SUBPROTOCOL.to_string()]);
        return send_close(
            out,
            error_frame(Some(req.id), e),
            CloseCode::UNSUPPORTED_VERSION,
            "unsupported version",
        );
    }
    let minor = ovsp::negotiate_minor(p.protocol.minor, ovsp::PROTOCOL_MINOR);

    if let Some(resume) = p.resume {
        let Some(handle) = state.hub.find_session(&resume.session_id).await else {
            let e = err(
                Code::SESSION_UNKNOWN,
                "session unknown or resume window expired",
            )
            .with_action(ovsp::model::SessionAction::Rejoin);
            let _ = out.send(Outbound::text(error_frame(Some(req.id), e)));
            return ConnectOutcome::Retry;
        };
        let (reply, rx) = oneshot::channel();
        let sent = handle
            .ctl
            .send(Ctl::Attach {
                out: out.clone(),
                req_id: req.id.clone(),
                resume_token: resume.resume_token,
                last_seq: resume.last_seq,
                reply,
            })
            .is_ok();
        let outcome = if sent { rx.await.ok() } else { None };
        return match outcome {
            Some(Ok(gen)) => ConnectOutcome::Connected(handle, gen),
            Some(Err(e)) => {
                let _ = out.send(Outbound::text(error_frame(Some(req.id), e)));
                ConnectOutcome::Retry
            }
            None => {
                let e = err(
                    Code::SESSION_UNKNOWN,
                    "session unknown or resume window expired",
                )
                .with_action(ovsp::model::SessionAction::Rejoin);
                let _ = out.send(Outbound::text(error_frame(Some(req.id), e)));
                ConnectOutcome::Retry
            }
        };
    }

    let Some(token) = p.token.filter(|t| !t.is_empty()) else {
        return send_close(
            out,
            error_frame(
                Some(req.id),
                err(Code::TOKEN_INVALID, "token missing")
                    .with_action(ovsp::model::SessionAction::Disconnect),
            ),
            CloseCode::AUTH_FAILED,
            "authentication failed",
        );
    };
    let grants = match validate_token(state, &token) {
        Ok(g) => g,
        Err(e) => {
            info!(code = e.code(), reason = %e.message(), "session.connect refused");
            return send_close(
                out,
                error_frame(
                    Some(req.id),
                    err(Code(e.code()), e.message())
                        .with_action(ovsp::model::SessionAction::Disconnect),
                ),
                CloseCode::AUTH_FAILED,
                "authentication failed",
            );
        }
    };

    let session_id = new_id(ID_PREFIX_SESSION);
    let resume_token = new_resume_token();
    let ours = server_capabilities(state);
    let caps: Vec<&str> = ours
        .iter()
        .copied()
        .filter(|c| p.capabilities.iter().any(|x| x == c))
        .collect();
    let debug_enabled = caps.contains(&ovsp::capabilities::DEBUG_SIMULATE);
    let result = json!({
        "session_id": session_id,
        "resume_token": resume_token,
        "protocol": {"major": ovsp::PROTOCOL_MAJOR, "minor": minor},
        "server": {"version": env!("CARGO_PKG_VERSION")},
        "capabilities": caps,
        "identity": grants.identity,
        "timers": timers(state),
        "ice_servers": [],
        "resumed": false,
        "token_expires_at": grants.expires_at_ms,
    });
    let _ = out.send(Outbound::text(ok_frame(req.id.clone(), result, 0)));
    info!(session = %session_id, identity = %grants.identity, room = %grants.grant.room, "session connected");

    let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
    let (frames_tx, frames_rx) = mpsc::unbounded_channel();
    let (room_tx, room_rx) = mpsc::unbounded_channel();
    let handle = SessionHandle {
        ctl: ctl_tx,
        frames: frames_tx,
    };
    state.hub.send(HubCmd::RegisterSession {
        id: session_id.clone(),
        handle: handle.clone(),
    });
    let mut actor = Session {
        id: session_id,
        state: state.clone(),
        hub: state.hub.clone(),
        grants,
        resume_token,
        out: Some(out.clone()),
        gen: 1,
        seq: 0,
        replay: VecDeque::new(),
        replay_bytes: 0,
        cache: HashMap::new(),
        cache_order: VecDeque::new(),
        limiter: RateLimiter::new(ovsp::limits::RATE_SUSTAINED, ovsp::limits::RATE_BURST),
        room: None,
        member_id: None,
        room_tx,
        detached_at: None,
        ended: false,
        left: false,
        stashed_reply: None,
        media_rx: None,
        pending_sub_offer: None,
        debug_enabled,
        simulate: None,
    };
    // The connect request's id is reserved: reusing it for another request gets 54006.
    actor.cache_insert(req.id, req.params.into(), String::new());
    tokio::spawn(actor.run(ctl_rx, frames_rx, room_rx));
    ConnectOutcome::Connected(handle, 1)
}

struct CacheEntry {
    params: Value,
    frame: String,
}

struct Session {
    id: String,
    state: AppState,
    hub: HubHandle,
    grants: Grants,
    resume_token: String,
    out: Option<OutTx>,
    gen: u64,
    seq: u64,
    replay: VecDeque<(u64, Utf8Bytes)>,
    replay_bytes: usize,
    cache: HashMap<String, CacheEntry>,
    cache_order: VecDeque<(String, Instant)>,
    limiter: RateLimiter,
    room: Option<RoomHandle>,
    member_id: Option<String>,
    room_tx: mpsc::UnboundedSender<SessionMsg>,
    detached_at: Option<tokio::time::Instant>,
    ended: bool,
    left: bool,
    stashed_reply: Option<(String, Result<Value, RpcError>, Option<Effect>)>,
    media_rx: Option<crate::media::SessionEvents>,
    /// The last `sub.offer` not yet answered, with the seq it was sent with (sent again after
    /// a resume when the client had already received it).
    pending_sub_offer: Option<(u32, u64, Arc<EventMsg>)>,
    /// `debug.simulate` was negotiated (dev mode and the client's capability).
    debug_enabled: bool,
    /// A scenario to play once the current response is sent.
    simulate: Option<ovsp::methods::DebugScenario>,
}

impl Session {
    async fn run(
        mut self,
        mut ctl: mpsc::UnboundedReceiver<Ctl>,
        mut frames: mpsc::UnboundedReceiver<Inbound>,
        mut room_rx: mpsc::UnboundedReceiver<SessionMsg>,
    ) {
        while !self.ended {
            let deadline = self
                .detached_at
                .map(|t| t + self.state.config.resume_window);
            tokio::select! {
                biased;
                Some(c) = ctl.recv() => {
                    // Frames the socket delivered before it closed (a `room.leave` sent right
                    // before the close, say) are processed before the socket is detached.
                    if matches!(c, Ctl::SocketClosed { gen } | Ctl::SocketTimeout { gen } if gen == self.gen) {
                        while let Ok(f) = frames.try_recv() {
                            if f.gen == self.gen && self.out.is_some() {
                                self.on_frame(f.text, &mut ctl, &mut room_rx).await;
                            }
                        }
                    }
                    self.on_ctl(c, &mut room_rx).await
                }
                Some(m) = room_rx.recv() => self.on_room_msg(m),
                Some(ev) = recv_media(&mut self.media_rx) => self.on_media(ev),
                Some(f) = frames.recv() => {
                    if f.gen == self.gen && self.out.is_some() {
                        self.on_frame(f.text, &mut ctl, &mut room_rx).await;
                    }
                }
                _ = sleep_until_opt(deadline) => {
                    info!(session = %self.id, "resume window expired");
                    if let Some(room) = &self.room {
                        if let Some(mid) = &self.member_id {
                            room.send(RoomCmd::Leave { member_id: mid.clone(), reason: "timeout" });
                        }
                    }
                    self.ended = true;
                }
            }
        }
        self.hub.send(HubCmd::UnregisterSession {
            id: self.id.clone(),
        });
        debug!(session = %self.id, "session ended");
    }

    fn send_text(&mut self, text: String) {
        self.send_shared(Utf8Bytes::from(text));
    }

    fn send_shared(&mut self, text: Utf8Bytes) {
        let Some(out) = &self.out else { return };
        // Queued frames that are still in the replay buffer cost nothing extra (shared bytes);
        // the rest is what a peer that does not read makes the server hold.
        let only_queued = out.queued().saturating_sub(self.replay_bytes);
        if only_queued > self.state.config.max_queued_bytes {
            info!(session = %self.id, queued = out.queued(), "peer too slow: closing its socket");
            out.abort(CloseCode::TIMEOUT, "too slow");
            self.out = None;
            self.detach();
            return;
        }
        let _ = out.send(Outbound::Text(text));
    }

    fn close_socket(&mut self, code: CloseCode, reason: &str) {
        if let Some(out) = self.out.take() {
            let _ = out.send(Outbound::Close(code.0, reason.into()));
        }
    }

    fn push_event(&mut self, ev: &EventMsg) {
        if ev.durable {
            self.seq += 1;
            let frame = Utf8Bytes::from(ev.frame(Some(self.seq)));
            self.replay_bytes += frame.len();
            self.replay.push_back((self.seq, frame.clone()));
            let cfg = &self.state.config;
            while self.replay.len() > cfg.replay_buffer_events
                && self.replay_bytes > cfg.replay_buffer_bytes
            {
                if let Some((_, f)) = self.replay.pop_front() {
                    self.replay_bytes -= f.len();
                }
            }
            self.send_shared(frame);
        } else if self.out.is_some() {
            self.send_text(ev.frame(None));
        }
    }

    fn ack(&mut self, seq: u64) {
        while self.replay.front().is_some_and(|(s, _)| *s <= seq) {
            if let Some((_, f)) = self.replay.pop_front() {
                self.replay_bytes -= f.len();
            }
        }
    }

    /// Emits `session.closing` (durable) and closes the socket; ends the session.
    fn closing(&mut self, info: &CloseInfo) {
        let mut data = json!({
            "reason": info.reason,
            "error": {"code": info.code, "message": info.message},
            "action": info.action,
        });
        if let Some(by) = &info.by {
            data["by"] = Value::from(by.clone());
        }
        let ev = EventMsg::new("session.closing", &data);
        self.push_event(&ev);
        self.close_socket(info.close_code, info.reason);
    }

    fn on_room_msg(&mut self, m: SessionMsg) {
        match m {
            SessionMsg::Event(ev) => self.push_event(&ev),
            SessionMsg::Close(info) => {
                self.closing(&info);
                self.room = None;
                self.member_id = None;
                self.ended = true;
            }
            SessionMsg::MediaEvents(rx) => self.media_rx = Some(rx),
            // Replies and snapshots only arrive while a request waits for them.
            SessionMsg::Reply { .. } | SessionMsg::Snapshot(_) => {}
        }
    }

    async fn on_ctl(&mut self, c: Ctl, room_rx: &mut mpsc::UnboundedReceiver<SessionMsg>) {
        match c {
            Ctl::SocketClosed { gen } if gen == self.gen => self.detach(),
            Ctl::SocketTimeout { gen } if gen == self.gen => {
                let info = CloseInfo {
                    reason: "timeout",
                    code: Code::SIGNALING_TIMEOUT,
                    message: "no frame within the ping timeout".into(),
                    action: "resume",
                    close_code: CloseCode::TIMEOUT,
                    by: None,
                };
                self.closing(&info);
                self.detach();
            }
            Ctl::SocketClosed { .. } | Ctl::SocketTimeout { .. } => {}
            Ctl::Shutdown => {
                let info = CloseInfo {
                    reason: "server_shutdown",
                    code: Code::SERVER_DRAINING,
                    message: "the server is shutting down".into(),
                    action: "resume",
                    close_code: CloseCode::SHUTDOWN,
                    by: None,
                };
                self.closing(&info);
                if let (Some(room), Some(mid)) = (&self.room, &self.member_id) {
                    room.send(RoomCmd::Leave {
                        member_id: mid.clone(),
                        reason: "left",
                    });
                }
                self.ended = true;
            }
            Ctl::Attach {
                out,
                req_id,
                resume_token,
                last_seq,
                reply,
            } => {
                if resume_token != self.resume_token {
                    let _ =
                        reply.send(Err(err(Code::RESUME_TOKEN_INVALID, "resume token invalid")
                            .with_action(ovsp::model::SessionAction::Rejoin)));
                    return;
                }
                // Single use: rotate now.
                self.resume_token = new_resume_token();
                if let Some(old) = self.out.take() {
                    let _ = old.send(Outbound::Close(
                        CloseCode::SUPERSEDED.0,
                        "superseded".into(),
                    ));
                }
                self.gen += 1;
                self.out = Some(out);
                let was_detached = self.detached_at.take().is_some();
                self.ack(last_seq.min(self.seq));
                let first_buffered = self.replay.front().map(|(s, _)| *s);
                let gap = last_seq < self.seq && first_buffered.is_none_or(|f| f > last_seq + 1);
                let mut result = json!({
                    "session_id": self.id,
                    "resume_token": self.resume_token,
                    "protocol": {"major": ovsp::PROTOCOL_MAJOR, "minor": ovsp::PROTOCOL_MINOR},
                    "server": {"version": env!("CARGO_PKG_VERSION")},
                    "capabilities": server_capabilities(&self.state),
                    "identity": self.grants.identity,
                    "timers": timers(&self.state),
                    "ice_servers": [],
                    "resumed": true,
                    "token_expires_at": self.grants.expires_at_ms,
                });
                if gap {
                    let snap = self.fetch_snapshot(room_rx).await;
                    result["snapshot"] = snap.unwrap_or(Value::Null);
                    self.send_text(ok_frame(req_id, result, self.seq));
                } else {
                    let from = last_seq.min(self.seq) + 1;
                    result["replay"] = json!({"from": from, "to": self.seq});
                    self.send_text(ok_frame(req_id, result, self.seq));
                    let frames: Vec<Utf8Bytes> = self
                        .replay
                        .iter()
                        .filter(|(s, _)| *s >= from)
                        .map(|(_, f)| f.clone())
                        .collect();
                    for f in frames {
                        self.send_shared(f);
                    }
                }
                if let Some((id, sent_seq, offer)) = self.pending_sub_offer.clone() {
                    // S6: an unanswered sub.offer the client already had is sent again (same
                    // offer_id); one inside the replayed range has just been replayed.
                    if sent_seq <= last_seq || gap {
                        self.push_event(&offer);
                        self.pending_sub_offer = Some((id, self.seq, offer));
                    }
                }
                info!(session = %self.id, last_seq, seq = self.seq, gap, "session resumed");
                let _ = reply.send(Ok(self.gen));
                if was_detached {
                    if let (Some(room), Some(mid)) = (&self.room, &self.member_id) {
                        room.send(RoomCmd::Presence {
                            member_id: mid.clone(),
                            connected: true,
                        });
                    }
                }
            }
        }
    }

    fn detach(&mut self) {
        if self.out.take().is_some() || self.detached_at.is_none() {
            self.detached_at = Some(tokio::time::Instant::now());
            info!(session = %self.id, "socket lost; holding session for resume");
            if let (Some(room), Some(mid)) = (&self.room, &self.member_id) {
                room.send(RoomCmd::Presence {
                    member_id: mid.clone(),
                    connected: false,
                });
            }
        }
    }

    async fn fetch_snapshot(
        &mut self,
        room_rx: &mut mpsc::UnboundedReceiver<SessionMsg>,
    ) -> Option<Value> {
        let (room, mid) = (self.room.clone()?, self.member_id.clone()?);
        room.send(RoomCmd::Snapshot { member_id: mid });
        // Events that arrive before the snapshot are older than it: they are counted in seq
        // but not sent, since the snapshot supersedes them.
        loop {
            match room_rx.recv().await? {
                SessionMsg::Snapshot(s) => {
                    let mut s = s?;
                    s["seq"] = Value::from(self.seq);
                    return Some(s);
                }
                SessionMsg::Event(ev) => {
                    if ev.durable {
                        self.seq += 1;
                    }
                }
                SessionMsg::Close(info) => {
                    self.closing(&info);
                    self.ended = true;
                    return None;
                }
                SessionMsg::Reply {
                    id,
                    outcome,
                    effect,
                } => {
                    self.stashed_reply = Some((id, outcome, effect));
                }
                SessionMsg::MediaEvents(rx) => self.media_rx = Some(rx),
            }
        }
    }

    fn cache_insert(&mut self, id: String, params: Value, frame: String) {
        let now = Instant::now();
        self.cache_order.push_back((id.clone(), now));
        self.cache.insert(id, CacheEntry { params, frame });
        let window = self.state.config.resume_window;
        while self.cache_order.len() > ovsp::limits::RESPONSE_CACHE
            && self
                .cache_order
                .front()
                .is_some_and(|(_, t)| now.duration_since(*t) > window)
        {
            if let Some((old, _)) = self.cache_order.pop_front() {
                self.cache.remove(&old);
            }
        }
    }

    async fn on_frame(
        &mut self,
        text: Result<String, ()>,
        ctl: &mut mpsc::UnboundedReceiver<Ctl>,
        room_rx: &mut mpsc::UnboundedReceiver<SessionMsg>,
    ) {
        let Ok(text) = text else {
            self.send_text(error_frame(
                None,
                err(
                    Code::PARSE_ERROR,
                    "binary frames are not used on the signaling socket",
                ),
            ));
            return;
        };
        if text.len() > ovsp::limits::MAX_FRAME_BYTES {
            self.send_text(error_frame(
                None,
                err(Code::MESSAGE_TOO_LARGE, "frame exceeds 256 KiB"),
            ));
            return;
        }
        let frame = match ClientFrame::decode(&text) {
            Ok(f) => f,
            Err(e) => {
                self.send_text(error_frame(e.id.clone(), err(e.code, e.message.clone())));
                return;
            }
        };
        let req = match frame {
            ClientFrame::Notification(n) => {
                self.on_notification(n);
                return;
            }
            ClientFrame::Request(r) => r,
        };
        if let Some(entry) = self.cache.get(&req.id) {
            if entry.params == req.params && !entry.frame.is_empty() {
                let f = entry.frame.clone();
                self.send_text(f);
            } else {
                self.send_text(error_frame(
                    Some(req.id),
                    err(
                        Code::REQUEST_ID_REUSED,
                        "request id reused with different params",
                    ),
                ));
            }
            return;
        }
        if let Err(wait_ms) = self.limiter.take(Instant::now()) {
            let mut e = err(Code::RATE_LIMITED, "rate limited");
            let d = e.data.get_or_insert_with(Default::default);
            d.retry_after_ms = Some(wait_ms);
            d.retryable = Some(true);
            self.send_text(error_frame(Some(req.id), e));
            return;
        }
        // The server handles params as serde_json values.
        let req_params = Value::from(req.params);
        debug!(session = %self.id, method = %req.method, id = %req.id,
            params = %crate::auth::redact(&req_params), "request");
        let outcome = self
            .execute(&req.method, &req_params, &req.id, ctl, room_rx)
            .await;
        if req.method == "sub.answer" && outcome.is_ok() {
            let answered = req_params.get("offer_id").and_then(Value::as_u64);
            if self.pending_sub_offer.as_ref().map(|p| u64::from(p.0)) == answered {
                self.pending_sub_offer = None;
            }
        }
        let frame = match outcome {
            Ok(v) => ok_frame(req.id.clone(), v, self.seq),
            Err(e) => error_frame(Some(req.id.clone()), e),
        };
        self.cache_insert(req.id, req_params, frame.clone());
        self.send_text(frame);
        if let Some(scenario) = self.simulate.take() {
            self.play(scenario);
        }
        if self.left {
            self.close_socket(CloseCode::NORMAL, "left");
            self.ended = true;
        }
    }

    async fn execute(
        &mut self,
        method: &str,
        p: &Value,
        id: &str,
        ctl: &mut mpsc::UnboundedReceiver<Ctl>,
        room_rx: &mut mpsc::UnboundedReceiver<SessionMsg>,
    ) -> Result<Value, RpcError> {
        match method {
            "session.connect" => Err(err(Code::ALREADY_JOINED, "session already connected")),
            "debug.simulate" if self.debug_enabled => {
                let p: ovsp::methods::DebugSimulateParams = params(p)?;
                if p.scenario == ovsp::methods::DebugScenario::Unknown {
                    return Err(crate::wire::bad_params("scenario", "unknown scenario"));
                }
                self.simulate = Some(p.scenario);
                Ok(json!({}))
            }
            "ping" => {
                let p: ovsp::methods::PingParams = params(p)?;
                if let Some(ack) = p.ack {
                    self.ack(ack);
                }
                Ok(json!({"ts": p.ts, "server_ts": now_ms()}))
            }
            "session.update_token" => {
                let p: ovsp::methods::SessionUpdateTokenParams = params(p)?;
                let grants = validate_token(&self.state, &p.token)
                    .map_err(|e| err(Code(e.code()), e.message()))?;
                if grants.identity != self.grants.identity
                    || grants.grant.room != self.grants.grant.room
                {
                    return Err(err(
                        Code::TOKEN_MISMATCH,
                        "the new token names another identity or room",
                    ));
                }
                self.grants = grants.clone();
                match (&self.room, &self.member_id) {
                    (Some(room), Some(mid)) => {
                        room.send(RoomCmd::UpdateGrants {
                            member_id: mid.clone(),
                            req_id: id.to_string(),
                            grants: Box::new(grants),
                        });
                        self.wait_reply(id, ctl, room_rx).await
                    }
                    _ => Ok(json!({
                        "expires_at": grants.expires_at_ms,
                        "role": grants.role(),
                        "permissions": grants.grant.permissions,
                        "media_allowed": grants.media_allowed(),
                    })),
                }
            }
            "room.join" => {
                if self.room.is_some() {
                    return Err(err(Code::ALREADY_JOINED, "already joined"));
                }
                let _: ovsp::methods::RoomJoinParams = params(p)?;
                let init = RoomInit::from_grants(&self.grants);
                self.hub.send(HubCmd::Join {
                    init,
                    join: Box::new(JoinRequest {
                        session_id: self.id.clone(),
                        grants: self.grants.clone(),
                        params: p.clone(),
                        tx: self.room_tx.clone(),
                        req_id: id.to_string(),
                        room: None,
                    }),
                });
                self.wait_reply(id, ctl, room_rx).await
            }
            _ => {
                let Some(info) = ovsp::methods::method_info(method) else {
                    return Err(err(
                        Code::METHOD_NOT_FOUND,
                        format!("method not found: {method}"),
                    ));
                };
                if info.kind != ovsp::methods::MethodKind::Request
                    || !crate::room::implemented(method)
                {
                    return Err(err(
                        Code::METHOD_NOT_FOUND,
                        format!("method not enabled on this server: {method}"),
                    ));
                }
                let (Some(room), Some(mid)) = (&self.room, &self.member_id) else {
                    return Err(err(Code::NOT_JOINED, "call room.join first"));
                };
                room.send(RoomCmd::Request {
                    member_id: mid.clone(),
                    req_id: id.to_string(),
                    method: method.to_string(),
                    params: p.clone(),
                });
                self.wait_reply(id, ctl, room_rx).await
            }
        }
    }

    /// Waits for the room's reply to request `id`, delivering the events that precede it.
    async fn wait_reply(
        &mut self,
        id: &str,
        ctl: &mut mpsc::UnboundedReceiver<Ctl>,
        room_rx: &mut mpsc::UnboundedReceiver<SessionMsg>,
    ) -> Result<Value, RpcError> {
        loop {
            if let Some((rid, outcome, effect)) = self.stashed_reply.take() {
                if rid == id {
                    self.apply_effect(effect);
                    return outcome;
                }
            }
            tokio::select! {
                biased;
                m = room_rx.recv() => match m {
                    Some(SessionMsg::Reply { id: rid, outcome, effect }) if rid == id => {
                        self.apply_effect(effect);
                        return outcome;
                    }
                    Some(SessionMsg::Close(info)) => {
                        self.on_room_msg(SessionMsg::Close(info));
                        return Err(err(Code::REMOVED, "session closed"));
                    }
                    Some(other) => self.on_room_msg(other),
                    None => return Err(err(Code::INTERNAL_ERROR, "room unavailable")),
                },
                Some(c) = ctl.recv() => self.on_ctl(c, room_rx).await,
            }
        }
    }

    fn apply_effect(&mut self, effect: Option<Effect>) {
        match effect {
            Some(Effect::Joined { room, member_id }) => {
                self.room = Some(room);
                self.member_id = Some(member_id);
            }
            Some(Effect::Left) => {
                self.room = None;
                self.member_id = None;
                self.left = true;
            }
            None => {}
        }
    }

    fn on_media(&mut self, ev: crate::media::MediaEvent) {
        use crate::media::MediaEvent as M;
        // Events the client receives as they are (typed by the protocol crate).
        if let Some(wire) = ev.to_ovsp() {
            if let Some(msg) = EventMsg::from_event(&wire) {
                self.push_event(&msg);
                if let M::SubOffer(o) = &ev {
                    self.pending_sub_offer = Some((o.offer_id, self.seq, msg.clone()));
                }
            }
            if let M::Talking { member_id, .. } = &ev {
                if self.member_id.as_deref() == Some(member_id.as_str()) {
                    self.to_room(ev);
                }
            }
            return;
        }
        match ev {
            M::IceFailed { pc } => {
                info!(session = %self.id, pc = pc.as_str(), "media connection failed");
                if pc == crate::media::PcKind::Pub {
                    self.push_event(&EventMsg::new("pub.ice_restart_requested", &json!({})));
                }
            }
            M::Connected { pc } => debug!(session = %self.id, pc = pc.as_str(), "media connected"),
            other => self.to_room(other),
        }
    }

    /// Plays a `debug.simulate` scenario (after its response has been sent).
    fn play(&mut self, scenario: ovsp::methods::DebugScenario) {
        use ovsp::methods::DebugScenario as S;
        info!(session = %self.id, scenario = scenario.as_str(), "debug.simulate");
        let closing = |reason: &'static str, action: &'static str| CloseInfo {
            reason,
            code: Code::SERVER_DRAINING,
            message: "simulated".into(),
            action,
            close_code: CloseCode::SHUTDOWN,
            by: None,
        };
        match scenario {
            S::DropSignal => {
                self.close_socket(CloseCode::TIMEOUT, "simulated signal loss");
                self.detach();
            }
            S::ResumeGap => {
                self.replay.clear();
                self.replay_bytes = 0;
                self.close_socket(CloseCode::TIMEOUT, "simulated signal loss");
                self.detach();
            }
            S::SessionUnknown => {
                self.leave_room("timeout");
                self.close_socket(CloseCode::TIMEOUT, "simulated signal loss");
                self.ended = true;
            }
            S::ServerLeaveResume => {
                self.closing(&closing("migrate", "resume"));
                self.detach();
            }
            S::ServerLeaveRejoin => {
                self.closing(&closing("server_shutdown", "rejoin"));
                self.leave_room("left");
                self.ended = true;
            }
            S::IceFailPub => {
                self.push_event(&EventMsg::new("pub.ice_restart_requested", &json!({})))
            }
            S::IceFailSub => {
                if let (Some(room), Some(mid)) = (&self.room, &self.member_id) {
                    room.send(RoomCmd::Request {
                        member_id: mid.clone(),
                        req_id: String::new(),
                        method: "sub.ice_restart".into(),
                        params: json!({}),
                    });
                }
            }
            S::Speaker => {
                if let Some(mid) = self.member_id.clone() {
                    self.push_event(&EventMsg::new(
                        "member.talking",
                        &json!({"member_id": mid, "talking": true}),
                    ));
                }
            }
            S::Unknown => {}
        }
    }

    fn leave_room(&mut self, reason: &'static str) {
        if let (Some(room), Some(mid)) = (self.room.take(), self.member_id.take()) {
            room.send(RoomCmd::Leave {
                member_id: mid,
                reason,
            });
        }
    }

    fn to_room(&self, event: crate::media::MediaEvent) {
        if let (Some(room), Some(mid)) = (&self.room, &self.member_id) {
            room.send(RoomCmd::Media {
                member_id: mid.clone(),
                event,
            });
        }
    }

    fn on_notification(&mut self, n: ovsp::envelope::Notification) {
        match n.method.as_str() {
            "session.ack" => {
                if let Some(seq) = n.params.get("seq").and_then(ovsp::json::Value::as_u64) {
                    self.ack(seq);
                }
            }
            "ice.candidate" => {
                if let (Some(room), Some(mid)) = (&self.room, &self.member_id) {
                    room.send(RoomCmd::Notify {
                        member_id: mid.clone(),
                        method: n.method,
                        params: n.params.into(),
                    });
                }
            }
            // stats.report and unknown notifications are accepted and ignored.
            _ => {}
        }
    }
}

async fn recv_media(
    rx: &mut Option<crate::media::SessionEvents>,
) -> Option<crate::media::MediaEvent> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(t: Option<tokio::time::Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
