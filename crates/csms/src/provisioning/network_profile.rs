//! B09 Setting a new NetworkConnectionProfile: installs a connection profile in a configuration
//! slot. A profile with a higher security profile than the station's is refused here: raising
//! the profile is A05 ([`crate::security::profile_upgrade`]), which also changes what the CSMS
//! requires of the station.

use unicharge_core::StationId;
use unicharge_ocpp::v201::{SetNetworkProfileRequest, SetNetworkProfileResponse};

use crate::request::{OpError, Requester};
use crate::Csms;

pub async fn set_network_profile(
    csms: &Csms,
    station: &StationId,
    request: SetNetworkProfileRequest,
    by: &Requester,
) -> Result<SetNetworkProfileResponse, OpError> {
    csms.registered(station).await?;
    csms.request(station, &request, by).await
}
