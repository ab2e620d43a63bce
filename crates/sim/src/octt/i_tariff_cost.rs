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
//! * TC_I_02's "state is EVConnectedPostSession" plays that state on a fresh session.

use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use unicharge_ocpp::v201::{
    ChargingStateEnumType, ConnectorStatusEnumType, CostUpdatedRequest, CostUpdatedResponse,
    MeasurandEnumType, MeterValueType, ReadingContextEnumType, ReasonEnumType, SampledValueType,
    TriggerReasonEnumType,
};

use super::operator::Operator;
use super::states::{self, Session};
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
        "TC_I_02_CSMS" => Some(Box::pin(async move { tc_i_02(target).await.map(|_| ()) })),
        _ => None,
    }
}

/// A periodic update with one cumulative energy sample.
fn periodic_sample(
    session: &mut Session,
    timestamp: chrono::DateTime<chrono::Utc>,
    wh: Decimal,
) -> unicharge_ocpp::v201::TransactionEventRequest {
    let mut event = session.next_event(TriggerReasonEnumType::MeterValuePeriodic, None);
    event.timestamp = timestamp;
    event.meter_value = Some(vec![MeterValueType {
        custom_data: None,
        sampled_value: vec![SampledValueType {
            custom_data: None,
            value: wh,
            context: Some(ReadingContextEnumType::SamplePeriodic),
            measurand: Some(MeasurandEnumType::EnergyActiveImportRegister),
            phase: None,
            location: None,
            signed_meter_value: None,
            unit_of_measure: None,
        }],
        timestamp,
    }]);
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

/// TC_I_02_CSMS (printed TC_L02_CSMS) Show EV Driver Final Total Cost After Charging. Returns
/// the session and the final `totalCost`.
pub async fn tc_i_02(target: &Target) -> Result<(Session, Decimal), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = Session::new(target);
    states::ev_connected_post_session(&mut station, target, &mut session).await?;
    // Steps 1–2.
    states::notify_connector_status(
        &mut station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Available,
    )
    .await?;
    // Steps 3–4.
    let event = session.end_event(
        TriggerReasonEnumType::EvCommunicationLost,
        Some(ChargingStateEnumType::Idle),
        ReasonEnumType::EvDisconnected,
    );
    let answer = station.call(&event).await?;
    session.ev_connected = false;
    let total = answer.total_cost.ok_or_else(|| {
        CaseError::Fail("step 4: TransactionEventResponse.totalCost must not be omitted".into())
    })?;
    station.close().await;
    Ok((session, total))
}
