//! GDPR for a driver's token, a unicharge extension module (`unicharge_ocpi::gdpr`, B3.4), CPO
//! role: the token's MSP reads ([`get`]) or erases ([`delete`]) what we keep about it.
//!
//! Whose token it is decides everything: the URL's `country_code` / `party_id` must be one of
//! the caller's own roles, and we must hold that party's token `uid` (the one it pushed, or one
//! it started a session with). Anything else is 404 / 2004, never a hint that the uid exists.
//! The store keys personal data by the idToken value, which is not unique across MSPs: when
//! another party has a token with the same uid the request is refused (2001) and left to our
//! operator, so one MSP never reads or erases another MSP's driver.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use unicharge_core::StationId;
use unicharge_csms::diagnostics::{self as n, Customer};
use unicharge_ocpi::gdpr::GdprErasure;
use unicharge_ocpi::tokens::Token;
use unicharge_ocpi::transport::StatusCode;
use unicharge_ocpp::v201::IdTokenType;
use unicharge_store::ocpi::Party;
use unicharge_store::PersonalData;

use crate::auth::{Caller, Registered};
use crate::commands::requester;
use crate::reply::{bounded, Answer, Reply};
use crate::{scope, tokens, Ocpi};

/// The caller's token `uid` of party `cc`/`pid`, when it is the only token with that uid.
async fn own_token(
    ocpi: &Ocpi,
    caller: &Caller,
    cc: &str,
    pid: &str,
    uid: &str,
) -> Result<Token, Reply> {
    let unknown = || {
        Reply::not_found_object(
            StatusCode::UNKNOWN_TOKEN,
            format!("no token {}/{}/{}", bounded(cc), bounded(pid), bounded(uid)),
        )
    };
    let party = Party::new(cc, pid);
    if !scope::is_partner_party(&caller.partner, &party) {
        return Err(unknown());
    }
    let rows = ocpi
        .ocpi_store()
        .ocpi_tokens_by_uid(uid)
        .await
        .map_err(Reply::server_error)?;
    let Some(own) = rows.iter().find(|r| r.party == party) else {
        return Err(unknown());
    };
    if rows.iter().any(|r| r.party != party) {
        return Err(Reply::invalid(
            "another party has a token with this uid: the CPO's operator must handle this \
             request (contact them)",
        ));
    }
    serde_json::from_str(&own.data).map_err(Reply::server_error)
}

/// `GET {gdpr}/{country_code}/{party_id}/{uid}`: the right of access.
pub async fn get(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, uid)): Path<(String, String, String, String)>,
) -> Answer {
    scope::version(&version)?;
    own_token(&ocpi, &caller, &cc, &pid, &uid).await?;
    let data = ocpi
        .store()
        .personal_data(&uid)
        .await
        .map_err(Reply::server_error)?;
    tracing::info!(
        partner = caller.partner.id,
        "personal data of a roaming token read (GDPR)"
    );
    Ok(Reply::ok(&data))
}

/// Stations that may keep something about the token: those whose local list held it and
/// those it charged at.
fn stations_of(data: &PersonalData) -> BTreeSet<String> {
    data.transactions
        .iter()
        .chain(&data.local_list_entries)
        .filter_map(|row| row["stationId"].as_str().map(str::to_string))
        .collect()
}

/// `DELETE {gdpr}/{country_code}/{party_id}/{uid}`: the right to be forgotten. The erasure is
/// committed before we answer; the stations are asked afterwards, in the background.
pub async fn delete(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cc, pid, uid)): Path<(String, String, String, String)>,
) -> Answer {
    scope::version(&version)?;
    let token = own_token(&ocpi, &caller, &cc, &pid, &uid).await?;
    let Some(key) = ocpi.pseudonym_key() else {
        return Err(Reply::server_error(
            "no pseudonym key: `unicharge serve` creates <data_dir>/pseudonym.key",
        ));
    };
    let store = ocpi.store();
    let before = store
        .personal_data(&uid)
        .await
        .map_err(Reply::server_error)?;
    let by = format!("ocpi-partner-{}", caller.partner.id);
    let erasure = store
        .erase_personal_data(&uid, key, &by)
        .await
        .map_err(Reply::server_error)?;
    let (mut cleared, mut offline) = (Vec::new(), Vec::new());
    for station in stations_of(&before) {
        let Ok(id) = StationId::new(station.clone()) else {
            continue;
        };
        if ocpi.csms().is_connected(&id) {
            cleared.push(id);
        } else {
            offline.push(station);
        }
    }
    tracing::info!(partner = caller.partner.id, pseudonym = %erasure.pseudonym,
        stations = cleared.len(), offline = offline.len(), "roaming token erased (GDPR)");
    let answer = GdprErasure {
        found: !erasure.is_empty(),
        pseudonym: erasure.pseudonym.clone(),
        stations_cleared: cleared.iter().map(|s| s.as_str().to_string()).collect(),
        stations_offline: offline,
        erased_at: erasure.erased_at,
    };
    let id_token = IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: token.uid.clone(),
        r#type: tokens::ocpp_kind(&token.kind),
    };
    let task_ocpi = ocpi.clone();
    let requester = requester(&caller);
    let key = key.to_vec();
    tokio::spawn(async move {
        let any = !cleared.is_empty();
        for station in cleared {
            let customer = Customer::IdToken(id_token.clone());
            let outcome = n::customer_information(
                task_ocpi.csms(),
                &station,
                customer,
                false,
                true,
                &requester,
            )
            .await;
            match outcome {
                Ok(sent) => tracing::info!(station = %station, status = %sent.status.as_str(),
                    "CustomerInformation clear for an erased roaming token"),
                Err(e) => tracing::warn!(station = %station, error = %e,
                    "CustomerInformation clear for an erased roaming token failed"),
            }
        }
        // Asking a station to forget the token names it, and the CSMS logs what it sends:
        // erase again so the log keeps the pseudonym, not the token.
        if any {
            if let Err(e) = task_ocpi
                .store()
                .erase_personal_data(&token.uid, &key, &by)
                .await
            {
                tracing::warn!(error = %e, "erasing the CustomerInformation log of a token failed");
            }
        }
    });
    Ok(Reply::ok(&answer))
}
