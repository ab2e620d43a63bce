//! Locations module, Sender (CPO): locations built from the operator's location data
//! ([`LocationData`], kept per location) and the stations placed in it. Each EVSE a station
//! reported (StatusNotification) is an OCPI EVSE with uid `{station}*{evseId}`; its status
//! follows the connector statuses the CSMS stored, `UNKNOWN` while the station is offline.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::StationId;
use unicharge_ocpi::locations::{
    BusinessDetails, Capability, Connector, ConnectorFormat, ConnectorType, Evse, Facility,
    GeoLocation, Hours, Location, ParkingType, PowerType, Status,
};
use unicharge_ocpi::transport::ListQuery;
use unicharge_ocpi::types::DisplayText;
use unicharge_store::ocpi::{LocationRow, Party};
use unicharge_store::records::ConnectorRecord;

use crate::auth::Registered;
use crate::reply::{Answer, Reply};
use crate::scope;
use crate::Ocpi;

/// What the operator says about a location (OCPI spelling, snake_case); the EVSEs come from
/// its stations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationData {
    /// Shown to partners at all (OCPI `publish`).
    #[serde(default = "yes")]
    pub publish: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub address: String,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country: String,
    pub coordinates: GeoLocation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_type: Option<ParkingType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilities: Option<Vec<Facility>>,
    /// IANA zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_times: Option<Hours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_when_closed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directions: Option<Vec<DisplayText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<BusinessDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_phone: Option<String>,
    /// The connectors' physical description (OCPP does not report it).
    #[serde(default)]
    pub connector: ConnectorSpec,
}

fn yes() -> bool {
    true
}

/// Physical connector data applied to every connector of the location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSpec {
    pub standard: ConnectorType,
    pub format: ConnectorFormat,
    pub power_type: PowerType,
    pub max_voltage: u32,
    pub max_amperage: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_electric_power: Option<u32>,
}

impl Default for ConnectorSpec {
    /// A Type 2 socket, three-phase 230 V / 32 A (22 kW): the common European AC post.
    fn default() -> Self {
        ConnectorSpec {
            standard: ConnectorType::Iec62196T2,
            format: ConnectorFormat::Socket,
            power_type: PowerType::Ac3Phase,
            max_voltage: 230,
            max_amperage: 32,
            max_electric_power: Some(22_000),
        }
    }
}

/// The EVSE uid of a station's EVSE.
pub fn evse_uid(station: &StationId, evse_id: i64) -> String {
    format!("{}*{evse_id}", station.as_str())
}

/// The station and EVSE id of an EVSE uid, when it is one of `stations`.
pub fn parse_evse_uid<'a>(uid: &str, stations: &'a [StationId]) -> Option<(&'a StationId, i64)> {
    let (station, evse) = uid.rsplit_once('*')?;
    let evse: i64 = evse.parse().ok()?;
    stations
        .iter()
        .find(|s| s.as_str() == station)
        .map(|s| (s, evse))
}

/// OCPP ConnectorStatusEnumType → OCPI Status.
pub fn status(ocpp: &str, connected: bool) -> Status {
    if !connected {
        return Status::Unknown;
    }
    match ocpp {
        "Available" => Status::Available,
        "Occupied" => Status::Charging,
        "Reserved" => Status::Reserved,
        "Unavailable" => Status::Inoperative,
        "Faulted" => Status::OutOfOrder,
        _ => Status::Unknown,
    }
}

/// An EVSE's status from its connectors': the busiest one wins.
fn evse_status(connectors: &[&ConnectorRecord], connected: bool) -> Status {
    let statuses: Vec<Status> = connectors
        .iter()
        .map(|c| status(&c.status, connected))
        .collect();
    for s in [
        Status::Charging,
        Status::Reserved,
        Status::Available,
        Status::Inoperative,
        Status::OutOfOrder,
    ] {
        if statuses.contains(&s) {
            return s;
        }
    }
    Status::Unknown
}

pub fn data(row: &LocationRow) -> Result<LocationData, Reply> {
    serde_json::from_str(&row.data).map_err(|e| Reply::server_error(format!("location data: {e}")))
}

/// The location as partners see it.
pub async fn build(ocpi: &Ocpi, row: &LocationRow) -> Result<Location, Reply> {
    let d = data(row)?;
    let mut evses = Vec::new();
    let mut last_updated = row.last_updated;
    for station in &row.stations {
        let connected = ocpi.csms().is_connected(station);
        let records = ocpi
            .store()
            .connectors(station)
            .await
            .map_err(Reply::server_error)?;
        let mut by_evse: BTreeMap<i64, Vec<&ConnectorRecord>> = BTreeMap::new();
        for r in &records {
            by_evse.entry(r.evse_id).or_default().push(r);
        }
        for (evse_id, connectors) in by_evse {
            let evse_updated = connectors
                .iter()
                .map(|c| c.status_at)
                .max()
                .unwrap_or(row.last_updated)
                .max(row.last_updated);
            last_updated = last_updated.max(evse_updated);
            evses.push(Evse {
                uid: evse_uid(station, evse_id),
                evse_id: None,
                status: evse_status(&connectors, connected),
                status_schedule: None,
                capabilities: Some(vec![Capability::RemoteStartStopCapable]),
                connectors: connectors
                    .iter()
                    .map(|c| Connector {
                        id: c.connector_id.to_string(),
                        standard: d.connector.standard.clone(),
                        format: d.connector.format.clone(),
                        power_type: d.connector.power_type.clone(),
                        max_voltage: d.connector.max_voltage,
                        max_amperage: d.connector.max_amperage,
                        max_electric_power: d.connector.max_electric_power,
                        tariff_ids: None,
                        terms_and_conditions: None,
                        capabilities: None,
                        last_updated: c.status_at.max(row.last_updated),
                    })
                    .collect(),
                floor_level: None,
                coordinates: None,
                physical_reference: None,
                directions: None,
                parking_restrictions: None,
                parking: None,
                images: None,
                accepted_service_providers: None,
                last_updated: evse_updated,
            });
        }
    }
    Ok(Location {
        country_code: row.party.country_code.clone(),
        party_id: row.party.party_id.clone(),
        id: row.id.clone(),
        publish: d.publish,
        publish_allowed_to: None,
        name: d.name,
        address: d.address,
        city: d.city,
        postal_code: d.postal_code,
        state: d.state,
        country: d.country,
        coordinates: d.coordinates,
        related_locations: None,
        parking_type: d.parking_type,
        evses: Some(evses),
        parking_places: None,
        directions: d.directions,
        operator: d.operator,
        suboperator: None,
        owner: None,
        facilities: d.facilities,
        time_zone: d.time_zone,
        opening_times: d.opening_times,
        charging_when_closed: d.charging_when_closed,
        images: None,
        energy_mix: None,
        help_phone: d.help_phone,
        last_updated,
    })
}

/// The published location rows of `parties`.
pub async fn visible_rows(ocpi: &Ocpi, parties: &[Party]) -> Result<Vec<LocationRow>, Reply> {
    let rows = ocpi
        .ocpi_store()
        .ocpi_locations()
        .await
        .map_err(Reply::server_error)?;
    Ok(rows
        .into_iter()
        .filter(|r| parties.contains(&r.party))
        .collect())
}

/// The locations the caller may see: of its parties, shared with it (B1.5), published.
pub async fn shared_published(
    ocpi: &Ocpi,
    caller: &crate::auth::Caller,
) -> Result<Vec<(LocationRow, Location)>, Reply> {
    let parties = scope::visible_parties(caller)?;
    let sharing = crate::sharing::Sharing::load(ocpi).await?;
    let mut out = Vec::new();
    for row in visible_rows(ocpi, &parties).await? {
        if !sharing.allows_row(caller.partner.id, &row) {
            continue;
        }
        let location = build(ocpi, &row).await?;
        if location.publish {
            out.push((row, location));
        }
    }
    Ok(out)
}

/// One visible published location by id, shared with the caller (B1.5), else 404 / 2003.
async fn visible_location(
    ocpi: &Ocpi,
    caller: &crate::auth::Caller,
    id: &str,
) -> Result<(LocationRow, Location), Reply> {
    let parties = scope::visible_parties(caller)?;
    let sharing = crate::sharing::Sharing::load(ocpi).await?;
    for party in &parties {
        if let Some(row) = ocpi
            .ocpi_store()
            .ocpi_location(party, id)
            .await
            .map_err(Reply::server_error)?
            .filter(|row| sharing.allows_row(caller.partner.id, row))
        {
            let location = build(ocpi, &row).await?;
            if location.publish {
                return Ok((row, location));
            }
        }
    }
    Err(Reply::unknown_location(format!(
        "no location {}",
        crate::reply::bounded(id)
    )))
}

/// Sort by `last_updated` (then id), filter by the dates, cut the page; headers included.
pub fn page<T: Serialize>(
    mut items: Vec<(DateTime<Utc>, String, T)>,
    query: &ListQuery,
    max_limit: u64,
    endpoint: &str,
) -> Reply {
    items.retain(|(at, _, _)| query.dates.contains(*at));
    items.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let total = items.len() as u64;
    let page = query.page(max_limit);
    let range = page.range(total);
    let slice: Vec<&T> = items[range.start as usize..range.end as usize]
        .iter()
        .map(|(_, _, t)| t)
        .collect();
    Reply::ok(&slice).with_headers(page.headers(endpoint, query, total))
}

pub fn list_query(pairs: &[(String, String)]) -> Result<ListQuery, Reply> {
    ListQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| Reply::error(e.status_code(), e.to_string()))
}

pub async fn list(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path(version): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let version = scope::version(&version)?;
    let query = list_query(&pairs)?;
    let items = shared_published(&ocpi, &caller)
        .await?
        .into_iter()
        .map(|(row, location)| {
            (
                location.last_updated,
                format!(
                    "{}/{}/{}",
                    row.party.country_code, row.party.party_id, row.id
                ),
                location,
            )
        })
        .collect();
    let endpoint = format!("{}/{}/cpo/locations", ocpi.base_url(), version.as_str());
    Ok(page(items, &query, ocpi.settings().max_page, &endpoint))
}

pub async fn one(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id)): Path<(String, String)>,
) -> Answer {
    scope::version(&version)?;
    let (_, location) = visible_location(&ocpi, &caller, &id).await?;
    Ok(Reply::ok(&location))
}

pub async fn evse(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id, uid)): Path<(String, String, String)>,
) -> Answer {
    scope::version(&version)?;
    let (_, location) = visible_location(&ocpi, &caller, &id).await?;
    let evse = location
        .evses
        .unwrap_or_default()
        .into_iter()
        .find(|e| e.uid == uid)
        .ok_or_else(|| Reply::unknown_location(format!("location {id} has no EVSE {uid}")))?;
    Ok(Reply::ok(&evse))
}

pub async fn connector(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id, uid, connector_id)): Path<(String, String, String, String)>,
) -> Answer {
    scope::version(&version)?;
    let (_, location) = visible_location(&ocpi, &caller, &id).await?;
    let connector = location
        .evses
        .unwrap_or_default()
        .into_iter()
        .find(|e| e.uid == uid)
        .and_then(|e| e.connectors.into_iter().find(|c| c.id == connector_id))
        .ok_or_else(|| {
            Reply::unknown_location(format!(
                "location {id} has no connector {uid}/{connector_id}"
            ))
        })?;
    Ok(Reply::ok(&connector))
}
