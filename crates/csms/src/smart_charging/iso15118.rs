//! ISO 15118 smart charging, CSMS side: K15 NotifyEVChargingNeeds (the CSMS plans a TxProfile
//! from the EV's needs and the station's limits, answers Accepted and sends it after the
//! answer) and K17 NotifyEVChargingSchedule (the schedule the EV chose must stay within the
//! profile the CSMS sent: Accepted, or Rejected so the station renegotiates).

use chrono::{DateTime, Utc};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use unicharge_core::smart_charging::{self as calc, Context, Kind, Profile, Purpose, Supply, Unit};
use unicharge_ocpp::v201::{
    ChargingNeedsType, ChargingProfileKindEnumType, ChargingProfilePurposeEnumType,
    ChargingProfileType, ChargingRateUnitEnumType, ChargingSchedulePeriodType,
    ChargingScheduleType, EnergyTransferModeEnumType, GenericStatusEnumType,
    NotifyEvChargingNeedsRequest, NotifyEvChargingNeedsResponse,
    NotifyEvChargingNeedsStatusEnumType, NotifyEvChargingScheduleRequest,
    NotifyEvChargingScheduleResponse, StatusInfoType,
};
use unicharge_store::ChargingProfileRecord;

use super::composite::{applicable, to_core};
use super::validation::held;
use super::ProfileRequest;
use crate::dispatch::{internal, CallRefusal, Handled, StationContext};
use crate::effects::Effect;

fn status_info(reason: &str, detail: String) -> Option<StatusInfoType> {
    Some(StatusInfoType {
        custom_data: None,
        reason_code: reason.to_string(),
        additional_info: Some(detail.chars().take(512).collect()),
    })
}

/// The profile planned for the EV's needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub profile: ChargingProfileType,
}

/// Plan a TxProfile: charge at the highest rate the EV and the station allow, lowered (not
/// below the EV's minimum) so the requested energy arrives just by the departure time when
/// there is one; the schedule lasts until the energy is delivered at that rate.
pub fn plan(
    needs: &ChargingNeedsType,
    transaction_id: &str,
    profile_id: i64,
    station_cap: impl Fn(Unit) -> Option<f64>,
    supply: Supply,
    now: DateTime<Utc>,
) -> Result<ChargingProfileType, String> {
    let phases: u8 = match needs.requested_energy_transfer {
        EnergyTransferModeEnumType::AcSinglePhase => 1,
        EnergyTransferModeEnumType::AcTwoPhase => 2,
        EnergyTransferModeEnumType::AcThreePhase => 3,
        _ => 0,
    };
    let (unit, max, min, energy_wh, watts_per_unit) = if phases > 0 {
        let ac = needs
            .ac_charging_parameters
            .as_ref()
            .ok_or("AC transfer requested without acChargingParameters")?;
        (
            Unit::A,
            ac.ev_max_current as f64,
            ac.ev_min_current as f64,
            ac.energy_amount as f64,
            supply.voltage * f64::from(phases),
        )
    } else {
        let dc = needs
            .dc_charging_parameters
            .as_ref()
            .ok_or("DC transfer requested without dcChargingParameters")?;
        let max_w = dc
            .ev_max_power
            .map(|p| p as f64)
            .unwrap_or((dc.ev_max_current * dc.ev_max_voltage) as f64);
        (
            Unit::W,
            max_w,
            0.0,
            dc.energy_amount.unwrap_or(0) as f64,
            1.0,
        )
    };
    let cap = station_cap(unit).map_or(max, |c| c.min(max));
    if cap <= 0.0 {
        return Err(format!(
            "the station's limits leave nothing for the EV (cap {cap})"
        ));
    }
    let mut rate = cap;
    if let Some(departure) = needs.departure_time {
        let seconds = (departure - now).num_seconds();
        if seconds > 0 && energy_wh > 0.0 {
            let needed = energy_wh * 3600.0 / (seconds as f64 * watts_per_unit);
            rate = needed.max(min).min(cap);
        }
    }
    // One decimal, as the schema allows; rounded up so the energy still arrives in time.
    let rate = ((rate * 10.0).ceil() / 10.0).min(cap.max(0.1));
    let duration = if energy_wh > 0.0 {
        Some((energy_wh * 3600.0 / (rate * watts_per_unit)).ceil() as i64)
    } else {
        None
    };
    Ok(ChargingProfileType {
        custom_data: None,
        id: profile_id,
        stack_level: 0,
        charging_profile_purpose: ChargingProfilePurposeEnumType::TxProfile,
        charging_profile_kind: ChargingProfileKindEnumType::Absolute,
        recurrency_kind: None,
        valid_from: None,
        valid_to: None,
        charging_schedule: vec![ChargingScheduleType {
            custom_data: None,
            id: 1,
            start_schedule: Some(now),
            duration,
            charging_rate_unit: match unit {
                Unit::A => ChargingRateUnitEnumType::A,
                Unit::W => ChargingRateUnitEnumType::W,
            },
            charging_schedule_period: vec![ChargingSchedulePeriodType {
                custom_data: None,
                start_period: 0,
                limit: Decimal::from_f64(rate).unwrap_or_default().round_dp(1),
                number_phases: (phases > 0).then_some(i64::from(phases)),
                phase_to_use: None,
            }],
            min_charging_rate: None,
            sales_tariff: None,
        }],
        transaction_id: Some(transaction_id.to_string()),
    })
}

/// The ongoing transaction on `evse_id`: its id and start.
async fn ongoing(
    ctx: &StationContext,
    evse_id: i64,
) -> Result<Option<(String, DateTime<Utc>)>, CallRefusal> {
    Ok(
        crate::transactions::ongoing(ctx.store.as_ref(), &ctx.station_id)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|t| t.evse_id == Some(evse_id))
            .map(|t| (t.transaction_id, t.started_at)),
    )
}

/// K15: plan a TxProfile for the EV's needs; Accepted, and the profile follows the answer.
pub async fn notify_ev_charging_needs(
    ctx: &mut StationContext,
    req: NotifyEvChargingNeedsRequest,
) -> Result<Handled<NotifyEvChargingNeedsResponse>, CallRefusal> {
    let answer = |status, info| NotifyEvChargingNeedsResponse {
        custom_data: None,
        status,
        status_info: info,
    };
    let Some((transaction_id, started)) = ongoing(ctx, req.evse_id).await? else {
        return Ok(Handled::pure(answer(
            NotifyEvChargingNeedsStatusEnumType::Rejected,
            status_info(
                "NoTransaction",
                format!("no transaction is ongoing on EVSE {}", req.evse_id),
            ),
        )));
    };
    let records = ctx
        .store
        .charging_profiles(&ctx.station_id)
        .await
        .map_err(internal)?;
    let now = Utc::now();
    // The station-side limits (everything but TxProfiles, which the new one replaces).
    let limits: Vec<Profile> = applicable(&records, req.evse_id, Some(&transaction_id))
        .into_iter()
        .filter(|p| p.purpose != Purpose::TxProfile)
        .collect();
    let supply = Supply {
        voltage: ctx.csms.config().supply_voltage,
    };
    let cap = |unit| {
        calc::limit_at(
            &limits,
            now,
            &Context {
                transaction_start: Some(started),
                unit,
                supply,
            },
        )
    };
    let profile_id = records.iter().map(|r| r.profile_id).max().unwrap_or(0) + 1;
    match plan(
        &req.charging_needs,
        &transaction_id,
        profile_id,
        cap,
        supply,
        now,
    ) {
        Ok(profile) => {
            tracing::info!(station = %ctx.station_id, evse_id = req.evse_id, profile_id,
                transaction = %transaction_id, "EV charging needs: TxProfile planned");
            Ok(Handled::durable(
                answer(NotifyEvChargingNeedsStatusEnumType::Accepted, None),
                Vec::new(),
            )
            .with_effect(Effect::SetChargingProfile(Box::new(ProfileRequest {
                evse_id: req.evse_id,
                profile,
                allow_without_transaction: false,
            }))))
        }
        Err(why) => Ok(Handled::pure(answer(
            NotifyEvChargingNeedsStatusEnumType::Rejected,
            status_info("NoChargingProfile", why),
        ))),
    }
}

/// The TxProfile the CSMS holds for the EVSE's ongoing transaction (the newest).
fn sent_profile(records: &[ChargingProfileRecord], evse_id: i64) -> Option<ChargingProfileType> {
    records
        .iter()
        // Held: answered Accepted, or just sent (the EV's schedule may overtake the CSMS
        // recording the station's answer).
        .filter(|r| r.evse_id == evse_id && r.purpose == "TxProfile" && held(r))
        .max_by_key(|r| r.sent_at)
        .and_then(|r| serde_json::from_str(&r.profile).ok())
}

/// Whether the EV's schedule stays within `sent` at every moment it covers.
pub fn within(
    ev: &ChargingScheduleType,
    time_base: DateTime<Utc>,
    sent: &ChargingProfileType,
    supply: Supply,
) -> bool {
    let (Some(sent), Some(mut ev_profile)) = (
        to_core(sent),
        to_core(&ChargingProfileType {
            custom_data: None,
            id: 0,
            stack_level: 0,
            charging_profile_purpose: ChargingProfilePurposeEnumType::TxProfile,
            charging_profile_kind: ChargingProfileKindEnumType::Absolute,
            recurrency_kind: None,
            valid_from: None,
            valid_to: None,
            charging_schedule: vec![ev.clone()],
            transaction_id: None,
        }),
    ) else {
        return false;
    };
    ev_profile.kind = Kind::Absolute;
    ev_profile.schedule.start = Some(ev.start_schedule.unwrap_or(time_base));
    let ctx = Context {
        transaction_start: Some(time_base),
        unit: ev_profile.schedule.unit,
        supply,
    };
    let duration = ev.duration.unwrap_or(24 * 3600);
    let start = ev_profile.schedule.start.unwrap_or(time_base);
    let ev_side = calc::composite(std::slice::from_ref(&ev_profile), start, duration, &ctx);
    let sent_side = calc::composite(std::slice::from_ref(&sent), start, duration, &ctx);
    // Check at every moment either side changes.
    let mut moments: Vec<i64> = ev_side.iter().chain(&sent_side).map(|p| p.start).collect();
    moments.sort();
    moments.dedup();
    let at = |periods: &[calc::CompositePeriod], s: i64| {
        periods
            .iter()
            .rev()
            .find(|p| p.start <= s)
            .and_then(|p| p.limit)
    };
    moments
        .into_iter()
        .all(|s| match (at(&ev_side, s), at(&sent_side, s)) {
            (Some(ev), Some(allowed)) => ev <= allowed + 1e-6,
            _ => true,
        })
}

/// K17: the EV's schedule must stay within the TxProfile sent for the EVSE.
pub async fn notify_ev_charging_schedule(
    ctx: &mut StationContext,
    req: NotifyEvChargingScheduleRequest,
) -> Result<Handled<NotifyEvChargingScheduleResponse>, CallRefusal> {
    let records = ctx
        .store
        .charging_profiles(&ctx.station_id)
        .await
        .map_err(internal)?;
    let mut renegotiate = None;
    let (status, info) = match sent_profile(&records, req.evse_id) {
        None => (
            GenericStatusEnumType::Rejected,
            status_info(
                "NoChargingProfile",
                format!("the CSMS sent no TxProfile for EVSE {}", req.evse_id),
            ),
        ),
        Some(sent)
            if within(
                &req.charging_schedule,
                req.time_base,
                &sent,
                Supply {
                    voltage: ctx.csms.config().supply_voltage,
                },
            ) =>
        {
            (GenericStatusEnumType::Accepted, None)
        }
        Some(sent) => {
            let info = status_info(
                "ExceedsProfile",
                format!(
                    "the EV's schedule exceeds TxProfile {} somewhere; renegotiate",
                    sent.id
                ),
            );
            // K17: sending the TxProfile again makes the station renegotiate with the EV,
            // which answers with a new schedule (a new NotifyEVChargingSchedule).
            renegotiate = Some(ProfileRequest {
                evse_id: req.evse_id,
                profile: sent,
                allow_without_transaction: false,
            });
            (GenericStatusEnumType::Rejected, info)
        }
    };
    tracing::info!(station = %ctx.station_id, evse_id = req.evse_id, status = status.as_str(),
        "EV charging schedule checked");
    let handled = Handled::pure(NotifyEvChargingScheduleResponse {
        custom_data: None,
        status,
        status_info: info,
    });
    Ok(match renegotiate {
        Some(request) => handled.with_effect(Effect::SetChargingProfile(Box::new(request))),
        None => handled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn needs(v: serde_json::Value) -> ChargingNeedsType {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn ac_needs_give_the_ev_maximum_capped_by_the_station() {
        let n = needs(json!({"requestedEnergyTransfer": "AC_three_phase",
            "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6,
                "evMaxCurrent": 32, "evMaxVoltage": 400}}));
        let now = Utc::now();
        let p = plan(&n, "tx", 7, |_| Some(16.0), Supply::default(), now).unwrap();
        let s = &p.charging_schedule[0];
        assert_eq!(s.charging_schedule_period[0].limit, Decimal::from(16));
        // 20 kWh at 16 A × 230 V × 3 = 11.04 kW: 6522 s.
        assert_eq!(s.duration, Some(6522));
        assert_eq!(p.transaction_id.as_deref(), Some("tx"));
        let uncapped = plan(&n, "tx", 7, |_| None, Supply::default(), now).unwrap();
        assert_eq!(
            uncapped.charging_schedule[0].charging_schedule_period[0].limit,
            Decimal::from(32)
        );
    }

    #[test]
    fn a_late_departure_lowers_the_rate_but_not_below_the_ev_minimum() {
        let now = Utc::now();
        let departure = now + chrono::Duration::hours(10);
        let n = needs(json!({"requestedEnergyTransfer": "AC_three_phase",
            "departureTime": departure.to_rfc3339(),
            "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6,
                "evMaxCurrent": 32, "evMaxVoltage": 400}}));
        let p = plan(&n, "tx", 1, |_| None, Supply::default(), now).unwrap();
        // 20 kWh in 10 h = 2 kW = 2.9 A at 690 V: the EV's minimum 6 A applies.
        assert_eq!(
            p.charging_schedule[0].charging_schedule_period[0].limit,
            Decimal::from(6)
        );
        let near = needs(json!({"requestedEnergyTransfer": "AC_three_phase",
            "departureTime": (now + chrono::Duration::hours(2)).to_rfc3339(),
            "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6,
                "evMaxCurrent": 32, "evMaxVoltage": 400}}));
        let p = plan(&near, "tx", 1, |_| None, Supply::default(), now).unwrap();
        // 10 kW / 690 V = 14.49 A, rounded up to 14.5.
        assert_eq!(
            p.charging_schedule[0].charging_schedule_period[0].limit,
            Decimal::new(145, 1)
        );
    }

    #[test]
    fn an_ev_schedule_above_the_profile_is_not_within() {
        let now = Utc::now();
        let n = needs(json!({"requestedEnergyTransfer": "AC_three_phase",
            "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6,
                "evMaxCurrent": 32, "evMaxVoltage": 400}}));
        let sent = plan(&n, "tx", 1, |_| Some(16.0), Supply::default(), now).unwrap();
        let mut ev = sent.charging_schedule[0].clone();
        assert!(within(&ev, now, &sent, Supply::default()));
        ev.charging_schedule_period[0].limit = Decimal::from(20);
        assert!(!within(&ev, now, &sent, Supply::default()));
    }
}
