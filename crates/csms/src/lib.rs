//! The OCPP 2.0.1 Charging Station Management System.
//!
//! - [`listener`]: the ws / wss front door; [`handshake`] does the HTTP upgrade and decides,
//!   per security profile, whether a station may in.
//! - [`connection`]: one task per station connection, owning its socket, its outstanding CSMS
//!   call and its pings ([`registry`] finds that task for CSMS-initiated calls).
//! - [`dispatch`]: incoming CALLs → schema check → retransmission check → handler →
//!   durable write → answer.
//! - Handlers live in one module per OCPP functional block: [`security`] (A),
//!   [`provisioning`] (B), [`authorization`] (C), [`transactions`] (E), [`availability`] (G),
//!   [`reservation`] (H), [`metering`] (J), [`firmware`] (L), [`diagnostics`] (N),
//!   [`data_transfer`] (P). Actions of blocks not written yet answer `NotSupported`.
//! - [`outbound`]: calls the CSMS makes on its own, logged like the operator's.

pub mod authorization;
pub mod availability;
pub mod config;
pub mod connection;
pub mod csms;
pub mod data_transfer;
pub mod diagnostics;
pub mod dispatch;
pub mod firmware;
pub mod handshake;
pub mod listener;
pub mod metering;
pub mod outbound;
pub mod provisioning;
pub mod registry;
pub mod reservation;
pub mod security;
pub mod transactions;

pub use config::{CsmsConfig, ServerCertConfig, TlsConfig, UnknownStationPolicy};
pub use connection::{CallFailure, CallOutcome};
pub use csms::{Csms, RunningCsms};
