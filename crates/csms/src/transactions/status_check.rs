//! E14 Check transaction status: GetTransactionStatus, asked by an operator
//! ([`get_transaction_status`]) or by the CSMS after a station's Accepted boot
//! ([`after_accepted_boot`]).
//!
//! Once a station is Accepted on a connection — its last boot was Accepted and it reconnected, or
//! it boots and is Accepted — the CSMS asks about each transaction it holds open (and each with
//! seqNo gaps, whose missing events may still be queued) whether it is ongoing and whether the
//! station holds queued messages for it (E14.FR.02/04/06). When the station answers that an open
//! transaction is neither ongoing nor has anything queued, its Ended event is lost: the
//! transaction is marked (`station_forgot_at`, shown to the operator) and not asked about again,
//! instead of on every reconnection forever.

use chrono::{DateTime, Utc};
use unicharge_core::{RegistrationStatus, StationId};
use unicharge_ocpp::v201::{GetTransactionStatusRequest, GetTransactionStatusResponse};

use crate::config::TransactionStatusCheck;
use crate::request::{OpError, Requester};
use crate::Csms;

/// How many of a station's newest transactions the reconnection check looks at.
const CHECKED_TRANSACTIONS: u32 = 1000;

/// Ask the station about one transaction (`Some`) or only whether messages are queued (`None`).
pub async fn get_transaction_status(
    csms: &Csms,
    station: &StationId,
    transaction_id: Option<String>,
    by: &Requester,
) -> Result<GetTransactionStatusResponse, OpError> {
    csms.registered(station).await?;
    let request = GetTransactionStatusRequest {
        custom_data: None,
        transaction_id,
    };
    csms.request(station, &request, by).await
}

/// The check for an Accepted station, as configured (`transaction_status_check`), about the
/// transactions already known when its connection began at `connected_at`.
pub async fn after_accepted_boot(csms: &Csms, station: &StationId, connected_at: DateTime<Utc>) {
    let mode = csms.config().transaction_status_check;
    if mode == TransactionStatusCheck::Off {
        return;
    }
    let delay = csms.config().transaction_status_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    // Only a station that is (still) Accepted is asked: a reboot during the delay may have
    // been answered Pending or Rejected.
    match csms.store().get_station(station).await {
        Ok(Some(s)) if s.last_boot_status == Some(RegistrationStatus::Accepted) => {}
        Ok(_) => return,
        Err(e) => {
            tracing::error!(station = %station, error = %e, "cannot read the station for the reconnection check");
            return;
        }
    }
    let transactions = match csms
        .store()
        .transactions(station, CHECKED_TRANSACTIONS)
        .await
    {
        Ok(list) => list,
        Err(e) => {
            tracing::error!(station = %station, error = %e, "cannot read transactions for the reconnection check");
            return;
        }
    };
    let candidates = transactions
        .into_iter()
        .filter(|t| t.station_forgot_at.is_none())
        .filter(|t| t.ended_at.is_none() || !t.seq_no_gaps.is_empty());
    let mut asked: Vec<(String, bool)> = Vec::new();
    for t in candidates {
        // Only what the CSMS knew before this connection: a transaction started on it is
        // running under the station's eyes and has nothing queued.
        if known_before(csms, station, &t.transaction_id, connected_at).await {
            asked.push((t.transaction_id, t.ended_at.is_none()));
        }
    }
    if asked.is_empty() {
        return;
    }
    let requests: Vec<Option<(String, bool)>> = match mode {
        TransactionStatusCheck::PerTransaction => asked.into_iter().map(Some).collect(),
        TransactionStatusCheck::Station => vec![None],
        TransactionStatusCheck::Off => Vec::new(),
    };
    for asked in requests {
        let transaction_id = asked.as_ref().map(|(id, _)| id.clone());
        match get_transaction_status(csms, station, transaction_id.clone(), &Requester::Csms).await
        {
            Ok(answer) => {
                metrics::counter!("ocpp_transaction_status_checks_total").increment(1);
                tracing::info!(station = %station, transaction = transaction_id.as_deref().unwrap_or("-"),
                    ongoing = ?answer.ongoing_indicator, queued = answer.messages_in_queue,
                    "GetTransactionStatus answered");
                if let Some((id, open)) = asked {
                    if open && answer.ongoing_indicator == Some(false) && !answer.messages_in_queue
                    {
                        forgotten(csms, station, &id).await;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(station = %station, transaction = transaction_id.as_deref().unwrap_or("-"),
                    "GetTransactionStatus failed: {e}");
                return;
            }
        }
    }
}

/// Whether the first event of a transaction was received before `connected_at`.
async fn known_before(
    csms: &Csms,
    station: &StationId,
    transaction_id: &str,
    connected_at: DateTime<Utc>,
) -> bool {
    match csms
        .store()
        .transaction_events(station, transaction_id)
        .await
    {
        Ok(events) => events.iter().any(|e| e.received_at < connected_at),
        Err(e) => {
            tracing::error!(station = %station, error = %e, "cannot read a transaction's events");
            false
        }
    }
}

/// The station no longer knows an open transaction and holds nothing of it.
async fn forgotten(csms: &Csms, station: &StationId, transaction_id: &str) {
    metrics::counter!("ocpp_transactions_forgotten_total").increment(1);
    tracing::warn!(station = %station, transaction = transaction_id,
        "the station reports this open transaction as not ongoing with nothing queued: its Ended event is lost; marked for the operator");
    if let Err(e) = csms
        .store()
        .mark_transaction_forgotten(station, transaction_id, Utc::now())
        .await
    {
        tracing::error!(station = %station, error = %e, "could not mark the transaction");
    }
}
