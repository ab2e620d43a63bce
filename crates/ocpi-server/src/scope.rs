//! Party isolation: what a partner may see and touch.
//!
//! A partner is registered with some of *our* parties (`ocpi_partner_parties`, chosen by the
//! operator). Every Sender GET lists only objects of those parties, and an object of another
//! of our parties is answered exactly like one that does not exist (404 with 2003 / 2000), so
//! walking ids tells a partner nothing. `OCPI-to-*` narrows further to one party; `OCPI-from-*`
//! must name one of the partner's own roles. Sessions and CDRs are further limited to the
//! partner's own tokens (an eMSP sees the sessions of its drivers, not of another eMSP's).

use unicharge_ocpi::credentials::CredentialsRole;
use unicharge_ocpi::transport::{Routing, StatusCode};
use unicharge_ocpi::Version;
use unicharge_store::ocpi::{Partner, Party};

use crate::auth::Caller;
use crate::reply::Reply;

/// Our parties visible to this request.
pub fn visible_parties(caller: &Caller) -> Result<Vec<Party>, Reply> {
    let routing =
        Routing::from_headers(|name| caller.headers.get(name).and_then(|v| v.to_str().ok()))
            .map_err(|e| Reply::invalid(e.to_string()))?;
    if let Some(from) = &routing.from {
        let from = Party::new(&from.country_code, &from.party_id);
        if !partner_roles(&caller.partner)
            .iter()
            .any(|r| Party::new(&r.country_code, &r.party_id) == from)
        {
            return Err(Reply::invalid(format!(
                "OCPI-from {}/{} is not one of the roles you registered",
                from.country_code, from.party_id
            )));
        }
    }
    let mut parties = caller.partner.parties.clone();
    if let Some(to) = &routing.to {
        let to = Party::new(&to.country_code, &to.party_id);
        if !parties.contains(&to) {
            return Err(Reply::error(
                StatusCode::UNKNOWN_RECEIVER,
                format!(
                    "OCPI-to {}/{} is not a party you are registered with",
                    to.country_code, to.party_id
                ),
            ));
        }
        parties = vec![to];
    }
    Ok(parties)
}

/// The partner's own roles, from its credentials.
pub fn partner_roles(partner: &Partner) -> Vec<CredentialsRole> {
    serde_json::from_str(&partner.roles).unwrap_or_default()
}

/// Is (country_code, party_id) one of the partner's own roles?
pub fn is_partner_party(partner: &Partner, party: &Party) -> bool {
    partner_roles(partner)
        .iter()
        .any(|r| &Party::new(&r.country_code, &r.party_id) == party)
}

/// The version in the path: one we serve, else 404 with 3002.
pub fn version(text: &str) -> Result<Version, Reply> {
    let v: Version = text.parse().unwrap_or(Version::Other(text.to_string()));
    if Version::SUPPORTED.contains(&v) {
        Ok(v)
    } else {
        Err(Reply::not_found_object(
            StatusCode::UNSUPPORTED_VERSION,
            format!(
                "OCPI version {} is not served here; GET /ocpi/versions lists 2.3.0 and 2.2.1",
                crate::reply::bounded(text)
            ),
        ))
    }
}
