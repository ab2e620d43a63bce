//! E14: after a station (re)connects while the store holds transactions of it that have not
//! ended, ask whether they are still ongoing and whether the station holds queued messages
//! for them (it may have been offline: E14.FR.02/04/06). The answers are logged (command log)
//! and the operator sees the queued events arrive as offline TransactionEvents.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use unicharge_core::StationId;
use unicharge_store::Store;

use crate::config::TransactionStatusCheck;
use crate::connection::ConnectionHandle;
use crate::outbound::call_logged;

/// Start the check in the background (it waits `delay` first).
pub fn spawn(
    connection: ConnectionHandle,
    store: Arc<dyn Store>,
    mode: TransactionStatusCheck,
    delay: Duration,
) {
    if mode == TransactionStatusCheck::Off {
        return;
    }
    tokio::spawn(async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        check(&connection, &store, mode).await;
    });
}

async fn check(
    connection: &ConnectionHandle,
    store: &Arc<dyn Store>,
    mode: TransactionStatusCheck,
) {
    let station: &StationId = &connection.station_id;
    let ongoing: Vec<String> = match store.transactions(station, 1000).await {
        Ok(list) => list
            .into_iter()
            .filter(|t| t.ended_at.is_none())
            .map(|t| t.transaction_id)
            .collect(),
        Err(e) => {
            tracing::error!(station = %station, error = %e, "cannot read transactions for the reconnect check");
            return;
        }
    };
    if ongoing.is_empty() {
        return;
    }
    let requests: Vec<serde_json::Value> = match mode {
        TransactionStatusCheck::PerTransaction => ongoing
            .iter()
            .map(|tx| json!({ "transactionId": tx }))
            .collect(),
        TransactionStatusCheck::Station => vec![json!({})],
        TransactionStatusCheck::Off => Vec::new(),
    };
    for request in requests {
        let transaction = request["transactionId"].as_str().unwrap_or("-").to_string();
        match call_logged(connection, store, "GetTransactionStatus", request).await {
            Ok(answer) => {
                tracing::info!(station = %station, transaction = %transaction,
                    ongoing = ?answer.get("ongoingIndicator"), queued = ?answer.get("messagesInQueue"),
                    "GetTransactionStatus answered");
                metrics::counter!("ocpp_transaction_status_checks_total").increment(1);
            }
            Err(e) => {
                tracing::warn!(station = %station, transaction = %transaction, error = %e,
                    "GetTransactionStatus failed");
                return;
            }
        }
    }
}
