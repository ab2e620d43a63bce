//! OCPI ChargingProfile ↔ OCPP 2.0.1: the profile a partner PUTs becomes the TxProfile of its
//! session's transaction; the station's composite schedule becomes the ActiveChargingProfile.
//! Limits are exact decimals on both sides and pass unchanged, in the unit the profile names.

use sha2::{Digest, Sha256};
use unicharge_ocpi::charging_profiles::{
    ActiveChargingProfile, ChargingProfile, ChargingProfilePeriod, ChargingRateUnit,
};
use unicharge_ocpp::v201::{
    ChargingProfileKindEnumType, ChargingProfilePurposeEnumType, ChargingProfileType,
    ChargingRateUnitEnumType, ChargingSchedulePeriodType, ChargingScheduleType,
    CompositeScheduleType,
};

use crate::reply::{self, Reply};

/// Profile ids of roaming TxProfiles: `ROAMING_PROFILE_ID_BASE` + a hash of the session, so a
/// second PUT for the same session replaces the first at the station (same id) and a DELETE
/// clears exactly it. Kept apart from operator ids (small) and site load ids (1 900 000 000+).
pub const ROAMING_PROFILE_ID_BASE: i64 = 1_800_000_000;

/// Stack level of roaming TxProfiles: the lowest. Among TxProfiles the highest stack level
/// prevails, so the operator's own (site load management, manual) at level 1 and above keep
/// overriding a partner's wish, and a site group at level 0 on the same transaction makes the
/// K01 rule refuse the partner's profile (REJECTED) rather than lift the site's limit. Any
/// TxProfile still prevails over TxDefaultProfiles.
pub const ROAMING_STACK_LEVEL: i64 = 0;

/// The TxProfile id for a session.
pub fn profile_id(session_id: &str) -> i64 {
    let digest = Sha256::digest(format!("ocpi-charging-profile\n{session_id}"));
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    ROAMING_PROFILE_ID_BASE + i64::from(n % 100_000_000)
}

fn ocpp_unit(unit: &ChargingRateUnit) -> Result<ChargingRateUnitEnumType, Reply> {
    match unit {
        ChargingRateUnit::W => Ok(ChargingRateUnitEnumType::W),
        ChargingRateUnit::A => Ok(ChargingRateUnitEnumType::A),
        ChargingRateUnit::Other(other) => Err(Reply::invalid(format!(
            "charging_rate_unit {}: W or A",
            reply::bounded(other)
        ))),
    }
}

/// The OCPI profile as the OCPP TxProfile of `transaction_id`: an absolute schedule when the
/// profile has a `start_date_time`, else relative to the start of charging (OCPI's reading of
/// an absent start). Limits and unit pass unchanged (exact decimals).
pub fn tx_profile(
    p: &ChargingProfile,
    session_id: &str,
    transaction_id: &str,
) -> Result<ChargingProfileType, Reply> {
    let periods = p.charging_profile_period.as_deref().unwrap_or_default();
    if periods.is_empty() {
        return Err(Reply::invalid(
            "charging_profile_period: at least one period (an OCPP schedule needs one)",
        ));
    }
    let id = profile_id(session_id);
    Ok(ChargingProfileType {
        custom_data: None,
        id,
        stack_level: ROAMING_STACK_LEVEL,
        charging_profile_purpose: ChargingProfilePurposeEnumType::TxProfile,
        charging_profile_kind: if p.start_date_time.is_some() {
            ChargingProfileKindEnumType::Absolute
        } else {
            ChargingProfileKindEnumType::Relative
        },
        recurrency_kind: None,
        valid_from: None,
        valid_to: None,
        charging_schedule: vec![ChargingScheduleType {
            custom_data: None,
            id: 1,
            start_schedule: p.start_date_time,
            duration: p.duration.map(i64::from),
            charging_rate_unit: ocpp_unit(&p.charging_rate_unit)?,
            charging_schedule_period: periods
                .iter()
                .map(|period| ChargingSchedulePeriodType {
                    custom_data: None,
                    start_period: i64::from(period.start_period),
                    limit: period.limit,
                    number_phases: None,
                    phase_to_use: None,
                })
                .collect(),
            min_charging_rate: p.min_charging_rate,
            sales_tariff: None,
        }],
        transaction_id: Some(transaction_id.to_string()),
    })
}

/// The station's composite schedule as an OCPI ActiveChargingProfile: times relative to the
/// schedule's start, limits and unit as the station gave them.
pub fn active_profile(s: &CompositeScheduleType) -> ActiveChargingProfile {
    ActiveChargingProfile {
        start_date_time: s.schedule_start,
        charging_profile: ChargingProfile {
            start_date_time: None,
            duration: u32::try_from(s.duration).ok(),
            charging_rate_unit: match s.charging_rate_unit {
                ChargingRateUnitEnumType::W => ChargingRateUnit::W,
                ChargingRateUnitEnumType::A => ChargingRateUnit::A,
            },
            min_charging_rate: None,
            charging_profile_period: Some(
                s.charging_schedule_period
                    .iter()
                    .map(|p| ChargingProfilePeriod {
                        start_period: u32::try_from(p.start_period).unwrap_or(0),
                        limit: p.limit,
                    })
                    .collect(),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(unit: &str, periods: &[(u32, &str)]) -> ChargingProfile {
        ChargingProfile {
            start_date_time: None,
            duration: None,
            charging_rate_unit: unit.parse().unwrap(),
            min_charging_rate: None,
            charging_profile_period: Some(
                periods
                    .iter()
                    .map(|(s, l)| ChargingProfilePeriod {
                        start_period: *s,
                        limit: l.parse().unwrap(),
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn profile_id_is_stable_per_session_and_in_the_roaming_range() {
        let a = profile_id("0123456789abcdef0123456789abcdef");
        assert_eq!(a, profile_id("0123456789abcdef0123456789abcdef"));
        assert_ne!(a, profile_id("0123456789abcdef0123456789abcdee"));
        assert!((ROAMING_PROFILE_ID_BASE..ROAMING_PROFILE_ID_BASE + 100_000_000).contains(&a));
        // Below the site load ids and within an OCPP 1.6 / 2.0.1 integer.
        assert!(a < 1_900_000_000 && a <= i64::from(i32::MAX));
    }

    #[test]
    fn tx_profile_keeps_unit_and_exact_limits() {
        let p = tx_profile(&profile("W", &[(0, "7400.5"), (600, "3680")]), "S", "42").unwrap();
        assert_eq!(p.transaction_id.as_deref(), Some("42"));
        assert_eq!(p.stack_level, ROAMING_STACK_LEVEL);
        let s = &p.charging_schedule[0];
        assert_eq!(s.charging_rate_unit, ChargingRateUnitEnumType::W);
        assert_eq!(s.charging_schedule_period[0].limit.to_string(), "7400.5");
        assert_eq!(s.charging_schedule_period[1].start_period, 600);
    }

    #[test]
    fn tx_profile_refuses_what_ocpp_cannot_carry() {
        assert!(tx_profile(&profile("kW", &[(0, "7")]), "S", "1").is_err());
        assert!(tx_profile(&profile("A", &[]), "S", "1").is_err());
    }
}
