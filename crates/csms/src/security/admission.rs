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
//!
//! A Basic password is checked in this order, cheapest first, so that guessing costs the CSMS
//! little and honest stations keep reconnecting quickly ([`super::guard`]):
//!
//! 1. a credential verified within `credential_cache_ttl` for the same password hash: let in;
//! 2. the station or the source address is locked after too many failures: 401, unchecked;
//! 3. a password the CSMS generated is stored as a salted SHA-256 and checked at once (ADR 9);
//!    an operator-chosen one is Argon2: when the hash queue is full, 503 (retry later), unchecked;
//! 4. the check itself. A failure counts against station and address, is counted in
//!    `ocpp_auth_failures_total{reason}` and, for a registered station, is stored as a security
//!    event `FailedToAuthenticateAtCsms` (the OCPP security event for credentials the CSMS
//!    rejected).
//!
//! Every refusal is counted in `ocpp_auth_failures_total` with its reason.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::Utc;
use tokio::time::Instant;
use unicharge_core::credentials::{hash_password, is_cheap_to_verify, verify_password};
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};
use unicharge_ocpp::peer_text::Bounded;
use unicharge_store::{SecurityEventRecord, Store, StoreError, Write};

use super::backoff::Key;
use super::guard::Guard;
use super::hashing::HashError;
use crate::handshake::{BasicCredentials, Refusal};
use crate::UnknownStationPolicy;

/// The OCPP security event type stored for a wrong password (Part 2, Appendix 1).
pub const FAILED_TO_AUTHENTICATE: &str = "FailedToAuthenticateAtCsms";

/// What a connecting client showed.
#[derive(Debug, Clone)]
pub struct Presented {
    /// The connection runs over TLS.
    pub tls: bool,
    /// Subject CN of a client certificate that chained to the configured CA.
    pub certificate_cn: Option<String>,
    pub basic: Option<BasicCredentials>,
    /// Where the connection comes from (failures are counted per address too).
    pub address: IpAddr,
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
    guard: &Guard,
    policy: UnknownStationPolicy,
    station_id: &str,
    presented: Presented,
) -> Result<Admitted, Refusal> {
    let id = StationId::new(station_id)
        .map_err(|e| Refusal::new(404, format!("not a station id: {e}")))?;
    let offered = offered_profile(&id, &presented).map_err(|r| failure("credentials", r))?;
    let station = store.get_station(&id).await.map_err(internal)?;
    let station = match station {
        Some(station) => station,
        None => return register_unknown(store, guard, policy, id, offered, presented).await,
    };
    if offered < station.security_profile {
        return Err(failure(
            "profile_too_low",
            Refusal::new(
                401,
                format!(
                    "registered at security profile {}, connected with profile {offered}",
                    station.security_profile
                ),
            ),
        ));
    }
    if offered != SecurityProfile::TlsClientCert {
        let basic = presented
            .basic
            .as_ref()
            .expect("offered_profile checked Basic is present");
        let hash = station.password_hash.as_deref().ok_or_else(|| {
            failure(
                "no_password_set",
                Refusal::new(401, "no password is set for this station"),
            )
        })?;
        check_password(store, guard, &id, presented.address, &basic.password, hash).await?;
    }
    Ok(Admitted {
        station,
        profile: offered,
        registered: true,
    })
}

/// Check a Basic password against a registered station's hash (see the module docs).
async fn check_password(
    store: &Arc<dyn Store>,
    guard: &Guard,
    id: &StationId,
    address: IpAddr,
    password: &str,
    hash: &str,
) -> Result<(), Refusal> {
    let now = Instant::now();
    if guard.cache().hit(id, password, hash, now) {
        return Ok(());
    }
    let station_key = Key::Station(id.clone());
    let address_key = Key::Address(address);
    let locked = {
        let backoff = guard.backoff();
        backoff
            .locked(&station_key, now)
            .or_else(|| backoff.locked(&address_key, now))
    };
    if let Some(left) = locked {
        return Err(failure(
            "locked_out",
            Refusal::new(
                401,
                format!(
                    "too many wrong passwords for this station or address; refused unchecked for {}s",
                    left.as_secs().max(1)
                ),
            ),
        ));
    }
    let right = if is_cheap_to_verify(hash) {
        // A generated password's salted SHA-256: a microsecond, checked here (ADR 9).
        verify_password(password, hash)
    } else {
        guard.count_password_check();
        let (checked_password, checked_hash) = (password.to_string(), hash.to_string());
        match guard
            .hash_queue
            .run(move || verify_password(&checked_password, &checked_hash))
            .await
        {
            Ok(right) => right,
            Err(HashError::Busy) => {
                return Err(failure(
                    "hash_queue_full",
                    Refusal::new(503, "too many password checks at once; retry later"),
                ))
            }
            Err(e @ HashError::Gone) => return Err(internal(e)),
        }
    };
    if right {
        guard.cache().insert(id, password, hash, now);
        guard.backoff().record_success(&station_key);
        return Ok(());
    }
    let (station_lockout, address_lockout) = {
        let mut backoff = guard.backoff();
        (
            backoff.record_failure(station_key, now),
            backoff.record_failure(address_key, now),
        )
    };
    let mut tech_info = format!("wrong Basic-auth password from {address}");
    if let Some(lockout) = station_lockout.or(address_lockout) {
        tech_info.push_str(&format!(
            "; further attempts from this {} refused unchecked for {}s",
            if station_lockout.is_some() {
                "station id"
            } else {
                "address"
            },
            lockout.as_secs()
        ));
    }
    let event = Write::SecurityEvent(SecurityEventRecord {
        station_id: id.clone(),
        kind: FAILED_TO_AUTHENTICATE.into(),
        timestamp: Utc::now(),
        tech_info: Some(tech_info),
        received_at: Utc::now(),
    });
    if let Err(e) = store.write(vec![event]).await {
        tracing::error!(station = %id, error = %e, "could not store the failed-authentication security event");
    }
    Err(failure(
        "wrong_password",
        Refusal::new(401, "wrong password"),
    ))
}

/// Count a refused credential by reason and pass the refusal on.
fn failure(reason: &'static str, refusal: Refusal) -> Refusal {
    metrics::counter!("ocpp_auth_failures_total", "reason" => reason).increment(1);
    refusal
}

/// The profile the connection offers, or why it offers none.
fn offered_profile(id: &StationId, presented: &Presented) -> Result<SecurityProfile, Refusal> {
    if let (true, Some(cn)) = (presented.tls, &presented.certificate_cn) {
        if cn != id.as_str() {
            return Err(Refusal::new(
                401,
                format!(
                    "client certificate CN \"{}\" is not the station id",
                    Bounded(cn)
                ),
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
                "Basic username \"{}\" is not the station id in the URL",
                Bounded(&basic.username)
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
    guard: &Guard,
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
        let hash = match guard
            .hash_queue
            .run(move || hash_password(&basic.password))
            .await
        {
            Ok(hash) => hash.map_err(internal)?,
            Err(HashError::Busy) => {
                return Err(Refusal::new(
                    503,
                    "too many password checks at once; retry later",
                ))
            }
            Err(e @ HashError::Gone) => return Err(internal(e)),
        };
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

fn internal(e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "store failure during the upgrade");
    Refusal::new(500, "internal error")
}
