//! OCPP 1.6: every action's request and confirmation round-trip typed -> JSON -> typed, and
//! validate against the official schemas; invalid payloads get the OCPP-J 1.6 error code.
//!
//! Examples are written as a peer would send them (field order irrelevant, no `null`s).

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

use unicharge_ocpp::v16::{self, Action, ErrorCode, OcppRequest, Validator};
use unicharge_ocpp::{Direction, Frame, OcppVersion};

/// Decode `json` into `T`, encode it again and compare; validate it as `direction` of `action`.
fn round_trip<T: Serialize + DeserializeOwned>(action: Action, direction: Direction, json: Value) {
    Validator::global()
        .validate(action.as_str(), direction, &json)
        .unwrap_or_else(|e| panic!("{action} {direction:?} example is invalid: {e}"));
    let typed: T = serde_json::from_value(json.clone())
        .unwrap_or_else(|e| panic!("{action} {direction:?} does not decode: {e}"));
    let back = serde_json::to_value(&typed).expect("encodes");
    assert_eq!(
        back, json,
        "{action} {direction:?} changed in the round trip"
    );
    Validator::global()
        .validate(action.as_str(), direction, &back)
        .unwrap_or_else(|e| panic!("{action} {direction:?} re-encoded is invalid: {e}"));
}

fn case<R: OcppRequest>(req: Value, conf: Value) {
    round_trip::<R>(R::ACTION, Direction::Request, req);
    round_trip::<R::Response>(R::ACTION, Direction::Response, conf);
}

/// One test per action: `(test name, request type, request example, confirmation example)`.
macro_rules! cases {
    ($(($test:ident, $req:ty, $action:literal, $req_json:expr, $conf_json:expr)),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                assert_eq!(<$req as OcppRequest>::ACTION.as_str(), $action);
                case::<$req>($req_json, $conf_json);
            }
        )*
        const COVERED: &[&str] = &[$($action),*];
    };
}

const TS: &str = "2026-12-06T18:00:00Z";

fn charging_profile() -> Value {
    json!({
        "chargingProfileId": 7, "transactionId": 42, "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute",
        "validFrom": TS, "validTo": "2026-12-07T18:00:00Z",
        "chargingSchedule": {
            "duration": 3600, "startSchedule": TS, "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16, "numberPhases": 3},
                {"startPeriod": 1800, "limit": 7.5}
            ],
            "minChargingRate": 6.1
        }
    })
}

fn hash_data() -> Value {
    json!({"hashAlgorithm": "SHA256", "issuerNameHash": "a1b2", "issuerKeyHash": "c3d4", "serialNumber": "0f"})
}

cases! {
    (v16_authorize, v16::AuthorizeRequest, "Authorize",
        json!({"idTag": "04E91C5A123456"}),
        json!({"idTagInfo": {"status": "Accepted", "expiryDate": TS, "parentIdTag": "FLEET-1"}})),
    (v16_boot_notification, v16::BootNotificationRequest, "BootNotification",
        json!({"chargePointVendor": "VendorX", "chargePointModel": "ModelY", "chargePointSerialNumber": "SN-1",
               "chargeBoxSerialNumber": "CB-1", "firmwareVersion": "1.2.3", "iccid": "8931", "imsi": "2040",
               "meterType": "DZG", "meterSerialNumber": "M-1"}),
        json!({"status": "Accepted", "currentTime": TS, "interval": 300})),
    (v16_cancel_reservation, v16::CancelReservationRequest, "CancelReservation",
        json!({"reservationId": 5}), json!({"status": "Rejected"})),
    (v16_certificate_signed, v16::CertificateSignedRequest, "CertificateSigned",
        json!({"certificateChain": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}),
        json!({"status": "Accepted"})),
    (v16_change_availability, v16::ChangeAvailabilityRequest, "ChangeAvailability",
        json!({"connectorId": 0, "type": "Inoperative"}), json!({"status": "Scheduled"})),
    (v16_change_configuration, v16::ChangeConfigurationRequest, "ChangeConfiguration",
        json!({"key": "HeartbeatInterval", "value": "600"}), json!({"status": "RebootRequired"})),
    (v16_clear_cache, v16::ClearCacheRequest, "ClearCache", json!({}), json!({"status": "Accepted"})),
    (v16_clear_charging_profile, v16::ClearChargingProfileRequest, "ClearChargingProfile",
        json!({"id": 7, "connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 0}),
        json!({"status": "Unknown"})),
    (v16_data_transfer, v16::DataTransferRequest, "DataTransfer",
        json!({"vendorId": "com.example", "messageId": "Price", "data": "{\"a\":1}"}),
        json!({"status": "UnknownMessageId", "data": "none"})),
    (v16_delete_certificate, v16::DeleteCertificateRequest, "DeleteCertificate",
        json!({"certificateHashData": hash_data()}), json!({"status": "NotFound"})),
    (v16_diagnostics_status_notification, v16::DiagnosticsStatusNotificationRequest, "DiagnosticsStatusNotification",
        json!({"status": "UploadFailed"}), json!({})),
    (v16_extended_trigger_message, v16::ExtendedTriggerMessageRequest, "ExtendedTriggerMessage",
        json!({"requestedMessage": "SignChargePointCertificate", "connectorId": 1}),
        json!({"status": "NotImplemented"})),
    (v16_firmware_status_notification, v16::FirmwareStatusNotificationRequest, "FirmwareStatusNotification",
        json!({"status": "InstallationFailed"}), json!({})),
    (v16_get_composite_schedule, v16::GetCompositeScheduleRequest, "GetCompositeSchedule",
        json!({"connectorId": 0, "duration": 86400, "chargingRateUnit": "W"}),
        json!({"status": "Accepted", "connectorId": 0, "scheduleStart": TS,
               "chargingSchedule": {"duration": 86400, "startSchedule": TS, "chargingRateUnit": "W",
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.5}]}})),
    (v16_get_configuration, v16::GetConfigurationRequest, "GetConfiguration",
        json!({"key": ["HeartbeatInterval", "Vendor.Unknown"]}),
        json!({"configurationKey": [{"key": "HeartbeatInterval", "readonly": false, "value": "600"},
                                    {"key": "NumberOfConnectors", "readonly": true}],
               "unknownKey": ["Vendor.Unknown"]})),
    (v16_get_diagnostics, v16::GetDiagnosticsRequest, "GetDiagnostics",
        json!({"location": "ftp://logs.example.com/up/", "retries": 3, "retryInterval": 60,
               "startTime": TS, "stopTime": "2026-12-06T19:00:00Z"}),
        json!({"fileName": "diag-2026-12-06.tar.gz"})),
    (v16_get_installed_certificate_ids, v16::GetInstalledCertificateIdsRequest, "GetInstalledCertificateIds",
        json!({"certificateType": "CentralSystemRootCertificate"}),
        json!({"status": "Accepted", "certificateHashData": [hash_data()]})),
    (v16_get_local_list_version, v16::GetLocalListVersionRequest, "GetLocalListVersion",
        json!({}), json!({"listVersion": -1})),
    (v16_get_log, v16::GetLogRequest, "GetLog",
        json!({"log": {"remoteLocation": "https://logs.example.com/up", "oldestTimestamp": TS,
                       "latestTimestamp": "2026-12-06T19:00:00Z"},
               "logType": "SecurityLog", "requestId": 9, "retries": 1, "retryInterval": 30}),
        json!({"status": "AcceptedCanceled", "filename": "security.log"})),
    (v16_heartbeat, v16::HeartbeatRequest, "Heartbeat", json!({}), json!({"currentTime": TS})),
    (v16_install_certificate, v16::InstallCertificateRequest, "InstallCertificate",
        json!({"certificateType": "ManufacturerRootCertificate", "certificate": "-----BEGIN CERTIFICATE-----"}),
        json!({"status": "Failed"})),
    (v16_log_status_notification, v16::LogStatusNotificationRequest, "LogStatusNotification",
        json!({"status": "Uploading", "requestId": 9}), json!({})),
    (v16_meter_values, v16::MeterValuesRequest, "MeterValues",
        json!({"connectorId": 1, "transactionId": 42, "meterValue": [{"timestamp": TS, "sampledValue": [
            {"value": "1234.5", "context": "Sample.Periodic", "format": "Raw",
             "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unit": "kWh"},
            {"value": "16.02", "measurand": "Current.Import", "phase": "L1-N", "unit": "A"},
            {"value": "21.5", "measurand": "Temperature", "unit": "Celsius"},
            {"value": "80", "measurand": "SoC", "location": "EV", "unit": "Percent"}]}]}),
        json!({})),
    (v16_remote_start_transaction, v16::RemoteStartTransactionRequest, "RemoteStartTransaction",
        json!({"connectorId": 1, "idTag": "04E91C5A123456", "chargingProfile": charging_profile()}),
        json!({"status": "Accepted"})),
    (v16_remote_stop_transaction, v16::RemoteStopTransactionRequest, "RemoteStopTransaction",
        json!({"transactionId": 42}), json!({"status": "Rejected"})),
    (v16_reserve_now, v16::ReserveNowRequest, "ReserveNow",
        json!({"connectorId": 2, "expiryDate": TS, "idTag": "04E91C5A123456", "parentIdTag": "FLEET-1",
               "reservationId": 5}),
        json!({"status": "Occupied"})),
    (v16_reset, v16::ResetRequest, "Reset", json!({"type": "Hard"}), json!({"status": "Accepted"})),
    (v16_security_event_notification, v16::SecurityEventNotificationRequest, "SecurityEventNotification",
        json!({"type": "FirmwareUpdated", "timestamp": TS, "techInfo": "1.2.3 -> 1.2.4"}), json!({})),
    (v16_send_local_list, v16::SendLocalListRequest, "SendLocalList",
        json!({"listVersion": 3, "updateType": "Differential", "localAuthorizationList": [
            {"idTag": "04E91C5A123456", "idTagInfo": {"status": "Blocked"}},
            {"idTag": "OLD-TAG"}]}),
        json!({"status": "VersionMismatch"})),
    (v16_set_charging_profile, v16::SetChargingProfileRequest, "SetChargingProfile",
        json!({"connectorId": 1, "csChargingProfiles": charging_profile()}), json!({"status": "NotSupported"})),
    (v16_sign_certificate, v16::SignCertificateRequest, "SignCertificate",
        json!({"csr": "-----BEGIN CERTIFICATE REQUEST-----"}), json!({"status": "Accepted"})),
    (v16_signed_firmware_status_notification, v16::SignedFirmwareStatusNotificationRequest, "SignedFirmwareStatusNotification",
        json!({"status": "InvalidSignature", "requestId": 11}), json!({})),
    (v16_signed_update_firmware, v16::SignedUpdateFirmwareRequest, "SignedUpdateFirmware",
        json!({"retries": 2, "retryInterval": 120, "requestId": 11, "firmware": {
            "location": "https://fw.example.com/1.2.4.bin", "retrieveDateTime": TS, "installDateTime": TS,
            "signingCertificate": "-----BEGIN CERTIFICATE-----", "signature": "MEUCIQ=="}}),
        json!({"status": "InvalidCertificate"})),
    (v16_start_transaction, v16::StartTransactionRequest, "StartTransaction",
        json!({"connectorId": 1, "idTag": "04E91C5A123456", "meterStart": 1200, "reservationId": 5, "timestamp": TS}),
        json!({"idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET-1"}, "transactionId": 42})),
    (v16_status_notification, v16::StatusNotificationRequest, "StatusNotification",
        json!({"connectorId": 1, "errorCode": "EVCommunicationError", "status": "SuspendedEVSE",
               "info": "pilot lost", "timestamp": TS, "vendorId": "com.example", "vendorErrorCode": "E42"}),
        json!({})),
    (v16_stop_transaction, v16::StopTransactionRequest, "StopTransaction",
        json!({"idTag": "04E91C5A123456", "meterStop": 9700, "timestamp": TS, "transactionId": 42,
               "reason": "EVDisconnected", "transactionData": [{"timestamp": TS, "sampledValue": [
                   {"value": "9.7", "context": "Transaction.End", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                   {"value": "30", "measurand": "Temperature", "unit": "Celcius"}]}]}),
        json!({"idTagInfo": {"status": "Expired"}})),
    (v16_trigger_message, v16::TriggerMessageRequest, "TriggerMessage",
        json!({"requestedMessage": "MeterValues", "connectorId": 1}), json!({"status": "Accepted"})),
    (v16_unlock_connector, v16::UnlockConnectorRequest, "UnlockConnector",
        json!({"connectorId": 2}), json!({"status": "UnlockFailed"})),
    (v16_update_firmware, v16::UpdateFirmwareRequest, "UpdateFirmware",
        json!({"location": "https://fw.example.com/1.2.4.bin", "retries": 1, "retrieveDate": TS, "retryInterval": 30}),
        json!({})),
}

#[test]
fn every_1_6_action_has_an_example() {
    assert_eq!(
        Action::ALL.len(),
        39,
        "28 core-profile + 11 security actions"
    );
    for action in Action::ALL {
        assert!(
            COVERED.contains(&action.as_str()),
            "{action} has no round-trip example"
        );
    }
    assert_eq!(COVERED.len(), Action::ALL.len());
}

#[test]
fn all_78_official_schemas_compile() {
    assert_eq!(Validator::global().schema_names().count(), 78);
}

fn code(action: &str, direction: Direction, payload: Value) -> Option<ErrorCode> {
    Validator::global()
        .validate(action, direction, &payload)
        .err()
        .map(|e| e.code())
}

fn req(action: &str, payload: Value) -> Option<ErrorCode> {
    code(action, Direction::Request, payload)
}

#[test]
fn v16_id_tag_of_21_characters_is_a_property_constraint_violation() {
    assert_eq!(req("Authorize", json!({"idTag": "A".repeat(20)})), None);
    assert_eq!(
        req("Authorize", json!({"idTag": "A".repeat(21)})),
        Some(ErrorCode::PropertyConstraintViolation)
    );
    // The same CiString20Type in a confirmation the CSMS sends.
    assert_eq!(
        code(
            "StartTransaction",
            Direction::Response,
            json!({"idTagInfo": {"status": "Accepted", "parentIdTag": "P".repeat(21)}, "transactionId": 1})
        ),
        Some(ErrorCode::PropertyConstraintViolation)
    );
}

#[test]
fn v16_missing_required_field_is_an_occurence_constraint_violation() {
    let missing = req("BootNotification", json!({"chargePointVendor": "V"}));
    assert_eq!(missing, Some(ErrorCode::OccurenceConstraintViolation));
    assert_eq!(missing.unwrap().as_str(), "OccurenceConstraintViolation");
    assert_eq!(
        code(
            "BootNotification",
            Direction::Response,
            json!({"status": "Accepted", "interval": 300})
        ),
        Some(ErrorCode::OccurenceConstraintViolation)
    );
    // An empty array where 1.6 asks for at least one item (security schema, minItems 1).
    assert_eq!(
        code(
            "GetInstalledCertificateIds",
            Direction::Response,
            json!({"status": "Accepted", "certificateHashData": []})
        ),
        Some(ErrorCode::OccurenceConstraintViolation)
    );
}

#[test]
fn v16_wrong_json_type_is_a_type_constraint_violation() {
    assert_eq!(
        req(
            "StatusNotification",
            json!({"connectorId": "1", "errorCode": "NoError", "status": "Available"})
        ),
        Some(ErrorCode::TypeConstraintViolation)
    );
    // 1.6 meter readings are strings: a number is the wrong type.
    assert_eq!(
        req(
            "MeterValues",
            json!({"connectorId": 1, "meterValue": [{"timestamp": TS, "sampledValue": [{"value": 12.5}]}]})
        ),
        Some(ErrorCode::TypeConstraintViolation)
    );
    // DataTransfer.data is a string in 1.6 (an object is a common station bug).
    assert_eq!(
        req("DataTransfer", json!({"vendorId": "v", "data": {"a": 1}})),
        Some(ErrorCode::TypeConstraintViolation)
    );
}

#[test]
fn v16_malformed_date_time_is_a_type_constraint_violation() {
    for bad in ["yesterday", "2026-12-06 18:00:00Z", "2/26-11-21T10:00:00Z"] {
        assert_eq!(
            code(
                "Heartbeat",
                Direction::Response,
                json!({"currentTime": bad})
            ),
            Some(ErrorCode::TypeConstraintViolation),
            "{bad}"
        );
    }
    assert_eq!(
        code(
            "Heartbeat",
            Direction::Response,
            json!({"currentTime": "2026-12-06T18:00:00.123+01:00"})
        ),
        None
    );
}

#[test]
fn v16_enum_value_not_in_the_spec_is_a_property_constraint_violation() {
    // Exact spelling: "SuspendedEvse" is not the 1.6 value "SuspendedEVSE".
    assert_eq!(
        req(
            "StatusNotification",
            json!({"connectorId": 1, "errorCode": "NoError", "status": "SuspendedEvse"})
        ),
        Some(ErrorCode::PropertyConstraintViolation)
    );
    // 2.0.1's name for the same state is not a 1.6 value either.
    assert_eq!(
        req(
            "StatusNotification",
            json!({"connectorId": 1, "errorCode": "NoError", "status": "Occupied"})
        ),
        Some(ErrorCode::PropertyConstraintViolation)
    );
    // StopTransaction's schema spells the unit "Celcius"; MeterValues' spells it "Celsius".
    let stop = |unit: &str| {
        json!({"meterStop": 1, "timestamp": TS, "transactionId": 1,
        "transactionData": [{"timestamp": TS, "sampledValue": [{"value": "30", "unit": unit}]}]})
    };
    assert_eq!(req("StopTransaction", stop("Celcius")), None);
    assert_eq!(
        req("StopTransaction", stop("Celsius")),
        Some(ErrorCode::PropertyConstraintViolation)
    );
}

#[test]
fn v16_limit_not_a_multiple_of_0_1_is_a_property_constraint_violation() {
    let profile = |limit: Value| {
        json!({"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative", "chargingSchedule": {"chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}}})
    };
    assert_eq!(req("SetChargingProfile", profile(json!(7.3))), None);
    assert_eq!(
        req("SetChargingProfile", profile(json!(7.25))),
        Some(ErrorCode::PropertyConstraintViolation)
    );
}

#[test]
fn v16_payload_outside_the_pdu_structure_is_a_formation_violation() {
    assert_eq!(
        req("Heartbeat", json!({"extra": 1})),
        Some(ErrorCode::FormationViolation)
    );
    assert_eq!(
        req("Heartbeat", json!([])),
        Some(ErrorCode::FormationViolation)
    );
    assert_eq!(
        req("Heartbeat", json!(null)),
        Some(ErrorCode::FormationViolation)
    );
}

#[test]
fn v16_unknown_action_is_not_implemented() {
    assert_eq!(req("Sneeze", json!({})), Some(ErrorCode::NotImplemented));
    // A confirmation schema's file name is not an action; 2.0.1-only actions are unknown in 1.6.
    assert_eq!(
        req("HeartbeatResponse", json!({"currentTime": TS})),
        Some(ErrorCode::NotImplemented)
    );
    assert_eq!(
        req("TransactionEvent", json!({})),
        Some(ErrorCode::NotImplemented)
    );
    let huge = "A".repeat(1 << 20);
    let shown = Validator::global()
        .validate(&huge, Direction::Request, &json!({}))
        .unwrap_err()
        .to_string();
    assert!(shown.len() < 1024, "{} bytes", shown.len());
}

#[test]
fn v16_violation_quoting_a_megabyte_value_stays_small() {
    let violation = Validator::global()
        .validate(
            "Authorize",
            Direction::Request,
            &json!({"idTag": "A".repeat(1 << 20)}),
        )
        .unwrap_err();
    assert_eq!(violation.code(), ErrorCode::PropertyConstraintViolation);
    assert!(violation.to_string().len() < 1024);
}

#[test]
fn v16_enum_values_keep_the_spec_spelling() {
    let status: v16::ChargePointStatus = serde_json::from_value(json!("SuspendedEVSE")).unwrap();
    assert_eq!(status, v16::ChargePointStatus::SuspendedEvse);
    assert_eq!(status.as_str(), "SuspendedEVSE");
    assert_eq!(v16::ChargePointStatus::Charging.as_str(), "Charging");
    assert_eq!(
        serde_json::to_value(v16::ChargePointErrorCode::EvCommunicationError).unwrap(),
        json!("EVCommunicationError")
    );
    assert_eq!(v16::Measurand::ALL.len(), 22);
    assert!(serde_json::from_value::<v16::ChargePointStatus>(json!("charging")).is_err());
}

#[test]
fn v16_meter_readings_stay_strings() {
    let mv: v16::MeterValuesRequest = serde_json::from_value(json!({"connectorId": 1,
        "meterValue": [{"timestamp": TS, "sampledValue": [{"value": "0001234.50"}]}]}))
    .unwrap();
    // Not parsed into a number: the station's text (leading zeros, precision) is kept.
    assert_eq!(mv.meter_value[0].sampled_value[0].value, "0001234.50");
}

#[test]
fn v16_initiators_follow_the_spec() {
    use v16::Initiator;
    assert_eq!(Action::StartTransaction.initiator(), Initiator::ChargePoint);
    assert_eq!(Action::SignCertificate.initiator(), Initiator::ChargePoint);
    assert_eq!(
        Action::RemoteStartTransaction.initiator(),
        Initiator::CentralSystem
    );
    assert_eq!(
        Action::ExtendedTriggerMessage.initiator(),
        Initiator::CentralSystem
    );
    assert_eq!(Action::DataTransfer.initiator(), Initiator::Either);
    assert_eq!(
        Action::BootNotification.request_schema_name(),
        "BootNotification"
    );
    assert_eq!(
        Action::BootNotification.response_schema_name(),
        "BootNotificationResponse"
    );
}

#[test]
fn v16_call_errors_are_written_and_read_in_1_6_spelling() {
    let code = req("BootNotification", json!({})).unwrap();
    let frame = Frame::call_error("19223201", code.into(), "chargePointVendor is required");
    let v16_text = frame.to_text_for(OcppVersion::V16);
    assert_eq!(
        serde_json::from_str::<Value>(&v16_text).unwrap()[2],
        json!("OccurenceConstraintViolation")
    );
    assert!(frame
        .to_text()
        .contains("\"OccurrenceConstraintViolation\""));
    // A 1.6 peer's CALLERROR keeps its meaning through the (shared) frame parser.
    let Frame::CallError { code, .. } = Frame::parse(&v16_text).unwrap() else {
        panic!("not a CALLERROR")
    };
    assert_eq!(
        ErrorCode::from_v201(code),
        ErrorCode::OccurenceConstraintViolation
    );
    let Frame::CallError { code, .. } =
        Frame::parse(r#"[4,"1","FormationViolation","bad",{}]"#).unwrap()
    else {
        panic!("not a CALLERROR")
    };
    assert_eq!(ErrorCode::from_v201(code), ErrorCode::FormationViolation);
    // A framing error (no payload) is answered with a code 1.6 knows.
    let reply = Frame::parse(r#"[2,"7","Heartbeat"]"#)
        .unwrap_err()
        .to_call_error()
        .unwrap()
        .to_text_for(OcppVersion::V16);
    assert_eq!(
        serde_json::from_str::<Value>(&reply).unwrap()[2],
        json!("ProtocolError")
    );
}

#[test]
fn versions_map_to_their_subprotocols() {
    assert_eq!(
        OcppVersion::from_subprotocol("ocpp1.6"),
        Some(OcppVersion::V16)
    );
    assert_eq!(
        OcppVersion::from_subprotocol("ocpp2.0.1"),
        Some(OcppVersion::V201)
    );
    assert_eq!(OcppVersion::from_subprotocol("ocpp1.5"), None);
    assert_eq!(OcppVersion::V16.subprotocol(), v16::SUBPROTOCOL);
}
