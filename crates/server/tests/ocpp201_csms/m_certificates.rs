//! Block M, ISO 15118 certificate management. Every case starts with the REST operator; after
//! it, the test checks what the CSMS knows the station holds, read back through the operator
//! API (`certificates/installed`): installed roots with their PEM and SHA-256 hash data,
//! reported hash data per algorithm, deletions.

use std::sync::Arc;

use serde_json::{json, Value};
use unicharge_sim::octt;

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator::{self, RestOperator};

const CP: &str = "CP001";

async fn play(case: &str) -> (TestCsms, Arc<RestOperator>) {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    (csms, operator)
}

/// What the CSMS knows the station holds.
async fn installed(operator: &RestOperator) -> Vec<Value> {
    let list = operator
        .get(&format!("/stations/{CP}/certificates/installed"))
        .await
        .unwrap();
    list["certificates"].as_array().cloned().unwrap_or_default()
}

/// TC_M_01_CSMS: the CSMS root (the server's own CA) is recorded as installed, with its PEM.
/// Something that is not a root certificate is refused before sending.
#[tokio::test]
async fn tc_m_01_csms() {
    let (csms, operator) = play("TC_M_01_CSMS").await;
    let all = installed(&operator).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let c = &all[0];
    assert_eq!(c["certificateType"], "CSMSRootCertificate");
    assert_eq!(c["source"], "install");
    assert_eq!(c["hashAlgorithm"], "SHA256");
    assert!(c["deletedAt"].is_null(), "{c}");
    let ca = std::fs::read_to_string(&csms.tls.ca_cert).unwrap();
    assert_eq!(c["certificate"], ca);
    let refused = operator
        .post(
            &format!("/stations/{CP}/certificates/install"),
            json!({"certificateType": "CSMSRootCertificate", "certificate": "not a certificate"}),
        )
        .await
        .unwrap_err();
    assert!(refused.starts_with("HTTP 400"), "{refused}");
    assert!(refused.contains("not_a_pem_certificate"), "{refused}");
    let leaf = std::fs::read_to_string(&csms.tls.server_rsa_cert).unwrap();
    let refused = operator
        .post(
            &format!("/stations/{CP}/certificates/install"),
            json!({"certificateType": "CSMSRootCertificate", "certificate": leaf}),
        )
        .await
        .unwrap_err();
    assert!(refused.contains("not_a_root_certificate"), "{refused}");
}

/// TC_M_02_CSMS: the manufacturer root is recorded as installed.
#[tokio::test]
async fn tc_m_02_csms() {
    let (_csms, operator) = play("TC_M_02_CSMS").await;
    let all = installed(&operator).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["certificateType"], "ManufacturerRootCertificate");
    assert!(all[0]["certificate"]
        .as_str()
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
}

/// TC_M_05_CSMS: a Failed install records nothing.
#[tokio::test]
async fn tc_m_05_csms() {
    let (_csms, operator) = play("TC_M_05_CSMS").await;
    assert_eq!(installed(&operator).await, Vec::<Value>::new());
}

/// TC_M_12_CSMS: the same root known under its SHA-256, SHA-384 and SHA-512 hash data.
#[tokio::test]
async fn tc_m_12_csms() {
    let (_csms, operator) = play("TC_M_12_CSMS").await;
    let all = installed(&operator).await;
    let mut algorithms: Vec<&str> = all
        .iter()
        .map(|c| c["hashAlgorithm"].as_str().unwrap())
        .collect();
    algorithms.sort();
    assert_eq!(algorithms, ["SHA256", "SHA384", "SHA512"], "{all:?}");
    for c in &all {
        assert_eq!(c["source"], "reported");
        let len = c["issuerKeyHash"].as_str().unwrap().len();
        let want = match c["hashAlgorithm"].as_str().unwrap() {
            "SHA256" => 64,
            "SHA384" => 96,
            _ => 128,
        };
        assert_eq!(len, want, "{c}");
    }
}

/// TC_M_13_CSMS: the reported manufacturer root is kept.
#[tokio::test]
async fn tc_m_13_csms() {
    let (_csms, operator) = play("TC_M_13_CSMS").await;
    let all = installed(&operator).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["certificateType"], "ManufacturerRootCertificate");
}

/// TC_M_18_CSMS: both roots of the truststore are kept.
#[tokio::test]
async fn tc_m_18_csms() {
    let (_csms, operator) = play("TC_M_18_CSMS").await;
    let mut types: Vec<String> = installed(&operator)
        .await
        .iter()
        .map(|c| c["certificateType"].as_str().unwrap().to_string())
        .collect();
    types.sort();
    assert_eq!(
        types,
        ["CSMSRootCertificate", "ManufacturerRootCertificate"]
    );
}

/// TC_M_19_CSMS: NotFound keeps nothing.
#[tokio::test]
async fn tc_m_19_csms() {
    let (_csms, operator) = play("TC_M_19_CSMS").await;
    assert_eq!(installed(&operator).await, Vec::<Value>::new());
}

/// TC_M_20_CSMS: each of the three rounds deleted what was installed: every known hash data
/// of the root carries a deletion time.
#[tokio::test]
async fn tc_m_20_csms() {
    let (_csms, operator) = play("TC_M_20_CSMS").await;
    let all = installed(&operator).await;
    assert!(!all.is_empty());
    let deleted: Vec<&str> = all
        .iter()
        .filter(|c| c["deletedAt"].is_string())
        .map(|c| c["hashAlgorithm"].as_str().unwrap())
        .collect();
    for algorithm in ["SHA256", "SHA384", "SHA512"] {
        assert!(deleted.contains(&algorithm), "{algorithm}: {all:?}");
    }
    let answers = operator.answers(|a| {
        matches!(
            a,
            unicharge_sim::octt::operator::OperatorAction::DeleteCertificate { .. }
        )
    });
    assert_eq!(answers.len(), 3);
    for (answer, algorithm) in answers.iter().zip(["SHA256", "SHA384", "SHA512"]) {
        assert_eq!(answer["status"], "Accepted", "{answer}");
        assert_eq!(
            answer["certificateHashData"]["hashAlgorithm"], algorithm,
            "{answer}"
        );
    }
}

/// TC_M_21_CSMS: a Failed delete leaves the certificate held.
#[tokio::test]
async fn tc_m_21_csms() {
    let (_csms, operator) = play("TC_M_21_CSMS").await;
    let all = installed(&operator).await;
    assert!(!all.is_empty());
    assert!(all.iter().all(|c| c["deletedAt"].is_null()), "{all:?}");
}
