//! Functional block B, Provisioning: booting (B01–B04). Device model reads and writes, reports,
//! resets and network profiles arrive with the operator API.

pub mod boot_notification;
