//! Requests a station follows up under a requestId (UpdateFirmware, PublishFirmware, GetLog,
//! GetMonitoringReport, CustomerInformation): kept before they leave, since the first follow-up
//! may overtake the answer, then the station's answer. Shared by blocks L and N.

use chrono::Utc;
use unicharge_core::StationId;
use unicharge_store::{TrackedKind, TrackedRequest};

use crate::request::{check_request, OpError, Requester};
use crate::Csms;

/// The requestId an operation was sent under, and the station's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent<S> {
    pub request_id: i64,
    pub status: S,
}

/// Keep `request` (kind, allocated id) before it is sent, send it, keep the answer.
pub(crate) async fn send_tracked<R: unicharge_ocpp::v201::OcppRequest>(
    csms: &Csms,
    station: &StationId,
    kind: TrackedKind,
    request_id: i64,
    request: &R,
    by: &Requester,
    answer_of: impl Fn(&R::Response) -> (String, bool),
) -> Result<R::Response, OpError> {
    let payload = serde_json::to_value(request).map_err(|e| OpError::Store(e.to_string()))?;
    check_request(R::ACTION.as_str(), &payload)?;
    if !csms.is_connected(station) {
        return Err(OpError::NotConnected(station.clone()));
    }
    let store = csms.store();
    let now = Utc::now();
    store
        .create_tracked_request(&TrackedRequest {
            station_id: station.clone(),
            kind,
            request_id,
            request: payload.to_string(),
            answer: None,
            status: None,
            complete: false,
            requested_at: now,
            updated_at: now,
        })
        .await?;
    match csms.request(station, request, by).await {
        Ok(response) => {
            let (answer, complete) = answer_of(&response);
            store
                .set_tracked_answer(station, kind, request_id, &answer, complete)
                .await?;
            Ok(response)
        }
        Err(e) => {
            store
                .set_tracked_answer(station, kind, request_id, e.label(), true)
                .await?;
            Err(e)
        }
    }
}
