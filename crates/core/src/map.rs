//! Small ordered collections backed by sorted `Vec`s.
//!
//! [`VecMap`] and [`VecSet`] keep their entries sorted by key and find them by binary search.
//! They iterate in ascending key order, like `BTreeMap`/`BTreeSet`, so state snapshots and
//! event orders stay deterministic. The maps of a session are small (members, tracks,
//! subscriptions, listeners), and sorted vectors compile to far less code than a B-tree, which
//! matters for the WebAssembly bundle. A map keeps its keys and its values in two vectors, so
//! the key search and key moves are one body per key type, shared by all its value types. The
//! values are boxed: moving a value in or out of the middle of its vector moves one pointer,
//! with the same code for every value type.
//!
//! Lookups are `O(log n)`; inserting or removing in the middle moves the entries behind it.
//! Building from an iterator inserts item by item: input in key order only appends.

use crate::prelude::*;
use alloc::borrow::Borrow;
use alloc::fmt;
use core::cmp::Ordering;
use core::ops::Index;

use serde::{Serialize, Serializer};

/// A map with keys kept in ascending order: the keys in one `Vec`, the (boxed) values at the
/// same positions in another, so the key search is shared by every map with the same key type
/// and the value moves by every map.
#[derive(Clone, PartialEq, Eq)]
pub struct VecMap<K, V> {
    keys: Vec<K>,
    vals: Vec<Box<V>>,
}

/// Iterator over `(&K, &V)` in key order.
pub type Iter<'a, K, V> = core::iter::Zip<
    alloc::slice::Iter<'a, K>,
    core::iter::Map<alloc::slice::Iter<'a, Box<V>>, fn(&'a Box<V>) -> &'a V>,
>;

/// The value in its box (a named function, so that [`Iter`] can name the mapping).
#[allow(clippy::borrowed_box)]
fn unbox<V>(b: &Box<V>) -> &V {
    b
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> VecMap<K, V> {
    /// An empty map.
    pub const fn new() -> Self {
        Self {
            keys: Vec::new(),
            vals: Vec::new(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.vals.clear();
    }

    /// `(&key, &value)` pairs in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        self.keys
            .iter()
            .zip(self.vals.iter().map(unbox as fn(&Box<V>) -> &V))
    }

    /// `(&key, &mut value)` pairs in key order.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&K, &mut V)> {
        self.keys.iter().zip(self.vals.iter_mut().map(|v| &mut **v))
    }

    /// Keys in ascending order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.keys.iter()
    }

    /// Values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.vals.iter().map(unbox as fn(&Box<V>) -> &V)
    }

    /// Mutable values in key order.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.vals.iter_mut().map(|v| &mut **v)
    }

    /// Keeps only the entries for which `keep` returns `true` (order is kept).
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.retain_dyn(&mut keep);
    }

    /// The body of [`VecMap::retain`]: one per map type, whatever the closure. An entry that
    /// is not kept is removed at once, through the removals the map's key and value vectors
    /// already have (the maps are small).
    #[inline(never)]
    fn retain_dyn(&mut self, keep: &mut dyn FnMut(&K, &mut V) -> bool) {
        let mut i = 0;
        while i < self.keys.len() {
            if keep(&self.keys[i], &mut self.vals[i]) {
                i += 1;
            } else {
                self.keys.remove(i);
                self.vals.remove(i);
            }
        }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// The value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        find(&self.keys, key)
            .ok()
            .and_then(|i| self.vals.get(i))
            .map(unbox)
    }

    /// The value of `key`, mutably.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        find(&self.keys, key)
            .ok()
            .and_then(|i| self.vals.get_mut(i))
            .map(|v| &mut **v)
    }

    /// Whether `key` has an entry.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        find(&self.keys, key).is_ok()
    }

    /// Sets `key` to `value`; returns the previous value (the stored key is kept, as
    /// `BTreeMap::insert` does).
    #[inline(never)]
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        insert_boxed(&mut self.keys, &mut self.vals, key, Box::new(value)).map(|b| *b)
    }

    /// Sets `key` to `value`, dropping the previous value in place (no move of it out of its
    /// box, for callers that do not need it).
    #[inline(never)]
    pub fn set(&mut self, key: K, value: V) {
        insert_boxed(&mut self.keys, &mut self.vals, key, Box::new(value));
    }

    /// Removes `key`, dropping its value in place; returns whether it had an entry.
    #[inline(never)]
    pub fn discard<Q>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        match remove_key(&mut self.keys, key) {
            Some(i) => {
                self.vals.remove(i);
                true
            }
            None => false,
        }
    }

    /// Removes `key`; returns its value.
    #[inline(never)]
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let i = remove_key(&mut self.keys, key)?;
        Some(*self.vals.remove(i))
    }

    /// The value of `key`, inserting `make()` first if there is none (like
    /// `entry(key).or_insert_with(make)`).
    #[inline(never)]
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match insert_key(&mut self.keys, key) {
            Ok(i) => i,
            Err(i) => {
                self.vals.insert(i, Box::new(make()));
                i
            }
        };
        &mut self.vals[i]
    }
}

/// Sets `key` to the boxed `value` in the parallel `keys` and `vals`; returns the previous box.
/// Only boxes move here, so the bodies for one key type are the same whatever the values.
#[inline(never)]
fn insert_boxed<K: Ord, V>(
    keys: &mut Vec<K>,
    vals: &mut Vec<Box<V>>,
    key: K,
    value: Box<V>,
) -> Option<Box<V>> {
    match insert_key(keys, key) {
        Ok(i) => Some(core::mem::replace(&mut vals[i], value)),
        Err(i) => {
            vals.insert(i, value);
            None
        }
    }
}

/// `Ok(index)` of `key` in the sorted `keys` (the stored key is kept), or `Err(index)` where
/// it was inserted: one body per key type, whatever the values.
#[inline(never)]
fn insert_key<K: Ord>(keys: &mut Vec<K>, key: K) -> Result<usize, usize> {
    let found = find(keys, &key);
    if let Err(i) = found {
        keys.insert(i, key);
    }
    found
}

/// Removes `key` from the sorted `keys`; returns where it was: one body per key type.
#[inline(never)]
fn remove_key<K, Q>(keys: &mut Vec<K>, key: &Q) -> Option<usize>
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    let i = find(keys, key).ok()?;
    keys.remove(i);
    Some(i)
}

/// `Ok(index)` of `key` in the sorted `keys`, or `Err(index)` where it would be inserted: one
/// body per key type, whatever the values.
#[inline(never)]
fn find<K, Q>(keys: &[K], key: &Q) -> Result<usize, usize>
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    search(keys.len(), &|i| match keys.get(i) {
        Some(k) => key_cmp(k.borrow(), key),
        None => Ordering::Greater,
    })
}

/// Compares two keys: one body per key type (not one per map type), as every map's search
/// calls it instead of inlining the comparison.
#[inline(never)]
fn key_cmp<Q: Ord + ?Sized>(a: &Q, b: &Q) -> Ordering {
    a.cmp(b)
}

/// Binary search over `len` sorted items, where `cmp(i)` compares item `i` with the key
/// sought: `Ok(i)` when found, else `Err(i)` where it would go. One non-generic body for every
/// map.
#[inline(never)]
fn search(len: usize, cmp: &dyn Fn(usize) -> Ordering) -> Result<usize, usize> {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match cmp(mid) {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    /// Builds the map; for equal keys the last value wins (as collecting a `BTreeMap` does).
    /// Each item goes through [`VecMap::insert`] (shared with every other insertion of the
    /// map type), so input already in key order only appends.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Self::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = core::iter::Map<
        core::iter::Zip<alloc::vec::IntoIter<K>, alloc::vec::IntoIter<Box<V>>>,
        fn((K, Box<V>)) -> (K, V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.keys.into_iter().zip(self.vals).map(|(k, v)| (k, *v))
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K, V, Q> Index<&Q> for VecMap<K, V>
where
    K: Ord + Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = V;

    /// The value of `key`.
    ///
    /// # Panics
    /// If `key` has no entry (as `BTreeMap` indexing does).
    fn index(&self, key: &Q) -> &V {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no entry for the key"),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    /// Serialises as a map in key order (the same form as a `BTreeMap`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

/// A set with its items kept in ascending order in one `Vec`.
#[derive(Clone, PartialEq, Eq)]
pub struct VecSet<T> {
    map: VecMap<T, ()>,
}

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        Self { map: VecMap::new() }
    }
}

impl<T: Ord> VecSet<T> {
    /// An empty set.
    pub const fn new() -> Self {
        Self { map: VecMap::new() }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Whether `item` is in the set.
    pub fn contains<Q>(&self, item: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.contains_key(item)
    }

    /// Adds `item`; returns whether it was new.
    pub fn insert(&mut self, item: T) -> bool {
        self.map.insert(item, ()).is_none()
    }

    /// Removes `item`; returns whether it was there.
    pub fn remove<Q>(&mut self, item: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.remove(item).is_some()
    }

    /// Items in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + Clone {
        self.map.keys()
    }
}

impl<T: Ord> FromIterator<T> for VecSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self {
            map: iter.into_iter().map(|t| (t, ())).collect(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for VecSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.map.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;

    fn keys<V>(m: &VecMap<String, V>) -> Vec<&str> {
        m.keys().map(String::as_str).collect()
    }

    #[test]
    fn insert_keeps_key_order_and_replaces() {
        let mut m = VecMap::new();
        assert!(m.is_empty());
        for (k, v) in [("m", 1), ("c", 2), ("x", 3), ("a", 4), ("c", 5)] {
            m.insert(k.to_owned(), v);
        }
        assert_eq!(keys(&m), ["a", "c", "m", "x"]);
        assert_eq!(m.len(), 4);
        assert_eq!(m.get("c"), Some(&5));
        assert_eq!(m.insert("c".to_owned(), 6), Some(5));
        assert_eq!(m.insert("b".to_owned(), 7), None);
        assert_eq!(
            m.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(),
            [("a", 4), ("b", 7), ("c", 6), ("m", 1), ("x", 3)]
        );
        assert_eq!(m.values().copied().collect::<Vec<_>>(), [4, 7, 6, 1, 3]);
        assert_eq!(m["m"], 1);
        assert_eq!(m[&"x".to_owned()], 3);
    }

    #[test]
    fn remove_get_mut_and_retain() {
        let mut m: VecMap<u16, u32> = (0..10u16).map(|k| (k, u32::from(k) * 10)).collect();
        assert_eq!(m.remove(&0), Some(0));
        assert_eq!(m.remove(&9), Some(90));
        assert_eq!(m.remove(&9), None);
        assert_eq!(m.remove(&4), Some(40));
        assert!(!m.contains_key(&4));
        assert!(m.contains_key(&5));
        if let Some(v) = m.get_mut(&5) {
            *v = 55;
        }
        for v in m.values_mut() {
            *v += 1;
        }
        m.retain(|k, v| {
            *v += 1;
            k % 2 == 1
        });
        assert_eq!(
            m.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            [(1, 12), (3, 32), (5, 57), (7, 72)]
        );
        for (k, v) in m.iter_mut() {
            *v = u32::from(*k);
        }
        assert_eq!(
            m.into_iter().collect::<Vec<_>>(),
            [(1, 1), (3, 3), (5, 5), (7, 7)]
        );
    }

    #[test]
    fn set_and_discard_drop_in_place() {
        let mut m: VecMap<String, Vec<u8>> = VecMap::new();
        m.set("b".into(), vec![1]);
        m.set("a".into(), vec![2]);
        m.set("b".into(), vec![3]);
        assert_eq!(keys(&m), ["a", "b"]);
        assert_eq!(m.get("b"), Some(&vec![3]));
        assert!(m.discard("a"));
        assert!(!m.discard("a"));
        assert_eq!(keys(&m), ["b"]);
    }

    #[test]
    fn get_or_insert_with_inserts_once() {
        let mut m: VecMap<String, Vec<u8>> = VecMap::new();
        m.get_or_insert_with("b".into(), Vec::new).push(1);
        m.get_or_insert_with("a".into(), Vec::new).push(2);
        m.get_or_insert_with("b".into(), || unreachable!()).push(3);
        assert_eq!(keys(&m), ["a", "b"]);
        assert_eq!(m.get("b"), Some(&vec![1, 3]));
    }

    #[test]
    fn search_matches_the_standard_binary_search() {
        for len in 0..12usize {
            let items: Vec<usize> = (0..len).map(|i| i * 2 + 1).collect();
            for key in 0..=(len * 2 + 2) {
                let got = search(len, &|i| items[i].cmp(&key));
                assert_eq!(got, items.binary_search(&key), "len {len} key {key}");
            }
        }
    }

    #[test]
    fn binary_search_edges() {
        let mut m: VecMap<i32, ()> = VecMap::new();
        assert_eq!(m.get(&0), None);
        assert_eq!(m.remove(&0), None);
        m.insert(5, ());
        // Before the first, after the last, equal to the only one.
        m.insert(1, ());
        m.insert(9, ());
        assert!(m.contains_key(&1) && m.contains_key(&5) && m.contains_key(&9));
        assert!(!m.contains_key(&0) && !m.contains_key(&3) && !m.contains_key(&10));
        assert!(!m.contains_key(&i32::MIN) && !m.contains_key(&i32::MAX));
        m.insert(i32::MAX, ());
        m.insert(i32::MIN, ());
        assert_eq!(
            m.keys().copied().collect::<Vec<_>>(),
            [i32::MIN, 1, 5, 9, i32::MAX]
        );
        assert_eq!(m.remove(&i32::MIN), Some(()));
        assert_eq!(m.remove(&i32::MAX), Some(()));
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [1, 5, 9]);
    }

    #[test]
    fn collect_sorts_and_last_value_wins_like_btreemap() {
        let input = [
            (3, 'a'),
            (1, 'b'),
            (3, 'c'),
            (2, 'd'),
            (1, 'e'),
            (3, 'f'),
            (0, 'g'),
        ];
        let m: VecMap<i32, char> = input.iter().copied().collect();
        let b: BTreeMap<i32, char> = input.iter().copied().collect();
        assert_eq!(
            m.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            b.into_iter().collect::<Vec<_>>()
        );
        // Already sorted input and an empty one.
        let s: VecMap<i32, i32> = (0..5).map(|i| (i, i * 10)).collect();
        assert!(s
            .iter()
            .map(|(k, v)| (*k, *v))
            .eq((0..5).map(|i| (i, i * 10))));
        let e: VecMap<i32, i32> = core::iter::empty().collect();
        assert!(e.is_empty());
        // A larger shuffled input matches BTreeMap exactly.
        let pairs: Vec<(u32, u32)> = (0..500u32).map(|i| ((i * 7919) % 211, i)).collect();
        let m: VecMap<u32, u32> = pairs.iter().copied().collect();
        let b: BTreeMap<u32, u32> = pairs.iter().copied().collect();
        assert!(m.iter().map(|(k, v)| (*k, *v)).eq(b.into_iter()));
    }

    #[test]
    fn collect_matches_btreemap_on_every_small_length() {
        // Every length up to 40 with many duplicates: the order is sorted and the last value
        // of each key wins, exactly as collecting a BTreeMap.
        for len in 0..40usize {
            let pairs: Vec<(usize, usize)> = (0..len).map(|i| ((i * 17 + 5) % 7, i)).collect();
            let m: VecMap<usize, usize> = pairs.iter().copied().collect();
            let b: BTreeMap<usize, usize> = pairs.iter().copied().collect();
            assert!(
                m.iter().map(|(k, v)| (*k, *v)).eq(b.into_iter()),
                "len {len}"
            );
        }
    }

    #[test]
    fn serialises_and_debugs_like_btreemap() {
        let m: VecMap<String, u8> = [("b".to_owned(), 2), ("a".to_owned(), 1)]
            .into_iter()
            .collect();
        let b: BTreeMap<String, u8> = [("b".to_owned(), 2), ("a".to_owned(), 1)]
            .into_iter()
            .collect();
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            serde_json::to_string(&b).expect("json")
        );
        assert_eq!(format!("{m:?}"), format!("{b:?}"));
        let mut m2 = m.clone();
        assert_eq!(m, m2);
        m2.insert("c".into(), 3);
        assert_ne!(m, m2);
        m2.clear();
        assert_eq!(m2, VecMap::default());
    }

    #[test]
    fn set_basics() {
        let mut s: VecSet<&str> = ["b", "a", "b", "c"].into_iter().collect();
        assert_eq!(s.len(), 3);
        assert!(s.contains("a") && s.contains("c") && !s.contains("d"));
        assert!(s.insert("d"));
        assert!(!s.insert("a"));
        assert!(s.remove("b"));
        assert!(!s.remove("b"));
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), ["a", "c", "d"]);
        assert_eq!(format!("{s:?}"), r#"{"a", "c", "d"}"#);
        assert!(!s.is_empty());
        assert!(VecSet::<u8>::new().is_empty());
    }
}
