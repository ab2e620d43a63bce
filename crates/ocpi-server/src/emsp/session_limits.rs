//! Session limits, a unicharge extension module (`unicharge_ocpi::session_limits`, ADR 0045),
//! eMSP role: our operator (for a pre-paid driver's app) caps a session a CPO partner pushed
//! us (B4.2) and may give the driver's tariff to show at the EVSE (B2.4). The CPO enforces
//! them; we keep what we last set (`ocpi_session_limits`, side SENT) and read the CPO's state
//! live.

use chrono::Utc;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
pub use unicharge_ocpi::session_limits::SessionLimitsState;
use unicharge_ocpi::session_limits::{SessionLimits, MODULE_ID};
use unicharge_ocpi::types::DisplayText;
use unicharge_store::ocpi_buc::SessionLimitRow;

use super::commands::{target, Target};
use super::preferences::known_session;
use crate::client::call;
use crate::operator::OperatorError;
use crate::session_limits::SENT;
use crate::Ocpi;

/// What the operator sets (camelCase, like the rest of the operator API).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitsBody {
    /// Most the session may cost, including VAT, as a decimal string or number.
    #[serde(default)]
    pub max_cost: Option<Decimal>,
    /// ISO 4217, the session's currency (required with maxCost).
    #[serde(default)]
    pub currency: Option<String>,
    /// Most energy, kWh.
    #[serde(default)]
    pub max_energy: Option<Decimal>,
    /// Longest duration from the session's start, seconds.
    #[serde(default)]
    pub max_duration: Option<i64>,
    /// Shown at the EVSE when a limit stops the session.
    #[serde(default)]
    pub stop_message: Vec<DisplayText>,
    /// B2.4: the driver's tariff, shown at the EVSE during the session.
    #[serde(default)]
    pub driver_tariff: Vec<DisplayText>,
}

/// The CPO's state of a session's limits as the operator API shows it: camelCase, amounts as
/// decimal strings (the OCPI object, `SessionLimitsState`, is snake_case with JSON numbers).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitsView {
    pub session_id: String,
    pub max_cost: Option<Decimal>,
    pub max_energy: Option<Decimal>,
    pub max_duration: Option<i64>,
    pub stop_message: Vec<DisplayText>,
    pub driver_tariff: Vec<DisplayText>,
    /// ARMED, REACHED, ENDED.
    pub status: String,
    /// COST, ENERGY, DURATION.
    pub reached: Option<String>,
    pub reached_at: Option<chrono::DateTime<Utc>>,
    /// The station's answer to the stop (Accepted, Rejected) or why it failed.
    pub stop_result: Option<String>,
    /// Cost so far including VAT (absent when no tariff prices the session).
    pub cost: Option<Decimal>,
    /// The session's currency (that of `cost` and `maxCost`).
    pub currency: String,
    /// kWh so far.
    pub energy: Decimal,
    /// Seconds since the session started.
    pub duration: i64,
}

impl From<SessionLimitsState> for LimitsView {
    fn from(s: SessionLimitsState) -> Self {
        LimitsView {
            session_id: s.session_id,
            max_cost: s.limits.max_cost,
            max_energy: s.limits.max_energy,
            max_duration: s.limits.max_duration,
            stop_message: s.limits.stop_message,
            driver_tariff: s.limits.driver_tariff,
            status: s.status.as_str().to_string(),
            reached: s.reached.map(|r| r.as_str().to_string()),
            reached_at: s.reached_at,
            stop_result: s.stop_result,
            cost: s.cost,
            currency: s.currency,
            energy: s.energy,
            duration: s.duration,
        }
    }
}

async fn session_target(
    ocpi: &Ocpi,
    partner_id: i64,
    session_id: &str,
) -> Result<(Target, String), OperatorError> {
    let target = target(ocpi, partner_id, MODULE_ID, "session limits").await?;
    known_session(ocpi, partner_id, session_id).await?;
    let url = format!("{}/{session_id}", target.url.trim_end_matches('/'));
    Ok((target, url))
}

fn refused(e: crate::client::ClientError) -> OperatorError {
    OperatorError::Partner(crate::reply::bounded(&e.to_string()))
}

/// B4.2: set (replace) the limits of CPO partner `partner_id`'s session `session_id`.
pub async fn set(
    ocpi: &Ocpi,
    partner_id: i64,
    session_id: &str,
    body: LimitsBody,
) -> Result<LimitsView, OperatorError> {
    let limits = SessionLimits {
        max_cost: body.max_cost,
        currency: body.currency.map(|c| c.to_ascii_uppercase()),
        max_energy: body.max_energy,
        max_duration: body.max_duration,
        stop_message: body.stop_message,
        driver_tariff: body.driver_tariff,
        last_updated: Utc::now(),
    };
    limits.check().map_err(OperatorError::Invalid)?;
    let (target, url) = session_target(ocpi, partner_id, session_id).await?;
    let state: SessionLimitsState = call(
        ocpi,
        reqwest::Method::PUT,
        &url,
        &target.token,
        &target.version,
        Some(&limits),
    )
    .await
    .map_err(refused)?;
    let row = SessionLimitRow {
        partner_id,
        side: SENT.into(),
        session_id: session_id.to_string(),
        station_id: None,
        transaction_id: None,
        data: serde_json::to_string(&limits).map_err(|e| OperatorError::Invalid(e.to_string()))?,
        reached: None,
        reached_at: None,
        stop_requested_at: None,
        stop_result: None,
        last_updated: limits.last_updated,
    };
    ocpi.ocpi_store().put_ocpi_session_limit(&row).await?;
    tracing::info!(
        partner = partner_id,
        session = session_id,
        "OCPI session limits set at the CPO"
    );
    Ok(state.into())
}

/// The limits as the CPO holds them, with what the session used so far.
pub async fn read(
    ocpi: &Ocpi,
    partner_id: i64,
    session_id: &str,
) -> Result<LimitsView, OperatorError> {
    let (target, url) = session_target(ocpi, partner_id, session_id).await?;
    let state: SessionLimitsState = call(
        ocpi,
        reqwest::Method::GET,
        &url,
        &target.token,
        &target.version,
        None::<&()>,
    )
    .await
    .map_err(refused)?;
    Ok(state.into())
}

/// Lift the limits (the CPO refuses once one was reached).
pub async fn lift(ocpi: &Ocpi, partner_id: i64, session_id: &str) -> Result<(), OperatorError> {
    let (target, url) = session_target(ocpi, partner_id, session_id).await?;
    let _: Option<serde_json::Value> = call(
        ocpi,
        reqwest::Method::DELETE,
        &url,
        &target.token,
        &target.version,
        None::<&()>,
    )
    .await
    .map_err(refused)?;
    ocpi.ocpi_store()
        .delete_ocpi_session_limit(partner_id, SENT, session_id)
        .await?;
    Ok(())
}
