//! Property tests: decoding never panics on arbitrary bytes or arbitrary JSON, and extra
//! unknown fields never change what a fixture decodes to.

mod common;

use ovsp::events::{visit_events, EventInfo, EventVisitor};
use ovsp::methods::{visit_methods, Method, MethodVisitor, NotificationMethod, WireType};
use ovsp::{ClientFrame, Event, ServerFrame, EVENTS, METHODS};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{json, Map, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z_.]{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-z_]{1,10}".boxed(),
                    prop::sample::select(vec![
                        "id",
                        "member_id",
                        "track_id",
                        "seq",
                        "ts",
                        "type",
                        "data",
                        "kind",
                        "source",
                        "reason",
                        "member",
                        "track",
                        "room",
                        "version",
                        "updated",
                        "layers",
                        "mids",
                        "sdp",
                        "offer_id",
                        "tracks",
                        "meta",
                        "error",
                        "code",
                    ])
                    .prop_map(str::to_string)
                    .boxed(),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Decode `v` as every params, result and event payload type; none may panic.
struct DecodeAll<'a>(&'a Value);

impl MethodVisitor for DecodeAll<'_> {
    fn visit<M: Method>(&mut self) {
        let _ = M::Params::deserialize(self.0);
        let _ = M::Result::deserialize(self.0);
    }
    fn visit_notification<N: NotificationMethod>(&mut self) {
        let _ = N::deserialize(self.0);
    }
}

impl EventVisitor for DecodeAll<'_> {
    fn visit<T: WireType>(&mut self, info: &'static EventInfo) {
        let _ = T::deserialize(self.0);
        let _ = Event::decode(info.name, &ovsp::json::Value::from(self.0.clone()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = ClientFrame::decode_bytes(&bytes);
        let _ = ServerFrame::decode_bytes(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = ClientFrame::decode(s);
            let _ = ServerFrame::decode(s);
        }
    }

    #[test]
    fn arbitrary_json_frames_never_panic(v in arb_json(), method in prop::sample::select(METHODS), ev in prop::sample::select(EVENTS)) {
        let frames = [
            v.clone(),
            json!({"jsonrpc":"2.0","id":"1","method":method.name,"params":v}),
            json!({"jsonrpc":"2.0","method":"event","params":{"type":ev.name,"ts":1,"seq":1,"data":v}}),
            json!({"jsonrpc":"2.0","method":"event","params":v}),
            json!({"jsonrpc":"2.0","id":"1","result":v}),
            json!({"jsonrpc":"2.0","id":v,"error":v}),
        ];
        for f in &frames {
            let s = f.to_string();
            if let Ok(ClientFrame::Request(r)) = ClientFrame::decode(&s) {
                let _ = ovsp::perm::required_permissions(&r.method, "mem_a", &r.params);
            }
            match ServerFrame::decode(&s) {
                Ok(ServerFrame::Event(e)) => {
                    let typed = e.decode_event();
                    // A typed event always re-encodes into a decodable frame.
                    let out = ServerFrame::Event(typed.to_envelope(e.ts, e.seq)).encode();
                    prop_assert!(ServerFrame::decode(&out).is_ok());
                }
                Ok(ServerFrame::Response(r)) => {
                    let _ = r.seq();
                    let _ = ServerFrame::decode(&ServerFrame::Response(r).encode());
                }
                Err(e) => prop_assert!(e.code.0 == -32700 || e.code.0 == -32600),
            }
        }
        visit_methods(&mut DecodeAll(&v));
        visit_events(&mut DecodeAll(&v));
    }

    #[test]
    fn unknown_fields_are_ignored(extra in prop::collection::btree_map("x_[a-z]{1,8}", arb_json(), 1..4), pick in any::<prop::sample::Index>()) {
        // Add unknown fields to every object of an event fixture: it decodes to the same event.
        let ev = pick.get(EVENTS);
        let text = common::read(&format!("events/{}.json", ev.name));
        let plain = ServerFrame::decode(&text).expect("fixture");
        let mut doc: Value = serde_json::from_str(&text).expect("json");
        add_fields(&mut doc, &extra);
        let noisy = ServerFrame::decode(&doc.to_string()).expect("noisy fixture");
        let (ServerFrame::Event(a), ServerFrame::Event(b)) = (plain, noisy) else {
            panic!("not events")
        };
        prop_assert_eq!(a.decode_event(), b.decode_event());
    }
}

fn add_fields(v: &mut Value, extra: &std::collections::BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                // Free-form maps: a new key there is data, not an unknown field.
                if !matches!(k.as_str(), "meta" | "payload" | "mids" | "positions") {
                    add_fields(val, extra);
                }
            }
            for (k, val) in extra {
                m.insert(k.clone(), val.clone());
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| add_fields(x, extra)),
        _ => {}
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let deep = "[".repeat(100_000);
    assert!(ClientFrame::decode(&deep).is_err());
    let deep_obj = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"method\":\"ping\",\"params\":{}{}}}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    assert!(ClientFrame::decode(&deep_obj).is_err());
}

#[test]
fn oversized_frames_are_rejected() {
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"method\":\"pub.offer\",\"params\":{{\"sdp\":\"{}\"}}}}",
        "a".repeat(ovsp::limits::MAX_FRAME_BYTES)
    );
    let e = ClientFrame::decode(&big).expect_err("too large");
    assert_eq!(e.code, ovsp::Code::MESSAGE_TOO_LARGE);
}
