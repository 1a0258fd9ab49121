//! Server events: the typed [`Event`] enum, one payload type per event, and the [`EVENTS`]
//! table with each event's durability and scope.
//!
//! Durable events carry a per-session `seq`, are replayed on resume and acked by the client.
//! Volatile events carry no `seq`, are never replayed and may be dropped.

use crate::prelude::*;
use serde::{Deserialize, Serialize};

use crate::json::Value;
use crate::json::{FromWire, Wire, WireError};

use crate::envelope::{DecodeError, EventEnvelope};
use crate::methods::WireType;
use crate::model::{
    ClosingReason, ErrorInfo, Layout, LeaveReason, MediaAllowed, MediaKind, Member, MemberPartial,
    PcKind, Playback, Recording, Role, RoomPartial, SessionAction, Stream, StreamStateKind,
    StreamStateReason, SubMids, SubscriptionState, Track, TrackPartial, UnpublishReason,
};

pub use crate::methods::IceCandidate;

/// Whether an event is durable (seq, replayed, acked) or volatile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Durability {
    /// Carries `seq`; replayed on resume.
    Durable,
    /// No `seq`; never replayed; may be dropped.
    Volatile,
}

/// Who receives an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every member of the room, the subject included.
    All,
    /// Every member except the subject.
    Others,
    /// Only the session the event concerns.
    SelfOnly,
    /// The listed recipients (everyone when no list).
    Recipients,
    /// The owner of the track concerned.
    Owner,
    /// The subscribers of the track concerned.
    Subscriber,
    /// The member concerned and the subscribers of its tracks.
    SelfAndSubscribers,
}

impl Scope {
    /// A short description used in the docs.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Others => "others",
            Scope::SelfOnly => "self",
            Scope::Recipients => "recipients",
            Scope::Owner => "track owner",
            Scope::Subscriber => "subscriber",
            Scope::SelfAndSubscribers => "self + subscribers",
        }
    }
}

/// One entry of the [`EVENTS`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventInfo {
    /// Wire type, e.g. `member.joined`.
    pub name: &'static str,
    /// Durability.
    pub durability: Durability,
    /// Scope.
    pub scope: Scope,
}

/// Look up an event by wire type.
pub fn event_info(name: &str) -> Option<&'static EventInfo> {
    EVENTS.iter().find(|e| e.name == name)
}

/// Visits every event payload type (for schema generation and conformance tests).
pub trait EventVisitor {
    /// Called once per event type with its payload type.
    fn visit<T: WireType>(&mut self, info: &'static EventInfo);
}

macro_rules! events {
    ($( $(#[$doc:meta])* $var:ident($ty:ty) = $name:literal, $dur:ident, $scope:ident; )*) => {
        /// A typed server event.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            $( $(#[$doc])* $var($ty), )*
            /// An event type this version does not know, or a known type whose data did not
            /// decode. Receivers ignore it.
            Unknown {
                /// The wire type.
                event_type: String,
                /// The raw data.
                data: Value,
            },
        }

        /// Every event of OVSP v1.
        pub const EVENTS: &[EventInfo] = &[
            $( EventInfo { name: $name, durability: Durability::$dur, scope: Scope::$scope }, )*
        ];

        impl Event {
            /// The wire type.
            pub fn event_type(&self) -> &str {
                match self {
                    $( Event::$var(_) => $name, )*
                    Event::Unknown { event_type, .. } => event_type,
                }
            }

            /// The payload as JSON.
            pub fn data(&self) -> Value {
                match self {
                    $( Event::$var(d) => crate::json::ToWire::to_wire(d), )*
                    Event::Unknown { data, .. } => data.clone(),
                }
            }

            /// Decode typed data, or an error (53003) for a known type whose data is invalid.
            /// Unknown types give `Ok(Event::Unknown)`.
            pub fn try_decode(event_type: &str, data: &Value) -> Result<Event, DecodeError> {
                let Some(decode) = Event::decoder(event_type) else {
                    return Ok(Event::unknown(event_type, data));
                };
                decode(data).map_err(|e| DecodeError {
                    code: crate::codes::Code::SIGNALING_INCOMING_INVALID,
                    message: crate::json::concat(&[event_type, ": ", e.message()]),
                    id: None,
                })
            }
        }

        impl Event {
            /// The payload decoder of a known event type. A table from name to decoder rather
            /// than a `match` on strings: one loop of comparisons, and no payload decoder is
            /// inlined into its caller.
            fn decoder(event_type: &str) -> Option<fn(&Value) -> Result<Event, WireError>> {
                type Decoder = fn(&Value) -> Result<Event, WireError>;
                const DECODERS: &[(&str, Decoder)] = &[
                    $( ($name, |d| decode_as(d, Event::$var)), )*
                ];
                DECODERS.iter().find(|(n, _)| *n == event_type).map(|(_, d)| *d)
            }
        }

        /// Call the visitor for every event.
        pub fn visit_events<V: EventVisitor>(v: &mut V) {
            let mut i = 0;
            $( v.visit::<$ty>(&EVENTS[i]); i += 1; )*
            let _ = i;
        }
    };
}

events! {
    /// `room.updated`: room fields changed.
    RoomUpdated(RoomUpdated) = "room.updated", Durable, All;
    /// `room.audience_count`: audience size (at most once per second).
    RoomAudienceCount(RoomAudienceCount) = "room.audience_count", Volatile, All;
    /// `layout.changed`: the layout or its assignments changed.
    LayoutChanged(LayoutChanged) = "layout.changed", Durable, All;
    /// `member.joined`: a member became visible (joined, or was promoted).
    MemberJoined(MemberJoined) = "member.joined", Durable, Others;
    /// `member.updated`: member fields changed (self included).
    MemberUpdated(MemberUpdated) = "member.updated", Durable, All;
    /// `member.left`: a member left or became invisible.
    MemberLeft(MemberLeft) = "member.left", Durable, Others;
    /// `member.talking`: talking started or stopped.
    MemberTalking(MemberTalking) = "member.talking", Volatile, All;
    /// `room.speakers`: speaker levels (at most 5 per second, changes only).
    RoomSpeakers(RoomSpeakers) = "room.speakers", Volatile, All;
    /// `member.network_quality`: a member's network quality level.
    MemberNetworkQuality(MemberNetworkQuality) = "member.network_quality", Volatile, SelfAndSubscribers;
    /// `self.permissions_changed`: the caller's role, permissions or media rights changed.
    SelfPermissionsChanged(SelfPermissionsChanged) = "self.permissions_changed", Durable, SelfOnly;
    /// `self.unmute_requested`: a moderator asks the caller to unmute.
    SelfUnmuteRequested(SelfUnmuteRequested) = "self.unmute_requested", Durable, SelfOnly;
    /// `track.published`: a track is live (the owner receives it too).
    TrackPublished(TrackPublished) = "track.published", Durable, All;
    /// `track.updated`: track fields changed.
    TrackUpdated(TrackUpdated) = "track.updated", Durable, All;
    /// `track.unpublished`: a track is gone.
    TrackUnpublished(TrackUnpublished) = "track.unpublished", Durable, All;
    /// `track.layers_requested`: which simulcast layers to send (dynacast).
    TrackLayersRequested(TrackLayersRequested) = "track.layers_requested", Durable, Owner;
    /// `track.subscribed`: subscriber count crossed 0↔1.
    TrackSubscribed(TrackSubscribed) = "track.subscribed", Durable, Owner;
    /// `track.stream_state`: a subscribed track was switched on or off.
    TrackStreamState(TrackStreamState) = "track.stream_state", Durable, Subscriber;
    /// `sub.offer`: an offer for the sub PC (answer with `sub.answer`).
    SubOffer(SubOffer) = "sub.offer", Durable, SelfOnly;
    /// `pub.ice_restart_requested`: the client should send an ICE-restart `pub.offer`.
    PubIceRestartRequested(PubIceRestartRequested) = "pub.ice_restart_requested", Durable, SelfOnly;
    /// `sub.updated`: subscription states changed.
    SubUpdated(SubUpdated) = "sub.updated", Durable, SelfOnly;
    /// `ice.candidate`: a server ICE candidate.
    IceCandidate(IceCandidate) = "ice.candidate", Volatile, SelfOnly;
    /// `recording.started`.
    RecordingStarted(RecordingEvent) = "recording.started", Durable, All;
    /// `recording.updated`.
    RecordingUpdated(RecordingEvent) = "recording.updated", Durable, All;
    /// `recording.ended`.
    RecordingEnded(RecordingEvent) = "recording.ended", Durable, All;
    /// `playback.started`.
    PlaybackStarted(PlaybackEvent) = "playback.started", Durable, All;
    /// `playback.updated`.
    PlaybackUpdated(PlaybackEvent) = "playback.updated", Durable, All;
    /// `playback.ended`.
    PlaybackEnded(PlaybackEvent) = "playback.ended", Durable, All;
    /// `stream.started`.
    StreamStarted(StreamEvent) = "stream.started", Durable, All;
    /// `stream.ended`.
    StreamEnded(StreamEvent) = "stream.ended", Durable, All;
    /// `message.received`: an application message.
    MessageReceived(MessageReceived) = "message.received", Durable, Recipients;
    /// `session.token`: a fresh server-issued access token.
    SessionToken(SessionToken) = "session.token", Durable, SelfOnly;
    /// `session.closing`: the server is about to close the session.
    SessionClosing(SessionClosing) = "session.closing", Durable, SelfOnly;
}

/// Decode one event payload type and wrap it: inlined into the decoder table's entry of each
/// event, which then builds its variant directly (no shared body calling a constructor
/// through a pointer).
#[inline]
fn decode_as<T: FromWire>(data: &Value, wrap: fn(T) -> Event) -> Result<Event, WireError> {
    T::from_wire(data).map(wrap)
}

impl Event {
    /// Decode typed data; unknown types and invalid data give [`Event::Unknown`].
    pub fn decode(event_type: &str, data: &Value) -> Event {
        // Not through `try_decode`: the error it would build is not wanted here.
        match Event::decoder(event_type).map(|decode| decode(data)) {
            Some(Ok(e)) => e,
            _ => Event::unknown(event_type, data),
        }
    }

    /// [`Event::Unknown`] with a copy of the type and data.
    #[inline(never)]
    fn unknown(event_type: &str, data: &Value) -> Event {
        Event::Unknown {
            event_type: event_type.into(),
            data: data.clone(),
        }
    }

    /// Durability from the [`EVENTS`] table; unknown events count as volatile.
    pub fn durability(&self) -> Durability {
        event_info(self.event_type())
            .map(|i| i.durability)
            .unwrap_or(Durability::Volatile)
    }

    /// Scope from the [`EVENTS`] table (`None` for unknown events).
    pub fn scope(&self) -> Option<Scope> {
        event_info(self.event_type()).map(|i| i.scope)
    }

    /// Wrap in an envelope. Pass `seq` for durable events and `None` for volatile ones.
    pub fn to_envelope(&self, ts: u64, seq: Option<u64>) -> EventEnvelope {
        EventEnvelope {
            event_type: self.event_type().into(),
            ts,
            seq,
            data: self.data(),
        }
    }
}

/// `room.updated` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomUpdated {
    /// The changed fields.
    pub room: RoomPartial,
    /// Names of the changed fields.
    #[serde(default)]
    pub updated: Vec<String>,
    /// Member who made the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// `room.audience_count` data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomAudienceCount {
    /// Audience members in the room.
    pub total: u32,
}

/// `layout.changed` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LayoutChanged {
    /// The new layout.
    pub layout: Layout,
}

/// `member.joined` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberJoined {
    /// The member.
    pub member: Member,
}

/// `member.updated` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberUpdated {
    /// The changed fields.
    pub member: MemberPartial,
    /// Names of the changed fields.
    #[serde(default)]
    pub updated: Vec<String>,
    /// Member who made the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// `member.left` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberLeft {
    /// The member.
    pub member_id: String,
    /// Why.
    pub reason: LeaveReason,
    /// Member who caused it (e.g. the remover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// `member.talking` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberTalking {
    /// The member.
    pub member_id: String,
    /// Talking or not.
    pub talking: bool,
}

/// One speaker in `room.speakers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Speaker {
    /// The member.
    pub member_id: String,
    /// Audio level, 0..1.
    pub level: f64,
    /// Whether the member counts as speaking.
    pub active: bool,
}

/// `room.speakers` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomSpeakers {
    /// Speakers, loudest first.
    pub speakers: Vec<Speaker>,
}

/// `member.network_quality` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MemberNetworkQuality {
    /// The member.
    pub member_id: String,
    /// Quality level, 0 (none) to 5 (excellent).
    pub level: u8,
    /// The PC measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pc: Option<PcKind>,
}

/// `self.permissions_changed` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SelfPermissionsChanged {
    /// The new role.
    pub role: Role,
    /// The new effective permissions.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// The new media rights.
    #[serde(default)]
    pub media_allowed: MediaAllowed,
    /// After promotion: start with audio muted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_audio_muted: Option<bool>,
    /// After promotion: start with video muted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_video_muted: Option<bool>,
}

/// `self.unmute_requested` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SelfUnmuteRequested {
    /// `audio` or `video`.
    pub kind: MediaKind,
    /// The member asking.
    pub by: String,
}

/// `track.published` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackPublished {
    /// The track.
    pub track: Track,
}

/// `track.updated` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackUpdated {
    /// The changed fields.
    pub track: TrackPartial,
    /// Names of the changed fields.
    #[serde(default)]
    pub updated: Vec<String>,
    /// Member who made the change (e.g. the moderator who blocked it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// `track.unpublished` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackUnpublished {
    /// The track.
    pub track_id: String,
    /// Its owner.
    pub member_id: String,
    /// Why.
    pub reason: UnpublishReason,
}

/// One layer switch in `track.layers_requested`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LayerRequest {
    /// RTP stream id.
    pub rid: String,
    /// Whether to send this layer.
    pub active: bool,
}

/// `track.layers_requested` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackLayersRequested {
    /// The track.
    pub track_id: String,
    /// Layers to switch.
    pub layers: Vec<LayerRequest>,
}

/// `track.subscribed` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackSubscribed {
    /// The track.
    pub track_id: String,
    /// Number of subscribers.
    pub subscriber_count: u32,
}

/// `track.stream_state` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrackStreamState {
    /// The track.
    pub track_id: String,
    /// On or off.
    pub state: StreamStateKind,
    /// Why (when paused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<StreamStateReason>,
}

/// `sub.offer` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubOffer {
    /// Offer id, increasing.
    pub offer_id: u32,
    /// The SDP offer.
    pub sdp: String,
    /// Whether this is an ICE-restart offer.
    #[serde(default)]
    pub ice_restart: bool,
    /// True after `sub.reset`: apply to a fresh sub PC.
    #[serde(default)]
    pub reset: bool,
    /// Every audio/video m-section: what it carries, or `null` when inactive.
    #[serde(default)]
    pub mids: SubMids,
}

/// `pub.ice_restart_requested` data (empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PubIceRestartRequested {}

/// `sub.updated` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubUpdated {
    /// Changed subscription states.
    pub subscriptions: Vec<SubscriptionState>,
}

/// `recording.*` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RecordingEvent {
    /// The recording.
    pub recording: Recording,
}

/// `playback.*` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlaybackEvent {
    /// The playback.
    pub playback: Playback,
}

/// `stream.*` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StreamEvent {
    /// The stream.
    pub stream: Stream,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

/// `message.received` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MessageReceived {
    /// Server message id.
    pub message_id: String,
    /// Sender.
    pub from_member_id: String,
    /// Recipients, if the sender listed them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    /// Topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The payload.
    pub payload: Value,
    /// Server time of the message.
    pub ts: u64,
}

/// `session.token` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SessionToken {
    /// A fresh access token for a later full rejoin.
    pub token: String,
    /// When it expires (ms since the Unix epoch).
    pub expires_at: u64,
}

/// `session.closing` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SessionClosing {
    /// Why.
    pub reason: ClosingReason,
    /// The error to surface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// What the client does next.
    pub action: SessionAction,
    /// Wait before reconnecting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// Where to reconnect (for `resume`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}
