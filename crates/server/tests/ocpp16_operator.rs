//! OCPP 1.6J, Central-System-initiated, against a real server over real sockets (issue 18): the
//! operator uses the SAME REST endpoints as for a 2.0.1 station, and the CSMS translates each
//! request for the 1.6 charge point — or refuses it with a 400 that says why when 1.6 cannot
//! express it. Each test is named after the 1.6 message (1.6 specification, section 5; Remote
//! Trigger profile for TriggerMessage) and asserts the 1.6 request the station got as well as
//! the API's answer.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpp16_common/mod.rs"]
mod ocpp16_common;

use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::json;
use unicharge_ocpp::v16::{
    AvailabilityStatus, AvailabilityType, ChangeAvailabilityRequest, ChangeAvailabilityResponse,
    ChangeConfigurationRequest, ChangeConfigurationResponse, ClearCacheRequest, ClearCacheResponse,
    ClearCacheStatus, ConfigurationStatus, GetConfigurationRequest, GetConfigurationResponse,
    KeyValue, MessageTrigger, RemoteStartStopStatus, RemoteStartTransactionRequest,
    RemoteStartTransactionResponse, RemoteStopTransactionRequest, RemoteStopTransactionResponse,
    ResetRequest, ResetResponse, ResetStatus, ResetType, TriggerMessageRequest,
    TriggerMessageResponse, TriggerMessageStatus, UnlockConnectorRequest, UnlockConnectorResponse,
    UnlockStatus,
};

use ocpp16_common::{booted16, operate, start, start_request};

const CP: &str = "CP16-OP";

/// RemoteStartTransaction: the operator's start (idToken + EVSE) reaches the charge point as
/// idTag + connectorId.
#[tokio::test]
async fn ocpp16_core_remote_start_transaction() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (request, status, body) = operate::<RemoteStartTransactionRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/transactions/start"),
        json!({"idToken": {"idToken": "DRIVER-R", "type": "ISO14443"}, "evseId": 2}),
        RemoteStartTransactionResponse {
            status: RemoteStartStopStatus::Accepted,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.id_tag, "DRIVER-R");
    assert_eq!(request.connector_id, Some(2));
    assert_eq!(body["status"], "Accepted", "{body}");
    assert!(body["remoteStartId"].is_i64(), "{body}");

    // A profile that is not a TxProfile cannot go with a 1.6 remote start: 400, nothing sent.
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/stations/{CP}/transactions/start"),
            Some(json!({"idToken": {"idToken": "DRIVER-R", "type": "ISO14443"}, "evseId": 1,
                "chargingProfile": {"id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative", "chargingSchedule": [{"id": 1,
                "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}]}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// RemoteStartTransaction with a charging profile: the operator's TxProfile reaches the charge
/// point as the 1.6 chargingProfile, and the StartTransaction that follows (same idTag and
/// connector) is linked to the remoteStartId the operator got, which the API shows on the
/// transaction. A local start of another idTag, and one after a refused remote start, are not
/// linked.
#[tokio::test]
async fn ocpp16_core_remote_start_transaction_with_charging_profile() {
    use unicharge_ocpp::v16::{
        ChargingProfileKindType, ChargingProfilePurposeType, ChargingRateUnitType,
    };
    let (csms, api) = start(&[CP]).await;
    for tag in ["DRIVER-P", "DRIVER-L"] {
        api.ok(
            Method::PUT,
            &format!("/tokens/ISO14443/{tag}"),
            Some(json!({"status": "Accepted"})),
        )
        .await;
    }
    let mut station = booted16(&csms, CP).await;
    let (request, status, body) = operate::<RemoteStartTransactionRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/transactions/start"),
        json!({"idToken": {"idToken": "DRIVER-P", "type": "ISO14443"}, "evseId": 1,
            "chargingProfile": {"id": 71, "stackLevel": 2, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative", "chargingSchedule": [{"id": 1,
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 13.5},
            {"startPeriod": 600, "limit": 8}]}]}}),
        RemoteStartTransactionResponse {
            status: RemoteStartStopStatus::Accepted,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let remote_start_id = body["remoteStartId"].as_i64().expect("a remoteStartId");
    let profile = request.charging_profile.expect("the TxProfile goes along");
    assert_eq!(profile.charging_profile_id, 71);
    assert_eq!(profile.stack_level, 2);
    assert_eq!(
        profile.charging_profile_purpose,
        ChargingProfilePurposeType::TxProfile
    );
    assert_eq!(
        profile.charging_profile_kind,
        ChargingProfileKindType::Relative
    );
    assert_eq!(profile.transaction_id, None);
    let schedule = profile.charging_schedule;
    assert_eq!(schedule.charging_rate_unit, ChargingRateUnitType::A);
    let periods: Vec<_> = schedule
        .charging_schedule_period
        .iter()
        .map(|p| (p.start_period, p.limit.to_string()))
        .collect();
    assert_eq!(periods, [(0, "13.5".to_string()), (600, "8".to_string())]);

    // The charge point starts it: the transaction carries the operator's remoteStartId.
    let started = station
        .call16(&start_request("DRIVER-P", 100, Utc::now()))
        .await
        .unwrap();
    let tx = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/transactions/{}", started.transaction_id),
            None,
        )
        .await;
    assert_eq!(tx["remoteStartId"], remote_start_id, "{tx}");

    // A refused remote start links nothing; neither does a start of another idTag.
    let (_, _, body) = operate::<RemoteStartTransactionRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/transactions/start"),
        json!({"idToken": {"idToken": "DRIVER-L", "type": "ISO14443"}, "evseId": 2}),
        RemoteStartTransactionResponse {
            status: RemoteStartStopStatus::Rejected,
        },
    )
    .await;
    assert_eq!(body["status"], "Rejected", "{body}");
    let mut local = start_request("DRIVER-L", 0, Utc::now());
    local.connector_id = 2;
    let started = station.call16(&local).await.unwrap();
    let tx = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/transactions/{}", started.transaction_id),
            None,
        )
        .await;
    assert!(tx["remoteStartId"].is_null(), "{tx}");
}

/// RemoteStopTransaction: the CSMS-allocated integer id goes back as a number; a transaction id
/// that cannot be a 1.6 one is a 400.
#[tokio::test]
async fn ocpp16_core_remote_stop_transaction() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let started = station
        .call16(&start_request("DRIVER-R", 0, Utc::now()))
        .await
        .unwrap();
    let tx = started.transaction_id;
    let (request, status, body) = operate::<RemoteStopTransactionRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/transactions/{tx}/stop"),
        json!({}),
        RemoteStopTransactionResponse {
            status: RemoteStartStopStatus::Rejected,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.transaction_id, tx);
    assert_eq!(body["status"], "Rejected", "{body}");

    let (status, body) = api
        .call(
            Method::POST,
            &format!("/stations/{CP}/transactions/TX-NOT-AN-INT/stop"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "not_expressible_in_ocpp16", "{body}");
}

/// Reset: Immediate is a Hard reset, OnIdle a Soft one; 1.6 cannot reset one EVSE (400).
#[tokio::test]
async fn ocpp16_core_reset() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    for (kind, expected) in [("Immediate", ResetType::Hard), ("OnIdle", ResetType::Soft)] {
        let (request, status, body) = operate::<ResetRequest>(
            &api,
            &mut station,
            &format!("/stations/{CP}/reset"),
            json!({"type": kind}),
            ResetResponse {
                status: ResetStatus::Accepted,
            },
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(request.r#type, expected);
        assert_eq!(body["status"], "Accepted", "{body}");
    }
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/stations/{CP}/reset"),
            Some(json!({"type": "Immediate", "evseId": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "not_expressible_in_ocpp16", "{body}");
}

/// UnlockConnector: EVSE n, connector 1 is 1.6 connector n; 1.6's NotSupported reads as
/// UnlockFailed.
#[tokio::test]
async fn ocpp16_core_unlock_connector() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (request, status, body) = operate::<UnlockConnectorRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/unlock"),
        json!({"evseId": 2, "connectorId": 1}),
        UnlockConnectorResponse {
            status: UnlockStatus::Unlocked,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.connector_id, 2);
    assert_eq!(body["status"], "Unlocked", "{body}");
    let (_, status, body) = operate::<UnlockConnectorRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/unlock"),
        json!({"evseId": 1, "connectorId": 1}),
        UnlockConnectorResponse {
            status: UnlockStatus::NotSupported,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "UnlockFailed", "{body}");
}

/// ChangeAvailability: a whole-station change is connector 0; an EVSE's is its connector.
#[tokio::test]
async fn ocpp16_core_change_availability() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (request, status, body) = operate::<ChangeAvailabilityRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/availability"),
        json!({"operationalStatus": "Inoperative"}),
        ChangeAvailabilityResponse {
            status: AvailabilityStatus::Scheduled,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.connector_id, 0);
    assert_eq!(request.r#type, AvailabilityType::Inoperative);
    assert_eq!(body["status"], "Scheduled", "{body}");
    let (request, _, body) = operate::<ChangeAvailabilityRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/availability"),
        json!({"operationalStatus": "Operative", "evseId": 2}),
        ChangeAvailabilityResponse {
            status: AvailabilityStatus::Accepted,
        },
    )
    .await;
    assert_eq!(request.connector_id, 2);
    assert_eq!(request.r#type, AvailabilityType::Operative);
    assert_eq!(body["status"], "Accepted", "{body}");
}

/// ChangeConfiguration through the variables endpoint: the variable name is the 1.6 key.
#[tokio::test]
async fn ocpp16_core_change_configuration() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (request, status, body) = operate::<ChangeConfigurationRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/variables/set"),
        json!({"items": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "120"}]}),
        ChangeConfigurationResponse {
            status: ConfigurationStatus::RebootRequired,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.key, "HeartbeatInterval");
    assert_eq!(request.value, "120");
    let result = &body["results"][0];
    assert_eq!(result["attributeStatus"], "RebootRequired", "{body}");
    assert_eq!(result["variable"]["name"], "HeartbeatInterval", "{body}");
}

/// GetConfiguration through the variables endpoint: known keys are Accepted with their value,
/// unknown ones UnknownVariable.
#[tokio::test]
async fn ocpp16_core_get_configuration() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (request, status, body) = operate::<GetConfigurationRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/variables/get"),
        json!({"items": [{"component": "Core", "variable": "MeterValueSampleInterval"},
            {"component": "Core", "variable": "NoSuchKey"}]}),
        GetConfigurationResponse {
            configuration_key: Some(vec![KeyValue {
                key: "MeterValueSampleInterval".into(),
                readonly: false,
                value: Some("60".into()),
            }]),
            unknown_key: Some(vec!["NoSuchKey".into()]),
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        request.key,
        Some(vec!["MeterValueSampleInterval".into(), "NoSuchKey".into()])
    );
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["attributeStatus"], "Accepted", "{body}");
    assert_eq!(results[0]["attributeValue"], "60", "{body}");
    assert_eq!(results[1]["attributeStatus"], "UnknownVariable", "{body}");
}

/// TriggerMessage (Remote Trigger profile): the messages both versions name alike; one only
/// 2.0.1 has is a 400.
#[tokio::test]
async fn ocpp16_remote_trigger_trigger_message() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (request, status, body) = operate::<TriggerMessageRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/trigger"),
        json!({"requestedMessage": "StatusNotification", "evseId": 1}),
        TriggerMessageResponse {
            status: TriggerMessageStatus::Accepted,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        request.requested_message,
        MessageTrigger::StatusNotification
    );
    assert_eq!(request.connector_id, Some(1));
    assert_eq!(body["status"], "Accepted", "{body}");
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/stations/{CP}/trigger"),
            Some(json!({"requestedMessage": "SignV2GCertificate"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "not_expressible_in_ocpp16", "{body}");
}

/// ClearCache: the same message in both versions.
#[tokio::test]
async fn ocpp16_core_clear_cache() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (_, status, body) = operate::<ClearCacheRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/clear-cache"),
        json!({}),
        ClearCacheResponse {
            status: ClearCacheStatus::Rejected,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Rejected", "{body}");
}

/// A request 1.6 has no message for (here SetMonitoringBase through the generic command endpoint)
/// is refused with a 400 naming the reason, and nothing reaches the charge point.
#[tokio::test]
async fn ocpp16_core_untranslatable_request_is_refused() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/stations/{CP}/ocpp/SetMonitoringBase"),
            Some(json!({"monitoringBase": "All"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "not_expressible_in_ocpp16", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("SetMonitoringBase"),
        "{body}"
    );
    // The station still works and got nothing in between.
    station
        .call16(&unicharge_ocpp::v16::HeartbeatRequest {})
        .await
        .unwrap();
}
