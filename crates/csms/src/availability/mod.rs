//! Functional block G, Availability: connector status (G01), heartbeats (G02), and changing the
//! availability of the station, an EVSE or a connector (G03, G04, [`change_availability`]).

pub mod heartbeat;
pub mod status_notification;

use unicharge_core::StationId;
use unicharge_ocpp::v201::{ChangeAvailabilityRequest, ChangeAvailabilityResponse};

use crate::request::{OpError, Requester};
use crate::Csms;

/// G03/G04: make the station, an EVSE or a connector (in)operative. `Scheduled` means it
/// happens when the running transaction ends.
pub async fn change_availability(
    csms: &Csms,
    station: &StationId,
    request: ChangeAvailabilityRequest,
    by: &Requester,
) -> Result<ChangeAvailabilityResponse, OpError> {
    csms.registered(station).await?;
    csms.request(station, &request, by).await
}
