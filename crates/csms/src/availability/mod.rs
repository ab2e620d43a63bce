//! Functional block G, Availability: connector status (G01) and heartbeats (G02).
//! Changing availability (G03, G04) arrives with the operator API.

pub mod heartbeat;
pub mod status_notification;
