//! Signed OCPI payloads, the operator's side (B8.5, ADR 0051): the keys a partner's payloads are
//! checked with (`GET /api/v1/ocpi/partners/{id}/signing-keys`), enrichers the operator trusts
//! to sign for the partner (`POST`, `DELETE …/{kid}`), and a fetch of the partner's published
//! keys on demand (`POST …/signing-keys/refresh`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_ocpi_server::signing_keys::{self as keys, SigningView};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::ocpi::{ocpi, refused};
use crate::{ApiError, ApiState};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/ocpi/partners/{id}/signing-keys",
            get(get_keys).post(trust_key),
        )
        .route(
            "/api/v1/ocpi/partners/{id}/signing-keys/refresh",
            post(refresh_keys),
        )
        .route(
            "/api/v1/ocpi/partners/{id}/signing-keys/{kid}",
            delete(distrust_key),
        )
}

/// A key the operator trusts to sign a partner's data (an enricher such as a hub).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = OcpiTrustedKeyRequest)]
pub struct TrustBody {
    /// The Ed25519 public key: its 32 octets in base64url (a JWK's `x`).
    pub public_key: String,
    /// Whose key it is, at most 200 characters.
    #[serde(default)]
    pub label: Option<String>,
}

/// A partner's signing keys (OpenAPI description of `signing_keys::SigningView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiSigningKeys)]
pub struct SigningDoc {
    pub partner_id: i64,
    /// The partner publishes `x-unicharge-signing`: it signs, and our answers to it are signed.
    pub partner_signs: bool,
    /// Its payloads are refused (HTTP 400, OCPI 2001) unless a signature verifies with a key.
    pub signatures_required: bool,
    /// `[{kid, source (PUBLISHED | TRUSTED), publicKey, label, addedAt}]`.
    pub keys: Vec<serde_json::Value>,
    /// Our public key as a JWK (`kty` OKP, `crv` Ed25519, `x`, `kid`).
    pub our_key: serde_json::Value,
}

/// The keys a partner's payloads are checked with, and our own public key.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/signing-keys", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id")),
    responses(
        (status = 200, body = SigningDoc),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
    ))]
pub async fn get_keys(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<SigningView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(keys::view(ocpi(&state)?, id).await.map_err(refused)?))
}

/// Trust a key to sign the partner's data (B8.5: a hub that enriches it). From then on every
/// payload from the partner must carry a signature by the partner or by a trusted key.
#[utoipa::path(post, path = "/api/v1/ocpi/partners/{id}/signing-keys", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id")),
    request_body = TrustBody,
    responses(
        (status = 200, body = SigningDoc),
        (status = 400, description = "Not a 32-octet base64url key, label too long", body = crate::error::ErrorBody),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
    ))]
pub async fn trust_key(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TrustBody>,
) -> Result<Json<SigningView>, ApiError> {
    caller.require(ApiRole::Admin)?;
    Ok(Json(
        keys::trust(ocpi(&state)?, id, &body.public_key, body.label)
            .await
            .map_err(refused)?,
    ))
}

/// Stop trusting a key the operator added.
#[utoipa::path(delete, path = "/api/v1/ocpi/partners/{id}/signing-keys/{kid}", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id"),
           ("kid" = String, Path, description = "The key's id (its RFC 7638 thumbprint)")),
    responses(
        (status = 204, description = "No longer trusted"),
        (status = 404, description = "No such partner or trusted key", body = crate::error::ErrorBody),
    ))]
pub async fn distrust_key(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, kid)): Path<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::Admin)?;
    keys::distrust(ocpi(&state)?, id, &kid)
        .await
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fetch the partner's published keys now (they are fetched after every credentials exchange
/// and when a signature names an unknown key). A partner that no longer publishes the module is
/// left without published keys and is no longer asked to sign.
#[utoipa::path(post, path = "/api/v1/ocpi/partners/{id}/signing-keys/refresh", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id")),
    responses(
        (status = 200, body = SigningDoc),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
        (status = 502, description = "The partner's key endpoint failed", body = crate::error::ErrorBody),
    ))]
pub async fn refresh_keys(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<SigningView>, ApiError> {
    caller.require(ApiRole::Admin)?;
    Ok(Json(
        keys::refresh(ocpi(&state)?, id).await.map_err(refused)?,
    ))
}
