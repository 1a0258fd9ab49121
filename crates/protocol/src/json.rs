//! Typed conversion between wire types and `serde_json::Value` through JSON text.
//!
//! Going from a `Value` to a typed struct with `serde_json::from_value` (or
//! `T::deserialize(&value)`) compiles a separate deserializer for every type and every
//! `Value` flavour (owned, borrowed, map, array). In a WebAssembly bundle that code is most of
//! the protocol's weight. These helpers print the `Value` once and parse the text, so every
//! wire type is compiled against exactly one deserializer (and one serializer): the JSON text
//! reader and writer that frames use anyway. Frames are small; the extra pass costs
//! microseconds.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Decode a typed value from a JSON `Value`.
///
/// The error is serde_json's, with the same text `from_value` gives (e.g.
/// "missing field `id`").
pub fn decode<T: DeserializeOwned>(v: &Value) -> Result<T, serde_json::Error> {
    decode_str(&v.to_string())
}

/// Decode a typed value from JSON text.
pub fn decode_str<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(text)
}

/// Encode a typed value as JSON text. Wire types (strings, integers, maps with string keys)
/// always encode; a type that cannot gives `"null"`.
pub fn encode_str<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Encode a typed value as a JSON `Value` (`Value::Null` for a type that cannot encode).
pub fn encode<T: Serialize + ?Sized>(v: &T) -> Value {
    serde_json::from_str(&encode_str(v)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Member;

    #[test]
    fn decode_gives_from_value_errors_and_results() {
        let v = serde_json::json!({"id": "m1", "identity": "ann", "version": 3});
        let m: Member = decode(&v).expect("member");
        assert_eq!(
            m,
            serde_json::from_value::<Member>(v.clone()).expect("member")
        );
        assert_eq!(encode(&m), serde_json::to_value(&m).expect("value"));
        let bad = serde_json::json!({"identity": "ann"});
        let e = decode::<Member>(&bad).expect_err("no id");
        assert!(e.to_string().contains("missing field `id`"), "{e}");
    }
}
