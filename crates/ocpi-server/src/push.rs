//! Sender pushes (CPO → eMSP), ADR 0038: what the CSMS commits becomes outbox rows, one per
//! partner that should hear of it, rendered in the version that partner negotiated.
//!
//! * a connector status, or a station going on- or offline → `PATCH` of the EVSE's `status`
//!   to every partner registered with the location's party (Locations Receiver);
//! * a transaction started, updated or ended, or its charge record written → `PUT` of the
//!   Session to the partner whose token it ran with (Sessions Receiver);
//! * a charge record → `POST` of the CDR to that partner (CDRs Receiver), once;
//! * a tariff created or changed → `PUT` of the Tariff (see [`crate::tariffs`]).
//!
//! Facts come from [`unicharge_csms::Csms::subscribe`]: published after the commit, so
//! nothing is pushed that the store could still lose. The subscriber only writes rows; the
//! [`crate::outbox`] worker sends them.

use chrono::Utc;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use unicharge_core::StationId;
use unicharge_csms::Fact;
use unicharge_ocpi::locations::Status;
use unicharge_ocpp::v201::TriggerReasonEnumType;
use unicharge_store::ocpi::{Partner, Party, PushRow};

use crate::access::SessionFeed;
use crate::auth::REGISTERED;
use crate::outbox::receiver_url;
use crate::reply::Reply;
use crate::sessions::{self, Roamed};
use crate::{cdrs, locations, scope, Ocpi};

/// The fields of an EVSE a status change PATCHes (2.2.1 §8.2.2.3: `last_updated` is required
/// in every PATCH).
#[derive(Debug, Clone, Serialize)]
pub struct EvseStatusPatch {
    pub status: Status,
    #[serde(with = "unicharge_ocpi::datetime")]
    pub last_updated: chrono::DateTime<Utc>,
}

/// What to push, before it is addressed to a partner.
pub struct Push<'a> {
    pub module: &'a str,
    pub key: String,
    pub method: &'a str,
    pub path: String,
    /// None for a DELETE.
    pub body: Option<String>,
    pub from: Party,
    pub to: Option<Party>,
}

/// Write a push for `partner` if it has a Receiver endpoint for the module; wakes the worker.
pub async fn enqueue(ocpi: &Ocpi, partner: &Partner, push: Push<'_>) -> Result<(), Reply> {
    // Roles decide what a partner may hear of (ADR 0049): an NSP that publishes a CDRs
    // Receiver still gets no CDR.
    if !crate::access::Access::of(partner).pushed(push.module) {
        tracing::debug!(
            partner = partner.id,
            module = push.module,
            "OCPI push skipped: not open to the partner's roles"
        );
        return Ok(());
    }
    if !crate::outbox::to_response_url(push.module) && receiver_url(partner, push.module).is_none()
    {
        tracing::debug!(
            partner = partner.id,
            module = push.module,
            "OCPI push skipped: the partner has no Receiver endpoint for it"
        );
        return Ok(());
    }
    let now = Utc::now();
    let row = PushRow {
        id: 0,
        partner_id: partner.id,
        module: push.module.to_string(),
        object_key: push.key,
        method: push.method.to_string(),
        path: push.path,
        body: push.body,
        from: Some(push.from),
        to: push.to,
        status: "PENDING".into(),
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        delivered_at: None,
    };
    let added = ocpi
        .ocpi_store()
        .enqueue_ocpi_push(&row)
        .await
        .map_err(Reply::server_error)?;
    if added.is_some() {
        ocpi.wake_outbox();
    }
    Ok(())
}

/// Registered partners that are registered with `party` of ours.
pub async fn partners_of(ocpi: &Ocpi, party: &Party) -> Result<Vec<Partner>, Reply> {
    Ok(ocpi
        .ocpi_store()
        .ocpi_partners()
        .await
        .map_err(Reply::server_error)?
        .into_iter()
        .filter(|p| p.status == REGISTERED && p.parties.contains(party))
        .collect())
}

/// The partner's own party to address a push to (its eMSP role first).
pub fn partner_party(partner: &Partner) -> Option<Party> {
    let roles = scope::partner_roles(partner);
    roles
        .iter()
        .find(|r| r.role.as_str() == "EMSP")
        .or(roles.first())
        .map(|r| Party::new(&r.country_code, &r.party_id))
}

pub(crate) fn json<T: Serialize>(value: &T) -> Result<String, Reply> {
    serde_json::to_string(value).map_err(Reply::server_error)
}

/// Subscribe to the CSMS's facts and turn them into outbox rows until the process ends.
pub async fn run(ocpi: Ocpi, mut facts: tokio::sync::broadcast::Receiver<Fact>) {
    loop {
        match facts.recv().await {
            Ok(fact) => {
                if let Err(e) = on_fact(&ocpi, &fact).await {
                    tracing::warn!(station = %fact.station().as_str(), error = %e.body,
                        "OCPI push: cannot enqueue for a fact");
                }
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "OCPI push: fell behind the CSMS's facts; \
                    partners get the missed changes with the next change of each object \
                    (or by GET)"
                );
            }
            Err(RecvError::Closed) => return,
        }
    }
}

async fn on_fact(ocpi: &Ocpi, fact: &Fact) -> Result<(), Reply> {
    if let Fact::TransactionUpdated {
        station,
        transaction_id,
        trigger_reason: TriggerReasonEnumType::ChargingRateChanged,
        ..
    } = fact
    {
        // Its failure must not hold back the session push below.
        if let Err(e) =
            crate::charging_profiles::updates::rate_changed(ocpi, station, transaction_id).await
        {
            tracing::warn!(%station, error = %e.body, "ActiveChargingProfile update skipped");
        }
    }
    match fact {
        Fact::ConnectorStatusChanged {
            station, evse_id, ..
        } => evse_changed(ocpi, station, Some(*evse_id)).await,
        Fact::StationConnected { station, .. } | Fact::StationDisconnected { station, .. } => {
            evse_changed(ocpi, station, None).await
        }
        Fact::TransactionStarted {
            station,
            transaction_id,
            ..
        }
        | Fact::TransactionUpdated {
            station,
            transaction_id,
            ..
        }
        | Fact::TransactionEnded {
            station,
            transaction_id,
            ..
        } => transaction_changed(ocpi, station, transaction_id, false).await,
        Fact::ChargeRecordCreated {
            station,
            transaction_id,
            ..
        } => transaction_changed(ocpi, station, transaction_id, true).await,
        Fact::StationBooted { .. } | Fact::FirmwareStatus { .. } => Ok(()),
    }
}

/// The ordering key of a location and its EVSEs.
pub(crate) fn location_key(party: &Party, location_id: &str) -> String {
    format!(
        "location:/{}/{}/{location_id}",
        party.country_code, party.party_id
    )
}

/// PUT the whole location (the operator created or changed it) to the partners registered with
/// its party. Unpublished locations are not pushed.
pub async fn location_changed(ocpi: &Ocpi, party: &Party, location_id: &str) -> Result<(), Reply> {
    let Some(row) = ocpi
        .ocpi_store()
        .ocpi_location(party, location_id)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(());
    };
    let location = locations::build(ocpi, &row).await?;
    if !location.publish {
        return Ok(());
    }
    let body = json(&location)?;
    let sharing = crate::sharing::Sharing::load(ocpi).await?;
    for partner in partners_of(ocpi, party).await? {
        if !sharing.allows(partner.id, party, location_id) {
            continue;
        }
        let push = Push {
            module: "locations",
            key: location_key(party, location_id),
            method: "PUT",
            path: format!("/{}/{}/{location_id}", party.country_code, party.party_id),
            body: Some(body.clone()),
            from: party.clone(),
            to: partner_party(&partner),
        };
        enqueue(ocpi, &partner, push).await?;
    }
    Ok(())
}

/// PUT the whole location to the partner of `row`, a location PATCH the partner refused as
/// unknown (2003): it lacks the location or the EVSE (see [`crate::outbox`]).
pub async fn resend_location(ocpi: &Ocpi, row: &PushRow) -> Result<(), Reply> {
    let _ordered = ocpi.location_pushes().await;
    let Some(path) = row.object_key.strip_prefix("location:/") else {
        return Err(Reply::server_error(format!(
            "not a location key: {}",
            row.object_key
        )));
    };
    let mut parts = path.splitn(3, '/');
    let (Some(cc), Some(pid), Some(location_id)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Reply::server_error(format!(
            "not a location key: {}",
            row.object_key
        )));
    };
    let party = Party::new(cc, pid);
    let store = ocpi.ocpi_store();
    let Some(partner) = store
        .ocpi_partner(row.partner_id)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(());
    };
    let Some(location) = store
        .ocpi_location(&party, location_id)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(());
    };
    let location = locations::build(ocpi, &location).await?;
    let shared = crate::sharing::Sharing::load(ocpi)
        .await?
        .allows(partner.id, &party, location_id);
    if !location.publish || !shared {
        return Ok(());
    }
    let push = Push {
        module: "locations",
        key: location_key(&party, location_id),
        method: "PUT",
        path: format!("/{}/{}/{location_id}", party.country_code, party.party_id),
        body: Some(json(&location)?),
        from: party.clone(),
        to: partner_party(&partner),
    };
    enqueue(ocpi, &partner, push).await
}

/// PATCH the status of the station's EVSEs (one, or all of them) to the location's partners.
async fn evse_changed(ocpi: &Ocpi, station: &StationId, evse: Option<i64>) -> Result<(), Reply> {
    let _ordered = ocpi.location_pushes().await;
    let store = ocpi.ocpi_store();
    let Some((party, location_id)) = store
        .ocpi_location_of_station(station)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(());
    };
    let Some(row) = store
        .ocpi_location(&party, &location_id)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(());
    };
    let location = locations::build(ocpi, &row).await?;
    if !location.publish {
        return Ok(());
    }
    let prefix = format!("{}*", station.as_str());
    let evses: Vec<_> = location
        .evses
        .iter()
        .flatten()
        .filter(|e| match evse {
            Some(id) => e.uid == locations::evse_uid(station, id),
            None => e.uid.starts_with(&prefix),
        })
        .collect();
    let sharing = crate::sharing::Sharing::load(ocpi).await?;
    for partner in partners_of(ocpi, &party).await? {
        if !sharing.allows(partner.id, &party, &location_id) {
            continue;
        }
        for e in &evses {
            let patch = EvseStatusPatch {
                status: e.status.clone(),
                last_updated: e.last_updated,
            };
            let path = format!(
                "/{}/{}/{}/{}",
                party.country_code, party.party_id, location_id, e.uid
            );
            enqueue(
                ocpi,
                &partner,
                Push {
                    module: "locations",
                    // One order for a location and its EVSEs: a PATCH never overtakes the PUT
                    // that created the location at the eMSP.
                    key: location_key(&party, &location_id),
                    method: "PATCH",
                    path,
                    body: Some(json(&patch)?),
                    from: party.clone(),
                    to: partner_party(&partner),
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// PUT the session (and POST the CDR once a charge record exists) to the token's partner.
async fn transaction_changed(
    ocpi: &Ocpi,
    station: &StationId,
    transaction_id: &str,
    recorded: bool,
) -> Result<(), Reply> {
    let store = ocpi.ocpi_store();
    let Some((party, location_id)) = store
        .ocpi_location_of_station(station)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(());
    };
    let Some(location) = store
        .ocpi_location(&party, &location_id)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(());
    };
    let Some(tx) = ocpi
        .store()
        .transaction(station, transaction_id)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(());
    };
    let data = locations::data(&location)?;
    let sharing = crate::sharing::Sharing::load(ocpi).await?;
    for partner in partners_of(ocpi, &party).await? {
        let access = crate::access::Access::of(&partner);
        if access.sessions == SessionFeed::Pseudonymised {
            // B4.3 / B7.3: every session at a location shared with it, no driver identity.
            if sharing.allows(partner.id, &party, &location_id) {
                let roamed = Roamed {
                    token: sessions::pseudonymous(ocpi, &partner, &party, station, &tx).await?,
                    location: location.clone(),
                    data: data.clone(),
                    station: station.clone(),
                    tx: tx.clone(),
                };
                enqueue_session(ocpi, &partner, &roamed, &party, None).await?;
            }
            continue;
        }
        let Some(uid) = tx.id_token.clone() else {
            continue;
        };
        let Some(token) = sessions::managed_token(ocpi, &partner, &uid).await? else {
            continue;
        };
        let to = Some(Party::new(&token.country_code, &token.party_id));
        let roamed = Roamed {
            location: location.clone(),
            data: data.clone(),
            station: station.clone(),
            tx: tx.clone(),
            token,
        };
        let version = enqueue_session(ocpi, &partner, &roamed, &party, to).await?;
        if !recorded {
            continue;
        }
        enqueue_cdr(ocpi, &partner, &roamed, &version).await?;
    }
    Ok(())
}

/// PUT the session to `partner` in the version it negotiated (returned); `to` defaults to the
/// partner's own party.
async fn enqueue_session(
    ocpi: &Ocpi,
    partner: &Partner,
    roamed: &Roamed,
    party: &Party,
    to: Option<Party>,
) -> Result<unicharge_ocpi::Version, Reply> {
    let version = crate::credentials::outgoing(ocpi, partner)
        .map(|(_, v)| v)
        .unwrap_or(unicharge_ocpi::Version::V2_2_1);
    let session = sessions::build(ocpi, roamed, &version).await?;
    enqueue(
        ocpi,
        partner,
        Push {
            module: "sessions",
            key: format!("session:{}", session.id),
            method: "PUT",
            path: format!("/{}/{}/{}", party.country_code, party.party_id, session.id),
            body: Some(json(&session)?),
            from: party.clone(),
            to: to.or_else(|| partner_party(partner)),
        },
    )
    .await?;
    Ok(version)
}

/// POST the CDR of an ended, recorded transaction to `partner` (once: a second enqueue of the
/// same CDR is ignored by the store).
pub async fn enqueue_cdr(
    ocpi: &Ocpi,
    partner: &Partner,
    roamed: &Roamed,
    version: &unicharge_ocpi::Version,
) -> Result<(), Reply> {
    let Some(record) = sessions::charge_record(ocpi, roamed).await? else {
        return Ok(());
    };
    let mut cdr = cdrs::build(ocpi, roamed, &record, version);
    let session_id = sessions::session_id(&roamed.station, &roamed.tx.transaction_id);
    cdr.remark = crate::session_limits::remark(ocpi, partner.id, &session_id).await;
    let party = &roamed.location.party;
    enqueue(
        ocpi,
        partner,
        Push {
            module: "cdrs",
            key: format!("cdr:{}", cdr.id),
            method: "POST",
            path: String::new(),
            body: Some(json(&cdr)?),
            from: party.clone(),
            to: Some(Party::new(
                &roamed.token.country_code,
                &roamed.token.party_id,
            )),
        },
    )
    .await
}
