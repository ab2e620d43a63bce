//! OCPP 2.0.1 and OCPP 1.6 on the wire, and nothing else: no sockets, no storage.
//!
//! - [`frame`]: OCPP-J RPC framing (`CALL`, `CALLRESULT`, `CALLERROR`), strict about Part 4.
//! - [`error_code`]: the OCPP-J error codes a `CALLERROR` may carry.
//! - [`schema`]: validation of every payload, in both directions, against the official
//!   OCPP 2.0.1 JSON schemas carried unmodified in `schemas/v201/` (see its NOTICE).
//! - [`peer_text`]: peer-supplied text bounded and escaped for log lines and error texts.
//! - [`v201`]: typed messages for all 64 actions, generated from those schemas
//!   (`cargo xtask codegen-ocpp`).
//! - [`v16`]: OCPP 1.6J: typed messages for the 28 core-profile actions and the 11 security
//!   whitepaper actions, their validation and the OCPP-J 1.6 error codes. Framing is shared:
//!   [`OcppVersion`] says which protocol a frame belongs to.
//!
//! The split follows hickory-dns (`proto` vs server): the CSMS, the simulator and later the
//! roaming bridge all speak OCPP through this crate.

pub mod error_code;
pub mod frame;
pub mod peer_text;
pub mod schema;
pub mod v16;
pub mod v201;

pub use error_code::ErrorCode;
pub use frame::{Frame, FrameError, MessageId};
pub use schema::{Direction, SchemaViolation, Validator};

/// The WebSocket subprotocol name of OCPP 2.0.1 (Part 4, section 3.1.2).
pub const SUBPROTOCOL_V201: &str = "ocpp2.0.1";

/// The WebSocket subprotocol name of OCPP 1.6 (OCPP-J 1.6, section 3.1.2).
pub const SUBPROTOCOL_V16: &str = v16::SUBPROTOCOL;

/// The OCPP version a connection (and so each of its frames) speaks, chosen by the WebSocket
/// subprotocol. The OCPP-J framing is the same for both; payload schemas, actions and the
/// spelling of error codes differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OcppVersion {
    /// OCPP 1.6J, subprotocol `ocpp1.6`.
    V16,
    /// OCPP 2.0.1, subprotocol `ocpp2.0.1`.
    V201,
}

impl OcppVersion {
    /// Every version, oldest first.
    pub const ALL: [OcppVersion; 2] = [OcppVersion::V16, OcppVersion::V201];

    /// The WebSocket subprotocol name.
    pub const fn subprotocol(self) -> &'static str {
        match self {
            OcppVersion::V16 => SUBPROTOCOL_V16,
            OcppVersion::V201 => SUBPROTOCOL_V201,
        }
    }

    /// The version of a subprotocol name (exact, as offered in `Sec-WebSocket-Protocol`).
    pub fn from_subprotocol(name: &str) -> Option<OcppVersion> {
        OcppVersion::ALL
            .into_iter()
            .find(|v| v.subprotocol() == name)
    }

    /// The version as people write it: `"1.6"`, `"2.0.1"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OcppVersion::V16 => "1.6",
            OcppVersion::V201 => "2.0.1",
        }
    }
}

impl std::fmt::Display for OcppVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
