//! Functional block B, Provisioning: booting (B01–B04, [`boot_notification`], the B02 Pending
//! flow in [`pending_boot`]), device model reads and writes (B05, B06, [`variables`], split to
//! the station's message limits by [`limits`]), reports (B07, B08: [`reports`] asks,
//! [`notify_report`] assembles), network profiles (B09) and resets (B11, B12). Incoming handlers and outgoing operations of the block live here together.

pub mod boot_notification;
pub mod limits;
pub mod network_profile;
pub mod notify_report;
pub mod pending_boot;
pub mod reports;
pub mod reset;
pub mod variables;
