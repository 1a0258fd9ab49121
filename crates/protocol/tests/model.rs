//! Codes, close codes, the data model's partial updates, layouts, tokens and envelope helpers.

use std::collections::HashSet;

use ovsp::codes::{CloseAction, CloseCode, Code, CodeFamily};
use ovsp::layouts::{self, LayoutShape, CATALOGUE};
use ovsp::model::*;
use ovsp::token::Claims;
use ovsp::{ClientFrame, Request, Response, RpcError, ServerFrame};
use proptest::prelude::*;
use serde_json::json;

#[test]
fn code_names_are_unique_and_stable() {
    let mut names = HashSet::new();
    let mut values = HashSet::new();
    for c in Code::ALL {
        assert!(names.insert(c.name()), "duplicate name {}", c.name());
        assert!(values.insert(c.0), "duplicate code {}", c.0);
        assert!(c.name().ends_with("Error"), "{}", c.name());
        assert!(!c.message().is_empty());
        assert!(c.is_known());
        assert_ne!(c.family(), CodeFamily::Other, "{c}");
        assert!(c
            .reason()
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch == '_'));
    }
    assert_eq!(
        Code::ROOM_MAX_PARTICIPANTS_EXCEEDED.name(),
        "RoomMaxParticipantsExceededError"
    );
    assert_eq!(Code(53105).name(), "RoomMaxParticipantsExceededError");
    assert_eq!(Code::TOKEN_EXPIRED.name(), "AccessTokenExpiredError");
    assert_eq!(Code(20104), Code::TOKEN_EXPIRED);
    assert_eq!(Code::PERMISSION_DENIED.reason(), "permission_denied");
    assert_eq!(Code(12345).name(), "OvspError");
    assert!(!Code(12345).is_known());
    assert_eq!(Code::PARSE_ERROR.family(), CodeFamily::JsonRpc);
    assert_eq!(Code::MEDIA_CONNECTION_FAILED.family(), CodeFamily::Shared);
    assert_eq!(Code::STALE_OFFER.family(), CodeFamily::Ovsp);
    assert!((20101..=20107).all(|c| Code(c).is_token_error() && Code(c).is_known()));
    // The code serialises as a bare integer.
    assert_eq!(
        serde_json::to_string(&Code::NOT_JOINED).unwrap_or_default(),
        "54002"
    );
}

#[test]
fn close_code_actions() {
    let table = [
        (1000, CloseAction::Stop),
        (4001, CloseAction::Stop),
        (4002, CloseAction::Stop),
        (4003, CloseAction::Stop),
        (4004, CloseAction::Stop),
        (4008, CloseAction::Resume),
        (4009, CloseAction::RejoinOnce),
        (4011, CloseAction::Stop),
        (4012, CloseAction::FollowClosing),
        (4013, CloseAction::RetryAfter),
        (1006, CloseAction::Resume),
        (1001, CloseAction::Resume),
        (4999, CloseAction::Resume),
    ];
    for (code, action) in table {
        assert_eq!(CloseCode(code).action(), action, "{code}");
    }
    assert_eq!(CloseCode::ALL.len(), 10);
}

fn member() -> Member {
    serde_json::from_value(json!({"id":"mem_b","identity":"bob","version":9})).expect("member")
}

#[test]
fn member_defaults_are_tolerant() {
    let m = member();
    assert_eq!(m.role, Role::Member);
    assert_eq!(m.state, MemberState::Active);
    assert!(m.visible);
    assert!(m.tracks.is_empty());
}

#[test]
fn partial_apply() {
    let mut m = member();
    let p: MemberPartial = serde_json::from_value(
        json!({"id":"mem_b","version":10,"audio_muted":true,"name":"Bob","state":"reconnecting"}),
    )
    .expect("partial");
    assert!(m.apply(&p));
    assert_eq!(m.version, 10);
    assert!(m.audio_muted);
    assert_eq!(m.name.as_deref(), Some("Bob"));
    assert_eq!(m.state, MemberState::Reconnecting);
    assert_eq!(m.identity, "bob", "untouched fields stay");

    let stale: MemberPartial =
        serde_json::from_value(json!({"id":"mem_b","version":8,"audio_muted":false})).expect("p");
    assert!(!m.apply(&stale));
    assert!(m.audio_muted, "stale partial ignored");
    let other: MemberPartial =
        serde_json::from_value(json!({"id":"mem_x","version":99,"deaf":true})).expect("p");
    assert!(!m.apply(&other));
    assert!(!m.deaf);

    let mut t: Track = serde_json::from_value(
        json!({"id":"tr_1","member_id":"mem_b","version":2,"kind":"audio","source":"microphone"}),
    )
    .expect("t");
    let tp: TrackPartial =
        serde_json::from_value(json!({"id":"tr_1","version":3,"blocked":true})).expect("tp");
    assert!(t.apply(&tp));
    assert!(t.blocked && !t.muted);

    let mut r: Room =
        serde_json::from_value(json!({"id":"rm_7","name":"standup","version":3})).expect("room");
    let rp: RoomPartial = serde_json::from_value(
        json!({"id":"rm_7","version":4,"locked":true,"meta":{"a":1},"layout_name":"2x2"}),
    )
    .expect("rp");
    assert!(r.apply(&rp));
    assert!(r.locked);
    assert_eq!(r.layout_name.as_deref(), Some("2x2"));
    assert_eq!(r.meta.get("a"), Some(&ovsp::json::json!(1)));
}

proptest! {
    #[test]
    fn apply_sets_exactly_the_given_fields(muted in any::<Option<bool>>(), deaf in any::<Option<bool>>(), vol in any::<Option<i32>>(), bump in 0u64..3) {
        let mut m = member();
        let before = m.clone();
        let p = MemberPartial {
            id: m.id.clone(), version: m.version + bump, identity: None, name: None, role: None,
            state: None, audio_muted: muted, video_muted: None, deaf, visible: None,
            handraised: None, talking: None, input_volume: vol, output_volume: None,
            input_sensitivity: None, requested_position: None, current_position: None,
            meta: None, capabilities: None,
        };
        prop_assert!(m.apply(&p));
        prop_assert_eq!(m.audio_muted, muted.unwrap_or(before.audio_muted));
        prop_assert_eq!(m.deaf, deaf.unwrap_or(before.deaf));
        prop_assert_eq!(m.input_volume, vol.unwrap_or(before.input_volume));
        prop_assert_eq!(m.version, before.version + bump);
        prop_assert_eq!(&m.tracks, &before.tracks);
    }
}

fn overlaps(a: &layouts::Rect, b: &layouts::Rect) -> bool {
    const EPS: f64 = 1e-9;
    a.x + a.width > b.x + EPS
        && b.x + b.width > a.x + EPS
        && a.y + a.height > b.y + EPS
        && b.y + b.height > a.y + EPS
}

#[test]
fn layout_geometry_is_normalised_and_disjoint() {
    for spec in CATALOGUE {
        let max = spec.capacity().min(100);
        for n in 0..=max + 1 {
            let rects = spec.geometry(n);
            let names = spec.slot_names(n);
            assert_eq!(rects.len(), n.min(spec.capacity()), "{} n={n}", spec.name);
            assert_eq!(names.len(), rects.len(), "{} n={n}", spec.name);
            for (i, r) in rects.iter().enumerate() {
                assert!(r.is_normalised(), "{} n={n} slot {i}: {r:?}", spec.name);
                for s in &rects[i + 1..] {
                    assert!(!overlaps(r, s), "{} n={n}: {r:?} overlaps {s:?}", spec.name);
                }
            }
            for name in &names {
                assert!(layouts::is_valid_position(name), "{name}");
            }
        }
        if let LayoutShape::Grid { cols, rows } = spec.shape {
            assert_eq!(spec.geometry(usize::MAX).len(), (cols * rows) as usize);
        }
        let info = spec.info();
        assert!(info.positions.iter().all(|p| layouts::is_valid_position(p)));
        assert_eq!(layouts::layout_positions(spec.name), Some(info.positions));
    }
    assert!(layouts::layout_geometry("nope", 4).is_empty());
    assert_eq!(layouts::layout_positions("nope"), None);
    let two = layouts::layout_geometry("2x2", 4);
    assert_eq!(two[3], layouts::Rect::new(0.5, 0.5, 0.5, 0.5));
    let g = layouts::layout_geometry("grid-responsive", 5);
    assert_eq!(g.len(), 5);
    assert_eq!(g[0].width, 1.0 / 3.0);
    assert_eq!(g[0].height, 0.5);
    assert_eq!(
        layouts::layout_geometry("highlight-1-responsive", 1)[0],
        layouts::Rect::new(0.0, 0.0, 1.0, 1.0)
    );
    assert_eq!(
        layouts::layout_spec(layouts::DEFAULT_LAYOUT).map(|s| s.name),
        Some("grid-responsive")
    );
}

#[test]
fn position_values() {
    for ok in [
        "auto",
        "off-canvas",
        "playback",
        "full-screen",
        "reserved-1",
        "standard-12",
    ] {
        assert!(layouts::is_valid_position(ok), "{ok}");
    }
    for bad in [
        "",
        "standard-0",
        "standard-",
        "standard-x",
        "reserved--1",
        "Auto",
        "center",
    ] {
        assert!(!layouts::is_valid_position(bad), "{bad}");
    }
}

#[test]
fn token_claims_decode() {
    let claims: Claims = serde_json::from_value(json!({
        "iss": "AK_8f2c", "sub": "alice", "aud": "ovsp",
        "iat": 1730000000, "nbf": 1730000000, "exp": 1730003600, "jti": "2c1e",
        "ovsp": {
            "v": 1, "room": "standup", "auto_create": true,
            "room_config": {"max_members": 50, "acl": false, "default_layout": "grid-responsive"},
            "room_meta": {}, "name": "Alice", "name_editable": false, "role": "member",
            "permissions": ["room.self.*", "room.member.audio_mute"],
            "media_allowed": {"send": ["microphone", "camera", "screen", "data"], "recv": ["audio", "video", "data"]},
            "join_audio_muted": false, "join_video_muted": false, "meta": {}, "end_room_on_leave": false,
            "future_claim": 1
        }
    }))
    .expect("claims");
    assert_eq!(claims.ovsp.room, "standup");
    assert_eq!(
        claims.ovsp.room_config.as_ref().and_then(|c| c.max_members),
        Some(50)
    );
    assert!(claims
        .ovsp
        .effective_media_allowed()
        .can_send(MediaSource::Screen));

    let minimal: Claims = serde_json::from_value(json!({
        "iss": "AK", "sub": "bob", "exp": 1, "ovsp": {"room": "r", "role": "audience"}
    }))
    .expect("minimal");
    assert_eq!(minimal.ovsp.v, 1);
    let eff = minimal.ovsp.effective_media_allowed();
    assert!(eff.send.is_empty(), "audience never sends");
    assert!(eff.can_recv(MediaKind::Video));
    assert!(
        serde_json::from_value::<Claims>(json!({"iss":"a","sub":"b","exp":1,"ovsp":{}})).is_err()
    );
}

#[test]
fn envelope_helpers() {
    #[derive(serde::Serialize, ovsp::Wire)]
    struct R {
        x: u32,
    }
    let r = Response::ok_with_seq("5", &R { x: 1 }, 42);
    assert_eq!(r.seq(), Some(42));
    let text = ServerFrame::Response(r).encode();
    assert_eq!(
        text,
        r#"{"jsonrpc":"2.0","id":"5","result":{"seq":42,"x":1}}"#
    );

    let e = RpcError::from_code(Code::PERMISSION_DENIED).with_permission("room.member.remove");
    let text = ServerFrame::Response(Response::err(Some("9".into()), e.clone())).encode();
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["error"]["code"], 54100);
    assert_eq!(v["error"]["data"]["permission"], "room.member.remove");
    assert_eq!(v["error"]["data"]["reason"], "permission_denied");
    assert_eq!(v["error"]["data"]["retryable"], false);
    let ServerFrame::Response(back) = ServerFrame::decode(&text).expect("decode") else {
        panic!("not a response")
    };
    assert_eq!(back.outcome, Err(e));

    let err = RpcError::new(Code::SESSION_UNKNOWN, "gone").with_action(SessionAction::Rejoin);
    assert_eq!(err.action(), Some(SessionAction::Rejoin));
    let no_id = ServerFrame::Response(Response::err(None, err)).encode();
    assert!(no_id.contains(r#""id":null"#), "{no_id}");

    let req = Request::new("1", "ping", &ovsp::methods::PingParams { ts: 5, ack: None });
    assert_eq!(
        ClientFrame::Request(req).encode(),
        r#"{"jsonrpc":"2.0","id":"1","method":"ping","params":{"ts":5}}"#
    );
    // Params absent or null decode as {}.
    let ClientFrame::Request(r) =
        ClientFrame::decode(r#"{"jsonrpc":"2.0","id":"2","method":"room.get"}"#).expect("decode")
    else {
        panic!()
    };
    assert_eq!(r.params, ovsp::json::json!({}));
    // Invalid params report the field.
    let bad = Request::new(
        "3",
        "member.set_input_volume",
        &ovsp::json::json!({"volume": "loud"}),
    );
    let e = bad
        .params_as::<ovsp::methods::MemberVolumeParams>()
        .expect_err("invalid");
    assert_eq!(e.code, Code::INVALID_PARAMS);
    let missing = Request::new("4", "member.remove", &ovsp::json::json!({}));
    let e = missing
        .params_as::<ovsp::methods::MemberRemoveParams>()
        .expect_err("missing");
    assert_eq!(e.data.and_then(|d| d.field).as_deref(), Some("member_id"));
}

#[test]
fn enums_round_trip_and_tolerate_unknown() {
    for s in MediaSource::ALL {
        assert_eq!(MediaSource::parse(s.as_str()), *s);
        let v = serde_json::to_value(s).expect("enc");
        assert_eq!(v, json!(s.as_str()));
    }
    assert_eq!(
        serde_json::from_value::<Role>(json!("moderator")).ok(),
        Some(Role::Unknown)
    );
    assert_eq!(
        serde_json::to_value(Role::Unknown).ok(),
        Some(json!("unknown"))
    );
    assert_eq!(MediaSource::ScreenAudio.kind(), TrackKind::Audio);
    assert_eq!(ovsp::negotiate_minor(3, 0), 0);
}
