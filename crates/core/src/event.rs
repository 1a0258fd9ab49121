//! The one SDK event enum, [`CoreEvent`], and the connection state.
//!
//! Facade names for each event are derived in [`crate::catalogue`].

use crate::prelude::*;
use ovsp::codes::Code;
use ovsp::json::Value;
use ovsp::model::{
    ClosingReason, Layout, LeaveReason, MediaAllowed, Member, Playback, Recording, Role, Room,
    SessionAction, Stream, StreamStateKind, StreamStateReason, SubscriptionState, Track, TrackKind,
    UnpublishReason,
};
use serde::Serialize;

use crate::io::MediaChange;
use crate::CoreError;

/// The connection state of a session (B4.6).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// Created; `join` not called yet.
    New,
    /// Opening the socket, connecting and joining.
    Connecting,
    /// Joined; signaling and media healthy.
    Connected,
    /// Recovering. `cause` is 53001 (signaling) or 53405 (media).
    Reconnecting {
        /// Why.
        cause: Code,
    },
    /// Finished. `error` is `None` after a normal leave.
    Disconnected {
        /// Why, if abnormal.
        error: Option<CoreError>,
    },
}

impl ConnectionState {
    /// The lower-case state name: `new`, `connecting`, `connected`, `reconnecting`,
    /// `disconnected`.
    pub fn name(&self) -> &'static str {
        match self {
            ConnectionState::New => "new",
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
            ConnectionState::Reconnecting { .. } => "reconnecting",
            ConnectionState::Disconnected { .. } => "disconnected",
        }
    }

    /// The same state (and cause or error code): what decides whether a change is reported.
    /// Cheaper than `==`, which also compares error texts.
    pub(crate) fn same(&self, other: &ConnectionState) -> bool {
        let code = |s: &ConnectionState| match s {
            ConnectionState::Reconnecting { cause } => Some(*cause),
            ConnectionState::Disconnected { error } => error.as_ref().map(CoreError::code),
            _ => None,
        };
        core::mem::discriminant(self) == core::mem::discriminant(other) && code(self) == code(other)
    }
}

/// One entry of `room.speakers` (`member_id`, `level` 0..1, `active`): the protocol's own
/// entry, so the server's list is reported as it arrived.
pub use ovsp::events::Speaker;

/// How an access-list entry changed (Calls `user:add` / `user:mod` / `user:del`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AclChange {
    /// Identities newly added to the access list.
    Added,
    /// Existing entries modified.
    Modified,
    /// Identities removed.
    Removed,
}

/// Every fact the SDK reports to applications, independent of facade naming.
///
/// Ordering: events appear in the order the machine learned the facts. Events caused by a
/// server request precede that request's [`crate::Output::Completed`], because the server sends
/// durable events before the response (B3.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CoreEvent {
    /// The connection state changed (every transition, including to `connecting`).
    ConnectionStateChanged {
        /// The new state.
        state: ConnectionState,
    },
    /// The join snapshot was applied; `getState()` now holds the room. Fires once per
    /// session (not after resumes or rejoins).
    RoomJoined {
        /// The room.
        room: Room,
        /// The local member id.
        member_id: String,
    },
    /// The session has ended (after `leave`, a server-initiated end, or unrecoverable loss).
    /// Fires once, after the final [`CoreEvent::ConnectionStateChanged`].
    RoomLeft {
        /// Why the server ended the session, if it did.
        reason: Option<ClosingReason>,
        /// The error, if the end was abnormal.
        error: Option<CoreError>,
    },
    /// Signaling or media was lost; the SDK is recovering.
    Reconnecting {
        /// 53001 (signaling) or 53405 (media).
        error: CoreError,
    },
    /// Recovered after [`CoreEvent::Reconnecting`] (resume, ICE restart or full rejoin). After
    /// a resume it follows the replayed events (or the snapshot's synthetic ones), so the state
    /// has converged when it fires.
    Reconnected,
    /// The server announced the end of this session (`session.closing`), before the socket
    /// closes.
    SessionClosing {
        /// Why.
        reason: ClosingReason,
        /// What the client does next.
        action: SessionAction,
        /// The error detail.
        error: Option<CoreError>,
    },
    /// Room properties changed.
    RoomUpdated {
        /// The room after the change.
        room: Room,
        /// Changed field names (snake_case).
        updated: Vec<String>,
    },
    /// The audience count changed.
    AudienceCount {
        /// Audience members.
        total: u32,
    },
    /// The layout changed.
    LayoutChanged {
        /// The new layout.
        layout: Layout,
    },
    /// Another member became visible.
    MemberJoined {
        /// The member.
        member: Member,
    },
    /// A member (possibly the local one) changed.
    MemberUpdated {
        /// The member after the change.
        member: Member,
        /// Changed field names (snake_case).
        updated: Vec<String>,
        /// Who caused it.
        by: Option<String>,
        /// Whether it is the local member.
        local: bool,
    },
    /// Another member left.
    MemberLeft {
        /// The member as last known.
        member: Member,
        /// Why.
        reason: LeaveReason,
        /// Who caused it.
        by: Option<String>,
    },
    /// A member started or stopped talking.
    MemberTalking {
        /// The member.
        member_id: String,
        /// Talking or not.
        talking: bool,
    },
    /// Audio levels of the current speakers changed.
    SpeakersChanged {
        /// The speakers.
        speakers: Vec<Speaker>,
    },
    /// The loudest active speaker changed (derived from `room.speakers`).
    DominantSpeakerChanged {
        /// The new dominant speaker, or `None`.
        member_id: Option<String>,
    },
    /// A member's network quality level changed.
    NetworkQuality {
        /// The member.
        member_id: String,
        /// 0..5.
        level: u8,
        /// Whether it is the local member.
        local: bool,
    },
    /// The local member's role, permissions or media rights changed.
    PermissionsChanged {
        /// Role.
        role: Role,
        /// Permissions.
        permissions: Vec<String>,
        /// Media rights.
        media_allowed: MediaAllowed,
    },
    /// A moderator asks the local member to unmute.
    UnmuteRequested {
        /// Audio or video.
        kind: TrackKind,
        /// Who asks.
        by: Option<String>,
    },
    /// A track is live (local or remote).
    TrackPublished {
        /// The track.
        track: Track,
        /// Whether it is a local track.
        local: bool,
    },
    /// A track changed (`muted`, `blocked`, name, dimensions, layers).
    TrackUpdated {
        /// The track after the change.
        track: Track,
        /// Changed field names.
        updated: Vec<String>,
        /// Who caused it.
        by: Option<String>,
        /// Whether it is a local track.
        local: bool,
    },
    /// A track is gone.
    TrackUnpublished {
        /// The track as last known.
        track: Track,
        /// Why.
        reason: UnpublishReason,
        /// Whether it is a local track.
        local: bool,
    },
    /// Publishing a local track failed.
    TrackPublishFailed {
        /// The client track id.
        cid: String,
        /// Why.
        error: CoreError,
    },
    /// The first track of a (member, stream_key) group was published (Telnyx stream).
    StreamPublished {
        /// Owner.
        member_id: String,
        /// Stream key.
        stream_key: String,
        /// Whether it is local.
        local: bool,
    },
    /// The last track of a (member, stream_key) group was unpublished.
    StreamUnpublished {
        /// Owner.
        member_id: String,
        /// Stream key.
        stream_key: String,
        /// Whether it is local.
        local: bool,
    },
    /// The server asks the publisher to enable or disable simulcast layers.
    LayersRequested {
        /// The local track.
        track_id: String,
        /// Its cid, when known.
        cid: Option<String>,
        /// `[{rid, active}]`.
        layers: Value,
    },
    /// The number of subscribers of a local track changed between 0 and ≥ 1.
    SubscriberCountChanged {
        /// The local track.
        track_id: String,
        /// Subscribers.
        subscriber_count: u32,
    },
    /// A subscribed track was switched on or off by the server.
    TrackSwitched {
        /// The track.
        track_id: String,
        /// Active or paused.
        state: StreamStateKind,
        /// Why.
        reason: Option<StreamStateReason>,
    },
    /// A subscription became active.
    SubscriptionStarted {
        /// Its state.
        subscription: SubscriptionState,
        /// The track, when known.
        track: Option<Track>,
    },
    /// An active subscription's settings or pause state changed.
    SubscriptionReconfigured {
        /// Its state.
        subscription: SubscriptionState,
        /// The track, when known.
        track: Option<Track>,
    },
    /// A subscription ended.
    SubscriptionEnded {
        /// The last state.
        subscription: SubscriptionState,
        /// The track, when known.
        track: Option<Track>,
    },
    /// A subscription failed.
    SubscriptionFailed {
        /// Its state (with `error`).
        subscription: SubscriptionState,
        /// The track, when known.
        track: Option<Track>,
    },
    /// Remote media for a subscribed track arrived on the sub PC.
    RemoteTrackAttached {
        /// The sub-PC mid.
        mid: String,
        /// The track.
        track_id: String,
        /// Its owner.
        member_id: String,
        /// Its kind.
        kind: TrackKind,
    },
    /// A media-level change of a local or remote track (started, stopped, dimensions).
    MediaChanged {
        /// Local cid, for a local track.
        cid: Option<String>,
        /// The server track id, when known.
        track_id: Option<String>,
        /// The owner, when known.
        member_id: Option<String>,
        /// Whether it is local.
        local: bool,
        /// What changed.
        change: MediaChange,
    },
    /// A recording started.
    RecordingStarted {
        /// The recording.
        recording: Recording,
    },
    /// A recording changed state.
    RecordingUpdated {
        /// The recording.
        recording: Recording,
    },
    /// A recording ended.
    RecordingEnded {
        /// The recording.
        recording: Recording,
    },
    /// A playback started.
    PlaybackStarted {
        /// The playback.
        playback: Playback,
    },
    /// A playback changed.
    PlaybackUpdated {
        /// The playback.
        playback: Playback,
    },
    /// A playback ended.
    PlaybackEnded {
        /// The playback.
        playback: Playback,
    },
    /// An outbound RTMP stream started.
    RtmpStreamStarted {
        /// The stream.
        stream: Stream,
    },
    /// An outbound RTMP stream ended.
    RtmpStreamEnded {
        /// The stream.
        stream: Stream,
        /// Why, if it failed.
        error: Option<CoreError>,
    },
    /// An application message arrived (`message.received`).
    MessageReceived {
        /// Server message id.
        message_id: String,
        /// Sender.
        from_member_id: String,
        /// Recipients (`None` = everyone).
        to: Option<Vec<String>>,
        /// Topic.
        topic: Option<String>,
        /// Payload.
        payload: Value,
        /// Server time.
        ts: u64,
    },
    /// A data-track frame arrived.
    DataReceived {
        /// The data track.
        track_id: Option<String>,
        /// Its owner.
        member_id: Option<String>,
        /// The data handle.
        data_handle: u16,
        /// Payload bytes.
        payload: Vec<u8>,
    },
    /// The server pushed a fresh token (kept for later full rejoins).
    TokenRefreshed {
        /// Expiry (ms since the Unix epoch).
        expires_at: u64,
    },
    /// The room's access list changed through `room.acl.update`.
    AclUpdated {
        /// How.
        change: AclChange,
        /// Which identities.
        identities: Vec<String>,
    },
}

impl CoreEvent {
    /// The snake_case variant name (the `type` tag when serialised), e.g. `"member_joined"`.
    pub fn kind(&self) -> &'static str {
        match self {
            CoreEvent::ConnectionStateChanged { .. } => "connection_state_changed",
            CoreEvent::RoomJoined { .. } => "room_joined",
            CoreEvent::RoomLeft { .. } => "room_left",
            CoreEvent::Reconnecting { .. } => "reconnecting",
            CoreEvent::Reconnected => "reconnected",
            CoreEvent::SessionClosing { .. } => "session_closing",
            CoreEvent::RoomUpdated { .. } => "room_updated",
            CoreEvent::AudienceCount { .. } => "audience_count",
            CoreEvent::LayoutChanged { .. } => "layout_changed",
            CoreEvent::MemberJoined { .. } => "member_joined",
            CoreEvent::MemberUpdated { .. } => "member_updated",
            CoreEvent::MemberLeft { .. } => "member_left",
            CoreEvent::MemberTalking { .. } => "member_talking",
            CoreEvent::SpeakersChanged { .. } => "speakers_changed",
            CoreEvent::DominantSpeakerChanged { .. } => "dominant_speaker_changed",
            CoreEvent::NetworkQuality { .. } => "network_quality",
            CoreEvent::PermissionsChanged { .. } => "permissions_changed",
            CoreEvent::UnmuteRequested { .. } => "unmute_requested",
            CoreEvent::TrackPublished { .. } => "track_published",
            CoreEvent::TrackUpdated { .. } => "track_updated",
            CoreEvent::TrackUnpublished { .. } => "track_unpublished",
            CoreEvent::TrackPublishFailed { .. } => "track_publish_failed",
            CoreEvent::StreamPublished { .. } => "stream_published",
            CoreEvent::StreamUnpublished { .. } => "stream_unpublished",
            CoreEvent::LayersRequested { .. } => "layers_requested",
            CoreEvent::SubscriberCountChanged { .. } => "subscriber_count_changed",
            CoreEvent::TrackSwitched { .. } => "track_switched",
            CoreEvent::SubscriptionStarted { .. } => "subscription_started",
            CoreEvent::SubscriptionReconfigured { .. } => "subscription_reconfigured",
            CoreEvent::SubscriptionEnded { .. } => "subscription_ended",
            CoreEvent::SubscriptionFailed { .. } => "subscription_failed",
            CoreEvent::RemoteTrackAttached { .. } => "remote_track_attached",
            CoreEvent::MediaChanged { .. } => "media_changed",
            CoreEvent::RecordingStarted { .. } => "recording_started",
            CoreEvent::RecordingUpdated { .. } => "recording_updated",
            CoreEvent::RecordingEnded { .. } => "recording_ended",
            CoreEvent::PlaybackStarted { .. } => "playback_started",
            CoreEvent::PlaybackUpdated { .. } => "playback_updated",
            CoreEvent::PlaybackEnded { .. } => "playback_ended",
            CoreEvent::RtmpStreamStarted { .. } => "rtmp_stream_started",
            CoreEvent::RtmpStreamEnded { .. } => "rtmp_stream_ended",
            CoreEvent::MessageReceived { .. } => "message_received",
            CoreEvent::DataReceived { .. } => "data_received",
            CoreEvent::TokenRefreshed { .. } => "token_refreshed",
            CoreEvent::AclUpdated { .. } => "acl_updated",
        }
    }
}
