//! OCPP-J `CALLERROR` error codes (OCPP 2.0.1 Part 4, section 4.3).

use std::fmt;
use std::str::FromStr;

/// Why a `CALL` could not be answered with a `CALLRESULT`.
///
/// The 2.0.1 spelling is used: `OccurrenceConstraintViolation` (OCPP 1.6 wrote "Occurence").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Payload for the action is syntactically incorrect.
    FormatViolation,
    /// Any other error not covered by the more specific codes.
    GenericError,
    /// An internal error occurred and the receiver could not process the action.
    InternalError,
    /// A message with a MessageTypeId the receiver does not know.
    MessageTypeNotSupported,
    /// The requested action is not known by the receiver.
    NotImplemented,
    /// The requested action is recognised but not supported by the receiver.
    NotSupported,
    /// Payload is syntactically correct but at least one field violates an occurrence constraint.
    OccurrenceConstraintViolation,
    /// Payload is syntactically correct but at least one field violates a data-type constraint.
    PropertyConstraintViolation,
    /// Payload for the action is not conform the PDU structure.
    ProtocolError,
    /// Content of the call is not a valid RPC request, e.g. the MessageId could not be read.
    RpcFrameworkError,
    /// During processing of the action a security issue occurred.
    SecurityError,
    /// Payload is syntactically correct but at least one field violates a data-type constraint
    /// (e.g. "somestring": 12).
    TypeConstraintViolation,
}

impl ErrorCode {
    /// Every code, in the order Part 4 lists them.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::FormatViolation,
        ErrorCode::GenericError,
        ErrorCode::InternalError,
        ErrorCode::MessageTypeNotSupported,
        ErrorCode::NotImplemented,
        ErrorCode::NotSupported,
        ErrorCode::OccurrenceConstraintViolation,
        ErrorCode::PropertyConstraintViolation,
        ErrorCode::ProtocolError,
        ErrorCode::RpcFrameworkError,
        ErrorCode::SecurityError,
        ErrorCode::TypeConstraintViolation,
    ];

    /// The code as it is written on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::FormatViolation => "FormatViolation",
            ErrorCode::GenericError => "GenericError",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::MessageTypeNotSupported => "MessageTypeNotSupported",
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::NotSupported => "NotSupported",
            ErrorCode::OccurrenceConstraintViolation => "OccurrenceConstraintViolation",
            ErrorCode::PropertyConstraintViolation => "PropertyConstraintViolation",
            ErrorCode::ProtocolError => "ProtocolError",
            ErrorCode::RpcFrameworkError => "RpcFrameworkError",
            ErrorCode::SecurityError => "SecurityError",
            ErrorCode::TypeConstraintViolation => "TypeConstraintViolation",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error code string that is not one of the twelve OCPP-J codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown OCPP-J error code {0:?}")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_name() {
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        }
        assert!("OccurenceConstraintViolation".parse::<ErrorCode>().is_err());
    }
}
