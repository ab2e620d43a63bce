//! OCPP 2.0.1 on the wire, and nothing else: no sockets, no storage.
//!
//! - [`frame`]: OCPP-J RPC framing (`CALL`, `CALLRESULT`, `CALLERROR`), strict about Part 4.
//! - [`error_code`]: the OCPP-J error codes a `CALLERROR` may carry.
//! - [`schema`]: validation of every payload, in both directions, against the official
//!   OCPP 2.0.1 JSON schemas carried unmodified in `schemas/v201/` (see its NOTICE).
//! - [`peer_text`]: peer-supplied text bounded and escaped for log lines and error texts.
//! - [`v201`]: typed messages for all 64 actions, generated from those schemas
//!   (`cargo xtask codegen-ocpp`).
//!
//! The split follows hickory-dns (`proto` vs server): the CSMS, the simulator and later the
//! roaming bridge all speak OCPP through this crate.

pub mod error_code;
pub mod frame;
pub mod peer_text;
pub mod schema;
pub mod v201;

pub use error_code::ErrorCode;
pub use frame::{Frame, FrameError, MessageId};
pub use schema::{Direction, SchemaViolation, Validator};

/// The WebSocket subprotocol name of OCPP 2.0.1 (Part 4, section 3.1.2).
pub const SUBPROTOCOL_V201: &str = "ocpp2.0.1";
