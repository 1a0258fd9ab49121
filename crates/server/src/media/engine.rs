//! The engine task: owns the UDP socket and every `Rtc`, and does all the SFU work.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ovsp::model::TrackLayer;
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::channel::{ChannelConfig, ChannelId, Reliability};
use str0m::format::Codec;
use str0m::ice::IceCreds;
use str0m::media::{Direction, KeyframeRequestKind, MediaData, MediaKind, Mid, Rid};
use str0m::net::{DatagramRecv, Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::data::DataFrame;
use super::sdp;
use super::talk::Talk;
use super::{
    EngineStats, LayerLimits, LocalCandidate, MediaConfig, MediaError, MediaEvent, MediaHandle,
    PcKind, PubOffer, Reply, SessionEvents, SessionSpec, Speaker, StreamReason, SubMid, SubOffer,
    TrackKind,
};

/// How often the housekeeping tick runs (talking stop, deferred keyframes, speakers).
const TICK: Duration = Duration::from_millis(50);
const LABEL_RELIABLE: &str = "ovsp-reliable";
const LABEL_LOSSY: &str = "ovsp-lossy";
/// A simulcast layer without frames for this long gives way to a lower one.
const LAYER_STALL: Duration = Duration::from_millis(1000);
/// Datagrams read in one go before the engine services timers again.
const MAX_BURST: usize = 64;

/// A request to the engine task.
#[derive(Debug)]
pub(crate) enum Command {
    CreateSession {
        spec: SessionSpec,
        reply: Reply<SessionEvents>,
    },
    CloseSession {
        session_id: String,
        reply: Reply<()>,
    },
    PubOffer {
        session_id: String,
        offer: PubOffer,
        reply: Reply<String>,
    },
    PubReset {
        session_id: String,
        reply: Reply<()>,
    },
    SubAnswer {
        session_id: String,
        offer_id: u32,
        sdp: String,
        reply: Reply<()>,
    },
    SubIceRestart {
        session_id: String,
        reply: Reply<()>,
    },
    SubReset {
        session_id: String,
        reply: Reply<()>,
    },
    RemoteCandidate {
        session_id: String,
        pc: PcKind,
        candidate: Option<String>,
        reply: Reply<()>,
    },
    AddDataTrack {
        session_id: String,
        track_id: String,
        handle: u16,
        reliable: bool,
        reply: Reply<()>,
    },
    Unpublish {
        track_id: String,
        reply: Reply<()>,
    },
    Subscribe {
        session_id: String,
        track_id: String,
        reply: Reply<()>,
    },
    Unsubscribe {
        session_id: String,
        track_id: String,
        reply: Reply<()>,
    },
    SetPaused {
        session_id: String,
        track_id: String,
        paused: bool,
        reply: Reply<()>,
    },
    SetMuted {
        track_id: String,
        muted: bool,
        reply: Reply<()>,
    },
    SetBlocked {
        track_id: String,
        blocked: bool,
        reply: Reply<()>,
    },
    SetDeaf {
        session_id: String,
        deaf: bool,
        reply: Reply<()>,
    },
    SetSensitivity {
        session_id: String,
        value: u8,
        reply: Reply<()>,
    },
    SetLayerLimits {
        session_id: String,
        track_id: String,
        limits: LayerLimits,
        reply: Reply<()>,
    },
    SetTrackLayers {
        track_id: String,
        layers: Vec<TrackLayer>,
        reply: Reply<()>,
    },
    Stats {
        reply: Reply<EngineStats>,
    },
}

/// Binds the socket and spawns the engine task.
pub(crate) async fn start(config: MediaConfig) -> Result<MediaHandle, MediaError> {
    let socket = UdpSocket::bind(config.bind).await.map_err(|e| {
        MediaError::new(
            MediaError::INTERNAL,
            format!("cannot bind UDP {}: {e}", config.bind),
        )
    })?;
    let bound = socket
        .local_addr()
        .map_err(|e| MediaError::new(MediaError::INTERNAL, format!("UDP socket: {e}")))?;
    let ip = config.public_ip.unwrap_or(bound.ip());
    if ip.is_unspecified() {
        return Err(MediaError::new(
            MediaError::INTERNAL,
            "a public IP is required when binding an unspecified address",
        ));
    }
    let local_addr = SocketAddr::new(ip, bound.port());
    let (tx, rx) = mpsc::unbounded_channel();
    let engine = Engine::new(config, local_addr, Arc::new(socket));
    tokio::spawn(engine.run(rx));
    Ok(MediaHandle { tx, local_addr })
}

/// Runs `f`, turning a panic into `None` (a str0m bug must not take the server down).
fn guard<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

fn err(code: i32, msg: impl Into<String>) -> MediaError {
    MediaError::new(code, msg)
}

fn unknown_session(id: &str) -> MediaError {
    err(MediaError::INTERNAL, format!("unknown media session {id}"))
}

/// Rank of a simulcast rid: the usual names of the full, half and quarter layers.
fn rid_rank(rid: &str) -> u8 {
    match rid {
        "f" | "2" | "hi" | "high" => 3,
        "h" | "1" | "mid" | "medium" => 2,
        "q" | "0" | "lo" | "low" => 1,
        _ => 0,
    }
}

/// Width and height of a VP8 keyframe, from its uncompressed header.
fn vp8_size(frame: &[u8]) -> Option<(u32, u32)> {
    let head = frame.get(..10)?;
    if head[0] & 1 != 0 || head[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let w = u32::from(u16::from_le_bytes([head[6], head[7]]) & 0x3fff);
    let h = u32::from(u16::from_le_bytes([head[8], head[9]]) & 0x3fff);
    Some((w, h))
}

/// What the engine saw of one simulcast layer of a track.
struct SeenLayer {
    rid: Rid,
    /// Last frame.
    last: Instant,
    /// Size read from its last keyframe (VP8).
    size: Option<(u32, u32)>,
}

/// The layer a subscriber with `limits` should receive: the best flowing layer that fits, else
/// the lowest flowing one. Layers rank by area (unknown = 0), then by rid name.
fn choose_layer(
    seen: &[SeenLayer],
    declared: Option<&Vec<TrackLayer>>,
    limits: &LayerLimits,
    now: Instant,
) -> Option<Rid> {
    let mut best: Option<((u64, u8), Rid)> = None;
    let mut lowest: Option<((u64, u8), Rid)> = None;
    for l in seen {
        if now.saturating_duration_since(l.last) >= LAYER_STALL {
            continue;
        }
        let decl = declared.and_then(|d| d.iter().find(|x| *l.rid == *x.rid));
        let size = l.size.or_else(|| {
            let d = decl?;
            Some((d.width?, d.height?))
        });
        let fps = decl.and_then(|d| d.max_fps);
        let key = (
            size.map(|(w, h)| u64::from(w) * u64::from(h)).unwrap_or(0),
            rid_rank(&l.rid),
        );
        let fits = size.is_none_or(|(w, h)| {
            limits.max_width.is_none_or(|m| w <= m) && limits.max_height.is_none_or(|m| h <= m)
        }) && match (fps, limits.max_fps) {
            (Some(f), Some(m)) => f <= m + 0.5,
            _ => true,
        };
        if fits && best.is_none_or(|(k, _)| key > k) {
            best = Some((key, l.rid));
        }
        if lowest.is_none_or(|(k, _)| key < k) {
            lowest = Some((key, l.rid));
        }
    }
    best.or(lowest).map(|(_, rid)| rid)
}

fn media_kind(kind: TrackKind) -> MediaKind {
    match kind {
        TrackKind::Audio => MediaKind::Audio,
        _ => MediaKind::Video,
    }
}

/// One str0m PeerConnection plus what the engine tracks about it.
struct Pc {
    rtc: Rtc,
    timeout: Instant,
    ufrag: String,
    connected: bool,
    failed: bool,
    dead: bool,
}

impl Pc {
    fn new(cfg: &MediaConfig, local: SocketAddr, now: Instant) -> Pc {
        let creds = IceCreds::new();
        let ufrag = creds.ufrag.clone();
        let mut rtc = Rtc::builder()
            .set_ice_lite(cfg.ice_lite)
            .set_local_ice_credentials(creds)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .enable_h264(true)
            .build(now);
        if let Ok(c) = Candidate::host(local, "udp") {
            rtc.add_local_candidate(c);
        }
        Pc {
            rtc,
            timeout: now,
            ufrag,
            connected: false,
            failed: false,
            dead: false,
        }
    }
}

/// Work produced while draining an `Rtc`, handled once that `Rtc` is drained.
enum Work {
    Event {
        sid: Arc<str>,
        pc: PcKind,
        event: Box<Event>,
    },
    Dead {
        sid: Arc<str>,
        pc: PcKind,
    },
}

/// Polls `pc` until it returns a timeout, sending datagrams and queueing events.
fn drain(
    pc: &mut Pc,
    socket: &UdpSocket,
    queue: &mut VecDeque<Work>,
    sid: &Arc<str>,
    kind: PcKind,
) {
    if pc.dead {
        return;
    }
    loop {
        match guard(|| pc.rtc.poll_output()) {
            Some(Ok(Output::Timeout(t))) => {
                pc.timeout = t;
                break;
            }
            Some(Ok(Output::Transmit(t))) => {
                let _ = socket.try_send_to(&t.contents, t.destination);
            }
            Some(Ok(Output::Event(e))) => queue.push_back(Work::Event {
                sid: sid.clone(),
                pc: kind,
                event: Box::new(e),
            }),
            Some(Err(_)) | None => {
                pc.rtc.disconnect();
                break;
            }
        }
    }
    if !pc.rtc.is_alive() {
        pc.dead = true;
        queue.push_back(Work::Dead {
            sid: sid.clone(),
            pc: kind,
        });
    }
}

struct PubPc {
    pc: Pc,
    last_offer_id: Option<u32>,
    mids: HashMap<Mid, Arc<str>>,
    /// Open data channels from the client: id → reliable.
    channels: HashMap<ChannelId, bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    /// In the outstanding offer; nothing is sent yet.
    Negotiating,
    /// Answer applied: media flows.
    Active,
    /// Inactive, reusable.
    Idle,
}

struct Slot {
    mid: Mid,
    kind: TrackKind,
    track: Option<Arc<str>>,
    state: SlotState,
    /// Added by the outstanding offer (not yet part of the session).
    added: bool,
}

struct PendingSub {
    offer_id: u32,
    pending: SdpPendingOffer,
}

struct SubPc {
    pc: Pc,
    pending: Option<PendingSub>,
    slots: Vec<Slot>,
    reliable: Option<ChannelId>,
    lossy: Option<ChannelId>,
    dirty: bool,
    ice_restart: bool,
    reset: bool,
    candidates_sent: bool,
    /// An answer was applied on this PC (its transport is being set up or up).
    answered: bool,
}

impl SubPc {
    fn new(pc: Pc, reset: bool) -> SubPc {
        SubPc {
            pc,
            pending: None,
            slots: Vec::new(),
            reliable: None,
            lossy: None,
            dirty: true,
            ice_restart: false,
            reset,
            candidates_sent: false,
            answered: false,
        }
    }
}

struct SubEntry {
    paused: bool,
    /// Media flows (answer applied, or a data track).
    active: bool,
    /// Last stream state told to the client.
    told: (bool, StreamReason),
    /// A codec mismatch was reported already.
    failed: bool,
    /// Limits of the simulcast layer choice.
    limits: LayerLimits,
    /// Simulcast: the layer forwarded to this subscriber.
    layer: Option<Rid>,
    /// Simulcast: the layer to switch to at its next keyframe.
    target: Option<Rid>,
}

struct Session {
    member_id: Arc<str>,
    room_id: Arc<str>,
    events: mpsc::UnboundedSender<MediaEvent>,
    publ: Option<PubPc>,
    sub: SubPc,
    next_sub_offer_id: u32,
    subs: BTreeMap<Arc<str>, SubEntry>,
    deaf: bool,
    talk: Talk,
}

impl Session {
    fn emit(&self, ev: MediaEvent) {
        let _ = self.events.send(ev);
    }

    fn pc_mut(&mut self, kind: PcKind) -> Option<&mut Pc> {
        match kind {
            PcKind::Pub => self.publ.as_mut().map(|p| &mut p.pc),
            PcKind::Sub => Some(&mut self.sub.pc),
        }
    }
}

struct Track {
    owner: Arc<str>,
    member_id: Arc<str>,
    kind: TrackKind,
    pub_mid: Option<Mid>,
    muted: bool,
    blocked: bool,
    live_sent: bool,
    subscribers: BTreeSet<Arc<str>>,
    kf_last: Option<Instant>,
    kf_deferred: bool,
    data_handle: Option<u16>,
    /// Simulcast: the layers seen so far.
    seen: Vec<SeenLayer>,
    /// The next keyframe request covers every layer a subscriber receives or waits for.
    kf_all: bool,
    /// The next keyframe request covers these layers (switch targets).
    kf_rids: Vec<Rid>,
    reliable: bool,
}

impl Track {
    fn stopped(&self) -> bool {
        self.muted || self.blocked
    }
}

#[derive(Default)]
struct RoomSpeakers {
    last_emit: Option<Instant>,
    last: Vec<(Arc<str>, u8, bool)>,
}

struct Engine {
    cfg: MediaConfig,
    local_addr: SocketAddr,
    socket: Arc<UdpSocket>,
    sessions: HashMap<Arc<str>, Session>,
    tracks: HashMap<Arc<str>, Track>,
    handles: HashMap<u16, Arc<str>>,
    by_addr: HashMap<SocketAddr, (Arc<str>, PcKind)>,
    by_ufrag: HashMap<String, (Arc<str>, PcKind)>,
    speakers: HashMap<Arc<str>, RoomSpeakers>,
    /// Simulcast layers declared at `track.publish`, by track id.
    declared: HashMap<Arc<str>, Vec<TrackLayer>>,
    queue: VecDeque<Work>,
    stats: EngineStats,
    next_tick: Instant,
}

impl Engine {
    fn new(cfg: MediaConfig, local_addr: SocketAddr, socket: Arc<UdpSocket>) -> Engine {
        Engine {
            cfg,
            local_addr,
            socket,
            sessions: HashMap::new(),
            tracks: HashMap::new(),
            handles: HashMap::new(),
            by_addr: HashMap::new(),
            by_ufrag: HashMap::new(),
            speakers: HashMap::new(),
            declared: HashMap::new(),
            queue: VecDeque::new(),
            stats: EngineStats::default(),
            next_tick: Instant::now(),
        }
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let socket = self.socket.clone();
        let mut buf = vec![0u8; 2048];
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                biased;
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => break,
                },
                r = socket.recv_from(&mut buf) => {
                    if let Ok((n, source)) = r {
                        self.datagram(Instant::now(), source, &buf[..n]);
                    }
                    for _ in 0..MAX_BURST {
                        match socket.try_recv_from(&mut buf) {
                            Ok((n, source)) => self.datagram(Instant::now(), source, &buf[..n]),
                            Err(_) => break,
                        }
                    }
                }
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {}
            }
            let now = Instant::now();
            self.timeouts(now);
            if now >= self.next_tick {
                self.tick(now);
                self.next_tick = now + TICK;
            }
        }
        let ids: Vec<Arc<str>> = self.sessions.keys().cloned().collect();
        for id in ids {
            self.close_session(&id);
        }
    }

    fn next_deadline(&self) -> Instant {
        let mut t = self.next_tick;
        for s in self.sessions.values() {
            if !s.sub.pc.dead {
                t = t.min(s.sub.pc.timeout);
            }
            if let Some(p) = &s.publ {
                if !p.pc.dead {
                    t = t.min(p.pc.timeout);
                }
            }
        }
        t
    }

    // ---------------------------------------------------------------- draining and events

    fn drain(&mut self, sid: &Arc<str>, kind: PcKind) {
        let Engine {
            sessions,
            socket,
            queue,
            ..
        } = self;
        if let Some(pc) = sessions.get_mut(sid).and_then(|s| s.pc_mut(kind)) {
            drain(pc, socket, queue, sid, kind);
        }
    }

    fn process(&mut self) {
        while let Some(work) = self.queue.pop_front() {
            match work {
                Work::Event { sid, pc, event } => self.event(&sid, pc, *event),
                Work::Dead { sid, pc } => {
                    if let Some(s) = self.sessions.get_mut(&sid) {
                        if let Some(p) = s.pc_mut(pc) {
                            if !p.failed {
                                p.failed = true;
                                s.emit(MediaEvent::IceFailed { pc });
                            }
                        }
                    }
                }
            }
        }
    }

    fn event(&mut self, sid: &Arc<str>, kind: PcKind, event: Event) {
        let now = Instant::now();
        match event {
            Event::Connected => {
                let Some(s) = self.sessions.get_mut(sid) else {
                    return;
                };
                if let Some(pc) = s.pc_mut(kind) {
                    pc.connected = true;
                    pc.failed = false;
                }
                s.emit(MediaEvent::Connected { pc: kind });
                match kind {
                    PcKind::Pub => self.check_live(sid),
                    PcKind::Sub => {
                        let video: Vec<Arc<str>> = s
                            .sub
                            .slots
                            .iter()
                            .filter(|sl| {
                                sl.state == SlotState::Active && sl.kind == TrackKind::Video
                            })
                            .filter_map(|sl| sl.track.clone())
                            .collect();
                        for t in video {
                            self.want_keyframe(&t, now);
                        }
                    }
                }
            }
            Event::IceConnectionStateChange(state) => {
                let Some(s) = self.sessions.get_mut(sid) else {
                    return;
                };
                let Some(pc) = s.pc_mut(kind) else {
                    return;
                };
                match state {
                    IceConnectionState::Disconnected if !pc.failed => {
                        pc.failed = true;
                        s.emit(MediaEvent::IceFailed { pc: kind });
                    }
                    IceConnectionState::Connected | IceConnectionState::Completed
                        if pc.failed && pc.connected =>
                    {
                        pc.failed = false;
                        s.emit(MediaEvent::Connected { pc: kind });
                    }
                    _ => {}
                }
            }
            Event::MediaAdded(_) if kind == PcKind::Pub => self.check_live(sid),
            Event::MediaData(d) if kind == PcKind::Pub => self.forward(sid, d, now),
            Event::KeyframeRequest(r) if kind == PcKind::Sub => {
                let track = self.sessions.get(sid).and_then(|s| {
                    s.sub
                        .slots
                        .iter()
                        .find(|sl| sl.mid == r.mid && sl.state == SlotState::Active)
                        .and_then(|sl| sl.track.clone())
                });
                if let Some(t) = track {
                    self.want_keyframe(&t, now);
                }
            }
            Event::ChannelOpen(id, label) if kind == PcKind::Pub => {
                if let Some(p) = self.sessions.get_mut(sid).and_then(|s| s.publ.as_mut()) {
                    p.channels.insert(id, label != LABEL_LOSSY);
                }
            }
            Event::ChannelClose(id) if kind == PcKind::Pub => {
                if let Some(p) = self.sessions.get_mut(sid).and_then(|s| s.publ.as_mut()) {
                    p.channels.remove(&id);
                }
            }
            Event::ChannelData(d) if kind == PcKind::Pub && d.binary => {
                self.data_frame(sid, &d.data);
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------- network input

    fn datagram(&mut self, now: Instant, source: SocketAddr, buf: &[u8]) {
        let Some(Ok(contents)) = guard(|| DatagramRecv::try_from(buf)) else {
            self.stats.unrouted_datagrams += 1;
            return;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.local_addr,
                contents,
            },
        );
        let mut target: Option<(Arc<str>, PcKind)> = None;
        if let Some((sid, kind)) = self.by_addr.get(&source) {
            if let Some(pc) = self.sessions.get_mut(sid).and_then(|s| s.pc_mut(*kind)) {
                if !pc.dead && guard(|| pc.rtc.accepts(&input)) == Some(true) {
                    target = Some((sid.clone(), *kind));
                }
            }
        }
        if target.is_none() {
            if let Some(ufrag) = super::stun::local_ufrag(buf) {
                if let Some((sid, kind)) = self.by_ufrag.get(ufrag) {
                    if let Some(pc) = self.sessions.get_mut(sid).and_then(|s| s.pc_mut(*kind)) {
                        if !pc.dead && guard(|| pc.rtc.accepts(&input)) == Some(true) {
                            target = Some((sid.clone(), *kind));
                            self.by_addr.insert(source, (sid.clone(), *kind));
                        }
                    }
                }
            }
        }
        let Some((sid, kind)) = target else {
            self.stats.unrouted_datagrams += 1;
            return;
        };
        if let Some(pc) = self.sessions.get_mut(&sid).and_then(|s| s.pc_mut(kind)) {
            match guard(|| pc.rtc.handle_input(input)) {
                Some(Ok(())) => {}
                Some(Err(e)) => tracing::debug!("input to {sid}/{}: {e}", kind.as_str()),
                None => pc.rtc.disconnect(),
            }
        }
        self.drain(&sid, kind);
        self.process();
    }

    fn timeouts(&mut self, now: Instant) {
        let mut due = Vec::new();
        for (id, s) in &self.sessions {
            if !s.sub.pc.dead && s.sub.pc.timeout <= now {
                due.push((id.clone(), PcKind::Sub));
            }
            if let Some(p) = &s.publ {
                if !p.pc.dead && p.pc.timeout <= now {
                    due.push((id.clone(), PcKind::Pub));
                }
            }
        }
        for (sid, kind) in due {
            if let Some(pc) = self.sessions.get_mut(&sid).and_then(|s| s.pc_mut(kind)) {
                match guard(|| pc.rtc.handle_input(Input::Timeout(now))) {
                    Some(Ok(())) => {}
                    Some(Err(_)) | None => pc.rtc.disconnect(),
                }
            }
            self.drain(&sid, kind);
        }
        self.process();
    }

    // ---------------------------------------------------------------- media forwarding

    fn forward(&mut self, sid: &Arc<str>, d: MediaData, now: Instant) {
        let Engine {
            sessions,
            tracks,
            socket,
            queue,
            stats,
            ..
        } = self;
        let Some(tid) = sessions
            .get(sid)
            .and_then(|s| s.publ.as_ref())
            .and_then(|p| p.mids.get(&d.mid))
            .cloned()
        else {
            return;
        };
        let Some(track) = tracks.get_mut(&tid) else {
            return;
        };
        stats.frames_in += 1;
        if track.stopped() {
            stats.frames_dropped_moderation += 1;
            return;
        }
        let rid = d.rid;
        let keyframe = rid.is_some() && d.is_keyframe();
        if let Some(rid) = rid {
            // Simulcast: remember that the layer flows (and its size, from a VP8 keyframe).
            let size = if keyframe && d.params.spec().codec == Codec::Vp8 {
                vp8_size(&d.data)
            } else {
                None
            };
            match track.seen.iter_mut().find(|l| l.rid == rid) {
                Some(l) => {
                    l.last = now;
                    if size.is_some() {
                        l.size = size;
                    }
                }
                None => track.seen.push(SeenLayer {
                    rid,
                    last: now,
                    size,
                }),
            }
        }
        let declared = self.declared.get(&tid);
        let mut layer_kf: Vec<Rid> = Vec::new();
        let track = &*track;
        let audio = track.kind == TrackKind::Audio;
        let level = d.ext_vals.audio_level;
        let mut edge = None;
        if audio {
            if let (Some(level), Some(owner)) = (level, sessions.get_mut(sid)) {
                edge = owner
                    .talk
                    .packet(now, level)
                    .map(|t| (owner.room_id.clone(), owner.member_id.clone(), t));
            }
        }
        for sub_id in &track.subscribers {
            let Some(ss) = sessions.get_mut(sub_id) else {
                continue;
            };
            if (audio && ss.deaf) || ss.sub.pc.dead {
                continue;
            }
            let Some(e) = ss.subs.get_mut(&tid) else {
                continue;
            };
            if e.paused || !e.active {
                continue;
            }
            if let Some(rid) = rid {
                // Each subscriber gets its own layer and switches at the target's keyframe.
                let want = choose_layer(&track.seen, declared, &e.limits, now);
                if e.layer != want {
                    if want == Some(rid) && keyframe {
                        e.layer = want;
                        e.target = None;
                    } else if e.target != want || want == Some(rid) {
                        e.target = want;
                        if let Some(w) = want {
                            if !layer_kf.contains(&w) {
                                layer_kf.push(w);
                            }
                        }
                    }
                }
                if e.layer != Some(rid) {
                    continue;
                }
            }
            let Some(mid) = ss
                .sub
                .slots
                .iter()
                .find(|sl| sl.state == SlotState::Active && sl.track.as_ref() == Some(&tid))
                .map(|sl| sl.mid)
            else {
                continue;
            };
            let pc = &mut ss.sub.pc;
            let written = guard(|| {
                let writer = pc.rtc.writer(mid)?;
                let pt = writer.match_params(d.params)?;
                let writer = match level {
                    Some(l) if audio => writer.audio_level(l, true),
                    _ => writer,
                };
                Some(
                    writer
                        .write(pt, d.network_time, d.time, d.data.clone())
                        .is_ok(),
                )
            });
            match written {
                Some(Some(true)) => stats.frames_out += 1,
                Some(Some(false)) => {}
                Some(None) => {
                    // No codec in common with this subscriber.
                    if let Some(e) = ss.subs.get_mut(&tid) {
                        if !e.failed && pc.rtc.writer(mid).is_some() {
                            e.failed = true;
                            let _ = ss.events.send(MediaEvent::SubscriptionFailed {
                                track_id: tid.to_string(),
                                code: MediaError::NO_CODEC,
                            });
                        }
                    }
                }
                None => pc.rtc.disconnect(),
            }
            drain(pc, socket, queue, sub_id, PcKind::Sub);
        }
        let gap = !d.contiguous && track.kind == TrackKind::Video;
        for r in layer_kf {
            self.want_layer_keyframe(&tid, r, now);
        }
        if gap {
            self.want_keyframe(&tid, now);
        }
        if let Some((room, member, talking)) = edge {
            self.emit_room(
                &room,
                MediaEvent::Talking {
                    member_id: member.to_string(),
                    talking,
                },
            );
        }
    }

    /// Asks the publisher of `tid` for a keyframe, at most once per `keyframe_interval`;
    /// requests inside the interval are merged into one sent when it ends.
    fn want_keyframe(&mut self, tid: &Arc<str>, now: Instant) {
        if let Some(t) = self.tracks.get_mut(tid) {
            t.kf_all = true;
        }
        self.request_keyframe(tid, now);
    }

    /// Like [`Engine::want_keyframe`], for one simulcast layer (a subscriber's switch target).
    fn want_layer_keyframe(&mut self, tid: &Arc<str>, rid: Rid, now: Instant) {
        if let Some(t) = self.tracks.get_mut(tid) {
            if !t.kf_rids.contains(&rid) {
                t.kf_rids.push(rid);
            }
        }
        self.request_keyframe(tid, now);
    }

    fn request_keyframe(&mut self, tid: &Arc<str>, now: Instant) {
        let interval = self.cfg.keyframe_interval;
        let Some(track) = self.tracks.get_mut(tid) else {
            return;
        };
        if track.kind != TrackKind::Video {
            track.kf_all = false;
            track.kf_rids.clear();
            return;
        }
        self.stats.keyframe_requests_wanted += 1;
        if let Some(last) = track.kf_last {
            if now.saturating_duration_since(last) < interval {
                track.kf_deferred = true;
                return;
            }
        }
        self.send_keyframe(tid, now);
    }

    fn send_keyframe(&mut self, tid: &Arc<str>, now: Instant) {
        // The layers to ask: switch targets, plus every layer in use when all were asked for.
        let mut rids: Vec<Rid> = Vec::new();
        let Some(track) = self.tracks.get_mut(tid) else {
            return;
        };
        let simulcast = !track.seen.is_empty();
        if simulcast && track.kf_all {
            for sub in &track.subscribers {
                let e = self.sessions.get(sub).and_then(|s| s.subs.get(tid));
                if let Some(r) = e.and_then(|e| e.target.or(e.layer)) {
                    if !rids.contains(&r) {
                        rids.push(r);
                    }
                }
            }
        }
        for r in track.kf_rids.drain(..) {
            if !rids.contains(&r) {
                rids.push(r);
            }
        }
        track.kf_all = false;
        track.kf_deferred = false;
        let (Some(mid), owner) = (track.pub_mid, track.owner.clone()) else {
            return;
        };
        let Some(p) = self.sessions.get_mut(&owner).and_then(|s| s.publ.as_mut()) else {
            return;
        };
        if p.pc.dead {
            return;
        }
        track.kf_last = Some(now);
        let targets: Vec<Option<Rid>> = if rids.is_empty() {
            vec![None]
        } else {
            rids.into_iter().map(Some).collect()
        };
        for rid in targets {
            let sent = guard(|| {
                p.pc.rtc
                    .writer(mid)
                    .map(|mut w| w.request_keyframe(rid, KeyframeRequestKind::Pli).is_ok())
            });
            if sent == Some(Some(true)) {
                self.stats.keyframe_requests_sent += 1;
            }
        }
        self.drain(&owner, PcKind::Pub);
    }

    fn data_frame(&mut self, sid: &Arc<str>, raw: &[u8]) {
        let Some(frame) = DataFrame::decode(raw) else {
            return;
        };
        let Some(tid) = self.handles.get(&frame.handle).cloned() else {
            return;
        };
        let Engine {
            sessions,
            tracks,
            socket,
            queue,
            stats,
            ..
        } = self;
        let Some(track) = tracks.get(&tid) else {
            return;
        };
        if &track.owner != sid || track.stopped() {
            return;
        }
        let down = frame.encode_downlink();
        for sub_id in &track.subscribers {
            let Some(ss) = sessions.get_mut(sub_id) else {
                continue;
            };
            if let Some(dest) = &frame.destinations {
                if !dest.iter().any(|m| **m == *ss.member_id) {
                    continue;
                }
            }
            match ss.subs.get(&tid) {
                Some(e) if !e.paused => {}
                _ => continue,
            }
            let chan = if track.reliable {
                ss.sub.reliable
            } else {
                ss.sub.lossy
            };
            let Some(chan) = chan else {
                continue;
            };
            let pc = &mut ss.sub.pc;
            if pc.dead {
                continue;
            }
            let ok = guard(|| {
                pc.rtc
                    .channel(chan)
                    .map(|mut c| c.write(true, &down).is_ok())
            });
            if ok == Some(Some(true)) {
                stats.data_frames_out += 1;
            }
            drain(pc, socket, queue, sub_id, PcKind::Sub);
        }
    }

    fn emit_room(&self, room: &Arc<str>, ev: MediaEvent) {
        for s in self.sessions.values() {
            if s.room_id == *room {
                s.emit(ev.clone());
            }
        }
    }

    // ---------------------------------------------------------------- housekeeping

    fn tick(&mut self, now: Instant) {
        let deferred: Vec<Arc<str>> = self
            .tracks
            .iter()
            .filter(|(_, t)| {
                t.kf_deferred
                    && t.kf_last
                        .map(|l| now.saturating_duration_since(l) >= self.cfg.keyframe_interval)
                        .unwrap_or(true)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for t in deferred {
            self.send_keyframe(&t, now);
        }
        let mut edges = Vec::new();
        for s in self.sessions.values_mut() {
            if let Some(t) = s.talk.tick(now) {
                edges.push((s.room_id.clone(), s.member_id.clone(), t));
            }
        }
        for (room, member, talking) in edges {
            self.emit_room(
                &room,
                MediaEvent::Talking {
                    member_id: member.to_string(),
                    talking,
                },
            );
        }
        self.speakers_tick(now);
        // Subscription changes are coalesced: every session with changes and no outstanding
        // offer gets its next offer here, at most one tick after the change.
        let dirty: Vec<Arc<str>> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.sub.dirty && s.sub.pending.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        for sid in dirty {
            self.negotiate(&sid);
        }
        self.process();
    }

    fn speakers_tick(&mut self, now: Instant) {
        type Row = (Arc<str>, u8, bool, f32);
        let mut per_room: HashMap<Arc<str>, Vec<Row>> = HashMap::new();
        for s in self.sessions.values() {
            let entry = per_room.entry(s.room_id.clone()).or_default();
            if s.talk.talking() {
                let level = s.talk.level().clamp(0.0, 1.0);
                entry.push((
                    s.member_id.clone(),
                    (level * 10.0).round() as u8,
                    true,
                    level,
                ));
            }
        }
        let interval = self.cfg.speakers_interval;
        let mut out = Vec::new();
        for (room, mut list) in per_room {
            list.sort_by(|a, b| b.3.total_cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
            let st = self.speakers.entry(room.clone()).or_default();
            if st
                .last_emit
                .map(|t| now.saturating_duration_since(t) < interval)
                .unwrap_or(false)
            {
                continue;
            }
            let key: Vec<(Arc<str>, u8, bool)> = list
                .iter()
                .map(|(m, q, a, _)| (m.clone(), *q, *a))
                .collect();
            if key == st.last {
                continue;
            }
            st.last = key;
            st.last_emit = Some(now);
            let speakers = list
                .into_iter()
                .map(|(m, _, active, level)| Speaker {
                    member_id: m.to_string(),
                    level,
                    active,
                })
                .collect();
            out.push((room, speakers));
        }
        let live: HashSet<Arc<str>> = self.sessions.values().map(|s| s.room_id.clone()).collect();
        self.speakers.retain(|r, _| live.contains(r));
        for (room, speakers) in out {
            self.emit_room(&room, MediaEvent::Speakers(speakers));
        }
    }

    // ---------------------------------------------------------------- commands

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::CreateSession { spec, reply } => {
                let _ = reply.send(Ok(self.create_session(spec)));
            }
            Command::CloseSession { session_id, reply } => {
                self.close_session(&session_id);
                let _ = reply.send(Ok(()));
            }
            Command::PubOffer {
                session_id,
                offer,
                reply,
            } => {
                let _ = reply.send(self.pub_offer(&session_id, offer));
            }
            Command::PubReset { session_id, reply } => {
                let _ = reply.send(self.pub_reset(&session_id));
            }
            Command::SubAnswer {
                session_id,
                offer_id,
                sdp,
                reply,
            } => {
                let _ = reply.send(self.sub_answer(&session_id, offer_id, &sdp));
            }
            Command::SubIceRestart { session_id, reply } => {
                let r = self.with_session(&session_id, |s| {
                    s.sub.ice_restart = true;
                    s.sub.dirty = true;
                });
                // The offer follows on the next tick (changes are coalesced).
                let _ = reply.send(r);
            }
            Command::SubReset { session_id, reply } => {
                let _ = reply.send(self.sub_reset(&session_id));
            }
            Command::RemoteCandidate {
                session_id,
                pc,
                candidate,
                reply,
            } => {
                let _ = reply.send(self.remote_candidate(&session_id, pc, candidate));
            }
            Command::AddDataTrack {
                session_id,
                track_id,
                handle,
                reliable,
                reply,
            } => {
                let _ = reply.send(self.add_data_track(&session_id, &track_id, handle, reliable));
            }
            Command::Unpublish { track_id, reply } => {
                self.unpublish(&track_id);
                let _ = reply.send(Ok(()));
            }
            Command::Subscribe {
                session_id,
                track_id,
                reply,
            } => {
                let _ = reply.send(self.subscribe(&session_id, &track_id));
            }
            Command::Unsubscribe {
                session_id,
                track_id,
                reply,
            } => {
                let _ = reply.send(self.unsubscribe(&session_id, &track_id));
            }
            Command::SetPaused {
                session_id,
                track_id,
                paused,
                reply,
            } => {
                let _ = reply.send(self.set_paused(&session_id, &track_id, paused));
            }
            Command::SetMuted {
                track_id,
                muted,
                reply,
            } => {
                let _ = reply.send(self.set_stopped(&track_id, Some(muted), None));
            }
            Command::SetBlocked {
                track_id,
                blocked,
                reply,
            } => {
                let _ = reply.send(self.set_stopped(&track_id, None, Some(blocked)));
            }
            Command::SetDeaf {
                session_id,
                deaf,
                reply,
            } => {
                let r = self.with_session(&session_id, |s| s.deaf = deaf);
                if r.is_ok() {
                    self.refresh_states(&session_id);
                }
                let _ = reply.send(r);
            }
            Command::SetSensitivity {
                session_id,
                value,
                reply,
            } => {
                let _ =
                    reply.send(self.with_session(&session_id, |s| s.talk.set_sensitivity(value)));
            }
            Command::SetLayerLimits {
                session_id,
                track_id,
                limits,
                reply,
            } => {
                let _ = reply.send(self.set_layer_limits(&session_id, &track_id, limits));
            }
            Command::SetTrackLayers {
                track_id,
                layers,
                reply,
            } => {
                self.declared.insert(track_id.into(), layers);
                let _ = reply.send(Ok(()));
            }
            Command::Stats { reply } => {
                let mut st = self.stats.clone();
                st.sessions = self.sessions.len();
                st.tracks = self.tracks.len();
                let _ = reply.send(Ok(st));
            }
        }
        self.process();
    }

    fn with_session<T>(
        &mut self,
        sid: &str,
        f: impl FnOnce(&mut Session) -> T,
    ) -> Result<T, MediaError> {
        self.sessions
            .get_mut(sid)
            .map(f)
            .ok_or_else(|| unknown_session(sid))
    }

    fn key(&self, sid: &str) -> Result<Arc<str>, MediaError> {
        self.sessions
            .get_key_value(sid)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| unknown_session(sid))
    }

    fn create_session(&mut self, spec: SessionSpec) -> SessionEvents {
        if self.sessions.contains_key(spec.session_id.as_str()) {
            self.close_session(&spec.session_id);
        }
        let sid: Arc<str> = spec.session_id.into();
        let (tx, rx) = mpsc::unbounded_channel();
        let pc = Pc::new(&self.cfg, self.local_addr, Instant::now());
        self.by_ufrag
            .insert(pc.ufrag.clone(), (sid.clone(), PcKind::Sub));
        self.sessions.insert(
            sid.clone(),
            Session {
                member_id: spec.member_id.into(),
                room_id: spec.room_id.into(),
                events: tx,
                publ: None,
                sub: SubPc::new(pc, false),
                next_sub_offer_id: 1,
                subs: BTreeMap::new(),
                deaf: false,
                talk: Talk::default(),
            },
        );
        // The first offer goes out on the next tick, so that subscriptions made right after the
        // join (the tracks already in the room) ride in it.
        rx
    }

    fn close_session(&mut self, sid: &str) {
        let Some((sid, mut s)) = self.sessions.remove_entry(sid) else {
            return;
        };
        for pc in [Some(&mut s.sub.pc), s.publ.as_mut().map(|p| &mut p.pc)]
            .into_iter()
            .flatten()
        {
            let _ = guard(|| pc.rtc.close());
            // Flush the close (DTLS close_notify, RTCP BYE) but handle no more events.
            let mut sink = VecDeque::new();
            drain(pc, &self.socket, &mut sink, &sid, PcKind::Sub);
            pc.rtc.disconnect();
            self.by_ufrag.remove(&pc.ufrag);
        }
        self.by_addr.retain(|_, (owner, _)| *owner != sid);
        self.by_ufrag.retain(|_, (owner, _)| *owner != sid);
        for tid in s.subs.keys() {
            if let Some(t) = self.tracks.get_mut(tid) {
                t.subscribers.remove(&sid);
            }
        }
        let owned: Vec<Arc<str>> = self
            .tracks
            .iter()
            .filter(|(_, t)| t.owner == sid)
            .map(|(id, _)| id.clone())
            .collect();
        for tid in owned {
            self.unpublish(&tid);
        }
        if s.talk.talking() {
            self.emit_room(
                &s.room_id,
                MediaEvent::Talking {
                    member_id: s.member_id.to_string(),
                    talking: false,
                },
            );
        }
    }

    fn unpublish(&mut self, tid: &str) {
        self.declared.remove(tid);
        let Some((tid, track)) = self.tracks.remove_entry(tid) else {
            return;
        };
        if let Some(h) = track.data_handle {
            self.handles.remove(&h);
        }
        if let Some(owner) = self.sessions.get_mut(&track.owner) {
            if let Some(p) = owner.publ.as_mut() {
                p.mids.retain(|_, t| *t != tid);
            }
            if track.kind == TrackKind::Audio {
                let still_audio = self
                    .tracks
                    .values()
                    .any(|t| t.owner == track.owner && t.kind == TrackKind::Audio);
                if !still_audio {
                    if let Some(false) = owner.talk.silence() {
                        let room = owner.room_id.clone();
                        let member = owner.member_id.to_string();
                        self.emit_room(
                            &room,
                            MediaEvent::Talking {
                                member_id: member,
                                talking: false,
                            },
                        );
                    }
                }
            }
        }
        for sub in &track.subscribers {
            if let Some(s) = self.sessions.get_mut(sub) {
                s.subs.remove(&tid);
                if track.kind != TrackKind::Data {
                    s.sub.dirty = true;
                }
            }
        }
    }

    fn pub_offer(&mut self, sid: &str, offer: PubOffer) -> Result<String, MediaError> {
        let sid = self.key(sid)?;
        let now = Instant::now();
        if let Some(last) = self
            .sessions
            .get(&sid)
            .and_then(|s| s.publ.as_ref())
            .and_then(|p| p.last_offer_id)
        {
            if offer.offer_id <= last {
                return Err(err(
                    MediaError::STALE_OFFER,
                    format!("offer_id {} is not newer than {last}", offer.offer_id),
                ));
            }
        }
        let scan = sdp::scan(&offer.sdp).map_err(|e| err(MediaError::BAD_REMOTE_SDP, e))?;
        for (mid, pm) in &offer.mids {
            let kind = scan.kind_of(mid);
            let expected = match pm.kind {
                TrackKind::Audio => "audio",
                TrackKind::Video => "video",
                TrackKind::Data => "data-track-in-mids",
            };
            if mid.len() > 16 || kind != Some(expected) {
                return Err(err(
                    MediaError::MIDS_INCONSISTENT,
                    format!("mid {mid} is not an {expected} m-section of the offer"),
                ));
            }
            if let Some(t) = self.tracks.get(pm.track_id.as_str()) {
                if t.owner != sid {
                    return Err(err(
                        MediaError::TRACK_NOT_OWNED,
                        format!("track {} belongs to another session", pm.track_id),
                    ));
                }
                if t.kind != pm.kind {
                    return Err(err(
                        MediaError::MIDS_INCONSISTENT,
                        format!("track {} changed kind", pm.track_id),
                    ));
                }
            }
        }
        let parsed = SdpOffer::from_sdp_string(&offer.sdp)
            .map_err(|e| err(MediaError::BAD_REMOTE_SDP, format!("bad offer SDP: {e}")))?;

        let Engine {
            sessions,
            cfg,
            local_addr,
            by_ufrag,
            ..
        } = self;
        let Some(s) = sessions.get_mut(&sid) else {
            return Err(unknown_session(&sid));
        };
        let fresh = s.publ.is_none();
        let publ = s.publ.get_or_insert_with(|| {
            let pc = Pc::new(cfg, *local_addr, now);
            by_ufrag.insert(pc.ufrag.clone(), (sid.clone(), PcKind::Pub));
            PubPc {
                pc,
                last_offer_id: None,
                mids: HashMap::new(),
                channels: HashMap::new(),
            }
        });
        let result = guard(|| publ.pc.rtc.sdp_api().accept_offer(parsed));
        let answer = match result {
            Some(Ok(a)) => a,
            other => {
                let msg = match other {
                    Some(Err(e)) => format!("offer rejected: {e}"),
                    _ => "offer rejected".to_owned(),
                };
                if !publ.pc.rtc.is_alive() {
                    // The failed offer closed the PC; start over with a fresh one.
                    by_ufrag.remove(&publ.pc.ufrag);
                    s.publ = None;
                }
                self.drain(&sid, PcKind::Pub);
                self.process();
                return Err(err(MediaError::BAD_REMOTE_SDP, msg));
            }
        };
        publ.last_offer_id = Some(offer.offer_id);
        // A remote ICE restart gives the PC new local credentials.
        let ufrag = publ.pc.rtc.direct_api().local_ice_credentials().ufrag;
        let ufrag_changed = ufrag != publ.pc.ufrag;
        if ufrag_changed {
            by_ufrag.remove(&publ.pc.ufrag);
            by_ufrag.insert(ufrag.clone(), (sid.clone(), PcKind::Pub));
            publ.pc.ufrag = ufrag.clone();
        }
        let old: Vec<(Mid, Arc<str>)> = publ.mids.drain().collect();
        let member_id = s.member_id.clone();
        let mut new_mids = HashMap::new();
        for (mid, pm) in &offer.mids {
            let mid = Mid::from(mid.as_str());
            let tid: Arc<str> = pm.track_id.as_str().into();
            new_mids.insert(mid, tid);
        }
        publ.mids = new_mids.clone();
        let answer_sdp = answer.to_sdp_string();
        let first_mid = scan.sections.first().and_then(|x| x.mid.clone());
        if fresh || ufrag_changed || offer.ice_restart {
            for ev in candidate_events(PcKind::Pub, *local_addr, &ufrag, first_mid) {
                s.emit(ev);
            }
        }
        for (_, tid) in old {
            if !new_mids.values().any(|t| *t == tid) {
                if let Some(t) = self.tracks.get_mut(&tid) {
                    t.pub_mid = None;
                }
            }
        }
        for (mid, tid) in new_mids {
            let kind = offer
                .mids
                .values()
                .find(|pm| *pm.track_id == *tid)
                .map(|pm| pm.kind)
                .unwrap_or(TrackKind::Video);
            let t = self.tracks.entry(tid).or_insert_with(|| Track {
                owner: sid.clone(),
                member_id: member_id.clone(),
                kind,
                pub_mid: None,
                muted: false,
                blocked: false,
                live_sent: false,
                subscribers: BTreeSet::new(),
                kf_last: None,
                kf_deferred: false,
                data_handle: None,
                seen: Vec::new(),
                kf_all: false,
                kf_rids: Vec::new(),
                reliable: true,
            });
            t.pub_mid = Some(mid);
        }
        self.drain(&sid, PcKind::Pub);
        self.check_live(&sid);
        Ok(answer_sdp)
    }

    /// Emits `TrackLive` for every negotiated track of a connected pub PC, once per track.
    fn check_live(&mut self, sid: &Arc<str>) {
        let Some(s) = self.sessions.get(sid) else {
            return;
        };
        let Some(p) = s.publ.as_ref() else {
            return;
        };
        if !p.pc.connected {
            return;
        }
        for (mid, tid) in &p.mids {
            if p.pc.rtc.media(*mid).is_none() {
                continue;
            }
            if let Some(t) = self.tracks.get_mut(tid) {
                if !t.live_sent {
                    t.live_sent = true;
                    s.emit(MediaEvent::TrackLive {
                        track_id: tid.to_string(),
                    });
                }
            }
        }
    }

    fn pub_reset(&mut self, sid: &str) -> Result<(), MediaError> {
        let sid = self.key(sid)?;
        let Some(s) = self.sessions.get_mut(&sid) else {
            return Err(unknown_session(&sid));
        };
        if let Some(mut p) = s.publ.take() {
            let _ = guard(|| p.pc.rtc.close());
            let mut sink = VecDeque::new();
            drain(&mut p.pc, &self.socket, &mut sink, &sid, PcKind::Pub);
            self.by_ufrag.remove(&p.pc.ufrag);
            self.by_addr
                .retain(|_, (o, k)| !(*o == sid && *k == PcKind::Pub));
            for tid in p.mids.values() {
                if let Some(t) = self.tracks.get_mut(tid) {
                    t.pub_mid = None;
                }
            }
        }
        Ok(())
    }

    fn sub_reset(&mut self, sid: &str) -> Result<(), MediaError> {
        let sid = self.key(sid)?;
        let pc = Pc::new(&self.cfg, self.local_addr, Instant::now());
        let new_ufrag = pc.ufrag.clone();
        let Some(s) = self.sessions.get_mut(&sid) else {
            return Err(unknown_session(&sid));
        };
        let mut old = std::mem::replace(&mut s.sub, SubPc::new(pc, true));
        for e in s.subs.values_mut() {
            e.active = false;
        }
        let data_subs: Vec<Arc<str>> = s
            .subs
            .keys()
            .filter(|t| {
                self.tracks
                    .get(*t)
                    .map(|t| t.kind == TrackKind::Data)
                    .unwrap_or(false)
            })
            .cloned()
            .collect();
        for t in data_subs {
            if let Some(e) = s.subs.get_mut(&t) {
                e.active = true;
            }
        }
        let _ = guard(|| old.pc.rtc.close());
        let mut sink = VecDeque::new();
        drain(&mut old.pc, &self.socket, &mut sink, &sid, PcKind::Sub);
        self.by_ufrag.remove(&old.pc.ufrag);
        self.by_addr
            .retain(|_, (o, k)| !(*o == sid && *k == PcKind::Sub));
        self.by_ufrag.insert(new_ufrag, (sid.clone(), PcKind::Sub));
        self.negotiate(&sid);
        Ok(())
    }

    fn remote_candidate(
        &mut self,
        sid: &str,
        kind: PcKind,
        candidate: Option<String>,
    ) -> Result<(), MediaError> {
        let sid = self.key(sid)?;
        let Some(line) = candidate else {
            return Ok(());
        };
        let line = line.trim();
        let line = line.strip_prefix("a=").unwrap_or(line);
        if line.is_empty() {
            return Ok(());
        }
        let cand = Candidate::from_sdp_string(line)
            .map_err(|e| err(MediaError::INVALID_PARAMS, format!("bad candidate: {e}")))?;
        let Some(pc) = self.sessions.get_mut(&sid).and_then(|s| s.pc_mut(kind)) else {
            // No pub PC yet: nothing to add the candidate to.
            return Ok(());
        };
        if pc.dead {
            return Ok(());
        }
        if guard(|| pc.rtc.add_remote_candidate(cand)).is_none() {
            pc.rtc.disconnect();
        }
        self.drain(&sid, kind);
        Ok(())
    }

    fn add_data_track(
        &mut self,
        sid: &str,
        tid: &str,
        handle: u16,
        reliable: bool,
    ) -> Result<(), MediaError> {
        let sid = self.key(sid)?;
        if handle == 0 {
            return Err(err(MediaError::DATA_HANDLE, "data handle 0 is reserved"));
        }
        if let Some(other) = self.handles.get(&handle) {
            if **other != *tid {
                return Err(err(
                    MediaError::DATA_HANDLE,
                    format!("data handle {handle} is in use"),
                ));
            }
        }
        if let Some(t) = self.tracks.get(tid) {
            if t.owner != sid {
                return Err(err(
                    MediaError::TRACK_NOT_OWNED,
                    "track belongs to another session",
                ));
            }
        }
        let member_id = self
            .sessions
            .get(&sid)
            .map(|s| s.member_id.clone())
            .ok_or_else(|| unknown_session(&sid))?;
        let tid: Arc<str> = tid.into();
        self.handles.insert(handle, tid.clone());
        let t = self.tracks.entry(tid).or_insert_with(|| Track {
            owner: sid.clone(),
            member_id,
            kind: TrackKind::Data,
            pub_mid: None,
            muted: false,
            blocked: false,
            live_sent: true,
            subscribers: BTreeSet::new(),
            kf_last: None,
            kf_deferred: false,
            data_handle: Some(handle),
            seen: Vec::new(),
            kf_all: false,
            kf_rids: Vec::new(),
            reliable,
        });
        t.data_handle = Some(handle);
        t.reliable = reliable;
        Ok(())
    }

    fn subscribe(&mut self, sid: &str, tid: &str) -> Result<(), MediaError> {
        let sid = self.key(sid)?;
        let Some((tid, track)) = self.tracks.get_key_value(tid) else {
            return Err(err(
                MediaError::TRACK_NOT_FOUND,
                format!("track {tid} not found"),
            ));
        };
        let tid = tid.clone();
        let kind = track.kind;
        let Some(s) = self.sessions.get_mut(&sid) else {
            return Err(unknown_session(&sid));
        };
        if s.subs.contains_key(&tid) {
            return Ok(());
        }
        let data = kind == TrackKind::Data;
        s.subs.insert(
            tid.clone(),
            SubEntry {
                paused: false,
                active: data,
                told: (true, StreamReason::None),
                failed: false,
                limits: LayerLimits::default(),
                layer: None,
                target: None,
            },
        );
        if data {
            s.emit(MediaEvent::SubscriptionActive {
                track_id: tid.to_string(),
                mid: None,
            });
        } else {
            s.sub.dirty = true;
        }
        if let Some(t) = self.tracks.get_mut(&tid) {
            t.subscribers.insert(sid.clone());
        }
        self.refresh_state(&sid, &tid);
        Ok(())
    }

    fn unsubscribe(&mut self, sid: &str, tid: &str) -> Result<(), MediaError> {
        let sid = self.key(sid)?;
        let Some(s) = self.sessions.get_mut(&sid) else {
            return Err(unknown_session(&sid));
        };
        if s.subs.remove(tid).is_none() {
            return Ok(());
        }
        let mut media = true;
        if let Some(t) = self.tracks.get_mut(tid) {
            t.subscribers.remove(&sid);
            media = t.kind != TrackKind::Data;
        }
        if media {
            s.sub.dirty = true;
        }
        Ok(())
    }

    fn set_paused(&mut self, sid: &str, tid: &str, paused: bool) -> Result<(), MediaError> {
        let sid = self.key(sid)?;
        let Some(e) = self
            .sessions
            .get_mut(&sid)
            .and_then(|s| s.subs.get_mut(tid))
        else {
            return Err(err(
                MediaError::TRACK_NOT_FOUND,
                format!("not subscribed to {tid}"),
            ));
        };
        let was = e.paused;
        e.paused = paused;
        let tid: Arc<str> = tid.into();
        self.refresh_state(&sid, &tid);
        if was && !paused {
            self.want_keyframe(&tid, Instant::now());
        }
        Ok(())
    }

    fn set_layer_limits(
        &mut self,
        sid: &str,
        tid: &str,
        limits: LayerLimits,
    ) -> Result<(), MediaError> {
        let sid = self.key(sid)?;
        let Some(e) = self
            .sessions
            .get_mut(&sid)
            .and_then(|s| s.subs.get_mut(tid))
        else {
            return Err(err(
                MediaError::TRACK_NOT_FOUND,
                format!("not subscribed to {tid}"),
            ));
        };
        // The next frame of the track picks the layer; the switch waits for its keyframe.
        e.limits = limits;
        Ok(())
    }

    fn set_stopped(
        &mut self,
        tid: &str,
        muted: Option<bool>,
        blocked: Option<bool>,
    ) -> Result<(), MediaError> {
        let Some((tid, t)) = self.tracks.get_key_value(tid) else {
            return Err(err(
                MediaError::TRACK_NOT_FOUND,
                format!("track {tid} not found"),
            ));
        };
        let tid = tid.clone();
        let was = t.stopped();
        let Some(t) = self.tracks.get_mut(&tid) else {
            return Ok(());
        };
        if let Some(m) = muted {
            t.muted = m;
        }
        if let Some(b) = blocked {
            t.blocked = b;
        }
        let now_stopped = t.stopped();
        let owner = t.owner.clone();
        let kind = t.kind;
        let subscribers: Vec<Arc<str>> = t.subscribers.iter().cloned().collect();
        if now_stopped && !was && kind == TrackKind::Audio {
            if let Some(s) = self.sessions.get_mut(&owner) {
                if let Some(false) = s.talk.silence() {
                    let (room, member) = (s.room_id.clone(), s.member_id.to_string());
                    self.emit_room(
                        &room,
                        MediaEvent::Talking {
                            member_id: member,
                            talking: false,
                        },
                    );
                }
            }
        }
        for sub in subscribers {
            self.refresh_state(&sub, &tid);
        }
        if was && !now_stopped {
            self.want_keyframe(&tid, Instant::now());
        }
        Ok(())
    }

    /// Re-evaluates every subscription of a session (after deaf changes).
    fn refresh_states(&mut self, sid: &str) {
        let Ok(sid) = self.key(sid) else {
            return;
        };
        let tids: Vec<Arc<str>> = self
            .sessions
            .get(&sid)
            .map(|s| s.subs.keys().cloned().collect())
            .unwrap_or_default();
        for t in tids {
            self.refresh_state(&sid, &t);
        }
    }

    /// Tells the subscriber when its stream state for a track changed.
    fn refresh_state(&mut self, sid: &Arc<str>, tid: &Arc<str>) {
        let Some(t) = self.tracks.get(tid) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        let deaf = s.deaf && t.kind == TrackKind::Audio;
        let Some(e) = s.subs.get_mut(tid) else {
            return;
        };
        let state = if t.stopped() {
            (false, StreamReason::PublisherMuted)
        } else if e.paused {
            (false, StreamReason::SubscriberPaused)
        } else if deaf {
            (false, StreamReason::Deaf)
        } else {
            (true, StreamReason::None)
        };
        if state != e.told {
            e.told = state;
            let _ = s.events.send(MediaEvent::StreamState {
                track_id: tid.to_string(),
                active: state.0,
                reason: state.1,
            });
        }
    }

    // ---------------------------------------------------------------- sub negotiation

    /// Makes the next sub offer when something changed and no offer is outstanding.
    fn negotiate(&mut self, sid: &Arc<str>) {
        let Engine {
            sessions,
            tracks,
            local_addr,
            ..
        } = self;
        let Some(s) = sessions.get_mut(sid) else {
            return;
        };
        if s.sub.pending.is_some() || !s.sub.dirty || s.sub.pc.dead {
            return;
        }
        // After the first answer, further offers wait until the transport is connected (an
        // offer applied while DTLS is still handshaking is mishandled by some clients), except
        // for an ICE restart, which is how a transport that never connects recovers.
        if s.sub.answered && !s.sub.pc.connected && !s.sub.ice_restart {
            return;
        }
        s.sub.dirty = false;
        let Session {
            sub,
            subs,
            next_sub_offer_id,
            events,
            ..
        } = s;
        let SubPc {
            pc,
            slots,
            reliable,
            lossy,
            ice_restart,
            reset,
            pending,
            candidates_sent,
            ..
        } = sub;
        let mut api = pc.rtc.sdp_api();
        if reliable.is_none() {
            *reliable = Some(api.add_channel_with_config(ChannelConfig {
                label: LABEL_RELIABLE.into(),
                ..Default::default()
            }));
            *lossy = Some(api.add_channel_with_config(ChannelConfig {
                label: LABEL_LOSSY.into(),
                ordered: false,
                reliability: Reliability::MaxRetransmits { retransmits: 0 },
                ..Default::default()
            }));
        }
        let mut released = HashSet::new();
        for slot in slots.iter_mut() {
            if let Some(t) = &slot.track {
                if !subs.contains_key(t) || !tracks.contains_key(t) {
                    api.set_direction(slot.mid, Direction::Inactive);
                    slot.track = None;
                    slot.state = SlotState::Idle;
                    released.insert(slot.mid);
                }
            }
        }
        let mut changed_mids = !released.is_empty();
        for tid in subs.keys() {
            let Some(track) = tracks.get(tid) else {
                continue;
            };
            if track.kind == TrackKind::Data
                || slots.iter().any(|sl| sl.track.as_ref() == Some(tid))
            {
                continue;
            }
            changed_mids = true;
            if let Some(slot) = slots.iter_mut().find(|sl| {
                sl.track.is_none()
                    && sl.kind == track.kind
                    && sl.state == SlotState::Idle
                    && !released.contains(&sl.mid)
            }) {
                api.set_direction(slot.mid, Direction::SendOnly);
                slot.track = Some(tid.clone());
                slot.state = SlotState::Negotiating;
            } else {
                let mid = api.add_media(
                    media_kind(track.kind),
                    Direction::SendOnly,
                    Some(track.member_id.to_string()),
                    Some(tid.to_string()),
                    None,
                );
                slots.push(Slot {
                    mid,
                    kind: track.kind,
                    track: Some(tid.clone()),
                    state: SlotState::Negotiating,
                    added: true,
                });
            }
        }
        let restart = *ice_restart;
        if restart {
            api.ice_restart(true);
            *ice_restart = false;
        }
        if !api.has_changes() {
            if changed_mids {
                // Nothing in the SDP itself changed (a slot re-pointed to a new track whose
                // direction was already sendonly): start forwarding straight away.
                for slot in slots.iter_mut() {
                    if slot.state == SlotState::Negotiating {
                        slot.state = SlotState::Active;
                    }
                }
            }
            return;
        }
        let applied = guard(|| api.apply());
        match applied {
            Some(Some((offer, p))) => {
                let offer_id = *next_sub_offer_id;
                *next_sub_offer_id = next_sub_offer_id.wrapping_add(1).max(1);
                *pending = Some(PendingSub {
                    offer_id,
                    pending: p,
                });
                let sdp_text = offer.to_sdp_string();
                let mut mids = BTreeMap::new();
                for slot in slots.iter() {
                    let entry = slot.track.as_ref().and_then(|t| {
                        tracks.get(t).map(|tr| SubMid {
                            track_id: t.to_string(),
                            member_id: tr.member_id.to_string(),
                            kind: tr.kind,
                        })
                    });
                    mids.insert(slot.mid.to_string(), entry);
                }
                let was_reset = std::mem::take(reset);
                let _ = events.send(MediaEvent::SubOffer(SubOffer {
                    offer_id,
                    sdp: sdp_text.clone(),
                    mids,
                    ice_restart: restart,
                    reset: was_reset,
                }));
                if !*candidates_sent || restart {
                    *candidates_sent = true;
                    let ufrag = sdp_text
                        .lines()
                        .find_map(|l| l.trim_end().strip_prefix("a=ice-ufrag:"))
                        .unwrap_or_default()
                        .to_owned();
                    let first_mid = sdp::scan(&sdp_text)
                        .ok()
                        .and_then(|sc| sc.sections.first().and_then(|x| x.mid.clone()));
                    for ev in candidate_events(PcKind::Sub, *local_addr, &ufrag, first_mid) {
                        let _ = events.send(ev);
                    }
                }
            }
            Some(None) => {
                for slot in slots.iter_mut() {
                    if slot.state == SlotState::Negotiating {
                        slot.state = SlotState::Active;
                        slot.added = false;
                    }
                }
            }
            None => pc.rtc.disconnect(),
        }
        if restart {
            // The restart gives the PC a new ufrag.
            let ufrag = pc.rtc.direct_api().local_ice_credentials().ufrag;
            if ufrag != pc.ufrag {
                let old = std::mem::replace(&mut pc.ufrag, ufrag.clone());
                self.by_ufrag.remove(&old);
                self.by_ufrag.insert(ufrag, (sid.clone(), PcKind::Sub));
            }
        }
        self.drain(sid, PcKind::Sub);
    }

    fn sub_answer(&mut self, sid: &str, offer_id: u32, sdp_text: &str) -> Result<(), MediaError> {
        let sid = self.key(sid)?;
        let now = Instant::now();
        let Some(s) = self.sessions.get_mut(&sid) else {
            return Err(unknown_session(&sid));
        };
        match &s.sub.pending {
            Some(p) if p.offer_id == offer_id => {}
            Some(p) => {
                return Err(err(
                    MediaError::STALE_OFFER,
                    format!(
                        "offer {offer_id} is not the outstanding offer {}",
                        p.offer_id
                    ),
                ))
            }
            None => {
                return Err(err(
                    MediaError::STALE_OFFER,
                    format!("no outstanding offer (got {offer_id})"),
                ))
            }
        }
        sdp::scan(sdp_text).map_err(|e| err(MediaError::BAD_REMOTE_SDP, e))?;
        let answer = SdpAnswer::from_sdp_string(sdp_text)
            .map_err(|e| err(MediaError::BAD_REMOTE_SDP, format!("bad answer SDP: {e}")))?;
        let Some(p) = s.sub.pending.take() else {
            return Err(err(MediaError::STALE_OFFER, "no outstanding offer"));
        };
        let pc = &mut s.sub.pc;
        let result = guard(|| pc.rtc.sdp_api().accept_answer(p.pending, answer));
        let mut activated = Vec::new();
        let outcome = match result {
            Some(Ok(())) => {
                s.sub.answered = true;
                for slot in s.sub.slots.iter_mut() {
                    slot.added = false;
                    if slot.state == SlotState::Negotiating {
                        slot.state = SlotState::Active;
                        if let Some(t) = &slot.track {
                            activated.push((t.clone(), slot.mid, slot.kind));
                        }
                    }
                }
                Ok(())
            }
            other => {
                // Forget what the failed offer introduced; the next offer redoes it.
                s.sub
                    .slots
                    .retain(|sl| !(sl.added && sl.state == SlotState::Negotiating));
                for slot in s.sub.slots.iter_mut() {
                    if slot.state == SlotState::Negotiating {
                        slot.state = SlotState::Idle;
                        slot.track = None;
                    }
                }
                s.sub.dirty = true;
                if other.is_none() {
                    pc.rtc.disconnect();
                }
                let msg = match other {
                    Some(Err(e)) => format!("answer rejected: {e}"),
                    _ => "answer rejected".to_owned(),
                };
                Err(err(MediaError::BAD_REMOTE_SDP, msg))
            }
        };
        for (tid, mid, _) in &activated {
            if let Some(e) = s.subs.get_mut(tid) {
                e.active = true;
            }
            s.emit(MediaEvent::SubscriptionActive {
                track_id: tid.to_string(),
                mid: Some(mid.to_string()),
            });
        }
        self.drain(&sid, PcKind::Sub);
        for (tid, _, kind) in activated {
            if kind == TrackKind::Video {
                self.want_keyframe(&tid, now);
            }
        }
        outcome
    }
}

/// The engine's host candidate followed by the end-of-candidates marker.
fn candidate_events(
    pc: PcKind,
    addr: SocketAddr,
    ufrag: &str,
    first_mid: Option<String>,
) -> Vec<MediaEvent> {
    let mut out = Vec::new();
    if let Ok(c) = Candidate::host(addr, "udp") {
        out.push(MediaEvent::LocalCandidate(LocalCandidate {
            pc,
            candidate: Some(c.to_sdp_string()),
            sdp_mid: first_mid.clone(),
            sdp_m_line_index: Some(0),
            username_fragment: Some(ufrag.to_owned()),
        }));
    }
    out.push(MediaEvent::LocalCandidate(LocalCandidate {
        pc,
        candidate: None,
        sdp_mid: first_mid,
        sdp_m_line_index: Some(0),
        username_fragment: Some(ufrag.to_owned()),
    }));
    out
}
