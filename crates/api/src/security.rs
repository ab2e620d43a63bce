//! Block A operations: BasicAuthPassword rotation (A01) and security profile upgrade (A05).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use unicharge_core::api_keys::ApiRole;
use unicharge_core::credentials::{generate_password, hash_password};
use unicharge_core::SecurityProfile;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::commands::{operate, run_command, run_command_logged_as};
use crate::error::ApiJson;
use crate::stations::existing_station;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/stations/{id}/password/rotate",
            post(rotate_password),
        )
        .route(
            "/api/v1/stations/{id}/security-profile",
            post(upgrade_security_profile),
        )
        .route(
            "/api/v1/stations/{id}/certificate/renew",
            post(renew_certificate),
        )
        .route("/api/v1/stations/{id}/certificates", get(certificates))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordRotated {
    /// The station's `attributeStatus`: only `Accepted` makes the new password the valid one.
    pub status: String,
    /// True when the CSMS now expects the new password.
    pub rotated: bool,
}

/// Give the station a new, generated BasicAuthPassword (A01).
///
/// SetVariables SecurityCtrlr.BasicAuthPassword with a fresh 32-character password. On
/// `Accepted` the CSMS stores its hash and from the next connection on accepts only it
/// (A01.FR.03); otherwise the old password stays valid (A01.FR.04). The password is never shown
/// nor logged: the command log keeps `"<redacted>"` in its place.
#[utoipa::path(post, path = "/api/v1/stations/{id}/password/rotate", tag = "security",
    params(("id" = String, Path)),
    responses((status = 200, body = PasswordRotated), (status = 409, body = crate::error::ErrorBody)))]
pub async fn rotate_password(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PasswordRotated>, ApiError> {
    caller.require(ApiRole::Operator)?;
    let station = existing_station(&state, &id).await?;
    let password = generate_password(32);
    let request = |value: &str| {
        json!({"setVariableData": [{
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
            "attributeValue": value,
        }]})
    };
    let answer = run_command_logged_as(
        &state,
        &station,
        "SetVariables",
        request(&password),
        request("<redacted>"),
        Some(&caller.key_id),
    )
    .await?;
    let status = answer["setVariableResult"][0]["attributeStatus"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let rotated = status == "Accepted";
    if rotated {
        let hash = hash_password(&password).map_err(ApiError::internal)?;
        state.store.set_password_hash(&station, Some(&hash)).await?;
        tracing::info!(station = %station, by = %caller.key_id, "BasicAuthPassword rotated");
    } else {
        tracing::warn!(station = %station, status = %status, "BasicAuthPassword rotation refused; the old password stays valid");
    }
    Ok(Json(PasswordRotated { status, rotated }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityProfileBody {
    /// The new profile (2 or 3), higher than the current one.
    pub security_profile: u8,
    /// The configuration slot to install the new connection profile in.
    pub configuration_slot: i64,
    /// OCPP NetworkConnectionProfileType; its `securityProfile` is set to the new profile.
    pub connection_data: Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityProfileUpgraded {
    /// Each request sent and the station's answer, in order.
    pub steps: Vec<Value>,
    /// True when the station accepted every step and the CSMS now requires the new profile.
    pub upgraded: bool,
}

/// Move a station to a higher security profile (A05): SetNetworkProfile with the new profile,
/// SetVariables OCPPCommCtrlr.NetworkConfigurationPriority putting that slot first, then Reset
/// (OnIdle). When all are accepted, the station's registered profile is raised: a connection at
/// the old profile is refused from then on (A05.FR.07).
#[utoipa::path(post, path = "/api/v1/stations/{id}/security-profile", tag = "security",
    params(("id" = String, Path)), request_body = SecurityProfileBody,
    responses((status = 200, body = SecurityProfileUpgraded), (status = 400, body = crate::error::ErrorBody)))]
pub async fn upgrade_security_profile(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SecurityProfileBody>,
) -> Result<Json<SecurityProfileUpgraded>, ApiError> {
    caller.require(ApiRole::Operator)?;
    let station_id = existing_station(&state, &id).await?;
    let new_profile = SecurityProfile::try_from(body.security_profile)
        .map_err(|e| ApiError::bad_request("invalid_security_profile", e.to_string()))?;
    let station = state
        .store
        .get_station(&station_id)
        .await?
        .ok_or_else(|| ApiError::not_found("unknown_station", "gone"))?;
    if new_profile <= station.security_profile {
        return Err(ApiError::bad_request(
            "not_an_upgrade",
            format!(
                "station {station_id} is at profile {}; an upgrade must go higher (A05.FR.02: no downgrades)",
                station.security_profile
            ),
        ));
    }
    let mut connection_data = body.connection_data;
    connection_data["securityProfile"] = json!(new_profile.number());
    let by = Some(caller.key_id.as_str());
    let mut steps = Vec::new();

    let set_profile =
        json!({"configurationSlot": body.configuration_slot, "connectionData": connection_data});
    let answer = run_command(
        &state,
        &station_id,
        "SetNetworkProfile",
        set_profile.clone(),
        by,
    )
    .await?;
    let accepted = answer["status"] == "Accepted";
    steps.push(json!({"action": "SetNetworkProfile", "request": set_profile, "response": answer}));
    if !accepted {
        return Ok(Json(SecurityProfileUpgraded {
            steps,
            upgraded: false,
        }));
    }

    let priority = json!({"setVariableData": [{
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "NetworkConfigurationPriority"},
        "attributeValue": body.configuration_slot.to_string(),
    }]});
    let answer = run_command(&state, &station_id, "SetVariables", priority.clone(), by).await?;
    let status = answer["setVariableResult"][0]["attributeStatus"]
        .as_str()
        .unwrap_or("");
    let accepted = matches!(status, "Accepted" | "RebootRequired");
    steps.push(json!({"action": "SetVariables", "request": priority, "response": answer}));
    if !accepted {
        return Ok(Json(SecurityProfileUpgraded {
            steps,
            upgraded: false,
        }));
    }

    let reset = json!({"type": "OnIdle"});
    let answer = run_command(&state, &station_id, "Reset", reset.clone(), by).await?;
    let accepted = matches!(answer["status"].as_str(), Some("Accepted" | "Scheduled"));
    steps.push(json!({"action": "Reset", "request": reset, "response": answer}));
    if accepted {
        state
            .store
            .set_security_profile(&station_id, new_profile)
            .await?;
        tracing::info!(station = %station_id, profile = %new_profile, "security profile raised; lower profiles are refused from now on");
    }
    Ok(Json(SecurityProfileUpgraded {
        steps,
        upgraded: accepted,
    }))
}

/// Ask the station to renew its certificate (A02): TriggerMessage SignChargingStationCertificate.
/// The station then sends a CSR; the CSMS signs it and delivers the certificate on its own
/// (see `GET /api/v1/stations/{id}/certificates`).
#[utoipa::path(post, path = "/api/v1/stations/{id}/certificate/renew", tag = "security",
    params(("id" = String, Path)),
    responses((status = 200, description = "TriggerMessageResponse", body = Object)))]
pub async fn renew_certificate(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let payload = json!({"requestedMessage": "SignChargingStationCertificate"});
    operate(&state, &caller, &id, "TriggerMessage", payload).await
}

/// A certificate the CSMS issued to the station.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateView {
    pub serial: String,
    pub subject: String,
    pub not_after: chrono::DateTime<chrono::Utc>,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    /// The station's answer to CertificateSigned (`Accepted` / `Rejected`) or the failure.
    pub station_status: Option<String>,
    /// PEM.
    pub certificate: String,
}

/// Certificates issued to the station, newest first.
#[utoipa::path(get, path = "/api/v1/stations/{id}/certificates", tag = "security",
    params(("id" = String, Path)), responses((status = 200, body = [CertificateView])))]
pub async fn certificates(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<CertificateView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let rows = state.store.issued_certificates(&station).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| CertificateView {
                serial: c.serial,
                subject: c.subject,
                not_after: c.not_after,
                issued_at: c.issued_at,
                station_status: c.station_status,
                certificate: c.certificate,
            })
            .collect(),
    ))
}
