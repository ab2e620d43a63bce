//! Site load management — the HTTP mapping of `unicharge_csms::smart_charging::site`: groups
//! of stations sharing one limit, their current allocation per EVSE and its history.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_csms::smart_charging::site::{self, EvseAllocation, GroupView};
use unicharge_store::{SiteAllocationRecord, SiteGroup};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::stations::station_id;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/site-groups", get(list_site_groups))
        .route(
            "/api/v1/site-groups/{id}",
            get(get_site_group)
                .put(put_site_group)
                .delete(delete_site_group),
        )
        .route("/api/v1/site-groups/{id}/history", get(site_group_history))
}

fn default_min() -> f64 {
    6.0
}
fn default_max() -> f64 {
    32.0
}
fn default_phases() -> i64 {
    3
}
fn default_unit() -> String {
    "A".into()
}

/// A group of stations behind one grid connection and the limit they share.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteGroupBody {
    /// The most the group's EVSEs may draw together, in `unit`.
    pub limit: f64,
    /// `A` (per phase, the default) or `W`.
    #[serde(default = "default_unit")]
    pub unit: String,
    /// Member station ids (each registered). A per-station limit is a group of one.
    pub stations: Vec<String>,
    /// The least an EVSE charges with; below it the EVSE gets 0 (default 6, IEC 61851's 6 A).
    #[serde(default = "default_min")]
    pub min_rate: f64,
    /// The most one EVSE can use (default 32).
    #[serde(default = "default_max")]
    pub max_rate: f64,
    /// numberPhases of the profiles sent (default 3).
    #[serde(default = "default_phases")]
    pub phases: i64,
    /// stackLevel of the TxProfiles sent (default 0).
    #[serde(default)]
    pub stack_level: i64,
    /// Priority by token group (groupIdToken → priority, higher first when the limit does not
    /// cover every minimum; others 0).
    #[serde(default)]
    pub priorities: BTreeMap<String, i64>,
}

/// What an EVSE with an ongoing transaction holds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvseAllocationView {
    pub station_id: String,
    pub evse_id: i64,
    pub transaction_id: String,
    pub group_id_token: Option<String>,
    /// Phases the EV charges on (numberOfPhasesUsed as the station reported it, else the
    /// group's phases).
    pub phases: i64,
    /// The limit in force (the last one the station accepted), in the group's unit.
    pub rate: f64,
    /// The station's answer to the last limit sent (`Accepted`, `Rejected`, `none` yet, or
    /// why it was not delivered).
    pub status: String,
}

impl From<EvseAllocation> for EvseAllocationView {
    fn from(e: EvseAllocation) -> Self {
        EvseAllocationView {
            station_id: e.station_id.to_string(),
            evse_id: e.evse_id,
            transaction_id: e.transaction_id,
            group_id_token: e.group_id_token,
            phases: e.phases,
            rate: e.rate,
            status: e.status,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteGroupView {
    pub id: String,
    pub limit: f64,
    pub unit: String,
    pub stations: Vec<String>,
    pub min_rate: f64,
    pub max_rate: f64,
    pub phases: i64,
    pub stack_level: i64,
    pub priorities: BTreeMap<String, i64>,
    pub updated_at: DateTime<Utc>,
    /// Present on a single group: every EVSE with an ongoing transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evses: Option<Vec<EvseAllocationView>>,
    /// Sum of the limits in force (single group only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated: Option<f64>,
}

impl SiteGroupView {
    fn new(g: SiteGroup) -> Self {
        SiteGroupView {
            id: g.id,
            limit: g.limit,
            unit: g.unit,
            stations: g.stations.iter().map(ToString::to_string).collect(),
            min_rate: g.min_rate,
            max_rate: g.max_rate,
            phases: g.phases,
            stack_level: g.stack_level,
            priorities: g.priorities,
            updated_at: g.updated_at,
            evses: None,
            allocated: None,
        }
    }

    fn with_allocation(view: GroupView) -> Self {
        SiteGroupView {
            evses: Some(view.evses.into_iter().map(Into::into).collect()),
            allocated: Some(view.allocated),
            ..SiteGroupView::new(view.group)
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteGroupList {
    pub groups: Vec<SiteGroupView>,
}

#[utoipa::path(get, path = "/api/v1/site-groups", tag = "smart charging",
    responses((status = 200, body = SiteGroupList)))]
pub async fn list_site_groups(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<SiteGroupList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let groups = site::groups(&state.csms).await?;
    Ok(Json(SiteGroupList {
        groups: groups.iter().cloned().map(SiteGroupView::new).collect(),
    }))
}

/// Create or replace a group; its limit is enforced at once (profiles sent to every EVSE with
/// an ongoing transaction). 400 names the setting to fix.
#[utoipa::path(put, path = "/api/v1/site-groups/{id}", tag = "smart charging",
    params(("id" = String, Path, description = "Group id")), request_body = SiteGroupBody,
    responses((status = 200, body = SiteGroupView), (status = 400, body = crate::error::ErrorBody),
        (status = 404, description = "A member station is not registered", body = crate::error::ErrorBody)))]
pub async fn put_site_group(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SiteGroupBody>,
) -> Result<Json<SiteGroupView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    let stations = body
        .stations
        .iter()
        .map(|s| station_id(s))
        .collect::<Result<Vec<_>, _>>()?;
    let group = SiteGroup {
        id,
        limit: body.limit,
        unit: body.unit,
        stations,
        min_rate: body.min_rate,
        max_rate: body.max_rate,
        phases: body.phases,
        stack_level: body.stack_level,
        priorities: body.priorities,
        updated_at: Utc::now(),
    };
    let view = site::put_group(&state.csms, group).await?;
    Ok(Json(SiteGroupView::with_allocation(view)))
}

/// The group with its current allocation per EVSE.
#[utoipa::path(get, path = "/api/v1/site-groups/{id}", tag = "smart charging",
    params(("id" = String, Path, description = "Group id")),
    responses((status = 200, body = SiteGroupView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_site_group(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SiteGroupView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let view = site::group_view(&state.csms, &id).await?;
    Ok(Json(SiteGroupView::with_allocation(view)))
}

#[utoipa::path(delete, path = "/api/v1/site-groups/{id}", tag = "smart charging",
    params(("id" = String, Path, description = "Group id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_site_group(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::Operator)?;
    site::delete_group(&state.csms, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistoryQuery {
    /// The latest this many changes (default 1000).
    pub limit: Option<u32>,
}

/// One limit given to an EVSE (or withdrawn when its transaction ended).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllocationChangeView {
    pub at: DateTime<Utc>,
    pub station_id: String,
    pub evse_id: i64,
    pub transaction_id: String,
    pub rate: f64,
    pub unit: String,
    /// `transaction_started`, `transaction_ended`, `phases_changed`, `group_changed`,
    /// `rebalance`.
    pub reason: String,
    pub status: String,
}

impl From<SiteAllocationRecord> for AllocationChangeView {
    fn from(a: SiteAllocationRecord) -> Self {
        AllocationChangeView {
            at: a.at,
            station_id: a.station_id.to_string(),
            evse_id: a.evse_id,
            transaction_id: a.transaction_id,
            rate: a.rate,
            unit: a.unit,
            reason: a.reason,
            status: a.status,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllocationHistory {
    pub changes: Vec<AllocationChangeView>,
}

/// The group's allocation changes, oldest first.
#[utoipa::path(get, path = "/api/v1/site-groups/{id}/history", tag = "smart charging",
    params(("id" = String, Path, description = "Group id"), HistoryQuery),
    responses((status = 200, body = AllocationHistory), (status = 404, body = crate::error::ErrorBody)))]
pub async fn site_group_history(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<AllocationHistory>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let limit = query.limit.unwrap_or(1000).clamp(1, 10_000);
    let changes = site::history(&state.csms, &id, limit).await?;
    Ok(Json(AllocationHistory {
        changes: changes.into_iter().map(Into::into).collect(),
    }))
}
