//! Backing off password guessing, per station and per source address.
//!
//! Every wrong Basic-auth password counts against the station it was tried for and against the
//! address it came from. After `threshold` failures within `window`, the key is locked: further
//! attempts are refused with 401 before any Argon2 work. Each lockout of a key lasts twice the
//! previous one, up to a maximum; a key idle for longer than that forgets its history.
//!
//! The table is bounded: when it is full, expired entries are dropped, and if it is still full
//! new keys are not tracked (the per-station keys of real stations are then still held).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;
use unicharge_core::StationId;

/// Keys tracked at most; far above any real fleet's failing stations.
const MAX_KEYS: usize = 65_536;

/// What failures are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Station(StationId),
    Address(IpAddr),
}

/// How failures turn into lockouts.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub per_station: u32,
    pub per_address: u32,
    pub window: Duration,
    pub lockout: Duration,
    pub lockout_max: Duration,
}

#[derive(Debug)]
struct Entry {
    window_start: Instant,
    failures: u32,
    locked_until: Option<Instant>,
    next_lockout: Duration,
    last_seen: Instant,
}

/// Failure counts and lockouts.
#[derive(Debug)]
pub struct Backoff {
    policy: Policy,
    entries: HashMap<Key, Entry>,
}

impl Backoff {
    pub fn new(policy: Policy) -> Self {
        Backoff {
            policy,
            entries: HashMap::new(),
        }
    }

    /// How long `key` stays locked, if it is.
    pub fn locked(&self, key: &Key, now: Instant) -> Option<Duration> {
        let until = self.entries.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// Count a failure; returns the lockout it started, if it started one.
    pub fn record_failure(&mut self, key: Key, now: Instant) -> Option<Duration> {
        let threshold = match key {
            Key::Station(_) => self.policy.per_station,
            Key::Address(_) => self.policy.per_address,
        }
        .max(1);
        if !self.entries.contains_key(&key) && !self.make_room(now) {
            return None;
        }
        let policy = self.policy;
        let entry = self.entries.entry(key).or_insert(Entry {
            window_start: now,
            failures: 0,
            locked_until: None,
            next_lockout: policy.lockout,
            last_seen: now,
        });
        if now.duration_since(entry.last_seen) > policy.window + policy.lockout_max {
            entry.next_lockout = policy.lockout; // idle long enough: history forgotten
        }
        entry.last_seen = now;
        if now.duration_since(entry.window_start) > policy.window {
            entry.window_start = now;
            entry.failures = 0;
        }
        entry.failures += 1;
        if entry.failures < threshold {
            return None;
        }
        let lockout = entry.next_lockout;
        entry.locked_until = Some(now + lockout);
        entry.next_lockout = (lockout * 2).min(policy.lockout_max.max(policy.lockout));
        entry.failures = 0;
        entry.window_start = now;
        Some(lockout)
    }

    /// The right password: the station's history is forgotten (its address's is not).
    pub fn record_success(&mut self, key: &Key) {
        self.entries.remove(key);
    }

    /// Drop entries nothing depends on any more; false if the table is still full.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.entries.len() < MAX_KEYS {
            return true;
        }
        let keep = self.policy.window + self.policy.lockout_max;
        self.entries
            .retain(|_, e| now.duration_since(e.last_seen) <= keep || e.locked_until > Some(now));
        self.entries.len() < MAX_KEYS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            per_station: 3,
            per_address: 5,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(10),
            lockout_max: Duration::from_secs(25),
        }
    }

    fn station() -> Key {
        Key::Station(StationId::new("CP1").unwrap())
    }

    #[test]
    fn the_threshold_locks_and_each_lockout_doubles_up_to_the_maximum() {
        let mut backoff = Backoff::new(policy());
        let t0 = Instant::now();
        assert_eq!(backoff.record_failure(station(), t0), None);
        assert_eq!(backoff.record_failure(station(), t0), None);
        assert_eq!(backoff.locked(&station(), t0), None);
        assert_eq!(
            backoff.record_failure(station(), t0),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            backoff.locked(&station(), t0),
            Some(Duration::from_secs(10))
        );
        let t1 = t0 + Duration::from_secs(11);
        assert_eq!(backoff.locked(&station(), t1), None);
        for _ in 0..2 {
            backoff.record_failure(station(), t1);
        }
        assert_eq!(
            backoff.record_failure(station(), t1),
            Some(Duration::from_secs(20))
        );
        let t2 = t1 + Duration::from_secs(21);
        for _ in 0..2 {
            backoff.record_failure(station(), t2);
        }
        assert_eq!(
            backoff.record_failure(station(), t2),
            Some(Duration::from_secs(25))
        );
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up_and_success_forgets() {
        let mut backoff = Backoff::new(policy());
        let t0 = Instant::now();
        backoff.record_failure(station(), t0);
        backoff.record_failure(station(), t0);
        let later = t0 + Duration::from_secs(61);
        assert_eq!(backoff.record_failure(station(), later), None);
        backoff.record_success(&station());
        backoff.record_failure(station(), later);
        assert_eq!(backoff.record_failure(station(), later), None);
    }

    #[test]
    fn addresses_have_their_own_threshold() {
        let mut backoff = Backoff::new(policy());
        let key = Key::Address([10, 0, 0, 1].into());
        let now = Instant::now();
        for _ in 0..4 {
            assert_eq!(backoff.record_failure(key.clone(), now), None);
        }
        assert!(backoff.record_failure(key.clone(), now).is_some());
        assert!(backoff.locked(&key, now).is_some());
    }
}
