//! Functional block F, Remote Control, CSMS side: F01/F02 Remote Start Transaction
//! ([`request_start`], with a CSMS-allocated remoteStartId), F03 Remote Stop Transaction, F05
//! Remotely Unlock Connector and F06 Trigger Message.

use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    RequestStopTransactionRequest, RequestStopTransactionResponse, TriggerMessageRequest,
    TriggerMessageResponse, UnlockConnectorRequest, UnlockConnectorResponse,
};

use crate::request::{OpError, Requester};
use crate::Csms;

pub mod request_start;

/// F03: ask the station to stop a transaction. It ends when its Ended event arrives.
pub async fn request_stop(
    csms: &Csms,
    station: &StationId,
    transaction_id: String,
    by: &Requester,
) -> Result<RequestStopTransactionResponse, OpError> {
    csms.registered(station).await?;
    let request = RequestStopTransactionRequest {
        custom_data: None,
        transaction_id,
    };
    csms.request(station, &request, by).await
}

/// F05: unlock a connector, e.g. to free a cable stuck after a session.
pub async fn unlock_connector(
    csms: &Csms,
    station: &StationId,
    evse_id: i64,
    connector_id: i64,
    by: &Requester,
) -> Result<UnlockConnectorResponse, OpError> {
    csms.registered(station).await?;
    let request = UnlockConnectorRequest {
        custom_data: None,
        evse_id,
        connector_id,
    };
    csms.request(station, &request, by).await
}

/// F06: ask the station to send a message now.
pub async fn trigger_message(
    csms: &Csms,
    station: &StationId,
    request: TriggerMessageRequest,
    by: &Requester,
) -> Result<TriggerMessageResponse, OpError> {
    csms.registered(station).await?;
    csms.request(station, &request, by).await
}
