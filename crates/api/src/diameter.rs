//! Diameter Rf (issue 13): the peers connected to the CDF, the accounting sessions it keeps
//! and the charge records it produced (JSON or CSV). Read-only.
//!
//! Peers live in the running node, not in the store: the server hands the API a
//! [`DiameterPeers`] view when the `[diameter]` listener runs.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_store::AccountingSessionRow;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::export::ExportFormat;
use crate::transactions::{limit, ApiQuery};
use crate::{ApiError, ApiState};

/// The open peer connections, as the node sees them now.
pub trait DiameterPeers: Send + Sync + 'static {
    fn peers(&self) -> Vec<DiameterPeerView>;

    /// Ro: send an Abort-Session-Request for an open credit-control session to the CTF that
    /// opened it; the ASA's Result-Code. `Err` says why nothing could be sent or answered.
    fn ro_abort<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<u32>, RoCallError>> {
        let _ = session_id;
        Box::pin(async { Err(RoCallError::Off) })
    }

    /// Ro: send a Re-Auth-Request (the CTF reports usage and asks for quota again); the RAA's
    /// Result-Code.
    fn ro_reauthorize<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<u32>, RoCallError>> {
        let _ = session_id;
        Box::pin(async { Err(RoCallError::Off) })
    }

    /// Ro: a subscriber was barred (`subscriber` as `TYPE:data`): each of its open sessions on
    /// `account` is aborted (ASR, and its next CCR answered 5003), in the background. How many.
    fn ro_barred<'a>(&'a self, subscriber: &'a str, account: &'a str) -> BoxFuture<'a, usize> {
        let _ = (subscriber, account);
        Box::pin(async { 0 })
    }

    /// Ro: what sessions see changed (a new tariff, or a top-up of `account`): every open
    /// session concerned (all of them when `account` is `None`) gets an RAR, in the
    /// background. How many were asked.
    fn ro_changed(&self, account: Option<&str>) -> BoxFuture<'_, usize> {
        let _ = account;
        Box::pin(async { 0 })
    }
}

/// Why an operator call to a CTF about a Ro session (ASR, RAR) was not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoCallError {
    /// The node runs no OCF (409).
    #[error("Ro online charging is off on this server ([diameter.ro])")]
    Off,
    /// No open session by that Session-Id (404).
    #[error("no open credit-control session {0}")]
    UnknownSession(String),
    /// The CTF that holds the session is not connected, or did not answer in time (502).
    #[error("{0}")]
    Unreachable(String),
    /// The store failed while looking the session up (500).
    #[error("store: {0}")]
    Store(String),
}

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/diameter/peers", get(list_peers))
        .route("/api/v1/diameter/sessions", get(list_sessions))
        .route("/api/v1/diameter/charge-records", get(list_charge_records))
}

/// One open Diameter peer connection.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiameterPeerView {
    pub origin_host: String,
    pub origin_realm: String,
    /// The peer's transport address.
    pub address: String,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// RFC 6733 peer state: `Open`, `Closing`, …
    pub state: String,
    /// RFC 3539 watchdog state: `Okay`, `Suspect` or `Down`.
    pub watchdog: String,
    /// Applications both sides advertised (3 = Rf accounting, 4 = Ro credit control).
    pub applications: Vec<u32>,
    pub opened_at: DateTime<Utc>,
    /// When a watchdog (DWR/DWA) was last exchanged; absent before the first.
    pub last_watchdog_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiameterPeerList {
    /// By Origin-Host.
    pub peers: Vec<DiameterPeerView>,
}

/// Diameter peers connected now (an empty list when Diameter is disabled).
#[utoipa::path(get, path = "/api/v1/diameter/peers", tag = "diameter",
    responses((status = 200, body = DiameterPeerList)))]
pub async fn list_peers(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<DiameterPeerList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let peers = state
        .diameter
        .as_ref()
        .map(|d| d.peers())
        .unwrap_or_default();
    Ok(Json(DiameterPeerList { peers }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct SessionsQuery {
    /// `open` or `closed`; absent: both.
    pub state: Option<String>,
    /// How many, most recently active first (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// One Rf accounting session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountingSessionView {
    pub session_id: String,
    /// The CTF that reported it (Origin-Host / Origin-Realm of its ACRs).
    pub origin_host: String,
    pub origin_realm: String,
    /// Subscriber: Subscription-Id-Data of the first Subscription-Id.
    pub subscriber: Option<String>,
    /// Subscription-Id-Type by name (`END_USER_E164`, `END_USER_IMSI`, …).
    pub subscriber_type: Option<String>,
    /// Service-Context-Id (the service, e.g. `32260@3gpp.org` for IMS).
    pub service_context_id: Option<String>,
    pub first_record_number: i64,
    pub last_record_number: i64,
    /// Records stored (a retransmission is not counted twice).
    pub records: i64,
    /// `open` or `closed`.
    pub state: String,
    /// `STOP_RECORD`, `EVENT_RECORD` or `SUPERVISION_TIMEOUT`.
    pub closed_reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub last_record_at: DateTime<Utc>,
}

impl From<AccountingSessionRow> for AccountingSessionView {
    fn from(s: AccountingSessionRow) -> Self {
        let (subscriber, subscriber_type) = match s.subscription_id {
            Some(id) => (Some(id.data), Some(id.kind)),
            None => (None, None),
        };
        AccountingSessionView {
            session_id: s.session_id,
            origin_host: s.origin_host,
            origin_realm: s.origin_realm,
            subscriber,
            subscriber_type,
            service_context_id: s.service_context_id,
            first_record_number: s.first_record_number,
            last_record_number: s.last_record_number,
            records: s.records,
            state: s.state.to_ascii_lowercase(),
            closed_reason: s.closed_reason,
            started_at: s.started_at,
            last_record_at: s.last_record_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountingSessionList {
    /// Most recently active first.
    pub sessions: Vec<AccountingSessionView>,
}

/// Rf accounting sessions the CDF keeps, open and closed.
#[utoipa::path(get, path = "/api/v1/diameter/sessions", tag = "diameter",
    params(SessionsQuery),
    responses((status = 200, body = AccountingSessionList), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list_sessions(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SessionsQuery>,
) -> Result<Json<AccountingSessionList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let filter = match query.state.as_deref() {
        None => None,
        Some("open") => Some("OPEN"),
        Some("closed") => Some("CLOSED"),
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("state={other:?}: use `open` or `closed`, or leave it out for both"),
            ))
        }
    };
    let sessions = state
        .store
        .accounting_sessions(filter, limit(query.limit))
        .await?
        .into_iter()
        .map(AccountingSessionView::from)
        .collect();
    Ok(Json(AccountingSessionList { sessions }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct DiameterChargeRecordsQuery {
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// The charge records of completed Rf sessions (station id `diameter:<Origin-Host>`,
/// transaction id = Session-Id, token = subscriber), as JSON or CSV.
#[utoipa::path(get, path = "/api/v1/diameter/charge-records", tag = "diameter",
    params(DiameterChargeRecordsQuery),
    responses((status = 200, body = crate::transactions::ChargeRecordList, description = "JSON, or text/csv with `format=csv`"), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list_charge_records(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DiameterChargeRecordsQuery>,
) -> Result<axum::response::Response, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let rows = state
        .store
        .charge_records_with_station_prefix("diameter:", limit(query.limit))
        .await?;
    crate::export::respond(
        rows,
        query.format.unwrap_or_default(),
        "diameter-charge-records",
    )
}

/// How [`ApiState`] holds the view.
pub type SharedPeers = Arc<dyn DiameterPeers>;
