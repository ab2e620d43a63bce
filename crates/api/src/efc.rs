//! ISO 17575-1 road-usage charging: the OBEs the back end knows and the charge reports it
//! received (with the exact answer given and the usage statements as charge records).
//! Writes (OBEs and their keys, contracts and their ledger accounts, queued account updates)
//! go through the running `unicharge_efc_backend::Backend` so its caches see them at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use unicharge_efc_backend::updates::AccountUpdateSpec;
use unicharge_store::efc::{EfcAccountLink, EfcContract, EfcObe, EfcQueuedUpdate};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::transactions::{limit, ApiQuery};
use crate::{ApiError, ApiState};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/efc/obes", get(list_obes))
        .route("/api/v1/efc/reports", get(list_reports))
        .route("/api/v1/efc/obes/{obe_key}", put(put_obe))
        .route(
            "/api/v1/efc/obes/{obe_key}/updates",
            post(queue_update).get(list_updates),
        )
        .route("/api/v1/efc/contracts", get(list_contracts))
        .route("/api/v1/efc/contracts/{contract_key}", put(put_contract))
}

fn backend(state: &ApiState) -> Result<&unicharge_efc_backend::Backend, ApiError> {
    state.efc.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "efc_not_running",
            "the EFC back end is not running in this server (enable [efc] in the configuration)",
        )
    })
}

fn refusal(e: unicharge_efc_backend::Refusal) -> ApiError {
    match e {
        unicharge_efc_backend::Refusal::Store(e) => e.into(),
        other => ApiError::bad_request("invalid_update", other.to_string()),
    }
}

/// Register or change an OBE.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EfcObeBody {
    /// HMAC-SHA-256 key for Authenticated* ADUs, hex (16 to 64 octets); absent: no key.
    pub mac_key_hex: Option<String>,
    /// Refuse plain ChargeReports from this OBE.
    #[serde(default)]
    pub require_auth: bool,
    #[serde(default)]
    pub label: String,
}

/// Register or change an OBE (`manufacturerId:equipmentObuId hex`) and its MAC key.
#[utoipa::path(put, path = "/api/v1/efc/obes/{obeKey}", tag = "efc", request_body = EfcObeBody,
    responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody)))]
pub async fn put_obe(
    State(state): State<ApiState>,
    caller: Caller,
    Path(obe_key): Path<String>,
    ApiJson(body): ApiJson<EfcObeBody>,
) -> Result<Json<EfcObe>, ApiError> {
    caller.require(ApiRole::Operator)?;
    let (manufacturer, serial) = obe_key.split_once(':').unwrap_or_default();
    if manufacturer.parse::<u16>().is_err() || hex::decode(serial).map_or(true, |s| s.is_empty()) {
        return Err(ApiError::bad_request(
            "invalid_obe_key",
            format!("{obe_key:?}: write <manufacturerId 0..65535>:<equipmentObuId as hex>, e.g. 42:a001"),
        ));
    }
    if let Some(key) = &body.mac_key_hex {
        let ok = hex::decode(key).is_ok_and(|k| (16..=64).contains(&k.len()));
        if !ok {
            return Err(ApiError::bad_request(
                "invalid_mac_key",
                "macKeyHex must be 16 to 64 octets as hex",
            ));
        }
    }
    if body.require_auth && body.mac_key_hex.is_none() {
        return Err(ApiError::bad_request(
            "invalid_mac_key",
            "requireAuth needs a macKeyHex to verify with",
        ));
    }
    let backend = backend(&state)?;
    let created_at = state
        .store
        .efc_obe(&obe_key)
        .await?
        .map_or_else(Utc::now, |o| o.created_at);
    let obe = EfcObe {
        obe_key: obe_key.clone(),
        mac_key_hex: body.mac_key_hex,
        require_auth: body.require_auth,
        label: body.label,
        created_at,
    };
    backend.register_obe(obe.clone()).await.map_err(refusal)?;
    Ok(Json(without_key(obe)))
}

/// An OBE as the API shows it: whether it has a MAC key (`"(set)"`), never the key.
fn without_key(mut obe: EfcObe) -> EfcObe {
    obe.mac_key_hex = obe.mac_key_hex.map(|_| "(set)".to_string());
    obe
}

/// A contract's ledger accounts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EfcContractBody {
    /// Each: `{"account": id, "lowBelow": "2.50", "feeDecimals": 2, "payUnitHex": "03d2",
    /// "syncObe": true}`; the accounts must exist (`POST /api/v1/accounts`).
    #[schema(value_type = Vec<Object>)]
    pub accounts: Vec<EfcAccountLink>,
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EfcContractList {
    #[schema(value_type = Vec<Object>)]
    pub contracts: Vec<EfcContract>,
}

/// Contracts and the ledger accounts their charge reports debit.
#[utoipa::path(get, path = "/api/v1/efc/contracts", tag = "efc",
    responses((status = 200, body = EfcContractList)))]
pub async fn list_contracts(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<EfcContractList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(EfcContractList {
        contracts: state.store.efc_contracts().await?,
    }))
}

/// Create or change a contract (`<country>-<provider>-<typeOfContract hex>-<contextVersion>`,
/// as in the reports' `contractKey`).
#[utoipa::path(put, path = "/api/v1/efc/contracts/{contractKey}", tag = "efc",
    request_body = EfcContractBody,
    responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody)))]
pub async fn put_contract(
    State(state): State<ApiState>,
    caller: Caller,
    Path(contract_key): Path<String>,
    ApiJson(body): ApiJson<EfcContractBody>,
) -> Result<Json<EfcContract>, ApiError> {
    caller.require(ApiRole::Operator)?;
    let backend = backend(&state)?;
    for link in &body.accounts {
        if state.store.ledger_account(&link.account).await?.is_none() {
            return Err(ApiError::bad_request(
                "unknown_account",
                format!(
                    "no account {}: open it first with POST /api/v1/accounts",
                    link.account
                ),
            ));
        }
        if hex::decode(&link.pay_unit_hex).map_or(true, |u| u.len() != 2) || link.fee_decimals > 6 {
            return Err(ApiError::bad_request(
                "invalid_link",
                "payUnitHex is 2 octets as hex and feeDecimals 0 to 6",
            ));
        }
    }
    let created_at = state
        .store
        .efc_contract(&contract_key)
        .await?
        .map_or_else(Utc::now, |c| c.created_at);
    let contract = EfcContract {
        contract_key,
        accounts: body.accounts,
        label: body.label,
        created_at,
    };
    backend
        .register_contract(contract.clone())
        .await
        .map_err(refusal)?;
    Ok(Json(contract))
}

/// An answer queued for an OBE's next ChargeReportResponse(s).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueueUpdateBody {
    /// obeStatusForDriver: 0 ok, 1 nok, 2 contactOperator, 3 nokInLocalContext (v1),
    /// 255 noSignalling.
    pub obe_status_for_driver: Option<u8>,
    /// `{"kind": "setAccount" | "addToAccount", "credit": {"amount", "unitHex"}, "distance":
    /// {"dist", "unit"}, "time", "duration": {"dur", "unit"}, "events"}` or
    /// `{"kind": "reloadAccount", "reload": ["credit", …]}`.
    #[schema(value_type = Object)]
    pub account_update: Option<AccountUpdateSpec>,
    /// Send it with every answer until the OBE reports accountStatus ok; otherwise once.
    #[serde(default)]
    pub until_account_ok: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuedUpdateId {
    pub id: i64,
}

/// Queue an obeStatusForDriver and/or accountUpdate for an OBE.
#[utoipa::path(post, path = "/api/v1/efc/obes/{obeKey}/updates", tag = "efc",
    request_body = QueueUpdateBody,
    responses((status = 201, body = QueuedUpdateId), (status = 400, body = crate::error::ErrorBody)))]
pub async fn queue_update(
    State(state): State<ApiState>,
    caller: Caller,
    Path(obe_key): Path<String>,
    ApiJson(body): ApiJson<QueueUpdateBody>,
) -> Result<(StatusCode, Json<QueuedUpdateId>), ApiError> {
    caller.require(ApiRole::Operator)?;
    let backend = backend(&state)?;
    if body.obe_status_for_driver.is_none() && body.account_update.is_none() {
        return Err(ApiError::bad_request(
            "invalid_update",
            "give obeStatusForDriver, accountUpdate or both",
        ));
    }
    let account_update_hex = body
        .account_update
        .as_ref()
        .map(|spec| {
            let adu = spec
                .to_adu()
                .map_err(|e| ApiError::bad_request("invalid_update", e))?;
            unicharge_efc::encode(&adu)
                .map(hex::encode)
                .map_err(ApiError::internal)
        })
        .transpose()?;
    let id = backend
        .enqueue_update(EfcQueuedUpdate {
            id: 0,
            obe_key,
            obe_status_for_driver: body.obe_status_for_driver,
            account_update_hex,
            until_account_ok: body.until_account_ok,
            created_at: Utc::now(),
        })
        .await
        .map_err(refusal)?;
    Ok((StatusCode::CREATED, Json(QueuedUpdateId { id })))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueuedUpdateList {
    #[schema(value_type = Vec<Object>)]
    pub updates: Vec<EfcQueuedUpdate>,
}

/// Updates not yet delivered (or, `untilAccountOk`, not yet confirmed), oldest first.
#[utoipa::path(get, path = "/api/v1/efc/obes/{obeKey}/updates", tag = "efc",
    responses((status = 200, body = QueuedUpdateList)))]
pub async fn list_updates(
    State(state): State<ApiState>,
    caller: Caller,
    Path(obe_key): Path<String>,
) -> Result<Json<QueuedUpdateList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(QueuedUpdateList {
        updates: state.store.efc_pending_updates(&obe_key).await?,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EfcObeList {
    #[schema(value_type = Vec<Object>)]
    pub obes: Vec<EfcObe>,
}

/// OBEs registered with the EFC back end (keys are not shown).
#[utoipa::path(get, path = "/api/v1/efc/obes", tag = "efc",
    responses((status = 200, body = EfcObeList)))]
pub async fn list_obes(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<EfcObeList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let obes = state
        .store
        .efc_obes()
        .await?
        .into_iter()
        .map(without_key)
        .collect();
    Ok(Json(EfcObeList { obes }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct EfcReportsQuery {
    /// Only this OBE's reports (`manufacturerId:equipmentObuId hex`).
    pub obe_key: Option<String>,
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EfcReportList {
    /// Newest first; `request` and `response` are the frames as hex.
    #[schema(value_type = Vec<Object>)]
    pub reports: Vec<Value>,
}

/// Charge reports received, newest first, with violations, counter gaps and charge records.
#[utoipa::path(get, path = "/api/v1/efc/reports", tag = "efc",
    params(EfcReportsQuery),
    responses((status = 200, body = EfcReportList), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list_reports(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EfcReportsQuery>,
) -> Result<Json<EfcReportList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let rows = state
        .store
        .efc_reports(query.obe_key.as_deref(), limit(query.limit))
        .await?;
    let reports = rows
        .into_iter()
        .map(|r| {
            let (request, response) = (hex::encode(&r.request), hex::encode(&r.response));
            let mut v = serde_json::to_value(r).map_err(ApiError::internal)?;
            v["request"] = Value::String(request);
            v["response"] = Value::String(response);
            Ok(v)
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(EfcReportList { reports }))
}
