//! Row decoders of the OCPI tables, written once against [`Columns`] so that any engine's row
//! (SQLite's or PostgreSQL's, ADR 0047) decodes to the same record: both keep the same columns,
//! timestamps as the same RFC 3339 text and flags as integers.

use chrono::{DateTime, TimeZone, Utc};
use unicharge_core::StationId;

use crate::columns::Columns;
use crate::ocpi::{
    ClientInfoRow, CommandSentRow, LocationRow, OwnTokenRow, Partner, Party, PushRow, ReceivedRow,
    RotationRow, SyncMark, TokenRow,
};
use crate::ocpi_buc::{PublishedRolesRow, SessionLimitRow, SharingRow};
use crate::ocpi_reservations::{CdrVerdictRow, OcpiReservationRow};
use crate::{Result, StoreError};

/// The outbox's columns, in the order every outbox read selects them.
pub(crate) const PUSH_COLUMNS: &str =
    "id, partner_id, module, object_key, method, path, body, ocpi_from, ocpi_to, status, \
     attempts, next_attempt_ms, last_error, created_at, delivered_at";

/// The partner's columns (its parties are another table).
pub(crate) const PARTNER_COLUMNS: &str =
    "id, name, status, incoming_token_hash, outgoing_token_sealed, version, versions_url, \
     endpoints, roles, created_at, updated_at";

/// `next_attempt_ms` is Unix milliseconds: compared as a number, not as text.
pub(crate) fn millis(at: &DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> Result<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("next_attempt_ms {ms}")))
}

/// An outbox party as stored: `CC*PID`.
pub(crate) fn party_text(p: &Option<Party>) -> Option<String> {
    p.as_ref()
        .map(|p| format!("{}*{}", p.country_code, p.party_id))
}

fn party_of_text(text: Option<String>) -> Option<Party> {
    let text = text?;
    let (cc, pid) = text.split_once('*')?;
    Some(Party::new(cc, pid))
}

/// The `country_code` / `party_id` columns, as stored (not re-cased).
pub(crate) fn party(row: &impl Columns) -> Result<Party> {
    Ok(Party {
        country_code: row.required_text("country_code")?,
        party_id: row.required_text("party_id")?,
    })
}

/// A partner without its parties (the caller reads `ocpi_partner_parties`).
pub(crate) fn partner(row: &impl Columns) -> Result<Partner> {
    Ok(Partner {
        id: row.required_int("id")?,
        name: row.required_text("name")?,
        status: row.required_text("status")?,
        incoming_token_hash: row.text("incoming_token_hash")?,
        outgoing_token_sealed: row.text("outgoing_token_sealed")?,
        version: row.text("version")?,
        versions_url: row.text("versions_url")?,
        endpoints: row.required_text("endpoints")?,
        roles: row.required_text("roles")?,
        parties: Vec::new(),
        created_at: row.required_time("created_at")?,
        updated_at: row.required_time("updated_at")?,
    })
}

/// A location without its stations (the caller reads `ocpi_location_stations`).
pub(crate) fn location(row: &impl Columns) -> Result<LocationRow> {
    Ok(LocationRow {
        party: party(row)?,
        id: row.required_text("id")?,
        data: row.required_text("data")?,
        last_updated: row.required_time("last_updated")?,
        stations: Vec::new(),
    })
}

pub(crate) fn token(row: &impl Columns) -> Result<TokenRow> {
    Ok(TokenRow {
        party: party(row)?,
        uid: row.required_text("uid")?,
        kind: row.required_text("type")?,
        partner_id: row.int("partner_id")?,
        data: row.required_text("data")?,
        last_updated: row.required_time("last_updated")?,
    })
}

pub(crate) fn push(row: &impl Columns) -> Result<PushRow> {
    Ok(PushRow {
        id: row.required_int("id")?,
        partner_id: row.required_int("partner_id")?,
        module: row.required_text("module")?,
        object_key: row.required_text("object_key")?,
        method: row.required_text("method")?,
        path: row.required_text("path")?,
        body: row.text("body")?,
        from: party_of_text(row.text("ocpi_from")?),
        to: party_of_text(row.text("ocpi_to")?),
        status: row.required_text("status")?,
        attempts: row.required_int("attempts")?,
        next_attempt_at: from_millis(row.required_int("next_attempt_ms")?)?,
        last_error: row.text("last_error")?,
        created_at: row.required_time("created_at")?,
        delivered_at: row.time("delivered_at")?,
    })
}

pub(crate) fn client_info(row: &impl Columns) -> Result<ClientInfoRow> {
    Ok(ClientInfoRow {
        partner_id: row.required_int("partner_id")?,
        party: party(row)?,
        data: row.required_text("data")?,
        last_updated: row.required_time("last_updated")?,
    })
}

pub(crate) fn received(row: &impl Columns) -> Result<ReceivedRow> {
    Ok(ReceivedRow {
        partner_id: row.required_int("partner_id")?,
        module: row.required_text("module")?,
        party: party(row)?,
        id: row.required_text("id")?,
        data: row.required_text("data")?,
        last_updated: row.required_time("last_updated")?,
        received_at: row.required_time("received_at")?,
    })
}

pub(crate) fn command_sent(row: &impl Columns) -> Result<CommandSentRow> {
    Ok(CommandSentRow {
        id: row.required_text("id")?,
        partner_id: row.required_int("partner_id")?,
        command: row.required_text("command")?,
        request: row.required_text("request")?,
        response: row.text("response")?,
        result: row.text("result")?,
        created_at: row.required_time("created_at")?,
        result_at: row.time("result_at")?,
    })
}

pub(crate) fn own_token(row: &impl Columns) -> Result<OwnTokenRow> {
    Ok(OwnTokenRow {
        party: party(row)?,
        uid: row.required_text("uid")?,
        kind: row.required_text("type")?,
        data: row.required_text("data")?,
        last_updated: row.required_time("last_updated")?,
    })
}

pub(crate) fn sync_mark(row: &impl Columns) -> Result<SyncMark> {
    Ok(SyncMark {
        partner_id: row.required_int("partner_id")?,
        module: row.required_text("module")?,
        date_from: row.required_time("date_from")?,
        synced_at: row.required_time("synced_at")?,
        objects: row.required_int("objects")?,
        stored: row.required_int("stored")?,
    })
}

pub(crate) fn rotation(row: &impl Columns) -> Result<RotationRow> {
    Ok(RotationRow {
        partner_id: row.required_int("partner_id")?,
        initiated_by_us: row.flag("initiated_by_us")?,
        issued_at: row.required_time("issued_at")?,
        pending_token_hash: row.text("pending_token_hash")?,
        pending_since: row.time("pending_since")?,
        last_error: row.text("last_error")?,
    })
}

pub(crate) fn published_roles(row: &impl Columns) -> Result<PublishedRolesRow> {
    Ok(PublishedRolesRow {
        partner_id: row.required_int("partner_id")?,
        roles: row.required_text("roles")?,
        published_at: row.required_time("published_at")?,
        last_error: row.text("last_error")?,
    })
}

pub(crate) fn session_limit(row: &impl Columns) -> Result<SessionLimitRow> {
    Ok(SessionLimitRow {
        partner_id: row.required_int("partner_id")?,
        side: row.required_text("side")?,
        session_id: row.required_text("session_id")?,
        // As SQLite's decoder: a station id that no longer parses is dropped, not an error
        // (the limits are still enforced by session id).
        station_id: row.text("station_id")?.and_then(|s| StationId::new(s).ok()),
        transaction_id: row.text("transaction_id")?,
        data: row.required_text("data")?,
        reached: row.text("reached")?,
        reached_at: row.time("reached_at")?,
        stop_requested_at: row.time("stop_requested_at")?,
        stop_result: row.text("stop_result")?,
        last_updated: row.required_time("last_updated")?,
    })
}

/// `partner_id` 0 is the location-wide row (the primary key cannot hold NULL).
pub(crate) fn sharing(row: &impl Columns) -> Result<SharingRow> {
    let partner = row.required_int("partner_id")?;
    Ok(SharingRow {
        party: Party::new(
            &row.required_text("country_code")?,
            &row.required_text("party_id")?,
        ),
        location_id: row.required_text("location_id")?,
        partner_id: (partner != 0).then_some(partner),
        approved: row.flag("approved")?,
        reason: row.text("reason")?,
        updated_at: row.required_time("updated_at")?,
    })
}

pub(crate) fn reservation(row: &impl Columns) -> Result<OcpiReservationRow> {
    Ok(OcpiReservationRow {
        partner_id: row.required_int("partner_id")?,
        reservation_id: row.required_text("reservation_id")?,
        location_id: row.required_text("location_id")?,
        station_id: crate::columns::station_id(row, "station_id")?,
        csms_reservation_id: row.required_int("csms_reservation_id")?,
        created_at: row.required_time("created_at")?,
    })
}

pub(crate) fn cdr_verdict(row: &impl Columns) -> Result<CdrVerdictRow> {
    Ok(CdrVerdictRow {
        partner_id: row.required_int("partner_id")?,
        side: row.required_text("side")?,
        cdr_id: row.required_text("cdr_id")?,
        result: row.required_text("result")?,
        reason: row.text("reason")?,
        last_updated: row.required_time("last_updated")?,
    })
}

pub(crate) fn signing_key(row: &impl Columns) -> Result<crate::ocpi_signing::SigningKeyRow> {
    Ok(crate::ocpi_signing::SigningKeyRow {
        partner_id: row.required_int("partner_id")?,
        source: row.required_text("source")?,
        kid: row.required_text("kid")?,
        public_key: row.required_text("public_key")?,
        label: row.text("label")?,
        added_at: row.required_time("added_at")?,
    })
}
