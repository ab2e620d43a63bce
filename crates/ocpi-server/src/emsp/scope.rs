//! Who may push what to our eMSP Receiver endpoints.
//!
//! The caller must be registered with at least one of our eMSP parties (after `OCPI-to`
//! narrowing, see [`crate::scope::visible_parties`]); the `country_code` / `party_id` of the
//! URL (or of a POSTed CDR) must be one of the caller's own CPO roles from its credentials.
//! Anything else is 2001: the parameters name a party the caller does not speak for.

use unicharge_ocpi::types::Role;
use unicharge_store::ocpi::Party;

use crate::auth::Caller;
use crate::reply::{bounded, Reply};
use crate::{scope, Ocpi};

/// The CPO party `country_code` / `party_id` on whose behalf the caller pushes.
pub fn cpo_party(
    ocpi: &Ocpi,
    caller: &Caller,
    country_code: &str,
    party_id: &str,
) -> Result<Party, Reply> {
    let ours = scope::visible_parties(caller)?;
    if !ours
        .iter()
        .any(|p| ocpi.settings().role_of(p) == Some(Role::Emsp))
    {
        return Err(Reply::invalid(
            "you are not registered with an eMSP party of this platform: \
             its Receiver endpoints are not yours to push to",
        ));
    }
    let party = Party::new(country_code, party_id);
    let is_cpo_role = scope::partner_roles(&caller.partner)
        .iter()
        .any(|r| Party::new(&r.country_code, &r.party_id) == party && matches!(r.role, Role::Cpo));
    if !is_cpo_role {
        return Err(Reply::invalid(format!(
            "{}/{} is not a CPO role of your credentials",
            bounded(country_code),
            bounded(party_id)
        )));
    }
    Ok(party)
}

/// The object's own `country_code` / `party_id` / id must be those of the URL.
pub fn same_object(
    party: &Party,
    id: &str,
    body_cc: &str,
    body_pid: &str,
    body_id: &str,
) -> Result<(), Reply> {
    if &Party::new(body_cc, body_pid) != party || body_id != id {
        return Err(Reply::invalid(
            "the object's country_code, party_id and id must be those of the URL",
        ));
    }
    Ok(())
}
