//! The embedded SQLite store: one file, WAL journal, a read pool and one group-commit writer.

mod charging;
mod metered_usage;
mod rows;
mod writer;

use std::path::Path;
use std::str::FromStr;
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

pub use writer::WriterConfig;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

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

/// SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: mpsc::Sender<writer::Job>,
}

impl SqliteStore {
    /// Open (creating if needed) the database file at `path` and apply pending migrations.
    pub async fn open(path: &Path, durability: Durability) -> Result<Self> {
        Self::open_with(path, durability, WriterConfig::default()).await
    }

    /// [`SqliteStore::open`] with explicit group-commit settings.
    ///
    /// The database holds password hashes, API key hashes and every station's history: it is
    /// created readable by its owner only (0600), and SQLite gives the WAL and SHM files the
    /// mode of the database file. Existing files are tightened too, in case an older version or
    /// a umask created them readable by others.
    pub async fn open_with(
        path: &Path,
        durability: Durability,
        writer_config: WriterConfig,
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
            .busy_timeout(Duration::from_secs(10))
            .disable_statement_logging();
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await?;
        MIGRATIONS.run(&pool).await?;
        let conn = options.connect().await?;
        let writer = writer::spawn(conn, writer_config);
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            if Path::new(&side).exists() {
                make_private(Path::new(&side)).map_err(sqlx::Error::Io)?;
            }
        }
        Ok(SqliteStore { pool, writer })
    }
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
        let result = sqlx::query(
            "INSERT INTO stations (id, security_profile, password_hash, registration, created_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(station.id.as_str())
        .bind(i64::from(station.security_profile.number()))
        .bind(station.password_hash.as_deref())
        .bind(station.registration.as_str())
        .bind(station.created_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::StationExists(station.id.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn upsert_station(&self, station: &Station) -> Result<()> {
        sqlx::query(
            "INSERT INTO stations (id, security_profile, password_hash, registration, created_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET
                security_profile = excluded.security_profile,
                password_hash = excluded.password_hash,
                registration = excluded.registration",
        )
        .bind(station.id.as_str())
        .bind(i64::from(station.security_profile.number()))
        .bind(station.password_hash.as_deref())
        .bind(station.registration.as_str())
        .bind(station.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_station(&self, id: &StationId) -> Result<Option<Station>> {
        let row = sqlx::query("SELECT * FROM stations WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| rows::station(&r)).transpose()
    }

    async fn list_stations(&self) -> Result<Vec<Station>> {
        let rows = sqlx::query("SELECT * FROM stations ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::station).collect()
    }

    async fn delete_station(&self, id: &StationId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM answers WHERE station_id = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM stations WHERE id = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_password_hash(&self, id: &StationId, hash: Option<&str>) -> Result<bool> {
        let done = sqlx::query("UPDATE stations SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_security_profile(&self, id: &StationId, profile: SecurityProfile) -> Result<bool> {
        let done = sqlx::query("UPDATE stations SET security_profile = ? WHERE id = ?")
            .bind(i64::from(profile.number()))
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_pending_security_profile(
        &self,
        id: &StationId,
        profile: Option<SecurityProfile>,
    ) -> Result<bool> {
        let done = sqlx::query("UPDATE stations SET pending_security_profile = ? WHERE id = ?")
            .bind(profile.map(|p| i64::from(p.number())))
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
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
        let done = sqlx::query(
            "UPDATE transactions SET station_forgot_at = ?
             WHERE station_id = ? AND transaction_id = ? AND ended_at IS NULL",
        )
        .bind(at)
        .bind(station.as_str())
        .bind(transaction_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_provisioned(
        &self,
        id: &StationId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        let done = sqlx::query("UPDATE stations SET provisioned_at = ? WHERE id = ?")
            .bind(at)
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_registration(&self, id: &StationId, status: RegistrationStatus) -> Result<bool> {
        let done = sqlx::query("UPDATE stations SET registration = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn write(&self, batch: Vec<Write>) -> Result<()> {
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

    async fn find_answer(
        &self,
        station: &StationId,
        message_id: &str,
    ) -> Result<Option<StoredAnswer>> {
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
        sqlx::query(
            "INSERT INTO id_tokens (id_token, type, status, expiry, group_id_token)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id_token, type) DO UPDATE SET status = excluded.status,
                expiry = excluded.expiry, group_id_token = excluded.group_id_token",
        )
        .bind(&token.id_token)
        .bind(&token.kind)
        .bind(&token.status)
        .bind(token.expiry)
        .bind(&token.group_id_token)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_token(
        &self,
        id_token: &str,
        kind: &str,
    ) -> Result<Option<unicharge_core::tokens::IdTokenRecord>> {
        let row = sqlx::query("SELECT * FROM id_tokens WHERE id_token = ? AND type = ?")
            .bind(id_token)
            .bind(kind)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| rows::token(&r)).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<unicharge_core::tokens::IdTokenRecord>> {
        let rows = sqlx::query("SELECT * FROM id_tokens ORDER BY id_token, type")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::token).collect()
    }

    async fn delete_token(&self, id_token: &str, kind: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM id_tokens WHERE id_token = ? AND type = ?")
            .bind(id_token)
            .bind(kind)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn transaction(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Option<TransactionRecord>> {
        let row =
            sqlx::query("SELECT * FROM transactions WHERE station_id = ? AND transaction_id = ?")
                .bind(station.as_str())
                .bind(transaction_id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => {
                let mut t = rows::transaction(&r)?;
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
            .map(rows::transaction)
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
        charging::meter_values(&self.pool, station, filter).await
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
        charging::put_tariff(&self.pool, tariff).await
    }

    async fn tariffs(&self) -> Result<Vec<unicharge_core::tariff::Tariff>> {
        charging::tariffs(&self.pool).await
    }

    async fn delete_tariff(&self, id: &str) -> Result<bool> {
        charging::delete_tariff(&self.pool, id).await
    }

    async fn add_tariff_assignment(
        &self,
        assignment: &unicharge_core::tariff::TariffAssignment,
    ) -> Result<i64> {
        charging::add_tariff_assignment(&self.pool, assignment).await
    }

    async fn tariff_assignments(
        &self,
    ) -> Result<Vec<(i64, unicharge_core::tariff::TariffAssignment)>> {
        charging::tariff_assignments(&self.pool).await
    }

    async fn delete_tariff_assignment(&self, id: i64) -> Result<bool> {
        charging::delete_tariff_assignment(&self.pool, id).await
    }

    async fn charge_record(
        &self,
        id: &str,
    ) -> Result<Option<unicharge_core::charge_record::ChargeRecord>> {
        charging::charge_record(&self.pool, id).await
    }

    async fn charge_records(
        &self,
        station: Option<&StationId>,
        limit: u32,
    ) -> Result<Vec<unicharge_core::charge_record::ChargeRecord>> {
        charging::charge_records(&self.pool, station, limit).await
    }

    async fn transaction_event_seen(
        &self,
        station: &StationId,
        transaction_id: &str,
        seq_no: i64,
    ) -> Result<bool> {
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
