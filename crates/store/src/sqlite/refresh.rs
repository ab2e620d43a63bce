//! After a commit, before the callers are answered: the writer re-reads on its own connection
//! what the batch touched and puts it in the caches. Re-reading (microseconds, no thread hop)
//! keeps the SQL upserts the single source of truth instead of re-implementing them in Rust.

use std::time::Instant;

use rusqlite::{params, Connection, OptionalExtension};
use unicharge_core::{Station, StationId};

use super::apply::Touched;
use super::cache::{CachedTransaction, Caches};
use super::columns;
use super::metered_usage::{self, Stored};
use crate::Result;

pub(super) fn after_commit(conn: &Connection, caches: &Caches, touched: Touched) {
    for id in &touched.stations {
        match station(conn, id) {
            Ok(row) => caches.stations.put(id.clone(), row),
            Err(e) => {
                tracing::error!(station = %id, error = %e, "station not re-read after a commit; uncached");
                caches.stations.remove(id);
            }
        }
    }
    let now = Instant::now();
    for key in touched.transactions {
        match transaction(conn, &key.0, &key.1) {
            Ok(Some(entry)) => caches.put_transaction(entry, now),
            Ok(None) => caches.transactions.remove(&key),
            Err(e) => {
                tracing::error!(station = %key.0, transaction = %key.1, error = %e,
                    "transaction not re-read after a commit; uncached");
                caches.transactions.remove(&key);
            }
        }
    }
    for (station, message_id) in &touched.answers {
        caches.answers.record(station, message_id);
    }
    for id in touched.ledger_accounts {
        match super::ledger::account_on(conn, &id) {
            Ok(account) => caches.ledger_accounts.put(id, account),
            Err(e) => {
                tracing::error!(account = %id, error = %e, "ledger account not re-read after a commit; uncached");
                caches.ledger_accounts.remove(&id);
            }
        }
    }
    caches.expire_ended(now);
}

pub(super) fn station(conn: &Connection, id: &StationId) -> Result<Option<Station>> {
    let mut statement = conn.prepare_cached("SELECT * FROM stations WHERE id = ?")?;
    let mut rows = statement.query(params![id.as_str()])?;
    rows.next()?.map(columns::station).transpose()
}

/// The transaction with its seqNo gaps and running aggregate, as the pool would read them.
pub(super) fn transaction(
    conn: &Connection,
    station: &StationId,
    transaction_id: &str,
) -> Result<Option<CachedTransaction>> {
    let mut statement = conn
        .prepare_cached("SELECT * FROM transactions WHERE station_id = ? AND transaction_id = ?")?;
    let mut rows = statement.query(params![station.as_str(), transaction_id])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let mut record = columns::transaction(row)?;
    let lowest: Option<i64> = conn
        .prepare_cached(
            "SELECT MIN(seq_no) FROM transaction_events WHERE station_id = ? AND transaction_id = ?",
        )?
        .query_row(params![station.as_str(), transaction_id], |r| r.get(0))
        .optional()?
        .flatten();
    if !columns::contiguous(&record, lowest) {
        let mut statement = conn.prepare_cached(
            "SELECT seq_no FROM transaction_events WHERE station_id = ? AND transaction_id = ?
             ORDER BY seq_no",
        )?;
        let seqs = statement
            .query_map(params![station.as_str(), transaction_id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        record.seq_no_gaps = columns::gaps(&seqs);
    }
    let usage = match metered_usage::load_sync(conn, station, transaction_id)? {
        Stored::Current(m) => Some(m),
        Stored::Stale => None,
    };
    Ok(Some(CachedTransaction { record, usage }))
}
