//! Block B, Provisioning.

use unicharge_core::{RegistrationStatus, StationId};
use unicharge_sim::octt;

use crate::common::{assert_pass, StationSpec, TestCsms};

/// TC_B_01_CSMS Cold Boot Charge Point - Accepted: the Booted state; what the station said of
/// itself is kept.
#[tokio::test]
async fn tc_b_01_csms() {
    let csms = TestCsms::start(&[StationSpec::new("CP001", 1)]).await;
    assert_pass(
        "TC_B_01_CSMS",
        octt::run("TC_B_01_CSMS", &csms.target("CP001", 1)).await,
    );
    let station = csms
        .server
        .store
        .get_station(&StationId::new("CP001").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(station.last_boot_status, Some(RegistrationStatus::Accepted));
    assert_eq!(station.last_boot_reason.as_deref(), Some("PowerUp"));
    assert_eq!(station.model.as_deref(), Some("unicharge-sim"));
}
