//! The RTCPeerConnection adapter, used for both the publishing and the subscribing connection.
//!
//! A [`Peer`] owns its `RTCPeerConnection`, its data channels and every listener on them. The
//! listeners only translate browser events into the core's [`PeerEvent`]s for the actor; all decisions
//! are made by the core. Dropping a `Peer` closes it.

use super::error::WebError;
use super::js;
use super::listener::{hooks, Handler, Hook, Listener};
use crate::cell::RefCell;
use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStreamTrack, RtcDataChannel, RtcPeerConnection, RtcRtpTransceiver};

use convene_core::ovsp::model::PcKind;
use convene_core::PeerEvent;
pub use convene_core::{IceCandidate, IceServer, IceState, SdpType as SdpKind};

/// Which of the session's two connections a peer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PcRole {
    /// The publishing connection: the client offers.
    Pub,
    /// The subscribing connection: the server offers.
    Sub,
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

/// Where a peer's events go, as the core's events (of the connection `Pub` or `Sub`): with
/// [`PeerEvent::RemoteTrack`], the track; else `undefined`.
pub type Sink = Rc<dyn Fn(PeerEvent, JsValue)>;

struct Channel {
    dc: RtcDataChannel,
    /// Messages given to the channel while it was still connecting; sent when it opens.
    backlog: Vec<Vec<u8>>,
    _listeners: Vec<Listener>,
}

impl Drop for Channel {
    fn drop(&mut self) {
        let _ = js::call(&self.dc, "close", &[]);
    }
}

/// A data channel's label.
fn label(dc: &RtcDataChannel) -> String {
    text(dc, "label")
}

/// Sends `data` on `dc`.
fn send(dc: &RtcDataChannel, data: &[u8]) -> Result<JsValue, JsValue> {
    js::call(dc, "send", &[&js_sys::Uint8Array::from(data)])
}

/// The hook tags of a peer's listeners (a channel's carry its index above the low byte).
const ICE: u32 = 0;
const CONN: u32 = 1;
const TRACK: u32 = 2;
const DATACHANNEL: u32 = 3;
/// A channel's `open`; its `message` is `OPEN + 1`.
const OPEN: u32 = 4;

/// The `connectionState` values and their states (anything else is closed).
const STATES: [(&str, IceState); 5] = [
    ("new", IceState::New),
    ("connecting", IceState::Checking),
    ("connected", IceState::Connected),
    ("disconnected", IceState::Disconnected),
    ("failed", IceState::Failed),
];

struct Inner {
    kind: PcKind,
    pc: RtcPeerConnection,
    sink: Sink,
    me: Hook,
    channels: RefCell<Vec<Channel>>,
}

/// One RTCPeerConnection with everything attached to it.
pub struct Peer {
    inner: Rc<Inner>,
    _listeners: Vec<Listener>,
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
        let bytes = js::construct("Uint8Array", &[v]).unwrap_or_default();
        return bytes.unchecked_into::<js_sys::Uint8Array>().to_vec();
    }
    Vec::new()
}

impl Inner {
    /// Creates the data channel `label` with the options `init` (`undefined`: the defaults)
    /// and adopts it.
    fn open_channel(&self, label: &str, init: &JsValue) {
        if let Ok(dc) = js::call(&self.pc, "createDataChannel", &[&label.into(), init]) {
            self.adopt(dc.unchecked_into());
        }
    }

    fn adopt(&self, dc: RtcDataChannel) {
        js::set_str(&dc, "binaryType", "arraybuffer");
        let mut chans = self.channels.borrow_mut();
        let i = (chans.len() as u32) << 8;
        let t: &web_sys::EventTarget = dc.as_ref();
        let listeners = hooks(t, &["open", "message"], &self.me, OPEN | i);
        chans.push(Channel {
            dc,
            backlog: Vec::new(),
            _listeners: listeners,
        });
    }
}

impl Handler for Inner {
    fn on(&self, tag: u32, e: JsValue) {
        let pc = self.kind;
        let mut track = JsValue::UNDEFINED;
        let ev = match tag & 0xff {
            ICE => {
                let c = js::get(&e, "candidate");
                let candidate = js::get_str(&c, "candidate")
                    .filter(|line| !line.is_empty())
                    .map(|line| IceCandidate {
                        candidate: line,
                        sdp_mid: js::get_str(&c, "sdpMid"),
                        sdp_m_line_index: js::get_f64(&c, "sdpMLineIndex").map(|i| i as u16),
                        username_fragment: js::get_str(&c, "usernameFragment"),
                    });
                PeerEvent::IceCandidate { pc, candidate }
            }
            CONN => {
                let now = js::get_str(&self.pc, "connectionState").unwrap_or_default();
                let state = STATES.iter().find(|(name, _)| *name == now);
                let state = state.map_or(IceState::Closed, |(_, s)| *s);
                PeerEvent::IceState { pc, state }
            }
            TRACK => {
                track = js::get(&e, "track");
                let mid = js::get_str(&js::get(&e, "transceiver"), "mid");
                let (Some(mid), true) = (mid, track.is_instance_of::<MediaStreamTrack>()) else {
                    return;
                };
                PeerEvent::RemoteTrack { mid }
            }
            DATACHANNEL => {
                let dc = js::get(&e, "channel");
                if !dc.is_object() {
                    return;
                }
                // Adopted at once (no message can arrive before its listener): its messages
                // come as `PeerEvent::DataMessage`.
                self.adopt(dc.unchecked_into());
                return;
            }
            kind => {
                let mut chans = self.channels.borrow_mut();
                let Some(c) = chans.get_mut((tag >> 8) as usize) else {
                    return;
                };
                if kind == OPEN {
                    // send() fires no event, so nothing runs while the channels are borrowed.
                    for m in &c.backlog {
                        let _ = send(&c.dc, m);
                    }
                    c.backlog = Vec::new();
                    return;
                }
                PeerEvent::DataMessage {
                    pc,
                    label: label(&c.dc),
                    data: data_bytes(&js::get(&e, "data")),
                }
            }
        };
        (self.sink)(ev, track)
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
    /// Creates a connection with the servers of every list of `servers`, in order; every event
    /// goes to `sink` (see [`Sink`]).
    pub fn create(role: PcRole, servers: &[&[IceServer]], sink: Sink) -> Result<Peer, WebError> {
        let list = js_sys::Array::new();
        for l in servers {
            for s in l.iter() {
                // `{urls, username?, credential?}`: the server's wire form is the browser's.
                list.push(&js::from_value(&ovsp::json::ToWire::to_wire(s)));
            }
        }
        Self::with_servers(role, list, sink)
    }

    #[inline(never)]
    fn with_servers(role: PcRole, list: js_sys::Array, sink: Sink) -> Result<Peer, WebError> {
        let cfg = js::object();
        js::set(&cfg, "iceServers", &list);
        js::set_str(&cfg, "bundlePolicy", "max-bundle");
        let pc: RtcPeerConnection = js::construct("RTCPeerConnection", &[&cfg])?.unchecked_into();
        let kind = match role {
            PcRole::Pub => PcKind::Pub,
            PcRole::Sub => PcKind::Sub,
        };
        let inner = Rc::new_cyclic(|me: &Weak<Inner>| Inner {
            kind,
            pc,
            sink,
            me: me.clone(),
            channels: RefCell::new(Vec::new()),
        });
        let t: &web_sys::EventTarget = inner.pc.as_ref();
        let me = &inner.me;
        // The tags `ICE`, `CONN`, `TRACK` and `DATACHANNEL` in order.
        let types = [
            "icecandidate",
            "connectionstatechange",
            "track",
            "datachannel",
        ];
        let listeners = hooks(t, &types, me, ICE);
        Ok(Peer {
            inner,
            _listeners: listeners,
        })
    }

    /// The underlying browser object.
    pub fn raw(&self) -> &RtcPeerConnection {
        &self.inner.pc
    }

    /// Opens the two OVSP data channels, `ovsp-reliable` (ordered) and `ovsp-lossy`
    /// (unordered, no retransmits), on this (publishing) connection.
    pub fn open_data_channels(&mut self) {
        self.inner
            .open_channel("ovsp-reliable", &JsValue::UNDEFINED);
        let init = js::object();
        js::set(&init, "ordered", &JsValue::FALSE);
        js::set(&init, "maxRetransmits", &JsValue::from_f64(0.0));
        self.inner.open_channel("ovsp-lossy", &init);
    }

    /// Sends `data` on the channel labelled `label`; while the channel is still connecting
    /// the message is kept, in order, and sent when it opens.
    pub fn send_data(&self, label: &str, data: &[u8]) -> Result<(), WebError> {
        let mut channels = self.inner.channels.borrow_mut();
        let Some(c) = channels.iter_mut().find(|c| self::label(&c.dc) == label) else {
            return Err(WebError::new("InvalidStateError", "no such data channel"));
        };
        if js::get_str(&c.dc, "readyState").as_deref() == Some("connecting") {
            c.backlog.push(data.to_vec());
            return Ok(());
        }
        send(&c.dc, data)?;
        Ok(())
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
        let what = match track {
            Some(t) => JsValue::from(t),
            None => kind.into(),
        };
        js::call(&self.inner.pc, "addTransceiver", &[&what, &init])
            .unwrap_or_default()
            .unchecked_into()
    }

    /// All transceivers, in m-line order.
    pub fn transceivers(&self) -> Vec<RtcRtpTransceiver> {
        self.inner
            .pc
            .get_transceivers()
            .iter()
            .map(|t| t.unchecked_into())
            .collect()
    }

    /// Sets a transceiver's direction.
    pub fn set_direction(t: &RtcRtpTransceiver, dir: Direction) {
        js::set_str(t, "direction", js_dir(dir));
    }

    /// Starts replacing (or with `None`, removing) the track a transceiver sends, without
    /// renegotiation; the promise settles when the track is replaced.
    pub fn replace_track_promise(
        t: &RtcRtpTransceiver,
        track: Option<&MediaStreamTrack>,
    ) -> js_sys::Promise {
        let track = track.map_or(JsValue::NULL, JsValue::from);
        js::call_promise(&js::get(t, "sender"), "replaceTrack", &[&track])
    }

    /// Creates an offer (an ICE-restart offer with `ice_restart`).
    pub async fn create_offer(&self, ice_restart: bool) -> Result<String, WebError> {
        wait(self.offer_promise(ice_restart))
            .await
            .map(|d| sdp_of(&d))
    }

    /// Starts [`Peer::create_offer`]; the promise resolves to the description ([`sdp_of`]).
    pub fn offer_promise(&self, ice_restart: bool) -> js_sys::Promise {
        let o = js::object();
        if ice_restart {
            js::set(&o, "iceRestart", &JsValue::TRUE);
        }
        js::call_promise(&self.inner.pc, "createOffer", &[&o])
    }

    /// Creates an answer to the applied remote offer.
    pub async fn create_answer(&self) -> Result<String, WebError> {
        wait(self.answer_promise()).await.map(|d| sdp_of(&d))
    }

    /// Starts [`Peer::create_answer`]; the promise resolves to the description ([`sdp_of`]).
    pub fn answer_promise(&self) -> js_sys::Promise {
        js::call_promise(&self.inner.pc, "createAnswer", &[])
    }

    /// Applies a local description.
    pub async fn set_local(&self, kind: SdpKind, sdp: &str) -> Result<(), WebError> {
        wait(self.describe_promise(false, kind, sdp))
            .await
            .map(|_| ())
    }

    /// Applies a remote description.
    pub async fn set_remote(&self, kind: SdpKind, sdp: &str) -> Result<(), WebError> {
        wait(self.describe_promise(true, kind, sdp))
            .await
            .map(|_| ())
    }

    /// Starts [`Peer::set_remote`] (`remote`) or [`Peer::set_local`].
    pub fn describe_promise(&self, remote: bool, kind: SdpKind, sdp: &str) -> js_sys::Promise {
        let d = js::object();
        let t = match kind {
            SdpKind::Offer => "offer",
            SdpKind::Answer => "answer",
        };
        js::set_str(&d, "type", t);
        js::set_str(&d, "sdp", sdp);
        let method = if remote {
            "setRemoteDescription"
        } else {
            "setLocalDescription"
        };
        js::call_promise(&self.inner.pc, method, &[&d])
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
            i.into()
        });
        let init = init.unwrap_or(JsValue::UNDEFINED);
        js::call_promise(&self.inner.pc, "addIceCandidate", &[&init])
    }

    /// `restartIce()`: the next offer restarts ICE.
    pub fn restart_ice(&self) {
        // Nothing happens where the browser has no restartIce().
        let _ = js::call(&self.inner.pc, "restartIce", &[]);
    }

    /// The raw `RTCStatsReport`.
    pub async fn stats(&self) -> Result<web_sys::RtcStatsReport, WebError> {
        wait(self.stats_promise()).await.map(|r| r.unchecked_into())
    }

    /// Starts [`Peer::stats`]; the promise resolves to the `RTCStatsReport`.
    pub fn stats_promise(&self) -> js_sys::Promise {
        js::call_promise(&self.inner.pc, "getStats", &[])
    }
}

impl Drop for Peer {
    /// Closes the connection and its channels.
    fn drop(&mut self) {
        let gone = core::mem::take(&mut *self.inner.channels.borrow_mut());
        drop(gone);
        let _ = js::call(&self.inner.pc, "close", &[]);
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
        // The values through the dynamic path, one `next()` at a time: a loop needs no
        // callback from the browser (`forEach` would bring a closure type of its own).
        let it = js::call(report, "values", &[]).unwrap_or_default();
        loop {
            let step = js::call(&it, "next", &[]).unwrap_or_default();
            if js::get(&step, "done").as_bool() != Some(false) {
                break;
            }
            let v = js::get(&step, "value");
            match text(&v, "type").as_str() {
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
            }
        }
    }
}
