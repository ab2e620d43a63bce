//! Functional block E, Transactions: every TransactionEvent is stored durably before its answer,
//! keyed by (station, transactionId); a transaction first seen through an Updated or Ended event
//! is created from it and flagged; seqNo gaps are kept (events still queued at the station);
//! after an Accepted boot the CSMS asks for the status of ongoing transactions (E14,
//! [`status_check`], also the operator's GetTransactionStatus). Cost and the charge record are
//! computed here with the core's rating (block I).

pub mod cost;
pub mod status_check;
pub mod transaction_event;

/// How many of a station's newest transactions are searched for ongoing ones: more than a
/// station has EVSEs by far, while a long-forgotten open transaction is E14's business.
const ONGOING_WINDOW: u32 = 1000;

/// The station's ongoing transactions: not ended, and not forgotten by the station (E14).
/// What smart charging needs to know which EVSEs charge now.
pub async fn ongoing(
    store: &dyn unicharge_store::Store,
    station: &unicharge_core::StationId,
) -> Result<Vec<unicharge_store::TransactionRecord>, unicharge_store::StoreError> {
    Ok(store
        .transactions(station, ONGOING_WINDOW)
        .await?
        .into_iter()
        .filter(|t| t.ended_at.is_none() && t.station_forgot_at.is_none())
        .collect())
}
