//! A charging-station simulator for OCPP 2.0.1 and 1.6J ([`station16`]).
//!
//! - [`station`]: one simulated station's connection: ws or wss (TLS options down to the cipher
//!   suite and protocol version, client certificates), HTTP Basic, and typed OCPP calls in both
//!   directions. Every answer the CSMS gives is checked against the official schema.
//! - [`octt`]: the OCTT CSMS test cases (OCPP 2.0.1 Part 6) as scenarios, run against any CSMS
//!   described by a [`octt::Target`] — unicharge's own conformance suite, and a tool for anyone
//!   testing a CSMS (`unicharge-sim`).
//! - [`device`]: a station that downloads firmware and uploads logs over real HTTP, for
//!   served files, log uploads and rollout campaigns.
//! - [`efc`]: an ISO 17575-1 front end (OBE) simulator for road-usage charging back ends.

pub mod device;
pub mod diameter;
pub mod diameter_ro;
pub mod diameter_tls;
pub mod efc;
pub mod load;
pub mod octt;
pub mod station;
pub mod station16;
pub mod tls;

pub use station::{ConnectError, ConnectOptions, DeviceDataLimits, SimError, Station};
