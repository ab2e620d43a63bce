//! The OCPP load generator (`unicharge-sim load` and `unicharge-sim storm`).
//!
//! - [`mix`]: what a station sends — charging sessions (StatusNotification, Authorize,
//!   TransactionEvent Started / Updated with 8 sampled values / Ended, MeterValues) and
//!   Heartbeats, as typed OCPP requests written straight into a reused buffer.
//! - [`mix16`]: the same sessions as an OCPP 1.6J charge point plays them (`--ocpp16-percent`).
//! - [`schedule`]: when, at a fixed aggregate rate with a linear ramp (or closed loop).
//! - [`driver`]: the run: connect and boot, play, progress line, [`stats::Report`].
//! - [`storm`]: a reconnect storm: every station connects and boots as fast as allowed.
//! - [`stations`]: which stations (numbered or from a credentials CSV) and how they connect.
//!
//! `docs/load-testing.md` says how to run it and read its output.

pub mod connect;
pub mod driver;
pub mod mix;
pub mod mix16;
pub mod schedule;
pub mod stations;
pub mod stats;
pub mod storm;

pub use driver::{run, LoadPlan};
pub use mix::{Mix, Outgoing, Script};
pub use schedule::{Pace, Schedule};
pub use stations::{Endpoint, StationCredentials};
pub use stats::Report;
