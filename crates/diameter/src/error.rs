//! Result codes (RFC 6733 §7.1, RFC 8506 §9) and decode errors carrying what the answer needs.

use crate::avp::Avp;
use crate::header::Header;

/// Result-Code values used by this crate.
pub mod result_code {
    pub const DIAMETER_SUCCESS: u32 = 2001;
    pub const DIAMETER_LIMITED_SUCCESS: u32 = 2002;
    // Protocol errors (3xxx): answered with the E bit.
    pub const DIAMETER_COMMAND_UNSUPPORTED: u32 = 3001;
    pub const DIAMETER_UNABLE_TO_DELIVER: u32 = 3002;
    pub const DIAMETER_REALM_NOT_SERVED: u32 = 3003;
    pub const DIAMETER_TOO_BUSY: u32 = 3004;
    pub const DIAMETER_APPLICATION_UNSUPPORTED: u32 = 3007;
    pub const DIAMETER_INVALID_HDR_BITS: u32 = 3008;
    pub const DIAMETER_INVALID_AVP_BITS: u32 = 3009;
    pub const DIAMETER_UNKNOWN_PEER: u32 = 3010;
    // Transient failures (4xxx).
    pub const DIAMETER_UNABLE_TO_COMPLY: u32 = 5012;
    // Permanent failures (5xxx).
    pub const DIAMETER_AVP_UNSUPPORTED: u32 = 5001;
    pub const DIAMETER_UNKNOWN_SESSION_ID: u32 = 5002;
    pub const DIAMETER_AUTHORIZATION_REJECTED: u32 = 5003;
    pub const DIAMETER_INVALID_AVP_VALUE: u32 = 5004;
    pub const DIAMETER_MISSING_AVP: u32 = 5005;
    pub const DIAMETER_AVP_OCCURS_TOO_MANY_TIMES: u32 = 5009;
    pub const DIAMETER_NO_COMMON_APPLICATION: u32 = 5010;
    pub const DIAMETER_UNSUPPORTED_VERSION: u32 = 5011;
    pub const DIAMETER_INVALID_AVP_LENGTH: u32 = 5014;
    pub const DIAMETER_INVALID_MESSAGE_LENGTH: u32 = 5015;

    /// 3xxx codes are protocol errors: the answer carries the E bit (RFC 6733 §7.1.3).
    pub fn is_protocol_error(code: u32) -> bool {
        (3000..4000).contains(&code)
    }
}

/// A problem with one AVP: the Result-Code to answer with and the Failed-AVP to include.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Result-Code {result_code}: {reason}")]
pub struct AvpError {
    pub result_code: u32,
    pub failed_avp: Option<Avp>,
    pub reason: &'static str,
}

impl AvpError {
    pub fn new(result_code: u32, failed_avp: Option<Avp>, reason: &'static str) -> Self {
        AvpError {
            result_code,
            failed_avp,
            reason,
        }
    }
}

/// A framed message that could not be decoded. The stream stays in sync (the frame's length
/// was consumed), so the receiver answers it ([`crate::Message::error_answer`]) and reads on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("message {}/{} rejected: {error}", header.command_code, header.hop_by_hop)]
pub struct MessageError {
    pub header: Header,
    /// Session-Id found by a lenient scan of the top level, for the error answer.
    pub session_id: Option<String>,
    pub error: AvpError,
}

/// The byte stream cannot be framed any more: the peer connection must be closed
/// (RFC 6733 gives no way to resynchronise a stream after a bad Message Length).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("Message Length {0} is shorter than the 20-octet header")]
    TooShort(u32),
    #[error("Message Length {0} exceeds the limit of {1} octets")]
    TooLong(u32, u32),
}
