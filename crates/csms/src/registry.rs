//! Which connection task serves which station.
//!
//! Touched only when a station connects or disconnects and when the CSMS starts a call — never
//! on the path of a message a station sends — so one mutex serves 100k stations without
//! contention.
//!
//! In a cluster (ADR 0048) the registry also tells the [`Cluster`] when this node starts and
//! stops holding a station's connection, so that other nodes can route their calls here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use unicharge_core::StationId;

use crate::cluster::Cluster;
use crate::connection::ConnectionHandle;

#[derive(Default)]
pub struct Registry {
    connections: Mutex<HashMap<StationId, ConnectionHandle>>,
    generations: AtomicU64,
    /// The other nodes, when this one is part of a cluster (set once, at start).
    cluster: OnceLock<Arc<dyn Cluster>>,
}

impl Registry {
    /// A number no other connection got: tells an old connection of a station from its successor.
    pub fn next_generation(&self) -> u64 {
        self.generations.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Make `handle` the station's connection; returns the one it replaces, if any.
    pub fn insert(&self, handle: ConnectionHandle) -> Option<ConnectionHandle> {
        let (station, version) = (handle.station_id.clone(), handle.version);
        let replaced = self.lock().insert(station.clone(), handle);
        if let Some(cluster) = self.cluster.get() {
            cluster.held(&station, version);
        }
        replaced
    }

    /// Forget the station's connection if it is still `generation`. True if it was.
    pub fn remove(&self, station: &StationId, generation: u64) -> bool {
        let mut map = self.lock();
        if map.get(station).map(|h| h.generation) == Some(generation) {
            map.remove(station);
            drop(map);
            if let Some(cluster) = self.cluster.get() {
                cluster.released(station);
            }
            true
        } else {
            false
        }
    }

    /// Join a cluster: from now on connections starting and ending here are announced to it,
    /// and those already held are announced at once. False if a cluster was joined before.
    pub fn join(&self, cluster: Arc<dyn Cluster>) -> bool {
        if self.cluster.set(cluster.clone()).is_err() {
            return false;
        }
        for handle in self.handles() {
            cluster.held(&handle.station_id, handle.version);
        }
        true
    }

    /// The cluster this node is part of, if any.
    pub fn cluster(&self) -> Option<&Arc<dyn Cluster>> {
        self.cluster.get()
    }

    pub fn get(&self, station: &StationId) -> Option<ConnectionHandle> {
        self.lock().get(station).cloned()
    }

    pub fn stations(&self) -> Vec<StationId> {
        let mut ids: Vec<_> = self.lock().keys().cloned().collect();
        ids.sort();
        ids
    }

    pub fn handles(&self) -> Vec<ConnectionHandle> {
        self.lock().values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StationId, ConnectionHandle>> {
        // A panic while holding this lock cannot leave the map inconsistent (single operations).
        self.connections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
