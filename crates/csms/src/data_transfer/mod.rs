//! Functional block P, DataTransfer: vendor-specific messages (P01 from the CSMS, P02 from the
//! station). No vendor extensions are configured, so every vendorId is unknown to this CSMS.

pub mod data_transfer;
