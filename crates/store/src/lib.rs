//! Persistence for unicharge, behind the [`Store`] trait.
//!
//! The embedded SQLite back end ([`sqlite::SqliteStore`]) is the default: one file under the data
//! directory, WAL journal, migrations applied at open. PostgreSQL slots in behind the same trait
//! for multi-node deployments.
//!
//! Writes that stations cause go through [`Store::write`], which the SQLite store hands to a
//! dedicated writer task that commits many callers' batches in one transaction (group commit):
//! one fsync serves hundreds of stations, and every caller still learns that *its* batch is
//! durable before it answers the station ("durable before acknowledged").

pub mod records;
pub mod sqlite;

use async_trait::async_trait;
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};

pub use records::*;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("station {0} is already registered")]
    StationExists(StationId),
    #[error("station {0} is not registered")]
    UnknownStation(StationId),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is shut down")]
    Closed,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything the CSMS and the operator tools keep.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- the station registry (operator side) ---

    /// Register a new station. Fails with [`StoreError::StationExists`] if the id is taken.
    async fn create_station(&self, station: &Station) -> Result<()>;
    /// Register or update the operator-managed fields (profile, password hash, registration).
    async fn upsert_station(&self, station: &Station) -> Result<()>;
    async fn get_station(&self, id: &StationId) -> Result<Option<Station>>;
    async fn list_stations(&self) -> Result<Vec<Station>>;
    /// Remove a station and everything it reported. True if it existed.
    async fn delete_station(&self, id: &StationId) -> Result<bool>;
    /// Replace the Basic-auth password hash. True if the station exists.
    async fn set_password_hash(&self, id: &StationId, hash: Option<&str>) -> Result<bool>;
    /// Change the lowest security profile a connection must offer. True if the station exists.
    async fn set_security_profile(&self, id: &StationId, profile: SecurityProfile) -> Result<bool>;
    /// Record that the station's first-boot provisioning step finished (B02).
    async fn set_provisioned(
        &self,
        id: &StationId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool>;
    /// Accept, park or refuse the station at its next boot. True if the station exists.
    async fn set_registration(&self, id: &StationId, status: RegistrationStatus) -> Result<bool>;

    // --- what stations report (CSMS side) ---

    /// Apply a batch of writes atomically and durably. Returns once committed.
    async fn write(&self, batch: Vec<Write>) -> Result<()>;
    /// The answer stored for a CALL with this station and message id, if any.
    async fn find_answer(
        &self,
        station: &StationId,
        message_id: &str,
    ) -> Result<Option<StoredAnswer>>;
    async fn connectors(&self, station: &StationId) -> Result<Vec<ConnectorRecord>>;
    /// The newest `limit` events of a station, newest first.
    async fn events(&self, station: &StationId, limit: u32) -> Result<Vec<EventRecord>>;
    /// The newest `limit` security events of a station, newest first.
    async fn security_events(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<SecurityEventRecord>>;
    /// The newest `limit` commands sent to a station, newest first.
    async fn commands(&self, station: &StationId, limit: u32) -> Result<Vec<CommandRecord>>;

    /// The device model known of a station.
    async fn device_model(&self, station: &StationId) -> Result<Vec<VariableRecord>>;
    /// Record a report request; `request_id` must be new for the station.
    async fn create_report(&self, report: &ReportRecord) -> Result<()>;
    /// Set the station's answer to a report request.
    async fn set_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()>;
    /// A fresh report request id for the station (one more than any used).
    async fn next_report_request_id(&self, station: &StationId) -> Result<i64>;
    /// A report and its parts in seqNo order.
    async fn report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<Option<(ReportRecord, Vec<ReportPart>)>>;

    /// Certificates issued to a station, newest first.
    async fn issued_certificates(&self, station: &StationId) -> Result<Vec<IssuedCertificate>>;

    // --- idTokens and transactions ---

    /// Create or replace a token (by value, case-insensitively, and type).
    async fn upsert_token(&self, token: &unicharge_core::tokens::IdTokenRecord) -> Result<()>;
    /// Find a token by value (case-insensitive) and type.
    async fn find_token(
        &self,
        id_token: &str,
        kind: &str,
    ) -> Result<Option<unicharge_core::tokens::IdTokenRecord>>;
    async fn list_tokens(&self) -> Result<Vec<unicharge_core::tokens::IdTokenRecord>>;
    /// Remove a token. True if it existed.
    async fn delete_token(&self, id_token: &str, kind: &str) -> Result<bool>;
    async fn transaction(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Option<TransactionRecord>>;
    /// The station's transactions, newest first.
    async fn transactions(&self, station: &StationId, limit: u32)
        -> Result<Vec<TransactionRecord>>;
    /// Every event of a transaction, in seqNo order.
    async fn transaction_events(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Vec<TransactionEventRecord>>;

    // --- operator API keys ---

    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<()>;
    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>>;
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>>;
    /// Mark a key revoked. True if it existed and was active.
    async fn revoke_api_key(&self, id: &str) -> Result<bool>;
}
