//! Scenario tests: the fake server drives a `SessionMachine` in virtual time, and each test
//! asserts the exact events and outputs.

mod common;

use common::{token, FakeServer, Harness, ServerOut};
use convene_core::ovsp::codes::Code;
use convene_core::ovsp::model::{MediaSource, PcKind, TrackKind};
use convene_core::{
    Command, ConnectionState, CoreError, CoreEvent, IceState, Input, MisuseError, Output,
    PeerEvent, PeerOp, PublishOptions, SdpType, SubTarget,
};
use serde_json::{json, Value};

fn server_with_bob() -> FakeServer {
    let mut s = FakeServer::new();
    s.seed_member("mem_b");
    s
}

fn joined() -> Harness {
    let mut h = Harness::new(server_with_bob());
    h.join();
    h
}

fn mic() -> PublishOptions {
    PublishOptions {
        cid: "c-mic".into(),
        kind: TrackKind::Audio,
        source: MediaSource::Microphone,
        stream_key: Some("main".into()),
        name: None,
        muted: false,
        extra: Default::default(),
    }
}

fn state_name(ev: &CoreEvent) -> Option<&'static str> {
    match ev {
        CoreEvent::ConnectionStateChanged { state } => Some(state.name()),
        _ => None,
    }
}

#[test]
fn join_snapshot() {
    let mut h = Harness::new(server_with_bob());
    let m0 = h.mark();
    let join = h.command(Command::Join);
    let outs = h.outputs_since(m0);
    // Socket first, then session.connect with room.join pipelined right behind it.
    assert!(matches!(&outs[0], Output::Event(CoreEvent::ConnectionStateChanged { state: ConnectionState::Connecting })));
    assert!(matches!(&outs[1], Output::OpenSocket { protocol, .. } if protocol == "ovsp.v1"));
    let reqs = h.requests_since(m0);
    assert_eq!(
        reqs.iter().map(|(id, m, _)| (id.as_str(), m.as_str())).collect::<Vec<_>>(),
        [("1", "session.connect"), ("2", "room.join"), ("3", "sub.answer")]
    );
    assert_eq!(reqs[0].2["token"], json!(token("alice", 1_000_000_000)));
    assert!(reqs[0].2.get("resume").is_none());
    assert_eq!(reqs[1].2["auto_subscribe"], json!(true));
    assert_eq!(reqs[2].2, json!({"offer_id": 1, "sdp": "sub-answer"}));
    assert_eq!(
        h.event_kinds_since(m0),
        ["connection_state_changed", "room_joined", "connection_state_changed"]
    );
    let evs = h.events_since(m0);
    assert_eq!(state_name(&evs[2]), Some("connected"));
    match &evs[1] {
        CoreEvent::RoomJoined { room, member_id } => {
            assert_eq!(room.id, "rm_1");
            assert_eq!(member_id, "mem_self1");
        }
        other => panic!("{other:?}"),
    }
    // The join completes with the snapshot.
    let snap = h.completion(join).expect("completed").expect("ok");
    assert_eq!(snap["room"]["name"], "standup");
    // The sub PC is created and the server's offer answered.
    assert_eq!(
        h.peer_ops_since(m0),
        [
            PeerOp::CreatePc {
                pc: PcKind::Sub,
                ice_servers: vec![convene_core::IceServer {
                    urls: vec!["stun:stun.example.net:3478".into()],
                    username: None,
                    credential: None
                }]
            },
            PeerOp::SetRemoteDescription {
                pc: PcKind::Sub,
                sdp_type: SdpType::Offer,
                sdp: "sub-offer-1".into()
            },
            PeerOp::CreateAnswer { pc: PcKind::Sub },
            PeerOp::SetLocalDescription {
                pc: PcKind::Sub,
                sdp_type: SdpType::Answer,
                sdp: "sub-answer".into()
            },
        ]
    );
    let st = h.m.state();
    assert_eq!(st.connection, ConnectionState::Connected);
    assert_eq!(st.members.keys().collect::<Vec<_>>(), ["mem_b"]);
    assert_eq!(st.self_id(), Some("mem_self1"));
    assert_eq!(st.seq, 0);
    assert_eq!(h.m.last_seq(), 1, "sub.offer was seq 1");
    // The store serialises as plain data.
    let v = serde_json::to_value(st).expect("serialise");
    assert_eq!(v["self"]["id"], "mem_self1");
    assert_eq!(v["connection"]["state"], "connected");
}

#[test]
fn methods_before_join_are_misuse() {
    let mut h = Harness::new(server_with_bob());
    let a = h.command(Command::Rpc {
        method: "member.audio_mute".into(),
        params: json!({}),
    });
    let b = h.command(Command::Leave { reason: None });
    for hd in [a, b] {
        assert_eq!(
            h.completion(hd),
            Some(Err(CoreError::Misuse(MisuseError::NotJoined)))
        );
    }
    let e = CoreError::Misuse(MisuseError::NotJoined);
    assert_eq!(e.code(), Code::NOT_JOINED);
    assert_eq!(e.name(), "MisuseError");
    assert!(e.message().contains("join"));
    assert!(h.outputs_since(0).iter().all(|o| matches!(o, Output::Completed { .. })));
    h.join();
    let again = h.command(Command::Join);
    assert_eq!(
        h.completion(again),
        Some(Err(CoreError::Misuse(MisuseError::AlreadyJoined)))
    );
}

#[test]
fn durable_events_arrive_before_their_response() {
    let mut h = joined();
    let m0 = h.mark();
    let hd = h.command(Command::Rpc {
        method: "member.audio_mute".into(),
        params: json!({"member_id": "mem_b"}),
    });
    let outs = h.outputs_since(m0);
    let ev_pos = outs
        .iter()
        .position(|o| matches!(o, Output::Event(CoreEvent::MemberUpdated { .. })))
        .expect("member.updated");
    let done_pos = outs
        .iter()
        .position(|o| matches!(o, Output::Completed { handle, .. } if *handle == hd))
        .expect("completed");
    assert!(ev_pos < done_pos);
    match &outs[ev_pos] {
        Output::Event(CoreEvent::MemberUpdated {
            member,
            updated,
            local,
            ..
        }) => {
            assert_eq!(member.id, "mem_b");
            assert!(member.audio_muted);
            assert_eq!(member.version, 2);
            assert_eq!(updated, &["audio_muted"]);
            assert!(!local);
        }
        _ => unreachable!(),
    }
    assert!(h.m.state().members["mem_b"].audio_muted);
}

#[test]
fn duplicate_seq_is_dropped() {
    let mut h = joined();
    let m0 = h.mark();
    let outs = h.server.member_update("mem_b", "handraised", json!(true));
    let frame = match &outs[0] {
        ServerOut::Frame(f) => f.clone(),
        other => panic!("{other:?}"),
    };
    h.deliver(outs);
    // The same frame again, and an older one (the sub.offer, seq 1).
    h.input(Input::FrameReceived(frame));
    let old = h.server.session().expect("session").buffer[0].1.clone();
    h.input(Input::FrameReceived(old));
    assert_eq!(h.event_kinds_since(m0), ["member_updated"]);
    assert_eq!(h.m.last_seq(), 2);
    assert!(h.peer_ops_since(m0).is_empty(), "old sub.offer not re-applied");
}
