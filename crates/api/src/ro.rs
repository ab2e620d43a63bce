//! Diameter Ro online charging (issue 14): the subscribers the OCF knows (Subscription-Id →
//! ledger account), the tariffs it rates with, and its credit-control sessions. Balances and
//! top-ups are the ledger's accounts API (`/api/v1/accounts`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use unicharge_core::api_keys::ApiRole;
use unicharge_core::online::{
    subscription_id_type_value, OnlineTariff, QuotaUnit, Subscriber, TariffSwitch,
};
use unicharge_store::ro::RoSessionRow;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::diameter::RoCallError;
use crate::error::ApiJson;
use crate::transactions::{limit, ApiQuery};
use crate::{ApiError, ApiState};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/ro/subscribers",
            get(list_subscribers).put(put_subscriber),
        )
        .route("/api/v1/ro/tariffs", get(list_tariffs).put(put_tariff))
        .route("/api/v1/ro/sessions", get(list_sessions))
        .route(
            "/api/v1/ro/sessions/{id}/terminate",
            post(terminate_session),
        )
        .route("/api/v1/ro/sessions/{id}/abort", post(abort_session))
        .route(
            "/api/v1/ro/sessions/{id}/reauthorize",
            post(reauthorize_session),
        )
}

/// A subscriber: one Subscription-Id and the ledger account that pays for it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriberView {
    /// `END_USER_E164`, `END_USER_IMSI`, `END_USER_SIP_URI`, `END_USER_NAI` or
    /// `END_USER_PRIVATE`.
    pub id_type: String,
    /// Subscription-Id-Data: the MSISDN, IMSI, SIP URI, …
    pub id_data: String,
    /// Ledger account id (open it with `POST /api/v1/accounts` first).
    pub account: String,
    /// Refuse every service (4010).
    #[serde(default)]
    pub barred: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberList {
    pub subscribers: Vec<SubscriberView>,
}

/// Subscribers of the OCF.
#[utoipa::path(get, path = "/api/v1/ro/subscribers", tag = "ro",
    responses((status = 200, body = SubscriberList)))]
pub async fn list_subscribers(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<SubscriberList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let subscribers = state
        .store
        .ro_subscribers()
        .await?
        .into_iter()
        .map(|s| SubscriberView {
            id_type: s.id_type,
            id_data: s.id_data,
            account: s.account,
            barred: s.barred,
        })
        .collect();
    Ok(Json(SubscriberList { subscribers }))
}

/// Create or replace the subscriber of a Subscription-Id.
#[utoipa::path(put, path = "/api/v1/ro/subscribers", tag = "ro", request_body = SubscriberView,
    responses((status = 200, body = SubscriberView), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn put_subscriber(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<SubscriberView>,
) -> Result<Json<SubscriberView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    let Some(kind) = subscription_id_type_value(&body.id_type) else {
        return Err(ApiError::bad_request(
            "invalid_id_type",
            "idType is END_USER_E164, END_USER_IMSI, END_USER_SIP_URI, END_USER_NAI or END_USER_PRIVATE",
        ));
    };
    if body.id_data.is_empty() || body.id_data.len() > 256 {
        return Err(ApiError::bad_request(
            "invalid_id_data",
            "idData is 1 to 256 characters",
        ));
    }
    if state.store.ledger_account(&body.account).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_account",
            format!(
                "account {} does not exist: open it with POST /api/v1/accounts",
                body.account
            ),
        ));
    }
    let id_type = unicharge_core::online::SUBSCRIPTION_ID_TYPES[kind as usize].to_owned();
    state
        .store
        .ro_put_subscriber(&Subscriber {
            id_type: id_type.clone(),
            id_data: body.id_data.clone(),
            account: body.account.clone(),
            barred: body.barred,
        })
        .await?;
    // Barring is a rule that ends service now (issue 14, item 7), not at the next session.
    if body.barred {
        if let Some(d) = &state.diameter {
            let key = format!("{id_type}:{}", body.id_data);
            let n = d.ro_barred(&key, &body.account).await;
            if n > 0 {
                tracing::info!(subscriber = %key, sessions = n, "subscriber barred: open sessions aborted");
            }
        }
    }
    Ok(Json(SubscriberView { id_type, ..body }))
}

/// A tariff of the OCF, for a rating group and/or a service identifier.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TariffView {
    pub id: String,
    pub rating_group: Option<u32>,
    pub service_identifier: Option<u32>,
    /// `time` (s), `volume` (octets) or `serviceSpecific` (events).
    pub unit: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Price of one block ("0.10"); "0" = free (4011, credit control not applicable).
    #[schema(value_type = String)]
    pub price: Decimal,
    /// Units per block (60 = per started minute). Default 1.
    #[serde(default = "one")]
    pub block: u64,
    pub max_grant: Option<u64>,
    /// Units granted when the CTF names no amount.
    pub default_grant: u64,
    /// When the price changes, and the price after it.
    pub switch_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>)]
    pub switch_price: Option<Decimal>,
}

fn one() -> u64 {
    1
}

impl From<OnlineTariff> for TariffView {
    fn from(t: OnlineTariff) -> Self {
        TariffView {
            id: t.id,
            rating_group: t.rating_group,
            service_identifier: t.service_identifier,
            unit: t.unit.as_str().to_owned(),
            currency: t.currency,
            price: t.price,
            block: t.block,
            max_grant: t.max_grant,
            default_grant: t.default_grant,
            switch_at: t.switch.as_ref().map(|s| s.at),
            switch_price: t.switch.map(|s| s.price),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TariffList {
    pub tariffs: Vec<TariffView>,
}

/// Tariffs of the OCF.
#[utoipa::path(get, path = "/api/v1/ro/tariffs", tag = "ro",
    responses((status = 200, body = TariffList)))]
pub async fn list_tariffs(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<TariffList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let tariffs = state
        .store
        .ro_tariffs()
        .await?
        .iter()
        .cloned()
        .map(Into::into)
        .collect();
    Ok(Json(TariffList { tariffs }))
}

/// Create or replace a tariff (by id).
#[utoipa::path(put, path = "/api/v1/ro/tariffs", tag = "ro", request_body = TariffView,
    responses((status = 200, body = TariffView), (status = 400, body = crate::error::ErrorBody)))]
pub async fn put_tariff(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<TariffView>,
) -> Result<Json<TariffView>, ApiError> {
    caller.require(ApiRole::Operator)?;
    let bad = |code: &'static str, m: &str| Err(ApiError::bad_request(code, m.to_owned()));
    let Some(unit) = QuotaUnit::parse(&body.unit) else {
        return bad(
            "invalid_unit",
            "unit is time, volume, serviceSpecific or money",
        );
    };
    if body.id.is_empty() || body.id.len() > 128 {
        return bad("invalid_id", "a tariff id is 1 to 128 characters");
    }
    if body.rating_group.is_none() && body.service_identifier.is_none() {
        return bad(
            "invalid_tariff",
            "give a ratingGroup, a serviceIdentifier or both",
        );
    }
    if body.currency.len() != 3 || body.price < Decimal::ZERO || body.block == 0 {
        return bad(
            "invalid_price",
            "currency is ISO 4217 (EUR), price ≥ 0, block ≥ 1",
        );
    }
    let switch = match (body.switch_at, body.switch_price) {
        (Some(at), Some(price)) if price >= Decimal::ZERO => Some(TariffSwitch { at, price }),
        (None, None) => None,
        _ => {
            return bad(
                "invalid_switch",
                "give both switchAt and switchPrice (≥ 0), or neither",
            )
        }
    };
    let t = OnlineTariff {
        id: body.id,
        rating_group: body.rating_group,
        service_identifier: body.service_identifier,
        unit,
        currency: body.currency.to_ascii_uppercase(),
        price: body.price,
        block: body.block,
        max_grant: body.max_grant,
        default_grant: body.default_grant,
        switch,
    };
    state.store.ro_put_tariff(&t).await?;
    // Open sessions hold grants priced by the old tariff: each CTF is asked to re-authorize
    // (RAR), so the new price applies from its next CCR-Update (TS 32.299 §6.5.6).
    if let Some(d) = &state.diameter {
        let asked = d.ro_changed(None).await;
        tracing::info!(tariff = %t.id, sessions = asked, "Ro tariff changed: open sessions asked to re-authorize");
    }
    Ok(Json(t.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct RoSessionsQuery {
    /// `open` or `closed`; absent: both.
    pub state: Option<String>,
    /// How many, most recently active first (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// One grant a session holds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoGrantView {
    pub rating_group: Option<u32>,
    pub service_identifier: Option<u32>,
    pub tariff: String,
    /// The ledger reservation holding it.
    pub reservation: String,
    pub units: u64,
    #[schema(value_type = String)]
    pub reserved: Decimal,
    pub granted_at: DateTime<Utc>,
}

/// A credit-control session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoSessionView {
    pub session_id: String,
    pub origin_host: String,
    pub origin_realm: String,
    pub account: Option<String>,
    /// `TYPE:data` of the Subscription-Id.
    pub subscriber: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// `TERMINATION_REQUEST`, `EVENT`, `OPERATOR` or `SUPERVISION_TIMEOUT`.
    pub closed_reason: Option<String>,
    pub last_request_number: i64,
    pub terminate_requested: bool,
    /// Debited by this session so far, in the account's unit (ledger references
    /// `ro:<sessionId>:…`).
    #[schema(value_type = String)]
    pub debited: Decimal,
    pub grants: Vec<RoGrantView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Tcc supervision deadline.
    pub expires_at: DateTime<Utc>,
}

impl From<RoSessionRow> for RoSessionView {
    fn from(s: RoSessionRow) -> Self {
        RoSessionView {
            session_id: s.session_id,
            origin_host: s.origin_host,
            origin_realm: s.origin_realm,
            account: s.account,
            subscriber: s.subscriber,
            state: s.state.to_ascii_lowercase(),
            closed_reason: s.closed_reason,
            last_request_number: s.last_request_number,
            terminate_requested: s.terminate_requested,
            debited: s.data.debited,
            grants: s
                .data
                .grants
                .into_iter()
                .map(|g| RoGrantView {
                    rating_group: g.rating_group,
                    service_identifier: g.service_identifier,
                    tariff: g.tariff,
                    reservation: g.reservation,
                    units: g.units,
                    reserved: g.reserved,
                    granted_at: g.granted_at,
                })
                .collect(),
            created_at: s.created_at,
            updated_at: s.updated_at,
            expires_at: s.expires_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoSessionList {
    /// Most recently active first.
    pub sessions: Vec<RoSessionView>,
}

/// Credit-control sessions of the OCF, open and closed.
#[utoipa::path(get, path = "/api/v1/ro/sessions", tag = "ro", params(RoSessionsQuery),
    responses((status = 200, body = RoSessionList), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list_sessions(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RoSessionsQuery>,
) -> Result<Json<RoSessionList>, ApiError> {
    caller.require(ApiRole::ReadOnly)?;
    let filter = match q.state.as_deref() {
        None => None,
        Some("open") => Some("OPEN"),
        Some("closed") => Some("CLOSED"),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_state",
                "state is open or closed",
            ))
        }
    };
    let sessions = state
        .store
        .ro_sessions(filter, limit(q.limit))
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(RoSessionList { sessions }))
}

/// End a session's service: its next CCR is answered 5003 DIAMETER_AUTHORIZATION_REJECTED,
/// its usage charged and its reservations released.
#[utoipa::path(post, path = "/api/v1/ro/sessions/{id}/terminate", tag = "ro",
    params(("id" = String, Path, description = "Session-Id")),
    responses((status = 202, description = "the next CCR of the session is answered 5003"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn terminate_session(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::Operator)?;
    if state.store.ro_request_termination(&id).await? {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_session",
            format!("no open credit-control session {id}"),
        ))
    }
}

/// What the CTF answered to an ASR or RAR the operator asked for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeerAnswer {
    /// The answer's Result-Code (2001 DIAMETER_SUCCESS, 5002 unknown session, …); absent when
    /// the answer carried none.
    pub result_code: Option<u32>,
}

/// Why an ASR / RAR could not be sent: unknown or closed session 404, no connection to its CTF
/// or no answer in time 502, Ro off 409.
fn not_sent(id: &str, e: RoCallError) -> ApiError {
    match e {
        RoCallError::Off => ApiError::new(StatusCode::CONFLICT, "ro_off", e.to_string()),
        RoCallError::UnknownSession(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "unknown_session", e.to_string())
        }
        RoCallError::Unreachable(_) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "ctf_unreachable",
            format!("session {id}: {e}"),
        ),
        RoCallError::Store(_) => ApiError::internal(e),
    }
}

/// Abort a session now (RFC 8506 §5.5 ASR): the CTF ends the service and sends its CCR-T; the
/// session's next CCR is answered 5003 whatever the CTF does.
#[utoipa::path(post, path = "/api/v1/ro/sessions/{id}/abort", tag = "ro",
    params(("id" = String, Path, description = "Session-Id")),
    responses((status = 200, body = PeerAnswer, description = "the CTF's ASA"), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 502, body = crate::error::ErrorBody)))]
pub async fn abort_session(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PeerAnswer>, ApiError> {
    caller.require(ApiRole::Operator)?;
    peer_call(&state, &id, |d, id| d.ro_abort(id)).await
}

/// Ask the CTF to re-authorize a session (RFC 8506 §5.5 RAR): it reports usage and asks for
/// new quota in a CCR-Update.
#[utoipa::path(post, path = "/api/v1/ro/sessions/{id}/reauthorize", tag = "ro",
    params(("id" = String, Path, description = "Session-Id")),
    responses((status = 200, body = PeerAnswer, description = "the CTF's RAA"), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 502, body = crate::error::ErrorBody)))]
pub async fn reauthorize_session(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PeerAnswer>, ApiError> {
    caller.require(ApiRole::Operator)?;
    peer_call(&state, &id, |d, id| d.ro_reauthorize(id)).await
}

/// Send one operator request (ASR, RAR) to a session's CTF and return its answer's code.
async fn peer_call<'a>(
    state: &'a ApiState,
    id: &'a str,
    call: impl FnOnce(
        &'a dyn crate::diameter::DiameterPeers,
        &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<Option<u32>, RoCallError>>,
) -> Result<Json<PeerAnswer>, ApiError> {
    let Some(d) = &state.diameter else {
        return Err(not_sent(id, RoCallError::Off));
    };
    match call(d.as_ref(), id).await {
        Ok(result_code) => Ok(Json(PeerAnswer { result_code })),
        Err(e) => Err(not_sent(id, e)),
    }
}
