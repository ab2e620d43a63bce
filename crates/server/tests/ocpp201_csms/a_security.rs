//! Block A, Security.

use unicharge_core::credentials::verify_password;
use unicharge_core::StationId;
use unicharge_sim::octt::operator::OperatorAction;
use unicharge_sim::octt::{self, states, InvalidCertificate};
use unicharge_sim::{ConnectError, Station};

use crate::common::{assert_pass, StationSpec, TestCsms, PASSWORD};
use crate::rest_operator;

const CP: &str = "CP001";

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

/// The boot and the connector notification of the Booted state are stored.
async fn assert_booted_and_stored(csms: &TestCsms) {
    let store = &csms.server.store;
    let station = store.get_station(&id()).await.unwrap().unwrap();
    assert_eq!(station.model.as_deref(), Some("unicharge-sim"));
    assert_eq!(station.vendor_name.as_deref(), Some("unicharge"));
    assert_eq!(
        station.last_boot_status,
        Some(unicharge_core::RegistrationStatus::Accepted)
    );
    let connectors = store.connectors(&id()).await.unwrap();
    assert_eq!(connectors[0].status, "Available");
    let events = store.events(&id(), 10).await.unwrap();
    assert_eq!(events[0].variable, "AvailabilityState");
}

/// TC_A_01_CSMS, at security profiles 1 and 2 (both use Basic authentication).
#[tokio::test]
async fn tc_a_01_csms() {
    for profile in [1, 2] {
        let csms = TestCsms::start(&[StationSpec::new(CP, profile)]).await;
        let verdict = octt::run("TC_A_01_CSMS", &csms.target(CP, profile), None).await;
        assert_pass(&format!("TC_A_01_CSMS at profile {profile}"), verdict);
        assert_booted_and_stored(&csms).await;
    }
}

/// The refusal must be an HTTP 401 before the upgrade (unicharge's choice; OCTT only requires a
/// rejected upgrade).
async fn assert_unauthorized(csms: &TestCsms, user: &str, password: &str) {
    let options = unicharge_sim::ConnectOptions::new(format!("{}/{CP}", csms.ws_base()))
        .basic(user, password);
    match Station::connect(&options).await {
        Err(ConnectError::Http(status)) => assert_eq!(status, 401),
        Err(other) => panic!("expected HTTP 401, got {other}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
}

/// TC_A_02_CSMS: username `<id>Invalid` with the right password is rejected.
#[tokio::test]
async fn tc_a_02_csms() {
    for profile in [1, 2] {
        let csms = TestCsms::start(&[StationSpec::new(CP, profile)]).await;
        assert_pass(
            "TC_A_02_CSMS",
            octt::run("TC_A_02_CSMS", &csms.target(CP, profile), None).await,
        );
    }
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    assert_unauthorized(&csms, "CP001Invalid", crate::common::PASSWORD).await;
    assert!(!csms.server.handle().is_connected(&id()));
}

/// TC_A_03_CSMS: a random 16–40 character password is rejected.
#[tokio::test]
async fn tc_a_03_csms() {
    for profile in [1, 2] {
        let csms = TestCsms::start(&[StationSpec::new(CP, profile)]).await;
        assert_pass(
            "TC_A_03_CSMS",
            octt::run("TC_A_03_CSMS", &csms.target(CP, profile), None).await,
        );
    }
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    assert_unauthorized(&csms, CP, "Wrong-Password-0123456789").await;
}

/// TC_A_04_CSMS at profiles 2 and 3: the four suites, key sizes, serial, CN, then Booted.
#[tokio::test]
async fn tc_a_04_csms() {
    for profile in [2, 3] {
        let csms = TestCsms::start(&[StationSpec::new(CP, profile)]).await;
        let verdict = octt::run("TC_A_04_CSMS", &csms.target(CP, profile), None).await;
        assert_pass(&format!("TC_A_04_CSMS at profile {profile}"), verdict);
        assert_booted_and_stored(&csms).await;
    }
}

/// TC_A_06_CSMS: TLS 1.1 is refused, TLS 1.2 boots, and the InvalidTLSVersion security event
/// is answered and kept.
#[tokio::test]
async fn tc_a_06_csms() {
    let csms = TestCsms::start(&[StationSpec::new(CP, 2)]).await;
    assert_pass(
        "TC_A_06_CSMS",
        octt::run("TC_A_06_CSMS", &csms.target(CP, 2), None).await,
    );
    let events = csms.server.store.security_events(&id(), 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "InvalidTLSVersion");
}

/// TC_A_07_CSMS: mutual TLS with the station's certificate (CN = station id).
#[tokio::test]
async fn tc_a_07_csms() {
    let csms = TestCsms::start(&[StationSpec::new(CP, 3)]).await;
    assert_pass(
        "TC_A_07_CSMS",
        octt::run("TC_A_07_CSMS", &csms.target(CP, 3), None).await,
    );
    assert_booted_and_stored(&csms).await;
}

/// TC_A_08_CSMS, run once per kind of invalid certificate the prerequisites name: unknown
/// issuer, expired, commonName not the station's.
#[tokio::test]
async fn tc_a_08_csms() {
    let csms = TestCsms::start(&[StationSpec::new(CP, 3)]).await;
    let mut target = csms.target(CP, 3);
    let invalid = [
        ("unknown certificate", csms.foreign_client_cert(CP)),
        ("expired certificate", csms.client_cert(CP, true)),
        (
            "commonName is not the station's",
            csms.client_cert("CP999", false),
        ),
    ];
    for (kind, (cert, key)) in invalid {
        target.invalid_client_certs = vec![InvalidCertificate {
            kind: kind.into(),
            cert,
            key,
        }];
        assert_pass(
            &format!("TC_A_08_CSMS ({kind})"),
            octt::run("TC_A_08_CSMS", &target, None).await,
        );
    }
    assert_booted_and_stored(&csms).await;
}

/// The stored password hash of CP001.
async fn password_hash(csms: &TestCsms) -> String {
    let station = csms.server.store.get_station(&id()).await.unwrap().unwrap();
    station
        .password_hash
        .expect("a station at profile 1 or 2 has a password")
}

/// TC_A_09_CSMS at profiles 1 and 2: the operator rotates the password (SetVariables
/// SecurityCtrlr.BasicAuthPassword), the station accepts and reconnects with the new one. The
/// CSMS keeps only the new password: the old one no longer verifies and is refused (401).
#[tokio::test]
async fn tc_a_09_csms() {
    for profile in [1, 2] {
        let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, profile)]).await;
        let target = csms.target(CP, profile);
        assert_pass(
            &format!("TC_A_09_CSMS at profile {profile}"),
            octt::run("TC_A_09_CSMS", &target, operator.as_operator()).await,
        );
        let answers = operator.answers(|a| matches!(a, OperatorAction::RotateBasicAuthPassword));
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0]["status"], "Accepted", "{}", answers[0]);
        assert!(
            !verify_password(PASSWORD, &password_hash(&csms).await),
            "the CSMS still holds the old password"
        );
        match Station::connect(&target.options(profile).unwrap()).await {
            Err(ConnectError::Http(status)) => assert_eq!(status, 401),
            Err(other) => panic!("expected HTTP 401 for the old password, got {other}"),
            Ok(_) => panic!("the old password was accepted after the rotation"),
        }
    }
}

/// TC_A_10_CSMS at profiles 1 and 2: the station rejects the new password; the CSMS keeps the
/// old one (same stored hash) and the station reconnects with it.
#[tokio::test]
async fn tc_a_10_csms() {
    for profile in [1, 2] {
        let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, profile)]).await;
        let before = password_hash(&csms).await;
        assert_pass(
            &format!("TC_A_10_CSMS at profile {profile}"),
            octt::run(
                "TC_A_10_CSMS",
                &csms.target(CP, profile),
                operator.as_operator(),
            )
            .await,
        );
        let answers = operator.answers(|a| matches!(a, OperatorAction::RotateBasicAuthPassword));
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0]["status"], "Rejected", "{}", answers[0]);
        assert_eq!(
            password_hash(&csms).await,
            before,
            "the stored password changed"
        );
        assert!(verify_password(PASSWORD, &before));
    }
}

/// The station statuses of the certificates the CSMS issued to CP001, once `n` have one (the
/// station's CertificateSignedResponse is recorded after the scenario has moved on).
async fn issued_statuses(csms: &TestCsms, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let statuses: Vec<String> = csms
            .server
            .store
            .issued_certificates(&id())
            .await
            .unwrap()
            .into_iter()
            .filter_map(|c| c.station_status)
            .collect();
        if statuses.len() >= n || tokio::time::Instant::now() > deadline {
            return statuses;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// TC_A_11_CSMS: the CSMS signs the station's CSR with its CA. The scenario checks the chain a
/// station would install (against the root it is configured with); here the second renewal's
/// chain is checked again against the CSMS's own CA file, the stored copy is the one sent, a
/// foreign root rejects it (the check can fail), and the certificate is one the CSMS accepts:
/// the station connects at profile 3 with it and boots.
#[tokio::test]
async fn tc_a_11_csms() {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 3)]).await;
    let target = csms.target(CP, 3);
    assert_pass(
        "TC_A_11_CSMS",
        octt::run("TC_A_11_CSMS", &target, operator.as_operator()).await,
    );
    let answers = operator.answers(|a| matches!(a, OperatorAction::RenewStationCertificate));
    assert_eq!(answers[0]["status"], "Accepted", "{}", answers[0]);
    assert_eq!(issued_statuses(&csms, 1).await, ["Accepted"]);

    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    let renewed = states::renew_charging_station_certificate(
        &mut station,
        &target,
        operator.as_operator().unwrap(),
    )
    .await
    .unwrap();
    station.close().await;
    octt::a_security::check_issued_chain(
        &renewed.certificate_chain,
        &csms.tls.ca_cert,
        CP,
        &renewed.key,
    )
    .expect("the issued chain verifies against the CSMS root, with the CSR's key and CN");
    // Against another root, or for another station, the same chain must be refused.
    let foreign = csms.foreign_client_cert("someone-else").0;
    let refused = octt::a_security::check_issued_chain(
        &renewed.certificate_chain,
        &foreign,
        CP,
        &renewed.key,
    );
    assert!(
        matches!(refused, Err(octt::CaseError::Fail(ref m)) if m.contains("does not verify")),
        "{refused:?}"
    );
    assert!(octt::a_security::check_issued_chain(
        &renewed.certificate_chain,
        &csms.tls.ca_cert,
        "CP002",
        &renewed.key
    )
    .is_err());
    // Recorded once the station's answer is in (after the scenario has moved on): wait for it.
    assert_eq!(issued_statuses(&csms, 2).await, ["Accepted", "Accepted"]);
    let stored = csms.server.store.issued_certificates(&id()).await.unwrap();
    let leaf = openssl::x509::X509::stack_from_pem(renewed.certificate_chain.as_bytes()).unwrap();
    assert!(
        stored.iter().any(|c| {
            openssl::x509::X509::from_pem(c.certificate.as_bytes())
                .is_ok_and(|s| s.to_der().unwrap() == leaf[0].to_der().unwrap())
        }),
        "the CSMS keeps the certificate it sent"
    );
    let cert = csms.dir.path().join("renewed.pem");
    let key = csms.dir.path().join("renewed.key.pem");
    std::fs::write(&cert, &renewed.certificate_chain).unwrap();
    std::fs::write(&key, renewed.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let mut renewed_target = target.clone();
    renewed_target.client_cert = Some((cert, key));
    let mut station = renewed_target
        .connect()
        .await
        .expect("the CSMS accepts the certificate it issued");
    states::booted(&mut station, &renewed_target).await.unwrap();
    station.close().await;
}

/// TC_A_14_CSMS: the station rejects the certificate the CSMS issued (the scenario still checks
/// that certificate against the CSMS root, as for A_11); the CSMS records the rejection, and
/// the station's current certificate still connects.
#[tokio::test]
async fn tc_a_14_csms() {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 3)]).await;
    let target = csms.target(CP, 3);
    assert_pass(
        "TC_A_14_CSMS",
        octt::run("TC_A_14_CSMS", &target, operator.as_operator()).await,
    );
    assert_eq!(issued_statuses(&csms, 1).await, ["Rejected"]);
    let mut station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();
    station.close().await;
}

/// TC_A_19_CSMS from profile 1 (to 2) and from profile 2 (to 3, after a certificate renewal):
/// the CSMS keeps the raised profile and refuses the old one.
#[tokio::test]
async fn tc_a_19_csms() {
    for profile in [1u8, 2] {
        let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, profile)]).await;
        assert_pass(
            &format!("TC_A_19_CSMS from profile {profile}"),
            octt::run(
                "TC_A_19_CSMS",
                &csms.target(CP, profile),
                operator.as_operator(),
            )
            .await,
        );
        let station = csms.server.store.get_station(&id()).await.unwrap().unwrap();
        assert_eq!(station.security_profile.number(), profile + 1);
        let answers =
            operator.answers(|a| matches!(a, OperatorAction::UpgradeSecurityProfile { .. }));
        assert_eq!(answers.len(), 1);
        assert!(answers[0]["steps"].is_array(), "{}", answers[0]);
    }
}
