//! Which node holds which station's connection: a NATS key-value bucket, and this node's mirror
//! of it (ADR 0048).
//!
//! Each node puts `station → {node, version}` when a station connects to it, deletes the entry
//! when the station leaves (only if the entry is still its own), and puts every entry it holds
//! again every third of the TTL. The bucket's `max_age` is the TTL: the entries of a node that
//! died stop being renewed and age out. Expiry by `max_age` sends no event to watchers, so the
//! mirror keeps the time each entry was written and treats an entry older than the TTL as gone —
//! a dead node's stations count as not connected one TTL after its last renewal at the latest
//! (sooner for each one that reconnects elsewhere: its new entry replaces the old).
//!
//! The mirror is a map in memory, fed by a watch on the whole bucket, so the question asked
//! before every operation ("who holds this station?") never waits on the network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::kv;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use unicharge_core::StationId;
use unicharge_csms::cluster::Holder;
use unicharge_ocpp::OcppVersion;

/// What the bucket keeps per station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub node: String,
    /// `"1.6"` or `"2.0.1"`.
    pub version: String,
}

impl Entry {
    fn holder(&self) -> Option<Holder> {
        let version = OcppVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == self.version)?;
        Some(Holder {
            node: self.node.clone(),
            version,
        })
    }
}

/// One mirrored entry: who holds the station, the revision (to delete only our own entry) and
/// when it was written.
#[derive(Debug, Clone)]
struct Seen {
    entry: Entry,
    revision: u64,
    written: Instant,
}

/// This node's view of the bucket.
pub struct Mirror {
    node: String,
    ttl: Duration,
    entries: Mutex<HashMap<StationId, Seen>>,
}

impl Mirror {
    pub fn new(node: String, ttl: Duration) -> Self {
        Mirror {
            node,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The other node that holds `station`, if a fresh entry says one does.
    pub fn holder(&self, station: &StationId) -> Option<Holder> {
        let entries = self.lock();
        let seen = entries.get(station)?;
        (seen.entry.node != self.node && seen.written.elapsed() < self.ttl)
            .then(|| seen.entry.holder())
            .flatten()
    }

    /// Stations other nodes hold (fresh entries only).
    pub fn held_elsewhere(&self) -> Vec<StationId> {
        self.lock()
            .iter()
            .filter(|(_, s)| s.entry.node != self.node && s.written.elapsed() < self.ttl)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The revision of the station's entry if it is this node's.
    fn own_revision(&self, station: &StationId) -> Option<u64> {
        let entries = self.lock();
        let seen = entries.get(station)?;
        (seen.entry.node == self.node).then_some(seen.revision)
    }

    /// Apply one watched change. `age` is how long ago the server stored it.
    fn apply(&self, station: StationId, change: Change, age: Duration) {
        let mut entries = self.lock();
        match change {
            Change::Put { entry, revision } => {
                let written = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
                entries.insert(
                    station,
                    Seen {
                        entry,
                        revision,
                        written,
                    },
                );
            }
            Change::Gone => {
                entries.remove(&station);
            }
        }
        metrics::gauge!("cluster_stations_mirrored").set(entries.len() as f64);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StationId, Seen>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

enum Change {
    Put { entry: Entry, revision: u64 },
    Gone,
}

/// What the CSMS announces (from its registry, which must not block).
#[derive(Debug)]
pub enum Announcement {
    Held(StationId, OcppVersion),
    Released(StationId),
}

/// A station id as a bucket key. NATS keys allow `[-/_=.a-zA-Z0-9]`; OCPP identities may hold
/// other characters (and `.` would split the key into tokens), so every byte outside
/// `[A-Za-z0-9_-]` is written `=XX` (upper-case hex), `=` included: the mapping is one to one.
pub fn key_of(station: &StationId) -> String {
    let mut key = String::with_capacity(station.as_str().len());
    for byte in station.as_str().bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            key.push(byte as char);
        } else {
            key.push_str(&format!("={byte:02X}"));
        }
    }
    key
}

/// The station id of a bucket key written by [`key_of`]; `None` for anything else.
pub fn station_of(key: &str) -> Option<StationId> {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = key.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()?.parse().ok()
}

/// Keep the mirror up to date from a watch on the whole bucket, until the watch ends.
pub async fn follow(store: kv::Store, mirror: Arc<Mirror>) {
    loop {
        let mut watch = match store.watch_all().await {
            Ok(watch) => watch,
            Err(e) => {
                tracing::warn!(error = %e, "cluster: cannot watch the station bucket; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        loop {
            // Renewals arrive every third of the TTL while any node holds a station; a watch
            // silent for a whole TTL may be stuck on a stream NATS lost (a restarted server):
            // start a new one, which first replays the current entries.
            let item = match tokio::time::timeout(mirror.ttl, watch.next()).await {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(_) => {
                    tracing::debug!("cluster: station bucket watch silent for a TTL; restarting");
                    break;
                }
            };
            let entry = match item {
                Ok(entry) => entry,
                Err(e) => {
                    tracing::warn!(error = %e, "cluster: station bucket watch failed; restarting");
                    break;
                }
            };
            let Some(station) = station_of(&entry.key) else {
                tracing::warn!(key = %entry.key.chars().take(80).collect::<String>(),
                    "cluster: a key in the station bucket that no node writes; ignored");
                continue;
            };
            let age = chrono::Utc::now()
                .signed_duration_since(entry.created)
                .to_std()
                .unwrap_or_default();
            let change = match entry.operation {
                kv::Operation::Put => match serde_json::from_slice::<Entry>(&entry.value) {
                    Ok(value) => Change::Put {
                        entry: value,
                        revision: entry.revision,
                    },
                    Err(e) => {
                        tracing::warn!(station = %station, error = %e,
                            "cluster: an unreadable entry in the station bucket; ignored");
                        continue;
                    }
                },
                kv::Operation::Delete | kv::Operation::Purge => Change::Gone,
            };
            mirror.apply(station, change, age);
        }
    }
}

/// Write this node's announcements to the bucket, in order.
pub async fn announce(
    store: kv::Store,
    mirror: Arc<Mirror>,
    node: String,
    mut announcements: mpsc::UnboundedReceiver<Announcement>,
) {
    while let Some(announcement) = announcements.recv().await {
        match announcement {
            Announcement::Held(station, version) => {
                put(&store, &node, &station, version).await;
            }
            Announcement::Released(station) => {
                // Only our own entry: the station may already be held by another node.
                if let Some(revision) = mirror.own_revision(&station) {
                    if let Err(e) = store
                        .delete_expect_revision(key_of(&station), Some(revision))
                        .await
                    {
                        tracing::debug!(station = %station, error = %e,
                            "cluster: entry not deleted (changed since; another node holds it)");
                    }
                }
            }
        }
    }
}

/// Put one entry of ours. False if NATS did not take it (logged).
pub async fn put(store: &kv::Store, node: &str, station: &StationId, version: OcppVersion) -> bool {
    let entry = Entry {
        node: node.to_string(),
        version: version.as_str().to_string(),
    };
    let value = serde_json::to_vec(&entry).unwrap_or_default();
    match store.put(key_of(station), value.into()).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(station = %station, error = %e,
                "cluster: cannot announce the station; other nodes reach it after the next renewal");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_one_and_valid_nats_keys() {
        for id in ["CP001", "cp.7", "a=b", "*:+|@", "__--"] {
            let station: StationId = id.parse().unwrap();
            let key = key_of(&station);
            assert!(
                key.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'='),
                "{key}"
            );
            assert_eq!(station_of(&key), Some(station), "{id}");
        }
        assert_eq!(key_of(&"cp.7".parse().unwrap()), "cp=2E7");
        assert_eq!(station_of("bad=Z"), None);
    }

    proptest::proptest! {
        /// Any station id survives the key encoding, and no key, however made, panics the
        /// decoder (keys come from a bucket any NATS client may write).
        #[test]
        fn key_encoding_round_trips_and_decoding_never_panics(
            id in "[A-Za-z0-9*_=:+|@.-]{1,48}",
            junk in "\\PC{0,60}",
        ) {
            let station: StationId = id.parse().unwrap();
            proptest::prop_assert_eq!(station_of(&key_of(&station)), Some(station));
            let _ = station_of(&junk);
        }
    }

    #[test]
    fn an_entry_older_than_the_ttl_is_gone_and_our_own_is_not_elsewhere() {
        let mirror = Mirror::new("n1".into(), Duration::from_secs(30));
        let put = |node: &str| Change::Put {
            entry: Entry {
                node: node.into(),
                version: "2.0.1".into(),
            },
            revision: 4,
        };
        let (a, b, c): (StationId, StationId, StationId) = (
            "A".parse().unwrap(),
            "B".parse().unwrap(),
            "C".parse().unwrap(),
        );
        mirror.apply(a.clone(), put("n2"), Duration::from_secs(1));
        mirror.apply(b.clone(), put("n2"), Duration::from_secs(31));
        mirror.apply(c.clone(), put("n1"), Duration::ZERO);
        assert_eq!(
            mirror.holder(&a),
            Some(Holder {
                node: "n2".into(),
                version: OcppVersion::V201
            })
        );
        assert_eq!(mirror.holder(&b), None, "aged out");
        assert_eq!(mirror.holder(&c), None, "ours");
        assert_eq!(mirror.own_revision(&c), Some(4));
        assert_eq!(mirror.held_elsewhere(), vec![a.clone()]);
        mirror.apply(a.clone(), Change::Gone, Duration::ZERO);
        assert_eq!(mirror.holder(&a), None);
    }
}
