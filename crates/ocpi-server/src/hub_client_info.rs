//! HubClientInfo module, Receiver (2.2.1 §18, B8.4): a hub we are connected to tells us which
//! parties are reachable through it (CONNECTED, OFFLINE, PLANNED, SUSPENDED), so the operator
//! sees why pushes to a party behind the hub are not acknowledged. Only a partner that
//! registered a HUB role may write here; what it writes is kept per hub and shown in the
//! operator API (`GET /api/v1/ocpi/partners/{id}/clients`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use unicharge_ocpi::hub_client_info::ClientInfo;
use unicharge_ocpi::transport::StatusCode;
use unicharge_ocpi::types::Role;
use unicharge_store::ocpi::{ClientInfoRow, Party};

use crate::auth::{Caller, Registered};
use crate::reply::{self, Answer, Reply};
use crate::scope;
use crate::Ocpi;

/// The caller must be a hub: HubClientInfo from anyone else is refused like an unknown path.
fn hub(caller: &Caller) -> Result<(), Reply> {
    if scope::partner_roles(&caller.partner)
        .iter()
        .any(|r| r.role == Role::Hub)
    {
        Ok(())
    } else {
        Err(Reply::not_found_object(
            StatusCode::CLIENT_ERROR,
            "HubClientInfo is accepted from a partner with a HUB role only",
        ))
    }
}

/// `GET {hubclientinfo}/{country_code}/{party_id}`: what this hub told us about the party.
pub async fn get(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, country_code, party_id)): Path<(String, String, String)>,
) -> Answer {
    scope::version(&version)?;
    hub(&caller)?;
    let party = Party::new(&country_code, &party_id);
    let row = ocpi
        .ocpi_store()
        .ocpi_client_info(caller.partner.id, &party)
        .await
        .map_err(Reply::server_error)?
        .ok_or_else(|| {
            Reply::not_found_object(
                StatusCode::CLIENT_ERROR,
                format!(
                    "no ClientInfo for {}/{}",
                    reply::bounded(&country_code),
                    reply::bounded(&party_id)
                ),
            )
        })?;
    let info: ClientInfo = serde_json::from_str(&row.data).map_err(Reply::server_error)?;
    Ok(Reply::ok(&info))
}

/// `PUT {hubclientinfo}/{country_code}/{party_id}`: a party's connection status at the hub.
pub async fn put(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, country_code, party_id)): Path<(String, String, String)>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    hub(&caller)?;
    let party = Party::new(&country_code, &party_id);
    let info: ClientInfo = reply::body(&bytes, "ClientInfo")?;
    if Party::new(&info.country_code, &info.party_id) != party {
        return Err(Reply::invalid(
            "the ClientInfo's country_code and party_id must match the URL",
        ));
    }
    let row = ClientInfoRow {
        partner_id: caller.partner.id,
        party,
        data: serde_json::to_string(&info).map_err(Reply::server_error)?,
        last_updated: info.last_updated,
    };
    ocpi.ocpi_store()
        .put_ocpi_client_info(&row)
        .await
        .map_err(Reply::server_error)?;
    tracing::info!(partner = caller.partner.id, party = %format!("{}*{}", info.country_code,
        info.party_id), status = %info.status.as_str(), "OCPI hub reports a party's connection");
    Ok(Reply::ok_empty())
}
