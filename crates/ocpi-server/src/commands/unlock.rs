//! UNLOCK_CONNECTOR (B6.2, the helpdesk freeing a stuck cable): the CSMS's F05 Unlock
//! Connector on the EVSE and connector the eMSP names.

use unicharge_csms::remote_control as f;
use unicharge_ocpi::commands::{CommandResponseType, CommandResultType, UnlockConnector};
use unicharge_ocpp::v201::UnlockStatusEnumType;

use super::{failed, location, named_evse, offline, requester, response, send_result_saying};
use crate::auth::Caller;
use crate::reply::{self, Answer, Reply};
use crate::Ocpi;

/// The OCPI result of the station's UnlockConnector answer, and what to tell the eMSP.
fn unlocked(status: &UnlockStatusEnumType) -> (CommandResultType, Option<&'static str>) {
    match status {
        UnlockStatusEnumType::Unlocked => (CommandResultType::Accepted, None),
        UnlockStatusEnumType::UnlockFailed => (CommandResultType::Failed, None),
        UnlockStatusEnumType::OngoingAuthorizedTransaction => (
            CommandResultType::Rejected,
            Some("a transaction is ongoing on this connector: stop the session first"),
        ),
        UnlockStatusEnumType::UnknownConnector => (
            CommandResultType::Rejected,
            Some("the station does not know this connector"),
        ),
    }
}

pub(super) async fn unlock_connector(ocpi: Ocpi, caller: Caller, u: UnlockConnector) -> Answer {
    let location = location(&ocpi, &caller, &u.location_id).await?;
    let (station, evse_id) = named_evse(&ocpi, &location, &u.evse_uid).await?;
    // Our connector ids are the OCPP connector ids (see locations.rs).
    let connector_id: i64 = u.connector_id.parse().map_err(|_| {
        Reply::unknown_location(format!(
            "EVSE {} has no connector {}",
            reply::bounded(&u.evse_uid),
            reply::bounded(&u.connector_id)
        ))
    })?;
    if !ocpi.csms().is_connected(&station) {
        return Ok(offline(&ocpi));
    }
    let by = requester(&caller);
    let task_ocpi = ocpi.clone();
    tokio::spawn(async move {
        let (result, message) =
            match f::unlock_connector(task_ocpi.csms(), &station, evse_id, connector_id, &by).await
            {
                Ok(answer) => unlocked(&answer.status),
                Err(e) => (failed(&e), None),
            };
        send_result_saying(&task_ocpi, &caller, &u.response_url, result, message).await;
    });
    Ok(response(&ocpi, CommandResponseType::Accepted, None))
}
