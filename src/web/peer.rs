//! The RTCPeerConnection adapter, used for both the publishing and the subscribing connection.
//!
//! A [`Peer`] owns its `RTCPeerConnection`, its data channels and every listener on them. The
//! listeners only translate browser events into [`PeerSignal`]s for the actor; all decisions
//! are made by the core. Dropping a `Peer` closes it.

use super::error::WebError;
use super::js;
use super::listener::Listener;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStreamTrack, RtcDataChannel, RtcIceCandidateInit, RtcPeerConnection, RtcRtpTransceiver,
    RtcSessionDescriptionInit,
};

/// Which of the session's two connections a peer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PcRole {
    /// The publishing connection: the client offers.
    Pub,
    /// The subscribing connection: the server offers.
    Sub,
}

/// One ICE server for the connection's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:` / `turn:` URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    pub username: Option<String>,
    /// TURN credential.
    pub credential: Option<String>,
}

/// A trickled ICE candidate (the `RTCIceCandidateInit` fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceCandidate {
    /// The `candidate:` line.
    pub candidate: String,
    /// The media stream identification tag.
    pub sdp_mid: Option<String>,
    /// The m-line index.
    pub sdp_m_line_index: Option<u16>,
    /// The ICE ufrag it belongs to.
    pub username_fragment: Option<String>,
}

/// The connection (or ICE connection) state, as one small enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Not started.
    New,
    /// Checking / connecting.
    Connecting,
    /// Connected (or ICE completed).
    Connected,
    /// Temporarily lost.
    Disconnected,
    /// Failed; needs an ICE restart.
    Failed,
    /// Closed.
    Closed,
}

/// SDP type of a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpKind {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
    /// Rollback of a pending offer.
    Rollback,
}

/// Transceiver direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Send only (publishing).
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Both.
    SendRecv,
    /// Neither (an unpublished, reusable m-line).
    Inactive,
}

/// What a peer connection reports, from its browser callbacks.
#[derive(Debug, Clone)]
pub enum PeerSignal {
    /// A local ICE candidate; `None` is the end of candidates.
    Candidate(Option<IceCandidate>),
    /// `connectionState` changed.
    Connection(ConnState),
    /// `iceConnectionState` changed.
    Ice(ConnState),
    /// A remote track arrived on m-line `mid`.
    Track {
        /// The transceiver's mid.
        mid: Option<String>,
        /// The remote track.
        track: MediaStreamTrack,
    },
    /// The remote side opened the data channel with this label. The peer adopted it at once
    /// (no message can arrive before its listener), so its messages come as [`PeerSignal::Data`].
    Channel(String),
    /// A data channel is open.
    ChannelOpen(String),
    /// A binary (or text, as UTF-8) message on the channel with this label.
    Data {
        /// The channel label (`ovsp-reliable` / `ovsp-lossy`).
        label: String,
        /// The payload.
        data: Vec<u8>,
    },
}

type Sink = Rc<dyn Fn(PcRole, PeerSignal)>;

/// Messages given to a channel that is still connecting; sent when it opens.
type Backlog = Rc<std::cell::RefCell<Vec<Vec<u8>>>>;

struct Channel {
    dc: RtcDataChannel,
    backlog: Backlog,
    _listeners: [Listener; 2],
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.dc.close();
    }
}

/// One RTCPeerConnection with everything attached to it.
pub struct Peer {
    role: PcRole,
    pc: RtcPeerConnection,
    sink: Sink,
    channels: Rc<std::cell::RefCell<Vec<Channel>>>,
    _listeners: [Listener; 5],
}

/// `connectionState` (`key` "connectionState") or `iceConnectionState` (`key`
/// "iceConnectionState") of `pc`.
fn conn_state(pc: &RtcPeerConnection, key: &str) -> ConnState {
    match js::get_str(pc, key).as_deref() {
        Some("new") => ConnState::New,
        Some("connecting" | "checking") => ConnState::Connecting,
        Some("connected" | "completed") => ConnState::Connected,
        Some("disconnected") => ConnState::Disconnected,
        Some("failed") => ConnState::Failed,
        _ => ConnState::Closed,
    }
}

fn js_dir(d: Direction) -> &'static str {
    match d {
        Direction::SendOnly => "sendonly",
        Direction::RecvOnly => "recvonly",
        Direction::SendRecv => "sendrecv",
        Direction::Inactive => "inactive",
    }
}

fn data_bytes(v: &JsValue) -> Vec<u8> {
    if let Some(s) = v.as_string() {
        return s.into_bytes();
    }
    if v.is_instance_of::<js_sys::ArrayBuffer>() {
        return js_sys::Uint8Array::new(v).to_vec();
    }
    Vec::new()
}

fn channel(role: PcRole, dc: RtcDataChannel, sink: &Sink) -> Channel {
    js::set_str(&dc, "binaryType", "arraybuffer");
    let t: &web_sys::EventTarget = dc.as_ref();
    let label = dc.label();
    let (s1, s2) = (sink.clone(), sink.clone());
    let l2 = label.clone();
    let backlog: Backlog = Rc::default();
    let (b1, d1) = (backlog.clone(), dc.clone());
    Channel {
        _listeners: [
            Listener::new(t, "open", move |_| {
                for m in b1.take() {
                    let _ = d1.send_with_u8_array(&m);
                }
                s1(role, PeerSignal::ChannelOpen(label.clone()))
            }),
            Listener::new(t, "message", move |e| {
                s2(
                    role,
                    PeerSignal::Data {
                        label: l2.clone(),
                        data: data_bytes(&js::get(&e, "data")),
                    },
                )
            }),
        ],
        dc,
        backlog,
    }
}

async fn wait(p: js_sys::Promise) -> Result<JsValue, WebError> {
    JsFuture::from(p).await.map_err(WebError::from)
}

/// The `sdp` of a session description object (empty if it has none).
pub fn sdp_of(v: &JsValue) -> String {
    text(v, "sdp")
}

/// The transceiver's `mid` (none before negotiation).
pub fn mid_of(t: &RtcRtpTransceiver) -> Option<String> {
    js::get_str(t, "mid")
}

impl Peer {
    /// Creates a connection with `ice_servers`; every event goes to `sink` with this `role`.
    pub fn new<F: Fn(PcRole, PeerSignal) + 'static>(
        role: PcRole,
        ice_servers: &[IceServer],
        sink: F,
    ) -> Result<Peer, WebError> {
        let cfg = js::object();
        let list = js_sys::Array::new();
        for s in ice_servers {
            let srv = js::object();
            let urls = js_sys::Array::new();
            for u in &s.urls {
                urls.push(&JsValue::from_str(u));
            }
            js::set(&srv, "urls", &urls);
            if let Some(u) = &s.username {
                js::set_str(&srv, "username", u);
            }
            if let Some(c) = &s.credential {
                js::set_str(&srv, "credential", c);
            }
            list.push(&srv);
        }
        js::set(&cfg, "iceServers", &list);
        js::set_str(&cfg, "bundlePolicy", "max-bundle");
        let pc = RtcPeerConnection::new_with_configuration(cfg.unchecked_ref())?;
        let sink: Sink = Rc::new(sink);
        let t: &web_sys::EventTarget = pc.as_ref();
        let (s1, s2, s3, s4, s5) = (
            sink.clone(),
            sink.clone(),
            sink.clone(),
            sink.clone(),
            sink.clone(),
        );
        let (p2, p3) = (pc.clone(), pc.clone());
        let channels: Rc<std::cell::RefCell<Vec<Channel>>> = Rc::default();
        let adopted = channels.clone();
        let listeners = [
            Listener::new(t, "icecandidate", move |e| {
                let c = js::get(&e, "candidate");
                let c = js::get_str(&c, "candidate")
                    .filter(|line| !line.is_empty())
                    .map(|line| IceCandidate {
                        candidate: line,
                        sdp_mid: js::get_str(&c, "sdpMid"),
                        sdp_m_line_index: js::get_f64(&c, "sdpMLineIndex").map(|i| i as u16),
                        username_fragment: js::get_str(&c, "usernameFragment"),
                    });
                s1(role, PeerSignal::Candidate(c))
            }),
            Listener::new(t, "connectionstatechange", move |_| {
                s2(
                    role,
                    PeerSignal::Connection(conn_state(&p2, "connectionState")),
                )
            }),
            Listener::new(t, "iceconnectionstatechange", move |_| {
                s3(role, PeerSignal::Ice(conn_state(&p3, "iceConnectionState")))
            }),
            Listener::new(t, "track", move |e| {
                if let Ok(track) = js::get(&e, "track").dyn_into::<MediaStreamTrack>() {
                    let mid = js::get_str(&js::get(&e, "transceiver"), "mid");
                    s4(role, PeerSignal::Track { mid, track })
                }
            }),
            Listener::new(t, "datachannel", move |e| {
                let dc = js::get(&e, "channel");
                if dc.is_object() {
                    let dc: RtcDataChannel = dc.unchecked_into();
                    let label = dc.label();
                    let c = channel(role, dc, &s5);
                    adopted.borrow_mut().push(c);
                    s5(role, PeerSignal::Channel(label))
                }
            }),
        ];
        Ok(Peer {
            role,
            pc,
            sink,
            channels,
            _listeners: listeners,
        })
    }

    /// Which connection this is.
    pub fn role(&self) -> PcRole {
        self.role
    }

    /// The underlying browser object.
    pub fn raw(&self) -> &RtcPeerConnection {
        &self.pc
    }

    /// Opens the two OVSP data channels, `ovsp-reliable` (ordered) and `ovsp-lossy`
    /// (unordered, no retransmits), on this (publishing) connection.
    pub fn open_data_channels(&mut self) {
        let reliable = self.pc.create_data_channel("ovsp-reliable");
        let init = js::object();
        js::set(&init, "ordered", &JsValue::FALSE);
        js::set(&init, "maxRetransmits", &JsValue::from_f64(0.0));
        let lossy = self
            .pc
            .create_data_channel_with_data_channel_dict("ovsp-lossy", init.unchecked_ref());
        for dc in [reliable, lossy] {
            let c = channel(self.role, dc, &self.sink);
            self.channels.borrow_mut().push(c);
        }
    }

    /// Sends `data` on the channel labelled `label`; while the channel is still connecting
    /// the message is kept, in order, and sent when it opens.
    pub fn send_data(&self, label: &str, data: &[u8]) -> Result<(), WebError> {
        let channels = self.channels.borrow();
        let c = channels
            .iter()
            .find(|c| c.dc.label() == label)
            .ok_or_else(|| WebError::new("InvalidStateError", "no such data channel"))?;
        if js::get_str(&c.dc, "readyState").as_deref() == Some("connecting") {
            c.backlog.borrow_mut().push(data.to_vec());
            return Ok(());
        }
        c.dc.send_with_u8_array(data).map_err(WebError::from)
    }

    /// Adds a transceiver sending `track` (or, without a track, of `kind` "audio"/"video").
    /// `encodings` is an optional `sendEncodings` array (simulcast layers).
    pub fn add_transceiver(
        &self,
        track: Option<&MediaStreamTrack>,
        kind: &str,
        dir: Direction,
        encodings: Option<&JsValue>,
    ) -> RtcRtpTransceiver {
        let init = js::object();
        js::set_str(&init, "direction", js_dir(dir));
        if let Some(e) = encodings {
            js::set(&init, "sendEncodings", e);
        }
        let init = init.unchecked_ref();
        match track {
            Some(t) => self
                .pc
                .add_transceiver_with_media_stream_track_and_init(t, init),
            None => self.pc.add_transceiver_with_str_and_init(kind, init),
        }
    }

    /// All transceivers, in m-line order.
    pub fn transceivers(&self) -> Vec<RtcRtpTransceiver> {
        self.pc
            .get_transceivers()
            .iter()
            .map(|t| t.unchecked_into())
            .collect()
    }

    /// The transceiver negotiated on `mid`.
    pub fn transceiver(&self, mid: &str) -> Option<RtcRtpTransceiver> {
        self.transceivers()
            .into_iter()
            .find(|t| mid_of(t).as_deref() == Some(mid))
    }

    /// Sets a transceiver's direction.
    pub fn set_direction(t: &RtcRtpTransceiver, dir: Direction) {
        js::set_str(t, "direction", js_dir(dir));
    }

    /// Replaces (or with `None`, removes) the track a transceiver sends, without renegotiation.
    pub async fn replace_track(
        t: &RtcRtpTransceiver,
        track: Option<&MediaStreamTrack>,
    ) -> Result<(), WebError> {
        wait(Self::replace_track_promise(t, track))
            .await
            .map(|_| ())
    }

    /// Starts [`Peer::replace_track`]; the promise settles when the track is replaced.
    pub fn replace_track_promise(
        t: &RtcRtpTransceiver,
        track: Option<&MediaStreamTrack>,
    ) -> js_sys::Promise {
        t.sender().replace_track(track)
    }

    /// Creates an offer (an ICE-restart offer with `ice_restart`).
    pub async fn create_offer(&self, ice_restart: bool) -> Result<String, WebError> {
        wait(self.offer_promise(ice_restart))
            .await
            .map(|d| sdp_of(&d))
    }

    /// Starts [`Peer::create_offer`]; the promise resolves to the description ([`sdp_of`]).
    pub fn offer_promise(&self, ice_restart: bool) -> js_sys::Promise {
        if ice_restart {
            let o = js::object();
            js::set(&o, "iceRestart", &JsValue::TRUE);
            self.pc
                .create_offer_with_rtc_offer_options(o.unchecked_ref())
        } else {
            self.pc.create_offer()
        }
    }

    /// Creates an answer to the applied remote offer.
    pub async fn create_answer(&self) -> Result<String, WebError> {
        wait(self.answer_promise()).await.map(|d| sdp_of(&d))
    }

    /// Starts [`Peer::create_answer`]; the promise resolves to the description ([`sdp_of`]).
    pub fn answer_promise(&self) -> js_sys::Promise {
        self.pc.create_answer()
    }

    fn desc(kind: SdpKind, sdp: &str) -> RtcSessionDescriptionInit {
        let d = js::object();
        let t = match kind {
            SdpKind::Offer => "offer",
            SdpKind::Answer => "answer",
            SdpKind::Rollback => "rollback",
        };
        js::set_str(&d, "type", t);
        if kind != SdpKind::Rollback {
            js::set_str(&d, "sdp", sdp);
        }
        d.unchecked_into()
    }

    /// Applies a local description.
    pub async fn set_local(&self, kind: SdpKind, sdp: &str) -> Result<(), WebError> {
        wait(self.set_local_promise(kind, sdp)).await.map(|_| ())
    }

    /// Starts [`Peer::set_local`].
    pub fn set_local_promise(&self, kind: SdpKind, sdp: &str) -> js_sys::Promise {
        self.pc.set_local_description(&Self::desc(kind, sdp))
    }

    /// Applies a remote description.
    pub async fn set_remote(&self, kind: SdpKind, sdp: &str) -> Result<(), WebError> {
        wait(self.set_remote_promise(kind, sdp)).await.map(|_| ())
    }

    /// Starts [`Peer::set_remote`].
    pub fn set_remote_promise(&self, kind: SdpKind, sdp: &str) -> js_sys::Promise {
        self.pc.set_remote_description(&Self::desc(kind, sdp))
    }

    /// Adds a remote candidate; `None` signals the end of candidates.
    pub async fn add_candidate(&self, c: Option<&IceCandidate>) -> Result<(), WebError> {
        wait(self.add_candidate_promise(c)).await.map(|_| ())
    }

    /// Starts [`Peer::add_candidate`].
    pub fn add_candidate_promise(&self, c: Option<&IceCandidate>) -> js_sys::Promise {
        let init = c.map(|c| {
            let i = js::object();
            js::set_str(&i, "candidate", &c.candidate);
            if let Some(m) = &c.sdp_mid {
                js::set_str(&i, "sdpMid", m);
            }
            if let Some(n) = c.sdp_m_line_index {
                js::set(&i, "sdpMLineIndex", &JsValue::from_f64(n.into()));
            }
            if let Some(u) = &c.username_fragment {
                js::set_str(&i, "usernameFragment", u);
            }
            let i: RtcIceCandidateInit = i.unchecked_into();
            i
        });
        self.pc
            .add_ice_candidate_with_opt_rtc_ice_candidate_init(init.as_ref())
    }

    /// `restartIce()`: the next offer restarts ICE.
    pub fn restart_ice(&self) {
        if let Ok(f) = js_sys::Reflect::get(&self.pc, &"restartIce".into()) {
            if let Some(f) = f.dyn_ref::<js_sys::Function>() {
                let _ = f.call0(&self.pc);
            }
        }
    }

    /// The SDP of the current local description, if any.
    pub fn local_sdp(&self) -> Option<String> {
        self.pc.local_description().map(|d| d.sdp())
    }

    /// The current connection state.
    pub fn state(&self) -> ConnState {
        conn_state(&self.pc, "connectionState")
    }

    /// The current ICE connection state.
    pub fn ice_state(&self) -> ConnState {
        conn_state(&self.pc, "iceConnectionState")
    }

    /// The raw `RTCStatsReport`.
    pub async fn stats(&self) -> Result<web_sys::RtcStatsReport, WebError> {
        wait(self.stats_promise()).await.map(|r| r.unchecked_into())
    }

    /// Starts [`Peer::stats`]; the promise resolves to the `RTCStatsReport`.
    pub fn stats_promise(&self) -> js_sys::Promise {
        self.pc.get_stats()
    }

    /// Closes the connection and its channels (also done on drop).
    pub fn close(&mut self) {
        let gone = std::mem::take(&mut *self.channels.borrow_mut());
        drop(gone);
        self.pc.close();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.close();
    }
}

/// Totals read off a stats report, enough to tell whether media flows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatsTotals {
    /// Inbound RTP audio bytes.
    pub audio_bytes_received: f64,
    /// Inbound RTP video bytes.
    pub video_bytes_received: f64,
    /// Video frames decoded.
    pub frames_decoded: f64,
    /// Outbound RTP bytes (all kinds).
    pub bytes_sent: f64,
    /// Round-trip time of the selected candidate pair, in seconds (0 when unknown).
    pub rtt_s: f64,
}

fn num(o: &JsValue, k: &str) -> f64 {
    js::get_f64(o, k).unwrap_or(0.0)
}

fn text(o: &JsValue, k: &str) -> String {
    js::get_str(o, k).unwrap_or_default()
}

impl StatsTotals {
    /// Sums the entries of a report into totals.
    pub fn add_report(&mut self, report: &web_sys::RtcStatsReport) {
        let map: &js_sys::Map = report.unchecked_ref();
        map.for_each(
            &mut |v: JsValue, _k: JsValue| match text(&v, "type").as_str() {
                "inbound-rtp" => {
                    if text(&v, "kind") == "video" {
                        self.video_bytes_received += num(&v, "bytesReceived");
                        self.frames_decoded += num(&v, "framesDecoded");
                    } else {
                        self.audio_bytes_received += num(&v, "bytesReceived");
                    }
                }
                "outbound-rtp" => self.bytes_sent += num(&v, "bytesSent"),
                "candidate-pair" if text(&v, "state") == "succeeded" => {
                    let r = num(&v, "currentRoundTripTime");
                    if r > 0.0 {
                        self.rtt_s = r;
                    }
                }
                _ => {}
            },
        );
    }
}
