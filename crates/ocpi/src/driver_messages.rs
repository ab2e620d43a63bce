//! Driver messages: a unicharge extension module (not in OCPI 2.2.1 / 2.3.0) for the OCPI 3.0
//! business use cases B4.4 (an MSP sends a message to its EV driver at the EVSE) and B4.5 (a
//! CPO sends a message to an EV driver of an MSP, shown in the MSP's app).
//!
//! Negotiated like any module: a platform that supports it publishes the endpoint
//! [`MODULE_ID`] in its version details (the CPO as RECEIVER of B4.4 messages, the eMSP as
//! RECEIVER of B4.5 messages). A plain 2.2.1 / 2.3.0 partner never sees a request of it, and
//! ignores the endpoint it does not know (ModuleID is an open enum in 2.3.0; 2.2.1 §
//! "Custom Modules" allows custom identifiers).
//!
//! * B4.4, MSP → CPO: `POST {cpo endpoint}/{session_id}` with a [`DriverMessageRequest`]. The
//!   CPO answers at once with a [`crate::commands::CommandResponse`] (ACCEPTED, REJECTED,
//!   UNKNOWN_SESSION) and POSTs a [`crate::commands::CommandResult`] to `response_url` once the
//!   station answered the OCPP SetDisplayMessage (ACCEPTED, REJECTED, NOT_SUPPORTED, FAILED,
//!   TIMEOUT): the command pattern every OCPI party already implements.
//! * B4.5, CPO → MSP: `POST {emsp endpoint}/{country_code}/{party_id}/{session_id}` (the CPO's
//!   party and its session id, as a session push names them) with a [`DriverMessage`]; the
//!   `id` makes a retried push idempotent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::types::DisplayText;

/// The module identifier in version details.
pub const MODULE_ID: &str = "x-unicharge-drivermessages";

/// B4.4: what the MSP asks the CPO to show its driver during a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverMessageRequest {
    /// Where the CommandResult goes.
    pub response_url: String,
    /// The text, in one or more languages (the station gets one message per language).
    pub message: Vec<DisplayText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<MessagePriority>,
    /// Stop showing it then (it goes anyway when the session ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_until: Option<DateTime<Utc>>,
}

/// B4.5: a message of the CPO for the driver of one of the MSP's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverMessage {
    /// Unique per CPO party: a retried push with the same id is the same message.
    pub id: String,
    pub session_id: String,
    pub message: Vec<DisplayText>,
    pub created_at: DateTime<Utc>,
}

ocpi_enum! {
    /// How urgently the EVSE shows the message (OCPP MessagePriorityEnumType).
    MessagePriority {
        Normal => "NORMAL",
        InFront => "IN_FRONT",
        AlwaysFront => "ALWAYS_FRONT",
    }
}
