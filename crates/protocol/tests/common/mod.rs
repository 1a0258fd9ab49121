//! Helpers shared by the conformance tests.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{Map, Value};

/// `crates/protocol/fixtures`.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The repository's `docs` directory.
pub fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// Read a fixture file as text.
pub fn read(rel: &str) -> String {
    let p = fixtures_dir().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// Read a fixture file as JSON.
pub fn read_json(rel: &str) -> Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("parse {rel}: {e}"))
}

/// File stems (without `.json`) in a fixture subdirectory, sorted.
pub fn stems(sub: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixtures_dir().join(sub))
        .expect("fixture dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().into_string().ok()?;
            n.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    v.sort();
    v
}

/// Normalise for comparison: drop null-valued object fields, and compare every number as
/// f64 (so `0` and `0.0` are equal).
pub fn normalise(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalise(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// Whether every field of `fixture` appears in `encoded` with the same value (objects are
/// compared field by field, recursively; arrays element by element). `encoded` may carry
/// extra fields (defaults the fixture left out). Returns the path of the first mismatch.
pub fn subset(fixture: &Value, encoded: &Value, path: &str) -> Result<(), String> {
    match (fixture, encoded) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(vb) => subset(va, vb, &p)?,
                    None => return Err(format!("{p}: missing after re-encoding")),
                }
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Err(format!("{path}: array length {} != {}", a.len(), b.len()));
            }
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                subset(va, vb, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{path}: fixture {a} != re-encoded {b}")),
    }
}

/// Assert that re-encoding kept every fixture field, after normalisation.
pub fn assert_round_trip(what: &str, fixture: &Value, encoded: &Value) {
    if let Err(e) = subset(&normalise(fixture), &normalise(encoded), "$") {
        panic!("{what}: {e}\nfixture:    {fixture}\nre-encoded: {encoded}");
    }
}
