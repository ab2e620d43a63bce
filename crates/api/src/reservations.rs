//! Block H: reservations (H01 reserve, H02 cancel, H04 expiry) — the HTTP mapping of
//! `unicharge_csms::reservation`.
//!
//! The CSMS allocates the reservation id: the reservation is stored (status `Requested`)
//! before ReserveNow is sent, then takes the station's answer as its status. A reservation the
//! station accepted reads `Expired` once its expiry has passed, even if the station — perhaps
//! offline — never said so.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_csms::reservation::{self as h, Reservation};
use unicharge_store::ReservationRecord;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ocpp_enum, ApiJson};
use crate::remote_control::StatusAnswer;
use crate::stations::{existing_station, station_id};
use crate::transactions::IdTokenBody;
use crate::{ApiError, ApiState};

/// How long a reservation lasts when the operator does not say.
pub const DEFAULT_RESERVATION: Duration = Duration::minutes(15);

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/stations/{id}/reservations",
            get(list_reservations).post(reserve_now),
        )
        .route(
            "/api/v1/stations/{id}/reservations/{reservationId}/cancel",
            post(cancel_reservation),
        )
}

/// Reserve an EVSE, a connector type or the station for a token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReserveBody {
    pub id_token: IdTokenBody,
    /// Whose group may use the reservation too.
    pub group_id_token: Option<IdTokenBody>,
    /// The EVSE to reserve; absent: any EVSE of the station.
    pub evse_id: Option<i64>,
    /// OCPP ConnectorEnumType, e.g. `cCCS2`, `cType2`.
    pub connector_type: Option<String>,
    /// When the reservation ends (RFC 3339). Give this or `expiresInSeconds`, not both;
    /// neither: 15 minutes from now.
    pub expires_at: Option<DateTime<Utc>>,
    /// How long the reservation lasts, from now.
    pub expires_in_seconds: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reserved {
    /// The reservation id the CSMS allocated (sent as ReserveNowRequest.id).
    pub id: i64,
    /// The station's answer: `Accepted`, `Faulted`, `Occupied`, `Rejected`, `Unavailable`.
    pub status: String,
    pub expires_at: DateTime<Utc>,
}

/// A reservation as operators see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationView {
    pub id: i64,
    pub station_id: String,
    pub evse_id: Option<i64>,
    pub connector_type: Option<String>,
    pub id_token: String,
    pub id_token_type: String,
    pub group_id_token: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// Now: `Requested` (sent, no answer yet), the station's ReserveNow answer, `Failed` (not
    /// delivered), `Cancelled`, `Used`, `Removed`, or `Expired` (also when an accepted
    /// reservation's expiry has passed unreported).
    pub status: String,
    /// The transaction that used it.
    pub transaction_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ReservationView {
    fn new(r: ReservationRecord, now: DateTime<Utc>) -> Self {
        ReservationView {
            status: r.effective_status(now).to_string(),
            id: r.id,
            station_id: r.station_id.to_string(),
            evse_id: r.evse_id,
            connector_type: r.connector_type,
            id_token: r.id_token,
            id_token_type: r.id_token_type,
            group_id_token: r.group_id_token,
            expires_at: r.expires_at,
            transaction_id: r.transaction_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationList {
    /// Newest first.
    pub reservations: Vec<ReservationView>,
}

fn expiry(body: &ReserveBody, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let at = match (body.expires_at, body.expires_in_seconds) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "ambiguous_expiry",
                "give expiresAt or expiresInSeconds, not both",
            ))
        }
        (Some(at), None) => at,
        (None, Some(seconds)) => Duration::try_seconds(seconds)
            .and_then(|d| now.checked_add_signed(d))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_expiry",
                    format!("expiresInSeconds {seconds} is out of range"),
                )
            })?,
        (None, None) => now + DEFAULT_RESERVATION,
    };
    if at <= now {
        return Err(ApiError::bad_request(
            "expiry_in_the_past",
            format!(
                "the reservation would expire at {}, which is not in the future",
                at.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
        ));
    }
    Ok(at)
}

/// Reserve (H01): ReserveNow with a CSMS-allocated id; the reservation takes the station's
/// answer as its status.
#[utoipa::path(post, path = "/api/v1/stations/{id}/reservations", tag = "reservations",
    params(("id" = String, Path, description = "Station id")), request_body = ReserveBody,
    responses(
        (status = 200, body = Reserved),
        (status = 400, description = "An expiry in the past, both expiry fields, or a request that breaks the schema", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn reserve_now(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReserveBody>,
) -> Result<Json<Reserved>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let reservation = Reservation {
        id_token: body.id_token.typed("idToken")?,
        group_id_token: body
            .group_id_token
            .as_ref()
            .map(|g| g.typed("groupIdToken"))
            .transpose()?,
        evse_id: body.evse_id,
        connector_type: body
            .connector_type
            .as_deref()
            .map(|c| ocpp_enum("connectorType", c))
            .transpose()?,
        expires_at: expiry(&body, Utc::now())?,
    };
    let expires_at = reservation.expires_at;
    let reserved = h::reserve_now(&state.csms, &station, reservation, &by).await?;
    Ok(Json(Reserved {
        id: reserved.id,
        status: reserved.response.status.as_str().to_string(),
        expires_at,
    }))
}

#[utoipa::path(get, path = "/api/v1/stations/{id}/reservations", tag = "reservations",
    params(("id" = String, Path, description = "Station id")),
    responses((status = 200, body = ReservationList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_reservations(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ReservationList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let station = existing_station(&state, &id).await?;
    let now = Utc::now();
    let rows = state.store.reservations(&station).await?;
    Ok(Json(ReservationList {
        reservations: rows
            .into_iter()
            .map(|r| ReservationView::new(r, now))
            .collect(),
    }))
}

/// Cancel a reservation (H02). When the station accepts, the reservation is Cancelled. Any
/// body is ignored.
#[utoipa::path(post, path = "/api/v1/stations/{id}/reservations/{reservationId}/cancel", tag = "reservations",
    params(("id" = String, Path, description = "Station id"), ("reservationId" = i64, Path)),
    responses(
        (status = 200, description = "CancelReservationResponse (`Accepted` / `Rejected`)", body = StatusAnswer),
        (status = 404, description = "Unknown station or reservation", body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody),
        (status = 504, body = crate::error::ErrorBody),
    ))]
pub async fn cancel_reservation(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, reservation_id)): Path<(String, String)>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let by = caller.operator()?;
    // The operation itself answers 404 for a station that is not registered.
    let station = station_id(&id)?;
    let reservation_id: i64 = reservation_id.parse().map_err(|_| {
        ApiError::not_found(
            "unknown_reservation",
            format!("station {station} has no reservation {reservation_id:?}"),
        )
    })?;
    let answer = h::cancel_reservation(&state.csms, &station, reservation_id, &by).await?;
    Ok(Json(StatusAnswer {
        status: answer.status.as_str().to_string(),
        status_info: answer
            .status_info
            .map(serde_json::to_value)
            .transpose()
            .map_err(ApiError::internal)?,
    }))
}
