//! Who may connect (OCPP 2.0.1 Part 2, A00 "Security profiles"; TC_A_01…08).
//!
//! The profile a connection *offers* is read off the connection itself:
//!
//! | transport | credential | offered profile |
//! |---|---|---|
//! | ws | Basic | 1 |
//! | wss | Basic | 2 |
//! | wss | verified client certificate whose CN is the station id | 3 |
//!
//! A station is let in when its credential is right and the offered profile is at least the one
//! it is registered at (no downgrade). TLS itself (versions, suites, certificate chain and expiry)
//! was already enforced by the handshake in [`super::tls`].

use std::sync::Arc;

use chrono::Utc;
use unicharge_core::credentials::{hash_password, verify_password};
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};
use unicharge_store::{Store, StoreError};

use crate::handshake::{BasicCredentials, Refusal};
use crate::UnknownStationPolicy;

/// What a connecting client showed.
#[derive(Debug, Clone)]
pub struct Presented {
    /// The connection runs over TLS.
    pub tls: bool,
    /// Subject CN of a client certificate that chained to the configured CA.
    pub certificate_cn: Option<String>,
    pub basic: Option<BasicCredentials>,
}

/// A station that may in, with the profile its connection offers.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub station: Station,
    pub profile: SecurityProfile,
    /// False for an unknown station let in only to be answered Rejected (policy `reject`).
    pub registered: bool,
}

/// Decide whether `station_id` may connect with what it `presented`.
pub async fn admit(
    store: &Arc<dyn Store>,
    policy: UnknownStationPolicy,
    station_id: &str,
    presented: Presented,
) -> Result<Admitted, Refusal> {
    let id = StationId::new(station_id)
        .map_err(|e| Refusal::new(404, format!("not a station id: {e}")))?;
    let offered = offered_profile(&id, &presented)?;
    let station = store.get_station(&id).await.map_err(internal)?;
    let station = match station {
        Some(station) => station,
        None => return register_unknown(store, policy, id, offered, presented).await,
    };
    if offered < station.security_profile {
        return Err(Refusal::new(
            401,
            format!(
                "registered at security profile {}, connected with profile {offered}",
                station.security_profile
            ),
        ));
    }
    if offered != SecurityProfile::TlsClientCert {
        let basic = presented
            .basic
            .expect("offered_profile checked Basic is present");
        let hash = station
            .password_hash
            .clone()
            .ok_or_else(|| Refusal::new(401, "no password is set for this station"))?;
        if !check_password(basic.password, hash).await {
            return Err(Refusal::new(401, "wrong password"));
        }
    }
    Ok(Admitted {
        station,
        profile: offered,
        registered: true,
    })
}

/// The profile the connection offers, or why it offers none.
fn offered_profile(id: &StationId, presented: &Presented) -> Result<SecurityProfile, Refusal> {
    if let (true, Some(cn)) = (presented.tls, &presented.certificate_cn) {
        if cn != id.as_str() {
            return Err(Refusal::new(
                401,
                format!("client certificate CN {cn:?} is not the station id"),
            ));
        }
        return Ok(SecurityProfile::TlsClientCert);
    }
    let basic = presented
        .basic
        .as_ref()
        .ok_or_else(|| Refusal::new(401, "no credentials (Basic or client certificate)"))?;
    if basic.username != id.as_str() {
        return Err(Refusal::new(
            401,
            format!(
                "Basic username {:?} is not the station id in the URL",
                basic.username
            ),
        ));
    }
    Ok(if presented.tls {
        SecurityProfile::TlsBasicAuth
    } else {
        SecurityProfile::BasicAuth
    })
}

async fn register_unknown(
    store: &Arc<dyn Store>,
    policy: UnknownStationPolicy,
    id: StationId,
    offered: SecurityProfile,
    presented: Presented,
) -> Result<Admitted, Refusal> {
    let registration = match policy {
        UnknownStationPolicy::Refuse => {
            return Err(Refusal::new(404, "station is not registered"));
        }
        UnknownStationPolicy::Reject => {
            let mut station = Station::new(id, offered, Utc::now());
            station.registration = RegistrationStatus::Rejected;
            return Ok(Admitted {
                station,
                profile: offered,
                registered: false,
            });
        }
        UnknownStationPolicy::Pending => RegistrationStatus::Pending,
        UnknownStationPolicy::Accept => RegistrationStatus::Accepted,
    };
    let mut station = Station::new(id, offered, Utc::now());
    station.registration = registration;
    if let Some(basic) = presented
        .basic
        .filter(|_| offered != SecurityProfile::TlsClientCert)
    {
        // Trust on first use: the password presented now is the one required from now on.
        let hash = super::hashing::run(move || hash_password(&basic.password))
            .await
            .ok_or_else(|| internal("password hashing task failed"))?
            .map_err(|e| internal(e.to_string()))?;
        station.password_hash = Some(hash);
    }
    match store.create_station(&station).await {
        Ok(()) => {
            tracing::info!(station = %station.id, profile = %offered, registration = registration.as_str(),
                "unknown station registered on first contact");
            Ok(Admitted {
                station,
                profile: offered,
                registered: true,
            })
        }
        // Two first connections raced; the other one registered it. Let this one retry.
        Err(StoreError::StationExists(_)) => Err(Refusal::new(401, "registration raced; retry")),
        Err(e) => Err(internal(e)),
    }
}

async fn check_password(password: String, hash: String) -> bool {
    super::hashing::run(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "store failure during the upgrade");
    Refusal::new(500, "internal error")
}
