//! Block D: the station's Local Authorization List (D01 send, D02 version).
//!
//! The CSMS keeps, per station, the list it wants the station to hold: its entries
//! `(idToken, type)`, the version last sent, what the station last reported through
//! GetLocalListVersion and its answer to the last SendLocalList. The idTokenInfo sent with each
//! entry comes from the token store at the time of sending, so a token blocked in the store
//! goes out as Blocked.
//!
//! Versions strictly increase: a new list gets `max(stored version, station's version) + 1`,
//! operations on one station's list run one at a time, and the list is stored (durably) before
//! it is sent. When the station answers `VersionMismatch` or `Failed`, the CSMS resends the
//! whole stored list once as a Full update with the next version, so the station ends up with
//! exactly what the CSMS believes it holds.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use unicharge_core::api_keys::ApiRole;
use unicharge_core::tokens::{decide, IdTokenRecord};
use unicharge_core::StationId;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::commands::run_command;
use crate::error::ApiJson;
use crate::remote_control::{answer_status, check_request, require_connected};
use crate::stations::existing_station;
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

/// One lock per station: local-list operations on a station run one after the other, so that
/// two concurrent requests cannot pick the same version. Lives in the [`ApiState`] of one
/// server.
#[derive(Clone, Default)]
pub struct StationLocks(Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>);

async fn lock_station(state: &ApiState, station: &StationId) -> tokio::sync::OwnedMutexGuard<()> {
    let lock = state
        .local_list_locks
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .entry(station.to_string())
        .or_default()
        .clone();
    lock.lock_owned().await
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
    fn key(&self) -> (String, String) {
        (self.id_token.to_lowercase(), self.kind.clone())
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
    caller.require(ApiRole::Operator)?;
    let station = existing_station(&state, &id).await?;
    let entries = dedup(body.entries);
    let items = authorization_data(&state, &entries).await?;
    let _guard = lock_station(&state, &station).await;
    let stored = state.store.local_list(&station).await?;
    let version = next_version(stored.version, stored.station_version);
    let payload = send_local_list_request(version, "Full", items);
    check_request("SendLocalList", &payload)?;
    require_connected(&state, &station)?;
    let entries: Vec<(String, String)> =
        entries.into_iter().map(|e| (e.id_token, e.kind)).collect();
    state
        .store
        .put_local_list(&station, version, &entries)
        .await?;
    send_and_recover(&state, &caller, &station, version, payload).await
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
    caller.require(ApiRole::Operator)?;
    let station = existing_station(&state, &id).await?;
    let upsert = dedup(body.upsert);
    let remove: Vec<ListEntry> = dedup(body.remove)
        .into_iter()
        .filter(|r| !upsert.iter().any(|u| u.key() == r.key()))
        .collect();
    let mut items = authorization_data(&state, &upsert).await?;
    items.extend(
        remove
            .iter()
            .map(|e| json!({"idToken": {"idToken": e.id_token, "type": e.kind}})),
    );
    let _guard = lock_station(&state, &station).await;
    let stored = state.store.local_list(&station).await?;
    let version = next_version(stored.version, stored.station_version);
    let payload = send_local_list_request(version, "Differential", items);
    check_request("SendLocalList", &payload)?;
    require_connected(&state, &station)?;
    let changed = |(id_token, kind): &(String, String)| {
        let key = (id_token.to_lowercase(), kind.clone());
        upsert.iter().chain(&remove).any(|e| e.key() == key)
    };
    let mut entries: Vec<(String, String)> = stored
        .entries
        .into_iter()
        .filter(|entry| !changed(entry))
        .collect();
    entries.extend(upsert.into_iter().map(|e| (e.id_token, e.kind)));
    state
        .store
        .put_local_list(&station, version, &entries)
        .await?;
    send_and_recover(&state, &caller, &station, version, payload).await
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
    caller.require(ApiRole::Operator)?;
    let station = existing_station(&state, &id).await?;
    let _guard = lock_station(&state, &station).await;
    let answer = run_command(
        &state,
        &station,
        "GetLocalListVersion",
        json!({}),
        Some(&caller.key_id),
    )
    .await?;
    let version_number = answer["versionNumber"].as_i64().unwrap_or_default();
    state
        .store
        .set_local_list_station_state(&station, None, Some(version_number))
        .await?;
    Ok(Json(LocalListVersion { version_number }))
}

fn next_version(stored: i64, station: Option<i64>) -> i64 {
    stored.max(station.unwrap_or(0)).max(0) + 1
}

/// The entries without repeats (idTokens compare case-insensitively, as OCPP compares them);
/// the first spelling stays.
fn dedup(entries: Vec<ListEntry>) -> Vec<ListEntry> {
    let mut seen = Vec::new();
    entries
        .into_iter()
        .filter(|e| {
            let key = e.key();
            let new = !seen.contains(&key);
            if new {
                seen.push(key);
            }
            new
        })
        .collect()
}

fn send_local_list_request(version: i64, update_type: &str, items: Vec<Value>) -> Value {
    let mut payload = json!({"versionNumber": version, "updateType": update_type});
    if !items.is_empty() {
        payload["localAuthorizationList"] = Value::Array(items);
    }
    payload
}

/// The `idTokenInfo` of a token as the token store has it now.
fn id_token_info(record: &IdTokenRecord) -> Value {
    let now = Utc::now();
    let decision = decide(Some(record), now);
    let mut info = Map::new();
    info.insert("status".into(), json!(decision.status));
    if let Some(expiry) = record.expiry.filter(|e| *e > now) {
        // The station must not accept the token from its list after it expires.
        info.insert(
            "cacheExpiryDateTime".into(),
            json!(expiry.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
    }
    if let Some(group) = decision.group_id_token {
        info.insert(
            "groupIdToken".into(),
            json!({"idToken": group, "type": "Central"}),
        );
    }
    Value::Object(info)
}

/// `AuthorizationData` for each entry, from the token store; 400 naming the first token the
/// store does not know.
async fn authorization_data(
    state: &ApiState,
    entries: &[ListEntry],
) -> Result<Vec<Value>, ApiError> {
    let mut items = Vec::with_capacity(entries.len());
    for entry in entries {
        let record = state
            .store
            .find_token(&entry.id_token, &entry.kind)
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(
                    "unknown_token",
                    format!(
                        "token {} of type {} is not in the token store; add it first (PUT /api/v1/tokens/{}/{})",
                        entry.id_token, entry.kind, entry.kind, entry.id_token
                    ),
                )
                .with_detail(json!({"idToken": entry.id_token, "type": entry.kind}))
            })?;
        items.push(json!({
            "idToken": {"idToken": entry.id_token, "type": entry.kind},
            "idTokenInfo": id_token_info(&record),
        }));
    }
    Ok(items)
}

/// Send a stored update; on `VersionMismatch` / `Failed` resend the whole stored list once as a
/// Full update with the next version. Every answer is recorded.
async fn send_and_recover(
    state: &ApiState,
    caller: &Caller,
    station: &StationId,
    version: i64,
    payload: Value,
) -> Result<Json<LocalListSent>, ApiError> {
    let by = Some(caller.key_id.as_str());
    let answer = run_command(state, station, "SendLocalList", payload, by).await?;
    let status = answer_status(&answer);
    state
        .store
        .set_local_list_station_state(station, Some(&status), None)
        .await?;
    if !matches!(status.as_str(), "VersionMismatch" | "Failed") {
        return Ok(Json(LocalListSent {
            version_number: version,
            status,
            resent_full: false,
        }));
    }
    tracing::warn!(station = %station, version, status = %status,
        "the station refused its local list update; resending the whole list");
    let stored = state.store.local_list(station).await?;
    let resent = next_version(stored.version, stored.station_version);
    let entries: Vec<ListEntry> = stored
        .entries
        .iter()
        .map(|(id_token, kind)| ListEntry {
            id_token: id_token.clone(),
            kind: kind.clone(),
        })
        .collect();
    // A token deleted from the store since it was listed cannot be sent with an idTokenInfo;
    // it is left out of the resend and of the stored list.
    let mut kept = Vec::with_capacity(entries.len());
    let mut items = Vec::with_capacity(entries.len());
    for entry in entries {
        match authorization_data(state, std::slice::from_ref(&entry)).await {
            Ok(mut item) => {
                items.append(&mut item);
                kept.push((entry.id_token, entry.kind));
            }
            Err(e) if e.status == axum::http::StatusCode::BAD_REQUEST => {
                tracing::warn!(station = %station, token = %entry.id_token,
                    "token no longer in the token store; left out of the local list");
            }
            Err(e) => return Err(e),
        }
    }
    let payload = send_local_list_request(resent, "Full", items);
    check_request("SendLocalList", &payload)?;
    state.store.put_local_list(station, resent, &kept).await?;
    let answer = run_command(state, station, "SendLocalList", payload, by).await?;
    let status = answer_status(&answer);
    state
        .store
        .set_local_list_station_state(station, Some(&status), None)
        .await?;
    Ok(Json(LocalListSent {
        version_number: resent,
        status,
        resent_full: true,
    }))
}
