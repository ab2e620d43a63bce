//! RESERVE_NOW and CANCEL_RESERVATION (B6.3): the CSMS's H01 Reserve Now and H02 Cancel
//! Reservation, with the eMSP's `reservation_id` kept against the CSMS's reservation id
//! (`OcpiReservations`, migration 0093).
//!
//! A RESERVE_NOW with a `reservation_id` the partner used before replaces that reservation
//! (OCPI 2.2.1 `ReserveNow.reservation_id`): the old one is cancelled at its station first, so
//! that the new one is not refused as Occupied by the reservation it replaces. If the old one
//! cannot be cancelled the new one is not made (result REJECTED, saying why).

use chrono::Utc;
use unicharge_csms::request::OpError;
use unicharge_csms::reservation::{self as h, Reservation};
use unicharge_ocpi::commands::{
    CancelReservation, CommandResponseType, CommandResultType, ReserveNow,
};
use unicharge_ocpp::v201::{CancelReservationStatusEnumType, ReserveNowStatusEnumType};
use unicharge_store::ocpi_reservations::OcpiReservationRow;

use super::{
    evse, failed, id_token, location, offline, requester, response, send_result_saying,
    token_of_partner,
};
use crate::auth::Caller;
use crate::reply::{Answer, Reply};
use crate::{tokens, Ocpi};

/// The OCPI result of the station's ReserveNow answer.
fn reserved(status: &ReserveNowStatusEnumType) -> CommandResultType {
    match status {
        ReserveNowStatusEnumType::Accepted => CommandResultType::Accepted,
        ReserveNowStatusEnumType::Occupied => CommandResultType::EvseOccupied,
        ReserveNowStatusEnumType::Faulted | ReserveNowStatusEnumType::Unavailable => {
            CommandResultType::EvseInoperative
        }
        ReserveNowStatusEnumType::Rejected => CommandResultType::Rejected,
    }
}

pub(super) async fn reserve_now(ocpi: Ocpi, caller: Caller, r: ReserveNow) -> Answer {
    let location = location(&ocpi, &caller, &r.location_id).await?;
    token_of_partner(&caller, &r.token)?;
    let (station, evse_id) = evse(&ocpi, &location, r.evse_uid.as_deref()).await?;
    if r.expiry_date <= Utc::now() {
        return Ok(response(
            &ocpi,
            CommandResponseType::Rejected,
            Some("expiry_date is not in the future"),
        ));
    }
    if !ocpi.csms().is_connected(&station) {
        return Ok(offline(&ocpi));
    }
    // The eMSP vouches for the token the EVSE is reserved for: the station will let it start.
    tokens::accept(&ocpi, caller.partner.id, &r.token).await?;
    let replaced = ocpi
        .ocpi_store()
        .ocpi_reservation(caller.partner.id, &r.reservation_id)
        .await
        .map_err(Reply::server_error)?;
    let by = requester(&caller);
    let task_ocpi = ocpi.clone();
    tokio::spawn(async move {
        let csms = task_ocpi.csms();
        if let Some(old) = &replaced {
            if let Err(why) = cancel_replaced(&task_ocpi, old, &by).await {
                let result = CommandResultType::Rejected;
                let message = format!("the reservation it replaces could not be cancelled: {why}");
                send_result_saying(&task_ocpi, &caller, &r.response_url, result, Some(&message))
                    .await;
                return;
            }
        }
        let reservation = Reservation {
            id_token: id_token(&r.token),
            group_id_token: None,
            evse_id,
            connector_type: None,
            expires_at: r.expiry_date,
        };
        let (result, message) = match h::reserve_now(csms, &station, reservation, &by).await {
            Ok(made) => {
                let row = OcpiReservationRow {
                    partner_id: caller.partner.id,
                    reservation_id: r.reservation_id.clone(),
                    location_id: r.location_id.clone(),
                    station_id: station.clone(),
                    csms_reservation_id: made.id,
                    created_at: Utc::now(),
                };
                // Kept whatever the station said, so a CANCEL_RESERVATION of a refused one
                // finds it and gets the station's own answer.
                match task_ocpi.ocpi_store().put_ocpi_reservation(&row).await {
                    Ok(()) => (reserved(&made.response.status), None),
                    Err(e) => {
                        tracing::warn!(partner = caller.partner.id, station = %station,
                            error = %e, "OCPI reservation not recorded");
                        (
                            CommandResultType::Failed,
                            Some("the reservation was not recorded"),
                        )
                    }
                }
            }
            Err(e) => (failed(&e), None),
        };
        send_result_saying(&task_ocpi, &caller, &r.response_url, result, message).await;
    });
    Ok(response(&ocpi, CommandResponseType::Accepted, None))
}

/// Whether the station holds (or may hold: no answer yet) the reservation.
async fn live(ocpi: &Ocpi, row: &OcpiReservationRow) -> Result<bool, String> {
    let current = ocpi
        .csms()
        .store()
        .reservation(&row.station_id, row.csms_reservation_id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(current.is_some_and(|c| matches!(c.effective_status(Utc::now()), "Accepted" | "Requested")))
}

/// Cancel the reservation a new RESERVE_NOW replaces, unless it is over already.
async fn cancel_replaced(
    ocpi: &Ocpi,
    old: &OcpiReservationRow,
    by: &unicharge_csms::request::Requester,
) -> Result<(), String> {
    if !live(ocpi, old).await? {
        return Ok(());
    }
    match h::cancel_reservation(ocpi.csms(), &old.station_id, old.csms_reservation_id, by).await {
        Ok(answer) if answer.status == CancelReservationStatusEnumType::Accepted => Ok(()),
        Ok(_) => Err("the station refused to cancel it".into()),
        Err(e) => Err(e.to_string()),
    }
}

pub(super) async fn cancel(ocpi: Ocpi, caller: Caller, c: CancelReservation) -> Answer {
    let known = ocpi
        .ocpi_store()
        .ocpi_reservation(caller.partner.id, &c.reservation_id)
        .await
        .map_err(Reply::server_error)?;
    let by = requester(&caller);
    let task_ocpi = ocpi.clone();
    // CommandResponseType has no "unknown reservation": the command is taken and the
    // CommandResult says UNKNOWN_RESERVATION (OCPI 2.2.1 CommandResultType), also for one the
    // station refused, used or let expire: the station is not asked about what it cannot hold.
    tokio::spawn(async move {
        let result = match known {
            None => CommandResultType::UnknownReservation,
            Some(row) => match live(&task_ocpi, &row).await {
                Ok(false) => CommandResultType::UnknownReservation,
                Err(e) => {
                    tracing::warn!(partner = caller.partner.id, error = %e,
                        "CANCEL_RESERVATION: reservation not readable");
                    CommandResultType::Failed
                }
                Ok(true) => {
                    match h::cancel_reservation(
                        task_ocpi.csms(),
                        &row.station_id,
                        row.csms_reservation_id,
                        &by,
                    )
                    .await
                    {
                        Ok(a) if a.status == CancelReservationStatusEnumType::Accepted => {
                            CommandResultType::Accepted
                        }
                        // The station no longer holds it.
                        Ok(_) | Err(OpError::NotFound { .. }) => {
                            CommandResultType::UnknownReservation
                        }
                        Err(e) => failed(&e),
                    }
                }
            },
        };
        send_result_saying(&task_ocpi, &caller, &c.response_url, result, None).await;
    });
    Ok(response(&ocpi, CommandResponseType::Accepted, None))
}
