//! Calls the CSMS makes to a station on its own (not on an operator's request), kept in the
//! station's command log like the operator's, with `requested_by` = `csms`.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use unicharge_store::{CommandRecord, Store, Write};

use crate::connection::{CallFailure, ConnectionHandle};

/// Send `action` over `connection`, wait for the answer and log both. A failure to log is
/// itself logged: the call already happened and its outcome is returned regardless.
pub async fn call_logged(
    connection: &ConnectionHandle,
    store: &Arc<dyn Store>,
    action: &str,
    payload: Value,
) -> Result<Value, CallFailure> {
    let sent_at = Utc::now();
    let outcome = connection.call(action, payload.clone()).await;
    let (kind, response) = match &outcome {
        Ok(answer) => ("result", Some(answer.to_string())),
        Err(CallFailure::CallError {
            code,
            description,
            details,
        }) => (
            "call_error",
            Some(
                serde_json::json!({"code": code.as_str(), "description": description, "details": details})
                    .to_string(),
            ),
        ),
        Err(CallFailure::Timeout(_)) => ("timeout", None),
        Err(CallFailure::NotConnected) => ("not_connected", None),
        Err(CallFailure::InvalidResponse(e)) | Err(CallFailure::InvalidRequest(e)) => {
            ("invalid_response", Some(serde_json::json!({ "error": e }).to_string()))
        }
        Err(CallFailure::ConnectionClosed) => ("closed", None),
    };
    let record = CommandRecord {
        seq: 0,
        station_id: connection.station_id.clone(),
        action: action.to_string(),
        request: payload.to_string(),
        outcome: kind.to_string(),
        response,
        requested_by: Some("csms".into()),
        sent_at,
        completed_at: Utc::now(),
    };
    if let Err(e) = store.write(vec![Write::Command(record)]).await {
        tracing::error!(station = %connection.station_id, action, error = %e,
            "could not log the CSMS's own call");
    }
    outcome
}
