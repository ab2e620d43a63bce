//! Functional block H, Reservation: H01 Reserve Now ([`reserve_now`]), H02 Cancel Reservation
//! ([`cancel_reservation`]) and H03/H04 the station's ReservationStatusUpdate
//! ([`reservation_status_update`]).
//!
//! The CSMS allocates the reservation id: the reservation is stored (status `Requested`)
//! before ReserveNow is sent, then takes the station's answer as its status. A reservation the
//! station accepted reads `Expired` once its expiry has passed, even if the station — perhaps
//! offline — never said so (`ReservationRecord::effective_status`).

pub mod reservation_status_update;

use chrono::{DateTime, Utc};
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    CancelReservationRequest, CancelReservationResponse, CancelReservationStatusEnumType,
    ConnectorEnumType, IdTokenType, ReserveNowRequest, ReserveNowResponse,
};
use unicharge_store::ReservationRecord;

use crate::request::{check_request, OpError, Requester};
use crate::Csms;

/// What to reserve.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    pub id_token: IdTokenType,
    pub group_id_token: Option<IdTokenType>,
    /// Absent: any EVSE of the station.
    pub evse_id: Option<i64>,
    pub connector_type: Option<ConnectorEnumType>,
    pub expires_at: DateTime<Utc>,
}

/// The reservation id the CSMS allocated and the station's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reserved {
    pub id: i64,
    pub response: ReserveNowResponse,
}

/// H01: reserve an EVSE (or any) for a token until `expires_at`.
pub async fn reserve_now(
    csms: &Csms,
    station: &StationId,
    reservation: Reservation,
    by: &Requester,
) -> Result<Reserved, OpError> {
    csms.registered(station).await?;
    let now = Utc::now();
    if reservation.expires_at <= now {
        return Err(OpError::refused(
            "expiry_in_the_past",
            format!(
                "the reservation would expire at {}, which is not in the future",
                reservation
                    .expires_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ));
    }
    let mut request = ReserveNowRequest {
        custom_data: None,
        // A stand-in for the check: nothing is stored for a request that could not be sent.
        id: 1,
        expiry_date_time: reservation.expires_at,
        connector_type: reservation.connector_type,
        id_token: reservation.id_token,
        evse_id: reservation.evse_id,
        group_id_token: reservation.group_id_token,
    };
    let payload = serde_json::to_value(&request).map_err(|e| OpError::Store(e.to_string()))?;
    check_request("ReserveNow", &payload)?;
    if !csms.is_connected(station) {
        return Err(OpError::NotConnected(station.clone()));
    }
    let store = csms.store();
    let id = store
        .create_reservation(&ReservationRecord {
            id: 0,
            station_id: station.clone(),
            evse_id: request.evse_id,
            connector_type: request.connector_type.map(|c| c.as_str().to_string()),
            id_token: request.id_token.id_token.clone(),
            id_token_type: request.id_token.r#type.as_str().to_string(),
            group_id_token: request.group_id_token.as_ref().map(|g| g.id_token.clone()),
            expires_at: request.expiry_date_time,
            status: "Requested".into(),
            transaction_id: None,
            created_at: now,
            updated_at: now,
        })
        .await?;
    request.id = id;
    match csms.request(station, &request, by).await {
        Ok(response) => {
            store
                .set_reservation_status(station, id, response.status.as_str())
                .await?;
            Ok(Reserved { id, response })
        }
        Err(e) => {
            // Without an answer the station may still hold it (timeout): it stays Requested.
            // Otherwise it was not made.
            if !matches!(e, OpError::Timeout { .. }) {
                store.set_reservation_status(station, id, "Failed").await?;
            }
            Err(e)
        }
    }
}

/// H02: cancel a reservation. When the station accepts, the reservation is Cancelled.
pub async fn cancel_reservation(
    csms: &Csms,
    station: &StationId,
    reservation_id: i64,
    by: &Requester,
) -> Result<CancelReservationResponse, OpError> {
    csms.registered(station).await?;
    if csms
        .store()
        .reservation(station, reservation_id)
        .await?
        .is_none()
    {
        return Err(OpError::NotFound {
            code: "unknown_reservation",
            message: format!("station {station} has no reservation {reservation_id}"),
        });
    }
    let request = CancelReservationRequest {
        custom_data: None,
        reservation_id,
    };
    let response = csms.request(station, &request, by).await?;
    if response.status == CancelReservationStatusEnumType::Accepted {
        csms.store()
            .set_reservation_status(station, reservation_id, "Cancelled")
            .await?;
    }
    Ok(response)
}
