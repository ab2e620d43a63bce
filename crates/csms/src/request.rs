//! The one way the CSMS sends a CALL to a station.
//!
//! Whoever wants something of a station — an operator through the REST API or the CLI, the CSMS
//! itself (B02 provisioning, E14 status checks, I02 cost updates, A02 certificates), later a
//! roaming partner (OCPI commands) or an automation rule (smart charging) — goes through
//! [`Csms::request`] with a typed request and a [`Requester`] that says who asked. The send path:
//!
//! 1. validates the request against the official schema (nothing invalid leaves),
//! 2. hands it to the station's connection task, which sends it when no other CALL is
//!    outstanding (OCPP-J: one in flight per direction) and waits for the answer with a deadline,
//! 3. validates the answer and decodes it into the typed response,
//! 4. writes the command log — with secrets redacted ([`redact`]) — and
//! 5. classifies every failure in one vocabulary, [`OpError`], which the REST API turns into HTTP
//!    statuses in one place.
//!
//! [`Csms::request_untyped`] is the same path for the operator's generic command endpoint, where
//! the payload arrives as JSON and leaves as JSON.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use unicharge_core::StationId;
use unicharge_ocpp::v201::{Action, Initiator, OcppRequest};
use unicharge_ocpp::{Direction, ErrorCode, OcppVersion, SchemaViolation, Validator};
use unicharge_store::{CommandRecord, StoreError, Write};

use crate::cluster::{RemoteCall, RemoteOutcome};
use crate::connection::CallFailure;
use crate::Csms;

/// Who asked for a CSMS-initiated call. Kept in the command log (`requested_by`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// An operator, by the id of the API key they used (REST API, CLI).
    Operator { api_key_id: String },
    /// The CSMS on its own (provisioning, status checks, cost updates, certificates).
    Csms,
    /// A roaming partner (an OCPI command), by its party id.
    RoamingPartner { party: String },
    /// An automation rule (smart charging, firmware campaigns), by its name.
    Automation { rule: String },
}

impl Requester {
    pub fn operator(api_key_id: impl Into<String>) -> Self {
        Requester::Operator {
            api_key_id: api_key_id.into(),
        }
    }

    /// How the command log names the requester: the API key id, `csms`, `ocpi:<party>`,
    /// `rule:<name>`.
    pub fn label(&self) -> String {
        match self {
            Requester::Operator { api_key_id } => api_key_id.clone(),
            Requester::Csms => "csms".into(),
            Requester::RoamingPartner { party } => format!("ocpi:{party}"),
            Requester::Automation { rule } => format!("rule:{rule}"),
        }
    }
}

/// Why an operation did not give its result. One vocabulary for every caller; the REST API maps
/// it to HTTP in one place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpError {
    #[error("station {0} is not registered")]
    UnknownStation(StationId),
    #[error("station {0} is not connected; retry when it is")]
    NotConnected(StationId),
    #[error("station {station} has {queued} calls waiting already; retry later")]
    Busy { station: StationId, queued: usize },
    #[error("station {station} did not answer {action} within {after:?}")]
    Timeout {
        station: StationId,
        action: Action,
        after: Duration,
    },
    #[error("station {station} answered {action} with CALLERROR {code}: {description}")]
    CallError {
        station: StationId,
        action: Action,
        code: ErrorCode,
        description: String,
        details: Value,
    },
    #[error("the {action}Request breaks the OCPP 2.0.1 schema at '{path}': {message}")]
    InvalidRequest {
        action: String,
        path: String,
        message: String,
        code: ErrorCode,
    },
    #[error(
        "station {station} answered {action} with a payload that breaks the schema: {violation}"
    )]
    InvalidResponse {
        station: StationId,
        action: Action,
        violation: String,
    },
    /// The operation's input was refused before anything was sent; `code` is a stable
    /// machine-readable reason (e.g. `unknown_token`), `message` names the fix.
    #[error("{message}")]
    Refused {
        code: &'static str,
        message: String,
        detail: Option<Value>,
    },
    /// Another node has held the cluster lease this work needs for longer than it should (it
    /// is stuck rather than busy); nothing was sent or stored. Retry later.
    #[error("{message}")]
    Contended { code: &'static str, message: String },
    /// Something the operation refers to does not exist (a reservation, a report).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("store error: {0}")]
    Store(String),
}

impl OpError {
    /// The stable label a request that got no answer is recorded with (a profile, a display
    /// message, a tracked request, a remote start): why there was none.
    pub fn label(&self) -> &'static str {
        match self {
            OpError::NotConnected(_) => "station_not_connected",
            OpError::Timeout { .. } => "station_timeout",
            OpError::CallError { .. } => "call_error",
            OpError::InvalidResponse { .. } => "invalid_response",
            OpError::Busy { .. } => "station_busy",
            _ => "failed",
        }
    }

    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        OpError::Refused {
            code,
            message: message.into(),
            detail: None,
        }
    }

    pub fn with_detail(self, detail: Value) -> Self {
        match self {
            OpError::Refused { code, message, .. } => OpError::Refused {
                code,
                message,
                detail: Some(detail),
            },
            other => other,
        }
    }

    /// The short outcome label the command log keeps for a failed call.
    fn log_label(&self) -> &'static str {
        match self {
            OpError::CallError { .. } => "call_error",
            OpError::Timeout { .. } => "timeout",
            OpError::NotConnected(_) | OpError::UnknownStation(_) => "not_connected",
            OpError::Busy { .. } | OpError::Contended { .. } => "busy",
            OpError::InvalidResponse { .. } => "invalid_response",
            OpError::InvalidRequest { .. } | OpError::Refused { .. } => "invalid_request",
            OpError::NotFound { .. } | OpError::Store(_) => "failed",
        }
    }
}

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error during an operation");
        OpError::Store(e.to_string())
    }
}

/// Check a request payload against its schema, naming the path that breaks it.
pub fn check_request(action: &str, payload: &Value) -> Result<(), OpError> {
    Validator::global()
        .validate(action, Direction::Request, payload)
        .map_err(|violation| {
            let (path, message) = match &violation {
                SchemaViolation::Invalid { path, message, .. } => (path.clone(), message.clone()),
                other => (String::new(), other.to_string()),
            };
            OpError::InvalidRequest {
                action: action.to_string(),
                path,
                message,
                code: violation.code(),
            }
        })
}

/// Encode a typed request. Failing here is a bug of ours (the generated types serialise).
fn encode<T: serde::Serialize>(action: Action, value: &T) -> Result<Value, OpError> {
    serde_json::to_value(value).map_err(|e| OpError::InvalidRequest {
        action: action.as_str().to_string(),
        path: String::new(),
        message: format!("cannot encode: {e}"),
        code: ErrorCode::InternalError,
    })
}

impl Csms {
    /// Send a typed request to a station and return its typed answer: validated, sent with a
    /// deadline, logged (secrets redacted), failures classified. See the module documentation.
    pub async fn request<R: OcppRequest>(
        &self,
        station: &StationId,
        request: &R,
        requester: &Requester,
    ) -> Result<R::Response, OpError> {
        let payload = encode(R::ACTION, request)?;
        let answer = self.send(station, R::ACTION, payload, requester).await?;
        serde_json::from_value(answer).map_err(|e| OpError::InvalidResponse {
            station: station.clone(),
            action: R::ACTION,
            violation: format!("does not decode: {e}"),
        })
    }

    /// The same path for a payload that arrives as JSON (the operator's generic command
    /// endpoint). `action` must be one a CSMS sends.
    pub async fn request_untyped(
        &self,
        station: &StationId,
        action: Action,
        payload: Value,
        requester: &Requester,
    ) -> Result<Value, OpError> {
        if action.initiator() == Initiator::ChargingStation {
            return Err(OpError::refused(
                "not_a_csms_action",
                format!(
                    "{} is sent by charging stations, not by a CSMS",
                    action.as_str()
                ),
            ));
        }
        self.send(station, action, payload, requester).await
    }

    /// Validate, send, wait, log, classify.
    async fn send(
        &self,
        station: &StationId,
        action: Action,
        payload: Value,
        requester: &Requester,
    ) -> Result<Value, OpError> {
        check_request(action.as_str(), &payload)?;
        let logged = redact(action, &payload);
        let sent_at = Utc::now();
        let outcome = match self.call_here(station, action, payload.clone()).await {
            Some(outcome) => outcome,
            None => self.call_elsewhere(station, action, payload).await,
        };
        let (label, response) = match &outcome {
            Ok(answer) => ("result", Some(answer.to_string())),
            Err(e) => (e.log_label(), LoggedFailure::of(e).map(|f| f.to_json())),
        };
        let record = CommandRecord {
            seq: 0,
            station_id: station.clone(),
            action: action.as_str().to_string(),
            request: logged.to_string(),
            outcome: label.to_string(),
            response,
            requested_by: Some(requester.label()),
            sent_at,
            completed_at: Utc::now(),
        };
        if let Err(e) = self.store().write(vec![Write::Command(record)]).await {
            // The call already happened; its outcome is returned regardless.
            tracing::error!(station = %station, action = action.as_str(), error = %e,
                "command log write failed");
        }
        match &outcome {
            Ok(_) => tracing::debug!(station = %station, action = action.as_str(),
                requested_by = %requester.label(), "CALL answered"),
            Err(e) => tracing::info!(station = %station, action = action.as_str(),
                requested_by = %requester.label(), outcome = label, "CALL failed: {e}"),
        }
        outcome
    }
}

impl Csms {
    /// The CALL over this node's connection to the station, translated for a 1.6 station;
    /// `None` when this node does not hold the station's connection.
    async fn call_here(
        &self,
        station: &StationId,
        action: Action,
        payload: Value,
    ) -> Option<Result<Value, OpError>> {
        let connection = self.connection(station)?;
        Some(if connection.version == OcppVersion::V16 {
            // The same operation for a 1.6 station: translated there and back (or refused
            // before anything is sent when 1.6 cannot express it).
            match crate::v16::outgoing::request(action, &payload) {
                Err(refused) => Err(refused),
                Ok(translated) => {
                    match connection
                        .call(translated.action.as_str(), translated.payload.clone())
                        .await
                    {
                        Ok(answer) => translated.answer(answer).map_err(|violation| {
                            OpError::InvalidResponse {
                                station: station.clone(),
                                action,
                                violation,
                            }
                        }),
                        Err(failure) => Err(classify(station, action, failure)),
                    }
                }
            }
        } else {
            connection
                .call(action.as_str(), payload)
                .await
                .map_err(|failure| classify(station, action, failure))
        })
    }

    /// The CALL through the node that holds the station's connection (ADR 0048), or
    /// [`OpError::NotConnected`] at once when no node does.
    async fn call_elsewhere(
        &self,
        station: &StationId,
        action: Action,
        payload: Value,
    ) -> Result<Value, OpError> {
        let Some(cluster) = self.shared().registry.cluster() else {
            return Err(OpError::NotConnected(station.clone()));
        };
        let Some(holder) = cluster.holder(station) else {
            return Err(OpError::NotConnected(station.clone()));
        };
        tracing::debug!(station = %station, action = action.as_str(), node = %holder.node,
            "CALL through the holding node");
        let call = RemoteCall {
            station: station.clone(),
            action,
            payload,
        };
        cluster
            .call(&holder, call, self.config().call_timeout)
            .await
            .into_result(station, action)
    }

    /// The holding node's side of [`Csms::call_elsewhere`]: send another node's CALL over this
    /// node's connection. The calling node validated it and keeps the command log.
    pub async fn call_for_node(&self, call: RemoteCall) -> RemoteOutcome {
        let outcome = match self
            .call_here(&call.station, call.action, call.payload)
            .await
        {
            Some(outcome) => outcome,
            None => Err(OpError::NotConnected(call.station.clone())),
        };
        RemoteOutcome::of(outcome)
    }
}

/// What the command log keeps of a failed call beyond its label: the station's CALLERROR, or
/// why its answer was refused.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum LoggedFailure<'a> {
    CallError {
        code: &'a str,
        description: &'a str,
        details: &'a Value,
    },
    InvalidResponse {
        violation: &'a str,
    },
}

impl<'a> LoggedFailure<'a> {
    fn of(e: &'a OpError) -> Option<Self> {
        match e {
            OpError::CallError {
                code,
                description,
                details,
                ..
            } => Some(LoggedFailure::CallError {
                code: code.as_str(),
                description,
                details,
            }),
            OpError::InvalidResponse { violation, .. } => {
                Some(LoggedFailure::InvalidResponse { violation })
            }
            _ => None,
        }
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A connection-level failure in the operation vocabulary.
fn classify(station: &StationId, action: Action, failure: CallFailure) -> OpError {
    match failure {
        CallFailure::NotConnected | CallFailure::ConnectionClosed => {
            OpError::NotConnected(station.clone())
        }
        CallFailure::Busy(queued) => OpError::Busy {
            station: station.clone(),
            queued,
        },
        CallFailure::Timeout(after) => OpError::Timeout {
            station: station.clone(),
            action,
            after,
        },
        CallFailure::CallError {
            code,
            description,
            details,
        } => OpError::CallError {
            station: station.clone(),
            action,
            code,
            // The station's text goes to the log, the command log and the API: bounded.
            description: unicharge_ocpp::peer_text::bounded(&description),
            details,
        },
        CallFailure::InvalidResponse(violation) => OpError::InvalidResponse {
            station: station.clone(),
            action,
            violation,
        },
        CallFailure::InvalidRequest(message) => OpError::InvalidRequest {
            action: action.as_str().to_string(),
            path: String::new(),
            message,
            code: ErrorCode::FormatViolation,
        },
    }
}

/// The text the command log keeps instead of a secret.
pub const REDACTED: &str = "<redacted>";

/// The request as the command log keeps it: secrets replaced by [`REDACTED`]. Secrets a CSMS
/// sends: a new `SecurityCtrlr.BasicAuthPassword` (SetVariables), and the VPN / APN passwords
/// and VPN key of a network connection profile (SetNetworkProfile). Decoded into the typed
/// request so the fields are found by type, not by string key.
pub fn redact(action: Action, payload: &Value) -> Value {
    use unicharge_ocpp::v201::{SetNetworkProfileRequest, SetVariablesRequest};
    match action {
        Action::SetVariables => {
            let Ok(mut request) = serde_json::from_value::<SetVariablesRequest>(payload.clone())
            else {
                return payload.clone();
            };
            for item in &mut request.set_variable_data {
                if is_secret_variable(&item.component.name, &item.variable.name) {
                    item.attribute_value = REDACTED.into();
                }
            }
            serde_json::to_value(request).unwrap_or_else(|_| payload.clone())
        }
        Action::SetNetworkProfile => {
            let Ok(mut request) =
                serde_json::from_value::<SetNetworkProfileRequest>(payload.clone())
            else {
                return payload.clone();
            };
            if let Some(vpn) = &mut request.connection_data.vpn {
                vpn.password = REDACTED.into();
                vpn.key = REDACTED.into();
            }
            if let Some(apn) = &mut request.connection_data.apn {
                if apn.apn_password.is_some() {
                    apn.apn_password = Some(REDACTED.into());
                }
            }
            serde_json::to_value(request).unwrap_or_else(|_| payload.clone())
        }
        _ => payload.clone(),
    }
}

/// Variables whose values are secrets (written by the CSMS, never logged).
pub fn is_secret_variable(component: &str, variable: &str) -> bool {
    component == "SecurityCtrlr" && variable == "BasicAuthPassword"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_new_basic_auth_password_is_redacted_and_nothing_else() {
        let payload = json!({"setVariableData": [
            {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}, "attributeValue": "s3cret-s3cret-s3cret"},
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "attributeValue": "60"},
        ]});
        let logged = redact(Action::SetVariables, &payload).to_string();
        assert!(!logged.contains("s3cret"), "{logged}");
        assert!(
            logged.contains(REDACTED) && logged.contains("\"60\""),
            "{logged}"
        );
    }

    #[test]
    fn network_profile_passwords_are_redacted() {
        let payload = json!({"configurationSlot": 1, "connectionData": {
            "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://csms/ocpp",
            "messageTimeout": 30, "securityProfile": 2, "ocppInterface": "Wireless0",
            "vpn": {"server": "vpn", "user": "u", "password": "vpn-secret", "key": "vpn-key", "type": "IPSec"},
            "apn": {"apn": "internet", "apnPassword": "apn-secret", "apnAuthentication": "AUTO"}
        }});
        let logged = redact(Action::SetNetworkProfile, &payload).to_string();
        for secret in ["vpn-secret", "vpn-key", "apn-secret"] {
            assert!(!logged.contains(secret), "{logged}");
        }
        assert!(logged.contains("wss://csms/ocpp"));
    }

    #[test]
    fn requester_labels() {
        assert_eq!(Requester::operator("k1").label(), "k1");
        assert_eq!(Requester::Csms.label(), "csms");
        assert_eq!(
            Requester::RoamingPartner {
                party: "NL-ABC".into()
            }
            .label(),
            "ocpi:NL-ABC"
        );
    }
}
