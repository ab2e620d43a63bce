//! Rows the store keeps, and the writes stations cause.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::{RegistrationStatus, StationId};

/// One state-changing write. A batch of them is applied atomically by [`crate::Store::write`].
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// A BootNotification: what the station says it is, and what it was told.
    StationBooted {
        station_id: StationId,
        at: DateTime<Utc>,
        reason: String,
        model: String,
        vendor_name: String,
        serial_number: Option<String>,
        firmware_version: Option<String>,
        status: RegistrationStatus,
    },
    /// The station's WebSocket connection opened or closed.
    Connection {
        station_id: StationId,
        at: DateTime<Utc>,
        connected: bool,
    },
    /// The OCPP version (`"1.6"`, `"2.0.1"`) of the station's newest connection: a station that
    /// speaks both may switch between connections and keeps its identity (issue 18).
    StationOcppVersion {
        station_id: StationId,
        version: String,
    },
    /// A StatusNotification.
    ConnectorStatus {
        station_id: StationId,
        evse_id: i64,
        connector_id: i64,
        status: String,
        at: DateTime<Utc>,
    },
    /// One EventData of a NotifyEvent.
    Event(EventRecord),
    /// A SecurityEventNotification.
    SecurityEvent(SecurityEventRecord),
    /// The answer given to a CALL, kept to answer its retransmissions identically.
    Answer(StoredAnswer),
    /// A CSMS-initiated call and its outcome.
    Command(CommandRecord),
    /// One device-model attribute learnt from the station.
    Variable(VariableRecord),
    /// One NotifyReport part; the report is complete when `tbc` is false.
    ReportPart(ReportPart),
    /// A certificate issued to a station, with what the station answered.
    IssuedCertificate(IssuedCertificate),
    /// A TransactionEvent: the event is kept and its transaction created or updated. A second
    /// event with the same (station, transaction, seqNo) is not counted twice.
    TransactionEvent(TransactionEventRecord),
    /// What the CSMS learnt about a transaction beyond its events: the token type and group,
    /// the remoteStartId and reservationId it carried (which are then linked to it), and the
    /// tariff fixed for it. Only empty fields are filled: the first value stays.
    TransactionFacts(TransactionFacts),
    /// One sampled value; the same sample again (same EVSE, time, measurand, phase, location,
    /// context) is ignored.
    MeterValue(Box<crate::MeterValueRecord>),
    /// A ReservationStatusUpdate (or the CSMS's own conclusion about a reservation).
    ReservationStatus {
        station_id: StationId,
        reservation_id: i64,
        status: String,
    },
    /// A FirmwareStatusNotification, LogStatusNotification or similar progress report.
    StationNotice(StationNotice),
    /// The charge record of an ended transaction, one per transaction: a later one (completed by
    /// offline events that arrived after the Ended one) replaces it.
    ChargeRecord(Box<unicharge_core::charge_record::ChargeRecord>),
    /// An ISO 17575-1 charge report, its answer and its usage statements as charge records.
    EfcReport(Box<crate::efc::EfcReportRecord>),
    /// A ledger operation, applied with the rest of the batch or (refused: `StoreError::Ledger`)
    /// rolling the batch back. A reference already applied to the account changes nothing.
    Ledger(Box<unicharge_core::ledger::Request>),
    /// One ReportChargingProfiles part (K09); the report is complete when `tbc` is false.
    ChargingProfileReportPart(crate::ChargingProfileReportPart),
    /// A status notification or report part under a tracked request (L, N).
    TrackedPart(crate::TrackedPart),
    /// A monitor a station reported (NotifyMonitoringReport, N02).
    VariableMonitor(crate::VariableMonitorRecord),
    /// A NotifyChargingLimit (K12): the limit of its source on its EVSE, set or replaced.
    ChargingLimit(crate::ChargingLimitRecord),
    /// A ClearedChargingLimit (K13): the source's limit released, on one EVSE or (`None`) on
    /// every EVSE.
    ChargingLimitCleared {
        station_id: StationId,
        evse_id: Option<i64>,
        source: String,
        at: DateTime<Utc>,
    },
    /// One NotifyDisplayMessages part (O03/O04); the report is complete when `tbc` is false.
    DisplayMessageReportPart(crate::DisplayMessageReportPart),
    /// A Diameter Rf accounting record (ACR) the CDF is about to acknowledge. A repeat of
    /// (session_id, record_number) is ignored.
    AccountingRecord(Box<AccountingRecordRow>),
    /// A Diameter Rf accounting session closed without a record of its own: it stopped
    /// reporting, the supervision timer ran out and the CDF sent an ASR.
    AccountingSessionClosed {
        session_id: String,
        /// `SUPERVISION_TIMEOUT`.
        reason: String,
        at: DateTime<Utc>,
    },
    /// A guard, not a change: the batch fails with [`crate::StoreError::Stale`] (and writes
    /// nothing) unless ledger account `account` is still at movement `seq`. Lets a caller that
    /// planned ledger operations on an account it holds in memory commit them only if nothing
    /// else moved the account since (the Ro OCF, ADR 0046).
    LedgerUnchanged { account: String, seq: u64 },
    /// A Diameter Ro credit-control session after a CCR (or its Tcc supervision), written with
    /// the CCR's ledger operations and its answer. Guarded by its `version`: version 1 inserts
    /// a new session, version n > 1 updates the row only if it is still at n - 1; otherwise the
    /// batch fails with [`crate::StoreError::Stale`].
    RoSession(Box<crate::ro::RoSessionRow>),
    /// The CCA given to a (Session-Id, CC-Request-Number), replayed to retransmissions.
    RoAnswer(Box<crate::ro::RoAnswerRow>),
}

/// See [`Write::AccountingRecord`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountingRecordRow {
    pub session_id: String,
    pub record_number: i64,
    /// 1 EVENT_RECORD, 2 START_RECORD, 3 INTERIM_RECORD, 4 STOP_RECORD.
    pub record_type: i64,
    pub origin_host: String,
    pub origin_realm: String,
    pub received_at: DateTime<Utc>,
    /// The decoded ACR fields (Event-Timestamp, Subscription-Id, Service-Context-Id, …).
    pub data: AccountingRecordData,
}

/// The fields of an ACR the CDF keeps beyond the row's key columns (stored as JSON text in
/// `diameter_accounting_records.data`). Names follow TS 32.299 / RFC 6733, camelCased.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountingRecordData {
    /// Accounting-Record-Type by name (`START_RECORD`, …).
    pub record_type: String,
    /// Event-Timestamp, if the CTF sent one.
    pub event_timestamp: Option<DateTime<Utc>>,
    /// Service-Context-Id (e.g. `32260@3gpp.org` for IMS).
    pub service_context_id: Option<String>,
    /// Subscription-Id, top level and inside Service-Information, in order, without repeats.
    #[serde(default)]
    pub subscription_ids: Vec<SubscriptionIdData>,
    /// IMS-Information / Node-Functionality (TS 32.299 §7.2.124).
    pub node_functionality: Option<i32>,
    /// User-Name.
    pub user_name: Option<String>,
    /// Acct-Interim-Interval the CTF asked for, if any.
    #[serde(default)]
    pub acct_interim_interval: Option<u32>,
}

/// A Diameter Rf accounting session as the CDF stored it (one row per Session-Id, updated with
/// every record in the record's own transaction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountingSessionRow {
    pub session_id: String,
    /// The CTF that reported it.
    pub origin_host: String,
    pub origin_realm: String,
    /// The subscriber: the session's first Subscription-Id.
    pub subscription_id: Option<SubscriptionIdData>,
    pub service_context_id: Option<String>,
    pub first_record_number: i64,
    /// The Accounting-Record-Number of the record stored last.
    pub last_record_number: i64,
    /// How many records were stored.
    pub records: i64,
    /// `OPEN` or `CLOSED`.
    pub state: String,
    /// `STOP_RECORD`, `EVENT_RECORD` or `SUPERVISION_TIMEOUT` once closed.
    pub closed_reason: Option<String>,
    /// Event-Timestamp of the first record (its arrival time if it had none).
    pub started_at: DateTime<Utc>,
    /// When the last record arrived (or the supervision timer closed the session).
    pub last_record_at: DateTime<Utc>,
}

/// One Subscription-Id (RFC 8506 §8.46): its type by name and its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionIdData {
    /// Subscription-Id-Type by name (`END_USER_E164`, `END_USER_IMSI`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Subscription-Id-Data.
    pub data: String,
}

/// See [`Write::StationNotice`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StationNotice {
    pub station_id: StationId,
    /// The OCPP action that reported it.
    pub kind: String,
    pub status: String,
    pub request_id: Option<i64>,
    /// The whole request, JSON text.
    pub data: String,
    pub received_at: DateTime<Utc>,
}

/// See [`Write::TransactionFacts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionFacts {
    pub station_id: StationId,
    pub transaction_id: String,
    pub id_token_type: Option<String>,
    pub group_id_token: Option<String>,
    pub remote_start_id: Option<i64>,
    pub reservation_id: Option<i64>,
    pub tariff_id: Option<String>,
}

/// One TransactionEventRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionEventRecord {
    pub station_id: StationId,
    pub transaction_id: String,
    pub seq_no: i64,
    /// `Started`, `Updated`, `Ended`.
    pub event_type: String,
    pub trigger_reason: String,
    pub timestamp: DateTime<Utc>,
    pub offline: bool,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub id_token: Option<String>,
    pub charging_state: Option<String>,
    pub stopped_reason: Option<String>,
    /// The request as JSON text, without its `meterValue`: the samples are stored once, as
    /// meter values of the transaction (rows stored before migration 0012 still carry them).
    pub data: String,
    /// How many meterValue elements the event carried.
    pub meter_values: i64,
    pub received_at: DateTime<Utc>,
}

/// A transaction as the CSMS knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionRecord {
    pub station_id: StationId,
    pub transaction_id: String,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub id_token: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub charging_state: Option<String>,
    pub stopped_reason: Option<String>,
    pub last_seq_no: i64,
    pub events: i64,
    /// The first event seen was not `Started`: created from a later event, flagged.
    pub started_unseen: bool,
    pub id_token_type: Option<String>,
    pub group_id_token: Option<String>,
    /// The remoteStartId of the RequestStartTransaction that started it.
    pub remote_start_id: Option<i64>,
    /// The reservation it used.
    pub reservation_id: Option<i64>,
    /// The tariff fixed for it when it was first seen.
    pub tariff_id: Option<String>,
    /// seqNos missing between the lowest and highest received: events still queued at the
    /// station, or lost.
    pub seq_no_gaps: Vec<i64>,
    /// E14: when the station answered that this transaction, still open here, is not ongoing
    /// and has nothing queued (its Ended event is lost).
    pub station_forgot_at: Option<DateTime<Utc>>,
}

/// A certificate the CSMS's certificate authority issued to a station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    pub station_id: StationId,
    /// Hex serial number.
    pub serial: String,
    pub subject: String,
    pub not_after: DateTime<Utc>,
    /// PEM.
    pub certificate: String,
    pub issued_at: DateTime<Utc>,
    /// The station's CertificateSignedResponse status (`Accepted` / `Rejected`), or why the
    /// certificate could not be delivered.
    pub station_status: Option<String>,
    /// OCPP CertificateSigningUseEnumType: `ChargingStationCertificate` or `V2GCertificate`.
    pub certificate_type: String,
}

/// One attribute of one variable of the station's device model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableRecord {
    pub station_id: StationId,
    pub component: String,
    pub component_instance: Option<String>,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub variable: String,
    pub variable_instance: Option<String>,
    /// `Actual` (default), `Target`, `MinSet`, `MaxSet`.
    pub attribute_type: String,
    pub value: Option<String>,
    pub mutability: Option<String>,
    /// `GetVariables`, `SetVariables` or `NotifyReport`.
    pub source: String,
    pub updated_at: DateTime<Utc>,
}

/// A report the CSMS asked a station for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRecord {
    pub station_id: StationId,
    pub request_id: i64,
    /// The GetBaseReport / GetReport request, JSON text.
    pub request: String,
    /// The station's answer (`Accepted`, `EmptyResultSet`, …), once known.
    pub status: Option<String>,
    pub complete: bool,
    pub requested_at: DateTime<Utc>,
}

/// One NotifyReportRequest of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportPart {
    pub station_id: StationId,
    pub request_id: i64,
    pub seq_no: i64,
    pub tbc: bool,
    pub generated_at: DateTime<Utc>,
    /// JSON array of ReportDataType.
    pub report_data: String,
}

/// One CSMS-initiated call, as the command log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// Order in the log (assigned by the store; 0 before it is stored).
    pub seq: i64,
    pub station_id: StationId,
    pub action: String,
    /// The request payload, JSON text.
    pub request: String,
    /// `result`, `call_error`, `timeout`, `not_connected`, `invalid_response`, `closed`.
    pub outcome: String,
    /// The CALLRESULT payload, or `{code, description, details}` of a CALLERROR, JSON text.
    pub response: Option<String>,
    /// Who asked: an API key id, or `csms` for calls the CSMS makes on its own.
    pub requested_by: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
}

/// An operator API key. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    /// `admin`, `operator` or `read-only`.
    pub role: String,
    #[serde(skip_serializing)]
    pub salt: String,
    #[serde(skip_serializing)]
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The answer given to one CALL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub station_id: StationId,
    pub message_id: String,
    pub action: String,
    /// Hex SHA-256 of the request payload text: a reused message id with another payload is a
    /// new CALL, not a retransmission.
    pub request_hash: String,
    /// The CALLRESULT payload, as JSON text.
    pub response: String,
    pub answered_at: DateTime<Utc>,
}

/// Latest status of one connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorRecord {
    pub evse_id: i64,
    pub connector_id: i64,
    pub status: String,
    pub status_at: DateTime<Utc>,
}

/// One EventData of a NotifyEventRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub station_id: StationId,
    pub generated_at: DateTime<Utc>,
    /// `seqNo` of the NotifyEventRequest it came in.
    pub report_seq_no: i64,
    pub event_id: i64,
    pub timestamp: DateTime<Utc>,
    pub trigger: String,
    pub event_notification_type: String,
    pub component: String,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub variable: String,
    pub actual_value: String,
    pub cleared: Option<bool>,
    /// The whole EventData as JSON text (nothing the station said is lost).
    pub data: String,
}

/// One SecurityEventNotification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityEventRecord {
    pub station_id: StationId,
    pub kind: String,
    pub timestamp: DateTime<Utc>,
    pub tech_info: Option<String>,
    pub received_at: DateTime<Utc>,
}
