//! Conformance fixtures: every method's params and result and every event's data decode
//! and re-encode without losing a field; every entry of METHODS and EVENTS has a fixture and
//! every fixture names an entry.

mod common;

use common::{assert_round_trip, read, read_json, stems};
use ovsp::events::{visit_events, EventInfo, EventVisitor};
use ovsp::methods::{visit_methods, Method, MethodVisitor, NotificationMethod, WireType};
use ovsp::{ClientFrame, Durability, Event, MethodKind, ServerFrame, EVENTS, METHODS};
use serde_json::Value;

fn reencode<T: WireType>(v: &Value, what: &str) -> Value {
    let typed: T = T::deserialize(v).unwrap_or_else(|e| panic!("{what}: decode: {e}\n{v}"));
    let out = serde_json::to_value(&typed).expect("encode");
    // Idempotent: decoding the re-encoded value gives the same encoding again.
    let again: T = T::deserialize(&out).unwrap_or_else(|e| panic!("{what}: re-decode: {e}"));
    assert_eq!(
        serde_json::to_value(&again).expect("encode"),
        out,
        "{what}: not idempotent"
    );
    out
}

struct MethodCheck {
    requests: usize,
    notifications: usize,
}

impl MethodVisitor for MethodCheck {
    fn visit<M: Method>(&mut self) {
        self.requests += 1;
        let doc = read_json(&format!("methods/{}.json", M::NAME));

        // Request frame: decode, check, re-encode params, re-encode frame.
        let text = doc["request"].to_string();
        let frame = ClientFrame::decode(&text).unwrap_or_else(|e| panic!("{}: {e}", M::NAME));
        let ClientFrame::Request(req) = frame else {
            panic!("{}: expected a request", M::NAME)
        };
        assert_eq!(req.method, M::NAME);
        let params: M::Params = req
            .params_as()
            .unwrap_or_else(|e| panic!("{} params: {e}", M::NAME));
        let encoded = reencode::<M::Params>(&doc["request"]["params"], M::NAME);
        assert_round_trip(
            &format!("{} params", M::NAME),
            &doc["request"]["params"],
            &encoded,
        );
        let rebuilt = ClientFrame::Request(ovsp::Request::new(req.id.clone(), M::NAME, &params));
        let redecoded = ClientFrame::decode(&rebuilt.encode()).expect("re-decode request");
        assert_eq!(redecoded, rebuilt, "{}: request frame round trip", M::NAME);

        // Response frame: decode, check seq, re-encode result.
        let text = doc["response"].to_string();
        let frame = ServerFrame::decode(&text).unwrap_or_else(|e| panic!("{}: {e}", M::NAME));
        let ServerFrame::Response(resp) = frame else {
            panic!("{}: expected a response", M::NAME)
        };
        assert_eq!(
            resp.id.as_deref(),
            Some(req.id.as_str()),
            "{}: ids",
            M::NAME
        );
        assert!(
            resp.seq().is_some(),
            "{}: every result carries seq",
            M::NAME
        );
        let result: M::Result = resp
            .result_as()
            .unwrap_or_else(|e| panic!("{} result: {e}", M::NAME));
        let mut fixture_result = doc["response"]["result"].clone();
        let seq = resp.seq().unwrap_or_default();
        if M::NAME != "room.join" && M::NAME != "room.get" {
            // `seq` belongs to the envelope, not the typed result (the snapshot has its own).
            fixture_result.as_object_mut().map(|m| m.remove("seq"));
        }
        let encoded = reencode::<M::Result>(&fixture_result, M::NAME);
        assert_round_trip(&format!("{} result", M::NAME), &fixture_result, &encoded);
        let rebuilt =
            ServerFrame::Response(ovsp::Response::ok_with_seq(req.id.clone(), &result, seq));
        let redecoded = ServerFrame::decode(&rebuilt.encode()).expect("re-decode response");
        assert_eq!(redecoded, rebuilt, "{}: response frame round trip", M::NAME);
    }

    fn visit_notification<N: NotificationMethod>(&mut self) {
        self.notifications += 1;
        let doc = read_json(&format!("methods/{}.json", N::NAME));
        let text = doc["notification"].to_string();
        let frame = ClientFrame::decode(&text).unwrap_or_else(|e| panic!("{}: {e}", N::NAME));
        let ClientFrame::Notification(n) = frame else {
            panic!("{}: expected a notification", N::NAME)
        };
        assert_eq!(n.method, N::NAME);
        let params: N = n.params_as().unwrap_or_else(|e| panic!("{}: {e}", N::NAME));
        let encoded = reencode::<N>(&doc["notification"]["params"], N::NAME);
        assert_round_trip(N::NAME, &doc["notification"]["params"], &encoded);
        let rebuilt = ClientFrame::Notification(ovsp::Notification::new(N::NAME, &params));
        let redecoded = ClientFrame::decode(&rebuilt.encode()).expect("re-decode");
        assert_eq!(redecoded, rebuilt, "{}: notification round trip", N::NAME);
    }
}

#[test]
fn every_method_fixture_round_trips() {
    let mut c = MethodCheck {
        requests: 0,
        notifications: 0,
    };
    visit_methods(&mut c);
    let want_req = METHODS
        .iter()
        .filter(|m| m.kind == MethodKind::Request)
        .count();
    assert_eq!(c.requests, want_req);
    assert_eq!(c.notifications, METHODS.len() - want_req);
}

struct EventCheck(usize);

impl EventVisitor for EventCheck {
    fn visit<T: WireType>(&mut self, info: &'static EventInfo) {
        self.0 += 1;
        let name = info.name;
        let text = read(&format!("events/{name}.json"));
        let doc: Value = serde_json::from_str(&text).expect("json");
        let ServerFrame::Event(env) = ServerFrame::decode(&text).expect(name) else {
            panic!("{name}: expected an event")
        };
        assert_eq!(env.event_type, name);
        assert_eq!(
            env.seq.is_some(),
            info.durability == Durability::Durable,
            "{name}: seq present iff durable"
        );
        let ev = env
            .try_decode_event()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !matches!(ev, Event::Unknown { .. }),
            "{name}: decoded as Unknown"
        );
        assert_eq!(ev.event_type(), name);
        assert_eq!(ev.durability(), info.durability);
        assert_eq!(ev.scope(), Some(info.scope));
        let data = &doc["params"]["data"];
        let encoded = reencode::<T>(data, name);
        assert_round_trip(name, data, &encoded);
        assert_eq!(
            ev.data(),
            encoded,
            "{name}: Event::data matches the payload type"
        );
        let rebuilt = ServerFrame::Event(ev.to_envelope(env.ts, env.seq));
        let redecoded = ServerFrame::decode(&rebuilt.encode()).expect("re-decode");
        assert_eq!(redecoded, rebuilt, "{name}: event frame round trip");
        let ServerFrame::Event(env2) = redecoded else {
            unreachable!()
        };
        assert_eq!(env2.decode_event(), ev, "{name}: typed round trip");
    }
}

#[test]
fn every_event_fixture_round_trips() {
    let mut c = EventCheck(0);
    visit_events(&mut c);
    assert_eq!(c.0, EVENTS.len());
}

#[test]
fn fixtures_cover_exactly_the_tables() {
    let mut methods: Vec<String> = METHODS.iter().map(|m| m.name.to_string()).collect();
    methods.sort();
    assert_eq!(stems("methods"), methods, "one fixture per METHODS entry");
    let mut events: Vec<String> = EVENTS.iter().map(|e| e.name.to_string()).collect();
    events.sort();
    assert_eq!(stems("events"), events, "one fixture per EVENTS entry");
}

#[test]
fn tables_have_no_duplicates() {
    let mut m: Vec<_> = METHODS.iter().map(|m| m.name).collect();
    m.sort();
    m.dedup();
    assert_eq!(m.len(), METHODS.len());
    let mut e: Vec<_> = EVENTS.iter().map(|e| e.name).collect();
    e.sort();
    e.dedup();
    assert_eq!(e.len(), EVENTS.len());
}

#[test]
fn invalid_frames_give_typed_errors() {
    for (file, server) in [
        ("frames/client_invalid.json", false),
        ("frames/server_invalid.json", true),
    ] {
        let cases = read_json(file);
        for case in cases.as_array().expect("array") {
            let frame = case["frame"].as_str().expect("frame");
            let want = case["code"].as_i64().expect("code");
            let err = if server {
                ServerFrame::decode(frame).err()
            } else {
                ClientFrame::decode(frame).err()
            };
            let err = err.unwrap_or_else(|| panic!("{file}: {frame:?} decoded"));
            assert_eq!(i64::from(err.code.0), want, "{file}: {frame:?}: {err}");
            assert_eq!(
                err.id.as_deref(),
                case["id"].as_str(),
                "{file}: {frame:?} id"
            );
            // The error response a server would send is itself a valid server frame.
            let resp = ServerFrame::Response(err.to_response()).encode();
            assert!(ServerFrame::decode(&resp).is_ok(), "{resp}");
        }
    }
}

#[test]
fn tolerant_decoding() {
    let cases = read_json("frames/tolerance.json");
    for case in cases.as_array().expect("array") {
        let note = case["note"].as_str().unwrap_or_default();
        let text = case["frame"].to_string();
        let frame = ServerFrame::decode(&text).unwrap_or_else(|e| panic!("{note}: {e}"));
        match frame {
            ServerFrame::Event(env) => {
                let ev = env.decode_event();
                match case["event"].as_str() {
                    Some(name) => {
                        assert_eq!(ev.event_type(), name, "{note}");
                        assert!(!matches!(ev, Event::Unknown { .. }), "{note}");
                    }
                    None => assert!(matches!(ev, Event::Unknown { .. }), "{note}"),
                }
                if case.get("unknown_value").is_some() {
                    let Event::MemberLeft(l) = &ev else {
                        panic!("{note}")
                    };
                    assert_eq!(l.reason, ovsp::model::LeaveReason::Unknown, "{note}");
                }
                if let Event::TrackPublished(t) = &ev {
                    assert_eq!(t.track.kind, ovsp::model::TrackKind::Unknown);
                    assert_eq!(t.track.source, ovsp::model::MediaSource::Unknown);
                }
            }
            ServerFrame::Response(r) => {
                let err = r.outcome.expect_err(note);
                assert_eq!(
                    i64::from(err.code.0),
                    case["error_code"].as_i64().unwrap_or(0)
                );
                if err.code.0 == 54999 {
                    assert_eq!(err.code.name(), "OvspError");
                    assert_eq!(err.action(), Some(ovsp::model::SessionAction::Unknown));
                } else {
                    assert_eq!(r.id, None, "{note}");
                }
            }
        }
    }
}

#[test]
fn spec_example_session_decodes() {
    // Every frame of the "Example session" in docs/protocol.md is valid, and every event and
    // result in it decodes to its typed form.
    let doc = std::fs::read_to_string(common::docs_dir().join("protocol.md")).expect("doc");
    let start = doc.find("<!-- example -->").expect("example start");
    let end = doc.find("<!-- /example -->").expect("example end");
    let mut frames = 0;
    let mut last_method: std::collections::HashMap<String, String> = Default::default();
    for line in doc[start..end].lines() {
        if let Some(f) = line.strip_prefix("C> ") {
            frames += 1;
            match ClientFrame::decode(f).unwrap_or_else(|e| panic!("{f}: {e}")) {
                ClientFrame::Request(r) => {
                    assert!(ovsp::method_info(&r.method).is_some(), "{f}");
                    last_method.insert(r.id.clone(), r.method.clone());
                }
                ClientFrame::Notification(n) => {
                    assert!(ovsp::method_info(&n.method).is_some(), "{f}");
                }
            }
        } else if let Some(f) = line.strip_prefix("S> ") {
            frames += 1;
            match ServerFrame::decode(f).unwrap_or_else(|e| panic!("{f}: {e}")) {
                ServerFrame::Event(e) => {
                    let ev = e
                        .try_decode_event()
                        .unwrap_or_else(|err| panic!("{f}: {err}"));
                    assert!(!matches!(ev, Event::Unknown { .. }), "{f}");
                    assert_eq!(
                        e.seq.is_some(),
                        ev.durability() == Durability::Durable,
                        "{f}"
                    );
                }
                ServerFrame::Response(r) => {
                    let method = r.id.as_ref().and_then(|id| last_method.get(id)).cloned();
                    match (method.as_deref(), &r.outcome) {
                        (Some("session.connect"), Ok(_)) => {
                            r.result_as::<ovsp::methods::SessionConnectResult>()
                                .unwrap_or_else(|e| panic!("{f}: {e}"));
                        }
                        (Some("room.join"), Ok(_)) => {
                            r.result_as::<ovsp::model::Snapshot>()
                                .unwrap_or_else(|e| panic!("{f}: {e}"));
                        }
                        (_, Ok(_)) => {}
                        (_, Err(e)) => assert!(e.code.is_known(), "{f}"),
                    }
                    assert!(
                        r.outcome.is_err() || r.seq().is_some(),
                        "{f}: result without seq"
                    );
                }
            }
        }
    }
    assert!(frames >= 15, "example has {frames} frames");
}

#[test]
fn end_of_candidates_is_an_explicit_null() {
    let f = ClientFrame::decode(
        r#"{"jsonrpc":"2.0","method":"ice.candidate","params":{"pc":"pub","candidate":null}}"#,
    )
    .expect("ice");
    let ClientFrame::Notification(n) = f else {
        panic!("not a notification")
    };
    let ice: ovsp::methods::IceCandidate = n.params_as().expect("ice params");
    assert_eq!(ice.candidate, None);
    let out = ClientFrame::Notification(ovsp::Notification::new("ice.candidate", &ice)).encode();
    assert!(out.contains(r#""candidate":null"#), "{out}");
}
