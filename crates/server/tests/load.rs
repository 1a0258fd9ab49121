//! 200 sessions in one room, each sending 10 messages: every recipient gets every message
//! exactly once, in each sender's order. The server runs as its own process (the
//! `convene-server` binary, signaling only) so its peak memory (VmHWM) can be read apart from
//! the clients'. Prints the time taken and both peaks. No timing assertions.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use ovsp::envelope::ServerFrame;
use serde_json::json;

const SESSIONS: usize = 200;
const MESSAGES: usize = 10;
/// Clients ping like real ones, so a slow run never trips the server's 15 s ping timeout.
const PING_EVERY: Duration = Duration::from_secs(4);

/// Kills the server process even when the test panics.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for the next frame while keeping the session alive with pings; `None` after 60 s of
/// silence.
async fn next_frame(c: &mut Client, last_ping: &mut Instant, pings: &mut u64) -> Option<Frame> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if last_ping.elapsed() >= PING_EVERY {
            *pings += 1;
            c.send_request(&format!("ping{pings}"), "ping", &json!({"ts": 0}))
                .await;
            *last_ping = Instant::now();
        }
        let wait = PING_EVERY
            .saturating_sub(last_ping.elapsed())
            .max(Duration::from_millis(50));
        if let Some(f) = c.recv_timeout(wait).await {
            return Some(f);
        }
        if Instant::now() > deadline {
            return None;
        }
    }
}

fn vm_hwm(pid: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
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
    // The server under test: a separate process with the same HS256 key as `env.keys`.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let keys = std::env::temp_dir().join(format!("convene-load-keys-{port}.json"));
    let secret = String::from_utf8(HS_SECRET.to_vec()).unwrap();
    std::fs::write(
        &keys,
        json!({"keys": [{"kid": HS_KID, "alg": "HS256", "secret": secret}]}).to_string(),
    )
    .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_convene-server"))
        .args([
            "--no-media",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--keys",
        ])
        .arg(&keys)
        .env(
            "RUST_LOG",
            std::env::var("CONVENE_LOAD_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .spawn()
        .expect("start convene-server");
    let child = ChildGuard(child);
    let url = format!("ws://127.0.0.1:{port}/ovsp");
    let ready = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            ready.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let server_pid = child.0.id().to_string();
    let t0 = Instant::now();
    // Join in parallel batches (as real clients arrive), each client keeping itself alive.
    let mut clients = Vec::with_capacity(SESSIONS);
    for batch in (0..SESSIONS).collect::<Vec<_>>().chunks(20) {
        let mut joins = Vec::new();
        for &i in batch {
            let url = url.clone();
            let token = env.token_for(&format!("user{i:03}"), "load", &["room.message.send"]);
            joins.push(tokio::spawn(async move {
                let mut c = Client::open(&url, true).await;
                c.connect(&token).await.unwrap();
                c.join(json!({})).await.unwrap();
                c
            }));
        }
        for j in joins {
            clients.push(j.await.unwrap());
        }
        for c in clients.iter_mut() {
            c.send_request(
                &format!("keepalive{}", c.last_seq),
                "ping",
                &json!({"ts": 0}),
            )
            .await;
        }
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
            let (mut last_ping, mut pings) = (Instant::now(), 0u64);
            while received < expected || responses < MESSAGES {
                match next_frame(&mut c, &mut last_ping, &mut pings).await {
                    None => panic!("session {me}: stalled at {received}/{expected}"),
                    Some(Frame::Close(code)) => panic!("session {me}: closed {code:?}"),
                    Some(Frame::Server(ServerFrame::Response(r))) => {
                        let id = r.id.clone().unwrap_or_default();
                        r.outcome
                            .unwrap_or_else(|e| panic!("session {me}: {id}: {e:?}"));
                        if id.starts_with('m') {
                            responses += 1;
                        }
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
    let server_peak = vm_hwm(&server_pid);
    drop(child);
    let _ = std::fs::remove_file(&keys);
    println!(
        "load: {SESSIONS} sessions joined in {:.2?}; {} messages sent, {total} deliveries in {:.2?}; server peak RSS (VmHWM) {server_peak}; test client process peak {}",
        joined,
        SESSIONS * MESSAGES,
        delivered,
        vm_hwm("self")
    );
}
