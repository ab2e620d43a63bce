//! K09 ReportChargingProfiles: every part is kept under the requestId the CSMS allocated
//! ([`super::get_charging_profiles`]) until the part with `tbc` false completes the report;
//! a complete report of everything the station holds then reconciles the CSMS's copy
//! ([`reconcile`]).

use chrono::Utc;
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    ChargingLimitSourceEnumType, ChargingProfileType, GetChargingProfilesRequest,
    ReportChargingProfilesRequest, ReportChargingProfilesResponse,
};
use unicharge_store::{ChargingProfileReportPart, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};
use crate::effects::Effect;
use crate::request::OpError;
use crate::Csms;

pub async fn handle(
    ctx: &mut StationContext,
    req: ReportChargingProfilesRequest,
) -> Result<Handled<ReportChargingProfilesResponse>, CallRefusal> {
    let tbc = req.tbc.unwrap_or(false);
    tracing::debug!(station = %ctx.station_id, request_id = req.request_id, evse_id = req.evse_id,
        profiles = req.charging_profile.len(), tbc, "ReportChargingProfiles");
    let part = ChargingProfileReportPart {
        station_id: ctx.station_id.clone(),
        request_id: req.request_id,
        evse_id: req.evse_id,
        charging_limit_source: req.charging_limit_source.as_str().to_string(),
        tbc,
        profiles: serde_json::to_string(&req.charging_profile).map_err(internal)?,
        received_at: Utc::now(),
    };
    let request_id = req.request_id;
    let handled = Handled::durable(
        ReportChargingProfilesResponse { custom_data: None },
        vec![Write::ChargingProfileReportPart(part)],
    );
    // The last part: the CSMS's copy follows what the station reported.
    Ok(if tbc {
        handled
    } else {
        handled.with_effect(Effect::ReconcileChargingProfiles { request_id })
    })
}

/// Whether a GetChargingProfiles request asked for every profile the CSMS set (no criteria but
/// perhaps the EVSE and the CSO source): only then does its report say what the station holds.
fn asks_for_everything(request: &GetChargingProfilesRequest) -> bool {
    let c = &request.charging_profile;
    c.charging_profile_purpose.is_none()
        && c.stack_level.is_none()
        && c.charging_profile_id.as_ref().is_none_or(Vec::is_empty)
        && c.charging_limit_source
            .as_ref()
            .is_none_or(|sources| sources.contains(&ChargingLimitSourceEnumType::Cso))
}

/// K09 reconciliation: once a complete report of everything the station holds arrives (or the
/// station answered NoProfiles), the CSMS's copy follows the station. Profiles the CSMS
/// believed accepted (before the request) that the station did not report are marked cleared;
/// profiles the station reported that the CSMS did not know are kept as `Accepted` with
/// statusInfo `reportedByStation`. Profiles from other sources (EMS, SO) are external limits,
/// kept apart (K12), and not reconciled here.
pub async fn reconcile(csms: &Csms, station: &StationId, request_id: i64) -> Result<(), OpError> {
    let store = csms.store();
    let Some((report, parts)) = store.charging_profile_report(station, request_id).await? else {
        return Ok(());
    };
    let Ok(request) = serde_json::from_str::<GetChargingProfilesRequest>(&report.request) else {
        return Ok(());
    };
    if !report.complete || !asks_for_everything(&request) {
        return Ok(());
    }
    let mut reported: Vec<(i64, ChargingProfileType)> = Vec::new();
    for part in parts
        .iter()
        .filter(|p| p.charging_limit_source == ChargingLimitSourceEnumType::Cso.as_str())
    {
        let profiles: Vec<ChargingProfileType> =
            serde_json::from_str(&part.profiles).map_err(|e| OpError::Store(e.to_string()))?;
        reported.extend(profiles.into_iter().map(|p| (part.evse_id, p)));
    }
    let held = store.charging_profiles(station).await?;
    let in_scope = |evse_id: i64| request.evse_id.is_none_or(|e| e == evse_id);
    let gone: Vec<i64> = held
        .iter()
        .filter(|r| {
            r.cleared_at.is_none()
                && r.status == "Accepted"
                && r.sent_at < report.requested_at
                && in_scope(r.evse_id)
                && !reported.iter().any(|(_, p)| p.id == r.profile_id)
        })
        .map(|r| r.profile_id)
        .collect();
    if !gone.is_empty() {
        tracing::warn!(station = %station, request_id, profiles = ?gone,
            "the station no longer holds these charging profiles; marked cleared");
        store
            .clear_charging_profiles(station, &gone, Utc::now())
            .await?;
    }
    for (evse_id, profile) in reported {
        if held.iter().any(|r| r.profile_id == profile.id) {
            continue;
        }
        tracing::warn!(station = %station, request_id, profile_id = profile.id, evse_id,
            "the station holds a charging profile the CSMS did not know; kept");
        let mut record = super::record(station, evse_id, &profile)?;
        record.status = "Accepted".into();
        record.status_info = Some(r#"{"reasonCode":"reportedByStation"}"#.into());
        record.answered_at = Some(Utc::now());
        store.put_charging_profile(&record).await?;
    }
    Ok(())
}
