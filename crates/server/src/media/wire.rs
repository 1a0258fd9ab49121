//! Conversions between the engine's types and the wire types of crate `ovsp`.
//!
//! The signaling layer can forward [`MediaEvent`]s with [`MediaEvent::to_ovsp`] and answer
//! failed calls with `RpcError::from(media_error)`.

use ovsp::envelope::RpcError;
use ovsp::events::{
    Event, MemberTalking, RoomSpeakers, Speaker as WireSpeaker, SubOffer as WireSubOffer,
    TrackStreamState,
};
use ovsp::methods::IceCandidate;
use ovsp::model::TrackKind as WireKind;
use ovsp::model::{PcKind as WirePc, StreamStateKind, StreamStateReason, SubMid as WireSubMid};
use ovsp::Code;

use super::{MediaError, MediaEvent, PcKind, StreamReason, TrackKind};

impl From<PcKind> for WirePc {
    fn from(pc: PcKind) -> Self {
        match pc {
            PcKind::Pub => WirePc::Pub,
            PcKind::Sub => WirePc::Sub,
        }
    }
}

impl PcKind {
    /// The engine's PC kind of a wire PC kind (`None` for an unknown value).
    pub fn from_wire(pc: WirePc) -> Option<PcKind> {
        match pc {
            WirePc::Pub => Some(PcKind::Pub),
            WirePc::Sub => Some(PcKind::Sub),
            _ => None,
        }
    }
}

impl From<TrackKind> for WireKind {
    fn from(kind: TrackKind) -> Self {
        match kind {
            TrackKind::Audio => WireKind::Audio,
            TrackKind::Video => WireKind::Video,
            TrackKind::Data => WireKind::Data,
        }
    }
}

impl TrackKind {
    /// The engine's track kind of a wire track kind (`None` for an unknown value).
    pub fn from_wire(kind: WireKind) -> Option<TrackKind> {
        match kind {
            WireKind::Audio => Some(TrackKind::Audio),
            WireKind::Video => Some(TrackKind::Video),
            WireKind::Data => Some(TrackKind::Data),
            _ => None,
        }
    }
}

impl From<MediaError> for RpcError {
    fn from(e: MediaError) -> Self {
        RpcError::new(Code(e.code), e.message)
    }
}

impl MediaEvent {
    /// The wire event to send to this session's client, for the events that map one-to-one:
    /// `sub.offer`, `ice.candidate`, `member.talking`, `room.speakers`, `track.stream_state`.
    /// `None` for the events the signaling layer turns into state changes of its own
    /// ([`MediaEvent::TrackLive`] → `track.published`, [`MediaEvent::SubscriptionActive`] /
    /// [`MediaEvent::SubscriptionFailed`] → `sub.updated`, [`MediaEvent::Connected`],
    /// [`MediaEvent::IceFailed`]).
    pub fn to_ovsp(&self) -> Option<Event> {
        Some(match self {
            MediaEvent::SubOffer(o) => Event::SubOffer(WireSubOffer {
                offer_id: o.offer_id,
                sdp: o.sdp.clone(),
                ice_restart: o.ice_restart,
                reset: o.reset,
                mids: o
                    .mids
                    .iter()
                    .map(|(mid, m)| {
                        let m = m.as_ref().map(|m| WireSubMid {
                            track_id: m.track_id.clone(),
                            member_id: m.member_id.clone(),
                            kind: m.kind.into(),
                        });
                        (mid.clone(), m)
                    })
                    .collect(),
            }),
            MediaEvent::LocalCandidate(c) => Event::IceCandidate(IceCandidate {
                pc: c.pc.into(),
                candidate: c.candidate.clone(),
                sdp_mid: c.sdp_mid.clone(),
                sdp_m_line_index: c.sdp_m_line_index,
                username_fragment: c.username_fragment.clone(),
            }),
            MediaEvent::Talking { member_id, talking } => Event::MemberTalking(MemberTalking {
                member_id: member_id.clone(),
                talking: *talking,
            }),
            MediaEvent::Speakers(list) => Event::RoomSpeakers(RoomSpeakers {
                speakers: list
                    .iter()
                    .map(|s| WireSpeaker {
                        member_id: s.member_id.clone(),
                        level: f64::from(s.level),
                        active: s.active,
                    })
                    .collect(),
            }),
            MediaEvent::StreamState {
                track_id,
                active,
                reason,
            } => Event::TrackStreamState(TrackStreamState {
                track_id: track_id.clone(),
                state: if *active {
                    StreamStateKind::Active
                } else {
                    StreamStateKind::Paused
                },
                reason: match reason {
                    StreamReason::None => None,
                    StreamReason::PublisherMuted => Some(StreamStateReason::PublisherMuted),
                    StreamReason::SubscriberPaused | StreamReason::Deaf => {
                        Some(StreamStateReason::SubscriberPaused)
                    }
                },
            }),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::media::{SubMid, SubOffer};

    #[test]
    fn sub_offer_maps_to_the_wire_shape() {
        let mut mids = BTreeMap::new();
        mids.insert(
            "a1".to_string(),
            Some(SubMid {
                track_id: "tr_1".into(),
                member_id: "mem_1".into(),
                kind: TrackKind::Audio,
            }),
        );
        mids.insert("v2".to_string(), None);
        let ev = MediaEvent::SubOffer(SubOffer {
            offer_id: 3,
            sdp: "v=0".into(),
            mids,
            ice_restart: false,
            reset: true,
        });
        let env = ev.to_ovsp().expect("maps").to_envelope(1, Some(7));
        let json = serde_json::to_value(&env.data).expect("json");
        assert_eq!(env.event_type, "sub.offer");
        assert_eq!(json["offer_id"], 3);
        assert_eq!(json["reset"], true);
        assert_eq!(json["mids"]["a1"]["kind"], "audio");
        assert_eq!(json["mids"]["a1"]["member_id"], "mem_1");
        assert!(json["mids"]["v2"].is_null());
    }

    #[test]
    fn errors_keep_their_code() {
        let e: RpcError = MediaError::new(MediaError::BAD_REMOTE_SDP, "bad").into();
        assert_eq!(e.code, Code(53403));
        let stream = MediaEvent::StreamState {
            track_id: "tr".into(),
            active: false,
            reason: StreamReason::PublisherMuted,
        };
        let env = stream.to_ovsp().expect("maps").to_envelope(0, None);
        assert_eq!(env.event_type, "track.stream_state");
        assert_eq!(env.data["state"], "paused");
        assert_eq!(env.data["reason"], "publisher_muted");
        assert!(MediaEvent::TrackLive {
            track_id: "x".into()
        }
        .to_ovsp()
        .is_none());
    }
}
