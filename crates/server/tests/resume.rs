//! Resume: replay exactly once, response cache, rotating single-use tokens, window expiry,
//! snapshot after a gap, ping timeout, superseded sockets.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const SHORT: Duration = Duration::from_millis(300);

async fn wait_state(c: &mut Client, member_id: &str, state: &str) {
    loop {
        let ev = c.event("member.updated").await;
        if ev.data["member"]["id"] == member_id && ev.data["member"]["state"] == state {
            return;
        }
    }
}

#[tokio::test]
async fn resume_replays_missed_events_exactly_once() {
    let env = start().await;
    let (mut a, _) = env.joined("a", "res", ALL_PERMS).await;
    let (mut b, _) = env.joined("b", "res", ALL_PERMS).await;
    let bid = b.member_id.clone();
    a.call("message.send", json!({"to": [bid], "payload": "before"}))
        .await
        .unwrap();
    assert_eq!(b.event("message.received").await.data["payload"], "before");
    let _ = b.drain(SHORT).await;
    let (sid, token, last) = (b.session_id.clone(), b.resume_token.clone(), b.last_seq);
    b.drop_connection();

    wait_state(&mut a, &bid, "reconnecting").await;
    for i in 0..5 {
        a.call("message.send", json!({"to": [bid], "payload": i}))
            .await
            .unwrap();
    }
    let (mut b2, r) = env.resume(&sid, &token, last).await;
    let r = r.unwrap();
    assert_eq!(r["resumed"], true);
    assert_eq!(r["session_id"], sid.as_str());
    assert_ne!(
        r["resume_token"],
        token.as_str(),
        "the resume token rotates"
    );
    let from = r["replay"]["from"].as_u64().unwrap();
    let to = r["replay"]["to"].as_u64().unwrap();
    assert_eq!(from, last + 1);
    assert!(
        to >= last + 6,
        "replay {from}..{to} must cover reconnecting + 5 messages"
    );
    let evs = b2.drain(Duration::from_millis(500)).await;
    let payloads: Vec<Value> = evs
        .iter()
        .filter(|e| e.event_type == "message.received")
        .map(|e| Value::from(e.data["payload"].clone()))
        .collect();
    assert_eq!(payloads, (0..5).map(Value::from).collect::<Vec<_>>());
    assert_eq!(b2.duplicates, 0);
    assert!(b2.last_seq >= to);
    wait_state(&mut a, &bid, "active").await;

    // The old resume token is single use.
    let (mut c, r) = env.resume(&sid, &token, last).await;
    assert_eq!(
        assert_code(&r, 54005).action(),
        Some(ovsp::model::SessionAction::Rejoin)
    );
    // ... and the socket is still usable for a fresh connect.
    c.connect(&env.token_for("c", "res", &[])).await.unwrap();

    // The session keeps working after the resume.
    b2.call(
        "message.send",
        json!({"to": [a.member_id], "payload": "after"}),
    )
    .await
    .unwrap();
    let mut got = a.event("message.received").await;
    while got.data["payload"] != "after" {
        got = a.event("message.received").await;
    }
}

#[tokio::test]
async fn response_cache_answers_a_repeated_id_without_a_second_effect() {
    let env = start().await;
    let (mut a, _) = env.joined("a", "cache", ALL_PERMS).await;
    let (mut b, _) = env.joined("b", "cache", ALL_PERMS).await;
    let aid = a.member_id.clone();
    let _ = a.drain(SHORT).await;
    let params = json!({"to": [aid], "payload": "once"});
    let r1 = b
        .call_id("m1", "message.send", params.clone())
        .await
        .unwrap();
    // (A cached response is byte-identical, including its original `seq`.)
    b.send_request("m1", "message.send", &params).await;
    let r2 = b.response("m1").await.outcome.unwrap();
    assert_eq!(r1, r2, "same id + same params = the cached response");
    assert_code(
        &b.call_id(
            "m1",
            "message.send",
            json!({"to": [aid], "payload": "twice"}),
        )
        .await,
        54006,
    );
    let evs = a.drain(SHORT).await;
    assert_eq!(
        evs.iter()
            .filter(|e| e.event_type == "message.received")
            .count(),
        1
    );

    // Across a resume: the request is sent, the socket dies before the answer is read, the
    // client resumes and re-sends the same id.
    let p2 = json!({"to": [aid], "payload": "lost-answer"});
    b.send_request("m2", "message.send", &p2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (sid, token, last) = (b.session_id.clone(), b.resume_token.clone(), b.last_seq);
    b.drop_connection();
    let (mut b2, r) = env.resume(&sid, &token, last).await;
    r.unwrap();
    b2.send_request("m2", "message.send", &p2).await;
    let r = b2.response("m2").await.outcome.unwrap();
    assert!(r["message_id"].as_str().unwrap().starts_with("msg_"));
    let evs = a.drain(Duration::from_millis(500)).await;
    let n = evs
        .iter()
        .filter(|e| e.event_type == "message.received" && e.data["payload"] == "lost-answer")
        .count();
    assert_eq!(n, 1, "the re-sent request had no second effect");
}

#[tokio::test]
async fn unknown_session_and_window_expiry() {
    let env = start_with(|c| c.resume_window = Duration::from_millis(400)).await;
    let (mut c, r) = env.resume("ses_nope", "rt_nope", 0).await;
    let e = assert_code(&r, 54004);
    assert_eq!(e.action(), Some(ovsp::model::SessionAction::Rejoin));
    c.connect(&env.token_for("x", "exp", &[])).await.unwrap();

    let (mut a, _) = env.joined("a", "exp", ALL_PERMS).await;
    let (b, _) = env.joined("b", "exp", ALL_PERMS).await;
    let (bid, sid, token, last) = (
        b.member_id.clone(),
        b.session_id.clone(),
        b.resume_token.clone(),
        b.last_seq,
    );
    b.drop_connection();
    wait_state(&mut a, &bid, "reconnecting").await;
    let left = a.event("member.left").await;
    assert_eq!(left.data["member_id"], bid.as_str());
    assert_eq!(left.data["reason"], "timeout");
    let (_c, r) = env.resume(&sid, &token, last).await;
    assert_code(&r, 54004);
}

#[tokio::test]
async fn a_gap_in_the_replay_buffer_gives_a_snapshot() {
    let env = start_with(|c| {
        c.replay_buffer_events = 3;
        c.replay_buffer_bytes = 0;
    })
    .await;
    let (mut a, _) = env.joined("a", "gap", ALL_PERMS).await;
    let (b, _) = env.joined("b", "gap", ALL_PERMS).await;
    let (bid, sid, token, last) = (
        b.member_id.clone(),
        b.session_id.clone(),
        b.resume_token.clone(),
        b.last_seq,
    );
    b.drop_connection();
    wait_state(&mut a, &bid, "reconnecting").await;
    for i in 0..6 {
        a.call("message.send", json!({"to": [bid], "payload": i}))
            .await
            .unwrap();
    }
    a.call("room.set_meta", json!({"meta": {"k": "v"}}))
        .await
        .unwrap();
    let (mut b2, r) = env.resume(&sid, &token, last).await;
    let r = r.unwrap();
    assert!(r.get("replay").is_none());
    let snap: ovsp::model::Snapshot = serde_json::from_value(r["snapshot"].clone()).unwrap();
    assert_eq!(snap.room.meta["k"], "v");
    assert_eq!(snap.members.len(), 1);
    assert!(snap.seq >= last + 7);
    // Continue from the snapshot's seq.
    b2.last_seq = snap.seq;
    a.call("message.send", json!({"to": [bid], "payload": "live"}))
        .await
        .unwrap();
    let mut ev = b2.event("message.received").await;
    while ev.data["payload"] != "live" {
        ev = b2.event("message.received").await;
    }
}

#[tokio::test]
async fn ping_timeout_closes_with_4008_and_the_session_resumes() {
    let env = start_with(|c| c.ping_timeout = Duration::from_millis(400)).await;
    let (mut a, _) = env.joined("a", "idle", ALL_PERMS).await;
    let closing = a.event("session.closing").await;
    assert_eq!(closing.data["reason"], "timeout");
    assert_eq!(closing.data["action"], "resume");
    assert_eq!(a.closed_code().await, Some(4008));
    let (mut a2, r) = env.resume(&a.session_id, &a.resume_token, a.last_seq).await;
    assert_eq!(r.unwrap()["resumed"], true);
    assert!(a2.call("ping", json!({"ts": 1})).await.is_ok());
}

#[tokio::test]
async fn a_resume_supersedes_the_old_socket() {
    let env = start().await;
    let (mut a, _) = env.joined("a", "sup", ALL_PERMS).await;
    let (mut a2, r) = env.resume(&a.session_id, &a.resume_token, a.last_seq).await;
    r.unwrap();
    assert_eq!(a.closed_code().await, Some(4002));
    assert!(a2.call("member.list", json!({})).await.is_ok());
}

#[tokio::test]
async fn server_shutdown_says_resume_and_closes_with_4012() {
    let env = start().await;
    let (mut a, _) = env.joined("a", "bye", ALL_PERMS).await;
    env.server.shutdown().await;
    let closing = a.event("session.closing").await;
    assert_eq!(closing.data["reason"], "server_shutdown");
    assert_eq!(closing.data["action"], "resume");
    assert_eq!(a.closed_code().await, Some(4012));
}

/// Connects with the `debug_simulate` capability and joins.
async fn debug_client(env: &Env, identity: &str) -> Client {
    let mut c = env.client().await;
    let r = c
        .call(
            "session.connect",
            json!({"protocol": {"major": 1, "minor": 0}, "capabilities": ["debug_simulate"],
                   "token": env.token_for(identity, "sim", ALL_PERMS)}),
        )
        .await
        .unwrap();
    c.session_id = r["session_id"].as_str().unwrap().to_string();
    c.resume_token = r["resume_token"].as_str().unwrap().to_string();
    assert!(r["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "debug_simulate"));
    c.join(json!({})).await.unwrap();
    c
}

#[tokio::test]
async fn debug_simulate_scenarios_in_dev_mode_only() {
    // Production: refused even when the client asks for the capability.
    let prod = start().await;
    let (mut p, r) = prod.connected(&prod.token_for("p", "sim", ALL_PERMS)).await;
    assert!(!r["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "debug_simulate"));
    p.join(json!({})).await.unwrap();
    assert_code(
        &p.call("debug.simulate", json!({"scenario": "drop_signal"}))
            .await,
        -32601,
    );

    let env = start_with(|c| c.dev = true).await;
    let (mut watcher, _) = env.joined("watcher", "sim", ALL_PERMS).await;

    // drop_signal: 4008, then a resume replays what was missed.
    let mut a = debug_client(&env, "a").await;
    a.call("debug.simulate", json!({"scenario": "drop_signal"}))
        .await
        .unwrap();
    assert_eq!(a.closed_code().await, Some(4008));
    watcher
        .call("message.send", json!({"to": [a.member_id], "payload": "x"}))
        .await
        .unwrap();
    let (mut a2, r) = env.resume(&a.session_id, &a.resume_token, a.last_seq).await;
    assert!(r.unwrap().get("replay").is_some());
    assert_eq!(a2.event("message.received").await.data["payload"], "x");

    // resume_gap: the resume gets a snapshot.
    a2.call_id("g1", "debug.simulate", json!({"scenario": "resume_gap"}))
        .await
        .unwrap();
    assert_eq!(a2.closed_code().await, Some(4008));
    let (_a3, r) = env
        .resume_with_ids(&a2.session_id, &a2.resume_token, 0, 2000)
        .await;
    assert!(r.unwrap().get("snapshot").is_some());

    // session_unknown: the session is gone (54004).
    let mut b = debug_client(&env, "b").await;
    b.call("debug.simulate", json!({"scenario": "session_unknown"}))
        .await
        .unwrap();
    assert_eq!(b.closed_code().await, Some(4008));
    let (_c, r) = env.resume(&b.session_id, &b.resume_token, b.last_seq).await;
    assert_code(&r, 54004);

    // server_leave_resume / server_leave_rejoin: session.closing with the action, 4012.
    let mut c = debug_client(&env, "c").await;
    c.call("debug.simulate", json!({"scenario": "server_leave_resume"}))
        .await
        .unwrap();
    assert_eq!(c.event("session.closing").await.data["action"], "resume");
    assert_eq!(c.closed_code().await, Some(4012));
    let (mut c2, r) = env.resume(&c.session_id, &c.resume_token, c.last_seq).await;
    r.unwrap();
    c2.call("debug.simulate", json!({"scenario": "server_leave_rejoin"}))
        .await
        .unwrap();
    assert_eq!(c2.event("session.closing").await.data["action"], "rejoin");
    assert_eq!(c2.closed_code().await, Some(4012));
    let (_c3, r) = env
        .resume_with_ids(&c2.session_id, &c2.resume_token, c2.last_seq, 3000)
        .await;
    assert_code(&r, 54004);

    // ice_fail_pub asks for a pub ICE restart; unknown scenarios are invalid params.
    let mut d = debug_client(&env, "d").await;
    d.call("debug.simulate", json!({"scenario": "ice_fail_pub"}))
        .await
        .unwrap();
    d.event("pub.ice_restart_requested").await;
    assert_code(
        &d.call("debug.simulate", json!({"scenario": "meteor"}))
            .await,
        -32602,
    );
}
