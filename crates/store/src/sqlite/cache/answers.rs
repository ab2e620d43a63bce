//! Which message ids a station's last answered CALLs had, so that `find_answer` (asked for
//! every state-changing CALL, to recognise a retransmission) reads the table only when the id
//! is one of them.
//!
//! Per station the fingerprints (64-bit hashes) of the ids of its last K stored answers are
//! kept, ~200 bytes a station. They are loaded on the writer thread the first time the station
//! is asked about after a start (so no commit can slip between the read and the install), and
//! the writer adds every answer it commits. The semantics this gives: a retransmission is
//! recognised if its original is among the station's last K answered CALLs. An older duplicate
//! is handled as a new CALL, which is harmless: a TransactionEvent is deduplicated by its seqNo,
//! a meter value by its key and a status by its upsert. A fingerprint match is confirmed by
//! reading the stored answer (a collision or a pruned answer then reads as none).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use hashlink::LruCache;
use unicharge_core::StationId;

pub(in crate::sqlite) struct Fingerprints {
    per_station: usize,
    rings: Mutex<LruCache<StationId, Ring>>,
}

/// The last `per_station` fingerprints, the oldest overwritten first.
struct Ring {
    hashes: Vec<u64>,
    next: usize,
}

impl Ring {
    fn push(&mut self, hash: u64, capacity: usize) {
        if self.hashes.len() < capacity {
            self.hashes.push(hash);
        } else if capacity > 0 {
            self.hashes[self.next] = hash;
            self.next = (self.next + 1) % capacity;
        }
    }
}

fn fingerprint(message_id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    message_id.hash(&mut hasher);
    hasher.finish()
}

impl Fingerprints {
    /// `per_station` ids per station (K), for at most `stations` stations (the least recently
    /// asked about is forgotten and reloaded when asked about again).
    pub fn new(per_station: usize, stations: usize) -> Self {
        Fingerprints {
            per_station,
            rings: Mutex::new(LruCache::new(stations.max(1))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<StationId, Ring>> {
        self.rings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `message_id` is among the station's last K; `None`: not loaded yet.
    pub fn contains(&self, station: &StationId, message_id: &str) -> Option<bool> {
        let hash = fingerprint(message_id);
        self.lock()
            .get(station)
            .map(|ring| ring.hashes.contains(&hash))
    }

    pub fn is_loaded(&self, station: &StationId) -> bool {
        self.lock().contains_key(station)
    }

    /// Writer side: install the station's stored ids, oldest first.
    pub fn load<'a>(&self, station: &StationId, ids: impl IntoIterator<Item = &'a str>) {
        let mut ring = Ring {
            hashes: Vec::with_capacity(self.per_station),
            next: 0,
        };
        for id in ids {
            ring.push(fingerprint(id), self.per_station);
        }
        self.lock().insert(station.clone(), ring);
    }

    /// Writer side, after a commit: the station answered `message_id`.
    pub fn record(&self, station: &StationId, message_id: &str) {
        if let Some(ring) = self.lock().get_mut(station) {
            ring.push(fingerprint(message_id), self.per_station);
        }
    }

    /// The station's answers were deleted.
    pub fn forget(&self, station: &StationId) {
        self.lock().remove(station);
    }

    pub fn per_station(&self) -> usize {
        self.per_station
    }

    pub fn stations(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_k_ids_are_recognised() {
        let prints = Fingerprints::new(2, 10);
        let cp = StationId::new("CP1").unwrap();
        assert_eq!(prints.contains(&cp, "a"), None);
        prints.load(&cp, ["a", "b", "c"]);
        assert_eq!(prints.contains(&cp, "a"), Some(false));
        assert_eq!(prints.contains(&cp, "b"), Some(true));
        prints.record(&cp, "d");
        assert_eq!(prints.contains(&cp, "b"), Some(false));
        assert_eq!(prints.contains(&cp, "c"), Some(true));
        assert_eq!(prints.contains(&cp, "d"), Some(true));
    }
}
