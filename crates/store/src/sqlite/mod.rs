//! The embedded SQLite store: one file, WAL journal, a read pool (sqlx), one group-commit
//! writer thread (rusqlite), a checkpointer thread, and in-memory caches of what the message
//! path reads (ADR 0011).
//!
//! The hot path writes, it does not read: `find_answer`, `transaction`,
//! `transaction_event_seen`, `metered_usage`, `tariffs`, `tariff_assignments`, `find_token` and
//! `get_station` are answered from [`cache`] in the common case, kept coherent by the writer
//! thread (see there); everything else reads through the pool.

mod apply;
mod cache;
mod campaigns;
mod certificates;
mod charging;
mod checkpoint;
mod cleared;
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
mod parts;
mod personal_data;
mod refresh;
mod ro;
mod rows;
mod site_load;
mod smart_charging;
mod tracked;
mod views;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::ConnectOptions;
use tokio::sync::{mpsc, oneshot};
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};

use crate::{
    ApiKeyRecord, CommandRecord, ConnectorRecord, EventRecord, IssuedCertificate, LocalList,
    MeterValueFilter, MeterValueRecord, RemoteStartRecord, ReportPart, ReportRecord,
    ReservationRecord, Result, SecurityEventRecord, Store, StoreError, StoredAnswer,
    TransactionEventRecord, TransactionRecord, VariableRecord, Write,
};

use crate::columns;
use cache::{token_key, Caches};
use operator::StationColumn;

pub use cache::CacheConfig;
pub use checkpoint::{CheckpointConfig, CheckpointOutcome};
pub use writer::WriterConfig;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a connection waits for another's lock before it reports SQLITE_BUSY.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How durable a commit is when it returns (SQLite `synchronous` in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// fsync on every commit: survives power loss. The default.
    Full,
    /// fsync at checkpoints only: survives a process crash, may lose the last commits on power
    /// loss. Faster on slow disks.
    Normal,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

/// Everything [`SqliteStore::open_with`] can tune; the defaults suit a single node.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreConfig {
    pub writer: WriterConfig,
    pub cache: CacheConfig,
    pub checkpoint: CheckpointConfig,
}

/// SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: mpsc::Sender<writer::Job>,
    caches: Arc<Caches>,
    checkpointer: checkpoint::Checkpointer,
    stats: Arc<writer::Stats>,
}

impl SqliteStore {
    /// Open (creating if needed) the database file at `path` and apply pending migrations.
    pub async fn open(path: &Path, durability: Durability) -> Result<Self> {
        Self::open_with(path, durability, StoreConfig::default()).await
    }

    /// [`SqliteStore::open`] with explicit writer, cache and checkpoint settings.
    ///
    /// The database holds password hashes, API key hashes and every station's history: it is
    /// created readable by its owner only (0600), and SQLite gives the WAL and SHM files the
    /// mode of the database file. Existing files are tightened too, in case an older version or
    /// a umask created them readable by others.
    pub async fn open_with(
        path: &Path,
        durability: Durability,
        config: StoreConfig,
    ) -> Result<Self> {
        make_private(path).map_err(sqlx::Error::Io)?;
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // Checkpoints are the checkpointer thread's job, never a committing connection's.
            .pragma("wal_autocheckpoint", "0")
            .disable_statement_logging();
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await?;
        // The schema is in place before the writer's connection prepares its statements.
        MIGRATIONS.run(&pool).await?;
        // The migrations' pages are in the WAL now (autocheckpoint is off): fold them into the
        // database file once, so a fresh database starts with an empty WAL and the WAL bound
        // the checkpointer keeps is about station traffic, not schema size.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await?;
        let caches = Arc::new(Caches::new(config.cache));
        let owned = path.to_owned();
        let wal_limit = i64::try_from(config.checkpoint.passive_above).unwrap_or(i64::MAX);
        let cache_kib = config.writer.cache_kib;
        let (writer_conn, checkpoint_conn) = tokio::task::spawn_blocking(move || {
            let writer = open_connection(&owned, durability, wal_limit)?;
            // The writer's page cache: every upsert and index probe of a batch reads pages,
            // and a miss is a pread through the kernel (a third of the writer's time in a
            // profile with SQLite's 2 MiB default).
            writer.pragma_update(None, "cache_size", -i64::from(cache_kib))?;
            Ok::<_, rusqlite::Error>((writer, open_connection(&owned, durability, wal_limit)?))
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("opening the writer's connection: {e}")))??;
        let stats = Arc::new(writer::Stats::default());
        let writer = writer::spawn(writer_conn, caches.clone(), stats.clone(), config.writer)
            .map_err(sqlx::Error::Io)?;
        let checkpointer =
            checkpoint::Checkpointer::spawn(checkpoint_conn, path, config.checkpoint)
                .map_err(sqlx::Error::Io)?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            if Path::new(&side).exists() {
                make_private(Path::new(&side)).map_err(sqlx::Error::Io)?;
            }
        }
        Ok(SqliteStore {
            pool,
            writer,
            caches,
            checkpointer,
            stats,
        })
    }

    /// Look at the WAL now and checkpoint it if it is past a threshold (the checkpointer does
    /// this every `CheckpointConfig::interval` on its own).
    pub async fn checkpoint(&self) -> Result<CheckpointOutcome> {
        self.checkpointer.now().await
    }

    /// (commits, jobs committed) by the group-commit writer since the store was opened.
    pub fn group_commits(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.stats.commits.load(Relaxed),
            self.stats.jobs.load(Relaxed),
        )
    }

    /// Entries held by the caches: (transactions, tokens, stations, stations with answer
    /// fingerprints) — to check the bounds.
    pub fn cached(&self) -> (usize, usize, usize, usize) {
        (
            self.caches.transactions.len(),
            self.caches.tokens.len(),
            self.caches.stations.len(),
            self.caches.answers.stations(),
        )
    }

    /// Run `change` on the writer thread, serialised with the group commits.
    async fn exclusive<R: Send + 'static>(
        &self,
        change: impl FnOnce(&mut rusqlite::Connection, &Caches) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (done, outcome) = oneshot::channel();
        let job = writer::Job::Exclusive(Box::new(move |conn, caches| {
            let _ = done.send(change(conn, caches));
        }));
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        outcome.await.map_err(|_| StoreError::Closed)?
    }

    /// Every tariff and assignment, from the snapshot or read together.
    async fn tariff_snapshot(&self) -> Result<cache::TariffSnapshot> {
        let (cached, seen) = self.caches.tariffs.get(&());
        if let Some(snapshot) = cached {
            return Ok(snapshot);
        }
        let mut tx = self.pool.begin().await?;
        let tariffs = charging::tariffs(&mut *tx).await?;
        let assignments = charging::tariff_assignments(&mut *tx).await?;
        tx.commit().await?;
        let snapshot = Arc::new((tariffs, assignments));
        self.caches.tariffs.fill((), snapshot.clone(), seen);
        Ok(snapshot)
    }

    async fn set_station_column(
        &self,
        id: &StationId,
        column: StationColumn,
        value: rusqlite::types::Value,
    ) -> Result<bool> {
        let id = id.clone();
        self.exclusive(move |conn, caches| {
            operator::set_station_column(conn, caches, &id, column, value)
        })
        .await
    }
}

/// A connection of the store's own threads (writer, checkpointer), with the pool's settings.
///
/// `wal_limit`: once a checkpoint has copied the whole WAL, the next writer starts it over and
/// truncates the file to this size (`journal_size_limit`), so the WAL file shrinks back after a
/// burst instead of keeping its largest size.
fn open_connection(
    path: &Path,
    durability: Durability,
    wal_limit: i64,
) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "the database is not in WAL mode");
    }
    conn.pragma_update(None, "synchronous", durability.pragma())?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    let _limit: i64 = conn.query_row(
        &format!("PRAGMA journal_size_limit = {wal_limit}"),
        [],
        |r| r.get(0),
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Create `path` if missing, owner-only (0600) either way.
#[cfg(unix)]
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn make_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_station(&self, station: &Station) -> Result<()> {
        let station = station.clone();
        self.exclusive(move |conn, caches| operator::create_station(conn, caches, &station))
            .await
    }

    async fn upsert_station(&self, station: &Station) -> Result<()> {
        let station = station.clone();
        self.exclusive(move |conn, caches| operator::upsert_station(conn, caches, &station))
            .await
    }

    async fn get_station(&self, id: &StationId) -> Result<Option<Station>> {
        let (cached, seen) = self.caches.stations.get(id);
        if let Some(station) = cached {
            return Ok(station);
        }
        let row = sqlx::query("SELECT * FROM stations WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let station = row.map(|r| columns::station(&r)).transpose()?;
        self.caches.stations.fill(id.clone(), station.clone(), seen);
        Ok(station)
    }

    async fn list_stations(&self) -> Result<Vec<Station>> {
        let rows = sqlx::query("SELECT * FROM stations ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(columns::station).collect()
    }

    async fn delete_station(&self, id: &StationId) -> Result<bool> {
        let id = id.clone();
        self.exclusive(move |conn, caches| operator::delete_station(conn, caches, &id))
            .await
    }

    async fn set_password_hash(&self, id: &StationId, hash: Option<&str>) -> Result<bool> {
        let value = hash.map_or(rusqlite::types::Value::Null, |h| h.to_owned().into());
        self.set_station_column(id, StationColumn::PasswordHash, value)
            .await
    }

    async fn set_security_profile(&self, id: &StationId, profile: SecurityProfile) -> Result<bool> {
        let value = i64::from(profile.number()).into();
        self.set_station_column(id, StationColumn::SecurityProfile, value)
            .await
    }

    async fn set_pending_security_profile(
        &self,
        id: &StationId,
        profile: Option<SecurityProfile>,
    ) -> Result<bool> {
        let value = profile.map_or(rusqlite::types::Value::Null, |p| {
            i64::from(p.number()).into()
        });
        self.set_station_column(id, StationColumn::PendingSecurityProfile, value)
            .await
    }

    async fn prune_answers(&self, before: chrono::DateTime<chrono::Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM answers WHERE answered_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn mark_transaction_forgotten(
        &self,
        station: &StationId,
        transaction_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        let (station, transaction_id) = (station.clone(), transaction_id.to_owned());
        self.exclusive(move |conn, caches| {
            operator::mark_transaction_forgotten(conn, caches, &station, &transaction_id, at)
        })
        .await
    }

    async fn set_provisioned(
        &self,
        id: &StationId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        let value = columns::timestamp(&at).into();
        self.set_station_column(id, StationColumn::ProvisionedAt, value)
            .await
    }

    async fn set_preferred_ocpp_version(
        &self,
        id: &StationId,
        version: Option<&str>,
    ) -> Result<bool> {
        let value = version.map_or(rusqlite::types::Value::Null, |v| v.to_owned().into());
        self.set_station_column(id, StationColumn::PreferredOcppVersion, value)
            .await
    }

    async fn set_registration(&self, id: &StationId, status: RegistrationStatus) -> Result<bool> {
        let value = status.as_str().to_owned().into();
        self.set_station_column(id, StationColumn::Registration, value)
            .await
    }

    async fn write(&self, batch: Vec<Write>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let (done, committed) = oneshot::channel();
        self.writer
            .send(writer::Job::Writes { batch, done })
            .await
            .map_err(|_| StoreError::Closed)?;
        committed.await.map_err(|_| StoreError::Closed)?
    }

    async fn find_answer(
        &self,
        station: &StationId,
        message_id: &str,
    ) -> Result<Option<StoredAnswer>> {
        let known = match self.caches.answers.contains(station, message_id) {
            Some(known) => known,
            None => {
                let id = station.clone();
                self.exclusive(move |conn, caches| {
                    operator::load_answer_fingerprints(conn, caches, &id)
                })
                .await?;
                self.caches
                    .answers
                    .contains(station, message_id)
                    .unwrap_or(true)
            }
        };
        if !known {
            // Not among the station's last K answered CALLs: handled as a new CALL.
            return Ok(None);
        }
        let row = sqlx::query("SELECT * FROM answers WHERE station_id = ? AND message_id = ?")
            .bind(station.as_str())
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| rows::answer(&r)).transpose()
    }

    async fn connectors(&self, station: &StationId) -> Result<Vec<ConnectorRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM connectors WHERE station_id = ? ORDER BY evse_id, connector_id",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::connector).collect()
    }

    async fn events(&self, station: &StationId, limit: u32) -> Result<Vec<EventRecord>> {
        let rows =
            sqlx::query("SELECT * FROM events WHERE station_id = ? ORDER BY seq DESC LIMIT ?")
                .bind(station.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(rows::event).collect()
    }

    async fn security_events(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<SecurityEventRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM security_events WHERE station_id = ? ORDER BY seq DESC LIMIT ?",
        )
        .bind(station.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::security_event).collect()
    }

    async fn commands(&self, station: &StationId, limit: u32) -> Result<Vec<CommandRecord>> {
        let rows =
            sqlx::query("SELECT * FROM commands WHERE station_id = ? ORDER BY seq DESC LIMIT ?")
                .bind(station.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(rows::command).collect()
    }

    async fn put_charging_profile(&self, profile: &crate::ChargingProfileRecord) -> Result<()> {
        smart_charging::put_profile(&self.pool, profile).await
    }

    async fn set_charging_profile_status(
        &self,
        station: &StationId,
        profile_id: i64,
        status: &str,
        status_info: Option<&str>,
    ) -> Result<bool> {
        smart_charging::set_profile_status(&self.pool, station, profile_id, status, status_info)
            .await
    }

    async fn charging_profiles(
        &self,
        station: &StationId,
    ) -> Result<Vec<crate::ChargingProfileRecord>> {
        smart_charging::profiles(&self.pool, station).await
    }

    async fn clear_charging_profiles(
        &self,
        station: &StationId,
        profile_ids: &[i64],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        smart_charging::clear_profiles(&self.pool, station, profile_ids, at).await
    }

    async fn create_charging_profile_report(
        &self,
        report: &crate::ChargingProfileReport,
    ) -> Result<()> {
        smart_charging::create_report(&self.pool, report).await
    }

    async fn set_charging_profile_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()> {
        smart_charging::set_report_status(&self.pool, station, request_id, status).await
    }

    async fn next_charging_profile_request_id(&self, station: &StationId) -> Result<i64> {
        smart_charging::next_request_id(&self.pool, station).await
    }

    async fn charging_profile_report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<
        Option<(
            crate::ChargingProfileReport,
            Vec<crate::ChargingProfileReportPart>,
        )>,
    > {
        smart_charging::report(&self.pool, station, request_id).await
    }

    async fn put_installed_certificate(
        &self,
        certificate: &crate::InstalledCertificate,
    ) -> Result<()> {
        certificates::put(&self.pool, certificate).await
    }

    async fn installed_certificates(
        &self,
        station: &StationId,
    ) -> Result<Vec<crate::InstalledCertificate>> {
        certificates::list(&self.pool, station).await
    }

    async fn mark_certificate_deleted(
        &self,
        station: &StationId,
        hash: &crate::CertificateHash,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        certificates::mark_deleted(
            &self.pool,
            station,
            &hash.hash_algorithm,
            &hash.issuer_name_hash,
            &hash.issuer_key_hash,
            &hash.serial_number,
            at,
        )
        .await
    }

    async fn put_display_message(&self, message: &crate::DisplayMessageRecord) -> Result<()> {
        display::put_message(&self.pool, message).await
    }

    async fn set_display_message_status(
        &self,
        station: &StationId,
        message_id: i64,
        status: &str,
        status_info: Option<&str>,
    ) -> Result<bool> {
        display::set_message_status(&self.pool, station, message_id, status, status_info).await
    }

    async fn display_messages(
        &self,
        station: &StationId,
    ) -> Result<Vec<crate::DisplayMessageRecord>> {
        display::messages(&self.pool, station).await
    }

    async fn clear_display_message(
        &self,
        station: &StationId,
        message_id: i64,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        display::clear_message(&self.pool, station, message_id, at).await
    }

    async fn create_display_message_report(
        &self,
        report: &crate::DisplayMessageReport,
    ) -> Result<i64> {
        display::create_report(&self.pool, report).await
    }

    async fn set_display_message_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()> {
        display::set_report_status(&self.pool, station, request_id, status).await
    }

    async fn display_message_report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<
        Option<(
            crate::DisplayMessageReport,
            Vec<crate::DisplayMessageReportPart>,
        )>,
    > {
        display::report(&self.pool, station, request_id).await
    }

    async fn add_composite_schedule(
        &self,
        schedule: &crate::CompositeScheduleRecord,
    ) -> Result<i64> {
        smart_charging::add_composite(&self.pool, schedule).await
    }

    async fn composite_schedules(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<crate::CompositeScheduleRecord>> {
        smart_charging::composites(&self.pool, station, limit).await
    }

    async fn put_site_group(&self, group: &crate::SiteGroup) -> Result<()> {
        site_load::put_group(&self.pool, group).await
    }

    async fn site_groups(&self) -> Result<Vec<crate::SiteGroup>> {
        site_load::groups(&self.pool).await
    }

    async fn delete_site_group(&self, id: &str) -> Result<bool> {
        site_load::delete_group(&self.pool, id).await
    }

    async fn add_site_allocation(&self, allocation: &crate::SiteAllocationRecord) -> Result<()> {
        site_load::add_allocation(&self.pool, allocation).await
    }

    async fn site_allocations(
        &self,
        group_id: &str,
        limit: u32,
    ) -> Result<Vec<crate::SiteAllocationRecord>> {
        site_load::allocations(&self.pool, group_id, limit).await
    }

    async fn create_tracked_request(&self, request: &crate::TrackedRequest) -> Result<()> {
        tracked::create(&self.pool, request).await
    }

    async fn set_tracked_answer(
        &self,
        station: &StationId,
        kind: crate::TrackedKind,
        request_id: i64,
        answer: &str,
        complete: bool,
    ) -> Result<bool> {
        tracked::set_answer(&self.pool, station, kind, request_id, answer, complete).await
    }

    async fn next_tracked_request_id(
        &self,
        station: &StationId,
        kind: crate::TrackedKind,
    ) -> Result<i64> {
        tracked::next_request_id(&self.pool, station, kind).await
    }

    async fn tracked_requests(
        &self,
        station: &StationId,
        kind: crate::TrackedKind,
        limit: u32,
    ) -> Result<Vec<crate::TrackedRequest>> {
        tracked::requests(&self.pool, station, kind, limit).await
    }

    async fn tracked_request(
        &self,
        station: &StationId,
        kind: crate::TrackedKind,
        request_id: i64,
    ) -> Result<Option<(crate::TrackedRequest, Vec<crate::TrackedPart>)>> {
        tracked::one(&self.pool, station, kind, request_id).await
    }

    async fn put_variable_monitor(&self, monitor: &crate::VariableMonitorRecord) -> Result<()> {
        tracked::put_monitor(&self.pool, monitor).await
    }

    async fn clear_variable_monitors(
        &self,
        station: &StationId,
        monitor_ids: &[i64],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        tracked::clear_monitors(&self.pool, station, monitor_ids, at).await
    }

    async fn variable_monitors(
        &self,
        station: &StationId,
    ) -> Result<Vec<crate::VariableMonitorRecord>> {
        tracked::monitors(&self.pool, station).await
    }

    async fn charging_limits(
        &self,
        station: &StationId,
    ) -> Result<Vec<crate::ChargingLimitRecord>> {
        smart_charging::limits(&self.pool, station).await
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, salt, secret_hash, created_at, revoked_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.role)
        .bind(&key.salt)
        .bind(&key.secret_hash)
        .bind(key.created_at)
        .bind(key.revoked_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| rows::api_key(&r)).transpose()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let rows = sqlx::query("SELECT * FROM api_keys ORDER BY created_at")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::api_key).collect()
    }

    async fn revoke_api_key(&self, id: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(chrono::Utc::now())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn station_page(
        &self,
        query: &crate::views::StationQuery,
    ) -> Result<crate::views::StationPage> {
        views::station_page(&self.pool, query).await
    }

    async fn fleet_figures(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::views::FleetFigures> {
        views::fleet_figures(&self.pool, since).await
    }

    async fn daily_figures(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<crate::views::DailyFigures>> {
        views::daily_figures(&self.pool, since).await
    }

    async fn transaction_page(
        &self,
        active_only: bool,
        limit: u32,
        offset: u64,
    ) -> Result<crate::views::TransactionPage> {
        views::transaction_page(&self.pool, active_only, limit, offset).await
    }

    async fn charge_record_page(
        &self,
        limit: u32,
        offset: u64,
    ) -> Result<crate::views::ChargeRecordPage> {
        views::charge_record_page(&self.pool, limit, offset).await
    }

    async fn personal_data(&self, id_token: &str) -> Result<crate::PersonalData> {
        let id_token = id_token.to_owned();
        self.exclusive(move |conn, _| personal_data::personal_data(conn, &id_token))
            .await
    }

    async fn erase_personal_data(
        &self,
        id_token: &str,
        key: &[u8],
        erased_by: &str,
    ) -> Result<crate::Erasure> {
        let (id_token, key, erased_by) = (id_token.to_owned(), key.to_vec(), erased_by.to_owned());
        self.exclusive(move |conn, caches| {
            personal_data::erase(conn, caches, &id_token, &key, &erased_by)
        })
        .await
    }

    async fn add_log_file(&self, file: &crate::LogFileRecord) -> Result<i64> {
        campaigns::add_log_file(&self.pool, file).await
    }

    async fn log_files(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<crate::LogFileRecord>> {
        campaigns::log_files(&self.pool, station, limit).await
    }

    async fn log_file(&self, id: i64) -> Result<Option<crate::LogFileRecord>> {
        campaigns::log_file_by_id(&self.pool, id).await
    }

    async fn create_campaign(
        &self,
        campaign: &crate::CampaignRecord,
        stations: &[crate::CampaignStationRecord],
    ) -> Result<i64> {
        campaigns::create_campaign(&self.pool, campaign, stations).await
    }

    async fn put_campaign_stations(&self, stations: &[crate::CampaignStationRecord]) -> Result<()> {
        campaigns::put_campaign_stations(&self.pool, stations).await
    }

    async fn set_campaign_state(&self, id: i64, state: &str) -> Result<bool> {
        campaigns::set_campaign_state(&self.pool, id, state).await
    }

    async fn campaigns(&self) -> Result<Vec<crate::CampaignRecord>> {
        campaigns::campaigns(&self.pool).await
    }

    async fn campaign(&self, id: i64) -> Result<Option<crate::CampaignRecord>> {
        campaigns::campaign_by_id(&self.pool, id).await
    }

    async fn campaign_stations(&self, id: i64) -> Result<Vec<crate::CampaignStationRecord>> {
        campaigns::campaign_stations(&self.pool, id).await
    }

    async fn device_model(&self, station: &StationId) -> Result<Vec<VariableRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM device_model WHERE station_id = ?
             ORDER BY component, component_instance, evse_id, connector_id, variable,
                      variable_instance, attribute_type",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::variable).collect()
    }

    async fn create_report(&self, report: &ReportRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO reports (station_id, request_id, request, status, complete, requested_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(report.station_id.as_str())
        .bind(report.request_id)
        .bind(&report.request)
        .bind(&report.status)
        .bind(i64::from(report.complete))
        .bind(report.requested_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE reports SET status = ? WHERE station_id = ? AND request_id = ?")
            .bind(status)
            .bind(station.as_str())
            .bind(request_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn next_report_request_id(&self, station: &StationId) -> Result<i64> {
        let next: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(request_id), 0) + 1 FROM reports WHERE station_id = ?",
        )
        .bind(station.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(next)
    }

    async fn report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<Option<(ReportRecord, Vec<ReportPart>)>> {
        let Some(row) =
            sqlx::query("SELECT * FROM reports WHERE station_id = ? AND request_id = ?")
                .bind(station.as_str())
                .bind(request_id)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let report = rows::report(&row)?;
        let parts = sqlx::query(
            "SELECT * FROM report_parts WHERE station_id = ? AND request_id = ? ORDER BY seq_no",
        )
        .bind(station.as_str())
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        let parts = parts
            .iter()
            .map(rows::report_part)
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((report, parts)))
    }

    async fn issued_certificates(&self, station: &StationId) -> Result<Vec<IssuedCertificate>> {
        let rows = sqlx::query(
            "SELECT * FROM station_certificates WHERE station_id = ? ORDER BY seq DESC",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::issued_certificate).collect()
    }

    async fn upsert_token(&self, token: &unicharge_core::tokens::IdTokenRecord) -> Result<()> {
        let token = token.clone();
        self.exclusive(move |conn, caches| operator::upsert_token(conn, caches, &token))
            .await
    }

    async fn find_token(
        &self,
        id_token: &str,
        kind: &str,
    ) -> Result<Option<unicharge_core::tokens::IdTokenRecord>> {
        let key = token_key(id_token, kind);
        let (cached, seen) = self.caches.tokens.get(&key);
        if let Some(token) = cached {
            return Ok(token);
        }
        let row = sqlx::query("SELECT * FROM id_tokens WHERE id_token = ? AND type = ?")
            .bind(id_token)
            .bind(kind)
            .fetch_optional(&self.pool)
            .await?;
        let token = row.map(|r| columns::token(&r)).transpose()?;
        self.caches.tokens.fill(key, token.clone(), seen);
        Ok(token)
    }

    async fn list_tokens(&self) -> Result<Vec<unicharge_core::tokens::IdTokenRecord>> {
        let rows = sqlx::query("SELECT * FROM id_tokens ORDER BY id_token, type")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(columns::token).collect()
    }

    async fn delete_token(&self, id_token: &str, kind: &str) -> Result<bool> {
        let (id_token, kind) = (id_token.to_owned(), kind.to_owned());
        self.exclusive(move |conn, caches| operator::delete_token(conn, caches, &id_token, &kind))
            .await
    }

    async fn transaction(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Option<TransactionRecord>> {
        let key = (station.clone(), transaction_id.to_owned());
        if let (Some(cached), _) = self.caches.transactions.get(&key) {
            return Ok(Some(cached.record.clone()));
        }
        let row =
            sqlx::query("SELECT * FROM transactions WHERE station_id = ? AND transaction_id = ?")
                .bind(station.as_str())
                .bind(transaction_id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => {
                let mut t = columns::transaction(&r)?;
                t.seq_no_gaps = charging::seq_no_gaps(&self.pool, station, &t).await?;
                Ok(Some(t))
            }
            None => Ok(None),
        }
    }

    async fn transactions(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<TransactionRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM transactions WHERE station_id = ? ORDER BY started_at DESC LIMIT ?",
        )
        .bind(station.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut list = rows
            .iter()
            .map(columns::transaction)
            .collect::<Result<Vec<_>>>()?;
        for t in &mut list {
            t.seq_no_gaps = charging::seq_no_gaps(&self.pool, station, t).await?;
        }
        Ok(list)
    }

    async fn station_notices(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<crate::StationNotice>> {
        charging::station_notices(&self.pool, station, limit).await
    }

    async fn meter_values(
        &self,
        station: &StationId,
        filter: &MeterValueFilter,
    ) -> Result<Vec<MeterValueRecord>> {
        meter_readings::meter_values(&self.pool, station, filter).await
    }

    async fn local_list(&self, station: &StationId) -> Result<LocalList> {
        charging::local_list(&self.pool, station).await
    }

    async fn put_local_list(
        &self,
        station: &StationId,
        version: i64,
        entries: &[(String, String)],
    ) -> Result<()> {
        charging::put_local_list(&self.pool, station, version, entries).await
    }

    async fn set_local_list_station_state(
        &self,
        station: &StationId,
        last_status: Option<&str>,
        station_version: Option<i64>,
    ) -> Result<()> {
        charging::set_local_list_station_state(&self.pool, station, last_status, station_version)
            .await
    }

    async fn ocpp16_transaction_id(
        &self,
        station: &StationId,
        connector_id: i64,
        id_tag: &str,
        started_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<i64> {
        charging::ocpp16_transaction_id(&self.pool, station, connector_id, id_tag, started_at).await
    }

    async fn create_remote_start(
        &self,
        station: &StationId,
        id_token: &str,
        id_token_type: &str,
        evse_id: Option<i64>,
    ) -> Result<i64> {
        charging::create_remote_start(&self.pool, station, id_token, id_token_type, evse_id).await
    }

    async fn set_remote_start_outcome(
        &self,
        id: i64,
        status: &str,
        transaction_id: Option<&str>,
    ) -> Result<()> {
        charging::set_remote_start_outcome(&self.pool, id, status, transaction_id).await
    }

    async fn remote_start(&self, id: i64) -> Result<Option<RemoteStartRecord>> {
        charging::remote_start(&self.pool, id).await
    }

    async fn open_remote_start(
        &self,
        station: &StationId,
        id_token: &str,
        evse_id: i64,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<i64>> {
        charging::open_remote_start(&self.pool, station, id_token, evse_id, since).await
    }

    async fn create_reservation(&self, reservation: &ReservationRecord) -> Result<i64> {
        charging::create_reservation(&self.pool, reservation).await
    }

    async fn set_reservation_status(
        &self,
        station: &StationId,
        id: i64,
        status: &str,
    ) -> Result<bool> {
        charging::set_reservation_status(&self.pool, station, id, status).await
    }

    async fn reservation(&self, station: &StationId, id: i64) -> Result<Option<ReservationRecord>> {
        charging::reservation_by_id(&self.pool, station, id).await
    }

    async fn reservations(&self, station: &StationId) -> Result<Vec<ReservationRecord>> {
        charging::reservations(&self.pool, station).await
    }

    async fn put_tariff(&self, tariff: &unicharge_core::tariff::Tariff) -> Result<()> {
        let tariff = tariff.clone();
        self.exclusive(move |conn, caches| operator::put_tariff(conn, caches, &tariff))
            .await
    }

    async fn tariffs(&self) -> Result<Vec<unicharge_core::tariff::Tariff>> {
        Ok(self.tariff_snapshot().await?.0.clone())
    }

    async fn delete_tariff(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.exclusive(move |conn, caches| operator::delete_tariff(conn, caches, &id))
            .await
    }

    async fn add_tariff_assignment(
        &self,
        assignment: &unicharge_core::tariff::TariffAssignment,
    ) -> Result<i64> {
        let assignment = assignment.clone();
        self.exclusive(move |conn, caches| {
            operator::add_tariff_assignment(conn, caches, &assignment)
        })
        .await
    }

    async fn tariff_assignments(
        &self,
    ) -> Result<Vec<(i64, unicharge_core::tariff::TariffAssignment)>> {
        Ok(self.tariff_snapshot().await?.1.clone())
    }

    async fn delete_tariff_assignment(&self, id: i64) -> Result<bool> {
        self.exclusive(move |conn, caches| operator::delete_tariff_assignment(conn, caches, id))
            .await
    }

    async fn charge_record(
        &self,
        id: &str,
    ) -> Result<Option<unicharge_core::charge_record::ChargeRecord>> {
        charging::charge_record(&self.pool, id).await
    }

    async fn accounting_records(
        &self,
        session_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<crate::AccountingRecordRow>> {
        let rows = sqlx::query(
            "SELECT session_id, record_number, record_type, origin_host, origin_realm, received_at, data
             FROM diameter_accounting_records WHERE (? IS NULL OR session_id = ?)
             ORDER BY received_at DESC, record_number DESC LIMIT ?",
        )
        .bind(session_id)
        .bind(session_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                use sqlx::Row;
                let received: String = row.try_get("received_at")?;
                let data: String = row.try_get("data")?;
                Ok(crate::AccountingRecordRow {
                    session_id: row.try_get("session_id")?,
                    record_number: row.try_get("record_number")?,
                    record_type: row.try_get("record_type")?,
                    origin_host: row.try_get("origin_host")?,
                    origin_realm: row.try_get("origin_realm")?,
                    received_at: columns::parse_timestamp(&received, "received_at")?,
                    data: serde_json::from_str(&data)
                        .map_err(|e| StoreError::Corrupt(format!("accounting data: {e}")))?,
                })
            })
            .collect()
    }

    async fn charge_records(
        &self,
        station: Option<&StationId>,
        limit: u32,
    ) -> Result<Vec<unicharge_core::charge_record::ChargeRecord>> {
        charging::charge_records(&self.pool, station, limit).await
    }

    async fn accounting_sessions(
        &self,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<crate::AccountingSessionRow>> {
        diameter::sessions(&self.pool, state, limit).await
    }

    async fn ro_put_subscriber(&self, s: &unicharge_core::online::Subscriber) -> Result<()> {
        ro::put_subscriber(&self.pool, s).await?;
        // After the commit (the cache's rule): the next CCR reads the new row.
        self.caches
            .ro_subscribers
            .remove(&(s.id_type.clone(), s.id_data.clone()));
        Ok(())
    }

    async fn ro_subscriber(
        &self,
        id_type: &str,
        id_data: &str,
    ) -> Result<Option<unicharge_core::online::Subscriber>> {
        let key = (id_type.to_owned(), id_data.to_owned());
        let (cached, seen) = self.caches.ro_subscribers.get(&key);
        if let Some(found) = cached {
            return Ok(found);
        }
        let found = ro::subscriber(&self.pool, id_type, id_data).await?;
        self.caches.ro_subscribers.fill(key, found.clone(), seen);
        Ok(found)
    }

    async fn ro_subscribers(&self) -> Result<Vec<unicharge_core::online::Subscriber>> {
        ro::subscribers(&self.pool).await
    }

    async fn ro_put_tariff(&self, t: &unicharge_core::online::OnlineTariff) -> Result<()> {
        ro::put_tariff(&self.pool, t).await?;
        self.caches.ro_tariffs.remove(&());
        Ok(())
    }

    async fn ro_tariffs(&self) -> Result<Arc<Vec<unicharge_core::online::OnlineTariff>>> {
        let (cached, seen) = self.caches.ro_tariffs.get(&());
        if let Some(tariffs) = cached {
            return Ok(tariffs);
        }
        let tariffs = Arc::new(ro::tariffs(&self.pool).await?);
        self.caches.ro_tariffs.fill((), tariffs.clone(), seen);
        Ok(tariffs)
    }

    async fn ro_open_sessions_of(
        &self,
        account: &str,
        limit: u32,
    ) -> Result<Vec<crate::ro::RoSessionRow>> {
        ro::open_sessions_of(&self.pool, account, limit).await
    }

    async fn ro_session(&self, session_id: &str) -> Result<Option<crate::ro::RoSessionRow>> {
        ro::session(&self.pool, session_id).await
    }

    async fn ro_sessions(
        &self,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<crate::ro::RoSessionRow>> {
        ro::sessions(&self.pool, state, limit).await
    }

    async fn ro_expired_sessions(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<crate::ro::RoSessionRow>> {
        ro::expired_sessions(&self.pool, now).await
    }

    async fn ro_request_termination(&self, session_id: &str) -> Result<bool> {
        ro::request_termination(&self.pool, session_id).await
    }

    async fn ro_session_with_answers(
        &self,
        session_id: &str,
    ) -> Result<(Option<crate::ro::RoSessionRow>, Vec<crate::ro::RoAnswerRow>)> {
        ro::session_with_answers(&self.pool, session_id).await
    }

    async fn ro_answer(
        &self,
        session_id: &str,
        request_number: i64,
    ) -> Result<Option<crate::ro::RoAnswerRow>> {
        ro::answer(&self.pool, session_id, request_number).await
    }

    async fn charge_records_with_station_prefix(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<unicharge_core::charge_record::ChargeRecord>> {
        charging::charge_records_with_station_prefix(&self.pool, prefix, limit).await
    }

    async fn upsert_efc_obe(&self, obe: &crate::efc::EfcObe) -> Result<()> {
        efc::upsert_obe(&self.pool, obe).await
    }

    async fn efc_obe(&self, obe_key: &str) -> Result<Option<crate::efc::EfcObe>> {
        efc::obe(&self.pool, obe_key).await
    }

    async fn efc_obes(&self) -> Result<Vec<crate::efc::EfcObe>> {
        efc::obes(&self.pool).await
    }

    async fn efc_reports(
        &self,
        obe_key: Option<&str>,
        limit: u32,
    ) -> Result<Vec<crate::efc::EfcReportRecord>> {
        efc::reports(&self.pool, obe_key, limit).await
    }

    async fn efc_report_by_counter(
        &self,
        obe_key: &str,
        counter: u32,
    ) -> Result<Option<crate::efc::EfcReportRecord>> {
        efc::report_by_counter(&self.pool, obe_key, counter).await
    }

    async fn efc_last_mileage(
        &self,
        contract_key: &str,
    ) -> Result<Option<crate::efc::EfcReportRecord>> {
        efc::last_mileage(&self.pool, contract_key).await
    }

    async fn enqueue_efc_update(&self, update: &crate::efc::EfcQueuedUpdate) -> Result<i64> {
        efc::enqueue_update(&self.pool, update).await
    }

    async fn upsert_efc_contract(&self, contract: &crate::efc::EfcContract) -> Result<()> {
        efc::upsert_contract(&self.pool, contract).await
    }

    async fn efc_contract(&self, contract_key: &str) -> Result<Option<crate::efc::EfcContract>> {
        efc::contract(&self.pool, contract_key).await
    }

    async fn efc_contracts(&self) -> Result<Vec<crate::efc::EfcContract>> {
        efc::contracts(&self.pool).await
    }

    async fn ledger_open(&self, account: &unicharge_core::ledger::Account) -> Result<()> {
        let opened = ledger::open(&self.pool, account).await;
        // After the commit: a cached "unknown" (or a fill read before it) must not survive.
        self.caches.ledger_accounts.remove(&account.id);
        opened
    }

    async fn ledger_set_label(&self, id: &str, label: &str) -> Result<bool> {
        let changed = ledger::set_label(&self.pool, id, label).await;
        self.caches.ledger_accounts.remove(&id.to_string());
        changed
    }

    async fn ledger_apply(
        &self,
        request: &unicharge_core::ledger::Request,
    ) -> Result<unicharge_core::ledger::Movement> {
        // Group-committed with whatever else is being written; then the movement it recorded
        // (or the one recorded the first time, for a retry) is read back.
        self.write(vec![Write::Ledger(Box::new(request.clone()))])
            .await?;
        ledger::movement(&self.pool, &request.account, &request.reference)
            .await?
            .ok_or_else(|| StoreError::Corrupt("ledger movement missing after commit".into()))
    }

    async fn ledger_account(&self, id: &str) -> Result<Option<unicharge_core::ledger::Account>> {
        // Read per EFC charge report: from the cache the writer keeps coherent (ADR 0043).
        let key = id.to_string();
        let (cached, seen) = self.caches.ledger_accounts.get(&key);
        if let Some(account) = cached {
            return Ok(account);
        }
        let account = ledger::account(&self.pool, id).await?;
        self.caches.ledger_accounts.fill(key, account.clone(), seen);
        Ok(account)
    }

    async fn ledger_accounts(&self) -> Result<Vec<unicharge_core::ledger::Account>> {
        ledger::accounts(&self.pool).await
    }

    async fn ledger_movements(
        &self,
        account: &str,
        limit: u32,
    ) -> Result<Vec<unicharge_core::ledger::Movement>> {
        ledger::movements(&self.pool, account, limit).await
    }

    async fn ledger_movement(
        &self,
        account: &str,
        reference: &str,
    ) -> Result<Option<unicharge_core::ledger::Movement>> {
        ledger::movement(&self.pool, account, reference).await
    }

    async fn efc_pending_updates(&self, obe_key: &str) -> Result<Vec<crate::efc::EfcQueuedUpdate>> {
        efc::pending_updates(&self.pool, obe_key).await
    }

    async fn transaction_event_seen(
        &self,
        station: &StationId,
        transaction_id: &str,
        seq_no: i64,
    ) -> Result<bool> {
        let key = (station.clone(), transaction_id.to_owned());
        if let (Some(cached), _) = self.caches.transactions.get(&key) {
            if seq_no > cached.record.last_seq_no {
                // Above the highest seqNo stored: new, no read (the common case).
                return Ok(false);
            }
        }
        let seen: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM transaction_events
             WHERE station_id = ? AND transaction_id = ? AND seq_no = ?",
        )
        .bind(station.as_str())
        .bind(transaction_id)
        .bind(seq_no)
        .fetch_optional(&self.pool)
        .await?;
        Ok(seen.is_some())
    }

    async fn metered_usage(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Option<unicharge_core::metering::MeteredUsage>> {
        let key = (station.clone(), transaction_id.to_owned());
        if let (Some(cached), _) = self.caches.transactions.get(&key) {
            return Ok(cached.usage.clone());
        }
        Ok(
            match metered_usage::load(&self.pool, station, transaction_id).await? {
                metered_usage::Stored::Current(m) => Some(m),
                metered_usage::Stored::Stale => None,
            },
        )
    }

    async fn metered_series(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<crate::MeteredSeries> {
        let mut conn = self.pool.acquire().await?;
        metered_usage::series(&mut conn, station, transaction_id).await
    }

    async fn transaction_events(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Vec<TransactionEventRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM transaction_events WHERE station_id = ? AND transaction_id = ?
             ORDER BY seq_no",
        )
        .bind(station.as_str())
        .bind(transaction_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::transaction_event).collect()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_database_and_its_wal_and_shm_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("unicharge.db");
        let store = SqliteStore::open(&path, Durability::Normal).await.unwrap();
        store
            .get_station(&StationId::new("CP1").unwrap())
            .await
            .unwrap();
        for file in ["unicharge.db", "unicharge.db-wal", "unicharge.db-shm"] {
            assert_eq!(mode(&dir.path().join(file)), 0o600, "{file}");
        }
        drop(store);
        // An existing database left readable by others is tightened on open.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let _store = SqliteStore::open(&path, Durability::Normal).await.unwrap();
        assert_eq!(mode(&path), 0o600);
    }
}
