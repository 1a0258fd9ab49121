//! 1,000 members joining and 10,000 member updates, reduced correctly. Prints the time taken
//! (no timing assertions: the figures are informational).

mod common;

use std::time::Instant;

use common::{member_json, FakeServer, Harness};
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
        joined += reduce(&mut state, Action::MemberJoined(m))
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
            Action::MemberUpdated {
                member: p,
                updated: f,
                by: None,
            },
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
