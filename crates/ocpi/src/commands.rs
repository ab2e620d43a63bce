//! Commands module: the eMSP asks the CPO to act on a charger; the CPO answers at once with a
//! CommandResponse and later POSTs a CommandResult to the command's `response_url`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::tokens::Token;
use crate::types::DisplayText;

/// `POST {commands}/START_SESSION`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartSession {
    pub response_url: String,
    pub token: Token,
    pub location_id: String,
    /// Required when the EVSE has the capability START_SESSION_CONNECTOR_REQUIRED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_reference: Option<String>,
}

/// `POST {commands}/STOP_SESSION`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopSession {
    pub response_url: String,
    pub session_id: String,
}

/// `POST {commands}/RESERVE_NOW`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveNow {
    pub response_url: String,
    pub token: Token,
    #[serde(with = "crate::datetime")]
    pub expiry_date: DateTime<Utc>,
    pub reservation_id: String,
    pub location_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_reference: Option<String>,
}

/// `POST {commands}/CANCEL_RESERVATION`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelReservation {
    pub response_url: String,
    pub reservation_id: String,
}

/// `POST {commands}/UNLOCK_CONNECTOR`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockConnector {
    pub response_url: String,
    pub location_id: String,
    pub evse_uid: String,
    pub connector_id: String,
}

/// A command with its type; the type is the last path segment, not part of the body, so this
/// is built with [`Command::from_body`] rather than deserialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    StartSession(StartSession),
    StopSession(StopSession),
    ReserveNow(ReserveNow),
    CancelReservation(CancelReservation),
    UnlockConnector(UnlockConnector),
}

/// Why a command body is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Answer with CommandResponse NOT_SUPPORTED.
    #[error("command {0} is not supported")]
    NotSupported(CommandType),
    /// Answer with OCPI status 2001.
    #[error("invalid {command} body: {source}")]
    InvalidBody {
        command: CommandType,
        source: serde_json::Error,
    },
}

impl Command {
    /// Reads the body of `POST {commands}/{command}`.
    pub fn from_body(command: &CommandType, body: &[u8]) -> Result<Command, CommandError> {
        let invalid = |source| CommandError::InvalidBody {
            command: command.clone(),
            source,
        };
        Ok(match command {
            CommandType::StartSession => {
                Command::StartSession(serde_json::from_slice(body).map_err(invalid)?)
            }
            CommandType::StopSession => {
                Command::StopSession(serde_json::from_slice(body).map_err(invalid)?)
            }
            CommandType::ReserveNow => {
                Command::ReserveNow(serde_json::from_slice(body).map_err(invalid)?)
            }
            CommandType::CancelReservation => {
                Command::CancelReservation(serde_json::from_slice(body).map_err(invalid)?)
            }
            CommandType::UnlockConnector => {
                Command::UnlockConnector(serde_json::from_slice(body).map_err(invalid)?)
            }
            CommandType::Other(_) => return Err(CommandError::NotSupported(command.clone())),
        })
    }

    pub fn command_type(&self) -> CommandType {
        match self {
            Command::StartSession(_) => CommandType::StartSession,
            Command::StopSession(_) => CommandType::StopSession,
            Command::ReserveNow(_) => CommandType::ReserveNow,
            Command::CancelReservation(_) => CommandType::CancelReservation,
            Command::UnlockConnector(_) => CommandType::UnlockConnector,
        }
    }

    /// Where the CommandResult goes.
    pub fn response_url(&self) -> &str {
        match self {
            Command::StartSession(c) => &c.response_url,
            Command::StopSession(c) => &c.response_url,
            Command::ReserveNow(c) => &c.response_url,
            Command::CancelReservation(c) => &c.response_url,
            Command::UnlockConnector(c) => &c.response_url,
        }
    }
}

/// The CPO's immediate answer to a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResponse {
    pub result: CommandResponseType,
    /// Seconds the eMSP should wait for the CommandResult.
    pub timeout: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Vec<DisplayText>>,
}

/// The CPO's later answer, POSTed to `response_url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResult {
    pub result: CommandResultType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Vec<DisplayText>>,
}

ocpi_enum! {
    CommandResponseType {
        NotSupported => "NOT_SUPPORTED",
        Rejected => "REJECTED",
        Accepted => "ACCEPTED",
        UnknownSession => "UNKNOWN_SESSION",
    }
}

ocpi_enum! {
    CommandResultType {
        Accepted => "ACCEPTED",
        CanceledReservation => "CANCELED_RESERVATION",
        EvseOccupied => "EVSE_OCCUPIED",
        EvseInoperative => "EVSE_INOPERATIVE",
        Failed => "FAILED",
        NotSupported => "NOT_SUPPORTED",
        Rejected => "REJECTED",
        Timeout => "TIMEOUT",
        UnknownReservation => "UNKNOWN_RESERVATION",
    }
}

ocpi_enum! {
    CommandType {
        CancelReservation => "CANCEL_RESERVATION",
        ReserveNow => "RESERVE_NOW",
        StartSession => "START_SESSION",
        StopSession => "STOP_SESSION",
        UnlockConnector => "UNLOCK_CONNECTOR",
    }
}
