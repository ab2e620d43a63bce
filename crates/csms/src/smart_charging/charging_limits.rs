//! K12 NotifyChargingLimit and K13 ClearedChargingLimit: limits an external system (an EMS, a
//! grid operator) imposed at the station, kept per EVSE (0: the whole station) with their
//! source, so operators and load management see what the station is held to.

use chrono::Utc;
use unicharge_ocpp::v201::{
    ClearedChargingLimitRequest, ClearedChargingLimitResponse, NotifyChargingLimitRequest,
    NotifyChargingLimitResponse,
};
use unicharge_store::{ChargingLimitRecord, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

/// K12: the station reports an external limit (with its schedules, if any).
pub async fn notify(
    ctx: &mut StationContext,
    req: NotifyChargingLimitRequest,
) -> Result<Handled<NotifyChargingLimitResponse>, CallRefusal> {
    let source = req.charging_limit.charging_limit_source.as_str();
    tracing::info!(station = %ctx.station_id, evse_id = req.evse_id, source,
        grid_critical = req.charging_limit.is_grid_critical, "external charging limit set");
    let schedules = req
        .charging_schedule
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(internal)?;
    let record = ChargingLimitRecord {
        station_id: ctx.station_id.clone(),
        evse_id: req.evse_id.unwrap_or(0),
        source: source.to_string(),
        is_grid_critical: req.charging_limit.is_grid_critical,
        schedules,
        notified_at: Utc::now(),
        cleared_at: None,
    };
    Ok(Handled::durable(
        NotifyChargingLimitResponse { custom_data: None },
        vec![Write::ChargingLimit(record)],
    ))
}

/// K13: the external system released its limit (on one EVSE, or everywhere).
pub async fn cleared(
    ctx: &mut StationContext,
    req: ClearedChargingLimitRequest,
) -> Result<Handled<ClearedChargingLimitResponse>, CallRefusal> {
    let source = req.charging_limit_source.as_str();
    tracing::info!(station = %ctx.station_id, evse_id = req.evse_id, source,
        "external charging limit released");
    Ok(Handled::durable(
        ClearedChargingLimitResponse { custom_data: None },
        vec![Write::ChargingLimitCleared {
            station_id: ctx.station_id.clone(),
            evse_id: req.evse_id,
            source: source.to_string(),
            at: Utc::now(),
        }],
    ))
}
