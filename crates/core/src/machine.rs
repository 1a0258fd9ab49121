//! The session machine: signaling session, resume/rejoin, negotiation orchestration.

use crate::prelude::*;
use alloc::collections::VecDeque;
use core::mem::take;

use ovsp::codes::{CloseAction, CloseCode, Code};
use ovsp::envelope::{EventEnvelope, RpcError, ServerFrame};
use ovsp::events::Event;
use ovsp::json::ToWire;
use ovsp::json::{Map, Value};
use ovsp::methods::{IceServer, PubOfferResult, SessionConnectResult, SubSetting, SubTarget};
use ovsp::model::{ClosingReason, PcKind, Role, SessionAction, Snapshot, SubMid, Track, TrackKind};

use crate::backoff::{Backoff, SplitMix64};
use crate::error::{MediaError, MisuseError, SignalingError};
use crate::event::{ConnectionState, CoreEvent};
use crate::io::{IceCandidate, IceState, MediaChange, MediaRef, PeerOpKind, SdpType};
use crate::map::VecMap;
use crate::store::{self, Action, LocalTrack, State};
use crate::{Command, Config, CoreError, Input, Output, PeerEvent, PeerOp, RequestHandle};

/// Most early events or queued notifications kept while the session is not ready.
const MAX_QUEUED: usize = 4096;

/// Why a request was sent; decides what its response does. Plain data: what a response
/// needs beyond this (a track's cid, a new token, removed targets, access-list entries) is
/// read back from the request's own params.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Purpose {
    Connect,
    Join,
    Ping {
        sent_at: u64,
    },
    Leave,
    /// `track.publish` of the local track in `params.cid`.
    Publish,
    PubOffer {
        offer_id: u32,
    },
    SubAnswer,
    SubIceRestart,
    /// `pub.reset`: the next pub offer waits for its answer.
    PubReset,
    /// A request whose answer needs no handling.
    Internal,
    Restore,
    User {
        handle: RequestHandle,
        kind: UserKind,
    },
}

/// What the answer to an application's request also does (from its params).
#[derive(Debug, Clone, Copy, PartialEq)]
enum UserKind {
    Plain,
    /// Keep `params.token` for later connects.
    UpdateToken,
    /// Apply the subscriptions, dropping those of `params.remove`.
    Subscriptions,
    /// Apply `params.upsert` and `params.remove` to the access list.
    AclUpdate,
    RoomGet,
}

#[derive(Debug, Clone)]
struct Pending {
    /// The encoded request (resent as is, with the same id).
    frame: Value,
    purpose: Purpose,
    /// Sent on the current socket.
    sent: bool,
    deadline: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Down,
    Opening,
    Handshaking,
    Up,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    New,
    Connecting,
    Joined,
    Leaving,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecoveryKind {
    Resume,
    Rejoin,
}

#[derive(Debug, Clone)]
struct Recovery {
    since: u64,
    kind: RecoveryKind,
    next_at: Option<u64>,
    /// The rejoin preparation (closing PCs, forgetting the session) is done.
    prepared: bool,
}

#[derive(Debug, Clone, Default)]
struct Pc {
    ice: Option<IceState>,
    remote_set: bool,
    buffered: Vec<Option<IceCandidate>>,
    failed_at: Option<u64>,
    disconnected_at: Option<u64>,
}

/// Where a PeerConnection's local description stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Stage {
    #[default]
    Idle,
    /// `createOffer` (pub) or `createAnswer` (sub) was asked for.
    Creating,
    /// `setLocalDescription` was asked for, with [`Neg::sdp`].
    SettingLocal,
    /// (pub) The offer [`Neg::offer_id`] was sent; its answer is awaited.
    Awaiting,
}

/// One PeerConnection's offer/answer exchange: the same steps for both PCs.
#[derive(Debug, Clone, Default)]
struct Neg {
    stage: Stage,
    /// pub: the offer awaiting its answer; sub: the server's offer being answered.
    offer_id: u32,
    /// The local description being set.
    sdp: String,
    /// (pub) The offer being made restarts ICE.
    restart: bool,
    /// (pub) The cids whose mids the awaited offer carries.
    cids: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct PubNeg {
    neg: Neg,
    needs_offer: bool,
    ice_restart: bool,
    next_offer_id: u32,
    retry_at: Option<u64>,
    /// The pub PC was rebuilt and no offer has succeeded since: a failure is not answered
    /// with another rebuild.
    reset_tried: bool,
    /// `ResetPublisher` commands waiting for the first answered offer after the rebuild.
    reset_waiters: Vec<RequestHandle>,
}

impl PubNeg {
    /// The state of a new pub PC's negotiation (offer ids start at 1).
    #[inline(never)]
    fn fresh() -> Self {
        PubNeg {
            next_offer_id: 1,
            ..PubNeg::default()
        }
    }
}

#[derive(Debug, Clone, Default)]
struct SubNeg {
    neg: Neg,
    last_answered: Option<u32>,
}

/// The sans-IO session machine. See the crate docs for the inputs/outputs contract and the
/// drain rule.
#[derive(Debug)]
pub struct SessionMachine {
    config: Config,
    state: State,
    out: VecDeque<Output>,
    now: u64,
    backoff: Backoff,
    next_id: u64,
    pending: VecMap<u64, Pending>,
    /// Notification frames waiting for the session to be ready.
    notifications: Vec<Value>,
    phase: Phase,
    link: Link,
    link_deadline: Option<u64>,
    session_id: Option<String>,
    resume_token: Option<String>,
    /// The current session's snapshot has been applied.
    session_joined: bool,
    ever_joined: bool,
    ice_servers: Vec<IceServer>,
    last_inbound: u64,
    next_ping_at: Option<u64>,
    rtt_ms: Option<u64>,
    last_seq: u64,
    acked_seq: u64,
    unacked: u64,
    ack_deadline: Option<u64>,
    /// After a resume: the last seq of the announced replay; `reconnected` waits for it.
    replay_to: Option<u64>,
    /// When to stop waiting for the rest of the replay (it never came).
    replay_deadline: Option<u64>,
    early_events: Vec<EventEnvelope>,
    join_handle: Option<RequestHandle>,
    leave_handle: Option<RequestHandle>,
    /// Commands that arrived while joining (run once joined), and their handles.
    deferred: Vec<Command>,
    deferred_handles: Vec<RequestHandle>,
    recovery: Option<Recovery>,
    rejoin_attempts: u32,
    violation_rejoin_done: bool,
    retry_after_ms: Option<u64>,
    pub_pc: Option<Pc>,
    sub_pc: Option<Pc>,
    pub_neg: PubNeg,
    sub_neg: SubNeg,
    sub_mids: VecMap<String, SubMid>,
    local_order: Vec<String>,
    publish_waiters: VecMap<String, (RequestHandle, Option<Value>)>,
    /// Explicit subscriptions and unsubscriptions (wire form of [`SubTarget`]s), re-applied
    /// after a full rejoin.
    explicit_subs: Vec<Value>,
    explicit_unsubs: Vec<Value>,
    sub_settings: VecMap<String, SubSetting>,
    /// The last frame seq seen per data handle (`u64` keys: the search code of `pending`).
    data_seen: VecMap<u64, u32>,
    /// cid -> (data handle, reliable, last frame seq) of our published data tracks.
    data_out: VecMap<String, (u16, bool, u32)>,
}

/// A JSON object from `(key, value)` pairs, taken out of the slice: the one body that builds
/// every request's params (instead of a `json!` expansion at each call site).
#[inline(never)]
fn obj(pairs: &mut [(&str, Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert((*k).to_owned(), v.take());
    }
    Value::Object(m)
}

/// `key` of a request frame's params.
fn param<'a>(frame: &'a Value, key: &str) -> Option<&'a Value> {
    frame.get("params")?.get(key)
}

/// `n` in decimal (a request id), without the formatting machinery.
fn decimal(n: u64) -> String {
    let mut s = String::new();
    ovsp::json::push_u64(&mut s, n);
    s
}

/// Sets `key` of a params object (one body for every request's optional fields).
#[inline(never)]
fn put(m: &mut Map<String, Value>, key: &str, v: Value) {
    m.insert(key.to_owned(), v);
}

/// A JSON string holding a copy of `s`.
#[inline(never)]
fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// Moves each of `targets` into `into` (once) and out of `out_of`: the explicit
/// subscriptions and unsubscriptions re-applied after a full rejoin, in wire form.
#[inline(never)]
fn remember(into: &mut Vec<Value>, out_of: &mut Vec<Value>, targets: &[Value]) {
    for t in targets {
        while let Some(i) = out_of.iter().position(|x| x == t) {
            out_of.remove(i);
        }
        if !into.contains(t) {
            into.push(t.clone());
        }
    }
}

/// Takes `command` out of its place, leaving a `Join` that is dropped, never run: the one
/// placeholder of the fields-taken-not-moved rule (see `on_command`).
fn take_command(command: &mut Command) -> Command {
    core::mem::replace(command, Command::Join)
}

/// The wire form of each of `targets`.
fn wire_targets(targets: &[SubTarget]) -> Vec<Value> {
    let mut v = Vec::new();
    for t in targets {
        v.push(t.to_wire());
    }
    v
}

/// The identities of a `room.acl.update` list: each entry's `key` field (its own string
/// when `key` is empty); entries without one are skipped.
#[inline(never)]
fn acl_ids(list: Option<&Value>, key: &str) -> Vec<String> {
    let mut ids = Vec::new();
    if let Some(list) = list.and_then(Value::as_array) {
        for e in list {
            let e = if key.is_empty() { Some(e) } else { e.get(key) };
            if let Some(s) = e.and_then(Value::as_str) {
                ids.push(s.to_owned());
            }
        }
    }
    ids
}

/// Adds `id` to `gone` unless `subs` still lists a subscription of that track.
#[inline(never)]
fn keep_gone(gone: &mut Vec<String>, id: &str, subs: &[ovsp::model::SubscriptionState]) {
    for s in subs {
        if s.track_id == id {
            return;
        }
    }
    gone.push(id.to_owned());
}

/// `sub.update` params: each non-empty list (`settings` in wire form).
#[inline(never)]
fn sub_update_params(add: Vec<Value>, remove: Vec<Value>, settings: Vec<Value>) -> Value {
    let mut params = Map::new();
    if !add.is_empty() {
        put(&mut params, "add", Value::Array(add));
    }
    if !remove.is_empty() {
        put(&mut params, "remove", Value::Array(remove));
    }
    if !settings.is_empty() {
        put(&mut params, "settings", Value::Array(settings));
    }
    Value::Object(params)
}

/// The frame of request `id`, or of a notification when `id` is 0 (request ids start at 1),
/// written by the protocol crate.
#[inline(never)]
fn client_frame(id: u64, method: &str, params: Value) -> Value {
    ovsp::envelope::frame_value((id != 0).then(|| decimal(id)), method, params)
}

/// Lowers `t` to `x` when `x` is earlier (or `t` is unset).
fn earliest(t: &mut Option<u64>, x: Option<u64>) {
    if let Some(x) = x {
        if t.is_none_or(|c| x < c) {
            *t = Some(x);
        }
    }
}

/// Whether `pc` exists and its ICE has failed.
fn failed(pc: &Option<Pc>) -> bool {
    pc.as_ref().is_some_and(|p| p.failed_at.is_some())
}

/// `{}`.
fn empty() -> Value {
    Value::Object(Map::new())
}

/// A decoded value that did not match its wire type: 53003.
#[inline(never)]
fn invalid_incoming(e: ovsp::json::WireError) -> RpcError {
    RpcError::new(Code::SIGNALING_INCOMING_INVALID, String::from(e))
}

/// `track.mute` params for one track.
fn mute_params(track_id: String, muted: bool) -> Value {
    let track = obj(&mut [("track_id", track_id.into()), ("muted", muted.into())]);
    obj(&mut [("tracks", Value::Array(vec![track]))])
}

fn misuse(e: MisuseError) -> CoreError {
    CoreError::Misuse(e)
}

fn disconnected() -> CoreError {
    CoreError::Signaling(SignalingError::Disconnected)
}

fn error_from_close(code: u16, reason: &str) -> CoreError {
    let c = match CloseCode(code) {
        CloseCode::REMOVED => Code::REMOVED,
        CloseCode::ROOM_ENDED => Code::ROOM_COMPLETED,
        CloseCode::UNSUPPORTED_VERSION => Code::PROTOCOL_VERSION_UNSUPPORTED,
        CloseCode::AUTH_FAILED => Code::TOKEN_INVALID,
        _ => return disconnected(),
    };
    CoreError::server(
        c,
        if reason.is_empty() {
            c.message().to_owned()
        } else {
            reason.to_owned()
        },
    )
}

impl SessionMachine {
    /// A machine in state `new`; nothing happens until [`Command::Join`].
    pub fn new(config: Config) -> Self {
        Self {
            backoff: Backoff::new(SplitMix64::new(config.seed)),
            config,
            state: State::default(),
            out: VecDeque::new(),
            now: 0,
            next_id: 1,
            pending: VecMap::new(),
            notifications: Vec::new(),
            phase: Phase::New,
            link: Link::Down,
            link_deadline: None,
            session_id: None,
            resume_token: None,
            session_joined: false,
            ever_joined: false,
            ice_servers: Vec::new(),
            last_inbound: 0,
            next_ping_at: None,
            rtt_ms: None,
            last_seq: 0,
            acked_seq: 0,
            unacked: 0,
            ack_deadline: None,
            replay_to: None,
            replay_deadline: None,
            early_events: Vec::new(),
            join_handle: None,
            leave_handle: None,
            deferred: Vec::new(),
            deferred_handles: Vec::new(),
            recovery: None,
            rejoin_attempts: 0,
            violation_rejoin_done: false,
            retry_after_ms: None,
            pub_pc: None,
            sub_pc: None,
            pub_neg: PubNeg::fresh(),
            sub_neg: SubNeg::default(),
            sub_mids: VecMap::new(),
            local_order: Vec::new(),
            publish_waiters: VecMap::new(),
            explicit_subs: Vec::new(),
            explicit_unsubs: Vec::new(),
            sub_settings: VecMap::new(),
            data_seen: VecMap::new(),
            data_out: VecMap::new(),
        }
    }

    /// The state store (plain data; clone or serialise it for `getState()`).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The connection state.
    pub fn connection_state(&self) -> &ConnectionState {
        &self.state.connection
    }

    /// The last measured signaling round-trip time (from `ping`), in ms.
    pub fn rtt_ms(&self) -> Option<u64> {
        self.rtt_ms
    }

    /// The highest durable `seq` processed in the current session.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The current session id, once connected.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The token the machine will use for the next fresh connect (updated by
    /// [`Command::UpdateToken`] and `session.token`).
    pub fn token(&self) -> &str {
        &self.config.token
    }

    /// The next output, or `None` when idle. Drain until `None` after every input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The absolute time (ms, same scale as `now_ms`) at which [`Input::Timeout`] must be
    /// fed, or `None` when no timer is needed.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.phase == Phase::Closed || self.phase == Phase::New {
            return None;
        }
        let mut t: Option<u64> = None;
        earliest(&mut t, self.link_deadline);
        if let Some(r) = &self.recovery {
            if self.link == Link::Down {
                earliest(&mut t, r.next_at);
            }
        }
        if self.link == Link::Up {
            earliest(&mut t, self.next_ping_at);
            earliest(
                &mut t,
                Some(
                    self.last_inbound
                        .saturating_add(self.config.timers.ping_timeout_ms),
                ),
            );
            earliest(&mut t, self.ack_deadline);
            earliest(&mut t, self.replay_deadline);
            for p in self.pending.values() {
                earliest(&mut t, p.deadline);
            }
        }
        let timers = &self.config.timers;
        for pc in [&self.pub_pc, &self.sub_pc] {
            let Some(pc) = pc else { continue };
            match pc.failed_at {
                Some(f) => earliest(&mut t, Some(f.saturating_add(timers.ice_failed_rejoin_ms))),
                None => earliest(
                    &mut t,
                    pc.disconnected_at
                        .map(|d| d.saturating_add(timers.ice_disconnected_grace_ms)),
                ),
            }
        }
        earliest(&mut t, self.pub_neg.retry_at);
        t
    }

    /// Feeds one input at time `now_ms`. Drain [`SessionMachine::poll_output`] afterwards.
    pub fn handle_input(&mut self, now_ms: u64, mut input: Input) {
        self.now = self.now.max(now_ms);
        // Fields are taken out of the input, never moved (see `on_command`).
        match &mut input {
            Input::Command { handle, command } => self.on_command(*handle, take_command(command)),
            Input::FrameReceived(frame) => self.on_frame(take(frame)),
            Input::SocketOpened => self.on_socket_opened(),
            Input::SocketClosed { code, reason } => self.on_socket_closed(*code, reason),
            Input::Peer(ev) => self.on_peer(ev),
            Input::Timeout => self.on_timeout(),
        }
    }

    // ------------------------------------------------------------------ outputs

    #[inline(never)]
    fn emit(&mut self, ev: CoreEvent) {
        self.out.push_back(Output::Event(ev));
    }

    fn apply(&mut self, action: Action) {
        for ev in store::reduce(&mut self.state, action) {
            self.emit(ev);
        }
    }

    #[inline(never)]
    fn complete(&mut self, handle: RequestHandle, result: Result<Value, CoreError>) {
        self.out.push_back(Output::Completed { handle, result });
    }

    #[inline(never)]
    fn peer(&mut self, op: PeerOp) {
        self.out.push_back(Output::Peer(op));
    }

    /// Completes `handle` with `{}`.
    #[inline(never)]
    fn done(&mut self, handle: RequestHandle) {
        self.complete(handle, Ok(empty()));
    }

    /// Completes `handle` with a misuse error.
    #[inline(never)]
    fn refuse(&mut self, handle: RequestHandle, e: MisuseError) {
        self.complete(handle, Err(CoreError::Misuse(e)));
    }

    /// Completes `handle` with "no local track `cid`".
    #[inline(never)]
    fn unknown_track(&mut self, handle: RequestHandle, cid: String) {
        self.refuse(handle, MisuseError::UnknownTrack { cid });
    }

    fn close_socket(&mut self, code: u16, reason: &str) {
        if self.link != Link::Down {
            self.out.push_back(Output::CloseSocket {
                code,
                reason: reason.to_owned(),
            });
        }
        self.link_lost();
    }

    /// Forget the socket: requests become unsent, pings are dropped.
    fn link_lost(&mut self) {
        self.link = Link::Down;
        self.link_deadline = None;
        self.next_ping_at = None;
        self.ack_deadline = None;
        self.replay_to = None;
        self.replay_deadline = None;
        self.pending.retain(|_, p| {
            p.sent = false;
            p.deadline = None;
            !matches!(p.purpose, Purpose::Ping { .. })
        });
    }

    fn refresh_connection(&mut self) {
        let new = match self.phase {
            Phase::New => ConnectionState::New,
            Phase::Closed => return,
            Phase::Connecting => ConnectionState::Connecting,
            Phase::Joined | Phase::Leaving => {
                if self.recovery.is_some()
                    || self.link != Link::Up
                    || !self.session_joined
                    || self.replay_to.is_some()
                {
                    ConnectionState::Reconnecting {
                        cause: Code::SIGNALING_DISCONNECTED,
                    }
                } else if failed(&self.pub_pc) || failed(&self.sub_pc) {
                    ConnectionState::Reconnecting {
                        cause: Code::MEDIA_CONNECTION_FAILED,
                    }
                } else {
                    ConnectionState::Connected
                }
            }
        };
        if self.state.connection.same(&new) {
            return;
        }
        let was_reconnecting =
            matches!(self.state.connection, ConnectionState::Reconnecting { .. });
        let follow = match &new {
            ConnectionState::Reconnecting { cause } if !was_reconnecting => {
                Some(CoreEvent::Reconnecting {
                    error: if *cause == Code::MEDIA_CONNECTION_FAILED {
                        CoreError::Media(MediaError::ConnectionFailed)
                    } else {
                        disconnected()
                    },
                })
            }
            ConnectionState::Connected if was_reconnecting => Some(CoreEvent::Reconnected),
            _ => None,
        };
        self.apply(Action::Connection(new));
        if let Some(ev) = follow {
            self.emit(ev);
        }
    }

    // ------------------------------------------------------------------ requests

    fn request(&mut self, method: &str, params: Value, purpose: Purpose) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(
            id,
            Pending {
                frame: client_frame(id, method, params),
                purpose,
                sent: false,
                deadline: None,
            },
        );
        if self.can_send(id) {
            self.send_pending(id);
        }
        id
    }

    /// Whether request `id` may go out now.
    fn can_send(&self, id: u64) -> bool {
        let Some(p) = self.pending.get(&id) else {
            return false;
        };
        match p.purpose {
            Purpose::Connect => matches!(self.link, Link::Handshaking | Link::Up),
            Purpose::Join => matches!(self.link, Link::Handshaking | Link::Up),
            _ => self.link == Link::Up && self.session_joined,
        }
    }

    fn send_pending(&mut self, id: u64) {
        let now = self.now;
        let timeout = self.config.timers.request_timeout_ms;
        let Some(p) = self.pending.get_mut(&id) else {
            return;
        };
        p.sent = true;
        p.deadline = match p.purpose {
            Purpose::Ping { .. } | Purpose::Connect => None,
            _ => Some(now.saturating_add(timeout)),
        };
        let frame = p.frame.clone();
        self.send_frame(frame);
    }

    /// Sends every unsent request that may go out (in id order), then queued notifications.
    fn flush(&mut self) {
        // Unsent requests by increasing id, each looked up after the previous one was sent.
        let mut last = 0;
        while let Some(id) = self
            .pending
            .iter()
            .find(|(id, p)| **id > last && !p.sent)
            .map(|(id, _)| *id)
        {
            last = id;
            if self.can_send(id) {
                self.send_pending(id);
            }
        }
        if self.link == Link::Up && self.session_joined {
            for n in core::mem::take(&mut self.notifications) {
                self.send_frame(n);
            }
        }
    }

    /// Sends a frame now.
    #[inline(never)]
    fn send_frame(&mut self, frame: Value) {
        self.out.push_back(Output::SendFrame(frame));
    }

    fn notify(&mut self, method: &str, params: Value) {
        let n = client_frame(0, method, params);
        if self.link == Link::Up && self.session_joined {
            self.send_frame(n);
        } else if self.notifications.len() < MAX_QUEUED {
            self.notifications.push(n);
        }
    }

    fn send_ack(&mut self) {
        if self.link == Link::Up && self.last_seq > self.acked_seq {
            let seq = self.last_seq;
            self.acked_seq = seq;
            self.unacked = 0;
            self.ack_deadline = None;
            let n = client_frame(0, "session.ack", obj(&mut [("seq", seq.into())]));
            self.send_frame(n);
        }
    }

    // ------------------------------------------------------------------ commands

    fn on_command(&mut self, handle: RequestHandle, mut command: Command) {
        self.run_command(handle, &mut command);
        // Dropped here only: the body below takes what it keeps and returns anywhere.
    }

    fn run_command(&mut self, handle: RequestHandle, command: &mut Command) {
        match (self.phase, &*command) {
            (Phase::Closed, _) => return self.refuse(handle, MisuseError::Closed),
            (Phase::New, Command::Join) => return self.start_join(handle),
            (_, Command::Join) => return self.refuse(handle, MisuseError::AlreadyJoined),
            (Phase::New, Command::Leave { .. }) => {
                return self.refuse(handle, MisuseError::NotJoined)
            }
            (Phase::New, _) => return self.refuse(handle, MisuseError::NotJoined),
            (Phase::Connecting, Command::Leave { .. }) => {
                self.leave_handle = Some(handle);
                return self.terminate(None, None);
            }
            (Phase::Connecting, _) => {
                self.deferred.push(take_command(command));
                self.deferred_handles.push(handle);
                return;
            }
            (Phase::Leaving, Command::Leave { .. }) => {
                return self.done(handle);
            }
            (Phase::Leaving, _) => return self.refuse(handle, MisuseError::Closed),
            (Phase::Joined, _) => {}
        }
        // Fields are taken out of the command, never moved: the command is dropped whole, at
        // one place (no per-variant drops of the fields a match arm left behind).
        match command {
            Command::Join => {}
            Command::Leave { reason } => self.start_leave(handle, reason.take()),
            Command::Publish(opts) => self.start_publish(handle, opts),
            Command::Unpublish { cid } => {
                let cid = take(cid);
                let Some(l) = self.state.local_tracks.get(&cid) else {
                    return self.unknown_track(handle, cid);
                };
                let (kind, track_id) = (l.kind, l.track_id.clone());
                self.forget_local(&cid);
                if kind != TrackKind::Data {
                    self.peer(PeerOp::RemoveTransceiver { cid: cid.clone() });
                }
                if let Some(track_id) = track_id {
                    self.request(
                        "track.unpublish",
                        obj(&mut [("track_id", track_id.into())]),
                        Purpose::User {
                            handle,
                            kind: UserKind::Plain,
                        },
                    );
                    if kind != TrackKind::Data {
                        self.request_offer(false);
                    }
                } else {
                    if let Some((h, _)) = self.publish_waiters.remove(&cid) {
                        self.unknown_track(h, cid);
                    }
                    self.done(handle);
                }
            }
            Command::MuteTrack { cid, muted } => {
                let (cid, muted) = (take(cid), *muted);
                let Some(l) = self.state.local_mut(&cid) else {
                    return self.unknown_track(handle, cid);
                };
                l.muted = muted;
                let track_id = l.track_id.clone();
                self.peer(PeerOp::ReplaceTrack {
                    cid: cid.clone(),
                    detach: muted,
                });
                match track_id {
                    Some(track_id) => {
                        self.request(
                            "track.mute",
                            mute_params(track_id, muted),
                            Purpose::User {
                                handle,
                                kind: UserKind::Plain,
                            },
                        );
                    }
                    // Not yet published: the mute state goes with track.publish.
                    None => self.done(handle),
                }
            }
            Command::ReplaceTrack { cid } => {
                let cid = take(cid);
                let Some(l) = self.state.local_tracks.get(&cid) else {
                    return self.unknown_track(handle, cid);
                };
                if !l.muted {
                    self.peer(PeerOp::ReplaceTrack { cid, detach: false });
                }
                self.done(handle);
            }
            Command::UpdateToken { token } => {
                let token = take(token);
                if self.link != Link::Up || !self.session_joined {
                    // Recovering: the next fresh connect must use the newest token.
                    self.config.token = token.clone();
                }
                self.request(
                    "session.update_token",
                    obj(&mut [("token", text(token.as_str()))]),
                    Purpose::User {
                        handle,
                        kind: UserKind::UpdateToken,
                    },
                );
            }
            Command::UpdateSubscriptions {
                add,
                remove,
                settings,
            } => {
                let (add, remove) = (wire_targets(add), wire_targets(remove));
                remember(&mut self.explicit_subs, &mut self.explicit_unsubs, &add);
                remember(&mut self.explicit_unsubs, &mut self.explicit_subs, &remove);
                let mut wired = Vec::new();
                for s in take(settings) {
                    wired.push(s.to_wire());
                    self.sub_settings.insert(s.track_id.clone(), s);
                }
                self.request(
                    "sub.update",
                    sub_update_params(add, remove, wired),
                    Purpose::User {
                        handle,
                        kind: UserKind::Subscriptions,
                    },
                );
            }
            Command::SendMessage { to, topic, payload } => {
                let mut params = ovsp::json::Map::new();
                if let Some(to) = to.take() {
                    put(&mut params, "to", to.into());
                }
                if let Some(topic) = topic.take() {
                    put(&mut params, "topic", topic.into());
                }
                put(&mut params, "payload", take(payload));
                self.request(
                    "message.send",
                    Value::Object(params),
                    Purpose::User {
                        handle,
                        kind: UserKind::Plain,
                    },
                );
            }
            Command::SendData { cid, payload, to } => {
                let Some((dh, reliable, seq)) = self.data_out.get_mut(cid.as_str()) else {
                    return self.unknown_track(handle, take(cid));
                };
                if payload.len() > ovsp::limits::MAX_PAYLOAD_BYTES {
                    return self.refuse(
                        handle,
                        MisuseError::InvalidArgument {
                            reason: "data payload larger than 64 KiB".into(),
                        },
                    );
                }
                *seq = seq.wrapping_add(1);
                let mut dests: Vec<&str> = Vec::new();
                for d in to.iter().flatten() {
                    dests.push(d);
                }
                let data = encode_data_frame(*dh, *seq, &dests, payload);
                let label = if *reliable {
                    "ovsp-reliable"
                } else {
                    "ovsp-lossy"
                };
                self.peer(PeerOp::SendData {
                    label: label.to_owned(),
                    data,
                });
                self.done(handle);
            }
            Command::ReportStats { stats } => {
                let stats = take(stats);
                if !stats.is_object() {
                    return self.refuse(
                        handle,
                        MisuseError::InvalidArgument {
                            reason: "stats must be an object".into(),
                        },
                    );
                }
                self.notify("stats.report", stats);
                self.done(handle);
            }
            Command::ResetPublisher => self.reset_pub(Some(handle)),
            Command::Rpc { method, params } => self.start_rpc(handle, take(method), take(params)),
        }
    }

    fn start_rpc(&mut self, handle: RequestHandle, method: String, params: Value) {
        let params = if params.is_null() { empty() } else { params };
        if !params.is_object() {
            return self.refuse(
                handle,
                MisuseError::InvalidArgument {
                    reason: "params must be an object".into(),
                },
            );
        }
        const OWNED: &[&str] = &[
            "session.connect",
            "room.join",
            "ping",
            "session.ack",
            "ice.candidate",
            "pub.offer",
            "sub.answer",
        ];
        if OWNED.contains(&method.as_str()) {
            return self.refuse(
                handle,
                MisuseError::InvalidArgument {
                    reason: method + " is managed by the session; use its command",
                },
            );
        }
        let kind = match method.as_str() {
            "room.leave" => {
                let reason = params
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                return self.start_leave(handle, reason);
            }
            "session.update_token" => UserKind::UpdateToken,
            "room.acl.update" => UserKind::AclUpdate,
            "room.get" => UserKind::RoomGet,
            // The server side alone would leave the pub PC out of step: rebuild both.
            "pub.reset" => return self.reset_pub(Some(handle)),
            _ => UserKind::Plain,
        };
        self.request(&method, params, Purpose::User { handle, kind });
    }

    fn start_join(&mut self, handle: RequestHandle) {
        self.phase = Phase::Connecting;
        self.join_handle = Some(handle);
        self.refresh_connection();
        self.open_socket();
    }

    fn open_socket(&mut self) {
        self.link = Link::Opening;
        self.link_deadline = Some(
            self.now
                .saturating_add(self.config.timers.connect_timeout_ms),
        );
        self.out.push_back(Output::OpenSocket {
            url: self.config.url.clone(),
            protocol: ovsp::SUBPROTOCOL.to_owned(),
        });
    }

    fn start_leave(&mut self, handle: RequestHandle, reason: Option<String>) {
        self.phase = Phase::Leaving;
        self.leave_handle = Some(handle);
        if self.link == Link::Up && self.session_joined {
            let params = match reason {
                Some(r) => obj(&mut [("reason", r.into())]),
                None => empty(),
            };
            self.request("room.leave", params, Purpose::Leave);
        } else {
            self.terminate(None, None);
        }
    }

    fn start_publish(&mut self, handle: RequestHandle, opts: &mut crate::PublishOptions) {
        if self.state.local_tracks.contains_key(&opts.cid) {
            return self.refuse(
                handle,
                MisuseError::DuplicateTrack {
                    cid: take(&mut opts.cid),
                },
            );
        }
        if self
            .state
            .self_member
            .as_ref()
            .is_some_and(|s| s.member.role == Role::Audience)
        {
            return self.refuse(handle, MisuseError::AudienceCannotPublish);
        }
        let cid = take(&mut opts.cid);
        let l = LocalTrack {
            cid: cid.clone(),
            kind: opts.kind,
            source: opts.source,
            stream_key: opts.stream_key.take(),
            name: opts.name.take(),
            muted: opts.muted,
            track_id: None,
            mid: None,
            extra: take(&mut opts.extra),
        };
        self.apply(Action::LocalTrackSet(l));
        self.local_order.push(cid.clone());
        self.publish_waiters.insert(cid.clone(), (handle, None));
        self.send_publish(&cid);
    }

    /// Sends `track.publish` for the local track `cid` (creating the pub PC first if needed).
    fn send_publish(&mut self, cid: &str) {
        let Some(l) = self.state.local_tracks.get(cid) else {
            return;
        };
        let mut params = l.extra.clone();
        put(&mut params, "cid", text(l.cid.as_str()));
        put(&mut params, "kind", text(l.kind.as_str()));
        put(&mut params, "source", text(l.source.as_str()));
        if let Some(n) = &l.name {
            put(&mut params, "name", text(n.as_str()));
        }
        if let Some(k) = &l.stream_key {
            put(&mut params, "stream_key", text(k.as_str()));
        }
        if l.muted {
            put(&mut params, "muted", true.into());
        }
        self.ensure_pub_pc();
        self.request("track.publish", Value::Object(params), Purpose::Publish);
    }

    fn forget_local(&mut self, cid: &str) {
        self.data_out.remove(cid);
        self.apply(Action::LocalTrackRemoved(cid.to_owned()));
        store::remove_all(&mut self.local_order, cid);
    }

    fn ensure_pub_pc(&mut self) {
        if self.pub_pc.is_none() {
            self.create_pc(PcKind::Pub);
            // The data channels need a negotiated pub PC even without media tracks.
            self.pub_neg.needs_offer = true;
        }
    }

    // ------------------------------------------------------------------ socket

    fn on_socket_opened(&mut self) {
        if self.link != Link::Opening {
            return;
        }
        self.link = Link::Handshaking;
        self.last_inbound = self.now;
        self.link_deadline = Some(
            self.now
                .saturating_add(self.config.timers.connect_timeout_ms),
        );
        // The wire form of `ovsp::methods::SessionConnectParams`, written from the
        // configuration without copying it into one.
        let resume = match (&self.recovery, &self.session_id, &self.resume_token) {
            (Some(r), Some(sid), Some(rt)) if r.kind == RecoveryKind::Resume => Some(obj(&mut [
                ("session_id", text(sid)),
                ("resume_token", text(rt)),
                ("last_seq", self.last_seq.into()),
            ])),
            _ => None,
        };
        let fresh = resume.is_none();
        let mut params = Map::new();
        put(
            &mut params,
            "protocol",
            ovsp::methods::ProtocolVersion::default().to_wire(),
        );
        if fresh {
            put(&mut params, "token", text(&self.config.token));
        }
        put(&mut params, "client", self.config.client.to_wire());
        put(
            &mut params,
            "capabilities",
            self.config.capabilities.to_wire(),
        );
        if let Some(r) = resume {
            put(&mut params, "resume", r);
        }
        self.pending
            .retain(|_, p| !matches!(p.purpose, Purpose::Connect | Purpose::Join));
        self.request("session.connect", Value::Object(params), Purpose::Connect);
        if fresh {
            self.send_join();
        }
    }

    fn send_join(&mut self) {
        let j = &self.config.join;
        let mut params = ovsp::json::Map::new();
        if let Some(n) = &j.name {
            put(&mut params, "name", text(n.as_str()));
        }
        if let Some(m) = &j.meta {
            put(&mut params, "meta", Value::Object(m.clone()));
        }
        if let Some(v) = j.join_audio_muted {
            put(&mut params, "join_audio_muted", v.into());
        }
        if let Some(v) = j.join_video_muted {
            put(&mut params, "join_video_muted", v.into());
        }
        put(&mut params, "auto_subscribe", j.auto_subscribe.into());
        params.insert(
            "receive".into(),
            obj(&mut [
                ("audio", j.receive_audio.into()),
                ("video", j.receive_video.into()),
            ]),
        );
        self.request("room.join", Value::Object(params), Purpose::Join);
    }

    fn on_socket_closed(&mut self, code: u16, reason: &str) {
        if self.link == Link::Down {
            return; // a socket we already gave up on
        }
        self.link_lost();
        match self.phase {
            Phase::Closed | Phase::New => {}
            Phase::Leaving => self.terminate(None, None),
            Phase::Connecting => {
                let err = match CloseCode(code).action() {
                    CloseAction::Resume | CloseAction::RetryAfter => {
                        CoreError::Signaling(SignalingError::ConnectionError)
                    }
                    _ => error_from_close(code, reason),
                };
                self.terminate(None, Some(err));
            }
            Phase::Joined => {
                if self.recovery.is_some() {
                    // A reconnect attempt failed: try again later.
                    return self.schedule_attempt(None);
                }
                match CloseCode(code).action() {
                    CloseAction::Stop => self.terminate(None, Some(error_from_close(code, reason))),
                    CloseAction::RejoinOnce => {
                        if self.violation_rejoin_done {
                            self.terminate(None, Some(error_from_close(code, reason)));
                        } else {
                            self.violation_rejoin_done = true;
                            self.start_recovery(RecoveryKind::Rejoin, Some(0));
                        }
                    }
                    CloseAction::RetryAfter => {
                        let d = self.retry_after_ms.take();
                        self.start_recovery(RecoveryKind::Resume, d);
                    }
                    CloseAction::Resume | CloseAction::FollowClosing => {
                        self.start_recovery(RecoveryKind::Resume, None)
                    }
                }
            }
        }
    }

    fn start_recovery(&mut self, kind: RecoveryKind, delay: Option<u64>) {
        if self.phase != Phase::Joined {
            return;
        }
        match &mut self.recovery {
            Some(r) => {
                if kind == RecoveryKind::Rejoin {
                    r.kind = RecoveryKind::Rejoin;
                }
            }
            None => {
                self.backoff.reset();
                self.recovery = Some(Recovery {
                    since: self.now,
                    kind,
                    next_at: None,
                    prepared: false,
                });
            }
        }
        self.schedule_attempt(delay);
        self.refresh_connection();
    }

    fn schedule_attempt(&mut self, delay: Option<u64>) {
        let d = delay.unwrap_or_else(|| self.backoff.next_delay_ms());
        let now = self.now;
        if let Some(r) = &mut self.recovery {
            r.next_at = Some(now.saturating_add(d));
        }
    }

    fn attempt_reconnect(&mut self) {
        let now = self.now;
        let window = self.config.timers.resume_window_ms;
        let Some(r) = &mut self.recovery else { return };
        r.next_at = None;
        if r.kind == RecoveryKind::Resume && now.saturating_sub(r.since) >= window {
            r.kind = RecoveryKind::Rejoin;
        }
        if r.kind == RecoveryKind::Rejoin {
            if self.rejoin_attempts >= self.config.timers.max_rejoins {
                return self.terminate(None, Some(disconnected()));
            }
            self.rejoin_attempts += 1;
            self.prepare_rejoin();
        }
        self.open_socket();
    }

    /// B5 step 6: close the PCs and forget the session; remembered tracks and subscriptions
    /// are re-applied after the new join.
    fn prepare_rejoin(&mut self) {
        if let Some(r) = &mut self.recovery {
            if r.prepared {
                return;
            }
            r.prepared = true;
        }
        self.close_pcs();
        // A full rejoin rebuilds the pub PC from scratch: that is what a reset asked for.
        self.settle_resets(Ok(empty()));
        self.pub_neg = PubNeg::fresh();
        self.sub_neg = SubNeg::default();
        self.sub_mids.clear();
        self.data_seen.clear();
        for l in self.state.local_tracks.values_mut() {
            l.track_id = None;
            l.mid = None;
        }
        self.session_id = None;
        self.resume_token = None;
        self.session_joined = false;
        self.last_seq = 0;
        self.acked_seq = 0;
        self.unacked = 0;
        self.early_events.clear();
        self.notifications.clear();
        // Requests of the old session: internal ones are regenerated after the rejoin; user
        // requests already sent have an unknown outcome and fail; unsent ones wait.
        for h in self.sweep_requests(false) {
            self.complete(h, Err(disconnected()));
        }
    }

    /// Drops the requests of a session that goes away and returns the handles of the
    /// application's requests among them, in id order: all of them when `all` (and every
    /// request is dropped); else only those already sent, whose outcome is unknown, while
    /// unsent application requests and `room.leave` stay for the next session.
    #[inline(never)]
    fn sweep_requests(&mut self, all: bool) -> Vec<RequestHandle> {
        let mut open = Vec::new();
        self.pending.retain(|_, p| match p.purpose {
            Purpose::User { handle, .. } if all || p.sent => {
                open.push(handle);
                false
            }
            Purpose::User { .. } | Purpose::Leave => !all,
            _ => false,
        });
        open
    }

    /// Before a full rejoin while the old session's socket is still up: a best-effort
    /// `room.leave`, not awaited (its answer is never read), so the old member does not linger
    /// in the room until the server's resume window ends.
    fn leave_before_rejoin(&mut self, reason: &str) {
        if self.link != Link::Up || !self.session_joined {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let frame = client_frame(id, "room.leave", obj(&mut [("reason", text(reason))]));
        self.send_frame(frame);
    }

    /// Starts tracking a new `pc` PeerConnection (sub, else pub) and asks the driver to create
    /// it with the current ICE servers.
    #[inline(never)]
    fn create_pc(&mut self, pc: PcKind) {
        *self.pc_slot(pc) = Some(Pc::default());
        let ice_servers = self.ice_servers.clone();
        self.peer(PeerOp::CreatePc { pc, ice_servers });
    }

    /// The offer/answer state of the `kind` PeerConnection (pub, else sub).
    fn neg_mut(&mut self, kind: PcKind) -> &mut Neg {
        match kind {
            PcKind::Pub => &mut self.pub_neg.neg,
            _ => &mut self.sub_neg.neg,
        }
    }

    /// Where the `kind` PeerConnection is tracked: the sub PC's slot, else the pub PC's.
    fn pc_slot(&mut self, kind: PcKind) -> &mut Option<Pc> {
        match kind {
            PcKind::Sub => &mut self.sub_pc,
            _ => &mut self.pub_pc,
        }
    }

    /// The `kind` PeerConnection, if it exists (never for an unknown kind).
    #[inline(never)]
    fn pc_mut(&mut self, kind: PcKind) -> Option<&mut Pc> {
        if kind == PcKind::Unknown {
            return None;
        }
        self.pc_slot(kind).as_mut()
    }

    /// Closes both PeerConnections (those that exist).
    fn close_pcs(&mut self) {
        self.close_pc(PcKind::Pub);
        self.close_pc(PcKind::Sub);
    }

    /// Closes the `pc` PeerConnection (sub, else pub), if it exists.
    #[inline(never)]
    fn close_pc(&mut self, pc: PcKind) {
        if self.pc_slot(pc).take().is_some() {
            self.peer(PeerOp::ClosePc { pc });
        }
    }

    /// Ends the session for good.
    fn terminate(&mut self, reason: Option<ClosingReason>, error: Option<CoreError>) {
        if self.phase == Phase::Closed {
            return;
        }
        let was_joined = self.ever_joined;
        self.phase = Phase::Closed;
        self.recovery = None;
        self.close_pcs();
        self.close_socket(1000, "session ended");
        let fail = error.clone().unwrap_or_else(disconnected);
        // Every open command fails, in this order: requests, publishes, resets, commands
        // deferred until the join, the join itself.
        let mut open = self.sweep_requests(true);
        for w in self.publish_waiters.values() {
            open.push(w.0);
        }
        self.publish_waiters.clear();
        open.append(&mut self.pub_neg.reset_waiters);
        open.append(&mut self.deferred_handles);
        self.deferred.clear();
        if let Some(h) = self.join_handle.take() {
            open.push(h);
        }
        for h in open {
            self.complete(h, Err(fail.clone()));
        }
        self.apply(Action::Connection(ConnectionState::Disconnected {
            error: error.clone(),
        }));
        self.apply(Action::Cleared);
        if was_joined {
            self.emit(CoreEvent::RoomLeft { reason, error });
        }
        if let Some(h) = self.leave_handle.take() {
            self.done(h);
        }
    }

    // ------------------------------------------------------------------ timers

    fn on_timeout(&mut self) {
        let now = self.now;
        if self.phase == Phase::Closed || self.phase == Phase::New {
            return;
        }
        if self.link_deadline.is_some_and(|d| d <= now)
            && matches!(self.link, Link::Opening | Link::Handshaking)
        {
            self.close_socket(4008, "connect timeout");
            if self.phase == Phase::Connecting {
                return self.terminate(None, Some(CoreError::Signaling(SignalingError::Timeout)));
            }
            self.schedule_attempt(None);
        }
        if self.link == Link::Up {
            if now
                >= self
                    .last_inbound
                    .saturating_add(self.config.timers.ping_timeout_ms)
            {
                self.close_socket(4008, "ping timeout");
                self.start_recovery(RecoveryKind::Resume, Some(0));
            } else if self.request_overdue(now) {
                // The socket is half-open: resume and resend with the same ids.
                match self.phase {
                    Phase::Leaving => return self.terminate(None, None),
                    Phase::Connecting => {
                        return self
                            .terminate(None, Some(CoreError::Signaling(SignalingError::Timeout)))
                    }
                    _ => {}
                }
                self.close_socket(4008, "request timeout");
                if self.session_joined {
                    self.start_recovery(RecoveryKind::Resume, Some(0));
                } else {
                    // A rejoin attempt that does not answer counts as failed.
                    self.schedule_attempt(None);
                }
            } else {
                if self.ack_deadline.is_some_and(|d| d <= now) {
                    self.ack_deadline = None;
                    self.send_ack();
                }
                if self.next_ping_at.is_some_and(|t| t <= now) {
                    self.send_ping();
                }
                if self.replay_deadline.is_some_and(|d| d <= now) {
                    // The announced replay did not arrive in full: stop waiting for it.
                    self.replay_done();
                }
            }
        }
        self.check_ice_timers();
        // Last, so that a loss detected above is retried in this same turn.
        if self.link == Link::Down
            && self
                .recovery
                .as_ref()
                .and_then(|r| r.next_at)
                .is_some_and(|t| t <= now)
        {
            self.attempt_reconnect();
        }
        if self.pub_neg.retry_at.is_some_and(|t| t <= now) {
            self.pub_neg.retry_at = None;
            self.try_start_offer();
        }
    }

    /// Whether a sent request is past its deadline at `now`.
    fn request_overdue(&self, now: u64) -> bool {
        for p in self.pending.values() {
            if p.deadline.is_some_and(|d| d <= now) {
                return true;
            }
        }
        false
    }

    fn send_ping(&mut self) {
        let now = self.now;
        self.next_ping_at = Some(now.saturating_add(self.config.timers.ping_interval_ms));
        if !self.session_joined {
            return;
        }
        self.acked_seq = self.last_seq;
        self.unacked = 0;
        self.ack_deadline = None;
        let ack = self.last_seq;
        self.request(
            "ping",
            obj(&mut [("ts", now.into()), ("ack", ack.into())]),
            Purpose::Ping { sent_at: now },
        );
    }

    fn check_ice_timers(&mut self) {
        let now = self.now;
        let grace = self.config.timers.ice_disconnected_grace_ms;
        let rejoin_after = self.config.timers.ice_failed_rejoin_ms;
        for kind in [PcKind::Pub, PcKind::Sub] {
            let Some(pc) = self.pc_mut(kind) else {
                continue;
            };
            if pc.failed_at.is_none()
                && pc
                    .disconnected_at
                    .is_some_and(|d| d.saturating_add(grace) <= now)
            {
                pc.disconnected_at = None;
                pc.failed_at = Some(now);
                self.start_ice_restart(kind);
                self.refresh_connection();
                continue;
            }
            if pc
                .failed_at
                .is_some_and(|f| f.saturating_add(rejoin_after) <= now)
            {
                pc.failed_at = None;
                // ICE did not recover: full rejoin (B5 step 7). The old member leaves first.
                self.leave_before_rejoin("media failed");
                self.close_socket(1000, "media failed");
                self.start_recovery(RecoveryKind::Rejoin, Some(0));
                return;
            }
        }
    }

    // ------------------------------------------------------------------ frames

    fn on_frame(&mut self, frame: Value) {
        if self.link == Link::Down || self.link == Link::Opening {
            return;
        }
        self.last_inbound = self.now;
        let frame = match ServerFrame::decode_value(frame) {
            Ok(f) => f,
            Err(_) => return, // 53003: ignored; the session continues.
        };
        match frame {
            ServerFrame::Response(r) => {
                let mut id = r.id.as_deref().and_then(ovsp::json::parse_u64);
                if id.is_none() {
                    // An error without an id: it answers the session.connect in flight while
                    // handshaking (one call site for every response).
                    let Err(e) = &r.outcome else { return };
                    if let Some(ms) = e.data.as_ref().and_then(|d| d.retry_after_ms) {
                        self.retry_after_ms = Some(ms);
                    }
                    if self.link == Link::Handshaking {
                        for (i, p) in self.pending.iter() {
                            if matches!(p.purpose, Purpose::Connect) {
                                id = Some(*i);
                                break;
                            }
                        }
                    }
                }
                if let Some(id) = id {
                    self.on_response(id, r.outcome);
                }
            }
            ServerFrame::Event(env) => self.on_event_envelope(env),
        }
    }

    fn on_response(&mut self, id: u64, outcome: Result<Value, RpcError>) {
        let Some(p) = self.pending.remove(&id) else {
            return; // unknown or already answered (a duplicate)
        };
        if let Err(e) = &outcome {
            if let Some(ms) = e.data.as_ref().and_then(|d| d.retry_after_ms) {
                self.retry_after_ms = Some(ms);
            }
        }
        match p.purpose {
            Purpose::Connect => self.on_connect_result(outcome),
            Purpose::Join => self.on_join_result(outcome),
            Purpose::Ping { sent_at } => {
                if outcome.is_ok() {
                    self.rtt_ms = Some(self.now.saturating_sub(sent_at));
                }
            }
            Purpose::Leave => self.terminate(None, None),
            Purpose::Publish => {
                let cid = param(&p.frame, "cid").and_then(Value::as_str).unwrap_or("");
                self.on_publish_result(cid, outcome)
            }
            Purpose::PubOffer { offer_id } => self.on_pub_offer_result(offer_id, outcome),
            Purpose::SubAnswer | Purpose::SubIceRestart | Purpose::Restore => {
                if let Ok(v) = &outcome {
                    self.apply_sub_result(v, None);
                }
            }
            // Whatever the outcome, the rebuilt PC can only go on with a fresh offer.
            Purpose::PubReset => self.try_start_offer(),
            Purpose::Internal => {}
            Purpose::User { handle, kind } => self.on_user_result(handle, kind, &p.frame, outcome),
        }
    }

    fn on_user_result(
        &mut self,
        handle: RequestHandle,
        kind: UserKind,
        frame: &Value,
        outcome: Result<Value, RpcError>,
    ) {
        let v = match outcome {
            Ok(v) => v,
            Err(e) => return self.complete(handle, Err(CoreError::from_rpc(e))),
        };
        match kind {
            UserKind::Plain => {}
            UserKind::UpdateToken => {
                if let Some(t) = param(frame, "token").and_then(Value::as_str) {
                    self.config.token = t.to_owned();
                }
            }
            UserKind::Subscriptions => self.apply_sub_result(&v, param(frame, "remove")),
            UserKind::AclUpdate => self.apply(Action::Acl {
                upsert: acl_ids(param(frame, "upsert"), "identity"),
                remove: acl_ids(param(frame, "remove"), ""),
            }),
            UserKind::RoomGet => {
                if let Ok(snapshot) = ovsp::json::decode::<Box<Snapshot>>(&v) {
                    self.apply(Action::Snapshot {
                        snapshot,
                        reconcile: true,
                    });
                }
            }
        }
        self.complete(handle, Ok(v));
    }

    /// Applies a `sub.update`-style result; `removed` is the request's `remove` list (wire
    /// form of [`SubTarget`]s).
    fn apply_sub_result(&mut self, v: &Value, removed: Option<&Value>) {
        let Ok(res) = ovsp::json::decode::<ovsp::methods::SubUpdateResult>(v) else {
            return;
        };
        // The removed targets' tracks that the result no longer lists.
        let mut gone: Vec<String> = Vec::new();
        for t in removed.and_then(Value::as_array).into_iter().flatten() {
            let field = |k: &str| t.get(k).and_then(Value::as_str);
            if let Some(id) = field("track_id") {
                keep_gone(&mut gone, id, &res.subscriptions);
                continue;
            }
            let Some(m) = field("member_id").and_then(|mid| self.state.members.get(mid)) else {
                continue;
            };
            for tr in &m.tracks {
                if let Some(k) = field("stream_key") {
                    if tr.stream_key.as_deref() != Some(k) {
                        continue;
                    }
                }
                if let Some(k) = t.get("kinds").and_then(Value::as_array) {
                    let kind = tr.kind.media_kind().as_str();
                    if !k.iter().any(|x| x.as_str() == Some(kind)) {
                        continue;
                    }
                }
                keep_gone(&mut gone, &tr.id, &res.subscriptions);
            }
        }
        self.apply(Action::Subscriptions(res.subscriptions));
        if !gone.is_empty() {
            self.apply(Action::SubscriptionsRemoved(gone));
        }
    }

    fn on_connect_result(&mut self, outcome: Result<Value, RpcError>) {
        let res = match outcome {
            Ok(v) => ovsp::json::decode::<SessionConnectResult>(&v).map_err(invalid_incoming),
            Err(e) => Err(e),
        };
        let res = match res {
            Ok(r) => r,
            Err(e) => return self.on_connect_error(e),
        };
        let resuming = self
            .recovery
            .as_ref()
            .is_some_and(|r| r.kind == RecoveryKind::Resume);
        if resuming && !res.resumed {
            // The server started a new session instead: rejoin on this socket (the old
            // session is forgotten before the new one is kept).
            if let Some(r) = &mut self.recovery {
                r.kind = RecoveryKind::Rejoin;
            }
            self.prepare_rejoin();
        }
        self.link = Link::Up;
        self.link_deadline = None;
        self.session_id = Some(res.session_id);
        self.resume_token = Some(res.resume_token);
        self.config.timers.ping_interval_ms = res.timers.ping_interval_ms.max(1);
        self.config.timers.ping_timeout_ms = res.timers.ping_timeout_ms.max(1);
        self.config.timers.request_timeout_ms = res.timers.request_timeout_ms.max(1);
        self.config.timers.resume_window_ms = res.timers.resume_window_ms;
        if !res.ice_servers.is_empty() {
            self.ice_servers = res.ice_servers;
        }
        self.next_ping_at = Some(self.now.saturating_add(self.config.timers.ping_interval_ms));
        if resuming {
            if !res.resumed {
                self.send_join();
                return;
            }
            if let Some(snap) = res.snapshot {
                let seq = snap.seq;
                self.apply(Action::Snapshot {
                    snapshot: snap,
                    reconcile: true,
                });
                self.last_seq = seq;
                self.acked_seq = self.acked_seq.min(seq);
            } else if let Some(r) = res
                .replay
                .filter(|r| r.to >= r.from && r.to > self.last_seq)
            {
                // The replayed events follow this response: `reconnected` comes after them.
                self.replay_to = Some(r.to);
                self.replay_deadline = Some(
                    self.now
                        .saturating_add(self.config.timers.request_timeout_ms),
                );
            }
            self.recovery = None;
            self.rejoin_attempts = 0;
            // Resend every unanswered request with the same id, then the queue.
            self.flush();
            self.refresh_connection();
            self.check_media_after_resume();
        }
        // Fresh connect: room.join was pipelined; wait for its result.
    }

    fn on_connect_error(&mut self, e: RpcError) {
        let (code, action) = (e.code, e.action());
        let err = CoreError::from_rpc(e);
        self.pending
            .retain(|_, p| !matches!(p.purpose, Purpose::Join));
        if self.phase == Phase::Connecting {
            return self.terminate(None, Some(err));
        }
        self.close_socket(1000, "connect failed");
        let needs_rejoin = code == Code::SESSION_UNKNOWN
            || code == Code::RESUME_TOKEN_INVALID
            || code.is_token_error()
            || action == Some(SessionAction::Rejoin);
        let rejoining = self
            .recovery
            .as_ref()
            .is_some_and(|r| r.kind == RecoveryKind::Rejoin);
        if needs_rejoin && !rejoining {
            self.start_recovery(RecoveryKind::Rejoin, Some(0));
        } else if action == Some(SessionAction::Disconnect)
            || code == Code::PROTOCOL_VERSION_UNSUPPORTED
        {
            self.terminate(None, Some(err));
        } else {
            let d = self.retry_after_ms.take();
            self.schedule_attempt(d);
        }
    }

    fn check_media_after_resume(&mut self) {
        if self.pub_pc.as_ref().is_some_and(|p| p.failed_at.is_some())
            && self.pub_neg.neg.stage == Stage::Idle
            && !self.pub_neg.needs_offer
        {
            self.request_offer(true);
        }
    }

    fn on_join_result(&mut self, outcome: Result<Value, RpcError>) {
        let snap = match outcome.and_then(|v| {
            ovsp::json::decode::<Box<Snapshot>>(&v)
                .map(|s| (s, v))
                .map_err(invalid_incoming)
        }) {
            Ok(s) => s,
            Err(e) => {
                let err = CoreError::from_rpc(e);
                if self.phase == Phase::Connecting {
                    return self.terminate(None, Some(err));
                }
                // A failed rejoin attempt.
                self.close_socket(1000, "join failed");
                let d = self.retry_after_ms.take();
                return self.schedule_attempt(d);
            }
        };
        let (snap, raw) = snap;
        let seq = snap.seq;
        let first = !self.ever_joined;
        let room = snap.room.clone();
        let member_id = snap.self_.member.id.clone();
        let is_member = snap.self_.member.role != Role::Audience;
        self.apply(Action::Snapshot {
            snapshot: snap,
            reconcile: !first,
        });
        self.last_seq = seq;
        self.acked_seq = seq;
        self.session_joined = true;
        self.ever_joined = true;
        self.link = Link::Up;
        self.create_pc(PcKind::Sub);
        if first {
            self.phase = Phase::Joined;
            self.emit(CoreEvent::RoomJoined { room, member_id });
            self.refresh_connection();
            if let Some(h) = self.join_handle.take() {
                self.complete(h, Ok(raw));
            }
        } else {
            self.recovery = None;
            self.rejoin_attempts = 0;
            self.refresh_connection();
            self.restore_after_rejoin(is_member);
        }
        // Durable events that arrived before the snapshot. Those the snapshot covers (seq at
        // or below its baseline) are skipped when they only restate snapshot state; events the
        // snapshot cannot contain (an offer, a message, a token) are never lost. Versioned
        // member/track events are idempotent, so applying one twice is harmless.
        for env in core::mem::take(&mut self.early_events) {
            let covered = env.seq.is_some_and(|q| q <= seq);
            if covered {
                if !snapshot_cannot_hold(&env.event_type) {
                    continue;
                }
                self.on_event(env.decode_event());
            } else {
                self.on_event_envelope(env);
            }
        }
        self.flush();
        let handles = core::mem::take(&mut self.deferred_handles);
        for (h, c) in handles.into_iter().zip(core::mem::take(&mut self.deferred)) {
            self.on_command(h, c);
        }
    }

    fn restore_after_rejoin(&mut self, is_member: bool) {
        let order = self.local_order.clone();
        if is_member {
            for cid in order {
                self.send_publish(&cid);
            }
        } else {
            for cid in order {
                self.forget_local(&cid);
                if let Some((h, _)) = self.publish_waiters.remove(&cid) {
                    self.refuse(h, MisuseError::AudienceCannotPublish);
                }
            }
        }
        let mut settings: Vec<Value> = Vec::new();
        for s in self.sub_settings.values() {
            if self.state.track(&s.track_id).is_some() {
                settings.push(s.to_wire());
            }
        }
        if !self.explicit_subs.is_empty()
            || !self.explicit_unsubs.is_empty()
            || !settings.is_empty()
        {
            let params = sub_update_params(
                self.explicit_subs.clone(),
                self.explicit_unsubs.clone(),
                settings,
            );
            self.request("sub.update", params, Purpose::Restore);
        }
    }

    // ------------------------------------------------------------------ events

    fn on_event_envelope(&mut self, env: EventEnvelope) {
        if let Some(seq) = env.seq {
            if !self.session_joined {
                // Bounded: a server that never answers room.join cannot grow this forever.
                if self.early_events.len() < MAX_QUEUED {
                    self.early_events.push(env);
                }
                return;
            }
            if seq <= self.last_seq {
                return; // duplicate: already processed
            }
            self.last_seq = seq;
            self.unacked += 1;
            if self.unacked >= self.config.timers.ack_every_events {
                self.send_ack();
            } else if self.ack_deadline.is_none() {
                self.ack_deadline =
                    Some(self.now.saturating_add(self.config.timers.ack_interval_ms));
            }
        }
        let ev = env.decode_event();
        self.on_event(ev);
        if self.replay_to.is_some_and(|to| self.last_seq >= to) {
            self.replay_done();
        }
    }

    /// The resume's replay has been processed (or given up on): the session has converged.
    fn replay_done(&mut self) {
        self.replay_to = None;
        self.replay_deadline = None;
        self.refresh_connection();
    }

    fn on_event(&mut self, mut ev: Event) {
        // One match: the session's own events give up their fields by `take` and stay here;
        // for the others, what the session does besides the store is decided before the
        // event moves into it (whole: it is dropped in one place).
        let mut reattach: Option<(String, bool)> = None;
        let mut demoted = false;
        let own = match &mut ev {
            Event::SubOffer(o) => {
                self.on_sub_offer(o);
                true
            }
            Event::PubIceRestartRequested(_) => {
                if self.pub_pc.is_some() {
                    self.peer(PeerOp::RestartIce { pc: PcKind::Pub });
                    self.request_offer(true);
                }
                true
            }
            Event::IceCandidate(c) => {
                let cand = c.candidate.take().map(|candidate| IceCandidate {
                    candidate,
                    sdp_mid: c.sdp_mid.take(),
                    sdp_m_line_index: c.sdp_m_line_index,
                    username_fragment: c.username_fragment.take(),
                });
                self.add_remote_candidate(c.pc, cand);
                true
            }
            Event::SessionToken(e) => {
                self.config.token = take(&mut e.token);
                self.emit(CoreEvent::TokenRefreshed {
                    expires_at: e.expires_at,
                });
                true
            }
            Event::SessionClosing(c) => {
                self.on_closing(c);
                true
            }
            Event::SelfPermissionsChanged(e) => {
                demoted = e.role == Role::Audience;
                false
            }
            Event::TrackPublished(e) => {
                if let Some(l) = e.track.cid.as_deref().and_then(|c| self.state.local_mut(c)) {
                    l.track_id = Some(e.track.id.clone());
                }
                false
            }
            Event::TrackUpdated(e) => {
                // A moderator block stops local sending too; unblocking re-attaches only a
                // track the owner did not mute.
                if let (Some(l), Some(b)) =
                    (self.state.local_track_by_id(&e.track.id), e.track.blocked)
                {
                    if b || !l.muted {
                        reattach = Some((l.cid.clone(), b));
                    }
                }
                false
            }
            Event::TrackUnpublished(e) => {
                let local = self
                    .state
                    .local_track_by_id(&e.track_id)
                    .map(|l| (l.cid.clone(), l.kind));
                if let Some((cid, kind)) = local {
                    // The server unpublished one of our tracks (demote, revoked right).
                    self.forget_local(&cid);
                    if kind != TrackKind::Data && self.pub_pc.is_some() {
                        self.peer(PeerOp::RemoveTransceiver { cid });
                        self.request_offer(false);
                    }
                }
                false
            }
            _ => false,
        };
        if !own {
            self.apply(Action::Event(ev));
        }
        if let Some((cid, detach)) = reattach {
            self.peer(PeerOp::ReplaceTrack { cid, detach });
        }
        if demoted {
            for cid in self.local_order.clone() {
                self.forget_local(&cid);
            }
            self.settle_resets(Err(misuse(MisuseError::AudienceCannotPublish)));
            self.pub_neg = PubNeg::fresh();
            self.close_pc(PcKind::Pub);
        }
    }

    fn on_closing(&mut self, c: &mut ovsp::events::SessionClosing) {
        let error = c.error.as_ref().map(CoreError::from_info);
        self.emit(CoreEvent::SessionClosing {
            reason: c.reason,
            action: c.action,
            error: error.clone(),
        });
        if let Some(url) = c.url.take() {
            self.config.url = url;
        }
        // Ack what we processed so a resume does not replay it, then act.
        self.send_ack();
        match c.action {
            SessionAction::Resume => {
                self.close_socket(1000, "session closing");
                self.start_recovery(RecoveryKind::Resume, c.retry_after_ms);
            }
            SessionAction::Rejoin => {
                self.close_socket(1000, "session closing");
                self.start_recovery(RecoveryKind::Rejoin, Some(c.retry_after_ms.unwrap_or(0)));
            }
            _ => {
                let error = Some(error.unwrap_or_else(|| {
                    let mut e = CoreError::server(
                        match c.reason {
                            ClosingReason::Removed => Code::REMOVED,
                            ClosingReason::RoomEnded => Code::ROOM_COMPLETED,
                            ClosingReason::DuplicateIdentity => Code::DUPLICATE_IDENTITY,
                            _ => Code::SIGNALING_DISCONNECTED,
                        },
                        String::from("session closed: ") + c.reason.as_str(),
                    );
                    if let CoreError::Server(s) = &mut e {
                        s.reason = Some(c.reason.as_str().to_owned());
                    }
                    e
                }));
                self.terminate(Some(c.reason), error);
            }
        }
    }

    // ------------------------------------------------------------------ negotiation

    fn request_offer(&mut self, ice_restart: bool) {
        self.pub_neg.needs_offer = true;
        self.pub_neg.ice_restart |= ice_restart;
        self.try_start_offer();
    }

    fn try_start_offer(&mut self) {
        if self.pub_pc.is_none()
            || self.pub_neg.neg.stage != Stage::Idle
            || !self.pub_neg.needs_offer
            || self.pub_neg.retry_at.is_some()
        {
            return;
        }
        // Wait until every track.publish is answered, so one offer covers them all, and until
        // the server has dropped its side of a rebuilt pub PC.
        for p in self.pending.values() {
            if matches!(p.purpose, Purpose::Publish | Purpose::PubReset) {
                return;
            }
        }
        let ice_restart = core::mem::take(&mut self.pub_neg.ice_restart);
        self.pub_neg.needs_offer = false;
        self.pub_neg.neg.stage = Stage::Creating;
        self.pub_neg.neg.restart = ice_restart;
        self.peer(PeerOp::CreateOffer {
            pc: PcKind::Pub,
            ice_restart,
        });
    }

    fn on_publish_result(&mut self, cid: &str, outcome: Result<Value, RpcError>) {
        let Some(l) = self.state.local_tracks.get(cid) else {
            // Unpublished while the publish was in flight.
            self.try_start_offer();
            return;
        };
        let (kind, muted) = (l.kind, l.muted);
        match outcome {
            Ok(v) => {
                let track = v
                    .get("track")
                    .and_then(|t| ovsp::json::decode::<Track>(t).ok());
                if let Some(t) = &track {
                    if let Some(l) = self.state.local_mut(cid) {
                        l.track_id = Some(t.id.clone());
                    }
                    if let Some(dh) = t.data_handle {
                        let seq = self.data_out.get(cid).map_or(0, |d| d.2);
                        self.data_out
                            .insert(cid.to_owned(), (dh, t.reliable.unwrap_or(true), seq));
                    }
                }
                if let Some(w) = self.publish_waiters.get_mut(cid) {
                    w.1 = Some(v.clone());
                }
                if kind == TrackKind::Data {
                    if let Some((h, _)) = self.publish_waiters.remove(cid) {
                        self.complete(h, Ok(v));
                    }
                } else {
                    self.peer(PeerOp::AddTransceiver {
                        cid: cid.to_owned(),
                        kind,
                    });
                    if muted {
                        self.peer(PeerOp::ReplaceTrack {
                            cid: cid.to_owned(),
                            detach: true,
                        });
                    }
                    // Muted or unmuted while track.publish was in flight: tell the server.
                    if let Some(t) = track.as_ref().filter(|t| t.muted != muted) {
                        self.request(
                            "track.mute",
                            mute_params(t.id.clone(), muted),
                            Purpose::Internal,
                        );
                    }
                    self.pub_neg.needs_offer = true;
                }
            }
            Err(e) => {
                let err = CoreError::from_rpc(e);
                self.forget_local(cid);
                self.emit(CoreEvent::TrackPublishFailed {
                    cid: cid.to_owned(),
                    error: err.clone(),
                });
                if let Some((h, _)) = self.publish_waiters.remove(cid) {
                    self.complete(h, Err(err));
                }
            }
        }
        self.try_start_offer();
    }

    fn on_pub_offer_result(&mut self, offer_id: u32, outcome: Result<Value, RpcError>) {
        // Only the answer to the latest offer counts (B6.2.3).
        let n = &mut self.pub_neg.neg;
        if n.stage != Stage::Awaiting || n.offer_id != offer_id {
            return;
        }
        n.stage = Stage::Idle;
        let cids = core::mem::take(&mut n.cids);
        match outcome
            .and_then(|v| ovsp::json::decode::<PubOfferResult>(&v).map_err(invalid_incoming))
        {
            Ok(ans) => {
                if ans.offer_id != offer_id {
                    return self.try_start_offer();
                }
                self.pub_neg.reset_tried = false;
                self.settle_resets(Ok(empty()));
                self.peer(PeerOp::SetRemoteDescription {
                    pc: PcKind::Pub,
                    sdp_type: SdpType::Answer,
                    sdp: ans.sdp,
                });
                self.remote_description_applied(PcKind::Pub);
                for cid in cids {
                    // Only a waiter holding its track.publish result completes here; one still
                    // waiting for it stays, for the offer that follows that result (or the
                    // session's end), so no publish is left without a completion.
                    if matches!(self.publish_waiters.get(&cid), Some((_, Some(_)))) {
                        if let Some((h, Some(v))) = self.publish_waiters.remove(&cid) {
                            self.complete(h, Ok(v));
                        }
                    }
                }
            }
            Err(e) if e.code == Code::NEGOTIATION_IN_PROGRESS => {
                self.pub_neg.needs_offer = true;
                self.pub_neg.retry_at = Some(self.now.saturating_add(200));
            }
            Err(e) if e.code == Code::STALE_OFFER => {
                self.pub_neg.needs_offer = true;
            }
            // The server cannot apply our pub PC's offer to its side: rebuild both (once).
            Err(e)
                if (e.code == Code::MIDS_INCONSISTENT
                    || e.code == Code::SERVER_REMOTE_DESC_FAILED)
                    && !self.pub_neg.reset_tried =>
            {
                return self.reset_pub(None);
            }
            Err(e) => {
                self.fail_offer(&cids, CoreError::from_rpc(e));
            }
        }
        self.try_start_offer();
    }

    /// Completes every `ResetPublisher` command waiting for the rebuilt pub PC with `result`.
    #[inline(never)]
    fn settle_resets(&mut self, result: Result<Value, CoreError>) {
        for h in core::mem::take(&mut self.pub_neg.reset_waiters) {
            self.complete(h, result.clone());
        }
    }

    /// B6.4 `pub.reset`: close the pub PC, create a new one with every current track, tell
    /// the server, then offer again (same track ids, new mids). `handle` is the command's, if
    /// the application asked.
    fn reset_pub(&mut self, handle: Option<RequestHandle>) {
        if self.pub_pc.is_none() {
            // Nothing published, nothing to rebuild.
            if let Some(h) = handle {
                self.done(h);
            }
            return;
        }
        let mut waiters = core::mem::take(&mut self.pub_neg.reset_waiters);
        if let Some(h) = handle {
            waiters.push(h);
        }
        // An offer in flight belongs to the old PC: its answer is ignored (stage reset), and
        // the tracks it carried go into the next offer.
        self.pub_neg = PubNeg {
            next_offer_id: self.pub_neg.next_offer_id,
            reset_tried: true,
            reset_waiters: waiters,
            ..PubNeg::default()
        };
        // The pub PC exists (checked above).
        self.close_pc(PcKind::Pub);
        self.request("pub.reset", empty(), Purpose::PubReset);
        self.ensure_pub_pc();
        for cid in self.local_order.clone() {
            let Some(l) = self.state.local_mut(&cid) else {
                continue;
            };
            // Tracks still in track.publish get their transceiver when it is answered.
            let Some(track_id) = l.track_id.clone() else {
                continue;
            };
            if l.kind == TrackKind::Data {
                continue;
            }
            l.mid = None;
            let (kind, muted) = (l.kind, l.muted);
            let blocked = self.state.track(&track_id).is_some_and(|(t, _)| t.blocked);
            let detach = muted || blocked;
            self.peer(PeerOp::AddTransceiver {
                cid: cid.clone(),
                kind,
            });
            if detach {
                self.peer(PeerOp::ReplaceTrack { cid, detach: true });
            }
        }
        self.refresh_connection();
        self.try_start_offer();
    }

    /// A pub offer failed for good: the publishes of `cids` still waiting fail (with
    /// [`CoreEvent::TrackPublishFailed`]), then the waiting resets.
    fn fail_offer(&mut self, cids: &[String], err: CoreError) {
        for cid in cids {
            if let Some((h, _)) = self.publish_waiters.remove(cid) {
                self.emit(CoreEvent::TrackPublishFailed {
                    cid: cid.clone(),
                    error: err.clone(),
                });
                self.complete(h, Err(err.clone()));
            }
        }
        self.settle_resets(Err(err));
    }

    fn on_sub_offer(&mut self, o: &mut ovsp::events::SubOffer) {
        if !o.reset {
            if self.sub_neg.last_answered.is_some_and(|a| o.offer_id <= a) {
                return; // re-sent after a resume, already answered
            }
            let n = &self.sub_neg.neg;
            if n.stage != Stage::Idle && n.offer_id == o.offer_id {
                return;
            }
        }
        if o.reset || self.sub_pc.is_none() {
            self.close_pc(PcKind::Sub);
            self.create_pc(PcKind::Sub);
            self.sub_mids.clear();
        }
        for (mid, m) in take(&mut o.mids) {
            match m {
                Some(m) => {
                    self.sub_mids.insert(mid, m);
                }
                None => {
                    self.sub_mids.remove(&mid);
                }
            }
        }
        self.sub_neg.neg.stage = Stage::Creating;
        self.sub_neg.neg.offer_id = o.offer_id;
        self.peer(PeerOp::SetRemoteDescription {
            pc: PcKind::Sub,
            sdp_type: SdpType::Offer,
            sdp: take(&mut o.sdp),
        });
        self.remote_description_applied(PcKind::Sub);
        self.peer(PeerOp::CreateAnswer { pc: PcKind::Sub });
    }

    fn remote_description_applied(&mut self, kind: PcKind) {
        let Some(pc) = self.pc_mut(kind) else { return };
        pc.remote_set = true;
        let buffered = core::mem::take(&mut pc.buffered);
        for candidate in buffered {
            self.peer(PeerOp::AddIceCandidate {
                pc: kind,
                candidate,
            });
        }
    }

    fn add_remote_candidate(&mut self, kind: PcKind, candidate: Option<IceCandidate>) {
        let Some(pc) = self.pc_mut(kind) else { return };
        if pc.remote_set {
            self.peer(PeerOp::AddIceCandidate {
                pc: kind,
                candidate,
            });
        } else {
            pc.buffered.push(candidate);
        }
    }

    fn start_ice_restart(&mut self, kind: PcKind) {
        match kind {
            PcKind::Pub => {
                self.peer(PeerOp::RestartIce { pc: PcKind::Pub });
                self.request_offer(true);
            }
            _ => {
                self.request("sub.ice_restart", empty(), Purpose::SubIceRestart);
            }
        }
    }

    // ------------------------------------------------------------------ peer events

    fn on_peer(&mut self, ev: &mut PeerEvent) {
        if self.phase == Phase::Closed {
            return;
        }
        // Fields are taken out of the event, never moved (see `on_command`).
        match ev {
            PeerEvent::DescriptionCreated { pc, sdp_type, sdp } => {
                let (pc, sdp_type) = (*pc, *sdp_type);
                let (creating, resent) = match (pc, sdp_type) {
                    (PcKind::Pub, SdpType::Offer) => (Stage::Creating, Stage::Creating),
                    // A second answer for the same offer replaces the first.
                    (PcKind::Sub, SdpType::Answer) => (Stage::Creating, Stage::SettingLocal),
                    _ => return,
                };
                let n = self.neg_mut(pc);
                if n.stage == creating || n.stage == resent {
                    n.stage = Stage::SettingLocal;
                    n.sdp = sdp.clone();
                    self.peer(PeerOp::SetLocalDescription {
                        pc,
                        sdp_type,
                        sdp: take(sdp),
                    });
                }
            }
            PeerEvent::LocalDescriptionSet { pc, mids } => {
                let publishing = *pc == PcKind::Pub;
                let n = self.neg_mut(*pc);
                if n.stage != Stage::SettingLocal {
                    return;
                }
                n.stage = Stage::Idle;
                let sdp = core::mem::take(&mut n.sdp);
                let restart = n.restart;
                let mut offer_id = n.offer_id;
                let mut wire_mids = Map::new();
                let mut cids = Vec::new();
                if publishing {
                    for (cid, mid) in take(mids) {
                        if let Some(l) = self.state.local_mut(&cid) {
                            l.mid = Some(mid.clone());
                            wire_mids.insert(mid, text(cid.as_str()));
                            cids.push(cid);
                        }
                    }
                    offer_id = self.pub_neg.next_offer_id;
                    self.pub_neg.next_offer_id = offer_id.wrapping_add(1).max(1);
                    let n = &mut self.pub_neg.neg;
                    n.stage = Stage::Awaiting;
                    n.offer_id = offer_id;
                    n.cids = cids;
                } else {
                    self.sub_neg.last_answered = Some(offer_id);
                }
                let mut params = Map::new();
                put(&mut params, "offer_id", offer_id.into());
                put(&mut params, "sdp", sdp.into());
                let (method, purpose) = if publishing {
                    put(&mut params, "mids", Value::Object(wire_mids));
                    if restart {
                        put(&mut params, "ice_restart", true.into());
                    }
                    ("pub.offer", Purpose::PubOffer { offer_id })
                } else {
                    ("sub.answer", Purpose::SubAnswer)
                };
                self.request(method, Value::Object(params), purpose);
            }
            PeerEvent::RemoteDescriptionSet { .. } => {}
            PeerEvent::IceCandidate { pc, candidate } => {
                let pc = *pc;
                let params = match candidate.take() {
                    Some(c) => ovsp::methods::IceCandidate {
                        pc,
                        candidate: Some(c.candidate),
                        sdp_mid: c.sdp_mid,
                        sdp_m_line_index: c.sdp_m_line_index,
                        username_fragment: c.username_fragment,
                    },
                    None => ovsp::methods::IceCandidate {
                        pc,
                        ..Default::default()
                    },
                };
                self.notify("ice.candidate", params.to_wire());
            }
            PeerEvent::IceState { pc, state } => self.on_ice_state(*pc, *state),
            PeerEvent::RemoteTrack { mid } => {
                if let Some(m) = self.sub_mids.get(mid.as_str()) {
                    let ev = CoreEvent::RemoteTrackAttached {
                        track_id: m.track_id.clone(),
                        member_id: m.member_id.clone(),
                        kind: m.kind,
                        mid: take(mid),
                    };
                    self.emit(ev);
                }
            }
            PeerEvent::DataMessage { data, label, .. } => self.on_data(label, data),
            PeerEvent::Media { track, change } => self.on_media(track, *change),
            PeerEvent::OperationFailed { pc, op, message } => {
                self.on_peer_failure(*pc, *op, take(message))
            }
        }
    }

    fn on_ice_state(&mut self, kind: PcKind, state: IceState) {
        let now = self.now;
        let Some(pc) = self.pc_mut(kind) else { return };
        pc.ice = Some(state);
        match state {
            IceState::Connected => {
                pc.failed_at = None;
                pc.disconnected_at = None;
            }
            IceState::Disconnected if pc.disconnected_at.is_none() => {
                pc.disconnected_at = Some(now);
            }
            IceState::Failed => {
                pc.disconnected_at = None;
                if pc.failed_at.is_none() {
                    pc.failed_at = Some(now);
                    self.start_ice_restart(kind);
                }
            }
            _ => {}
        }
        self.refresh_connection();
    }

    fn on_peer_failure(&mut self, pc: PcKind, op: PeerOpKind, message: String) {
        let err = CoreError::Media(match op {
            PeerOpKind::SetRemoteDescription => MediaError::RemoteDescriptionFailed,
            PeerOpKind::CreateDescription | PeerOpKind::SetLocalDescription => {
                MediaError::LocalDescriptionFailed
            }
            _ => MediaError::Failed {
                code: Code::CLIENT_LOCAL_DESC_FAILED,
                message,
            },
        });
        match pc {
            PcKind::Pub => {
                if matches!(op, PeerOpKind::AddIceCandidate | PeerOpKind::ReplaceTrack) {
                    return; // not fatal to the negotiation
                }
                let n = &mut self.pub_neg.neg;
                let cids = if core::mem::take(&mut n.stage) == Stage::Awaiting {
                    core::mem::take(&mut n.cids)
                } else {
                    let mut cids = Vec::new();
                    for cid in self.publish_waiters.keys() {
                        cids.push(cid.clone());
                    }
                    cids
                };
                // The answer does not apply to this PC: rebuild it (B6.4), once.
                if op == PeerOpKind::SetRemoteDescription && !self.pub_neg.reset_tried {
                    return self.reset_pub(None);
                }
                self.fail_offer(&cids, err);
            }
            _ => {
                if matches!(op, PeerOpKind::AddIceCandidate) {
                    return;
                }
                // Rebuild the sub PC from scratch (B6.4).
                self.sub_neg.neg.stage = Stage::Idle;
                self.request("sub.reset", empty(), Purpose::Internal);
            }
        }
    }

    fn on_media(&mut self, track: &mut MediaRef, change: MediaChange) {
        let ev = match track {
            MediaRef::Local { cid } => {
                let cid = take(cid);
                let track_id = self
                    .state
                    .local_tracks
                    .get(&cid)
                    .and_then(|l| l.track_id.clone());
                CoreEvent::MediaChanged {
                    cid: Some(cid),
                    track_id,
                    member_id: self.state.self_id().map(str::to_owned),
                    local: true,
                    change,
                }
            }
            MediaRef::Remote { mid } => {
                let m = self.sub_mids.get(mid.as_str());
                CoreEvent::MediaChanged {
                    cid: None,
                    track_id: m.map(|m| m.track_id.clone()),
                    member_id: m.map(|m| m.member_id.clone()),
                    local: false,
                    change,
                }
            }
        };
        self.emit(ev);
    }

    /// Parses a data frame (B6.5) and emits [`CoreEvent::DataReceived`].
    fn on_data(&mut self, label: &str, data: &[u8]) {
        let Some(frame) = parse_data_frame(data) else {
            return;
        };
        if label == "ovsp-reliable" {
            let last = self
                .data_seen
                .get_or_insert_with(u64::from(frame.handle), || 0);
            if frame.seq <= *last {
                return;
            }
            *last = frame.seq;
        }
        let (mut track_id, mut member_id) = (None, None);
        'members: for m in self.state.members.values() {
            for t in &m.tracks {
                if t.data_handle == Some(frame.handle) {
                    track_id = Some(t.id.clone());
                    member_id = Some(t.member_id.clone());
                    break 'members;
                }
            }
        }
        self.emit(CoreEvent::DataReceived {
            track_id,
            member_id,
            data_handle: frame.handle,
            payload: frame.payload.to_vec(),
        });
    }
}

/// Durable event types whose content a join snapshot does not carry.
fn snapshot_cannot_hold(event_type: &str) -> bool {
    const TYPES: &[&str] = &[
        "sub.offer",
        "sub.updated",
        "pub.ice_restart_requested",
        "message.received",
        "session.token",
        "session.closing",
        "self.unmute_requested",
        "track.layers_requested",
        "track.subscribed",
        "track.stream_state",
    ];
    TYPES.contains(&event_type)
}

struct DataFrame<'a> {
    handle: u16,
    seq: u32,
    payload: &'a [u8],
}

fn parse_data_frame(b: &[u8]) -> Option<DataFrame<'_>> {
    if b.len() < 8 || b[0] != 1 {
        return None;
    }
    let flags = b[1];
    let handle = u16::from_be_bytes([b[2], b[3]]);
    let seq = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
    let mut i = 8;
    if flags & 1 != 0 {
        let n = *b.get(i)? as usize;
        i += 1;
        for _ in 0..n {
            let len = *b.get(i)? as usize;
            i += 1 + len;
        }
    }
    Some(DataFrame {
        handle,
        seq,
        payload: b.get(i..)?,
    })
}

/// Builds a data frame (B6.5) for sending on the pub PC's data channel.
pub fn encode_data_frame(handle: u16, seq: u32, destinations: &[&str], payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + payload.len());
    v.push(1);
    v.push(u8::from(!destinations.is_empty()));
    v.extend_from_slice(&handle.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    if !destinations.is_empty() {
        v.push(destinations.len().min(255) as u8);
        for d in destinations.iter().take(255) {
            let bytes = &d.as_bytes()[..d.len().min(255)];
            v.push(bytes.len() as u8);
            v.extend_from_slice(bytes);
        }
    }
    v.extend_from_slice(payload);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_frame_roundtrip() {
        let f = encode_data_frame(7, 3, &["mem_a"], b"hi");
        let p = parse_data_frame(&f).expect("frame");
        assert_eq!((p.handle, p.seq, p.payload), (7, 3, &b"hi"[..]));
        assert!(parse_data_frame(&[1, 1, 0, 7, 0, 0, 0, 3, 5]).is_none());
        assert!(parse_data_frame(&[2, 0, 0, 7, 0, 0, 0, 3]).is_none());
    }
}
