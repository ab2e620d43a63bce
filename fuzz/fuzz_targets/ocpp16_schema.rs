//! OCPP 1.6 schema validation: `v16::Validator::global().validate(action, direction, payload)`,
//! and the 1.6 spelling of the CALLERROR that answers a violation.
//!
//! Input: a first line naming the schema file (`BootNotification` = the request,
//! `BootNotificationResponse` = the confirmation), then the payload as JSON text. A first line
//! that is not one of the 78 schema names still picks one, by a hash of its bytes, so every
//! schema is reached whatever the mutations; it is also passed through unchanged as an action
//! name to exercise the unknown-action path.
//!
//! Checked beyond "never panics":
//! - a violation's path is a JSON pointer that exists in the payload (when short enough to be
//!   kept whole), and its code is one of the five OCPP-J 1.6 payload codes;
//! - the CALLERROR answering it, written for a 1.6 peer, carries that code in 1.6 spelling and
//!   parses back to the same code;
//! - an unknown action name comes back bounded;
//! - a payload the schema accepts decodes into the generated 1.6 type, and that type encodes
//!   back to a payload the schema accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use unicharge_ocpp::peer_text::{bounded, MAX_CHARS};
use unicharge_ocpp::v16::{self, Action, ErrorCode, OcppRequest, SchemaViolation, Validator};
use unicharge_ocpp::{Direction, Frame, OcppVersion};

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(payload) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let head = String::from_utf8_lossy(head);
    let (action, direction) = pick_schema(&head);
    let validator = Validator::global();

    let result = validator.validate(action.as_str(), direction, &payload);
    let valid = result.is_ok();
    check(&payload, result);
    if valid {
        typed_round_trip(action, direction, &payload);
    }
    if let Err(SchemaViolation::UnknownAction(name)) =
        validator.validate(&head, Direction::Request, &payload)
    {
        assert_eq!(name, bounded(&head));
    }
});

fn pick_schema(head: &str) -> (Action, Direction) {
    for action in Action::ALL {
        if head == action.request_schema_name() {
            return (action, Direction::Request);
        }
        if head == action.response_schema_name() {
            return (action, Direction::Response);
        }
    }
    let hash = head
        .bytes()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
    let action = Action::ALL[(hash / 2) % Action::ALL.len()];
    let direction = if hash % 2 == 0 {
        Direction::Request
    } else {
        Direction::Response
    };
    (action, direction)
}

fn check(payload: &Value, result: Result<(), SchemaViolation>) {
    match result {
        Ok(()) => {}
        Err(SchemaViolation::UnknownAction(name)) => panic!("schema of {name} missing"),
        Err(SchemaViolation::Invalid {
            code,
            path,
            message,
        }) => {
            if path.chars().count() < MAX_CHARS / 2 && !path.contains('\\') {
                assert!(
                    payload.pointer(&path).is_some(),
                    "violation path {path:?} is not in the payload"
                );
            }
            assert!(
                matches!(
                    code,
                    ErrorCode::FormationViolation
                        | ErrorCode::OccurenceConstraintViolation
                        | ErrorCode::PropertyConstraintViolation
                        | ErrorCode::TypeConstraintViolation
                ),
                "unexpected code {code:?}"
            );
            let text = Frame::call_error("1", code.into(), &message).to_text_for(OcppVersion::V16);
            let Ok(Frame::CallError { code: back, .. }) = Frame::parse(&text) else {
                panic!("our own CALLERROR does not parse: {text}");
            };
            assert_eq!(ErrorCode::from_v201(back), code);
            let wire: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(wire[2].as_str(), Some(code.as_str()));
        }
    }
}

/// Decode `payload` into the generated type of `action`'s `direction`, encode it again, validate.
fn typed_round_trip(action: Action, direction: Direction, payload: &Value) {
    macro_rules! each_request_type {
        ($($request:ident),* $(,)?) => {
            $(
                if <v16::$request as OcppRequest>::ACTION == action {
                    return match direction {
                        Direction::Request => round_trip::<v16::$request>(action, direction, payload),
                        Direction::Response => round_trip::<<v16::$request as OcppRequest>::Response>(
                            action, direction, payload,
                        ),
                    };
                }
            )*
            panic!("no generated type for {action:?}");
        };
    }
    each_request_type!(
        AuthorizeRequest,
        BootNotificationRequest,
        CancelReservationRequest,
        CertificateSignedRequest,
        ChangeAvailabilityRequest,
        ChangeConfigurationRequest,
        ClearCacheRequest,
        ClearChargingProfileRequest,
        DataTransferRequest,
        DeleteCertificateRequest,
        DiagnosticsStatusNotificationRequest,
        ExtendedTriggerMessageRequest,
        FirmwareStatusNotificationRequest,
        GetCompositeScheduleRequest,
        GetConfigurationRequest,
        GetDiagnosticsRequest,
        GetInstalledCertificateIdsRequest,
        GetLocalListVersionRequest,
        GetLogRequest,
        HeartbeatRequest,
        InstallCertificateRequest,
        LogStatusNotificationRequest,
        MeterValuesRequest,
        RemoteStartTransactionRequest,
        RemoteStopTransactionRequest,
        ReserveNowRequest,
        ResetRequest,
        SecurityEventNotificationRequest,
        SendLocalListRequest,
        SetChargingProfileRequest,
        SignCertificateRequest,
        SignedFirmwareStatusNotificationRequest,
        SignedUpdateFirmwareRequest,
        StartTransactionRequest,
        StatusNotificationRequest,
        StopTransactionRequest,
        TriggerMessageRequest,
        UnlockConnectorRequest,
        UpdateFirmwareRequest,
    );
}

fn round_trip<M: Serialize + DeserializeOwned>(
    action: Action,
    direction: Direction,
    payload: &Value,
) {
    let message: M = match serde_json::from_value(payload.clone()) {
        Ok(message) => message,
        // As for 2.0.1 (fuzz/ocpp_schema): a schema `number` is a `Decimal`, a magnitude beyond
        // Decimal::MAX is refused though the schema allows it; no real limit comes near it.
        Err(_) if has_number_beyond_decimal(payload) => return,
        // Known and accepted: jsonschema counts `1.0`, `1e3` and integers past i64::MAX as schema
        // `integer`s; the generated `i64` fields take only JSON integers within i64. The CSMS
        // refuses such a payload as "not understood" instead. No station counts connectors or
        // transactions that way.
        Err(_) if has_integer_not_i64(payload) => return,
        Err(e) => panic!("schema-valid {action} {direction:?} does not decode into its type: {e}"),
    };
    let encoded = serde_json::to_value(&message).expect("a generated type encodes");
    if let Err(violation) = Validator::global().validate(action.as_str(), direction, &encoded) {
        panic!("{action} {direction:?} re-encoded from its type breaks the schema: {violation}\n{encoded}");
    }
}

/// Largest magnitude a `rust_decimal::Decimal` holds (2^96 - 1).
const DECIMAL_MAX: f64 = 79_228_162_514_264_337_593_543_950_335.0;

fn has_number_beyond_decimal(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.as_f64().is_some_and(|x| x.abs() >= DECIMAL_MAX),
        Value::Array(items) => items.iter().any(has_number_beyond_decimal),
        Value::Object(map) => map.values().any(has_number_beyond_decimal),
        _ => false,
    }
}

/// A number jsonschema calls an integer that `i64` does not take: written with a fraction or
/// exponent (`1.0`, `1e3`), or beyond the i64 range.
fn has_integer_not_i64(value: &Value) -> bool {
    match value {
        Value::Number(n) => !n.is_i64() && n.as_f64().is_some_and(|x| x.fract() == 0.0),
        Value::Array(items) => items.iter().any(has_integer_not_i64),
        Value::Object(map) => map.values().any(has_integer_not_i64),
        _ => false,
    }
}
