//! Validation of OCPP 1.6 payloads against the official schemas, in both directions, with the
//! OCPP-J 1.6 error codes.
//!
//! Every payload a CSMS receives from a 1.6 Charge Point is checked before a handler sees it, and
//! every payload it sends is checked before it leaves. The 56 core schemas are JSON Schema
//! draft-04, the 22 security whitepaper schemas draft-06: each is compiled with the draft its
//! `$schema` names.
//!
//! # Schema failure -> 1.6 error code
//!
//! OCPP-J 1.6 (section 4.2.3) defines the codes in one line each and maps no schema keyword to
//! them; the readings taken:
//!
//! | failure | code | why |
//! |---|---|---|
//! | required property missing; too few / too many array items | `OccurenceConstraintViolation` | a cardinality ("occurence") constraint: 1.6 gives every field one (1..1, 0..1, 1..*) |
//! | wrong JSON type of a field (`"connectorId": "1"`) | `TypeConstraintViolation` | 1.6's own example |
//! | a string that is not the field's data type (`dateTime`, `anyURI`) | `TypeConstraintViolation` | dateTime is a 1.6 data type, not a value range |
//! | enum value, maxLength (`CiString20Type` ...), minimum/maximum, multipleOf | `PropertyConstraintViolation` | "at least one field contains an invalid value" |
//! | payload not a JSON object, property not in the PDU | `FormationViolation` | "not conform the PDU structure" |
//! | action name unknown | `NotImplemented` | "Requested Action is not known by receiver" |
//!
//! `ProtocolError` ("payload for Action is incomplete") is not produced by schema validation: a
//! missing field is an occurrence violation, as 2.0.1 later made explicit.

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::{Action, ErrorCode};
use crate::peer_text::bounded;
use crate::schema::is_date_time;
use crate::Direction;

include!(concat!(env!("OUT_DIR"), "/v16_schemas.rs"));

/// Why a 1.6 payload does not conform to its schema. Every text in it is bounded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaViolation {
    /// The payload breaks the schema of a known action.
    #[error("{code} at '{path}': {message}")]
    Invalid {
        /// The OCPP-J 1.6 error code for this kind of failure (see the module table).
        code: ErrorCode,
        /// JSON pointer into the payload (`""` = the payload itself), bounded.
        path: String,
        /// jsonschema's explanation, bounded.
        message: String,
    },
    /// Not an OCPP 1.6 action name (kept bounded).
    #[error("no OCPP 1.6 schema for action {0:?}")]
    UnknownAction(String),
}

impl SchemaViolation {
    /// The error code to put in a 1.6 CALLERROR.
    pub fn code(&self) -> ErrorCode {
        match self {
            SchemaViolation::Invalid { code, .. } => *code,
            SchemaViolation::UnknownAction(_) => ErrorCode::NotImplemented,
        }
    }
}

/// Compiled validators for all 78 OCPP 1.6 schemas.
pub struct Validator {
    by_name: HashMap<&'static str, jsonschema::Validator>,
}

impl Validator {
    /// The process-wide validator set, compiled on first use.
    pub fn global() -> &'static Validator {
        static GLOBAL: OnceLock<Validator> = OnceLock::new();
        GLOBAL.get_or_init(Validator::compile)
    }

    fn compile() -> Validator {
        let by_name = V16_SCHEMAS
            .iter()
            .map(|(name, text)| {
                let schema: Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("embedded schema {name} is not JSON: {e}"));
                let draft = match schema.get("$schema").and_then(Value::as_str) {
                    Some(s) if s.contains("draft-04") => jsonschema::Draft::Draft4,
                    Some(s) if s.contains("draft-06") => jsonschema::Draft::Draft6,
                    other => panic!("embedded schema {name} has an unexpected $schema {other:?}"),
                };
                let validator = jsonschema::options()
                    .with_draft(draft)
                    .should_validate_formats(true)
                    .with_format("date-time", is_date_time)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("embedded schema {name} does not compile: {e}"));
                (*name, validator)
            })
            .collect();
        Validator { by_name }
    }

    /// Names of the schemas held (`"BootNotification"`, `"BootNotificationResponse"`, …).
    pub fn schema_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_name.keys().copied()
    }

    /// Check `payload` as the request (`.req`) or confirmation (`.conf`) of `action`.
    pub fn validate(
        &self,
        action: &str,
        direction: Direction,
        payload: &Value,
    ) -> Result<(), SchemaViolation> {
        // Parse the name first: "BootNotificationResponse" is a schema file, not an action.
        let action: Action = action
            .parse()
            .map_err(|_| SchemaViolation::UnknownAction(bounded(action)))?;
        let name = match direction {
            Direction::Request => action.request_schema_name(),
            Direction::Response => action.response_schema_name(),
        };
        let validator = self
            .by_name
            .get(name)
            .expect("every Action has both schemas (generated from them)");
        match validator.iter_errors(payload).next() {
            None => Ok(()),
            Some(error) => {
                let path = error.instance_path().as_str().to_owned();
                Err(SchemaViolation::Invalid {
                    code: error_code_for(error.kind(), &path),
                    path: bounded(&path),
                    message: bounded(&error.to_string()),
                })
            }
        }
    }
}

/// The OCPP-J 1.6 error code for one kind of schema failure at `path` (see the module table).
pub fn error_code_for(kind: &ValidationErrorKind, path: &str) -> ErrorCode {
    use ValidationErrorKind as K;
    match kind {
        K::Required { .. } | K::MinItems { .. } | K::MaxItems { .. } => {
            ErrorCode::OccurenceConstraintViolation
        }
        // The payload itself is not an object: the PDU structure is wrong, not a field's type.
        K::Type { .. } if path.is_empty() => ErrorCode::FormationViolation,
        K::Type { .. } | K::Format { .. } => ErrorCode::TypeConstraintViolation,
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
        _ => ErrorCode::FormationViolation,
    }
}
