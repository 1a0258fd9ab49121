//! `ovsp::json::{Value, Map, Number}` and `json!` against serde_json's types of the same
//! names: the same accessors, the same text, the same serde encoding, the same map
//! semantics (sorted keys, a later duplicate replacing an earlier one).

use ovsp::json::{json, parse, to_text, Map, Number, Value};
use proptest::prelude::*;

/// Both macros on the same tokens give the same value.
macro_rules! same {
    ($($t:tt)+) => {{
        let ours: Value = json!($($t)+);
        let theirs: serde_json::Value = serde_json::json!($($t)+);
        assert_eq!(ours, theirs, "{}", stringify!($($t)+));
        assert_eq!(ours.to_string(), theirs.to_string());
        ours
    }};
}

#[test]
fn json_macro_matches_serde_jsons() {
    let name = String::from("ann");
    let key = "dyn";
    let opt: Option<u32> = Some(3);
    let none: Option<&str> = None;
    let list = vec![1u8, 2, 3];
    same!(null);
    same!(true);
    same!(-51);
    same!(2.5);
    same!(f64::MAX);
    same!("text");
    same!([]);
    same!({});
    same!([1, 2.5, null, true, "x", [], {}, [null], {"a": null}]);
    same!([1, 2,]);
    same!({"a": 1, "b": {"c": [1, {"d": null}]}, "e": [],});
    same!({ "name": name, "upper": name.to_uppercase(), "len": name.len() });
    same!({ key: 1, (format!("k{}", 2)): 2 });
    same!({ "opt": opt, "none": none, "list": list, "neg": -1i64, "f": -0.5 });
    same!({ "closure": opt.map(|x| x + 1).unwrap_or_else(|| 0), "cmp": 1 < 2 });
    same!([name.clone(), name.as_str(), &name]);
    let v = same!({"nested": {"x": 1}});
    let copied = json!({ "v": v, "inner": v["nested"] });
    assert_eq!(copied["inner"]["x"], 1);
    assert_eq!(copied["v"], v);
}

#[test]
fn map_keeps_keys_sorted_and_unique() {
    let mut m = Map::new();
    assert!(m.is_empty());
    for k in ["b", "a", "d", "c", "a"] {
        m.insert(k.to_owned(), Value::from(k));
    }
    assert_eq!(m.len(), 4);
    assert_eq!(
        m.keys().map(String::as_str).collect::<Vec<_>>(),
        ["a", "b", "c", "d"]
    );
    assert_eq!(m.insert("b".into(), json!(2)), Some(json!("b")));
    assert_eq!(m.get("b"), Some(&json!(2)));
    assert_eq!(m.get(&String::from("c")), Some(&json!("c")));
    assert!(m.contains_key("d") && !m.contains_key("e"));
    assert_eq!(m.remove("a"), Some(json!("a")));
    assert_eq!(m.remove("a"), None);
    *m.get_mut("c").expect("c") = json!(null);
    *m.entry("e").or_insert(json!(0)) = json!(5);
    m.entry("e").or_insert_with(|| unreachable!());
    m.retain(|k, _| k != "d");
    assert_eq!(
        to_text(&Value::Object(m.clone())),
        r#"{"b":2,"c":null,"e":5}"#
    );
    let mut other: Map<String, Value> = [("a".to_owned(), json!(1)), ("b".to_owned(), json!(1))]
        .into_iter()
        .collect();
    m.append(&mut other);
    assert!(other.is_empty());
    assert_eq!(m["b"], 1);
    assert_eq!(m.values().count(), 4);
    let collected: Map<String, Value> = vec![
        ("z".to_owned(), json!(1)),
        ("y".to_owned(), json!(2)),
        ("z".to_owned(), json!(3)),
    ]
    .into_iter()
    .collect();
    assert_eq!(to_text(&collected.into()), r#"{"y":2,"z":3}"#);
}

#[test]
fn duplicate_keys_keep_the_last_value_as_serde_json() {
    for text in [
        r#"{"a":1,"a":2}"#,
        r#"{"b":1,"a":2,"b":3,"a":4,"c":5}"#,
        r#"{"x":{"k":1},"x":{"j":2}}"#,
    ] {
        let ours = parse(text).expect("parses");
        let theirs: serde_json::Value = serde_json::from_str(text).expect("parses");
        assert_eq!(ours, theirs, "{text}");
        assert_eq!(ours.to_string(), theirs.to_string());
    }
}

#[test]
fn accessors_and_comparisons_match_serde_json() {
    let text = r#"{"s":"x","u":7,"i":-7,"f":1.5,"big":18446744073709551615,"b":true,"n":null,
        "a":[1,"two",{"three":3}],"o":{"k/e~y":[0]}}"#;
    let v = parse(text).expect("parses");
    let t: serde_json::Value = serde_json::from_str(text).expect("parses");
    for key in ["s", "u", "i", "f", "big", "b", "n", "a", "o", "missing"] {
        let (x, y) = (&v[key], &t[key]);
        assert_eq!(x, y, "{key}");
        assert_eq!(x.as_str(), y.as_str());
        assert_eq!(x.as_u64(), y.as_u64());
        assert_eq!(x.as_i64(), y.as_i64());
        assert_eq!(x.as_f64(), y.as_f64());
        assert_eq!(x.as_bool(), y.as_bool());
        assert_eq!(x.is_null(), y.is_null());
        assert_eq!(x.is_u64(), y.is_u64());
        assert_eq!(x.is_i64(), y.is_i64());
        assert_eq!(x.is_f64(), y.is_f64());
        assert_eq!(x.is_string(), y.is_string());
        assert_eq!(x.is_array(), y.is_array());
        assert_eq!(x.is_object(), y.is_object());
        assert_eq!(x.is_number(), y.is_number());
        assert_eq!(x.is_boolean(), y.is_boolean());
        assert_eq!(x.as_array().map(Vec::len), y.as_array().map(Vec::len));
        assert_eq!(x.as_object().map(Map::len), y.as_object().map(|m| m.len()));
        assert_eq!(v.get(key).is_some(), t.get(key).is_some());
    }
    for p in [
        "",
        "/a/0",
        "/a/2/three",
        "/o/k~1e~0y/0",
        "/a/01",
        "/a/9",
        "/s/x",
        "x",
    ] {
        assert_eq!(
            v.pointer(p).map(ToString::to_string),
            t.pointer(p).map(ToString::to_string),
            "{p}"
        );
    }
    assert_eq!(v["a"][1], "two");
    assert_eq!(v["a"][7], Value::Null);
    assert_eq!(v["s"]["x"], Value::Null);
    assert!(v["u"] == 7 && v["i"] == -7i64 && v["f"] == 1.5 && v["b"] == true);
    let owned = String::from("x");
    assert_eq!(v["s"], "x");
    assert_eq!(v["s"], owned);
    assert_eq!("x", v["s"]);
    assert!(v["u"] != 7.5 && v["u"] != "7");
    let mut w = Value::Null;
    w["made"]["deep"] = json!([0]);
    w["made"]["deep"][0] = json!("set");
    assert_eq!(w.to_string(), r#"{"made":{"deep":["set"]}}"#);
    // Where serde_json panics, a value that is not an object becomes one.
    let mut s = json!("x");
    s["k"] = json!(1);
    assert_eq!(s, json!({"k": 1}));
    let mut x = json!({"t": [1]});
    assert_eq!(x["t"].take(), json!([1]));
    assert_eq!(x, json!({"t": null}));
    x.as_object_mut()
        .expect("object")
        .insert("n".into(), 1.into());
    if let Some(n) = x.get_mut("n") {
        *n = json!(2);
    }
    assert_eq!(x.pointer_mut("/n"), Some(&mut json!(2)));
    assert_eq!(
        format!(
            "{}",
            Value::Object(x.as_object().cloned().unwrap_or_default())
        ),
        x.to_string()
    );
}

#[test]
fn numbers_behave_as_serde_jsons() {
    for n in [0u64, 1, u64::MAX, i64::MAX as u64, i64::MAX as u64 + 1] {
        let (a, b) = (Number::from(n), serde_json::Number::from(n));
        assert_eq!(
            (a.as_u64(), a.as_i64(), a.as_f64()),
            (b.as_u64(), b.as_i64(), b.as_f64())
        );
        assert_eq!(
            (a.is_u64(), a.is_i64(), a.is_f64()),
            (b.is_u64(), b.is_i64(), b.is_f64())
        );
        assert_eq!(a.to_string(), b.to_string());
    }
    for n in [i64::MIN, -1, 0, 5] {
        let (a, b) = (Number::from(n), serde_json::Number::from(n));
        assert_eq!(
            (a.as_u64(), a.as_i64(), a.as_f64()),
            (b.as_u64(), b.as_i64(), b.as_f64())
        );
        assert_eq!(
            (a.is_u64(), a.is_i64(), a.is_f64()),
            (b.is_u64(), b.is_i64(), b.is_f64())
        );
        assert_eq!(a, Number::from(n));
    }
    for f in [0.0, -0.0, 0.1, 1e300, -2.5] {
        let (a, b) = (
            Number::from_f64(f).expect("finite"),
            serde_json::Number::from_f64(f).expect("finite"),
        );
        assert_eq!(
            (a.as_u64(), a.as_i64(), a.as_f64()),
            (b.as_u64(), b.as_i64(), b.as_f64())
        );
        assert_eq!(a.to_string(), b.to_string());
    }
    assert!(Number::from_f64(f64::NAN).is_none());
    assert_eq!(Value::from(f64::INFINITY), Value::Null);
    assert_eq!(Value::from(0.1f32), serde_json::Value::from(0.1f32));
    // An integer and the equal float are different numbers, as in serde_json.
    assert_ne!(json!(1), json!(1.0));
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        any::<f64>().prop_map(J::from),
        any::<String>().prop_map(J::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Array),
            prop::collection::btree_map("[a-c]{0,2}|.{0,4}", inner, 0..6)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn serde_and_conversions_agree_with_serde_json(t in arb_json()) {
        let v: Value = serde_json::from_value(t.clone()).expect("deserialize");
        prop_assert_eq!(&v, &t);
        prop_assert_eq!(&Value::from(t.clone()), &v);
        prop_assert_eq!(serde_json::to_value(&v).expect("serialize"), t.clone());
        prop_assert_eq!(serde_json::Value::from(v.clone()), t.clone());
        prop_assert_eq!(serde_json::to_string(&v).expect("text"), to_text(&v));
        prop_assert_eq!(v.to_string(), t.to_string());
        // (Not through serde_json's text parser: it may round a float's last bit.)
        prop_assert_eq!(&parse(&t.to_string()).expect("from text"), &v);
        if let (Value::Object(m), serde_json::Value::Object(n)) = (&v, &t) {
            prop_assert!(m.keys().eq(n.keys()));
            for (k, x) in n {
                prop_assert_eq!(&v[k.as_str()], x);
            }
        }
    }

    #[test]
    fn objects_from_unordered_text_match_serde_json(
        entries in prop::collection::vec(("[a-e]{1,2}", any::<i32>()), 0..40)
    ) {
        let mut text = String::from("{");
        for (i, (k, n)) in entries.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!("\"{k}\":{n}"));
        }
        text.push('}');
        let ours = parse(&text).expect("parses");
        let theirs: serde_json::Value = serde_json::from_str(&text).expect("parses");
        prop_assert_eq!(&ours, &theirs);
        prop_assert_eq!(ours.to_string(), theirs.to_string());
        let mut built = Map::new();
        for (k, n) in &entries {
            built.insert(k.clone(), json!(n));
        }
        prop_assert_eq!(Value::Object(built), ours);
    }
}

#[test]
fn key_map_behaves_as_a_btree_map() {
    use ovsp::json::{FromWire, KeyMap, ToWire};
    use std::collections::BTreeMap;
    let pairs = [("m2", 2u32), ("m0", 0), ("m9", 9), ("m0", 10), ("m5", 5)];
    let ours: KeyMap<u32> = pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    let theirs: BTreeMap<String, u32> = pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    assert!(ours.iter().eq(theirs.iter()));
    assert_eq!(ours.len(), theirs.len());
    assert_eq!(ours.get("m0"), Some(&10));
    assert_eq!(ours.get("m1"), None);
    assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
    assert_eq!(
        serde_json::to_string(&ours).expect("ser"),
        serde_json::to_string(&theirs).expect("ser")
    );
    let back: KeyMap<u32> =
        serde_json::from_str(&serde_json::to_string(&theirs).expect("ser")).expect("de");
    assert_eq!(back, ours);
    assert_eq!(ours.to_wire(), theirs.to_wire());
    assert_eq!(KeyMap::<u32>::from_wire(&ours.to_wire()), Ok(ours.clone()));
    assert!(KeyMap::<u32>::from_wire(&json!({"a": "x"})).is_err());
    assert!(KeyMap::<u32>::from_wire(&json!([])).is_err());
    let mut m = ours;
    assert_eq!(m.insert("m5".into(), 50), Some(5));
    assert_eq!(m.remove("m9"), Some(9));
    m.retain(|k, _| k != "m2");
    assert_eq!(
        m.into_iter().collect::<Vec<_>>(),
        [("m0".to_owned(), 10), ("m5".to_owned(), 50)]
    );
}
