//! Charging preferences (2.2.1 §9.3.3, eMSP side): the driver's wishes for a running session
//! (profile type, departure time, energy need, discharge allowed) PUT to the CPO's
//! `{sessions}/{session_id}/charging_preferences`; the CPO answers ACCEPTED, NOT_POSSIBLE,
//! DEPARTURE_REQUIRED, …, which the operator API returns as is.
//!
//! Only a session that CPO pushed to us can be addressed: the id is the CPO's, and sending
//! another partner's session id would tell that CPO something it does not own.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_ocpi::sessions::{ChargingPreferences, ChargingPreferencesResponse};
use unicharge_ocpi::versions::{Endpoint, InterfaceRole};

use super::SESSIONS;
use crate::auth::REGISTERED;
use crate::client;
use crate::operator::OperatorError;
use crate::Ocpi;

/// What the operator sends (API casing; `energyNeed` in kWh as a decimal string).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesRequest {
    /// `CHEAP`, `FAST`, `GREEN`, `REGULAR`.
    pub profile_type: String,
    pub departure_time: Option<DateTime<Utc>>,
    pub energy_need: Option<String>,
    pub discharge_allowed: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreferencesView {
    pub session_id: String,
    /// The CPO's ChargingPreferencesResponse.
    pub result: String,
}

/// The partner's Sender endpoint of `module`.
fn sender_url(endpoints: &str, module: &str) -> Option<String> {
    let endpoints: Vec<Endpoint> = serde_json::from_str(endpoints).ok()?;
    endpoints
        .into_iter()
        .find(|e| e.identifier.as_str() == module && e.role == InterfaceRole::Sender)
        .map(|e| e.url.trim_end_matches('/').to_string())
}

/// The partner pushed us session `session_id` (else 404: we only speak of sessions we know).
pub(super) async fn known_session(
    ocpi: &Ocpi,
    partner_id: i64,
    session_id: &str,
) -> Result<(), OperatorError> {
    let known = ocpi
        .ocpi_store()
        .ocpi_received_list(Some(partner_id), SESSIONS)
        .await?
        .iter()
        .any(|s| s.id == session_id);
    if known {
        Ok(())
    } else {
        Err(OperatorError::NotFound(format!(
            "session {session_id} of OCPI partner {partner_id}"
        )))
    }
}

pub async fn set(
    ocpi: &Ocpi,
    partner_id: i64,
    session_id: &str,
    req: &PreferencesRequest,
) -> Result<PreferencesView, OperatorError> {
    let store = ocpi.ocpi_store();
    let partner = store
        .ocpi_partner(partner_id)
        .await?
        .filter(|p| p.status == REGISTERED)
        .ok_or_else(|| OperatorError::NotFound(format!("registered OCPI partner {partner_id}")))?;
    known_session(ocpi, partner_id, session_id).await?;
    let energy_need = match &req.energy_need {
        Some(text) => Some(text.parse().map_err(|_| {
            OperatorError::Invalid(format!(
                "energyNeed {text:?} is not a decimal number of kWh"
            ))
        })?),
        None => None,
    };
    let preferences = ChargingPreferences {
        profile_type: req.profile_type.parse().map_err(|_| {
            OperatorError::Invalid("profileType: CHEAP, FAST, GREEN or REGULAR".into())
        })?,
        departure_time: req.departure_time,
        energy_need,
        discharge_allowed: req.discharge_allowed,
    };
    let url = sender_url(&partner.endpoints, "sessions").ok_or_else(|| {
        OperatorError::Invalid(format!(
            "OCPI partner {partner_id} publishes no Sessions SENDER endpoint"
        ))
    })?;
    let (token, version) = crate::credentials::outgoing(ocpi, &partner).ok_or_else(|| {
        OperatorError::Invalid("we hold no token to call the partner with (register again)".into())
    })?;
    let answer: ChargingPreferencesResponse = client::call(
        ocpi,
        reqwest::Method::PUT,
        &format!("{url}/{session_id}/charging_preferences"),
        &token,
        &version,
        Some(&preferences),
    )
    .await
    .map_err(|e| OperatorError::Partner(e.to_string()))?;
    tracing::info!(partner = partner_id, session = %session_id, result = %answer,
        "OCPI charging preferences sent");
    Ok(PreferencesView {
        session_id: session_id.to_string(),
        result: answer.as_str().to_string(),
    })
}
