//! TransactionEvent (E01–E15, J, I02/I03): stored, then answered.
//!
//! - The idToken it carries is authorized (C01): `idTokenInfo` in the answer.
//! - Its meterValue samples join the transaction's time series (J02); a register that goes
//!   backwards is stored and flagged, never billed negative.
//! - The remoteStartId (F01/F02) and reservationId (H03) it carries are linked to the
//!   transaction; the reservation is then Used.
//! - The tariff is fixed once the transaction has a driver (the first event with, or after, an
//!   idToken); until then the station's / EVSE's tariff prices it provisionally.
//! - The running cost goes in `totalCost` (I02, configurable: or in a CostUpdatedRequest after
//!   periodic meter updates); the Ended answer always carries the final cost (I03; 0 when no
//!   tariff applies: charging is free), and the charge record is committed with that answer.
//!
//! A retransmission (same message id and payload) gets the stored answer; the same seqNo
//! arriving again under another message id is not counted twice (the store ignores it, and its
//! samples are the same rows).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use unicharge_core::rating::rate;
use unicharge_ocpp::v201::{
    CostUpdatedRequest, TransactionEventEnumType, TransactionEventRequest,
    TransactionEventResponse, TriggerReasonEnumType,
};
use unicharge_store::{TransactionEventRecord, TransactionFacts, Write};

use super::cost::{self, Party};
use crate::authorization::id_token_info;
use crate::config::RunningCost;
use crate::dispatch::{internal, CallRefusal, Handled, StationContext};
use crate::effects::Effect;
use crate::facts::Fact;
use crate::metering;

pub async fn handle(
    ctx: &mut StationContext,
    mut req: TransactionEventRequest,
) -> Result<Handled<TransactionEventResponse>, CallRefusal> {
    let info = match &req.id_token {
        Some(token) => Some(id_token_info(ctx, token).await?),
        None => None,
    };
    let tx = &req.transaction_info;
    tracing::debug!(station = %ctx.station_id, transaction = %tx.transaction_id, seq_no = req.seq_no,
        event = req.event_type.as_str(), trigger = req.trigger_reason.as_str(),
        offline = req.offline.unwrap_or(false), "TransactionEvent");
    let store = ctx.store.clone();
    let existing = store
        .transaction(&ctx.station_id, &tx.transaction_id)
        .await
        .map_err(internal)?;
    let evse_id = req
        .evse
        .as_ref()
        .map(|e| e.id)
        .or(existing.as_ref().and_then(|t| t.evse_id));
    let group = info
        .as_ref()
        .and_then(|i| i.group_id_token.as_ref())
        .map(|g| g.id_token.clone())
        .or(existing.as_ref().and_then(|t| t.group_id_token.clone()));
    let has_driver =
        req.id_token.is_some() || existing.as_ref().is_some_and(|t| t.id_token.is_some());

    // The tariff: fixed on the transaction once it has a driver, provisional before.
    let fixed = match existing.as_ref().and_then(|t| t.tariff_id.as_deref()) {
        Some(id) => cost::by_id(store.as_ref(), id).await?,
        None => None,
    };
    let (tariff, fix_now) = match fixed {
        Some(t) => (Some(t), false),
        None => {
            let at = existing.as_ref().map_or(req.timestamp, |t| t.started_at);
            let picked = cost::select(
                store.as_ref(),
                &ctx.station_id,
                evse_id,
                group.as_deref(),
                at,
            )
            .await?;
            (picked, has_driver)
        }
    };

    let samples = metering::samples(
        &ctx.station_id,
        evse_id.unwrap_or(0),
        Some(&tx.transaction_id),
        req.meter_value.as_deref().unwrap_or_default(),
        "TransactionEvent",
    );
    let ended = req.event_type == TransactionEventEnumType::Ended;
    // An event arriving after the Ended one (queued offline, E14/E31) completes the record.
    let finished = ended || existing.as_ref().is_some_and(|t| t.ended_at.is_some());
    // The same seqNo under another message id: one keyed lookup, not a read of every event.
    let duplicate = match existing {
        Some(_) => store
            .transaction_event_seen(&ctx.station_id, &tx.transaction_id, req.seq_no)
            .await
            .map_err(internal)?,
        None => false,
    };

    // Cost: final on Ended (0 when free), running otherwise when a tariff applies; priced from
    // the transaction's running aggregate (one row) with this event folded in.
    let mut total_cost: Option<Decimal> = None;
    let mut writes = Vec::new();
    let wants_cost = finished || tariff.is_some();
    let until = last_moment(
        existing.as_ref().and_then(|t| t.ended_at),
        req.timestamp,
        ended,
    );
    let current = cost::CurrentEvent {
        seq_no: req.seq_no,
        timestamp: req.timestamp,
        samples: &samples,
        charging_state: tx.charging_state.map(|s| s.as_str()),
        duplicate,
    };
    let usage = if wants_cost {
        Some(
            cost::usage_until(
                store.as_ref(),
                &ctx.station_id,
                existing.as_ref(),
                &current,
                until,
            )
            .await?,
        )
    } else {
        None
    };
    if let (Some(tariff), Some(usage)) = (&tariff, &usage) {
        total_cost = Some(rate(tariff, usage).total_incl_vat);
    }
    if ended {
        total_cost = Some(total_cost.unwrap_or(Decimal::ZERO));
    }

    // The samples are stored once, as meter values (above): not again inside the event.
    let sampled = req.meter_value.take();
    writes.push(Write::TransactionEvent(TransactionEventRecord {
        station_id: ctx.station_id.clone(),
        transaction_id: tx.transaction_id.clone(),
        seq_no: req.seq_no,
        event_type: req.event_type.as_str().to_string(),
        trigger_reason: req.trigger_reason.as_str().to_string(),
        timestamp: req.timestamp,
        offline: req.offline.unwrap_or(false),
        evse_id: req.evse.as_ref().map(|e| e.id),
        connector_id: req.evse.as_ref().and_then(|e| e.connector_id),
        id_token: req.id_token.as_ref().map(|t| t.id_token.clone()),
        charging_state: tx.charging_state.map(|s| s.as_str().to_string()),
        stopped_reason: tx.stopped_reason.map(|s| s.as_str().to_string()),
        data: serde_json::to_string(&req).map_err(internal)?,
        meter_values: sampled.as_ref().map_or(0, |m| m.len() as i64),
        received_at: Utc::now(),
    }));
    writes.push(Write::TransactionFacts(TransactionFacts {
        station_id: ctx.station_id.clone(),
        transaction_id: tx.transaction_id.clone(),
        id_token_type: req.id_token.as_ref().map(|t| t.r#type.as_str().to_string()),
        group_id_token: group.clone(),
        remote_start_id: tx.remote_start_id,
        reservation_id: req.reservation_id,
        tariff_id: tariff
            .as_ref()
            .filter(|_| fix_now || ended)
            .map(|t| t.id.clone()),
    }));
    if !duplicate {
        writes.extend(samples.into_iter().map(|s| Write::MeterValue(Box::new(s))));
    }
    if finished {
        if let Some(usage) = usage {
            let party = Party {
                station_id: ctx.station_id.clone(),
                transaction_id: tx.transaction_id.clone(),
                evse_id,
                connector_id: req
                    .evse
                    .as_ref()
                    .and_then(|e| e.connector_id)
                    .or(existing.as_ref().and_then(|t| t.connector_id)),
                id_token: existing
                    .as_ref()
                    .and_then(|t| t.id_token.clone())
                    .or(req.id_token.as_ref().map(|t| t.id_token.clone())),
                id_token_type: existing
                    .as_ref()
                    .and_then(|t| t.id_token_type.clone())
                    .or(req.id_token.as_ref().map(|t| t.r#type.as_str().to_string())),
                group_id_token: group.clone(),
                stopped_reason: tx
                    .stopped_reason
                    .map(|s| s.as_str().to_string())
                    .or(existing.as_ref().and_then(|t| t.stopped_reason.clone())),
            };
            let started_at = cost::session_start(existing.as_ref(), req.timestamp);
            let record = cost::record(party, usage, started_at, until, tariff.as_ref());
            tracing::info!(station = %ctx.station_id, transaction = %tx.transaction_id,
                energy_wh = %record.usage.energy_wh,
                total = %record.cost.as_ref().map(|c| format!("{} {}", c.total_incl_vat, c.currency)).unwrap_or_else(|| "free".into()),
                "charge record");
            writes.push(Write::ChargeRecord(Box::new(record)));
        }
    }

    // I02 by CostUpdatedRequest: after the answer to a periodic / clock-aligned update.
    let mut response_cost = total_cost;
    if !ended && ctx.config.running_cost != RunningCost::InResponse {
        response_cost = None;
    }
    let periodic = matches!(
        req.trigger_reason,
        TriggerReasonEnumType::MeterValuePeriodic | TriggerReasonEnumType::MeterValueClock
    );
    let cost_update = (!ended && periodic && ctx.config.running_cost == RunningCost::CostUpdated)
        .then_some(total_cost)
        .flatten()
        .map(|total| {
            Effect::CostUpdated(CostUpdatedRequest {
                custom_data: None,
                total_cost: total,
                transaction_id: tx.transaction_id.clone(),
            })
        });
    let facts = facts(ctx, &req, existing.is_none(), ended, response_cost, &writes);

    let mut handled = Handled::durable(
        TransactionEventResponse {
            custom_data: None,
            total_cost: response_cost,
            charging_priority: None,
            id_token_info: info,
            updated_personal_message: None,
        },
        writes,
    );
    handled.facts = facts;
    // I02 by CostUpdatedRequest: sent after the answer to a periodic / clock-aligned update.
    if let Some(effect) = cost_update {
        handled = handled.with_effect(effect);
    }
    Ok(handled)
}

/// What this event makes true once committed: a transaction started (first event seen),
/// updated, or ended, and a charge record created.
fn facts(
    ctx: &StationContext,
    req: &TransactionEventRequest,
    first_seen: bool,
    ended: bool,
    total_cost: Option<Decimal>,
    writes: &[Write],
) -> Vec<Fact> {
    let station = ctx.station_id.clone();
    let transaction_id = req.transaction_info.transaction_id.clone();
    let mut facts = Vec::new();
    if first_seen {
        facts.push(Fact::TransactionStarted {
            station: station.clone(),
            transaction_id: transaction_id.clone(),
            evse_id: req.evse.as_ref().map(|e| e.id),
            id_token: req.id_token.as_ref().map(|t| t.id_token.clone()),
            phases_used: req.number_of_phases_used,
        });
    }
    if ended {
        facts.push(Fact::TransactionEnded {
            station: station.clone(),
            transaction_id: transaction_id.clone(),
            stopped_reason: req
                .transaction_info
                .stopped_reason
                .map(|s| s.as_str().to_string()),
        });
    } else if !first_seen {
        facts.push(Fact::TransactionUpdated {
            station: station.clone(),
            transaction_id: transaction_id.clone(),
            seq_no: req.seq_no,
            total_cost,
            phases_used: req.number_of_phases_used,
            trigger_reason: req.trigger_reason,
        });
    }
    if writes.iter().any(|w| matches!(w, Write::ChargeRecord(_))) {
        facts.push(Fact::ChargeRecordCreated {
            record_id: format!("{station}:{transaction_id}"),
            station,
            transaction_id,
        });
    }
    facts
}

/// Up to when a transaction is priced: its end once it has one (a late offline Updated event
/// does not extend it), else the event's time.
fn last_moment(
    stored_end: Option<DateTime<Utc>>,
    event_time: DateTime<Utc>,
    ended: bool,
) -> DateTime<Utc> {
    match stored_end {
        Some(end) if !ended => end,
        _ => event_time,
    }
}
