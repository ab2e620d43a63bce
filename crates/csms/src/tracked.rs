//! Requests a station follows up under a requestId (UpdateFirmware, PublishFirmware, GetLog,
//! GetMonitoringReport, CustomerInformation): kept before they leave, since the first follow-up
//! may overtake the answer, then the station's answer. Shared by blocks L and N.

use chrono::Utc;
use unicharge_core::StationId;
use unicharge_store::{TrackedKind, TrackedRequest};

use crate::request::{check_request, OpError, Requester};
use crate::station_turn::{self, Turn, Work};
use crate::Csms;

/// A requestId taken for a tracked request. While it lives, no other request of the station
/// (on any node) can be given an id; [`send_tracked`] records the request and lets it go.
pub(crate) struct Allocated {
    pub kind: TrackedKind,
    pub id: i64,
    turn: Turn,
}

/// Take the station's next requestId of `kind`: one above the highest recorded, picked under
/// the station's [`Turn`] so that two requests at once (on one node or two) never share it.
pub(crate) async fn allocate(
    csms: &Csms,
    station: &StationId,
    kind: TrackedKind,
) -> Result<Allocated, OpError> {
    let turn = station_turn::take(csms, Work::RequestId, station).await?;
    let id = csms.store().next_tracked_request_id(station, kind).await?;
    Ok(Allocated { kind, id, turn })
}

/// The requestId an operation was sent under, and the station's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent<S> {
    pub request_id: i64,
    pub status: S,
}

/// Keep `request` under its allocated id before it is sent, send it, keep the answer.
pub(crate) async fn send_tracked<R: unicharge_ocpp::v201::OcppRequest>(
    csms: &Csms,
    station: &StationId,
    allocated: Allocated,
    request: &R,
    by: &Requester,
    answer_of: impl Fn(&R::Response) -> (String, bool),
) -> Result<R::Response, OpError> {
    let payload = serde_json::to_value(request).map_err(|e| OpError::Store(e.to_string()))?;
    check_request(R::ACTION.as_str(), &payload)?;
    if !csms.is_connected(station) {
        return Err(OpError::NotConnected(station.clone()));
    }
    let Allocated {
        kind,
        id: request_id,
        turn,
    } = allocated;
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
    // Recorded: the id is taken, and the next request of the station may pick the next one.
    drop(turn);
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
