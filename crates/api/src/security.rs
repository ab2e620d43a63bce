//! Block A operations: BasicAuthPassword rotation (A01) and security profile upgrade (A05).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use unicharge_core::SecurityProfile;
use unicharge_csms::security as a;
use unicharge_ocpp::v201::TriggerMessageResponse;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ocpp_value, ApiJson};
use crate::stations::{existing_station, station_id};
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
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let outcome = a::password::rotate_password(&state.csms, &station, &by).await?;
    Ok(Json(PasswordRotated {
        status: outcome.status.as_str().to_string(),
        rotated: outcome.rotated,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityProfileBody {
    /// The new profile (2 or 3), higher than the current one.
    pub security_profile: u8,
    /// The configuration slot to install the new connection profile in.
    pub configuration_slot: i64,
    /// OCPP NetworkConnectionProfileType; its `securityProfile` is set to the new profile.
    #[schema(value_type = Object)]
    pub connection_data: Value,
}

/// One request of the upgrade and the station's answer (OCPP JSON; secrets redacted).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStep {
    /// `SetNetworkProfile`, `SetVariables` or `Reset`.
    pub action: String,
    #[schema(value_type = Object)]
    pub request: Value,
    #[schema(value_type = Object)]
    pub response: Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityProfileUpgraded {
    /// Each request sent and the station's answer, in order.
    pub steps: Vec<UpgradeStep>,
    /// True when the station accepted every step. The new profile is then required once the
    /// station has connected at it (a station that falls back to its old slot is not locked out).
    pub upgraded: bool,
}

/// Move a station to a higher security profile (A05): SetNetworkProfile with the new profile,
/// SetVariables OCPPCommCtrlr.NetworkConfigurationPriority putting that slot first, then Reset
/// (OnIdle). When all are accepted, the station must use the new profile from its first
/// connection at it on; a connection at the old profile is refused from then on (A05.FR.07).
#[utoipa::path(post, path = "/api/v1/stations/{id}/security-profile", tag = "security",
    params(("id" = String, Path)), request_body = SecurityProfileBody,
    responses((status = 200, body = SecurityProfileUpgraded), (status = 400, body = crate::error::ErrorBody)))]
pub async fn upgrade_security_profile(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SecurityProfileBody>,
) -> Result<Json<SecurityProfileUpgraded>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let profile = SecurityProfile::try_from(body.security_profile)
        .map_err(|e| ApiError::bad_request("invalid_security_profile", e.to_string()))?;
    // Typed: a `connectionData` that is not a NetworkConnectionProfileType is a 400 naming it,
    // whatever its shape. Its securityProfile is overwritten, so any number passes here.
    let mut connection_data = body.connection_data;
    if let Some(object) = connection_data.as_object_mut() {
        object.insert("securityProfile".into(), Value::from(profile.number()));
    }
    let connection_data = ocpp_value("connectionData", connection_data)?;
    let upgrade = a::profile_upgrade::upgrade_security_profile(
        &state.csms,
        &station,
        profile,
        body.configuration_slot,
        connection_data,
        &by,
    )
    .await?;
    Ok(Json(SecurityProfileUpgraded {
        steps: upgrade
            .steps
            .into_iter()
            .map(|(action, request, response)| UpgradeStep {
                action,
                request,
                response,
            })
            .collect(),
        upgraded: upgrade.upgraded,
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
) -> Result<Json<TriggerMessageResponse>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    Ok(Json(
        a::renew_certificate::renew_certificate(&state.csms, &station, &by).await?,
    ))
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
