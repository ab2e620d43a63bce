//! The OCPP 1.6J side of a simulated [`Station`] (issue 18): a station connected with
//! [`crate::ConnectOptions::ocpp16`] sends and answers typed 1.6 messages, each checked against
//! the official 1.6 schemas like the 2.0.1 ones.

use unicharge_ocpp::v16::{OcppRequest, Validator};
use unicharge_ocpp::{Direction, Frame};

use crate::station::Station;
use crate::SimError;

impl Station {
    /// Send a typed 1.6 request and wait for its typed confirmation.
    pub async fn call16<R: OcppRequest>(&mut self, request: &R) -> Result<R::Response, SimError> {
        let payload =
            serde_json::to_value(request).map_err(|e| SimError::Unexpected(e.to_string()))?;
        let action = R::ACTION.as_str();
        let answer = self.call_raw(action, payload).await?;
        serde_json::from_value(answer)
            .map_err(|e| SimError::Schema(format!("{action} confirmation not understood: {e}")))
    }

    /// Wait for the CSMS to send a 1.6 CALL of action `R` (schema-checked); returns its message
    /// id and typed payload.
    pub async fn expect_call16<R: OcppRequest>(&mut self) -> Result<(String, R), SimError> {
        let action = R::ACTION.as_str();
        let (id, got, payload) = match self.inbox.pop_front() {
            Some(call) => call,
            None => match self.next_frame(&format!("a {action} CALL")).await? {
                Frame::Call {
                    id,
                    action,
                    payload,
                } => (id, action, payload),
                other => {
                    return Err(SimError::Unexpected(format!(
                        "a CALLRESULT/CALLERROR {} while waiting for {action}",
                        other.id()
                    )))
                }
            },
        };
        if got != action {
            return Err(SimError::Unexpected(format!(
                "CSMS sent {got} while {action} was expected"
            )));
        }
        Validator::global()
            .validate(action, Direction::Request, &payload)
            .map_err(|v| SimError::Schema(format!("{action}.req: {v}")))?;
        let typed = serde_json::from_value(payload)
            .map_err(|e| SimError::Schema(format!("{action}.req not understood: {e}")))?;
        Ok((id, typed))
    }

    /// Answer a CSMS 1.6 CALL with its typed confirmation.
    pub async fn respond16<R: OcppRequest>(
        &mut self,
        id: &str,
        response: &R::Response,
    ) -> Result<(), SimError> {
        let payload =
            serde_json::to_value(response).map_err(|e| SimError::Unexpected(e.to_string()))?;
        let frame = Frame::CallResult {
            id: id.to_string(),
            payload,
        };
        self.send_text(&frame.to_text()).await
    }
}
