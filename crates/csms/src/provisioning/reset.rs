//! B11 Reset without ongoing transaction, B12 Reset with ongoing transaction: the station, or
//! one EVSE, resets now (`Immediate`) or when idle (`OnIdle`; answered `Scheduled` while a
//! transaction runs).

use unicharge_core::StationId;
use unicharge_ocpp::v201::{ResetRequest, ResetResponse};

use crate::request::{OpError, Requester};
use crate::Csms;

pub async fn reset(
    csms: &Csms,
    station: &StationId,
    request: ResetRequest,
    by: &Requester,
) -> Result<ResetResponse, OpError> {
    csms.registered(station).await?;
    csms.request(station, &request, by).await
}
