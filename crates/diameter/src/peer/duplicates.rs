//! Duplicate detection (RFC 6733 §6.1.9 and Appendix C): a request is identified by
//! (Origin-Host, End-to-End Identifier). A retransmission (T flag after failover, or the same
//! request again) gets the answer that was sent the first time, replayed octet for octet with
//! the new hop-by-hop id — neither rejected (python-diameter answers 5012) nor processed twice.
//!
//! Bounded by entry count (oldest evicted first) and by age: RFC 6733 asks for at least the
//! lifetime of a retransmission (Tx of RFC 4006 is ~10 s; we keep 4 min by default).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

type Key = (String, u32);

/// Shared by every connection of a node: a retransmission may arrive on another connection.
pub struct DuplicateCache {
    inner: Mutex<Inner>,
    capacity: usize,
    max_age: Duration,
}

struct Inner {
    answers: HashMap<Key, Entry>,
    order: VecDeque<(Key, Instant)>,
}

enum Entry {
    /// The request is being processed: a retransmission arriving now must not be processed
    /// again; the driver drops it (the first answer will reach the peer).
    InProgress,
    Answered(Vec<u8>),
}

/// What to do with an incoming request.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// First time: process it, then [`DuplicateCache::answered`].
    New,
    /// Processed before: send these octets (the stored answer, hop-by-hop id to be patched).
    Replay(Vec<u8>),
    /// The original is still being processed: drop this copy.
    InProgress,
}

impl DuplicateCache {
    pub fn new(capacity: usize, max_age: Duration) -> Self {
        DuplicateCache {
            inner: Mutex::new(Inner {
                answers: HashMap::new(),
                order: VecDeque::new(),
            }),
            capacity,
            max_age,
        }
    }

    /// Looks the request up and, if new, marks it in progress.
    pub fn check(&self, origin_host: &str, end_to_end: u32, now: Instant) -> Seen {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        self.expire(&mut inner, now);
        let key = (origin_host.to_owned(), end_to_end);
        match inner.answers.get(&key) {
            Some(Entry::Answered(a)) => Seen::Replay(a.clone()),
            Some(Entry::InProgress) => Seen::InProgress,
            None => {
                inner.answers.insert(key.clone(), Entry::InProgress);
                inner.order.push_back((key, now));
                while inner.order.len() > self.capacity {
                    if let Some((k, _)) = inner.order.pop_front() {
                        inner.answers.remove(&k);
                    }
                }
                Seen::New
            }
        }
    }

    /// Stores the encoded answer of a request marked by [`Self::check`].
    pub fn answered(&self, origin_host: &str, end_to_end: u32, answer: Vec<u8>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = inner.answers.get_mut(&(origin_host.to_owned(), end_to_end)) {
            *e = Entry::Answered(answer);
        }
    }

    /// Forgets a request whose processing failed without an answer, so a retransmission is
    /// processed afresh.
    pub fn forget(&self, origin_host: &str, end_to_end: u32) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.answers.remove(&(origin_host.to_owned(), end_to_end));
    }

    fn expire(&self, inner: &mut Inner, now: Instant) {
        while let Some((k, at)) = inner.order.front() {
            if now.duration_since(*at) < self.max_age {
                break;
            }
            let k = k.clone();
            inner.order.pop_front();
            inner.answers.remove(&k);
        }
    }
}

impl Default for DuplicateCache {
    fn default() -> Self {
        DuplicateCache::new(100_000, Duration::from_secs(240))
    }
}

/// Rewrites the hop-by-hop id (octets 12..16) of a stored answer for the new request.
pub fn with_hop_by_hop(mut answer: Vec<u8>, hop_by_hop: u32) -> Vec<u8> {
    if let Some(h) = answer.get_mut(12..16) {
        h.copy_from_slice(&hop_by_hop.to_be_bytes());
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_then_expires_and_evicts() {
        let c = DuplicateCache::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(c.check("a", 1, t0), Seen::New);
        assert_eq!(c.check("a", 1, t0), Seen::InProgress);
        c.answered("a", 1, vec![1, 2]);
        assert_eq!(c.check("a", 1, t0), Seen::Replay(vec![1, 2]));
        assert_eq!(c.check("b", 1, t0), Seen::New, "other origin host, same id");
        assert_eq!(c.check("a", 2, t0), Seen::New);
        assert_eq!(c.check("a", 1, t0), Seen::New, "evicted by capacity");
        assert_eq!(
            c.check("a", 1, t0 + Duration::from_secs(11)),
            Seen::New,
            "expired"
        );
    }
}
