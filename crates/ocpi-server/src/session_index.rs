//! Which transaction an OCPI session id names. Session ids are hashes of (station, transaction)
//! ([`crate::sessions::session_id`]) and cannot be read back, so a Receiver call naming a
//! session (STOP_SESSION, charging profiles, driver messages, session limits) would otherwise
//! read every transaction of every station the partner can see to find one. Every session we
//! build for a partner (push or list) is remembered here; a session id not met since start-up is
//! found the slow way once and remembered then.
//!
//! Only a hint: [`crate::sessions::find`] checks the id against the transaction it names and
//! applies the same visibility and token checks as the scan, so a stale or evicted entry can
//! only make a lookup slower, never show a partner another partner's session.

use std::sync::Mutex;

use hashlink::LruCache;
use unicharge_core::StationId;

/// Session ids remembered (~150 bytes each).
const CAPACITY: usize = 200_000;

pub struct SessionIndex(Mutex<LruCache<String, (StationId, String)>>);

impl Default for SessionIndex {
    fn default() -> Self {
        SessionIndex(Mutex::new(LruCache::new(CAPACITY)))
    }
}

impl SessionIndex {
    pub fn remember(&self, session_id: &str, station: &StationId, transaction_id: &str) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(session_id).is_none() {
            map.insert(
                session_id.to_owned(),
                (station.clone(), transaction_id.to_owned()),
            );
        }
    }

    pub fn get(&self, session_id: &str) -> Option<(StationId, String)> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(session_id).cloned()
    }
}
