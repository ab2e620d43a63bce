//! The 1.6 transaction messages — StartTransaction, MeterValues, StopTransaction — as the
//! 2.0.1 TransactionEvents they amount to, answered by the one transaction handler
//! ([`crate::transactions::transaction_event`]): the same transactions, meter series, running
//! cost, tariff and charge records whatever the station speaks.
//!
//! - **transactionId.** 1.6 has the CSMS allocate an integer. It is taken from the store
//!   ([`unicharge_store::Store::ocpp16_transaction_id`]) and committed before the answer
//!   leaves; the same start sent again (same connector, timestamp and idTag), under any message
//!   id, gets the same id. The core keys the transaction by its decimal text.
//! - **seqNo.** StartTransaction is seqNo 0; each later message of the transaction takes the
//!   stored transaction's last seqNo + 1 (one station connection answers its CALLs in order).
//! - **remoteStartId.** 1.6 StartTransaction names no remote start. A start is linked to the
//!   operator's newest remote start of the same station and idTag on that connector (or on
//!   none) that the station did not refuse, that no transaction answered yet, and that is at
//!   most [`REMOTE_START_WINDOW`] old; the transaction then carries its remoteStartId (trigger
//!   RemoteStart) exactly as a 2.0.1 one would, and the API shows the link.
//! - **Meter readings.** meterStart / meterStop are Energy.Active.Import.Register readings in Wh
//!   with context Transaction.Begin / Transaction.End, beside the transactionData samples.

use unicharge_ocpp::v16;
use unicharge_ocpp::v201::{
    self, ReadingContextEnumType, ReasonEnumType, TransactionEventEnumType, TransactionType,
    TriggerReasonEnumType,
};

use super::convert;
use super::core_profile::map;
use crate::dispatch::{internal, CallRefusal, Handled, StationContext};
use crate::{metering, transactions};

/// How long after a RemoteStartTransaction a StartTransaction with its idTag is taken as its
/// answer: a charge point starts once the driver plugs in, which 1.6 bounds by the
/// ConnectionTimeOut key (typically a minute or two); ten minutes leaves room for slow plugs
/// without linking a local start long after.
pub const REMOTE_START_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// StartTransaction (1.6 section 4.8).
pub async fn start_transaction(
    ctx: &mut StationContext,
    req: v16::StartTransactionRequest,
) -> Result<Handled<v16::StartTransactionResponse>, CallRefusal> {
    let id_token = convert::id_token(ctx, &req.id_tag).await?;
    let transaction_id = ctx
        .store
        .ocpp16_transaction_id(
            &ctx.station_id,
            req.connector_id,
            &req.id_tag,
            req.timestamp,
        )
        .await
        .map_err(internal)?;
    // The operator's remote start this start answers, if any (1.6 names none).
    let remote_start_id = ctx
        .store
        .open_remote_start(
            &ctx.station_id,
            &req.id_tag,
            req.connector_id,
            chrono::Utc::now() - REMOTE_START_WINDOW,
        )
        .await
        .map_err(internal)?;
    tracing::info!(station = %ctx.station_id, connector = req.connector_id, transaction_id,
        remote_start_id, "1.6 StartTransaction: transactionId allocated");
    let mut transaction_info = transaction(transaction_id, None);
    transaction_info.remote_start_id = remote_start_id;
    let event = v201::TransactionEventRequest {
        custom_data: None,
        event_type: TransactionEventEnumType::Started,
        meter_value: Some(vec![convert::register_reading(
            req.meter_start,
            req.timestamp,
            ReadingContextEnumType::TransactionBegin,
        )]),
        timestamp: req.timestamp,
        trigger_reason: if remote_start_id.is_some() {
            TriggerReasonEnumType::RemoteStart
        } else {
            TriggerReasonEnumType::Authorized
        },
        seq_no: 0,
        offline: None,
        number_of_phases_used: None,
        cable_max_current: None,
        reservation_id: req.reservation_id,
        transaction_info,
        evse: Some(convert::evse(req.connector_id)),
        id_token: Some(id_token),
    };
    let handled = transactions::transaction_event::handle(ctx, event).await?;
    let id_tag_info = handled
        .response
        .id_token_info
        .as_ref()
        .map(convert::id_tag_info)
        .ok_or_else(|| internal("TransactionEvent with an idToken answered no idTokenInfo"))?;
    Ok(without_cost_updates(map(handled, |_| {
        v16::StartTransactionResponse {
            id_tag_info,
            transaction_id,
        }
    })))
}

/// MeterValues (1.6 section 4.7): of a transaction, an Updated event of it; otherwise the
/// station's own meter values (2.0.1 MeterValues, J01).
pub async fn meter_values(
    ctx: &mut StationContext,
    req: v16::MeterValuesRequest,
) -> Result<Handled<v16::MeterValuesResponse>, CallRefusal> {
    let meter_value: Vec<_> = req
        .meter_value
        .iter()
        .filter_map(|m| {
            convert::meter_value(
                m.timestamp,
                m.sampled_value.iter().map(convert::Sample::from),
            )
        })
        .collect();
    let Some(transaction_id) = req.transaction_id else {
        if meter_value.is_empty() {
            return Ok(Handled::pure(v16::MeterValuesResponse {}));
        }
        let request = v201::MeterValuesRequest {
            custom_data: None,
            evse_id: req.connector_id,
            meter_value,
        };
        let handled = metering::meter_values::handle(ctx, request).await?;
        return Ok(map(handled, |_| v16::MeterValuesResponse {}));
    };
    let timestamp = req
        .meter_value
        .iter()
        .map(|m| m.timestamp)
        .max()
        .unwrap_or_else(chrono::Utc::now);
    let event = v201::TransactionEventRequest {
        custom_data: None,
        event_type: TransactionEventEnumType::Updated,
        meter_value: (!meter_value.is_empty()).then_some(meter_value),
        timestamp,
        trigger_reason: TriggerReasonEnumType::MeterValuePeriodic,
        seq_no: next_seq_no(ctx, transaction_id).await?,
        offline: None,
        number_of_phases_used: None,
        cable_max_current: None,
        reservation_id: None,
        transaction_info: transaction(transaction_id, None),
        evse: (req.connector_id > 0).then(|| convert::evse(req.connector_id)),
        id_token: None,
    };
    let handled = transactions::transaction_event::handle(ctx, event).await?;
    Ok(without_cost_updates(map(handled, |_| {
        v16::MeterValuesResponse {}
    })))
}

/// StopTransaction (1.6 section 4.10): the Ended event, with transactionData and meterStop;
/// its answer carries the final cost into the charge record. 1.6 answers idTagInfo only when
/// the stop carried an idTag.
pub async fn stop_transaction(
    ctx: &mut StationContext,
    req: v16::StopTransactionRequest,
) -> Result<Handled<v16::StopTransactionResponse>, CallRefusal> {
    let mut meter_value: Vec<_> = req
        .transaction_data
        .iter()
        .flatten()
        .filter_map(|m| {
            convert::meter_value(
                m.timestamp,
                m.sampled_value.iter().map(convert::Sample::from),
            )
        })
        .collect();
    meter_value.push(convert::register_reading(
        req.meter_stop,
        req.timestamp,
        ReadingContextEnumType::TransactionEnd,
    ));
    let id_token = match &req.id_tag {
        Some(tag) => Some(convert::id_token(ctx, tag).await?),
        None => None,
    };
    // 1.6: a stop without a reason was a Local one.
    let reason = req.reason.unwrap_or(v16::Reason::Local);
    let event = v201::TransactionEventRequest {
        custom_data: None,
        event_type: TransactionEventEnumType::Ended,
        meter_value: Some(meter_value),
        timestamp: req.timestamp,
        trigger_reason: trigger_reason(reason),
        seq_no: next_seq_no(ctx, req.transaction_id).await?,
        offline: None,
        number_of_phases_used: None,
        cable_max_current: None,
        reservation_id: None,
        transaction_info: transaction(req.transaction_id, Some(stopped_reason(reason))),
        evse: None,
        id_token,
    };
    let handled = transactions::transaction_event::handle(ctx, event).await?;
    let id_tag_info = handled
        .response
        .id_token_info
        .as_ref()
        .map(convert::id_tag_info);
    Ok(without_cost_updates(map(handled, |_| {
        v16::StopTransactionResponse { id_tag_info }
    })))
}

fn transaction(id: i64, stopped_reason: Option<ReasonEnumType>) -> TransactionType {
    TransactionType {
        custom_data: None,
        transaction_id: id.to_string(),
        charging_state: None,
        time_spent_charging: None,
        stopped_reason,
        remote_start_id: None,
    }
}

/// The seqNo the next message of a 1.6 transaction takes in the core.
async fn next_seq_no(ctx: &StationContext, transaction_id: i64) -> Result<i64, CallRefusal> {
    let existing = ctx
        .store
        .transaction(&ctx.station_id, &transaction_id.to_string())
        .await
        .map_err(internal)?;
    Ok(existing.map_or(1, |t| t.last_seq_no + 1))
}

/// The 2.0.1 stoppedReason of a 1.6 stop reason (same names where both have them).
fn stopped_reason(reason: v16::Reason) -> ReasonEnumType {
    use v16::Reason as R;
    match reason {
        R::EmergencyStop => ReasonEnumType::EmergencyStop,
        R::EvDisconnected => ReasonEnumType::EvDisconnected,
        R::HardReset => ReasonEnumType::ImmediateReset,
        R::Local => ReasonEnumType::Local,
        R::Other | R::UnlockCommand => ReasonEnumType::Other,
        R::PowerLoss => ReasonEnumType::PowerLoss,
        R::Reboot | R::SoftReset => ReasonEnumType::Reboot,
        R::Remote => ReasonEnumType::Remote,
        R::DeAuthorized => ReasonEnumType::DeAuthorized,
    }
}

/// What made the station end the transaction, in 2.0.1's words.
fn trigger_reason(reason: v16::Reason) -> TriggerReasonEnumType {
    use v16::Reason as R;
    match reason {
        R::Local => TriggerReasonEnumType::StopAuthorized,
        R::Remote => TriggerReasonEnumType::RemoteStop,
        R::EvDisconnected => TriggerReasonEnumType::EvDeparted,
        R::DeAuthorized => TriggerReasonEnumType::Deauthorized,
        R::UnlockCommand => TriggerReasonEnumType::UnlockCommand,
        R::HardReset | R::SoftReset | R::Reboot => TriggerReasonEnumType::ResetCommand,
        R::EmergencyStop | R::PowerLoss | R::Other => TriggerReasonEnumType::AbnormalCondition,
    }
}

/// 1.6 has no CostUpdated: the running cost stays in the store and the API.
fn without_cost_updates<T>(mut handled: Handled<T>) -> Handled<T> {
    handled
        .effects
        .retain(|e| !matches!(e, crate::effects::Effect::CostUpdated(_)));
    handled
}

/// A 1.6 StatusNotification that says how an ongoing transaction's vehicle charges (Charging,
/// SuspendedEV, SuspendedEVSE) is, for the core, that transaction's ChargingStateChanged event:
/// 1.6 has no other way to say it, and the charging / idle minutes of a tariff are priced from
/// it. `None` when the status is not such a state or no transaction is ongoing on the connector.
pub async fn charging_state_changed(
    ctx: &mut StationContext,
    connector_id: i64,
    status: v16::ChargePointStatus,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Handled<v201::TransactionEventResponse>>, CallRefusal> {
    use v201::ChargingStateEnumType as C;
    let state = match status {
        v16::ChargePointStatus::Charging => C::Charging,
        v16::ChargePointStatus::SuspendedEv => C::SuspendedEv,
        v16::ChargePointStatus::SuspendedEvse => C::SuspendedEvse,
        _ => return Ok(None),
    };
    if connector_id == 0 {
        return Ok(None);
    }
    let ongoing = transactions::ongoing(ctx.store.as_ref(), &ctx.station_id)
        .await
        .map_err(internal)?;
    let Some(tx) = ongoing
        .into_iter()
        .find(|t| t.evse_id == Some(connector_id))
    else {
        return Ok(None);
    };
    let Ok(transaction_id) = tx.transaction_id.parse::<i64>() else {
        return Ok(None); // a 2.0.1 transaction left open: not ours to move
    };
    if tx.charging_state.as_deref() == Some(state.as_str()) {
        return Ok(None);
    }
    let mut info = transaction(transaction_id, None);
    info.charging_state = Some(state);
    let event = v201::TransactionEventRequest {
        custom_data: None,
        event_type: TransactionEventEnumType::Updated,
        meter_value: None,
        timestamp: at,
        trigger_reason: TriggerReasonEnumType::ChargingStateChanged,
        seq_no: tx.last_seq_no + 1,
        offline: None,
        number_of_phases_used: None,
        cable_max_current: None,
        reservation_id: None,
        transaction_info: info,
        evse: Some(convert::evse(connector_id)),
        id_token: None,
    };
    let handled = transactions::transaction_event::handle(ctx, event).await?;
    Ok(Some(without_cost_updates(handled)))
}
