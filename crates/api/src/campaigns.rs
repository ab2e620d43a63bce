//! L01 firmware rollout campaigns — the HTTP mapping of `unicharge_csms::firmware::campaign`.
//!
//! `POST /api/v1/firmware-campaigns` starts one (stations by list or by a boot-data filter),
//! `GET …/{id}` shows it with every station's state, `POST …/{id}/pause|resume|abort` steer it.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_csms::firmware::campaign::{
    self as c, CampaignFirmware, CampaignSpec, Control, Selection,
};
use unicharge_store::{CampaignRecord, CampaignStationRecord};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::stations::station_id;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/firmware-campaigns",
            get(list_campaigns).post(start_campaign),
        )
        .route("/api/v1/firmware-campaigns/{id}", get(get_campaign))
        .route("/api/v1/firmware-campaigns/{id}/pause", post(pause))
        .route("/api/v1/firmware-campaigns/{id}/resume", post(resume))
        .route("/api/v1/firmware-campaigns/{id}/abort", post(abort))
}

/// Which stations by their last BootNotification; absent fields match anything (an empty
/// filter: every registered station).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StationFilter {
    pub vendor: Option<String>,
    pub model: Option<String>,
    /// The firmware version the stations run now.
    pub firmware_version: Option<String>,
}

/// A campaign to start: what to install (as for one update), on which stations, how.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartCampaignBody {
    pub name: String,
    /// URI stations download the firmware from (absent with `file`).
    pub location: Option<String>,
    /// A firmware file unicharge serves (its `sha256`): each station gets its own URL.
    pub file: Option<String>,
    /// Base64 signature of the firmware (a served file signed by unicharge carries its own).
    pub signature: Option<String>,
    pub install_date_time: Option<DateTime<Utc>>,
    /// The station's own download retries and the seconds between them (UpdateFirmware).
    pub retries: Option<i64>,
    pub retry_interval: Option<i64>,
    /// Station ids; or give `filter`.
    pub stations: Option<Vec<String>>,
    pub filter: Option<StationFilter>,
    /// Stations updating at once, at most (default 10).
    pub concurrency: Option<i64>,
    /// UpdateFirmware attempts per station (default 2: one retry).
    pub max_attempts: Option<i64>,
    /// Seconds an attempt may take to reach a final FirmwareStatus (default 3600).
    pub station_timeout_secs: Option<u64>,
}

/// One station of a campaign.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignStationView {
    pub station_id: String,
    /// `Pending`, `InProgress`, `Installed`, `Failed`, `Aborted`, `Skipped`.
    pub state: String,
    pub attempts: i64,
    /// The UpdateFirmware of the current or last attempt (see
    /// `…/stations/{id}/firmware/updates/{requestId}`).
    pub request_id: Option<i64>,
    /// The last FirmwareStatus the station notified (or its answer to UpdateFirmware).
    pub last_status: Option<String>,
    /// Why it failed, was skipped or aborted.
    pub reason: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<CampaignStationRecord> for CampaignStationView {
    fn from(s: CampaignStationRecord) -> Self {
        CampaignStationView {
            station_id: s.station_id.to_string(),
            state: s.state,
            attempts: s.attempts,
            request_id: s.request_id,
            last_status: s.last_status,
            reason: s.reason,
            started_at: s.started_at,
            updated_at: s.updated_at,
        }
    }
}

/// How many stations are in each state.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignCounts {
    pub total: usize,
    pub pending: usize,
    pub in_progress: usize,
    pub installed: usize,
    pub failed: usize,
    pub aborted: usize,
    pub skipped: usize,
}

impl CampaignCounts {
    fn of(stations: &[CampaignStationRecord]) -> Self {
        use c::station_state as S;
        let mut n = CampaignCounts {
            total: stations.len(),
            ..Default::default()
        };
        for s in stations {
            match s.state.as_str() {
                S::PENDING => n.pending += 1,
                S::IN_PROGRESS => n.in_progress += 1,
                S::INSTALLED => n.installed += 1,
                S::FAILED => n.failed += 1,
                S::ABORTED => n.aborted += 1,
                S::SKIPPED => n.skipped += 1,
                _ => {}
            }
        }
        n
    }
}

/// A campaign; `stations` only in the view of one campaign.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignView {
    pub id: i64,
    pub name: String,
    /// `Running`, `Paused`, `Aborted`, `Completed`.
    pub state: String,
    /// What is installed.
    #[schema(value_type = Object)]
    pub firmware: serde_json::Value,
    pub concurrency: i64,
    pub max_attempts: i64,
    pub station_timeout_secs: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub counts: CampaignCounts,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stations: Vec<CampaignStationView>,
}

impl CampaignView {
    fn of(c: CampaignRecord, stations: Vec<CampaignStationRecord>, with_stations: bool) -> Self {
        CampaignView {
            id: c.id,
            name: c.name,
            state: c.state,
            firmware: serde_json::from_str(&c.firmware).unwrap_or_default(),
            concurrency: c.concurrency,
            max_attempts: c.max_attempts,
            station_timeout_secs: c.station_timeout_secs,
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
            counts: CampaignCounts::of(&stations),
            stations: if with_stations {
                stations.into_iter().map(Into::into).collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// Every campaign, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignList {
    pub campaigns: Vec<CampaignView>,
}

#[utoipa::path(post, path = "/api/v1/firmware-campaigns", tag = "firmware",
    request_body = StartCampaignBody,
    responses((status = 201, body = CampaignView), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn start_campaign(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<StartCampaignBody>,
) -> Result<(axum::http::StatusCode, Json<CampaignView>), ApiError> {
    let by = caller.operator()?;
    let spec = spec(body)?;
    let id = c::start_campaign(&state.csms, spec, &by).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(view(&state, id, true).await?),
    ))
}

/// The campaign a start request describes (the REST API's body, or the web UI's form turned
/// into one), with the defaults filled in.
pub(crate) fn spec(body: StartCampaignBody) -> Result<CampaignSpec, ApiError> {
    let stations = match (body.stations, body.filter) {
        (Some(ids), None) => Selection::List(
            ids.iter()
                .map(|id| station_id(id))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        (None, Some(f)) => Selection::Filter {
            vendor: f.vendor,
            model: f.model,
            firmware_version: f.firmware_version,
        },
        _ => {
            return Err(ApiError::bad_request(
                "campaign_stations_missing",
                "give either `stations` (a list of station ids) or `filter` (vendor, model, \
                 firmwareVersion)",
            ))
        }
    };
    Ok(CampaignSpec {
        name: body.name,
        firmware: CampaignFirmware {
            location: body.location.unwrap_or_default(),
            file: body.file,
            signature: body.signature,
            install_date_time: body.install_date_time,
            retries: body.retries,
            retry_interval: body.retry_interval,
        },
        stations,
        concurrency: body.concurrency.unwrap_or(10),
        max_attempts: body.max_attempts.unwrap_or(2),
        station_timeout: Duration::from_secs(body.station_timeout_secs.unwrap_or(3600)),
    })
}

async fn view(state: &ApiState, id: i64, with_stations: bool) -> Result<CampaignView, ApiError> {
    let campaign = state.store.campaign(id).await?.ok_or_else(|| {
        ApiError::not_found("unknown_campaign", format!("no firmware campaign {id}"))
    })?;
    let stations = state.store.campaign_stations(id).await?;
    Ok(CampaignView::of(campaign, stations, with_stations))
}

#[utoipa::path(get, path = "/api/v1/firmware-campaigns", tag = "firmware",
    responses((status = 200, body = CampaignList)))]
pub async fn list_campaigns(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<CampaignList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let mut campaigns = Vec::new();
    for c in state.store.campaigns().await? {
        let stations = state.store.campaign_stations(c.id).await?;
        campaigns.push(CampaignView::of(c, stations, false));
    }
    Ok(Json(CampaignList { campaigns }))
}

/// A campaign with the state of each station.
#[utoipa::path(get, path = "/api/v1/firmware-campaigns/{id}", tag = "firmware",
    params(("id" = i64, Path, description = "Campaign id")),
    responses((status = 200, body = CampaignView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_campaign(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<CampaignView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(view(&state, id, true).await?))
}

async fn steer(
    state: ApiState,
    caller: Caller,
    id: i64,
    control: Control,
) -> Result<Json<CampaignView>, ApiError> {
    caller.operator()?;
    c::control(&state.csms, id, control).await?;
    Ok(Json(view(&state, id, true).await?))
}

/// Start no more stations; updates under way are still followed.
#[utoipa::path(post, path = "/api/v1/firmware-campaigns/{id}/pause", tag = "firmware",
    params(("id" = i64, Path, description = "Campaign id")),
    responses((status = 200, body = CampaignView), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn pause(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<CampaignView>, ApiError> {
    steer(state, caller, id, Control::Pause).await
}

/// Continue a paused campaign.
#[utoipa::path(post, path = "/api/v1/firmware-campaigns/{id}/resume", tag = "firmware",
    params(("id" = i64, Path, description = "Campaign id")),
    responses((status = 200, body = CampaignView), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn resume(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<CampaignView>, ApiError> {
    steer(state, caller, id, Control::Resume).await
}

/// Pending stations end Aborted; updates already sent are followed to their end.
#[utoipa::path(post, path = "/api/v1/firmware-campaigns/{id}/abort", tag = "firmware",
    params(("id" = i64, Path, description = "Campaign id")),
    responses((status = 200, body = CampaignView), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn abort(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<CampaignView>, ApiError> {
    steer(state, caller, id, Control::Abort).await
}
