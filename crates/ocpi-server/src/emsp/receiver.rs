//! Receiver endpoints of the eMSP role: Locations, Tariffs, Sessions (2.2.1 §8.2.2, §11.2.2,
//! §9.2.2; the same in 2.3.0). CPO partners push here; we keep what they sent per partner and
//! per CPO party, as JSON text. Each write is checked by reading the result as the typed OCPI
//! object (2001 when it is not one), and answered once stored.
//!
//! * Locations: `PUT` / `PATCH` / `GET {locations}/{cc}/{pid}/{location_id}[/{evse_uid}[/{connector_id}]]`.
//!   An EVSE or connector written alone moves the `last_updated` of its parents, as the spec
//!   asks. An EVSE or connector of a location we do not have is 404 / 2003.
//! * Tariffs: `PUT` / `DELETE` / `GET {tariffs}/{cc}/{pid}/{tariff_id}`.
//! * Sessions: `PUT` / `PATCH` / `GET {sessions}/{cc}/{pid}/{session_id}`; a PATCH with
//!   `charging_periods` adds them to the stored ones (2.2.1 §9.2.2.3).
//!
//! A retransmitted PUT or PATCH writes the same object again: the answer is the same.

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use unicharge_ocpi::locations::{Connector, Evse, Location};
use unicharge_ocpi::sessions::Session;
use unicharge_ocpi::tariffs::Tariff;
use unicharge_ocpi::transport::StatusCode;
use unicharge_store::ocpi::{Party, ReceivedRow};

use super::raw::{self, Fields};
use super::scope::{cpo_party, same_object};
use super::{LOCATIONS, SESSIONS, TARIFFS};
use crate::auth::{Caller, Registered};
use crate::reply::{self, bounded, Answer, Reply};
use crate::{scope, Ocpi};

/// The stored object, if the partner pushed it.
pub async fn load(
    ocpi: &Ocpi,
    partner_id: i64,
    module: &str,
    party: &Party,
    id: &str,
) -> Result<Option<ReceivedRow>, Reply> {
    ocpi.ocpi_store()
        .ocpi_received(partner_id, module, party, id)
        .await
        .map_err(Reply::server_error)
}

async fn save(
    ocpi: &Ocpi,
    caller: &Caller,
    module: &str,
    party: &Party,
    id: &str,
    data: String,
    last_updated: DateTime<Utc>,
) -> Result<(), Reply> {
    let row = ReceivedRow {
        partner_id: caller.partner.id,
        module: module.to_string(),
        party: party.clone(),
        id: id.to_string(),
        data,
        last_updated,
        received_at: Utc::now(),
    };
    ocpi.ocpi_store()
        .put_ocpi_received(&row)
        .await
        .map_err(Reply::server_error)?;
    tracing::debug!(partner = caller.partner.id, module, party = %format!("{}*{}", party.country_code, party.party_id),
        id = %bounded(id), "OCPI object received");
    Ok(())
}

/// Read `text` as the typed object `T` (2001 when it is not one).
fn typed<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, Reply> {
    serde_json::from_str(text)
        .map_err(|e| Reply::invalid(format!("invalid {what}: {}", bounded(&e.to_string()))))
}

fn utf8(bytes: &Bytes) -> Result<String, Reply> {
    // Checked as JSON first (400 when it is not).
    let _: Box<serde_json::value::RawValue> = reply::body(bytes, "object")?;
    String::from_utf8(bytes.to_vec()).map_err(|_| Reply::invalid("the body is not UTF-8"))
}

// ---------------------------------------------------------------- Locations

#[derive(Clone, Copy, PartialEq)]
enum Write {
    Put,
    Patch,
}

/// Where in a location a request points.
struct Target {
    party: Party,
    location_id: String,
    evse_uid: Option<String>,
    connector_id: Option<String>,
}

fn unknown(what: &str, id: &str) -> Reply {
    Reply::unknown_location(format!("no {what} {} received from you", bounded(id)))
}

async fn write_location(
    ocpi: Ocpi,
    caller: Caller,
    version: &str,
    target: Target,
    how: Write,
    bytes: Bytes,
) -> Answer {
    scope::version(version)?;
    let body = utf8(&bytes)?;
    let stored = load(
        &ocpi,
        caller.partner.id,
        LOCATIONS,
        &target.party,
        &target.location_id,
    )
    .await?;
    let result: String = match (&target.evse_uid, &target.connector_id, how) {
        (None, _, Write::Put) => {
            let location: Location = typed(&body, "Location")?;
            same_object(
                &target.party,
                &target.location_id,
                &location.country_code,
                &location.party_id,
                &location.id,
            )?;
            body
        }
        (None, _, Write::Patch) => {
            let stored = stored.ok_or_else(|| unknown("location", &target.location_id))?;
            let mut object = raw::fields(&stored.data, "the stored location")?;
            raw::merge(&mut object, &raw::fields(&body, "the PATCH")?)?;
            raw::text(&object)?
        }
        (Some(evse_uid), connector, how) => {
            let stored = stored.ok_or_else(|| unknown("location", &target.location_id))?;
            let mut location = raw::fields(&stored.data, "the stored location")?;
            let mut evses = raw::list(&location, "evses")?;
            let patch = raw::fields(&body, "the body")?;
            let stamp = patch
                .get("last_updated")
                .cloned()
                .ok_or_else(|| Reply::invalid("last_updated is required"))?;
            match (connector, how) {
                (None, Write::Put) => {
                    let evse: Evse = typed(&body, "EVSE")?;
                    if &evse.uid != evse_uid {
                        return Err(Reply::invalid("the EVSE's uid must be that of the URL"));
                    }
                    raw::upsert(&mut evses, "uid", evse_uid, patch);
                }
                (None, Write::Patch) => {
                    let evse = raw::find(&mut evses, "uid", evse_uid)
                        .ok_or_else(|| unknown("EVSE", evse_uid))?;
                    raw::merge(evse, &patch)?;
                }
                (Some(connector_id), how) => {
                    let evse = raw::find(&mut evses, "uid", evse_uid)
                        .ok_or_else(|| unknown("EVSE", evse_uid))?;
                    let mut connectors = raw::list(evse, "connectors")?;
                    if how == Write::Put {
                        let connector: Connector = typed(&body, "Connector")?;
                        if &connector.id != connector_id {
                            return Err(Reply::invalid(
                                "the connector's id must be that of the URL",
                            ));
                        }
                        raw::upsert(&mut connectors, "id", connector_id, patch);
                    } else {
                        let c = raw::find(&mut connectors, "id", connector_id)
                            .ok_or_else(|| unknown("connector", connector_id))?;
                        raw::merge(c, &patch)?;
                    }
                    raw::set_list(evse, "connectors", &connectors)?;
                    evse.insert("last_updated".into(), stamp.clone());
                }
            }
            raw::set_list(&mut location, "evses", &evses)?;
            location.insert("last_updated".into(), stamp);
            raw::text(&location)?
        }
    };
    let location: Location = typed(&result, "Location (after the change)")?;
    save(
        &ocpi,
        &caller,
        LOCATIONS,
        &target.party,
        &target.location_id,
        result,
        location.last_updated,
    )
    .await?;
    Ok(Reply::ok_empty())
}

async fn read_location(ocpi: Ocpi, caller: Caller, version: &str, target: Target) -> Answer {
    scope::version(version)?;
    let stored = load(
        &ocpi,
        caller.partner.id,
        LOCATIONS,
        &target.party,
        &target.location_id,
    )
    .await?
    .ok_or_else(|| unknown("location", &target.location_id))?;
    let location = raw::fields(&stored.data, "the stored location")?;
    let Some(evse_uid) = &target.evse_uid else {
        return Ok(Reply::ok(&location));
    };
    let mut evses = raw::list(&location, "evses")?;
    let evse = raw::find(&mut evses, "uid", evse_uid).ok_or_else(|| unknown("EVSE", evse_uid))?;
    let Some(connector_id) = &target.connector_id else {
        return Ok(Reply::ok(evse));
    };
    let mut connectors = raw::list(evse, "connectors")?;
    let c = raw::find(&mut connectors, "id", connector_id)
        .ok_or_else(|| unknown("connector", connector_id))?;
    Ok(Reply::ok(c))
}

type LocationPath = (String, String, String, String);
type EvsePath = (String, String, String, String, String);
type ConnectorPath = (String, String, String, String, String, String);

fn target(
    ocpi: &Ocpi,
    caller: &Caller,
    cc: &str,
    pid: &str,
    location_id: String,
    evse_uid: Option<String>,
    connector_id: Option<String>,
) -> Result<Target, Reply> {
    Ok(Target {
        party: cpo_party(ocpi, caller, cc, pid)?,
        location_id,
        evse_uid,
        connector_id,
    })
}

pub async fn put_location(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, location)): Path<LocationPath>,
    bytes: Bytes,
) -> Answer {
    let t = target(&ocpi, &caller, &cc, &pid, location, None, None)?;
    write_location(ocpi, caller, &version, t, Write::Put, bytes).await
}

pub async fn patch_location(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, location)): Path<LocationPath>,
    bytes: Bytes,
) -> Answer {
    let t = target(&ocpi, &caller, &cc, &pid, location, None, None)?;
    write_location(ocpi, caller, &version, t, Write::Patch, bytes).await
}

pub async fn get_location(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, location)): Path<LocationPath>,
) -> Answer {
    // A party that is not the caller's: its objects do not exist for the caller.
    let missing = unknown("location", &location);
    let t = target(&ocpi, &caller, &cc, &pid, location, None, None).map_err(|_| missing)?;
    read_location(ocpi, caller, &version, t).await
}

pub async fn put_evse(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, location, evse)): Path<EvsePath>,
    bytes: Bytes,
) -> Answer {
    let t = target(&ocpi, &caller, &cc, &pid, location, Some(evse), None)?;
    write_location(ocpi, caller, &version, t, Write::Put, bytes).await
}

pub async fn patch_evse(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, location, evse)): Path<EvsePath>,
    bytes: Bytes,
) -> Answer {
    let t = target(&ocpi, &caller, &cc, &pid, location, Some(evse), None)?;
    write_location(ocpi, caller, &version, t, Write::Patch, bytes).await
}

pub async fn get_evse(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, location, evse)): Path<EvsePath>,
) -> Answer {
    let missing = unknown("location", &location);
    let t = target(&ocpi, &caller, &cc, &pid, location, Some(evse), None).map_err(|_| missing)?;
    read_location(ocpi, caller, &version, t).await
}

pub async fn put_connector(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, location, evse, connector)): Path<ConnectorPath>,
    bytes: Bytes,
) -> Answer {
    let t = target(
        &ocpi,
        &caller,
        &cc,
        &pid,
        location,
        Some(evse),
        Some(connector),
    )?;
    write_location(ocpi, caller, &version, t, Write::Put, bytes).await
}

pub async fn patch_connector(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, location, evse, connector)): Path<ConnectorPath>,
    bytes: Bytes,
) -> Answer {
    let t = target(
        &ocpi,
        &caller,
        &cc,
        &pid,
        location,
        Some(evse),
        Some(connector),
    )?;
    write_location(ocpi, caller, &version, t, Write::Patch, bytes).await
}

pub async fn get_connector(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, location, evse, connector)): Path<ConnectorPath>,
) -> Answer {
    let missing = unknown("location", &location);
    let t = target(
        &ocpi,
        &caller,
        &cc,
        &pid,
        location,
        Some(evse),
        Some(connector),
    )
    .map_err(|_| missing)?;
    read_location(ocpi, caller, &version, t).await
}

// ---------------------------------------------------------------- Tariffs

type ObjectPath = (String, String, String, String);

fn not_found(what: &str, id: &str) -> Reply {
    Reply::not_found_object(
        StatusCode::CLIENT_ERROR,
        format!("no {what} {} received from you", bounded(id)),
    )
}

pub async fn put_tariff(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, id)): Path<ObjectPath>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let party = cpo_party(&ocpi, &caller, &cc, &pid)?;
    let body = utf8(&bytes)?;
    let tariff: Tariff = typed(&body, "Tariff")?;
    same_object(
        &party,
        &id,
        &tariff.country_code,
        &tariff.party_id,
        &tariff.id,
    )?;
    let at = tariff.last_updated;
    save(&ocpi, &caller, TARIFFS, &party, &id, body, at).await?;
    Ok(Reply::ok_empty())
}

pub async fn delete_tariff(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, id)): Path<ObjectPath>,
) -> Answer {
    scope::version(&version)?;
    let party = cpo_party(&ocpi, &caller, &cc, &pid)?;
    let deleted = ocpi
        .ocpi_store()
        .delete_ocpi_received(caller.partner.id, TARIFFS, &party, &id)
        .await
        .map_err(Reply::server_error)?;
    if !deleted {
        return Err(not_found("tariff", &id));
    }
    Ok(Reply::ok_empty())
}

pub(crate) async fn read_object(
    ocpi: &Ocpi,
    caller: &Caller,
    module: &str,
    cc: &str,
    pid: &str,
    id: &str,
) -> Answer {
    let what = module.trim_end_matches('s');
    let party = cpo_party(ocpi, caller, cc, pid).map_err(|_| not_found(what, id))?;
    let row = load(ocpi, caller.partner.id, module, &party, id)
        .await?
        .ok_or_else(|| not_found(what, id))?;
    Ok(Reply::ok(&raw::raw(row.data)?))
}

pub async fn get_tariff(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, id)): Path<ObjectPath>,
) -> Answer {
    scope::version(&version)?;
    read_object(&ocpi, &caller, TARIFFS, &cc, &pid, &id).await
}

// ---------------------------------------------------------------- Sessions

pub async fn put_session(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, id)): Path<ObjectPath>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let party = cpo_party(&ocpi, &caller, &cc, &pid)?;
    let body = utf8(&bytes)?;
    let session: Session = typed(&body, "Session")?;
    same_object(
        &party,
        &id,
        &session.country_code,
        &session.party_id,
        &session.id,
    )?;
    save(
        &ocpi,
        &caller,
        SESSIONS,
        &party,
        &id,
        body,
        session.last_updated,
    )
    .await?;
    Ok(Reply::ok_empty())
}

pub async fn patch_session(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, id)): Path<ObjectPath>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let party = cpo_party(&ocpi, &caller, &cc, &pid)?;
    let body = utf8(&bytes)?;
    let stored = load(&ocpi, caller.partner.id, SESSIONS, &party, &id)
        .await?
        .ok_or_else(|| not_found("session", &id))?;
    let mut session = raw::fields(&stored.data, "the stored session")?;
    let mut patch: Fields = raw::fields(&body, "the PATCH")?;
    // charging_periods in a PATCH are added to the stored ones (2.2.1 §9.2.2.3).
    if patch.contains_key("charging_periods") {
        let mut periods = raw::list(&session, "charging_periods")?;
        periods.extend(raw::list(&patch, "charging_periods")?);
        patch.remove("charging_periods");
        raw::set_list(&mut session, "charging_periods", &periods)?;
    }
    raw::merge(&mut session, &patch)?;
    let text = raw::text(&session)?;
    let typed_session: Session = typed(&text, "Session (after the PATCH)")?;
    if typed_session.id != id {
        return Err(Reply::invalid("a PATCH may not change the session's id"));
    }
    save(
        &ocpi,
        &caller,
        SESSIONS,
        &party,
        &id,
        text,
        typed_session.last_updated,
    )
    .await?;
    Ok(Reply::ok_empty())
}

pub async fn get_session(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, id)): Path<ObjectPath>,
) -> Answer {
    scope::version(&version)?;
    read_object(&ocpi, &caller, SESSIONS, &cc, &pid, &id).await
}
