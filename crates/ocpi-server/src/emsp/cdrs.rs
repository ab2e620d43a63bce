//! CDRs Receiver of the eMSP role (2.2.1 §10.2.2): `POST {cdrs}` with the final CDR, answered
//! with a `Location` header naming where we keep it; `GET` of that URL answers the CDR.
//!
//! A CDR is never replaced: a second POST of the same CDR (same CPO party and id — the CPO
//! retrying because our first answer was lost) is not stored again and gets the same answer,
//! so the driver is billed once. The URL is `{cdrs}/{country_code}/{party_id}/{cdr_id}`: CDR
//! ids are unique per CPO party only.

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::Utc;
use unicharge_ocpi::cdrs::Cdr;
use unicharge_store::ocpi::ReceivedRow;

use super::scope::cpo_party;
use super::CDRS;
use crate::auth::Registered;
use crate::reply::{self, bounded, Answer, Reply};
use crate::{scope, Ocpi};

/// The `Location` header of a POST answer.
pub const LOCATION: &str = "Location";

/// Where we keep a CDR of `party`.
pub fn url(ocpi: &Ocpi, version: &str, country_code: &str, party_id: &str, id: &str) -> String {
    format!(
        "{}/{version}/emsp/cdrs/{country_code}/{party_id}/{id}",
        ocpi.base_url()
    )
}

pub async fn post(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path(version): Path<String>,
    bytes: Bytes,
) -> Answer {
    let version = scope::version(&version)?;
    let cdr: Cdr = reply::body(&bytes, "CDR")?;
    let party = cpo_party(&ocpi, &caller, &cdr.country_code, &cdr.party_id)?;
    if cdr.id.is_empty() || cdr.id.len() > 39 {
        return Err(Reply::invalid("a CDR id has 1 to 39 characters"));
    }
    let data = String::from_utf8(bytes.to_vec()).map_err(|_| Reply::invalid("not UTF-8"))?;
    let row = ReceivedRow {
        partner_id: caller.partner.id,
        module: CDRS.into(),
        party: party.clone(),
        id: cdr.id.clone(),
        data,
        last_updated: cdr.last_updated,
        received_at: Utc::now(),
    };
    let first = ocpi
        .ocpi_store()
        .insert_ocpi_received_once(&row)
        .await
        .map_err(Reply::server_error)?;
    if first {
        tracing::info!(partner = caller.partner.id, cdr = %bounded(&cdr.id),
            total = ?cdr.total_cost.after_taxes(), currency = %cdr.currency, "OCPI CDR received");
    } else {
        tracing::debug!(partner = caller.partner.id, cdr = %bounded(&cdr.id),
            "OCPI CDR received again: kept the first");
    }
    let location = url(
        &ocpi,
        version.as_str(),
        &party.country_code,
        &party.party_id,
        &cdr.id,
    );
    Ok(Reply::ok_empty().with_headers(vec![(LOCATION, location)]))
}

pub async fn get(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, id)): Path<(String, String, String, String)>,
) -> Answer {
    scope::version(&version)?;
    super::receiver::read_object(&ocpi, &caller, CDRS, &cc, &pid, &id).await
}
