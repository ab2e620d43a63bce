//! OCPP 1.6J "Improved security for OCPP 1.6-J" (edition 3) messages through the same operator
//! REST endpoints and the same records as 2.0.1 (issue 18): certificate management (M03–M05),
//! the security log (N01), secure firmware update (L01), the certificate renewal (A02) and
//! ExtendedTriggerMessage, against a real server over real sockets. The charge point is the
//! simulator's 1.6 mode with its whitepaper responder ([`Security16`]), which computes the hash
//! data of what it holds from the certificates themselves.
//!
//! Each test is named `ocpp16_security_<message>` and asserts the 1.6 request the charge point
//! got, the API's answer and the record the CSMS kept.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpp16_common/mod.rs"]
mod ocpp16_common;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use unicharge_ocpp::v16::{
    self, CertificateSignedRequest, CertificateSignedResponse, CertificateSignedStatusEnumType,
    CertificateUseEnumType, FirmwareStatusEnumType, GenericStatusEnumType,
    LogStatusNotificationRequest, SignCertificateRequest, SignedFirmwareStatusNotificationRequest,
    UpdateFirmwareStatusEnumType, UploadLogStatusEnumType,
};
use unicharge_sim::octt::l_firmware::SIGNING_CERTIFICATE;
use unicharge_sim::octt::m_certificates::self_signed_root;
use unicharge_sim::station16::{hash_data16, Security16};
use unicharge_sim::Station;

use common::{StationSpec, TestCsms};
use ocpp16_common::{booted16, Api};

const CP: &str = "CP16-SEC";

/// A server with the API on, one 1.6 station, and the OCTT's firmware-signing certificate
/// configured (so every firmware update is a secure one).
async fn start() -> (TestCsms, Api) {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        let cert = s.data_dir.with_file_name("firmware-signing.pem");
        std::fs::write(&cert, SIGNING_CERTIFICATE).unwrap();
        s.csms.firmware_signing_cert = Some(cert);
        // Campaigns look at their stations this often (the campaign test).
        s.csms.campaign_tick = std::time::Duration::from_millis(50);
    })
    .await;
    let api = Api::new(&csms);
    (csms, api)
}

/// Call the API in the background while the charge point answers the `calls` CSMS requests
/// it causes from `security`; the actions it got, and the API's status and body.
async fn operate(
    api: &Api,
    station: &mut Station,
    security: &mut Security16,
    calls: usize,
    path: &str,
    body: Value,
) -> (Vec<v16::Action>, StatusCode, Value) {
    let call = {
        let api = api.clone();
        let path = path.to_string();
        tokio::spawn(async move { api.call(Method::POST, &path, Some(body)).await })
    };
    let mut actions = Vec::new();
    for _ in 0..calls {
        actions.push(station.serve16_security(security).await.unwrap());
    }
    let (status, body) = call.await.unwrap();
    (actions, status, body)
}

/// A request 1.6 cannot express: 400 `not_expressible_in_ocpp16`, nothing sent.
async fn refused(api: &Api, path: &str, body: Value) {
    let (status, answer) = api.call(Method::POST, path, Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"], "not_expressible_in_ocpp16", "{answer}");
}

/// InstallCertificate: CSMSRootCertificate goes as CentralSystemRootCertificate; the CSMS then
/// records the hash data of exactly that certificate as held by the station. A V2G root (1.6
/// has no ISO 15118) is refused before sending.
#[tokio::test]
async fn ocpp16_security_install_certificate() {
    let (csms, api) = start().await;
    let mut station = booted16(&csms, CP).await;
    let mut security = Security16::default();
    let root = self_signed_root("Unicharge 1.6 CSMS Root").unwrap();
    let (actions, status, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/certificates/install"),
        json!({"certificateType": "CSMSRootCertificate", "certificate": root}),
    )
    .await;
    assert_eq!(actions, [v16::Action::InstallCertificate]);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Accepted", "{body}");
    let [(kind, held, pem)] = security.certificates.as_slice() else {
        panic!("{:?}", security.certificates)
    };
    assert_eq!(*kind, CertificateUseEnumType::CentralSystemRootCertificate);
    assert_eq!(pem.trim(), root.trim());
    let installed = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/certificates/installed"),
            None,
        )
        .await;
    let recorded = &installed["certificates"][0];
    assert_eq!(recorded["certificateType"], "CSMSRootCertificate");
    assert_eq!(recorded["issuerNameHash"], held.issuer_name_hash);
    assert_eq!(recorded["issuerKeyHash"], held.issuer_key_hash);
    assert_eq!(recorded["source"], "install");

    // A charge point that refuses: Rejected reaches the API, nothing new is recorded.
    security.reject_installs = true;
    let other = self_signed_root("Unicharge 1.6 Manufacturer Root").unwrap();
    let (_, _, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/certificates/install"),
        json!({"certificateType": "ManufacturerRootCertificate", "certificate": other}),
    )
    .await;
    assert_eq!(body["status"], "Rejected", "{body}");
    let installed = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/certificates/installed"),
            None,
        )
        .await;
    assert_eq!(installed["certificates"].as_array().unwrap().len(), 1);

    refused(
        &api,
        &format!("/stations/{CP}/certificates/install"),
        json!({"certificateType": "V2GRootCertificate", "certificate": other}),
    )
    .await;
    // Nothing reached the charge point: its next message is answered normally.
    station.call16(&v16::HeartbeatRequest {}).await.unwrap();
}

/// GetInstalledCertificateIds: one type per 1.6 request; the hash data the charge point reports
/// comes back under the type asked for and is kept. Asking for every type at once is refused.
#[tokio::test]
async fn ocpp16_security_get_installed_certificate_ids() {
    let (csms, api) = start().await;
    let mut station = booted16(&csms, CP).await;
    let csms_root = self_signed_root("Held CSMS Root").unwrap();
    let maker_root = self_signed_root("Held Maker Root").unwrap();
    let maker_hash = hash_data16(&maker_root).unwrap();
    let mut security = Security16 {
        certificates: vec![
            (
                CertificateUseEnumType::CentralSystemRootCertificate,
                hash_data16(&csms_root).unwrap(),
                csms_root,
            ),
            (
                CertificateUseEnumType::ManufacturerRootCertificate,
                maker_hash.clone(),
                maker_root,
            ),
        ],
        ..Security16::default()
    };
    let (actions, status, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/certificates/installed"),
        json!({"certificateType": ["ManufacturerRootCertificate"]}),
    )
    .await;
    assert_eq!(actions, [v16::Action::GetInstalledCertificateIds]);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Accepted", "{body}");
    let chain = body["certificateHashDataChain"].as_array().unwrap();
    assert_eq!(chain.len(), 1, "{body}");
    assert_eq!(chain[0]["certificateType"], "ManufacturerRootCertificate");
    let hash = &chain[0]["certificateHashData"];
    assert_eq!(hash["issuerNameHash"], maker_hash.issuer_name_hash);
    assert_eq!(hash["issuerKeyHash"], maker_hash.issuer_key_hash);
    assert_eq!(hash["serialNumber"], maker_hash.serial_number);
    assert_eq!(hash["hashAlgorithm"], "SHA256");
    // Kept as reported.
    let installed = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/certificates/installed"),
            None,
        )
        .await;
    let recorded = &installed["certificates"][0];
    assert_eq!(recorded["source"], "reported", "{installed}");
    assert_eq!(recorded["issuerKeyHash"], maker_hash.issuer_key_hash);

    refused(
        &api,
        &format!("/stations/{CP}/certificates/installed"),
        json!({}),
    )
    .await;
    refused(
        &api,
        &format!("/stations/{CP}/certificates/installed"),
        json!({"certificateType": ["V2GCertificateChain"]}),
    )
    .await;
}

/// DeleteCertificate: by type and serial number the CSMS looks the certificate up at the
/// charge point (GetInstalledCertificateIds) and deletes it with exactly the hash data the
/// charge point reported; a second delete of the same hash data is NotFound.
#[tokio::test]
async fn ocpp16_security_delete_certificate() {
    let (csms, api) = start().await;
    let mut station = booted16(&csms, CP).await;
    let root = self_signed_root("Doomed CSMS Root").unwrap();
    let hash = hash_data16(&root).unwrap();
    let mut security = Security16 {
        certificates: vec![(
            CertificateUseEnumType::CentralSystemRootCertificate,
            hash.clone(),
            root,
        )],
        ..Security16::default()
    };
    let (actions, status, body) = operate(
        &api,
        &mut station,
        &mut security,
        2,
        &format!("/stations/{CP}/certificates/delete"),
        json!({"certificateType": "CSMSRootCertificate", "serialNumber": hash.serial_number}),
    )
    .await;
    assert_eq!(
        actions,
        [
            v16::Action::GetInstalledCertificateIds,
            v16::Action::DeleteCertificate
        ]
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Accepted", "{body}");
    assert_eq!(
        body["certificateHashData"]["issuerNameHash"],
        hash.issuer_name_hash
    );
    assert!(security.certificates.is_empty());
    let installed = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/certificates/installed"),
            None,
        )
        .await;
    assert!(
        installed["certificates"][0]["deletedAt"].is_string(),
        "{installed}"
    );

    let (actions, _, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/certificates/delete"),
        json!({"certificateHashData": {"hashAlgorithm": "SHA256",
            "issuerNameHash": hash.issuer_name_hash, "issuerKeyHash": hash.issuer_key_hash,
            "serialNumber": hash.serial_number}}),
    )
    .await;
    assert_eq!(actions, [v16::Action::DeleteCertificate]);
    assert_eq!(body["status"], "NotFound", "{body}");
}

/// GetLog (SecurityLog): the whitepaper's GetLog with the requestId the operator got, the
/// location and window; the filename comes back.
#[tokio::test]
async fn ocpp16_security_get_log() {
    let (csms, api) = start().await;
    let mut station = booted16(&csms, CP).await;
    let mut security = Security16 {
        log_file: Some("security-cp16.log".into()),
        ..Security16::default()
    };
    let oldest = chrono::Utc::now() - chrono::Duration::hours(6);
    let (actions, status, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/logs"),
        json!({"logType": "SecurityLog", "remoteLocation": "https://logs.example/cp16/",
            "oldestTimestamp": oldest.to_rfc3339(), "retries": 2}),
    )
    .await;
    assert_eq!(actions, [v16::Action::GetLog]);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Accepted", "{body}");
    assert_eq!(body["filename"], "security-cp16.log", "{body}");
    let sent = security.last_get_log.unwrap();
    assert_eq!(sent.log_type, v16::LogEnumType::SecurityLog);
    assert_eq!(Some(sent.request_id), body["requestId"].as_i64());
    assert_eq!(sent.log.remote_location, "https://logs.example/cp16/");
    assert_eq!(
        sent.log.oldest_timestamp.map(|t| t.timestamp()),
        Some(oldest.timestamp())
    );
    assert_eq!(sent.retries, Some(2));
}

/// LogStatusNotification: the statuses the charge point reports under the GetLog's requestId
/// reach that log-upload record, up to Uploaded.
#[tokio::test]
async fn ocpp16_security_log_status_notification() {
    let (csms, api) = start().await;
    let mut station = booted16(&csms, CP).await;
    let mut security = Security16 {
        log_file: Some("security-cp16.log".into()),
        ..Security16::default()
    };
    let (_, _, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/logs"),
        json!({"logType": "SecurityLog", "remoteLocation": "https://logs.example/cp16/"}),
    )
    .await;
    let request_id = body["requestId"].as_i64().unwrap();
    for status in [
        UploadLogStatusEnumType::Uploading,
        UploadLogStatusEnumType::Uploaded,
    ] {
        station
            .call16(&LogStatusNotificationRequest {
                status,
                request_id: Some(request_id),
            })
            .await
            .unwrap();
    }
    let tracked = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/logs/{request_id}"),
            None,
        )
        .await;
    assert_eq!(tracked["status"], "Uploaded", "{tracked}");
    assert!(tracked.to_string().contains("Uploading"), "{tracked}");
}

/// SignedUpdateFirmware: with a firmware-signing certificate configured, the operator's update
/// goes as the whitepaper's SignedUpdateFirmware carrying the certificate, the signature, the
/// install time and the requestId; the charge point's status comes back as it is named.
#[tokio::test]
async fn ocpp16_security_signed_update_firmware() {
    let (csms, api) = start().await;
    let mut station = booted16(&csms, CP).await;
    let mut security = Security16::default();
    let retrieve = chrono::Utc::now() + chrono::Duration::minutes(5);
    let install = retrieve + chrono::Duration::hours(1);
    let (actions, status, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/firmware/updates"),
        json!({"location": "https://fw.example/acme-3.0.bin", "signature": "c2lnbmF0dXJl",
            "retrieveDateTime": retrieve.to_rfc3339(), "installDateTime": install.to_rfc3339(),
            "retries": 4}),
    )
    .await;
    assert_eq!(actions, [v16::Action::SignedUpdateFirmware]);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Accepted", "{body}");
    let sent = security.last_signed_update.take().unwrap();
    assert_eq!(Some(sent.request_id), body["requestId"].as_i64());
    assert_eq!(sent.firmware.location, "https://fw.example/acme-3.0.bin");
    assert_eq!(sent.firmware.signature, "c2lnbmF0dXJl");
    assert_eq!(
        sent.firmware.signing_certificate.trim(),
        SIGNING_CERTIFICATE.trim()
    );
    assert_eq!(
        sent.firmware.install_date_time.map(|t| t.timestamp()),
        Some(install.timestamp())
    );
    assert_eq!(sent.retries, Some(4));

    // A charge point that does not trust the signing certificate.
    security.firmware_status = Some(UpdateFirmwareStatusEnumType::InvalidCertificate);
    let (_, _, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/firmware/updates"),
        json!({"location": "https://fw.example/acme-3.1.bin", "signature": "c2lnbmF0dXJl"}),
    )
    .await;
    assert_eq!(body["status"], "InvalidCertificate", "{body}");
}

/// SignedFirmwareStatusNotification: the statuses under the SignedUpdateFirmware's requestId
/// reach that firmware update's record, through SignatureVerified up to Installed.
#[tokio::test]
async fn ocpp16_security_signed_firmware_status_notification() {
    let (csms, api) = start().await;
    let mut station = booted16(&csms, CP).await;
    let mut security = Security16::default();
    let (_, _, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/firmware/updates"),
        json!({"location": "https://fw.example/acme-3.0.bin", "signature": "c2lnbmF0dXJl"}),
    )
    .await;
    let request_id = body["requestId"].as_i64().unwrap();
    for status in [
        FirmwareStatusEnumType::Downloading,
        FirmwareStatusEnumType::Downloaded,
        FirmwareStatusEnumType::SignatureVerified,
        FirmwareStatusEnumType::Installing,
        FirmwareStatusEnumType::Installed,
    ] {
        station
            .call16(&SignedFirmwareStatusNotificationRequest {
                status,
                request_id: Some(request_id),
            })
            .await
            .unwrap();
    }
    let tracked = api
        .ok(
            Method::GET,
            &format!("/stations/{CP}/firmware/updates/{request_id}"),
            None,
        )
        .await;
    assert_eq!(tracked["status"], "Installed", "{tracked}");
    assert_eq!(tracked["complete"], true, "{tracked}");
    assert!(
        tracked.to_string().contains("SignatureVerified"),
        "{tracked}"
    );
}

/// ExtendedTriggerMessage: what only it can ask of a 1.6 charge point (LogStatusNotification,
/// the certificate renewal) goes as ExtendedTriggerMessage with the connector; what plain
/// TriggerMessage can ask stays TriggerMessage.
#[tokio::test]
async fn ocpp16_security_extended_trigger_message() {
    let (csms, api) = start().await;
    let mut station = booted16(&csms, CP).await;
    let mut security = Security16::default();
    let (actions, status, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/trigger"),
        json!({"requestedMessage": "LogStatusNotification", "evseId": 1}),
    )
    .await;
    assert_eq!(actions, [v16::Action::ExtendedTriggerMessage]);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Accepted", "{body}");
    let sent = security.last_trigger.take().unwrap();
    assert_eq!(
        sent.requested_message,
        v16::MessageTriggerEnumType::LogStatusNotification
    );
    assert_eq!(sent.connector_id, Some(1));

    let (actions, _, body) = operate(
        &api,
        &mut station,
        &mut security,
        1,
        &format!("/stations/{CP}/certificate/renew"),
        json!({}),
    )
    .await;
    assert_eq!(actions, [v16::Action::ExtendedTriggerMessage]);
    assert_eq!(body["status"], "Accepted", "{body}");
    assert_eq!(
        security.last_trigger.unwrap().requested_message,
        v16::MessageTriggerEnumType::SignChargePointCertificate
    );
}

/// CertificateSigned: the renewal the operator asks (ExtendedTriggerMessage
/// SignChargePointCertificate), the charge point's SignCertificate, the CSMS's CA signing it and
/// CertificateSigned delivering it — the 2.0.1 A02 path. The charge point's verdict is kept with
/// the issued certificate the API lists, Accepted and Rejected alike.
#[tokio::test]
async fn ocpp16_security_certificate_signed() {
    let (csms, api) = start().await;
    let mut station = booted16(&csms, CP).await;
    let mut security = Security16::default();
    for verdict in [
        CertificateSignedStatusEnumType::Rejected,
        CertificateSignedStatusEnumType::Accepted,
    ] {
        let (actions, _, _) = operate(
            &api,
            &mut station,
            &mut security,
            1,
            &format!("/stations/{CP}/certificate/renew"),
            json!({}),
        )
        .await;
        assert_eq!(actions, [v16::Action::ExtendedTriggerMessage]);
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
                &CertificateSignedResponse { status: verdict },
            )
            .await
            .unwrap();
        // The delivery is recorded once the answer is in; the list is newest first.
        let mut issued = Value::Null;
        for _ in 0..100 {
            issued = api
                .ok(Method::GET, &format!("/stations/{CP}/certificates"), None)
                .await;
            if issued[0]["certificate"] == signed.certificate_chain.as_str() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(
            issued[0]["certificate"],
            signed.certificate_chain.as_str(),
            "{issued}"
        );
        assert_eq!(issued[0]["stationStatus"], verdict.as_str(), "{issued}");
        assert!(
            issued[0]["subject"].as_str().unwrap().contains(CP),
            "{issued}"
        );
    }
}

/// A firmware campaign over a 1.6 station is the same campaign: with a signing certificate
/// configured its UpdateFirmware goes as SignedUpdateFirmware under the requestId the campaign
/// tracks, and the station's SignedFirmwareStatusNotification Installed completes it.
#[tokio::test]
async fn ocpp16_security_signed_update_firmware_campaign() {
    let (csms, api) = start().await;
    let mut station = booted16(&csms, CP).await;
    let mut security = Security16::default();
    let created = api
        .ok(
            Method::POST,
            "/firmware-campaigns",
            Some(
                json!({"name": "acme 3.0 on 1.6", "location": "https://fw.example/acme-3.0.bin",
                "signature": "c2lnbmF0dXJl", "stations": [CP]}),
            ),
        )
        .await;
    let campaign = created["id"].as_i64().expect("a campaign id");
    let action = station.serve16_security(&mut security).await.unwrap();
    assert_eq!(action, v16::Action::SignedUpdateFirmware);
    let sent = security.last_signed_update.take().unwrap();
    assert_eq!(sent.firmware.signature, "c2lnbmF0dXJl");
    for status in [
        FirmwareStatusEnumType::Downloading,
        FirmwareStatusEnumType::SignatureVerified,
        FirmwareStatusEnumType::Installed,
    ] {
        station
            .call16(&SignedFirmwareStatusNotificationRequest {
                status,
                request_id: Some(sent.request_id),
            })
            .await
            .unwrap();
    }
    // The campaign task follows its stations every tick (50 ms here): poll its view, bounded.
    let mut done = Value::Null;
    for _ in 0..400 {
        done = api
            .ok(
                Method::GET,
                &format!("/firmware-campaigns/{campaign}"),
                None,
            )
            .await;
        if done["state"] == "Completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(done["state"], "Completed", "{done}");
    let ours = &done["stations"][0];
    assert_eq!(ours["stationId"], CP, "{done}");
    assert_eq!(ours["state"], "Installed", "{done}");
    assert_eq!(ours["requestId"], sent.request_id, "{done}");
    assert_eq!(ours["lastStatus"], "Installed", "{done}");
}
