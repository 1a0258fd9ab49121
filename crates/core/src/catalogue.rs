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

use crate::prelude::*;
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

/// `snake_case` → `camelCase` (`audio_muted` → `audioMuted`). Field names are ASCII; only
/// ASCII letters are upper-cased (no Unicode case tables in the bundle).
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    push_camel(&mut out, snake);
    out
}

fn push_camel(out: &mut String, snake: &str) {
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else {
            out.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        }
    }
}

/// The SignalWire `RoomSession` names of `ev`, in emission order.
pub fn room_session_names(ev: &CoreEvent) -> Vec<String> {
    let names: &[&str] = match ev {
        CoreEvent::ConnectionStateChanged { .. } => &["call.state"],
        CoreEvent::RoomJoined { .. } => &["room.started", "room.joined"],
        CoreEvent::RoomLeft { .. } => &["room.left"],
        CoreEvent::SessionClosing {
            reason: ClosingReason::RoomEnded,
            ..
        } => &["room.ended"],
        CoreEvent::RoomUpdated { .. } => &["room.updated"],
        CoreEvent::AudienceCount { .. } => &["room.audience_count"],
        CoreEvent::LayoutChanged { .. } => &["layout.changed"],
        CoreEvent::MemberJoined { .. } => &["member.joined"],
        CoreEvent::MemberLeft { .. } => &["member.left"],
        CoreEvent::MemberTalking { talking: true, .. } => {
            &["member.talking", "member.talking.started"]
        }
        CoreEvent::MemberTalking { .. } => &["member.talking", "member.talking.ended"],
        CoreEvent::MemberUpdated { updated, .. } => {
            let mut v = vec!["member.updated".to_owned()];
            for f in updated {
                let mut name = String::from("member.updated.");
                push_camel(&mut name, f);
                v.push(name);
            }
            return v;
        }
        CoreEvent::RecordingStarted { .. } => &["recording.started"],
        CoreEvent::RecordingUpdated { .. } => &["recording.updated"],
        CoreEvent::RecordingEnded { .. } => &["recording.ended"],
        CoreEvent::PlaybackStarted { .. } => &["playback.started"],
        CoreEvent::PlaybackUpdated { .. } => &["playback.updated"],
        CoreEvent::PlaybackEnded { .. } => &["playback.ended"],
        CoreEvent::RtmpStreamStarted { .. } => &["stream.started"],
        CoreEvent::RtmpStreamEnded { .. } => &["stream.ended"],
        _ => &[],
    };
    let mut v = Vec::with_capacity(names.len());
    for n in names {
        v.push((*n).to_owned());
    }
    v
}

/// A static list of names, iterated by value: what the name functions return, with no
/// allocation per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names<T: 'static>(pub &'static [T]);

impl<T: Copy> IntoIterator for Names<T> {
    type Item = T;
    type IntoIter = core::iter::Copied<alloc::slice::Iter<'static, T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().copied()
    }
}

impl<T: PartialEq<U>, U, const N: usize> PartialEq<[U; N]> for Names<T> {
    fn eq(&self, other: &[U; N]) -> bool {
        self.0 == other
    }
}

/// The Telnyx `Room` names of `ev`, in emission order.
pub fn room_names(ev: &CoreEvent) -> Names<&'static str> {
    Names(match ev {
        CoreEvent::ConnectionStateChanged { .. } => &["state_changed"],
        CoreEvent::RoomJoined { .. } => &["connected"],
        CoreEvent::RoomLeft { .. } => &["disconnected"],
        CoreEvent::SessionClosing {
            reason: ClosingReason::Removed,
            ..
        } => &["participant_leaving"],
        CoreEvent::MemberJoined { .. } => &["participant_joined", "state_changed"],
        CoreEvent::MemberLeft {
            reason: LeaveReason::Removed,
            ..
        } => &["participant_leaving", "participant_left", "state_changed"],
        CoreEvent::MemberLeft { .. } => &["participant_left", "state_changed"],
        CoreEvent::StreamPublished { .. } => &["stream_published", "state_changed"],
        CoreEvent::StreamUnpublished { .. } => &["stream_unpublished", "state_changed"],
        CoreEvent::TrackUpdated { track, updated, .. } => {
            // By (muted named, blocked named, muted, blocked).
            match (
                has(updated, "muted"),
                has(updated, "blocked"),
                track.muted,
                track.blocked,
            ) {
                (true, true, false, false) => &["track_enabled", "track_uncensored"],
                (true, true, false, true) => &["track_enabled", "track_censored"],
                (true, true, true, false) => &["track_disabled", "track_uncensored"],
                (true, true, true, true) => &["track_disabled", "track_censored"],
                (true, false, false, _) => &["track_enabled"],
                (true, false, true, _) => &["track_disabled"],
                (false, true, _, false) => &["track_uncensored"],
                (false, true, _, true) => &["track_censored"],
                (false, false, _, _) => &[],
            }
        }
        CoreEvent::MemberTalking { talking: true, .. } => &["audio_activity"],
        CoreEvent::SubscriptionStarted { .. } => &["subscription_started"],
        CoreEvent::SubscriptionReconfigured { .. } => &["subscription_reconfigured"],
        CoreEvent::SubscriptionEnded { .. } => &["subscription_ended"],
        CoreEvent::MessageReceived { .. } => &["message_received"],
        CoreEvent::NetworkQuality { .. } => &["network_metrics_report"],
        _ => &[],
    })
}

/// Whether `updated` names `field`.
fn has(updated: &[String], field: &str) -> bool {
    updated.iter().any(|f| f == field)
}

/// Whether `updated` names `muted` or `blocked`.
fn mute_or_block(updated: &[String]) -> bool {
    has(updated, "muted") || has(updated, "blocked")
}

/// The Calls-API `Call` names of `ev`, in emission order.
pub fn call_names(ev: &CoreEvent) -> Names<&'static str> {
    Names(match ev {
        CoreEvent::MemberJoined { .. } => &["user:join"],
        CoreEvent::MemberLeft { .. } => &["user:leave"],
        CoreEvent::AclUpdated { change, .. } => match change {
            AclChange::Added => &["user:add"],
            AclChange::Modified => &["user:mod"],
            AclChange::Removed => &["user:del"],
        },
        CoreEvent::TrackPublished { .. } => &["track:add"],
        CoreEvent::TrackUnpublished { .. } => &["track:del"],
        CoreEvent::TrackUpdated { updated, .. } if mute_or_block(updated) => &["track:mute"],
        CoreEvent::RoomUpdated { .. } => &["cnl:config"],
        CoreEvent::SessionClosing {
            reason: ClosingReason::RoomEnded,
            ..
        } => &["cnl:delete"],
        _ => &[],
    })
}

/// The Twilio-style (object, name) pairs of `ev`, in emission order (the most specific object
/// first, the `Room` last, as twilio-video bubbles events up).
pub fn twilio_names(ev: &CoreEvent) -> Names<(TwilioObject, &'static str)> {
    Names(twilio_table(ev))
}

/// The static table behind [`twilio_names`].
fn twilio_table(ev: &CoreEvent) -> &'static [(TwilioObject, &'static str)] {
    match ev {
        CoreEvent::Reconnecting { .. } => &[(T::Room, "reconnecting")],
        CoreEvent::Reconnected => &[(T::Room, "reconnected")],
        CoreEvent::RoomLeft { .. } => &[
            (T::LocalParticipant, "disconnected"),
            (T::Room, "disconnected"),
        ],
        CoreEvent::MemberJoined { .. } => &[(T::Room, "participantConnected")],
        CoreEvent::MemberLeft { .. } => &[
            (T::RemoteParticipant, "disconnected"),
            (T::Room, "participantDisconnected"),
        ],
        CoreEvent::MemberUpdated {
            member,
            updated,
            local: false,
            ..
        } if has(updated, "state") => match member.state {
            MemberState::Reconnecting => &[
                (T::RemoteParticipant, "reconnecting"),
                (T::Room, "participantReconnecting"),
            ],
            MemberState::Active => &[
                (T::RemoteParticipant, "reconnected"),
                (T::Room, "participantReconnected"),
            ],
            _ => &[],
        },
        CoreEvent::DominantSpeakerChanged { .. } => &[(T::Room, "dominantSpeakerChanged")],
        CoreEvent::NetworkQuality { local: true, .. } => {
            &[(T::LocalParticipant, "networkQualityLevelChanged")]
        }
        CoreEvent::NetworkQuality { .. } => &[(T::RemoteParticipant, "networkQualityLevelChanged")],
        CoreEvent::RecordingStarted { .. } => &[(T::Room, "recordingStarted")],
        CoreEvent::RecordingEnded { .. } => &[(T::Room, "recordingStopped")],
        CoreEvent::TrackPublished { local: true, .. } => &[
            (T::LocalParticipant, "trackAdded"),
            (T::LocalParticipant, "trackPublished"),
        ],
        CoreEvent::TrackPublished { .. } => &[
            (T::RemoteParticipant, "trackPublished"),
            (T::Room, "trackPublished"),
        ],
        CoreEvent::TrackPublishFailed { .. } => &[(T::LocalParticipant, "trackPublicationFailed")],
        CoreEvent::TrackUnpublished { local: true, .. } => &[(T::LocalParticipant, "trackRemoved")],
        CoreEvent::TrackUnpublished { .. } => &[
            (T::RemoteParticipant, "trackUnpublished"),
            (T::Room, "trackUnpublished"),
        ],
        CoreEvent::TrackUpdated {
            track,
            updated,
            local,
            ..
        } if mute_or_block(updated) => match (!track.muted && !track.blocked, *local) {
            (true, true) => &[
                (T::LocalTrack, "enabled"),
                (T::LocalTrackPublication, "trackEnabled"),
                (T::LocalParticipant, "trackEnabled"),
            ],
            (false, true) => &[
                (T::LocalTrack, "disabled"),
                (T::LocalTrackPublication, "trackDisabled"),
                (T::LocalParticipant, "trackDisabled"),
            ],
            (true, false) => &[
                (T::RemoteTrack, "enabled"),
                (T::RemoteTrackPublication, "trackEnabled"),
                (T::RemoteParticipant, "trackEnabled"),
                (T::Room, "trackEnabled"),
            ],
            (false, false) => &[
                (T::RemoteTrack, "disabled"),
                (T::RemoteTrackPublication, "trackDisabled"),
                (T::RemoteParticipant, "trackDisabled"),
                (T::Room, "trackDisabled"),
            ],
        },
        CoreEvent::SubscriptionStarted { .. } => &[
            (T::RemoteTrackPublication, "subscribed"),
            (T::RemoteParticipant, "trackSubscribed"),
            (T::RemoteParticipant, "trackAdded"),
            (T::Room, "trackSubscribed"),
            (T::Room, "trackAdded"),
        ],
        CoreEvent::SubscriptionEnded { .. } => &[
            (T::RemoteTrack, "unsubscribed"),
            (T::RemoteTrackPublication, "unsubscribed"),
            (T::RemoteParticipant, "trackUnsubscribed"),
            (T::RemoteParticipant, "trackRemoved"),
            (T::Room, "trackUnsubscribed"),
            (T::Room, "trackRemoved"),
        ],
        CoreEvent::SubscriptionFailed { .. } => &[
            (T::RemoteTrackPublication, "subscriptionFailed"),
            (T::RemoteParticipant, "trackSubscriptionFailed"),
            (T::Room, "trackSubscriptionFailed"),
        ],
        CoreEvent::TrackSwitched { state, .. } => {
            if *state == ovsp::model::StreamStateKind::Active {
                &[
                    (T::RemoteTrack, "switchedOn"),
                    (T::RemoteTrackPublication, "trackSwitchedOn"),
                    (T::RemoteParticipant, "trackSwitchedOn"),
                    (T::Room, "trackSwitchedOn"),
                ]
            } else {
                &[
                    (T::RemoteTrack, "switchedOff"),
                    (T::RemoteTrackPublication, "trackSwitchedOff"),
                    (T::RemoteParticipant, "trackSwitchedOff"),
                    (T::Room, "trackSwitchedOff"),
                ]
            }
        }
        CoreEvent::MediaChanged { local, change, .. } => match (local, change) {
            (true, MediaChange::Started) => &[
                (T::LocalTrack, "started"),
                (T::LocalParticipant, "trackStarted"),
            ],
            (true, MediaChange::Stopped) => &[
                (T::LocalTrack, "stopped"),
                (T::LocalParticipant, "trackStopped"),
            ],
            (true, MediaChange::Dimensions { .. }) => &[
                (T::LocalTrack, "dimensionsChanged"),
                (T::LocalParticipant, "trackDimensionsChanged"),
            ],
            (false, MediaChange::Started) => &[
                (T::RemoteTrack, "started"),
                (T::RemoteParticipant, "trackStarted"),
                (T::Room, "trackStarted"),
            ],
            (false, MediaChange::Stopped) => &[],
            (false, MediaChange::Dimensions { .. }) => &[
                (T::RemoteTrack, "dimensionsChanged"),
                (T::RemoteParticipant, "trackDimensionsChanged"),
                (T::Room, "trackDimensionsChanged"),
            ],
        },
        CoreEvent::DataReceived { .. } => &[
            (T::RemoteTrack, "message"),
            (T::RemoteParticipant, "trackMessage"),
            (T::Room, "trackMessage"),
        ],
        _ => &[],
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
