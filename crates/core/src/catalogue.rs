//! The event catalogue: how each [`CoreEvent`] is named by each facade.
//!
//! - `RoomSession` (SignalWire names): [`room_session_names`]; `member.updated` fans out into
//!   `member.updated.<camelCaseField>` for every field in `updated`.
//! - `Room` (Telnyx names): [`room_names`].
//! - `Call` (Calls API names): [`call_names`].
//! - Twilio-style objects: [`twilio_names`], which says which object emits which name.
//!
//! The `*_EVENTS` tables list every name a facade can emit, for the TypeScript event maps;
//! a test checks that every name in the seed documents is in them and is produced by the
//! mapping functions.

use ovsp::model::{ClosingReason, LeaveReason, MemberState};
use serde::Serialize;

use crate::event::{AclChange, CoreEvent};
use crate::io::MediaChange;

/// Member fields whose `member.updated.<field>` names are listed in
/// [`ROOM_SESSION_EVENTS`] (any other field in `updated` fans out the same way).
pub const MEMBER_FIELDS: &[&str] = &[
    "audio_muted",
    "video_muted",
    "deaf",
    "on_hold",
    "visible",
    "input_volume",
    "output_volume",
    "input_sensitivity",
    "handraised",
    "name",
    "meta",
    "state",
    "role",
    "requested_position",
    "current_position",
];

/// Every name the `RoomSession` facade emits (fan-out names for [`MEMBER_FIELDS`]).
pub const ROOM_SESSION_EVENTS: &[&str] = &[
    "call.state",
    "room.started",
    "room.joined",
    "room.updated",
    "room.ended",
    "room.left",
    "room.audience_count",
    "layout.changed",
    "member.joined",
    "member.left",
    "member.talking",
    "member.talking.started",
    "member.talking.ended",
    "member.updated",
    "member.updated.audioMuted",
    "member.updated.videoMuted",
    "member.updated.deaf",
    "member.updated.onHold",
    "member.updated.visible",
    "member.updated.inputVolume",
    "member.updated.outputVolume",
    "member.updated.inputSensitivity",
    "member.updated.handraised",
    "member.updated.name",
    "member.updated.meta",
    "member.updated.state",
    "member.updated.role",
    "member.updated.requestedPosition",
    "member.updated.currentPosition",
    "recording.started",
    "recording.updated",
    "recording.ended",
    "playback.started",
    "playback.updated",
    "playback.ended",
    "stream.started",
    "stream.ended",
];

/// Every name the Telnyx-style `Room` facade emits.
pub const ROOM_EVENTS: &[&str] = &[
    "state_changed",
    "connected",
    "disconnected",
    "participant_joined",
    "participant_leaving",
    "participant_left",
    "stream_published",
    "stream_unpublished",
    "track_enabled",
    "track_disabled",
    "track_censored",
    "track_uncensored",
    "audio_activity",
    "subscription_started",
    "subscription_reconfigured",
    "subscription_ended",
    "message_received",
    "network_metrics_report",
];

/// Every name the `Call` facade emits.
pub const CALL_EVENTS: &[&str] = &[
    "user:join",
    "user:leave",
    "user:add",
    "user:del",
    "user:mod",
    "track:add",
    "track:del",
    "track:mute",
    "cnl:config",
    "cnl:delete",
];

/// The Twilio-style object that emits an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum TwilioObject {
    /// `Room`.
    Room,
    /// `LocalParticipant`.
    LocalParticipant,
    /// `RemoteParticipant` (the one the event concerns).
    RemoteParticipant,
    /// A local track (`LocalAudioTrack`, `LocalVideoTrack`, `LocalDataTrack`).
    LocalTrack,
    /// A remote track (`RemoteAudioTrack`, `RemoteVideoTrack`, `RemoteDataTrack`).
    RemoteTrack,
    /// A `LocalTrackPublication`.
    LocalTrackPublication,
    /// A `RemoteTrackPublication`.
    RemoteTrackPublication,
}

use TwilioObject as T;

/// Every (object, name) pair the Twilio-style objects emit.
pub const TWILIO_EVENTS: &[(TwilioObject, &str)] = &[
    (T::Room, "disconnected"),
    (T::Room, "reconnecting"),
    (T::Room, "reconnected"),
    (T::Room, "participantConnected"),
    (T::Room, "participantDisconnected"),
    (T::Room, "participantReconnecting"),
    (T::Room, "participantReconnected"),
    (T::Room, "dominantSpeakerChanged"),
    (T::Room, "recordingStarted"),
    (T::Room, "recordingStopped"),
    (T::Room, "trackPublished"),
    (T::Room, "trackUnpublished"),
    (T::Room, "trackSubscribed"),
    (T::Room, "trackUnsubscribed"),
    (T::Room, "trackSubscriptionFailed"),
    (T::Room, "trackAdded"),
    (T::Room, "trackRemoved"),
    (T::Room, "trackEnabled"),
    (T::Room, "trackDisabled"),
    (T::Room, "trackStarted"),
    (T::Room, "trackDimensionsChanged"),
    (T::Room, "trackMessage"),
    (T::Room, "trackSwitchedOff"),
    (T::Room, "trackSwitchedOn"),
    (T::LocalParticipant, "disconnected"),
    (T::LocalParticipant, "networkQualityLevelChanged"),
    (T::LocalParticipant, "trackAdded"),
    (T::LocalParticipant, "trackRemoved"),
    (T::LocalParticipant, "trackPublished"),
    (T::LocalParticipant, "trackPublicationFailed"),
    (T::LocalParticipant, "trackEnabled"),
    (T::LocalParticipant, "trackDisabled"),
    (T::LocalParticipant, "trackStarted"),
    (T::LocalParticipant, "trackStopped"),
    (T::LocalParticipant, "trackDimensionsChanged"),
    (T::RemoteParticipant, "disconnected"),
    (T::RemoteParticipant, "reconnecting"),
    (T::RemoteParticipant, "reconnected"),
    (T::RemoteParticipant, "networkQualityLevelChanged"),
    (T::RemoteParticipant, "trackPublished"),
    (T::RemoteParticipant, "trackUnpublished"),
    (T::RemoteParticipant, "trackSubscribed"),
    (T::RemoteParticipant, "trackUnsubscribed"),
    (T::RemoteParticipant, "trackSubscriptionFailed"),
    (T::RemoteParticipant, "trackAdded"),
    (T::RemoteParticipant, "trackRemoved"),
    (T::RemoteParticipant, "trackEnabled"),
    (T::RemoteParticipant, "trackDisabled"),
    (T::RemoteParticipant, "trackStarted"),
    (T::RemoteParticipant, "trackDimensionsChanged"),
    (T::RemoteParticipant, "trackMessage"),
    (T::RemoteParticipant, "trackSwitchedOff"),
    (T::RemoteParticipant, "trackSwitchedOn"),
    (T::LocalTrack, "enabled"),
    (T::LocalTrack, "disabled"),
    (T::LocalTrack, "started"),
    (T::LocalTrack, "stopped"),
    (T::LocalTrack, "dimensionsChanged"),
    (T::RemoteTrack, "enabled"),
    (T::RemoteTrack, "disabled"),
    (T::RemoteTrack, "started"),
    (T::RemoteTrack, "dimensionsChanged"),
    (T::RemoteTrack, "unsubscribed"),
    (T::RemoteTrack, "message"),
    (T::RemoteTrack, "switchedOff"),
    (T::RemoteTrack, "switchedOn"),
    (T::LocalTrackPublication, "trackEnabled"),
    (T::LocalTrackPublication, "trackDisabled"),
    (T::RemoteTrackPublication, "subscribed"),
    (T::RemoteTrackPublication, "unsubscribed"),
    (T::RemoteTrackPublication, "subscriptionFailed"),
    (T::RemoteTrackPublication, "trackEnabled"),
    (T::RemoteTrackPublication, "trackDisabled"),
    (T::RemoteTrackPublication, "trackSwitchedOff"),
    (T::RemoteTrackPublication, "trackSwitchedOn"),
];

/// `snake_case` → `camelCase` (`audio_muted` → `audioMuted`).
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The SignalWire `RoomSession` names of `ev`, in emission order.
pub fn room_session_names(ev: &CoreEvent) -> Vec<String> {
    let fixed = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match ev {
        CoreEvent::ConnectionStateChanged { .. } => fixed(&["call.state"]),
        CoreEvent::RoomJoined { .. } => fixed(&["room.started", "room.joined"]),
        CoreEvent::RoomLeft { .. } => fixed(&["room.left"]),
        CoreEvent::SessionClosing {
            reason: ClosingReason::RoomEnded,
            ..
        } => fixed(&["room.ended"]),
        CoreEvent::RoomUpdated { .. } => fixed(&["room.updated"]),
        CoreEvent::AudienceCount { .. } => fixed(&["room.audience_count"]),
        CoreEvent::LayoutChanged { .. } => fixed(&["layout.changed"]),
        CoreEvent::MemberJoined { .. } => fixed(&["member.joined"]),
        CoreEvent::MemberLeft { .. } => fixed(&["member.left"]),
        CoreEvent::MemberTalking { talking, .. } => fixed(&[
            "member.talking",
            if *talking {
                "member.talking.started"
            } else {
                "member.talking.ended"
            },
        ]),
        CoreEvent::MemberUpdated { updated, .. } => {
            let mut v = vec!["member.updated".to_owned()];
            v.extend(
                updated
                    .iter()
                    .map(|f| format!("member.updated.{}", camel_case(f))),
            );
            v
        }
        CoreEvent::RecordingStarted { .. } => fixed(&["recording.started"]),
        CoreEvent::RecordingUpdated { .. } => fixed(&["recording.updated"]),
        CoreEvent::RecordingEnded { .. } => fixed(&["recording.ended"]),
        CoreEvent::PlaybackStarted { .. } => fixed(&["playback.started"]),
        CoreEvent::PlaybackUpdated { .. } => fixed(&["playback.updated"]),
        CoreEvent::PlaybackEnded { .. } => fixed(&["playback.ended"]),
        CoreEvent::RtmpStreamStarted { .. } => fixed(&["stream.started"]),
        CoreEvent::RtmpStreamEnded { .. } => fixed(&["stream.ended"]),
        _ => Vec::new(),
    }
}

/// The Telnyx `Room` names of `ev`, in emission order.
pub fn room_names(ev: &CoreEvent) -> Vec<&'static str> {
    match ev {
        CoreEvent::ConnectionStateChanged { .. } => vec!["state_changed"],
        CoreEvent::RoomJoined { .. } => vec!["connected"],
        CoreEvent::RoomLeft { .. } => vec!["disconnected"],
        CoreEvent::SessionClosing {
            reason: ClosingReason::Removed,
            ..
        } => vec!["participant_leaving"],
        CoreEvent::MemberJoined { .. } => vec!["participant_joined", "state_changed"],
        CoreEvent::MemberLeft { reason, .. } => {
            if *reason == LeaveReason::Removed {
                vec!["participant_leaving", "participant_left", "state_changed"]
            } else {
                vec!["participant_left", "state_changed"]
            }
        }
        CoreEvent::StreamPublished { .. } => vec!["stream_published", "state_changed"],
        CoreEvent::StreamUnpublished { .. } => vec!["stream_unpublished", "state_changed"],
        CoreEvent::TrackUpdated { track, updated, .. } => {
            let mut v = Vec::new();
            if updated.iter().any(|f| f == "muted") {
                v.push(if track.muted {
                    "track_disabled"
                } else {
                    "track_enabled"
                });
            }
            if updated.iter().any(|f| f == "blocked") {
                v.push(if track.blocked {
                    "track_censored"
                } else {
                    "track_uncensored"
                });
            }
            v
        }
        CoreEvent::MemberTalking { talking: true, .. } => vec!["audio_activity"],
        CoreEvent::SubscriptionStarted { .. } => vec!["subscription_started"],
        CoreEvent::SubscriptionReconfigured { .. } => vec!["subscription_reconfigured"],
        CoreEvent::SubscriptionEnded { .. } => vec!["subscription_ended"],
        CoreEvent::MessageReceived { .. } => vec!["message_received"],
        CoreEvent::NetworkQuality { .. } => vec!["network_metrics_report"],
        _ => Vec::new(),
    }
}

/// The Calls-API `Call` names of `ev`, in emission order.
pub fn call_names(ev: &CoreEvent) -> Vec<&'static str> {
    match ev {
        CoreEvent::MemberJoined { .. } => vec!["user:join"],
        CoreEvent::MemberLeft { .. } => vec!["user:leave"],
        CoreEvent::AclUpdated { change, .. } => vec![match change {
            AclChange::Added => "user:add",
            AclChange::Modified => "user:mod",
            AclChange::Removed => "user:del",
        }],
        CoreEvent::TrackPublished { .. } => vec!["track:add"],
        CoreEvent::TrackUnpublished { .. } => vec!["track:del"],
        CoreEvent::TrackUpdated { updated, .. }
            if updated.iter().any(|f| f == "muted" || f == "blocked") =>
        {
            vec!["track:mute"]
        }
        CoreEvent::RoomUpdated { .. } => vec!["cnl:config"],
        CoreEvent::SessionClosing {
            reason: ClosingReason::RoomEnded,
            ..
        } => vec!["cnl:delete"],
        _ => Vec::new(),
    }
}

/// The Twilio-style (object, name) pairs of `ev`, in emission order (the most specific object
/// first, the `Room` last, as twilio-video bubbles events up).
pub fn twilio_names(ev: &CoreEvent) -> Vec<(TwilioObject, &'static str)> {
    match ev {
        CoreEvent::Reconnecting { .. } => vec![(T::Room, "reconnecting")],
        CoreEvent::Reconnected => vec![(T::Room, "reconnected")],
        CoreEvent::RoomLeft { .. } => vec![
            (T::LocalParticipant, "disconnected"),
            (T::Room, "disconnected"),
        ],
        CoreEvent::MemberJoined { .. } => vec![(T::Room, "participantConnected")],
        CoreEvent::MemberLeft { .. } => vec![
            (T::RemoteParticipant, "disconnected"),
            (T::Room, "participantDisconnected"),
        ],
        CoreEvent::MemberUpdated {
            member,
            updated,
            local: false,
            ..
        } if updated.iter().any(|f| f == "state") => match member.state {
            MemberState::Reconnecting => vec![
                (T::RemoteParticipant, "reconnecting"),
                (T::Room, "participantReconnecting"),
            ],
            MemberState::Active => vec![
                (T::RemoteParticipant, "reconnected"),
                (T::Room, "participantReconnected"),
            ],
            _ => Vec::new(),
        },
        CoreEvent::DominantSpeakerChanged { .. } => vec![(T::Room, "dominantSpeakerChanged")],
        CoreEvent::NetworkQuality { local, .. } => vec![(
            if *local {
                T::LocalParticipant
            } else {
                T::RemoteParticipant
            },
            "networkQualityLevelChanged",
        )],
        CoreEvent::RecordingStarted { .. } => vec![(T::Room, "recordingStarted")],
        CoreEvent::RecordingEnded { .. } => vec![(T::Room, "recordingStopped")],
        CoreEvent::TrackPublished { local: true, .. } => vec![
            (T::LocalParticipant, "trackAdded"),
            (T::LocalParticipant, "trackPublished"),
        ],
        CoreEvent::TrackPublished { local: false, .. } => vec![
            (T::RemoteParticipant, "trackPublished"),
            (T::Room, "trackPublished"),
        ],
        CoreEvent::TrackPublishFailed { .. } => {
            vec![(T::LocalParticipant, "trackPublicationFailed")]
        }
        CoreEvent::TrackUnpublished { local: true, .. } => {
            vec![(T::LocalParticipant, "trackRemoved")]
        }
        CoreEvent::TrackUnpublished { local: false, .. } => vec![
            (T::RemoteParticipant, "trackUnpublished"),
            (T::Room, "trackUnpublished"),
        ],
        CoreEvent::TrackUpdated {
            track,
            updated,
            local,
            ..
        } if updated.iter().any(|f| f == "muted" || f == "blocked") => {
            let enabled = !track.muted && !track.blocked;
            let (t, p) = if enabled {
                ("enabled", "trackEnabled")
            } else {
                ("disabled", "trackDisabled")
            };
            if *local {
                vec![
                    (T::LocalTrack, t),
                    (T::LocalTrackPublication, p),
                    (T::LocalParticipant, p),
                ]
            } else {
                vec![
                    (T::RemoteTrack, t),
                    (T::RemoteTrackPublication, p),
                    (T::RemoteParticipant, p),
                    (T::Room, p),
                ]
            }
        }
        CoreEvent::SubscriptionStarted { .. } => vec![
            (T::RemoteTrackPublication, "subscribed"),
            (T::RemoteParticipant, "trackSubscribed"),
            (T::RemoteParticipant, "trackAdded"),
            (T::Room, "trackSubscribed"),
            (T::Room, "trackAdded"),
        ],
        CoreEvent::SubscriptionEnded { .. } => vec![
            (T::RemoteTrack, "unsubscribed"),
            (T::RemoteTrackPublication, "unsubscribed"),
            (T::RemoteParticipant, "trackUnsubscribed"),
            (T::RemoteParticipant, "trackRemoved"),
            (T::Room, "trackUnsubscribed"),
            (T::Room, "trackRemoved"),
        ],
        CoreEvent::SubscriptionFailed { .. } => vec![
            (T::RemoteTrackPublication, "subscriptionFailed"),
            (T::RemoteParticipant, "trackSubscriptionFailed"),
            (T::Room, "trackSubscriptionFailed"),
        ],
        CoreEvent::TrackSwitched { state, .. } => {
            let on = *state == ovsp::model::StreamStateKind::Active;
            vec![
                (
                    T::RemoteTrack,
                    if on { "switchedOn" } else { "switchedOff" },
                ),
                (
                    T::RemoteTrackPublication,
                    if on {
                        "trackSwitchedOn"
                    } else {
                        "trackSwitchedOff"
                    },
                ),
                (
                    T::RemoteParticipant,
                    if on {
                        "trackSwitchedOn"
                    } else {
                        "trackSwitchedOff"
                    },
                ),
                (
                    T::Room,
                    if on {
                        "trackSwitchedOn"
                    } else {
                        "trackSwitchedOff"
                    },
                ),
            ]
        }
        CoreEvent::MediaChanged { local, change, .. } => match (local, change) {
            (true, MediaChange::Started) => vec![
                (T::LocalTrack, "started"),
                (T::LocalParticipant, "trackStarted"),
            ],
            (true, MediaChange::Stopped) => vec![
                (T::LocalTrack, "stopped"),
                (T::LocalParticipant, "trackStopped"),
            ],
            (true, MediaChange::Dimensions { .. }) => vec![
                (T::LocalTrack, "dimensionsChanged"),
                (T::LocalParticipant, "trackDimensionsChanged"),
            ],
            (false, MediaChange::Started) => vec![
                (T::RemoteTrack, "started"),
                (T::RemoteParticipant, "trackStarted"),
                (T::Room, "trackStarted"),
            ],
            (false, MediaChange::Stopped) => Vec::new(),
            (false, MediaChange::Dimensions { .. }) => vec![
                (T::RemoteTrack, "dimensionsChanged"),
                (T::RemoteParticipant, "trackDimensionsChanged"),
                (T::Room, "trackDimensionsChanged"),
            ],
        },
        CoreEvent::DataReceived { .. } => vec![
            (T::RemoteTrack, "message"),
            (T::RemoteParticipant, "trackMessage"),
            (T::Room, "trackMessage"),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel() {
        assert_eq!(camel_case("audio_muted"), "audioMuted");
        assert_eq!(camel_case("deaf"), "deaf");
        assert_eq!(camel_case("requested_position"), "requestedPosition");
    }

    #[test]
    fn member_field_table_matches_room_session_events() {
        for f in MEMBER_FIELDS {
            let name = format!("member.updated.{}", camel_case(f));
            assert!(ROOM_SESSION_EVENTS.contains(&name.as_str()), "{name}");
        }
    }
}
