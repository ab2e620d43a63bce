//! GDPR for what unicharge stores about an idToken: the right of access
//! (`GET /api/v1/tokens/{id_token}/personal-data`) and the right to be forgotten
//! (`POST /api/v1/tokens/{id_token}/erase`). The token's type does not matter here: a person's
//! idToken is erased under every type it was registered with.
//!
//! The erasure pseudonymises with a keyed hash whose key the server keeps outside the database
//! (`<data_dir>/pseudonym.key`, see [`crate::ApiState::with_pseudonym_key`]).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/tokens/{id_token}/personal-data",
            get(get_personal_data),
        )
        .route("/api/v1/tokens/{id_token}/erase", post(erase))
}

/// Everything unicharge stores about an idToken, as the database holds it (columns in
/// camelCase, JSON records parsed).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonalDataView {
    pub id_token: String,
    /// Token records, one per type.
    #[schema(value_type = Vec<Object>)]
    pub tokens: Vec<Value>,
    /// Local authorization list entries (per station).
    #[schema(value_type = Vec<Object>)]
    pub local_list_entries: Vec<Value>,
    /// Reservations for the token, or for it as a group.
    #[schema(value_type = Vec<Object>)]
    pub reservations: Vec<Value>,
    /// RequestStartTransaction requests made for the token.
    #[schema(value_type = Vec<Object>)]
    pub remote_starts: Vec<Value>,
    /// Transactions it authorized (or its group did).
    #[schema(value_type = Vec<Object>)]
    pub transactions: Vec<Value>,
    /// TransactionEvent requests naming it, as received.
    #[schema(value_type = Vec<Object>)]
    pub transaction_events: Vec<Value>,
    /// Charge records of its transactions.
    #[schema(value_type = Vec<Object>)]
    pub charge_records: Vec<Value>,
    /// CSMS→station calls naming it (command log).
    #[schema(value_type = Vec<Object>)]
    pub commands: Vec<Value>,
    /// Station-followed requests and report parts naming it (CustomerInformation, …).
    #[schema(value_type = Vec<Object>)]
    pub station_requests: Vec<Value>,
    /// Answers kept for retransmission that name it.
    #[schema(value_type = Vec<Object>)]
    pub stored_answers: Vec<Value>,
    /// ISO 15118 contract certificate data kept for it (none: C07 keeps no certificates).
    #[schema(value_type = Vec<Object>)]
    pub contract_certificates: Vec<Value>,
    /// OCPI: the token as roaming partners pushed it or our eMSP issued it, and the pushes,
    /// received objects and commands naming it.
    #[schema(value_type = Vec<Object>)]
    pub roaming: Vec<Value>,
}

impl From<unicharge_store::PersonalData> for PersonalDataView {
    fn from(d: unicharge_store::PersonalData) -> Self {
        PersonalDataView {
            id_token: d.id_token,
            tokens: d.tokens,
            local_list_entries: d.local_list_entries,
            reservations: d.reservations,
            remote_starts: d.remote_starts,
            transactions: d.transactions,
            transaction_events: d.transaction_events,
            charge_records: d.charge_records,
            commands: d.commands,
            station_requests: d.station_requests,
            stored_answers: d.stored_answers,
            contract_certificates: d.contract_certificates,
            roaming: d.roaming,
        }
    }
}

/// What an erasure did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErasureView {
    /// The keyed pseudonym that now stands for the idToken in the records kept for billing.
    pub pseudonym: String,
    /// Rows deleted, per `table.column`.
    pub deleted: BTreeMap<String, u64>,
    /// Rows pseudonymised, per `table.column`.
    pub pseudonymised: BTreeMap<String, u64>,
    /// Stations whose local list held the token: send them their list again (or
    /// CustomerInformation clear) so they forget it too.
    pub local_list_stations: Vec<String>,
    /// False when nothing was found (erased before, or never stored): erasing is idempotent.
    pub found: bool,
    pub erased_at: DateTime<Utc>,
    /// The API key that asked.
    pub erased_by: String,
}

fn check_id(id_token: &str) -> Result<(), ApiError> {
    if id_token.is_empty() || id_token.chars().count() > 36 {
        return Err(ApiError::bad_request(
            "invalid_id_token",
            "an idToken has 1 to 36 characters",
        ));
    }
    Ok(())
}

/// Everything unicharge stores about an idToken (GDPR right of access). Operator role.
#[utoipa::path(get, path = "/api/v1/tokens/{id_token}/personal-data", tag = "authorization",
    params(("id_token" = String, Path, description = "the idToken, any type; case-insensitive")),
    responses((status = 200, body = PersonalDataView),
              (status = 400, body = crate::error::ErrorBody)))]
pub async fn get_personal_data(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id_token): Path<String>,
) -> Result<Json<PersonalDataView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    check_id(&id_token)?;
    let data = state.store.personal_data(&id_token).await?;
    tracing::info!(by = %caller.key_id, "personal data of an idToken read");
    Ok(Json(data.into()))
}

/// Erase an idToken (GDPR right to be forgotten). Admin role. Deletes the token, its
/// local-list entries and reservations; replaces it by a keyed pseudonym in transactions,
/// charge records and logs (kept for billing), in one transaction, audited without the value.
/// Idempotent: a second call finds nothing and says so (`found` false).
#[utoipa::path(post, path = "/api/v1/tokens/{id_token}/erase", tag = "authorization",
    params(("id_token" = String, Path, description = "the idToken, any type; case-insensitive")),
    responses((status = 200, body = ErasureView),
              (status = 400, body = crate::error::ErrorBody),
              (status = 503, body = crate::error::ErrorBody)))]
pub async fn erase(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id_token): Path<String>,
) -> Result<Json<ErasureView>, ApiError> {
    caller.require(ApiRole::Admin)?;
    check_id(&id_token)?;
    let Some(key) = state.pseudonym_key.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_pseudonym_key",
            "this server was started without a pseudonym key; `unicharge serve` creates \
             <data_dir>/pseudonym.key",
        ));
    };
    let erasure = state
        .store
        .erase_personal_data(&id_token, &key, &caller.key_id)
        .await?;
    let found = !erasure.is_empty();
    // The erased value is never logged: the pseudonym identifies the erasure.
    tracing::info!(by = %caller.key_id, pseudonym = %erasure.pseudonym, found,
        "idToken erased (GDPR)");
    Ok(Json(ErasureView {
        found,
        pseudonym: erasure.pseudonym,
        deleted: erasure.deleted,
        pseudonymised: erasure.pseudonymised,
        local_list_stations: erasure.local_list_stations,
        erased_at: erasure.erased_at,
        erased_by: erasure.erased_by,
    }))
}
