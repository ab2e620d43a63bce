//! A bounded map kept coherent with a table by one rule: whoever changes the table changes the
//! map after its commit (`put` / `remove`), and a reader that missed may `fill` only if nothing
//! changed the map since it looked (its generation), so a row read before a commit can never
//! overwrite what that commit put.

use std::hash::Hash;
use std::sync::Mutex;

use hashlink::LruCache;

pub(in crate::sqlite) struct Coherent<K: Hash + Eq, V> {
    inner: Mutex<Inner<K, V>>,
}

struct Inner<K: Hash + Eq, V> {
    entries: LruCache<K, V>,
    /// Bumped by every `put`, `remove` and `retain`; a `fill` checks it did not move.
    generation: u64,
}

impl<K: Hash + Eq + Clone, V: Clone> Coherent<K, V> {
    /// At most `capacity` entries; the least recently used one goes first.
    pub fn new(capacity: usize) -> Self {
        Coherent {
            inner: Mutex::new(Inner {
                entries: LruCache::new(capacity.max(1)),
                generation: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // A panic while holding the lock cannot leave the map half-changed (every change is one
        // call into LruCache), so a poisoned lock is still a usable one.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached value and the generation it was looked up at (for a later `fill`).
    pub fn get(&self, key: &K) -> (Option<V>, u64) {
        let mut inner = self.lock();
        let value = inner.entries.get(key).cloned();
        (value, inner.generation)
    }

    /// A reader's miss, read from the table: kept only if nothing changed since `seen`.
    pub fn fill(&self, key: K, value: V, seen: u64) {
        let mut inner = self.lock();
        if inner.generation == seen && !inner.entries.contains_key(&key) {
            inner.entries.insert(key, value);
        }
    }

    /// The committed value (writer side).
    pub fn put(&self, key: K, value: V) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.insert(key, value);
    }

    /// Forget `key` (writer side): the next read goes to the table.
    pub fn remove(&self, key: &K) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.remove(key);
    }

    /// Keep only the entries `keep` accepts (writer side).
    pub fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) {
        let mut inner = self.lock();
        inner.generation += 1;
        let doomed: Vec<K> = inner
            .entries
            .iter()
            .filter(|(k, v)| !keep(k, v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            inner.entries.remove(&k);
        }
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_after_a_change_is_dropped_and_the_size_is_bounded() {
        let map = Coherent::new(2);
        let (missing, seen) = map.get(&1);
        assert_eq!(missing, None::<&str>);
        map.put(1, "committed");
        map.fill(1, "read before the commit", seen);
        assert_eq!(map.get(&1).0, Some("committed"));
        map.remove(&1);
        let (_, seen) = map.get(&1);
        map.fill(1, "read after", seen);
        assert_eq!(map.get(&1).0, Some("read after"));
        map.put(2, "b");
        map.put(3, "c");
        assert_eq!(map.len(), 2);
        map.retain(|k, _| *k != 3);
        assert_eq!(map.len(), 1);
    }
}
