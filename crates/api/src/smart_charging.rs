//! Block K: smart charging — the HTTP mapping of `unicharge_csms::smart_charging`.
//!
//! Profiles are checked before they are sent (K01); a profile that breaks a rule is answered
//! 400 with the rule's id as `code` and `detail.requirement` naming where the rule comes from.
//! What the station holds, the assembled GetChargingProfiles reports, the composite schedules
//! it answered and the external limits it reported are all readable here.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use unicharge_csms::smart_charging::{self as k, ClearRequest, ProfileRequest};
use unicharge_ocpp::v201::ChargingProfileCriterionType;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ocpp_enum, ocpp_value, ApiJson};
use crate::remote_control::StatusAnswer;
use crate::stations::{existing_station, station_id};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/stations/{id}/charging-profiles",
            get(list_charging_profiles).post(set_charging_profile),
        )
        .route(
            "/api/v1/stations/{id}/charging-profiles/clear",
            post(clear_charging_profile),
        )
        .route(
            "/api/v1/stations/{id}/charging-profiles/reports",
            post(get_charging_profiles),
        )
        .route(
            "/api/v1/stations/{id}/charging-profiles/reports/{requestId}",
            get(charging_profile_report),
        )
        .route(
            "/api/v1/stations/{id}/composite-schedules",
            get(list_composite_schedules).post(get_composite_schedule),
        )
        .route(
            "/api/v1/stations/{id}/charging-limits",
            get(list_charging_limits),
        )
        .route(
            "/api/v1/stations/{id}/evses/{evseId}/allowed",
            get(evse_allowed),
        )
}

fn json_text(text: Option<&str>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

/// Set a charging profile (K01).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetProfileBody {
    /// 0: the whole station.
    pub evse_id: i64,
    /// OCPP ChargingProfileType.
    #[schema(value_type = Object)]
    pub charging_profile: Value,
    /// Send a TxProfile although no transaction is ongoing on the EVSE (the station normally
    /// rejects it). Default false: such a profile is refused before sending.
    #[serde(default)]
    pub allow_without_transaction: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSet {
    pub profile_id: i64,
    /// The station's answer: `Accepted` / `Rejected`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub status_info: Option<Value>,
}

/// Check, send and keep a charging profile (K01). 400 names the broken rule.
#[utoipa::path(post, path = "/api/v1/stations/{id}/charging-profiles", tag = "smart charging",
    params(("id" = String, Path, description = "Station id")), request_body = SetProfileBody,
    responses(
        (status = 200, body = ProfileSet),
        (status = 400, description = "The profile breaks a rule (`code` is the rule)", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn set_charging_profile(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetProfileBody>,
) -> Result<Json<ProfileSet>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let profile: unicharge_ocpp::v201::ChargingProfileType =
        ocpp_value("chargingProfile", body.charging_profile)?;
    let profile_id = profile.id;
    let response = k::set_charging_profile(
        &state.csms,
        &station,
        ProfileRequest {
            evse_id: body.evse_id,
            profile,
            allow_without_transaction: body.allow_without_transaction,
        },
        &by,
    )
    .await?;
    Ok(Json(ProfileSet {
        profile_id,
        status: response.status.as_str().to_string(),
        status_info: response
            .status_info
            .map(|i| serde_json::to_value(i).unwrap_or_default()),
    }))
}

/// A profile the CSMS sent, with the station's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargingProfileView {
    pub evse_id: i64,
    /// `Requested` (no answer yet), the station's answer, or why there was none.
    pub status: String,
    #[schema(value_type = Object)]
    pub charging_profile: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub status_info: Option<Value>,
    pub sent_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargingProfileList {
    /// Not cleared, by profile id.
    pub profiles: Vec<ChargingProfileView>,
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/charging-profiles", tag = "smart charging",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = ChargingProfileList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_charging_profiles(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ChargingProfileList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let profiles = state
        .store
        .charging_profiles(&station)
        .await?
        .into_iter()
        .map(|p| ChargingProfileView {
            evse_id: p.evse_id,
            status: p.status,
            charging_profile: json_text(Some(p.profile.as_str())).unwrap_or_default(),
            status_info: json_text(p.status_info.as_deref()),
            sent_at: p.sent_at,
            answered_at: p.answered_at,
        })
        .collect();
    Ok(Json(ChargingProfileList { profiles }))
}

/// Clear profiles (K10): by `chargingProfileId`, or by criteria (all that match).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClearBody {
    pub charging_profile_id: Option<i64>,
    pub evse_id: Option<i64>,
    pub charging_profile_purpose: Option<String>,
    pub stack_level: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/charging-profiles/clear", tag = "smart charging",
    params(("id" = String, Path, description = "Station id")), request_body = ClearBody,
    responses(
        (status = 200, description = "ClearChargingProfileResponse (`Accepted` / `Unknown`)", body = StatusAnswer),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn clear_charging_profile(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClearBody>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let criteria = body.evse_id.is_some()
        || body.charging_profile_purpose.is_some()
        || body.stack_level.is_some();
    let what = match (body.charging_profile_id, criteria) {
        (Some(id), false) => ClearRequest::Id(id),
        (None, true) => ClearRequest::Criteria {
            evse_id: body.evse_id,
            purpose: body
                .charging_profile_purpose
                .as_deref()
                .map(|p| ocpp_enum("chargingProfilePurpose", p))
                .transpose()?,
            stack_level: body.stack_level,
        },
        _ => {
            return Err(ApiError::bad_request(
                "clear_what",
                "give either chargingProfileId, or criteria (evseId, chargingProfilePurpose, \
                 stackLevel), not both and not neither",
            ))
        }
    };
    let response = k::clear_charging_profile(&state.csms, &station, what, &by).await?;
    Ok(Json(StatusAnswer {
        status: response.status.as_str().to_string(),
        status_info: response
            .status_info
            .map(|i| serde_json::to_value(i).unwrap_or_default()),
    }))
}

/// Ask the station which profiles it holds (K09). The CSMS allocates the requestId.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetProfilesBody {
    /// Absent: every EVSE.
    pub evse_id: Option<i64>,
    /// OCPP ChargingProfileCriterionType (purpose, stackLevel, chargingProfileId,
    /// chargingLimitSource); absent: no filter.
    #[schema(value_type = Option<Object>)]
    pub charging_profile: Option<Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfilesRequested {
    /// Read the assembled report at `charging-profiles/reports/{requestId}`.
    pub request_id: i64,
    /// `Accepted` / `NoProfiles`.
    pub status: String,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/charging-profiles/reports", tag = "smart charging",
    params(("id" = String, Path, description = "Station id")), request_body = GetProfilesBody,
    responses(
        (status = 200, body = ProfilesRequested),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn get_charging_profiles(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GetProfilesBody>,
) -> Result<Json<ProfilesRequested>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let criterion: ChargingProfileCriterionType = match body.charging_profile {
        Some(c) => ocpp_value("chargingProfile", c)?,
        None => ChargingProfileCriterionType {
            custom_data: None,
            charging_profile_purpose: None,
            stack_level: None,
            charging_profile_id: None,
            charging_limit_source: None,
        },
    };
    let requested =
        k::get_charging_profiles(&state.csms, &station, body.evse_id, criterion, &by).await?;
    Ok(Json(ProfilesRequested {
        request_id: requested.request_id,
        status: requested.status,
    }))
}

/// One ReportChargingProfiles part.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportPartView {
    pub evse_id: i64,
    pub charging_limit_source: String,
    pub tbc: bool,
    #[schema(value_type = Vec<Object>)]
    pub charging_profile: Value,
    pub received_at: DateTime<Utc>,
}

/// A GetChargingProfiles report assembled from its parts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargingProfileReportView {
    pub request_id: i64,
    #[schema(value_type = Object)]
    pub request: Value,
    pub status: Option<String>,
    /// The last part (tbc false) arrived, or the station had none.
    pub complete: bool,
    pub requested_at: DateTime<Utc>,
    /// In arrival order.
    pub parts: Vec<ReportPartView>,
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/charging-profiles/reports/{requestId}", tag = "smart charging",
    params(("id" = String, Path, description = "Station id"), ("requestId" = i64, Path)),
    responses((status = 200, body = ChargingProfileReportView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn charging_profile_report(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, request_id)): Path<(String, i64)>,
) -> Result<Json<ChargingProfileReportView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let Some((report, parts)) = state
        .store
        .charging_profile_report(&station, request_id)
        .await?
    else {
        return Err(ApiError::not_found(
            "unknown_report",
            format!("station {station} has no charging profile report {request_id}"),
        ));
    };
    Ok(Json(ChargingProfileReportView {
        request_id: report.request_id,
        request: json_text(Some(report.request.as_str())).unwrap_or_default(),
        status: report.status,
        complete: report.complete,
        requested_at: report.requested_at,
        parts: parts
            .into_iter()
            .map(|p| ReportPartView {
                evse_id: p.evse_id,
                charging_limit_source: p.charging_limit_source,
                tbc: p.tbc,
                charging_profile: json_text(Some(p.profiles.as_str())).unwrap_or_default(),
                received_at: p.received_at,
            })
            .collect(),
    }))
}

/// Ask for the composite schedule (K08).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompositeBody {
    /// 0: the grid connection of the whole station.
    pub evse_id: i64,
    /// Seconds from now.
    pub duration: i64,
    /// `A` or `W`; absent: the station chooses.
    pub charging_rate_unit: Option<String>,
}

/// A composite schedule the station answered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompositeView {
    pub id: i64,
    pub evse_id: i64,
    pub duration: i64,
    pub charging_rate_unit: Option<String>,
    /// `Accepted` / `Rejected`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub status_info: Option<Value>,
    /// OCPP CompositeScheduleType.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub schedule: Option<Value>,
    pub requested_at: DateTime<Utc>,
}

impl CompositeView {
    fn new(c: unicharge_store::CompositeScheduleRecord) -> Self {
        CompositeView {
            id: c.id,
            evse_id: c.evse_id,
            duration: c.duration,
            charging_rate_unit: c.charging_rate_unit,
            status: c.status,
            status_info: json_text(c.status_info.as_deref()),
            schedule: json_text(c.schedule.as_deref()),
            requested_at: c.requested_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompositeList {
    /// Newest first.
    pub schedules: Vec<CompositeView>,
}

#[utoipa::path(post, path = "/api/v1/stations/{id}/composite-schedules", tag = "smart charging",
    params(("id" = String, Path, description = "Station id")), request_body = CompositeBody,
    responses(
        (status = 200, body = CompositeView),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn get_composite_schedule(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CompositeBody>,
) -> Result<Json<CompositeView>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let unit = body
        .charging_rate_unit
        .as_deref()
        .map(|u| ocpp_enum("chargingRateUnit", u))
        .transpose()?;
    let (row, _) = k::get_composite_schedule(
        &state.csms,
        &station,
        body.evse_id,
        body.duration,
        unit,
        &by,
    )
    .await?;
    let stored = state
        .store
        .composite_schedules(&station, 20)
        .await?
        .into_iter()
        .find(|c| c.id == row)
        .ok_or_else(|| ApiError::internal("the composite schedule just stored is gone"))?;
    Ok(Json(CompositeView::new(stored)))
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/composite-schedules", tag = "smart charging",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = CompositeList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_composite_schedules(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CompositeList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let schedules = state
        .store
        .composite_schedules(&station, 100)
        .await?
        .into_iter()
        .map(CompositeView::new)
        .collect();
    Ok(Json(CompositeList { schedules }))
}

/// An external limit the station reported (K12), released or not (K13).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargingLimitView {
    /// 0: the whole station.
    pub evse_id: i64,
    /// `EMS`, `Other`, `SO`, `CSO`.
    pub source: String,
    pub is_grid_critical: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub charging_schedule: Option<Value>,
    pub notified_at: DateTime<Utc>,
    /// When the source released it; absent: in force.
    pub cleared_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargingLimitList {
    pub limits: Vec<ChargingLimitView>,
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/charging-limits", tag = "smart charging",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = ChargingLimitList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_charging_limits(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ChargingLimitList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let limits = state
        .store
        .charging_limits(&station)
        .await?
        .into_iter()
        .map(|l| ChargingLimitView {
            evse_id: l.evse_id,
            source: l.source,
            is_grid_critical: l.is_grid_critical,
            charging_schedule: json_text(l.schedules.as_deref()),
            notified_at: l.notified_at,
            cleared_at: l.cleared_at,
        })
        .collect();
    Ok(Json(ChargingLimitList { limits }))
}

/// How far ahead and in which unit to compute what an EVSE may draw.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowedQuery {
    /// Seconds from now; default 86400.
    pub duration: Option<i64>,
    /// `A` (default) or `W`.
    pub unit: Option<String>,
    /// Supply voltage for A↔W (default: the configured `[csms] supply_voltage`, 230 V).
    pub voltage: Option<f64>,
}

/// One period of what the EVSE may draw.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedPeriod {
    /// Seconds from `start`.
    pub start_period: i64,
    /// Absent: no profile limits it.
    pub limit: Option<f64>,
}

/// What an EVSE may draw, computed by the CSMS from the profiles the station holds (K08
/// rules; the station's own composite schedule may differ where local limits apply).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedView {
    pub evse_id: i64,
    pub start: DateTime<Utc>,
    pub duration: i64,
    pub unit: String,
    /// The ongoing transaction whose TxProfiles apply, if any.
    pub transaction_id: Option<String>,
    pub periods: Vec<AllowedPeriod>,
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/evses/{evseId}/allowed", tag = "smart charging",
    params(("id" = String, Path, description = "Station id"), ("evseId" = i64, Path), AllowedQuery),
    responses((status = 200, body = AllowedView), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn evse_allowed(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, evse_id)): Path<(String, i64)>,
    Query(query): Query<AllowedQuery>,
) -> Result<Json<AllowedView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let duration = query.duration.unwrap_or(86_400);
    if !(1..=31 * 86_400).contains(&duration) {
        return Err(ApiError::bad_request(
            "invalid_duration",
            "duration must be between 1 second and 31 days",
        ));
    }
    let unit = match query.unit.as_deref().unwrap_or("A") {
        "A" => unicharge_core::smart_charging::Unit::A,
        "W" => unicharge_core::smart_charging::Unit::W,
        other => {
            return Err(ApiError::bad_request(
                "invalid_unit",
                format!("unit {other:?}: use A or W"),
            ))
        }
    };
    let supply = unicharge_core::smart_charging::Supply {
        voltage: query.voltage.unwrap_or(state.csms.config().supply_voltage),
    };
    let records = state.store.charging_profiles(&station).await?;
    let transaction = unicharge_csms::transactions::ongoing(state.store.as_ref(), &station)
        .await?
        .into_iter()
        .find(|t| t.evse_id == Some(evse_id));
    let start = Utc::now();
    let periods = unicharge_csms::smart_charging::composite::evse_composite(
        &records,
        evse_id,
        transaction
            .as_ref()
            .map(|t| (t.transaction_id.as_str(), t.started_at)),
        start,
        duration,
        unit,
        supply,
    );
    Ok(Json(AllowedView {
        evse_id,
        start,
        duration,
        unit: match unit {
            unicharge_core::smart_charging::Unit::A => "A".into(),
            unicharge_core::smart_charging::Unit::W => "W".into(),
        },
        transaction_id: transaction.map(|t| t.transaction_id),
        periods: periods
            .into_iter()
            .map(|p| AllowedPeriod {
                start_period: p.start,
                limit: p.limit,
            })
            .collect(),
    }))
}
