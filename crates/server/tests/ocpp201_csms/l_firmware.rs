//! Block L, Firmware management. The CSMS is configured with the OCTT's firmware-signing
//! certificate; after each case the test reads back, through the operator API, what the CSMS
//! tracked under each requestId: the station's answer, every FirmwareStatusNotification in
//! order, the latest status and whether the update ended.

use std::sync::Arc;

use serde_json::{json, Value};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_sim::octt;
use unicharge_sim::octt::l_firmware::SIGNING_CERTIFICATE;

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator::RestOperator;

const CP: &str = "CP001";

async fn start() -> (TestCsms, Arc<RestOperator>) {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        let cert = s.data_dir.with_file_name("firmware-signing.pem");
        std::fs::write(&cert, SIGNING_CERTIFICATE).unwrap();
        s.csms.firmware_signing_cert = Some(cert);
    })
    .await;
    csms.server
        .store
        .upsert_token(&IdTokenRecord {
            id_token: "OCTT-VALID-001".into(),
            kind: "ISO14443".into(),
            status: "Accepted".into(),
            expiry: None,
            group_id_token: None,
        })
        .await
        .unwrap();
    let operator = RestOperator::new(&csms);
    (csms, operator)
}

async fn play(case: &str) -> (TestCsms, Arc<RestOperator>) {
    let (csms, operator) = start().await;
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    (csms, operator)
}

/// The update with `request_id` as the API shows it.
async fn update(operator: &RestOperator, request_id: i64) -> Value {
    operator
        .get(&format!("/stations/{CP}/firmware/updates/{request_id}"))
        .await
        .unwrap()
}

/// The statuses notified under an update, in order.
fn statuses(update: &Value) -> Vec<String> {
    update["parts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| p["status"].as_str().unwrap().to_string())
        .collect()
}

/// Check the tracked update: answer, statuses in order, latest status, ended or not.
async fn check(
    operator: &RestOperator,
    request_id: i64,
    answer: &str,
    expected: &[&str],
    complete: bool,
) -> Value {
    let u = update(operator, request_id).await;
    assert_eq!(u["answer"], answer, "{u}");
    assert_eq!(statuses(&u), expected, "{u}");
    if let Some(last) = expected.last() {
        assert_eq!(u["status"], *last, "{u}");
    }
    assert_eq!(u["complete"], complete, "{u}");
    u
}

const FULL: [&str; 7] = [
    "Downloading",
    "Downloaded",
    "SignatureVerified",
    "Installing",
    "InstallRebooting",
    "Installed",
    "",
];

/// TC_L_01_CSMS: a secure update with the configured certificate; every status kept in order
/// and the update ended with Installed; the reboot's boot reason is kept.
#[tokio::test]
async fn tc_l_01_csms() {
    let (csms, operator) = play("TC_L_01_CSMS").await;
    let u = check(&operator, 1, "Accepted", &FULL[..6], true).await;
    assert_eq!(
        u["request"]["firmware"]["signingCertificate"]
            .as_str()
            .unwrap()
            .trim(),
        SIGNING_CERTIFICATE.trim()
    );
    let station = csms
        .server
        .store
        .get_station(&unicharge_core::StationId::new(CP).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(station.last_boot_reason.as_deref(), Some("FirmwareUpdate"));
}

/// TC_L_02_CSMS: installDateTime in the future is sent as asked; InstallScheduled tracked.
#[tokio::test]
async fn tc_l_02_csms() {
    let (_csms, operator) = play("TC_L_02_CSMS").await;
    let u = check(
        &operator,
        1,
        "Accepted",
        &[
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "InstallScheduled",
            "Installing",
            "InstallRebooting",
            "Installed",
        ],
        true,
    )
    .await;
    assert!(
        u["request"]["firmware"]["installDateTime"].is_string(),
        "{u}"
    );
}

/// TC_L_03_CSMS: retrieveDateTime in the future; DownloadScheduled tracked.
#[tokio::test]
async fn tc_l_03_csms() {
    let (_csms, operator) = play("TC_L_03_CSMS").await;
    check(
        &operator,
        1,
        "Accepted",
        &[
            "DownloadScheduled",
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "Installing",
            "InstallRebooting",
            "Installed",
        ],
        true,
    )
    .await;
}

/// TC_L_04_CSMS: RevokedCertificate ends the update at once (nothing will follow).
#[tokio::test]
async fn tc_l_04_csms() {
    let (_csms, operator) = play("TC_L_04_CSMS").await;
    check(&operator, 1, "RevokedCertificate", &[], true).await;
}

/// TC_L_05_CSMS: InvalidCertificate ends the update at once.
#[tokio::test]
async fn tc_l_05_csms() {
    let (_csms, operator) = play("TC_L_05_CSMS").await;
    check(&operator, 1, "InvalidCertificate", &[], true).await;
}

/// TC_L_06_CSMS: InvalidSignature is final.
#[tokio::test]
async fn tc_l_06_csms() {
    let (_csms, operator) = play("TC_L_06_CSMS").await;
    check(
        &operator,
        1,
        "Accepted",
        &["Downloading", "Downloaded", "InvalidSignature"],
        true,
    )
    .await;
}

/// TC_L_07_CSMS: DownloadFailed is final.
#[tokio::test]
async fn tc_l_07_csms() {
    let (_csms, operator) = play("TC_L_07_CSMS").await;
    check(
        &operator,
        1,
        "Accepted",
        &["Downloading", "DownloadFailed"],
        true,
    )
    .await;
}

/// TC_L_08_CSMS: InstallVerificationFailed is final.
#[tokio::test]
async fn tc_l_08_csms() {
    let (_csms, operator) = play("TC_L_08_CSMS").await;
    check(
        &operator,
        1,
        "Accepted",
        &[
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "Installing",
            "InstallVerificationFailed",
        ],
        true,
    )
    .await;
}

/// TC_L_09_CSMS: InstallationFailed after the reboot is final.
#[tokio::test]
async fn tc_l_09_csms() {
    let (_csms, operator) = play("TC_L_09_CSMS").await;
    let mut expected = FULL[..5].to_vec();
    expected.push("InstallationFailed");
    check(&operator, 1, "Accepted", &expected, true).await;
}

/// TC_L_10_CSMS: the first update ends as Canceled (the station cancelled it), the second
/// runs to Installed under its own requestId.
#[tokio::test]
async fn tc_l_10_csms() {
    let (_csms, operator) = play("TC_L_10_CSMS").await;
    let first = check(&operator, 1, "Accepted", &["Downloading", "Canceled"], true).await;
    assert_eq!(first["parts"][1]["message"]["canceledBy"], 2, "{first}");
    check(&operator, 2, "AcceptedCanceled", &FULL[..6], true).await;
}

/// TC_L_11_CSMS: the second update is Rejected and ended; the first runs on to Installed.
#[tokio::test]
async fn tc_l_11_csms() {
    let (_csms, operator) = play("TC_L_11_CSMS").await;
    check(&operator, 1, "Accepted", &FULL[..6], true).await;
    check(&operator, 2, "Rejected", &[], true).await;
    let list = operator
        .get(&format!("/stations/{CP}/firmware/updates"))
        .await
        .unwrap();
    let ids: Vec<i64> = list["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["requestId"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![2, 1], "{list}");
}

/// TC_L_13_CSMS: the update is sent while a transaction runs; the transaction and the update
/// are both tracked to their ends.
#[tokio::test]
async fn tc_l_13_csms() {
    let (csms, operator) = play("TC_L_13_CSMS").await;
    let mut expected = vec!["DownloadScheduled"];
    expected.extend_from_slice(&FULL[..6]);
    check(&operator, 1, "Accepted", &expected, true).await;
    let txs = csms
        .server
        .store
        .transactions(&unicharge_core::StationId::new(CP).unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(txs.len(), 1);
    assert!(txs[0].ended_at.is_some());
}

/// Without a signature the API refuses a secure update before anything is sent, and names
/// the fix; an unknown field in the body is refused too (typed bodies).
#[tokio::test]
async fn secure_update_needs_a_signature() {
    let (_csms, operator) = start().await;
    let err = operator
        .post(
            &format!("/stations/{CP}/firmware/updates"),
            json!({"location": "https://fw.invalid/a.bin"}),
        )
        .await
        .unwrap_err();
    assert!(err.contains("firmware_signature_missing"), "{err}");
    let err = operator
        .post(
            &format!("/stations/{CP}/firmware/updates"),
            json!({"location": "https://fw.invalid/a.bin", "signature": "AA==", "colour": 1}),
        )
        .await
        .unwrap_err();
    assert!(err.contains("400"), "{err}");
}

/// The private key of [`SIGNING_CERTIFICATE`]: test material, made for these tests only.
const SIGNING_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3dxxeEoLGvWzOpRr
CZ/7QG0CiSjfzc/U0yLT0oUfCuOhRANCAATmor5owa/aopi+F/Zduk5XqjELj3ir
qUoaOzvnFgxsc+nLRY0JRTfY4blRT4wZxiOj7pFp5uAqE0EZwvwJEPeT
-----END PRIVATE KEY-----
";

/// unicharge serves the firmware itself: the operator uploads it, the UpdateFirmware carries
/// a download URL for this station and request and the file's signature made with the
/// configured key; the station downloads it over real HTTP, whole and by ranges, byte for
/// byte; the signature verifies with the signing certificate; a wrong token gets nothing.
#[tokio::test]
async fn firmware_served_over_http_with_ranges_and_signature() {
    use openssl::hash::MessageDigest;
    use openssl::sign::Verifier;
    use openssl::x509::X509;
    use unicharge_ocpp::v201::{
        UpdateFirmwareRequest, UpdateFirmwareResponse, UpdateFirmwareStatusEnumType,
    };

    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        let cert = s.data_dir.with_file_name("firmware-signing.pem");
        let key = s.data_dir.with_file_name("firmware-signing.key");
        std::fs::write(&cert, SIGNING_CERTIFICATE).unwrap();
        std::fs::write(&key, SIGNING_KEY).unwrap();
        s.csms.firmware_signing_cert = Some(cert);
        s.csms.firmware_signing_key = Some(key);
    })
    .await;
    let http = format!("http://{}", csms.server.http_addr.unwrap());
    let api_key = csms.server.initial_admin_key.clone().unwrap();
    let client = reqwest::Client::new();
    let firmware: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let stored: Value = client
        .post(format!("{http}/api/v1/firmware?name=station-2.1.bin"))
        .bearer_auth(&api_key)
        .body(firmware.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sha256 = stored["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha256.len(), 64, "{stored}");
    assert_eq!(stored["size"], 200_000);
    assert_eq!(stored["md5"].as_str().unwrap().len(), 32);

    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    octt::states::booted(&mut station, &target).await.unwrap();
    let update = tokio::spawn({
        let client = client.clone();
        let url = format!("{http}/api/v1/stations/{CP}/firmware/updates");
        let key = api_key.clone();
        let sha = sha256.clone();
        async move {
            client
                .post(url)
                .bearer_auth(key)
                .json(&json!({ "file": sha }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    });
    let (id, request) = station
        .expect_call::<UpdateFirmwareRequest>()
        .await
        .unwrap();
    station
        .respond::<UpdateFirmwareRequest>(
            &id,
            &UpdateFirmwareResponse {
                custom_data: None,
                status: UpdateFirmwareStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    let answer = update.await.unwrap();
    assert_eq!(answer["status"], "Accepted", "{answer}");
    let location = request.firmware.location.clone();
    assert!(
        location.starts_with(&format!(
            "{http}/files/firmware/{sha256}/{CP}/{}/",
            request.request_id
        )),
        "{location}"
    );

    // Whole file, byte for byte, with its digest.
    let whole = client.get(&location).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["etag"], format!("\"{sha256}\"").as_str());
    assert_eq!(whole.bytes().await.unwrap().as_ref(), firmware.as_slice());

    // A range, an open range, a suffix, and one past the end.
    for (range, from, to) in [
        ("bytes=1000-1999", 1000, 2000),
        ("bytes=199990-", 199_990, 200_000),
        ("bytes=-16", 199_984, 200_000),
    ] {
        let part = client
            .get(&location)
            .header("Range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(part.status(), 206, "{range}");
        assert_eq!(
            part.headers()["content-range"],
            format!("bytes {from}-{}/200000", to - 1).as_str()
        );
        assert_eq!(
            part.bytes().await.unwrap().as_ref(),
            &firmware[from..to],
            "{range}"
        );
    }
    let past = client
        .get(&location)
        .header("Range", "bytes=200000-")
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), 416);

    // Another request id (or station) with the same token gets nothing.
    let forged = location.replace(
        &format!("/{CP}/{}/", request.request_id),
        &format!("/{CP}/{}/", request.request_id + 1),
    );
    assert_eq!(client.get(&forged).send().await.unwrap().status(), 404);

    // The signature sent verifies over the bytes with the signing certificate.
    let signature = request.firmware.signature.clone().unwrap();
    assert_eq!(Some(signature.as_str()), stored["signature"].as_str());
    let cert = X509::from_pem(SIGNING_CERTIFICATE.as_bytes()).unwrap();
    let public = cert.public_key().unwrap();
    let mut verifier = Verifier::new(MessageDigest::sha256(), &public).unwrap();
    verifier.update(&firmware).unwrap();
    let raw = openssl::base64::decode_block(&signature).unwrap();
    assert!(verifier.verify(&raw).unwrap(), "signature does not verify");
    assert_eq!(
        request
            .firmware
            .signing_certificate
            .as_deref()
            .map(str::trim),
        Some(SIGNING_CERTIFICATE.trim())
    );
    station.close().await;
}
