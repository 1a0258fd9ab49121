//! The session actor and [`SessionHandle`], the Rust API the JS facades are built on.
//!
//! One `spawn_local` task (the actor) owns the core's `SessionMachine` logic loop and every
//! browser object of a session: the WebSocket, both peer connections, the single re-armed
//! timer (the `devicechange` listener, which `watch_devices` installs, ends with it). Browser
//! callbacks only push a message into the actor's inbox (most of them as a hook's tag and
//! value, see [`super::listener::Handler`]), so the inbox is the one place where the socket,
//! the timer, the peer connections and the facades' commands meet (a merged `select`). Each
//! turn the actor:
//!
//! 1. takes one input (a result of its own peer operations first, then the inbox);
//! 2. feeds it to the machine with the current time;
//! 3. drains every output: frames are sent, peer operations are performed in order (their
//!    results become the next inputs), command completions settle their one-shot replies, and
//!    events are only queued;
//! 4. re-arms the timer to `poll_timeout()`;
//! 5. with no `RefCell` borrow alive, hands the queued events to the subscribers.
//!
//! Subscribers may call back into the handle (commands, `state()`, `leave()`) from inside
//! the callback. When the session ends (leave, destroy, or a fatal disconnect) the actor drops
//! everything it owns: no timer, listener, peer connection or local track survives it.

use super::chan::{oneshot, Inbox, OneshotRx, OneshotTx, Sender};
use super::clock;
use super::element::{self, Attachment};
use super::error::{MediaError, WebError};
use super::js;
use super::listener::{watch, Hook, Listener, Timer, REJECTED};
use super::log::{self, Level};
use super::media::{self, LocalTrack, Source};
use super::peer::{self, Direction, PcRole, Peer, StatsTotals};
use super::ws::{self, Socket};
use crate::cell::RefCell;
use crate::prelude::*;
use alloc::rc::Rc;
use convene_core::ovsp::model::{PcKind, TrackKind};
use convene_core::{
    Command, Config, ConnectionState, CoreError, CoreEvent, IceServer, Input, MisuseError, Output,
    PeerEvent, PeerOp, PeerOpKind, RequestHandle, SdpType, SessionMachine, State,
};
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use ovsp::json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlMediaElement, MediaStreamTrack, RtcRtpTransceiver};

/// What a command resolves to.
pub type CallResult = Result<Value, CoreError>;

/// The completion of a command submitted by [`SessionHandle::call`] (or `publish`,
/// `unpublish`, `leave`, `replace_track`, `mute_track`): a future of its [`CallResult`]. The
/// command is submitted when the reply is created; a session that has ended resolves it as
/// closed.
#[must_use = "the command is submitted either way; await the reply for its result"]
pub struct Reply {
    rx: OneshotRx<CallResult>,
}

impl Reply {
    fn ready(r: CallResult) -> Reply {
        let (tx, rx) = oneshot();
        tx.send(r);
        Reply { rx }
    }
}

impl Future for Reply {
    type Output = CallResult;
    #[inline(never)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<CallResult> {
        match Pin::new(&mut self.rx).poll(cx) {
            Poll::Ready(r) => Poll::Ready(r.unwrap_or_else(|| Err(closed()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Everything a subscriber hears: the core's events plus browser-only media facts.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // events are moved once, into the dispatch queue
pub enum SessionEvent {
    /// An event of the core (members, tracks, connection state, messages, ...).
    Core(CoreEvent),
    /// A fact only the browser layer knows.
    Media(MediaEvent),
}

/// Browser-only media facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// The autoplay policy blocked playback of an attached track; call
    /// [`SessionHandle::resume_playback`] from a user gesture (a click handler).
    AutoplayBlocked {
        /// The attachment key (remote track id or local cid).
        key: String,
    },
    /// Playback of an attached track started.
    Playing {
        /// The attachment key.
        key: String,
    },
    /// The list of media devices changed (`devicechange`); call [`media::devices`] again.
    DevicesChanged,
    /// A published local track ended (device unplugged); the SDK is trying another device.
    LocalTrackEnded {
        /// The local track.
        cid: String,
    },
    /// An ended local track was replaced by another device's track, which is now sent.
    DeviceFallback {
        /// The local track.
        cid: String,
        /// The device now used, if known.
        device_id: Option<String>,
    },
    /// No other device could replace an ended local track.
    DeviceFallbackFailed {
        /// The local track.
        cid: String,
        /// The DOMException name of the failure.
        error: String,
    },
}

type Subscriber = Rc<dyn Fn(&SessionEvent)>;

/// Stats of both peer connections.
#[derive(Debug, Clone, Default)]
pub struct SessionStats {
    /// Totals of the publishing connection.
    pub publish: StatsTotals,
    /// Totals of the subscribing connection.
    pub subscribe: StatsTotals,
    /// The raw `RTCStatsReport` of the publishing connection.
    pub publish_report: Option<web_sys::RtcStatsReport>,
    /// The raw `RTCStatsReport` of the subscribing connection.
    pub subscribe_report: Option<web_sys::RtcStatsReport>,
}

/// What the actor's inbox carries.
pub(crate) enum Msg {
    /// A command of the facades and its reply.
    Call(Command, OneshotTx<CallResult>),
    /// A hook's tag and value (an event, a settled promise, a timer), or a control message
    /// (`DROP`, `SHUTDOWN`) with `undefined`.
    Js(u32, JsValue),
    /// An event of the connection `role` of generation `gen` (and its remote track, see
    /// [`peer::Sink`]).
    Peer(PcRole, u32, PeerEvent, JsValue),
}

// The kinds of `Msg::Js` tags (the low seven bits; bit 7 is `REJECTED`). A generation or id
// sits above the low byte.
/// The socket's events: `WS` plus `ws::OPENED`, `ws::MESSAGE` or `ws::CLOSED`.
const WS: u32 = 0;
const TIMER: u32 = 3;
const DEVICES: u32 = 4;
/// A local track ended (its id above the low byte).
const ENDED: u32 = 5;
/// The output device of an attachment was set (or failed); playback starts next.
const SINK: u32 = 6;
/// Playback of an attachment started (or was refused).
const PLAY: u32 = 7;
/// The capture that replaces an ended local track settled.
const FALLBACK: u32 = 8;
/// What of a generation or id fits above a tag's low byte.
const ID: u32 = 0x00ff_ffff;
const DROP: u32 = 10;
const SHUTDOWN: u32 = 11;

/// A small map from a string key to a JS value by linear search: the received tracks by
/// track id and the transceivers by cid share this one type.
#[derive(Default)]
struct Table(Vec<(String, JsValue)>);

impl Table {
    fn get(&self, key: &str) -> Option<&JsValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn insert(&mut self, key: String, v: JsValue) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = v,
            None => self.0.push((key, v)),
        }
    }

    fn remove(&mut self, key: &str) -> Option<JsValue> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }
}

/// The local tracks the SDK owns, by cid.
#[derive(Default)]
struct Locals(Vec<(String, LocalTrack)>);

impl Locals {
    fn get(&self, cid: &str) -> Option<&LocalTrack> {
        self.0.iter().find(|(k, _)| k == cid).map(|(_, t)| t)
    }

    /// Stores `t` as `cid`; returns the track it replaces (drop it after the borrow ends).
    fn insert(&mut self, cid: &str, t: LocalTrack) -> Option<LocalTrack> {
        match self.0.iter_mut().find(|(k, _)| k == cid) {
            Some(e) => Some(core::mem::replace(&mut e.1, t)),
            None => {
                self.0.push((cid.to_owned(), t));
                None
            }
        }
    }

    fn remove(&mut self, cid: &str) -> Option<LocalTrack> {
        let i = self.0.iter().position(|(k, _)| k == cid)?;
        Some(self.0.remove(i).1)
    }
}

struct Attached {
    id: u32,
    key: String,
    att: Attachment,
    blocked: bool,
}

struct Shared {
    machine: RefCell<SessionMachine>,
    tx: Sender<Msg>,
    hook: Hook,
    subs: RefCell<Vec<(u32, Subscriber)>>,
    /// The next id of a subscription, local track or attachment.
    next: Cell<u32>,
    local: RefCell<Locals>,
    /// The received tracks by remote track id (from `RemoteTrackAttached` until the track is
    /// unpublished or the subscribing connection replaced).
    remote: RefCell<Table>,
    /// The publishing and subscribing connections (which the actor owns), for reading stats.
    pcs: RefCell<[Option<web_sys::RtcPeerConnection>; 2]>,
    attached: RefCell<Vec<Attached>>,
    sink_id: RefCell<Option<String>>,
    /// The `devicechange` listener, once [`SessionHandle::watch_devices`] asked for it.
    devices: RefCell<Option<Listener>>,
    alive: Cell<bool>,
    log_level: Cell<Level>,
    ice_extra: RefCell<Vec<IceServer>>,
}

impl Shared {
    fn logs(&self, at: Level) -> bool {
        at >= self.log_level.get() && at != Level::Silent
    }

    fn log(&self, at: Level, msg: &str, value: &JsValue) {
        log::write(self.log_level.get(), at, msg, value);
    }

    fn send(&self, tag: u32) {
        self.tx.send(Msg::Js(tag, JsValue::UNDEFINED));
    }

    fn id(&self) -> u32 {
        let id = self.next.get();
        // Ids fit above a tag's low byte.
        self.next.set(id.wrapping_add(1) & ID);
        id
    }

    /// Takes ownership of `track` as the local track `cid` (the one it replaces is stopped).
    fn adopt(&self, cid: &str, track: MediaStreamTrack, source: Source) {
        let id = self.id();
        let lt = LocalTrack::hooked(track, source, id, &self.hook, ENDED | id << 8);
        let old = self.local.borrow_mut().insert(cid, lt);
        drop(old);
    }

    /// Starts playback of attachment `id`, routed first to the chosen output device when
    /// `sink`; the outcome comes back as `PLAY`.
    #[inline(never)]
    fn start_play(&self, id: u32, sink: bool) {
        let el = match self.attached.borrow().iter().find(|a| a.id == id) {
            Some(a) => a.att.element().clone(),
            None => return,
        };
        let tag = id << 8;
        if sink {
            if let Some(s) = &*self.sink_id.borrow() {
                if let Ok(p) = element::sink_promise(&el, s) {
                    return watch(p, &self.hook, tag | SINK);
                }
            }
        }
        if let Ok(p) = element::play_promise(&el) {
            watch(p, &self.hook, tag | PLAY);
        }
    }
}

struct Inner {
    shared: Rc<Shared>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: nobody can call leave() any more, so end the session.
        self.shared.send(SHUTDOWN);
    }
}

/// A cloneable handle to one session. All methods take `&self` and never hold a borrow
/// across an `await`. Dropping the last clone ends the session (as [`SessionHandle::destroy`]).
///
/// ```ignore
/// let s = SessionHandle::new(Config::new(url, token, seed));
/// let _sub = s.subscribe(|ev| web_sys::console::log_1(&format!("{ev:?}").into()));
/// s.call(Command::Join).await?;
/// let tracks = media::user_media(&MediaRequest::camera(None)).await?;
/// s.publish(Clone::clone(&tracks[0]), Source::Camera, opts).await?;
/// s.leave().await?;
/// ```
#[derive(Clone)]
pub struct SessionHandle {
    inner: Rc<Inner>,
}

/// A subscription to a session's events; dropping it unsubscribes.
#[must_use = "the subscription ends when dropped"]
pub struct Subscription {
    shared: alloc::rc::Weak<Shared>,
    id: u32,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(s) = self.shared.upgrade() {
            // Dropped after the borrow ends: the callback may own anything.
            let gone = {
                let mut subs = s.subs.borrow_mut();
                let i = subs.iter().position(|(i, _)| *i == self.id);
                i.map(|i| subs.remove(i))
            };
            drop(gone);
        }
    }
}

fn closed() -> CoreError {
    CoreError::Misuse(MisuseError::Closed)
}

/// `Math.random()`.
fn random() -> f64 {
    js::global_num("Math", "random").unwrap_or(0.0)
}

fn random_seed() -> u64 {
    let a = (random() * 4294967296.0) as u64;
    let b = (random() * 4294967296.0) as u64;
    (a << 32) ^ b
}

impl SessionHandle {
    /// Creates a session (state `new`) and starts its actor. Nothing is sent until
    /// `call(Command::Join)`. A zero `config.seed` is replaced by a random one.
    pub fn new(mut config: Config) -> SessionHandle {
        if config.seed == 0 {
            config.seed = random_seed();
        }
        let inbox = Inbox::new();
        let tx = inbox.sender();
        let shared = Rc::new(Shared {
            machine: RefCell::new(SessionMachine::new(config)),
            hook: tx.hook(),
            tx,
            subs: RefCell::default(),
            next: Cell::new(1),
            local: RefCell::default(),
            remote: RefCell::default(),
            pcs: RefCell::default(),
            attached: RefCell::default(),
            sink_id: RefCell::default(),
            devices: RefCell::default(),
            alive: Cell::new(true),
            log_level: Cell::default(),
            ice_extra: RefCell::default(),
        });
        super::listener::spawn(Box::pin(Actor::run(shared.clone(), inbox)));
        SessionHandle {
            inner: Rc::new(Inner { shared }),
        }
    }

    fn shared(&self) -> &Rc<Shared> {
        &self.inner.shared
    }

    /// Sets what the session writes to the console (default [`Level::Warn`]).
    pub fn set_log_level(&self, level: Level) {
        self.shared().log_level.set(level);
    }

    /// Writes `msg` (and `value`, unless undefined) to the console at level `at`, if the
    /// session's level lets it through.
    pub fn log(&self, at: Level, msg: &str, value: &JsValue) {
        self.shared().log(at, msg, value);
    }

    /// ICE servers every peer connection created from now on uses in addition to those the
    /// server announces in `session.connect` (set it before `join`).
    pub fn set_ice_servers(&self, servers: Vec<IceServer>) {
        *self.shared().ice_extra.borrow_mut() = servers;
    }

    /// True until the session has ended (left, destroyed or disconnected for good).
    pub fn is_alive(&self) -> bool {
        self.shared().alive.get()
    }

    /// Submits a command to the core; the returned [`Reply`] resolves to its completion.
    /// A failed `Publish` drops the local track of its cid, a completed `Unpublish` drops it
    /// in any case, and a completed `Leave` ends the session.
    #[inline(never)]
    pub fn call(&self, cmd: Command) -> Reply {
        let (tx, rx) = oneshot();
        if self.is_alive() {
            // A refused message drops `tx`, which resolves the reply as closed.
            self.shared().tx.send(Msg::Call(cmd, tx));
        }
        Reply { rx }
    }

    /// Calls `f` with every event, after the actor has released its borrows. `f` may call any
    /// method of the handle. Events of one turn are delivered in order.
    pub fn subscribe<F: Fn(&SessionEvent) + 'static>(&self, f: F) -> Subscription {
        self.subscribe_rc(Rc::new(f))
    }

    #[inline(never)]
    fn subscribe_rc(&self, f: Subscriber) -> Subscription {
        let s = self.shared();
        let id = s.id();
        s.subs.borrow_mut().push((id, f));
        Subscription {
            shared: Rc::downgrade(s),
            id,
        }
    }

    /// A snapshot of the core's state (room, self, members, tracks, connection state).
    pub fn state(&self) -> State {
        self.shared().machine.borrow().state().clone()
    }

    /// Reads the core's state (room, members, tracks, connection state) through `f`.
    /// Do not call other handle methods from inside `f`.
    #[inline(always)]
    pub fn with_machine<R>(&self, f: impl FnOnce(&SessionMachine) -> R) -> R {
        f(&self.machine())
    }

    /// Borrows the core's machine (see [`SessionHandle::with_machine`]); do not call other
    /// handle methods while the borrow is alive.
    #[inline(never)]
    pub fn machine(&self) -> core::cell::Ref<'_, SessionMachine> {
        self.shared().machine.borrow()
    }

    /// Publishes a local track under the client id `opts.cid`. The SDK takes ownership of the
    /// track: it is stopped on unpublish and leave, and replaced from another device if it
    /// ends while published.
    pub fn publish(
        &self,
        track: MediaStreamTrack,
        source: Source,
        opts: convene_core::PublishOptions,
    ) -> Reply {
        let cid = opts.cid.clone();
        if self.shared().local.borrow().get(&cid).is_some() {
            return Reply::ready(Err(CoreError::Misuse(MisuseError::DuplicateTrack { cid })));
        }
        self.shared().adopt(&cid, track, source);
        self.call(Command::Publish(opts))
    }

    /// Unpublishes and stops the local track `cid`.
    pub fn unpublish(&self, cid: &str) -> Reply {
        let cmd = Command::Unpublish {
            cid: cid.to_owned(),
        };
        self.call(cmd)
    }

    /// Sends `track` in place of the local track `cid` (for example another camera); the old
    /// track is stopped. No renegotiation.
    pub fn replace_track(&self, cid: &str, track: MediaStreamTrack) -> Reply {
        let source = self.shared().local.borrow().get(cid).map(|t| t.source());
        let Some(source) = source else {
            return Reply::ready(Err(CoreError::Misuse(MisuseError::UnknownTrack {
                cid: cid.to_owned(),
            })));
        };
        self.shared().adopt(cid, track, source);
        self.call(Command::ReplaceTrack {
            cid: cid.to_owned(),
        })
    }

    /// Mutes or unmutes the local track `cid` (`track.mute`; the sender stops sending).
    pub fn mute_track(&self, cid: &str, muted: bool) -> Reply {
        if let Some(t) = self.shared().local.borrow().get(cid) {
            t.set_enabled(!muted);
        }
        self.call(Command::MuteTrack {
            cid: cid.to_owned(),
            muted,
        })
    }

    /// The browser track of the local track `cid`.
    pub fn local_track(&self, cid: &str) -> Option<MediaStreamTrack> {
        self.shared()
            .local
            .borrow()
            .get(cid)
            .map(|t| Clone::clone(t.track()))
    }

    /// The cids of the local tracks the SDK owns.
    pub fn local_cids(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (c, _) in &self.shared().local.borrow().0 {
            out.push(c.clone());
        }
        out
    }

    /// The received browser track of the remote track `track_id`, once it arrived.
    pub fn remote_track(&self, track_id: &str) -> Option<MediaStreamTrack> {
        let remote = self.shared().remote.borrow();
        let t = remote.get(track_id).map(|t| t.clone().unchecked_into());
        t
    }

    /// Shows a remote track (by track id) or a local one (by cid) in `el`, or in a new
    /// `<video>`/`<audio>` element, which is returned. Playback starts at once; if the
    /// autoplay policy blocks it, [`MediaEvent::AutoplayBlocked`] is emitted.
    pub fn attach(
        &self,
        key: &str,
        el: Option<HtmlMediaElement>,
    ) -> Result<HtmlMediaElement, WebError> {
        let local = self.local_track(key);
        let is_local = local.is_some();
        let Some(track) = self.remote_track(key).or(local) else {
            return Err(WebError::new("NotFoundError", "no such track"));
        };
        let att = Attachment::new(&track, el)?;
        let el = att.element().clone();
        if is_local {
            // A local preview never plays back its own microphone.
            js::set(&el, "muted", &JsValue::TRUE);
        }
        let s = self.shared();
        let id = s.id();
        s.attached.borrow_mut().push(Attached {
            id,
            key: key.to_owned(),
            att,
            blocked: false,
        });
        s.start_play(id, true);
        Ok(el)
    }

    /// Detaches every attachment of `key` (elements the SDK created are removed).
    pub fn detach(&self, key: &str) {
        let atts = &self.shared().attached;
        loop {
            // Each is dropped after the borrow ends.
            let gone = {
                let mut atts = atts.borrow_mut();
                let i = atts.iter().position(|a| a.key == key);
                i.map(|i| atts.swap_remove(i))
            };
            if gone.is_none() {
                break;
            }
        }
    }

    /// Retries playback of every attachment the autoplay policy blocked. Call it from a user
    /// gesture (for example a click handler).
    pub fn resume_playback(&self) {
        let s = self.shared();
        // Playback starts asynchronously, so the list does not change meanwhile.
        let mut i = 0;
        loop {
            let id = match s.attached.borrow().get(i) {
                Some(a) if a.blocked => a.id,
                Some(_) => 0,
                None => break,
            };
            if id != 0 {
                s.start_play(id, true);
            }
            i += 1;
        }
    }

    /// Routes all remote audio (current and future attachments) to output device `sink_id`.
    /// A device that fails on an element is not remembered.
    pub async fn set_speaker(&self, sink_id: &str) -> Result<(), WebError> {
        JsFuture::from(self.speaker_promise(sink_id)?).await?;
        *self.shared().sink_id.borrow_mut() = Some(sink_id.to_owned());
        Ok(())
    }

    /// Starts routing every attachment to `sink_id`; settles once all are routed.
    fn speaker_promise(&self, sink_id: &str) -> Result<js_sys::Promise, WebError> {
        let all = js_sys::Array::new();
        for a in self.shared().attached.borrow().iter() {
            let p = element::sink_promise(a.att.element(), sink_id)?;
            all.push(&p);
        }
        Ok(js_sys::Promise::all(&all))
    }

    /// Acquires a fresh track for `source` (camera, microphone or screen) with optional
    /// constraints (`undefined` for defaults).
    pub async fn acquire(
        source: Source,
        constraints: &JsValue,
    ) -> Result<MediaStreamTrack, MediaError> {
        let c = if constraints.is_undefined() || constraints.is_null() {
            JsValue::TRUE
        } else {
            constraints.clone()
        };
        let (p, first) = media::acquire_promise(source, c)?;
        let stream = JsFuture::from(p).await?;
        media::first_track(&stream, first)
    }

    /// Emits [`MediaEvent::DevicesChanged`] whenever the device list changes, until the
    /// session ends.
    pub fn watch_devices(&self) {
        let s = self.shared();
        let mut devices = s.devices.borrow_mut();
        if s.alive.get() && devices.is_none() {
            *devices = media::watch_devices(&s.hook, DEVICES).ok();
        }
    }

    /// Stats of both peer connections (requested at once; the future resolves to them).
    pub fn stats(&self) -> impl Future<Output = SessionStats> {
        let p = JsFuture::from(self.stats_promise());
        async move { stats_of(p.await) }
    }

    /// The stats requests of both peer connections, made at once: a promise of the
    /// `[publish, subscribe]` reports (`undefined` for a connection that does not exist).
    pub fn stats_promise(&self) -> js_sys::Promise {
        let all = js_sys::Array::new();
        for pc in self.shared().pcs.borrow().iter() {
            all.push(&pc.as_ref().map_or(JsValue::UNDEFINED, |p| {
                js::call_promise(p, "getStats", &[]).into()
            }));
        }
        js_sys::Promise::all(&all)
    }

    /// Leaves the room (`room.leave`) and ends the session: afterwards no timer, listener,
    /// peer connection or local track of it remains.
    pub fn leave(&self) -> Reply {
        self.call(Command::Leave { reason: None })
    }

    /// Ends the session at once without telling the server (it sees a network loss).
    pub fn destroy(&self) {
        self.shared().send(SHUTDOWN);
    }

    /// Closes the WebSocket as a network failure would (code 4999), for tests of resume.
    #[doc(hidden)]
    pub fn debug_drop_socket(&self) {
        self.shared().send(DROP);
    }
}

/// The stats of both connections from the settled `[publish, subscribe]` reports.
fn stats_of(r: Result<JsValue, JsValue>) -> SessionStats {
    let mut s = SessionStats::default();
    if let Ok(v) = r {
        let a: &js_sys::Array = v.unchecked_ref();
        s.publish_report = report_of(a.get(0), &mut s.publish);
        s.subscribe_report = report_of(a.get(1), &mut s.subscribe);
    }
    s
}

/// The report `v` (if there is one), added to `totals`.
fn report_of(v: JsValue, totals: &mut StatsTotals) -> Option<web_sys::RtcStatsReport> {
    if !v.is_object() {
        return None;
    }
    let r: web_sys::RtcStatsReport = v.unchecked_into();
    totals.add_report(&r);
    Some(r)
}

fn pc_role(k: &PcKind) -> PcRole {
    match k {
        PcKind::Sub => PcRole::Sub,
        _ => PcRole::Pub,
    }
}

/// What wakes the actor up.
enum Wake {
    /// A message from the inbox.
    Msg(Msg),
    /// The awaited browser promise settled.
    Settled(After, Result<JsValue, JsValue>),
    /// An input the actor queued itself is waiting.
    Pending,
}

/// What follows the completion of a command, besides settling its reply.
enum Then {
    /// Nothing.
    Nothing,
    /// Drop the local track `cid` if the command failed (publish).
    DropIfFailed(String),
    /// Drop the local track `cid` (unpublish).
    Drop(String),
    /// End the session (leave).
    End,
}

/// What to do once the awaited browser promise settled: report the outcome of operation `op`
/// on `pc` (a success only for descriptions, of type `sdp_type` when created), unless `ignore`.
struct After {
    pc: PcKind,
    op: PeerOpKind,
    sdp_type: SdpType,
    ignore: bool,
}

fn after(pc: PcKind, op: PeerOpKind) -> After {
    After {
        pc,
        op,
        sdp_type: SdpType::Offer,
        ignore: false,
    }
}

fn missing() -> WebError {
    WebError::new("InvalidStateError", "no such peer connection")
}

struct Actor {
    shared: Rc<Shared>,
    /// The browser promise the actor awaits before it continues, and what follows it.
    wait: Option<(js_sys::Promise, After)>,
    inbox: Inbox<Msg>,
    socket: Option<Socket>,
    sock_gen: u32,
    /// The publishing and subscribing connections (by `PcRole`).
    peers: [Option<Peer>; 2],
    /// The generation of each connection: events of replaced or closed connections carry an
    /// older one and are ignored.
    gens: [u32; 2],
    /// The transceivers of the publishing connection by cid.
    senders: Table,
    /// The track of the last `RemoteTrack` event, which the machine's `RemoteTrackAttached`
    /// files under its track id.
    arrived: JsValue,
    timer: Option<Timer>,
    timer_gen: u32,
    deadline: Option<u64>,
    /// The inputs the actor queued itself, oldest first.
    pending: Vec<Input>,
    /// The pending commands: their replies, and what follows their completion (see
    /// [`Then`]).
    replies: Vec<(RequestHandle, OneshotTx<CallResult>, Then)>,
    next_handle: u64,
    events: Vec<SessionEvent>,
    done: bool,
}

impl Actor {
    /// The actor's task: builds the actor inside the task (the handle only hands over the
    /// shared state and the inbox), then waits for the next wake-up and hands it to
    /// [`Actor::turn`]. All work is synchronous; the only awaits are the inbox and one browser
    /// promise at a time.
    async fn run(shared: Rc<Shared>, inbox: Inbox<Msg>) {
        let mut actor = Actor {
            shared,
            wait: None,
            inbox,
            socket: None,
            sock_gen: 0,
            peers: [None, None],
            gens: [0, 0],
            senders: Table::default(),
            arrived: JsValue::UNDEFINED,
            timer: None,
            timer_gen: 0,
            deadline: None,
            pending: Vec::new(),
            replies: Vec::new(),
            next_handle: 1,
            events: Vec::new(),
            done: false,
        };
        loop {
            let wake = match actor.wait.take() {
                Some((p, after)) => {
                    let r = JsFuture::from(p).await;
                    Wake::Settled(after, r)
                }
                None if actor.pending.is_empty() => Wake::Msg(actor.inbox.recv().await),
                None => Wake::Pending,
            };
            if actor.turn(wake) {
                return;
            }
        }
    }

    /// One step of the loop: takes the input, feeds it to the machine and executes its outputs
    /// until a browser promise must be awaited (`self.wait`) or nothing is left; then re-arms
    /// the timer and delivers the events. True when the session has ended.
    #[inline(never)]
    fn turn(&mut self, wake: Wake) -> bool {
        let input = match wake {
            Wake::Msg(m) => self.on_msg(m),
            Wake::Settled(after, r) => {
                self.settled(after, r);
                None
            }
            Wake::Pending => Some(self.pending.remove(0)),
        };
        if let Some(i) = input {
            self.shared
                .machine
                .borrow_mut()
                .handle_input(Self::now(), i);
        }
        if self.wait.is_none() {
            self.drain();
        }
        if self.wait.is_some() {
            return false;
        }
        self.arm_timer();
        self.dispatch();
        if !self.done {
            return false;
        }
        self.teardown();
        self.dispatch();
        self.shared.subs.borrow_mut().clear();
        true
    }

    fn now() -> u64 {
        clock::now_ms() as u64
    }

    fn pc(&self, r: PcRole) -> Option<&Peer> {
        self.peers[r as usize].as_ref()
    }

    fn media(&mut self, e: MediaEvent) {
        self.events.push(SessionEvent::Media(e));
    }

    fn on_msg(&mut self, m: Msg) -> Option<Input> {
        match m {
            Msg::Call(command, tx) => {
                let handle = self.handle();
                let then = match &command {
                    Command::Publish(o) => Then::DropIfFailed(o.cid.clone()),
                    Command::Unpublish { cid } => Then::Drop(cid.clone()),
                    Command::Leave { .. } => Then::End,
                    _ => Then::Nothing,
                };
                self.replies.push((handle, tx, then));
                Some(Input::Command { handle, command })
            }
            Msg::Js(tag, v) => self.on_js(tag, v),
            Msg::Peer(role, g, ev, track) if g == self.gens[role as usize] => {
                if let PeerEvent::RemoteTrack { .. } = &ev {
                    // The machine answers with `RemoteTrackAttached` (see `observe`) before
                    // the actor reads another message.
                    self.arrived = track;
                }
                Some(Input::Peer(ev))
            }
            Msg::Peer(..) => None,
        }
    }

    fn handle(&mut self) -> RequestHandle {
        let h = RequestHandle(self.next_handle);
        self.next_handle += 1;
        h
    }

    /// A hook's event, a settled background promise or a control message.
    fn on_js(&mut self, tag: u32, v: JsValue) -> Option<Input> {
        let (kind, id) = (tag & 0x7f, tag >> 8);
        let ok = tag & REJECTED == 0;
        match kind {
            _ if kind < TIMER => {
                if id != self.sock_gen & ID {
                    return None;
                }
                match kind - WS {
                    ws::OPENED => Some(Input::SocketOpened),
                    ws::MESSAGE => {
                        let t = ws::data(&v);
                        if self.shared.logs(Level::Trace) {
                            self.shared.log(Level::Trace, "convene: frame in", &t);
                        }
                        // Not JSON, too large or binary: Null, which the machine ignores.
                        Some(Input::FrameReceived(
                            js::parse_json(&t).unwrap_or(Value::Null),
                        ))
                    }
                    _ => {
                        self.socket = None;
                        let (code, reason) = ws::closed(&v);
                        Some(Input::SocketClosed { code, reason })
                    }
                }
            }
            TIMER if id == self.timer_gen & ID => {
                self.timer = None;
                self.deadline = None;
                Some(Input::Timeout)
            }
            DEVICES => {
                self.media(MediaEvent::DevicesChanged);
                None
            }
            ENDED => self.on_local_ended(id),
            SINK => {
                self.shared.start_play(id, false);
                None
            }
            PLAY => {
                let blocked = !ok && js::get_str(&v, "name").as_deref() == Some("NotAllowedError");
                let key = {
                    let mut atts = self.shared.attached.borrow_mut();
                    let key = atts.iter().find(|a| a.id == id)?.key.clone();
                    for a in atts.iter_mut() {
                        if a.key == key {
                            a.blocked = blocked;
                        }
                    }
                    key
                };
                if blocked {
                    self.media(MediaEvent::AutoplayBlocked { key });
                } else if ok {
                    self.media(MediaEvent::Playing { key });
                }
                None
            }
            FALLBACK => self.on_fallback(id, ok, v),
            DROP => {
                if let Some(s) = &self.socket {
                    s.close(4999, "dropped");
                }
                None
            }
            SHUTDOWN => {
                self.done = true;
                None
            }
            _ => None,
        }
    }

    /// The cid and source of the local track with hook id `id`.
    fn local_by_id(&self, id: u32) -> Option<(String, Source)> {
        self.shared
            .local
            .borrow()
            .0
            .iter()
            .find(|(_, t)| t.id() == id)
            .map(|(c, t)| (c.clone(), t.source()))
    }

    /// A published local track ended (device unplugged): capture the same source from any
    /// other device without waiting for it (a permission prompt must not stall the session);
    /// the result comes back as `FALLBACK`.
    fn on_local_ended(&mut self, id: u32) -> Option<Input> {
        let (cid, source) = self.local_by_id(id)?;
        self.media(MediaEvent::LocalTrackEnded { cid: cid.clone() });
        // A screen capture has no other device.
        if !matches!(source, Source::Camera | Source::Microphone) {
            return self.fallback_failed(cid, "NotFoundError");
        }
        match media::acquire_promise(source, JsValue::TRUE) {
            Ok((p, _)) => {
                watch(p, &self.shared.hook, FALLBACK | id << 8);
                None
            }
            Err(e) => self.fallback_failed(cid, e.name()),
        }
    }

    fn on_fallback(&mut self, id: u32, ok: bool, v: JsValue) -> Option<Input> {
        let found = self.local_by_id(id);
        let kind = found.as_ref().map_or("video", |(_, s)| s.kind());
        let fresh = if ok {
            media::first_track(&v, kind)
        } else {
            Err(MediaError::from(v))
        };
        let Some((cid, source)) = found else {
            // Unpublished meanwhile: the new track is not wanted.
            if let Ok(t) = fresh {
                t.stop();
            }
            return None;
        };
        let track = match fresh {
            Ok(t) => t,
            Err(e) => return self.fallback_failed(cid, e.name()),
        };
        let device_id = media::device_id(&track);
        self.shared.adopt(&cid, track, source);
        self.media(MediaEvent::DeviceFallback {
            cid: cid.clone(),
            device_id,
        });
        Some(Input::Command {
            handle: self.handle(),
            command: Command::ReplaceTrack { cid },
        })
    }

    /// No other device replaces the ended local track `cid` (`error`: the DOMException name).
    fn fallback_failed(&mut self, cid: String, error: &str) -> Option<Input> {
        self.media(MediaEvent::DeviceFallbackFailed {
            cid: cid.clone(),
            error: error.to_owned(),
        });
        Some(Input::Peer(PeerEvent::Media {
            track: convene_core::MediaRef::Local { cid },
            change: convene_core::MediaChange::Stopped,
        }))
    }

    /// Continues after an awaited browser promise settled.
    fn settled(&mut self, a: After, r: Result<JsValue, JsValue>) {
        let pc = a.pc;
        let d = match r {
            Ok(d) => d,
            Err(_) if a.ignore => return,
            Err(e) => return self.fail(pc, a.op, WebError::from(e)),
        };
        let ev = match a.op {
            PeerOpKind::CreateDescription => PeerEvent::DescriptionCreated {
                pc,
                sdp_type: a.sdp_type,
                sdp: peer::sdp_of(&d),
            },
            PeerOpKind::SetLocalDescription => {
                let mut mids = ovsp::json::KeyMap::new();
                if pc_role(&pc) == PcRole::Pub {
                    for (cid, t) in &self.senders.0 {
                        if let Some(m) = peer::mid_of(t.unchecked_ref()) {
                            mids.insert(cid.clone(), m);
                        }
                    }
                }
                PeerEvent::LocalDescriptionSet { pc, mids }
            }
            PeerOpKind::SetRemoteDescription => PeerEvent::RemoteDescriptionSet { pc },
            _ => return,
        };
        self.pending.push(Input::Peer(ev));
    }

    fn drain(&mut self) {
        while self.wait.is_none() {
            let out = self.shared.machine.borrow_mut().poll_output();
            let Some(out) = out else { break };
            match out {
                Output::OpenSocket { url, protocol } => {
                    self.socket = None;
                    self.sock_gen += 1;
                    let tag = WS | self.sock_gen << 8;
                    match Socket::open(&url, &protocol, &self.shared.hook, tag) {
                        Ok(s) => self.socket = Some(s),
                        Err(e) => self.socket_lost(e.message),
                    }
                }
                Output::CloseSocket { code, reason } => {
                    if let Some(s) = self.socket.take() {
                        s.close(code, &reason);
                    }
                }
                Output::SendFrame(frame) => {
                    let text = js::json_text(&frame);
                    if self.shared.logs(Level::Trace) {
                        self.shared.log(Level::Trace, "convene: frame out", &text);
                    }
                    if self.socket.as_ref().is_some_and(|s| !s.send(&text)) {
                        self.socket_lost(String::new());
                    }
                }
                Output::Peer(op) => self.peer_op(op),
                Output::Event(e) => {
                    self.observe(&e);
                    self.events.push(SessionEvent::Core(e));
                }
                Output::Completed { handle, result } => {
                    if let Some(i) = self.replies.iter().position(|r| r.0 == handle) {
                        let (_, tx, then) = self.replies.swap_remove(i);
                        self.then(then, result.is_err());
                        tx.send(result);
                    }
                }
            }
        }
    }

    /// What follows a completed command (`failed` when it failed).
    #[inline(never)]
    fn then(&mut self, then: Then, failed: bool) {
        let cid = match then {
            Then::Drop(cid) => cid,
            Then::DropIfFailed(cid) if failed => cid,
            Then::End => return self.done = true,
            _ => return,
        };
        let old = self.shared.local.borrow_mut().remove(&cid);
        drop(old);
    }

    fn socket_lost(&mut self, reason: String) {
        self.socket = None;
        self.pending
            .push(Input::SocketClosed { code: 1006, reason });
    }

    fn observe(&mut self, e: &CoreEvent) {
        if self.shared.logs(Level::Debug) {
            self.shared
                .log(Level::Debug, "convene: event", &e.kind().into());
        }
        match e {
            CoreEvent::RemoteTrackAttached { track_id, .. } => {
                let track = core::mem::take(&mut self.arrived);
                self.shared
                    .remote
                    .borrow_mut()
                    .insert(track_id.clone(), track);
            }
            CoreEvent::TrackUnpublished {
                track,
                local: false,
                ..
            } => {
                self.shared.remote.borrow_mut().remove(&track.id);
            }
            CoreEvent::ConnectionStateChanged { state } => {
                self.shared
                    .log(Level::Info, "convene: connection", &state.name().into());
                // Disconnected is final (a failed join ends there without `room_left`).
                if let ConnectionState::Disconnected { error } = state {
                    if let Some(e) = error {
                        self.shared
                            .log(Level::Info, "convene: disconnected", &e.message().into());
                    }
                    self.done = true;
                }
            }
            CoreEvent::RoomLeft { .. } => self.done = true,
            _ => {}
        }
    }

    fn fail(&mut self, pc: PcKind, op: PeerOpKind, e: WebError) {
        let message = e.text();
        self.shared.log(
            Level::Warn,
            "convene: peer operation failed",
            &message.as_str().into(),
        );
        self.pending
            .push(Input::Peer(PeerEvent::OperationFailed { pc, op, message }));
    }

    fn local(&self, cid: &str) -> Option<MediaStreamTrack> {
        self.shared
            .local
            .borrow()
            .get(cid)
            .map(|t| Clone::clone(t.track()))
    }

    /// Performs one peer operation; an asynchronous one leaves its promise in `self.wait`.
    fn peer_op(&mut self, op: PeerOp) {
        use PeerOpKind as K;
        // The operations on an existing connection that settle a promise.
        let (pc, kind, sdp_type) = match &op {
            PeerOp::CreateOffer { pc, .. } => (*pc, K::CreateDescription, SdpType::Offer),
            PeerOp::CreateAnswer { pc } => (*pc, K::CreateDescription, SdpType::Answer),
            PeerOp::SetLocalDescription { pc, .. } => (*pc, K::SetLocalDescription, SdpType::Offer),
            PeerOp::SetRemoteDescription { pc, .. } => {
                (*pc, K::SetRemoteDescription, SdpType::Offer)
            }
            PeerOp::AddIceCandidate { pc, .. } => (*pc, K::AddIceCandidate, SdpType::Offer),
            _ => return self.other_op(op),
        };
        let Some(p) = self.pc(pc_role(&pc)) else {
            return self.fail(pc, kind, missing());
        };
        let promise = match &op {
            PeerOp::CreateOffer { ice_restart, .. } => p.offer_promise(*ice_restart),
            PeerOp::SetLocalDescription { sdp_type, sdp, .. } => {
                p.describe_promise(false, *sdp_type, sdp)
            }
            PeerOp::SetRemoteDescription { sdp_type, sdp, .. } => {
                p.describe_promise(true, *sdp_type, sdp)
            }
            PeerOp::AddIceCandidate { candidate, .. } => {
                p.add_candidate_promise(candidate.as_ref())
            }
            _ => p.answer_promise(),
        };
        let mut a = after(pc, kind);
        a.sdp_type = sdp_type;
        self.wait = Some((promise, a));
    }

    fn other_op(&mut self, op: PeerOp) {
        match op {
            PeerOp::CreatePc { pc, ice_servers } => {
                let role = pc_role(&pc);
                let g = self.bump(role);
                let tx = self.shared.tx.clone();
                let extra = self.shared.ice_extra.borrow();
                let created = Peer::create(
                    role,
                    &[&ice_servers, &extra],
                    Rc::new(move |ev, track| {
                        tx.send(Msg::Peer(role, g, ev, track));
                    }),
                );
                drop(extra);
                match created {
                    Ok(mut p) => {
                        if role == PcRole::Pub {
                            p.open_data_channels();
                        }
                        self.set_pc(role, Some(p));
                    }
                    Err(e) => self.fail(pc, PeerOpKind::CreatePc, e),
                }
            }
            PeerOp::AddTransceiver { cid, kind } => {
                let track = self.local(&cid);
                let Some(p) = self.pc(PcRole::Pub) else {
                    return self.fail(PcKind::Pub, PeerOpKind::AddTransceiver, missing());
                };
                let k = match kind {
                    TrackKind::Audio => "audio",
                    _ => "video",
                };
                let t = p.add_transceiver(track.as_ref(), k, Direction::SendOnly, None);
                self.senders.insert(cid, t.into());
            }
            PeerOp::ReplaceTrack { cid, detach } => {
                let track = if detach { None } else { self.local(&cid) };
                let (pc, op) = (PcKind::Pub, PeerOpKind::ReplaceTrack);
                let Some(t) = self.senders.get(&cid) else {
                    return self.fail(pc, op, missing());
                };
                let p = Peer::replace_track_promise(t.unchecked_ref(), track.as_ref());
                self.wait = Some((p, after(pc, op)));
            }
            PeerOp::RemoveTransceiver { cid } => {
                if let Some(t) = self.senders.remove(&cid) {
                    let t: RtcRtpTransceiver = t.unchecked_into();
                    Peer::set_direction(&t, Direction::Inactive);
                    let p = Peer::replace_track_promise(&t, None);
                    let mut a = after(PcKind::Pub, PeerOpKind::ReplaceTrack);
                    a.ignore = true;
                    self.wait = Some((p, a));
                }
            }
            PeerOp::RestartIce { pc } => {
                if let Some(p) = self.pc(pc_role(&pc)) {
                    p.restart_ice();
                }
            }
            PeerOp::SendData { label, data } => {
                if let Some(Err(e)) = self.pc(PcRole::Pub).map(|p| p.send_data(&label, &data)) {
                    self.shared.log(
                        Level::Warn,
                        "convene: data not sent",
                        &e.text().as_str().into(),
                    );
                }
            }
            PeerOp::ClosePc { pc } => {
                let role = pc_role(&pc);
                self.bump(role);
                self.set_pc(role, None);
            }
            _ => {}
        }
    }

    fn bump(&mut self, r: PcRole) -> u32 {
        let g = &mut self.gens[r as usize];
        *g += 1;
        *g
    }

    fn arm_timer(&mut self) {
        let deadline = self.shared.machine.borrow().poll_timeout();
        if deadline == self.deadline && (self.timer.is_some() || deadline.is_none()) {
            return;
        }
        self.deadline = deadline;
        self.timer = None;
        if let Some(d) = deadline {
            self.timer_gen += 1;
            let delay = d.saturating_sub(Self::now()).min(i32::MAX as u64) as i32;
            self.timer = Some(Timer::hook(
                delay,
                &self.shared.hook,
                TIMER | self.timer_gen << 8,
            ));
        }
    }

    fn dispatch(&mut self) {
        let events = core::mem::take(&mut self.events);
        // Subscribers run in the order they subscribed (their ids grow, and `subs` keeps that
        // order), each looked up anew before its call: a callback may unsubscribe anyone, and
        // who subscribes during the delivery of an event hears the next one.
        for ev in &events {
            let end = self.shared.next.get();
            let mut last = 0;
            loop {
                let next = self
                    .shared
                    .subs
                    .borrow()
                    .iter()
                    .find(|(id, _)| *id > last && *id < end)
                    .map(|(id, f)| (*id, f.clone()));
                let Some((id, f)) = next else { break };
                last = id;
                f(ev);
            }
        }
    }

    /// Puts `p` in the slot of connection `role` (the one it replaces is closed) and forgets
    /// what belonged to the old one: its transceivers or its received tracks.
    fn set_pc(&mut self, role: PcRole, p: Option<Peer>) {
        self.shared.pcs.borrow_mut()[role as usize] = p.as_ref().map(|p| p.raw().clone());
        if role == PcRole::Pub {
            self.senders.0.clear();
        } else {
            self.shared.remote.borrow_mut().0.clear();
        }
        let old = core::mem::replace(&mut self.peers[role as usize], p);
        drop(old);
    }

    fn teardown(&mut self) {
        self.shared.alive.set(false);
        self.timer = None;
        let devices = self.shared.devices.borrow_mut().take();
        drop(devices);
        self.socket = None;
        // stop() fires no event, so nothing runs while the table is borrowed; closing the
        // subscribing connection below empties it.
        for (_, t) in &self.shared.remote.borrow().0 {
            t.unchecked_ref::<MediaStreamTrack>().stop();
        }
        self.set_pc(PcRole::Pub, None);
        self.set_pc(PcRole::Sub, None);
        let local = core::mem::take(&mut *self.shared.local.borrow_mut());
        drop(local);
        let attached = core::mem::take(&mut *self.shared.attached.borrow_mut());
        drop(attached);
        // A reply whose sender is dropped resolves as closed (see `Reply`).
        self.replies.clear();
    }
}
