//! The operator's side of signed payloads (B8.5, ADR 0051): which keys a partner's payloads are
//! checked with, and the enrichers (a hub) the operator trusts to sign on the partner's behalf.
//! Used by the REST API (`/api/v1/ocpi/partners/{id}/signing-keys`) and the CLI.

use chrono::{DateTime, Utc};
use serde::Serialize;
use unicharge_ocpi::signing::{Jwk, PublicKey};
use unicharge_store::ocpi::Partner;
use unicharge_store::ocpi_signing::{SigningKeyRow, TRUSTED};

use crate::operator::OperatorError;
use crate::signing::{fetch_keys, partner_signs, required_keys};
use crate::Ocpi;

/// A partner's signing keys as the operator sees them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningView {
    pub partner_id: i64,
    /// The partner publishes the signing module: it signs, and we sign our answers to it.
    pub partner_signs: bool,
    /// Payloads from the partner must carry a signature that verifies with one of `keys`.
    pub signatures_required: bool,
    pub keys: Vec<KeyView>,
    /// Our own public key, as we publish it (give it to a party that wants to check us).
    pub our_key: Jwk,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub kid: String,
    /// `PUBLISHED` (by the partner, in its module) or `TRUSTED` (by the operator).
    pub source: String,
    /// The 32-octet Ed25519 public key, base64url (the JWK's `x`).
    pub public_key: String,
    pub label: Option<String>,
    pub added_at: DateTime<Utc>,
}

async fn partner(ocpi: &Ocpi, id: i64) -> Result<Partner, OperatorError> {
    ocpi.ocpi_store()
        .ocpi_partner(id)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("partner {id}")))
}

pub async fn view(ocpi: &Ocpi, partner_id: i64) -> Result<SigningView, OperatorError> {
    let partner = partner(ocpi, partner_id).await?;
    let keys: Vec<KeyView> = ocpi
        .ocpi_store()
        .ocpi_signing_keys(partner_id)
        .await?
        .into_iter()
        .map(|row| KeyView {
            kid: row.kid,
            source: row.source,
            public_key: row.public_key,
            label: row.label,
            added_at: row.added_at,
        })
        .collect();
    Ok(SigningView {
        partner_id,
        partner_signs: partner_signs(&partner),
        signatures_required: required_keys(ocpi, &partner).await?.is_some(),
        keys,
        our_key: ocpi.signatures().key().jwk().clone(),
    })
}

/// Trust `public_key` (base64url of the 32 octets, or a JWK's `x`) to sign the partner's data:
/// from now on the partner's payloads must be signed, by it or by a trusted key.
pub async fn trust(
    ocpi: &Ocpi,
    partner_id: i64,
    public_key: &str,
    label: Option<String>,
) -> Result<SigningView, OperatorError> {
    partner(ocpi, partner_id).await?;
    let key = PublicKey::from_x(public_key)
        .map_err(|e| OperatorError::Invalid(format!("publicKey: {e}")))?;
    if label.as_ref().is_some_and(|l| l.chars().count() > 200) {
        return Err(OperatorError::Invalid(
            "label: at most 200 characters".into(),
        ));
    }
    ocpi.ocpi_store()
        .put_ocpi_trusted_key(&SigningKeyRow {
            partner_id,
            source: TRUSTED.into(),
            kid: key.kid.clone(),
            public_key: key.x(),
            label,
            added_at: Utc::now(),
        })
        .await?;
    tracing::info!(partner = partner_id, kid = %key.kid, "OCPI: signing key trusted for the partner");
    view(ocpi, partner_id).await
}

/// Stop trusting a key the operator added (published keys come and go with the partner's
/// module).
pub async fn distrust(ocpi: &Ocpi, partner_id: i64, kid: &str) -> Result<(), OperatorError> {
    partner(ocpi, partner_id).await?;
    if ocpi
        .ocpi_store()
        .delete_ocpi_trusted_key(partner_id, kid)
        .await?
    {
        tracing::info!(partner = partner_id, kid = %kid, "OCPI: trusted signing key removed");
        Ok(())
    } else {
        Err(OperatorError::NotFound(format!(
            "trusted key {kid} of partner {partner_id}"
        )))
    }
}

/// Fetch the partner's published keys now (after it announced a new key); a partner that no
/// longer publishes the module is left with none, so it is no longer asked to sign (unless the
/// operator trusts keys for it).
pub async fn refresh(ocpi: &Ocpi, partner_id: i64) -> Result<SigningView, OperatorError> {
    let partner = partner(ocpi, partner_id).await?;
    fetch_keys(ocpi, &partner)
        .await
        .map_err(OperatorError::Partner)?;
    view(ocpi, partner_id).await
}
