//! idTokens (who may charge): list, create or replace, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_core::tokens::{IdTokenRecord, AUTHORIZATION_STATUSES};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/tokens", get(list_tokens))
        .route(
            "/api/v1/tokens/{type}/{id_token}",
            put(put_token).delete(delete_token),
        )
}

/// A token as operators see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id_token: String,
    /// OCPP IdTokenEnumType.
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub expiry: Option<DateTime<Utc>>,
    pub group_id_token: Option<String>,
}

impl From<IdTokenRecord> for TokenView {
    fn from(t: IdTokenRecord) -> Self {
        TokenView {
            id_token: t.id_token,
            kind: t.kind,
            status: t.status,
            expiry: t.expiry,
            group_id_token: t.group_id_token,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenBody {
    /// Accepted, Blocked, Expired, Invalid, NoCredit, NotAllowedTypeEVSE, NotAtThisLocation,
    /// NotAtThisTime, ConcurrentTx.
    pub status: String,
    pub expiry: Option<DateTime<Utc>>,
    pub group_id_token: Option<String>,
}

const TOKEN_TYPES: [&str; 8] = [
    "Central",
    "eMAID",
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "NoAuthorization",
];

/// All tokens.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "authorization",
    responses((status = 200, body = [TokenView])))]
pub async fn list_tokens(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let tokens = state.store.list_tokens().await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

/// Create or replace a token.
#[utoipa::path(put, path = "/api/v1/tokens/{type}/{id_token}", tag = "authorization",
    params(("type" = String, Path, description = "OCPP IdTokenEnumType, e.g. ISO14443"),
           ("id_token" = String, Path)),
    request_body = TokenBody,
    responses((status = 200, body = TokenView), (status = 400, body = crate::error::ErrorBody)))]
pub async fn put_token(
    State(state): State<ApiState>,
    caller: Caller,
    Path((kind, id_token)): Path<(String, String)>,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<Json<TokenView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    if !TOKEN_TYPES.contains(&kind.as_str()) {
        return Err(ApiError::bad_request(
            "invalid_token_type",
            format!("token type {kind:?}: use one of {TOKEN_TYPES:?}"),
        ));
    }
    if id_token.is_empty() || id_token.chars().count() > 36 {
        return Err(ApiError::bad_request(
            "invalid_id_token",
            "an idToken has 1 to 36 characters",
        ));
    }
    if !AUTHORIZATION_STATUSES.contains(&body.status.as_str()) {
        return Err(ApiError::bad_request(
            "invalid_status",
            format!(
                "status {:?}: use one of {AUTHORIZATION_STATUSES:?}",
                body.status
            ),
        ));
    }
    let record = IdTokenRecord {
        id_token,
        kind,
        status: body.status,
        expiry: body.expiry,
        group_id_token: body.group_id_token,
    };
    state.store.upsert_token(&record).await?;
    Ok(Json(record.into()))
}

/// Delete a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{type}/{id_token}", tag = "authorization",
    params(("type" = String, Path), ("id_token" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_token(
    State(state): State<ApiState>,
    caller: Caller,
    Path((kind, id_token)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::Operator)?;
    if state.store.delete_token(&id_token, &kind).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "unknown_token",
            format!("no {kind} token {id_token}"),
        ))
    }
}
