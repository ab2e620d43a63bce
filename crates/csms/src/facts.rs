//! Committed facts: what became true at the CSMS, published in-process once it is durable.
//!
//! Features that react to what stations do — smart charging rules on a transaction start, OCPI
//! pushes of session and CDR updates, live operator views — subscribe here
//! ([`crate::Csms::subscribe`]) instead of polling the store or hooking into HTTP handlers. A
//! fact is published only after the write that made it true was committed, so a subscriber never
//! sees something the store could still lose. Later, with several nodes, the same facts go out on
//! NATS subjects.
//!
//! The channel is a bounded broadcast: a subscriber that falls more than
//! [`FACT_BUFFER`] facts behind is told how many it missed (`RecvError::Lagged`) and should
//! re-read the store for what it cares about.
//!
//! With several nodes (ADR 0048) there are two views: [`crate::Csms::subscribe`] gives the facts
//! of this node only — for work that must happen once (an OCPI push enqueued, a site rebalanced:
//! the node where the fact happened does it) — and [`crate::Csms::subscribe_cluster`] gives the
//! facts of every node, for views (the operator UI's live updates).

use rust_decimal::Decimal;
use unicharge_core::{RegistrationStatus, SecurityProfile, StationId};

/// How many facts a slow subscriber may fall behind before it misses some.
pub const FACT_BUFFER: usize = 4096;

/// Something that became true, durably. Serialised (tagged JSON) to travel between nodes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(
    tag = "fact",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Fact {
    /// A station's WebSocket connection is up (it passed admission).
    StationConnected {
        station: StationId,
        profile: SecurityProfile,
    },
    /// A station's BootNotification was answered.
    StationBooted {
        station: StationId,
        status: RegistrationStatus,
    },
    /// A station's connection ended.
    StationDisconnected { station: StationId, reason: String },
    /// A connector reported a new status (StatusNotification).
    ConnectorStatusChanged {
        station: StationId,
        evse_id: i64,
        connector_id: i64,
        /// OCPP ConnectorStatusEnumType, e.g. `Available`, `Occupied`.
        status: String,
    },
    /// The first event of a transaction was stored.
    TransactionStarted {
        station: StationId,
        transaction_id: String,
        evse_id: Option<i64>,
        id_token: Option<String>,
        /// numberOfPhasesUsed, when the station reported it.
        phases_used: Option<i64>,
    },
    /// A further event of an ongoing transaction was stored.
    TransactionUpdated {
        station: StationId,
        transaction_id: String,
        seq_no: i64,
        /// The running cost answered with it, if priced.
        total_cost: Option<Decimal>,
        /// numberOfPhasesUsed, when the event reported it (a change of phase use).
        phases_used: Option<i64>,
        /// Why the station sent the event (subscribers that react to one reason, e.g.
        /// ChargingRateChanged, need not read the event back).
        trigger_reason: unicharge_ocpp::v201::TriggerReasonEnumType,
    },
    /// The Ended event of a transaction was stored.
    TransactionEnded {
        station: StationId,
        transaction_id: String,
        stopped_reason: Option<String>,
    },
    /// A FirmwareStatusNotification was stored (L01; what rollout campaigns follow).
    FirmwareStatus {
        station: StationId,
        request_id: Option<i64>,
        /// OCPP FirmwareStatusEnumType, e.g. `Downloading`, `Installed`.
        status: String,
    },
    /// A charge record was committed (its id is `{station}:{transaction}`).
    ChargeRecordCreated {
        station: StationId,
        transaction_id: String,
        record_id: String,
    },
}

impl Fact {
    /// The station the fact is about.
    pub fn station(&self) -> &StationId {
        match self {
            Fact::StationConnected { station, .. }
            | Fact::StationBooted { station, .. }
            | Fact::StationDisconnected { station, .. }
            | Fact::ConnectorStatusChanged { station, .. }
            | Fact::TransactionStarted { station, .. }
            | Fact::TransactionUpdated { station, .. }
            | Fact::TransactionEnded { station, .. }
            | Fact::ChargeRecordCreated { station, .. }
            | Fact::FirmwareStatus { station, .. } => station,
        }
    }
}
