//! ActiveChargingProfile updates, CPO → the partner that set a profile (2.2.1 / 2.3.0
//! §mod_charging_profiles, Sender interface PUT): the Receiver SHALL tell the Sender when it
//! knows the ActiveChargingProfile of a session changed, and only for sessions where that
//! Sender successfully set a profile.
//!
//! What we know: a station reports a TransactionEvent with triggerReason ChargingRateChanged
//! when a local input (a local limit, an EMS, another profile) changed the rate of a
//! transaction. For a transaction whose roaming TxProfile the station accepted (and that is not
//! cleared), we ask the station for its composite schedule ([`UPDATE_DURATION`] ahead) and PUT
//! it to the partner's ChargingProfiles SENDER endpoint, `{url}/{session_id}`, through the
//! outbox. A station that does not report rate changes leaves the partner with its GET.

use unicharge_core::StationId;
use unicharge_csms::request::Requester;
use unicharge_csms::smart_charging as k;
use unicharge_ocpp::v201::GenericStatusEnumType;
use unicharge_store::ocpi::{Partner, Party};

use super::convert::{active_profile, profile_id};
use crate::push::{partner_party, partners_of, Push};
use crate::reply::Reply;
use crate::{sessions, Ocpi};

/// Seconds of schedule sent with an update (the spec's guide: between 5 and 60 minutes).
pub const UPDATE_DURATION: i64 = 3600;

/// For a stored TransactionEvent with triggerReason ChargingRateChanged (the fact says so; other
/// events cost nothing here): an update to the partner when the transaction carries the
/// partner's profile. One store read; the station is asked in a task of its own, so the fact
/// subscriber never waits on a station.
pub async fn rate_changed(
    ocpi: &Ocpi,
    station: &StationId,
    transaction_id: &str,
) -> Result<(), Reply> {
    let session_id = sessions::session_id(station, transaction_id);
    let id = profile_id(&session_id);
    let store = ocpi.store();
    let held = store
        .charging_profiles(station)
        .await
        .map_err(Reply::server_error)?;
    let Some(profile) = held
        .iter()
        .find(|p| p.profile_id == id && p.status == "Accepted")
    else {
        return Ok(());
    };
    let Some((partner, party)) = owner(ocpi, station, transaction_id).await? else {
        return Ok(());
    };
    let evse_id = profile.evse_id.max(1);
    let task = ocpi.clone();
    let station = station.clone();
    tokio::spawn(async move {
        send(&task, &station, evse_id, &session_id, &partner, party).await;
    });
    Ok(())
}

/// The partner whose token the transaction ran with, and our party that owns the location.
async fn owner(
    ocpi: &Ocpi,
    station: &StationId,
    transaction_id: &str,
) -> Result<Option<(Partner, Party)>, Reply> {
    let Some((party, _)) = ocpi
        .ocpi_store()
        .ocpi_location_of_station(station)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(None);
    };
    let Some(uid) = ocpi
        .store()
        .transaction(station, transaction_id)
        .await
        .map_err(Reply::server_error)?
        .and_then(|tx| tx.id_token)
    else {
        return Ok(None);
    };
    for partner in partners_of(ocpi, &party).await? {
        if sessions::owner_token(ocpi, &partner, &uid).await?.is_some() {
            return Ok(Some((partner, party)));
        }
    }
    Ok(None)
}

async fn send(
    ocpi: &Ocpi,
    station: &StationId,
    evse_id: i64,
    session_id: &str,
    partner: &Partner,
    from: Party,
) {
    let Some(url) = crate::outbox::sender_url(partner, "chargingprofiles") else {
        tracing::debug!(
            partner = partner.id,
            "no ChargingProfiles SENDER endpoint: ActiveChargingProfile update not sent"
        );
        return;
    };
    let asked = k::get_composite_schedule(
        ocpi.csms(),
        station,
        evse_id,
        UPDATE_DURATION,
        None,
        &Requester::Csms,
    )
    .await;
    let schedule = match asked {
        Ok((_, r)) if r.status == GenericStatusEnumType::Accepted => r.schedule,
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(%station, partner = partner.id, error = %e,
                "ActiveChargingProfile update: the station gave no composite schedule");
            None
        }
    };
    let Some(schedule) = schedule else { return };
    let body = match crate::push::json(&active_profile(&schedule)) {
        Ok(body) => body,
        Err(e) => {
            tracing::warn!(error = %e.body, "ActiveChargingProfile update not written");
            return;
        }
    };
    let push = Push {
        module: crate::outbox::CHARGING_PROFILE_RESULT,
        key: format!("activechargingprofile:{session_id}"),
        method: "PUT",
        path: format!("{url}/{session_id}"),
        body: Some(body),
        from,
        to: partner_party(partner),
    };
    match crate::push::enqueue(ocpi, partner, push).await {
        Ok(()) => tracing::info!(partner = partner.id, session = %session_id,
            "ActiveChargingProfile update queued"),
        Err(e) => tracing::warn!(partner = partner.id, error = %e.body,
            "ActiveChargingProfile update not queued"),
    }
}
