//! Validation of OCPP 2.0.1 payloads against the official JSON schemas, in both directions.
//!
//! Every payload the CSMS receives is checked before a handler sees it, and every payload it
//! sends is checked before it leaves: a bug of ours must not reach a station as a malformed
//! message. Schema failures map to the OCPP-J error codes of Part 4 (see [`error_code_for`]).

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::peer_text::bounded;
use crate::ErrorCode;

include!(concat!(env!("OUT_DIR"), "/v201_schemas.rs"));

/// Which half of an action a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
}

impl Direction {
    fn suffix(self) -> &'static str {
        match self {
            Direction::Request => "Request",
            Direction::Response => "Response",
        }
    }
}

/// Why a payload does not conform to its schema.
///
/// Every text in it is bounded ([`crate::peer_text`]): jsonschema's messages quote the offending
/// instance, which is whatever the peer sent (a 1 MB string value made a 1 MB log line per CALL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} at {path}: {message}")]
pub enum SchemaViolation {
    /// The payload breaks the schema of a known action.
    #[error("{code} at '{path}': {message}")]
    Invalid {
        /// The OCPP-J error code Part 4 assigns to this kind of failure.
        code: ErrorCode,
        /// JSON pointer into the payload (`""` = the payload itself), bounded.
        path: String,
        /// jsonschema's explanation, bounded.
        message: String,
    },
    /// No schema exists for this action name (kept bounded).
    #[error("no OCPP 2.0.1 schema for action {0:?}")]
    UnknownAction(String),
}

impl SchemaViolation {
    /// The error code to put in a CALLERROR.
    pub fn code(&self) -> ErrorCode {
        match self {
            SchemaViolation::Invalid { code, .. } => *code,
            SchemaViolation::UnknownAction(_) => ErrorCode::NotImplemented,
        }
    }
}

/// Compiled validators for all 128 schemas.
pub struct Validator {
    by_name: HashMap<&'static str, jsonschema::Validator>,
}

impl Validator {
    /// The process-wide validator set, compiled on first use (about 128 small schemas).
    pub fn global() -> &'static Validator {
        static GLOBAL: OnceLock<Validator> = OnceLock::new();
        GLOBAL.get_or_init(Validator::compile)
    }

    fn compile() -> Validator {
        let by_name = V201_SCHEMAS
            .iter()
            .map(|(name, text)| {
                let schema: Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("embedded schema {name} is not JSON: {e}"));
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft6)
                    .should_validate_formats(true)
                    // jsonschema 0.60's own date-time check takes "2/26-11-21T10:00:00Z" for a
                    // date (found by fuzz/ocpp_schema); check with the parser the types decode
                    // with, keeping the 'T' jsonschema required (chrono also takes a space).
                    .with_format("date-time", is_date_time)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("embedded schema {name} does not compile: {e}"));
                (*name, validator)
            })
            .collect();
        Validator { by_name }
    }

    /// Names of the schemas held (`"BootNotificationRequest"`, …).
    pub fn schema_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_name.keys().copied()
    }

    /// Check `payload` as the request or response of `action`.
    pub fn validate(
        &self,
        action: &str,
        direction: Direction,
        payload: &Value,
    ) -> Result<(), SchemaViolation> {
        let name = format!("{action}{}", direction.suffix());
        let validator = self
            .by_name
            .get(name.as_str())
            .ok_or_else(|| SchemaViolation::UnknownAction(bounded(action)))?;
        match validator.iter_errors(payload).next() {
            None => Ok(()),
            Some(error) => Err(SchemaViolation::Invalid {
                code: error_code_for(error.kind()),
                path: bounded(error.instance_path().as_str()),
                message: bounded(&error.to_string()),
            }),
        }
    }
}

/// The `date-time` format check of both OCPP versions: RFC 3339 as chrono parses it (the types
/// decode with chrono), with the 'T' separator JSON Schema requires (chrono also takes a space).
pub(crate) fn is_date_time(s: &str) -> bool {
    matches!(s.as_bytes().get(10), Some(b'T' | b't'))
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// The Part 4 error code for one kind of schema failure.
///
/// | failure | code |
/// |---|---|
/// | required property missing, too few / too many array items | OccurrenceConstraintViolation |
/// | wrong JSON type | TypeConstraintViolation |
/// | enum value, length, range, pattern | PropertyConstraintViolation |
/// | property not allowed, malformed format (date-time), anything else | FormatViolation |
pub fn error_code_for(kind: &ValidationErrorKind) -> ErrorCode {
    use ValidationErrorKind as K;
    match kind {
        K::Required { .. } | K::MinItems { .. } | K::MaxItems { .. } => {
            ErrorCode::OccurrenceConstraintViolation
        }
        K::Type { .. } => ErrorCode::TypeConstraintViolation,
        K::Enum { .. }
        | K::Constant { .. }
        | K::MaxLength { .. }
        | K::MinLength { .. }
        | K::Maximum { .. }
        | K::Minimum { .. }
        | K::ExclusiveMaximum { .. }
        | K::ExclusiveMinimum { .. }
        | K::MultipleOf { .. }
        | K::Pattern { .. } => ErrorCode::PropertyConstraintViolation,
        _ => ErrorCode::FormatViolation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(action: &str, payload: Value) -> Option<ErrorCode> {
        Validator::global()
            .validate(action, Direction::Request, &payload)
            .err()
            .map(|e| e.code())
    }

    #[test]
    fn all_128_official_schemas_compile() {
        assert_eq!(Validator::global().schema_names().count(), 128);
    }

    #[test]
    fn a_valid_boot_notification_passes() {
        let boot =
            json!({"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}});
        assert_eq!(code("BootNotification", boot), None);
    }

    #[test]
    fn failures_map_to_the_part_4_codes() {
        let station = json!({"model": "M", "vendorName": "V"});
        assert_eq!(
            code("BootNotification", json!({"reason": "PowerUp"})),
            Some(ErrorCode::OccurrenceConstraintViolation)
        );
        assert_eq!(
            code(
                "BootNotification",
                json!({"reason": 5, "chargingStation": station})
            ),
            Some(ErrorCode::TypeConstraintViolation)
        );
        assert_eq!(
            code(
                "BootNotification",
                json!({"reason": "Sneezed", "chargingStation": station})
            ),
            Some(ErrorCode::PropertyConstraintViolation)
        );
        assert_eq!(
            code(
                "BootNotification",
                json!({"reason": "PowerUp", "chargingStation": {"model": "M".repeat(21), "vendorName": "V"}})
            ),
            Some(ErrorCode::PropertyConstraintViolation)
        );
        assert_eq!(
            code(
                "BootNotification",
                json!({"reason": "PowerUp", "chargingStation": station, "extra": 1})
            ),
            Some(ErrorCode::FormatViolation)
        );
        assert_eq!(code("Sneeze", json!({})), Some(ErrorCode::NotImplemented));
    }

    #[test]
    fn date_times_are_checked() {
        let status = |ts: &str| json!({"timestamp": ts, "connectorStatus": "Available", "evseId": 1, "connectorId": 1});
        assert_eq!(
            code("StatusNotification", status("2024-01-01T10:00:00Z")),
            None
        );
        assert_eq!(
            code("StatusNotification", status("yesterday")),
            Some(ErrorCode::FormatViolation)
        );
    }

    #[test]
    fn a_violation_quoting_a_megabyte_value_stays_small() {
        let huge = "A".repeat(1 << 20);
        let boot = json!({"reason": huge, "chargingStation": {"model": "M", "vendorName": "V"}});
        let violation = Validator::global()
            .validate("BootNotification", Direction::Request, &boot)
            .unwrap_err();
        let shown = violation.to_string();
        assert!(shown.len() < 1024, "{} bytes", shown.len());
        assert!(shown.contains("…(+"), "{shown}");
        let unknown = Validator::global()
            .validate(&huge, Direction::Request, &json!({}))
            .unwrap_err();
        assert!(unknown.to_string().len() < 1024);
    }

    #[test]
    fn date_times_with_non_digits_in_the_year_are_refused() {
        let status = |ts: &str| json!({"timestamp": ts, "connectorStatus": "Available", "evseId": 1, "connectorId": 1});
        assert_eq!(
            code("StatusNotification", status("2/26-11-21T10:00:00Z")),
            Some(ErrorCode::FormatViolation)
        );
        assert_eq!(
            code("StatusNotification", status("2026-11-21 10:00:00Z")),
            Some(ErrorCode::FormatViolation)
        );
        assert_eq!(
            code(
                "StatusNotification",
                status("2026-11-21t10:00:00.123456789+01:00")
            ),
            None
        );
    }

    #[test]
    fn custom_data_may_carry_vendor_properties() {
        let hb = json!({"customData": {"vendorId": "acme", "colour": "green"}});
        assert_eq!(code("Heartbeat", hb), None);
    }
}
