//! ReservationStatusUpdate (H04): the station ended a reservation (Expired, Removed).
//! An id the CSMS does not know is still answered: the station is telling the truth about its
//! own state, and refusing would only make it retry.

use unicharge_ocpp::v201::{ReservationStatusUpdateRequest, ReservationStatusUpdateResponse};
use unicharge_store::Write;

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: ReservationStatusUpdateRequest,
) -> Result<Handled<ReservationStatusUpdateResponse>, CallRefusal> {
    let status = req.reservation_update_status.as_str().to_string();
    let known = ctx
        .store
        .reservation(&ctx.station_id, req.reservation_id)
        .await
        .map_err(internal)?
        .is_some();
    if known {
        tracing::info!(station = %ctx.station_id, reservation = req.reservation_id, %status,
            "ReservationStatusUpdate");
    } else {
        tracing::warn!(station = %ctx.station_id, reservation = req.reservation_id, %status,
            "ReservationStatusUpdate for a reservation this CSMS does not know");
    }
    Ok(Handled::durable(
        ReservationStatusUpdateResponse { custom_data: None },
        vec![Write::ReservationStatus {
            station_id: ctx.station_id.clone(),
            reservation_id: req.reservation_id,
            status,
        }],
    ))
}
