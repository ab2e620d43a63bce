//! Functional block B, Provisioning: booting (B01–B04) and reports (B07, B08). Device model
//! reads and writes, resets and network profiles are operator operations (crate `api`).

pub mod boot_notification;
pub mod first_boot;
pub mod notify_report;
