//! OCPI business use cases beyond the 2.2.1 modules, the operator's side: which of our parties
//! a partner is registered with, published to it as our roles (B8.2, `PUT …/parties`), and
//! what it last took (`GET …/published-roles`).

use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_ocpi_server::operator as op;
use unicharge_ocpi_server::roles::{self, PublishedView};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiJson;
use crate::ocpi::{ocpi, refused};
use crate::{ApiError, ApiState};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/ocpi/partners/{id}/parties", put(put_parties))
        .route(
            "/api/v1/ocpi/partners/{id}/published-roles",
            get(published_roles),
        )
}

/// Our parties a partner is registered with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = OcpiPartnerParties)]
pub struct PartiesBody {
    /// `CC*PID` of our configured parties (at least one); replaces the partner's list.
    pub parties: Vec<String>,
}

/// The roles published to a partner (OpenAPI description of `roles::PublishedView`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcpiPublishedRoles)]
pub struct PublishedDoc {
    pub partner_id: i64,
    /// Our parties the partner is registered with, `CC*PID`.
    pub parties: Vec<String>,
    /// The roles the partner last took, `CC*PID ROLE`.
    pub published: Vec<String>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the partner has not taken the current roles yet (retried every push_retry_max).
    pub last_error: Option<String>,
    /// What we publish now differs from what the partner took.
    pub pending: bool,
}

/// Register the partner with these parties of ours (B8.2): the list replaces the old one and,
/// if the partner is registered, is published to it at once as our roles in a credentials PUT
/// (which also renews both tokens). Parties added bring their locations and tariffs to it;
/// parties removed are out of its reach at once. 502 when the partner did not take the PUT
/// (the new list is kept and published again every `ocpi.push_retry_max`).
#[utoipa::path(put, path = "/api/v1/ocpi/partners/{id}/parties", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id")),
    request_body = PartiesBody,
    responses(
        (status = 200, body = PublishedDoc),
        (status = 400, description = "Empty list, or not one of our configured parties", body = crate::error::ErrorBody),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
        (status = 502, description = "The partner did not take the credentials PUT", body = crate::error::ErrorBody),
    ))]
pub async fn put_parties(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<PartiesBody>,
) -> Result<Json<PublishedView>, ApiError> {
    caller.require(ApiRole::Admin)?;
    let mut parties = Vec::new();
    for p in &body.parties {
        parties.push(op::parse_party(p).ok_or_else(|| {
            ApiError::bad_request(
                "invalid",
                format!("party {p:?}: write it as CC*PID, e.g. NL*UNI"),
            )
        })?);
    }
    Ok(Json(
        roles::set_parties(ocpi(&state)?, id, &parties)
            .await
            .map_err(refused)?,
    ))
}

/// The roles the partner last took from us, and whether newer ones wait to be published.
#[utoipa::path(get, path = "/api/v1/ocpi/partners/{id}/published-roles", tag = "ocpi",
    params(("id" = i64, Path, description = "The partner's id")),
    responses(
        (status = 200, body = PublishedDoc),
        (status = 404, description = "No such partner", body = crate::error::ErrorBody),
    ))]
pub async fn published_roles(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<PublishedView>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    Ok(Json(roles::view(ocpi(&state)?, id).await.map_err(refused)?))
}
