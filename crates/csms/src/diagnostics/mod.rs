//! Functional block N, Diagnostics: event notifications (N07 alert, N08 periodic). Logs,
//! monitoring and customer information arrive with later issues.

pub mod notify_event;
