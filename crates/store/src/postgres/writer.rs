//! The group-commit writer on PostgreSQL: the same contract as SQLite's (`sqlite/writer.rs`).
//!
//! One task owns one connection. It waits for the first job, takes whatever else is already
//! queued (up to `max_batch`; under load it may wait up to `max_wait` for more), and commits
//! them all in one `BEGIN … COMMIT`. Each job runs inside its own SAVEPOINT, so one job's
//! failure (a constraint, say) rolls back that job only and is reported to its caller alone;
//! a failed COMMIT fails every job of the batch. Why, on a server that has no single-writer
//! lock: every commit waits for its WAL flush, and with N stations writing at once one flush
//! per batch instead of N is what keeps the message path's latency flat (ADR 0047).
//!
//! A connection that breaks is dropped and opened again for the next batch: the jobs in flight
//! fail (their callers answer the station with an error and it retransmits), later ones
//! proceed once the server is back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::{mpsc, oneshot};

use super::apply;
use crate::{Result, StoreError, Write};

/// Group-commit settings.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Most jobs committed in one transaction.
    pub max_batch: usize,
    /// Jobs that may wait for the writer before callers are slowed down (back-pressure).
    pub queue: usize,
    /// How long a batch may wait to fill once it is known to be under load (more than one job
    /// was already queued); a lone job is committed at once. Zero: never wait.
    pub max_wait: Duration,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch: 512,
            queue: 8192,
            max_wait: Duration::from_millis(1),
        }
    }
}

/// Commits and the jobs they carried since the store was opened.
#[derive(Debug, Default)]
pub(super) struct Stats {
    pub commits: AtomicU64,
    pub jobs: AtomicU64,
}

/// One caller's atomic batch and where to report its outcome.
pub(super) struct Job {
    pub batch: Vec<Write>,
    pub done: oneshot::Sender<Result<()>>,
}

/// Start the writer task on the current runtime; it ends when every sender is dropped.
pub(super) fn spawn(
    options: PgConnectOptions,
    stats: Arc<Stats>,
    config: WriterConfig,
) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel(config.queue.max(1));
    tokio::spawn(run(options, rx, stats, config));
    tx
}

async fn run(
    options: PgConnectOptions,
    mut rx: mpsc::Receiver<Job>,
    stats: Arc<Stats>,
    config: WriterConfig,
) {
    let max_batch = config.max_batch.max(1);
    let mut conn = None;
    let mut jobs = Vec::with_capacity(max_batch);
    while let Some(first) = rx.recv().await {
        jobs.push(first);
        drain(&mut rx, &mut jobs, max_batch);
        if jobs.len() > 1 && jobs.len() < max_batch && !config.max_wait.is_zero() {
            let deadline = tokio::time::Instant::now() + config.max_wait;
            while jobs.len() < max_batch {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(job)) => {
                        jobs.push(job);
                        drain(&mut rx, &mut jobs, max_batch);
                    }
                    // The deadline, or every sender gone: commit what we have.
                    Ok(None) | Err(_) => break,
                }
            }
        }
        let outcomes = commit_batch(&mut conn, &options, &jobs).await;
        metrics::histogram!("store_group_commit_jobs").record(jobs.len() as f64);
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats.jobs.fetch_add(jobs.len() as u64, Ordering::Relaxed);
        for (job, outcome) in jobs.drain(..).zip(outcomes) {
            // The caller may have gone away (its station disconnected): nothing to tell.
            let _ = job.done.send(outcome);
        }
    }
    if let Some(conn) = conn {
        let _ = conn.close().await;
    }
}

/// Take what is already queued, without waiting.
fn drain(rx: &mut mpsc::Receiver<Job>, jobs: &mut Vec<Job>, max_batch: usize) {
    while jobs.len() < max_batch {
        match rx.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
}

/// Every job of a batch that could not commit gets the same error (sqlx errors are not
/// `Clone`).
fn batch_failed(what: &str, e: &dyn std::fmt::Display, jobs: usize) -> Vec<Result<()>> {
    tracing::error!(error = %e, "store writer: {what}; the batch is lost");
    (0..jobs)
        .map(|_| {
            Err(StoreError::Database(sqlx::Error::Protocol(format!(
                "{what}: {e}"
            ))))
        })
        .collect()
}

/// Commit every job's writes; one outcome per job, in order.
async fn commit_batch(
    slot: &mut Option<PgConnection>,
    options: &PgConnectOptions,
    jobs: &[Job],
) -> Vec<Result<()>> {
    if slot.is_none() {
        match PgConnection::connect_with(options).await {
            Ok(conn) => *slot = Some(conn),
            Err(e) => return batch_failed("cannot connect to PostgreSQL", &e, jobs.len()),
        }
    }
    let conn = slot.as_mut().expect("connected above");
    if let Err(e) = (&mut *conn).execute("BEGIN").await {
        *slot = None;
        return batch_failed("cannot begin a transaction", &e, jobs.len());
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        match apply_job(conn, &job.batch).await {
            Ok(outcome) => outcomes.push(outcome),
            // The savepoint itself failed: the transaction (or connection) is gone.
            Err(e) => {
                *slot = None;
                return batch_failed("a savepoint failed", &e, jobs.len());
            }
        }
    }
    if let Err(e) = (&mut *conn).execute("COMMIT").await {
        let _ = (&mut *conn).execute("ROLLBACK").await;
        *slot = None;
        return batch_failed("cannot commit", &e, jobs.len());
    }
    outcomes
}

/// The job's outcome inside `Ok`; `Err` when its savepoint could not be set or undone.
async fn apply_job(conn: &mut PgConnection, batch: &[Write]) -> Result<Result<()>, sqlx::Error> {
    (&mut *conn).execute("SAVEPOINT job").await?;
    let outcome = apply::apply_all(conn, batch).await;
    if let Err(e) = &outcome {
        tracing::warn!(error = %e, "a store write failed; its batch is rolled back");
        (&mut *conn).execute("ROLLBACK TO SAVEPOINT job").await?;
    }
    (&mut *conn).execute("RELEASE SAVEPOINT job").await?;
    Ok(outcome)
}
