//! Feeds the protocol crate's example frames (one per event type, `crates/protocol/fixtures`)
//! into a machine joined with the `room.join` example, and checks what each one produces.
//! A new event type without an expectation here fails the test, so the core keeps up with the
//! protocol.

use std::collections::BTreeMap;
use std::path::PathBuf;

use convene_core::{Command, Config, Input, Output, RequestHandle, SessionMachine};
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocol/fixtures")
}

fn read(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// What each event type must produce: the first core event kind, or a peer operation name.
fn expected(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "ice.candidate" => "peer:add_ice_candidate",
        "layout.changed" => "layout_changed",
        "member.joined" => "member_joined",
        "member.left" => "member_left",
        "member.network_quality" => "network_quality",
        "member.talking" => "member_talking",
        "member.updated" => "member_updated",
        "message.received" => "message_received",
        "playback.started" => "playback_started",
        "playback.updated" => "playback_updated",
        "playback.ended" => "playback_ended",
        "pub.ice_restart_requested" => "peer:restart_ice",
        "recording.started" => "recording_started",
        "recording.updated" => "recording_updated",
        "recording.ended" => "recording_ended",
        "room.audience_count" => "audience_count",
        "room.speakers" => "speakers_changed",
        "room.updated" => "room_updated",
        "self.permissions_changed" => "permissions_changed",
        "self.unmute_requested" => "unmute_requested",
        "session.closing" => "session_closing",
        "session.token" => "token_refreshed",
        "stream.started" => "rtmp_stream_started",
        "stream.ended" => "rtmp_stream_ended",
        "sub.offer" => "peer:set_remote_description",
        "sub.updated" => "subscription_started",
        "track.layers_requested" => "layers_requested",
        "track.published" => "track_published",
        "track.stream_state" => "track_switched",
        "track.subscribed" => "subscriber_count_changed",
        "track.unpublished" => "track_unpublished",
        "track.updated" => "track_updated",
        _ => return None,
    })
}

fn effects(outs: &[Output]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.kind().to_owned()),
            Output::Peer(op) => Some(format!(
                "peer:{}",
                serde_json::to_value(op).ok()?["op"].as_str()?.to_owned()
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn every_protocol_event_example_has_its_effect() {
    let join = read(fixtures().join("methods/room.join.json"));
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
    m.handle_input(0, Input::frame(&connect.to_string()));
    let mut response = join["response"].clone();
    response["id"] = json!("2");
    m.handle_input(0, Input::frame(&response.to_string()));
    assert_eq!(m.connection_state().name(), "connected");
    // A published local track, so the pub PC exists for pub.* events.
    m.handle_input(
        0,
        Input::Command {
            handle: RequestHandle(2),
            command: Command::Rpc {
                method: "room.get".into(),
                params: json!({}).into(),
            },
        },
    );
    while m.poll_output().is_some() {}

    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("events"))
        .expect("events dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "{files:?}");
    // Order: the offer first (candidates need it), removals after updates, the session end last.
    let rank = |p: &PathBuf| {
        let n = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        match n {
            "sub.offer" => 0,
            "track.unpublished" => 2,
            "member.left" => 3,
            "session.closing" => 4,
            _ => 1,
        }
    };
    files.sort_by_key(|p| (rank(p), p.clone()));

    let mut seq = m.last_seq();
    let mut missing = Vec::new();
    let mut wrong = BTreeMap::new();
    for path in files {
        let mut frame = read(path.clone());
        let ty = frame["params"]["type"].as_str().expect("type").to_owned();
        if frame["params"].get("seq").is_some() {
            seq += 1;
            frame["params"]["seq"] = json!(seq);
        }
        // The examples agree with the join example, so the member and track they announce
        // are already known there: they must be ignored as duplicates. Then they are
        // re-labelled as new ones, which must take effect.
        if ty == "member.joined" || ty == "track.published" {
            m.handle_input(0, Input::frame(&frame.to_string()));
            let mut dup = Vec::new();
            while let Some(o) = m.poll_output() {
                dup.push(o);
            }
            assert!(
                effects(&dup).is_empty(),
                "{ty} duplicate: {:?}",
                effects(&dup)
            );
            seq += 1;
            frame["params"]["seq"] = json!(seq);
        }
        if ty == "member.joined" {
            let data = &mut frame["params"]["data"]["member"];
            data["id"] = json!("mem_new");
            if let Some(tracks) = data["tracks"].as_array_mut() {
                for t in tracks {
                    t["id"] = json!(format!("{}_new", t["id"].as_str().unwrap_or("")));
                    t["member_id"] = json!("mem_new");
                }
            }
        }
        if ty == "track.published" {
            frame["params"]["data"]["track"]["id"] = json!("tr_new");
        }
        if ty == "pub.ice_restart_requested" {
            // Needs a pub PC: publish a data-less audio track first.
            m.handle_input(
                0,
                Input::Command {
                    handle: RequestHandle(3),
                    command: Command::Publish(convene_core::PublishOptions {
                        cid: "c-mic".into(),
                        kind: convene_core::ovsp::model::TrackKind::Audio,
                        source: convene_core::ovsp::model::MediaSource::Microphone,
                        stream_key: None,
                        name: None,
                        muted: false,
                        extra: Default::default(),
                    }),
                },
            );
            while m.poll_output().is_some() {}
        }
        m.handle_input(0, Input::frame(&frame.to_string()));
        let mut outs = Vec::new();
        while let Some(o) = m.poll_output() {
            outs.push(o);
        }
        let Some(want) = expected(&ty) else {
            missing.push(ty);
            continue;
        };
        let got = effects(&outs);
        if !got.iter().any(|g| g == want) {
            wrong.insert(ty, (want, got));
        }
        if frame["params"].get("seq").is_some() {
            assert_eq!(m.last_seq(), seq, "{path:?} processed");
        }
    }
    assert!(
        missing.is_empty(),
        "event types the core has no expectation for: {missing:?}"
    );
    assert!(wrong.is_empty(), "unexpected effects: {wrong:#?}");
}
