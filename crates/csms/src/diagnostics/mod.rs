//! Functional block N, Diagnostics: event notifications (N07 alert, N08 periodic) and the
//! status of log uploads (N01). Requesting logs, monitoring and customer information arrive
//! with later issues.

pub mod log_status;
pub mod notify_event;
