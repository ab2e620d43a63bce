//! The core ledger's accounts: balances in money or units above a floor, reservations, and
//! every movement with the reference of what caused it (`unicharge_core::ledger`, ADR 0020).
//!
//! Operations are posted with a caller-chosen `reference`; posting the same reference again
//! returns the movement recorded the first time (a retried request is applied once).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_core::ledger::{
    Account, LedgerError, Movement, MovementKind, Operation, Request, Unit,
};
use unicharge_store::StoreError;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::transactions::{limit, ApiQuery};
use crate::{ApiError, ApiState};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/accounts", get(list_accounts).post(open_account))
        .route("/api/v1/accounts/{id}", get(get_account))
        .route("/api/v1/accounts/{id}/operations", post(apply_operation))
        .route("/api/v1/accounts/{id}/movements", get(list_movements))
}

/// A ledger refusal as an HTTP answer: 404 unknown account / reservation, 409 a conflict with
/// the account's state, 400 bad input.
pub(crate) fn ledger_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Ledger(e) => {
            let (status, code) = match &e {
                LedgerError::UnknownAccount(_) => (StatusCode::NOT_FOUND, "unknown_account"),
                LedgerError::UnknownReservation { .. } => {
                    (StatusCode::NOT_FOUND, "unknown_reservation")
                }
                LedgerError::AccountExists(_) => (StatusCode::CONFLICT, "account_exists"),
                LedgerError::InsufficientFunds { .. } => {
                    (StatusCode::CONFLICT, "insufficient_funds")
                }
                LedgerError::ReferenceConflict { .. } => {
                    (StatusCode::CONFLICT, "reference_conflict")
                }
                LedgerError::InvalidAmount { .. }
                | LedgerError::InvalidReference
                | LedgerError::InvalidUnit(_) => (StatusCode::BAD_REQUEST, "invalid_operation"),
            };
            ApiError::new(status, code, e.to_string())
        }
        other => other.into(),
    }
}

/// Open an account (balance 0; top it up with an operation).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenAccountBody {
    /// 1 to 128 characters.
    pub id: String,
    /// `money:EUR`, `time` (s), `volume` (octets), `distance` (m), `events`, `service:<id>`.
    pub unit: String,
    /// The balance never goes below it: "0" prepaid (default), negative for a credit limit.
    #[serde(default)]
    #[schema(value_type = String)]
    pub floor: Decimal,
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountList {
    /// By id; reservations are shown on the single account.
    #[schema(value_type = Vec<Object>)]
    pub accounts: Vec<Account>,
}

/// Accounts of the ledger.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    responses((status = 200, body = AccountList)))]
pub async fn list_accounts(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<AccountList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(AccountList {
        accounts: state.store.ledger_accounts().await?,
    }))
}

/// Open an account.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = OpenAccountBody,
    responses((status = 201, body = Object), (status = 400, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn open_account(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<OpenAccountBody>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    caller.require(ApiRole::Operator)?;
    if body.id.is_empty() || body.id.len() > 128 {
        return Err(ApiError::bad_request(
            "invalid_id",
            "an account id is 1 to 128 characters",
        ));
    }
    let unit: Unit = body
        .unit
        .parse()
        .map_err(|e: LedgerError| ApiError::bad_request("invalid_unit", e.to_string()))?;
    let mut account = Account::open(body.id, unit, body.floor, Utc::now())
        .map_err(|e| ApiError::bad_request("invalid_floor", e.to_string()))?;
    account.label = body.label;
    state
        .store
        .ledger_open(&account)
        .await
        .map_err(ledger_error)?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// One account with its open reservations.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "accounts",
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_account(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Account>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    state
        .store
        .ledger_account(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("unknown_account", format!("no account {id}")))
}

/// An operation on an account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperationBody {
    /// What caused it, unique per account (1 to 256 characters); the same reference again
    /// returns the first movement and changes nothing.
    pub reference: String,
    /// `{"op": "topUp", "amount": "10.00"}`, `{"op": "debit", "amount", "partial"}`,
    /// `{"op": "reserve", "reservation", "amount", "minimum"}`,
    /// `{"op": "commit", "reservation", "used", "close"}`, `{"op": "release", "reservation"}`,
    /// `{"op": "setFloor", "floor"}`. Amounts are decimal strings in the account's unit.
    #[schema(value_type = Object)]
    pub operation: Operation,
}

/// Apply an operation; answers the movement it recorded.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/operations", tag = "accounts",
    request_body = OperationBody,
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn apply_operation(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OperationBody>,
) -> Result<Json<Movement>, ApiError> {
    caller.require(ApiRole::Operator)?;
    let request = Request {
        account: id,
        reference: body.reference,
        operation: body.operation,
        at: Utc::now(),
    };
    let movement = state
        .store
        .ledger_apply(&request)
        .await
        .map_err(ledger_error)?;
    tracing::info!(account = %movement.account, reference = %movement.reference,
        kind = movement.operation.kind().as_str(), amount = %movement.amount, "ledger operation by the operator");
    // A top-up can end a session's low-balance or 4012 state: its open Ro sessions are asked
    // to re-authorize so the CTF asks for quota again now, not at its next Validity-Time.
    if let (Some(d), MovementKind::TopUp) = (&state.diameter, movement.operation.kind()) {
        d.ro_changed(Some(&movement.account)).await;
    }
    Ok(Json(movement))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct MovementsQuery {
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MovementList {
    #[schema(value_type = Vec<Object>)]
    pub movements: Vec<Movement>,
}

/// The account's movements, newest first, each with its reference.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/movements", tag = "accounts",
    params(MovementsQuery),
    responses((status = 200, body = MovementList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_movements(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<MovementsQuery>,
) -> Result<Json<MovementList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    if state.store.ledger_account(&id).await?.is_none() {
        return Err(ApiError::not_found(
            "unknown_account",
            format!("no account {id}"),
        ));
    }
    Ok(Json(MovementList {
        movements: state
            .store
            .ledger_movements(&id, limit(query.limit))
            .await?,
    }))
}
