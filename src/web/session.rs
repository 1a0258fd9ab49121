//! The session actor and [`SessionHandle`], the Rust API the JS facades are built on.
//!
//! One `spawn_local` task (the actor) owns the core's `SessionMachine` logic loop and every
//! browser object of a session: the WebSocket, both peer connections, the single re-armed
//! timer, the `devicechange` listener. Browser callbacks only push a message into the actor's
//! inbox, so the inbox is the one place where the socket, the timer, the peer connections and
//! the facades' commands meet (a merged `select`). Each turn the actor:
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
use super::element::{self, Attachment, PlayOutcome};
use super::error::{MediaError, WebError};
use super::listener::{Listener, Timer};
use super::log::{self, Level};
use super::media::{self, LocalTrack, MediaRequest, Source};
use super::peer::{self, ConnState, Direction, PcRole, Peer, PeerSignal, SdpKind, StatsTotals};
use super::ws::{Socket, SocketEvent};
use convene_core::ovsp::model::{PcKind, TrackKind};
use convene_core::{
    Command, Config, ConnectionState, CoreError, CoreEvent, IceCandidate, IceServer, IceState,
    Input, MisuseError, Output, PeerEvent, PeerOp, PeerOpKind, RequestHandle, SdpType,
    SessionMachine, State, VecMap,
};
use ovsp::json::Value;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlMediaElement, MediaStreamTrack, RtcRtpTransceiver};

/// What a command resolves to.
pub type CallResult = Result<Value, CoreError>;

/// The completion of a command submitted by [`SessionHandle::call`] (or `replace_track`,
/// `mute_track`): a future of its [`CallResult`]. The command is submitted when the reply is
/// created; a session that has ended resolves it as closed.
#[must_use = "the command is submitted either way; await the reply for its result"]
pub struct Reply(OneshotRx<CallResult>);

impl Reply {
    fn ready(r: CallResult) -> Reply {
        let (tx, rx) = oneshot();
        tx.send(r);
        Reply(rx)
    }
}

impl Future for Reply {
    type Output = CallResult;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<CallResult> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or_else(|| Err(closed())))
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

enum Msg {
    Call(Command, OneshotTx<CallResult>),
    Socket(u32, SocketEvent),
    Peer(PcRole, u32, PeerSignal),
    Timer(u32),
    LocalEnded(String),
    Fallback(String, Result<LocalTrack, MediaError>),
    WatchDevices,
    Devices,
    Played(String, PlayOutcome),
    Stats(OneshotTx<SessionStats>),
    DropSocket,
    Shutdown,
}

struct Attached {
    key: String,
    att: Attachment,
    blocked: bool,
}

struct Shared {
    machine: RefCell<SessionMachine>,
    tx: Sender<Msg>,
    subs: RefCell<Vec<(u64, Subscriber)>>,
    next_sub: Cell<u64>,
    local: RefCell<VecMap<String, LocalTrack>>,
    remote: RefCell<VecMap<String, MediaStreamTrack>>,
    track_mid: RefCell<VecMap<String, String>>,
    attached: RefCell<Vec<Attached>>,
    sink_id: RefCell<Option<String>>,
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
}

struct Inner {
    shared: Rc<Shared>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: nobody can call leave() any more, so end the session.
        self.shared.tx.send(Msg::Shutdown);
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
    shared: std::rc::Weak<Shared>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(s) = self.shared.upgrade() {
            s.subs.borrow_mut().retain(|(i, _)| *i != self.id);
        }
    }
}

fn closed() -> CoreError {
    CoreError::Misuse(MisuseError::Closed)
}

fn random_seed() -> u64 {
    let a = (js_sys::Math::random() * 4294967296.0) as u64;
    let b = (js_sys::Math::random() * 4294967296.0) as u64;
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
        let shared = Rc::new(Shared {
            machine: RefCell::new(SessionMachine::new(config)),
            tx: inbox.sender(),
            subs: RefCell::new(Vec::new()),
            next_sub: Cell::new(1),
            local: RefCell::new(VecMap::new()),
            remote: RefCell::new(VecMap::new()),
            track_mid: RefCell::new(VecMap::new()),
            attached: RefCell::new(Vec::new()),
            sink_id: RefCell::new(None),
            alive: Cell::new(true),
            log_level: Cell::new(Level::default()),
            ice_extra: RefCell::new(Vec::new()),
        });
        let actor = Actor {
            shared: shared.clone(),
            wait: None,
            inbox,
            socket: None,
            sock_gen: 0,
            pub_pc: None,
            sub_pc: None,
            pub_gen: 0,
            sub_gen: 0,
            senders: VecMap::new(),
            timer: None,
            timer_gen: 0,
            deadline: None,
            pending: VecDeque::new(),
            replies: VecMap::new(),
            next_handle: 1,
            events: Vec::new(),
            devices: None,
            done: false,
        };
        wasm_bindgen_futures::spawn_local(actor.run());
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
    pub fn call(&self, cmd: Command) -> Reply {
        let (tx, rx) = oneshot();
        if self.is_alive() {
            // A refused message drops `tx`, which resolves the reply as closed.
            self.shared().tx.send(Msg::Call(cmd, tx));
        }
        Reply(rx)
    }

    /// Calls `f` with every event, after the actor has released its borrows. `f` may call any
    /// method of the handle. Events of one turn are delivered in order.
    pub fn subscribe<F: Fn(&SessionEvent) + 'static>(&self, f: F) -> Subscription {
        self.subscribe_rc(Rc::new(f))
    }

    #[inline(never)]
    fn subscribe_rc(&self, f: Subscriber) -> Subscription {
        let s = self.shared();
        let id = s.next_sub.get();
        s.next_sub.set(id + 1);
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
    pub fn with_machine<R>(&self, f: impl FnOnce(&SessionMachine) -> R) -> R {
        f(&self.machine())
    }

    #[inline(never)]
    fn machine(&self) -> std::cell::Ref<'_, SessionMachine> {
        self.shared().machine.borrow()
    }

    /// Publishes a local track under the client id `opts.cid`. The SDK takes ownership of the
    /// track: it is stopped on unpublish and leave, and replaced from another device if it
    /// ends while published.
    pub async fn publish(
        &self,
        track: MediaStreamTrack,
        source: Source,
        opts: convene_core::PublishOptions,
    ) -> CallResult {
        let cid = opts.cid.clone();
        if self.shared().local.borrow().contains_key(&cid) {
            return Err(CoreError::Misuse(MisuseError::DuplicateTrack { cid }));
        }
        self.adopt(&cid, track, source);
        let r = self.call(Command::Publish(opts)).await;
        if r.is_err() {
            let old = self.shared().local.borrow_mut().remove(&cid);
            drop(old);
        }
        r
    }

    fn adopt(&self, cid: &str, track: MediaStreamTrack, source: Source) {
        let tx = self.shared().tx.clone();
        let c = cid.to_owned();
        let lt = LocalTrack::new(track, source, move || {
            tx.send(Msg::LocalEnded(c.clone()));
        });
        let old = self.shared().local.borrow_mut().insert(cid.to_owned(), lt);
        drop(old);
    }

    /// Unpublishes and stops the local track `cid`.
    pub async fn unpublish(&self, cid: &str) -> CallResult {
        let r = self
            .call(Command::Unpublish {
                cid: cid.to_owned(),
            })
            .await;
        let old = self.shared().local.borrow_mut().remove(cid);
        drop(old);
        r
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
        self.adopt(cid, track, source);
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
        self.shared().local.borrow().keys().cloned().collect()
    }

    /// The received browser track of the remote track `track_id`, once it arrived.
    pub fn remote_track(&self, track_id: &str) -> Option<MediaStreamTrack> {
        let s = self.shared();
        let mid = s.track_mid.borrow().get(track_id).cloned()?;
        let t = s.remote.borrow().get(&mid).cloned();
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
        let track = self
            .remote_track(key)
            .or_else(|| self.local_track(key))
            .ok_or_else(|| WebError::new("NotFoundError", "no such track"))?;
        let att = Attachment::new(&track, el)?;
        if self.local_track(key).is_some() {
            // A local preview never plays back its own microphone.
            att.element().set_muted(true);
        }
        let el = att.element().clone();
        self.shared().attached.borrow_mut().push(Attached {
            key: key.to_owned(),
            att,
            blocked: false,
        });
        self.start_play(key, &el);
        Ok(el)
    }

    fn start_play(&self, key: &str, el: &HtmlMediaElement) {
        let tx = self.shared().tx.clone();
        let sink = self.shared().sink_id.borrow().clone();
        let (key, el) = (key.to_owned(), el.clone());
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(id) = sink {
                let _ = element::set_sink_id(&el, &id).await;
            }
            let outcome = element::play(&el).await;
            tx.send(Msg::Played(key, outcome));
        });
    }

    /// Detaches every attachment of `key` (elements the SDK created are removed).
    pub fn detach(&self, key: &str) {
        let gone: Vec<Attached> = {
            let mut a = self.shared().attached.borrow_mut();
            let (gone, keep) = std::mem::take(&mut *a)
                .into_iter()
                .partition(|x| x.key == key);
            *a = keep;
            gone
        };
        drop(gone);
    }

    /// Retries playback of every attachment the autoplay policy blocked. Call it from a user
    /// gesture (for example a click handler).
    pub fn resume_playback(&self) {
        let blocked: Vec<(String, HtmlMediaElement)> = self
            .shared()
            .attached
            .borrow()
            .iter()
            .filter(|a| a.blocked)
            .map(|a| (a.key.clone(), a.att.element().clone()))
            .collect();
        for (k, el) in blocked {
            self.start_play(&k, &el);
        }
    }

    /// Routes all remote audio (current and future attachments) to output device `sink_id`.
    /// A device that fails on an element is not remembered.
    pub async fn set_speaker(&self, sink_id: &str) -> Result<(), WebError> {
        let els: Vec<HtmlMediaElement> = self
            .shared()
            .attached
            .borrow()
            .iter()
            .map(|a| a.att.element().clone())
            .collect();
        for el in els {
            element::set_sink_id(&el, sink_id).await?;
        }
        *self.shared().sink_id.borrow_mut() = Some(sink_id.to_owned());
        Ok(())
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
        let (p, first) = match source {
            Source::Microphone => (
                media::user_media_promise(&MediaRequest {
                    audio: c,
                    video: JsValue::UNDEFINED,
                })?,
                "audio",
            ),
            Source::Camera | Source::Custom => (
                media::user_media_promise(&MediaRequest {
                    audio: JsValue::UNDEFINED,
                    video: c,
                })?,
                "audio",
            ),
            Source::Screen | Source::ScreenAudio => {
                (media::display_media_promise(&c, false)?, "video")
            }
        };
        let stream = JsFuture::from(p).await.map_err(MediaError::from)?;
        let tracks = media::tracks_of(&stream, first);
        let mut it = tracks.into_iter();
        let first = it.next().ok_or_else(|| {
            MediaError::NotFound(WebError::new("NotFoundError", "no track returned"))
        })?;
        for extra in it {
            extra.stop();
        }
        Ok(first)
    }

    /// Emits [`MediaEvent::DevicesChanged`] whenever the device list changes, until the
    /// session ends.
    pub fn watch_devices(&self) {
        self.shared().tx.send(Msg::WatchDevices);
    }

    /// Stats of both peer connections (requested at once; the future resolves to them).
    pub fn stats(&self) -> impl Future<Output = SessionStats> {
        let (tx, rx) = oneshot();
        // A refused message drops `tx`: the reply resolves to empty stats.
        self.shared().tx.send(Msg::Stats(tx));
        async move { rx.await.unwrap_or_default() }
    }

    /// Leaves the room (`room.leave`) and ends the session: afterwards no timer, listener,
    /// peer connection or local track of it remains.
    pub async fn leave(&self) -> CallResult {
        let r = self.call(Command::Leave { reason: None }).await;
        self.destroy();
        r
    }

    /// Ends the session at once without telling the server (it sees a network loss).
    pub fn destroy(&self) {
        self.shared().tx.send(Msg::Shutdown);
    }

    /// Closes the WebSocket as a network failure would (code 4999), for tests of resume.
    #[doc(hidden)]
    pub fn debug_drop_socket(&self) {
        self.shared().tx.send(Msg::DropSocket);
    }
}

fn pc_role(k: &PcKind) -> PcRole {
    match k {
        PcKind::Sub => PcRole::Sub,
        _ => PcRole::Pub,
    }
}

fn pc_kind(r: PcRole) -> PcKind {
    match r {
        PcRole::Pub => PcKind::Pub,
        PcRole::Sub => PcKind::Sub,
    }
}

fn ice_state(s: ConnState) -> IceState {
    match s {
        ConnState::New => IceState::New,
        ConnState::Connecting => IceState::Checking,
        ConnState::Connected => IceState::Connected,
        ConnState::Disconnected => IceState::Disconnected,
        ConnState::Failed => IceState::Failed,
        ConnState::Closed => IceState::Closed,
    }
}

fn sdp_kind(t: SdpType) -> SdpKind {
    match t {
        SdpType::Offer => SdpKind::Offer,
        SdpType::Answer => SdpKind::Answer,
    }
}

fn to_candidate(c: peer::IceCandidate) -> IceCandidate {
    IceCandidate {
        candidate: c.candidate,
        sdp_mid: c.sdp_mid,
        sdp_m_line_index: c.sdp_m_line_index,
        username_fragment: c.username_fragment,
    }
}

fn from_candidate(c: &IceCandidate) -> peer::IceCandidate {
    peer::IceCandidate {
        candidate: c.candidate.clone(),
        sdp_mid: c.sdp_mid.clone(),
        sdp_m_line_index: c.sdp_m_line_index,
        username_fragment: c.username_fragment.clone(),
    }
}

fn servers<'a>(list: impl Iterator<Item = &'a IceServer>) -> Vec<peer::IceServer> {
    list.map(|s| peer::IceServer {
        urls: s.urls.clone(),
        username: s.username.clone(),
        credential: s.credential.clone(),
    })
    .collect()
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

/// A stats request being answered: the reply and what was read so far.
type StatsReply = (OneshotTx<SessionStats>, SessionStats);

/// What to do once the awaited browser promise settled.
enum After {
    /// Nothing (the track of a removed transceiver was released).
    Ignore,
    /// Only a failure matters: it is reported to the core as a failed `op`.
    Check(PcKind, PeerOpKind),
    /// An offer or answer was created.
    Described(PcKind, SdpType),
    /// The local description was applied.
    LocalSet(PcKind),
    /// The remote description was applied.
    RemoteSet(PcKind),
    /// A stats report of connection `role` was read.
    Stats(PcRole, Box<StatsReply>),
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
    pub_pc: Option<Peer>,
    sub_pc: Option<Peer>,
    pub_gen: u32,
    sub_gen: u32,
    senders: VecMap<String, RtcRtpTransceiver>,
    timer: Option<Timer>,
    timer_gen: u32,
    deadline: Option<u64>,
    pending: VecDeque<Input>,
    replies: VecMap<RequestHandle, OneshotTx<CallResult>>,
    next_handle: u64,
    events: Vec<SessionEvent>,
    devices: Option<Listener>,
    done: bool,
}

impl Actor {
    /// The actor's task: waits for the next wake-up and hands it to [`Actor::turn`]. All work
    /// is synchronous; the only awaits are the inbox and one browser promise at a time.
    async fn run(mut self) {
        loop {
            let wake = match self.wait.take() {
                Some((p, after)) => {
                    let r = JsFuture::from(p).await;
                    Wake::Settled(after, r)
                }
                None if self.pending.is_empty() => Wake::Msg(self.inbox.recv().await),
                None => Wake::Pending,
            };
            if self.turn(wake) {
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
                self.settled(after, r.map_err(WebError::from));
                None
            }
            Wake::Pending => self.pending.pop_front(),
        };
        if let Some(i) = input {
            self.feed(i);
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

    fn feed(&mut self, input: Input) {
        self.shared
            .machine
            .borrow_mut()
            .handle_input(Self::now(), input);
    }

    fn pc(&self, r: PcRole) -> Option<&Peer> {
        match r {
            PcRole::Pub => self.pub_pc.as_ref(),
            PcRole::Sub => self.sub_pc.as_ref(),
        }
    }

    fn on_msg(&mut self, m: Msg) -> Option<Input> {
        match m {
            Msg::Call(command, tx) => {
                let handle = RequestHandle(self.next_handle);
                self.next_handle += 1;
                self.replies.insert(handle, tx);
                Some(Input::Command { handle, command })
            }
            Msg::Socket(g, ev) if g == self.sock_gen => match ev {
                SocketEvent::Opened { .. } => Some(Input::SocketOpened),
                SocketEvent::Text(t) => {
                    if self.shared.logs(Level::Trace) {
                        self.shared
                            .log(Level::Trace, "convene: frame in", &t.as_str().into());
                    }
                    Some(Input::FrameReceived(t))
                }
                SocketEvent::Closed { code, reason, .. } => {
                    self.socket = None;
                    Some(Input::SocketClosed { code, reason })
                }
                SocketEvent::Error => None,
            },
            Msg::Socket(..) => None,
            Msg::Peer(role, g, sig) if g == self.gen(role) => self.on_peer(role, sig),
            Msg::Peer(..) => None,
            Msg::Timer(g) if g == self.timer_gen => {
                self.timer = None;
                self.deadline = None;
                Some(Input::Timeout)
            }
            Msg::Timer(_) => None,
            Msg::LocalEnded(cid) => self.on_local_ended(cid),
            Msg::Fallback(cid, fresh) => self.on_fallback(cid, fresh),
            Msg::WatchDevices => {
                if self.devices.is_none() {
                    let tx = self.shared.tx.clone();
                    self.devices = media::watch_devices(move || {
                        tx.send(Msg::Devices);
                    })
                    .ok();
                }
                None
            }
            Msg::Devices => {
                self.events
                    .push(SessionEvent::Media(MediaEvent::DevicesChanged));
                None
            }
            Msg::Played(key, outcome) => {
                let blocked = outcome == PlayOutcome::AutoplayBlocked;
                for a in self.shared.attached.borrow_mut().iter_mut() {
                    if a.key == key {
                        a.blocked = blocked;
                    }
                }
                match outcome {
                    PlayOutcome::AutoplayBlocked => self
                        .events
                        .push(SessionEvent::Media(MediaEvent::AutoplayBlocked { key })),
                    PlayOutcome::Playing => self
                        .events
                        .push(SessionEvent::Media(MediaEvent::Playing { key })),
                    PlayOutcome::Failed(_) => {}
                }
                None
            }
            Msg::Stats(tx) => {
                self.next_stats(PcRole::Pub, Box::new((tx, SessionStats::default())));
                None
            }
            Msg::DropSocket => {
                if let Some(s) = &self.socket {
                    s.close(4999, "dropped");
                }
                None
            }
            Msg::Shutdown => {
                self.done = true;
                None
            }
        }
    }

    fn on_peer(&mut self, role: PcRole, sig: PeerSignal) -> Option<Input> {
        let pc = pc_kind(role);
        let ev = match sig {
            PeerSignal::Candidate(c) => PeerEvent::IceCandidate {
                pc,
                candidate: c.map(to_candidate),
            },
            PeerSignal::Connection(s) => PeerEvent::IceState {
                pc,
                state: ice_state(s),
            },
            // The connection state (ICE + DTLS) is what the core acts on.
            PeerSignal::Ice(_) => return None,
            PeerSignal::Track { mid, track } => {
                let mid = mid?;
                self.shared.remote.borrow_mut().insert(mid.clone(), track);
                PeerEvent::RemoteTrack { mid }
            }
            PeerSignal::Channel(_) | PeerSignal::ChannelOpen(_) => return None,
            PeerSignal::Data { label, data } => PeerEvent::DataMessage { pc, label, data },
        };
        Some(Input::Peer(ev))
    }

    /// A published local track ended (device unplugged): capture the same source from any
    /// other device in a separate task (a permission prompt must not stall the session); the
    /// result comes back as `Msg::Fallback`.
    fn on_local_ended(&mut self, cid: String) -> Option<Input> {
        let source = self.shared.local.borrow().get(&cid).map(|t| t.source())?;
        self.events
            .push(SessionEvent::Media(MediaEvent::LocalTrackEnded {
                cid: cid.clone(),
            }));
        let tx = self.shared.tx.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let fresh = match source {
                Source::Camera | Source::Microphone => {
                    SessionHandle::acquire(source, &JsValue::UNDEFINED).await
                }
                _ => Err(MediaError::NotFound(WebError::new(
                    "NotFoundError",
                    "screen capture ended",
                ))),
            };
            // Wrapped at once, so the track is stopped if the session is gone by now.
            let fresh = fresh.map(|track| {
                let (t, c) = (tx.clone(), cid.clone());
                LocalTrack::new(track, source, move || {
                    t.send(Msg::LocalEnded(c.clone()));
                })
            });
            tx.send(Msg::Fallback(cid, fresh));
        });
        None
    }

    fn on_fallback(&mut self, cid: String, fresh: Result<LocalTrack, MediaError>) -> Option<Input> {
        if !self.shared.local.borrow().contains_key(&cid) {
            return None; // unpublished meanwhile; `fresh` is dropped and stopped
        }
        match fresh {
            Ok(lt) => {
                let device_id = lt.device_id();
                let old = self.shared.local.borrow_mut().insert(cid.clone(), lt);
                drop(old);
                self.events
                    .push(SessionEvent::Media(MediaEvent::DeviceFallback {
                        cid: cid.clone(),
                        device_id,
                    }));
                let handle = RequestHandle(self.next_handle);
                self.next_handle += 1;
                Some(Input::Command {
                    handle,
                    command: Command::ReplaceTrack { cid },
                })
            }
            Err(e) => {
                self.events
                    .push(SessionEvent::Media(MediaEvent::DeviceFallbackFailed {
                        cid: cid.clone(),
                        error: e.name().to_owned(),
                    }));
                Some(Input::Peer(PeerEvent::Media {
                    track: convene_core::MediaRef::Local { cid },
                    change: convene_core::MediaChange::Stopped,
                }))
            }
        }
    }

    /// Reads the report of the first connection from `from` on (publishing, then subscribing)
    /// through `self.wait`; replies once there is none left.
    fn next_stats(&mut self, from: PcRole, acc: Box<StatsReply>) {
        let next = match (from, &self.pub_pc, &self.sub_pc) {
            (PcRole::Pub, Some(p), _) => Some((PcRole::Pub, p)),
            (_, _, Some(p)) => Some((PcRole::Sub, p)),
            _ => None,
        };
        match next {
            Some((role, p)) => self.wait = Some((p.stats_promise(), After::Stats(role, acc))),
            None => {
                let (tx, s) = *acc;
                tx.send(s);
            }
        }
    }

    /// Continues after an awaited browser promise settled.
    fn settled(&mut self, after: After, r: Result<JsValue, WebError>) {
        let ev = match (after, r) {
            (After::Stats(role, acc), r) => return self.stats_report(role, acc, r.ok()),
            (After::Ignore, _) | (After::Check(..), Ok(_)) => return,
            (After::Check(pc, op), Err(e)) => return self.fail(pc, op, e),
            (After::Described(pc, _), Err(e)) => {
                return self.fail(pc, PeerOpKind::CreateDescription, e)
            }
            (After::LocalSet(pc), Err(e)) => {
                return self.fail(pc, PeerOpKind::SetLocalDescription, e)
            }
            (After::RemoteSet(pc), Err(e)) => {
                return self.fail(pc, PeerOpKind::SetRemoteDescription, e)
            }
            (After::Described(pc, sdp_type), Ok(d)) => PeerEvent::DescriptionCreated {
                pc,
                sdp_type,
                sdp: peer::sdp_of(&d),
            },
            (After::LocalSet(pc), Ok(_)) => {
                let mut mids = BTreeMap::new();
                if pc_role(&pc) == PcRole::Pub {
                    for (cid, t) in &self.senders {
                        if let Some(m) = peer::mid_of(t) {
                            mids.insert(cid.clone(), m);
                        }
                    }
                }
                PeerEvent::LocalDescriptionSet { pc, mids }
            }
            (After::RemoteSet(pc), Ok(_)) => PeerEvent::RemoteDescriptionSet { pc },
        };
        self.pending.push_back(Input::Peer(ev));
    }

    /// Adds the report of connection `role` (if it could be read) and reads the next one.
    fn stats_report(&mut self, role: PcRole, mut acc: Box<StatsReply>, r: Option<JsValue>) {
        if let Some(r) = r {
            let r: web_sys::RtcStatsReport = r.unchecked_into();
            let s = &mut acc.1;
            if role == PcRole::Pub {
                s.publish.add_report(&r);
                s.publish_report = Some(r);
            } else {
                s.subscribe.add_report(&r);
                s.subscribe_report = Some(r);
            }
        }
        if role == PcRole::Pub {
            self.next_stats(PcRole::Sub, acc);
        } else {
            let (tx, s) = *acc;
            tx.send(s);
        }
    }

    fn drain(&mut self) {
        while self.wait.is_none() {
            let out = self.shared.machine.borrow_mut().poll_output();
            let Some(out) = out else { break };
            match out {
                Output::OpenSocket { url, protocol } => self.open_socket(&url, &protocol),
                Output::CloseSocket { code, reason } => {
                    if let Some(s) = self.socket.take() {
                        s.close(code, &reason);
                    }
                }
                Output::SendFrame(text) => {
                    if self.shared.logs(Level::Trace) {
                        self.shared
                            .log(Level::Trace, "convene: frame out", &text.as_str().into());
                    }
                    let failed = match &self.socket {
                        Some(s) => s.send(&text).is_err(),
                        None => false,
                    };
                    if failed {
                        self.socket = None;
                        self.pending.push_back(Input::SocketClosed {
                            code: 1006,
                            reason: String::new(),
                        });
                    }
                }
                Output::Peer(op) => self.peer_op(op),
                Output::Event(e) => {
                    self.observe(&e);
                    self.events.push(SessionEvent::Core(e));
                }
                Output::Completed { handle, result } => {
                    if let Some(tx) = self.replies.remove(&handle) {
                        tx.send(result);
                    }
                }
            }
        }
    }

    fn observe(&mut self, e: &CoreEvent) {
        if self.shared.logs(Level::Debug) {
            self.shared
                .log(Level::Debug, "convene: event", &e.kind().into());
        }
        match e {
            CoreEvent::RemoteTrackAttached { mid, track_id, .. } => {
                self.shared
                    .track_mid
                    .borrow_mut()
                    .insert(track_id.clone(), mid.clone());
            }
            CoreEvent::TrackUnpublished {
                track,
                local: false,
                ..
            } => {
                self.shared.track_mid.borrow_mut().remove(&track.id);
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

    fn open_socket(&mut self, url: &str, protocol: &str) {
        self.socket = None;
        self.sock_gen += 1;
        let (g, tx) = (self.sock_gen, self.shared.tx.clone());
        match Socket::open(url, protocol, move |e| {
            tx.send(Msg::Socket(g, e));
        }) {
            Ok(s) => self.socket = Some(s),
            Err(e) => self.pending.push_back(Input::SocketClosed {
                code: 1006,
                reason: e.message,
            }),
        }
    }

    fn fail(&mut self, pc: PcKind, op: PeerOpKind, e: WebError) {
        self.shared.log(
            Level::Warn,
            "convene: peer operation failed",
            &e.to_string().into(),
        );
        self.pending
            .push_back(Input::Peer(PeerEvent::OperationFailed {
                pc,
                op,
                message: e.to_string(),
            }));
    }

    fn local(&self, cid: &str) -> Option<MediaStreamTrack> {
        self.shared
            .local
            .borrow()
            .get(cid)
            .map(|t| Clone::clone(t.track()))
    }

    /// Waits for `start`'s promise on connection `pc`, then continues with `after`; fails
    /// `op` at once when the connection does not exist.
    fn on_pc(
        &mut self,
        pc: PcKind,
        op: PeerOpKind,
        after: After,
        start: impl FnOnce(&Peer) -> js_sys::Promise,
    ) {
        match self.pc(pc_role(&pc)) {
            Some(p) => self.wait = Some((start(p), after)),
            None => self.fail(pc, op, missing()),
        }
    }

    /// Performs one peer operation; an asynchronous one leaves its promise in `self.wait`.
    fn peer_op(&mut self, op: PeerOp) {
        match op {
            PeerOp::CreatePc { pc, ice_servers } => {
                let role = pc_role(&pc);
                let g = self.bump(role);
                let tx = self.shared.tx.clone();
                let extra = self.shared.ice_extra.borrow();
                let list = servers(ice_servers.iter().chain(extra.iter()));
                drop(extra);
                let created = Peer::new(role, &list, move |r, s| {
                    tx.send(Msg::Peer(r, g, s));
                });
                match created {
                    Ok(mut p) => {
                        if role == PcRole::Pub {
                            p.open_data_channels();
                            self.senders.clear();
                            self.pub_pc = Some(p);
                        } else {
                            self.shared.remote.borrow_mut().clear();
                            self.sub_pc = Some(p);
                        }
                    }
                    Err(e) => self.fail(pc, PeerOpKind::CreatePc, e),
                }
            }
            PeerOp::AddTransceiver { cid, kind } => {
                let track = self.local(&cid);
                let Some(p) = &self.pub_pc else {
                    return self.fail(PcKind::Pub, PeerOpKind::AddTransceiver, missing());
                };
                let k = match kind {
                    TrackKind::Audio => "audio",
                    _ => "video",
                };
                let t = p.add_transceiver(track.as_ref(), k, Direction::SendOnly, None);
                self.senders.insert(cid, t);
            }
            PeerOp::ReplaceTrack { cid, detach } => {
                let track = if detach { None } else { self.local(&cid) };
                let (pc, op) = (PcKind::Pub, PeerOpKind::ReplaceTrack);
                let Some(t) = self.senders.get(&cid) else {
                    return self.fail(pc, op, missing());
                };
                let p = Peer::replace_track_promise(t, track.as_ref());
                self.wait = Some((p, After::Check(pc, op)));
            }
            PeerOp::RemoveTransceiver { cid } => {
                if let Some(t) = self.senders.remove(&cid) {
                    Peer::set_direction(&t, Direction::Inactive);
                    let p = Peer::replace_track_promise(&t, None);
                    self.wait = Some((p, After::Ignore));
                }
            }
            PeerOp::CreateOffer { pc, ice_restart } => self.on_pc(
                pc,
                PeerOpKind::CreateDescription,
                After::Described(pc, SdpType::Offer),
                |p| p.offer_promise(ice_restart),
            ),
            PeerOp::CreateAnswer { pc } => self.on_pc(
                pc,
                PeerOpKind::CreateDescription,
                After::Described(pc, SdpType::Answer),
                |p| p.answer_promise(),
            ),
            PeerOp::SetLocalDescription { pc, sdp_type, sdp } => self.on_pc(
                pc,
                PeerOpKind::SetLocalDescription,
                After::LocalSet(pc),
                |p| p.set_local_promise(sdp_kind(sdp_type), &sdp),
            ),
            PeerOp::SetRemoteDescription { pc, sdp_type, sdp } => self.on_pc(
                pc,
                PeerOpKind::SetRemoteDescription,
                After::RemoteSet(pc),
                |p| p.set_remote_promise(sdp_kind(sdp_type), &sdp),
            ),
            PeerOp::AddIceCandidate { pc, candidate } => {
                let c = candidate.as_ref().map(from_candidate);
                let op = PeerOpKind::AddIceCandidate;
                self.on_pc(pc, op, After::Check(pc, op), |p| {
                    p.add_candidate_promise(c.as_ref())
                })
            }
            PeerOp::RestartIce { pc } => {
                if let Some(p) = self.pc(pc_role(&pc)) {
                    p.restart_ice();
                }
            }
            PeerOp::SendData { label, data } => {
                if let Some(Err(e)) = self.pub_pc.as_ref().map(|p| p.send_data(&label, &data)) {
                    self.shared
                        .log(Level::Warn, "convene: data not sent", &e.to_string().into());
                }
            }
            PeerOp::ClosePc { pc } => match self.bump_role(pc_role(&pc)) {
                PcRole::Pub => {
                    self.senders.clear();
                    self.pub_pc = None;
                }
                PcRole::Sub => {
                    self.sub_pc = None;
                    self.shared.remote.borrow_mut().clear();
                }
            },
        }
    }

    /// The current generation of a connection: events of replaced or closed connections
    /// carry an older one and are ignored.
    fn gen(&self, r: PcRole) -> u32 {
        match r {
            PcRole::Pub => self.pub_gen,
            PcRole::Sub => self.sub_gen,
        }
    }

    fn bump_role(&mut self, r: PcRole) -> PcRole {
        self.bump(r);
        r
    }

    fn bump(&mut self, r: PcRole) -> u32 {
        let g = match r {
            PcRole::Pub => &mut self.pub_gen,
            PcRole::Sub => &mut self.sub_gen,
        };
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
            let (g, tx) = (self.timer_gen, self.shared.tx.clone());
            let delay = d.saturating_sub(Self::now()).min(i32::MAX as u64) as i32;
            self.timer = Some(Timer::new(delay, move || {
                tx.send(Msg::Timer(g));
            }));
        }
    }

    fn dispatch(&mut self) {
        let events = std::mem::take(&mut self.events);
        for ev in events {
            let subs: Vec<Subscriber> = self
                .shared
                .subs
                .borrow()
                .iter()
                .map(|(_, f)| f.clone())
                .collect();
            for f in subs {
                f(&ev);
            }
        }
    }

    fn teardown(&mut self) {
        self.shared.alive.set(false);
        self.timer = None;
        self.devices = None;
        self.socket = None;
        self.senders.clear();
        self.pub_pc = None;
        self.sub_pc = None;
        let local = std::mem::take(&mut *self.shared.local.borrow_mut());
        drop(local);
        let remote = std::mem::take(&mut *self.shared.remote.borrow_mut());
        for t in remote.values() {
            t.stop();
        }
        let attached = std::mem::take(&mut *self.shared.attached.borrow_mut());
        drop(attached);
        for (_, tx) in std::mem::take(&mut self.replies) {
            tx.send(Err(closed()));
        }
    }
}
