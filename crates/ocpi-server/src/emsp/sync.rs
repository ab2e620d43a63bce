//! The eMSP's pull of a CPO partner's Sender lists (issue 12 item 3): Locations, Tariffs,
//! Sessions and CDRs that existed before the partnership, which the CPO will never push.
//!
//! Why a pull and not only pushes: a CPO pushes what *changes* after registration; a location
//! that has not changed since, or a CDR of last week, would otherwise never reach us. So right
//! after the credentials handshake (either direction) and whenever the operator asks
//! (`POST /api/v1/ocpi/partners/{id}/sync`), a background task GETs each module:
//!
//! * paged: the first request asks for `limit = ocpi.max_page`; the server may give fewer
//!   (`X-Limit`), and the next page is the `Link: <…>; rel="next"` URL until there is none. A
//!   link to another origin is not followed (our token would go there). A server that sends
//!   no Link but an `X-Total-Count` larger than what we read is asked for the next offset
//!   ([`super::pages`]).
//! * incremental: each module's last complete pull is kept in the store (`ocpi_sync`); the next
//!   pull asks `date_from` = the start of that pull less [`OVERLAP`] (the CPO's clock may be
//!   behind ours; reading an object twice is harmless). A full pull asks for everything
//!   (Sessions with `date_from` = 1970, as 2.2.1 requires the parameter there).
//! * stored the way the Receiver endpoints store a push ([`super::receiver`], [`super::cdrs`]):
//!   the object's own JSON text (exact amounts), per partner and CPO party, checked as the typed
//!   OCPI object and as one of the partner's CPO roles. A CDR is inserted once and never
//!   replaced (it may already have been billed); another object replaces the stored one unless
//!   the stored one is newer (a push that overtook the pull) or identical.
//!
//! A second pull therefore adds nothing: the same ids are written again or skipped. One pull
//! runs per partner at a time; a module that fails is tried again with the outbox's backoff
//! (the partner may still be finishing the registration that started us) up to [`ATTEMPTS`]
//! times. Progress is logged per module (objects read, stored) at INFO.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use unicharge_ocpi::cdrs::Cdr;
use unicharge_ocpi::locations::Location;
use unicharge_ocpi::sessions::Session;
use unicharge_ocpi::tariffs::Tariff;
use unicharge_ocpi::types::Role;
use unicharge_ocpi::versions::{Endpoint, InterfaceRole};
use unicharge_store::ocpi::{Partner, Party, ReceivedRow, SyncMark};

use super::pages::{get_page, next_url, query_url};
use super::{CDRS, LOCATIONS, SESSIONS, TARIFFS};
use crate::auth::REGISTERED;
use crate::operator::OperatorError;
use crate::reply::bounded;
use crate::{scope, Ocpi};

/// The Sender modules pulled, in this order (a session or CDR names a location and tariff
/// that are then already there).
pub const MODULES: [&str; 4] = [LOCATIONS, TARIFFS, SESSIONS, CDRS];

/// How far before the previous pull's start the next incremental pull begins.
pub const OVERLAP: chrono::Duration = chrono::Duration::minutes(5);

/// Tries per module and pull.
pub const ATTEMPTS: i64 = 6;

/// Pages per module at most: a server whose Link never ends does not keep us forever.
const MAX_PAGES: usize = 100_000;

/// Everything, or what changed since the last complete pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    Incremental,
}

/// Pulls under way per partner, each with the mode of a pull asked for meanwhile.
pub type Runs = std::sync::Mutex<std::collections::HashMap<i64, Option<Mode>>>;

/// The partner's Sender endpoint of `module`.
pub fn sender_url(partner: &Partner, module: &str) -> Option<String> {
    let endpoints: Vec<Endpoint> = serde_json::from_str(&partner.endpoints).ok()?;
    endpoints
        .into_iter()
        .find(|e| e.identifier.as_str() == module && e.role == InterfaceRole::Sender)
        .map(|e| e.url.trim_end_matches('/').to_string())
}

/// The partner's CPO parties (its roles); objects of other parties are not taken.
fn cpo_roles(partner: &Partner) -> Vec<Party> {
    scope::partner_roles(partner)
        .iter()
        .filter(|r| matches!(r.role, Role::Cpo))
        .map(|r| Party::new(&r.country_code, &r.party_id))
        .collect()
}

/// Do we pull from this partner: registered, with one of our eMSP parties, a CPO itself.
pub fn pulls_from(ocpi: &Ocpi, partner: &Partner) -> bool {
    let emsp = ocpi.settings().parties_with_role(&Role::Emsp);
    partner.status == REGISTERED
        && partner.parties.iter().any(|p| emsp.contains(p))
        && !cpo_roles(partner).is_empty()
}

/// Start a pull of `partner` in the background. False when one is running already: this one
/// then runs right after it (a full pull if either asked for one), so a request made during a
/// pull is never lost.
pub fn start(ocpi: &Ocpi, partner: &Partner, mode: Mode) -> bool {
    {
        let mut runs = ocpi.syncing().lock().expect("sync runs");
        if let Some(next) = runs.get_mut(&partner.id) {
            *next = Some(match next {
                Some(Mode::Full) => Mode::Full,
                _ => mode,
            });
            return false;
        }
        runs.insert(partner.id, None);
    }
    let (ocpi, id) = (ocpi.clone(), partner.id);
    tokio::spawn(async move {
        let mut mode = mode;
        loop {
            run(&ocpi, id, mode).await;
            let mut runs = ocpi.syncing().lock().expect("sync runs");
            match runs.get_mut(&id).and_then(Option::take) {
                Some(next) => mode = next,
                None => {
                    runs.remove(&id);
                    return;
                }
            }
        }
    });
    true
}

async fn run(ocpi: &Ocpi, partner_id: i64, mode: Mode) {
    let settings = ocpi.settings().clone();
    for module in MODULES {
        for attempt in 0..ATTEMPTS {
            let outcome = match ocpi.ocpi_store().ocpi_partner(partner_id).await {
                Ok(Some(partner)) if pulls_from(ocpi, &partner) => {
                    pull_module(ocpi, &partner, module, mode).await
                }
                Ok(_) => return,
                Err(e) => Err(format!("store: {e}")),
            };
            match outcome {
                Ok(None) => break,
                Ok(Some(mark)) => {
                    metrics::counter!("ocpi_pulled_objects_total", "module" => module)
                        .increment(mark.objects.max(0) as u64);
                    tracing::info!(
                        partner = partner_id,
                        module,
                        objects = mark.objects,
                        stored = mark.stored,
                        ?mode,
                        "OCPI sync: module pulled"
                    );
                    break;
                }
                Err(error) => {
                    let wait = crate::outbox::backoff(
                        settings.push_retry_initial,
                        settings.push_retry_max,
                        attempt,
                    );
                    tracing::warn!(partner = partner_id, module, attempt = attempt + 1,
                        retry_in_s = wait.as_secs_f64(), %error, "OCPI sync: pull failed");
                    if attempt + 1 < ATTEMPTS {
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
    }
}

/// Pull one module; `None` when the partner publishes no Sender endpoint for it.
async fn pull_module(
    ocpi: &Ocpi,
    partner: &Partner,
    module: &str,
    mode: Mode,
) -> Result<Option<SyncMark>, String> {
    let Some(endpoint) = sender_url(partner, module) else {
        tracing::debug!(
            partner = partner.id,
            module,
            "OCPI sync: no Sender endpoint"
        );
        return Ok(None);
    };
    let (token, version) = crate::credentials::outgoing(ocpi, partner)
        .ok_or("we hold no token to call the partner with (register again)")?;
    let store = ocpi.ocpi_store();
    let started = Utc::now();
    let previous = store
        .ocpi_sync_marks(partner.id)
        .await
        .map_err(|e| format!("store: {e}"))?
        .into_iter()
        .find(|m| m.module == module);
    let date_from = match (mode, previous) {
        (Mode::Incremental, Some(mark)) => Some(mark.date_from),
        // Sessions' Sender GET requires date_from (2.2.1 §9.1.1).
        _ if module == SESSIONS => Utc.timestamp_opt(0, 0).single(),
        _ => None,
    };
    let limit = ocpi.settings().max_page.max(1);
    let roles = cpo_roles(partner);
    let mut url = query_url(&endpoint, 0, limit, date_from);
    let (mut objects, mut stored, mut pages) = (0i64, 0i64, 0usize);
    loop {
        let page = get_page(ocpi, partner, &url, &token, &version).await?;
        pages += 1;
        let read = page.items.len() as u64;
        for raw in &page.items {
            objects += 1;
            if keep(ocpi, partner, module, raw, &roles).await? {
                stored += 1;
            }
        }
        tracing::debug!(
            partner = partner.id,
            module,
            page = pages,
            read,
            "OCPI sync: page"
        );
        let next = next_url(&endpoint, &page, objects as u64, limit, date_from)?;
        match next {
            Some(next) if pages < MAX_PAGES && read > 0 => url = next,
            _ => break,
        }
    }
    let mark = SyncMark {
        partner_id: partner.id,
        module: module.to_string(),
        date_from: started - OVERLAP,
        synced_at: Utc::now(),
        objects,
        stored,
    };
    store
        .put_ocpi_sync_mark(&mark)
        .await
        .map_err(|e| format!("store: {e}"))?;
    Ok(Some(mark))
}

/// Party, id and `last_updated` of a pulled object, read as its typed OCPI object.
fn identify(module: &str, text: &str) -> Result<(Party, String, DateTime<Utc>), String> {
    fn read<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
        serde_json::from_str(text).map_err(|e| bounded(&e.to_string()))
    }
    let (cc, pid, id, at) = match module {
        LOCATIONS => {
            let o: Location = read(text)?;
            (o.country_code, o.party_id, o.id, o.last_updated)
        }
        TARIFFS => {
            let o: Tariff = read(text)?;
            (o.country_code, o.party_id, o.id, o.last_updated)
        }
        SESSIONS => {
            let o: Session = read(text)?;
            (o.country_code, o.party_id, o.id, o.last_updated)
        }
        _ => {
            let o: Cdr = read(text)?;
            (o.country_code, o.party_id, o.id, o.last_updated)
        }
    };
    Ok((Party::new(&cc, &pid), id, at))
}

/// Store one pulled object as a push of it would be stored. True when it was new or changed.
async fn keep(
    ocpi: &Ocpi,
    partner: &Partner,
    module: &str,
    raw: &RawValue,
    roles: &[Party],
) -> Result<bool, String> {
    let text = raw.get();
    let (party, id, last_updated) = match identify(module, text) {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(partner = partner.id, module, %error, "OCPI sync: object refused");
            return Ok(false);
        }
    };
    if !roles.contains(&party) || id.is_empty() {
        tracing::warn!(partner = partner.id, module, party = %format!("{}*{}", party.country_code, party.party_id),
            id = %bounded(&id), "OCPI sync: object of a party that is not a CPO role of the partner: refused");
        return Ok(false);
    }
    let store = ocpi.ocpi_store();
    let row = ReceivedRow {
        partner_id: partner.id,
        module: module.to_string(),
        party,
        id,
        data: text.to_string(),
        last_updated,
        received_at: Utc::now(),
    };
    let failed = |e: unicharge_store::StoreError| format!("store: {e}");
    if module == CDRS {
        // Never replaced: the CDR we have may be billed already.
        return store.insert_ocpi_received_once(&row).await.map_err(failed);
    }
    let stored = store
        .ocpi_received(partner.id, module, &row.party, &row.id)
        .await
        .map_err(failed)?;
    if stored
        .as_ref()
        .is_some_and(|s| s.last_updated > row.last_updated || s.data == row.data)
    {
        return Ok(false);
    }
    store.put_ocpi_received(&row).await.map_err(failed)?;
    Ok(true)
}

/// A partner's pulls as the operator sees them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncView {
    pub partner_id: i64,
    /// A pull is under way.
    pub running: bool,
    /// The last complete pull of each module.
    pub modules: Vec<ModuleView>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleView {
    pub module: String,
    /// `date_from` of the next incremental pull.
    pub date_from: DateTime<Utc>,
    pub synced_at: DateTime<Utc>,
    /// Objects the pull read.
    pub objects: i64,
    /// Of those, new or changed.
    pub stored: i64,
}

async fn partner(ocpi: &Ocpi, partner_id: i64) -> Result<Partner, OperatorError> {
    ocpi.ocpi_store()
        .ocpi_partner(partner_id)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("OCPI partner {partner_id}")))
}

pub async fn status(ocpi: &Ocpi, partner_id: i64) -> Result<SyncView, OperatorError> {
    partner(ocpi, partner_id).await?;
    let modules = ocpi
        .ocpi_store()
        .ocpi_sync_marks(partner_id)
        .await?
        .into_iter()
        .map(|m| ModuleView {
            module: m.module,
            date_from: m.date_from,
            synced_at: m.synced_at,
            objects: m.objects,
            stored: m.stored,
        })
        .collect();
    let running = ocpi
        .syncing()
        .lock()
        .expect("sync runs")
        .contains_key(&partner_id);
    Ok(SyncView {
        partner_id,
        running,
        modules,
    })
}

/// The operator asks for a pull now (one already running is left to finish).
pub async fn request(ocpi: &Ocpi, partner_id: i64, mode: Mode) -> Result<SyncView, OperatorError> {
    let p = partner(ocpi, partner_id).await?;
    if !pulls_from(ocpi, &p) {
        return Err(OperatorError::Invalid(format!(
            "partner {partner_id} is not a registered CPO of one of our eMSP parties: \
             there is nothing to pull from it"
        )));
    }
    start(ocpi, &p, mode);
    status(ocpi, partner_id).await
}
