//! Rows of Diameter Ro online charging (issue 14): credit-control sessions with their open
//! grants, and the answers kept to replay to retransmissions.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One open grant of a session: what is reserved on the ledger for a rating group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoGrant {
    pub rating_group: Option<u32>,
    pub service_identifier: Option<u32>,
    pub tariff: String,
    /// The ledger reservation holding the grant's cost.
    pub reservation: String,
    pub units: u64,
    /// The reserved amount, in the account's unit.
    pub reserved: Decimal,
    pub granted_at: DateTime<Utc>,
}

/// What a session holds beyond its columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoSessionData {
    pub grants: Vec<RoGrant>,
    /// Total debited by this session so far, in the account's unit.
    #[serde(default)]
    pub debited: Decimal,
}

/// A credit-control session (one Session-Id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoSessionRow {
    pub session_id: String,
    pub origin_host: String,
    pub origin_realm: String,
    pub account: Option<String>,
    /// `TYPE:data` of the Subscription-Id that identified the subscriber.
    pub subscriber: Option<String>,
    /// `OPEN` or `CLOSED`.
    pub state: String,
    pub closed_reason: Option<String>,
    pub last_request_number: i64,
    /// The operator asked to end the service: the next CCR is answered 5003.
    pub terminate_requested: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Tcc: when the session is ended and its reservations released if no CCR comes.
    pub expires_at: DateTime<Utc>,
    pub data: RoSessionData,
    /// Bumped by every write of the row (1 for a new session): a write names the version it
    /// makes, so two writers that read the same version cannot both win.
    #[serde(default = "first_version")]
    pub version: i64,
}

fn first_version() -> i64 {
    1
}

/// The CCA given to one (Session-Id, CC-Request-Number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoAnswerRow {
    pub session_id: String,
    pub request_number: i64,
    pub request_type: i64,
    pub result_code: i64,
    /// The encoded answer.
    pub answer: Vec<u8>,
    pub answered_at: DateTime<Utc>,
}
