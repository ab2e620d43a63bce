//! A short-lived memory of verified Basic credentials, so that a reconnect storm (a site's
//! router rebooting, a CSMS restart of the load balancer) costs a keyed digest per station
//! instead of an Argon2 run each.
//!
//! What is kept per station: an HMAC-SHA256 of the password under a key drawn at start and never
//! stored (not the password, and nothing that could be checked offline without that key), a
//! digest of the password hash it was verified against, and an expiry. A changed password hash
//! (rotation, operator reset) no longer matches, so the entry is ignored and replaced.

use std::collections::HashMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use unicharge_core::StationId;

/// Stations remembered at most; beyond it, expired entries are dropped, then nothing is added.
const MAX_ENTRIES: usize = 200_000;

#[derive(Debug)]
struct Entry {
    credential: [u8; 32],
    password_hash: [u8; 32],
    expires: Instant,
}

/// Verified credentials, by station.
pub struct CredentialCache {
    key: [u8; 32],
    ttl: Duration,
    entries: HashMap<StationId, Entry>,
}

impl CredentialCache {
    /// A cache whose entries live `ttl` (zero: remembers nothing).
    pub fn new(ttl: Duration) -> Self {
        let mut key = [0u8; 32];
        if openssl::rand::rand_bytes(&mut key).is_err() {
            // No randomness: remember nothing rather than use a guessable key.
            return CredentialCache {
                key,
                ttl: Duration::ZERO,
                entries: HashMap::new(),
            };
        }
        CredentialCache {
            key,
            ttl,
            entries: HashMap::new(),
        }
    }

    /// True if `password` was verified for `station` against `password_hash` within the TTL.
    pub fn hit(
        &self,
        station: &StationId,
        password: &str,
        password_hash: &str,
        now: Instant,
    ) -> bool {
        let Some(entry) = self.entries.get(station) else {
            return false;
        };
        entry.expires > now
            && entry.password_hash == fingerprint(password_hash)
            && constant_time_eq(&entry.credential, &self.credential(station, password))
    }

    /// Remember that `password` is right for `station` while its hash is `password_hash`.
    pub fn insert(
        &mut self,
        station: &StationId,
        password: &str,
        password_hash: &str,
        now: Instant,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(station) {
            self.entries.retain(|_, e| e.expires > now);
            if self.entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        let entry = Entry {
            credential: self.credential(station, password),
            password_hash: fingerprint(password_hash),
            expires: now + self.ttl,
        };
        self.entries.insert(station.clone(), entry);
    }

    /// Forget a station's credential (it failed, or its password changed).
    pub fn forget(&mut self, station: &StationId) {
        self.entries.remove(station);
    }

    fn credential(&self, station: &StationId, password: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(station.as_str().as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

fn fingerprint(password_hash: &str) -> [u8; 32] {
    Sha256::digest(password_hash.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp1() -> StationId {
        StationId::new("CP1").unwrap()
    }

    #[test]
    fn a_verified_credential_is_remembered_until_it_expires() {
        let mut cache = CredentialCache::new(Duration::from_secs(600));
        let now = Instant::now();
        assert!(!cache.hit(&cp1(), "secret", "$argon2id$h1", now));
        cache.insert(&cp1(), "secret", "$argon2id$h1", now);
        assert!(cache.hit(&cp1(), "secret", "$argon2id$h1", now));
        assert!(!cache.hit(&cp1(), "Secret", "$argon2id$h1", now));
        assert!(!cache.hit(
            &StationId::new("CP2").unwrap(),
            "secret",
            "$argon2id$h1",
            now
        ));
        assert!(!cache.hit(
            &cp1(),
            "secret",
            "$argon2id$h1",
            now + Duration::from_secs(601)
        ));
    }

    #[test]
    fn a_changed_password_hash_invalidates_the_entry() {
        let mut cache = CredentialCache::new(Duration::from_secs(600));
        let now = Instant::now();
        cache.insert(&cp1(), "secret", "$argon2id$h1", now);
        assert!(!cache.hit(&cp1(), "secret", "$argon2id$h2", now));
    }

    #[test]
    fn the_password_itself_is_not_kept() {
        let mut cache = CredentialCache::new(Duration::from_secs(600));
        cache.insert(&cp1(), "secret-password", "$argon2id$h1", Instant::now());
        assert!(!format!("{:?}", cache.entries).contains("secret-password"));
        let disabled = CredentialCache::new(Duration::ZERO);
        let mut disabled = disabled;
        disabled.insert(&cp1(), "secret", "h", Instant::now());
        assert!(!disabled.hit(&cp1(), "secret", "h", Instant::now()));
    }
}
