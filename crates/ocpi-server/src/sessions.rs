//! Sessions module, Sender (CPO): OCPP transactions at stations of our locations, as the
//! eMSP whose token started them sees them. A running session reports the energy metered so
//! far (the CSMS's running aggregate); an ended one the charge record's energy and cost.
//!
//! Session ids are derived, stable and opaque: 32 hex digits of SHA-256 over the station and
//! transaction id (OCPP transaction ids are unique per station only, and OCPI ids are at most
//! 36 characters).
//!
//! Besides the list, `GET {sessions}/{session_id}` answers one session (a unicharge addition
//! that no 2.2.1 / 2.3.0 client needs to know about; the eMSP side of the spec has it).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use unicharge_core::charge_record::{charge_record_id, ChargeRecord};
use unicharge_core::rating::CostBreakdown;
use unicharge_core::StationId;
use unicharge_ocpi::cdrs::{AuthMethod, CdrToken};
use unicharge_ocpi::sessions::{
    ChargingPreferences, ChargingPreferencesResponse, Session, SessionStatus,
};
use unicharge_ocpi::tokens::Token;
use unicharge_ocpi::transport::StatusCode;
use unicharge_ocpi::types::Price;
use unicharge_ocpi::Version;
use unicharge_store::ocpi::{LocationRow, Partner, Party, TokenRow};
use unicharge_store::records::TransactionRecord;

use crate::access::{Access, SessionFeed};
use crate::auth::{Caller, Registered};
use crate::locations::{self, evse_uid, LocationData};
use crate::reply::{self, Answer, Reply};
use crate::scope;
use crate::Ocpi;

/// A transaction at one of our locations, with the partner token it ran with.
pub struct Roamed {
    pub location: LocationRow,
    pub data: LocationData,
    pub station: StationId,
    pub tx: TransactionRecord,
    pub token: Token,
}

/// Opaque, stable id of an OCPI object derived from a station's transaction.
pub fn derived_id(kind: &str, station: &StationId, transaction_id: &str) -> String {
    let digest = Sha256::digest(format!("{kind}\n{}\n{transaction_id}", station.as_str()));
    hex::encode(&digest[..16])
}

pub fn session_id(station: &StationId, transaction_id: &str) -> String {
    derived_id("session", station, transaction_id)
}

/// The token a transaction ran with, if `partner` speaks for the token's MSP party (lists it
/// in its credentials roles): what it may pull (its sessions and CDRs, B4.1 / B5.2, including
/// those from before a migration, B3.2) and act on.
pub async fn owner_token(
    ocpi: &Ocpi,
    partner: &Partner,
    uid: &str,
) -> Result<Option<Token>, Reply> {
    token_of(ocpi, partner, uid, false).await
}

/// The token a transaction ran with, if `partner` is the one platform that manages it
/// ([`manager`]): whom its sessions, CDRs and driver messages are pushed to.
pub async fn managed_token(
    ocpi: &Ocpi,
    partner: &Partner,
    uid: &str,
) -> Result<Option<Token>, Reply> {
    token_of(ocpi, partner, uid, true).await
}

async fn token_of(
    ocpi: &Ocpi,
    partner: &Partner,
    uid: &str,
    managed: bool,
) -> Result<Option<Token>, Reply> {
    let rows: Vec<TokenRow> = ocpi
        .ocpi_store()
        .ocpi_tokens_by_uid(uid)
        .await
        .map_err(Reply::server_error)?;
    // The partners are read once for all the rows (a uid may be held by several parties).
    let partners = if managed && !rows.is_empty() {
        ocpi.ocpi_store()
            .ocpi_partners()
            .await
            .map_err(Reply::server_error)?
    } else {
        Vec::new()
    };
    for row in rows {
        let own = if managed {
            manager_among(&partners, &row) == Some(partner.id)
        } else {
            scope::is_partner_party(partner, &row.party)
        };
        if own {
            if let Ok(token) = serde_json::from_str::<Token>(&row.data) {
                return Ok(Some(token));
            }
        }
    }
    Ok(None)
}

/// The registered partner that manages a token now, the one its sessions and CDRs are pushed
/// to (seed 003 B3.2, an MSP migrating its drivers to another platform).
///
/// OCPI 2.2.1 says who speaks for a party by the roles in a platform's credentials, and during
/// a migration two platforms list the MSP's role: the new one registered with it, the old one
/// has not dropped it yet. One of them must be pushed the driver's sessions, never both: the platform
/// that last pushed the token while it still lists the token's party (the new platform takes a
/// token over by pushing it, B3.2's "CPO knows the Tokens are now managed via another OCPI
/// platform"); when that platform no longer lists the party, the most recently registered one
/// that does (its tokens were known to us before it pushed them); when none does, no one.
fn manager_among(partners: &[Partner], row: &TokenRow) -> Option<i64> {
    let holders: Vec<i64> = partners
        .iter()
        .filter(|p| p.status == crate::auth::REGISTERED && scope::is_partner_party(p, &row.party))
        .map(|p| p.id)
        .collect();
    match row.partner_id {
        Some(pusher) if holders.contains(&pusher) => Some(pusher),
        _ => holders.into_iter().max(),
    }
}

/// The pseudonymised token of a transaction for a data aggregator / SCSP `partner` (B4.3,
/// B7.3; see [`crate::access::pseudonymous_token`]).
pub async fn pseudonymous(
    ocpi: &Ocpi,
    partner: &Partner,
    cpo: &Party,
    station: &StationId,
    tx: &TransactionRecord,
) -> Result<Token, Reply> {
    crate::access::pseudonymous_token(
        ocpi,
        partner,
        cpo,
        tx.id_token.as_deref(),
        &session_id(station, &tx.transaction_id),
    )
    .await
}

/// The token `partner` sees a transaction with: its own driver's token (an eMSP), a pseudonym
/// (a data aggregator or SCSP, at locations shared with it), or None (not its session).
async fn token_for(
    ocpi: &Ocpi,
    partner: &Partner,
    feed: SessionFeed,
    shared: bool,
    location: &LocationRow,
    station: &StationId,
    tx: &TransactionRecord,
) -> Result<Option<Token>, Reply> {
    match feed {
        SessionFeed::Pseudonymised if shared => Ok(Some(
            pseudonymous(ocpi, partner, &location.party, station, tx).await?,
        )),
        SessionFeed::OwnDrivers => match &tx.id_token {
            Some(uid) => owner_token(ocpi, partner, uid).await,
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// Every transaction at locations of `parties` that ran with one of the caller's tokens.
pub async fn visible(
    ocpi: &Ocpi,
    caller: &Caller,
    parties: &[Party],
) -> Result<Vec<Roamed>, Reply> {
    matching(ocpi, caller, parties, |_, _| true).await
}

/// [`visible`], narrowed by `keep` before the token is looked up: a session id names one
/// transaction, so [`find`] looks up one token, not one per transaction. Tokens are looked up
/// once per uid.
async fn matching(
    ocpi: &Ocpi,
    caller: &Caller,
    parties: &[Party],
    keep: impl Fn(&StationId, &TransactionRecord) -> bool,
) -> Result<Vec<Roamed>, Reply> {
    let mut out = Vec::new();
    let mut tokens: std::collections::HashMap<String, Option<Token>> = Default::default();
    let feed = Access::of(&caller.partner).sessions;
    let sharing = crate::sharing::Sharing::load(ocpi).await?;
    for location in locations::visible_rows(ocpi, parties).await? {
        let data = locations::data(&location)?;
        let shared = sharing.allows_row(caller.partner.id, &location);
        for station in &location.stations {
            let txs = ocpi
                .store()
                .transactions(station, 100_000)
                .await
                .map_err(Reply::server_error)?;
            for tx in txs {
                if !keep(station, &tx) {
                    continue;
                }
                let token = match (&tx.id_token, feed) {
                    // One lookup per uid for an eMSP's drivers.
                    (Some(uid), SessionFeed::OwnDrivers) => match tokens.get(uid) {
                        Some(known) => known.clone(),
                        None => {
                            let found = owner_token(ocpi, &caller.partner, uid).await?;
                            tokens.insert(uid.clone(), found.clone());
                            found
                        }
                    },
                    _ => {
                        token_for(ocpi, &caller.partner, feed, shared, &location, station, &tx)
                            .await?
                    }
                };
                if let Some(token) = token {
                    out.push(Roamed {
                        location: location.clone(),
                        data: data.clone(),
                        station: station.clone(),
                        tx,
                        token,
                    });
                }
            }
        }
    }
    Ok(out)
}

pub fn cdr_token(token: &Token) -> CdrToken {
    CdrToken {
        country_code: Some(token.country_code.clone()),
        party_id: Some(token.party_id.clone()),
        uid: token.uid.clone(),
        kind: token.kind.clone(),
        contract_id: token.contract_id.clone(),
    }
}

pub fn auth_method(tx: &TransactionRecord) -> AuthMethod {
    if tx.remote_start_id.is_some() {
        AuthMethod::Command
    } else {
        AuthMethod::Whitelist
    }
}

/// Wh → kWh, exact.
pub fn kwh(wh: Decimal) -> Decimal {
    (wh / Decimal::from(1000)).normalize()
}

/// Seconds → hours, to the microhour where it does not divide exactly.
pub fn hours(seconds: i64) -> Decimal {
    (Decimal::from(seconds) / Decimal::from(3600))
        .round_dp(6)
        .normalize()
}

/// A core cost as an OCPI price of `version` (2.2.1 excl/incl VAT, 2.3.0 before/after taxes).
pub fn price(cost: &CostBreakdown, version: &Version) -> Price {
    Price {
        excl_vat: Some(cost.total_excl_vat),
        incl_vat: Some(cost.total_incl_vat),
        ..Default::default()
    }
    .for_version(version)
}

/// A component amount (excl. VAT) as a price: VAT pro rata is not split per component.
pub fn component(amount: Decimal, version: &Version) -> Price {
    Price {
        excl_vat: Some(amount),
        ..Default::default()
    }
    .for_version(version)
}

pub async fn charge_record(ocpi: &Ocpi, r: &Roamed) -> Result<Option<ChargeRecord>, Reply> {
    if r.tx.ended_at.is_none() {
        return Ok(None);
    }
    ocpi.store()
        .charge_record(&charge_record_id(r.station.as_str(), &r.tx.transaction_id))
        .await
        .map_err(Reply::server_error)
}

pub async fn build(ocpi: &Ocpi, r: &Roamed, version: &Version) -> Result<Session, Reply> {
    let record = charge_record(ocpi, r).await?;
    let (energy_wh, total_cost, currency, last_updated) = match &record {
        Some(rec) => (
            rec.usage.energy_wh,
            rec.cost.as_ref().map(|c| price(c, version)),
            rec.cost
                .as_ref()
                .map_or_else(|| ocpi.settings().currency.clone(), |c| c.currency.clone()),
            rec.created_at.max(rec.ended_at),
        ),
        None => {
            let usage = ocpi
                .store()
                .metered_usage(&r.station, &r.tx.transaction_id)
                .await
                .map_err(Reply::server_error)?
                .unwrap_or_default();
            let mut at: DateTime<Utc> = r.tx.started_at;
            if let Some(reading) = &usage.last_reading {
                at = at.max(reading.timestamp);
            }
            if let Some(change) = &usage.last_change {
                at = at.max(change.change.timestamp);
            }
            if let Some(end) = r.tx.ended_at {
                at = at.max(end);
            }
            (usage.energy_wh, None, ocpi.settings().currency.clone(), at)
        }
    };
    let id = session_id(&r.station, &r.tx.transaction_id);
    ocpi.session_index()
        .remember(&id, &r.station, &r.tx.transaction_id);
    Ok(Session {
        country_code: r.location.party.country_code.clone(),
        party_id: r.location.party.party_id.clone(),
        id,
        start_date_time: r.tx.started_at,
        end_date_time: r.tx.ended_at,
        kwh: kwh(energy_wh),
        cdr_token: cdr_token(&r.token),
        auth_method: auth_method(&r.tx),
        authorization_reference: None,
        location_id: r.location.id.clone(),
        evse_uid: evse_uid(&r.station, r.tx.evse_id.unwrap_or(1)),
        connector_id: r.tx.connector_id.unwrap_or(1).to_string(),
        meter_id: None,
        currency,
        charging_periods: None,
        total_cost,
        status: if r.tx.ended_at.is_some() {
            SessionStatus::Completed
        } else {
            SessionStatus::Active
        },
        last_updated,
    })
}

pub async fn list(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path(version): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let version = scope::version(&version)?;
    let query = locations::list_query(&pairs)?;
    // 2.2.1 mod_sessions: date_from is required on the Sender GET.
    query
        .dates
        .require_from()
        .map_err(|e| Reply::error(e.status_code(), e.to_string()))?;
    let parties = scope::visible_parties(&caller)?;
    let mut items = Vec::new();
    for r in visible(&ocpi, &caller, &parties).await? {
        let s = build(&ocpi, &r, &version).await?;
        items.push((s.last_updated, s.id.clone(), s));
    }
    let endpoint = format!("{}/{}/cpo/sessions", ocpi.base_url(), version.as_str());
    Ok(locations::page(
        items,
        &query,
        ocpi.settings().max_page,
        &endpoint,
    ))
}

/// The caller's session with this id, else 404.
/// The caller's session `id`: through the session index (one transaction read) when the id
/// was met since start-up, else by reading the visible stations' transactions once.
pub async fn find(ocpi: &Ocpi, caller: &Caller, id: &str) -> Result<Roamed, Reply> {
    let parties = scope::visible_parties(caller)?;
    if let Some((station, transaction_id)) = ocpi.session_index().get(id) {
        if let Some(r) = indexed(ocpi, caller, &parties, &station, &transaction_id).await? {
            if session_id(&r.station, &r.tx.transaction_id) == id {
                return Ok(r);
            }
        }
    }
    let found = matching(ocpi, caller, &parties, |station, tx| {
        session_id(station, &tx.transaction_id) == id
    })
    .await?
    .into_iter()
    .next()
    .ok_or_else(|| {
        Reply::not_found_object(
            StatusCode::CLIENT_ERROR,
            format!("no session {}", reply::bounded(id)),
        )
    })?;
    ocpi.session_index()
        .remember(id, &found.station, &found.tx.transaction_id);
    Ok(found)
}

/// The transaction the index names, if it is at a location of `parties` and ran with one of
/// the caller's tokens (the checks [`matching`] makes).
async fn indexed(
    ocpi: &Ocpi,
    caller: &Caller,
    parties: &[Party],
    station: &StationId,
    transaction_id: &str,
) -> Result<Option<Roamed>, Reply> {
    let Some(location) = locations::visible_rows(ocpi, parties)
        .await?
        .into_iter()
        .find(|l| l.stations.contains(station))
    else {
        return Ok(None);
    };
    let Some(tx) = ocpi
        .store()
        .transaction(station, transaction_id)
        .await
        .map_err(Reply::server_error)?
    else {
        return Ok(None);
    };
    let feed = Access::of(&caller.partner).sessions;
    let shared = crate::sharing::Sharing::load(ocpi)
        .await?
        .allows_row(caller.partner.id, &location);
    let Some(token) =
        token_for(ocpi, &caller.partner, feed, shared, &location, station, &tx).await?
    else {
        return Ok(None);
    };
    Ok(Some(Roamed {
        data: locations::data(&location)?,
        location,
        station: station.clone(),
        tx,
        token,
    }))
}

pub async fn one(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id)): Path<(String, String)>,
) -> Answer {
    let version = scope::version(&version)?;
    let r = find(&ocpi, &caller, &id).await?;
    Ok(Reply::ok(&build(&ocpi, &r, &version).await?))
}

/// `PUT {sessions}/{session_id}/charging_preferences`: the session must be the caller's. The
/// preferences are not turned into a charging profile yet, which the answer says.
pub async fn charging_preferences(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    scope::version(&version)?;
    let _preferences: ChargingPreferences = reply::body(&bytes, "ChargingPreferences")?;
    find(&ocpi, &caller, &id).await?;
    Ok(Reply::ok(&ChargingPreferencesResponse::NotPossible))
}
