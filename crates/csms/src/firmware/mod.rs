//! Functional block L, Firmware management. Today: the station's FirmwareStatusNotification
//! (L01) is answered and kept (also what TriggerMessage FirmwareStatusNotification brings, F06).
//! Update and publish firmware requests arrive with the firmware issue.

pub mod firmware_status;
