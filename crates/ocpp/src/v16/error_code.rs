//! OCPP-J 1.6 `CALLERROR` error codes (OCPP-J 1.6 specification, section 4.2.3, table
//! "Valid Error Codes").
//!
//! 1.6 has ten codes, two of them spelled differently from 2.0.1: `FormationViolation` (2.0.1:
//! `FormatViolation`) and `OccurenceConstraintViolation` (sic; 2.0.1:
//! `OccurrenceConstraintViolation`). 1.6 has no `RpcFrameworkError` and no
//! `MessageTypeNotSupported`. A 1.6 peer must get the 1.6 spelling: [`ErrorCode::from_v201`] says
//! which 1.6 code a 2.0.1-typed frame error becomes.

use std::fmt;
use std::str::FromStr;

use crate::ErrorCode as V201ErrorCode;

/// Why a 1.6 `CALL` could not be answered with a `CALLRESULT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Requested Action is not known by receiver.
    NotImplemented,
    /// Requested Action is recognized but not supported by the receiver.
    NotSupported,
    /// An internal error occurred and the receiver was not able to process the requested Action
    /// successfully.
    InternalError,
    /// Payload for Action is incomplete.
    ProtocolError,
    /// During the processing of Action a security issue occurred preventing receiver from
    /// completing the Action successfully.
    SecurityError,
    /// Payload for Action is syntactically incorrect or not conform the PDU structure for Action.
    FormationViolation,
    /// Payload is syntactically correct but at least one field contains an invalid value.
    PropertyConstraintViolation,
    /// Payload for Action is syntactically correct but at least one of the fields violates
    /// occurence constraints. Wire spelling `OccurenceConstraintViolation`, as 1.6 writes it.
    OccurenceConstraintViolation,
    /// Payload for Action is syntactically correct but at least one of the fields violates data
    /// type constraints (e.g. "somestring": 12).
    TypeConstraintViolation,
    /// Any other error not covered by the previous ones.
    GenericError,
}

impl ErrorCode {
    /// Every code, in the order OCPP-J 1.6 lists them.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::NotImplemented,
        ErrorCode::NotSupported,
        ErrorCode::InternalError,
        ErrorCode::ProtocolError,
        ErrorCode::SecurityError,
        ErrorCode::FormationViolation,
        ErrorCode::PropertyConstraintViolation,
        ErrorCode::OccurenceConstraintViolation,
        ErrorCode::TypeConstraintViolation,
        ErrorCode::GenericError,
    ];

    /// The code as it is written on a 1.6 wire.
    pub const fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::NotSupported => "NotSupported",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::ProtocolError => "ProtocolError",
            ErrorCode::SecurityError => "SecurityError",
            ErrorCode::FormationViolation => "FormationViolation",
            ErrorCode::PropertyConstraintViolation => "PropertyConstraintViolation",
            ErrorCode::OccurenceConstraintViolation => "OccurenceConstraintViolation",
            ErrorCode::TypeConstraintViolation => "TypeConstraintViolation",
            ErrorCode::GenericError => "GenericError",
        }
    }

    /// The 1.6 code for a code of the (2.0.1-typed) frame layer.
    ///
    /// Same meaning where 1.6 has the code (two spelled differently). The two framing codes 1.6
    /// lacks become `ProtocolError`: `RpcFrameworkError` (the CALL is not a well-formed RPC
    /// message, e.g. no payload) and `MessageTypeNotSupported` (message type id not 2, 3 or 4).
    /// Reading taken: both say the message does not follow the OCPP-J RPC protocol, which is the
    /// closest of 1.6's codes; `FormationViolation` is kept for payloads, as 1.6 defines it.
    pub const fn from_v201(code: V201ErrorCode) -> ErrorCode {
        match code {
            V201ErrorCode::FormatViolation => ErrorCode::FormationViolation,
            V201ErrorCode::GenericError => ErrorCode::GenericError,
            V201ErrorCode::InternalError => ErrorCode::InternalError,
            V201ErrorCode::MessageTypeNotSupported => ErrorCode::ProtocolError,
            V201ErrorCode::NotImplemented => ErrorCode::NotImplemented,
            V201ErrorCode::NotSupported => ErrorCode::NotSupported,
            V201ErrorCode::OccurrenceConstraintViolation => ErrorCode::OccurenceConstraintViolation,
            V201ErrorCode::PropertyConstraintViolation => ErrorCode::PropertyConstraintViolation,
            V201ErrorCode::ProtocolError => ErrorCode::ProtocolError,
            V201ErrorCode::RpcFrameworkError => ErrorCode::ProtocolError,
            V201ErrorCode::SecurityError => ErrorCode::SecurityError,
            V201ErrorCode::TypeConstraintViolation => ErrorCode::TypeConstraintViolation,
        }
    }

    /// The frame layer's code with the same meaning (every 1.6 code has one, so a 1.6 code
    /// survives [`crate::Frame`] unchanged: `from_v201(c.to_v201()) == c`).
    pub const fn to_v201(self) -> V201ErrorCode {
        match self {
            ErrorCode::NotImplemented => V201ErrorCode::NotImplemented,
            ErrorCode::NotSupported => V201ErrorCode::NotSupported,
            ErrorCode::InternalError => V201ErrorCode::InternalError,
            ErrorCode::ProtocolError => V201ErrorCode::ProtocolError,
            ErrorCode::SecurityError => V201ErrorCode::SecurityError,
            ErrorCode::FormationViolation => V201ErrorCode::FormatViolation,
            ErrorCode::PropertyConstraintViolation => V201ErrorCode::PropertyConstraintViolation,
            ErrorCode::OccurenceConstraintViolation => V201ErrorCode::OccurrenceConstraintViolation,
            ErrorCode::TypeConstraintViolation => V201ErrorCode::TypeConstraintViolation,
            ErrorCode::GenericError => V201ErrorCode::GenericError,
        }
    }
}

impl From<ErrorCode> for V201ErrorCode {
    fn from(code: ErrorCode) -> Self {
        code.to_v201()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error code string that is not one of the ten OCPP-J 1.6 codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown OCPP-J 1.6 error code {0:?}")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    /// Exact, case-sensitive 1.6 spelling only ("OccurrenceConstraintViolation" is 2.0.1's).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(crate::peer_text::bounded(s)))
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
    }

    #[test]
    fn the_1_6_spellings_are_kept_apart_from_2_0_1() {
        assert_eq!(
            ErrorCode::OccurenceConstraintViolation.as_str(),
            "OccurenceConstraintViolation"
        );
        assert!("OccurrenceConstraintViolation"
            .parse::<ErrorCode>()
            .is_err());
        assert!("FormatViolation".parse::<ErrorCode>().is_err());
        assert!("RpcFrameworkError".parse::<ErrorCode>().is_err());
        assert_eq!(
            "FormationViolation".parse::<ErrorCode>(),
            Ok(ErrorCode::FormationViolation)
        );
    }

    #[test]
    fn every_code_survives_the_frame_layer() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_v201(code.to_v201()), code);
        }
        assert_eq!(
            ErrorCode::from_v201(V201ErrorCode::RpcFrameworkError),
            ErrorCode::ProtocolError
        );
        assert_eq!(
            ErrorCode::from_v201(V201ErrorCode::MessageTypeNotSupported),
            ErrorCode::ProtocolError
        );
    }
}
