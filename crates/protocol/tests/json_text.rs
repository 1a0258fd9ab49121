//! The JSON text parser and printer of `ovsp::json` against serde_json and the standard
//! library: the same text for the same value, the same value for the same text, the same
//! accept/reject decision on arbitrary input, and exact float conversion both ways.

use ovsp::json::{parse, to_text, Value};
use proptest::prelude::*;

/// The ovsp value of a serde_json value (the same tree).
fn ours(v: &serde_json::Value) -> Value {
    parse(&v.to_string()).expect("serde_json's text parses")
}

/// serde_json's value of an ovsp value.
fn theirs(v: &Value) -> serde_json::Value {
    serde_json::from_str(&to_text(v)).expect("our text parses with serde_json")
}

fn float_text(f: f64) -> String {
    to_text(&Value::from(f))
}

fn arb_json(floats: BoxedStrategy<f64>) -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        floats.prop_map(J::from),
        "[a-z_.]{0,12}".prop_map(J::String),
        any::<String>().prop_map(J::String),
        "[\\x00-\\x20\"\\\\/\\x7f\u{80}-\u{10ffff}]{0,8}".prop_map(J::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

/// Floats serde_json parses exactly too (its default parser is only nearly exact for long
/// digit strings): few significant digits, moderate exponents.
fn short_floats() -> BoxedStrategy<f64> {
    (-99_999_999i64..99_999_999, -12i32..12)
        .prop_map(|(m, e)| format!("{m}e{e}").parse::<f64>().expect("float"))
        .boxed()
}

#[test]
fn floats_print_as_serde_json_prints_them() {
    let cases = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        0.1,
        0.2,
        0.3,
        1.0 / 3.0,
        2.0 / 3.0,
        100.0,
        1e15,
        1e16,
        1.5e16,
        123_456_789_012_345_680.0,
        1e-5,
        1e-6,
        1.5e-7,
        0.0001,
        1e21,
        1e22,
        1e23,
        5e-324,
        1e-323,
        2.2250738585072014e-308,
        2.225073858507201e-308,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::EPSILON,
        9007199254740992.0,
        9007199254740993.0,
        4.35,
        33.333333333333336,
        12.5,
        0.25,
        1e100,
        2.5e-10,
        12345.678,
        2f64.powi(-1022),
        2f64.powi(-1000),
        2f64.powi(60),
        2f64.powi(1023),
        1.7976931348623157e308,
    ];
    for f in cases {
        assert_eq!(
            float_text(f),
            serde_json::Value::from(f).to_string(),
            "{f:e}"
        );
        assert_eq!(float_text(-f), serde_json::Value::from(-f).to_string());
    }
    for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(float_text(f), "null");
    }
}

#[test]
fn floats_parse_exactly() {
    let cases = [
        "0.1",
        "0.30000000000000004",
        "1e23",
        "8.98846567431158e307",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "2.2250738585072011e-308",
        "2.2250738585072012e-308",
        "4.9406564584124654e-324",
        "2.4703282292062328e-324",
        "2.4703282292062327e-324",
        "2.470328229206232720882e-324",
        "1e-400",
        "9007199254740993",
        "9007199254740993.0",
        "9007199254740992.5",
        "18446744073709551616",
        "123456789012345678901234567890e-10",
        "0.000000000000000000000000000000000000000000001e45",
        "7.2057594037927933e16",
        "1448997445238699",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9999999999999999999999999999999999999999999999999999999999999999999999",
        "2.47032822920623272088284396434110686182529901307162382212792841250337753635104375932649918180817996189898282347722858865463328355177969898199387398005390939063150356595155702263922908583924491051844359318028499365361525003193704576782492193656236698636584807570015857692699037063119282795585513329278343384093519780155312465972635795746227664652728272200563740064854999770965994704540208281662262378573934507363390079677619305775067401763246736009689513405355374585166611342237666786041621596804619144672918403005300575308490487653917113865916462395249126236538818796362393732804238910186723484976682350898633885879256283027559956575244555072551893136908362547791869486679949683240497058210285131854513962138377228261454376934125320985913276672363281255e-324",
    ];
    for s in cases {
        let ours = parse(s).expect(s).as_f64().expect("number");
        let std: f64 = s.parse().expect("std");
        assert_eq!(ours.to_bits(), std.to_bits(), "{s}");
    }
    for s in ["1e309", "-1e400", "1.8e308", "1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490179775872070963302864166928879109465555478519404026306574886715058206819089020007083836762738548458177115317644757302700698555713669596228429148198608349364752927190741684443655107043427115596995080930428801779041744977920"] {
        assert!(parse(s).is_err(), "{s} is out of range");
        assert!(serde_json::from_str::<serde_json::Value>(s).is_err(), "{s}");
    }
}

#[test]
fn numbers_take_serde_jsons_representation() {
    for s in [
        "0",
        "-0",
        "-0.0",
        "1",
        "-1",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "1.0",
        "1e2",
        "1E2",
        "0.1e1",
        "-5",
    ] {
        let a = parse(s).expect(s);
        let b: serde_json::Value = serde_json::from_str(s).expect(s);
        assert_eq!(theirs(&a), b, "{s}");
        assert_eq!(to_text(&a), b.to_string(), "{s}");
        let (an, bn) = (a.as_number().expect("n"), b.as_number().expect("n"));
        assert_eq!(an.as_u64(), bn.as_u64(), "{s}");
        assert_eq!(an.as_i64(), bn.as_i64(), "{s}");
        assert_eq!(an.is_f64(), bn.is_f64(), "{s}");
        assert_eq!(
            an.as_f64().map(f64::to_bits),
            bn.as_f64().map(f64::to_bits),
            "{s}"
        );
    }
}

#[test]
fn strings_escape_and_unescape_as_serde_json() {
    for s in [
        r#""""#,
        r#""a\"b\\c\/d""#,
        r#""\b\f\n\r\t""#,
        r#""\u0000\u001f\u007f\u00e9\u20AC""#,
        r#""\ud83d\ude00 \uD834\uDD1E""#,
        "\"\u{7f}\u{80}\u{10ffff}\"",
    ] {
        let a = parse(s).expect(s);
        let b: serde_json::Value = serde_json::from_str(s).expect(s);
        assert_eq!(theirs(&a), b, "{s}");
        assert_eq!(to_text(&a), b.to_string(), "{s}");
    }
}

#[test]
fn bad_text_is_an_error() {
    let deep_ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
    assert!(parse(&deep_ok).is_ok());
    assert!(serde_json::from_str::<serde_json::Value>(&deep_ok).is_ok());
    let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
    assert!(parse(&deep).is_err());
    assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
    assert!(parse(&"[".repeat(100_000)).is_err());
    assert!(parse(&"{\"a\":".repeat(100_000)).is_err());
    for s in [
        "",
        " ",
        "nul",
        "nulll",
        "tru",
        "[1,]",
        "{\"a\":1,}",
        "{,}",
        "[,1]",
        "{\"a\" 1}",
        "{1:2}",
        "[1 2]",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "+1",
        "0x10",
        "\"\\ud800\"",
        "\"\\ud800\\u0041\"",
        "\"\\udc00\"",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u12g4\"",
        "\"a\nb\"",
        "\"abc",
        "[1] x",
        "NaN",
        "Infinity",
        "[\"a\" : 1]",
    ] {
        assert!(parse(s).is_err(), "{s:?} parses");
        assert!(
            serde_json::from_str::<serde_json::Value>(s).is_err(),
            "{s:?} is JSON"
        );
    }
    let e = parse("[1, x]").expect_err("bad");
    assert_eq!(e.message(), "expected value at line 1 column 5");
    let e = parse("{\n  \"a\": tru }").expect_err("bad");
    assert_eq!(e.message(), "expected ident at line 2 column 11");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_float_prints_as_serde_json_and_parses_back(bits in any::<u64>()) {
        let f = f64::from_bits(bits);
        prop_assume!(f.is_finite());
        let text = float_text(f);
        prop_assert_eq!(&text, &serde_json::Value::from(f).to_string());
        let back = parse(&text).expect("parses").as_f64().expect("number");
        prop_assert_eq!(back.to_bits(), f.to_bits());
    }

    #[test]
    fn decimal_text_parses_as_std_parses(
        neg in any::<bool>(),
        int in "(0|[1-9][0-9]{0,30})",
        frac in proptest::option::of("[0-9]{1,30}"),
        exp in proptest::option::of(-400i32..400),
    ) {
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        s.push_str(&int);
        if let Some(f) = &frac {
            s.push('.');
            s.push_str(f);
        }
        if let Some(e) = exp {
            s.push_str(&format!("e{e}"));
        }
        let std: f64 = s.parse().expect("std");
        match parse(&s) {
            Ok(v) => {
                let ours = v.as_f64().expect("number");
                prop_assert_eq!(ours.to_bits(), std.to_bits(), "{}", s);
            }
            Err(_) => prop_assert!(std.is_infinite(), "{} rejected", s),
        }
    }

    #[test]
    fn values_round_trip_with_serde_json(v in arb_json(short_floats())) {
        let text = to_text(&ours(&v));
        prop_assert_eq!(&text, &v.to_string());
        prop_assert_eq!(theirs(&parse(&text).expect("parses")), v.clone());
        let pretty = serde_json::to_string_pretty(&v).expect("pretty");
        prop_assert_eq!(theirs(&parse(&pretty).expect("pretty parses")), v);
    }

    #[test]
    fn values_with_any_float_round_trip(v in arb_json(any::<f64>().boxed())) {
        let ours = ours(&v);
        prop_assert_eq!(to_text(&ours), v.to_string());
        prop_assert_eq!(parse(&to_text(&ours)).expect("parses"), ours);
    }

    #[test]
    fn arbitrary_text_is_accepted_as_serde_json_accepts_it(
        s in "[\\[\\]{}:,\" \\\\/0-9.eE+\\-a-z\n]{0,24}"
    ) {
        let a = parse(&s);
        let b = serde_json::from_str::<serde_json::Value>(&s);
        prop_assert_eq!(a.is_ok(), b.is_ok(), "{:?}: {:?} / {:?}", s, a, b);
        if let (Ok(a), Ok(b)) = (a, b) {
            prop_assert_eq!(theirs(&a), b);
        }
    }
}
