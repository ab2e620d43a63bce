//! Transactions (block E) and remote start/stop (F01–F03), meter values (J) and charge records
//! (I): what was charged, and the operator's levers on a session.
//!
//! A remote start gets its `remoteStartId` from the CSMS: the request is stored before it is
//! sent (its row id is the remoteStartId), and the station's answer is recorded with it; the
//! transaction that follows carries the id and is linked to it.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use unicharge_core::StationId;
use unicharge_csms::remote_control::{self as f, request_start::StartRequest};
use unicharge_csms::transactions::status_check as e;
use unicharge_ocpp::v201::{
    GetTransactionStatusResponse, IdTokenType, RequestStopTransactionResponse,
};
use unicharge_store::{
    MeterValueFilter, MeterValueRecord, TransactionEventRecord, TransactionRecord,
};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ocpp_enum, ocpp_value, ApiJson};
use crate::stations::{existing_station, station_id};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/stations/{id}/transactions", get(list_transactions))
        // A transaction may be named `start` or `status` (any identifierString): GET on these
        // two paths reads it like any other.
        .route(
            "/api/v1/stations/{id}/transactions/start",
            post(start_transaction).get(get_transaction_named_start),
        )
        .route(
            "/api/v1/stations/{id}/transactions/status",
            post(transaction_status).get(get_transaction_named_status),
        )
        .route(
            "/api/v1/stations/{id}/transactions/{transactionId}",
            get(get_transaction),
        )
        .route(
            "/api/v1/stations/{id}/transactions/{transactionId}/stop",
            post(stop_transaction),
        )
        .route("/api/v1/stations/{id}/meter-values", get(meter_values))
        .route("/api/v1/charge-records", get(list_charge_records))
        .route("/api/v1/charge-records/{id}", get(get_charge_record))
}

/// `Query<T>` whose rejections are answered with the API's error body.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "{} (see /api/v1/docs for the query parameters)",
                    rejection.body_text()
                ),
            )),
        }
    }
}

/// How many rows a list returns: `limit`, default 100, at most 1000.
pub(crate) fn limit(requested: Option<u32>) -> u32 {
    requested.unwrap_or(100).clamp(1, 1000)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionsQuery {
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// A transaction as the CSMS knows it, without its event count.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionFields {
    pub station_id: String,
    pub transaction_id: String,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub id_token: Option<String>,
    pub id_token_type: Option<String>,
    pub group_id_token: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub charging_state: Option<String>,
    pub stopped_reason: Option<String>,
    pub last_seq_no: i64,
    /// The first event seen was not `Started` (the start was never received).
    pub started_unseen: bool,
    /// The remoteStartId of the RequestStartTransaction that started it.
    pub remote_start_id: Option<i64>,
    /// The reservation it used.
    pub reservation_id: Option<i64>,
    /// The tariff fixed for it when it was first seen.
    pub tariff_id: Option<String>,
    /// seqNos missing between the lowest and highest received (still queued, or lost).
    pub seq_no_gaps: Vec<i64>,
    /// E14: when the station answered that this transaction, still open here, is not ongoing
    /// and has nothing queued: its Ended event is lost (needs the operator's attention).
    pub station_forgot_at: Option<DateTime<Utc>>,
}

impl From<TransactionRecord> for TransactionFields {
    fn from(t: TransactionRecord) -> Self {
        TransactionFields {
            station_id: t.station_id.to_string(),
            transaction_id: t.transaction_id,
            evse_id: t.evse_id,
            connector_id: t.connector_id,
            id_token: t.id_token,
            id_token_type: t.id_token_type,
            group_id_token: t.group_id_token,
            started_at: t.started_at,
            ended_at: t.ended_at,
            charging_state: t.charging_state,
            stopped_reason: t.stopped_reason,
            last_seq_no: t.last_seq_no,
            started_unseen: t.started_unseen,
            remote_start_id: t.remote_start_id,
            reservation_id: t.reservation_id,
            tariff_id: t.tariff_id,
            seq_no_gaps: t.seq_no_gaps,
            station_forgot_at: t.station_forgot_at,
        }
    }
}

/// A transaction in a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    #[serde(flatten)]
    pub transaction: TransactionFields,
    /// How many distinct events were received.
    pub events: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionList {
    pub transactions: Vec<TransactionView>,
}

/// One TransactionEventRequest of a transaction.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionEventView {
    pub seq_no: i64,
    /// `Started`, `Updated`, `Ended`.
    pub event_type: String,
    pub trigger_reason: String,
    pub timestamp: DateTime<Utc>,
    /// Queued at the station while it was offline.
    pub offline: bool,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub charging_state: Option<String>,
    pub stopped_reason: Option<String>,
    pub id_token: Option<String>,
    /// How many meterValue entries the event carried.
    pub meter_values: usize,
    pub received_at: DateTime<Utc>,
}

impl IdTokenBody {
    /// The OCPP IdTokenType it names; a 400 naming `field` when it is not one.
    pub(crate) fn typed(&self, field: &str) -> Result<IdTokenType, ApiError> {
        Ok(IdTokenType {
            custom_data: None,
            additional_info: self
                .additional_info
                .clone()
                .map(|info| ocpp_value(&format!("{field}/additionalInfo"), info))
                .transpose()?,
            id_token: self.id_token.clone(),
            r#type: ocpp_enum(&format!("{field}/type"), &self.kind)?,
        })
    }
}

impl From<TransactionEventRecord> for TransactionEventView {
    fn from(e: TransactionEventRecord) -> Self {
        let meter_values = usize::try_from(e.meter_values).unwrap_or(0);
        TransactionEventView {
            seq_no: e.seq_no,
            event_type: e.event_type,
            trigger_reason: e.trigger_reason,
            timestamp: e.timestamp,
            offline: e.offline,
            evse_id: e.evse_id,
            connector_id: e.connector_id,
            charging_state: e.charging_state,
            stopped_reason: e.stopped_reason,
            id_token: e.id_token,
            meter_values,
            received_at: e.received_at,
        }
    }
}

/// One sampled value as stored. Decimals are strings (exact).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeterValueView {
    pub station_id: String,
    /// 0 is the station's main meter.
    pub evse_id: i64,
    pub transaction_id: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub context: String,
    pub measurand: String,
    pub phase: Option<String>,
    pub location: Option<String>,
    pub unit: Option<String>,
    pub multiplier: i32,
    /// The value exactly as reported (before unit and multiplier), e.g. `"1234.5"`.
    pub value: String,
    /// Energy registers in Wh (unit and multiplier applied).
    pub wh: Option<String>,
    pub signed: bool,
    /// The signedMeterValue, JSON text.
    pub signed_data: Option<String>,
    /// `MeterValues` or `TransactionEvent`.
    pub source: String,
    /// The register read lower than an earlier reading: kept, flagged, never billed.
    pub energy_backwards: bool,
}

impl From<MeterValueRecord> for MeterValueView {
    fn from(m: MeterValueRecord) -> Self {
        MeterValueView {
            station_id: m.station_id.to_string(),
            evse_id: m.evse_id,
            transaction_id: m.transaction_id,
            timestamp: m.timestamp,
            context: m.context,
            measurand: m.measurand,
            phase: m.phase,
            location: m.location,
            unit: m.unit,
            multiplier: m.multiplier,
            value: m.value.to_string(),
            wh: m.wh.map(|w| w.to_string()),
            signed: m.signed,
            signed_data: m.signed_data,
            source: m.source,
            energy_backwards: m.energy_backwards,
        }
    }
}

/// A transaction with its events, samples and charge record.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionDetail {
    #[serde(flatten)]
    pub transaction: TransactionFields,
    /// Every event, in seqNo order.
    pub events: Vec<TransactionEventView>,
    /// Its samples, oldest first.
    pub meter_values: Vec<MeterValueView>,
    /// The charge record once the transaction has ended and been rated (id
    /// `{stationId}:{transactionId}`).
    #[schema(value_type = Option<Object>)]
    pub charge_record: Option<Value>,
}

/// The station's transactions, newest first.
#[utoipa::path(get, path = "/api/v1/stations/{id}/transactions", tag = "transactions",
    params(("id" = String, Path, description = "Station id"), TransactionsQuery),
    responses((status = 200, body = TransactionList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_transactions(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<TransactionsQuery>,
) -> Result<Json<TransactionList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let rows = state
        .store
        .transactions(&station, limit(query.limit))
        .await?;
    Ok(Json(TransactionList {
        transactions: rows
            .into_iter()
            .map(|t| TransactionView {
                events: t.events,
                transaction: t.into(),
            })
            .collect(),
    }))
}

/// One transaction with its events, meter values and charge record.
#[utoipa::path(get, path = "/api/v1/stations/{id}/transactions/{transactionId}", tag = "transactions",
    params(("id" = String, Path, description = "Station id"), ("transactionId" = String, Path)),
    responses((status = 200, body = TransactionDetail), (status = 404, description = "Unknown station or transaction", body = crate::error::ErrorBody)))]
pub async fn get_transaction(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, transaction_id)): Path<(String, String)>,
) -> Result<Json<TransactionDetail>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let transaction = state
        .store
        .transaction(&station, &transaction_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_transaction",
                format!("station {station} has no transaction {transaction_id:?}"),
            )
        })?;
    let events = state
        .store
        .transaction_events(&station, &transaction_id)
        .await?;
    let filter = MeterValueFilter {
        transaction_id: Some(transaction_id.clone()),
        evse_id: None,
        limit: 0,
        until: None,
    };
    let samples = state.store.meter_values(&station, &filter).await?;
    let charge_record = state
        .store
        .charge_record(&format!("{station}:{transaction_id}"))
        .await?
        .map(|r| serde_json::to_value(r).map_err(ApiError::internal))
        .transpose()?;
    Ok(Json(TransactionDetail {
        transaction: transaction.into(),
        events: events.into_iter().map(Into::into).collect(),
        meter_values: samples.into_iter().map(Into::into).collect(),
        charge_record,
    }))
}

async fn get_transaction_named_start(
    state: State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TransactionDetail>, ApiError> {
    get_transaction(state, caller, Path((id, "start".into()))).await
}

async fn get_transaction_named_status(
    state: State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TransactionDetail>, ApiError> {
    get_transaction(state, caller, Path((id, "status".into()))).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct MeterValuesQuery {
    /// Only the samples of this transaction.
    pub transaction_id: Option<String>,
    /// Only the samples of this EVSE (0: the station's main meter).
    pub evse_id: Option<i64>,
    /// At most this many, the latest (default 1000, at most 10000).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeterValueList {
    /// Oldest first.
    pub meter_values: Vec<MeterValueView>,
}

/// The station's sampled values (MeterValues and TransactionEvent meter values), oldest first.
#[utoipa::path(get, path = "/api/v1/stations/{id}/meter-values", tag = "transactions",
    params(("id" = String, Path, description = "Station id"), MeterValuesQuery),
    responses((status = 200, body = MeterValueList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn meter_values(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<MeterValuesQuery>,
) -> Result<Json<MeterValueList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let filter = MeterValueFilter {
        transaction_id: query.transaction_id,
        evse_id: query.evse_id,
        limit: query.limit.unwrap_or(1000).clamp(1, 10_000),
        until: None,
    };
    let rows = state.store.meter_values(&station, &filter).await?;
    Ok(Json(MeterValueList {
        meter_values: rows.into_iter().map(Into::into).collect(),
    }))
}

/// An OCPP IdTokenType.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdTokenBody {
    pub id_token: String,
    /// OCPP IdTokenEnumType, e.g. `ISO14443`, `Central`.
    #[serde(rename = "type")]
    pub kind: String,
    /// OCPP `additionalInfo`, passed on as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub additional_info: Option<Value>,
}

/// Start a transaction remotely.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartTransactionBody {
    /// The token the transaction is for.
    pub id_token: IdTokenBody,
    /// The EVSE to start on; absent: the station chooses.
    pub evse_id: Option<i64>,
    pub group_id_token: Option<IdTokenBody>,
    /// OCPP ChargingProfileType (purpose `TxProfile`), passed on as given.
    #[schema(value_type = Option<Object>)]
    pub charging_profile: Option<Value>,
}

/// The station's answer to RequestStartTransaction, with the remoteStartId the CSMS allocated.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartTransactionAnswer {
    /// The id the transaction will carry in its TransactionEvents.
    pub remote_start_id: i64,
    /// `Accepted` or `Rejected`.
    pub status: String,
    /// When a transaction was already running (e.g. cable plugged in first): its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub status_info: Option<Value>,
}

/// Start a transaction remotely (F01/F02). The CSMS allocates the remoteStartId, stores the
/// request before sending it, and records the station's answer.
#[utoipa::path(post, path = "/api/v1/stations/{id}/transactions/start", tag = "transactions",
    params(("id" = String, Path, description = "Station id")), request_body = StartTransactionBody,
    responses(
        (status = 200, body = StartTransactionAnswer),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn start_transaction(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StartTransactionBody>,
) -> Result<Json<StartTransactionAnswer>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let start = StartRequest {
        id_token: body.id_token.typed("idToken")?,
        evse_id: body.evse_id,
        group_id_token: body
            .group_id_token
            .as_ref()
            .map(|g| g.typed("groupIdToken"))
            .transpose()?,
        charging_profile: body
            .charging_profile
            .map(|p| ocpp_value("chargingProfile", p))
            .transpose()?,
    };
    let started = f::request_start::request_start(&state.csms, &station, start, &by).await?;
    Ok(Json(StartTransactionAnswer {
        remote_start_id: started.remote_start_id,
        status: started.response.status.as_str().to_string(),
        transaction_id: started.response.transaction_id,
        status_info: started
            .response
            .status_info
            .map(serde_json::to_value)
            .transpose()
            .map_err(ApiError::internal)?,
    }))
}

/// Stop a transaction remotely (F03). Any body is ignored. The station answers `Accepted` or
/// `Rejected`; the transaction ends when its Ended event arrives.
#[utoipa::path(post, path = "/api/v1/stations/{id}/transactions/{transactionId}/stop", tag = "transactions",
    params(("id" = String, Path, description = "Station id"), ("transactionId" = String, Path)),
    responses(
        (status = 200, description = "RequestStopTransactionResponse", body = crate::remote_control::StatusAnswer),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn stop_transaction(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, transaction_id)): Path<(String, String)>,
) -> Result<Json<RequestStopTransactionResponse>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    Ok(Json(
        f::request_stop(&state.csms, &station, transaction_id, &by).await?,
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransactionStatusBody {
    /// Ask about this transaction; absent: only whether any messages are queued.
    pub transaction_id: Option<String>,
}

/// The station's GetTransactionStatusResponse.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionStatusAnswer {
    /// Whether the transaction is still ongoing (only when a transactionId was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ongoing_indicator: Option<bool>,
    /// Whether the station still holds messages to deliver.
    pub messages_in_queue: bool,
}

/// Ask the station about a transaction or its message queue (E14). The body may be left out.
#[utoipa::path(post, path = "/api/v1/stations/{id}/transactions/status", tag = "transactions",
    params(("id" = String, Path, description = "Station id")), request_body = TransactionStatusBody,
    responses(
        (status = 200, description = "GetTransactionStatusResponse, as the station answered", body = TransactionStatusAnswer),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn transaction_status(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<GetTransactionStatusResponse>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let body: TransactionStatusBody = if body.iter().all(u8::is_ascii_whitespace) {
        TransactionStatusBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(
                "invalid_body",
                format!("{e} (expected {{\"transactionId\"?: string}})"),
            )
        })?
    };
    Ok(Json(
        e::get_transaction_status(&state.csms, &station, body.transaction_id, &by).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ChargeRecordsQuery {
    /// Only this station's records.
    pub station_id: Option<String>,
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
    /// `json` (default) or `csv` (`text/csv`, one line per record).
    #[param(value_type = Option<String>)]
    pub format: Option<crate::export::ExportFormat>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargeRecordList {
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    pub charge_records: Vec<Value>,
}

/// Charge records (one per ended transaction, with its cost), newest first, as JSON or CSV.
#[utoipa::path(get, path = "/api/v1/charge-records", tag = "tariffs",
    params(ChargeRecordsQuery),
    responses((status = 200, body = ChargeRecordList, description = "JSON, or text/csv with `format=csv`"), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list_charge_records(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ChargeRecordsQuery>,
) -> Result<axum::response::Response, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = query
        .station_id
        .as_deref()
        .map(StationId::new)
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_station_id", e.to_string()))?;
    let rows = state
        .store
        .charge_records(station.as_ref(), limit(query.limit))
        .await?;
    crate::export::respond(rows, query.format.unwrap_or_default(), "charge-records")
}

/// One charge record. Its id is `{stationId}:{transactionId}`; send the `:` as is or as `%3A`.
#[utoipa::path(get, path = "/api/v1/charge-records/{id}", tag = "tariffs",
    params(("id" = String, Path, description = "`{stationId}:{transactionId}`")),
    responses((status = 200, description = "The charge record", body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_charge_record(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let record = state.store.charge_record(&id).await?.ok_or_else(|| {
        ApiError::not_found("unknown_charge_record", format!("no charge record {id:?}"))
    })?;
    Ok(Json(
        serde_json::to_value(record).map_err(ApiError::internal)?,
    ))
}
