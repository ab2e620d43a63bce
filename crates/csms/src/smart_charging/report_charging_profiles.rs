//! K09 ReportChargingProfiles: every part is kept under the requestId the CSMS allocated
//! ([`super::get_charging_profiles`]) until the part with `tbc` false completes the report.

use chrono::Utc;
use unicharge_ocpp::v201::{ReportChargingProfilesRequest, ReportChargingProfilesResponse};
use unicharge_store::{ChargingProfileReportPart, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

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
    Ok(Handled::durable(
        ReportChargingProfilesResponse { custom_data: None },
        vec![Write::ChargingProfileReportPart(part)],
    ))
}
