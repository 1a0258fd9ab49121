//! Malformed frames, limits, rate limiting, and a fuzz property: random frames never crash the
//! server or disturb another session.

mod common;

use std::time::Duration;

use common::*;
use ovsp::envelope::ServerFrame;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

#[tokio::test]
async fn malformed_frames_leave_the_session_usable() {
    let env = start().await;
    let (mut a, _) = env.joined("a", "bad", ALL_PERMS).await;
    let cases: Vec<(&str, i32)> = vec![
        ("{", -32700),
        ("not json at all", -32700),
        ("[1,2,3]", -32600),
        (
            r#"{"jsonrpc":"1.0","id":"x1","method":"ping","params":{"ts":1}}"#,
            -32600,
        ),
        (r#"{"id":"x2","method":"ping","params":{"ts":1}}"#, -32600),
        (r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#, -32600),
        (
            r#"{"jsonrpc":"2.0","id":"x3","method":"member.set_input_volume","params":{"volume":"loud"}}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":"x4","method":"message.send","params":{}}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":"x5","method":"track.mute","params":{"tracks":5}}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":"x6","method":"ping","params":"nope"}"#,
            -32600,
        ),
        (
            r#"{"jsonrpc":"2.0","id":"x7","method":"does.not.exist","params":{}}"#,
            -32601,
        ),
    ];
    for (frame, code) in cases {
        a.send_raw(frame).await;
        let r = a.any_response().await;
        let e = r.outcome.expect_err(frame);
        assert_eq!(e.code.0, code, "{frame}: {e:?}");
        if code == -32602 {
            assert!(
                e.data.as_ref().and_then(|d| d.field.as_ref()).is_some(),
                "{frame}: field"
            );
        }
        assert!(
            a.call("ping", json!({"ts": 1})).await.is_ok(),
            "unusable after {frame}"
        );
    }
    // Binary frames are not used on the signaling socket.
    a.send_binary(vec![0, 1, 2, 3]).await;
    let r = a.any_response().await;
    assert_eq!(r.outcome.unwrap_err().code.0, -32700);
    // A frame over 256 KiB: 54008, session usable.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":"big","method":"message.send","params":{{"payload":"{}"}}}}"#,
        "z".repeat(300 * 1024)
    );
    a.send_raw(&big).await;
    let r = a.any_response().await;
    assert_eq!(r.outcome.unwrap_err().code.0, 54008);
    // Unknown fields anywhere are ignored.
    let r = a
        .call("member.list", json!({"future_field": {"x": 1}}))
        .await
        .unwrap();
    assert_eq!(r["members"].as_array().unwrap().len(), 1);
    a.send_raw(r#"{"jsonrpc":"2.0","id":"u1","method":"ping","params":{"ts":5,"extra":[1]},"extra_top":true}"#)
        .await;
    assert_eq!(a.response("u1").await.outcome.unwrap()["ts"], 5);
    // Unknown notifications are ignored silently.
    a.notify("future.notification", json!({"a": 1})).await;
    a.notify("stats.report", json!({"pc": "pub", "ts": 1}))
        .await;
    assert!(a.call("ping", json!({"ts": 2})).await.is_ok());
}

#[tokio::test]
async fn rate_limit_is_50_per_second_with_a_burst_of_100() {
    let env = start().await;
    let (mut a, _) = env.joined("a", "rate", &[]).await;
    let n = 160;
    let t0 = std::time::Instant::now();
    for i in 0..n {
        a.send_request(&format!("p{i}"), "ping", &json!({"ts": i}))
            .await;
    }
    let (mut ok, mut limited) = (0, 0);
    for _ in 0..n {
        let r = a.any_response().await;
        match r.outcome {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.code.0, 54007);
                assert!(e.data.as_ref().unwrap().retry_after_ms.unwrap() > 0);
                limited += 1;
            }
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    // room.join took one token of the burst; the bucket refills at 50/s meanwhile.
    assert!(ok >= 99, "burst of 100 allowed, got {ok}");
    let allowed = 100.0 + 50.0 * elapsed + 1.0;
    assert!(
        f64::from(ok) <= allowed,
        "{ok} requests passed in {elapsed:.2}s (at most {allowed:.0})"
    );
    if elapsed < 1.0 {
        assert!(limited >= 1, "nothing was rate limited in {elapsed:.2}s");
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(a.call("ping", json!({"ts": 1})).await.is_ok());
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        Just(Value::from("mem_x")),
        Just(Value::from("all")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    ".{0,8}",
                    Just("member_id".to_string()),
                    Just("track_id".to_string()),
                    Just("meta".to_string()),
                    Just("payload".to_string()),
                    Just("to".to_string()),
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn frame() -> impl Strategy<Value = String> {
    let methods: Vec<&'static str> = ovsp::METHODS
        .iter()
        .map(|m| m.name)
        .filter(|m| *m != "room.leave")
        .collect();
    prop_oneof![
        // Arbitrary text.
        ".{0,64}",
        // Arbitrary JSON.
        json_value().prop_map(|v| v.to_string()),
        // Well-formed envelopes with random params (ids may repeat: cache / 54006 paths).
        (prop::sample::select(methods), json_value(), 0u8..20).prop_map(|(m, p, id)| {
            json!({"jsonrpc": "2.0", "id": format!("f{id}"), "method": m, "params": p}).to_string()
        }),
        // Notifications with random params.
        (
            prop::sample::select(vec!["session.ack", "ice.candidate", "stats.report", "x.y"]),
            json_value()
        )
            .prop_map(|(m, p)| json!({"jsonrpc": "2.0", "method": m, "params": p}).to_string()),
        // Envelope damage.
        json_value().prop_map(|v| json!({"jsonrpc": v, "id": "d", "method": "ping"}).to_string()),
    ]
}

/// Pings and waits for the answer, skipping everything else; false when the socket is gone.
async fn alive(c: &mut Client, id: &str) -> bool {
    c.send_request(id, "ping", &json!({"ts": 1})).await;
    loop {
        match c.recv_timeout(WAIT).await {
            None => panic!("no answer to ping {id}"),
            Some(Frame::Close(_)) => return false,
            Some(Frame::Server(ServerFrame::Response(r))) if r.id.as_deref() == Some(id) => {
                return match r.outcome {
                    Ok(_) => true,
                    // Rate limited or id reuse still proves the session is alive.
                    Err(e) => e.code.0 == 54007 || e.code.0 == 54006,
                };
            }
            Some(Frame::Server(ServerFrame::Event(ev))) => c.file_event(ev),
            Some(_) => {}
        }
    }
}

#[tokio::test]
async fn random_frames_never_crash_the_server_or_another_session() {
    let env = start().await;
    let (mut bystander, _) = env.joined("bystander", "fuzz", ALL_PERMS).await;
    let mut runner = TestRunner::new(Config {
        cases: 1,
        ..Config::default()
    });
    let batches = prop::collection::vec(frame(), 1..24);
    let mut fuzzer: Option<Client> = None;
    let mut sent = 0usize;
    for round in 0..40 {
        if fuzzer.is_none() {
            let (mut c, _) = env.connected(&env.token_for("fuzzer", "fuzz", &[])).await;
            // Half of the rounds fuzz before joining, half after.
            if round % 2 == 0 {
                c.join(json!({})).await.unwrap();
            }
            fuzzer = Some(c);
        }
        let frames = batches.new_tree(&mut runner).unwrap().current();
        let c = fuzzer.as_mut().unwrap();
        for f in &frames {
            c.send_raw(f).await;
            sent += 1;
        }
        if !alive(c, &format!("alive{round}")).await {
            fuzzer = None;
        }
        // Pace the rounds so the rate limiter is not the only thing exercised.
        if round % 4 == 3 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            fuzzer = None;
        }
        assert!(
            alive(&mut bystander, &format!("b{round}")).await,
            "bystander lost after round {round}"
        );
    }
    let evs = bystander.drain(Duration::from_millis(200)).await;
    assert!(!evs.iter().any(|e| e.event_type == "session.closing"));
    // The server still accepts new sessions.
    let (mut fresh, _) = env.joined("fresh", "fuzz", &[]).await;
    assert!(fresh.call("ping", json!({"ts": 1})).await.is_ok());
    println!("fuzz: {sent} random frames in 40 rounds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_does_not_read_is_disconnected_and_can_resume() {
    // Small budgets so the test needs little traffic: 50 unacked events are kept for resume;
    // beyond that, 256 KiB more may wait in the socket's queue.
    let env = start_with(|c| {
        c.max_queued_bytes = 256 * 1024;
        c.replay_buffer_events = 50;
        c.replay_buffer_bytes = 0;
    })
    .await;
    let (mut slow, _) = env.joined("slow", "slow", ALL_PERMS).await;
    let slow_id = slow.member_id.clone();
    let (sid, token) = (slow.session_id.clone(), slow.resume_token.clone());
    // Four senders, 100 messages of ~60 KiB each: far more than the socket buffers hold.
    let payload = "p".repeat(60 * 1024);
    let mut senders = vec![];
    for s in 0..4 {
        let (mut c, _) = env.joined(&format!("sender{s}"), "slow", ALL_PERMS).await;
        let payload = payload.clone();
        let to = slow_id.clone();
        senders.push(tokio::spawn(async move {
            for k in 0..100 {
                c.send_request(
                    &format!("s{k}"),
                    "message.send",
                    &json!({"to": [to], "payload": {"s": s, "k": k, "pad": payload}}),
                )
                .await;
            }
            for _ in 0..100 {
                c.any_response().await.outcome.unwrap();
            }
            c
        }));
    }
    let mut keep = vec![];
    for t in senders {
        keep.push(t.await.unwrap());
    }
    // The server gave up on this socket (4008) instead of queueing without bound.
    assert_eq!(slow.closed_code().await, Some(4008));
    // Whatever the client processed, the events in order and without gaps (checked by the
    // client); it resumes, with a snapshot since the small replay buffer dropped events.
    let (mut again, r) = env.resume(&sid, &token, slow.last_seq).await;
    let r = r.unwrap();
    assert_eq!(r["resumed"], true);
    assert!(r.get("snapshot").is_some() || r.get("replay").is_some());
    assert!(again.call("ping", json!({"ts": 1})).await.is_ok());
    // The others were not disturbed.
    for c in keep.iter_mut() {
        assert!(c.call("ping", json!({"ts": 1})).await.is_ok());
    }
}
