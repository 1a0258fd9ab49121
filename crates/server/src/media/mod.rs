//! The SFU media engine: WebRTC PeerConnections, publishing, subscribing and forwarding.
//!
//! The engine is independent of the signaling code. It knows sessions, rooms, members and tracks
//! only by the string ids the signaling layer hands it, and it speaks to that layer through a
//! cloneable async [`MediaHandle`] (commands) and one event stream per session
//! ([`SessionEvents`]).
//!
//! # Architecture
//!
//! [`MediaEngine::start`] binds **one UDP socket** that every PeerConnection of every session
//! shares, and spawns **one engine task** (tokio) that owns that socket and every str0m `Rtc`.
//! Commands from [`MediaHandle`] reach the task over a channel; nothing is shared or locked.
//!
//! - Incoming datagrams are routed by their source address. An unknown source is routed by the
//!   ICE username of its STUN binding request (the local ufrag names the PeerConnection); once a
//!   PeerConnection accepts it, the address is remembered.
//! - Every PeerConnection has exactly one host candidate: [`MediaConfig::public_ip`] (or the bound
//!   address) with the socket's port. ICE-lite is optional ([`MediaConfig::ice_lite`]).
//! - Per session there are two PeerConnections, as the protocol's media negotiation prescribes:
//!   - the **pub PC**: the client offers ([`MediaHandle::pub_offer`]) and the engine answers;
//!   - the **sub PC**: the engine offers ([`MediaEvent::SubOffer`]) and the client answers
//!     ([`MediaHandle::sub_answer`]). It is created with the session, so the first offer carries
//!     only the two data channels `ovsp-reliable` and `ovsp-lossy`.
//! - Media is forwarded at frame level (str0m depacketizes and repacketizes), so every subscriber
//!   gets its own sequence numbers and SSRCs and no rewriting is needed.
//!
//! # Lifecycle of a session
//!
//! 1. [`MediaHandle::create_session`] with the session, member and room ids returns the event
//!    receiver. The first [`MediaEvent::SubOffer`] (offer id 1) follows within one engine tick
//!    (50 ms), so the subscriptions made right after the join ride in it.
//! 2. The client answers: [`MediaHandle::sub_answer`]. Trickled client candidates go to
//!    [`MediaHandle::remote_candidate`]; the engine's own candidate arrives as
//!    [`MediaEvent::LocalCandidate`] (it is also inside every SDP the engine produces).
//! 3. Publishing: the signaling layer assigns track ids at `track.publish`, resolves the client's
//!    `mids` map (mid → cid or track id) to track ids and calls [`MediaHandle::pub_offer`]. The
//!    pub PC is created on the first offer (audience members never get one). When a track's
//!    m-section is negotiated **and** the pub PC is connected, [`MediaEvent::TrackLive`] is sent
//!    once per track: that is the moment for the durable `track.published`.
//!    A data track is registered with [`MediaHandle::add_data_track`] instead.
//! 4. Subscribing: [`MediaHandle::subscribe`] / [`MediaHandle::unsubscribe`] per track. The
//!    engine coalesces changes into sub offers (made on the engine's 50 ms tick), with **at most
//!    one offer outstanding**; after the first answer, further offers wait until the sub PC is
//!    connected (ICE restarts excepted). It reuses inactive m-sections of the same kind before
//!    adding new ones. No RTP goes on a newly
//!    assigned mid until the answer to the offer that introduced it is applied; then
//!    [`MediaEvent::SubscriptionActive`] is emitted and a keyframe request goes to the publisher.
//! 5. [`MediaHandle::close_session`] removes the session at once: its PeerConnections are closed,
//!    its tracks stop, and every subscriber's m-section for them becomes inactive in its next
//!    offer. Consent/ICE failure does *not* remove a session; it is reported as
//!    [`MediaEvent::IceFailed`] and the signaling layer decides (ICE restart, resume window...).
//!
//! # Moderation and state
//!
//! - [`MediaHandle::set_blocked`]: a blocked track is dropped at the engine, whatever its client
//!   sends. [`MediaHandle::set_muted`]: the owner's mute, the media stops likewise.
//!   Subscribers get [`MediaEvent::StreamState`] (`publisher_muted`).
//! - [`MediaHandle::set_deaf`]: no audio at all is forwarded to a deaf session.
//! - [`MediaHandle::set_paused`]: per subscription, without renegotiation
//!   ([`MediaEvent::StreamState`] with `subscriber_paused`).
//! - Talking detection reads the RFC 6464 audio level of every forwarded audio packet, with
//!   hysteresis and the member's input sensitivity ([`MediaHandle::set_sensitivity`], 0..=100,
//!   default 30) as threshold. [`MediaEvent::Talking`] is edge-triggered and
//!   [`MediaEvent::Speakers`] comes only on change, at most every
//!   [`MediaConfig::speakers_interval`] (250 ms: under the protocol's 5/s).
//!
//! # Which events go where
//!
//! Each session's stream carries exactly what that session's client should receive, so volatile
//! events can be forwarded as they are. Room-wide media events ([`MediaEvent::Talking`],
//! [`MediaEvent::Speakers`]) are put on the stream of **every** session of the room (the talker's
//! own included); a room actor that keeps `Member.talking` can read it from the talker's own
//! stream (`member_id` equal to its own).
//!
//! [`MediaEvent::to_ovsp`] turns the one-to-one events into `ovsp` wire events
//! (`sub.offer`, `ice.candidate`, `member.talking`, `room.speakers`, `track.stream_state`), and a
//! [`MediaError`] converts into `ovsp::envelope::RpcError`.
//!
//! # Data tracks
//!
//! Clients open `ovsp-reliable` and `ovsp-lossy` on the pub PC; the engine opens the same pair on
//! the sub PC. Uplink frames (version 1, flags, u16 handle, u32 seq, optional destination list,
//! payload; big-endian) are accepted only for a handle registered to the sending session. They
//! go to the track's subscribers (optionally narrowed to the destination member ids), with the
//! destination list removed, on the channel matching the track's reliability.
//!
//! # Simulcast and what is not done
//!
//! A simulcast track (an m-section with rids) forwards **one layer per subscriber**: the highest
//! flowing layer that fits the subscriber's [`LayerLimits`] ([`MediaHandle::set_layer_limits`],
//! the `max_width`/`max_height`/`max_fps` of `sub.update`), or the lowest flowing one when none
//! fits. A layer's dimensions are those read from its VP8 keyframes, else those declared at
//! `track.publish` ([`MediaHandle::set_track_layers`], which also gives `max_fps`); layers of
//! unknown size rank by rid (`f`/`2` over `h`/`1` over `q`/`0`) and always fit. A subscriber
//! switches only at a keyframe of its target layer, which is requested from the publisher for
//! that rid (throttled and merged like every keyframe request). A layer without frames for 1 s
//! is not flowing, so its subscribers fall back to the next one. Without limits every subscriber
//! gets the best flowing layer.
//!
//! Not implemented: the `priority` subscription setting (accepted, no effect), bandwidth-driven
//! switching and the `congestion` stream state, dynacast (`track.layers_requested`), TURN and
//! ICE-TCP.
//!
//! # Errors
//!
//! Every call returns a [`MediaError`] carrying a numeric OVSP code: a bad SDP is
//! [`MediaError::BAD_REMOTE_SDP`] (53403) and the session survives it. No client input (SDP,
//! candidates, RTP, RTCP, STUN, DTLS, data frames) may panic the engine; as a last guard every
//! str0m call runs under `catch_unwind`, and a PeerConnection that panics is closed alone.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), convene_server::media::MediaError> {
//! use convene_server::media::{MediaConfig, MediaEngine, SessionSpec};
//! let media = MediaEngine::start(MediaConfig::dev()).await?;
//! let mut events = media
//!     .create_session(SessionSpec::new("ses_1", "mem_1", "rm_1"))
//!     .await?;
//! while let Some(ev) = events.recv().await {
//!     println!("{ev:?}");
//! }
//! # Ok(()) }
//! ```

mod data;
mod engine;
mod sdp;
mod stun;
mod talk;
mod wire;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use data::{DataFrame, DATA_FRAME_VERSION};

/// A subscriber's limits for the simulcast layer it receives of one track (`sub.update`
/// settings). `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LayerLimits {
    /// Widest layer wanted, in pixels.
    pub max_width: Option<u32>,
    /// Tallest layer wanted, in pixels.
    pub max_height: Option<u32>,
    /// Highest frame rate wanted (applies to layers whose `max_fps` was declared).
    pub max_fps: Option<f64>,
}

/// Configuration of the media engine.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// UDP address to bind (for example `127.0.0.1:0`, or `0.0.0.0:50000` from `--udp-port`).
    pub bind: SocketAddr,
    /// Address advertised in the host candidate (`--public-ip`). Defaults to the bound IP, which
    /// then must not be unspecified (`0.0.0.0`).
    pub public_ip: Option<IpAddr>,
    /// Run the server side of ICE as ICE-lite.
    pub ice_lite: bool,
    /// Minimum interval between two keyframe requests sent to one published video track.
    /// Requests that arrive in between are merged into one sent when the interval has passed.
    pub keyframe_interval: Duration,
    /// Minimum interval between two [`MediaEvent::Speakers`] of one room (default 250 ms, so at
    /// most 4/s and safely under the protocol's 5/s even with delivery jitter).
    pub speakers_interval: Duration,
}

impl MediaConfig {
    /// Configuration for development: bind `127.0.0.1` on an ephemeral port, full ICE.
    pub fn dev() -> Self {
        Self::new(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
    }

    /// Configuration binding `bind`, with defaults for everything else.
    pub fn new(bind: SocketAddr) -> Self {
        MediaConfig {
            bind,
            public_ip: None,
            ice_lite: false,
            keyframe_interval: Duration::from_millis(500),
            speakers_interval: Duration::from_millis(250),
        }
    }
}

/// What a session is, as far as media is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpec {
    /// Session id (`ses_…`), the key of every later call.
    pub session_id: String,
    /// The member id of the session (`mem_…`); used in sub offers' `mids` and data destinations.
    pub member_id: String,
    /// Room id (`rm_…`); talking and speaker events go to every session of the same room.
    pub room_id: String,
}

impl SessionSpec {
    /// Builds a spec from the three ids.
    pub fn new(
        session_id: impl Into<String>,
        member_id: impl Into<String>,
        room_id: impl Into<String>,
    ) -> Self {
        SessionSpec {
            session_id: session_id.into(),
            member_id: member_id.into(),
            room_id: room_id.into(),
        }
    }
}

/// Which of a session's two PeerConnections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PcKind {
    /// The publishing PC: the client offers.
    Pub,
    /// The subscribing PC: the server offers.
    Sub,
}

impl PcKind {
    /// The wire name (`"pub"` / `"sub"`).
    pub fn as_str(self) -> &'static str {
        match self {
            PcKind::Pub => "pub",
            PcKind::Sub => "sub",
        }
    }
}

/// Kind of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackKind {
    /// Audio (Opus).
    Audio,
    /// Video (VP8, H.264, …).
    Video,
    /// A data track (frames on the data channels).
    Data,
}

impl TrackKind {
    /// The wire name (`"audio"`, `"video"`, `"data"`).
    pub fn as_str(self) -> &'static str {
        match self {
            TrackKind::Audio => "audio",
            TrackKind::Video => "video",
            TrackKind::Data => "data",
        }
    }
}

/// One entry of a pub offer's `mids` map, after the signaling layer resolved cids to track ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubMid {
    /// The server track id (`tr_…`).
    pub track_id: String,
    /// The kind declared at `track.publish`; must match the m-section (else 54402).
    pub kind: TrackKind,
}

/// A `pub.offer` as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubOffer {
    /// The client's offer id (increasing per pub PC; a smaller or equal one is stale: 54400).
    pub offer_id: u32,
    /// The offer SDP.
    pub sdp: String,
    /// mid → track, for every audio/video m-section that carries a published track. A track
    /// that was mapped before and is missing now is detached (its media stops).
    pub mids: BTreeMap<String, PubMid>,
    /// The client asks for an ICE restart (its offer carries new ICE credentials).
    pub ice_restart: bool,
}

/// One entry of a sub offer's `mids` map (the protocol's `{track_id, member_id, kind}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubMid {
    /// The forwarded track.
    pub track_id: String,
    /// Its publisher.
    pub member_id: String,
    /// Audio or video.
    pub kind: TrackKind,
}

/// The server's offer on the sub PC (the durable `sub.offer` event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubOffer {
    /// Offer id, increasing per session from 1 (also across `sub.reset`).
    pub offer_id: u32,
    /// The offer SDP.
    pub sdp: String,
    /// Every audio/video mid; `None` is an inactive, reusable m-section. The data m-section is
    /// not listed.
    pub mids: BTreeMap<String, Option<SubMid>>,
    /// This offer restarts ICE.
    pub ice_restart: bool,
    /// This offer is for a brand new sub PC (after [`MediaHandle::sub_reset`]).
    pub reset: bool,
}

/// An ICE candidate of the engine, for the `ice.candidate` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCandidate {
    /// Which PeerConnection.
    pub pc: PcKind,
    /// `candidate:…` line without the `a=` prefix; `None` marks the end of candidates.
    pub candidate: Option<String>,
    /// The mid the candidate is signalled for (the first m-section).
    pub sdp_mid: Option<String>,
    /// The m-line index (always 0: bundle).
    pub sdp_m_line_index: Option<u16>,
    /// The ICE ufrag the candidate belongs to.
    pub username_fragment: Option<String>,
}

/// Why a subscribed stream is not active (`track.stream_state.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamReason {
    /// Media flows (sent with `active: true`).
    None,
    /// The publisher muted it, or a moderator blocked it.
    PublisherMuted,
    /// The subscriber paused it.
    SubscriberPaused,
    /// The receiving session is deaf (audio only).
    Deaf,
}

impl StreamReason {
    /// The wire name; `None` for [`StreamReason::None`].
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            StreamReason::None => None,
            StreamReason::PublisherMuted => Some("publisher_muted"),
            StreamReason::SubscriberPaused => Some("subscriber_paused"),
            StreamReason::Deaf => Some("subscriber_paused"),
        }
    }
}

/// One entry of [`MediaEvent::Speakers`].
#[derive(Debug, Clone, PartialEq)]
pub struct Speaker {
    /// The member.
    pub member_id: String,
    /// Smoothed audio level, 0..=1.
    pub level: f32,
    /// Currently talking.
    pub active: bool,
}

/// Events of one session, in the order they happened.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaEvent {
    /// A new offer on the sub PC; send it as the durable `sub.offer` event.
    SubOffer(SubOffer),
    /// A local ICE candidate (volatile `ice.candidate`).
    LocalCandidate(LocalCandidate),
    /// A published track is negotiated and its pub PC connected: emit `track.published`.
    TrackLive {
        /// The track.
        track_id: String,
    },
    /// A subscription now flows: its answer is applied (`sub.updated` state `active`).
    SubscriptionActive {
        /// The track.
        track_id: String,
        /// Its mid on the sub PC (`None` for data tracks).
        mid: Option<String>,
    },
    /// A subscription could not be set up (`sub.updated` state `failed`).
    SubscriptionFailed {
        /// The track.
        track_id: String,
        /// 53404 when the client's answer has no codec in common with the publisher.
        code: i32,
    },
    /// Stream state of a subscribed track changed (`track.stream_state`).
    StreamState {
        /// The track.
        track_id: String,
        /// Media flows to this subscriber.
        active: bool,
        /// Why not (or [`StreamReason::None`]).
        reason: StreamReason,
    },
    /// Edge-triggered talking change of a member of the room (`member.talking`).
    Talking {
        /// The member.
        member_id: String,
        /// Talking now.
        talking: bool,
    },
    /// The room's active speakers (`room.speakers`), at most 5/s, only on change.
    Speakers(Vec<Speaker>),
    /// A PeerConnection reached ICE+DTLS connected state.
    Connected {
        /// Which one.
        pc: PcKind,
    },
    /// A PeerConnection lost ICE consent or failed (media connection failure, 53405).
    IceFailed {
        /// Which one.
        pc: PcKind,
    },
}

/// The receiving end of one session's events.
pub type SessionEvents = mpsc::UnboundedReceiver<MediaEvent>;

/// An error with an OVSP numeric code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaError {
    /// OVSP / Twilio error code.
    pub code: i32,
    /// Human readable detail.
    pub message: String,
}

impl MediaError {
    /// -32603: internal error (engine stopped, unknown session).
    pub const INTERNAL: i32 = -32603;
    /// 53401: the server failed to create a local description.
    pub const LOCAL_SDP_FAILED: i32 = 53401;
    /// 53403: the server failed to apply a remote description (bad SDP).
    pub const BAD_REMOTE_SDP: i32 = 53403;
    /// 53404: no supported codec.
    pub const NO_CODEC: i32 = 53404;
    /// 54300: track not found.
    pub const TRACK_NOT_FOUND: i32 = 54300;
    /// 54301: track not owned by the session.
    pub const TRACK_NOT_OWNED: i32 = 54301;
    /// 54303: data handle invalid or already in use.
    pub const DATA_HANDLE: i32 = 54303;
    /// 54400: unknown or stale offer id.
    pub const STALE_OFFER: i32 = 54400;
    /// 54402: the mids map does not match the SDP.
    pub const MIDS_INCONSISTENT: i32 = 54402;
    /// -32602: invalid params (for example a malformed candidate).
    pub const INVALID_PARAMS: i32 = -32602;

    /// Builds an error.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        MediaError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for MediaError {}

/// Counters of the engine, for tests and measurements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Live sessions.
    pub sessions: usize,
    /// Registered tracks (audio, video, data).
    pub tracks: usize,
    /// Media frames received from publishers.
    pub frames_in: u64,
    /// Media frames written to subscribers.
    pub frames_out: u64,
    /// Frames dropped because the track was blocked or muted.
    pub frames_dropped_moderation: u64,
    /// Keyframe requests sent to publishers.
    pub keyframe_requests_sent: u64,
    /// Keyframe requests received from subscribers or triggered internally.
    pub keyframe_requests_wanted: u64,
    /// Data frames delivered to subscribers.
    pub data_frames_out: u64,
    /// UDP datagrams no PeerConnection accepted.
    pub unrouted_datagrams: u64,
}

/// The media engine. Start it with [`MediaEngine::start`].
#[derive(Debug)]
pub struct MediaEngine;

impl MediaEngine {
    /// Binds the UDP socket and spawns the engine task on the current tokio runtime.
    ///
    /// The task ends when every [`MediaHandle`] clone is dropped.
    pub async fn start(config: MediaConfig) -> Result<MediaHandle, MediaError> {
        engine::start(config).await
    }
}

/// Cloneable handle to the engine task. Every method is answered in order of the calls.
#[derive(Debug, Clone)]
pub struct MediaHandle {
    tx: mpsc::UnboundedSender<engine::Command>,
    local_addr: SocketAddr,
}

type Reply<T> = oneshot::Sender<Result<T, MediaError>>;

impl MediaHandle {
    /// The address advertised in the host candidate (IP and the bound UDP port).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(Reply<T>) -> engine::Command,
    ) -> Result<T, MediaError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .map_err(|_| MediaError::new(MediaError::INTERNAL, "media engine stopped"))?;
        rx.await
            .map_err(|_| MediaError::new(MediaError::INTERNAL, "media engine stopped"))?
    }

    /// Creates the media side of a session (its sub PC) and returns its event stream. The first
    /// [`MediaEvent::SubOffer`] follows within 50 ms. An existing session with the same id is
    /// closed first.
    pub async fn create_session(&self, spec: SessionSpec) -> Result<SessionEvents, MediaError> {
        self.call(|reply| engine::Command::CreateSession { spec, reply })
            .await
    }

    /// Removes a session at once: closes both PCs, stops its tracks and its subscriptions.
    /// Unknown sessions are ignored.
    pub async fn close_session(&self, session_id: &str) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        self.call(|reply| engine::Command::CloseSession { session_id, reply })
            .await
    }

    /// Applies a client offer on the pub PC (creating it on first use) and returns the answer SDP.
    pub async fn pub_offer(&self, session_id: &str, offer: PubOffer) -> Result<String, MediaError> {
        let session_id = session_id.to_owned();
        self.call(|reply| engine::Command::PubOffer {
            session_id,
            offer,
            reply,
        })
        .await
    }

    /// Discards the pub PC. Tracks stay registered; the next [`MediaHandle::pub_offer`] builds a
    /// new PC and re-attaches them by its `mids` map.
    pub async fn pub_reset(&self, session_id: &str) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        self.call(|reply| engine::Command::PubReset { session_id, reply })
            .await
    }

    /// Applies the client's answer to the outstanding sub offer `offer_id`.
    pub async fn sub_answer(
        &self,
        session_id: &str,
        offer_id: u32,
        sdp: String,
    ) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        self.call(|reply| engine::Command::SubAnswer {
            session_id,
            offer_id,
            sdp,
            reply,
        })
        .await
    }

    /// Requests an ICE restart of the sub PC: a [`MediaEvent::SubOffer`] with `ice_restart`
    /// follows (after the outstanding offer, if any, is answered).
    pub async fn sub_ice_restart(&self, session_id: &str) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        self.call(|reply| engine::Command::SubIceRestart { session_id, reply })
            .await
    }

    /// Discards the sub PC and starts a new one: a [`MediaEvent::SubOffer`] with `reset` follows
    /// at once (any outstanding offer is abandoned), carrying every current subscription.
    pub async fn sub_reset(&self, session_id: &str) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        self.call(|reply| engine::Command::SubReset { session_id, reply })
            .await
    }

    /// Adds a trickled client candidate (`candidate:…`, with or without `a=`); `None` is the end
    /// of candidates.
    pub async fn remote_candidate(
        &self,
        session_id: &str,
        pc: PcKind,
        candidate: Option<String>,
    ) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        self.call(|reply| engine::Command::RemoteCandidate {
            session_id,
            pc,
            candidate,
            reply,
        })
        .await
    }

    /// Registers a data track of a session with its room-unique handle (u16, never 0).
    pub async fn add_data_track(
        &self,
        session_id: &str,
        track_id: &str,
        handle: u16,
        reliable: bool,
    ) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        let track_id = track_id.to_owned();
        self.call(|reply| engine::Command::AddDataTrack {
            session_id,
            track_id,
            handle,
            reliable,
            reply,
        })
        .await
    }

    /// Removes a track (`track.unpublish`, demote, leave): its media stops at once and every
    /// subscriber's m-section for it is released in its next offer. Unknown tracks are ignored.
    pub async fn unpublish_track(&self, track_id: &str) -> Result<(), MediaError> {
        let track_id = track_id.to_owned();
        self.call(|reply| engine::Command::Unpublish { track_id, reply })
            .await
    }

    /// Subscribes a session to a track (54300 when the engine does not know the track).
    /// Subscribing twice is a no-op.
    pub async fn subscribe(&self, session_id: &str, track_id: &str) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        let track_id = track_id.to_owned();
        self.call(|reply| engine::Command::Subscribe {
            session_id,
            track_id,
            reply,
        })
        .await
    }

    /// Ends a subscription (no-op when not subscribed).
    pub async fn unsubscribe(&self, session_id: &str, track_id: &str) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        let track_id = track_id.to_owned();
        self.call(|reply| engine::Command::Unsubscribe {
            session_id,
            track_id,
            reply,
        })
        .await
    }

    /// Pauses or resumes one subscription without renegotiation.
    pub async fn set_paused(
        &self,
        session_id: &str,
        track_id: &str,
        paused: bool,
    ) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        let track_id = track_id.to_owned();
        self.call(|reply| engine::Command::SetPaused {
            session_id,
            track_id,
            paused,
            reply,
        })
        .await
    }

    /// Owner's mute of a track: its media stops at the engine while muted.
    pub async fn set_muted(&self, track_id: &str, muted: bool) -> Result<(), MediaError> {
        let track_id = track_id.to_owned();
        self.call(|reply| engine::Command::SetMuted {
            track_id,
            muted,
            reply,
        })
        .await
    }

    /// Moderator block of a track: its media is dropped at the engine while blocked.
    pub async fn set_blocked(&self, track_id: &str, blocked: bool) -> Result<(), MediaError> {
        let track_id = track_id.to_owned();
        self.call(|reply| engine::Command::SetBlocked {
            track_id,
            blocked,
            reply,
        })
        .await
    }

    /// Deafens a session: no audio is forwarded to it while deaf.
    pub async fn set_deaf(&self, session_id: &str, deaf: bool) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        self.call(|reply| engine::Command::SetDeaf {
            session_id,
            deaf,
            reply,
        })
        .await
    }

    /// Sets the member's input sensitivity (0..=100, clamped; higher = more sensitive), the
    /// threshold of its talking detector.
    pub async fn set_sensitivity(&self, session_id: &str, value: u8) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        self.call(|reply| engine::Command::SetSensitivity {
            session_id,
            value,
            reply,
        })
        .await
    }

    /// Sets a subscriber's layer limits for one track (54300 when not subscribed). They choose
    /// the simulcast layer it receives; non-simulcast tracks are unaffected.
    pub async fn set_layer_limits(
        &self,
        session_id: &str,
        track_id: &str,
        limits: LayerLimits,
    ) -> Result<(), MediaError> {
        let session_id = session_id.to_owned();
        let track_id = track_id.to_owned();
        self.call(|reply| engine::Command::SetLayerLimits {
            session_id,
            track_id,
            limits,
            reply,
        })
        .await
    }

    /// Declares a video track's simulcast layers (`track.publish` / `track.update` `layers`):
    /// their sizes and frame rates rank and limit the layer choice. May be called before the
    /// track's pub offer; replaces any earlier declaration.
    pub async fn set_track_layers(
        &self,
        track_id: &str,
        layers: Vec<ovsp::model::TrackLayer>,
    ) -> Result<(), MediaError> {
        let track_id = track_id.to_owned();
        self.call(|reply| engine::Command::SetTrackLayers {
            track_id,
            layers,
            reply,
        })
        .await
    }

    /// Engine counters.
    pub async fn stats(&self) -> Result<EngineStats, MediaError> {
        self.call(|reply| engine::Command::Stats { reply }).await
    }
}
