//! WAL checkpoints off the writer's critical path.
//!
//! SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1000 pages,
//! on the committing connection: the group-commit writer stalled for the whole copy of the WAL
//! into the database (the ~300 ms p99 spikes at load). Every connection that commits therefore
//! has `wal_autocheckpoint = 0`, and this thread, with its own connection, checkpoints instead:
//! PASSIVE (never waits for the writer, copies what it can) whenever the WAL is past
//! `passive_above`, and TRUNCATE (waits for the writer briefly, then empties the file) once it
//! is past `truncate_above`, so the file stays bounded even when readers keep PASSIVE from
//! catching up. It ends when the store is dropped.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::{Result, StoreError};

/// When the checkpointer runs.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointConfig {
    /// How often the WAL's size is looked at.
    pub interval: Duration,
    /// A WAL larger than this (bytes) is checkpointed PASSIVE.
    pub passive_above: u64,
    /// A WAL larger than this (bytes) is checkpointed TRUNCATE: the bound on the file.
    pub truncate_above: u64,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        CheckpointConfig {
            interval: Duration::from_millis(500),
            passive_above: 4 << 20,
            truncate_above: 64 << 20,
        }
    }
}

/// What one look at the WAL did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointOutcome {
    /// The WAL file's size before, bytes.
    pub wal_bytes: u64,
    /// `None`: the WAL was small enough; else `PASSIVE` or `TRUNCATE`.
    pub mode: Option<&'static str>,
}

type Request = oneshot::Sender<Result<CheckpointOutcome>>;

/// The handle the store keeps; the thread ends when the last clone is dropped.
#[derive(Clone)]
pub(super) struct Checkpointer {
    requests: mpsc::Sender<Request>,
}

impl Checkpointer {
    pub fn spawn(
        conn: Connection,
        database: &Path,
        config: CheckpointConfig,
    ) -> std::io::Result<Self> {
        let (requests, rx) = mpsc::channel();
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        std::thread::Builder::new()
            .name("store-checkpointer".into())
            .spawn(move || run(&conn, &wal, config, &rx))?;
        Ok(Checkpointer { requests })
    }

    /// Look at the WAL now and checkpoint it if it is past a threshold.
    pub async fn now(&self) -> Result<CheckpointOutcome> {
        let (reply, outcome) = oneshot::channel();
        self.requests.send(reply).map_err(|_| StoreError::Closed)?;
        outcome.await.map_err(|_| StoreError::Closed)?
    }
}

fn run(
    conn: &Connection,
    wal: &Path,
    config: CheckpointConfig,
    requests: &mpsc::Receiver<Request>,
) {
    loop {
        match requests.recv_timeout(config.interval) {
            Ok(reply) => {
                let _ = reply.send(checkpoint(conn, wal, config));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = checkpoint(conn, wal, config) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retried at the next interval");
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn checkpoint(
    conn: &Connection,
    wal: &Path,
    config: CheckpointConfig,
) -> Result<CheckpointOutcome> {
    // No WAL file (yet, or after a TRUNCATE by another process): nothing to copy.
    let wal_bytes = std::fs::metadata(wal).map_or(0, |m| m.len());
    metrics::gauge!("store_wal_bytes").set(wal_bytes as f64);
    let mode = if wal_bytes > config.truncate_above {
        "TRUNCATE"
    } else if wal_bytes > config.passive_above {
        "PASSIVE"
    } else {
        return Ok(CheckpointOutcome {
            wal_bytes,
            mode: None,
        });
    };
    let started = std::time::Instant::now();
    // (busy, WAL frames, frames copied); busy = 1 when TRUNCATE could not get the writer's lock
    // within busy_timeout: the next interval tries again.
    let (busy, frames, copied): (i64, i64, i64) =
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    metrics::histogram!("store_checkpoint_seconds").record(started.elapsed().as_secs_f64());
    tracing::debug!(mode, wal_bytes, busy, frames, copied, "WAL checkpoint");
    Ok(CheckpointOutcome {
        wal_bytes,
        mode: Some(mode),
    })
}
