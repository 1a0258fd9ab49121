//! JSON for the wire: the value types ([`Value`], [`Map`], [`Number`], the [`json!`] macro),
//! JSON text ([`parse`], [`to_text`], `Display`) and the compact wire codec, typed conversion
//! between wire types and `Value`.
//!
//! The value types have serde_json's API and semantics as far as this project uses them (map
//! keys in sorted order, numbers as `u64`/`i64`/`f64`, the same text byte for byte), and
//! implement serde's traits for the server, the schema and the tests, but the SDK's path
//! (parse, decode, encode, print) runs no serde code: a WebAssembly bundle carries neither
//! serde's generic (de)serializers nor `BTreeMap` nor the standard float formatting.
//!
//! serde's derived `Deserialize` compiles a visitor, a field identifier and a sequence/map
//! state machine for every type. In a WebAssembly bundle that code is most of the protocol's
//! weight. [`FromWire`] and [`ToWire`] do the same job with data instead of code:
//! `#[derive(Wire)]` (from the `ovsp-derive` crate, re-exported here and as [`crate::Wire`])
//! reads the type's fields and the same `#[serde(...)]` attributes serde reads (`default`,
//! `default = "path"`, `rename`, `rename_all`, `skip_serializing_if`, `flatten`, `skip`,
//! `transparent`, `tag`, `other`) and builds a static table per struct (each field's key,
//! offset, and its type's decoder and encoder), which one decoding and one encoding routine
//! of [`wire`] read for every struct. Every wire type keeps its serde derives as well (the server, the JSON
//! Schema and the tests use them); the tests check that both codecs agree on every fixture.
//!
//! Semantics follow serde's for valid input: a missing required field is an error saying
//! "missing field `x`"; a missing or `null` `Option` field is `None`; `default` fields take
//! their default when missing; unknown fields are ignored; wrong types give serde's
//! "invalid type: …, expected …" wording; with several faults, the error reported is the one
//! serde reports. One deliberate difference: serde also reads a struct from a JSON array of
//! its fields in order, which is no wire form; the wire codec rejects it.

use crate::prelude::*;
use alloc::collections::BTreeMap;
use core::fmt;
#[cfg(feature = "std")]
use core::hash::BuildHasher;
#[cfg(feature = "std")]
use std::collections::HashMap;

pub use ovsp_derive::{FromWire, ToWire, Wire};

mod keymap;
mod num;
pub(crate) mod text;
mod value;

pub use keymap::KeyMap;

pub use value::{Entry, Index, Iter, IterMut, Map, Number, OccupiedEntry, VacantEntry, Value};

/// Build a [`Value`] from JSON-like syntax, as serde_json's `json!`: `null`, arrays
/// `[a, b]`, objects `{"key": v, (expr): v}` (keys: string literals, variables or
/// parenthesised expressions turned into `String`s), nested freely; any other expression is
/// encoded with [`ToWire`] (strings, numbers, booleans, options, vectors, wire types,
/// values).
pub use crate::__ovsp_json as json;

#[doc(hidden)]
#[macro_export]
macro_rules! __ovsp_json {
    (null) => {
        $crate::json::Value::Null
    };
    ([]) => {
        $crate::json::Value::Array($crate::prelude::Vec::new())
    };
    ([ $($tt:tt)+ ]) => {
        $crate::json::Value::Array($crate::__ovsp_json_items!([] $($tt)+))
    };
    ({}) => {
        $crate::json::Value::Object($crate::json::Map::new())
    };
    ({ $($tt:tt)+ }) => {{
        let mut members = $crate::json::Map::new();
        $crate::__ovsp_json_key!(members () $($tt)+);
        $crate::json::Value::Object(members)
    }};
    ($e:expr) => {
        $crate::json::encode(&$e)
    };
}

/// Array elements of [`json!`], gathered into one `vec![]`.
#[doc(hidden)]
#[macro_export]
macro_rules! __ovsp_json_items {
    ([$($done:expr,)*]) => {
        $crate::prelude::vec![$($done),*]
    };
    ([$($done:expr,)*] null $(, $($rest:tt)*)?) => {
        $crate::__ovsp_json_items!([$($done,)* $crate::json::Value::Null,] $($($rest)*)?)
    };
    ([$($done:expr,)*] [ $($a:tt)* ] $(, $($rest:tt)*)?) => {
        $crate::__ovsp_json_items!([$($done,)* $crate::__ovsp_json!([ $($a)* ]),] $($($rest)*)?)
    };
    ([$($done:expr,)*] { $($o:tt)* } $(, $($rest:tt)*)?) => {
        $crate::__ovsp_json_items!([$($done,)* $crate::__ovsp_json!({ $($o)* }),] $($($rest)*)?)
    };
    ([$($done:expr,)*] $e:expr , $($rest:tt)*) => {
        $crate::__ovsp_json_items!([$($done,)* $crate::json::encode(&$e),] $($rest)*)
    };
    ([$($done:expr,)*] $e:expr) => {
        $crate::__ovsp_json_items!([$($done,)* $crate::json::encode(&$e),])
    };
}

/// Object members of [`json!`]: the key's tokens up to `:`.
#[doc(hidden)]
#[macro_export]
macro_rules! __ovsp_json_key {
    ($m:ident ()) => {};
    ($m:ident ($($k:tt)+) : $($rest:tt)*) => {
        $crate::__ovsp_json_member!($m ($($k)+) $($rest)*);
    };
    ($m:ident ($($k:tt)*) $t:tt $($rest:tt)*) => {
        $crate::__ovsp_json_key!($m ($($k)* $t) $($rest)*);
    };
}

/// Object members of [`json!`]: one value, then the next member.
#[doc(hidden)]
#[macro_export]
macro_rules! __ovsp_json_member {
    ($m:ident ($($k:tt)+) null $(, $($rest:tt)*)?) => {
        $m.insert($crate::prelude::String::from($($k)+), $crate::json::Value::Null);
        $( $crate::__ovsp_json_key!($m () $($rest)*); )?
    };
    ($m:ident ($($k:tt)+) [ $($a:tt)* ] $(, $($rest:tt)*)?) => {
        $m.insert($crate::prelude::String::from($($k)+), $crate::__ovsp_json!([ $($a)* ]));
        $( $crate::__ovsp_json_key!($m () $($rest)*); )?
    };
    ($m:ident ($($k:tt)+) { $($o:tt)* } $(, $($rest:tt)*)?) => {
        $m.insert($crate::prelude::String::from($($k)+), $crate::__ovsp_json!({ $($o)* }));
        $( $crate::__ovsp_json_key!($m () $($rest)*); )?
    };
    ($m:ident ($($k:tt)+) $e:expr , $($rest:tt)*) => {
        $m.insert($crate::prelude::String::from($($k)+), $crate::json::encode(&$e));
        $crate::__ovsp_json_key!($m () $($rest)*);
    };
    ($m:ident ($($k:tt)+) $e:expr) => {
        $m.insert($crate::prelude::String::from($($k)+), $crate::json::encode(&$e));
    };
}

pub use text::MAX_DEPTH;

/// A wire value that did not decode. Its text follows serde_json's (e.g.
/// "missing field `id`", "invalid type: string \"x\", expected u32").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    // Boxed: one pointer, so every `Result<T, WireError>` the decoders pass around is small
    // (in WebAssembly, far less code moving errors from one result to another).
    #[allow(clippy::box_collection)]
    msg: Box<String>,
}

impl WireError {
    /// An error with free text.
    pub fn custom(msg: impl Into<String>) -> Self {
        WireError {
            msg: Box::new(msg.into()),
        }
    }

    /// A required field is missing.
    #[inline(never)]
    pub fn missing(field: &str) -> Self {
        WireError::custom(concat(&["missing field `", field, "`"]))
    }

    /// A value of the wrong JSON type.
    #[inline(never)]
    pub fn invalid_type(found: &Value, expected: &str) -> Self {
        WireError::found("invalid type: ", found, expected)
    }

    /// A value of the right JSON type but out of range.
    #[inline(never)]
    pub fn invalid_value(found: &Value, expected: &str) -> Self {
        WireError::found("invalid value: ", found, expected)
    }

    /// `{what}{found as serde describes it}, expected {expected}`.
    fn found(what: &str, found: &Value, expected: &str) -> Self {
        let mut msg = String::from(what);
        unexpected(&mut msg, found);
        msg.push_str(", expected ");
        msg.push_str(expected);
        WireError::custom(msg)
    }

    /// A string that names no variant of an enum without a catch-all.
    #[inline(never)]
    pub fn unknown_variant(name: &str, expected: &[&str]) -> Self {
        let mut msg = concat(&["unknown variant `", name, "`, "]);
        match expected {
            [] => msg.push_str("there are no variants"),
            [a, b] => msg.push_str(&concat(&["expected `", a, "` or `", b, "`"])),
            _ => {
                msg.push_str(if expected.len() == 1 {
                    "expected "
                } else {
                    "expected one of "
                });
                for (i, e) in expected.iter().enumerate() {
                    if i > 0 {
                        msg.push_str(", ");
                    }
                    msg.push('`');
                    msg.push_str(e);
                    msg.push('`');
                }
            }
        }
        WireError::custom(msg)
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.msg
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl core::error::Error for WireError {}

impl From<WireError> for String {
    fn from(e: WireError) -> String {
        *e.msg
    }
}

/// The pieces one after the other (error texts are built without `format!`).
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts {
        out.push_str(p);
    }
    out
}

/// Append a found value as serde_json describes it in errors.
fn unexpected(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b {
            "boolean `true`"
        } else {
            "boolean `false`"
        }),
        Value::Number(n) => {
            // serde_json prints numbers in errors as it prints them in JSON. Without the
            // `float-text` feature a float is named without its digits, and the float
            // formatter stays out of the build.
            out.push_str(if n.is_f64() {
                "floating point"
            } else {
                "integer `"
            });
            if text::write_integer(out, n) {
                out.push('`');
            } else if cfg!(feature = "float-text") {
                out.push_str(" `");
                text::write_number(out, n);
                out.push('`');
            }
        }
        Value::String(s) => {
            out.push_str("string ");
            debug_str(out, s);
        }
        Value::Array(_) => out.push_str("sequence"),
        Value::Object(_) => out.push_str("map"),
    }
}

/// Append `s` quoted and escaped as Rust's `{:?}` writes it, for every character but the
/// rare non-control ones the standard library also escapes (unassigned and format code
/// points, combining marks), which appear as themselves.
fn debug_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                out.push_str("\\u{");
                let x = u32::from(c);
                let mut started = false;
                for shift in (0..8).rev() {
                    let d = (x >> (shift * 4)) & 15;
                    if d != 0 || started || shift == 0 {
                        started = true;
                        out.push(char::from(b"0123456789abcdef"[d as usize]));
                    }
                }
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A type that decodes from a JSON `Value` (see the module docs).
pub trait FromWire: Sized {
    /// Decode from a value.
    fn from_wire(v: &Value) -> Result<Self, WireError>;

    /// The value of a struct field that is absent: an error naming it, except for `Option`
    /// (`None`), as with serde.
    fn from_missing(field: &'static str) -> Result<Self, WireError> {
        Err(WireError::missing(field))
    }

    /// A stand-in for a struct field that did not decode, so the struct can still be built
    /// before its error is returned (never handed to callers).
    fn placeholder() -> Self;

    /// How the type decodes in place (the field tables' view of it; a derived struct
    /// decodes by its field table).
    #[doc(hidden)]
    const DE: wire::OpsOf<Self> = wire::OpsOf {
        ops: &wire::DeOps::of::<Self>(),
        of: core::marker::PhantomData,
    };
}

/// A type that encodes to a JSON `Value` (see the module docs).
pub trait ToWire {
    /// Encode as a value.
    fn to_wire(&self) -> Value;
}

/// Decode a typed value from a JSON `Value`.
///
/// The error text follows serde_json's `from_value` (e.g. "missing field `id`").
pub fn decode<T: FromWire>(v: &Value) -> Result<T, WireError> {
    T::from_wire(v)
}

/// Decode a typed value from JSON text (parsed into a `Value` once, then decoded).
pub fn decode_str<T: FromWire>(text: &str) -> Result<T, WireError> {
    T::from_wire(&parse(text)?)
}

/// Parse JSON text into a `Value` (RFC 8259; at most [`MAX_DEPTH`] nested arrays and
/// objects; see the `text` module for the details). Invalid text is an error, never a panic.
pub fn parse(text: &str) -> Result<Value, WireError> {
    text::parse(text)
}

/// Appends `n` in decimal, as JSON writes an integer, without the formatting machinery: the
/// one integer-to-text routine of the protocol, the core and the SDK.
pub fn push_u64(out: &mut String, n: u64) {
    text::push_u64(out, n);
}

/// Decimal text of a `u64` (a request id), read as `str::parse::<u64>` reads it (an optional
/// `+`, then digits only, no overflow) without its 128-bit overflow multiplication: the
/// reverse of [`push_u64`].
pub fn parse_u64(s: &str) -> Option<u64> {
    const MAX_TENTH: u64 = u64::MAX / 10;
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for b in digits.bytes() {
        let d = u64::from(b.wrapping_sub(b'0'));
        if d > 9 || n > MAX_TENTH || (n == MAX_TENTH && d > u64::MAX % 10) {
            return None;
        }
        n = n * 10 + d;
    }
    Some(n)
}

/// A `Value` as compact JSON text, byte for byte as serde_json writes it (object keys in the
/// map's sorted order; floats in their shortest round-trip form).
pub fn to_text(v: &Value) -> String {
    let mut out = String::new();
    text::write(&mut out, v);
    out
}

/// Append a `Value` as compact JSON text to `out` (see [`to_text`]).
pub fn write_text(out: &mut String, v: &Value) {
    text::write(out, v);
}

/// Encode a typed value as JSON text (object keys in sorted order, as serde_json writes a
/// `Value`; key order carries no meaning on the wire).
pub fn encode_str<T: ToWire + ?Sized>(v: &T) -> String {
    to_text(&v.to_wire())
}

/// Encode a typed value as a JSON `Value`.
pub fn encode<T: ToWire + ?Sized>(v: &T) -> Value {
    v.to_wire()
}

/// The helpers the derived code calls: the field-table routines every derived struct
/// shares, and small per-variant helpers for derived enums, so the work lives here,
/// compiled once (or once per field type).
pub mod wire {
    use super::{FromWire, Map, ToWire, Value, WireError};
    use crate::prelude::*;
    use core::mem::ManuallyDrop;

    /// The object an enum variant decodes from, or an "invalid type" error naming
    /// `expecting`.
    #[inline(never)]
    pub fn obj<'a>(v: &'a Value, expecting: &str) -> Result<&'a Map<String, Value>, WireError> {
        match v {
            Value::Object(o) => Ok(o),
            _ => Err(WireError::invalid_type(v, expecting)),
        }
    }

    /// Reads the fields of one struct from an object. Every field read gives a value (a
    /// placeholder when it fails), so derived code is a straight list of calls; the error
    /// kept is the one serde reports: a value that is not an object first, then the invalid
    /// field value that comes first in the object, then the first missing field in
    /// declaration order.
    pub struct Fields<'a> {
        v: &'a Value,
        obj: Option<&'a Map<String, Value>>,
        // Not dropped with the reader: `finish` takes the error out, and derived code always
        // calls it, so no decoder carries drop code for the reader (a reader dropped without
        // `finish` would only leak its error message).
        err: ManuallyDrop<Option<(u8, &'static str, WireError)>>,
    }

    const NOT_AN_OBJECT: u8 = 0;
    const INVALID: u8 = 1;
    const MISSING: u8 = 2;

    impl<'a> Fields<'a> {
        /// Start reading `v`, which should be an object (`expecting` names the struct).
        #[inline(never)]
        pub fn new(v: &'a Value, expecting: &str) -> Self {
            match v {
                Value::Object(o) => Fields {
                    v,
                    obj: Some(o),
                    err: ManuallyDrop::new(None),
                },
                _ => Fields {
                    v,
                    obj: None,
                    err: ManuallyDrop::new(Some((
                        NOT_AN_OBJECT,
                        "",
                        WireError::invalid_type(v, expecting),
                    ))),
                },
            }
        }

        #[inline(never)]
        fn fail(&mut self, rank: u8, key: &'static str, e: WireError) {
            let replace = match &*self.err {
                None => true,
                Some((r, k, _)) => rank < *r || (rank == INVALID && *r == INVALID && key < *k),
            };
            if replace {
                *self.err = Some((rank, key, e));
            }
        }

        #[inline(never)]
        fn get(&self, key: &str) -> Option<&'a Value> {
            self.obj.and_then(|o| o.get(key))
        }

        fn decode<T: FromWire>(&mut self, key: &'static str, v: &Value) -> T {
            match T::from_wire(v) {
                Ok(x) => x,
                Err(e) => {
                    self.fail(INVALID, key, e);
                    T::placeholder()
                }
            }
        }

        /// A field without a default (an `Option` field is `None` when absent).
        #[inline(never)]
        pub fn req<T: FromWire>(&mut self, key: &'static str) -> T {
            match self.get(key) {
                Some(v) => self.decode(key, v),
                None => match T::from_missing(key) {
                    Ok(x) => x,
                    Err(e) => {
                        self.fail(MISSING, key, e);
                        T::placeholder()
                    }
                },
            }
        }

        /// A `#[serde(default)]` field.
        #[inline(never)]
        pub fn dflt<T: FromWire + Default>(&mut self, key: &'static str) -> T {
            match self.get(key) {
                Some(v) => self.decode(key, v),
                None => T::default(),
            }
        }

        /// A `#[serde(default = "path")]` field.
        #[inline(never)]
        pub fn or_else<T: FromWire>(&mut self, key: &'static str, default: fn() -> T) -> T {
            match self.get(key) {
                Some(v) => self.decode(key, v),
                None => default(),
            }
        }

        /// A `#[serde(flatten)]` field: decoded from the same object (its errors rank with
        /// the missing fields, at its place, as serde's do).
        #[inline(never)]
        pub fn flatten<T: FromWire>(&mut self) -> T {
            match T::from_wire(self.v) {
                Ok(x) => x,
                Err(e) => {
                    self.fail(MISSING, "", e);
                    T::placeholder()
                }
            }
        }

        /// The struct, or the error to report.
        pub fn finish<T>(&mut self, value: T) -> Result<T, WireError> {
            // By reference: the reader is not copied into a by-value argument in every
            // decoder.
            match self.err.take() {
                None => Ok(value),
                Some((_, _, e)) => Err(e),
            }
        }
    }

    // ---------------------------------------------------------------- field tables

    /// How one type decodes in place: what a struct's field table (and the shared `Vec<T>`
    /// decoder) needs of a field or element type, one constant per type
    /// ([`FromWire::DE`]). A struct deriving the codec decodes by its field table, so it
    /// has no decoding code of its own.
    pub struct DeOps {
        de: unsafe fn(&Value, *mut u8) -> Result<(), WireError>,
        table: Option<&'static DeTable>,
        missing: unsafe fn(*mut u8, &'static str) -> Result<(), WireError>,
        drop: unsafe fn(*mut u8),
    }

    /// The [`DeOps`] of the type `T` ([`FromWire::DE`]): only `unsafe` code can make one for
    /// operations of another type, so the decoders may trust it.
    pub struct OpsOf<T> {
        pub(crate) ops: &'static DeOps,
        pub(crate) of: core::marker::PhantomData<fn() -> T>,
    }

    impl<T> OpsOf<T> {
        /// `ops` as the operations of `T`.
        ///
        /// # Safety
        /// `ops` decodes, drops and fills values of `T`.
        pub const unsafe fn new(ops: &'static DeOps) -> Self {
            OpsOf {
                ops,
                of: core::marker::PhantomData,
            }
        }

        /// The operations.
        pub const fn ops(&self) -> &'static DeOps {
            self.ops
        }
    }

    impl DeOps {
        /// The operations of `T`, decoding through `T::from_wire`.
        pub const fn of<T: FromWire>() -> DeOps {
            DeOps {
                de: de_into::<T>,
                table: None,
                missing: missing_into::<T>,
                drop: drop_at::<T>,
            }
        }

        /// The operations of a struct `T` that decodes by `table`.
        ///
        /// # Safety
        /// `table` describes `T` completely: every field, at its offset, with its type's
        /// operations.
        pub const unsafe fn table<T: FromWire>(table: &'static DeTable) -> DeOps {
            DeOps {
                de: no_de,
                table: Some(table),
                missing: missing_into::<T>,
                drop: drop_at::<T>,
            }
        }
    }

    /// The decoding table of a struct: its name for errors, its keys and its fields.
    pub struct DeTable {
        /// "struct Name", for the error of a value that is not an object.
        pub expecting: &'static str,
        /// The keys of the fields, one after the other (each entry gives its length).
        pub names: &'static str,
        /// Every field of the struct, in declaration order.
        pub fields: &'static [DeField],
    }

    /// One field of a struct's decoding table.
    pub struct DeField {
        /// How its type decodes.
        pub de: &'static DeOps,
        /// The value of an absent field (`default`, `default = "path"`, `skip`); `None`:
        /// the type's [`FromWire::from_missing`].
        pub fill: Option<unsafe fn(*mut u8)>,
        /// The field's byte offset in the struct.
        pub off: u16,
        /// The length of its key in the table's `names`.
        pub len: u8,
        /// [`FIELD`], [`FLATTEN`] or [`SKIP`].
        pub kind: u8,
    }

    /// The encoding table of a struct: its keys and its (written) fields.
    pub struct EnTable {
        /// The keys of the fields, one after the other (each entry gives its length).
        pub names: &'static str,
        /// The fields, skipped ones left out.
        pub fields: &'static [EnField],
    }

    /// One field of a struct's encoding table.
    pub struct EnField {
        /// How its type encodes.
        pub en: EnFn,
        /// `skip_serializing_if`.
        pub skip_if: Option<unsafe fn(*const u8) -> bool>,
        /// The field's byte offset in the struct.
        pub off: u16,
        /// The length of its key in the table's `names`.
        pub len: u8,
        /// [`FIELD`] or [`FLATTEN`].
        pub kind: u8,
    }

    /// A field offset as stored in the tables (a struct of 64 KiB or more fails to compile).
    pub const fn offset(off: usize) -> u16 {
        assert!(
            off <= u16::MAX as usize,
            "struct too large for the wire codec"
        );
        off as u16
    }

    /// The key of the field whose key starts at `*at` in `names` (advancing `*at`).
    fn next_key(names: &'static str, at: &mut usize, len: u8) -> &'static str {
        let start = *at;
        *at += usize::from(len);
        names.get(start..*at).unwrap_or_default()
    }

    /// Encodes the value at a pointer (a `T::to_wire` for the `T` the pointer points to).
    pub type EnFn = unsafe fn(*const u8) -> Value;

    /// The [`EnFn`] of a type (implemented for every sized [`ToWire`] type).
    pub trait EncodeFn: ToWire + Sized {
        /// `T::to_wire` taking its receiver as an untyped pointer.
        const EN: EnFn;
    }

    impl<T: ToWire> EncodeFn for T {
        // SAFETY: `&T` and `*const u8` are ABI-compatible (thin pointers), and the tables
        // only ever pass a pointer to a valid `T`.
        const EN: EnFn =
            unsafe { core::mem::transmute::<fn(&T) -> Value, EnFn>(<T as ToWire>::to_wire) };
    }

    /// Decode `v` as a `T` into `p`.
    ///
    /// # Safety
    /// `p` is valid for writing a `T`.
    unsafe fn de_into<T: FromWire>(v: &Value, p: *mut u8) -> Result<(), WireError> {
        let x = T::from_wire(v)?;
        // SAFETY: the caller's contract.
        unsafe { p.cast::<T>().write(x) };
        Ok(())
    }

    /// The value of an absent `T` field (see [`FromWire::from_missing`]) into `p`.
    ///
    /// # Safety
    /// `p` is valid for writing a `T`.
    unsafe fn missing_into<T: FromWire>(p: *mut u8, key: &'static str) -> Result<(), WireError> {
        let x = T::from_missing(key)?;
        // SAFETY: the caller's contract.
        unsafe { p.cast::<T>().write(x) };
        Ok(())
    }

    /// Drop the `T` at `p`.
    ///
    /// # Safety
    /// `p` holds a valid `T`, which is not used afterwards.
    unsafe fn drop_at<T>(p: *mut u8) {
        // SAFETY: the caller's contract.
        unsafe { core::ptr::drop_in_place(p.cast::<T>()) }
    }

    unsafe fn no_de(_: &Value, _: *mut u8) -> Result<(), WireError> {
        Err(WireError::custom("no decoder"))
    }

    /// Write `T::default()` into `p` (a `#[serde(default)]` field that is absent).
    ///
    /// # Safety
    /// `p` is valid for writing a `T`.
    pub unsafe fn fill_default<T: Default>(p: *mut u8) {
        // SAFETY: the caller's contract.
        unsafe { p.cast::<T>().write(T::default()) }
    }

    /// A plain field (decoded from its key, written under it).
    pub const FIELD: u8 = 0;
    /// A `#[serde(flatten)]` field (decoded from the whole object, merged into it).
    pub const FLATTEN: u8 = 1;
    /// A `#[serde(skip)]` field (its `fill` value when decoding, never written).
    pub const SKIP: u8 = 2;

    /// Decode `v` into `p` by `ops`.
    ///
    /// # Safety
    /// `p` is valid for writing a value of the type `ops` belongs to.
    #[inline(never)]
    pub unsafe fn decode_into(v: &Value, ops: &DeOps, p: *mut u8) -> Result<(), WireError> {
        // SAFETY: the caller's contract (a table belongs to its struct's operations).
        unsafe {
            match ops.table {
                Some(t) => decode_fields(v, t, p),
                None => (ops.de)(v, p),
            }
        }
    }

    /// Decode a struct from `v` into `out` by its field table, with serde's choice of error
    /// (see [`Fields`]): a value that is not an object first, then the invalid field value
    /// whose key comes first in the object, then the first missing field in declaration
    /// order. On error nothing is left in `out` (the fields decoded so far are dropped).
    ///
    /// # Safety
    /// `out` points to writable memory for the struct that `table` describes completely
    /// (every field once, at most 64), each entry's offset and operations matching that
    /// field's type.
    unsafe fn decode_fields(v: &Value, table: &DeTable, out: *mut u8) -> Result<(), WireError> {
        let Value::Object(o) = v else {
            return Err(WireError::invalid_type(v, table.expecting));
        };
        let mut err: Option<(u8, &'static str, WireError)> = None;
        let mut done = 0u64;
        let mut at = 0;
        for (i, f) in table.fields.iter().enumerate() {
            // SAFETY: the offset lies within the struct (the caller's contract).
            let p = unsafe { out.add(usize::from(f.off)) };
            let name = next_key(table.names, &mut at, f.len);
            let found = if f.kind == SKIP { None } else { o.get(name) };
            // SAFETY (all calls): `p` is the field's place and the operations are its type's.
            let r = if f.kind == FLATTEN {
                unsafe { decode_into(v, f.de, p) }.map_err(|e| (MISSING, "", e))
            } else if let Some(x) = found {
                unsafe { decode_into(x, f.de, p) }.map_err(|e| (INVALID, name, e))
            } else if let Some(fill) = f.fill {
                unsafe { fill(p) };
                Ok(())
            } else {
                unsafe { (f.de.missing)(p, name) }.map_err(|e| (MISSING, name, e))
            };
            match r {
                Ok(()) => done |= 1u64.wrapping_shl(i as u32),
                Err((rank, key, e)) => {
                    let replace = match &err {
                        None => true,
                        Some((r, k, _)) => {
                            rank < *r || (rank == INVALID && *r == INVALID && key < *k)
                        }
                    };
                    if replace {
                        err = Some((rank, key, e));
                    }
                }
            }
        }
        let Some((_, _, e)) = err else {
            return Ok(());
        };
        for (i, f) in table.fields.iter().enumerate() {
            if done & 1u64.wrapping_shl(i as u32) != 0 {
                // SAFETY: this field was written above and is dropped once.
                unsafe { (f.de.drop)(out.add(usize::from(f.off))) };
            }
        }
        Err(e)
    }

    /// Decode a `T` by its operations [`FromWire::DE`] (the `from_wire` of a derived struct
    /// or a `Vec`, whose operations do not call `from_wire`).
    #[inline(never)]
    pub fn decode_by_ops<T: FromWire>(v: &Value) -> Result<T, WireError> {
        let mut out = core::mem::MaybeUninit::<T>::uninit();
        // SAFETY: `T::DE` belongs to `T`; on success the value is initialised.
        unsafe {
            decode_into(v, T::DE.ops, out.as_mut_ptr().cast())?;
            Ok(out.assume_init())
        }
    }

    /// Encode a struct by its field table as an object.
    ///
    /// # Safety
    /// `p` points to a valid struct that `table` describes (offsets and operations
    /// matching).
    #[inline(never)]
    pub unsafe fn encode_fields(p: *const u8, table: &EnTable) -> Value {
        let mut m = Map::new();
        let mut at = 0;
        for f in table.fields {
            let name = next_key(table.names, &mut at, f.len);
            // SAFETY: the caller's contract.
            let x = unsafe { p.add(usize::from(f.off)) };
            if f.skip_if.is_some_and(|skip| unsafe { skip(x) }) {
                continue;
            }
            let v = unsafe { (f.en)(x) };
            if f.kind == FLATTEN {
                merge(&mut m, v);
            } else {
                m.insert(name.to_owned(), v);
            }
        }
        Value::Object(m)
    }

    /// Decode an array into a new allocation of `Vec` elements of `layout` by `de`: the
    /// pointer and the number of elements (the whole non-generic part of every `Vec<T>`
    /// decoder; capacity and length are that number, the pointer dangling when nothing is
    /// allocated).
    ///
    /// # Safety
    /// `layout` and `de` belong to the same type.
    #[inline(never)]
    pub unsafe fn decode_array(
        v: &Value,
        de: &DeOps,
        layout: core::alloc::Layout,
    ) -> Result<(*mut u8, usize), WireError> {
        let items = array(v)?;
        let n = items.len();
        let size = layout.size();
        let Some(all) = size
            .checked_mul(n)
            .and_then(|t| core::alloc::Layout::from_size_align(t, layout.align()).ok())
        else {
            return Err(WireError::custom("array too large"));
        };
        let base = if all.size() == 0 {
            core::ptr::null_mut::<u8>().wrapping_add(layout.align())
        } else {
            // SAFETY: a non-zero size.
            let p = unsafe { alloc::alloc::alloc(all) };
            if p.is_null() {
                alloc::alloc::handle_alloc_error(all);
            }
            p
        };
        for (i, x) in items.iter().enumerate() {
            // SAFETY: element `i` of the allocation, of the type `de` decodes.
            if let Err(e) = unsafe { decode_into(x, de, base.add(i * size)) } {
                for j in 0..i {
                    // SAFETY: the elements before `i` were written, each dropped once.
                    unsafe { (de.drop)(base.add(j * size)) };
                }
                if all.size() != 0 {
                    // SAFETY: allocated above with this layout.
                    unsafe { alloc::alloc::dealloc(base, all) };
                }
                return Err(e);
            }
        }
        Ok((base, n))
    }

    /// Decode a `Vec<T>` into `p` (through [`decode_array`]).
    ///
    /// # Safety
    /// `p` is valid for writing a `Vec<T>`.
    unsafe fn vec_into<T: FromWire>(v: &Value, p: *mut u8) -> Result<(), WireError> {
        // SAFETY: `T`'s layout and operations; the allocation is one of `n` `T`s made with
        // the global allocator (or a dangling aligned pointer for no allocation).
        unsafe {
            let (base, n) = decode_array(v, T::DE.ops, core::alloc::Layout::new::<T>())?;
            p.cast::<Vec<T>>()
                .write(Vec::from_raw_parts(base.cast::<T>(), n, n));
        }
        Ok(())
    }

    /// Decode an `Option<T>` into `p`: `None` for `null`, else the `T` decoded by its
    /// operations (not through `T::from_wire`, so a struct's table is read directly).
    ///
    /// # Safety
    /// `p` is valid for writing an `Option<T>`.
    unsafe fn option_into<T: FromWire>(v: &Value, p: *mut u8) -> Result<(), WireError> {
        let x = match v {
            Value::Null => None,
            _ => {
                let mut x = core::mem::MaybeUninit::<T>::uninit();
                // SAFETY: `T`'s operations and a place for a `T`, initialised on success.
                unsafe {
                    decode_into(v, T::DE.ops, x.as_mut_ptr().cast())?;
                    Some(x.assume_init())
                }
            }
        };
        // SAFETY: the caller's contract.
        unsafe { p.cast::<Option<T>>().write(x) };
        Ok(())
    }

    impl DeOps {
        /// The operations of `Option<T>`.
        pub(super) const fn option<T: FromWire>() -> DeOps {
            DeOps {
                de: option_into::<T>,
                table: None,
                missing: missing_into::<Option<T>>,
                drop: drop_at::<Option<T>>,
            }
        }

        /// The operations of `Vec<T>`.
        pub(super) const fn vec<T: FromWire>() -> DeOps {
            DeOps {
                de: vec_into::<T>,
                table: None,
                missing: missing_into::<Vec<T>>,
                drop: drop_at::<Vec<T>>,
            }
        }
    }

    /// The index of `s` in `names`, or `names.len()` (the shared lookup of the wire string
    /// enums).
    #[inline(never)]
    pub fn name_index(names: &[&str], s: &str) -> usize {
        names.iter().position(|n| *n == s).unwrap_or(names.len())
    }

    /// Encode `len` values of `size` bytes from `base` as an array (the shared loop of every
    /// slice encoder).
    ///
    /// # Safety
    /// `base` points to `len` valid values of the type `en` encodes, `size` bytes apart.
    #[inline(never)]
    pub unsafe fn encode_items(base: *const u8, len: usize, size: usize, en: EnFn) -> Value {
        let mut out = Vec::with_capacity(len);
        let mut p = base;
        for _ in 0..len {
            // SAFETY: the caller's contract.
            unsafe {
                out.push(en(p));
                p = p.add(size);
            }
        }
        Value::Array(out)
    }

    /// Write one encoded field (through `dyn ToWire`: one function for every field type).
    #[inline(never)]
    pub fn put(m: &mut Map<String, Value>, key: &str, v: &dyn ToWire) {
        m.insert(key.to_owned(), v.to_wire());
    }

    /// Write the fields of a flattened struct (or of an internally tagged newtype variant).
    #[inline(never)]
    pub fn merge(m: &mut Map<String, Value>, v: Value) {
        if let Value::Object(o) = v {
            m.extend(o);
        }
    }

    /// A unit struct: `null`.
    #[inline(never)]
    pub fn unit(v: &Value, expecting: &str) -> Result<(), WireError> {
        match v {
            Value::Null => Ok(()),
            _ => Err(WireError::invalid_type(v, expecting)),
        }
    }

    /// A string value.
    #[inline(never)]
    pub fn string(s: &str) -> Value {
        Value::String(s.to_owned())
    }

    /// `{key: v}`: an externally tagged variant with content.
    #[inline(never)]
    pub fn single(key: &str, v: Value) -> Value {
        let mut m = Map::new();
        m.insert(key.to_owned(), v);
        Value::Object(m)
    }

    /// A map holding only the tag of an internally tagged variant.
    #[inline(never)]
    pub fn tag_map(tag: &str, name: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(tag.to_owned(), Value::String(name.to_owned()));
        m
    }

    /// The variant name and content of an externally tagged enum value: a string (no
    /// content) or an object with a single key.
    #[inline(never)]
    pub fn variant(v: &Value) -> Result<(&str, Option<&Value>), WireError> {
        match v {
            Value::String(s) => Ok((s, None)),
            Value::Object(o) => {
                let mut it = o.iter();
                match (it.next(), it.next()) {
                    (Some((k, c)), None) => Ok((k, Some(c))),
                    _ => Err(WireError::invalid_value(v, "map with a single key")),
                }
            }
            _ => Err(WireError::invalid_type(v, "string or map")),
        }
    }

    /// The content of a variant that carries data.
    #[inline(never)]
    pub fn content<'a>(inner: Option<&'a Value>, name: &str) -> Result<&'a Value, WireError> {
        inner.ok_or_else(|| {
            WireError::custom(super::concat(&[
                "invalid type: unit variant, expected variant `",
                name,
                "` with content",
            ]))
        })
    }

    /// A unit variant's (absent or `null`) content.
    #[inline(never)]
    pub fn no_content(inner: Option<&Value>) -> Result<(), WireError> {
        match inner {
            None | Some(Value::Null) => Ok(()),
            Some(v) => Err(WireError::invalid_type(v, "unit")),
        }
    }

    /// The tag of an internally tagged enum value.
    #[inline(never)]
    pub fn tag<'a>(o: &'a Map<String, Value>, field: &'static str) -> Result<&'a str, WireError> {
        match o.get(field) {
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(WireError::invalid_type(v, "variant identifier")),
            None => Err(WireError::missing(field)),
        }
    }

    /// A string-enum value (a string, or serde's `{"name": null}` form); used by the wire
    /// string enums, which map unknown names to their `Unknown` variant.
    #[inline(never)]
    pub fn enum_str(v: &Value) -> Result<&str, WireError> {
        let (name, inner) = variant(v)?;
        no_content(inner)?;
        Ok(name)
    }

    /// An error for an unknown variant name.
    pub fn unknown_variant(name: &str, expected: &[&str]) -> WireError {
        WireError::unknown_variant(name, expected)
    }

    /// An integer within `min..=max`, with serde's errors (`expected` names the type): its
    /// bits as a `u64` (a negative one in two's complement, so casting to the type gives the
    /// value). Every integer type's range contains 0, so a bound is only checked on its side.
    #[inline(never)]
    pub fn integer(v: &Value, min: i64, max: u64, expected: &str) -> Result<u64, WireError> {
        let Value::Number(n) = v else {
            return Err(WireError::invalid_type(v, expected));
        };
        let (x, fits) = if let Some(u) = n.as_u64() {
            (u, u <= max)
        } else if let Some(i) = n.as_i64() {
            (i as u64, i >= min)
        } else {
            return Err(WireError::invalid_type(v, expected));
        };
        if !fits {
            return Err(WireError::invalid_value(v, expected));
        }
        Ok(x)
    }

    /// Any JSON number as `f64`.
    #[inline(never)]
    pub fn float(v: &Value, expected: &str) -> Result<f64, WireError> {
        match v {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| WireError::invalid_type(v, expected)),
            _ => Err(WireError::invalid_type(v, expected)),
        }
    }

    /// The elements of an array.
    #[inline(never)]
    pub fn array(v: &Value) -> Result<&[Value], WireError> {
        match v {
            Value::Array(a) => Ok(a),
            _ => Err(WireError::invalid_type(v, "a sequence")),
        }
    }

    /// Call `f` on every element of an array (the loop shared by every `Vec<T>` decoder).
    #[inline(never)]
    pub fn each(
        v: &Value,
        f: &mut dyn FnMut(&Value) -> Result<(), WireError>,
    ) -> Result<(), WireError> {
        for x in array(v)? {
            f(x)?;
        }
        Ok(())
    }

    /// The entries of an object decoded as a map.
    #[inline(never)]
    pub fn map(v: &Value) -> Result<&Map<String, Value>, WireError> {
        match v {
            Value::Object(o) => Ok(o),
            _ => Err(WireError::invalid_type(v, "a map")),
        }
    }
}

// ------------------------------------------------------------------ std impls

impl FromWire for String {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(WireError::invalid_type(v, "a string")),
        }
    }
}

impl ToWire for String {
    fn to_wire(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToWire for str {
    fn to_wire(&self) -> Value {
        Value::String(self.to_owned())
    }
}

impl FromWire for bool {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        match v {
            Value::Bool(b) => Ok(*b),
            _ => Err(WireError::invalid_type(v, "a boolean")),
        }
    }
}

impl ToWire for bool {
    fn to_wire(&self) -> Value {
        Value::Bool(*self)
    }
}

macro_rules! wire_int {
    ($($t:ident),*) => {$(
        impl FromWire for $t {
            fn placeholder() -> Self {
                Self::default()
            }

            fn from_wire(v: &Value) -> Result<Self, WireError> {
                // The range check makes the cast lossless.
                wire::integer(v, $t::MIN as i64, $t::MAX as u64, stringify!($t))
                    .map(|x| x as $t)
            }
        }

        impl ToWire for $t {
            fn to_wire(&self) -> Value {
                Value::from(*self)
            }
        }
    )*};
}

wire_int!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl FromWire for f64 {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        wire::float(v, "f64")
    }
}

impl ToWire for f64 {
    fn to_wire(&self) -> Value {
        Value::from(*self)
    }
}

impl FromWire for f32 {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        wire::float(v, "f32").map(|x| x as f32)
    }
}

impl ToWire for f32 {
    fn to_wire(&self) -> Value {
        Value::from(*self)
    }
}

impl FromWire for Value {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        Ok(v.clone())
    }
}

impl ToWire for Value {
    fn to_wire(&self) -> Value {
        self.clone()
    }
}

impl FromWire for Map<String, Value> {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        wire::map(v).cloned()
    }
}

impl ToWire for Map<String, Value> {
    fn to_wire(&self) -> Value {
        Value::Object(self.clone())
    }
}

#[cfg(feature = "std")]
/// serde_json's value converts (for hosts and tests that hold serde_json values).
impl FromWire for serde_json::Value {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        Ok(v.clone().into())
    }
}

#[cfg(feature = "std")]
/// serde_json's value converts (for hosts and tests that hold serde_json values).
impl ToWire for serde_json::Value {
    fn to_wire(&self) -> Value {
        self.clone().into()
    }
}

impl<T: FromWire> FromWire for Option<T> {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        match v {
            Value::Null => Ok(None),
            _ => T::from_wire(v).map(Some),
        }
    }

    fn from_missing(_field: &'static str) -> Result<Self, WireError> {
        Ok(None)
    }

    const DE: wire::OpsOf<Self> = wire::OpsOf {
        ops: &wire::DeOps::option::<T>(),
        of: core::marker::PhantomData,
    };
}

impl<T: ToWire> ToWire for Option<T> {
    fn to_wire(&self) -> Value {
        match self {
            Some(x) => x.to_wire(),
            None => Value::Null,
        }
    }
}

impl<T: FromWire> FromWire for Vec<T> {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        wire::decode_by_ops(v)
    }

    const DE: wire::OpsOf<Self> = wire::OpsOf {
        ops: &wire::DeOps::vec::<T>(),
        of: core::marker::PhantomData,
    };
}

impl<T: ToWire> ToWire for Vec<T> {
    fn to_wire(&self) -> Value {
        self.as_slice().to_wire()
    }
}

impl<T: ToWire> ToWire for [T] {
    fn to_wire(&self) -> Value {
        use wire::EncodeFn;
        // SAFETY: the slice's elements, `size_of::<T>()` apart, encoded by `T`'s encoder.
        unsafe {
            wire::encode_items(
                self.as_ptr().cast(),
                self.len(),
                core::mem::size_of::<T>(),
                T::EN,
            )
        }
    }
}

impl<T: FromWire> FromWire for Box<T> {
    fn placeholder() -> Self {
        Box::new(T::placeholder())
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        T::from_wire(v).map(Box::new)
    }

    fn from_missing(field: &'static str) -> Result<Self, WireError> {
        T::from_missing(field).map(Box::new)
    }
}

impl<T: ToWire + ?Sized> ToWire for Box<T> {
    fn to_wire(&self) -> Value {
        (**self).to_wire()
    }
}

impl<T: ToWire + ?Sized> ToWire for &T {
    fn to_wire(&self) -> Value {
        (**self).to_wire()
    }
}

impl<T: FromWire> FromWire for BTreeMap<String, T> {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        // Inserting one by one: collecting would sort (another sort instantiation per type).
        let mut out = BTreeMap::new();
        for (k, x) in wire::map(v)? {
            out.insert(k.clone(), T::from_wire(x)?);
        }
        Ok(out)
    }
}

impl<T: ToWire> ToWire for BTreeMap<String, T> {
    fn to_wire(&self) -> Value {
        let mut m = Map::new();
        for (k, x) in self {
            m.insert(k.clone(), x.to_wire());
        }
        Value::Object(m)
    }
}

#[cfg(feature = "std")]
impl<T: FromWire, S: BuildHasher + Default> FromWire for HashMap<String, T, S> {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        wire::map(v)?
            .iter()
            .map(|(k, x)| Ok((k.clone(), T::from_wire(x)?)))
            .collect()
    }
}

#[cfg(feature = "std")]
impl<T: ToWire, S> ToWire for HashMap<String, T, S> {
    fn to_wire(&self) -> Value {
        let mut m = Map::new();
        for (k, x) in self {
            m.insert(k.clone(), x.to_wire());
        }
        Value::Object(m)
    }
}

impl FromWire for () {
    fn placeholder() -> Self {}

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        wire::unit(v, "unit")
    }
}

impl ToWire for () {
    fn to_wire(&self) -> Value {
        Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Member;

    #[test]
    fn decode_gives_from_value_errors_and_results() {
        let sv = serde_json::json!({"id": "m1", "identity": "ann", "version": 3});
        let v = json!({"id": "m1", "identity": "ann", "version": 3});
        assert_eq!(v, sv);
        let m: Member = decode(&v).expect("member");
        assert_eq!(m, serde_json::from_value::<Member>(sv).expect("member"));
        assert_eq!(encode(&m), serde_json::to_value(&m).expect("value"));
        let bad = json!({"identity": "ann"});
        let e = decode::<Member>(&bad).expect_err("no id");
        assert!(e.to_string().contains("missing field `id`"), "{e}");
    }

    #[test]
    fn parse_u64_reads_what_str_parse_reads() {
        for s in [
            "",
            "+",
            "0",
            "7",
            "+7",
            "-7",
            "12a",
            "a",
            "18446744073709551615",
            "18446744073709551616",
            "18446744073709551620",
            "99999999999999999999",
            "007",
            "++1",
            " 1",
        ] {
            assert_eq!(parse_u64(s), s.parse::<u64>().ok(), "{s:?}");
        }
    }

    #[test]
    fn push_u64_writes_what_display_writes() {
        let mut n = String::from("x");
        for v in [0u64, 7, 10, 1234567890, u64::MAX] {
            n.truncate(1);
            push_u64(&mut n, v);
            assert_eq!(n, format!("x{v}"));
        }
    }

    #[test]
    fn doubles_read_as_a_javascript_json_parse_leaves_them() {
        let n = |f: f64| Number::from_double(f).map(Value::Number);
        assert_eq!(n(5.0), Some(json!(5)));
        assert!(n(5.0).unwrap().is_u64());
        assert_eq!(n(-0.0).and_then(|v| v.as_u64()), Some(0));
        assert_eq!(n(-7.0).and_then(|v| v.as_i64()), Some(-7));
        assert!(n(-7.0).unwrap().is_i64() && !n(-7.0).unwrap().is_u64());
        assert_eq!(
            n(9_007_199_254_740_992.0).and_then(|v| v.as_u64()),
            Some(1 << 53)
        );
        assert!(
            n(18_014_398_509_481_984.0).unwrap().is_f64(),
            "beyond 2^53: a float"
        );
        assert!(n(0.5).unwrap().is_f64());
        assert_eq!(n(0.5), Some(json!(0.5)));
        assert_eq!(n(f64::NAN), None);
        assert_eq!(n(f64::INFINITY), None);
        // Every integer the text parser reads within ±2^53 reads the same from its double.
        for text in ["0", "1", "-1", "1700000000000", "-9007199254740992", "42"] {
            let parsed = parse(text).expect("number");
            let f = parsed.as_f64().expect("f64");
            assert_eq!(n(f), Some(parsed), "{text}");
        }
    }

    #[test]
    fn strings_in_errors_are_escaped_as_debug_escapes_them() {
        for s in [
            "",
            "plain",
            "quote \" and backslash \\",
            "tab\t cr\r nl\n nul\0",
            "\u{1}\u{1f}\u{7f}\u{80}\u{9f}",
            "apostrophe ' stays",
            "héllo ✓ 日本 😀",
        ] {
            let mut ours = String::new();
            debug_str(&mut ours, s);
            assert_eq!(ours, format!("{s:?}"));
            let e = decode::<u32>(&Value::from(s)).unwrap_err().to_string();
            let theirs = serde_json::from_value::<u32>(serde_json::json!(s))
                .unwrap_err()
                .to_string();
            assert_eq!(e, theirs);
        }
    }

    #[test]
    fn primitive_errors_use_serde_json_wording() {
        let cases: Vec<(serde_json::Value, String)> = vec![
            (
                serde_json::json!("x"),
                decode::<u32>(&"x".into()).unwrap_err().to_string(),
            ),
            (
                serde_json::json!(-1),
                decode::<u32>(&(-1).into()).unwrap_err().to_string(),
            ),
            (
                serde_json::json!(300),
                decode::<u8>(&300.into()).unwrap_err().to_string(),
            ),
            (
                serde_json::json!(1.5),
                decode::<i64>(&1.5.into()).unwrap_err().to_string(),
            ),
            (
                serde_json::json!(null),
                decode::<String>(&Value::Null).unwrap_err().to_string(),
            ),
            (
                serde_json::json!(7),
                decode::<bool>(&7.into()).unwrap_err().to_string(),
            ),
            (
                serde_json::json!({}),
                decode::<Vec<u8>>(&json!({})).unwrap_err().to_string(),
            ),
        ];
        let serde_msgs = [
            serde_json::from_value::<u32>(cases[0].0.clone())
                .unwrap_err()
                .to_string(),
            serde_json::from_value::<u32>(cases[1].0.clone())
                .unwrap_err()
                .to_string(),
            serde_json::from_value::<u8>(cases[2].0.clone())
                .unwrap_err()
                .to_string(),
            serde_json::from_value::<i64>(cases[3].0.clone())
                .unwrap_err()
                .to_string(),
            serde_json::from_value::<String>(cases[4].0.clone())
                .unwrap_err()
                .to_string(),
            serde_json::from_value::<bool>(cases[5].0.clone())
                .unwrap_err()
                .to_string(),
            serde_json::from_value::<Vec<u8>>(cases[6].0.clone())
                .unwrap_err()
                .to_string(),
        ];
        for ((_, ours), theirs) in cases.iter().zip(serde_msgs.iter()) {
            assert_eq!(ours, theirs);
        }
    }
}
