//! K01 rules a charging profile must keep before the CSMS sends it. A profile that breaks one
//! is never sent; the operator learns which rule ([`Broken::rule`]), the requirement it comes
//! from and how to fix it.
//!
//! The rules are checked against what the CSMS knows of the station: its `SmartChargingCtrlr`
//! limits from the device model ([`StationLimits`]), the profiles it holds (the CSMS's stored
//! copy) and its ongoing transactions.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use unicharge_ocpp::v201::{
    ChargingProfileKindEnumType, ChargingProfilePurposeEnumType, ChargingProfileType,
    ChargingRateUnitEnumType,
};
use unicharge_store::{ChargingProfileRecord, VariableRecord};

/// A rule a profile broke: a stable id for machines, the requirement, a message naming the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub rule: &'static str,
    /// The OCPP 2.0.1 requirement (or `SmartChargingCtrlr` variable) behind the rule.
    pub requirement: &'static str,
    pub message: String,
}

fn broken(rule: &'static str, requirement: &'static str, message: impl Into<String>) -> Broken {
    Broken {
        rule,
        requirement,
        message: message.into(),
    }
}

/// The station's smart-charging limits as its device model reports them; `None`: not known,
/// not enforced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationLimits {
    /// SmartChargingCtrlr.PeriodsPerSchedule.
    pub periods_per_schedule: Option<usize>,
    /// SmartChargingCtrlr.ProfileStackLevel: the highest stack level.
    pub max_stack_level: Option<i64>,
    /// SmartChargingCtrlr.Entries[ChargingProfiles]: how many profiles the station holds.
    pub max_profiles: Option<usize>,
    /// SmartChargingCtrlr.RateUnit: the units the station takes ("A,W").
    pub rate_units: Option<Vec<ChargingRateUnitEnumType>>,
}

impl StationLimits {
    /// Read the limits from the station's device model (Actual values).
    pub fn from_device_model(variables: &[VariableRecord]) -> Self {
        let mut limits = StationLimits::default();
        for v in variables {
            if v.component != "SmartChargingCtrlr" || v.attribute_type != "Actual" {
                continue;
            }
            let Some(value) = v.value.as_deref().map(str::trim) else {
                continue;
            };
            match v.variable.as_str() {
                "PeriodsPerSchedule" => limits.periods_per_schedule = value.parse().ok(),
                "ProfileStackLevel" => limits.max_stack_level = value.parse().ok(),
                "Entries" if v.variable_instance.as_deref() == Some("ChargingProfiles") => {
                    limits.max_profiles = value.parse().ok()
                }
                "RateUnit" => {
                    limits.rate_units = Some(
                        value
                            .split(',')
                            .filter_map(|u| match u.trim() {
                                "A" => Some(ChargingRateUnitEnumType::A),
                                "W" => Some(ChargingRateUnitEnumType::W),
                                _ => None,
                            })
                            .collect(),
                    )
                }
                _ => {}
            }
        }
        limits
    }
}

/// What the CSMS knows of the station when a profile is checked.
#[derive(Debug, Clone, Default)]
pub struct StationView {
    pub limits: StationLimits,
    /// The profiles the station holds (stored, not cleared, not refused by the station).
    pub profiles: Vec<ChargingProfileRecord>,
    /// Ongoing transactions: (transactionId, evseId).
    pub ongoing: Vec<(String, Option<i64>)>,
}

/// Whether the station may hold a stored profile (it was sent and not refused).
pub fn held(record: &ChargingProfileRecord) -> bool {
    record.cleared_at.is_none() && matches!(record.status.as_str(), "Accepted" | "Requested")
}

/// Check `profile` for `evse_id`. `without_transaction`: the operator explicitly sends a
/// TxProfile while no transaction is ongoing (to read the station's answer, TC_K_02).
pub fn check(
    evse_id: i64,
    profile: &ChargingProfileType,
    view: &StationView,
    without_transaction: bool,
) -> Result<(), Broken> {
    use ChargingProfilePurposeEnumType as P;
    if evse_id < 0 {
        return Err(broken(
            "evse_id_negative",
            "K01",
            format!("evseId {evse_id}: use 0 for the whole station or an EVSE id"),
        ));
    }
    match profile.charging_profile_purpose {
        P::ChargingStationExternalConstraints => {
            return Err(broken(
                "external_constraints_not_settable",
                "K01",
                "a CSMS does not set ChargingStationExternalConstraints profiles: they come from \
                 an external system at the station",
            ))
        }
        P::ChargingStationMaxProfile if evse_id != 0 => {
            return Err(broken(
                "station_max_profile_not_on_station",
                "K01.FR.38",
                format!("a ChargingStationMaxProfile is for evseId 0, not {evse_id}"),
            ))
        }
        P::TxProfile if evse_id == 0 => {
            return Err(broken(
                "tx_profile_on_station",
                "K01",
                "a TxProfile is for the EVSE of a transaction: give its evseId (> 0)",
            ))
        }
        _ => {}
    }
    if profile.transaction_id.is_some() && profile.charging_profile_purpose != P::TxProfile {
        return Err(broken(
            "transaction_id_without_tx_profile",
            "K01.FR.03",
            "transactionId is only for a TxProfile; leave it out",
        ));
    }
    if profile.charging_profile_purpose == P::TxProfile {
        let on_evse: Vec<&String> = view
            .ongoing
            .iter()
            .filter(|(_, evse)| *evse == Some(evse_id))
            .map(|(id, _)| id)
            .collect();
        match &profile.transaction_id {
            Some(id) if !on_evse.contains(&id) => {
                return Err(broken(
                    "unknown_transaction",
                    "K01.FR.03",
                    format!("no transaction {id} is ongoing on EVSE {evse_id}"),
                ))
            }
            None if on_evse.is_empty() && !without_transaction => {
                return Err(broken(
                    "tx_profile_without_transaction",
                    "K01.FR.03",
                    format!(
                        "no transaction is ongoing on EVSE {evse_id}; a TxProfile applies to one \
                         (use a TxDefaultProfile, or set allowWithoutTransaction to send it anyway)"
                    ),
                ))
            }
            _ => {}
        }
    }
    if let (Some(from), Some(to)) = (profile.valid_from, profile.valid_to) {
        if to <= from {
            return Err(broken(
                "valid_to_not_after_valid_from",
                "K01",
                format!("validTo {to} must be after validFrom {from}"),
            ));
        }
    }
    check_kind(profile)?;
    for schedule in &profile.charging_schedule {
        check_schedule(schedule, &view.limits)?;
    }
    if let Some(max) = view.limits.max_stack_level {
        if profile.stack_level > max {
            return Err(broken(
                "stack_level_above_station_maximum",
                "SmartChargingCtrlr.ProfileStackLevel",
                format!(
                    "stackLevel {} is above the station's maximum {max}",
                    profile.stack_level
                ),
            ));
        }
    }
    let others: Vec<&ChargingProfileRecord> = view
        .profiles
        .iter()
        .filter(|p| held(p) && p.profile_id != profile.id)
        .collect();
    if let Some(max) = view.limits.max_profiles {
        if others.len() + 1 > max {
            return Err(broken(
                "too_many_profiles",
                "SmartChargingCtrlr.Entries",
                format!(
                    "the station holds {} profiles and takes at most {max}; clear one first",
                    others.len()
                ),
            ));
        }
    }
    for other in others {
        if other.evse_id == evse_id
            && other.stack_level == profile.stack_level
            && other.purpose == profile.charging_profile_purpose.as_str()
            && (profile.charging_profile_purpose != P::TxProfile
                || other.transaction_id == profile.transaction_id)
            && overlaps(
                (other.valid_from, other.valid_to),
                (profile.valid_from, profile.valid_to),
            )
        {
            return Err(broken(
                "same_purpose_and_stack_level",
                "K01",
                format!(
                    "profile {} on EVSE {evse_id} has the same purpose {} and stackLevel {} \
                     with an overlapping validity; use another stackLevel, replace it by \
                     reusing id {}, or clear it first",
                    other.profile_id, other.purpose, other.stack_level, other.profile_id
                ),
            ));
        }
    }
    Ok(())
}

fn check_kind(profile: &ChargingProfileType) -> Result<(), Broken> {
    use ChargingProfileKindEnumType as K;
    let recurring = profile.charging_profile_kind == K::Recurring;
    if recurring != profile.recurrency_kind.is_some() {
        return Err(broken(
            "recurrency_kind_mismatch",
            "K01",
            if recurring {
                "a Recurring profile needs recurrencyKind (Daily or Weekly)"
            } else {
                "recurrencyKind is only for a Recurring profile"
            },
        ));
    }
    for schedule in &profile.charging_schedule {
        match profile.charging_profile_kind {
            K::Absolute | K::Recurring if schedule.start_schedule.is_none() => {
                return Err(broken(
                    "start_schedule_missing",
                    "K01",
                    format!(
                        "chargingSchedule {}: an {} profile needs startSchedule",
                        schedule.id,
                        profile.charging_profile_kind.as_str()
                    ),
                ))
            }
            K::Relative if schedule.start_schedule.is_some() => {
                return Err(broken(
                    "start_schedule_on_relative",
                    "K01",
                    format!(
                        "chargingSchedule {}: a Relative profile has no startSchedule",
                        schedule.id
                    ),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_schedule(
    schedule: &unicharge_ocpp::v201::ChargingScheduleType,
    limits: &StationLimits,
) -> Result<(), Broken> {
    let periods = &schedule.charging_schedule_period;
    if periods.first().map(|p| p.start_period) != Some(0) {
        return Err(broken(
            "first_period_not_at_zero",
            "K01",
            format!(
                "chargingSchedule {}: the first period must start at startPeriod 0",
                schedule.id
            ),
        ));
    }
    if !periods
        .windows(2)
        .all(|w| w[0].start_period < w[1].start_period)
    {
        return Err(broken(
            "periods_not_ordered",
            "K01",
            format!(
                "chargingSchedule {}: chargingSchedulePeriod must be ordered by increasing \
                 startPeriod",
                schedule.id
            ),
        ));
    }
    for period in periods {
        if period.limit < Decimal::ZERO {
            return Err(broken(
                "negative_limit",
                "K01",
                format!(
                    "chargingSchedule {}: limit {} is negative",
                    schedule.id, period.limit
                ),
            ));
        }
        if period.phase_to_use.is_some() && period.number_phases != Some(1) {
            return Err(broken(
                "phase_to_use_without_single_phase",
                "K01",
                format!(
                    "chargingSchedule {}, period at {} s: phaseToUse is only allowed with \
                     numberPhases 1",
                    schedule.id, period.start_period
                ),
            ));
        }
        if let Some(n) = period.number_phases {
            if !(1..=3).contains(&n) {
                return Err(broken(
                    "number_phases_out_of_range",
                    "K01",
                    format!(
                        "chargingSchedule {}: numberPhases {n} is not 1, 2 or 3",
                        schedule.id
                    ),
                ));
            }
        }
    }
    if let Some(max) = limits.periods_per_schedule {
        if periods.len() > max {
            return Err(broken(
                "too_many_periods",
                "SmartChargingCtrlr.PeriodsPerSchedule",
                format!(
                    "chargingSchedule {} has {} periods; the station takes at most {max}",
                    schedule.id,
                    periods.len()
                ),
            ));
        }
    }
    if let Some(units) = &limits.rate_units {
        if !units.contains(&schedule.charging_rate_unit) {
            return Err(broken(
                "rate_unit_not_supported",
                "SmartChargingCtrlr.RateUnit",
                format!(
                    "chargingSchedule {}: the station does not take limits in {}",
                    schedule.id,
                    schedule.charging_rate_unit.as_str()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether two validity intervals (open ends: forever) overlap.
fn overlaps(
    a: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    b: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> bool {
    let a_before_b_ends = match (a.0, b.1) {
        (Some(start), Some(end)) => start < end,
        _ => true,
    };
    let b_before_a_ends = match (b.0, a.1) {
        (Some(start), Some(end)) => start < end,
        _ => true,
    };
    a_before_b_ends && b_before_a_ends
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(v: serde_json::Value) -> ChargingProfileType {
        serde_json::from_value(v).unwrap()
    }

    fn tx_default(stack_level: i64, periods: serde_json::Value) -> ChargingProfileType {
        profile(json!({
            "id": 1, "stackLevel": stack_level, "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [{"id": 1, "startSchedule": "2026-01-01T00:00:00Z",
                "chargingRateUnit": "A", "chargingSchedulePeriod": periods}]
        }))
    }

    fn rule(r: Result<(), Broken>) -> &'static str {
        r.unwrap_err().rule
    }

    #[test]
    fn a_plain_profile_passes() {
        let p = tx_default(0, json!([{"startPeriod": 0, "limit": 6.0}]));
        check(1, &p, &StationView::default(), false).unwrap();
    }

    #[test]
    fn each_rule_is_named() {
        let view = StationView::default();
        let unordered = tx_default(
            0,
            json!([{"startPeriod": 0, "limit": 6.0}, {"startPeriod": 0, "limit": 7.0}]),
        );
        assert_eq!(
            rule(check(1, &unordered, &view, false)),
            "periods_not_ordered"
        );
        let phase = tx_default(
            0,
            json!([{"startPeriod": 0, "limit": 6.0, "numberPhases": 3, "phaseToUse": 1}]),
        );
        assert_eq!(
            rule(check(1, &phase, &view, false)),
            "phase_to_use_without_single_phase"
        );
        let late = tx_default(0, json!([{"startPeriod": 5, "limit": 6.0}]));
        assert_eq!(
            rule(check(1, &late, &view, false)),
            "first_period_not_at_zero"
        );
        let mut tx = tx_default(0, json!([{"startPeriod": 0, "limit": 6.0}]));
        tx.charging_profile_purpose = ChargingProfilePurposeEnumType::TxProfile;
        tx.charging_profile_kind = ChargingProfileKindEnumType::Relative;
        tx.charging_schedule[0].start_schedule = None;
        assert_eq!(
            rule(check(1, &tx, &view, false)),
            "tx_profile_without_transaction"
        );
        check(1, &tx, &view, true).unwrap();
        let ongoing = StationView {
            ongoing: vec![("tx-1".into(), Some(1))],
            ..StationView::default()
        };
        check(1, &tx, &ongoing, false).unwrap();
        tx.transaction_id = Some("tx-2".into());
        assert_eq!(rule(check(1, &tx, &ongoing, false)), "unknown_transaction");
        let mut max = tx_default(0, json!([{"startPeriod": 0, "limit": 6.0}]));
        max.charging_profile_purpose = ChargingProfilePurposeEnumType::ChargingStationMaxProfile;
        assert_eq!(
            rule(check(1, &max, &view, false)),
            "station_max_profile_not_on_station"
        );
        check(0, &max, &view, false).unwrap();
    }

    #[test]
    fn station_limits_are_enforced() {
        let view = StationView {
            limits: StationLimits {
                periods_per_schedule: Some(1),
                max_stack_level: Some(2),
                max_profiles: None,
                rate_units: Some(vec![ChargingRateUnitEnumType::W]),
            },
            ..StationView::default()
        };
        let two = tx_default(
            0,
            json!([{"startPeriod": 0, "limit": 6.0}, {"startPeriod": 60, "limit": 7.0}]),
        );
        assert_eq!(rule(check(1, &two, &view, false)), "too_many_periods");
        let amps = tx_default(0, json!([{"startPeriod": 0, "limit": 6.0}]));
        assert_eq!(
            rule(check(1, &amps, &view, false)),
            "rate_unit_not_supported"
        );
        let mut high = tx_default(3, json!([{"startPeriod": 0, "limit": 6.0}]));
        high.charging_schedule[0].charging_rate_unit = ChargingRateUnitEnumType::W;
        assert_eq!(
            rule(check(1, &high, &view, false)),
            "stack_level_above_station_maximum"
        );
    }

    #[test]
    fn same_purpose_and_stack_level_overlapping_is_refused_but_replacing_is_not() {
        let held = ChargingProfileRecord {
            station_id: unicharge_core::StationId::new("CP1").unwrap(),
            profile_id: 7,
            evse_id: 1,
            stack_level: 0,
            purpose: "TxDefaultProfile".into(),
            kind: "Absolute".into(),
            valid_from: None,
            valid_to: None,
            transaction_id: None,
            profile: "{}".into(),
            status: "Accepted".into(),
            status_info: None,
            sent_at: Utc::now(),
            answered_at: None,
            cleared_at: None,
        };
        let view = StationView {
            profiles: vec![held],
            ..StationView::default()
        };
        let p = tx_default(0, json!([{"startPeriod": 0, "limit": 6.0}]));
        assert_eq!(
            rule(check(1, &p, &view, false)),
            "same_purpose_and_stack_level"
        );
        let mut replacing = p.clone();
        replacing.id = 7;
        check(1, &replacing, &view, false).unwrap();
        let mut higher = p.clone();
        higher.stack_level = 1;
        check(1, &higher, &view, false).unwrap();
        check(2, &p, &view, false).unwrap();
    }
}
