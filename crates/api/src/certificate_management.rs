//! Block M: ISO 15118 certificate management — the HTTP mapping of
//! `unicharge_csms::certificate_management`: install a root certificate, ask which
//! certificates a station holds, delete one (by hash data, or by type and serial number after
//! a lookup at the station), and read what the CSMS knows each station holds.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use unicharge_core::api_keys::ApiRole;
use unicharge_csms::certificate_management::{self as m, DeleteTarget};
use unicharge_ocpp::v201::{
    CertificateHashDataType, GetCertificateIdUseEnumType, GetInstalledCertificateIdsResponse,
    InstallCertificateResponse, InstallCertificateUseEnumType,
};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::stations::{existing_station, station_id};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/stations/{id}/certificates/install",
            post(install_certificate),
        )
        .route(
            "/api/v1/stations/{id}/certificates/installed",
            get(list_installed).post(get_installed_certificate_ids),
        )
        .route(
            "/api/v1/stations/{id}/certificates/delete",
            post(delete_certificate),
        )
}

/// A root certificate to install (M05).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstallBody {
    /// `CSMSRootCertificate`, `ManufacturerRootCertificate`, `V2GRootCertificate` or
    /// `MORootCertificate`.
    #[schema(value_type = String)]
    pub certificate_type: InstallCertificateUseEnumType,
    /// One self-signed PEM X.509 certificate.
    pub certificate: String,
}

/// Install a root certificate (M05). 400 when it is not one self-signed, valid certificate.
#[utoipa::path(post, path = "/api/v1/stations/{id}/certificates/install", tag = "certificates",
    params(("id" = String, Path, description = "Station id")), request_body = InstallBody,
    responses(
        (status = 200, description = "InstallCertificateResponse (`Accepted`, `Rejected`, `Failed`)", body = crate::remote_control::StatusAnswer),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn install_certificate(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InstallBody>,
) -> Result<Json<InstallCertificateResponse>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    Ok(Json(
        m::install_certificate(
            &state.csms,
            &station,
            body.certificate_type,
            body.certificate,
            &by,
        )
        .await?,
    ))
}

/// Which certificates to ask for (M03); none: all types.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstalledIdsBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub certificate_type: Option<Vec<GetCertificateIdUseEnumType>>,
}

/// Ask the station which certificates it holds (M03); the answer is returned and kept.
#[utoipa::path(post, path = "/api/v1/stations/{id}/certificates/installed", tag = "certificates",
    params(("id" = String, Path, description = "Station id")), request_body = InstalledIdsBody,
    responses(
        (status = 200, description = "GetInstalledCertificateIdsResponse", body = Object),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn get_installed_certificate_ids(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InstalledIdsBody>,
) -> Result<Json<GetInstalledCertificateIdsResponse>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    Ok(Json(
        m::get_installed_certificate_ids(&state.csms, &station, body.certificate_type, &by).await?,
    ))
}

/// A certificate the CSMS knows the station holds or held.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstalledCertificateView {
    pub certificate_type: String,
    pub hash_algorithm: String,
    pub issuer_name_hash: String,
    pub issuer_key_hash: String,
    pub serial_number: String,
    /// `install` (the CSMS installed it, PEM known) or `reported` (GetInstalledCertificateIds).
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    pub seen_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstalledCertificateList {
    pub certificates: Vec<InstalledCertificateView>,
}

/// What the CSMS knows the station holds (deleted ones with `deletedAt`).
#[utoipa::path(get, path = "/api/v1/stations/{id}/certificates/installed", tag = "certificates",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = InstalledCertificateList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_installed(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<InstalledCertificateList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let rows = state.store.installed_certificates(&station).await?;
    Ok(Json(InstalledCertificateList {
        certificates: rows
            .into_iter()
            .map(|c| InstalledCertificateView {
                certificate_type: c.certificate_type,
                hash_algorithm: c.hash_algorithm,
                issuer_name_hash: c.issuer_name_hash,
                issuer_key_hash: c.issuer_key_hash,
                serial_number: c.serial_number,
                source: c.source,
                certificate: c.certificate,
                seen_at: c.seen_at,
                deleted_at: c.deleted_at,
            })
            .collect(),
    }))
}

/// Which certificate to delete (M04): its hash data, or a type and/or serial number the CSMS
/// looks up at the station first.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteBody {
    /// OCPP CertificateHashDataType; when given, nothing else may be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub certificate_hash_data: Option<CertificateHashDataType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub certificate_type: Option<GetCertificateIdUseEnumType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedView {
    /// The hash data sent.
    #[schema(value_type = Object)]
    pub certificate_hash_data: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_type: Option<String>,
    /// `Accepted`, `Failed` or `NotFound`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub status_info: Option<Value>,
}

/// Delete a certificate (M04). With a type and/or serial number, the CSMS first asks the station
/// (GetInstalledCertificateIds) and deletes with the hash data it reports; 404 when no
/// certificate matches, 400 when several do.
#[utoipa::path(post, path = "/api/v1/stations/{id}/certificates/delete", tag = "certificates",
    params(("id" = String, Path, description = "Station id")), request_body = DeleteBody,
    responses(
        (status = 200, body = DeletedView),
        (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn delete_certificate(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DeleteBody>,
) -> Result<Json<DeletedView>, ApiError> {
    let by = caller.operator()?;
    let station = station_id(&id)?;
    let target = match body.certificate_hash_data {
        Some(hash) => {
            if body.certificate_type.is_some() || body.serial_number.is_some() {
                return Err(ApiError::bad_request(
                    "hash_and_lookup",
                    "give certificateHashData, or certificateType / serialNumber to look it up, \
                     not both",
                ));
            }
            DeleteTarget::Hash(hash)
        }
        None => DeleteTarget::Lookup {
            certificate_type: body.certificate_type,
            serial_number: body.serial_number,
        },
    };
    let deleted = m::delete_certificate(&state.csms, &station, target, &by).await?;
    Ok(Json(DeletedView {
        certificate_hash_data: serde_json::to_value(&deleted.certificate_hash_data)
            .unwrap_or_default(),
        certificate_type: deleted.certificate_type.map(|t| t.as_str().to_string()),
        status: deleted.response.status.as_str().to_string(),
        status_info: deleted
            .response
            .status_info
            .and_then(|i| serde_json::to_value(i).ok()),
    }))
}
