//! 1,000 members joining and 10,000 member updates, reduced correctly. Prints the time taken
//! (no timing assertions: the figures are informational).

mod common;

use std::time::Instant;

use common::{member_json, FakeServer, Harness};
use convene_core::ovsp::events::{Event, MemberJoined, MemberUpdated};
use convene_core::ovsp::model::{Member, MemberPartial, Snapshot};
use convene_core::store::{reduce, Action, State};
use convene_core::{Command, CoreEvent};
use serde_json::json;

const MEMBERS: usize = 1_000;
const UPDATES: usize = 10_000;

fn snapshot() -> Snapshot {
    serde_json::from_value(json!({
        "seq": 0,
        "room": {"id": "rm_1", "name": "big", "version": 1},
        "self": {"id": "mem_self", "identity": "me", "version": 1, "permissions": []},
        "members": [],
    }))
    .expect("snapshot")
}

#[test]
#[allow(clippy::disallowed_methods)] // wall-clock timing is the point of this test
fn reduce_1000_joins_and_10000_updates() {
    let joins: Vec<Member> = (0..MEMBERS)
        .map(|i| serde_json::from_value(member_json(&format!("mem_{i:04}"), 1)).expect("m"))
        .collect();
    let updates: Vec<(MemberPartial, Vec<String>)> = (0..UPDATES)
        .map(|k| {
            let i = (k * 7919) % MEMBERS;
            let version = 2 + (k / MEMBERS) as u64;
            let p: MemberPartial = serde_json::from_value(json!({
                "id": format!("mem_{i:04}"), "version": version, "input_volume": (k % 100) as i32 - 50,
            }))
            .expect("partial");
            (p, vec!["input_volume".to_owned()])
        })
        .collect();

    let mut state = State::default();
    reduce(
        &mut state,
        Action::Snapshot {
            snapshot: Box::new(snapshot()),
            reconcile: false,
        },
    );
    let t0 = Instant::now();
    let mut joined = 0;
    for m in joins {
        joined += reduce(
            &mut state,
            Action::Event(Event::MemberJoined(MemberJoined { member: m })),
        )
        .iter()
        .filter(|e| matches!(e, CoreEvent::MemberJoined { .. }))
        .count();
    }
    let t_join = t0.elapsed();
    let t1 = Instant::now();
    let mut updated = 0;
    for (p, f) in updates {
        updated += reduce(
            &mut state,
            Action::Event(Event::MemberUpdated(MemberUpdated {
                member: p,
                updated: f,
                by: None,
            })),
        )
        .len();
    }
    let t_update = t1.elapsed();
    assert_eq!(joined, MEMBERS);
    assert_eq!(updated, UPDATES);
    assert_eq!(state.members.len(), MEMBERS);
    // Every member got exactly UPDATES / MEMBERS updates; check the last values.
    for k in (UPDATES - MEMBERS)..UPDATES {
        let i = (k * 7919) % MEMBERS;
        let m = &state.members[&format!("mem_{i:04}")];
        assert_eq!(m.input_volume, (k % 100) as i32 - 50);
        assert_eq!(m.version, 1 + (UPDATES / MEMBERS) as u64);
    }
    println!(
        "reducer: {MEMBERS} joins in {:.2} ms, {UPDATES} updates in {:.2} ms",
        t_join.as_secs_f64() * 1e3,
        t_update.as_secs_f64() * 1e3
    );
}

#[test]
#[allow(clippy::disallowed_methods)] // wall-clock timing is the point of this test
fn machine_1000_joins_and_10000_updates_from_wire_frames() {
    let mut h = Harness::new(FakeServer::new());
    let join = h.command(Command::Join);
    assert!(h.completion(join).is_some());
    let mark = h.mark();
    let t0 = Instant::now();
    for i in 0..MEMBERS {
        let outs = h.server.member_joins(&format!("mem_{i:04}"));
        h.deliver(outs);
    }
    let t_join = t0.elapsed();
    let t1 = Instant::now();
    for k in 0..UPDATES {
        let i = (k * 7919) % MEMBERS;
        let outs = h.server.member_update(
            &format!("mem_{i:04}"),
            "input_volume",
            json!((k % 100) as i32 - 50),
        );
        h.deliver(outs);
    }
    let t_update = t1.elapsed();
    let st = h.m.state();
    assert_eq!(st.members.len(), MEMBERS);
    for (id, m) in &h.server.members {
        assert_eq!(st.members[id].version, m.version, "{id}");
        assert_eq!(st.members[id].input_volume, m.input_volume, "{id}");
    }
    let evs = h.events_since(mark);
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, CoreEvent::MemberJoined { .. }))
            .count(),
        MEMBERS
    );
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, CoreEvent::MemberUpdated { .. }))
            .count(),
        UPDATES
    );
    println!(
        "machine (JSON frames, fake server included): {MEMBERS} joins in {:.2} ms, {UPDATES} updates in {:.2} ms",
        t_join.as_secs_f64() * 1e3,
        t_update.as_secs_f64() * 1e3
    );
}

#[test]
#[allow(clippy::disallowed_methods)] // wall-clock timing is the point of this test
fn machine_alone_decodes_and_reduces_pre_encoded_frames() {
    use convene_core::{Config, Input, Output, RequestHandle, SessionMachine};
    let mut m = SessionMachine::new(Config::new("wss://x/ovsp", "tok", 1));
    m.handle_input(
        0,
        Input::Command {
            handle: RequestHandle(1),
            command: Command::Join,
        },
    );
    m.handle_input(0, Input::SocketOpened);
    let connect = json!({"jsonrpc": "2.0", "id": "1", "result": {
        "session_id": "ses_1", "resume_token": "rt", "protocol": {"major": 1, "minor": 0},
        "timers": {"ping_interval_ms": 5000, "ping_timeout_ms": 15000,
                   "resume_window_ms": 30000, "request_timeout_ms": 10000},
        "ice_servers": [], "resumed": false}});
    let join = json!({"jsonrpc": "2.0", "id": "2", "result": serde_json::to_value(snapshot()).expect("snap")});
    m.handle_input(0, Input::frame(&connect.to_string()));
    m.handle_input(0, Input::frame(&join.to_string()));
    while m.poll_output().is_some() {}
    let event = |seq: usize, ty: &str, data: serde_json::Value| {
        json!({"jsonrpc": "2.0", "method": "event",
               "params": {"type": ty, "ts": 1, "seq": seq, "data": data}})
        .to_string()
    };
    let joins: Vec<String> = (0..MEMBERS)
        .map(|i| {
            event(
                i + 1,
                "member.joined",
                json!({"member": member_json(&format!("mem_{i:04}"), 1)}),
            )
        })
        .collect();
    let updates: Vec<String> = (0..UPDATES)
        .map(|k| {
            let i = (k * 7919) % MEMBERS;
            let version = 2 + (k / MEMBERS) as u64;
            event(
                MEMBERS + k + 1,
                "member.updated",
                json!({"member": {"id": format!("mem_{i:04}"), "version": version,
                                  "input_volume": (k % 100) as i32 - 50},
                       "updated": ["input_volume"]}),
            )
        })
        .collect();
    let mut events = 0usize;
    let t0 = Instant::now();
    for f in joins {
        m.handle_input(0, Input::frame(&f));
        while let Some(o) = m.poll_output() {
            events += usize::from(matches!(o, Output::Event(_)));
        }
    }
    let t_join = t0.elapsed();
    let t1 = Instant::now();
    for f in updates {
        m.handle_input(0, Input::frame(&f));
        while let Some(o) = m.poll_output() {
            events += usize::from(matches!(o, Output::Event(_)));
        }
    }
    let t_update = t1.elapsed();
    assert_eq!(events, MEMBERS + UPDATES, "acks are frames, not events");
    assert_eq!(m.state().members.len(), MEMBERS);
    assert_eq!(m.last_seq(), (MEMBERS + UPDATES) as u64);
    println!(
        "machine alone (decode + reduce + events): {MEMBERS} joins in {:.2} ms, {UPDATES} updates in {:.2} ms",
        t_join.as_secs_f64() * 1e3,
        t_update.as_secs_f64() * 1e3
    );
}
