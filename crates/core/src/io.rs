//! The inputs and outputs of [`crate::SessionMachine`]: configuration, commands, peer
//! events and peer operations.

use crate::prelude::*;
use ovsp::json::Value;
pub use ovsp::methods::{ClientInfo, IceServer, SubSetting, SubTarget};
use ovsp::model::{MediaSource, PcKind, TrackKind};
use serde::{Deserialize, Serialize};

use crate::{CoreError, CoreEvent};

/// Identifies one command of the facade; echoed in [`Output::Completed`]. Chosen by the caller
/// (the SDK uses a counter); the core never interprets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequestHandle(pub u64);

/// Options of `room.join` (all optional; the token gives the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinOptions {
    /// Display-name override (if the token allows it).
    pub name: Option<String>,
    /// Merged into the token's member meta.
    pub meta: Option<ovsp::json::Map<String, Value>>,
    /// Join with the microphone muted.
    pub join_audio_muted: Option<bool>,
    /// Join with the camera muted.
    pub join_video_muted: Option<bool>,
    /// Subscribe to every track automatically (default true).
    pub auto_subscribe: bool,
    /// Receive audio (default true).
    pub receive_audio: bool,
    /// Receive video (default true).
    pub receive_video: bool,
}

impl Default for JoinOptions {
    fn default() -> Self {
        Self {
            name: None,
            meta: None,
            join_audio_muted: None,
            join_video_muted: None,
            auto_subscribe: true,
            receive_audio: true,
            receive_video: true,
        }
    }
}

/// Client-side timing defaults, used until the server advertises its own `timers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timers {
    /// How long to wait for the response to `session.connect` (B12: 10 s).
    pub connect_timeout_ms: u64,
    /// Ping period (server may override).
    pub ping_interval_ms: u64,
    /// Silence after which the socket counts as dead (server may override).
    pub ping_timeout_ms: u64,
    /// Per-request timeout (server may override).
    pub request_timeout_ms: u64,
    /// How long a lost session can be resumed (server may override).
    pub resume_window_ms: u64,
    /// Ack at least this often while durable events arrive.
    pub ack_interval_ms: u64,
    /// Ack at least after this many durable events.
    pub ack_every_events: u64,
    /// A PC whose ICE is `disconnected` this long gets an ICE restart.
    pub ice_disconnected_grace_ms: u64,
    /// A PC still failed this long after ICE failed triggers a full rejoin.
    pub ice_failed_rejoin_ms: u64,
    /// Full rejoins attempted before giving up.
    pub max_rejoins: u32,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 10_000,
            ping_interval_ms: 5_000,
            ping_timeout_ms: 15_000,
            request_timeout_ms: 10_000,
            resume_window_ms: 30_000,
            ack_interval_ms: 2_000,
            ack_every_events: 64,
            ice_disconnected_grace_ms: 5_000,
            ice_failed_rejoin_ms: 15_000,
            max_rejoins: 3,
        }
    }
}

/// Everything a [`crate::SessionMachine`] needs to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The `wss://…/ovsp` endpoint.
    pub url: String,
    /// The JWT.
    pub token: String,
    /// Seed of the jitter generator (the core has no randomness of its own).
    pub seed: u64,
    /// Reported in `session.connect`.
    pub client: ClientInfo,
    /// Capabilities the client offers.
    pub capabilities: Vec<String>,
    /// `room.join` options.
    pub join: JoinOptions,
    /// Client-side timer defaults.
    pub timers: Timers,
}

impl Config {
    /// A configuration with defaults for everything but the endpoint, token and seed.
    pub fn new(url: impl Into<String>, token: impl Into<String>, seed: u64) -> Self {
        Self {
            url: url.into(),
            token: token.into(),
            seed,
            client: ClientInfo {
                sdk: "convene".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                os: None,
                browser: None,
                device: None,
            },
            capabilities: vec!["data_tracks".to_owned()],
            join: JoinOptions::default(),
            timers: Timers::default(),
        }
    }
}

/// Publishing a local track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishOptions {
    /// Client track id: the SDK's name for the local MediaStreamTrack (stable across rejoins).
    pub cid: String,
    /// Audio, video or data.
    pub kind: TrackKind,
    /// Microphone, camera, screen, …
    pub source: MediaSource,
    /// Telnyx stream grouping key.
    pub stream_key: Option<String>,
    /// Track name.
    pub name: Option<String>,
    /// Publish muted.
    pub muted: bool,
    /// Extra `track.publish` params (width, height, layers, codecs, reliable, …) merged as-is.
    pub extra: ovsp::json::Map<String, Value>,
}

/// A facade command. Each is submitted with a [`RequestHandle`] and completes exactly once
/// with [`Output::Completed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Connect and join the room of the token. Completes with the join snapshot.
    Join,
    /// Leave the room (`room.leave`), then close everything. Completes with `{}`.
    Leave {
        /// Optional reason.
        reason: Option<String>,
    },
    /// Declare and publish a local track: `track.publish`, a transceiver, then `pub.offer`.
    /// Completes with the server's Track once the offer was answered.
    Publish(PublishOptions),
    /// Unpublish a local track by cid.
    Unpublish {
        /// The client track id.
        cid: String,
    },
    /// Mute or unmute a local track by cid (`track.mute`, and the sender is detached).
    MuteTrack {
        /// The client track id.
        cid: String,
        /// Muted or not.
        muted: bool,
    },
    /// The local media behind `cid` changed (new device): re-attach it to its sender.
    ReplaceTrack {
        /// The client track id.
        cid: String,
    },
    /// Swap the token (`session.update_token`); also used for later full rejoins.
    UpdateToken {
        /// The new JWT.
        token: String,
    },
    /// Change subscriptions (`sub.update`). Explicit adds and removes are remembered and
    /// re-applied after a full rejoin.
    UpdateSubscriptions {
        /// Subscribe to these.
        add: Vec<SubTarget>,
        /// Unsubscribe from these.
        remove: Vec<SubTarget>,
        /// Per-track settings (pause, max size, priority).
        settings: Vec<SubSetting>,
    },
    /// Send an application message (`message.send`).
    SendMessage {
        /// Recipients; `None` means everyone.
        to: Option<Vec<String>>,
        /// Optional topic.
        topic: Option<String>,
        /// Any JSON payload.
        payload: Value,
    },
    /// Send bytes on a published data track (B6.5 data frame on the pub PC). Completes with
    /// `{}` once handed to the data channel; `to` narrows delivery to these member ids.
    SendData {
        /// The data track's client id.
        cid: String,
        /// Payload (at most 64 KiB).
        payload: Vec<u8>,
        /// Destination member ids (`None`: every subscriber).
        to: Option<Vec<String>>,
    },
    /// Send a `stats.report` notification (network metrics up). Completes with `{}`.
    ReportStats {
        /// The report (`{pc, ts, rtt_ms?, …}`), sent as is.
        stats: Value,
    },
    /// Rebuild the publishing PeerConnection from scratch (B6.4 `pub.reset`): close it, create
    /// a new one, re-add every current track and send a `pub.offer` with a new `mids` map (the
    /// track ids stay). Completes with `{}` once that offer is answered, at once when nothing
    /// is published. `Rpc { method: "pub.reset" }` does the same.
    ResetPublisher,
    /// Any other OVSP method (B8), sent as is. Completes with the raw result.
    Rpc {
        /// Method name, e.g. `"member.audio_mute"`.
        method: String,
        /// Params object.
        params: Value,
    },
}

/// SDP type of a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SdpType {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

/// One ICE candidate (the browser's `RTCIceCandidateInit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    /// The `candidate:` line.
    pub candidate: String,
    /// `sdpMid`.
    pub sdp_mid: Option<String>,
    /// `sdpMLineIndex`.
    pub sdp_m_line_index: Option<u16>,
    /// `usernameFragment`.
    pub username_fragment: Option<String>,
}

/// ICE / connection state of a PeerConnection as the browser reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IceState {
    /// `new`
    New,
    /// `checking` / `connecting`
    Checking,
    /// `connected` / `completed`
    Connected,
    /// `disconnected`
    Disconnected,
    /// `failed`
    Failed,
    /// `closed`
    Closed,
}

/// Which PeerConnection operation failed, in [`PeerEvent::OperationFailed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerOpKind {
    /// Creating the PC.
    CreatePc,
    /// Adding a transceiver.
    AddTransceiver,
    /// Replacing a sender's track.
    ReplaceTrack,
    /// Creating an offer or answer.
    CreateDescription,
    /// Setting the local description.
    SetLocalDescription,
    /// Setting the remote description.
    SetRemoteDescription,
    /// Adding an ICE candidate.
    AddIceCandidate,
}

/// A media-level change the browser observes on a track (not a signaling fact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum MediaChange {
    /// Enough media arrived to start playback.
    Started,
    /// The track ended.
    Stopped,
    /// The video dimensions changed.
    Dimensions {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
}

/// A track as the browser knows it: local by cid, remote by the sub PC's mid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "side", rename_all = "snake_case")]
pub enum MediaRef {
    /// A local track.
    Local {
        /// Client track id.
        cid: String,
    },
    /// A remote track received on the sub PC.
    Remote {
        /// The m-section's mid.
        mid: String,
    },
}

/// What happened on a PeerConnection (fed in as [`Input::Peer`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PeerEvent {
    /// `createOffer`/`createAnswer` resolved.
    DescriptionCreated {
        /// Which PC.
        pc: PcKind,
        /// Offer or answer.
        sdp_type: SdpType,
        /// The SDP.
        sdp: String,
    },
    /// `setLocalDescription` resolved. For the pub PC, `mids` maps each cid to its
    /// transceiver's mid.
    LocalDescriptionSet {
        /// Which PC.
        pc: PcKind,
        /// cid → mid (pub PC only; empty for the sub PC).
        mids: ovsp::json::KeyMap<String>,
    },
    /// `setRemoteDescription` resolved.
    RemoteDescriptionSet {
        /// Which PC.
        pc: PcKind,
    },
    /// A local ICE candidate was gathered; `None` is the end of candidates.
    IceCandidate {
        /// Which PC.
        pc: PcKind,
        /// The candidate.
        candidate: Option<IceCandidate>,
    },
    /// ICE/connection state changed.
    IceState {
        /// Which PC.
        pc: PcKind,
        /// The new state.
        state: IceState,
    },
    /// A remote track arrived on the sub PC (`ontrack`), identified by its mid.
    RemoteTrack {
        /// The transceiver mid.
        mid: String,
    },
    /// A message arrived on a data channel.
    DataMessage {
        /// Which PC.
        pc: PcKind,
        /// Channel label (`ovsp-reliable` or `ovsp-lossy`).
        label: String,
        /// The bytes.
        data: Vec<u8>,
    },
    /// A media-level change of a local or remote track.
    Media {
        /// The track.
        track: MediaRef,
        /// What changed.
        change: MediaChange,
    },
    /// A PeerConnection operation failed.
    OperationFailed {
        /// Which PC.
        pc: PcKind,
        /// Which operation.
        op: PeerOpKind,
        /// The browser's message.
        message: String,
    },
}

/// A PeerConnection operation for the driver to perform. The driver performs the operations
/// of one PC **in order**, each finishing before the next starts, and reports results as
/// [`PeerEvent`]s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PeerOp {
    /// Create a PeerConnection (closing any previous one of that kind). For the pub PC, also
    /// open the `ovsp-reliable` and `ovsp-lossy` data channels.
    CreatePc {
        /// Which PC.
        pc: PcKind,
        /// ICE servers.
        ice_servers: Vec<IceServer>,
    },
    /// Add a `sendonly` transceiver on the pub PC for the local track `cid`.
    AddTransceiver {
        /// Client track id.
        cid: String,
        /// Audio or video.
        kind: TrackKind,
    },
    /// Attach (`detach: false`) or detach (`replaceTrack(null)`, `detach: true`) the local track
    /// `cid` on its sender.
    ReplaceTrack {
        /// Client track id.
        cid: String,
        /// Detach instead of attach.
        detach: bool,
    },
    /// Stop sending `cid`: set its transceiver `inactive` (the m-section stays for reuse).
    RemoveTransceiver {
        /// Client track id.
        cid: String,
    },
    /// `createOffer` (pub PC), with `iceRestart` when asked.
    CreateOffer {
        /// Which PC (always pub).
        pc: PcKind,
        /// ICE restart.
        ice_restart: bool,
    },
    /// `createAnswer` (sub PC).
    CreateAnswer {
        /// Which PC (always sub).
        pc: PcKind,
    },
    /// `setLocalDescription`.
    SetLocalDescription {
        /// Which PC.
        pc: PcKind,
        /// Offer or answer.
        sdp_type: SdpType,
        /// The SDP (as created).
        sdp: String,
    },
    /// `setRemoteDescription`.
    SetRemoteDescription {
        /// Which PC.
        pc: PcKind,
        /// Offer or answer.
        sdp_type: SdpType,
        /// The SDP.
        sdp: String,
    },
    /// `addIceCandidate`; `None` is the end of candidates.
    AddIceCandidate {
        /// Which PC.
        pc: PcKind,
        /// The candidate.
        candidate: Option<IceCandidate>,
    },
    /// `restartIce()` (local hint; the offer that follows carries `iceRestart`).
    RestartIce {
        /// Which PC.
        pc: PcKind,
    },
    /// Send bytes on a data channel of the pub PC.
    SendData {
        /// Channel label.
        label: String,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Close the PeerConnection and forget it.
    ClosePc {
        /// Which PC.
        pc: PcKind,
    },
}

/// Something that happened, fed to [`crate::SessionMachine::handle_input`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
pub enum Input {
    /// A facade command.
    Command {
        /// Echoed in the completion.
        handle: RequestHandle,
        /// The command.
        command: Command,
    },
    /// A text frame arrived on the socket, parsed as JSON by the driver (with
    /// `ovsp::json::parse`, or a browser's `JSON.parse` and a walk of its result). A frame
    /// over `ovsp::limits::MAX_FRAME_BYTES` or one that is not JSON is reported as `Null`:
    /// the machine ignores it as it ignores any invalid frame, but counts it as traffic.
    FrameReceived(Value),
    /// The socket asked for with [`Output::OpenSocket`] is open.
    SocketOpened,
    /// The socket closed (or failed to open: use 1006). Report it only for the socket of the
    /// latest [`Output::OpenSocket`], and not for a socket closed by [`Output::CloseSocket`].
    SocketClosed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// A PeerConnection event.
    Peer(PeerEvent),
    /// The deadline returned by [`crate::SessionMachine::poll_timeout`] has passed.
    Timeout,
}

impl Input {
    /// A text frame as [`Input::FrameReceived`], parsed with `ovsp::json::parse`: text over
    /// `ovsp::limits::MAX_FRAME_BYTES` or not JSON becomes `Null`.
    pub fn frame(text: &str) -> Input {
        let v = if text.len() > ovsp::limits::MAX_FRAME_BYTES {
            Value::Null
        } else {
            ovsp::json::parse(text).unwrap_or(Value::Null)
        };
        Input::FrameReceived(v)
    }
}

/// Something for the driver to do, drained with [`crate::SessionMachine::poll_output`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "output", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // drained right away; boxing would allocate per event
pub enum Output {
    /// Open a WebSocket to `url` offering the subprotocol `protocol` (closing any old one).
    OpenSocket {
        /// Endpoint.
        url: String,
        /// Subprotocol to offer (`ovsp.v1`).
        protocol: String,
    },
    /// Close the socket.
    CloseSocket {
        /// Close code.
        code: u16,
        /// Reason.
        reason: String,
    },
    /// Send this frame, as JSON text (`Value`'s `Display`, or a browser's `JSON.stringify`
    /// of it).
    SendFrame(Value),
    /// Perform a PeerConnection operation.
    Peer(PeerOp),
    /// Emit an SDK event to the facades.
    Event(CoreEvent),
    /// A command finished.
    Completed {
        /// The command's handle.
        handle: RequestHandle,
        /// The result JSON or a typed error.
        result: Result<Value, CoreError>,
    },
}
