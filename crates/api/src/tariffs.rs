//! Block I: tariffs, where they apply, and which one a station charges now.
//!
//! A tariff ([`unicharge_core::tariff::Tariff`]) is flat: prices per kWh, per charging minute,
//! per idle minute and per session, EXCLUDING VAT, decimals as strings. An assignment binds a
//! tariff to a scope — everywhere (`default`), a station, an EVSE, or a token group — and the
//! most specific matching assignment wins (token group > EVSE > station > default; ties go to
//! the later assignment). A transaction's tariff is fixed when it starts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_core::tariff::{select_tariff, Tariff, TariffAssignment, TariffScope};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::stations::existing_station;
use crate::transactions::ApiQuery;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/tariffs", get(list_tariffs).post(put_tariff))
        .route(
            "/api/v1/tariffs/{id}",
            get(get_tariff).delete(delete_tariff),
        )
        .route(
            "/api/v1/tariff-assignments",
            get(list_assignments).post(add_assignment),
        )
        .route("/api/v1/tariff-assignments/{id}", delete(delete_assignment))
        .route("/api/v1/stations/{id}/tariff", get(station_tariff))
}

/// A driver-facing text of a tariff (OpenAPI description of the core type).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TariffText)]
pub struct TariffTextDoc {
    /// Language code, e.g. `en`, `de-CH` (at most 8 characters).
    pub language: String,
    /// At most 512 characters.
    pub text: String,
}

/// A flat tariff; prices EXCLUDING VAT in the currency's major unit, decimals as strings
/// (`"0.30"`; JSON numbers are accepted on input). OpenAPI description of the core type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Tariff)]
pub struct TariffDoc {
    /// 1 to 36 characters from `A-Z a-z 0-9 . _ -`.
    pub id: String,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// VAT in percent (0 to 100), added on top of the prices.
    pub vat_percent: String,
    pub price_per_kwh: String,
    /// Per minute while energy flows.
    pub price_per_charging_minute: String,
    /// Per minute plugged in but not charging.
    pub price_per_idle_minute: String,
    /// Once per session.
    pub session_fee: String,
    /// First instant it applies (inclusive); absent: always has.
    pub valid_from: Option<DateTime<Utc>>,
    /// First instant it no longer applies (exclusive); absent: open-ended.
    pub valid_to: Option<DateTime<Utc>>,
    #[serde(default)]
    pub display_text: Vec<TariffTextDoc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TariffList {
    #[schema(value_type = Vec<TariffDoc>)]
    pub tariffs: Vec<Tariff>,
}

/// Bind a tariff to a scope.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignmentBody {
    pub tariff_id: String,
    /// `{"scope": "default"}`, `{"scope": "station", "stationId": …}`,
    /// `{"scope": "evse", "stationId": …, "evseId": …}` or
    /// `{"scope": "tokenGroup", "groupIdToken": …}`.
    #[schema(value_type = Object)]
    pub scope: TariffScope,
}

/// An assignment with its id.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentView {
    pub id: i64,
    pub tariff_id: String,
    #[schema(value_type = Object)]
    pub scope: TariffScope,
}

impl AssignmentView {
    fn new(id: i64, a: TariffAssignment) -> Self {
        AssignmentView {
            id,
            tariff_id: a.tariff_id,
            scope: a.scope,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentList {
    /// Oldest first (later ones win ties).
    pub assignments: Vec<AssignmentView>,
}

/// The tariff a station charges now, with the text its drivers are shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StationTariff {
    #[serde(flatten)]
    #[schema(value_type = TariffDoc)]
    pub tariff: Tariff,
    /// The operator's display text in the language asked for (else the first one), or a text
    /// generated from the prices including VAT.
    pub driver_text: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct StationTariffQuery {
    /// The EVSE the session is on.
    pub evse_id: Option<i64>,
    /// The driver's token group (OCPP `groupIdToken`).
    pub group_id_token: Option<String>,
    /// Language of the driver text, e.g. `de`.
    pub language: Option<String>,
}

fn unknown_tariff(id: &str) -> ApiError {
    ApiError::not_found("unknown_tariff", format!("no tariff {id:?}"))
}

/// Every tariff, by id.
#[utoipa::path(get, path = "/api/v1/tariffs", tag = "tariffs",
    responses((status = 200, body = TariffList)))]
pub async fn list_tariffs(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<TariffList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(TariffList {
        tariffs: state.store.tariffs().await?,
    }))
}

/// Create a tariff, or replace the one with the same id (201 when created, 200 when replaced).
/// Transactions already running keep the tariff they started with.
#[utoipa::path(post, path = "/api/v1/tariffs", tag = "tariffs", request_body = TariffDoc,
    responses(
        (status = 201, description = "Created", body = TariffDoc),
        (status = 200, description = "Replaced", body = TariffDoc),
        (status = 400, description = "The tariff is invalid; the message names the field", body = crate::error::ErrorBody),
    ))]
pub async fn put_tariff(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(tariff): ApiJson<Tariff>,
) -> Result<(StatusCode, Json<Tariff>), ApiError> {
    caller.require(ApiRole::Operator)?;
    tariff
        .validate()
        .map_err(|e| ApiError::bad_request("invalid_tariff", e.to_string()))?;
    let existed = state
        .store
        .tariffs()
        .await?
        .iter()
        .any(|t| t.id == tariff.id);
    state.store.put_tariff(&tariff).await?;
    if let Some(ocpi) = &state.ocpi {
        // Roaming partners see the new price (OCPI Tariffs push, ADR 0038).
        unicharge_ocpi_server::tariffs::changed(ocpi).await;
    }
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(tariff)))
}

/// One tariff.
#[utoipa::path(get, path = "/api/v1/tariffs/{id}", tag = "tariffs",
    params(("id" = String, Path)),
    responses((status = 200, body = TariffDoc), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_tariff(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Tariff>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    state
        .store
        .tariffs()
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .map(Json)
        .ok_or_else(|| unknown_tariff(&id))
}

/// Delete a tariff and its assignments. Transactions that started with it keep it.
#[utoipa::path(delete, path = "/api/v1/tariffs/{id}", tag = "tariffs",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_tariff(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::Operator)?;
    if state.store.delete_tariff(&id).await? {
        if let Some(ocpi) = &state.ocpi {
            unicharge_ocpi_server::tariffs::changed(ocpi).await;
        }
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown_tariff(&id))
    }
}

/// Every assignment, oldest first.
#[utoipa::path(get, path = "/api/v1/tariff-assignments", tag = "tariffs",
    responses((status = 200, body = AssignmentList)))]
pub async fn list_assignments(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<AssignmentList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let rows = state.store.tariff_assignments().await?;
    Ok(Json(AssignmentList {
        assignments: rows
            .into_iter()
            .map(|(id, a)| AssignmentView::new(id, a))
            .collect(),
    }))
}

/// Assign a tariff to a scope. The tariff must exist.
#[utoipa::path(post, path = "/api/v1/tariff-assignments", tag = "tariffs", request_body = AssignmentBody,
    responses(
        (status = 201, body = AssignmentView),
        (status = 400, description = "Unknown tariff, or an empty station id / token group", body = crate::error::ErrorBody),
    ))]
pub async fn add_assignment(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<AssignmentBody>,
) -> Result<(StatusCode, Json<AssignmentView>), ApiError> {
    caller.require(ApiRole::Operator)?;
    let empty = match &body.scope {
        TariffScope::Default => None,
        TariffScope::Station { station_id } | TariffScope::Evse { station_id, .. } => {
            station_id.is_empty().then_some("stationId")
        }
        TariffScope::TokenGroup { group_id_token } => {
            group_id_token.is_empty().then_some("groupIdToken")
        }
    };
    if let Some(field) = empty {
        return Err(ApiError::bad_request(
            "invalid_scope",
            format!("scope.{field} is empty"),
        ));
    }
    if !state
        .store
        .tariffs()
        .await?
        .iter()
        .any(|t| t.id == body.tariff_id)
    {
        return Err(ApiError::bad_request(
            "unknown_tariff",
            format!(
                "no tariff {:?}; create it first (POST /api/v1/tariffs)",
                body.tariff_id
            ),
        ));
    }
    let assignment = TariffAssignment {
        tariff_id: body.tariff_id,
        scope: body.scope,
    };
    let id = state.store.add_tariff_assignment(&assignment).await?;
    Ok((
        StatusCode::CREATED,
        Json(AssignmentView::new(id, assignment)),
    ))
}

/// Remove an assignment.
#[utoipa::path(delete, path = "/api/v1/tariff-assignments/{id}", tag = "tariffs",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_assignment(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::Operator)?;
    let unknown = || {
        ApiError::not_found(
            "unknown_tariff_assignment",
            format!("no tariff assignment {id:?}"),
        )
    };
    let number: i64 = id.parse().map_err(|_| unknown())?;
    if state.store.delete_tariff_assignment(number).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown())
    }
}

/// The tariff a session at this station (EVSE, token group) would be charged now, with its
/// driver text. 404 when no assignment covers it.
#[utoipa::path(get, path = "/api/v1/stations/{id}/tariff", tag = "tariffs",
    params(("id" = String, Path, description = "Station id"), StationTariffQuery),
    responses((status = 200, body = StationTariff), (status = 404, description = "Unknown station, or no tariff applies", body = crate::error::ErrorBody)))]
pub async fn station_tariff(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<StationTariffQuery>,
) -> Result<Json<StationTariff>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let tariffs = state.store.tariffs().await?;
    let assignments: Vec<TariffAssignment> = state
        .store
        .tariff_assignments()
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let tariff = select_tariff(
        &tariffs,
        &assignments,
        station.as_str(),
        query.evse_id,
        query.group_id_token.as_deref(),
        Utc::now(),
    )
    .ok_or_else(|| {
        ApiError::not_found(
            "no_tariff",
            format!("no tariff applies to station {station} now; assign one (POST /api/v1/tariff-assignments)"),
        )
    })?;
    Ok(Json(StationTariff {
        driver_text: tariff.driver_text(query.language.as_deref()),
        tariff: tariff.clone(),
    }))
}
