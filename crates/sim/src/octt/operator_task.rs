//! An operator action running alongside the station: the scenario starts it, waits for the CSMS
//! CALL it should bring about, and collects the operator's report at the end.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;
use unicharge_ocpp::v201::OcppRequest;

use super::operator::{self, Operator, OperatorAction};
use super::{CaseError, Target};
use crate::station::{DeviceDataLimits, Station};

/// An operator action running in the background while the station waits for the CALL it makes
/// the CSMS send. Dropping it (a failed validation) aborts the action.
pub(crate) struct OperatorTask {
    what: String,
    handle: Option<JoinHandle<Result<Value, String>>>,
    outcome: Option<Result<Value, String>>,
}

enum Raced<C> {
    Call(C),
    Operator(Result<Value, String>),
}

fn joined(result: Result<Result<Value, String>, tokio::task::JoinError>) -> Result<Value, String> {
    result.unwrap_or_else(|e| Err(format!("the operator task failed: {e}")))
}

impl OperatorTask {
    /// Ask `operator` to perform `action` for the target's station; `what` completes "the
    /// operator could not …" in failures.
    pub(crate) fn start(
        operator: &Arc<dyn Operator>,
        target: &Target,
        action: OperatorAction,
        what: impl Into<String>,
    ) -> Self {
        OperatorTask {
            what: what.into(),
            handle: Some(operator::trigger(
                operator.clone(),
                &target.station_id,
                action,
            )),
            outcome: None,
        }
    }

    fn failed(&self, error: &str) -> CaseError {
        CaseError::Fail(format!("the operator could not {}: {error}", self.what))
    }

    /// Wait for the CSMS's CALL `R`; an operator that reports an error first fails the case at
    /// once instead of after the station's timeout.
    pub(crate) async fn expect_call<R: OcppRequest>(
        &mut self,
        station: &mut Station,
    ) -> Result<(String, R), CaseError> {
        self.expect(station, None).await
    }

    /// [`OperatorTask::expect_call`], answering reads of the station's `DeviceDataCtrlr`
    /// message limits that come first with `limits`
    /// ([`Station::expect_call_answering_limits`]).
    pub(crate) async fn expect_call_answering_limits<R: OcppRequest>(
        &mut self,
        station: &mut Station,
        limits: &DeviceDataLimits,
    ) -> Result<(String, R), CaseError> {
        self.expect(station, Some(limits)).await
    }

    async fn expect<R: OcppRequest>(
        &mut self,
        station: &mut Station,
        limits: Option<&DeviceDataLimits>,
    ) -> Result<(String, R), CaseError> {
        async fn call<R: OcppRequest>(
            station: &mut Station,
            limits: Option<&DeviceDataLimits>,
        ) -> Result<(String, R), crate::SimError> {
            match limits {
                Some(limits) => Ok(station.expect_call_answering_limits::<R>(limits).await?.0),
                None => station.expect_call::<R>().await,
            }
        }
        if let Some(handle) = self.handle.as_mut() {
            let raced = tokio::select! {
                call = call::<R>(station, limits) => Raced::Call(call),
                outcome = handle => Raced::Operator(joined(outcome)),
            };
            match raced {
                Raced::Call(call) => return Ok(call?),
                Raced::Operator(outcome) => {
                    self.handle = None;
                    self.outcome = Some(outcome);
                }
            }
        }
        if let Some(Err(e)) = &self.outcome {
            return Err(self.failed(e));
        }
        Ok(call::<R>(station, limits).await?)
    }

    /// The operator's report (what the CSMS told it); an error, or none within `timeout`,
    /// fails the case.
    pub(crate) async fn finish(mut self, timeout: Duration) -> Result<Value, CaseError> {
        let outcome = match self.handle.take() {
            Some(handle) => match tokio::time::timeout(timeout, handle).await {
                Ok(result) => joined(result),
                Err(_) => Err(format!("no report within {timeout:?}")),
            },
            None => self.outcome.take().unwrap_or(Ok(Value::Null)),
        };
        outcome.map_err(|e| self.failed(&e))
    }
}

impl Drop for OperatorTask {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}
