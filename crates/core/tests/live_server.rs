//! Opt-in: `SessionMachine`s against a running reference server (signaling only).
//!
//! The test is `#[ignore]`d, so a plain `cargo test` lists it as ignored instead of passing
//! without doing anything. `tests/tiers/30-core-live.sh` starts the server and runs it. By hand:
//! start `convene-server --dev --no-media --bind 127.0.0.1:8099`, then run
//! `CONVENE_TEST_SERVER=127.0.0.1:8099 cargo test -p convene-core --test live_server -- --ignored --nocapture`.
//! Run with `--ignored` but without `CONVENE_TEST_SERVER`, the test fails.
#![allow(clippy::disallowed_methods)] // a real network test needs the wall clock

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use convene_core::ovsp::model::PcKind;
use convene_core::{
    Command, Config, ConnectionState, CoreEvent, Input, Output, PeerEvent, PeerOp, RequestHandle,
    SdpType, SessionMachine,
};
use serde_json::{json, Value};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

fn dev_token(addr: &str, identity: &str, room: &str, permissions: Option<&[&str]>) -> String {
    let mut body = json!({"room": room, "identity": identity});
    if let Some(p) = permissions {
        body["permissions"] = json!(p);
    }
    let body = body.to_string();
    let mut s = TcpStream::connect(addr).expect("connect for token");
    write!(
        s,
        "POST /dev/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let json_start = resp.find("\r\n\r\n").map(|i| i + 4).expect("body");
    let body = &resp[json_start..];
    // The body may be chunked; find the JSON object.
    let start = body.find('{').expect("json");
    let end = body.rfind('}').expect("json end");
    let v: Value = serde_json::from_str(&body[start..=end]).expect("token json");
    v["token"].as_str().expect("token").to_owned()
}

/// A minimal blocking driver: one machine, one WebSocket, a PeerConnection stand-in.
struct Client {
    m: SessionMachine,
    ws: Option<WebSocket<TcpStream>>,
    addr: String,
    t0: Instant,
    inbox: Vec<Input>,
    events: Vec<CoreEvent>,
    done: Vec<(RequestHandle, Result<Value, convene_core::CoreError>)>,
    next: u64,
}

impl Client {
    fn new(addr: &str, token: String, seed: u64) -> Self {
        Self::with_config(addr, Config::new(format!("ws://{addr}/ovsp"), token, seed))
    }

    fn with_config(addr: &str, config: Config) -> Self {
        Client {
            m: SessionMachine::new(config),
            ws: None,
            addr: addr.to_owned(),
            t0: Instant::now(),
            inbox: Vec::new(),
            events: Vec::new(),
            done: Vec::new(),
            next: 1,
        }
    }

    fn now(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }

    fn command(&mut self, c: Command) -> RequestHandle {
        let h = RequestHandle(self.next);
        self.next += 1;
        self.inbox.push(Input::Command {
            handle: h,
            command: c,
        });
        h
    }

    fn step(&mut self) {
        for i in std::mem::take(&mut self.inbox) {
            let now = self.now();
            self.m.handle_input(now, i);
            self.drain();
        }
        if let Some(ws) = self.ws.as_mut() {
            match ws.read() {
                Ok(Message::Text(t)) => self.inbox.push(Input::frame(t.as_ref())),
                Ok(Message::Close(f)) => {
                    self.ws = None;
                    self.inbox.push(Input::SocketClosed {
                        code: f.map_or(1005, |f| u16::from(f.code)),
                        reason: String::new(),
                    });
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => {
                    self.ws = None;
                    self.inbox.push(Input::SocketClosed {
                        code: 1006,
                        reason: String::new(),
                    });
                }
            }
        }
        if self.m.poll_timeout().is_some_and(|t| t <= self.now()) {
            self.inbox.push(Input::Timeout);
        }
    }

    fn drain(&mut self) {
        while let Some(o) = self.m.poll_output() {
            match o {
                Output::OpenSocket { url, protocol } => {
                    let mut req = url.into_client_request().expect("request");
                    req.headers_mut()
                        .insert("Sec-WebSocket-Protocol", protocol.parse().expect("header"));
                    let stream = TcpStream::connect(&self.addr).expect("tcp");
                    match tungstenite::client(req, stream) {
                        Ok((ws, _)) => {
                            ws.get_ref()
                                .set_read_timeout(Some(Duration::from_millis(5)))
                                .expect("timeout");
                            self.ws = Some(ws);
                            self.inbox.push(Input::SocketOpened);
                        }
                        Err(_) => self.inbox.push(Input::SocketClosed {
                            code: 1006,
                            reason: "connect failed".into(),
                        }),
                    }
                }
                Output::CloseSocket { .. } => {
                    if let Some(mut ws) = self.ws.take() {
                        let _ = ws.close(None);
                        let _ = ws.flush();
                    }
                }
                Output::SendFrame(f) => {
                    if let Some(ws) = self.ws.as_mut() {
                        let _ = ws.send(Message::text(f.to_string()));
                    }
                }
                Output::Peer(op) => self.peer(op),
                Output::Event(e) => self.events.push(e),
                Output::Completed { handle, result } => {
                    self.done.push((handle, result.map(Value::from)))
                }
            }
        }
    }

    /// Signaling-only stand-in for the browser: descriptions resolve at once.
    fn peer(&mut self, op: PeerOp) {
        let ev = match op {
            PeerOp::CreateAnswer { pc } => Some(PeerEvent::DescriptionCreated {
                pc,
                sdp_type: SdpType::Answer,
                sdp: "v=0".into(),
            }),
            PeerOp::SetLocalDescription { pc, .. } if pc == PcKind::Sub => {
                Some(PeerEvent::LocalDescriptionSet {
                    pc,
                    mids: Default::default(),
                })
            }
            _ => None,
        };
        self.inbox.extend(ev.map(Input::Peer));
    }

    /// Kills the TCP connection without a close frame (a network loss).
    fn kill_socket(&mut self) {
        if let Some(ws) = self.ws.take() {
            let _ = ws.get_ref().shutdown(std::net::Shutdown::Both);
        }
        self.inbox.push(Input::SocketClosed {
            code: 1006,
            reason: String::new(),
        });
    }

    fn result(&self, h: RequestHandle) -> Option<&Result<Value, convene_core::CoreError>> {
        self.done.iter().find(|(x, _)| *x == h).map(|(_, r)| r)
    }
}

fn pump(clients: &mut [&mut Client], until: impl Fn(&[&mut Client]) -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !until(clients) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        for c in clients.iter_mut() {
            c.step();
        }
    }
}

/// The server address from `CONVENE_TEST_SERVER`; a run without it is a failure, not a pass.
fn server_addr() -> String {
    match std::env::var("CONVENE_TEST_SERVER") {
        Ok(a) if !a.trim().is_empty() => a.trim().to_owned(),
        _ => panic!(
            "CONVENE_TEST_SERVER=host:port is not set: start `convene-server --dev --no-media` \
             or run tests/tiers/30-core-live.sh"
        ),
    }
}

#[test]
#[ignore = "needs a running reference server: tests/tiers/30-core-live.sh, or CONVENE_TEST_SERVER=host:port with --ignored"]
fn two_machines_against_the_reference_server() {
    let addr = server_addr();
    let room = format!("core-live-{}", std::process::id());
    let mut a = Client::new(&addr, dev_token(&addr, "alice", &room, None), 1);
    let mut b = Client::new(&addr, dev_token(&addr, "bob", &room, None), 2);

    let ja = a.command(Command::Join);
    pump(&mut [&mut a], |c| c[0].result(ja).is_some(), "alice join");
    assert!(a.result(ja).expect("done").is_ok(), "{:?}", a.result(ja));
    assert_eq!(a.m.connection_state(), &ConnectionState::Connected);
    let jb = b.command(Command::Join);
    pump(
        &mut [&mut a, &mut b],
        |c| {
            c[1].result(jb).is_some()
                && c[0]
                    .events
                    .iter()
                    .any(|e| matches!(e, CoreEvent::MemberJoined { .. }))
        },
        "bob join seen by alice",
    );
    let bob_id = b.m.state().self_id().expect("bob id").to_owned();
    let alice_id = a.m.state().self_id().expect("alice id").to_owned();
    assert!(a.m.state().members.contains_key(&bob_id));
    assert!(b.m.state().members.contains_key(&alice_id));

    // Bob mutes Alice; both see the durable member.updated.
    let mute = b.command(Command::Rpc {
        method: "member.audio_mute".into(),
        params: json!({"member_id": alice_id}).into(),
    });
    pump(
        &mut [&mut a, &mut b],
        |c| c[1].result(mute).is_some(),
        "mute result",
    );
    println!("mute result: {:?}", b.result(mute));

    // Alice loses her connection; Bob raises his hand meanwhile (answered before Alice tries
    // again, so the event is in her replay); Alice resumes and gets it once.
    let before = a.events.len();
    a.kill_socket();
    let hand = b.command(Command::Rpc {
        method: "member.raise_hand".into(),
        params: json!({}).into(),
    });
    pump(
        &mut [&mut b],
        |c| c[0].result(hand).is_some(),
        "hand result",
    );
    pump(
        &mut [&mut a, &mut b],
        |c| {
            c[1].result(hand).is_some()
                && c[0].m.connection_state() == &ConnectionState::Connected
                && c[0].events[before..]
                    .iter()
                    .any(|e| matches!(e, CoreEvent::MemberUpdated { updated, .. } if updated.iter().any(|f| f == "handraised")))
        },
        "alice resumes and sees the raised hand",
    );
    let kinds: Vec<&str> = a.events[before..].iter().map(CoreEvent::kind).collect();
    println!("alice after the loss: {kinds:?}");
    assert!(kinds.contains(&"reconnecting") && kinds.contains(&"reconnected"));
    let raised = a.events[before..]
        .iter()
        .filter(|e| matches!(e, CoreEvent::MemberUpdated { updated, .. } if updated.iter().any(|f| f == "handraised")))
        .count();
    assert_eq!(raised, 1, "the missed event arrives exactly once");
    let pos = |pred: &dyn Fn(&CoreEvent) -> bool| a.events[before..].iter().position(pred);
    let raised_at = pos(
        &|e| matches!(e, CoreEvent::MemberUpdated { updated, .. } if updated.iter().any(|f| f == "handraised")),
    );
    let reconnected_at = pos(&|e| matches!(e, CoreEvent::Reconnected));
    assert!(
        reconnected_at > raised_at,
        "reconnected comes after the replayed event: {kinds:?}"
    );
    assert!(a.m.state().members[&bob_id].handraised);

    // A message from Alice reaches Bob.
    let msg = a.command(Command::SendMessage {
        to: None,
        topic: Some("chat".into()),
        payload: json!({"text": "hello"}).into(),
    });
    pump(
        &mut [&mut a, &mut b],
        |c| {
            c[0].result(msg).is_some()
                && c[1]
                    .events
                    .iter()
                    .any(|e| matches!(e, CoreEvent::MessageReceived { .. }))
        },
        "message",
    );

    // Carol may only act on herself: removing Bob fails with 54100 and the permission.
    let mut c = Client::new(
        &addr,
        dev_token(&addr, "carol", &room, Some(&["room.self.*"])),
        3,
    );
    let jc = c.command(Command::Join);
    pump(&mut [&mut c], |x| x[0].result(jc).is_some(), "carol join");
    let rm = c.command(Command::Rpc {
        method: "member.remove".into(),
        params: json!({"member_id": bob_id}).into(),
    });
    pump(
        &mut [&mut c],
        |x| x[0].result(rm).is_some(),
        "remove result",
    );
    let err = c.result(rm).expect("done").clone().expect_err("denied");
    assert_eq!(err.code().0, 54100);
    assert_eq!(err.permission(), Some("room.member.remove"));
    // Bob removes Carol: she gets session.closing{removed, disconnect}; Alice sees her leave.
    let carol_id = c.m.state().self_id().expect("carol id").to_owned();
    let kick = b.command(Command::Rpc {
        method: "member.remove".into(),
        params: json!({"member_id": carol_id}).into(),
    });
    pump(
        &mut [&mut a, &mut b, &mut c],
        |x| {
            x[1].result(kick).is_some()
                && matches!(
                    x[2].m.connection_state(),
                    ConnectionState::Disconnected { .. }
                )
                && x[0].events.iter().any(
                    |e| matches!(e, CoreEvent::MemberLeft { member, .. } if member.id == carol_id),
                )
        },
        "carol removed",
    );
    let closing = c.events.iter().find_map(|e| match e {
        CoreEvent::SessionClosing { reason, action, .. } => {
            Some((reason.as_str(), action.as_str()))
        }
        _ => None,
    });
    assert_eq!(closing, Some(("removed", "disconnect")));
    match c.m.connection_state() {
        ConnectionState::Disconnected { error: Some(e) } => println!("carol: {e}"),
        other => panic!("{other:?}"),
    }
    let left = a.events.iter().find_map(|e| match e {
        CoreEvent::MemberLeft { member, reason, .. } if member.id == carol_id => {
            Some(reason.as_str())
        }
        _ => None,
    });
    assert_eq!(left, Some("removed"));

    // Both leave.
    let la = a.command(Command::Leave { reason: None });
    let lb = b.command(Command::Leave { reason: None });
    pump(
        &mut [&mut a, &mut b],
        |c| c[0].result(la).is_some() && c[1].result(lb).is_some(),
        "leave",
    );
    assert_eq!(
        a.m.connection_state(),
        &ConnectionState::Disconnected { error: None }
    );
}

#[test]
#[ignore = "needs a running reference server: tests/tiers/30-core-live.sh, or CONVENE_TEST_SERVER=host:port with --ignored"]
fn a_rejoin_after_ice_failure_leaves_the_old_member_first() {
    let addr = server_addr();
    let room = format!("core-live-ice-{}", std::process::id());
    let mut config = Config::new(
        format!("ws://{addr}/ovsp"),
        dev_token(&addr, "alice", &room, None),
        11,
    );
    config.timers.ice_failed_rejoin_ms = 300;
    let mut a = Client::with_config(&addr, config);
    let mut b = Client::new(&addr, dev_token(&addr, "bob", &room, None), 12);
    let ja = a.command(Command::Join);
    pump(&mut [&mut a], |c| c[0].result(ja).is_some(), "alice join");
    let jb = b.command(Command::Join);
    pump(&mut [&mut b], |c| c[0].result(jb).is_some(), "bob join");
    let old_alice = a.m.state().self_id().expect("alice id").to_owned();
    let old_session = a.m.session_id().expect("session").to_owned();
    assert!(b.m.state().members.contains_key(&old_alice));

    // Alice has a pub PC (a microphone on the way), whose ICE fails and stays failed.
    a.command(Command::Publish(convene_core::PublishOptions {
        cid: "c-mic".into(),
        kind: convene_core::ovsp::model::TrackKind::Audio,
        source: convene_core::ovsp::model::MediaSource::Microphone,
        stream_key: None,
        name: None,
        muted: false,
        extra: Default::default(),
    }));
    pump(
        &mut [&mut a],
        |c| c[0].m.state().local_tracks.contains_key("c-mic"),
        "publish",
    );
    a.inbox.push(Input::Peer(PeerEvent::IceState {
        pc: PcKind::Pub,
        state: convene_core::IceState::Failed,
    }));
    pump(
        &mut [&mut a, &mut b],
        |c| {
            c[0].m.session_id().is_some_and(|s| s != old_session)
                && c[0].m.connection_state() == &ConnectionState::Connected
                && c[0]
                    .m
                    .state()
                    .self_id()
                    .is_some_and(|id| c[1].m.state().members.contains_key(id))
                && !c[1].m.state().members.contains_key(&old_alice)
        },
        "alice rejoins as a new member and the old one is gone",
    );
    // The old member left because it said so, not because the new session evicted it as a
    // duplicate identity (or it timed out).
    let left = b.events.iter().find_map(|e| match e {
        CoreEvent::MemberLeft { member, reason, .. } if member.id == old_alice => {
            Some(reason.as_str())
        }
        _ => None,
    });
    let kinds: Vec<&str> = b.events.iter().map(CoreEvent::kind).collect();
    assert_eq!(
        left,
        Some("left"),
        "the old member must leave by its room.leave (duplicate_identity means the server \
         dropped the leave sent just before the old socket closed); bob saw {kinds:?}"
    );
    let new_alice = a.m.state().self_id().expect("new id").to_owned();
    assert_ne!(new_alice, old_alice);
    let alices =
        b.m.state()
            .members
            .values()
            .filter(|m| m.identity == "alice")
            .count();
    assert_eq!(alices, 1, "no lingering member");

    let la = a.command(Command::Leave { reason: None });
    let lb = b.command(Command::Leave { reason: None });
    pump(
        &mut [&mut a, &mut b],
        |c| c[0].result(la).is_some() && c[1].result(lb).is_some(),
        "leave",
    );
}
