//! 200 sessions in one room, each sending 10 messages: every recipient gets every message
//! exactly once, in each sender's order. Prints the time taken and the process's peak memory
//! (VmHWM; server and clients share this process). No timing assertions.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use ovsp::envelope::ServerFrame;
use serde_json::json;

const SESSIONS: usize = 200;
const MESSAGES: usize = 10;

fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "n/a".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sessions_ten_messages_each() {
    let env = start().await;
    let t0 = Instant::now();
    let mut clients = Vec::with_capacity(SESSIONS);
    for i in 0..SESSIONS {
        let (c, _) = env
            .joined(&format!("user{i:03}"), "load", &["room.message.send"])
            .await;
        clients.push(c);
    }
    let joined = t0.elapsed();
    let ids: Vec<String> = clients.iter().map(|c| c.member_id.clone()).collect();
    let index: HashMap<String, usize> = ids
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, id)| (id, i))
        .collect();

    let t1 = Instant::now();
    let mut tasks = Vec::new();
    for (me, mut c) in clients.into_iter().enumerate() {
        let index = index.clone();
        tasks.push(tokio::spawn(async move {
            // Send all ten messages (pipelined), then read until every other sender's ten have
            // arrived and our ten responses are in.
            for k in 0..MESSAGES {
                c.send_request(
                    &format!("m{k}"),
                    "message.send",
                    &json!({"payload": {"from": me, "k": k}}),
                )
                .await;
            }
            let mut next_k = vec![0usize; SESSIONS];
            let mut received = 0usize;
            let mut responses = 0usize;
            let expected = (SESSIONS - 1) * MESSAGES;
            while received < expected || responses < MESSAGES {
                match c.recv_timeout(Duration::from_secs(60)).await {
                    None => panic!("session {me}: stalled at {received}/{expected}"),
                    Some(Frame::Close(code)) => panic!("session {me}: closed {code:?}"),
                    Some(Frame::Server(ServerFrame::Response(r))) => {
                        r.outcome.unwrap_or_else(|e| panic!("session {me}: {e:?}"));
                        responses += 1;
                    }
                    Some(Frame::Server(ServerFrame::Event(ev))) => {
                        let ty = ev.event_type.clone();
                        let data = ev.data.clone();
                        c.file_event(ev);
                        c.events.clear();
                        if ty == "message.received" {
                            let from = data["payload"]["from"].as_u64().unwrap() as usize;
                            let k = data["payload"]["k"].as_u64().unwrap() as usize;
                            assert_ne!(from, me, "own message echoed");
                            assert_eq!(index[data["from_member_id"].as_str().unwrap()], from);
                            assert_eq!(
                                k, next_k[from],
                                "session {me}: out of order or duplicate from {from}"
                            );
                            next_k[from] += 1;
                            received += 1;
                            if received.is_multiple_of(256) {
                                c.ack().await;
                            }
                        }
                    }
                }
            }
            c.ack().await;
            assert_eq!(c.duplicates, 0);
            assert!(next_k
                .iter()
                .enumerate()
                .all(|(i, k)| i == me || *k == MESSAGES));
            received
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    let delivered = t1.elapsed();
    assert_eq!(total, SESSIONS * (SESSIONS - 1) * MESSAGES);
    println!(
        "load: {SESSIONS} sessions joined in {:.2?}; {} messages sent, {total} deliveries in {:.2?}; peak RSS (VmHWM, server + clients in one process): {}",
        joined,
        SESSIONS * MESSAGES,
        delivered,
        vm_hwm()
    );
}
