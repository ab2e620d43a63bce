//! Functional block E, Transactions: every TransactionEvent is stored durably before its answer,
//! keyed by (station, transactionId); a transaction first seen through an Updated or Ended event
//! is created from it and flagged. Sequence-number gap detection, GetTransactionStatus after
//! reconnects and cost arrive with the rest of the money path.

pub mod transaction_event;
