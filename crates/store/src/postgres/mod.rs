//! The PostgreSQL store (issue 17, ADR 0047): the same schema as SQLite, translated to the
//! PostgreSQL dialect (`migrations-postgres/`), for operators who run several nodes over one
//! database.
//!
//! Selected by a `postgres://` URL in `[store] url` (the server's `store` module). It is a
//! [`crate::Store`] (`store.rs` delegates to the area files, one per block, each mirroring its
//! SQLite twin) and every OCPI store trait. Where SQLite relies on its single writer, these
//! statements are safe with several nodes writing at once: row locks (ledger accounts, site
//! groups), `ON CONFLICT … RETURNING`, retried next numbers ([`unique_retry`]) and an outbox
//! claimed with `FOR UPDATE SKIP LOCKED`.

mod api_keys;
mod apply;
mod campaigns;
mod certificates;
mod charging;
mod cleared;
mod control;
mod device_model;
mod diameter;
mod display;
mod efc;
mod ledger;
mod meter_readings;
mod metered_usage;
mod ocpi;
mod ocpi_buc;
mod ocpi_emsp;
mod ocpi_hub;
mod ocpi_outbox;
mod ocpi_reservations;
mod ocpi_signing;
mod ocpi_sync;
mod operator;
mod personal_data;
mod registry;
mod reported;
mod ro;
mod site_load;
mod smart_charging;
mod store;
mod tokens;
mod tracked;
mod views;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::ConnectOptions;
use tokio::sync::{mpsc, oneshot};

use crate::{Result, StoreError, Write};

pub use writer::WriterConfig;

/// The PostgreSQL translation of `migrations/`: same versions, same names, same tables,
/// columns and indexes (checked by `tests/postgres_schema.rs`).
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations-postgres");

/// Apply pending migrations to the schema `pool` connects to (its `search_path`).
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATIONS.run(pool).await?;
    Ok(())
}

/// Run `attempt` again (up to five times in all) while it fails on a unique key: how a
/// statement that picks the next number itself (`MAX(…) + 1` in the `INSERT`) stays correct
/// when two nodes pick at once — the loser's insert is refused, and it picks again.
pub(crate) async fn unique_retry<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(StoreError::Database(sqlx::Error::Database(e)))
                if e.is_unique_violation() && tries < 5 =>
            {
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Connection options from a `postgres://` URL, with statement logging off (the writer runs
/// thousands of statements a second; sqlx would log each at INFO).
pub fn connect_options(url: &str) -> Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url)?.disable_statement_logging())
}

/// A pool on `options`; an unreachable server becomes an error that says what to check.
pub(crate) async fn connect(
    options: PgConnectOptions,
    connections: u32,
    timeout: Duration,
) -> Result<PgPool> {
    let (host, port, database) = (
        options.get_host().to_owned(),
        options.get_port(),
        options.get_database().unwrap_or("(default)").to_owned(),
    );
    PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(timeout)
        .connect_with(options)
        .await
        .map_err(|e| match e {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => {
                StoreError::Database(sqlx::Error::Configuration(
                    format!(
                        "cannot reach PostgreSQL at {host}:{port} (database {database}): {e}; \
                         check that the server is running and listening there, and the \
                         database URL in the configuration"
                    )
                    .into(),
                ))
            }
            other => StoreError::Database(other),
        })
}

/// Everything [`PgStore::open_with`] can tune.
#[derive(Debug, Clone, Copy)]
pub struct StoreConfig {
    pub writer: WriterConfig,
    /// Connections of the read pool (the writer has one more of its own).
    pub connections: u32,
    /// How long opening (and any read) waits for a connection; a refused connection is
    /// retried until then, so a server still starting is waited for.
    pub connect_timeout: Duration,
    /// How long a node's claim on due OCPI pushes holds (`ocpi_outbox.rs`): other nodes leave
    /// the pushes alone until then, so it must outlast sending a batch; a node that dies holding
    /// a claim delays those pushes by at most this much. The default, 10 minutes, outlasts the
    /// OCPI worker's default batch sent one by one at its worst (50 pushes × a 10 s timeout).
    pub ocpi_push_lease: Duration,
    /// How long this node reuses the tariffs and their assignments it read (`charging.rs`):
    /// every TransactionEvent prices with them, operators change them rarely. Its own changes
    /// are seen at once; another node's within this time. Zero: read them every time.
    pub tariff_cache_ttl: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            writer: WriterConfig::default(),
            connections: 8,
            connect_timeout: Duration::from_secs(10),
            ocpi_push_lease: Duration::from_secs(600),
            tariff_cache_ttl: Duration::from_secs(1),
        }
    }
}

/// The PostgreSQL store: a read pool and one group-commit writer (see [`writer`]).
///
/// No caches, unlike SQLite's, with one exception: several nodes write the same database, and a
/// node's cache would miss the others' writes (ADR 0047). The exception is the tariffs, read by
/// every TransactionEvent and changed rarely: kept for [`StoreConfig::tariff_cache_ttl`], so
/// another node's change is seen within that time.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    writer: mpsc::Sender<writer::Job>,
    stats: Arc<writer::Stats>,
    ocpi_push_lease: Duration,
    tariffs: Arc<charging::TariffCache>,
}

impl PgStore {
    /// Connect to `url` (`postgres://user:password@host:port/database`, `options=-c
    /// search_path=…` to use a schema) and apply pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(connect_options(url)?, StoreConfig::default()).await
    }

    /// [`PgStore::open`] with explicit connection options and settings.
    pub async fn open_with(options: PgConnectOptions, config: StoreConfig) -> Result<Self> {
        let pool = connect(
            options.clone(),
            config.connections.max(1),
            config.connect_timeout,
        )
        .await?;
        migrate(&pool).await?;
        let stats = Arc::new(writer::Stats::default());
        let writer = writer::spawn(options, stats.clone(), config.writer);
        Ok(PgStore {
            pool,
            writer,
            stats,
            ocpi_push_lease: config.ocpi_push_lease,
            tariffs: charging::TariffCache::new(config.tariff_cache_ttl),
        })
    }

    /// (commits, jobs committed) by the group-commit writer since the store was opened.
    pub fn group_commits(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.stats.commits.load(Relaxed),
            self.stats.jobs.load(Relaxed),
        )
    }

    /// Apply `batch` atomically through the group-commit writer ([`crate::Store::write`]).
    pub async fn write(&self, batch: Vec<Write>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let (done, committed) = oneshot::channel();
        self.writer
            .send(writer::Job { batch, done })
            .await
            .map_err(|_| StoreError::Closed)?;
        committed.await.map_err(|_| StoreError::Closed)?
    }
}
