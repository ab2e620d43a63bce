//! Block I, Tariff and cost: the running total cost during charging (TC_I_01, use case I02)
//! and the final total cost after charging (TC_I_02, use case I03; printed as "TC_L02_CSMS"
//! in the draft, under block I).
//!
//! Readings taken where the draft is inconsistent:
//!
//! * Both cases boot first (Reusable State *Booted*), as every case here does.
//! * TC_I_01 steps 1–4 (Authorize, then TransactionEvent Authorized with the valid idToken) are
//!   the Reusable State *Authorized*. The draft prints `eventType` Updated for step 3 although
//!   no transaction was started before it; OCPP's E01 makes the first event of a transaction
//!   `Started`, so Started is sent (as the Authorized state does).
//! * TC_I_01 step 7, "every <Configured sampled Meter Values interval>", two times: the two
//!   MeterValuePeriodic events carry a cumulative `Energy.Active.Import.Register` sample
//!   (context Sample.Periodic) and timestamps one interval apart
//!   ([`CostConfig::sampled_interval`], 60 s by default), set in the message rather than waited
//!   for: the CSMS sees the same messages without the test sleeping.
//! * TC_I_01 step 9 ("after every TransactionEventResponse, if the message did not contain a
//!   totalCost"): a response to a MeterValuePeriodic event without `totalCost` must be followed
//!   by a CostUpdatedRequest for the transaction; its `transactionId` is validated. A response
//!   with `totalCost` needs none. A CSMS doing neither fails (the driver would see no running
//!   cost).
//! * TC_I_02's "state is EVConnectedPostSession" is played as a whole charging session whose
//!   clock and meter are set in the messages ([`FinalCostConfig`]): Authorized (Authorize and
//!   TransactionEvent Started), EVConnectedPreSession, EnergyTransferStarted with the first
//!   `Energy.Active.Import.Register` reading (Transaction.Begin), periodic readings while
//!   charging, StopAuthorized, then EVConnected (charging has stopped). The Ended event of step
//!   3 carries the last register reading (context Transaction.End), as a station's Ended event
//!   does. The reusable states stamp every message with the wall clock; a session that lasts
//!   milliseconds has no energy and no time to price, and a final cost of 0.00 proves nothing.
//!   With the timeline fixed, the `totalCost` of step 4 is a known amount (computed from the
//!   tariff and the readings), so a CSMS that drops the readings, the time, or the Ended
//!   event's own sample answers a different number.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use rust_decimal::Decimal;
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, AuthorizeRequest, ChargingStateEnumType, ConnectorStatusEnumType,
    CostUpdatedRequest, CostUpdatedResponse, IdTokenInfoType, MeasurandEnumType, MeterValueType,
    ReadingContextEnumType, ReasonEnumType, SampledValueType, TransactionEventRequest,
    TriggerReasonEnumType,
};

use super::operator::Operator;
use super::states::{self, Session, TxState};
use super::{CaseError, ScenarioFuture, Target};
use crate::ensure;
use crate::station::Station;

/// The OCTT's configuration for these cases.
#[derive(Debug, Clone, PartialEq)]
pub struct CostConfig {
    /// <Configured sampled Meter Values interval>.
    pub sampled_interval: Duration,
    /// The cumulative energy register (Wh) at the first and the second periodic sample.
    pub register_wh: [Decimal; 2],
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            sampled_interval: Duration::from_secs(60),
            register_wh: [Decimal::new(1000, 0), Decimal::new(2500, 0)],
        }
    }
}

/// What the CSMS told the driver about the running cost after each periodic update: the
/// `totalCost` of the TransactionEventResponse, else that of the CostUpdatedRequest.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningCost {
    pub in_response: Option<Decimal>,
    pub cost_updated: Option<Decimal>,
}

/// The scenario for a case id of this block, if the simulator has one.
pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    _op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    match id {
        "TC_I_01_CSMS" => Some(Box::pin(async move {
            tc_i_01(target, &CostConfig::default()).await.map(|_| ())
        })),
        "TC_I_02_CSMS" => Some(Box::pin(async move {
            tc_i_02(target, &FinalCostConfig::default())
                .await
                .map(|_| ())
        })),
        _ => None,
    }
}

/// One `MeterValue` with the cumulative main energy register (Wh, OCPP's default unit).
fn register_reading(
    timestamp: DateTime<Utc>,
    wh: Decimal,
    context: ReadingContextEnumType,
) -> MeterValueType {
    MeterValueType {
        custom_data: None,
        sampled_value: vec![SampledValueType {
            custom_data: None,
            value: wh,
            context: Some(context),
            measurand: Some(MeasurandEnumType::EnergyActiveImportRegister),
            phase: None,
            location: None,
            signed_meter_value: None,
            unit_of_measure: None,
        }],
        timestamp,
    }
}

/// A periodic update with one cumulative energy sample.
fn periodic_sample(
    session: &mut Session,
    timestamp: DateTime<Utc>,
    wh: Decimal,
) -> TransactionEventRequest {
    let mut event = session.next_event(TriggerReasonEnumType::MeterValuePeriodic, None);
    event.timestamp = timestamp;
    event.meter_value = Some(vec![register_reading(
        timestamp,
        wh,
        ReadingContextEnumType::SamplePeriodic,
    )]);
    event
}

/// TC_I_01_CSMS Show EV Driver running total cost during charging. Returns the session (for
/// the transaction id) and the running cost the CSMS gave after each periodic update.
pub async fn tc_i_01(
    target: &Target,
    config: &CostConfig,
) -> Result<(Session, Vec<RunningCost>), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = Session::new(target);
    // Steps 1–4 (tool validations: both idTokenInfo.status Accepted).
    states::authorized(&mut station, target, &mut session).await?;
    // Steps 5–6.
    states::ev_connected_pre_session(&mut station, target, &mut session).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    // Steps 7–10, twice.
    let interval = chrono::Duration::from_std(config.sampled_interval)
        .map_err(|e| CaseError::Fail(format!("sampled interval: {e}")))?;
    let mut at = chrono::Utc::now();
    let mut costs = Vec::new();
    for wh in config.register_wh {
        at += interval;
        let event = periodic_sample(&mut session, at, wh);
        let answer = station.call(&event).await?;
        let cost_updated = match answer.total_cost {
            Some(_) => None,
            None => Some(expect_cost_updated(&mut station, &session).await?),
        };
        costs.push(RunningCost {
            in_response: answer.total_cost,
            cost_updated,
        });
    }
    station.close().await;
    Ok((session, costs))
}

/// Step 9/10: the CostUpdatedRequest for the transaction, answered.
async fn expect_cost_updated(
    station: &mut Station,
    session: &Session,
) -> Result<Decimal, CaseError> {
    let (id, request) = station
        .expect_call::<CostUpdatedRequest>()
        .await
        .map_err(|e| {
            CaseError::Fail(format!(
                "the TransactionEventResponse had no totalCost, and no CostUpdatedRequest followed: {e}"
            ))
        })?;
    ensure!(
        request.transaction_id == session.transaction_id,
        "CostUpdatedRequest.transactionId must be {}, was {}",
        session.transaction_id,
        request.transaction_id
    );
    station
        .respond::<CostUpdatedRequest>(&id, &CostUpdatedResponse { custom_data: None })
        .await?;
    Ok(request.total_cost)
}

/// The charging session TC_I_02 plays before its steps: when each message happened (seconds
/// after [`FinalCostConfig::start`]) and what the main energy register read. The messages carry
/// these timestamps; nothing waits for them.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalCostConfig {
    /// The transaction starts (Authorize, TransactionEvent Started with `triggerReason`
    /// Authorized). Default: an hour before now, in whole seconds, so the whole session lies
    /// in the past as a real one would.
    pub start: DateTime<Utc>,
    /// The EV is plugged in: CablePluggedIn / EVConnected.
    pub plugged_in_at: i64,
    /// Energy flows: ChargingStateChanged / Charging, with the register at `begin_wh`
    /// (Transaction.Begin).
    pub charging_at: i64,
    pub begin_wh: Decimal,
    /// MeterValuePeriodic updates while charging: (seconds after start, register Wh).
    pub periodic: Vec<(i64, Decimal)>,
    /// The driver stops the transaction: StopAuthorized with the idToken.
    pub stop_authorized_at: i64,
    /// Energy stops: ChargingStateChanged / EVConnected (state EVConnectedPostSession); the
    /// register reads `end_wh` from then on.
    pub charging_stopped_at: i64,
    pub end_wh: Decimal,
    /// Steps 3–4: the EV is unplugged and the transaction ends; the Ended event carries the
    /// `end_wh` reading taken at `charging_stopped_at` (Transaction.End).
    pub ended_at: i64,
}

impl FinalCostConfig {
    /// `start` plus `seconds`.
    pub fn at(&self, seconds: i64) -> DateTime<Utc> {
        self.start + TimeDelta::seconds(seconds)
    }
}

impl Default for FinalCostConfig {
    /// 30 s plugged in before charging, 45 min 30 s charging (7 905.75 Wh, fractional readings
    /// included), 2 min 30 s plugged in after charging.
    fn default() -> Self {
        let now = Utc::now();
        let start = now.duration_trunc(TimeDelta::seconds(1)).unwrap_or(now) - TimeDelta::hours(1);
        FinalCostConfig {
            start,
            plugged_in_at: 30,
            charging_at: 60,
            begin_wh: Decimal::new(12_000, 0),
            periodic: vec![
                (1_260, Decimal::new(152_505, 1)),
                (2_760, Decimal::new(1_983_725, 2)),
            ],
            stop_authorized_at: 2_775,
            charging_stopped_at: 2_790,
            end_wh: Decimal::new(1_990_575, 2),
            ended_at: 2_940,
        }
    }
}

/// The "`<message>`.idTokenInfo.status must be Accepted" validation of the Authorized and
/// StopAuthorized states.
fn check_accepted(message: &str, info: Option<&IdTokenInfoType>) -> Result<(), CaseError> {
    let status = info.map(|i| i.status);
    ensure!(
        status == Some(AuthorizationStatusEnumType::Accepted),
        "{message}.idTokenInfo.status must be Accepted, was {}",
        status.map_or("absent", |s| s.as_str())
    );
    Ok(())
}

/// TC_I_02_CSMS (printed TC_L02_CSMS) Show EV Driver Final Total Cost After Charging. Plays
/// the session of `config` up to EVConnectedPostSession (see the module's readings), then the
/// steps. Returns the session and the final `totalCost`.
pub async fn tc_i_02(
    target: &Target,
    config: &FinalCostConfig,
) -> Result<(Session, Decimal), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = Session::new(target);

    // Authorized (Table 202): tool validations, both idTokenInfo.status Accepted.
    let token = session.valid_id_token.clone();
    let answer = station
        .call(&AuthorizeRequest {
            custom_data: None,
            id_token: token.clone(),
            certificate: None,
            iso15118_certificate_hash_data: None,
        })
        .await?;
    check_accepted("AuthorizeResponse", Some(&answer.id_token_info))?;
    let mut event = session.next_event(TriggerReasonEnumType::Authorized, None);
    event.timestamp = config.start;
    event.id_token = Some(token.clone());
    let answer = station.call(&event).await?;
    check_accepted("TransactionEventResponse", answer.id_token_info.as_ref())?;
    session.authorized = true;
    session.id_token = Some(token.clone());
    session.state = Some(TxState::Authorized);

    // EVConnectedPreSession (Table 201).
    states::notify_connector_status(
        &mut station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Occupied,
    )
    .await?;
    let mut event = session.next_event(
        TriggerReasonEnumType::CablePluggedIn,
        Some(ChargingStateEnumType::EvConnected),
    );
    event.timestamp = config.at(config.plugged_in_at);
    event.evse = Some(session.evse());
    station.call(&event).await?;
    session.ev_connected = true;
    session.state = Some(TxState::EvConnectedPreSession);

    // EnergyTransferStarted (Table 203), with the register at the start of charging.
    let mut event = session.next_event(
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::Charging),
    );
    event.timestamp = config.at(config.charging_at);
    event.meter_value = Some(vec![register_reading(
        event.timestamp,
        config.begin_wh,
        ReadingContextEnumType::TransactionBegin,
    )]);
    station.call(&event).await?;
    session.state = Some(TxState::EnergyTransferStarted);
    for (seconds, wh) in &config.periodic {
        let event = periodic_sample(&mut session, config.at(*seconds), *wh);
        station.call(&event).await?;
    }

    // StopAuthorized (Table 205): tool validation, idTokenInfo.status Accepted.
    let mut event = session.next_event(TriggerReasonEnumType::StopAuthorized, None);
    event.timestamp = config.at(config.stop_authorized_at);
    event.id_token = Some(token);
    let answer = station.call(&event).await?;
    check_accepted("TransactionEventResponse", answer.id_token_info.as_ref())?;
    session.authorized = false;
    session.state = Some(TxState::StopAuthorized);

    // EVConnectedPostSession (Table 206).
    let mut event = session.next_event(
        TriggerReasonEnumType::ChargingStateChanged,
        Some(ChargingStateEnumType::EvConnected),
    );
    event.timestamp = config.at(config.charging_stopped_at);
    station.call(&event).await?;
    session.state = Some(TxState::EvConnectedPostSession);

    // Steps 1–2.
    states::notify_connector_status(
        &mut station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Available,
    )
    .await?;
    // Steps 3–4.
    let mut event = session.end_event(
        TriggerReasonEnumType::EvCommunicationLost,
        Some(ChargingStateEnumType::Idle),
        ReasonEnumType::EvDisconnected,
    );
    event.timestamp = config.at(config.ended_at);
    event.meter_value = Some(vec![register_reading(
        config.at(config.charging_stopped_at),
        config.end_wh,
        ReadingContextEnumType::TransactionEnd,
    )]);
    let answer = station.call(&event).await?;
    session.ev_connected = false;
    session.state = Some(TxState::EvDisconnected);
    let total = answer.total_cost.ok_or_else(|| {
        CaseError::Fail("step 4: TransactionEventResponse.totalCost must not be omitted".into())
    })?;
    station.close().await;
    Ok((session, total))
}
