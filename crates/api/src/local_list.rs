//! Block D: the station's Local Authorization List (D01 send, D02 version) — the HTTP mapping
//! of `unicharge_csms::local_auth_list`, which owns the versions, the per-station ordering,
//! the GetLocalListVersion before a first update and the Full resend after a refusal.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_core::tokens::decide;
use unicharge_csms::local_auth_list::{self as d, LocalListSent as Sent};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ocpp_enum, ApiJson};
use crate::stations::{existing_station, station_id};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/stations/{id}/local-list",
            get(get_local_list).post(send_full_list),
        )
        .route(
            "/api/v1/stations/{id}/local-list/differential",
            post(send_differential_list),
        )
        .route(
            "/api/v1/stations/{id}/local-list/version",
            post(get_local_list_version),
        )
}

/// An entry of a list, as the operator names it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListEntry {
    pub id_token: String,
    /// OCPP IdTokenEnumType, e.g. `ISO14443`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl ListEntry {
    fn typed(&self) -> Result<d::ListEntry, ApiError> {
        Ok(d::ListEntry {
            id_token: self.id_token.clone(),
            kind: ocpp_enum("type", &self.kind)?,
        })
    }
}

fn typed(entries: &[ListEntry]) -> Result<Vec<d::ListEntry>, ApiError> {
    entries.iter().map(ListEntry::typed).collect()
}

impl From<Sent> for LocalListSent {
    fn from(sent: Sent) -> Self {
        LocalListSent {
            version_number: sent.version_number,
            status: sent.status.as_str().to_string(),
            resent_full: sent.resent_full,
        }
    }
}

/// An entry of the stored list, with what the token store says of the token now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalListEntryView {
    pub id_token: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The authorization status the token would be sent with now (`Unknown` if the token has
    /// been deleted from the token store since).
    pub status: String,
}

/// The list the CSMS keeps for the station.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalListView {
    /// Version of the entries below, as last sent (0: never sent).
    pub version_number: i64,
    /// What the station last reported through GetLocalListVersion.
    pub station_version: Option<i64>,
    /// The station's answer to the last SendLocalList.
    pub last_status: Option<String>,
    pub entries: Vec<LocalListEntryView>,
}

/// Replace the station's list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FullListBody {
    /// The whole new list; empty clears it. Every token must be in the token store.
    pub entries: Vec<ListEntry>,
}

/// Change the station's list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DifferentialBody {
    /// Entries to add or update; every token must be in the token store.
    #[serde(default)]
    pub upsert: Vec<ListEntry>,
    /// Entries to remove.
    #[serde(default)]
    pub remove: Vec<ListEntry>,
}

/// The outcome of a SendLocalList.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalListSent {
    /// The version the station was last sent.
    pub version_number: i64,
    /// The station's answer to it: `Accepted`, `Failed` or `VersionMismatch`.
    pub status: String,
    /// True when the station refused the update (`VersionMismatch` / `Failed`) and the whole
    /// list was sent again as a Full update; `versionNumber` and `status` are then the resend's.
    pub resent_full: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalListVersion {
    /// The version the station reports (0: no list, or the station does not support one).
    pub version_number: i64,
}

/// The stored list, with each token's current status.
#[utoipa::path(get, path = "/api/v1/stations/{id}/local-list", tag = "local list",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = LocalListView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_local_list(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<LocalListView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let list = state.store.local_list(&station).await?;
    let now = Utc::now();
    let mut entries = Vec::with_capacity(list.entries.len());
    for (id_token, kind) in list.entries {
        let record = state.store.find_token(&id_token, &kind).await?;
        entries.push(LocalListEntryView {
            status: decide(record.as_ref(), now).status,
            id_token,
            kind,
        });
    }
    Ok(Json(LocalListView {
        version_number: list.version,
        station_version: list.station_version,
        last_status: list.last_status,
        entries,
    }))
}

/// Replace the station's list (D01, Full update). An empty list clears it.
#[utoipa::path(post, path = "/api/v1/stations/{id}/local-list", tag = "local list",
    params(("id" = String, Path, description = "Station id")), request_body = FullListBody,
    responses(
        (status = 200, body = LocalListSent),
        (status = 400, description = "A token the token store does not know, or a request that breaks the schema", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn send_full_list(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FullListBody>,
) -> Result<Json<LocalListSent>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let entries = typed(&body.entries)?;
    Ok(Json(
        d::send_full(&state.csms, &station, entries, &by)
            .await?
            .into(),
    ))
}

/// Change the station's list (D01, Differential update): add or update `upsert`, drop
/// `remove`. The stored list is changed the same way and gets the new version.
#[utoipa::path(post, path = "/api/v1/stations/{id}/local-list/differential", tag = "local list",
    params(("id" = String, Path, description = "Station id")), request_body = DifferentialBody,
    responses(
        (status = 200, body = LocalListSent),
        (status = 400, description = "A token the token store does not know, or a request that breaks the schema", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn send_differential_list(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DifferentialBody>,
) -> Result<Json<LocalListSent>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let (upsert, remove) = (typed(&body.upsert)?, typed(&body.remove)?);
    Ok(Json(
        d::send_differential(&state.csms, &station, upsert, remove, &by)
            .await?
            .into(),
    ))
}

/// Ask the station which version of the list it holds (D02); the answer is kept as its
/// `stationVersion`. Any body is ignored.
#[utoipa::path(post, path = "/api/v1/stations/{id}/local-list/version", tag = "local list",
    params(("id" = String, Path, description = "Station id")),
    responses(
        (status = 200, body = LocalListVersion),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn get_local_list_version(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<LocalListVersion>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let version_number = d::get_version(&state.csms, &station, &by).await?;
    Ok(Json(LocalListVersion { version_number }))
}
