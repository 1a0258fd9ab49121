//! Random inputs never panic the machine, and every command completes at most once.

use std::collections::BTreeMap;

use convene_core::backoff::SplitMix64;
use convene_core::ovsp::model::{MediaSource, PcKind, TrackKind};
use convene_core::{
    Command, Config, IceState, Input, Output, PeerEvent, PublishOptions, RequestHandle, SdpType,
    SessionMachine,
};
use serde_json::{json, Value};

const EVENT_TYPES: &[&str] = &[
    "room.updated",
    "room.audience_count",
    "layout.changed",
    "member.joined",
    "member.updated",
    "member.left",
    "member.talking",
    "room.speakers",
    "member.network_quality",
    "self.permissions_changed",
    "self.unmute_requested",
    "track.published",
    "track.updated",
    "track.unpublished",
    "track.layers_requested",
    "track.subscribed",
    "track.stream_state",
    "sub.offer",
    "pub.ice_restart_requested",
    "sub.updated",
    "ice.candidate",
    "recording.started",
    "playback.ended",
    "stream.started",
    "message.received",
    "session.token",
    "session.closing",
    "no.such.event",
];

fn pick<'a, T>(r: &mut SplitMix64, v: &'a [T]) -> &'a T {
    &v[(r.next_u64() % v.len() as u64) as usize]
}

fn random_value(r: &mut SplitMix64, depth: u32) -> Value {
    match r.next_u64() % if depth > 2 { 5 } else { 8 } {
        0 => Value::Null,
        1 => json!(r.next_u64().is_multiple_of(3)),
        2 => json!(r.next_u64() % 1000),
        3 => json!(*pick(
            r,
            &["mem_b", "tr_1", "rm_1", "active", "audio", "x", ""]
        )),
        4 => json!(-1),
        5 => Value::Array(
            (0..r.next_u64() % 3)
                .map(|_| random_value(r, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "id",
                "member_id",
                "track_id",
                "version",
                "member",
                "track",
                "room",
                "updated",
                "reason",
                "action",
                "offer_id",
                "sdp",
                "mids",
                "kind",
                "source",
                "state",
                "subscriptions",
                "speakers",
                "layout",
                "name",
                "level",
                "talking",
                "token",
                "expires_at",
                "role",
                "permissions",
                "media_allowed",
                "pc",
                "candidate",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..r.next_u64() % 6 {
                m.insert((*pick(r, &keys)).to_owned(), random_value(r, depth + 1));
            }
            Value::Object(m)
        }
    }
}

fn random_frame(r: &mut SplitMix64) -> String {
    match r.next_u64() % 6 {
        0 => "{not json".to_owned(),
        1 => json!({"jsonrpc": "2.0", "id": (r.next_u64() % 12).to_string(),
                    "result": random_value(r, 0)})
        .to_string(),
        2 => json!({"jsonrpc": "2.0", "id": (r.next_u64() % 12).to_string(),
                    "error": {"code": *pick(r, &[54004, 54100, 20104, 54401, 54400, -32602, 53006]),
                              "message": "x", "data": {"retry_after_ms": 10}}})
        .to_string(),
        3 => json!({"jsonrpc": "2.0", "id": null, "error": {"code": 54000, "message": "x"}})
            .to_string(),
        _ => {
            let mut p = json!({"type": *pick(r, EVENT_TYPES), "ts": 1, "data": random_value(r, 0)});
            if r.next_u64().is_multiple_of(2) {
                p["seq"] = json!(r.next_u64() % 20);
            }
            json!({"jsonrpc": "2.0", "method": "event", "params": p}).to_string()
        }
    }
}

fn random_input(r: &mut SplitMix64, handle: &mut u64) -> Input {
    let pc = if r.next_u64().is_multiple_of(2) {
        PcKind::Pub
    } else {
        PcKind::Sub
    };
    match r.next_u64() % 14 {
        0..=3 => Input::frame(&random_frame(r)),
        4 => Input::SocketOpened,
        5 => Input::SocketClosed {
            code: *pick(r, &[1000, 1006, 4001, 4003, 4008, 4009, 4012, 4013]),
            reason: String::new(),
        },
        6 => Input::Timeout,
        7 => Input::Peer(PeerEvent::IceState {
            pc,
            state: *pick(
                r,
                &[
                    IceState::Failed,
                    IceState::Connected,
                    IceState::Disconnected,
                ],
            ),
        }),
        8 => Input::Peer(PeerEvent::DescriptionCreated {
            pc,
            sdp_type: *pick(r, &[SdpType::Offer, SdpType::Answer]),
            sdp: "v=0".into(),
        }),
        9 => Input::Peer(PeerEvent::LocalDescriptionSet {
            pc,
            mids: [("c1".to_owned(), "0".to_owned())].into_iter().collect(),
        }),
        10 => Input::Peer(PeerEvent::DataMessage {
            pc,
            label: "ovsp-reliable".into(),
            data: (0..r.next_u64() % 20)
                .map(|i| (i * 37 % 256) as u8)
                .collect(),
        }),
        _ => {
            *handle += 1;
            let command = match r.next_u64() % 8 {
                0 => Command::Join,
                1 => Command::Leave { reason: None },
                2 => Command::Publish(PublishOptions {
                    cid: format!("c{}", r.next_u64() % 3),
                    kind: TrackKind::Audio,
                    source: MediaSource::Microphone,
                    stream_key: None,
                    name: None,
                    muted: false,
                    extra: Default::default(),
                }),
                3 => Command::MuteTrack {
                    cid: "c1".into(),
                    muted: true,
                },
                4 => Command::Unpublish { cid: "c1".into() },
                5 => Command::SendData {
                    cid: "c1".into(),
                    payload: vec![1, 2],
                    to: None,
                },
                6 => Command::ResetPublisher,
                _ => Command::Rpc {
                    method: "member.audio_mute".into(),
                    params: random_value(r, 0).into(),
                },
            };
            Input::Command {
                handle: RequestHandle(*handle),
                command,
            }
        }
    }
}

enum Kind {
    Timeout,
    Other,
}

#[test]
fn random_inputs_never_panic() {
    for seed in 0..300u64 {
        let mut r = SplitMix64::new(seed);
        let mut m = SessionMachine::new(Config::new("wss://x/ovsp", "tok", seed));
        let mut handle = 0;
        let mut now = 0u64;
        let mut completed: BTreeMap<u64, usize> = BTreeMap::new();
        m.handle_input(
            now,
            Input::Command {
                handle: RequestHandle(0),
                command: Command::Join,
            },
        );
        if seed % 3 != 0 {
            // Start from a joined session so the deep paths are reached.
            m.handle_input(now, Input::SocketOpened);
            let connect = json!({"jsonrpc": "2.0", "id": "1", "result": {
                "session_id": "ses_1", "resume_token": "rt", "protocol": {"major": 1, "minor": 0},
                "timers": {"ping_interval_ms": 5000, "ping_timeout_ms": 15000,
                           "resume_window_ms": 30000, "request_timeout_ms": 10000},
                "ice_servers": [], "resumed": false}});
            let join = json!({"jsonrpc": "2.0", "id": "2", "result": {
                "seq": 0, "room": {"id": "rm_1", "name": "r", "version": 1},
                "self": {"id": "mem_a", "identity": "a", "version": 1},
                "members": [{"id": "mem_b", "identity": "b", "version": 1, "tracks": [
                    {"id": "tr_1", "member_id": "mem_b", "version": 1, "kind": "audio",
                     "source": "microphone"}]}]}});
            m.handle_input(now, Input::frame(&connect.to_string()));
            m.handle_input(now, Input::frame(&join.to_string()));
            assert_eq!(m.connection_state().name(), "connected", "seed {seed}");
        }
        for _ in 0..400 {
            now = match r.next_u64() % 10 {
                0 => m.poll_timeout().unwrap_or(now),
                1 => u64::MAX - r.next_u64() % 10,
                _ => now.saturating_add(r.next_u64() % 3000),
            };
            let input = random_input(&mut r, &mut handle);
            let input_kind = if matches!(input, Input::Timeout) {
                Kind::Timeout
            } else {
                Kind::Other
            };
            m.handle_input(now, input);
            while let Some(o) = m.poll_output() {
                if let Output::Completed { handle, .. } = o {
                    *completed.entry(handle.0).or_default() += 1;
                }
            }
            // Progress: after a timeout is handled at `now`, no deadline is left at or
            // before `now` (a driver would otherwise spin).
            if matches!(input_kind, Kind::Timeout) && now < 1 << 62 {
                if let Some(t) = m.poll_timeout() {
                    assert!(
                        t > now,
                        "seed {seed}: deadline {t} not after {now} after a timeout: {m:#?}"
                    );
                }
            }
            let _ = serde_json::to_string(m.state()).expect("state serialises");
        }
        for (h, n) in completed {
            assert_eq!(n, 1, "seed {seed}: handle {h} completed {n} times");
        }
    }
}
