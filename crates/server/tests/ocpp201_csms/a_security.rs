//! Block A, Security.

use unicharge_core::StationId;
use unicharge_sim::octt::{self, InvalidCertificate};
use unicharge_sim::{ConnectError, Station};

use crate::common::{assert_pass, StationSpec, TestCsms};

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
        let verdict = octt::run("TC_A_01_CSMS", &csms.target(CP, profile)).await;
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
            octt::run("TC_A_02_CSMS", &csms.target(CP, profile)).await,
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
            octt::run("TC_A_03_CSMS", &csms.target(CP, profile)).await,
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
        let verdict = octt::run("TC_A_04_CSMS", &csms.target(CP, profile)).await;
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
        octt::run("TC_A_06_CSMS", &csms.target(CP, 2)).await,
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
        octt::run("TC_A_07_CSMS", &csms.target(CP, 3)).await,
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
            octt::run("TC_A_08_CSMS", &target).await,
        );
    }
    assert_booted_and_stored(&csms).await;
}
