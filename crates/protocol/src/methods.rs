//! Client methods: one unit struct per method implementing [`Method`] (wire name, params type,
//! result type), the notification params types, and the [`METHODS`] table with each method's
//! permission rule.
//!
//! Every successful result object also carries `seq` (the highest durable seq sent to the
//! session before the response). It is written by the envelope
//! ([`crate::Response::ok_with_seq`]) rather than by each result struct; typed results ignore
//! it when decoding.

use crate::prelude::*;
use alloc::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::json::{FromWire, ToWire, Wire};

use crate::model::{
    LayoutInfo, MediaAllowed, MediaKind, MediaSource, Member, Meta, PcKind, Playback, Recording,
    Role, Snapshot, Stream, SubscriptionState, Track, TrackKind, TrackLayer,
};

/// A type that travels on the wire: serde and the wire codec both ways, `Debug` and
/// `PartialEq` (and, with feature `schema`, a JSON Schema). Implemented for every such type
/// automatically.
#[cfg(not(feature = "schema"))]
pub trait WireType:
    Serialize + DeserializeOwned + FromWire + ToWire + core::fmt::Debug + PartialEq
{
}
#[cfg(not(feature = "schema"))]
impl<T> WireType for T where
    T: Serialize + DeserializeOwned + FromWire + ToWire + core::fmt::Debug + PartialEq
{
}

/// A type that travels on the wire: serde and the wire codec both ways, `Debug` and
/// `PartialEq` (and, with feature `schema`, a JSON Schema). Implemented for every such type
/// automatically.
#[cfg(feature = "schema")]
pub trait WireType:
    Serialize
    + DeserializeOwned
    + FromWire
    + ToWire
    + core::fmt::Debug
    + PartialEq
    + schemars::JsonSchema
{
}
#[cfg(feature = "schema")]
impl<T> WireType for T where
    T: Serialize
        + DeserializeOwned
        + FromWire
        + ToWire
        + core::fmt::Debug
        + PartialEq
        + schemars::JsonSchema
{
}

/// A request method: its wire name and its params/result types.
pub trait Method {
    /// The wire name, e.g. `member.audio_mute`.
    const NAME: &'static str;
    /// The params object.
    type Params: WireType;
    /// The result object.
    type Result: WireType;
}

/// A client notification (no response): its wire name. Implemented by the params type itself.
pub trait NotificationMethod: WireType {
    /// The wire name, e.g. `session.ack`.
    const NAME: &'static str;
}

/// Whether a method is a request (has a response) or a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// A request with a response.
    Request,
    /// A notification without a response.
    Notification,
}

/// The permission rule of a method. The server checks it for every request and answers
/// 54100 with `data.permission` set to the missing string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PermRule {
    /// No permission needed.
    None,
    /// A valid access token (or resume token) is the authorisation.
    Token,
    /// A fixed permission string.
    Fixed(&'static str),
    /// `room.self.<suffix>` when targeting yourself (no `member_id`, or your own id),
    /// `room.member.<suffix>` when targeting another member.
    SelfOrMember(&'static str),
    /// Depends on a boolean params field: `on` when it is true, `off` when false.
    Toggle {
        /// The params field.
        field: &'static str,
        /// Permission when the field is true.
        on: &'static str,
        /// Permission when the field is false.
        off: &'static str,
    },
    /// Role `member`, and the source in `media_allowed.send` (plus `room.publish.<source>`
    /// when the caller's permissions list any `room.publish.*` string). Checked by the server.
    Publish,
    /// The caller owns the track (`track_id`). Checked by the server.
    Owner,
    /// Role `member` (audience members have no pub PC).
    MemberRole,
}

/// An extra permission needed when a params field is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtraPerm {
    /// The params field that triggers the check (present and not null).
    pub field: &'static str,
    /// Needed when the field is present and not `false`.
    pub when_set: &'static str,
    /// Needed when the field is `false`.
    pub when_false: &'static str,
}

/// One entry of the [`METHODS`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MethodInfo {
    /// Wire name.
    pub name: &'static str,
    /// Permission rule.
    pub permission: PermRule,
    /// Extra permissions triggered by params fields.
    pub extra: &'static [ExtraPerm],
    /// Request or notification.
    pub kind: MethodKind,
}

/// Look up a method by wire name.
pub fn method_info(name: &str) -> Option<&'static MethodInfo> {
    METHODS.iter().find(|m| m.name == name)
}

/// Visits every request method type (for schema generation and conformance tests).
pub trait MethodVisitor {
    /// Called once per request method.
    fn visit<M: Method>(&mut self);
    /// Called once per notification.
    fn visit_notification<N: NotificationMethod>(&mut self);
}

macro_rules! or_empty {
    () => {
        &[]
    };
    ($e:expr) => {
        $e
    };
}

macro_rules! methods {
    (requests { $( $(#[$doc:meta])* $ty:ident = $name:literal, $params:ty => $result:ty, $perm:expr $(, extra $extra:expr)? ; )* }
     notifications { $( $nty:ident = $nname:literal ; )* }) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct $ty;
            impl Method for $ty {
                const NAME: &'static str = $name;
                type Params = $params;
                type Result = $result;
            }
        )*
        $(
            impl NotificationMethod for $nty {
                const NAME: &'static str = $nname;
            }
        )*

        /// Every method of OVSP v1 (requests, then client notifications).
        pub const METHODS: &[MethodInfo] = &[
            $( MethodInfo { name: $name, permission: $perm, extra: or_empty!($($extra)?), kind: MethodKind::Request }, )*
            $( MethodInfo { name: $nname, permission: PermRule::None, extra: &[], kind: MethodKind::Notification }, )*
        ];

        /// Call the visitor for every method type.
        pub fn visit_methods<V: MethodVisitor>(v: &mut V) {
            $( v.visit::<$ty>(); )*
            $( v.visit_notification::<$nty>(); )*
        }
    };
}

use PermRule::{Fixed, MemberRole, Owner, Publish, SelfOrMember, Token};

methods! {
    requests {
    /// `session.connect`: open or resume a session (must be the first frame).
    SessionConnect = "session.connect", SessionConnectParams => SessionConnectResult, Token;
    /// `session.update_token`: swap the session's grants for a new token's.
    SessionUpdateToken = "session.update_token", SessionUpdateTokenParams => SessionUpdateTokenResult, Token;
    /// `ping`: keepalive, RTT and clock skew; also carries the ack.
    Ping = "ping", PingParams => PingResult, PermRule::None;

    /// `room.join`: join the token's room; the result is the snapshot.
    RoomJoin = "room.join", RoomJoinParams => Snapshot, Token;
    /// `room.leave`: leave; the server closes with 1000 afterwards.
    RoomLeave = "room.leave", ReasonParams => Empty, PermRule::None;
    /// `room.get`: fetch a fresh snapshot.
    RoomGet = "room.get", Empty => Snapshot, PermRule::None;
    /// `room.lock`.
    RoomLock = "room.lock", Empty => Empty, Fixed("room.lock");
    /// `room.unlock`.
    RoomUnlock = "room.unlock", Empty => Empty, Fixed("room.unlock");
    /// `room.end`: end the room for everyone.
    RoomEnd = "room.end", ReasonParams => Empty, Fixed("room.end");
    /// `room.configure`: room-wide settings.
    RoomConfigure = "room.configure", RoomConfigureParams => RoomConfigureResult, Fixed("room.configure"),
        extra &[
            ExtraPerm { field: "hide_video_muted", when_set: "room.hide_video_muted", when_false: "room.show_video_muted" },
            ExtraPerm { field: "prioritize_handraise", when_set: "room.prioritize_handraise", when_false: "room.prioritize_handraise" },
            ExtraPerm { field: "default_layout", when_set: "room.set_layout", when_false: "room.set_layout" },
        ];
    /// `room.set_hide_video_muted`.
    RoomSetHideVideoMuted = "room.set_hide_video_muted", RoomSetHideVideoMutedParams => Empty,
        PermRule::Toggle { field: "value", on: "room.hide_video_muted", off: "room.show_video_muted" };
    /// `room.set_prioritize_handraise`.
    RoomSetPrioritizeHandraise = "room.set_prioritize_handraise", RoomSetPrioritizeHandraiseParams => Empty, Fixed("room.prioritize_handraise");
    /// `room.set_meta`: replace the room meta.
    RoomSetMeta = "room.set_meta", MetaParams => Empty, Fixed("room.set_meta");
    /// `room.update_meta`: shallow-merge into the room meta.
    RoomUpdateMeta = "room.update_meta", MetaParams => Empty, Fixed("room.set_meta");
    /// `room.delete_meta`: delete keys of the room meta.
    RoomDeleteMeta = "room.delete_meta", DeleteMetaParams => Empty, Fixed("room.set_meta");
    /// `room.get_meta`.
    RoomGetMeta = "room.get_meta", Empty => MetaResult, PermRule::None;
    /// `room.acl.update`: add, change or remove access-list entries.
    RoomAclUpdate = "room.acl.update", RoomAclUpdateParams => RoomAclUpdateResult, Fixed("room.acl.manage");
    /// `room.acl.get`.
    RoomAclGet = "room.acl.get", Empty => RoomAclGetResult, Fixed("room.acl.manage");

    /// `member.list`.
    MemberList = "member.list", Empty => MemberListResult, PermRule::None;
    /// `member.audio_mute`.
    MemberAudioMute = "member.audio_mute", MemberTarget => Empty, SelfOrMember("audio_mute");
    /// `member.audio_unmute`.
    MemberAudioUnmute = "member.audio_unmute", MemberTarget => Empty, SelfOrMember("audio_unmute");
    /// `member.video_mute`.
    MemberVideoMute = "member.video_mute", MemberTarget => Empty, SelfOrMember("video_mute");
    /// `member.video_unmute`.
    MemberVideoUnmute = "member.video_unmute", MemberTarget => Empty, SelfOrMember("video_unmute");
    /// `member.deaf`.
    MemberDeaf = "member.deaf", MemberTarget => Empty, SelfOrMember("deaf");
    /// `member.undeaf`.
    MemberUndeaf = "member.undeaf", MemberTarget => Empty, SelfOrMember("undeaf");
    /// `member.set_input_volume`.
    MemberSetInputVolume = "member.set_input_volume", MemberVolumeParams => Empty, SelfOrMember("set_input_volume");
    /// `member.set_output_volume`.
    MemberSetOutputVolume = "member.set_output_volume", MemberVolumeParams => Empty, SelfOrMember("set_output_volume");
    /// `member.set_input_sensitivity`.
    MemberSetInputSensitivity = "member.set_input_sensitivity", MemberSetInputSensitivityParams => Empty, SelfOrMember("set_input_sensitivity");
    /// `member.set_position`.
    MemberSetPosition = "member.set_position", MemberSetPositionParams => Empty, SelfOrMember("set_position");
    /// `member.remove`: remove a member, or everyone else with `member_id: "all"`.
    MemberRemove = "member.remove", MemberRemoveParams => Empty, Fixed("room.member.remove");
    /// `member.promote`: audience → member.
    MemberPromote = "member.promote", MemberPromoteParams => Empty, Fixed("room.member.promote");
    /// `member.demote`: member → audience.
    MemberDemote = "member.demote", MemberDemoteParams => Empty, Fixed("room.member.demote");
    /// `member.raise_hand`.
    MemberRaiseHand = "member.raise_hand", MemberTarget => Empty, SelfOrMember("raise_hand");
    /// `member.lower_hand`.
    MemberLowerHand = "member.lower_hand", MemberTarget => Empty, SelfOrMember("raise_hand");
    /// `member.set_meta`: replace a member's meta.
    MemberSetMeta = "member.set_meta", MemberMetaParams => Empty, SelfOrMember("set_meta");
    /// `member.update_meta`: shallow-merge into a member's meta.
    MemberUpdateMeta = "member.update_meta", MemberMetaParams => Empty, SelfOrMember("set_meta");
    /// `member.delete_meta`: delete keys of a member's meta.
    MemberDeleteMeta = "member.delete_meta", MemberDeleteMetaParams => Empty, SelfOrMember("set_meta");
    /// `member.get_meta`.
    MemberGetMeta = "member.get_meta", MemberTarget => MetaResult, PermRule::None;
    /// `member.set_permissions`: replace a member's permissions and media rights.
    MemberSetPermissions = "member.set_permissions", MemberSetPermissionsParams => Empty, Fixed("room.member.set_permissions");

    /// `track.publish`: declare a local track before it appears in a `pub.offer`.
    TrackPublish = "track.publish", TrackPublishParams => TrackResult, Publish;
    /// `track.unpublish`.
    TrackUnpublish = "track.unpublish", TrackIdParams => Empty, Owner;
    /// `track.mute`: publisher-side mute/unmute of own tracks (batch).
    TrackMute = "track.mute", TrackMuteParams => Empty, Owner;
    /// `track.update`: change a track's name, stream key, dimensions or layers.
    TrackUpdate = "track.update", TrackUpdateParams => TrackResult, Owner;
    /// `pub.offer`: an offer for the pub PC; the result is the answer.
    PubOffer = "pub.offer", PubOfferParams => PubOfferResult, MemberRole;
    /// `pub.reset`: the client rebuilt its pub PC.
    PubReset = "pub.reset", Empty => Empty, PermRule::None;
    /// `sub.answer`: the answer to a `sub.offer` event.
    SubAnswer = "sub.answer", SubAnswerParams => Empty, PermRule::None;
    /// `sub.ice_restart`: ask the server for an ICE-restart `sub.offer`.
    SubIceRestart = "sub.ice_restart", Empty => Empty, PermRule::None;
    /// `sub.reset`: ask the server to rebuild the sub PC.
    SubReset = "sub.reset", Empty => Empty, PermRule::None;
    /// `sub.update`: add/remove subscriptions and change their settings.
    SubUpdate = "sub.update", SubUpdateParams => SubUpdateResult, Fixed("room.subscribe");

    /// `layout.list`.
    LayoutList = "layout.list", Empty => LayoutListResult, Fixed("room.list_available_layouts");
    /// `layout.set`.
    LayoutSet = "layout.set", LayoutSetParams => Empty, Fixed("room.set_layout"),
        extra &[ExtraPerm { field: "positions", when_set: "room.set_position", when_false: "room.set_position" }];
    /// `layout.set_positions`.
    LayoutSetPositions = "layout.set_positions", LayoutSetPositionsParams => Empty, Fixed("room.set_position");
    /// `recording.start`.
    RecordingStart = "recording.start", RecordingStartParams => RecordingResult, Fixed("room.recording");
    /// `recording.pause`.
    RecordingPause = "recording.pause", RecordingIdParams => RecordingResult, Fixed("room.recording");
    /// `recording.resume`.
    RecordingResume = "recording.resume", RecordingIdParams => RecordingResult, Fixed("room.recording");
    /// `recording.stop`.
    RecordingStop = "recording.stop", RecordingIdParams => RecordingResult, Fixed("room.recording");
    /// `recording.list`.
    RecordingList = "recording.list", Empty => RecordingListResult, Fixed("room.recording");
    /// `playback.start`.
    PlaybackStart = "playback.start", PlaybackStartParams => PlaybackResult, Fixed("room.playback");
    /// `playback.pause`.
    PlaybackPause = "playback.pause", PlaybackIdParams => PlaybackResult, Fixed("room.playback");
    /// `playback.resume`.
    PlaybackResume = "playback.resume", PlaybackIdParams => PlaybackResult, Fixed("room.playback");
    /// `playback.stop`.
    PlaybackStop = "playback.stop", PlaybackIdParams => PlaybackResult, Fixed("room.playback");
    /// `playback.seek`: absolute (`position_ms`) or relative (`delta_ms`).
    PlaybackSeek = "playback.seek", PlaybackSeekParams => PlaybackResult, Fixed("room.playback.seek");
    /// `playback.set_volume`.
    PlaybackSetVolume = "playback.set_volume", PlaybackSetVolumeParams => PlaybackResult, Fixed("room.playback");
    /// `playback.list`.
    PlaybackList = "playback.list", Empty => PlaybackListResult, Fixed("room.playback");
    /// `stream.start`: start an outbound RTMP(S) stream.
    StreamStart = "stream.start", StreamStartParams => StreamResult, Fixed("room.stream.start");
    /// `stream.stop`.
    StreamStop = "stream.stop", StreamIdParams => StreamResult, Fixed("room.stream.stop");
    /// `stream.list`.
    StreamList = "stream.list", Empty => StreamListResult, Fixed("room.stream");

    /// `message.send`: a durable application message to everyone or to listed members.
    MessageSend = "message.send", MessageSendParams => MessageSendResult, Fixed("room.message.send");
    /// `debug.simulate`: reproduce failure scenarios (capability `debug_simulate` only).
    DebugSimulate = "debug.simulate", DebugSimulateParams => Empty, PermRule::None;

    }
    notifications {
        SessionAck = "session.ack";
        StatsReport = "stats.report";
        IceCandidate = "ice.candidate";
    }
}

// ---------------------------------------------------------------- shared shapes

/// An empty object (`{}`): params of methods without params, result of methods without a
/// result. Unknown fields (such as a result's `seq`) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Empty {}

/// Params with an optional target member (absent = the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberTarget {
    /// Target member; absent for the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
}

/// Params with an optional free-text reason (`room.leave`, `room.end`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReasonParams {
    /// Reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `room.leave` params.
pub type RoomLeaveParams = ReasonParams;
/// `room.end` params.
pub type RoomEndParams = ReasonParams;

/// Params carrying a meta object (`room.set_meta`, `room.update_meta`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MetaParams {
    /// The meta object.
    pub meta: Meta,
}

/// `room.set_meta` params.
pub type RoomSetMetaParams = MetaParams;
/// `room.update_meta` params.
pub type RoomUpdateMetaParams = MetaParams;

/// Params listing meta keys to delete (`room.delete_meta`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeleteMetaParams {
    /// Keys to delete.
    pub keys: Vec<String>,
}

/// `room.delete_meta` params.
pub type RoomDeleteMetaParams = DeleteMetaParams;

/// A result carrying a meta object (`room.get_meta`, `member.get_meta`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MetaResult {
    /// The meta object.
    #[serde(default)]
    pub meta: Meta,
}

// ---------------------------------------------------------------- session

/// A protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProtocolVersion {
    /// Major version (1).
    pub major: u32,
    /// Minor version.
    #[serde(default)]
    pub minor: u32,
}

impl Default for ProtocolVersion {
    fn default() -> Self {
        ProtocolVersion {
            major: crate::PROTOCOL_MAJOR,
            minor: crate::PROTOCOL_MINOR,
        }
    }
}

/// Describes the client SDK.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClientInfo {
    /// SDK name, e.g. `ovsp-wasm`.
    pub sdk: String,
    /// SDK version.
    pub version: String,
    /// Operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Browser, e.g. `chrome/127`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// Device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// The resume request inside `session.connect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ResumeParams {
    /// The session to resume.
    pub session_id: String,
    /// The single-use resume token from the last (re)connect.
    pub resume_token: String,
    /// The highest durable seq the client processed.
    pub last_seq: u64,
}

/// `session.connect` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SessionConnectParams {
    /// The client's protocol version.
    #[serde(default)]
    pub protocol: ProtocolVersion,
    /// The access token (JWT). Not needed when resuming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The client SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    /// Client capabilities (see [`crate::capabilities`]).
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Present when resuming a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<ResumeParams>,
}

/// Describes the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ServerInfo {
    /// Server version.
    pub version: String,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// Timers the server advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Timers {
    /// Ping interval.
    pub ping_interval_ms: u64,
    /// Dead-socket timeout.
    pub ping_timeout_ms: u64,
    /// Resume window.
    pub resume_window_ms: u64,
    /// Request timeout.
    pub request_timeout_ms: u64,
}

impl Default for Timers {
    fn default() -> Self {
        use crate::limits::*;
        Timers {
            ping_interval_ms: PING_INTERVAL_MS,
            ping_timeout_ms: PING_TIMEOUT_MS,
            resume_window_ms: RESUME_WINDOW_MS,
            request_timeout_ms: REQUEST_TIMEOUT_MS,
        }
    }
}

/// An ICE server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IceServer {
    /// URLs (`stun:`, `turn:`, `turns:`).
    pub urls: Vec<String>,
    /// TURN username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The range of durable events replayed after a resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReplayRange {
    /// First replayed seq (`last_seq + 1`).
    pub from: u64,
    /// Last replayed seq.
    pub to: u64,
}

/// `session.connect` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SessionConnectResult {
    /// Session id (`ses_…`).
    pub session_id: String,
    /// The new single-use resume token.
    pub resume_token: String,
    /// The negotiated version.
    #[serde(default)]
    pub protocol: ProtocolVersion,
    /// The server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerInfo>,
    /// Server capabilities.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// The caller's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Timers (defaults when absent).
    #[serde(default)]
    pub timers: Timers,
    /// ICE servers.
    #[serde(default)]
    pub ice_servers: Vec<IceServer>,
    /// Whether an existing session was resumed.
    #[serde(default)]
    pub resumed: bool,
    /// On resume: the replayed seq range (events follow the response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplayRange>,
    /// On resume with a gap: a snapshot to reconcile against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Box<Snapshot>>,
    /// When the access token expires (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expires_at: Option<u64>,
}

/// `session.update_token` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SessionUpdateTokenParams {
    /// The new access token.
    pub token: String,
}

/// `session.update_token` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SessionUpdateTokenResult {
    /// When the new token expires (ms since the Unix epoch).
    pub expires_at: u64,
    /// Role.
    #[serde(default)]
    pub role: Role,
    /// Effective permissions.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Effective media rights.
    #[serde(default)]
    pub media_allowed: MediaAllowed,
}

/// `ping` params.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PingParams {
    /// Client time (ms).
    pub ts: u64,
    /// The highest durable seq processed (a cumulative ack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<u64>,
}

/// `ping` result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PingResult {
    /// The client's `ts`, echoed.
    pub ts: u64,
    /// Server time (ms since the Unix epoch).
    pub server_ts: u64,
}

/// `session.ack` notification params: cumulative ack of durable events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SessionAck {
    /// The highest durable seq processed.
    pub seq: u64,
}

/// Per-track statistics in `stats.report`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackStats {
    /// Track.
    pub track_id: String,
    /// Frame rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// Width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Quality limitation reason (`none`, `bandwidth`, `cpu`, `other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qlimit: Option<String>,
}

/// `stats.report` notification params.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StatsReport {
    /// Which PC.
    pub pc: PcKind,
    /// Client time (ms).
    pub ts: u64,
    /// Round-trip time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    /// Jitter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<f64>,
    /// Packet loss fraction, 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packet_loss: Option<f64>,
    /// Outbound bitrate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_bps: Option<u64>,
    /// Inbound bitrate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_bps: Option<u64>,
    /// Estimated available outgoing bitrate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_outgoing_bps: Option<u64>,
    /// Selected local candidate type (`host`, `srflx`, `relay`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_type: Option<String>,
    /// Per-track statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracks: Option<Vec<TrackStats>>,
}

#[allow(clippy::derivable_impls)] // wire_enum! cannot carry #[default]
impl Default for PcKind {
    fn default() -> Self {
        PcKind::Pub
    }
}

/// A trickled ICE candidate (client notification `ice.candidate` and event `ice.candidate`).
/// `candidate: null` marks the end of candidates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IceCandidate {
    /// Which PC.
    pub pc: PcKind,
    /// The candidate line, or `null` for end of candidates.
    #[serde(default)]
    pub candidate: Option<String>,
    /// The m-section mid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// The m-section index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_m_line_index: Option<u16>,
    /// The ICE username fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_fragment: Option<String>,
}

/// `session.ack` params (alias of [`SessionAck`]).
pub type SessionAckParams = SessionAck;
/// `stats.report` params (alias of [`StatsReport`]).
pub type StatsReportParams = StatsReport;
/// `ice.candidate` params (alias of [`IceCandidate`]).
pub type IceCandidateParams = IceCandidate;

// ---------------------------------------------------------------- room

/// Which kinds to receive (in `room.join`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReceiveOptions {
    /// Receive audio.
    #[serde(default = "crate::methods::default_true")]
    pub audio: bool,
    /// Receive video.
    #[serde(default = "crate::methods::default_true")]
    pub video: bool,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        ReceiveOptions {
            audio: true,
            video: true,
        }
    }
}

pub(crate) fn default_true() -> bool {
    true
}

/// `room.join` params (all optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomJoinParams {
    /// Display-name override (if the token allows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Merged into the token's member meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Join with audio muted (default from the token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_audio_muted: Option<bool>,
    /// Join with video muted (default from the token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_video_muted: Option<bool>,
    /// Subscribe to every published track automatically (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_subscribe: Option<bool>,
    /// Which kinds to receive (default both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive: Option<ReceiveOptions>,
}

/// `room.join` result: the snapshot.
pub type RoomJoinResult = Snapshot;
/// `room.get` result: the snapshot.
pub type RoomGetResult = Snapshot;

/// `room.configure` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomConfigureParams {
    /// Maximum members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    /// Hide video-muted members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_video_muted: Option<bool>,
    /// Place raised hands first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prioritize_handraise: Option<bool>,
    /// Default layout name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_layout: Option<String>,
}

/// `room.configure` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomConfigureResult {
    /// The room after the change.
    pub room: crate::model::Room,
}

/// `room.set_hide_video_muted` params.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomSetHideVideoMutedParams {
    /// Hide (true) or show (false) video-muted members.
    pub value: bool,
}

/// `room.set_prioritize_handraise` params.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomSetPrioritizeHandraiseParams {
    /// Enable or disable.
    pub enable: bool,
}

/// One access-list entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AclEntry {
    /// Identity (token `sub`).
    pub identity: String,
    /// Role to join with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Sources the identity may publish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<Vec<MediaSource>>,
    /// Kinds the identity may receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recv: Option<Vec<MediaKind>>,
    /// Permissions replacing the token's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// `room.acl.update` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomAclUpdateParams {
    /// Entries to add or change.
    #[serde(default)]
    pub upsert: Vec<AclEntry>,
    /// Identities to remove (connected ones are kicked).
    #[serde(default)]
    pub remove: Vec<String>,
}

/// `room.acl.update` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomAclUpdateResult {
    /// The whole access list after the change.
    #[serde(default)]
    pub entries: Vec<AclEntry>,
}

/// `room.acl.get` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomAclGetResult {
    /// Whether the access list is enforced.
    pub enabled: bool,
    /// The entries.
    #[serde(default)]
    pub entries: Vec<AclEntry>,
}

// ---------------------------------------------------------------- members

/// `member.list` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberListResult {
    /// Visible members (the caller included).
    #[serde(default)]
    pub members: Vec<Member>,
}

/// `member.set_input_volume` / `member.set_output_volume` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberVolumeParams {
    /// Target member; absent for the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// Volume, −50..50.
    pub volume: i32,
}

/// `member.set_input_volume` params.
pub type MemberSetInputVolumeParams = MemberVolumeParams;
/// `member.set_output_volume` params.
pub type MemberSetOutputVolumeParams = MemberVolumeParams;

/// `member.set_input_sensitivity` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberSetInputSensitivityParams {
    /// Target member; absent for the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// Sensitivity, 0..100.
    pub value: i32,
}

/// `member.set_position` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberSetPositionParams {
    /// Target member; absent for the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// Position name (see [`crate::layouts::is_valid_position`]).
    pub position: String,
}

/// `member.remove` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberRemoveParams {
    /// Member to remove, or `"all"` for every other member.
    pub member_id: String,
    /// Reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The `member_id` value of `member.remove` that removes everyone else.
pub const REMOVE_ALL: &str = "all";

/// `member.promote` params.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberPromoteParams {
    /// The audience member to promote.
    pub member_id: String,
    /// Permissions replacing the current ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// Media rights replacing the current ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_allowed: Option<MediaAllowed>,
    /// Start with audio muted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_audio_muted: Option<bool>,
    /// Start with video muted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_video_muted: Option<bool>,
    /// Member meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// `member.demote` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberDemoteParams {
    /// The member to demote.
    pub member_id: String,
    /// Media rights as audience (receive side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_allowed: Option<MediaAllowed>,
}

/// `member.set_meta` / `member.update_meta` params.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberMetaParams {
    /// Target member; absent for the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// The meta object.
    pub meta: Meta,
}

/// `member.set_meta` params.
pub type MemberSetMetaParams = MemberMetaParams;
/// `member.update_meta` params.
pub type MemberUpdateMetaParams = MemberMetaParams;

/// `member.delete_meta` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberDeleteMetaParams {
    /// Target member; absent for the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// Keys to delete.
    pub keys: Vec<String>,
}

/// `member.set_permissions` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberSetPermissionsParams {
    /// Target member.
    pub member_id: String,
    /// Permissions replacing the current ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// Media rights replacing the current ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_allowed: Option<MediaAllowed>,
}

// ---------------------------------------------------------------- tracks

/// `track.publish` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackPublishParams {
    /// Client-chosen id, stable across rejoins.
    pub cid: String,
    /// Kind.
    pub kind: TrackKind,
    /// Source.
    pub source: MediaSource,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Stream key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_key: Option<String>,
    /// Start muted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    /// Width (video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height (video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Simulcast layers, lowest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<TrackLayer>>,
    /// SVC scalability mode (instead of layers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalability_mode: Option<String>,
    /// Preferred codecs (MIME types), best first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codecs: Option<Vec<String>>,
    /// Stereo audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stereo: Option<bool>,
    /// Opus DTX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtx: Option<bool>,
    /// RED audio redundancy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub red: Option<bool>,
    /// Reliable delivery (data tracks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliable: Option<bool>,
}

/// A result carrying one track (`track.publish`, `track.update`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackResult {
    /// The track.
    pub track: Track,
}

/// `track.publish` result.
pub type TrackPublishResult = TrackResult;
/// `track.update` result.
pub type TrackUpdateResult = TrackResult;

/// Params naming one track.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackIdParams {
    /// The track.
    pub track_id: String,
}

/// `track.unpublish` params.
pub type TrackUnpublishParams = TrackIdParams;

/// One entry of `track.mute`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackMuteEntry {
    /// The track.
    pub track_id: String,
    /// Mute (true) or unmute (false).
    pub muted: bool,
}

/// `track.mute` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackMuteParams {
    /// The changes.
    pub tracks: Vec<TrackMuteEntry>,
}

/// `track.update` params.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackUpdateParams {
    /// The track.
    pub track_id: String,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New stream key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_key: Option<String>,
    /// New width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// New height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// New layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<TrackLayer>>,
}

/// `pub.offer` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PubOfferParams {
    /// Offer id, increasing per PC.
    pub offer_id: u32,
    /// The SDP offer.
    pub sdp: String,
    /// Map from mid to the track's `cid` or `track_id`.
    #[serde(default)]
    pub mids: BTreeMap<String, String>,
    /// Whether this is an ICE-restart offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ice_restart: Option<bool>,
}

/// `pub.offer` result: the answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PubOfferResult {
    /// The offer answered.
    pub offer_id: u32,
    /// The SDP answer.
    pub sdp: String,
}

/// `sub.answer` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubAnswerParams {
    /// The `sub.offer` answered.
    pub offer_id: u32,
    /// The SDP answer.
    pub sdp: String,
}

// ---------------------------------------------------------------- subscriptions

/// What to subscribe to: a track (`track_id`) or a member's tracks (`member_id`, optionally
/// narrowed by `stream_key` and `kinds`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubTarget {
    /// A single track.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_id: Option<String>,
    /// All tracks of a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// Only this stream key of the member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_key: Option<String>,
    /// Only these kinds of the member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<MediaKind>>,
}

/// Settings for one subscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubSetting {
    /// The subscribed track.
    pub track_id: String,
    /// Pause or resume forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// Maximum width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<u32>,
    /// Maximum height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_height: Option<u32>,
    /// Maximum frame rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fps: Option<f64>,
    /// Spatial layer (SVC/simulcast index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spatial_layer: Option<u8>,
    /// Temporal layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal_layer: Option<u8>,
    /// Priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
}

/// `sub.update` params.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubUpdateParams {
    /// Subscriptions to add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<SubTarget>,
    /// Subscriptions to remove (sticky opt-out under auto-subscribe).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<SubTarget>,
    /// Settings changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<SubSetting>,
}

/// `sub.update` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubUpdateResult {
    /// Resulting states of the affected subscriptions (failed adds have state `failed`).
    #[serde(default)]
    pub subscriptions: Vec<SubscriptionState>,
}

// ---------------------------------------------------------------- layout and egress

/// `layout.list` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LayoutListResult {
    /// Available layouts.
    #[serde(default)]
    pub layouts: Vec<LayoutInfo>,
}

/// A map from member id to position name.
pub type Positions = BTreeMap<String, String>;

/// `layout.set` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LayoutSetParams {
    /// Layout name.
    pub name: String,
    /// Position assignments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positions: Option<Positions>,
}

/// `layout.set_positions` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LayoutSetPositionsParams {
    /// Position assignments.
    pub positions: Positions,
}

/// `recording.start` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RecordingStartParams {
    /// Layout for the composite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// Container format, e.g. `webm` or `mp4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// Params naming a recording.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RecordingIdParams {
    /// The recording.
    pub recording_id: String,
}

/// A result carrying one recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RecordingResult {
    /// The recording.
    pub recording: Recording,
}

/// `recording.list` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RecordingListResult {
    /// Recordings.
    #[serde(default)]
    pub recordings: Vec<Recording>,
}

/// `playback.start` params.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlaybackStartParams {
    /// Media URL.
    pub url: String,
    /// Volume, −50..50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<f64>,
    /// Layout while playing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// Position assignments while playing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positions: Option<Positions>,
    /// Start position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seek_position_ms: Option<u64>,
}

/// Params naming a playback.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlaybackIdParams {
    /// The playback.
    pub playback_id: String,
}

/// `playback.seek` params: exactly one of `position_ms` (absolute) or `delta_ms` (relative).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlaybackSeekParams {
    /// The playback.
    pub playback_id: String,
    /// Absolute position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_ms: Option<u64>,
    /// Relative move (may be negative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_ms: Option<i64>,
}

/// `playback.set_volume` params.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlaybackSetVolumeParams {
    /// The playback.
    pub playback_id: String,
    /// Volume, −50..50.
    pub volume: f64,
}

/// A result carrying one playback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlaybackResult {
    /// The playback.
    pub playback: Playback,
}

/// `playback.list` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlaybackListResult {
    /// Playbacks.
    #[serde(default)]
    pub playbacks: Vec<Playback>,
}

/// `stream.start` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StreamStartParams {
    /// Destination (`rtmp://` or `rtmps://`).
    pub url: String,
}

/// Params naming a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StreamIdParams {
    /// The stream.
    pub stream_id: String,
}

/// A result carrying one stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StreamResult {
    /// The stream.
    pub stream: Stream,
}

/// `stream.list` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StreamListResult {
    /// Streams.
    #[serde(default)]
    pub streams: Vec<Stream>,
}

// ---------------------------------------------------------------- messages and debug

/// `message.send` params.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MessageSendParams {
    /// Recipients; absent = everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    /// Topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Any JSON value, at most 64 KiB serialised.
    pub payload: crate::json::Value,
    /// Client de-duplication id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
}

/// `message.send` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MessageSendResult {
    /// Server message id (`msg_…`).
    pub message_id: String,
    /// Server time of the message.
    pub ts: u64,
}

wire_enum! {
    /// A `debug.simulate` scenario.
    DebugScenario {
        /// Drop the signaling socket (the client resumes).
        DropSignal = "drop_signal",
        /// Evict the replay buffer, then drop the socket (resume yields a snapshot).
        ResumeGap = "resume_gap",
        /// Forget the session, then drop the socket (resume yields 54004).
        SessionUnknown = "session_unknown",
        /// `session.closing{action: resume}`.
        ServerLeaveResume = "server_leave_resume",
        /// `session.closing{action: rejoin}`.
        ServerLeaveRejoin = "server_leave_rejoin",
        /// Fail ICE on the pub PC.
        IceFailPub = "ice_fail_pub",
        /// Fail ICE on the sub PC.
        IceFailSub = "ice_fail_sub",
        /// Emit speaker events for the caller.
        Speaker = "speaker",
    }
}

/// `debug.simulate` params.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DebugSimulateParams {
    /// The scenario.
    pub scenario: DebugScenario,
    /// Scenario duration, where it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

impl PermRule {
    /// A short description used in the docs and the JSON Schema.
    pub fn describe(&self) -> String {
        match self {
            PermRule::None => "none".into(),
            PermRule::Token => "valid access token (or resume token)".into(),
            PermRule::Fixed(p) => (*p).into(),
            PermRule::SelfOrMember(s) => format!("room.self.{s} / room.member.{s}"),
            PermRule::Toggle { field, on, off } => {
                format!("{on} ({field}: true) / {off} ({field}: false)")
            }
            PermRule::Publish => {
                "role member; source in media_allowed.send (+ room.publish.<source> if listed)"
                    .into()
            }
            PermRule::Owner => "track owner".into(),
            PermRule::MemberRole => "role member".into(),
        }
    }
}

impl MethodInfo {
    /// The permission rule and its extras, described for the docs.
    pub fn describe_permission(&self) -> String {
        let mut s = self.permission.describe();
        for e in self.extra {
            if e.when_set == e.when_false {
                s.push_str(&format!("; + {} with {}", e.when_set, e.field));
            } else {
                s.push_str(&format!(
                    "; + {} / {} with {}: true / false",
                    e.when_set, e.when_false, e.field
                ));
            }
        }
        s
    }
}
