//! The group-commit writer: one OS thread owns the only write connection (rusqlite).
//!
//! It blocks for the first waiting job, takes whatever else is already queued (up to
//! `max_batch`; under load it may wait up to `max_wait` for more), and commits them all in one
//! `BEGIN IMMEDIATE … COMMIT`. Each job runs inside its own SAVEPOINT, so one job's failure (a
//! constraint, say) rolls back that job only and is reported to its caller alone. After the
//! commit it refreshes the caches from what the batch touched, then answers every caller: one
//! thread hop per batch, not one per statement (sqlx ran every statement on its connection's
//! worker thread, and that ping-pong, not SQLite, was the cost). With N stations writing at
//! once the disk sees one fsync per batch instead of N. The thread ends when every sender is
//! dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::apply::{self, Touched};
use super::cache::Caches;
use super::refresh;
use crate::{Result, StoreError, Write};

/// Group-commit settings.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Most jobs committed in one transaction.
    pub max_batch: usize,
    /// Jobs that may wait for the writer before callers are slowed down (back-pressure).
    pub queue: usize,
    /// How long a batch may wait to fill once it is known to be under load (more than one job
    /// was already queued). A lone job on an idle server is committed at once, whatever this
    /// is; under load a short wait turns many small commits (an fsync each) into few large
    /// ones. Zero: never wait.
    pub max_wait: Duration,
    /// The writer connection's page cache, KiB (SQLite's `cache_size`). Pages it misses are
    /// read through the kernel; the default SQLite gives (2 MiB) made that a third of the
    /// writer's time at load.
    pub cache_kib: u32,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch: 512,
            queue: 8192,
            max_wait: Duration::from_millis(1),
            cache_kib: 32 << 10,
        }
    }
}

/// Commits and the jobs they carried since the store was opened: their ratio is how well group
/// commit groups (also exported as the `store_group_commit_jobs` histogram).
#[derive(Debug, Default)]
pub(super) struct Stats {
    pub commits: AtomicU64,
    pub jobs: AtomicU64,
}

/// Work for the writer thread.
pub(super) enum Job {
    /// One caller's atomic batch and where to report its outcome.
    Writes {
        batch: Vec<Write>,
        done: oneshot::Sender<Result<()>>,
    },
    /// Something that must be serialised with the batches because it changes (or loads) what
    /// the caches mirror: an operator-side change of a cached table in its own transaction, or
    /// a station's answer fingerprints. It answers its caller itself.
    Exclusive(Exclusive),
}

/// See [`Job::Exclusive`].
pub(super) type Exclusive = Box<dyn FnOnce(&mut Connection, &Caches) + Send>;

pub(super) fn spawn(
    conn: Connection,
    caches: Arc<Caches>,
    stats: Arc<Stats>,
    config: WriterConfig,
) -> std::io::Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel(config.queue.max(1));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || run(conn, rx, &caches, &stats, config, &runtime))?;
    Ok(tx)
}

fn run(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Job>,
    caches: &Caches,
    stats: &Stats,
    config: WriterConfig,
    runtime: &tokio::runtime::Runtime,
) {
    let max_batch = config.max_batch.max(1);
    let mut jobs = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        jobs.push(first);
        drain(&mut rx, &mut jobs, max_batch);
        if jobs.len() > 1 && jobs.len() < max_batch && !config.max_wait.is_zero() {
            let deadline = tokio::time::Instant::now() + config.max_wait;
            runtime.block_on(async {
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
            });
        }
        process(&mut conn, caches, stats, &mut jobs);
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

fn process(conn: &mut Connection, caches: &Caches, stats: &Stats, jobs: &mut Vec<Job>) {
    let mut batches = Vec::with_capacity(jobs.len());
    let mut exclusive = Vec::new();
    for job in jobs.drain(..) {
        match job {
            Job::Writes { batch, done } => batches.push((batch, done)),
            Job::Exclusive(run) => exclusive.push(run),
        }
    }
    if !batches.is_empty() {
        let mut touched = Touched::default();
        let outcomes = commit_batch(conn, &batches, &mut touched);
        metrics::histogram!("store_group_commit_jobs").record(batches.len() as f64);
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats
            .jobs
            .fetch_add(batches.len() as u64, Ordering::Relaxed);
        // Before anyone learns "committed", the caches show the commit.
        refresh::after_commit(conn, caches, touched);
        for ((_, done), outcome) in batches.into_iter().zip(outcomes) {
            // The caller may have gone away (its station disconnected): nothing to tell.
            let _ = done.send(outcome);
        }
    }
    for run in exclusive {
        run(conn, caches);
    }
}

type Batch = (Vec<Write>, oneshot::Sender<Result<()>>);

/// Commit every job's writes; one outcome per job, in order. `touched` gets what the jobs that
/// were applied changed (nothing if the commit failed).
fn commit_batch(conn: &Connection, jobs: &[Batch], touched: &mut Touched) -> Vec<Result<()>> {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "store writer could not begin a transaction");
        return jobs.iter().map(|_| Err(clone_error(&e))).collect();
    }
    let mut applied = Touched::default();
    let mut outcomes = Vec::with_capacity(jobs.len());
    for (batch, _) in jobs {
        outcomes.push(apply_job(conn, batch, &mut applied));
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        tracing::error!(error = %e, "store writer could not commit; the batch is lost");
        let _ = conn.execute_batch("ROLLBACK");
        return jobs.iter().map(|_| Err(clone_error(&e))).collect();
    }
    touched.merge(applied);
    outcomes
}

fn apply_job(conn: &Connection, batch: &[Write], touched: &mut Touched) -> Result<()> {
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    let mut mine = Touched::default();
    if let Err(e) = apply::apply_all(conn, batch, &mut mine) {
        tracing::warn!(error = %e, "a store write failed; its batch is rolled back");
        conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
        conn.prepare_cached("RELEASE job")?.execute([])?;
        return Err(e);
    }
    conn.prepare_cached("RELEASE job")?.execute([])?;
    touched.merge(mine);
    Ok(())
}

/// rusqlite errors are not `Clone`; every job of a failed batch gets the same error.
pub(super) fn clone_error(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(*code, message.clone()))
        }
        other => StoreError::Database(sqlx::Error::Protocol(other.to_string())),
    }
}
