//! Persistence for unicharge, behind the [`Store`] trait.
//!
//! The embedded SQLite back end ([`sqlite::SqliteStore`]) is the default: one file under the data
//! directory, WAL journal, migrations applied at open. PostgreSQL slots in behind the same trait
//! for multi-node deployments.
//!
//! Writes that stations cause go through [`Store::write`], which the SQLite store hands to a
//! dedicated writer thread that commits many callers' batches in one transaction (group commit):
//! one fsync serves hundreds of stations, and every caller still learns that *its* batch is
//! durable before it answers the station ("durable before acknowledged").

pub mod campaigns;
pub mod certificates;
pub mod charging;
mod columns;
pub mod display;
pub mod efc;
mod meter_samples;
mod metered;
pub mod ocpi;
pub mod ocpi_buc;
pub mod ocpi_reservations;
mod ocpi_rows;
pub mod ocpi_signing;
pub mod personal_data;
pub mod postgres;
pub mod records;
pub mod ro;
pub mod site_load;
pub mod smart_charging;
pub mod sqlite;
pub mod tracked;
pub mod views;

use async_trait::async_trait;
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};

pub use campaigns::*;
pub use certificates::*;
pub use charging::*;
pub use display::*;
pub use personal_data::{Erasure, PersonalData};
pub use records::*;
pub use site_load::*;
pub use smart_charging::*;
pub use tracked::*;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// An error of the writer's own connection (rusqlite), see [`sqlite`].
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
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
    /// The ledger refused an operation (nothing was changed).
    #[error(transparent)]
    Ledger(#[from] unicharge_core::ledger::LedgerError),
    /// A guarded write found its row changed since the caller read it (nothing was written):
    /// read again and plan again.
    #[error("changed since read: {0}")]
    Stale(String),
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
    /// A05: the profile the station is being moved to (`None`: no move under way).
    async fn set_pending_security_profile(
        &self,
        id: &StationId,
        profile: Option<SecurityProfile>,
    ) -> Result<bool>;
    /// Record that the station's first-boot provisioning step finished (B02).
    async fn set_provisioned(
        &self,
        id: &StationId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool>;
    /// The OCPP version (`"1.6"`, `"2.0.1"`) the station gets when it offers both (`None`: the
    /// CSMS default, 2.0.1). True if the station exists.
    async fn set_preferred_ocpp_version(
        &self,
        id: &StationId,
        version: Option<&str>,
    ) -> Result<bool>;
    /// Accept, park or refuse the station at its next boot. True if the station exists.
    async fn set_registration(&self, id: &StationId, status: RegistrationStatus) -> Result<bool>;

    // --- what stations report (CSMS side) ---

    /// Apply a batch of writes atomically and durably. Returns once committed.
    async fn write(&self, batch: Vec<Write>) -> Result<()>;
    /// Forget the answers kept for retransmission detection that are older than `before`.
    /// Returns how many were removed.
    async fn prune_answers(&self, before: chrono::DateTime<chrono::Utc>) -> Result<u64>;
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
    /// E14: the station says this open transaction is not ongoing and nothing is queued.
    async fn mark_transaction_forgotten(
        &self,
        station: &StationId,
        transaction_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool>;
    /// Every event of a transaction, in seqNo order.
    async fn transaction_events(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Vec<TransactionEventRecord>>;

    /// Whether the transaction already has an event with this seqNo (one keyed lookup).
    async fn transaction_event_seen(
        &self,
        station: &StationId,
        transaction_id: &str,
        seq_no: i64,
    ) -> Result<bool>;
    /// The running aggregate of the transaction's metering (one row; an unknown transaction
    /// has the empty one), kept in the same commit as its events and samples. `None` when it
    /// is not computed yet (a transaction stored before the aggregate existed): use
    /// [`Store::metered_series`].
    async fn metered_usage(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Option<unicharge_core::metering::MeteredUsage>>;
    /// The transaction's whole metered series (every billing-register reading and plug-state
    /// change; no cap): the rare path, for inputs the aggregate cannot take in order.
    async fn metered_series(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<MeteredSeries>;

    /// The station's FirmwareStatus / LogStatus notices, newest first.
    async fn station_notices(&self, station: &StationId, limit: u32) -> Result<Vec<StationNotice>>;

    // --- meter values (J) ---

    /// Samples of a station, oldest first, narrowed by `filter`.
    async fn meter_values(
        &self,
        station: &StationId,
        filter: &MeterValueFilter,
    ) -> Result<Vec<MeterValueRecord>>;

    // --- local authorization list (D) ---

    /// The list the CSMS keeps for the station (version 0 and no entries if none yet).
    async fn local_list(&self, station: &StationId) -> Result<LocalList>;
    /// Replace the station's list with `entries` at `version` (before it is sent).
    async fn put_local_list(
        &self,
        station: &StationId,
        version: i64,
        entries: &[(String, String)],
    ) -> Result<()>;
    /// Record the station's answer to SendLocalList and/or its reported version.
    async fn set_local_list_station_state(
        &self,
        station: &StationId,
        last_status: Option<&str>,
        station_version: Option<i64>,
    ) -> Result<()>;

    // --- OCPP 1.6 (issue 18) ---

    /// The integer transactionId of a 1.6 StartTransaction: allocated (durably) the first time
    /// this start — station, connector, meter start time, idTag — is seen, the same id after.
    async fn ocpp16_transaction_id(
        &self,
        station: &StationId,
        connector_id: i64,
        id_tag: &str,
        started_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<i64>;

    // --- remote control (F) ---

    /// Keep a RequestStartTransaction before it is sent; returns its remoteStartId.
    async fn create_remote_start(
        &self,
        station: &StationId,
        id_token: &str,
        id_token_type: &str,
        evse_id: Option<i64>,
    ) -> Result<i64>;
    /// The station's answer to it.
    async fn set_remote_start_outcome(
        &self,
        id: i64,
        status: &str,
        transaction_id: Option<&str>,
    ) -> Result<()>;
    async fn remote_start(&self, id: i64) -> Result<Option<RemoteStartRecord>>;
    /// OCPP 1.6: the newest remote start for this station and idToken, on this EVSE or none,
    /// created at or after `since`, not refused (Requested or Accepted) and not yet linked to a
    /// transaction — the one a 1.6 StartTransaction (which names none) answers.
    async fn open_remote_start(
        &self,
        station: &StationId,
        id_token: &str,
        evse_id: i64,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<i64>>;

    // --- reservations (H) ---

    /// Keep a reservation (status Requested) before ReserveNow is sent; returns its id.
    async fn create_reservation(&self, reservation: &ReservationRecord) -> Result<i64>;
    async fn set_reservation_status(
        &self,
        station: &StationId,
        id: i64,
        status: &str,
    ) -> Result<bool>;
    async fn reservation(&self, station: &StationId, id: i64) -> Result<Option<ReservationRecord>>;
    /// The station's reservations, newest first.
    async fn reservations(&self, station: &StationId) -> Result<Vec<ReservationRecord>>;

    // --- tariffs and charge records (I) ---

    /// Create or replace a tariff.
    async fn put_tariff(&self, tariff: &unicharge_core::tariff::Tariff) -> Result<()>;
    async fn tariffs(&self) -> Result<Vec<unicharge_core::tariff::Tariff>>;
    /// Remove a tariff and its assignments. True if it existed.
    async fn delete_tariff(&self, id: &str) -> Result<bool>;
    /// Assign a tariff; returns the assignment's id.
    async fn add_tariff_assignment(
        &self,
        assignment: &unicharge_core::tariff::TariffAssignment,
    ) -> Result<i64>;
    /// Every assignment with its id, oldest first (later ones win ties).
    async fn tariff_assignments(
        &self,
    ) -> Result<Vec<(i64, unicharge_core::tariff::TariffAssignment)>>;
    async fn delete_tariff_assignment(&self, id: i64) -> Result<bool>;
    async fn charge_record(
        &self,
        id: &str,
    ) -> Result<Option<unicharge_core::charge_record::ChargeRecord>>;
    /// Charge records, newest first, of one station or all.
    /// Diameter Rf accounting records, newest first, optionally of one session.
    async fn accounting_records(
        &self,
        session_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccountingRecordRow>>;
    async fn charge_records(
        &self,
        station: Option<&StationId>,
        limit: u32,
    ) -> Result<Vec<unicharge_core::charge_record::ChargeRecord>>;
    /// Diameter Rf accounting sessions, most recently active first; `state` is `OPEN` or
    /// `CLOSED` to filter.
    async fn accounting_sessions(
        &self,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccountingSessionRow>>;
    // --- Diameter Ro online charging (issue 14) ---

    /// Create or replace the subscriber of a Subscription-Id.
    async fn ro_put_subscriber(&self, s: &unicharge_core::online::Subscriber) -> Result<()>;
    async fn ro_subscriber(
        &self,
        id_type: &str,
        id_data: &str,
    ) -> Result<Option<unicharge_core::online::Subscriber>>;
    async fn ro_subscribers(&self) -> Result<Vec<unicharge_core::online::Subscriber>>;
    /// Create or replace a tariff (by id).
    async fn ro_put_tariff(&self, t: &unicharge_core::online::OnlineTariff) -> Result<()>;
    /// Every tariff, shared: the OCF reads them on each CCR, from memory after the first.
    async fn ro_tariffs(&self)
        -> Result<std::sync::Arc<Vec<unicharge_core::online::OnlineTariff>>>;
    async fn ro_session(&self, session_id: &str) -> Result<Option<ro::RoSessionRow>>;
    /// The open sessions charged to `account` (RAR on a top-up), by index, at most `limit`.
    async fn ro_open_sessions_of(&self, account: &str, limit: u32)
        -> Result<Vec<ro::RoSessionRow>>;
    /// Sessions, most recently active first; `state` `OPEN` or `CLOSED` filters.
    async fn ro_sessions(&self, state: Option<&str>, limit: u32) -> Result<Vec<ro::RoSessionRow>>;
    /// Open sessions past their Tcc deadline.
    async fn ro_expired_sessions(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ro::RoSessionRow>>;
    /// Mark an open session for termination by the operator; false if none is open.
    async fn ro_request_termination(&self, session_id: &str) -> Result<bool>;
    /// A session and every answer kept for it (one read), for a node that starts holding the
    /// session in memory.
    async fn ro_session_with_answers(
        &self,
        session_id: &str,
    ) -> Result<(Option<ro::RoSessionRow>, Vec<ro::RoAnswerRow>)>;
    /// The answer kept for (Session-Id, CC-Request-Number).
    async fn ro_answer(
        &self,
        session_id: &str,
        request_number: i64,
    ) -> Result<Option<ro::RoAnswerRow>>;

    /// Charge records, newest first, of the stations whose id starts with `prefix` (e.g.
    /// `diameter:` for the ones the Diameter CDF produced).
    async fn charge_records_with_station_prefix(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<unicharge_core::charge_record::ChargeRecord>>;

    // --- ISO 17575-1 road-usage charging (EFC) ---

    /// Create or replace an OBE's registration.
    async fn upsert_efc_obe(&self, obe: &efc::EfcObe) -> Result<()>;
    async fn efc_obe(&self, obe_key: &str) -> Result<Option<efc::EfcObe>>;
    async fn efc_obes(&self) -> Result<Vec<efc::EfcObe>>;
    /// The newest `limit` reports of an OBE (all OBEs when `None`), newest first.
    async fn efc_reports(
        &self,
        obe_key: Option<&str>,
        limit: u32,
    ) -> Result<Vec<efc::EfcReportRecord>>;
    /// The newest report of an OBE carrying this counter.
    async fn efc_report_by_counter(
        &self,
        obe_key: &str,
        counter: u32,
    ) -> Result<Option<efc::EfcReportRecord>>;
    /// The newest report of a contract that carried a mileage.
    async fn efc_last_mileage(&self, contract_key: &str) -> Result<Option<efc::EfcReportRecord>>;
    /// Queue an answer for an OBE; returns its id.
    async fn enqueue_efc_update(&self, update: &efc::EfcQueuedUpdate) -> Result<i64>;
    /// Updates not yet done, oldest first.
    async fn efc_pending_updates(&self, obe_key: &str) -> Result<Vec<efc::EfcQueuedUpdate>>;
    /// Create or replace a contract and its ledger accounts.
    async fn upsert_efc_contract(&self, contract: &efc::EfcContract) -> Result<()>;
    async fn efc_contract(&self, contract_key: &str) -> Result<Option<efc::EfcContract>>;
    async fn efc_contracts(&self) -> Result<Vec<efc::EfcContract>>;
    // --- the core ledger (accounts, reservations, movements) ---

    /// Create an empty account (balance 0; top it up with [`Store::ledger_apply`]). Refused
    /// with `StoreError::Ledger(AccountExists)` if the id is taken.
    async fn ledger_open(&self, account: &unicharge_core::ledger::Account) -> Result<()>;
    /// Change an account's free-text label. True if the account exists.
    async fn ledger_set_label(&self, id: &str, label: &str) -> Result<bool>;
    /// Apply one operation durably (group-committed) and return its movement. A request whose
    /// reference the account already has returns the stored movement and changes nothing; a
    /// refusal is `StoreError::Ledger` and changes nothing. To apply it atomically with other
    /// writes, put a [`Write::Ledger`] in their batch instead.
    async fn ledger_apply(
        &self,
        request: &unicharge_core::ledger::Request,
    ) -> Result<unicharge_core::ledger::Movement>;
    /// An account with its open reservations.
    async fn ledger_account(&self, id: &str) -> Result<Option<unicharge_core::ledger::Account>>;
    /// Every account (without reservations), by id.
    async fn ledger_accounts(&self) -> Result<Vec<unicharge_core::ledger::Account>>;
    /// The newest `limit` movements of an account, newest first.
    async fn ledger_movements(
        &self,
        account: &str,
        limit: u32,
    ) -> Result<Vec<unicharge_core::ledger::Movement>>;
    /// The movement an account recorded for a reference (what caused it), if any.
    async fn ledger_movement(
        &self,
        account: &str,
        reference: &str,
    ) -> Result<Option<unicharge_core::ledger::Movement>>;

    // --- smart charging (K) ---

    /// Keep a charging profile (status `Requested`) before it is sent; one with the same id is
    /// replaced, as the station replaces it (K01.FR.05).
    async fn put_charging_profile(&self, profile: &ChargingProfileRecord) -> Result<()>;
    /// The station's answer to it (or why there was none).
    async fn set_charging_profile_status(
        &self,
        station: &StationId,
        profile_id: i64,
        status: &str,
        status_info: Option<&str>,
    ) -> Result<bool>;
    /// The station's profiles not cleared, by id.
    async fn charging_profiles(&self, station: &StationId) -> Result<Vec<ChargingProfileRecord>>;
    /// Mark profiles cleared (the station accepted a ClearChargingProfile that matched them).
    async fn clear_charging_profiles(
        &self,
        station: &StationId,
        profile_ids: &[i64],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64>;
    /// Keep a GetChargingProfiles request before it is sent.
    async fn create_charging_profile_report(&self, report: &ChargingProfileReport) -> Result<()>;
    /// The station's answer; `NoProfiles` completes the report (no parts follow).
    async fn set_charging_profile_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()>;
    /// A fresh GetChargingProfiles requestId for the station.
    async fn next_charging_profile_request_id(&self, station: &StationId) -> Result<i64>;
    /// A report with its parts in arrival order.
    async fn charging_profile_report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<Option<(ChargingProfileReport, Vec<ChargingProfileReportPart>)>>;
    /// Keep a composite schedule answer; returns its id.
    async fn add_composite_schedule(&self, schedule: &CompositeScheduleRecord) -> Result<i64>;
    /// The station's composite schedules, newest first.
    async fn composite_schedules(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<CompositeScheduleRecord>>;
    /// External charging limits of the station (cleared ones too), by EVSE and source.
    async fn charging_limits(&self, station: &StationId) -> Result<Vec<ChargingLimitRecord>>;

    // --- site load management ---

    /// Create or replace a site group.
    async fn put_site_group(&self, group: &SiteGroup) -> Result<()>;
    async fn site_groups(&self) -> Result<Vec<SiteGroup>>;
    /// True if it existed.
    async fn delete_site_group(&self, id: &str) -> Result<bool>;
    async fn add_site_allocation(&self, allocation: &SiteAllocationRecord) -> Result<()>;
    /// The group's latest `limit` allocation changes, oldest first.
    async fn site_allocations(
        &self,
        group_id: &str,
        limit: u32,
    ) -> Result<Vec<SiteAllocationRecord>>;

    // --- firmware (L) and diagnostics (N) ---

    /// Keep a request the station will follow up on under its requestId, before it is sent.
    async fn create_tracked_request(&self, request: &tracked::TrackedRequest) -> Result<()>;
    /// The station's answer to it (or why there was none); `complete` ends it (a refusal).
    async fn set_tracked_answer(
        &self,
        station: &StationId,
        kind: tracked::TrackedKind,
        request_id: i64,
        answer: &str,
        complete: bool,
    ) -> Result<bool>;
    /// A fresh requestId for the station and kind (one more than any used).
    async fn next_tracked_request_id(
        &self,
        station: &StationId,
        kind: tracked::TrackedKind,
    ) -> Result<i64>;
    /// The newest `limit` requests of a kind, newest first.
    async fn tracked_requests(
        &self,
        station: &StationId,
        kind: tracked::TrackedKind,
        limit: u32,
    ) -> Result<Vec<tracked::TrackedRequest>>;
    /// One request with what the station sent under it, in arrival order.
    async fn tracked_request(
        &self,
        station: &StationId,
        kind: tracked::TrackedKind,
        request_id: i64,
    ) -> Result<Option<(tracked::TrackedRequest, Vec<tracked::TrackedPart>)>>;
    /// Keep a monitor the station accepted (replaces one with the same id).
    async fn put_variable_monitor(&self, monitor: &tracked::VariableMonitorRecord) -> Result<()>;
    /// Mark monitors cleared (the station accepted a ClearVariableMonitoring for them).
    async fn clear_variable_monitors(
        &self,
        station: &StationId,
        monitor_ids: &[i64],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64>;
    /// The station's monitors not cleared, by id.
    async fn variable_monitors(
        &self,
        station: &StationId,
    ) -> Result<Vec<tracked::VariableMonitorRecord>>;
    // --- ISO 15118 certificate management (M) ---

    /// Record a certificate the station holds (installed by the CSMS or reported by the
    /// station); seen again, it is no longer deleted.
    async fn put_installed_certificate(&self, certificate: &InstalledCertificate) -> Result<()>;
    /// Every certificate the CSMS knows the station holds or held (deleted ones too).
    async fn installed_certificates(
        &self,
        station: &StationId,
    ) -> Result<Vec<InstalledCertificate>>;
    /// The station accepted a DeleteCertificate for this hash data. True if it was known.
    async fn mark_certificate_deleted(
        &self,
        station: &StationId,
        hash: &CertificateHash,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool>;

    // --- display messages (O) ---

    /// Keep a display message (status `Requested`) before it is sent; one with the same id is
    /// replaced, as the station replaces it.
    async fn put_display_message(&self, message: &DisplayMessageRecord) -> Result<()>;
    /// The station's answer to it (or why there was none).
    async fn set_display_message_status(
        &self,
        station: &StationId,
        message_id: i64,
        status: &str,
        status_info: Option<&str>,
    ) -> Result<bool>;
    /// Every display message the CSMS sent the station (cleared ones too), by id.
    async fn display_messages(&self, station: &StationId) -> Result<Vec<DisplayMessageRecord>>;
    /// The station no longer holds the message. True if it was not cleared already.
    async fn clear_display_message(
        &self,
        station: &StationId,
        message_id: i64,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool>;
    /// Keep a GetDisplayMessages request before it is sent; its requestId is allocated here
    /// (one more than any the station was sent) and returned.
    async fn create_display_message_report(&self, report: &DisplayMessageReport) -> Result<i64>;
    /// The station's answer; `Unknown` completes the report (no parts follow).
    async fn set_display_message_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()>;
    /// A report with its parts in arrival order.
    async fn display_message_report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<Option<(DisplayMessageReport, Vec<DisplayMessageReportPart>)>>;

    // --- operator API keys ---

    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<()>;
    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>>;
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>>;
    /// Mark a key revoked. True if it existed and was active.
    async fn revoke_api_key(&self, id: &str) -> Result<bool>;

    // --- operator views (web UI): pages, never whole tables ---

    /// One page of stations, filtered, searched and sorted, with the number that match.
    async fn station_page(&self, query: &views::StationQuery) -> Result<views::StationPage>;
    /// Stations, faults, open transactions; energy and revenue of the records since `since`.
    async fn fleet_figures(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<views::FleetFigures>;
    /// Energy and record count per UTC day of the charge records since `since`.
    async fn daily_figures(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<views::DailyFigures>>;
    /// One page of every station's transactions, newest first (only open ones if asked).
    async fn transaction_page(
        &self,
        active_only: bool,
        limit: u32,
        offset: u64,
    ) -> Result<views::TransactionPage>;
    /// One page of charge records, newest first.
    async fn charge_record_page(&self, limit: u32, offset: u64) -> Result<views::ChargeRecordPage>;
    // --- GDPR: personal data of an idToken ---

    /// Everything stored about an idToken (right of access), read consistently.
    async fn personal_data(&self, id_token: &str) -> Result<PersonalData>;
    /// Right to be forgotten, in one transaction with its audit row: delete the token, its
    /// local-list entries and reservations; replace it everywhere else by its keyed pseudonym
    /// under `key` ([`personal_data::pseudonym`]). Idempotent (a second call finds nothing).
    async fn erase_personal_data(
        &self,
        id_token: &str,
        key: &[u8],
        erased_by: &str,
    ) -> Result<Erasure>;
    // --- uploaded log files (N01) and firmware rollout campaigns (L01) ---

    /// Keep a log file a station uploaded (its content already durable); returns its id.
    async fn add_log_file(&self, file: &campaigns::LogFileRecord) -> Result<i64>;
    /// The newest `limit` log files a station uploaded, newest first.
    async fn log_files(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<campaigns::LogFileRecord>>;
    async fn log_file(&self, id: i64) -> Result<Option<campaigns::LogFileRecord>>;
    /// Keep a new campaign with its stations (one transaction); returns its id.
    async fn create_campaign(
        &self,
        campaign: &campaigns::CampaignRecord,
        stations: &[campaigns::CampaignStationRecord],
    ) -> Result<i64>;
    /// Replace the rows of these campaign stations (one transaction).
    async fn put_campaign_stations(
        &self,
        stations: &[campaigns::CampaignStationRecord],
    ) -> Result<()>;
    /// True if the campaign exists.
    async fn set_campaign_state(&self, id: i64, state: &str) -> Result<bool>;
    /// Every campaign, newest first.
    async fn campaigns(&self) -> Result<Vec<campaigns::CampaignRecord>>;
    async fn campaign(&self, id: i64) -> Result<Option<campaigns::CampaignRecord>>;
    /// A campaign's stations in start order.
    async fn campaign_stations(&self, id: i64) -> Result<Vec<campaigns::CampaignStationRecord>>;
}
