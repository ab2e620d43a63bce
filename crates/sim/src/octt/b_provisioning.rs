//! Block B, Provisioning.

use super::{states, CaseError, Target};

/// TC_B_01_CSMS Cold Boot Charge Point - Accepted (B01.FR.02): execute Reusable State Booted.
pub async fn tc_b_01(target: &Target) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    station.close().await;
    Ok(())
}
