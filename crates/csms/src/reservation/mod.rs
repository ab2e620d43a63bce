//! Functional block H, Reservation. The CSMS side of ReserveNow and CancelReservation lives in
//! the operator API (it allocates the reservation id and keeps the reservation before the
//! request is sent); here the station's ReservationStatusUpdate (H04: Expired / Removed) is
//! recorded. A transaction that carries a reservationId marks the reservation Used
//! (see [`crate::transactions::transaction_event`]).

pub mod reservation_status_update;
