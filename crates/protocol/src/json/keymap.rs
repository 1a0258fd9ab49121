//! [`KeyMap`]: a map from string keys to typed values, kept as a vector sorted by key.
//!
//! Wire maps are small (a handful of m-sections, positions, mids); a sorted vector gives
//! them `BTreeMap`'s behaviour (one value per key, iteration and encoding in key order)
//! with a fraction of its code in a WebAssembly bundle.

use crate::prelude::*;
use core::borrow::Borrow;
use core::fmt;

use super::{wire, FromWire, Map, ToWire, Value, WireError};

/// Sets `key` to `v` in `entries`, a list sorted by key with each key at most once (the
/// storage of [`KeyMap`] and of the JSON object [`Map`]); the previous value, if any.
pub(super) fn insert_sorted<V>(entries: &mut Vec<(String, V)>, key: String, v: V) -> Option<V> {
    match entries.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
        Ok(i) => entries
            .get_mut(i)
            .map(|(_, old)| core::mem::replace(old, v)),
        Err(i) => {
            entries.insert(i, (key, v));
            None
        }
    }
}

/// A map from string keys to values, sorted by key, each key at most once.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMap<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            entries: Vec::new(),
        }
    }
}

impl<V> KeyMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        String: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
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
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        String: Borrow<Q>,
    {
        let i = self.find(key).ok()?;
        self.entries.get(i).map(|(_, v)| v)
    }

    /// The value of `key`, mutable.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        String: Borrow<Q>,
    {
        let i = self.find(key).ok()?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        String: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Set `key` to `v`; the previous value, if any.
    pub fn insert(&mut self, key: String, v: V) -> Option<V> {
        insert_sorted(&mut self.entries, key, v)
    }

    /// Remove `key`; its value, if it was present.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        String: Borrow<Q>,
    {
        let i = self.find(key).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// Keep only the entries for which `keep` returns true.
    pub fn retain<F: FnMut(&String, &mut V) -> bool>(&mut self, mut keep: F) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<V: fmt::Debug> fmt::Debug for KeyMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> FromIterator<(String, V)> for KeyMap<V> {
    /// A later duplicate key replaces an earlier one.
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut m = KeyMap::new();
        m.extend(iter);
        m
    }
}

impl<V> Extend<(String, V)> for KeyMap<V> {
    fn extend<I: IntoIterator<Item = (String, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<V> IntoIterator for KeyMap<V> {
    type Item = (String, V);
    type IntoIter = alloc::vec::IntoIter<(String, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, V> IntoIterator for &'a KeyMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = core::iter::Map<
        core::slice::Iter<'a, (String, V)>,
        fn(&'a (String, V)) -> (&'a String, &'a V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<V: FromWire> FromWire for KeyMap<V> {
    fn placeholder() -> Self {
        Self::default()
    }

    fn from_wire(v: &Value) -> Result<Self, WireError> {
        // The object's members are sorted and unique already: no search, no sort.
        let mut entries = Vec::new();
        for (k, x) in wire::map(v)? {
            entries.push((k.clone(), V::from_wire(x)?));
        }
        Ok(KeyMap { entries })
    }
}

impl<V: ToWire> ToWire for KeyMap<V> {
    fn to_wire(&self) -> Value {
        let mut m = Map::new();
        for (k, x) in self {
            m.insert(k.clone(), x.to_wire());
        }
        Value::Object(m)
    }
}

impl<V: serde::Serialize> serde::Serialize for KeyMap<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, V: serde::Deserialize<'de>> serde::Deserialize<'de> for KeyMap<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through the standard map (for the server and tests, never in the SDK).
        let m = alloc::collections::BTreeMap::<String, V>::deserialize(d)?;
        Ok(KeyMap {
            entries: m.into_iter().collect(),
        })
    }
}

/// The same schema as `BTreeMap<String, V>`.
#[cfg(feature = "schema")]
impl<V: schemars::JsonSchema> schemars::JsonSchema for KeyMap<V> {
    fn is_referenceable() -> bool {
        <alloc::collections::BTreeMap<String, V> as schemars::JsonSchema>::is_referenceable()
    }

    fn schema_name() -> String {
        <alloc::collections::BTreeMap<String, V> as schemars::JsonSchema>::schema_name()
    }

    fn schema_id() -> alloc::borrow::Cow<'static, str> {
        <alloc::collections::BTreeMap<String, V> as schemars::JsonSchema>::schema_id()
    }

    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        <alloc::collections::BTreeMap<String, V> as schemars::JsonSchema>::json_schema(gen)
    }
}
