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
use serde_json::json;

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
    assert!(matches!(
        &outs[0],
        Output::Event(CoreEvent::ConnectionStateChanged {
            state: ConnectionState::Connecting
        })
    ));
    assert!(matches!(&outs[1], Output::OpenSocket { protocol, .. } if protocol == "ovsp.v1"));
    let reqs = h.requests_since(m0);
    assert_eq!(
        reqs.iter()
            .map(|(id, m, _)| (id.as_str(), m.as_str()))
            .collect::<Vec<_>>(),
        [
            ("1", "session.connect"),
            ("2", "room.join"),
            ("3", "sub.answer")
        ]
    );
    assert_eq!(reqs[0].2["token"], json!(token("alice", 1_000_000_000)));
    assert!(reqs[0].2.get("resume").is_none());
    assert_eq!(reqs[1].2["auto_subscribe"], json!(true));
    assert_eq!(reqs[2].2, json!({"offer_id": 1, "sdp": "sub-answer"}));
    assert_eq!(
        h.event_kinds_since(m0),
        [
            "connection_state_changed",
            "room_joined",
            "connection_state_changed"
        ]
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
        params: json!({}).into(),
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
    assert!(h
        .outputs_since(0)
        .iter()
        .all(|o| matches!(o, Output::Completed { .. })));
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
        params: json!({"member_id": "mem_b"}).into(),
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
    h.input(Input::frame(&frame));
    let old = h.server.session().expect("session").buffer[0].1.clone();
    h.input(Input::frame(&old));
    assert_eq!(h.event_kinds_since(m0), ["member_updated"]);
    assert_eq!(h.m.last_seq(), 2);
    assert!(
        h.peer_ops_since(m0).is_empty(),
        "old sub.offer not re-applied"
    );
}

fn member_ids(h: &Harness) -> Vec<String> {
    h.m.state().members.keys().cloned().collect()
}

#[test]
fn resume_replays_every_missed_event_exactly_once() {
    let mut h = joined();
    let sid = h.m.session_id().expect("sid").to_owned();
    let m0 = h.mark();
    h.cut(1006);
    assert_eq!(
        h.event_kinds_since(m0),
        ["connection_state_changed", "reconnecting"]
    );
    match &h.events_since(m0)[1] {
        CoreEvent::Reconnecting { error } => assert_eq!(error.code(), Code::SIGNALING_DISCONNECTED),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        h.m.connection_state(),
        &ConnectionState::Reconnecting {
            cause: Code::SIGNALING_DISCONNECTED
        }
    );
    // While offline the room changes: 4 durable events are buffered by the server.
    h.server.member_joins("mem_c");
    h.server.member_update("mem_b", "handraised", json!(true));
    h.server.member_update("mem_c", "deaf", json!(true));
    h.server.member_leaves("mem_b", "left");
    let m1 = h.mark();
    // First attempt is immediate (0 ms backoff).
    h.advance(0);
    let reqs = h.requests_since(m1);
    assert_eq!(reqs[0].1, "session.connect");
    assert_eq!(
        reqs[0].2["resume"],
        json!({"session_id": sid, "resume_token": format!("rt_{sid}_0"), "last_seq": 1})
    );
    assert!(
        reqs[0].2.get("token").is_none(),
        "resume does not send the JWT"
    );
    // The replayed events first, then `reconnected`: the app sees it once state converged.
    assert_eq!(
        h.event_kinds_since(m1),
        [
            "member_joined",
            "member_updated",
            "member_updated",
            "member_left",
            "connection_state_changed",
            "reconnected",
        ]
    );
    assert_eq!(h.m.last_seq(), 5);
    assert_eq!(member_ids(&h), ["mem_c"]);
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
    // Replaying the same frames again changes nothing.
    let frames: Vec<String> = h
        .server
        .session()
        .expect("s")
        .buffer
        .iter()
        .map(|(_, f)| f.clone())
        .collect();
    let m2 = h.mark();
    for f in frames {
        h.input(Input::frame(&f));
    }
    assert!(h.events_since(m2).is_empty());
    // The 2 s ack cadence acknowledges seq 5.
    h.advance(2000);
    assert!(h
        .notifications_since(m2)
        .contains(&("session.ack".to_owned(), json!({"seq": 5}))));
}

#[test]
fn reconnected_waits_for_the_whole_replay_range() {
    let mut h = joined();
    h.cut(1006);
    h.server.member_joins("mem_c");
    h.server.member_update("mem_b", "handraised", json!(true));
    let frames: Vec<String> = h
        .server
        .session()
        .expect("s")
        .buffer
        .iter()
        .map(|(_, f)| f.clone())
        .collect();
    assert_eq!(frames.len(), 3, "sub.offer, member.joined, member.updated");
    // The resume is answered (replay 2..=3) but the replayed events are late.
    h.drop_events = true;
    let m0 = h.mark();
    h.advance(0);
    let resumed = h
        .outputs_since(m0)
        .iter()
        .any(|o| matches!(o, Output::SendFrame(f) if f.to_string().contains("\"resume\"")));
    assert!(resumed);
    assert_eq!(h.m.session_id(), Some("ses_1"), "resumed, not rejoined");
    assert!(
        h.events_since(m0).is_empty(),
        "no reconnected before the replay"
    );
    assert_eq!(
        h.m.connection_state(),
        &ConnectionState::Reconnecting {
            cause: Code::SIGNALING_DISCONNECTED
        }
    );
    h.drop_events = false;
    let m1 = h.mark();
    h.input(Input::frame(&frames[1]));
    assert_eq!(h.event_kinds_since(m1), ["member_joined"]);
    assert!(matches!(
        h.m.connection_state(),
        ConnectionState::Reconnecting { .. }
    ));
    h.input(Input::frame(&frames[2]));
    assert_eq!(
        h.event_kinds_since(m1),
        [
            "member_joined",
            "member_updated",
            "connection_state_changed",
            "reconnected"
        ]
    );
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
    assert!(h.m.state().members["mem_b"].handraised);

    // A replay that never arrives in full is given up on after the request timeout (10 s).
    h.cut(1006);
    h.server.member_update("mem_b", "handraised", json!(false));
    h.drop_events = true;
    let m2 = h.mark();
    h.advance(0);
    let t_resume = h.now;
    h.advance(9_999);
    assert!(!h.event_kinds_since(m2).contains(&"reconnected"));
    assert!(matches!(
        h.m.connection_state(),
        ConnectionState::Reconnecting { .. }
    ));
    h.advance(1);
    let (t, _) = h.log[m2..]
        .iter()
        .find(|(_, o)| matches!(o, Output::Event(CoreEvent::Reconnected)))
        .expect("reconnected");
    assert_eq!(*t, t_resume + 10_000);
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
}

#[test]
fn resume_after_replay_overflow_reconciles_from_the_snapshot() {
    let mut server = server_with_bob();
    server.seed_member("mem_x");
    server.replay_limit = 2;
    let mut h = Harness::new(server);
    h.join();
    // bob publishes (live) so there is a track to reconcile.
    let outs = h.server.member_publishes("mem_b", "audio", "microphone");
    h.deliver(outs);
    h.cut(1006);
    // Many changes while offline: more than the replay buffer holds.
    h.server.member_joins("mem_c");
    h.server.member_update("mem_b", "audio_muted", json!(true));
    h.server.member_leaves("mem_x", "left");
    h.server.member_publishes("mem_c", "video", "camera");
    h.server.member_update("mem_c", "name", json!("Carol"));
    let m0 = h.mark();
    h.advance(0);
    let evs = h.events_since(m0);
    let kinds: Vec<&str> = evs.iter().map(CoreEvent::kind).collect();
    assert_eq!(
        kinds,
        [
            "member_left",
            "member_updated",
            "member_joined",
            "track_published",
            "stream_published",
            "connection_state_changed",
            "reconnected"
        ]
    );
    match &evs[1] {
        CoreEvent::MemberUpdated {
            member, updated, ..
        } => {
            assert_eq!(member.id, "mem_b");
            assert_eq!(updated, &["audio_muted"]);
        }
        other => panic!("{other:?}"),
    }
    // The app's view converged to the server's: same members, versions, tracks.
    let st = h.m.state();
    assert_eq!(member_ids(&h), ["mem_b", "mem_c"]);
    for (id, m) in &h.server.members {
        let mine = &st.members[id];
        assert_eq!(mine.version, m.version, "{id}");
        assert_eq!(mine.name, m.name);
        assert_eq!(mine.audio_muted, m.audio_muted);
        let a: Vec<_> = mine.tracks.iter().map(|t| (&t.id, t.version)).collect();
        let b: Vec<_> = m.tracks.iter().map(|t| (&t.id, t.version)).collect();
        assert_eq!(a, b);
    }
    assert_eq!(h.m.last_seq(), h.server.session().expect("s").seq);
    assert!(st.streams.contains_key("mem_c/main"));
}

#[test]
fn unknown_session_rejoins_and_restores_publications_and_subscriptions() {
    let mut h = joined();
    let outs = h.server.member_publishes("mem_b", "video", "camera");
    h.deliver(outs);
    let p = h.command(Command::Publish(mic()));
    let track = h.completion(p).expect("published").expect("ok");
    assert_eq!(track["track"]["cid"], "c-mic");
    let s = h.command(Command::UpdateSubscriptions {
        add: vec![SubTarget {
            member_id: Some("mem_b".into()),
            ..SubTarget::default()
        }],
        remove: vec![],
        settings: vec![],
    });
    assert!(h.completion(s).expect("sub").is_ok());
    assert_eq!(h.m.state().subscriptions.len(), 1);
    // The server forgets the session (resume window over on its side).
    h.server.forget_sessions();
    h.cut(1006);
    let m0 = h.mark();
    h.advance(0);
    let methods = h.methods_since(m0);
    assert_eq!(
        methods,
        [
            "session.connect",
            "session.connect",
            "room.join",
            "track.publish",
            "sub.update",
            "sub.answer",
            "pub.offer"
        ]
    );
    let reqs = h.requests_since(m0);
    assert!(reqs[0].2.get("resume").is_some());
    assert!(reqs[1].2.get("resume").is_none(), "a fresh session");
    assert_eq!(reqs[1].2["token"], json!(token("alice", 1_000_000_000)));
    assert_eq!(reqs[3].2["cid"], "c-mic");
    assert_eq!(reqs[4].2, json!({"add": [{"member_id": "mem_b"}]}));
    assert_eq!(reqs[6].2["mids"], json!({"0": "c-mic"}));
    // Ids stay unique across the rejoin.
    let ids: Vec<u64> = reqs.iter().map(|r| r.0.parse().expect("id")).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let ops = h.peer_ops_since(m0);
    assert_eq!(ops[0], PeerOp::ClosePc { pc: PcKind::Pub });
    assert_eq!(ops[1], PeerOp::ClosePc { pc: PcKind::Sub });
    assert!(ops.contains(&PeerOp::AddTransceiver {
        cid: "c-mic".into(),
        kind: TrackKind::Audio
    }));
    let st = h.m.state();
    assert_eq!(st.connection, ConnectionState::Connected);
    assert_eq!(st.self_id(), Some("mem_self2"));
    let own: Vec<_> = st
        .self_member
        .as_ref()
        .expect("self")
        .tracks
        .iter()
        .map(|t| t.cid.clone())
        .collect();
    assert_eq!(own, [Some("c-mic".to_owned())]);
    assert_eq!(st.local_tracks["c-mic"].track_id.as_deref(), Some("tr_3"));
    assert_eq!(st.subscriptions.keys().collect::<Vec<_>>(), ["tr_1"]);
    let kinds = h.event_kinds_since(m0);
    // The old session's local track goes, the republished one comes back under its cid.
    assert_eq!(
        kinds,
        [
            "track_unpublished",
            "stream_unpublished",
            "connection_state_changed",
            "reconnected",
            "track_published",
            "stream_published"
        ]
    );
}

#[test]
fn a_resent_request_gets_the_cached_result_without_a_second_effect() {
    let mut h = joined();
    // The server processes the request but its answer (and the event) never arrive.
    h.lose_downlink = true;
    let m0 = h.mark();
    let hd = h.command(Command::Rpc {
        method: "member.audio_mute".into(),
        params: json!({"member_id": "mem_b"}).into(),
    });
    let sent_id = h.requests_since(m0)[0].0.clone();
    assert!(h.completion(hd).is_none());
    h.lose_downlink = false;
    h.cut(1006);
    h.advance(0);
    let reqs = h.requests_since(m0);
    let resent: Vec<_> = reqs
        .iter()
        .filter(|(_, m, _)| m == "member.audio_mute")
        .collect();
    assert_eq!(resent.len(), 2);
    assert_eq!(resent[1].0, sent_id, "same id");
    assert_eq!(resent[1].2, resent[0].2, "same params");
    assert_eq!(
        h.server
            .effects
            .iter()
            .filter(|(m, _)| m == "member.audio_mute")
            .count(),
        1,
        "no second effect"
    );
    assert_eq!(h.completions_of(hd), 1);
    assert!(h.completion(hd).expect("done").is_ok());
    let updates = h
        .events_since(m0)
        .into_iter()
        .filter(|e| matches!(e, CoreEvent::MemberUpdated { .. }))
        .count();
    assert_eq!(updates, 1, "the replayed event is applied once");
}

#[test]
fn an_expired_jwt_does_not_block_resume() {
    let mut server = server_with_bob();
    server.now = 1000;
    let mut cfg = convene_core::Config::new("wss://fake/ovsp", token("alice", 60_000), 3);
    cfg.capabilities = vec![];
    let mut h = Harness::with_config(server, cfg);
    h.join();
    h.advance(120_000); // the JWT is long expired; pings keep the session alive
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
    h.cut(1006);
    let m0 = h.mark();
    h.advance(0);
    assert_eq!(h.methods_since(m0), ["session.connect"]);
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
    assert_eq!(
        h.event_kinds_since(m0),
        ["connection_state_changed", "reconnected"]
    );
    // Whereas a fresh connect with that token is refused with 20104.
    let mut h2 = Harness::with_config(server_with_bob(), {
        let mut c = convene_core::Config::new("wss://fake/ovsp", token("alice", 60_000), 3);
        c.capabilities = vec![];
        c
    });
    h2.now = 200_000;
    h2.server.now = 200_000;
    let j = h2.command(Command::Join);
    let err = h2.completion(j).expect("done").expect_err("refused");
    assert_eq!(err.code(), Code::TOKEN_EXPIRED);
    assert_eq!(err.name(), "AccessTokenExpiredError");
}

#[test]
fn ping_keeps_rtt_and_a_ping_timeout_means_reconnecting_53001() {
    let mut h = joined();
    let m0 = h.mark();
    h.advance(5000);
    let pings: Vec<_> = h
        .requests_since(m0)
        .into_iter()
        .filter(|(_, m, _)| m == "ping")
        .collect();
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0].2, json!({"ts": 6000, "ack": 1}));
    assert_eq!(h.m.rtt_ms(), Some(0));
    // The network goes silent without closing.
    h.blackhole = true;
    let m1 = h.mark();
    h.advance(15_000);
    let outs = h.outputs_since(m1);
    let close = outs
        .iter()
        .position(|o| matches!(o, Output::CloseSocket { code: 4008, .. }))
        .expect("closed");
    let t_close = h.log[m1 + close].0;
    assert_eq!(t_close, 6000 + 15_000, "15 s after the last inbound frame");
    let evs = h.events_since(m1);
    assert!(matches!(
        &evs[0],
        CoreEvent::ConnectionStateChanged {
            state: ConnectionState::Reconnecting { cause }
        } if *cause == Code::SIGNALING_DISCONNECTED
    ));
    assert!(matches!(&evs[1], CoreEvent::Reconnecting { error } if error.code().0 == 53001));
}

fn published() -> Harness {
    let mut h = joined();
    let p = h.command(Command::Publish(mic()));
    assert!(h.completion(p).expect("published").is_ok());
    h
}

#[test]
fn ice_failure_restarts_ice_then_recovers() {
    let mut h = published();
    let m0 = h.mark();
    h.input(Input::Peer(PeerEvent::IceState {
        pc: PcKind::Pub,
        state: IceState::Failed,
    }));
    let evs = h.events_since(m0);
    assert!(matches!(
        &evs[0],
        CoreEvent::ConnectionStateChanged {
            state: ConnectionState::Reconnecting { cause }
        } if *cause == Code::MEDIA_CONNECTION_FAILED
    ));
    assert!(matches!(&evs[1], CoreEvent::Reconnecting { error } if error.code().0 == 53405));
    let ops = h.peer_ops_since(m0);
    assert_eq!(ops[0], PeerOp::RestartIce { pc: PcKind::Pub });
    assert_eq!(
        ops[1],
        PeerOp::CreateOffer {
            pc: PcKind::Pub,
            ice_restart: true
        }
    );
    let reqs = h.requests_since(m0);
    assert_eq!(reqs.len(), 1, "signaling is untouched: only the offer");
    assert_eq!(reqs[0].1, "pub.offer");
    assert_eq!(reqs[0].2["ice_restart"], json!(true));
    assert_eq!(reqs[0].2["offer_id"], json!(2));
    // The fake browser reports ICE connected once the answer is applied.
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
    assert_eq!(
        h.event_kinds_since(m0)[2..],
        ["connection_state_changed", "reconnected"]
    );
    // The sub PC restarts through the server.
    let m1 = h.mark();
    h.peer.auto_ice = false;
    h.input(Input::Peer(PeerEvent::IceState {
        pc: PcKind::Sub,
        state: IceState::Failed,
    }));
    assert_eq!(h.methods_since(m1), ["sub.ice_restart", "sub.answer"]);
    assert!(h
        .peer_ops_since(m1)
        .contains(&PeerOp::SetRemoteDescription {
            pc: PcKind::Sub,
            sdp_type: SdpType::Offer,
            sdp: "sub-offer-2".into()
        }));
}

#[test]
fn ice_still_failed_after_15_s_means_a_full_rejoin() {
    let mut h = published();
    h.peer.auto_ice = false;
    let m0 = h.mark();
    let t0 = h.now;
    h.input(Input::Peer(PeerEvent::IceState {
        pc: PcKind::Pub,
        state: IceState::Failed,
    }));
    h.advance(14_999);
    assert!(h
        .requests_since(m0)
        .iter()
        .all(|(_, m, _)| m != "session.connect"));
    h.advance(1);
    let reqs = h.requests_since(m0);
    let connect = reqs
        .iter()
        .position(|(_, m, _)| m == "session.connect")
        .expect("rejoin");
    assert!(reqs[connect].2.get("resume").is_none(), "a full rejoin");
    let (t, _) = h
        .log
        .iter()
        .skip(m0)
        .find(|(_, o)| matches!(o, Output::CloseSocket { .. }))
        .expect("socket closed");
    assert_eq!(*t, t0 + 15_000);
    assert_eq!(h.m.state().self_id(), Some("mem_self2"));
    assert!(h.methods_since(m0).ends_with(&[
        "track.publish".to_owned(),
        "sub.answer".to_owned(),
        "pub.offer".to_owned()
    ]));
}

#[test]
fn ice_disconnected_for_5_s_restarts_ice() {
    let mut h = published();
    h.peer.auto_ice = false;
    let m0 = h.mark();
    h.input(Input::Peer(PeerEvent::IceState {
        pc: PcKind::Pub,
        state: IceState::Disconnected,
    }));
    h.advance(4_999);
    assert!(h.peer_ops_since(m0).is_empty());
    h.advance(1);
    assert_eq!(
        h.peer_ops_since(m0)[0],
        PeerOp::RestartIce { pc: PcKind::Pub }
    );
    h.input(Input::Peer(PeerEvent::IceState {
        pc: PcKind::Pub,
        state: IceState::Connected,
    }));
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
}

#[test]
fn session_closing_disconnect() {
    let mut h = joined();
    let m0 = h.mark();
    let outs = h.server.emit(
        "session.closing",
        json!({"reason": "removed", "action": "disconnect",
               "error": {"code": 54104, "message": "removed by a moderator"}}),
    );
    h.deliver(outs);
    let evs = h.events_since(m0);
    assert_eq!(
        evs.iter().map(CoreEvent::kind).collect::<Vec<_>>(),
        ["session_closing", "connection_state_changed", "room_left"]
    );
    match &evs[2] {
        CoreEvent::RoomLeft { reason, error } => {
            assert_eq!(reason.map(|r| r.as_str()), Some("removed"));
            let e = error.as_ref().expect("error");
            assert_eq!(e.code(), Code::REMOVED);
            assert_eq!(e.message(), "removed by a moderator");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        h.m.connection_state(),
        ConnectionState::Disconnected { error: Some(_) }
    ));
    let ops = h.peer_ops_since(m0);
    assert_eq!(ops, [PeerOp::ClosePc { pc: PcKind::Sub }]);
    assert!(h.m.poll_timeout().is_none(), "no timer left");
    let late = h.command(Command::Rpc {
        method: "room.lock".into(),
        params: json!({}).into(),
    });
    assert_eq!(
        h.completion(late),
        Some(Err(CoreError::Misuse(MisuseError::Closed)))
    );
}

#[test]
fn session_closing_resume() {
    let mut h = joined();
    let sid = h.m.session_id().expect("sid").to_owned();
    let m0 = h.mark();
    let outs = h.server.emit(
        "session.closing",
        json!({"reason": "migrate", "action": "resume", "retry_after_ms": 100,
               "url": "wss://other/ovsp"}),
    );
    h.deliver(outs);
    h.advance(99);
    assert!(!h
        .outputs_since(m0)
        .iter()
        .any(|o| matches!(o, Output::OpenSocket { .. })));
    h.advance(1);
    assert!(h
        .outputs_since(m0)
        .iter()
        .any(|o| matches!(o, Output::OpenSocket { url, .. } if url == "wss://other/ovsp")));
    let reqs = h.requests_since(m0);
    assert_eq!(reqs[0].2["resume"]["session_id"], json!(sid));
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
    assert_eq!(
        h.event_kinds_since(m0),
        [
            "session_closing",
            "connection_state_changed",
            "reconnecting",
            "connection_state_changed",
            "reconnected"
        ]
    );
}

#[test]
fn session_closing_rejoin() {
    let mut h = published();
    let m0 = h.mark();
    let outs = h.server.emit(
        "session.closing",
        json!({"reason": "server_shutdown", "action": "rejoin"}),
    );
    h.deliver(outs);
    h.advance(0);
    let reqs = h.requests_since(m0);
    assert_eq!(reqs[0].1, "session.connect");
    assert!(reqs[0].2.get("resume").is_none());
    assert_eq!(h.m.state().self_id(), Some("mem_self2"));
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
    assert!(h.methods_since(m0).contains(&"track.publish".to_owned()));
}

#[test]
fn a_permission_error_carries_54100_and_the_missing_permission() {
    let mut h = joined();
    let hd = h.command(Command::Rpc {
        method: "member.remove".into(),
        params: json!({"member_id": "mem_b"}).into(),
    });
    let err = h.completion(hd).expect("done").expect_err("denied");
    assert_eq!(err.code(), Code::PERMISSION_DENIED);
    assert_eq!(err.code().0, 54100);
    assert_eq!(err.permission(), Some("room.member.remove"));
    assert_eq!(err.name(), Code::PERMISSION_DENIED.name());
    assert!(
        h.m.state().members.contains_key("mem_b"),
        "nothing happened"
    );
}

#[test]
fn a_request_timeout_resumes_and_resends_with_the_same_id() {
    let mut h = joined();
    h.blackhole = true;
    let m0 = h.mark();
    let hd = h.command(Command::Rpc {
        method: "room.lock".into(),
        params: json!({}).into(),
    });
    let id = h.requests_since(m0)[0].0.clone();
    h.blackhole = false;
    h.advance(10_000);
    let reqs = h.requests_since(m0);
    let locks: Vec<_> = reqs.iter().filter(|(_, m, _)| m == "room.lock").collect();
    assert_eq!(locks.len(), 2);
    assert_eq!(locks[1].0, id);
    assert!(h
        .outputs_since(m0)
        .iter()
        .any(|o| matches!(o, Output::CloseSocket { code: 4008, .. })));
    assert!(h.completion(hd).expect("done").is_ok());
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
}

#[test]
fn requests_queue_while_reconnecting_and_flush_after_resume() {
    let mut h = joined();
    h.offline = true;
    h.cut(1006);
    let m0 = h.mark();
    let a = h.command(Command::Rpc {
        method: "room.lock".into(),
        params: json!({}).into(),
    });
    let b = h.command(Command::SendMessage {
        to: None,
        topic: Some("chat".into()),
        payload: json!({"text": "hi"}).into(),
    });
    assert!(h.requests_since(m0).is_empty(), "queued, not sent");
    // Backoff: attempts at 0, ~500, ~1000 ms … while offline.
    h.advance(1_000);
    let opens: Vec<u64> = h
        .log
        .iter()
        .skip(m0)
        .filter(|(_, o)| matches!(o, Output::OpenSocket { .. }))
        .map(|(t, _)| *t)
        .collect();
    assert!(opens.len() >= 2, "{opens:?}");
    assert_eq!(opens[0], h.now - 1_000);
    let gap = opens[1] - opens[0];
    assert!((400..=600).contains(&gap), "500 ms ±20 %: {gap}");
    h.offline = false;
    h.advance(10_000);
    let mut methods = h.methods_since(m0);
    methods.retain(|m| m != "ping");
    assert_eq!(methods, ["session.connect", "room.lock", "message.send"]);
    assert!(h.completion(a).expect("a").is_ok());
    assert_eq!(
        h.completion(b).expect("b").expect("ok")["message_id"],
        "msg_1"
    );
}

#[test]
fn full_rejoin_is_tried_at_most_three_times() {
    let mut h = joined();
    h.server.forget_sessions();
    h.server.fail.insert(
        "room.join".into(),
        convene_core::ovsp::envelope::RpcError::new(Code::ROOM_MAX_PARTICIPANTS_EXCEEDED, "full"),
    );
    h.cut(1006);
    h.advance(60_000);
    let m = &h.server.received;
    let fresh_connects = m
        .iter()
        .filter(|(_, meth, p)| meth == "session.connect" && p.get("resume").is_none())
        .count();
    // The first join plus three full rejoins.
    assert_eq!(fresh_connects, 1 + 3);
    match h.m.connection_state() {
        ConnectionState::Disconnected { error: Some(e) } => assert_eq!(e.code().0, 53001),
        other => panic!("{other:?}"),
    }
    assert!(h
        .event_kinds_since(0)
        .ends_with(&["connection_state_changed", "room_left"]));
    assert!(h.m.poll_timeout().is_none());
}

#[test]
fn resume_window_end_means_rejoin() {
    let mut h = joined();
    h.offline = true;
    h.cut(1006);
    h.advance(29_000);
    h.offline = false;
    // Keep the server's session but the window is over on the client side.
    let m0 = h.mark();
    h.advance(6_000);
    let reqs = h.requests_since(m0);
    assert!(reqs[0].2.get("resume").is_none(), "{reqs:?}");
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
}

#[test]
fn leave_closes_everything() {
    let mut h = published();
    let m0 = h.mark();
    let l = h.command(Command::Leave { reason: None });
    assert_eq!(h.completion(l), Some(Ok(json!({}))));
    assert_eq!(h.methods_since(m0), ["room.leave"]);
    assert_eq!(
        h.peer_ops_since(m0),
        [
            PeerOp::ClosePc { pc: PcKind::Pub },
            PeerOp::ClosePc { pc: PcKind::Sub }
        ]
    );
    assert_eq!(
        h.event_kinds_since(m0),
        ["connection_state_changed", "room_left"]
    );
    assert_eq!(
        h.m.connection_state(),
        &ConnectionState::Disconnected { error: None }
    );
    assert!(h.m.poll_timeout().is_none());
    assert!(h.m.state().members.is_empty());
    assert!(h.m.state().local_tracks.is_empty());
    assert!(h.m.state().self_member.is_none());
}

#[test]
fn ack_after_64_events() {
    let mut h = joined();
    let m0 = h.mark();
    for i in 0..70 {
        let outs = h.server.member_update("mem_b", "input_volume", json!(i));
        h.deliver(outs);
    }
    let acks: Vec<_> = h
        .notifications_since(m0)
        .into_iter()
        .filter(|(m, _)| m == "session.ack")
        .collect();
    // seq 1 was the sub.offer; with 63 more events, 64 are unacknowledged: ack now.
    assert_eq!(acks, [("session.ack".to_owned(), json!({"seq": 64}))]);
    assert_eq!(h.m.state().members["mem_b"].input_volume, 69);
}

#[test]
fn trickle_ice_both_ways() {
    let mut h = joined();
    let m0 = h.mark();
    h.input(Input::Peer(PeerEvent::IceCandidate {
        pc: PcKind::Sub,
        candidate: Some(convene_core::IceCandidate {
            candidate: "candidate:1 1 udp 2122260223 192.0.2.10 54400 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        }),
    }));
    h.input(Input::Peer(PeerEvent::IceCandidate {
        pc: PcKind::Sub,
        candidate: None,
    }));
    let n = h.notifications_since(m0);
    assert_eq!(n[0].0, "ice.candidate");
    assert_eq!(n[0].1["pc"], "sub");
    assert_eq!(n[0].1["sdp_mid"], "0");
    assert_eq!(n[1].1, json!({"pc": "sub", "candidate": null}));
    // A remote pub candidate before the pub answer is buffered until the answer is applied.
    let outs = h.server.emit_volatile(
        "ice.candidate",
        json!({"pc": "pub", "candidate": "candidate:2 1 udp 1 198.51.100.1 3478 typ host", "sdp_mid": "0"}),
    );
    let m1 = h.mark();
    h.peer.manual_offer = true;
    let p = h.command(Command::Publish(mic()));
    assert!(h.completion(p).is_none());
    h.deliver(outs);
    h.peer.manual_offer = false;
    h.input(Input::Peer(PeerEvent::DescriptionCreated {
        pc: PcKind::Pub,
        sdp_type: SdpType::Offer,
        sdp: "offer".into(),
    }));
    assert!(h.completion(p).expect("done").is_ok());
    let ops = h.peer_ops_since(m1);
    let srd = ops
        .iter()
        .position(|o| {
            matches!(
                o,
                PeerOp::SetRemoteDescription {
                    pc: PcKind::Pub,
                    ..
                }
            )
        })
        .expect("answer applied");
    assert!(matches!(
        &ops[srd + 1],
        PeerOp::AddIceCandidate { pc: PcKind::Pub, candidate: Some(c) } if c.candidate.starts_with("candidate:2")
    ));
}

#[test]
fn sub_offer_mids_map_remote_tracks_to_members() {
    let mut h = joined();
    let outs = h.server.member_publishes("mem_b", "video", "camera");
    h.deliver(outs);
    let outs = h.server.send_sub_offer(false);
    h.deliver(outs);
    let m0 = h.mark();
    h.input(Input::Peer(PeerEvent::RemoteTrack { mid: "1".into() }));
    assert_eq!(
        h.events_since(m0),
        [CoreEvent::RemoteTrackAttached {
            mid: "1".into(),
            track_id: "tr_1".into(),
            member_id: "mem_b".into(),
            kind: TrackKind::Video
        }]
    );
}

#[test]
fn one_outstanding_pub_offer_coalesces_changes() {
    let mut h = joined();
    h.lose_downlink = false;
    // Two publishes back to back: one track.publish each, then a single offer.
    let m0 = h.mark();
    let a = h.command(Command::Publish(mic()));
    let b = h.command(Command::Publish(PublishOptions {
        cid: "c-cam".into(),
        kind: TrackKind::Video,
        source: MediaSource::Camera,
        ..mic()
    }));
    assert!(h.completion(a).expect("a").is_ok());
    assert!(h.completion(b).expect("b").is_ok());
    let offers: Vec<_> = h
        .requests_since(m0)
        .into_iter()
        .filter(|(_, m, _)| m == "pub.offer")
        .collect();
    assert!(!offers.is_empty());
    let last = offers.last().expect("offer");
    assert_eq!(last.2["mids"], json!({"0": "c-mic", "1": "c-cam"}));
    // Each track goes live once.
    let published: Vec<_> = h
        .events_since(m0)
        .into_iter()
        .filter_map(|e| match e {
            CoreEvent::TrackPublished { track, local: true } => track.cid,
            _ => None,
        })
        .collect();
    assert_eq!(published, ["c-mic", "c-cam"]);
    // Mute detaches the sender and tells the server.
    let m1 = h.mark();
    let mu = h.command(Command::MuteTrack {
        cid: "c-mic".into(),
        muted: true,
    });
    assert!(h.completion(mu).expect("mute").is_ok());
    assert_eq!(
        h.peer_ops_since(m1),
        [PeerOp::ReplaceTrack {
            cid: "c-mic".into(),
            detach: true
        }]
    );
    assert_eq!(h.requests_since(m1)[0].1, "track.mute");
    // Unpublish renegotiates without the track.
    let m2 = h.mark();
    let u = h.command(Command::Unpublish {
        cid: "c-cam".into(),
    });
    assert!(h.completion(u).expect("unpublish").is_ok());
    assert_eq!(h.methods_since(m2), ["track.unpublish", "pub.offer"]);
    assert_eq!(h.requests_since(m2)[1].2["mids"], json!({"0": "c-mic"}));
    let unknown = h.command(Command::Unpublish { cid: "nope".into() });
    assert!(matches!(
        h.completion(unknown),
        Some(Err(CoreError::Misuse(MisuseError::UnknownTrack { .. })))
    ));
}

#[test]
fn data_tracks_send_and_receive_frames() {
    let mut h = joined();
    let m0 = h.mark();
    let p = h.command(Command::Publish(PublishOptions {
        cid: "c-data".into(),
        kind: TrackKind::Data,
        source: MediaSource::Data,
        stream_key: None,
        name: Some("chat".into()),
        muted: false,
        extra: Default::default(),
    }));
    let t = h.completion(p).expect("done").expect("ok");
    assert_eq!(t["track"]["data_handle"], json!(2));
    assert!(h
        .peer_ops_since(m0)
        .iter()
        .all(|o| !matches!(o, PeerOp::AddTransceiver { .. })));
    // The pub PC is still negotiated, for its data channels.
    let offers: Vec<_> = h
        .requests_since(m0)
        .into_iter()
        .filter(|(_, m, _)| m == "pub.offer")
        .collect();
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].2["mids"], json!({}));
    let m1 = h.mark();
    let s = h.command(Command::SendData {
        cid: "c-data".into(),
        payload: b"hello".to_vec(),
        to: Some(vec!["mem_b".into()]),
    });
    assert!(h.completion(s).expect("sent").is_ok());
    assert_eq!(
        h.peer_ops_since(m1),
        [PeerOp::SendData {
            label: "ovsp-reliable".into(),
            data: convene_core::encode_data_frame(2, 1, &["mem_b"], b"hello"),
        }]
    );
    // bob's data track arrives on the sub PC's channel.
    let outs = h.server.member_publishes("mem_b", "data", "data");
    h.deliver(outs);
    let handle = h.m.state().members["mem_b"].tracks[0].data_handle;
    assert_eq!(
        handle, None,
        "the fake only assigns handles to own publishes"
    );
    let mut bob_track = h.m.state().members["mem_b"].tracks[0].clone();
    bob_track.data_handle = Some(9);
    bob_track.version = 2;
    let outs = h
        .server
        .emit("track.published", json!({ "track": bob_track }));
    h.deliver(outs);
    let m2 = h.mark();
    let frame = convene_core::encode_data_frame(9, 1, &[], b"yo");
    for _ in 0..2 {
        h.input(Input::Peer(PeerEvent::DataMessage {
            pc: PcKind::Sub,
            label: "ovsp-reliable".into(),
            data: frame.clone(),
        }));
    }
    assert_eq!(
        h.events_since(m2),
        [CoreEvent::DataReceived {
            track_id: Some(bob_track.id.clone()),
            member_id: Some("mem_b".into()),
            data_handle: 9,
            payload: b"yo".to_vec(),
        }],
        "a duplicate reliable frame is dropped"
    );
}

#[test]
fn a_refreshed_token_is_used_by_the_next_full_rejoin() {
    let mut h = joined();
    let outs = h.server.emit(
        "session.token",
        json!({"token": token("alice", 2_000_000_000), "expires_at": 2_000_000_000u64}),
    );
    h.deliver(outs);
    assert_eq!(h.m.token(), token("alice", 2_000_000_000));
    h.server.forget_sessions();
    h.cut(1006);
    let m0 = h.mark();
    h.advance(0);
    let fresh = h
        .requests_since(m0)
        .into_iter()
        .find(|(_, m, p)| m == "session.connect" && p.get("resume").is_none())
        .expect("fresh connect");
    assert_eq!(fresh.2["token"], json!(token("alice", 2_000_000_000)));
}

#[test]
fn close_codes_stop_resume_or_rejoin_once() {
    // 4003 (removed): stop.
    let mut h = joined();
    h.cut(4003);
    match h.m.connection_state() {
        ConnectionState::Disconnected { error: Some(e) } => assert_eq!(e.code(), Code::REMOVED),
        other => panic!("{other:?}"),
    }
    // 4008: resume.
    let mut h = joined();
    let m0 = h.mark();
    h.cut(4008);
    h.advance(0);
    assert!(h.requests_since(m0)[0].2.get("resume").is_some());
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
    // 4009: one full rejoin, then stop.
    let mut h = joined();
    h.cut(4009);
    h.advance(0);
    assert_eq!(h.m.state().self_id(), Some("mem_self2"));
    h.cut(4009);
    h.advance(0);
    assert!(matches!(
        h.m.connection_state(),
        ConnectionState::Disconnected { .. }
    ));
}

#[test]
fn commands_issued_while_connecting_run_after_the_join() {
    let mut h = Harness::new(server_with_bob());
    h.blackhole = true; // hold the handshake
    let j = h.command(Command::Join);
    let p = h.command(Command::Publish(mic()));
    assert!(h.completion(p).is_none());
    h.blackhole = false;
    // The driver reconnects the stalled socket: here, simply replay the handshake.
    let m0 = h.mark();
    h.advance(10_000); // connect timeout: the join fails with 53002 and the publish too
    assert_eq!(
        h.completion(j).expect("done").expect_err("timeout").code(),
        Code::SIGNALING_TIMEOUT
    );
    assert!(h.completion(p).expect("done").is_err());
    assert!(h.requests_since(m0).is_empty());
    // A healthy start: publish queued during connecting goes out after room.join.
    let mut h = Harness::new(server_with_bob());
    h.peer.manual_offer = false;
    let j = h.command(Command::Join);
    assert!(h.completion(j).is_some());
    let mut h2 = Harness::new(server_with_bob());
    h2.inbox.push_back(Input::Command {
        handle: convene_core::RequestHandle(1),
        command: Command::Join,
    });
    h2.inbox.push_back(Input::Command {
        handle: convene_core::RequestHandle(2),
        command: Command::Publish(mic()),
    });
    h2.run();
    assert_eq!(
        h2.methods_since(0),
        [
            "session.connect",
            "room.join",
            "track.publish",
            "sub.answer",
            "pub.offer"
        ]
    );
    assert!(h2
        .completion(convene_core::RequestHandle(2))
        .expect("published")
        .is_ok());
}

#[test]
fn server_requested_ice_restart_and_sub_reset() {
    let mut h = published();
    let m0 = h.mark();
    let outs = h.server.emit("pub.ice_restart_requested", json!({}));
    h.deliver(outs);
    let reqs = h.requests_since(m0);
    assert_eq!(reqs[0].1, "pub.offer");
    assert_eq!(reqs[0].2["ice_restart"], json!(true));
    // sub.reset: the offer with reset:true goes to a brand-new sub PC.
    let m1 = h.mark();
    let outs = h.server.emit(
        "sub.offer",
        json!({"offer_id": 1, "sdp": "fresh", "ice_restart": false, "reset": true, "mids": {}}),
    );
    h.deliver(outs);
    let ops = h.peer_ops_since(m1);
    assert_eq!(ops[0], PeerOp::ClosePc { pc: PcKind::Sub });
    assert!(matches!(
        ops[1],
        PeerOp::CreatePc {
            pc: PcKind::Sub,
            ..
        }
    ));
    assert!(
        matches!(&ops[2], PeerOp::SetRemoteDescription { pc: PcKind::Sub, sdp, .. } if sdp == "fresh")
    );
    assert_eq!(h.methods_since(m1), ["sub.answer"]);
}

#[test]
fn moderator_block_detaches_and_unblock_respects_the_owner_mute() {
    let mut h = published();
    let tid = h.m.state().local_tracks["c-mic"]
        .track_id
        .clone()
        .expect("track id");
    let m0 = h.mark();
    let outs = h.server.emit(
        "track.updated",
        json!({"track": {"id": tid, "version": 2, "blocked": true}, "updated": ["blocked"], "by": "mem_b"}),
    );
    h.deliver(outs);
    assert_eq!(
        h.peer_ops_since(m0),
        [PeerOp::ReplaceTrack {
            cid: "c-mic".into(),
            detach: true
        }]
    );
    let evs = h.events_since(m0);
    assert!(
        matches!(&evs[0], CoreEvent::TrackUpdated { local: true, by: Some(b), .. } if b == "mem_b")
    );
    assert_eq!(
        convene_core::catalogue::room_names(&evs[0]),
        ["track_censored"]
    );
    // The owner mutes meanwhile; the unblock must not re-attach.
    let mu = h.command(Command::MuteTrack {
        cid: "c-mic".into(),
        muted: true,
    });
    assert!(h.completion(mu).expect("mute").is_ok());
    let m1 = h.mark();
    let outs = h.server.emit(
        "track.updated",
        json!({"track": {"id": tid, "version": 4, "blocked": false}, "updated": ["blocked"]}),
    );
    h.deliver(outs);
    assert!(h.peer_ops_since(m1).is_empty());
    let outs = h.server.emit(
        "self.unmute_requested",
        json!({"kind": "audio", "by": "mem_b"}),
    );
    h.deliver(outs);
    assert!(h.events_since(m1).contains(&CoreEvent::UnmuteRequested {
        kind: TrackKind::Audio,
        by: Some("mem_b".into())
    }));
}

#[test]
fn demotion_closes_the_pub_pc_and_forgets_local_tracks() {
    let mut h = published();
    let m0 = h.mark();
    let outs = h.server.emit(
        "self.permissions_changed",
        json!({"role": "audience", "permissions": [], "media_allowed": {"send": [], "recv": ["audio", "video"]}}),
    );
    h.deliver(outs);
    assert_eq!(h.peer_ops_since(m0), [PeerOp::ClosePc { pc: PcKind::Pub }]);
    assert!(h.m.state().local_tracks.is_empty());
    assert!(matches!(
        &h.events_since(m0)[0],
        CoreEvent::PermissionsChanged { role, .. } if role.as_str() == "audience"
    ));
    let p = h.command(Command::Publish(mic()));
    assert_eq!(
        h.completion(p),
        Some(Err(CoreError::Misuse(MisuseError::AudienceCannotPublish)))
    );
}

#[test]
fn negotiation_in_progress_is_retried() {
    let mut h = joined();
    h.server.fail.insert(
        "pub.offer".into(),
        convene_core::ovsp::envelope::RpcError::new(Code::NEGOTIATION_IN_PROGRESS, "busy"),
    );
    let m0 = h.mark();
    let p = h.command(Command::Publish(mic()));
    assert!(h.completion(p).is_none());
    h.server.fail.clear();
    h.advance(200);
    let offers: Vec<_> = h
        .requests_since(m0)
        .into_iter()
        .filter(|(_, m, _)| m == "pub.offer")
        .map(|(_, _, p)| p["offer_id"].clone())
        .collect();
    assert_eq!(
        offers,
        [json!(1), json!(2)],
        "a new offer id after the 54401"
    );
    assert!(h.completion(p).expect("done").is_ok());
}

#[test]
fn session_owned_methods_are_not_available_through_rpc() {
    let mut h = joined();
    let r = h.command(Command::Rpc {
        method: "pub.offer".into(),
        params: json!({}).into(),
    });
    assert!(matches!(
        h.completion(r),
        Some(Err(CoreError::Misuse(MisuseError::InvalidArgument { .. })))
    ));
}

#[test]
fn stats_reports_go_up_as_notifications() {
    let mut h = joined();
    let m0 = h.mark();
    let r = h.command(Command::ReportStats {
        stats: json!({"pc": "sub", "ts": 5, "rtt_ms": 31.5}).into(),
    });
    assert_eq!(h.completion(r), Some(Ok(json!({}))));
    assert_eq!(
        h.notifications_since(m0),
        [(
            "stats.report".to_owned(),
            json!({"pc": "sub", "ts": 5, "rtt_ms": 31.5})
        )]
    );
}

#[test]
fn mute_while_publishing_reaches_the_server() {
    let mut h = joined();
    let m0 = h.mark();
    h.inbox.push_back(Input::Command {
        handle: convene_core::RequestHandle(100),
        command: Command::Publish(mic()),
    });
    h.inbox.push_back(Input::Command {
        handle: convene_core::RequestHandle(101),
        command: Command::MuteTrack {
            cid: "c-mic".into(),
            muted: true,
        },
    });
    h.run();
    let reqs = h.requests_since(m0);
    let methods: Vec<&str> = reqs.iter().map(|(_, m, _)| m.as_str()).collect();
    assert_eq!(methods, ["track.publish", "track.mute", "pub.offer"]);
    assert_eq!(reqs[1].2["tracks"][0]["muted"], json!(true));
    assert!(h
        .completion(convene_core::RequestHandle(100))
        .expect("published")
        .is_ok());
    assert!(h.m.state().local_tracks["c-mic"].muted);
}

#[test]
fn an_offer_sent_before_the_join_result_is_not_lost() {
    // A server that pushes its first sub.offer (seq 1) before answering room.join, and counts
    // it in the snapshot baseline (seq 1).
    let mut h = Harness::new(server_with_bob());
    h.server.offer_on_join = false;
    h.lose_downlink = true;
    let j = h.command(Command::Join);
    h.lose_downlink = false;
    assert!(h.completion(j).is_none());
    let sess = h.server.session().expect("session").clone();
    let mut pre = h.server.send_sub_offer(false); // seq 1 (the session is joined server-side)
    let connect_frame = sess.cache.get("1").map(|c| c.2.clone());
    assert!(connect_frame.is_none(), "session.connect is not cached");
    // Re-drive the handshake: the client still waits for both results.
    let mut outs = Vec::new();
    let connect = h.server.on_frame(
        &convene_core::ovsp::envelope::ClientFrame::Request(
            convene_core::ovsp::envelope::Request {
                id: "1".into(),
                method: "session.connect".into(),
                params: h.requests_since(0)[0].2.clone().into(),
            },
        )
        .encode(),
    );
    outs.extend(connect);
    outs.append(&mut pre);
    let join = h.server.snapshot("mem_self2", 1);
    outs.push(ServerOut::Frame(
        convene_core::ovsp::envelope::ServerFrame::Response(
            convene_core::ovsp::envelope::Response::ok("2", &join),
        )
        .encode(),
    ));
    h.deliver(outs);
    assert!(h.completion(j).expect("joined").is_ok());
    assert!(
        h.methods_since(0).contains(&"sub.answer".to_owned()),
        "{:?}",
        h.methods_since(0)
    );
}

fn cam(muted: bool) -> PublishOptions {
    PublishOptions {
        cid: "c-cam".into(),
        kind: TrackKind::Video,
        source: MediaSource::Camera,
        muted,
        ..mic()
    }
}

fn stun() -> Vec<convene_core::IceServer> {
    vec![convene_core::IceServer {
        urls: vec!["stun:stun.example.net:3478".into()],
        username: None,
        credential: None,
    }]
}

#[test]
fn pub_reset_rebuilds_the_pub_pc_with_the_same_tracks_and_new_mids() {
    // Nothing published: nothing to rebuild, nothing sent.
    let mut h = joined();
    let m0 = h.mark();
    let r = h.command(Command::ResetPublisher);
    assert_eq!(h.completion(r), Some(Ok(json!({}))));
    assert!(h.requests_since(m0).is_empty());
    assert!(h.peer_ops_since(m0).is_empty());

    // c-mic on mid 0 (tr_1), a muted c-cam on mid 1 (tr_2); then c-mic goes away, so the
    // server's pub PC has mid 0 = c-mic, mid 1 = c-cam.
    let mut h = published();
    let c = h.command(Command::Publish(cam(true)));
    assert!(h.completion(c).expect("cam").is_ok());
    let u = h.command(Command::Unpublish {
        cid: "c-mic".into(),
    });
    assert!(h.completion(u).expect("unpublish").is_ok());
    assert_eq!(h.m.state().local_tracks["c-cam"].mid.as_deref(), Some("1"));
    let offers_before = h.peer.offers;

    let m1 = h.mark();
    let r = h.command(Command::ResetPublisher);
    assert_eq!(h.completion(r), Some(Ok(json!({}))));
    let reqs = h.requests_since(m1);
    assert_eq!(
        reqs.iter().map(|(_, m, _)| m.as_str()).collect::<Vec<_>>(),
        ["pub.reset", "pub.offer"],
        "no track.publish: the track ids stay"
    );
    assert_eq!(reqs[0].2, json!({}));
    assert_eq!(
        reqs[1].2,
        json!({"offer_id": 4, "sdp": format!("offer-{} ice_restart=false", offers_before + 1),
               "mids": {"0": "c-cam"}})
    );
    assert_eq!(
        h.peer_ops_since(m1),
        [
            PeerOp::ClosePc { pc: PcKind::Pub },
            PeerOp::CreatePc {
                pc: PcKind::Pub,
                ice_servers: stun()
            },
            PeerOp::AddTransceiver {
                cid: "c-cam".into(),
                kind: TrackKind::Video
            },
            // Still muted on the new PC.
            PeerOp::ReplaceTrack {
                cid: "c-cam".into(),
                detach: true
            },
            PeerOp::CreateOffer {
                pc: PcKind::Pub,
                ice_restart: false
            },
            PeerOp::SetLocalDescription {
                pc: PcKind::Pub,
                sdp_type: SdpType::Offer,
                sdp: format!("offer-{} ice_restart=false", offers_before + 1)
            },
            PeerOp::SetRemoteDescription {
                pc: PcKind::Pub,
                sdp_type: SdpType::Answer,
                sdp: "answer-4".into()
            },
        ]
    );
    // The server accepted mid 0 for c-cam only because pub.reset dropped its old pub side.
    assert_eq!(
        h.server.session().expect("s").pub_mids,
        [("0".to_owned(), "c-cam".to_owned())].into()
    );
    let l = &h.m.state().local_tracks["c-cam"];
    assert_eq!(
        (l.track_id.as_deref(), l.mid.as_deref()),
        (Some("tr_2"), Some("0"))
    );
    assert!(h.events_since(m1).is_empty(), "the room sees no change");
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);

    // `pub.reset` through the generic RPC does the same rebuild.
    let m2 = h.mark();
    let r = h.command(Command::Rpc {
        method: "pub.reset".into(),
        params: json!({}).into(),
    });
    assert_eq!(h.completion(r), Some(Ok(json!({}))));
    assert_eq!(h.methods_since(m2), ["pub.reset", "pub.offer"]);
    assert_eq!(
        h.peer_ops_since(m2)[..2],
        [
            PeerOp::ClosePc { pc: PcKind::Pub },
            PeerOp::CreatePc {
                pc: PcKind::Pub,
                ice_servers: stun()
            }
        ]
    );
    assert_eq!(h.requests_since(m2)[1].2["mids"], json!({"0": "c-cam"}));
}

#[test]
fn a_pub_reset_requirement_from_the_server_rebuilds_once() {
    let mut h = published();
    // The server cannot apply the next offer to its pub side (54402): rebuild and offer again.
    h.server.fail_once.insert(
        "pub.offer".into(),
        convene_core::ovsp::envelope::RpcError::new(Code::MIDS_INCONSISTENT, "mids"),
    );
    let m0 = h.mark();
    let c = h.command(Command::Publish(cam(false)));
    assert_eq!(
        h.completion(c).expect("cam").expect("ok")["track"]["id"],
        "tr_2"
    );
    assert_eq!(
        h.methods_since(m0),
        ["track.publish", "pub.offer", "pub.reset", "pub.offer"]
    );
    let reqs = h.requests_since(m0);
    assert_eq!(reqs[1].2["mids"], json!({"0": "c-mic", "1": "c-cam"}));
    assert_eq!(reqs[3].2["mids"], json!({"0": "c-mic", "1": "c-cam"}));
    assert!(reqs[3].2["offer_id"].as_u64() > reqs[1].2["offer_id"].as_u64());
    let ops = h.peer_ops_since(m0);
    let close = ops
        .iter()
        .position(|o| *o == PeerOp::ClosePc { pc: PcKind::Pub })
        .expect("pub PC closed");
    assert_eq!(
        ops[close..close + 4],
        [
            PeerOp::ClosePc { pc: PcKind::Pub },
            PeerOp::CreatePc {
                pc: PcKind::Pub,
                ice_servers: stun()
            },
            PeerOp::AddTransceiver {
                cid: "c-mic".into(),
                kind: TrackKind::Audio
            },
            PeerOp::AddTransceiver {
                cid: "c-cam".into(),
                kind: TrackKind::Video
            },
        ]
    );
    assert!(!h.event_kinds_since(m0).contains(&"track_publish_failed"));

    // The local PC cannot apply the server's answer: rebuilt the same way.
    let m1 = h.mark();
    h.input(Input::Peer(PeerEvent::OperationFailed {
        pc: PcKind::Pub,
        op: convene_core::PeerOpKind::SetRemoteDescription,
        message: "bad answer".into(),
    }));
    assert_eq!(h.methods_since(m1), ["pub.reset", "pub.offer"]);
    assert_eq!(h.peer_ops_since(m1)[0], PeerOp::ClosePc { pc: PcKind::Pub });

    // A server that refuses the rebuilt PC's offer too: one rebuild, then the publish fails.
    h.server.fail.insert(
        "pub.offer".into(),
        convene_core::ovsp::envelope::RpcError::new(Code::MIDS_INCONSISTENT, "mids"),
    );
    let m2 = h.mark();
    let s = h.command(Command::Publish(PublishOptions {
        cid: "c-screen".into(),
        kind: TrackKind::Video,
        source: MediaSource::Screen,
        ..mic()
    }));
    let err = h.completion(s).expect("done").expect_err("refused");
    assert_eq!(err.code(), Code::MIDS_INCONSISTENT);
    assert_eq!(
        h.methods_since(m2),
        ["track.publish", "pub.offer", "pub.reset", "pub.offer"]
    );
    assert!(h.event_kinds_since(m2).contains(&"track_publish_failed"));
    // An application reset that cannot be answered fails with the server's error.
    let r = h.command(Command::ResetPublisher);
    assert_eq!(
        h.completion(r).expect("done").expect_err("refused").code(),
        Code::MIDS_INCONSISTENT
    );
}

#[test]
fn a_full_rejoin_after_ice_failure_leaves_the_old_session_first() {
    let mut h = published();
    h.peer.auto_ice = false;
    let old_session = h.m.session_id().expect("sid").to_owned();
    let old_member = h.m.state().self_id().expect("self").to_owned();
    h.input(Input::Peer(PeerEvent::IceState {
        pc: PcKind::Pub,
        state: IceState::Failed,
    }));
    let t0 = h.now;
    h.advance(14_999);
    let m0 = h.mark();
    h.advance(1);
    // In the same turn: room.leave on the old socket, close it, and start the fresh session
    // without waiting for the leave's answer.
    let outs = h.outputs_since(m0);
    let leave = outs
        .iter()
        .position(|o| matches!(o, Output::SendFrame(f) if f.to_string().contains("\"room.leave\"")))
        .expect("room.leave sent");
    let close = outs
        .iter()
        .position(|o| matches!(o, Output::CloseSocket { .. }))
        .expect("old socket closed");
    let open = outs
        .iter()
        .position(|o| matches!(o, Output::OpenSocket { .. }))
        .expect("new socket");
    assert!(leave < close && close < open, "{outs:?}");
    assert!(h.log[m0..].iter().all(|(t, _)| *t == t0 + 15_000));
    let mut reqs = h.requests_since(m0);
    reqs.retain(|(_, m, _)| m != "ping"); // a ping may fall due in the same turn
    assert_eq!(reqs[0].1, "room.leave");
    assert_eq!(reqs[0].2, json!({"reason": "media failed"}));
    assert_eq!(reqs[1].1, "session.connect");
    assert!(reqs[1].2.get("resume").is_none(), "a full rejoin");
    assert!(
        reqs[1].0.parse::<u64>().expect("id") > reqs[0].0.parse::<u64>().expect("id"),
        "ids stay unique"
    );
    // The server got the leave on the old session and dropped it: no lingering member.
    assert!(h.server.received.iter().any(|(_, m, _)| m == "room.leave"));
    assert!(!h.server.sessions.contains_key(&old_session));
    assert!(h
        .server
        .sessions
        .values()
        .all(|s| s.member_id != old_member));
    // The rejoin went through; the leave ended nothing on the client side.
    assert_eq!(h.m.state().self_id(), Some("mem_self2"));
    assert_eq!(h.m.connection_state(), &ConnectionState::Connected);
    let kinds = h.event_kinds_since(m0);
    assert!(!kinds.contains(&"room_left"), "{kinds:?}");
    assert!(
        kinds.ends_with(&[
            "connection_state_changed",
            "reconnected",
            "track_published",
            "stream_published"
        ]),
        "{kinds:?}"
    );
    assert!(h.methods_since(m0).ends_with(&[
        "track.publish".to_owned(),
        "sub.answer".to_owned(),
        "pub.offer".to_owned()
    ]));

    // With the signaling socket already gone there is nothing to send the leave on.
    let mut h = published();
    h.peer.auto_ice = false;
    h.input(Input::Peer(PeerEvent::IceState {
        pc: PcKind::Pub,
        state: IceState::Failed,
    }));
    h.offline = true;
    h.cut(1006);
    let m1 = h.mark();
    h.advance(15_000);
    assert!(!h.methods_since(m1).contains(&"room.leave".to_owned()));
}

#[test]
fn a_publish_answered_after_the_offer_that_named_it_still_completes() {
    // The camera's cid already has a transceiver with a mid (as one left from an earlier
    // publish of that cid) when a pub offer is made while its track.publish is unanswered: the
    // offer's answer must not take the publish waiter, which completes once the result comes.
    let mut h = published();
    h.peer.manual_offer = true;
    h.input(Input::Peer(PeerEvent::IceState {
        pc: PcKind::Pub,
        state: IceState::Failed,
    }));
    h.lose_downlink = true;
    let c = h.command(Command::Publish(cam(false)));
    h.lose_downlink = false;
    h.peer.transceivers.insert("c-cam".into(), "9".into());
    h.input(Input::Peer(PeerEvent::DescriptionCreated {
        pc: PcKind::Pub,
        sdp_type: SdpType::Offer,
        sdp: "offer-restart".into(),
    }));
    assert!(h.completion(c).is_none(), "no track.publish result yet");
    // The unanswered track.publish is resent over a resumed socket and answered.
    h.peer.manual_offer = false;
    h.advance(30_000);
    assert_eq!(h.completions_of(c), 1);
    assert!(h.completion(c).expect("completed").is_ok());
}
