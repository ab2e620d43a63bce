//! TransactionEvent (E01–E15): stored, then answered — with `idTokenInfo` when the event carries
//! an idToken (E01.FR.?? / C01: the CSMS authorizes the token presented in the transaction).
//! A retransmission (same message id and payload) gets the stored answer; the same seqNo
//! arriving again under another message id is not counted twice (the store ignores it).

use chrono::Utc;
use unicharge_ocpp::v201::{TransactionEventRequest, TransactionEventResponse};
use unicharge_store::{TransactionEventRecord, Write};

use crate::authorization::id_token_info;
use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: TransactionEventRequest,
) -> Result<Handled<TransactionEventResponse>, CallRefusal> {
    let info = match &req.id_token {
        Some(token) => Some(id_token_info(ctx, token).await?),
        None => None,
    };
    let tx = &req.transaction_info;
    tracing::info!(station = %ctx.station_id, transaction = %tx.transaction_id, seq_no = req.seq_no,
        event = req.event_type.as_str(), trigger = req.trigger_reason.as_str(), "TransactionEvent");
    let record = TransactionEventRecord {
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
        received_at: Utc::now(),
    };
    Ok(Handled::durable(
        TransactionEventResponse {
            custom_data: None,
            total_cost: None,
            charging_priority: None,
            id_token_info: info,
            updated_personal_message: None,
        },
        vec![Write::TransactionEvent(record)],
    ))
}
