//! OCPP 1.6J feature profiles beyond Core — Local Auth List Management, Reservation, Smart
//! Charging, and Firmware Management's notifications — through the same operator REST endpoints as 2.0.1, against a real server over real
//! sockets (issue 18). Each test is named `ocpp16_<profile>_<message>` and asserts the 1.6
//! request the charge point got and the API's answer.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpp16_common/mod.rs"]
mod ocpp16_common;

use chrono::Utc;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;
use unicharge_ocpp::v16::{
    AuthorizationStatus, CancelReservationRequest, CancelReservationResponse,
    CancelReservationStatus, ChargingProfileKindType, ChargingProfilePurposeType,
    ChargingProfileStatus, ChargingRateUnitType, ChargingSchedule, ChargingSchedulePeriod,
    ClearChargingProfileRequest, ClearChargingProfileResponse, ClearChargingProfileStatus,
    DiagnosticsStatus, DiagnosticsStatusNotificationRequest, FirmwareStatus,
    FirmwareStatusNotificationRequest, GetCompositeScheduleRequest, GetCompositeScheduleResponse,
    GetCompositeScheduleStatus, GetLocalListVersionRequest, GetLocalListVersionResponse,
    ReservationStatus, ReserveNowRequest, ReserveNowResponse, SendLocalListRequest,
    SendLocalListResponse, SetChargingProfileRequest, SetChargingProfileResponse, UpdateStatus,
    UpdateType,
};

use ocpp16_common::{booted16, operate, start};

const CP: &str = "CP16-PR";

/// SendLocalList: the operator's full list reaches the charge point as idTags with the token
/// store's idTagInfo (group → parentIdTag).
#[tokio::test]
async fn ocpp16_local_auth_list_send_local_list() {
    let (csms, api) = start(&[CP]).await;
    api.ok(
        Method::PUT,
        "/tokens/ISO14443/LIST-1",
        Some(json!({"status": "Accepted", "groupIdToken": "FLEET-L"})),
    )
    .await;
    let mut station = booted16(&csms, CP).await;
    // D01: the CSMS reads the station's list version first, then sends the list.
    let call = {
        let api = api.clone();
        tokio::spawn(async move {
            api.call(
                Method::POST,
                &format!("/stations/{CP}/local-list"),
                Some(json!({"entries": [{"idToken": "LIST-1", "type": "ISO14443"}]})),
            )
            .await
        })
    };
    let (id, _) = station
        .expect_call16::<GetLocalListVersionRequest>()
        .await
        .unwrap();
    station
        .respond16::<GetLocalListVersionRequest>(
            &id,
            &GetLocalListVersionResponse { list_version: 0 },
        )
        .await
        .unwrap();
    let (id, request) = station
        .expect_call16::<SendLocalListRequest>()
        .await
        .unwrap();
    station
        .respond16::<SendLocalListRequest>(
            &id,
            &SendLocalListResponse {
                status: UpdateStatus::Accepted,
            },
        )
        .await
        .unwrap();
    let (status, body) = call.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.update_type, UpdateType::Full);
    assert!(request.list_version > 0);
    let entries = request.local_authorization_list.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id_tag, "LIST-1");
    let info = entries[0].id_tag_info.as_ref().unwrap();
    assert_eq!(info.status, AuthorizationStatus::Accepted);
    assert_eq!(info.parent_id_tag.as_deref(), Some("FLEET-L"));
    assert_eq!(body["status"], "Accepted", "{body}");
    assert_eq!(body["versionNumber"], json!(request.list_version), "{body}");
}

/// GetLocalListVersion: listVersion read back as the 2.0.1 versionNumber.
#[tokio::test]
async fn ocpp16_local_auth_list_get_local_list_version() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (_, status, body) = operate::<GetLocalListVersionRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/local-list/version"),
        json!({}),
        GetLocalListVersionResponse { list_version: 7 },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.to_string().contains('7'), "{body}");
}

/// ReserveNow: EVSE n is connector n, the CSMS's reservation id is the 1.6 reservationId, the
/// group is the parentIdTag.
#[tokio::test]
async fn ocpp16_reservation_reserve_now() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (request, status, body) = operate::<ReserveNowRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/reservations"),
        json!({"idToken": {"idToken": "RES-1", "type": "ISO14443"},
            "groupIdToken": {"idToken": "FLEET-R", "type": "Central"},
            "evseId": 2, "expiresInSeconds": 900}),
        ReserveNowResponse {
            status: ReservationStatus::Occupied,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.connector_id, 2);
    assert_eq!(request.id_tag, "RES-1");
    assert_eq!(request.parent_id_tag.as_deref(), Some("FLEET-R"));
    let expires_in = (request.expiry_date - Utc::now()).num_seconds();
    assert!((890..=900).contains(&expires_in), "{expires_in}");
    assert_eq!(body["status"], "Occupied", "{body}");
    assert!(
        body.to_string()
            .contains(&request.reservation_id.to_string()),
        "{body}"
    );
}

/// CancelReservation: the reservation's id goes back unchanged.
#[tokio::test]
async fn ocpp16_reservation_cancel_reservation() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (reserved, _, _) = operate::<ReserveNowRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/reservations"),
        json!({"idToken": {"idToken": "RES-2", "type": "ISO14443"}, "evseId": 1,
            "expiresInSeconds": 600}),
        ReserveNowResponse {
            status: ReservationStatus::Accepted,
        },
    )
    .await;
    let (request, status, body) = operate::<CancelReservationRequest>(
        &api,
        &mut station,
        &format!(
            "/stations/{CP}/reservations/{}/cancel",
            reserved.reservation_id
        ),
        json!({}),
        CancelReservationResponse {
            status: CancelReservationStatus::Accepted,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.reservation_id, reserved.reservation_id);
    assert_eq!(body["status"], "Accepted", "{body}");
}

/// SetChargingProfile: a TxDefaultProfile reaches the charge point with its one schedule,
/// limits as numbers; ChargingStationMaxProfile would be ChargePointMaxProfile.
#[tokio::test]
async fn ocpp16_smart_charging_set_charging_profile() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (request, status, body) = operate::<SetChargingProfileRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/charging-profiles"),
        json!({"evseId": 1, "chargingProfile": {"id": 41, "stackLevel": 1,
            "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
            "chargingSchedule": [{"id": 1, "startSchedule": "2026-01-01T00:00:00Z",
            "chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.5, "numberPhases": 3},
                {"startPeriod": 3600, "limit": 8}]}]}}),
        SetChargingProfileResponse {
            status: ChargingProfileStatus::Accepted,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.connector_id, 1);
    let p = &request.cs_charging_profiles;
    assert_eq!(p.charging_profile_id, 41);
    assert_eq!(p.stack_level, 1);
    assert_eq!(
        p.charging_profile_purpose,
        ChargingProfilePurposeType::TxDefaultProfile
    );
    assert_eq!(p.charging_profile_kind, ChargingProfileKindType::Absolute);
    assert_eq!(
        p.charging_schedule.charging_rate_unit,
        ChargingRateUnitType::A
    );
    let periods = &p.charging_schedule.charging_schedule_period;
    assert_eq!(periods.len(), 2);
    assert_eq!(periods[0].limit, "16.5".parse::<Decimal>().unwrap());
    assert_eq!(periods[0].number_phases, Some(3));
    assert_eq!(periods[1].start_period, 3600);
    assert_eq!(body["status"], "Accepted", "{body}");

    // 1.6 has no external-constraints profiles: 400 before anything is sent.
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/stations/{CP}/charging-profiles"),
            Some(json!({"evseId": 0, "chargingProfile": {"id": 42, "stackLevel": 0,
                "chargingProfilePurpose": "ChargingStationExternalConstraints",
                "chargingProfileKind": "Relative", "chargingSchedule": [{"id": 1,
                "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1000}]}]}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// ClearChargingProfile: by id, and by criteria (EVSE → connector, purpose, stack level).
#[tokio::test]
async fn ocpp16_smart_charging_clear_charging_profile() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (request, status, body) = operate::<ClearChargingProfileRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/charging-profiles/clear"),
        json!({"evseId": 2, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 3}),
        ClearChargingProfileResponse {
            status: ClearChargingProfileStatus::Unknown,
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.connector_id, Some(2));
    assert_eq!(
        request.charging_profile_purpose,
        Some(ChargingProfilePurposeType::TxDefaultProfile)
    );
    assert_eq!(request.stack_level, Some(3));
    assert_eq!(body["status"], "Unknown", "{body}");
}

/// GetCompositeSchedule: the 1.6 schedule comes back as the composite schedule.
#[tokio::test]
async fn ocpp16_smart_charging_get_composite_schedule() {
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let start_at = Utc::now();
    let (request, status, body) = operate::<GetCompositeScheduleRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/composite-schedules"),
        json!({"evseId": 1, "duration": 3600, "chargingRateUnit": "W"}),
        GetCompositeScheduleResponse {
            status: GetCompositeScheduleStatus::Accepted,
            connector_id: Some(1),
            schedule_start: Some(start_at),
            charging_schedule: Some(ChargingSchedule {
                duration: Some(3600),
                start_schedule: Some(start_at),
                charging_rate_unit: ChargingRateUnitType::W,
                charging_schedule_period: vec![ChargingSchedulePeriod {
                    start_period: 0,
                    limit: Decimal::from(7400),
                    number_phases: None,
                }],
                min_charging_rate: None,
            }),
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(request.connector_id, 1);
    assert_eq!(request.duration, 3600);
    assert_eq!(request.charging_rate_unit, Some(ChargingRateUnitType::W));
    let text = body.to_string();
    assert!(text.contains("7400"), "{body}");
    assert!(text.contains("Accepted"), "{body}");
}

/// FirmwareStatusNotification: kept as a station notice like 2.0.1's (L01), same status names.
#[tokio::test]
async fn ocpp16_firmware_firmware_status_notification() {
    let (csms, _api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    for status in [
        FirmwareStatus::Downloading,
        FirmwareStatus::InstallationFailed,
    ] {
        station
            .call16(&FirmwareStatusNotificationRequest { status })
            .await
            .unwrap();
    }
    let id = unicharge_core::StationId::new(CP).unwrap();
    let notices = csms.server.store.station_notices(&id, 10).await.unwrap();
    let statuses: Vec<_> = notices
        .iter()
        .filter(|n| n.kind == "FirmwareStatusNotification")
        .map(|n| n.status.as_str())
        .collect();
    // Newest first.
    assert_eq!(
        statuses,
        ["InstallationFailed", "Downloading"],
        "{notices:?}"
    );
}

/// DiagnosticsStatusNotification: a log upload's status (N01); UploadFailed is UploadFailure.
#[tokio::test]
async fn ocpp16_firmware_diagnostics_status_notification() {
    let (csms, _api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    station
        .call16(&DiagnosticsStatusNotificationRequest {
            status: DiagnosticsStatus::UploadFailed,
        })
        .await
        .unwrap();
    let id = unicharge_core::StationId::new(CP).unwrap();
    let notices = csms.server.store.station_notices(&id, 10).await.unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n.kind == "LogStatusNotification" && n.status == "UploadFailure"),
        "{notices:?}"
    );
}

/// SignCertificate (security whitepaper): the CSR is signed by the CSMS's CA, Accepted, and
/// the chain delivered with a 1.6 CertificateSigned after the answer.
#[tokio::test]
async fn ocpp16_security_sign_certificate() {
    use unicharge_ocpp::v16::{
        CertificateSignedRequest, CertificateSignedResponse, CertificateSignedStatusEnumType,
        GenericStatusEnumType, SignCertificateRequest,
    };
    let (csms, _api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let (_key, csr) = unicharge_sim::octt::states::station_csr(CP).unwrap();
    let answer = station
        .call16(&SignCertificateRequest { csr })
        .await
        .unwrap();
    assert_eq!(answer.status, GenericStatusEnumType::Accepted);
    let (id, signed) = station
        .expect_call16::<CertificateSignedRequest>()
        .await
        .unwrap();
    station
        .respond16::<CertificateSignedRequest>(
            &id,
            &CertificateSignedResponse {
                status: CertificateSignedStatusEnumType::Accepted,
            },
        )
        .await
        .unwrap();
    let leaf = openssl::x509::X509::stack_from_pem(signed.certificate_chain.as_bytes()).unwrap();
    let cn = leaf[0]
        .subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .unwrap()
        .data()
        .as_slice()
        .to_vec();
    let cn = String::from_utf8(cn).unwrap();
    assert_eq!(cn, CP);
}

/// SecurityEventNotification (security whitepaper): stored like 2.0.1's (A04).
#[tokio::test]
async fn ocpp16_security_security_event_notification() {
    let (csms, _api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    station
        .call16(&unicharge_ocpp::v16::SecurityEventNotificationRequest {
            r#type: "FirmwareUpdated".into(),
            timestamp: Utc::now(),
            tech_info: Some("1.6.1".into()),
        })
        .await
        .unwrap();
    let id = unicharge_core::StationId::new(CP).unwrap();
    let events = csms.server.store.security_events(&id, 10).await.unwrap();
    assert!(
        format!("{events:?}").contains("FirmwareUpdated"),
        "{events:?}"
    );
}

/// UpdateFirmware through the same REST endpoint as for 2.0.1: the 1.6 request carries the
/// location, retrieve date and retries, the empty 1.6 answer reads Accepted, and the 1.6
/// FirmwareStatusNotifications (which name no request) are followed under the requestId the
/// operator got, up to Installed.
#[tokio::test]
async fn ocpp16_firmware_update_firmware() {
    use unicharge_ocpp::v16::{UpdateFirmwareRequest, UpdateFirmwareResponse};
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let retrieve = Utc::now() + chrono::Duration::minutes(5);
    let (request, status, body) = operate::<UpdateFirmwareRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/firmware/updates"),
        json!({"location": "https://fw.example/acme-2.0.bin",
            "retrieveDateTime": retrieve.to_rfc3339(), "retries": 3, "retryInterval": 60}),
        UpdateFirmwareResponse {},
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(request.location, "https://fw.example/acme-2.0.bin");
    assert_eq!(request.retrieve_date.timestamp(), retrieve.timestamp());
    assert_eq!(
        (request.retries, request.retry_interval),
        (Some(3), Some(60))
    );
    assert_eq!(body["status"], "Accepted", "{body}");
    let request_id = body["requestId"].as_i64().expect("a requestId");
    for status in [FirmwareStatus::Downloading, FirmwareStatus::Installed] {
        station
            .call16(&FirmwareStatusNotificationRequest { status })
            .await
            .unwrap();
    }
    let (status, tracked) = api
        .call(
            Method::GET,
            &format!("/stations/{CP}/firmware/updates/{request_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tracked}");
    assert_eq!(tracked["status"], "Installed", "{tracked}");
    assert_eq!(tracked["complete"], true, "{tracked}");

    // An install time is 2.0.1 only (1.6 installs once downloaded): 400, nothing sent.
    let (status, refused) = api
        .call(
            Method::POST,
            &format!("/stations/{CP}/firmware/updates"),
            Some(json!({"location": "https://fw.example/acme-2.1.bin",
                "retrieveDateTime": retrieve.to_rfc3339(),
                "installDateTime": (retrieve + chrono::Duration::hours(1)).to_rfc3339()})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "not_expressible_in_ocpp16", "{refused}");
    // 2.0.1 takes any string as the location; 1.6 wants a URI: refused, not sent invalid.
    let (status, refused) = api
        .call(
            Method::POST,
            &format!("/stations/{CP}/firmware/updates"),
            Some(json!({"location": "acme 2.1.bin", "retrieveDateTime": retrieve.to_rfc3339()})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "not_expressible_in_ocpp16", "{refused}");
    // Nothing reached the charge point in between: its next message is answered normally.
    station
        .call16(&unicharge_ocpp::v16::HeartbeatRequest {})
        .await
        .unwrap();
}

/// GetLog (DiagnosticsLog) through the same REST endpoint: a 1.6 GetDiagnostics with the
/// location and time window; the fileName comes back as the filename, and the 1.6
/// DiagnosticsStatusNotification is followed under the requestId, up to Uploaded.
#[tokio::test]
async fn ocpp16_firmware_get_diagnostics() {
    use unicharge_ocpp::v16::{GetDiagnosticsRequest, GetDiagnosticsResponse};
    let (csms, api) = start(&[CP]).await;
    let mut station = booted16(&csms, CP).await;
    let oldest = Utc::now() - chrono::Duration::hours(2);
    let (request, status, body) = operate::<GetDiagnosticsRequest>(
        &api,
        &mut station,
        &format!("/stations/{CP}/logs"),
        json!({"logType": "DiagnosticsLog", "remoteLocation": "ftp://logs.example/cp16/",
            "oldestTimestamp": oldest.to_rfc3339()}),
        GetDiagnosticsResponse {
            file_name: Some("diag-cp16.zip".into()),
        },
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(request.location, "ftp://logs.example/cp16/");
    assert_eq!(
        request.start_time.map(|t| t.timestamp()),
        Some(oldest.timestamp())
    );
    assert_eq!(body["status"], "Accepted", "{body}");
    let request_id = body["requestId"].as_i64().expect("a requestId");
    station
        .call16(&DiagnosticsStatusNotificationRequest {
            status: DiagnosticsStatus::Uploaded,
        })
        .await
        .unwrap();
    let (status, tracked) = api
        .call(
            Method::GET,
            &format!("/stations/{CP}/logs/{request_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tracked}");
    assert_eq!(tracked["status"], "Uploaded", "{tracked}");
}
