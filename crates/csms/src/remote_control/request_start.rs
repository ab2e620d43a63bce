//! F01/F02 Remote Start Transaction. The CSMS allocates the `remoteStartId`: the request is
//! stored before it is sent (its row id is the remoteStartId), and the station's answer — or why
//! there was none — is recorded with it; the transaction that follows carries the id and is
//! linked to it ([`crate::transactions::transaction_event`]).

use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    ChargingProfileType, IdTokenType, RequestStartStopStatusEnumType,
    RequestStartTransactionRequest, RequestStartTransactionResponse,
};

use crate::request::{check_request, OpError, Requester};
use crate::Csms;

/// What to start.
#[derive(Debug, Clone, PartialEq)]
pub struct StartRequest {
    pub id_token: IdTokenType,
    /// Absent: the station chooses.
    pub evse_id: Option<i64>,
    pub group_id_token: Option<IdTokenType>,
    /// A TxProfile for the transaction.
    pub charging_profile: Option<ChargingProfileType>,
}

/// The station's answer with the remoteStartId the CSMS allocated.
#[derive(Debug, Clone, PartialEq)]
pub struct StartRequested {
    pub remote_start_id: i64,
    pub response: RequestStartTransactionResponse,
}

pub async fn request_start(
    csms: &Csms,
    station: &StationId,
    start: StartRequest,
    by: &Requester,
) -> Result<StartRequested, OpError> {
    csms.registered(station).await?;
    if let Some(profile) = &start.charging_profile {
        // K05: the TxProfile keeps the rules of K01 before anything is sent.
        crate::smart_charging::check_start_profile(csms, station, start.evse_id, profile).await?;
    }
    let mut request = RequestStartTransactionRequest {
        custom_data: None,
        evse_id: start.evse_id,
        group_id_token: start.group_id_token,
        id_token: start.id_token,
        // A stand-in for the check: nothing is stored for a request that could not be sent.
        remote_start_id: 1,
        charging_profile: start.charging_profile,
    };
    let payload = serde_json::to_value(&request).map_err(|e| OpError::Store(e.to_string()))?;
    check_request("RequestStartTransaction", &payload)?;
    if !csms.is_connected(station) {
        return Err(OpError::NotConnected(station.clone()));
    }
    let store = csms.store();
    let remote_start_id = store
        .create_remote_start(
            station,
            &request.id_token.id_token,
            request.id_token.r#type.as_str(),
            request.evse_id,
        )
        .await?;
    request.remote_start_id = remote_start_id;
    match csms.request(station, &request, by).await {
        Ok(response) => {
            store
                .set_remote_start_outcome(
                    remote_start_id,
                    response.status.as_str(),
                    response.transaction_id.as_deref(),
                )
                .await?;
            if let (Some(profile), RequestStartStopStatusEnumType::Accepted) =
                (&request.charging_profile, response.status)
            {
                crate::smart_charging::keep_start_profile(
                    csms,
                    station,
                    request.evse_id,
                    profile,
                    response.transaction_id.as_deref(),
                )
                .await?;
            }
            Ok(StartRequested {
                remote_start_id,
                response,
            })
        }
        Err(e) => {
            // Why it failed instead of an answer.
            store
                .set_remote_start_outcome(remote_start_id, e.label(), None)
                .await?;
            Err(e)
        }
    }
}
