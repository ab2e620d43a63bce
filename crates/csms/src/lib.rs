//! The OCPP 2.0.1 Charging Station Management System.
//!
//! - [`listener`]: the ws / wss front door; [`handshake`] does the HTTP upgrade and decides,
//!   per security profile, whether a station may in.
//! - [`connection`]: one task per station connection, owning its socket, its outstanding CSMS
//!   call and its pings ([`registry`] finds that task for CSMS-initiated calls).
//! - [`dispatch`]: incoming CALLs → schema check → retransmission check → handler →
//!   durable write → answer.
//! - Each OCPP functional block lives in one module with both directions — the handlers of what
//!   stations send and the typed operations the CSMS starts: [`security`] (A),
//!   [`provisioning`] (B), [`authorization`] (C), [`local_auth_list`] (D), [`transactions`] (E),
//!   [`remote_control`] (F), [`availability`] (G), [`reservation`] (H), [`metering`] (J),
//!   [`smart_charging`] (K),
//!   [`certificate_management`] (M), [`display`] (O),
//!   [`firmware`] (L), [`diagnostics`] (N), [`data_transfer`] (P). Actions of blocks not
//!   written yet answer `NotSupported`. The REST API, the CLI and later OCPI, smart
//!   charging and firmware campaigns call the same operations.
//! - [`request`]: the one send path of every CSMS-initiated call ([`Csms::request`]), with who
//!   asked ([`Requester`]) and one error vocabulary ([`OpError`]).
//! - [`effects`]: follow-up calls a handler wants, run after its answer is committed and sent;
//!   [`facts`]: what became true, published after the commit to in-process subscribers.

pub mod authorization;
pub mod availability;
pub mod certificate_management;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod csms;
pub mod data_transfer;
pub mod diagnostics;
pub mod dispatch;
pub mod display;
pub mod effects;
pub mod facts;
pub mod firmware;
pub mod handshake;
pub mod listener;
pub mod local_auth_list;
pub mod metering;
pub mod provisioning;
pub mod registry;
pub mod remote_control;
pub mod request;
pub mod reservation;
pub mod security;
pub mod smart_charging;
pub mod station_turn;
pub mod tracked;
pub mod transactions;
pub mod v16;

pub use config::{CsmsConfig, ServerCertConfig, TlsConfig, UnknownStationPolicy};
pub use connection::{CallFailure, CallOutcome};
pub use csms::{Csms, RunningCsms};
pub use facts::Fact;
pub use request::{OpError, Requester};
