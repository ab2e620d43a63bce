//! The CSMS's own view of what an EVSE may draw: the profiles it holds (its stored copy),
//! turned into the core calculator's terms ([`unicharge_core::smart_charging`]).

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use unicharge_core::smart_charging::{
    self as calc, CompositePeriod, Context, Kind, Period, Profile, Purpose, Recurrency, Schedule,
    Supply, Unit,
};
use unicharge_ocpp::v201::{
    ChargingProfileKindEnumType, ChargingProfilePurposeEnumType, ChargingProfileType,
    ChargingRateUnitEnumType, ChargingScheduleType, RecurrencyKindEnumType,
};
use unicharge_store::ChargingProfileRecord;

use super::validation::held;

pub fn unit(u: ChargingRateUnitEnumType) -> Unit {
    match u {
        ChargingRateUnitEnumType::A => Unit::A,
        ChargingRateUnitEnumType::W => Unit::W,
    }
}

fn schedule(s: &ChargingScheduleType) -> Schedule {
    Schedule {
        start: s.start_schedule,
        duration: s.duration,
        unit: unit(s.charging_rate_unit),
        periods: s
            .charging_schedule_period
            .iter()
            .map(|p| Period {
                start: p.start_period,
                limit: p.limit.to_f64().unwrap_or(0.0),
                number_phases: p.number_phases.and_then(|n| u8::try_from(n).ok()),
            })
            .collect(),
    }
}

/// The calculator's view of an OCPP profile (its first schedule; the others are ISO 15118
/// alternatives the EV chooses from).
pub fn to_core(p: &ChargingProfileType) -> Option<Profile> {
    use ChargingProfilePurposeEnumType as P;
    Some(Profile {
        id: p.id,
        stack_level: p.stack_level,
        purpose: match p.charging_profile_purpose {
            P::ChargingStationMaxProfile => Purpose::ChargingStationMaxProfile,
            P::TxDefaultProfile => Purpose::TxDefaultProfile,
            P::TxProfile => Purpose::TxProfile,
            P::ChargingStationExternalConstraints => Purpose::ChargingStationExternalConstraints,
        },
        kind: match (p.charging_profile_kind, p.recurrency_kind) {
            (ChargingProfileKindEnumType::Absolute, _) => Kind::Absolute,
            (ChargingProfileKindEnumType::Relative, _) => Kind::Relative,
            (ChargingProfileKindEnumType::Recurring, Some(RecurrencyKindEnumType::Weekly)) => {
                Kind::Recurring(Recurrency::Weekly)
            }
            (ChargingProfileKindEnumType::Recurring, _) => Kind::Recurring(Recurrency::Daily),
        },
        valid_from: p.valid_from,
        valid_to: p.valid_to,
        schedule: schedule(p.charging_schedule.first()?),
    })
}

/// The held profiles that apply to `evse_id` (its own and the station-wide ones), for the
/// transaction `transaction_id` if given (other transactions' TxProfiles do not apply).
pub fn applicable(
    records: &[ChargingProfileRecord],
    evse_id: i64,
    transaction_id: Option<&str>,
) -> Vec<Profile> {
    records
        .iter()
        .filter(|r| held(r) && (r.evse_id == evse_id || r.evse_id == 0))
        .filter(|r| {
            r.purpose != "TxProfile"
                || r.transaction_id.is_none()
                || r.transaction_id.as_deref() == transaction_id
        })
        .filter_map(|r| serde_json::from_str::<ChargingProfileType>(&r.profile).ok())
        .filter_map(|p| to_core(&p))
        .collect()
}

/// What the EVSE may draw for `duration` seconds from `start`, by the CSMS's copy.
pub fn evse_composite(
    records: &[ChargingProfileRecord],
    evse_id: i64,
    transaction: Option<(&str, DateTime<Utc>)>,
    start: DateTime<Utc>,
    duration: i64,
    unit: Unit,
    supply: Supply,
) -> Vec<CompositePeriod> {
    let profiles = applicable(records, evse_id, transaction.map(|t| t.0));
    let ctx = Context {
        transaction_start: transaction.map(|t| t.1),
        unit,
        supply,
    };
    calc::composite(&profiles, start, duration, &ctx)
}
