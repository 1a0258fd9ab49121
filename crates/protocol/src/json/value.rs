//! The JSON value types: [`Value`], [`Map`] (a vector of entries sorted by key) and
//! [`Number`], with the API of serde_json's types of the same names as far as this project
//! uses it (accessors, indexing, `From` conversions, comparisons with primitives), so code
//! written against one reads the same against the other.
//!
//! They implement serde's `Serialize` and `Deserialize` (and, with the `schema` feature,
//! `JsonSchema`) for the server, the schema and the tests; the SDK reads and writes JSON text
//! through [`parse`](super::parse) and [`Display`](fmt::Display), which use no serde code.

use crate::prelude::*;
use core::cmp::Ordering;
use core::fmt;
use core::ops;

use super::text;

/// A JSON number: a non-negative integer that fits `u64`, a negative one that fits `i64`,
/// or a finite float.
#[derive(Clone, Copy)]
pub struct Number {
    n: N,
}

#[derive(Clone, Copy)]
enum N {
    PosInt(u64),
    /// Always negative.
    NegInt(i64),
    /// Always finite.
    Float(f64),
}

impl Number {
    /// A float as a number; `None` for NaN and infinities (JSON has no form for them).
    pub fn from_f64(f: f64) -> Option<Number> {
        f.is_finite().then_some(Number { n: N::Float(f) })
    }

    /// A double as a JSON parser without an integer type (JavaScript's `JSON.parse`) leaves
    /// every number: an integral value within ±2^53 becomes an integer (so `5`, `5.0` and
    /// `5e0` all read as `5`), any other finite value a float; `None` for NaN and infinities.
    pub fn from_double(f: f64) -> Option<Number> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53

        // Integral: the cast truncates exactly within ±2^53 (`f64::trunc` is not in `core`).
        if f as i64 as f64 == f && f.abs() <= EXACT {
            let n = if f < 0.0 {
                N::NegInt(f as i64)
            } else {
                N::PosInt(f as u64)
            };
            return Some(Number { n });
        }
        Number::from_f64(f)
    }

    /// Whether the number is an integer that fits `u64`.
    pub fn is_u64(&self) -> bool {
        matches!(self.n, N::PosInt(_))
    }

    /// Whether the number is an integer that fits `i64`.
    pub fn is_i64(&self) -> bool {
        match self.n {
            N::PosInt(u) => u <= i64::MAX as u64,
            N::NegInt(_) => true,
            N::Float(_) => false,
        }
    }

    /// Whether the number is a float (written with a fraction or exponent, or too large for
    /// the integer types).
    pub fn is_f64(&self) -> bool {
        matches!(self.n, N::Float(_))
    }

    /// The number as `u64`, if it is an integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self.n {
            N::PosInt(u) => Some(u),
            _ => None,
        }
    }

    /// The number as `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self.n {
            N::PosInt(u) => i64::try_from(u).ok(),
            N::NegInt(i) => Some(i),
            N::Float(_) => None,
        }
    }

    /// The number as `f64` (integers converted, possibly rounded).
    pub fn as_f64(&self) -> Option<f64> {
        Some(match self.n {
            N::PosInt(u) => u as f64,
            N::NegInt(i) => i as f64,
            N::Float(f) => f,
        })
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        match (self.n, other.n) {
            (N::PosInt(a), N::PosInt(b)) => a == b,
            (N::NegInt(a), N::NegInt(b)) => a == b,
            (N::Float(a), N::Float(b)) => a == b,
            _ => false,
        }
    }
}

// Floats are never NaN.
impl Eq for Number {}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        text::write_number(&mut s, self);
        f.write_str(&s)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

macro_rules! number_from {
    (unsigned: $($u:ty),*; signed: $($i:ty),*) => {
        $(impl From<$u> for Number {
            fn from(x: $u) -> Number {
                Number { n: N::PosInt(x as u64) }
            }
        })*
        $(impl From<$i> for Number {
            fn from(x: $i) -> Number {
                let x = x as i64;
                Number {
                    n: if x < 0 { N::NegInt(x) } else { N::PosInt(x as u64) },
                }
            }
        })*
    };
}

number_from!(unsigned: u8, u16, u32, u64, usize; signed: i8, i16, i32, i64, isize);

/// A JSON value.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Map<String, Value>),
}

static NULL: Value = Value::Null;

impl Value {
    /// The element at an array index or the member of an object key; `None` when absent or
    /// when the value is not an array or object.
    pub fn get<I: Index>(&self, index: I) -> Option<&Value> {
        index.index_into(self)
    }

    /// Mutable [`Value::get`].
    pub fn get_mut<I: Index>(&mut self, index: I) -> Option<&mut Value> {
        index.index_into_mut(self)
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// `Some(())` for `null`.
    pub fn as_null(&self) -> Option<()> {
        self.is_null().then_some(())
    }

    /// Whether the value is a boolean.
    pub fn is_boolean(&self) -> bool {
        matches!(self, Value::Bool(_))
    }

    /// Whether the value is a number.
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }

    /// Whether the value is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// Whether the value is an array.
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    /// Whether the value is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// Whether the value is an integer that fits `u64`.
    pub fn is_u64(&self) -> bool {
        self.as_number().is_some_and(Number::is_u64)
    }

    /// Whether the value is an integer that fits `i64`.
    pub fn is_i64(&self) -> bool {
        self.as_number().is_some_and(Number::is_i64)
    }

    /// Whether the value is a float number.
    pub fn is_f64(&self) -> bool {
        self.as_number().is_some_and(Number::is_f64)
    }

    /// The boolean, if the value is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if the value is one.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as `u64` (see [`Number::as_u64`]).
    pub fn as_u64(&self) -> Option<u64> {
        self.as_number().and_then(Number::as_u64)
    }

    /// The number as `i64` (see [`Number::as_i64`]).
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The number as `f64` (see [`Number::as_f64`]).
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().and_then(Number::as_f64)
    }

    /// The string, if the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if the value is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The elements, mutable, if the value is an array.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The members, if the value is an object.
    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The members, mutable, if the value is an object.
    pub fn as_object_mut(&mut self) -> Option<&mut Map<String, Value>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Take the value out, leaving `null`.
    pub fn take(&mut self) -> Value {
        core::mem::take(self)
    }

    /// The value at a JSON Pointer (RFC 6901, e.g. `/a/0/b`); `""` is the whole value.
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut v = self;
        for token in rest.split('/') {
            let token = token.replace("~1", "/").replace("~0", "~");
            v = match v {
                Value::Object(m) => m.get(token.as_str())?,
                Value::Array(a) => a.get(array_index(&token)?)?,
                _ => return None,
            };
        }
        Some(v)
    }

    /// Mutable [`Value::pointer`].
    pub fn pointer_mut(&mut self, pointer: &str) -> Option<&mut Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut v = self;
        for token in rest.split('/') {
            let token = token.replace("~1", "/").replace("~0", "~");
            v = match v {
                Value::Object(m) => m.get_mut(token.as_str())?,
                Value::Array(a) => a.get_mut(array_index(&token)?)?,
                _ => return None,
            };
        }
        Some(v)
    }
}

/// A JSON Pointer token as an array index (no sign, no leading zero).
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// Compact JSON text, as serde_json writes it.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        text::write(&mut s, self);
        f.write_str(&s)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Number(n) => fmt::Debug::fmt(n, f),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Array(a) => {
                f.write_str("Array ")?;
                f.debug_list().entries(a).finish()
            }
            Value::Object(m) => {
                f.write_str("Object ")?;
                fmt::Debug::fmt(m, f)
            }
        }
    }
}

/// A type that indexes into a [`Value`]: `usize` for arrays, strings for objects.
pub trait Index: private::Sealed {
    /// The element or member, if present.
    #[doc(hidden)]
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value>;
    /// Mutable `index_into`.
    #[doc(hidden)]
    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value>;
    /// The element or member, created as `null` in an object (any other value than an
    /// object becoming an empty object first); an array index out of bounds panics, as
    /// with serde_json.
    #[doc(hidden)]
    fn index_or_insert<'v>(&self, v: &'v mut Value) -> &'v mut Value;
}

mod private {
    use crate::prelude::*;
    pub trait Sealed {}
    impl Sealed for usize {}
    impl Sealed for str {}
    impl Sealed for String {}
    impl<T: Sealed + ?Sized> Sealed for &T {}
}

impl Index for usize {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        match v {
            Value::Array(a) => a.get(*self),
            _ => None,
        }
    }

    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        match v {
            Value::Array(a) => a.get_mut(*self),
            _ => None,
        }
    }

    fn index_or_insert<'v>(&self, v: &'v mut Value) -> &'v mut Value {
        match v {
            Value::Array(a) => {
                let len = a.len();
                match a.get_mut(*self) {
                    Some(x) => x,
                    None => panic!("cannot access index {self} of JSON array of length {len}"),
                }
            }
            _ => panic!("cannot access index {self} of a JSON value that is not an array"),
        }
    }
}

impl Index for str {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        match v {
            Value::Object(m) => m.get(self),
            _ => None,
        }
    }

    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        match v {
            Value::Object(m) => m.get_mut(self),
            _ => None,
        }
    }

    fn index_or_insert<'v>(&self, v: &'v mut Value) -> &'v mut Value {
        if !v.is_object() {
            *v = Value::Object(Map::new());
        }
        match v {
            Value::Object(m) => m.entry(self).or_insert(Value::Null),
            // Not reached: `v` is an object now.
            _ => v,
        }
    }
}

impl Index for String {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        self.as_str().index_into(v)
    }

    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        self.as_str().index_into_mut(v)
    }

    fn index_or_insert<'v>(&self, v: &'v mut Value) -> &'v mut Value {
        self.as_str().index_or_insert(v)
    }
}

impl<T: Index + ?Sized> Index for &T {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        (**self).index_into(v)
    }

    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        (**self).index_into_mut(v)
    }

    fn index_or_insert<'v>(&self, v: &'v mut Value) -> &'v mut Value {
        (**self).index_or_insert(v)
    }
}

/// `v["key"]` / `v[0]`: the member or element, or `null` when absent (never panics).
impl<I: Index> ops::Index<I> for Value {
    type Output = Value;

    fn index(&self, index: I) -> &Value {
        index.index_into(self).unwrap_or(&NULL)
    }
}

/// `v["key"] = x` inserts into an object (a value that is not an object becomes an empty
/// object first, where serde_json would panic); `v[0] = x` replaces an element (panics for
/// a value that is not an array or an index out of bounds, as serde_json's).
impl<I: Index> ops::IndexMut<I> for Value {
    fn index_mut(&mut self, index: I) -> &mut Value {
        index.index_or_insert(self)
    }
}

// ------------------------------------------------------------------ conversions

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}

impl From<alloc::borrow::Cow<'_, str>> for Value {
    fn from(s: alloc::borrow::Cow<'_, str>) -> Value {
        Value::String(s.into_owned())
    }
}

impl From<char> for Value {
    fn from(c: char) -> Value {
        Value::String(c.to_string())
    }
}

impl From<f64> for Value {
    /// `null` for NaN and infinities.
    fn from(f: f64) -> Value {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

impl From<f32> for Value {
    /// `null` for NaN and infinities.
    fn from(f: f32) -> Value {
        Value::from(f64::from(f))
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl From<Map<String, Value>> for Value {
    fn from(m: Map<String, Value>) -> Value {
        Value::Object(m)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Clone + Into<Value>> From<&[T]> for Value {
    fn from(v: &[T]) -> Value {
        Value::Array(v.iter().cloned().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<()> for Value {
    fn from((): ()) -> Value {
        Value::Null
    }
}

macro_rules! value_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(x: $t) -> Value {
                Value::Number(Number::from(x))
            }
        }
    )*};
}

value_from_int!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl<T: Into<Value>> FromIterator<T> for Value {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Value {
        Value::Array(iter.into_iter().map(Into::into).collect())
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Value {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Value {
        Value::Object(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

// ------------------------------------------------------------------ comparisons

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<String> for Value {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == Some(other.as_str())
    }
}

impl PartialEq<Value> for str {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

impl PartialEq<Value> for &str {
    fn eq(&self, other: &Value) -> bool {
        other == *self
    }
}

impl PartialEq<Value> for String {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

impl PartialEq<Value> for bool {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

impl PartialEq<f64> for Value {
    fn eq(&self, other: &f64) -> bool {
        self.as_f64() == Some(*other)
    }
}

impl PartialEq<Value> for f64 {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

impl PartialEq<f32> for Value {
    fn eq(&self, other: &f32) -> bool {
        self.as_f64() == Some(f64::from(*other))
    }
}

macro_rules! value_eq_int {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Value {
            fn eq(&self, other: &$t) -> bool {
                match self.as_number() {
                    Some(n) => *n == Number::from(*other),
                    None => false,
                }
            }
        }

        impl PartialEq<Value> for $t {
            fn eq(&self, other: &Value) -> bool {
                other == self
            }
        }
    )*};
}

value_eq_int!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

// ------------------------------------------------------------------ Map

/// The members of a JSON object: entries kept sorted by key (so iteration and printing go in
/// key order, as with serde_json's default `Map`), each key at most once.
#[derive(Clone, PartialEq, Eq)]
pub struct Map<K, V> {
    entries: Vec<(K, V)>,
}

/// An iterator over a map's entries, by reference.
pub type Iter<'a> = core::iter::Map<
    core::slice::Iter<'a, (String, Value)>,
    fn(&'a (String, Value)) -> (&'a String, &'a Value),
>;

/// An iterator over a map's entries, values mutable.
pub type IterMut<'a> = core::iter::Map<
    core::slice::IterMut<'a, (String, Value)>,
    fn(&'a mut (String, Value)) -> (&'a String, &'a mut Value),
>;

impl Default for Map<String, Value> {
    fn default() -> Self {
        Map::new()
    }
}

impl Map<String, Value> {
    /// An empty map.
    pub fn new() -> Self {
        Map {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Map {
            entries: Vec::with_capacity(n),
        }
    }

    /// The position of `key`, or where it would go (one body for every key type: the
    /// lookups take any `AsRef<str>` key and search by its text).
    #[inline(never)]
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Remove every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`.
    pub fn get<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> Option<&Value> {
        let i = self.find(key.as_ref()).ok()?;
        self.entries.get(i).map(|(_, v)| v)
    }

    /// The value of `key`, mutable.
    pub fn get_mut<Q: AsRef<str> + ?Sized>(&mut self, key: &Q) -> Option<&mut Value> {
        let i = self.find(key.as_ref()).ok()?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    /// The stored key and value of `key`.
    pub fn get_key_value<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> Option<(&String, &Value)> {
        let i = self.find(key.as_ref()).ok()?;
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    /// Whether `key` is present.
    pub fn contains_key<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> bool {
        self.find(key.as_ref()).is_ok()
    }

    /// Set `key` to `v`; the previous value, if any.
    pub fn insert(&mut self, key: String, v: Value) -> Option<Value> {
        super::keymap::insert_sorted(&mut self.entries, key, v)
    }

    /// Remove `key`; its value, if it was present.
    pub fn remove<Q: AsRef<str> + ?Sized>(&mut self, key: &Q) -> Option<Value> {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Remove `key`; its stored key and value, if it was present.
    pub fn remove_entry<Q: AsRef<str> + ?Sized>(&mut self, key: &Q) -> Option<(String, Value)> {
        let i = self.find(key.as_ref()).ok()?;
        Some(self.entries.remove(i))
    }

    /// Move every entry of `other` into this map (replacing values of equal keys).
    pub fn append(&mut self, other: &mut Self) {
        for (k, v) in other.entries.drain(..) {
            self.insert(k, v);
        }
    }

    /// The entry of `key`, for in-place insertion or update.
    pub fn entry<S: Into<String>>(&mut self, key: S) -> Entry<'_> {
        let key = key.into();
        match self.find(key.as_str()) {
            Ok(i) => Entry::Occupied(OccupiedEntry { map: self, i }),
            Err(i) => Entry::Vacant(VacantEntry { map: self, i, key }),
        }
    }

    /// Keep only the entries for which `keep` returns true.
    pub fn retain<F: FnMut(&String, &mut Value) -> bool>(&mut self, mut keep: F) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries in key order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values in key order, mutable.
    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// The values in key order, by value.
    pub fn into_values(self) -> impl DoubleEndedIterator<Item = Value> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, v)| v)
    }

    /// The keys in order, by value.
    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = String> + ExactSizeIterator {
        self.entries.into_iter().map(|(k, _)| k)
    }

    /// A no-op: the entries are always in key order.
    pub fn sort_keys(&mut self) {}

    /// A map of entries in any order, a later duplicate key replacing an earlier one.
    pub(crate) fn from_entries(mut entries: Vec<(String, Value)>) -> Self {
        let sorted = entries.windows(2).all(|w| match w {
            [a, b] => a.0 < b.0,
            _ => true,
        });
        if !sorted {
            entries = merge_sort(entries);
            // Equal keys are adjacent, in input order: keep the last of each run.
            let mut out: Vec<(String, Value)> = Vec::with_capacity(entries.len());
            for e in entries {
                match out.last_mut() {
                    Some(last) if last.0 == e.0 => *last = e,
                    _ => out.push(e),
                }
            }
            entries = out;
        }
        Map { entries }
    }
}

/// A stable merge sort by key (one small function for the one element type, instead of the
/// standard library's sort instantiated for it).
fn merge_sort(mut v: Vec<(String, Value)>) -> Vec<(String, Value)> {
    if v.len() <= 1 {
        return v;
    }
    let right = v.split_off(v.len() / 2);
    let (left, right) = (merge_sort(v), merge_sort(right));
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (Some(a), Some(b)) => a.0 <= b.0,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

/// One entry of a [`Map`], present or not.
pub enum Entry<'a> {
    /// The key is absent.
    Vacant(VacantEntry<'a>),
    /// The key is present.
    Occupied(OccupiedEntry<'a>),
}

/// An absent key of a [`Map`].
pub struct VacantEntry<'a> {
    map: &'a mut Map<String, Value>,
    i: usize,
    key: String,
}

/// A present key of a [`Map`].
pub struct OccupiedEntry<'a> {
    map: &'a mut Map<String, Value>,
    i: usize,
}

impl<'a> VacantEntry<'a> {
    /// Insert the value.
    pub fn insert(self, v: Value) -> &'a mut Value {
        let i = self.i;
        self.map.entries.insert(i, (self.key, v));
        &mut self.map.entries[i].1
    }

    /// The key.
    pub fn key(&self) -> &String {
        &self.key
    }
}

impl<'a> OccupiedEntry<'a> {
    /// The value.
    pub fn get(&self) -> &Value {
        &self.map.entries[self.i].1
    }

    /// The value, mutable.
    pub fn get_mut(&mut self) -> &mut Value {
        &mut self.map.entries[self.i].1
    }

    /// The value, mutable, for the map's lifetime.
    pub fn into_mut(self) -> &'a mut Value {
        &mut self.map.entries[self.i].1
    }

    /// Replace the value; the old one.
    pub fn insert(&mut self, v: Value) -> Value {
        core::mem::replace(self.get_mut(), v)
    }

    /// Remove the entry; its value.
    pub fn remove(self) -> Value {
        self.map.entries.remove(self.i).1
    }

    /// The key.
    pub fn key(&self) -> &String {
        &self.map.entries[self.i].0
    }
}

impl<'a> Entry<'a> {
    /// The value, inserting `default` first when absent.
    pub fn or_insert(self, default: Value) -> &'a mut Value {
        match self {
            Entry::Vacant(e) => e.insert(default),
            Entry::Occupied(e) => e.into_mut(),
        }
    }

    /// The value, inserting `default()` first when absent.
    pub fn or_insert_with<F: FnOnce() -> Value>(self, default: F) -> &'a mut Value {
        match self {
            Entry::Vacant(e) => e.insert(default()),
            Entry::Occupied(e) => e.into_mut(),
        }
    }

    /// The value, inserting `null` first when absent.
    pub fn or_default(self) -> &'a mut Value {
        self.or_insert(Value::Null)
    }

    /// Update the value in place when present.
    pub fn and_modify<F: FnOnce(&mut Value)>(self, f: F) -> Self {
        match self {
            Entry::Occupied(mut e) => {
                f(e.get_mut());
                Entry::Occupied(e)
            }
            e => e,
        }
    }

    /// The key.
    pub fn key(&self) -> &String {
        match self {
            Entry::Vacant(e) => e.key(),
            Entry::Occupied(e) => e.key(),
        }
    }
}

impl fmt::Debug for Map<String, Value> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Compact JSON text of the object.
impl fmt::Display for Map<String, Value> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        text::write_object(&mut s, self);
        f.write_str(&s)
    }
}

/// `m["key"]`: panics when absent, as serde_json's.
impl<Q: AsRef<str> + ?Sized> ops::Index<&Q> for Map<String, Value> {
    type Output = Value;

    fn index(&self, key: &Q) -> &Value {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no entry found for key"),
        }
    }
}

/// `m["key"]`, mutable: panics when absent, as serde_json's.
impl<Q: AsRef<str> + ?Sized> ops::IndexMut<&Q> for Map<String, Value> {
    fn index_mut(&mut self, key: &Q) -> &mut Value {
        match self.get_mut(key) {
            Some(v) => v,
            None => panic!("no entry found for key"),
        }
    }
}

impl FromIterator<(String, Value)> for Map<String, Value> {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Map::from_entries(iter.into_iter().collect())
    }
}

impl Extend<(String, Value)> for Map<String, Value> {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl IntoIterator for Map<String, Value> {
    type Item = (String, Value);
    type IntoIter = alloc::vec::IntoIter<(String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map<String, Value> {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map<String, Value> {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        self.as_f64()?.partial_cmp(&other.as_f64()?)
    }
}

// ------------------------------------------------------------------ serde_json interop

#[cfg(feature = "std")]
/// The same value as serde_json's type (for hosts and tests that hold serde_json values).
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => Value::from(u),
                (None, Some(i), _) => Value::from(i),
                (None, None, Some(f)) => Value::from(f),
                (None, None, None) => Value::Null,
            },
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(m) => Value::Object(Map::from_entries(
                m.into_iter().map(|(k, v)| (k, Value::from(v))).collect(),
            )),
        }
    }
}

#[cfg(feature = "std")]
/// The same value as serde_json's type.
impl From<Value> for serde_json::Value {
    fn from(v: Value) -> serde_json::Value {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(b),
            Value::Number(n) => match n.n {
                N::PosInt(u) => serde_json::Value::from(u),
                N::NegInt(i) => serde_json::Value::from(i),
                N::Float(f) => serde_json::Value::from(f),
            },
            Value::String(s) => serde_json::Value::String(s),
            Value::Array(a) => {
                serde_json::Value::Array(a.into_iter().map(serde_json::Value::from).collect())
            }
            Value::Object(m) => serde_json::Value::Object(
                m.into_iter()
                    .map(|(k, v)| (k, serde_json::Value::from(v)))
                    .collect(),
            ),
        }
    }
}

#[cfg(feature = "std")]
/// The same members as serde_json's map.
impl From<serde_json::Map<String, serde_json::Value>> for Map<String, Value> {
    fn from(m: serde_json::Map<String, serde_json::Value>) -> Self {
        Map::from_entries(m.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
    }
}

#[cfg(feature = "std")]
/// The same members as serde_json's map.
impl From<Map<String, Value>> for serde_json::Map<String, serde_json::Value> {
    fn from(m: Map<String, Value>) -> Self {
        m.into_iter()
            .map(|(k, v)| (k, serde_json::Value::from(v)))
            .collect()
    }
}

#[cfg(feature = "std")]
/// Equal when both hold the same JSON value.
impl PartialEq<serde_json::Value> for Value {
    fn eq(&self, other: &serde_json::Value) -> bool {
        match (self, other) {
            (Value::Null, serde_json::Value::Null) => true,
            (Value::Bool(a), serde_json::Value::Bool(b)) => a == b,
            (Value::Number(a), serde_json::Value::Number(b)) => match a.n {
                N::PosInt(u) => b.as_u64() == Some(u),
                N::NegInt(i) => b.as_i64() == Some(i),
                N::Float(f) => b.is_f64() && b.as_f64() == Some(f),
            },
            (Value::String(a), serde_json::Value::String(b)) => a == b,
            (Value::Array(a), serde_json::Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            (Value::Object(a), serde_json::Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, x)| b.get(k.as_str()).is_some_and(|y| x == y))
            }
            _ => false,
        }
    }
}

#[cfg(feature = "std")]
/// Equal when both hold the same JSON value.
impl PartialEq<Value> for serde_json::Value {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

// ------------------------------------------------------------------ serde

mod serde_impls {
    use super::{Map, Number, Value, N};
    use crate::prelude::*;
    use alloc::fmt;
    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde::ser::{Serialize, SerializeMap, Serializer};

    impl Serialize for Number {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self.n {
                N::PosInt(u) => s.serialize_u64(u),
                N::NegInt(i) => s.serialize_i64(i),
                N::Float(f) => s.serialize_f64(f),
            }
        }
    }

    impl Serialize for Value {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self {
                Value::Null => s.serialize_unit(),
                Value::Bool(b) => s.serialize_bool(*b),
                Value::Number(n) => n.serialize(s),
                Value::String(x) => s.serialize_str(x),
                Value::Array(a) => s.collect_seq(a),
                Value::Object(m) => m.serialize(s),
            }
        }
    }

    impl Serialize for Map<String, Value> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(self.len()))?;
            for (k, v) in self {
                m.serialize_entry(k, v)?;
            }
            m.end()
        }
    }

    struct ValueVisitor;

    impl<'de> Visitor<'de> for ValueVisitor {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any valid JSON value")
        }

        fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
            Ok(Value::Bool(b))
        }

        fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
            Ok(Value::from(i))
        }

        fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
            Ok(Value::from(u))
        }

        fn visit_i128<E: de::Error>(self, i: i128) -> Result<Value, E> {
            Ok(match (u64::try_from(i), i64::try_from(i)) {
                (Ok(u), _) => Value::from(u),
                (_, Ok(i)) => Value::from(i),
                _ => Value::from(i as f64),
            })
        }

        fn visit_u128<E: de::Error>(self, u: u128) -> Result<Value, E> {
            Ok(match u64::try_from(u) {
                Ok(u) => Value::from(u),
                Err(_) => Value::from(u as f64),
            })
        }

        fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
            Ok(Value::from(f))
        }

        fn visit_str<E>(self, s: &str) -> Result<Value, E> {
            Ok(Value::String(s.to_owned()))
        }

        fn visit_string<E>(self, s: String) -> Result<Value, E> {
            Ok(Value::String(s))
        }

        fn visit_none<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            Value::deserialize(d)
        }

        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(x) = seq.next_element()? {
                out.push(x);
            }
            Ok(Value::Array(out))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
            MapVisitor.visit_map(map).map(Value::Object)
        }
    }

    struct MapVisitor;

    impl<'de> Visitor<'de> for MapVisitor {
        type Value = Map<String, Value>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, Value>()? {
                entries.push((k, v));
            }
            Ok(Map::from_entries(entries))
        }
    }

    impl<'de> Deserialize<'de> for Value {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
            d.deserialize_any(ValueVisitor)
        }
    }

    impl<'de> Deserialize<'de> for Map<String, Value> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(MapVisitor)
        }
    }

    impl<'de> Deserialize<'de> for Number {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
            match Value::deserialize(d)? {
                Value::Number(n) => Ok(n),
                _ => Err(de::Error::custom("expected a JSON number")),
            }
        }
    }
}

#[cfg(feature = "schema")]
mod schema_impls {
    use super::{Map, Number, Value};
    use crate::prelude::*;
    use alloc::borrow::Cow;
    use schemars::gen::SchemaGenerator;
    use schemars::schema::Schema;
    use schemars::JsonSchema;

    // The same schemas as schemars gives serde_json's types.
    impl JsonSchema for Value {
        fn is_referenceable() -> bool {
            <serde_json::Value as JsonSchema>::is_referenceable()
        }

        fn schema_name() -> String {
            <serde_json::Value as JsonSchema>::schema_name()
        }

        fn schema_id() -> Cow<'static, str> {
            <serde_json::Value as JsonSchema>::schema_id()
        }

        fn json_schema(gen: &mut SchemaGenerator) -> Schema {
            <serde_json::Value as JsonSchema>::json_schema(gen)
        }
    }

    impl JsonSchema for Map<String, Value> {
        fn is_referenceable() -> bool {
            <serde_json::Map<String, serde_json::Value> as JsonSchema>::is_referenceable()
        }

        fn schema_name() -> String {
            <serde_json::Map<String, serde_json::Value> as JsonSchema>::schema_name()
        }

        fn schema_id() -> Cow<'static, str> {
            <serde_json::Map<String, serde_json::Value> as JsonSchema>::schema_id()
        }

        fn json_schema(gen: &mut SchemaGenerator) -> Schema {
            <serde_json::Map<String, serde_json::Value> as JsonSchema>::json_schema(gen)
        }
    }

    impl JsonSchema for Number {
        fn is_referenceable() -> bool {
            <serde_json::Number as JsonSchema>::is_referenceable()
        }

        fn schema_name() -> String {
            <serde_json::Number as JsonSchema>::schema_name()
        }

        fn schema_id() -> Cow<'static, str> {
            <serde_json::Number as JsonSchema>::schema_id()
        }

        fn json_schema(gen: &mut SchemaGenerator) -> Schema {
            <serde_json::Number as JsonSchema>::json_schema(gen)
        }
    }
}
