//! Every event name of the seed documents (committed in `fixtures/seed-events.json`) must be
//! listed in a facade table and actually produced by the mapping functions.

use std::collections::BTreeSet;

use convene_core::catalogue::{
    call_names, room_names, room_session_names, twilio_names, TwilioObject, CALL_EVENTS,
    MEMBER_FIELDS, ROOM_EVENTS, ROOM_SESSION_EVENTS, TWILIO_EVENTS,
};
use convene_core::ovsp::model::{
    ClosingReason, LeaveReason, Member, Playback, Recording, Room, SessionAction, Stream,
    StreamStateKind, SubscriptionState, Track, TrackKind, UnpublishReason,
};
use convene_core::{AclChange, ConnectionState, CoreError, CoreEvent, MediaChange, SignalingError};
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("fixtures/seed-events.json");

fn member(state: &str) -> Member {
    serde_json::from_value(json!({"id":"mem_b","identity":"bob","version":2,"state":state}))
        .expect("member")
}

fn track(muted: bool, blocked: bool) -> Track {
    serde_json::from_value(
        json!({"id":"tr_1","member_id":"mem_b","version":1,"kind":"audio",
        "source":"microphone","muted":muted,"blocked":blocked}),
    )
    .expect("track")
}

fn sub() -> SubscriptionState {
    serde_json::from_value(json!({"track_id":"tr_1","state":"active"})).expect("sub")
}

/// One event of every kind, with every variation the mappings distinguish.
fn samples() -> Vec<CoreEvent> {
    let room: Room = serde_json::from_value(json!({"id":"rm","name":"r","version":1})).unwrap();
    let rec: Recording = serde_json::from_value(json!({"id":"rec","state":"recording"})).unwrap();
    let pb: Playback =
        serde_json::from_value(json!({"id":"pb","url":"u","state":"playing"})).unwrap();
    let st: Stream =
        serde_json::from_value(json!({"id":"st","url":"rtmp://x","state":"streaming"})).unwrap();
    let err = CoreError::Signaling(SignalingError::Disconnected);
    let mut v = vec![
        CoreEvent::ConnectionStateChanged {
            state: ConnectionState::Connected,
        },
        CoreEvent::RoomJoined {
            room: room.clone(),
            member_id: "mem_a".into(),
        },
        CoreEvent::RoomLeft {
            reason: None,
            error: None,
        },
        CoreEvent::Reconnecting { error: err.clone() },
        CoreEvent::Reconnected,
        CoreEvent::RoomUpdated {
            room,
            updated: vec!["locked".into()],
        },
        CoreEvent::AudienceCount { total: 3 },
        CoreEvent::LayoutChanged {
            layout: serde_json::from_value(json!({"name":"2x2"})).unwrap(),
        },
        CoreEvent::MemberJoined {
            member: member("active"),
        },
        CoreEvent::MemberTalking {
            member_id: "mem_b".into(),
            talking: true,
        },
        CoreEvent::MemberTalking {
            member_id: "mem_b".into(),
            talking: false,
        },
        CoreEvent::DominantSpeakerChanged { member_id: None },
        CoreEvent::TrackPublishFailed {
            cid: "c".into(),
            error: err,
        },
        CoreEvent::StreamPublished {
            member_id: "mem_b".into(),
            stream_key: "main".into(),
            local: false,
        },
        CoreEvent::StreamUnpublished {
            member_id: "mem_b".into(),
            stream_key: "main".into(),
            local: false,
        },
        CoreEvent::SubscriptionStarted {
            subscription: sub(),
            track: None,
        },
        CoreEvent::SubscriptionReconfigured {
            subscription: sub(),
            track: None,
        },
        CoreEvent::SubscriptionEnded {
            subscription: sub(),
            track: None,
        },
        CoreEvent::SubscriptionFailed {
            subscription: sub(),
            track: None,
        },
        CoreEvent::RecordingStarted {
            recording: rec.clone(),
        },
        CoreEvent::RecordingUpdated {
            recording: rec.clone(),
        },
        CoreEvent::RecordingEnded { recording: rec },
        CoreEvent::PlaybackStarted {
            playback: pb.clone(),
        },
        CoreEvent::PlaybackUpdated {
            playback: pb.clone(),
        },
        CoreEvent::PlaybackEnded { playback: pb },
        CoreEvent::RtmpStreamStarted { stream: st.clone() },
        CoreEvent::RtmpStreamEnded {
            stream: st,
            error: None,
        },
        CoreEvent::MessageReceived {
            message_id: "m".into(),
            from_member_id: "mem_b".into(),
            to: None,
            topic: None,
            payload: convene_core::ovsp::json::Value::Null,
            ts: 0,
        },
        CoreEvent::DataReceived {
            track_id: None,
            member_id: None,
            data_handle: 1,
            payload: vec![],
        },
    ];
    for local in [true, false] {
        v.push(CoreEvent::NetworkQuality {
            member_id: "m".into(),
            level: 3,
            local,
        });
        v.push(CoreEvent::TrackPublished {
            track: track(false, false),
            local,
        });
        v.push(CoreEvent::TrackUnpublished {
            track: track(false, false),
            reason: UnpublishReason::Unpublished,
            local,
        });
        for (muted, blocked) in [(false, false), (true, false), (false, true)] {
            for field in ["muted", "blocked"] {
                v.push(CoreEvent::TrackUpdated {
                    track: track(muted, blocked),
                    updated: vec![field.into()],
                    by: None,
                    local,
                });
            }
        }
        for change in [
            MediaChange::Started,
            MediaChange::Stopped,
            MediaChange::Dimensions {
                width: 1,
                height: 1,
            },
        ] {
            v.push(CoreEvent::MediaChanged {
                cid: None,
                track_id: None,
                member_id: None,
                local,
                change,
            });
        }
    }
    for state in ["reconnecting", "active"] {
        v.push(CoreEvent::MemberUpdated {
            member: member(state),
            updated: vec!["state".into()],
            by: None,
            local: false,
        });
    }
    for f in MEMBER_FIELDS {
        v.push(CoreEvent::MemberUpdated {
            member: member("active"),
            updated: vec![(*f).into()],
            by: None,
            local: false,
        });
    }
    for reason in [LeaveReason::Left, LeaveReason::Removed] {
        v.push(CoreEvent::MemberLeft {
            member: member("active"),
            reason,
            by: None,
        });
    }
    for reason in [ClosingReason::Removed, ClosingReason::RoomEnded] {
        v.push(CoreEvent::SessionClosing {
            reason,
            action: SessionAction::Disconnect,
            error: None,
        });
    }
    for change in [AclChange::Added, AclChange::Modified, AclChange::Removed] {
        v.push(CoreEvent::AclUpdated {
            change,
            identities: vec!["x".into()],
        });
    }
    v.push(CoreEvent::TrackSwitched {
        track_id: "t".into(),
        state: StreamStateKind::Active,
        reason: None,
    });
    v.push(CoreEvent::TrackSwitched {
        track_id: "t".into(),
        state: StreamStateKind::Paused,
        reason: None,
    });
    let _ = TrackKind::Audio;
    v
}

type Names = BTreeSet<String>;

/// Names produced by the samples: (RoomSession, Room, Call, Twilio).
fn produced() -> (Names, Names, Names, BTreeSet<(TwilioObject, String)>) {
    let mut rs = BTreeSet::new();
    let mut r = BTreeSet::new();
    let mut c = BTreeSet::new();
    let mut t = BTreeSet::new();
    for ev in samples() {
        rs.extend(room_session_names(&ev));
        r.extend(room_names(&ev).into_iter().map(str::to_owned));
        c.extend(call_names(&ev).into_iter().map(str::to_owned));
        t.extend(
            twilio_names(&ev)
                .into_iter()
                .map(|(o, n)| (o, n.to_owned())),
        );
    }
    (rs, r, c, t)
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("string").to_owned())
        .collect()
}

/// The Twilio objects a seed class name stands for.
fn objects(class: &str) -> Vec<TwilioObject> {
    use TwilioObject as T;
    match class {
        "Room" => vec![T::Room],
        "LocalParticipant" => vec![T::LocalParticipant],
        "RemoteParticipant" => vec![T::RemoteParticipant],
        "Participant" => vec![T::LocalParticipant, T::RemoteParticipant],
        "AudioTrack" | "VideoTrack" => vec![T::LocalTrack, T::RemoteTrack],
        c if c.starts_with("Local") && c.ends_with("Track") => vec![T::LocalTrack],
        c if c.starts_with("Remote") && c.ends_with("Track") => vec![T::RemoteTrack],
        "TrackPublication" => vec![T::LocalTrackPublication, T::RemoteTrackPublication],
        c if c.starts_with("Remote") && c.ends_with("Publication") => {
            vec![T::RemoteTrackPublication]
        }
        other => panic!("unknown seed class {other}"),
    }
}

#[test]
fn every_seed_event_name_has_a_mapping() {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture parses");
    let (rs, r, c, t) = produced();
    let mut missing = Vec::new();
    for n in names(&fixture["room_session"]["events"]) {
        if !ROOM_SESSION_EVENTS.contains(&n.as_str()) || !rs.contains(&n) {
            missing.push(format!("RoomSession {n}"));
        }
    }
    for n in names(&fixture["room"]["events"]) {
        if !ROOM_EVENTS.contains(&n.as_str()) || !r.contains(&n) {
            missing.push(format!("Room {n}"));
        }
    }
    for n in names(&fixture["call"]["events"]) {
        if !CALL_EVENTS.contains(&n.as_str()) || !c.contains(&n) {
            missing.push(format!("Call {n}"));
        }
    }
    let classes = fixture["twilio"]["classes"].as_object().expect("classes");
    let mut twilio_count = 0;
    for (class, list) in classes {
        for n in names(list) {
            twilio_count += 1;
            for o in objects(class) {
                let listed = TWILIO_EVENTS.contains(&(o, n.as_str()));
                if !listed || !t.contains(&(o, n.clone())) {
                    missing.push(format!("{class} ({o:?}) {n}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "seed events without a mapping: {missing:#?}"
    );
    // The fixture is not empty by accident.
    assert!(names(&fixture["room_session"]["events"]).len() >= 30);
    assert_eq!(names(&fixture["room"]["events"]).len(), 18);
    assert_eq!(names(&fixture["call"]["events"]).len(), 9);
    assert_eq!(twilio_count, 96);
}

#[test]
fn every_table_name_is_produced_by_its_mapping() {
    let (rs, r, c, t) = produced();
    for n in ROOM_SESSION_EVENTS {
        assert!(
            rs.contains(*n),
            "RoomSession table lists {n} but nothing emits it"
        );
    }
    for n in ROOM_EVENTS {
        assert!(r.contains(*n), "Room table lists {n} but nothing emits it");
    }
    for n in CALL_EVENTS {
        assert!(c.contains(*n), "Call table lists {n} but nothing emits it");
    }
    for (o, n) in TWILIO_EVENTS {
        assert!(
            t.contains(&(*o, (*n).to_owned())),
            "Twilio table lists {o:?} {n}"
        );
    }
    // And nothing is emitted that the tables do not list (the TS event maps come from them).
    for n in &rs {
        assert!(ROOM_SESSION_EVENTS.contains(&n.as_str()), "unlisted {n}");
    }
    for n in &r {
        assert!(ROOM_EVENTS.contains(&n.as_str()), "unlisted {n}");
    }
    for n in &c {
        assert!(CALL_EVENTS.contains(&n.as_str()), "unlisted {n}");
    }
    for (o, n) in &t {
        assert!(
            TWILIO_EVENTS.contains(&(*o, n.as_str())),
            "unlisted {o:?} {n}"
        );
    }
}

#[test]
fn member_updated_fans_out_per_field() {
    let ev = CoreEvent::MemberUpdated {
        member: member("active"),
        updated: vec!["audio_muted".into(), "input_volume".into()],
        by: None,
        local: false,
    };
    assert_eq!(
        room_session_names(&ev),
        [
            "member.updated",
            "member.updated.audioMuted",
            "member.updated.inputVolume"
        ]
    );
}
