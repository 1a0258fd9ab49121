//! The compact wire codec (`ovsp::json::{FromWire, ToWire}`) against serde, differentially:
//! every fixture of every method and event decodes to the same value and encodes to the same
//! JSON with both codecs; every field of every fixture, removed or replaced by a value of the
//! wrong type, gives the same outcome (and the same error text) with both; random members,
//! tracks and rooms round-trip identically.

mod common;

use common::{read_json, stems};
use ovsp::events::{visit_events, EventInfo, EventVisitor};
use ovsp::json::{FromWire, ToWire};
use ovsp::methods::{visit_methods, Method, MethodVisitor, NotificationMethod, WireType};
use ovsp::model::{
    MediaSource, Member, MemberState, Role, Room, SelfMember, Snapshot, Track, TrackKind,
    TrackLayer,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// The ovsp value of a serde_json value (through ovsp's `Deserialize`).
fn ov(v: &Value) -> ovsp::json::Value {
    serde_json::from_value(v.clone()).expect("any JSON value")
}

/// Both codecs on one value: the same decoded value or the same error and, on success, the
/// same encoding.
///
/// serde also reads a struct from an array of its fields in order, which is no wire form and
/// which the wire codec rejects; `array_put` says an array was put somewhere into `v`, where
/// only that difference is allowed.
fn agree<T: WireType>(v: &Value, what: &str, array_put: bool) -> Result<(), String> {
    let by_serde = T::deserialize(v);
    let by_wire = T::from_wire(&ov(v));
    match (by_serde, by_wire) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "{what}: decoded values");
            let serde_a = serde_json::to_value(&a).expect("serde encode");
            assert_eq!(a.to_wire(), serde_a, "{what}: encodings");
            // The same JSON text up to key order (the wire codec writes keys sorted, as
            // serde_json writes a `Value`; serde writes a struct's in declaration order).
            assert_eq!(
                ovsp::json::encode_str(&a),
                serde_a.to_string(),
                "{what}: text"
            );
            Ok(())
        }
        (Err(a), Err(b)) => {
            let (a, b) = (a.to_string(), b.to_string());
            // For an array in place of a struct, serde's error speaks of lengths.
            if !array_put {
                assert_eq!(a, b, "{what}: error text for {v}");
            }
            Err(b)
        }
        (Ok(a), Err(b)) => {
            assert!(
                array_put,
                "{what}: serde accepts {v} as {a:?}, the wire codec rejects it: {b}"
            );
            Err(b.to_string())
        }
        (Err(a), Ok(b)) => panic!("{what}: serde rejects {v} ({a}), the wire codec gives {b:?}"),
    }
}

/// Values of every JSON type, to put where a field is expected.
fn wrong_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!("x"),
        json!(-1),
        json!(300),
        json!(1.5),
        json!(1e20),
        json!([]),
        json!([1.5]),
        json!({}),
        json!({"k": 1}),
    ]
}

/// Every object field path of `v` (`[key, key, …]`, array elements as indices).
fn paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                prefix.push(k.clone());
                out.push(prefix.clone());
                paths(x, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                prefix.push(i.to_string());
                paths(x, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// `v` with the field at `path` removed (`None`) or replaced.
fn mutate(v: &Value, path: &[String], with: Option<&Value>) -> Value {
    let mut out = v.clone();
    let mut cur = &mut out;
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        cur = match cur {
            Value::Object(m) if last => {
                match with {
                    Some(x) => {
                        m.insert(seg.clone(), x.clone());
                    }
                    None => {
                        m.remove(seg);
                    }
                }
                return out;
            }
            Value::Object(m) => m.get_mut(seg).expect("path"),
            Value::Array(a) => a
                .get_mut(seg.parse::<usize>().expect("index"))
                .expect("path"),
            _ => unreachable!("paths only lead through objects and arrays"),
        };
    }
    out
}

/// The fixture itself, then every field removed and replaced by every wrong value. Returns
/// (accepted, rejected) counts.
fn differential<T: WireType>(v: &Value, what: &str) -> (usize, usize) {
    agree::<T>(v, what, false)
        .unwrap_or_else(|e| panic!("{what}: the fixture does not decode: {e}"));
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    let (mut ok, mut err) = (0, 0);
    for p in &all {
        let label = format!("{what} @ {}", p.join("."));
        let mut tally = |r: Result<(), String>| match r {
            Ok(()) => ok += 1,
            Err(_) => err += 1,
        };
        tally(agree::<T>(&mutate(v, p, None), &label, false));
        for w in wrong_values() {
            tally(agree::<T>(&mutate(v, p, Some(&w)), &label, w.is_array()));
        }
    }
    // Two faults at once: serde reports the invalid value that comes first in the object,
    // else the first missing field; so must the wire codec.
    let top: Vec<&Vec<String>> = all.iter().filter(|p| p.len() == 1).collect();
    for (i, a) in top.iter().enumerate() {
        for b in &top[i + 1..] {
            for (wa, wb) in [
                (None, None),
                (Some(json!("x")), None),
                (None, Some(json!(-1))),
                (Some(json!(1.5)), Some(json!(true))),
                (Some(json!("x")), Some(json!({"k": 1}))),
            ] {
                let m = mutate(&mutate(v, a, wa.as_ref()), b, wb.as_ref());
                let label = format!("{what} @ {} + {}", a.join("."), b.join("."));
                match agree::<T>(&m, &label, false) {
                    Ok(()) => ok += 1,
                    Err(_) => err += 1,
                }
            }
        }
    }
    (ok, err)
}

#[derive(Default)]
struct Tally {
    values: usize,
    accepted: usize,
    rejected: usize,
}

impl Tally {
    fn add<T: WireType>(&mut self, v: &Value, what: &str) {
        self.values += 1;
        let (ok, err) = differential::<T>(v, what);
        self.accepted += ok;
        self.rejected += err;
    }
}

fn without_seq(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("seq");
    }
    v
}

impl MethodVisitor for Tally {
    fn visit<M: Method>(&mut self) {
        let doc = read_json(&format!("methods/{}.json", M::NAME));
        self.add::<M::Params>(&doc["request"]["params"], &format!("{} params", M::NAME));
        let result = &doc["response"]["result"];
        self.add::<M::Result>(result, &format!("{} result", M::NAME));
        if M::NAME != "room.join" && M::NAME != "room.get" {
            self.add::<M::Result>(&without_seq(result), &format!("{} result", M::NAME));
        }
    }

    fn visit_notification<N: NotificationMethod>(&mut self) {
        let doc = read_json(&format!("methods/{}.json", N::NAME));
        self.add::<N>(&doc["notification"]["params"], N::NAME);
    }
}

impl EventVisitor for Tally {
    fn visit<T: WireType>(&mut self, info: &'static EventInfo) {
        let doc = read_json(&format!("events/{}.json", info.name));
        let data = &doc["params"]["data"];
        self.add::<T>(data, info.name);
        // The event decoder and `Event::data` use the wire codec.
        let ev = ovsp::Event::try_decode(info.name, &ov(data)).expect("fixture decodes");
        let by_serde: T = serde_json::from_value(data.clone()).expect("serde decode");
        assert_eq!(ev.data(), serde_json::to_value(&by_serde).expect("encode"));
    }
}

#[test]
fn every_fixture_decodes_and_encodes_alike_under_mutation() {
    let mut t = Tally::default();
    visit_methods(&mut t);
    visit_events(&mut t);
    // Every fixture file was visited (methods: request + result, events: data).
    let fixtures = stems("methods").len() + stems("events").len();
    assert!(
        t.values >= fixtures,
        "{} values from {fixtures} fixtures",
        t.values
    );
    // The mutations exercise both outcomes many times over.
    assert!(t.accepted > 1000, "accepted {}", t.accepted);
    assert!(t.rejected > 1000, "rejected {}", t.rejected);
}

#[test]
fn snapshot_with_flattened_self_matches_serde() {
    let doc = read_json("methods/room.join.json");
    let result = &doc["response"]["result"];
    let a: Snapshot = serde_json::from_value(result.clone()).expect("serde");
    let b = Snapshot::from_wire(&ov(result)).expect("wire");
    assert_eq!(a, b);
    assert_eq!(b.to_wire(), serde_json::to_value(&a).expect("encode"));
    // The flattened member's fields sit next to the self member's own.
    let self_obj = &b.to_wire()["self"];
    assert!(self_obj.get("identity").is_some() && self_obj.get("permissions").is_some());
    assert!(self_obj.get("member").is_none());
    // A missing field of the flattened member is reported by name.
    let mut bad = result.clone();
    bad["self"]
        .as_object_mut()
        .expect("self")
        .remove("identity");
    let e = Snapshot::from_wire(&ov(&bad)).expect_err("no identity");
    assert_eq!(e.to_string(), "missing field `identity`");
    let e = SelfMember::from_wire(&ovsp::json::json!({"id": "m", "identity": "i"}))
        .expect_err("version");
    assert_eq!(e.to_string(), "missing field `version`");
}

#[test]
fn errors_name_the_field_and_the_type() {
    let e = Track::from_wire(
        &ovsp::json::json!({"id": "t", "version": 1, "kind": "audio", "source": "camera"}),
    )
    .expect_err("member_id is required");
    assert_eq!(e.to_string(), "missing field `member_id`");
    let e = Member::from_wire(&ovsp::json::json!({"id": "m", "identity": "i", "version": "7"}))
        .expect_err("version is a number");
    assert_eq!(
        e.to_string(),
        "invalid type: string \"7\", expected u64",
        "serde's wording"
    );
    let e = Room::from_wire(&ovsp::json::json!("room")).expect_err("not an object");
    assert_eq!(
        e.to_string(),
        "invalid type: string \"room\", expected struct Room"
    );
    // Through the params decoder, the field lands in `data.field`.
    let req = ovsp::Request {
        id: "1".into(),
        method: "track.publish".into(),
        params: ovsp::json::json!({"cid": "c"}),
    };
    let err = req
        .params_as::<ovsp::methods::TrackPublishParams>()
        .expect_err("source missing");
    assert_eq!(err.code, ovsp::Code::INVALID_PARAMS);
    assert!(err.message.contains("missing field `"), "{}", err.message);
    assert!(err.data.and_then(|d| d.field).is_some());
}

#[test]
fn string_enums_map_unknown_values_and_reject_other_types() {
    assert_eq!(
        TrackKind::from_wire(&ovsp::json::json!("video")),
        Ok(TrackKind::Video)
    );
    assert_eq!(
        TrackKind::from_wire(&ovsp::json::json!("smell")),
        Ok(TrackKind::Unknown)
    );
    assert_eq!(
        serde_json::from_value::<TrackKind>(json!("smell")).expect("serde"),
        TrackKind::Unknown
    );
    assert_eq!(Role::Audience.to_wire(), json!("audience"));
    let e = TrackKind::from_wire(&ovsp::json::json!(3)).expect_err("number");
    let s = serde_json::from_value::<TrackKind>(json!(3)).expect_err("number");
    assert_eq!(e.to_string(), s.to_string());
}

/// Types built by the derive in a crate other than `ovsp`, with the attributes only the SDK's
/// own types use: `rename_all`, `tag`, `skip`, enums with data.
mod derive_shapes {
    use super::*;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ovsp::Wire)]
    #[serde(rename_all = "snake_case")]
    pub enum Plain {
        FirstThing,
        #[serde(rename = "self")]
        Me,
    }

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ovsp::Wire)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum Tagged {
        Empty,
        Named {
            id: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            note: Option<String>,
        },
        Wrapped(Inner),
    }

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ovsp::Wire)]
    pub enum External {
        Unit,
        Newtype(u32),
        Fields { a: bool },
    }

    #[derive(
        Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize, ovsp::Wire,
    )]
    pub struct Inner {
        pub x: i64,
        #[serde(skip)]
        pub cache: u8,
        #[serde(rename = "type", default)]
        pub kind: String,
    }

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ovsp::Wire)]
    pub struct Newtype(pub Vec<u16>);

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ovsp::Wire)]
    pub struct Unit;

    fn same<T>(values: &[Value])
    where
        T: serde::Serialize + serde::de::DeserializeOwned + FromWire + ToWire,
        T: PartialEq + std::fmt::Debug,
    {
        for v in values {
            match (serde_json::from_value::<T>(v.clone()), T::from_wire(&ov(v))) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{v}");
                    assert_eq!(
                        b.to_wire(),
                        serde_json::to_value(&a).expect("encode"),
                        "{v}"
                    );
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{v}"),
                (a, b) => panic!("{v}: serde {a:?}, wire {b:?}"),
            }
        }
    }

    #[test]
    fn sdk_shapes_match_serde() {
        same::<Plain>(&[
            json!("first_thing"),
            json!("self"),
            json!("me"),
            json!({"first_thing": null}),
            json!(1),
        ]);
        same::<Tagged>(&[
            json!({"kind": "empty"}),
            json!({"kind": "named", "id": "a"}),
            json!({"kind": "named", "id": "a", "note": "n", "extra": 1}),
            json!({"kind": "named"}),
            json!({"kind": "wrapped", "x": 5, "type": "t"}),
            json!({"kind": "wrapped"}),
            json!({"kind": "nope"}),
            json!({"id": "a"}),
            json!({"kind": 3}),
        ]);
        same::<External>(&[
            json!("unit"),
            json!({"newtype": 4}),
            json!({"fields": {"a": true}}),
            json!({"fields": {}}),
            json!({"newtype": "x"}),
            json!("other"),
            json!({"a": 1, "b": 2}),
        ]);
        same::<Inner>(&[
            json!({"x": 1, "cache": 9}),
            json!({"x": 1, "type": "t"}),
            json!({}),
        ]);
        same::<Newtype>(&[json!([1, 2]), json!([70000]), json!({})]);
        same::<Unit>(&[json!(null), json!(1)]);
        let i = Inner {
            x: 1,
            cache: 7,
            kind: "k".into(),
        };
        assert_eq!(
            i.to_wire(),
            json!({"x": 1, "type": "k"}),
            "skip is not encoded"
        );
    }
}

// ------------------------------------------------------------------ properties

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop::option::of(s).boxed()
}

fn arb_meta() -> impl Strategy<Value = ovsp::model::Meta> {
    prop::collection::btree_map(
        "[a-z]{1,6}",
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z ]{0,8}".prop_map(Value::from),
        ],
        0..3,
    )
    .prop_map(|m| Map::from_iter(m).into())
}

fn arb_layer() -> impl Strategy<Value = TrackLayer> {
    (
        "[qhf]",
        opt(any::<u32>()),
        opt(any::<u32>()),
        opt(any::<u64>()),
        opt(-1.0e6f64..1.0e6),
        opt(any::<bool>()),
    )
        .prop_map(
            |(rid, width, height, max_bitrate, max_fps, active)| TrackLayer {
                rid,
                width,
                height,
                max_bitrate,
                max_fps,
                active,
            },
        )
}

fn arb_track() -> impl Strategy<Value = Track> {
    (
        (
            "tr_[a-z0-9]{1,6}",
            "mem_[a-z]{1,4}",
            opt("[a-z]{1,4}"),
            any::<u64>(),
        ),
        (
            prop::sample::select(vec![
                TrackKind::Audio,
                TrackKind::Video,
                TrackKind::Data,
                TrackKind::Unknown,
            ]),
            prop::sample::select(vec![
                MediaSource::Microphone,
                MediaSource::Camera,
                MediaSource::Screen,
                MediaSource::Custom,
                MediaSource::Unknown,
            ]),
            opt(".{0,8}"),
            opt("[a-z]{1,4}"),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            opt("(audio|video)/[A-Z0-9]{2,4}"),
            opt(any::<u32>()),
            opt(any::<u32>()),
            prop::collection::vec(arb_layer(), 0..3),
            opt("L[1-3]T[1-3]"),
            opt(1u16..),
            opt(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (id, member_id, cid, version),
                (kind, source, name, stream_key, muted, blocked),
                (mime_type, width, height, layers, scalability_mode, data_handle, reliable),
            )| Track {
                id,
                member_id,
                cid,
                version,
                kind,
                source,
                name,
                stream_key,
                muted,
                blocked,
                mime_type,
                width,
                height,
                layers,
                scalability_mode,
                data_handle,
                reliable,
            },
        )
}

fn arb_member() -> impl Strategy<Value = Member> {
    (
        (
            "mem_[a-z]{1,6}",
            ".{0,8}",
            opt(".{0,8}"),
            any::<u64>(),
            opt(any::<u64>()),
        ),
        (
            prop::sample::select(vec![Role::Member, Role::Audience, Role::Unknown]),
            prop::sample::select(vec![
                MemberState::Joining,
                MemberState::Active,
                MemberState::Reconnecting,
            ]),
            prop::collection::vec(any::<bool>(), 6),
            any::<i32>(),
            any::<i32>(),
            opt(any::<i32>()),
        ),
        (
            opt("[a-z-]{1,10}"),
            opt("[a-z-]{1,10}"),
            arb_meta(),
            prop::collection::vec("[a-z_]{1,8}", 0..3),
            prop::collection::vec(arb_track(), 0..3),
        ),
    )
        .prop_map(
            |(
                (id, identity, name, version, joined_at),
                (role, state, flags, input_volume, output_volume, input_sensitivity),
                (requested_position, current_position, meta, capabilities, tracks),
            )| Member {
                id,
                identity,
                name,
                role,
                state,
                version,
                joined_at,
                audio_muted: flags[0],
                video_muted: flags[1],
                deaf: flags[2],
                visible: flags[3],
                handraised: flags[4],
                talking: flags[5],
                input_volume,
                output_volume,
                input_sensitivity,
                requested_position,
                current_position,
                meta,
                capabilities,
                tracks,
            },
        )
}

fn arb_room() -> impl Strategy<Value = Room> {
    (
        (
            "rm_[a-z]{1,6}",
            ".{0,8}",
            opt(".{0,8}"),
            any::<u64>(),
            any::<bool>(),
        ),
        (
            opt("[a-z-]{1,10}"),
            prop::collection::vec(any::<bool>(), 4),
            arb_meta(),
            opt(any::<u32>()),
            any::<u32>(),
            any::<u32>(),
            opt(any::<u64>()),
        ),
    )
        .prop_map(
            |(
                (id, name, display_name, version, locked),
                (layout_name, flags, meta, max_members, member_count, audience_count, created_at),
            )| Room {
                id,
                name,
                display_name,
                version,
                locked,
                layout_name,
                hide_video_muted: flags[0],
                prioritize_handraise: flags[1],
                recording: flags[2],
                streaming: flags[3],
                meta,
                max_members,
                member_count,
                audience_count,
                created_at,
            },
        )
}

/// Encode with both codecs, decode each encoding with both codecs: all four agree and give
/// back the original.
fn round_trip<T>(x: &T) -> Result<(), TestCaseError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + FromWire + ToWire,
    T: PartialEq + std::fmt::Debug,
{
    let wire = x.to_wire();
    let serde = serde_json::to_value(x).expect("encode");
    prop_assert_eq!(&wire, &serde);
    prop_assert_eq!(ovsp::json::encode_str(x), serde.to_string());
    let back = T::from_wire(&wire).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, x);
    let text = serde_json::to_string(x).expect("text");
    let from_text: T =
        ovsp::json::decode_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    // The wire codec's text parser is exact (serde_json's may round a float's last bit).
    prop_assert_eq!(&from_text, x);
    let by_serde: T = serde_json::from_value(wire.into()).expect("serde decode");
    prop_assert_eq!(&by_serde, x);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn members_round_trip(m in arb_member()) {
        round_trip(&m)?;
    }

    #[test]
    fn tracks_round_trip(t in arb_track()) {
        round_trip(&t)?;
    }

    #[test]
    fn rooms_round_trip(r in arb_room()) {
        round_trip(&r)?;
    }
}
