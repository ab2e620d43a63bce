//! What a partner may reach, by the OCPI 2.2.1 roles (§16.4.4 `Role`) in its credentials
//! (ADR 0049, issue 12 B1.2–B1.4, B2.2, B2.3, B4.3, B7.3).
//!
//! A partner with a roaming role (CPO, EMSP, HUB) — or one whose roles we do not know yet —
//! keeps everything ADR 0033 gives it. A partner that is *only* a Navigation Service Provider
//! (NSP), National Access Point (NAP), data aggregator (OTHER) or Smart Charging Service
//! Provider (SCSP) gets the union of what its roles need:
//!
//! | role  | locations | tariffs            | sessions         | location energy | everything else |
//! |-------|-----------|--------------------|------------------|-----------------|-----------------|
//! | NSP   | GET, push | GET, push (ad hoc) | —                | —               | —               |
//! | NAP   | GET, push | GET, push (ad hoc) | —                | —               | —               |
//! | OTHER | GET, push | —                  | GET, push, pseudonymised | GET     | —               |
//! | SCSP  | GET, push | —                  | GET, push, pseudonymised | GET     | —               |
//!
//! Everything else (tokens, CDRs, commands, charging profiles, hub client info, charging
//! preferences, the other `x-unicharge-*` extensions) carries drivers' identities, money or control
//! of stations, which no business use case gives these roles. [`guard`] refuses them before
//! any handler runs (HTTP 403, OCPI 2000), so a module added later is closed to them until the
//! table says otherwise.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode as Http};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use unicharge_ocpi::tariffs::TariffType;
use unicharge_ocpi::tokens::{Token, TokenType, WhitelistType};
use unicharge_ocpi::transport::StatusCode;
use unicharge_ocpi::types::Role;
use unicharge_store::ocpi::{Partner, Party};

use crate::auth::{Caller, REGISTERED};
use crate::reply::Reply;
use crate::{scope, Ocpi};

/// Which sessions a partner reads and is pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFeed {
    None,
    /// The sessions its drivers' tokens ran (an eMSP, ADR 0033).
    OwnDrivers,
    /// Every session at the locations it may see, with the driver's token replaced by a keyed
    /// pseudonym (B4.3, B7.3).
    Pseudonymised,
}

/// A partner's access, from its roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// A CPO, eMSP or hub: every module, as before roles mattered.
    pub roaming: bool,
    pub locations: bool,
    pub tariffs: bool,
    pub sessions: SessionFeed,
}

impl Access {
    const ROAMING: Access = Access {
        roaming: true,
        locations: true,
        tariffs: true,
        sessions: SessionFeed::OwnDrivers,
    };
    const NOTHING: Access = Access {
        roaming: false,
        locations: false,
        tariffs: false,
        sessions: SessionFeed::None,
    };

    /// The access of one role.
    pub fn of_role(role: &Role) -> Access {
        match role {
            Role::Nsp | Role::Nap => Access {
                locations: true,
                tariffs: true,
                ..Access::NOTHING
            },
            Role::OtherRole | Role::Scsp => Access {
                locations: true,
                sessions: SessionFeed::Pseudonymised,
                ..Access::NOTHING
            },
            // CPO, EMSP, HUB, and roles a later OCPI version may add (treated as before).
            _ => Access::ROAMING,
        }
    }

    /// The union over the partner's roles; a partner without known roles is a roaming one.
    pub fn of(partner: &Partner) -> Access {
        let roles = scope::partner_roles(partner);
        if roles.is_empty() {
            return Access::ROAMING;
        }
        roles
            .iter()
            .map(|r| Access::of_role(&r.role))
            .fold(Access::NOTHING, |a, b| Access {
                roaming: a.roaming || b.roaming,
                locations: a.locations || b.locations,
                tariffs: a.tariffs || b.tariffs,
                sessions: match (a.sessions, b.sessions) {
                    (SessionFeed::OwnDrivers, _) | (_, SessionFeed::OwnDrivers) => {
                        SessionFeed::OwnDrivers
                    }
                    (SessionFeed::Pseudonymised, _) | (_, SessionFeed::Pseudonymised) => {
                        SessionFeed::Pseudonymised
                    }
                    _ => SessionFeed::None,
                },
            })
    }

    /// May the partner call `method` on our CPO module `module`? Non-roaming roles only read.
    pub fn allows(&self, module: &str, method: &Method) -> bool {
        if self.roaming {
            return true;
        }
        if method != Method::GET {
            return false;
        }
        match module {
            "locations" => self.locations,
            "tariffs" => self.tariffs,
            "sessions" => self.sessions != SessionFeed::None,
            // Energy per location (B7.4): for the roles trusted with session data.
            unicharge_ocpi::location_energy::MODULE_ID => self.sessions != SessionFeed::None,
            // Our public signing keys (B8.5): every role may check what we send it.
            unicharge_ocpi::signing::MODULE_ID => true,
            _ => false,
        }
    }

    /// Is the module pushed to the partner? (Receiver endpoints it publishes for other
    /// modules get nothing.)
    pub fn pushed(&self, module: &str) -> bool {
        self.roaming || self.allows(module, &Method::GET)
    }

    /// The type our tariffs carry for this partner: to an NSP / NAP the price an EV driver pays
    /// without a contract (B2.2, B2.3); the core tariff prices every session at the station,
    /// so it is that ad-hoc price too.
    pub fn tariff_type(&self) -> TariffType {
        if self.roaming {
            TariffType::Regular
        } else {
            TariffType::AdHocPayment
        }
    }

    /// Does the operator's per-location approval of data sharing (B1.5) decide what this
    /// partner gets of a location's sessions too? For third parties yes; an eMSP keeps
    /// receiving its own drivers' sessions wherever they charged (it bills them).
    pub fn sessions_follow_sharing(&self) -> bool {
        self.sessions == SessionFeed::Pseudonymised
    }
}

/// The CPO module a request path under `/ocpi` names (`/{version}/cpo/{module}/…`).
fn cpo_module(path: &str) -> Option<&str> {
    let mut segments = path.trim_start_matches('/').split('/');
    let _version = segments.next()?;
    (segments.next()? == "cpo").then_some(())?;
    segments.next()
}

/// Middleware on the OCPI routes: a registered partner calling a CPO module its roles do not
/// open is answered HTTP 403 with OCPI 2000 naming its roles and the module. Unauthenticated
/// calls pass through to the handler, which answers 401.
pub async fn guard(State(ocpi): State<Ocpi>, request: Request, next: Next) -> Response {
    let Some(module) = cpo_module(request.uri().path()).map(str::to_string) else {
        return next.run(request).await;
    };
    let method = request.method().clone();
    let (mut parts, body) = request.into_parts();
    let caller =
        <Caller as axum::extract::FromRequestParts<Ocpi>>::from_request_parts(&mut parts, &ocpi)
            .await;
    if let Ok(caller) = caller {
        let access = Access::of(&caller.partner);
        if caller.partner.status == REGISTERED && !access.allows(&module, &method) {
            let roles: Vec<String> = scope::partner_roles(&caller.partner)
                .iter()
                .map(|r| r.role.as_str().to_string())
                .collect();
            let mut reply = Reply::error(
                StatusCode::CLIENT_ERROR,
                format!(
                    "{method} {module} is not open to your role(s) {}: see our ADR 0049 \
                     (NSP / NAP read locations and tariffs, data aggregators and SCSPs read \
                     locations and pseudonymised sessions)",
                    roles.join(", ")
                ),
            );
            reply.http = Http::FORBIDDEN;
            return reply.into_response();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The token a pseudonymised session carries: uid and contract id replaced by a pseudonym
/// keyed per partner (two aggregators cannot join their data sets on it), no visual number,
/// no group; the eMSP's party and the token type stay (they name a company, not a person).
/// `uid` is None for a transaction without an idToken: its pseudonym is the session's own.
pub async fn pseudonymous_token(
    ocpi: &Ocpi,
    partner: &Partner,
    cpo: &Party,
    uid: Option<&str>,
    session_id: &str,
) -> Result<Token, Reply> {
    let mut owner: Option<Token> = None;
    if let Some(uid) = uid {
        let rows = ocpi
            .ocpi_store()
            .ocpi_tokens_by_uid(uid)
            .await
            .map_err(Reply::server_error)?;
        owner = rows
            .iter()
            .find_map(|r| serde_json::from_str::<Token>(&r.data).ok());
    }
    let input = match uid {
        Some(uid) => format!("token\n{uid}"),
        None => format!("session\n{session_id}"),
    };
    let digest = ocpi
        .sealer()
        .pseudonym(&format!("ocpi-partner-{}", partner.id), &input);
    let pseudonym = format!("PSN{}", hex::encode(&digest[..16]));
    Ok(Token {
        country_code: owner
            .as_ref()
            .map_or_else(|| cpo.country_code.clone(), |t| t.country_code.clone()),
        party_id: owner
            .as_ref()
            .map_or_else(|| cpo.party_id.clone(), |t| t.party_id.clone()),
        uid: pseudonym.clone(),
        kind: owner
            .as_ref()
            .map_or(TokenType::OtherToken, |t| t.kind.clone()),
        contract_id: pseudonym,
        visual_number: None,
        issuer: owner
            .as_ref()
            .map_or_else(|| "unknown".to_string(), |t| t.issuer.clone()),
        group_id: None,
        valid: true,
        whitelist: WhitelistType::Never,
        language: None,
        default_profile_type: None,
        energy_contract: None,
        last_updated: chrono::Utc::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_by_role() {
        let nsp = Access::of_role(&Role::Nsp);
        assert!(nsp.allows("locations", &Method::GET));
        assert!(nsp.allows("tariffs", &Method::GET));
        for m in ["sessions", "cdrs", "tokens", "commands", "chargingprofiles"] {
            assert!(!nsp.allows(m, &Method::GET), "{m}");
        }
        let agg = Access::of_role(&Role::OtherRole);
        assert!(agg.allows("sessions", &Method::GET));
        assert!(
            !agg.allows("sessions", &Method::PUT),
            "charging_preferences"
        );
        assert!(!agg.allows("tariffs", &Method::GET));
        assert_eq!(agg.sessions, SessionFeed::Pseudonymised);
        assert!(Access::of_role(&Role::Emsp).allows("commands", &Method::POST));
        assert_eq!(nsp.tariff_type(), TariffType::AdHocPayment);
        assert_eq!(Access::ROAMING.tariff_type(), TariffType::Regular);
    }

    #[test]
    fn module_from_path() {
        assert_eq!(cpo_module("/2.2.1/cpo/tokens/NL/X/1"), Some("tokens"));
        assert_eq!(cpo_module("/2.2.1/cpo/locations"), Some("locations"));
        assert_eq!(cpo_module("/2.2.1/emsp/locations"), None);
        assert_eq!(cpo_module("/versions"), None);
    }
}
