//! The generated OCPP 2.0.1 types (`cargo xtask codegen-ocpp`) against real-looking payloads.
//!
//! Every payload here is first checked against its official schema, so the tests also pin the
//! payloads themselves to the specification.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use unicharge_ocpp::v201::*;

const SCHEMA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/v201");

fn schema(name: &str) -> Value {
    let path = format!("{SCHEMA_DIR}/{name}.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

#[track_caller]
fn assert_schema_valid(schema_name: &str, payload: &Value) {
    if let Err(error) = jsonschema::validate(&schema(schema_name), payload) {
        panic!("test payload is not a valid {schema_name}: {error}\n{payload:#}");
    }
}

/// Schema-valid JSON text -> typed value -> JSON: the same JSON.
#[track_caller]
fn round_trip<T: Serialize + DeserializeOwned>(schema_name: &str, payload: Value) -> T {
    assert_schema_valid(schema_name, &payload);
    let typed: T = serde_json::from_str(&payload.to_string())
        .unwrap_or_else(|e| panic!("deserialising {schema_name}: {e}\n{payload:#}"));
    let back = serde_json::to_value(&typed).expect("serialise");
    assert_eq!(back, payload, "{schema_name} did not round-trip");
    typed
}

#[track_caller]
fn request<R: OcppRequest>(payload: Value) -> R {
    round_trip(R::ACTION.request_schema_name(), payload)
}

#[track_caller]
fn response<R: OcppRequest>(payload: Value) -> R::Response {
    round_trip(R::ACTION.response_schema_name(), payload)
}

#[test]
fn boot_notification_round_trips() {
    let req: BootNotificationRequest = request(json!({
        "chargingStation": { "model": "SingleSocketCharger", "vendorName": "VendorX" },
        "reason": "PowerUp"
    }));
    assert_eq!(req.reason, BootReasonEnumType::PowerUp);
    assert_eq!(req.charging_station.model, "SingleSocketCharger");
    assert_eq!(req.charging_station.vendor_name, "VendorX");
    assert_eq!(req.charging_station.serial_number, None);
    assert_eq!(req.custom_data, None);

    let req: BootNotificationRequest = request(json!({
        "chargingStation": {
            "serialNumber": "SN-0042",
            "model": "DualSocket22",
            "modem": { "iccid": "8931440400000000001", "imsi": "204080000000001" },
            "vendorName": "VendorX",
            "firmwareVersion": "1.4.2"
        },
        "reason": "RemoteReset"
    }));
    let modem = req.charging_station.modem.expect("modem");
    assert_eq!(modem.iccid.as_deref(), Some("8931440400000000001"));
    assert_eq!(
        req.charging_station.firmware_version.as_deref(),
        Some("1.4.2")
    );

    let resp = response::<BootNotificationRequest>(json!({
        "currentTime": "2024-05-01T10:00:00Z",
        "interval": 300,
        "status": "Accepted"
    }));
    assert_eq!(
        resp.current_time,
        Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()
    );
    assert_eq!(resp.interval, 300);
    assert_eq!(resp.status, RegistrationStatusEnumType::Accepted);
}

#[test]
fn transaction_event_with_meter_values_round_trips() {
    let req: TransactionEventRequest = request(json!({
        "eventType": "Updated",
        "timestamp": "2024-05-01T10:15:30.123Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 3,
        "offline": false,
        "transactionInfo": { "transactionId": "TX-0001", "chargingState": "Charging" },
        "evse": { "id": 1, "connectorId": 1 },
        "idToken": { "idToken": "04A2B3C4D5E6F7", "type": "ISO14443" },
        "meterValue": [{
            "timestamp": "2024-05-01T10:15:30Z",
            "sampledValue": [
                {
                    "value": 1234.567,
                    "measurand": "Energy.Active.Import.Register",
                    "context": "Sample.Periodic",
                    "unitOfMeasure": { "unit": "kWh", "multiplier": 0 }
                },
                { "value": 16.5, "measurand": "Current.Import", "phase": "L1-N" },
                { "value": 7400, "measurand": "Power.Active.Import", "location": "Outlet" },
                { "value": -0.25, "measurand": "Power.Factor" },
                { "value": 0.1, "measurand": "SoC", "location": "EV", "unitOfMeasure": { "unit": "Percent" } }
            ]
        }]
    }));
    assert_eq!(req.event_type, TransactionEventEnumType::Updated);
    assert_eq!(
        req.trigger_reason,
        TriggerReasonEnumType::MeterValuePeriodic
    );
    assert_eq!(
        req.timestamp,
        Utc.with_ymd_and_hms(2024, 5, 1, 10, 15, 30).unwrap() + chrono::Duration::milliseconds(123)
    );
    assert_eq!(
        req.transaction_info.charging_state,
        Some(ChargingStateEnumType::Charging)
    );
    let id_token = req.id_token.expect("idToken");
    assert_eq!(id_token.r#type, IdTokenEnumType::Iso14443);
    let samples = &req.meter_value.as_ref().expect("meterValue")[0].sampled_value;
    assert_eq!(samples.len(), 5);
    assert_eq!(samples[0].value, Decimal::new(1_234_567, 3));
    assert_eq!(
        samples[0].measurand,
        Some(MeasurandEnumType::EnergyActiveImportRegister)
    );
    assert_eq!(samples[1].value, Decimal::new(165, 1));
    assert_eq!(samples[1].phase, Some(PhaseEnumType::L1N));
    assert_eq!(samples[2].value, Decimal::from(7400));
    assert_eq!(samples[3].value, Decimal::new(-25, 2));
    assert_eq!(samples[4].value, Decimal::new(1, 1));
    assert_eq!(samples[4].location, Some(LocationEnumType::Ev));

    let resp = response::<TransactionEventRequest>(json!({
        "totalCost": 12.35,
        "idTokenInfo": { "status": "Accepted", "evseId": [1, 2] }
    }));
    assert_eq!(resp.total_cost, Some(Decimal::new(1235, 2)));
    assert_eq!(
        resp.id_token_info.expect("idTokenInfo").evse_id,
        Some(vec![1, 2])
    );
}

#[test]
fn status_notification_round_trips() {
    let req: StatusNotificationRequest = request(json!({
        "timestamp": "2024-05-01T10:00:00Z",
        "connectorStatus": "Occupied",
        "evseId": 2,
        "connectorId": 1
    }));
    assert_eq!(req.connector_status, ConnectorStatusEnumType::Occupied);
    assert_eq!((req.evse_id, req.connector_id), (2, 1));
    let _: StatusNotificationResponse = response::<StatusNotificationRequest>(json!({}));
}

#[test]
fn notify_event_round_trips() {
    let req: NotifyEventRequest = request(json!({
        "generatedAt": "2024-05-01T10:00:00Z",
        "tbc": false,
        "seqNo": 0,
        "eventData": [
            {
                "eventId": 1,
                "timestamp": "2024-05-01T09:59:59Z",
                "trigger": "Delta",
                "actualValue": "Occupied",
                "component": { "name": "Connector", "evse": { "id": 1, "connectorId": 1 } },
                "variable": { "name": "AvailabilityState" },
                "eventNotificationType": "HardWiredNotification"
            },
            {
                "eventId": 2,
                "timestamp": "2024-05-01T09:59:59Z",
                "trigger": "Alerting",
                "cause": 1,
                "actualValue": "true",
                "techCode": "E042",
                "cleared": true,
                "component": { "name": "ChargingStation" },
                "variable": { "name": "Problem" },
                "variableMonitoringId": 7,
                "eventNotificationType": "CustomMonitor"
            }
        ]
    }));
    assert_eq!(req.event_data.len(), 2);
    assert_eq!(req.event_data[0].trigger, EventTriggerEnumType::Delta);
    assert_eq!(
        req.event_data[0].component.evse.as_ref().map(|e| e.id),
        Some(1)
    );
    assert_eq!(req.event_data[1].cleared, Some(true));
    assert_eq!(
        req.event_data[1].event_notification_type,
        EventNotificationEnumType::CustomMonitor
    );
}

#[test]
fn set_variables_round_trips() {
    let req: SetVariablesRequest = request(json!({
        "setVariableData": [
            {
                "attributeValue": "300",
                "component": { "name": "OCPPCommCtrlr" },
                "variable": { "name": "HeartbeatInterval" }
            },
            {
                "attributeType": "Target",
                "attributeValue": "32",
                "component": { "name": "SmartChargingCtrlr", "instance": "Limits" },
                "variable": { "name": "Limit", "instance": "Max" }
            }
        ]
    }));
    assert_eq!(req.set_variable_data[0].attribute_type, None);
    assert_eq!(
        req.set_variable_data[1].attribute_type,
        Some(AttributeEnumType::Target)
    );

    let resp = response::<SetVariablesRequest>(json!({
        "setVariableResult": [
            {
                "attributeStatus": "Accepted",
                "component": { "name": "OCPPCommCtrlr" },
                "variable": { "name": "HeartbeatInterval" }
            },
            {
                "attributeType": "Target",
                "attributeStatus": "RebootRequired",
                "attributeStatusInfo": { "reasonCode": "Reboot", "additionalInfo": "applies after reset" },
                "component": { "name": "SmartChargingCtrlr", "instance": "Limits" },
                "variable": { "name": "Limit", "instance": "Max" }
            }
        ]
    }));
    assert_eq!(
        resp.set_variable_result[1].attribute_status,
        SetVariableStatusEnumType::RebootRequired
    );
}

#[test]
fn absent_optional_fields_are_not_serialised() {
    let req = BootNotificationRequest {
        custom_data: None,
        charging_station: ChargingStationType {
            custom_data: None,
            serial_number: None,
            model: "M1".into(),
            modem: None,
            vendor_name: "V".into(),
            firmware_version: None,
        },
        reason: BootReasonEnumType::PowerUp,
    };
    let text = serde_json::to_string(&req).unwrap();
    assert!(!text.contains("null"), "{text}");
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({ "chargingStation": { "model": "M1", "vendorName": "V" }, "reason": "PowerUp" })
    );

    // Messages whose properties are all optional implement `Default`: the empty object.
    assert_eq!(
        serde_json::to_string(&HeartbeatRequest::default()).unwrap(),
        "{}"
    );
    assert_eq!(
        serde_json::to_string(&TransactionEventResponse::default()).unwrap(),
        "{}"
    );
    // An absent optional property and an explicit `null` both read as `None`.
    let resp: TransactionEventResponse =
        serde_json::from_value(json!({ "totalCost": null })).unwrap();
    assert_eq!(resp.total_cost, None);
}

#[test]
fn numbers_are_json_numbers() {
    let sample = |value: Decimal| SampledValueType {
        custom_data: None,
        value,
        context: None,
        measurand: None,
        phase: None,
        location: None,
        signed_meter_value: None,
        unit_of_measure: None,
    };
    let to_json = |value| serde_json::to_value(sample(value)).unwrap();
    assert_eq!(to_json(Decimal::from(230)), json!({ "value": 230 }));
    assert_eq!(to_json(Decimal::new(2300, 1)), json!({ "value": 230 }));
    assert_eq!(to_json(Decimal::new(-15, 0)), json!({ "value": -15 }));
    assert_eq!(to_json(Decimal::new(1, 1)), json!({ "value": 0.1 }));
    assert_eq!(
        to_json(Decimal::new(123_456, 3)),
        json!({ "value": 123.456 })
    );

    let parse = |text: &str| serde_json::from_str::<SampledValueType>(text).map(|s| s.value);
    assert_eq!(parse(r#"{"value": 0.1}"#).unwrap(), Decimal::new(1, 1));
    assert_eq!(parse(r#"{"value": 1e3}"#).unwrap(), Decimal::from(1000));
    assert_eq!(parse(r#"{"value": -7}"#).unwrap(), Decimal::from(-7));
    assert!(
        parse(r#"{"value": "12.5"}"#).is_err(),
        "a string is not a number"
    );
    assert!(parse(r#"{}"#).is_err(), "value is required");

    // Optional numbers: absent -> None, present -> the number.
    let limit = |text: &str| {
        serde_json::from_str::<VariableCharacteristicsType>(text)
            .unwrap()
            .max_limit
    };
    assert_eq!(
        limit(r#"{"dataType":"decimal","supportsMonitoring":false}"#),
        None
    );
    assert_eq!(
        limit(r#"{"dataType":"decimal","supportsMonitoring":false,"maxLimit":32.5}"#),
        Some(Decimal::new(325, 1))
    );
}

#[test]
fn custom_data_keeps_vendor_properties() {
    let req: HeartbeatRequest = request(json!({
        "customData": {
            "vendorId": "com.example",
            "uptimeSeconds": 86400,
            "diagnostics": { "temperature": 41.5, "fans": ["ok", "ok"] }
        }
    }));
    let custom = req.custom_data.expect("customData");
    assert_eq!(custom.vendor_id, "com.example");
    assert_eq!(custom.extra.get("uptimeSeconds"), Some(&json!(86400)));
    assert_eq!(custom.extra.len(), 2);
}

#[test]
fn data_transfer_data_is_any_json() {
    let req: DataTransferRequest = request(json!({
        "vendorId": "com.example",
        "messageId": "Ping",
        "data": { "nested": [1, "two", null, { "three": 3.5 }] }
    }));
    assert_eq!(
        req.data,
        Some(json!({ "nested": [1, "two", null, { "three": 3.5 }] }))
    );
    let resp = response::<DataTransferRequest>(json!({ "status": "Accepted", "data": "pong" }));
    assert_eq!(resp.data, Some(json!("pong")));
}

#[test]
fn invalid_enum_values_are_rejected() {
    let payload = json!({
        "chargingStation": { "model": "M", "vendorName": "V" },
        "reason": "powerup"
    });
    assert!(serde_json::from_value::<BootNotificationRequest>(payload).is_err());
}

#[test]
fn enums_match_their_schema_values() {
    /// `T::ALL`'s JSON values are exactly the schema's `enum`, in order, and `as_str`, `Display`
    /// and serde agree on each.
    fn check<T>(schema_name: &str, definition: &str, all: &[T])
    where
        T: Serialize + DeserializeOwned + std::fmt::Display + PartialEq + std::fmt::Debug + Copy,
    {
        let expected = schema(schema_name)["definitions"][definition]["enum"].clone();
        let values: Vec<Value> = all
            .iter()
            .map(|v| serde_json::to_value(v).unwrap())
            .collect();
        assert_eq!(Value::Array(values.clone()), expected, "{definition}");
        for (variant, value) in all.iter().zip(&values) {
            assert_eq!(value.as_str(), Some(variant.to_string().as_str()));
            assert_eq!(
                serde_json::from_value::<T>(value.clone()).unwrap(),
                *variant
            );
        }
    }
    check(
        "MeterValuesRequest",
        "MeasurandEnumType",
        &MeasurandEnumType::ALL,
    );
    check("MeterValuesRequest", "PhaseEnumType", &PhaseEnumType::ALL);
    check(
        "MeterValuesRequest",
        "ReadingContextEnumType",
        &ReadingContextEnumType::ALL,
    );
    check(
        "NotifyEVChargingNeedsRequest",
        "EnergyTransferModeEnumType",
        &EnergyTransferModeEnumType::ALL,
    );
    check(
        "TransactionEventRequest",
        "TriggerReasonEnumType",
        &TriggerReasonEnumType::ALL,
    );
    check(
        "TransactionEventRequest",
        "ReasonEnumType",
        &ReasonEnumType::ALL,
    );
    check(
        "SetNetworkProfileRequest",
        "APNAuthenticationEnumType",
        &ApnAuthenticationEnumType::ALL,
    );
    check("SetNetworkProfileRequest", "VPNEnumType", &VpnEnumType::ALL);
    check(
        "GetInstalledCertificateIdsRequest",
        "GetCertificateIdUseEnumType",
        &GetCertificateIdUseEnumType::ALL,
    );
    assert_eq!(MeasurandEnumType::CurrentExport.as_str(), "Current.Export");
    assert_eq!(PhaseEnumType::L1L2.to_string(), "L1-L2");
    assert_eq!(
        GetCertificateIdUseEnumType::CsmsRootCertificate.as_str(),
        "CSMSRootCertificate"
    );

    // The schema's `default` of an enum definition is its `Default`.
    assert_eq!(AttributeEnumType::default(), AttributeEnumType::Actual);
    assert_eq!(
        MeasurandEnumType::default(),
        MeasurandEnumType::EnergyActiveImportRegister
    );
}

#[test]
fn exactly_64_actions_each_with_its_schemas() {
    assert_eq!(Action::ALL.len(), 64);
    let distinct: BTreeSet<Action> = Action::ALL.into_iter().collect();
    assert_eq!(distinct.len(), 64);

    let files: BTreeSet<String> = std::fs::read_dir(SCHEMA_DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let mut expected = BTreeSet::new();
    for action in Action::ALL {
        let name = action.as_str();
        assert_eq!(Action::from_str(name), Ok(action));
        assert_eq!(name.parse::<Action>(), Ok(action));
        assert_eq!(action.to_string(), name);
        assert_eq!(serde_json::to_value(action).unwrap(), json!(name));
        assert_eq!(
            serde_json::from_value::<Action>(json!(name)).unwrap(),
            action
        );
        assert_eq!(action.request_schema_name(), format!("{name}Request"));
        assert_eq!(action.response_schema_name(), format!("{name}Response"));
        for schema_name in [action.request_schema_name(), action.response_schema_name()] {
            let file = format!("{schema_name}.json");
            assert!(files.contains(&file), "missing schema {file}");
            expected.insert(file);
        }
    }
    assert_eq!(files, expected, "schema files without an Action");
}

#[test]
fn action_names_are_exact() {
    assert_eq!(Action::BootNotification.as_str(), "BootNotification");
    assert_eq!(
        Action::NotifyEvChargingNeeds.as_str(),
        "NotifyEVChargingNeeds"
    );
    assert_eq!(
        Action::Get15118EvCertificate.request_schema_name(),
        "Get15118EVCertificateRequest"
    );
    assert_eq!(
        "bootnotification".parse::<Action>(),
        Err(UnknownAction("bootnotification".into()))
    );
    assert!("NotifyEvChargingNeeds".parse::<Action>().is_err());
    assert!(" Heartbeat".parse::<Action>().is_err());
    assert!("".parse::<Action>().is_err());
    assert_eq!(
        UnknownAction("Foo".into()).to_string(),
        "unknown OCPP 2.0.1 action `Foo`"
    );
}

#[test]
fn initiators_follow_the_specification() {
    use Initiator::*;
    assert_eq!(Action::BootNotification.initiator(), ChargingStation);
    assert_eq!(Action::TransactionEvent.initiator(), ChargingStation);
    assert_eq!(
        Action::NotifyEvChargingSchedule.initiator(),
        ChargingStation
    );
    assert_eq!(Action::ReservationStatusUpdate.initiator(), ChargingStation);
    assert_eq!(Action::DataTransfer.initiator(), Either);
    assert_eq!(Action::RequestStartTransaction.initiator(), Csms);
    assert_eq!(Action::SetVariables.initiator(), Csms);
    assert_eq!(Action::CostUpdated.initiator(), Csms);
    assert_eq!(Action::PublishFirmware.initiator(), Csms);
    let count = |who| Action::ALL.iter().filter(|a| a.initiator() == who).count();
    assert_eq!(
        (count(ChargingStation), count(Csms), count(Either)),
        (24, 39, 1)
    );
}

#[test]
fn requests_know_their_action_and_response() {
    fn action_of<R: OcppRequest>() -> Action {
        R::ACTION
    }
    assert_eq!(
        action_of::<BootNotificationRequest>(),
        Action::BootNotification
    );
    assert_eq!(
        action_of::<NotifyEvChargingNeedsRequest>(),
        Action::NotifyEvChargingNeeds
    );
    assert_eq!(action_of::<DataTransferRequest>(), Action::DataTransfer);
    assert_eq!(action_of::<HeartbeatRequest>(), Action::Heartbeat);

    // The associated response type is the matching schema's type.
    let resp: <HeartbeatRequest as OcppRequest>::Response =
        response::<HeartbeatRequest>(json!({ "currentTime": "2024-05-01T10:00:00Z" }));
    let _: HeartbeatResponse = resp;
}

#[test]
fn irregular_property_names_round_trip() {
    // `responderURL`, `eMAID`, `type` (a Rust keyword: `r#type`).
    let req: AuthorizeRequest = request(json!({
        "idToken": { "idToken": "NL-ABC-C12345678-X", "type": "eMAID" },
        "iso15118CertificateHashData": [{
            "hashAlgorithm": "SHA256",
            "issuerNameHash": "aa11",
            "issuerKeyHash": "bb22",
            "serialNumber": "0c",
            "responderURL": "http://ocsp.example.com"
        }]
    }));
    assert_eq!(req.id_token.r#type, IdTokenEnumType::EMaid);
    let ocsp = &req.iso15118_certificate_hash_data.as_ref().unwrap()[0];
    assert_eq!(ocsp.responder_url, "http://ocsp.example.com");
    assert_eq!(ocsp.hash_algorithm, HashAlgorithmEnumType::Sha256);

    // `language1`, `evseId` as an array of integers.
    let _ = response::<AuthorizeRequest>(json!({
        "idTokenInfo": { "status": "Accepted", "language1": "nl", "evseId": [1] }
    }));

    // `fullSoC`, `bulkSoC`.
    let req: NotifyEvChargingNeedsRequest = request(json!({
        "evseId": 1,
        "maxScheduleTuples": 10,
        "chargingNeeds": {
            "requestedEnergyTransfer": "DC",
            "departureTime": "2024-05-01T18:00:00Z",
            "dcChargingParameters": {
                "evMaxCurrent": 200,
                "evMaxVoltage": 500,
                "energyAmount": 30000,
                "stateOfCharge": 40,
                "fullSoC": 100,
                "bulkSoC": 80
            }
        }
    }));
    let dc = req.charging_needs.dc_charging_parameters.unwrap();
    assert_eq!((dc.full_soc, dc.bulk_soc), (Some(100), Some(80)));

    // `numEPriceLevels`, `ePriceLevel`, number limits.
    let req: SetChargingProfileRequest = request(json!({
        "evseId": 1,
        "chargingProfile": {
            "id": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "chargingSchedule": [{
                "id": 1,
                "startSchedule": "2024-05-01T00:00:00Z",
                "chargingRateUnit": "A",
                "minChargingRate": 6.5,
                "chargingSchedulePeriod": [
                    { "startPeriod": 0, "limit": 16 },
                    { "startPeriod": 3600, "limit": 11.5, "numberPhases": 1, "phaseToUse": 1 }
                ],
                "salesTariff": {
                    "id": 1,
                    "numEPriceLevels": 2,
                    "salesTariffEntry": [
                        { "relativeTimeInterval": { "start": 0, "duration": 3600 }, "ePriceLevel": 1 },
                        { "relativeTimeInterval": { "start": 3600 }, "ePriceLevel": 2 }
                    ]
                }
            }]
        }
    }));
    let schedule = &req.charging_profile.charging_schedule[0];
    assert_eq!(
        schedule.charging_schedule_period[1].limit,
        Decimal::new(115, 1)
    );
    let tariff = schedule.sales_tariff.as_ref().unwrap();
    assert_eq!(tariff.num_e_price_levels, Some(2));
    assert_eq!(tariff.sales_tariff_entry[0].e_price_level, Some(1));

    // `iso15118SchemaVersion`, `type` on a message.
    let req: Get15118EvCertificateRequest = request(json!({
        "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install",
        "exiRequest": "gAB="
    }));
    assert_eq!(req.action, CertificateActionEnumType::Install);
    let req: ResetRequest = request(json!({ "type": "OnIdle", "evseId": 1 }));
    assert_eq!(req.r#type, ResetEnumType::OnIdle);
}

#[test]
fn schema_check_in_these_tests_is_not_vacuous() {
    let missing_reason = json!({ "chargingStation": { "model": "M", "vendorName": "V" } });
    assert!(jsonschema::validate(&schema("BootNotificationRequest"), &missing_reason).is_err());
    let unknown_property = json!({ "currentTime": "2024-05-01T10:00:00Z", "extra": 1 });
    assert!(jsonschema::validate(&schema("HeartbeatResponse"), &unknown_property).is_err());
}
