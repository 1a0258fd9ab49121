//! The data model: rooms, members, tracks, subscriptions, layouts and egress entities,
//! plus the partial entities carried by `*.updated` events and the [`Snapshot`].
//!
//! Every entity has a `version` that the server increments on each change. Partial entities
//! carry `id`, `version` and only the changed fields; [`Room::apply`], [`Member::apply`] and
//! [`Track::apply`] merge them.

use crate::prelude::*;
use serde::{Deserialize, Serialize};

use crate::json::Wire;

use crate::codes::Code;

/// Free-form application metadata: a JSON object (at most [`crate::limits::MAX_META_BYTES`]
/// serialised).
pub type Meta = crate::json::Map<String, crate::json::Value>;

fn default_true() -> bool {
    true
}

wire_enum! {
    /// A member's role.
    Role {
        /// A full member: visible to others, may publish.
        Member = "member",
        /// An audience member: invisible to others, receive-only.
        Audience = "audience",
    }
}

#[allow(clippy::derivable_impls)] // wire_enum! cannot carry #[default]
impl Default for Role {
    fn default() -> Self {
        Role::Member
    }
}

wire_enum! {
    /// A member's connection state.
    MemberState {
        /// Joining (media not yet connected).
        Joining = "joining",
        /// Connected.
        Active = "active",
        /// Signaling lost; within the resume window.
        Reconnecting = "reconnecting",
    }
}

#[allow(clippy::derivable_impls)] // wire_enum! cannot carry #[default]
impl Default for MemberState {
    fn default() -> Self {
        MemberState::Active
    }
}

wire_enum! {
    /// The kind of a track.
    TrackKind {
        /// Audio.
        Audio = "audio",
        /// Video.
        Video = "video",
        /// A data track (SCTP, see the data frame format).
        Data = "data",
    }
}

wire_enum! {
    /// Where a published track comes from.
    MediaSource {
        /// Microphone audio.
        Microphone = "microphone",
        /// Camera video.
        Camera = "camera",
        /// Screen-share video.
        Screen = "screen",
        /// Screen-share audio.
        ScreenAudio = "screen_audio",
        /// Any other application-provided media.
        Custom = "custom",
        /// A data track.
        Data = "data",
    }
}

wire_enum! {
    /// A media kind that may be received.
    MediaKind {
        /// Audio.
        Audio = "audio",
        /// Video.
        Video = "video",
        /// Data tracks.
        Data = "data",
    }
}

impl MediaSource {
    /// The track kind this source produces.
    pub fn kind(self) -> TrackKind {
        match self {
            MediaSource::Microphone | MediaSource::ScreenAudio => TrackKind::Audio,
            MediaSource::Camera | MediaSource::Screen => TrackKind::Video,
            MediaSource::Data => TrackKind::Data,
            MediaSource::Custom | MediaSource::Unknown => TrackKind::Unknown,
        }
    }
}

impl TrackKind {
    /// The receivable media kind of this track kind.
    pub fn media_kind(self) -> MediaKind {
        match self {
            TrackKind::Audio => MediaKind::Audio,
            TrackKind::Video => MediaKind::Video,
            TrackKind::Data => MediaKind::Data,
            TrackKind::Unknown => MediaKind::Unknown,
        }
    }
}

wire_enum! {
    /// State of one subscription.
    SubState {
        /// Requested; not yet negotiated.
        Pending = "pending",
        /// Media is forwarded.
        Active = "active",
        /// Forwarding paused (by the subscriber or the server).
        Paused = "paused",
        /// The subscription failed; see `error`.
        Failed = "failed",
    }
}

wire_enum! {
    /// Why a member left (in `member.left`).
    LeaveReason {
        /// The member called `room.leave`.
        Left = "left",
        /// A moderator removed the member.
        Removed = "removed",
        /// The resume window expired.
        Timeout = "timeout",
        /// Another session joined with the same identity.
        DuplicateIdentity = "duplicate_identity",
        /// The member was demoted to audience.
        Demoted = "demoted",
        /// The member's access was revoked.
        PermissionRevoked = "permission_revoked",
        /// The room ended.
        RoomEnded = "room_ended",
    }
}

wire_enum! {
    /// Why the server ends a session (in `session.closing`).
    ClosingReason {
        /// A moderator removed the member.
        Removed = "removed",
        /// Another session joined with the same identity.
        DuplicateIdentity = "duplicate_identity",
        /// The room ended.
        RoomEnded = "room_ended",
        /// The server is shutting down.
        ServerShutdown = "server_shutdown",
        /// Access was revoked (e.g. removed from the ACL).
        PermissionRevoked = "permission_revoked",
        /// The token was revoked.
        TokenRevoked = "token_revoked",
        /// A timeout (e.g. ping).
        Timeout = "timeout",
        /// Media could not be recovered.
        MediaFailure = "media_failure",
        /// The session moves to another node (`url`).
        Migrate = "migrate",
    }
}

wire_enum! {
    /// What the client does after a session-level error or `session.closing`.
    SessionAction {
        /// Stop and surface the error.
        Disconnect = "disconnect",
        /// Reconnect (to `url` if given) and resume.
        Resume = "resume",
        /// Start a fresh session and restore publications and subscriptions.
        Rejoin = "rejoin",
    }
}

wire_enum! {
    /// Which of the two PeerConnections.
    PcKind {
        /// The publish PC (the client offers).
        Pub = "pub",
        /// The subscribe PC (the server offers).
        Sub = "sub",
    }
}

wire_enum! {
    /// Why a track was unpublished.
    UnpublishReason {
        /// The owner unpublished it.
        Unpublished = "unpublished",
        /// The owner was demoted.
        Demoted = "demoted",
        /// The owner lost the right to publish this source.
        PermissionRevoked = "permission_revoked",
        /// The owner left.
        Left = "left",
    }
}

wire_enum! {
    /// Forwarding state of a subscribed track (`track.stream_state`).
    StreamStateKind {
        /// Media is flowing.
        Active = "active",
        /// Media is switched off.
        Paused = "paused",
    }
}

wire_enum! {
    /// Why a subscribed track was switched off.
    StreamStateReason {
        /// Not enough downstream bandwidth.
        Congestion = "congestion",
        /// The publisher muted it.
        PublisherMuted = "publisher_muted",
        /// The subscriber paused it.
        SubscriberPaused = "subscriber_paused",
        /// Lower priority than other subscriptions.
        Priority = "priority",
    }
}

wire_enum! {
    /// Recording state.
    RecordingState {
        /// Recording.
        Recording = "recording",
        /// Paused.
        Paused = "paused",
        /// Finished successfully.
        Completed = "completed",
        /// Failed.
        Failed = "failed",
    }
}

wire_enum! {
    /// Playback state.
    PlaybackState {
        /// Playing.
        Playing = "playing",
        /// Paused.
        Paused = "paused",
        /// Finished.
        Completed = "completed",
        /// Failed.
        Failed = "failed",
    }
}

wire_enum! {
    /// Outbound (RTMP) stream state.
    StreamState {
        /// Streaming.
        Streaming = "streaming",
        /// Stopped normally.
        Completed = "completed",
        /// Failed.
        Failed = "failed",
    }
}

/// A code and message pair, used where an entity or event reports an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorInfo {
    /// The error code.
    pub code: Code,
    /// Human-readable text.
    #[serde(default)]
    pub message: String,
}

impl ErrorInfo {
    /// An error with the code's default message.
    pub fn from_code(code: Code) -> Self {
        ErrorInfo {
            code,
            message: code.message().into(),
        }
    }
}

/// Which media a member may send and receive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MediaAllowed {
    /// Sources the member may publish.
    #[serde(default)]
    pub send: Vec<MediaSource>,
    /// Kinds the member may receive.
    #[serde(default)]
    pub recv: Vec<MediaKind>,
}

impl MediaAllowed {
    /// Everything allowed (the default for a member whose token omits `media_allowed`).
    pub fn all() -> Self {
        MediaAllowed {
            send: vec![
                MediaSource::Microphone,
                MediaSource::Camera,
                MediaSource::Screen,
                MediaSource::ScreenAudio,
                MediaSource::Custom,
                MediaSource::Data,
            ],
            recv: vec![MediaKind::Audio, MediaKind::Video, MediaKind::Data],
        }
    }

    /// Whether `source` may be published.
    pub fn can_send(&self, source: MediaSource) -> bool {
        source != MediaSource::Unknown && self.send.contains(&source)
    }

    /// Whether `kind` may be received.
    pub fn can_recv(&self, kind: MediaKind) -> bool {
        kind != MediaKind::Unknown && self.recv.contains(&kind)
    }
}

/// A room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Room {
    /// Server id (`rm_…`).
    pub id: String,
    /// Room name (the token's `ovsp.room`).
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Entity version.
    pub version: u64,
    /// Whether the room is locked (no new joins).
    #[serde(default)]
    pub locked: bool,
    /// Name of the current layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout_name: Option<String>,
    /// Whether video-muted members are hidden from the layout.
    #[serde(default)]
    pub hide_video_muted: bool,
    /// Whether members with raised hands are placed first.
    #[serde(default)]
    pub prioritize_handraise: bool,
    /// Whether a recording is active.
    #[serde(default)]
    pub recording: bool,
    /// Whether an outbound stream is active.
    #[serde(default)]
    pub streaming: bool,
    /// Room metadata.
    #[serde(default)]
    pub meta: Meta,
    /// Maximum number of (non-audience) members, if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    /// Number of visible members.
    #[serde(default)]
    pub member_count: u32,
    /// Number of audience members.
    #[serde(default)]
    pub audience_count: u32,
    /// Creation time (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<u64>,
}

/// The changed fields of a [`Room`] (in `room.updated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomPartial {
    /// Room id.
    pub id: String,
    /// New version.
    pub version: u64,
    /// See [`Room::name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// See [`Room::display_name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// See [`Room::locked`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
    /// See [`Room::layout_name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout_name: Option<String>,
    /// See [`Room::hide_video_muted`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_video_muted: Option<bool>,
    /// See [`Room::prioritize_handraise`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prioritize_handraise: Option<bool>,
    /// See [`Room::recording`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<bool>,
    /// See [`Room::streaming`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<bool>,
    /// See [`Room::meta`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// See [`Room::max_members`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    /// See [`Room::member_count`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_count: Option<u32>,
    /// See [`Room::audience_count`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_count: Option<u32>,
}

/// Copy each `Some` field of a partial into the entity, through [`put`] and [`put_opt`].
macro_rules! apply_fields {
    ($target:ident, $p:ident; plain: $($f:ident),* ; opt: $($o:ident),* ) => {
        $( put(&mut $target.$f, &$p.$f); )*
        $( put_opt(&mut $target.$o, &$p.$o); )*
    };
}

/// Sets `dst` to a copy of `src`, if there is one: one body per field type, shared by every
/// entity's `apply`.
#[inline(never)]
fn put<T: Clone>(dst: &mut T, src: &Option<T>) {
    if let Some(v) = src {
        *dst = v.clone();
    }
}

/// Sets the optional `dst` to a copy of `src`, if there is one (see [`put`]).
#[inline(never)]
fn put_opt<T: Clone>(dst: &mut Option<T>, src: &Option<T>) {
    if src.is_some() {
        *dst = src.clone();
    }
}

impl Room {
    /// Merge a partial into this room. Returns `false` (and changes nothing) when the partial
    /// is for another id or is older than this room's version.
    pub fn apply(&mut self, p: &RoomPartial) -> bool {
        if p.id != self.id || p.version < self.version {
            return false;
        }
        apply_fields!(self, p;
            plain: name, locked, hide_video_muted, prioritize_handraise, recording, streaming,
                   meta, member_count, audience_count;
            opt: display_name, layout_name, max_members);
        self.version = p.version;
        true
    }
}

/// A member as seen by others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Member {
    /// Server id (`mem_…`).
    pub id: String,
    /// Identity (the token's `sub`), unique per room.
    pub identity: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: Role,
    /// Connection state.
    #[serde(default)]
    pub state: MemberState,
    /// Entity version.
    pub version: u64,
    /// Join time (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_at: Option<u64>,
    /// True iff the member has no microphone track that is unmuted and unblocked.
    #[serde(default)]
    pub audio_muted: bool,
    /// True iff the member has no camera track that is unmuted and unblocked.
    #[serde(default)]
    pub video_muted: bool,
    /// Whether the server forwards no audio to this member.
    #[serde(default)]
    pub deaf: bool,
    /// Whether the member is shown in the layout.
    #[serde(default = "default_true")]
    pub visible: bool,
    /// Whether the member's hand is raised.
    #[serde(default)]
    pub handraised: bool,
    /// Whether the member is currently talking.
    #[serde(default)]
    pub talking: bool,
    /// Input volume, −50..50.
    #[serde(default)]
    pub input_volume: i32,
    /// Output volume, −50..50 (advisory, applied by the member's SDK).
    #[serde(default)]
    pub output_volume: i32,
    /// Talking-detector sensitivity, 0..100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_sensitivity: Option<i32>,
    /// The layout position the member asked for (`auto` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_position: Option<String>,
    /// The layout position the member currently has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_position: Option<String>,
    /// Member metadata.
    #[serde(default)]
    pub meta: Meta,
    /// Client capabilities.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Published tracks.
    #[serde(default)]
    pub tracks: Vec<Track>,
}

/// The changed fields of a [`Member`] (in `member.updated`). Tracks change through the
/// `track.*` events, never through this partial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberPartial {
    /// Member id.
    pub id: String,
    /// New version.
    pub version: u64,
    /// See [`Member::identity`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// See [`Member::name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// See [`Member::role`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// See [`Member::state`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<MemberState>,
    /// See [`Member::audio_muted`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_muted: Option<bool>,
    /// See [`Member::video_muted`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_muted: Option<bool>,
    /// See [`Member::deaf`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deaf: Option<bool>,
    /// See [`Member::visible`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
    /// See [`Member::handraised`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handraised: Option<bool>,
    /// See [`Member::talking`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub talking: Option<bool>,
    /// See [`Member::input_volume`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_volume: Option<i32>,
    /// See [`Member::output_volume`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_volume: Option<i32>,
    /// See [`Member::input_sensitivity`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_sensitivity: Option<i32>,
    /// See [`Member::requested_position`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_position: Option<String>,
    /// See [`Member::current_position`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_position: Option<String>,
    /// See [`Member::meta`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// See [`Member::capabilities`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
}

impl Member {
    /// Merge a partial into this member. Returns `false` (and changes nothing) when the
    /// partial is for another id or is older than this member's version.
    pub fn apply(&mut self, p: &MemberPartial) -> bool {
        if p.id != self.id || p.version < self.version {
            return false;
        }
        apply_fields!(self, p;
            plain: identity, role, state, audio_muted, video_muted, deaf, visible, handraised,
                   talking, input_volume, output_volume, meta, capabilities;
            opt: name, input_sensitivity, requested_position, current_position);
        self.version = p.version;
        true
    }
}

/// The caller's own member, with its effective permissions and media rights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SelfMember {
    /// The member as others see it.
    #[serde(flatten)]
    pub member: Member,
    /// Effective permission strings.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Effective media rights.
    #[serde(default)]
    pub media_allowed: MediaAllowed,
}

impl core::ops::Deref for SelfMember {
    type Target = Member;
    fn deref(&self) -> &Member {
        &self.member
    }
}

impl core::ops::DerefMut for SelfMember {
    fn deref_mut(&mut self) -> &mut Member {
        &mut self.member
    }
}

/// One simulcast layer of a video track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackLayer {
    /// RTP stream id (`a=rid`).
    pub rid: String,
    /// Width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Maximum bitrate in bits per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bitrate: Option<u64>,
    /// Maximum frame rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fps: Option<f64>,
    /// Whether the layer is currently sent (server view; dynacast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// A published track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Track {
    /// Server id (`tr_…`).
    pub id: String,
    /// Owning member.
    pub member_id: String,
    /// The client id the owner chose in `track.publish` (sent to the owner only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// Entity version.
    pub version: u64,
    /// Kind.
    pub kind: TrackKind,
    /// Source.
    pub source: MediaSource,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Stream key: tracks sharing a key form one "stream".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_key: Option<String>,
    /// Publisher-side mute.
    #[serde(default)]
    pub muted: bool,
    /// Moderator block: the server drops this track's media.
    #[serde(default)]
    pub blocked: bool,
    /// Negotiated codec, e.g. `video/VP8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Width in pixels (video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels (video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Simulcast layers, lowest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<TrackLayer>,
    /// SVC scalability mode, e.g. `L3T3_KEY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalability_mode: Option<String>,
    /// Data handle (data tracks only; never 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_handle: Option<u16>,
    /// Whether the data track is reliable (data tracks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliable: Option<bool>,
}

/// The changed fields of a [`Track`] (in `track.updated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackPartial {
    /// Track id.
    pub id: String,
    /// New version.
    pub version: u64,
    /// See [`Track::member_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// See [`Track::name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// See [`Track::stream_key`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_key: Option<String>,
    /// See [`Track::muted`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    /// See [`Track::blocked`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<bool>,
    /// See [`Track::mime_type`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// See [`Track::width`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// See [`Track::height`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// See [`Track::layers`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<TrackLayer>>,
    /// See [`Track::scalability_mode`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalability_mode: Option<String>,
}

impl Track {
    /// Merge a partial into this track. Returns `false` (and changes nothing) when the partial
    /// is for another id or is older than this track's version.
    pub fn apply(&mut self, p: &TrackPartial) -> bool {
        if p.id != self.id || p.version < self.version {
            return false;
        }
        apply_fields!(self, p;
            plain: member_id, muted, blocked, layers;
            opt: name, stream_key, mime_type, width, height, scalability_mode);
        self.version = p.version;
        true
    }
}

/// The state of one subscription (in `sub.update` results and `sub.updated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubscriptionState {
    /// The subscribed track.
    pub track_id: String,
    /// State.
    pub state: SubState,
    /// The sub-PC mid carrying the track, once negotiated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Whether the subscriber paused it.
    #[serde(default)]
    pub paused: bool,
    /// Maximum width requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<u32>,
    /// Maximum height requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_height: Option<u32>,
    /// Maximum frame rate requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fps: Option<f64>,
    /// Priority (higher wins under congestion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// Why the subscription failed (54300, 54403 or 53404).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

/// One placed member in a layout. Geometry is normalised to 0..1 of the canvas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LayoutLayer {
    /// The member shown here (absent for an empty slot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// Position name: `auto`, `reserved-N`, `standard-N`, `off-canvas`, `playback` or
    /// `full-screen`.
    pub position: String,
    /// Left edge, 0..1.
    pub x: f64,
    /// Top edge, 0..1.
    pub y: f64,
    /// Width, 0..1.
    pub width: f64,
    /// Height, 0..1.
    pub height: f64,
    /// Stacking order (higher is on top).
    #[serde(default)]
    pub z: i32,
}

/// The room's layout: name and placed layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Layout {
    /// Layout name, e.g. `grid-responsive`.
    pub name: String,
    /// Placed members.
    #[serde(default)]
    pub layers: Vec<LayoutLayer>,
}

/// A layout the server offers (in `layout.list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LayoutInfo {
    /// Layout name.
    pub name: String,
    /// Position names this layout accepts.
    #[serde(default)]
    pub positions: Vec<String>,
}

/// A recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Recording {
    /// Server id (`rec_…`).
    pub id: String,
    /// State.
    pub state: RecordingState,
    /// Start time (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    /// End time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<u64>,
    /// Duration once ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// A media playback into the room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Playback {
    /// Server id (`pb_…`).
    pub id: String,
    /// Media URL.
    pub url: String,
    /// State.
    pub state: PlaybackState,
    /// Volume, −50..50.
    #[serde(default)]
    pub volume: f64,
    /// Current position.
    #[serde(default)]
    pub position_ms: u64,
    /// Start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    /// End time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<u64>,
}

/// An outbound RTMP(S) stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Stream {
    /// Server id (`st_…`).
    pub id: String,
    /// Destination URL (`rtmp://` or `rtmps://`).
    pub url: String,
    /// State.
    pub state: StreamState,
    /// Start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    /// End time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<u64>,
}

/// The full room state: the result of `room.join` and `room.get`, and the `snapshot` of a
/// resume that could not replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Snapshot {
    /// The session's durable-event counter at the time of the snapshot (the baseline: the
    /// next durable event has `seq + 1`).
    pub seq: u64,
    /// The room.
    pub room: Room,
    /// The caller.
    #[serde(rename = "self")]
    pub self_: SelfMember,
    /// The other visible members (audience members are never listed).
    #[serde(default)]
    pub members: Vec<Member>,
    /// The current layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<Layout>,
    /// Recordings.
    #[serde(default)]
    pub recordings: Vec<Recording>,
    /// Playbacks.
    #[serde(default)]
    pub playbacks: Vec<Playback>,
    /// Outbound streams.
    #[serde(default)]
    pub streams: Vec<Stream>,
}

/// A map from mid to the sub-PC track it carries.
pub type SubMids = crate::json::KeyMap<Option<SubMid>>;

/// What one sub-PC m-section carries (in `sub.offer`'s `mids`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubMid {
    /// The track.
    pub track_id: String,
    /// Its owner.
    pub member_id: String,
    /// Its kind.
    pub kind: TrackKind,
}
