//! Schema validation: `Validator::global().validate(action, direction, payload)`.
//!
//! Input: a first line naming the schema, then the payload as JSON text, e.g.
//! `BootNotificationRequest\n{"reason":"PowerUp",...}`. A first line that is not one of the
//! 128 schema names (`<Action>Request` / `<Action>Response`) still picks one, by a hash of its
//! bytes, so every schema is reached whatever the mutations; it is also passed through
//! unchanged as an action name to exercise the unknown-action path.
//!
//! Checked beyond "never panics":
//! - a violation's path is a JSON pointer that exists in the payload (when short enough to be
//!   kept whole), and its OCPP-J error code is one Part 4 allows for a payload;
//! - an unknown action name comes back bounded (peer text);
//! - a payload the schema accepts decodes into the generated type of that message (the CSMS
//!   decodes every validated request; a failure there is a disagreement between the generated
//!   types and the schemas), and that type encodes back to a payload the schema accepts (the
//!   CSMS validates what it sends).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use unicharge_ocpp::peer_text::{bounded, MAX_CHARS};
use unicharge_ocpp::v201::{self, Action, OcppRequest};
use unicharge_ocpp::{Direction, ErrorCode, SchemaViolation, Validator};

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
        // The name is peer text: kept only in its bounded, escaped form.
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
        Err(SchemaViolation::Invalid { code, path, .. }) => {
            // The path is bounded and escaped peer text; one that came through unchanged (short,
            // nothing escaped) must point into the payload.
            if path.chars().count() < MAX_CHARS / 2 && !path.contains('\\') {
                assert!(
                    payload.pointer(&path).is_some(),
                    "violation path {path:?} is not in the payload"
                );
            }
            assert!(
                matches!(
                    code,
                    ErrorCode::FormatViolation
                        | ErrorCode::OccurrenceConstraintViolation
                        | ErrorCode::PropertyConstraintViolation
                        | ErrorCode::TypeConstraintViolation
                ),
                "unexpected code {code:?}"
            );
        }
    }
}

/// Decode `payload` into the generated type of `action`'s `direction`, encode it again, validate.
fn typed_round_trip(action: Action, direction: Direction, payload: &Value) {
    macro_rules! each_request_type {
        ($($request:ident),* $(,)?) => {
            $(
                if <v201::$request as OcppRequest>::ACTION == action {
                    return match direction {
                        Direction::Request => round_trip::<v201::$request>(action, direction, payload),
                        Direction::Response => round_trip::<<v201::$request as OcppRequest>::Response>(
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
        ClearCacheRequest,
        ClearChargingProfileRequest,
        ClearDisplayMessageRequest,
        ClearVariableMonitoringRequest,
        ClearedChargingLimitRequest,
        CostUpdatedRequest,
        CustomerInformationRequest,
        DataTransferRequest,
        DeleteCertificateRequest,
        FirmwareStatusNotificationRequest,
        Get15118EvCertificateRequest,
        GetBaseReportRequest,
        GetCertificateStatusRequest,
        GetChargingProfilesRequest,
        GetCompositeScheduleRequest,
        GetDisplayMessagesRequest,
        GetInstalledCertificateIdsRequest,
        GetLocalListVersionRequest,
        GetLogRequest,
        GetMonitoringReportRequest,
        GetReportRequest,
        GetTransactionStatusRequest,
        GetVariablesRequest,
        HeartbeatRequest,
        InstallCertificateRequest,
        LogStatusNotificationRequest,
        MeterValuesRequest,
        NotifyChargingLimitRequest,
        NotifyCustomerInformationRequest,
        NotifyDisplayMessagesRequest,
        NotifyEvChargingNeedsRequest,
        NotifyEvChargingScheduleRequest,
        NotifyEventRequest,
        NotifyMonitoringReportRequest,
        NotifyReportRequest,
        PublishFirmwareRequest,
        PublishFirmwareStatusNotificationRequest,
        ReportChargingProfilesRequest,
        RequestStartTransactionRequest,
        RequestStopTransactionRequest,
        ReservationStatusUpdateRequest,
        ReserveNowRequest,
        ResetRequest,
        SecurityEventNotificationRequest,
        SendLocalListRequest,
        SetChargingProfileRequest,
        SetDisplayMessageRequest,
        SetMonitoringBaseRequest,
        SetMonitoringLevelRequest,
        SetNetworkProfileRequest,
        SetVariableMonitoringRequest,
        SetVariablesRequest,
        SignCertificateRequest,
        StatusNotificationRequest,
        TransactionEventRequest,
        TriggerMessageRequest,
        UnlockConnectorRequest,
        UnpublishFirmwareRequest,
        UpdateFirmwareRequest
    );
}

fn round_trip<M: Serialize + DeserializeOwned>(
    action: Action,
    direction: Direction,
    payload: &Value,
) {
    let message: M = match serde_json::from_value(payload.clone()) {
        Ok(message) => message,
        // Known and accepted: a schema `number` is a `Decimal` (96-bit mantissa), so a magnitude
        // beyond Decimal::MAX (~7.9e28) is refused as FormatViolation "payload not understood"
        // though the schema allows it. No real meter, limit or price comes near it.
        Err(_) if has_number_beyond_decimal(payload) => return,
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
