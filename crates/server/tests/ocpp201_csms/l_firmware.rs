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
