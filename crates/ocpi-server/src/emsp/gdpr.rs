//! GDPR for our drivers' tokens at a CPO (the `x-unicharge-gdpr` extension module, B3.4), eMSP
//! role: a driver asks us, we ask the CPO partner what it keeps about the driver's token
//! ([`personal_data`]) or to erase it ([`erase`]). Only for our own tokens; the CPO checks
//! again that the token is ours.
//!
//! This asks one CPO. Erasing what we ourselves keep is the operator API's
//! `POST /api/v1/tokens/{id_token}/erase` (which also removes our OCPI token record).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use unicharge_ocpi::gdpr::{GdprErasure, MODULE_ID};
use unicharge_store::ocpi::Party;

use super::commands::{target, Target};
use crate::client::{self, ClientError};
use crate::operator::{parse_party, OperatorError};
use crate::Ocpi;

/// The CPO's GDPR endpoint URL of our token `party` / `uid`.
async fn token_url(
    ocpi: &Ocpi,
    partner_id: i64,
    party: &str,
    uid: &str,
) -> Result<(Target, String), OperatorError> {
    let party: Party = parse_party(party)
        .ok_or_else(|| OperatorError::Invalid(format!("party {party:?}: use CC*PID")))?;
    let ours = ocpi
        .ocpi_store()
        .ocpi_own_tokens()
        .await?
        .into_iter()
        .any(|t| t.party == party && t.uid == uid);
    if !ours {
        return Err(OperatorError::NotFound(format!(
            "token {uid} of our party {}*{}",
            party.country_code, party.party_id
        )));
    }
    let target = target(ocpi, partner_id, MODULE_ID, "GDPR").await?;
    let url = format!(
        "{}/{}/{}/{uid}",
        target.url, party.country_code, party.party_id
    );
    Ok((target, url))
}

/// What the CPO erased, as the operator API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasureAtCpo {
    /// False when the CPO kept nothing (erased before, or never used there).
    pub found: bool,
    /// The CPO's pseudonym for the token in what it keeps for billing.
    pub pseudonym: String,
    /// Stations the CPO asked to clear the token (OCPP CustomerInformation).
    pub stations_cleared: Vec<String>,
    /// Stations that knew the token but were offline: the CPO's operator clears them later.
    pub stations_offline: Vec<String>,
    pub erased_at: DateTime<Utc>,
}

impl From<GdprErasure> for ErasureAtCpo {
    fn from(e: GdprErasure) -> Self {
        ErasureAtCpo {
            found: e.found,
            pseudonym: e.pseudonym,
            stations_cleared: e.stations_cleared,
            stations_offline: e.stations_offline,
            erased_at: e.erased_at,
        }
    }
}

fn partner_error(e: ClientError) -> OperatorError {
    match e {
        ClientError::Http { status: 404, .. } => {
            OperatorError::NotFound("the token at the CPO".into())
        }
        other => OperatorError::Partner(other.to_string()),
    }
}

/// Everything CPO partner `partner_id` keeps about our token, as it answered (JSON: the
/// document the CPO's own operator API gives for a token, `personal-data`).
pub async fn personal_data(
    ocpi: &Ocpi,
    partner_id: i64,
    party: &str,
    uid: &str,
) -> Result<Box<RawValue>, OperatorError> {
    let (target, url) = token_url(ocpi, partner_id, party, uid).await?;
    let data: Box<RawValue> = client::call(
        ocpi,
        reqwest::Method::GET,
        &url,
        &target.token,
        &target.version,
        None::<&()>,
    )
    .await
    .map_err(partner_error)?;
    tracing::info!(
        partner = partner_id,
        "personal data of our token read at a CPO (GDPR)"
    );
    Ok(data)
}

/// Have CPO partner `partner_id` erase our token; answers what it did.
pub async fn erase(
    ocpi: &Ocpi,
    partner_id: i64,
    party: &str,
    uid: &str,
) -> Result<ErasureAtCpo, OperatorError> {
    let (target, url) = token_url(ocpi, partner_id, party, uid).await?;
    let done: GdprErasure = client::call(
        ocpi,
        reqwest::Method::DELETE,
        &url,
        &target.token,
        &target.version,
        None::<&()>,
    )
    .await
    .map_err(partner_error)?;
    tracing::info!(partner = partner_id, pseudonym = %done.pseudonym, found = done.found,
        "our token erased at a CPO (GDPR)");
    Ok(done.into())
}
