//! Functional block E, Transactions: every TransactionEvent is stored durably before its answer,
//! keyed by (station, transactionId); a transaction first seen through an Updated or Ended event
//! is created from it and flagged; seqNo gaps are kept (events still queued at the station);
//! after an Accepted boot the CSMS asks for the status of ongoing transactions (E14,
//! [`status_check`], also the operator's GetTransactionStatus). Cost and the charge record are
//! computed here with the core's rating (block I).

pub mod cost;
pub mod status_check;
pub mod transaction_event;
