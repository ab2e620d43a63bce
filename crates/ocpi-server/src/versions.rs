//! Versions module: `GET /ocpi/versions` and the version details `GET /ocpi/{version}`.
//! Any valid token opens them, token A included (the partner needs them to register).

use axum::extract::{Path, State};
use unicharge_ocpi::cdr_verdicts::MODULE_ID as CDR_VERDICTS;
use unicharge_ocpi::driver_messages::MODULE_ID;
use unicharge_ocpi::gdpr::MODULE_ID as GDPR;
use unicharge_ocpi::location_energy::MODULE_ID as LOCATION_ENERGY;
use unicharge_ocpi::session_limits::MODULE_ID as SESSION_LIMITS;
use unicharge_ocpi::signing::MODULE_ID as SIGNING;
use unicharge_ocpi::types::Role;
use unicharge_ocpi::versions::{Endpoint, InterfaceRole, ModuleId, VersionDetails, VersionInfo};
use unicharge_ocpi::Version;

use crate::auth::Caller;
use crate::reply::{Answer, Reply};
use crate::scope;
use crate::Ocpi;

pub async fn versions(State(ocpi): State<Ocpi>, _caller: Caller) -> Answer {
    let list: Vec<VersionInfo> = Version::SUPPORTED
        .iter()
        .map(|v| VersionInfo {
            version: v.clone(),
            url: format!("{}/{}", ocpi.base_url(), v.as_str()),
        })
        .collect();
    Ok(Reply::ok(&list))
}

/// The modules and roles we serve in `version`.
pub fn endpoints(ocpi: &Ocpi, version: &Version) -> Vec<Endpoint> {
    let base = format!("{}/{}", ocpi.base_url(), version.as_str());
    let e = |id: ModuleId, role: InterfaceRole, path: &str| Endpoint {
        identifier: id,
        role,
        url: format!("{base}/{path}"),
    };
    let mut out = vec![
        e(ModuleId::Credentials, InterfaceRole::Sender, "credentials"),
        e(
            ModuleId::Credentials,
            InterfaceRole::Receiver,
            "credentials",
        ),
    ];
    let settings = ocpi.settings();
    if !settings.parties_with_role(&Role::Cpo).is_empty() {
        out.extend([
            e(ModuleId::Locations, InterfaceRole::Sender, "cpo/locations"),
            e(ModuleId::Sessions, InterfaceRole::Sender, "cpo/sessions"),
            e(ModuleId::Cdrs, InterfaceRole::Sender, "cpo/cdrs"),
            e(ModuleId::Tariffs, InterfaceRole::Sender, "cpo/tariffs"),
            e(ModuleId::Commands, InterfaceRole::Receiver, "cpo/commands"),
            e(
                ModuleId::ChargingProfiles,
                InterfaceRole::Receiver,
                "cpo/chargingprofiles",
            ),
            e(ModuleId::Tokens, InterfaceRole::Receiver, "cpo/tokens"),
            e(
                ModuleId::HubClientInfo,
                InterfaceRole::Receiver,
                "cpo/hubclientinfo",
            ),
            // Extension (B4.4): messages for the driver at the EVSE.
            e(
                ModuleId::Other(MODULE_ID.into()),
                InterfaceRole::Receiver,
                &format!("cpo/{MODULE_ID}"),
            ),
            // Extension (B3.4): GDPR access and erasure for a driver's token.
            e(
                ModuleId::Other(GDPR.into()),
                InterfaceRole::Receiver,
                &format!("cpo/{GDPR}"),
            ),
            // Extension (B5.2): the MSP accepts or disputes a CDR.
            e(
                ModuleId::Other(CDR_VERDICTS.into()),
                InterfaceRole::Receiver,
                &format!("cpo/{CDR_VERDICTS}"),
            ),
            // Extension (B7.4): energy per location and interval, for grid operators.
            e(
                ModuleId::Other(LOCATION_ENERGY.into()),
                InterfaceRole::Sender,
                &format!("cpo/{LOCATION_ENERGY}"),
            ),
            // Extension (B4.2, B2.4): the MSP's limits on a session, its driver's tariff.
            e(
                ModuleId::Other(SESSION_LIMITS.into()),
                InterfaceRole::Receiver,
                &format!("cpo/{SESSION_LIMITS}"),
            ),
        ]);
    }
    // The eMSP role (ADR 0039): Receivers of what CPOs push, the Commands Sender (where
    // CommandResults arrive) and the Tokens Sender.
    if !settings.parties_with_role(&Role::Emsp).is_empty() {
        out.extend([
            e(
                ModuleId::Locations,
                InterfaceRole::Receiver,
                "emsp/locations",
            ),
            e(ModuleId::Tariffs, InterfaceRole::Receiver, "emsp/tariffs"),
            e(ModuleId::Sessions, InterfaceRole::Receiver, "emsp/sessions"),
            e(ModuleId::Cdrs, InterfaceRole::Receiver, "emsp/cdrs"),
            e(ModuleId::Commands, InterfaceRole::Sender, "emsp/commands"),
            e(
                ModuleId::ChargingProfiles,
                InterfaceRole::Sender,
                "emsp/chargingprofiles",
            ),
            e(ModuleId::Tokens, InterfaceRole::Sender, "emsp/tokens"),
            // Extension (B4.5): a CPO's messages for our drivers.
            e(
                ModuleId::Other(MODULE_ID.into()),
                InterfaceRole::Receiver,
                &format!("emsp/{MODULE_ID}"),
            ),
        ]);
    }
    // Extension (B8.5): our public signing keys; publishing it tells the partner we sign what
    // we send and check what it signs. Once, under the first role we have.
    let side = if settings.parties_with_role(&Role::Cpo).is_empty() {
        "emsp"
    } else {
        "cpo"
    };
    out.push(e(
        ModuleId::Other(SIGNING.into()),
        InterfaceRole::Sender,
        &format!("{side}/{SIGNING}"),
    ));
    out
}

pub async fn details(
    State(ocpi): State<Ocpi>,
    caller: Caller,
    Path(version): Path<String>,
) -> Answer {
    let version = scope::version(&version)?;
    let mut endpoints = endpoints(&ocpi, &version);
    // A registered partner of a role beyond CPO / eMSP is shown what its roles open (ADR
    // 0049); with token A its roles are not known yet, so it sees every module.
    let access = crate::access::Access::of(&caller.partner);
    if caller.partner.status == crate::auth::REGISTERED && !access.roaming {
        let cpo = format!("{}/{}/cpo/", ocpi.base_url(), version.as_str());
        endpoints.retain(|e| {
            e.identifier == ModuleId::Credentials
                || (e.url.starts_with(&cpo)
                    && access.allows(e.identifier.as_str(), &axum::http::Method::GET))
        });
    }
    Ok(Reply::ok(&VersionDetails { endpoints, version }))
}
