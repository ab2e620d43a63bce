//! Functional block D, Local Authorization List Management: D01 Send Local List (Full and
//! Differential) and D02 Get Local List Version.
//!
//! The CSMS keeps, per station, the list it wants the station to hold: its entries
//! `(idToken, type)`, the version last sent, what the station last reported through
//! GetLocalListVersion and its answer to the last SendLocalList. The idTokenInfo sent with each
//! entry comes from the token store at the time of sending
//! ([`crate::authorization::describe`]), so a token blocked in the store goes out as Blocked.
//!
//! Versions strictly increase: a new list gets `max(stored version, station's version) + 1`.
//! Before the first update to a station whose list version the CSMS does not know, it asks
//! (GetLocalListVersion), so the first version sent is above whatever the station holds.
//! Operations on one station's list run one at a time in the whole cluster
//! ([`crate::station_turn`]: a lock on this node, a lease across nodes), and the list is stored
//! (durably) before it is sent. When the station answers `VersionMismatch` or `Failed`, the CSMS
//! resends the whole stored list once as a Full update with the next version, so the station
//! ends up with exactly what the CSMS believes it holds.

use chrono::Utc;
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    AuthorizationData, GetLocalListVersionRequest, IdTokenEnumType, IdTokenType,
    SendLocalListRequest, SendLocalListStatusEnumType, UpdateEnumType,
};

use crate::authorization::{describe, CacheExpiry};
use crate::request::{check_request, OpError, Requester};
use crate::station_turn::{self, Work};
use crate::Csms;

/// An entry of a list: a token by value and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub id_token: String,
    pub kind: IdTokenEnumType,
}

impl ListEntry {
    /// idTokens compare case-insensitively, as OCPP compares them.
    fn key(&self) -> (String, IdTokenEnumType) {
        (self.id_token.to_lowercase(), self.kind)
    }

    fn id_token_type(&self) -> IdTokenType {
        IdTokenType {
            custom_data: None,
            additional_info: None,
            id_token: self.id_token.clone(),
            r#type: self.kind,
        }
    }

    fn stored(&self) -> (String, String) {
        (self.id_token.clone(), self.kind.as_str().to_string())
    }
}

/// The outcome of a SendLocalList.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalListSent {
    /// The version the station was last sent.
    pub version_number: i64,
    /// The station's answer to it.
    pub status: SendLocalListStatusEnumType,
    /// True when the station refused the update (`VersionMismatch` / `Failed`) and the whole
    /// list was sent again as a Full update; `version_number` and `status` are then the resend's.
    pub resent_full: bool,
}

/// Replace the station's list (D01, Full update). An empty list clears it.
pub async fn send_full(
    csms: &Csms,
    station: &StationId,
    entries: Vec<ListEntry>,
    by: &Requester,
) -> Result<LocalListSent, OpError> {
    csms.registered(station).await?;
    let entries = dedup(entries);
    let items = authorization_data(csms, &entries).await?;
    let _turn = station_turn::take(csms, Work::LocalList, station).await?;
    require_connected(csms, station)?;
    let stored = known_versions(csms, station, by).await?;
    let version = next_version(stored.version, stored.station_version);
    let request = send_local_list_request(version, UpdateEnumType::Full, items);
    check(&request)?;
    let entries: Vec<(String, String)> = entries.iter().map(ListEntry::stored).collect();
    csms.store()
        .put_local_list(station, version, &entries)
        .await?;
    send_and_recover(csms, station, request, by).await
}

/// Change the station's list (D01, Differential update): add or update `upsert`, drop
/// `remove`. The stored list is changed the same way and gets the new version.
pub async fn send_differential(
    csms: &Csms,
    station: &StationId,
    upsert: Vec<ListEntry>,
    remove: Vec<ListEntry>,
    by: &Requester,
) -> Result<LocalListSent, OpError> {
    csms.registered(station).await?;
    let upsert = dedup(upsert);
    let remove: Vec<ListEntry> = dedup(remove)
        .into_iter()
        .filter(|r| !upsert.iter().any(|u| u.key() == r.key()))
        .collect();
    let mut items = authorization_data(csms, &upsert).await?;
    items.extend(remove.iter().map(|e| AuthorizationData {
        custom_data: None,
        id_token: e.id_token_type(),
        id_token_info: None,
    }));
    let _turn = station_turn::take(csms, Work::LocalList, station).await?;
    require_connected(csms, station)?;
    let stored = known_versions(csms, station, by).await?;
    let version = next_version(stored.version, stored.station_version);
    let request = send_local_list_request(version, UpdateEnumType::Differential, items);
    check(&request)?;
    let changed = |(id_token, kind): &(String, String)| {
        upsert.iter().chain(&remove).any(|e| {
            e.id_token.to_lowercase() == id_token.to_lowercase() && e.kind.as_str() == kind
        })
    };
    let mut entries: Vec<(String, String)> = stored
        .entries
        .into_iter()
        .filter(|entry| !changed(entry))
        .collect();
    entries.extend(upsert.iter().map(ListEntry::stored));
    csms.store()
        .put_local_list(station, version, &entries)
        .await?;
    send_and_recover(csms, station, request, by).await
}

/// Ask the station which version of the list it holds (D02); the answer is kept.
pub async fn get_version(csms: &Csms, station: &StationId, by: &Requester) -> Result<i64, OpError> {
    csms.registered(station).await?;
    let _turn = station_turn::take(csms, Work::LocalList, station).await?;
    ask_version(csms, station, by).await
}

async fn ask_version(csms: &Csms, station: &StationId, by: &Requester) -> Result<i64, OpError> {
    let answer = csms
        .request(
            station,
            &GetLocalListVersionRequest { custom_data: None },
            by,
        )
        .await?;
    csms.store()
        .set_local_list_station_state(station, None, Some(answer.version_number))
        .await?;
    Ok(answer.version_number)
}

/// The stored list; when the station's version is unknown, asked first (D01), so the version
/// sent is above what the station holds.
async fn known_versions(
    csms: &Csms,
    station: &StationId,
    by: &Requester,
) -> Result<unicharge_store::LocalList, OpError> {
    let mut stored = csms.store().local_list(station).await?;
    if stored.station_version.is_none() {
        stored.station_version = Some(ask_version(csms, station, by).await?);
    }
    Ok(stored)
}

fn next_version(stored: i64, station: Option<i64>) -> i64 {
    stored.max(station.unwrap_or(0)).max(0) + 1
}

/// Refuse (409) when the station is not connected, before any version is allocated.
fn require_connected(csms: &Csms, station: &StationId) -> Result<(), OpError> {
    if csms.is_connected(station) {
        Ok(())
    } else {
        Err(OpError::NotConnected(station.clone()))
    }
}

fn check(request: &SendLocalListRequest) -> Result<(), OpError> {
    let payload = serde_json::to_value(request).map_err(|e| OpError::Store(e.to_string()))?;
    check_request("SendLocalList", &payload)
}

/// The entries without repeats; the first spelling stays.
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

fn send_local_list_request(
    version_number: i64,
    update_type: UpdateEnumType,
    items: Vec<AuthorizationData>,
) -> SendLocalListRequest {
    SendLocalListRequest {
        custom_data: None,
        local_authorization_list: (!items.is_empty()).then_some(items),
        version_number,
        update_type,
    }
}

/// `AuthorizationData` for each entry, from the token store; refused naming the first token the
/// store does not know.
async fn authorization_data(
    csms: &Csms,
    entries: &[ListEntry],
) -> Result<Vec<AuthorizationData>, OpError> {
    let now = Utc::now();
    let mut items = Vec::with_capacity(entries.len());
    for entry in entries {
        let record = csms
            .store()
            .find_token(&entry.id_token, entry.kind.as_str())
            .await?
            .ok_or_else(|| {
                OpError::refused(
                    "unknown_token",
                    format!(
                        "token {} of type {} is not in the token store; add it first (PUT /api/v1/tokens/{}/{})",
                        entry.id_token, entry.kind, entry.kind, entry.id_token
                    ),
                )
                .with_detail(serde_json::json!({"idToken": entry.id_token, "type": entry.kind.as_str()}))
            })?;
        items.push(AuthorizationData {
            custom_data: None,
            id_token: entry.id_token_type(),
            id_token_info: Some(describe(
                entry.kind,
                Some(&record),
                now,
                CacheExpiry::TokenExpiry,
            )),
        });
    }
    Ok(items)
}

/// Send a stored update; on `VersionMismatch` / `Failed` resend the whole stored list once as a
/// Full update with the next version. Every answer is recorded.
async fn send_and_recover(
    csms: &Csms,
    station: &StationId,
    request: SendLocalListRequest,
    by: &Requester,
) -> Result<LocalListSent, OpError> {
    let store = csms.store();
    let version = request.version_number;
    let answer = csms.request(station, &request, by).await?;
    store
        .set_local_list_station_state(station, Some(answer.status.as_str()), None)
        .await?;
    if !matches!(
        answer.status,
        SendLocalListStatusEnumType::VersionMismatch | SendLocalListStatusEnumType::Failed
    ) {
        return Ok(LocalListSent {
            version_number: version,
            status: answer.status,
            resent_full: false,
        });
    }
    tracing::warn!(station = %station, version, status = answer.status.as_str(),
        "the station refused its local list update; resending the whole list");
    let stored = store.local_list(station).await?;
    let resent = next_version(stored.version, stored.station_version);
    // A token deleted from the store since it was listed cannot be sent with an idTokenInfo;
    // it is left out of the resend and of the stored list.
    let mut kept = Vec::with_capacity(stored.entries.len());
    let mut items = Vec::with_capacity(stored.entries.len());
    for (id_token, kind) in stored.entries {
        let Ok(kind) =
            serde_json::from_value::<IdTokenEnumType>(serde_json::Value::String(kind.clone()))
        else {
            continue;
        };
        let entry = ListEntry { id_token, kind };
        match authorization_data(csms, std::slice::from_ref(&entry)).await {
            Ok(mut item) => {
                items.append(&mut item);
                kept.push(entry.stored());
            }
            Err(OpError::Refused { .. }) => {
                tracing::warn!(station = %station, token = %entry.id_token,
                    "token no longer in the token store; left out of the local list");
            }
            Err(e) => return Err(e),
        }
    }
    let request = send_local_list_request(resent, UpdateEnumType::Full, items);
    check(&request)?;
    store.put_local_list(station, resent, &kept).await?;
    let answer = csms.request(station, &request, by).await?;
    store
        .set_local_list_station_state(station, Some(answer.status.as_str()), None)
        .await?;
    Ok(LocalListSent {
        version_number: resent,
        status: answer.status,
        resent_full: true,
    })
}
