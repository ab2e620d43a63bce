//! What the hot path reads, kept in memory next to the tables it mirrors.
//!
//! Coherent by construction: every write to a cached table runs on the writer thread (station
//! batches and the operator-side methods alike), which updates the cache after its commit and
//! before it answers the caller. So a caller that learnt "committed" reads its own write, and a
//! reader that missed can only install a row if no commit changed the cache meanwhile
//! ([`coherent::Coherent::fill`]). See ADR 0011.

mod answers;
mod coherent;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use unicharge_core::ledger::Account;
use unicharge_core::metering::MeteredUsage;
use unicharge_core::online::{OnlineTariff, Subscriber};
use unicharge_core::tariff::{Tariff, TariffAssignment};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::{Station, StationId};

use crate::TransactionRecord;

pub(super) use answers::Fingerprints;
pub(super) use coherent::Coherent;

/// Bounds of the in-memory caches.
#[derive(Debug, Clone, Copy)]
pub struct CacheConfig {
    /// Transactions (record and running aggregate) kept; the least recently used go first.
    pub transactions: usize,
    /// How long an ended transaction stays cached (a late offline event may still come).
    pub ended_transaction_linger: Duration,
    /// Token decisions kept, unknown tokens included.
    pub tokens: usize,
    /// Stations kept, unknown station ids included.
    pub stations: usize,
    /// K: the message ids of its last K answered CALLs are remembered per station.
    pub answers_per_station: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            transactions: 100_000,
            ended_transaction_linger: Duration::from_secs(600),
            tokens: 100_000,
            stations: 200_000,
            answers_per_station: 16,
        }
    }
}

/// A transaction as `transaction` and `metered_usage` answer it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CachedTransaction {
    /// With its `seq_no_gaps`.
    pub record: TransactionRecord,
    /// `None`: the aggregate is not computed yet (stale).
    pub usage: Option<MeteredUsage>,
}

pub(super) type TransactionKey = (StationId, String);
pub(super) type TokenKey = (String, String);

/// Tokens are found by value case-insensitively (the column is `COLLATE NOCASE`, which folds
/// ASCII only) and by exact type.
pub(super) fn token_key(id_token: &str, kind: &str) -> TokenKey {
    (id_token.to_ascii_lowercase(), kind.to_owned())
}

/// Every tariff and assignment, read together and replaced together.
pub(super) type TariffSnapshot = Arc<(Vec<Tariff>, Vec<(i64, TariffAssignment)>)>;

pub(super) struct Caches {
    pub config: CacheConfig,
    pub stations: Coherent<StationId, Option<Station>>,
    pub tokens: Coherent<TokenKey, Option<IdTokenRecord>>,
    /// Filled by the writer only (a transaction enters when an event of it is committed).
    pub transactions: Coherent<TransactionKey, Arc<CachedTransaction>>,
    pub tariffs: Coherent<(), TariffSnapshot>,
    /// Diameter Ro online tariffs, read by every CCR, changed by the operator only.
    pub ro_tariffs: Coherent<(), Arc<Vec<OnlineTariff>>>,
    /// Diameter Ro subscribers by (Subscription-Id-Type, data), misses (`None`) included.
    pub ro_subscribers: Coherent<(String, String), Option<Subscriber>>,
    pub answers: Fingerprints,
    /// Core-ledger accounts (with their reservations) by id, unknown ids included: read per
    /// EFC charge report of a contract with ledger accounts. Every movement runs on the
    /// writer, which puts the committed account here; `open` and `set_label` (pool writes)
    /// remove the entry after their commit.
    pub ledger_accounts: Coherent<String, Option<Account>>,
    /// Ended transactions with when they were seen ended, oldest first (writer side).
    ended: Mutex<VecDeque<(Instant, TransactionKey)>>,
}

impl Caches {
    pub fn new(config: CacheConfig) -> Self {
        Caches {
            config,
            stations: Coherent::new(config.stations),
            tokens: Coherent::new(config.tokens),
            transactions: Coherent::new(config.transactions),
            tariffs: Coherent::new(1),
            ro_tariffs: Coherent::new(1),
            // As many as idTokens: both are "who is this user", looked up per request.
            ro_subscribers: Coherent::new(config.tokens),
            // One ring per cached station at most.
            answers: Fingerprints::new(config.answers_per_station, config.stations),
            // As many as idTokens: an account is a user's (or a contract's) balance.
            ledger_accounts: Coherent::new(config.tokens),
            ended: Mutex::new(VecDeque::new()),
        }
    }

    /// Writer side: the committed state of a transaction.
    pub fn put_transaction(&self, entry: CachedTransaction, now: Instant) {
        let key = (
            entry.record.station_id.clone(),
            entry.record.transaction_id.clone(),
        );
        if entry.record.ended_at.is_some() {
            self.ended_queue().push_back((now, key.clone()));
        }
        self.transactions.put(key, Arc::new(entry));
    }

    /// Writer side: drop transactions ended more than the linger ago.
    pub fn expire_ended(&self, now: Instant) {
        let linger = self.config.ended_transaction_linger;
        let mut queue = self.ended_queue();
        while let Some((at, _)) = queue.front() {
            if now.saturating_duration_since(*at) < linger {
                break;
            }
            if let Some((_, key)) = queue.pop_front() {
                self.transactions.remove(&key);
            }
        }
    }

    /// Writer side: a station and everything it reported were deleted.
    pub fn forget_station(&self, station: &StationId) {
        self.stations.remove(station);
        self.answers.forget(station);
        self.transactions.retain(|(s, _), _| s != station);
    }

    fn ended_queue(&self) -> std::sync::MutexGuard<'_, VecDeque<(Instant, TransactionKey)>> {
        self.ended.lock().unwrap_or_else(|p| p.into_inner())
    }
}
