//! Functional block P, DataTransfer: vendor-specific messages (P01 from the CSMS, P02 from the
//! station). No vendor extensions are configured, so every vendorId is unknown to this CSMS.

// The block (P, DataTransfer) and its one action share the standard's name; each handler file
// is named after its action, as in the other blocks.
#[allow(clippy::module_inception)]
pub mod data_transfer;
