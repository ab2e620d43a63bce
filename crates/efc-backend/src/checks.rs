//! Structure and value checks of a decoded ChargeReport, one per rule of ISO 17575-1 that the
//! conformance suite (ISO/TS 16407-1, TP/CR/FE/BV/02–15) tests a front end for. A violation is
//! recorded with the report and turns `obeStatusForDriver` to nok; the report is still stored
//! (never lose what an OBE charged).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use unicharge_efc::{
    account_status, ChargeReport, DetectedChargeObject, Period, TariffClassDescription,
    UsageStatement, UsageStatementEntry,
};

/// Tariff classes the toll context defines (ISO 17575-3 context data). Empty set = any value.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TariffClasses {
    pub location_class: Vec<u32>,
    pub time_class: Vec<u16>,
    pub user_class: Vec<u8>,
}

fn period_ok(p: &Period) -> bool {
    p.begin_of_period < p.end_of_period
}

fn plain_statements(report: &ChargeReport) -> impl Iterator<Item = &UsageStatement> {
    report.usage_statement_list.iter().filter_map(|e| match e {
        UsageStatementEntry::UsageStatement(us) => Some(us),
        UsageStatementEntry::AuthenticatedUsageStatement(_) => None,
    })
}

fn tariff_classes(us: &UsageStatement) -> Vec<(&'static str, &TariffClassDescription)> {
    let mut out = Vec::new();
    if let Some(t) = us
        .aggregated_single_tariff_class_session
        .as_ref()
        .and_then(|s| s.current_tariff_class.as_ref())
    {
        out.push(("TP/CR/FE/BV/13 aggregatedSingleTariffClassSession", t));
    }
    for o in us.list_of_charge_objects.iter().flatten() {
        let DetectedChargeObject {
            current_tariff_class: Some(t),
            ..
        } = o
        else {
            continue;
        };
        out.push(("TP/CR/FE/BV/14 listOfChargeObjects", t));
    }
    if let Some(t) = us
        .list_of_raw_usage_data
        .as_ref()
        .and_then(|r| r.current_tariff_class.as_ref())
    {
        out.push(("TP/CR/FE/BV/15 listOfRawUsageData", t));
    }
    out
}

fn lpn_below(us: &UsageStatement) -> bool {
    let session = us
        .aggregated_single_tariff_class_session
        .as_ref()
        .and_then(|s| s.vehicle_description.as_ref())
        .is_some_and(|v| v.vehicle_lp_nr.is_some());
    let objects = us.list_of_charge_objects.iter().flatten().any(|o| {
        o.vehicle_description
            .as_ref()
            .is_some_and(|v| v.vehicle_lp_nr.is_some())
    });
    let raw = us
        .list_of_raw_usage_data
        .as_ref()
        .and_then(|r| r.vehicle_description.as_ref())
        .is_some_and(|v| v.vehicle_lp_nr.is_some());
    session || objects || raw
}

/// The stateless checks. `now` and `tolerance` bound `timeOfReport`.
pub fn check_report(
    report: &ChargeReport,
    now: DateTime<Utc>,
    tolerance: chrono::Duration,
    classes: &TariffClasses,
) -> Vec<String> {
    let mut v = Vec::new();
    if report.protocol_version != unicharge_efc::AID_ISO17575_1_2016 {
        v.push(format!(
            "protocolVersion {} is not iso17575-1-2016 (0)",
            report.protocol_version
        ));
    }
    if let Some(t) = report.time_of_report {
        let t = t.with_timezone(&Utc);
        if (t - now).abs() > tolerance {
            v.push(format!(
                "TP/CR/FE/BV/02 timeOfReport {t} differs from local time {now} by more than {}s",
                tolerance.num_seconds()
            ));
        }
    }
    if let Some(s) = report.account_status {
        if (4..=127).contains(&s) {
            v.push(format!("accountStatus {s} is reserved (4..127)"));
        }
    }
    if report.vehicle_lp_nr.is_some() && plain_statements(report).any(lpn_below) {
        v.push("TP/CR/FE/BV/08 vehicleLPNr both in the report and in usageStatementList".into());
    }
    let mut ids = HashSet::new();
    for us in plain_statements(report) {
        if let Some(id) = us.usage_statement_id {
            if !ids.insert(id) {
                v.push(format!(
                    "TP/CR/FE/BV/09 usageStatementId {id} is not unique"
                ));
            }
        }
    }
    if let Some(p) = &report.report_period {
        if !period_ok(p) {
            v.push("TP/CR/FE/BV/10 reportPeriod begin is not before end".into());
        }
    }
    for us in plain_statements(report) {
        if let Some(f) = &us.aggregated_fee {
            if !period_ok(&f.time_period_covered) {
                v.push(
                    "TP/CR/FE/BV/11 aggregatedFee.timePeriodCovered begin is not before end".into(),
                );
            }
        }
        if let Some(p) = us
            .aggregated_single_tariff_class_session
            .as_ref()
            .and_then(|s| s.time_period_covered.as_ref())
        {
            if !period_ok(p) {
                v.push(
                    "TP/CR/FE/BV/12 aggregatedSingleTariffClassSession.timePeriodCovered begin is not before end"
                        .into(),
                );
            }
        }
        for (where_, t) in tariff_classes(us) {
            let bad_loc = t.location_class.is_some_and(|c| {
                !classes.location_class.is_empty() && !classes.location_class.contains(&c)
            });
            let bad_time = t.time_class.is_some_and(|c| {
                !classes.time_class.is_empty() && !classes.time_class.contains(&c)
            });
            let bad_user = t.user_class.is_some_and(|c| {
                !classes.user_class.is_empty() && !classes.user_class.contains(&c)
            });
            if bad_loc || bad_time || bad_user {
                v.push(format!(
                    "{where_}: tariff class not defined in the toll context ({t:?})"
                ));
            }
        }
    }
    if report.account_status == Some(account_status::NEGATIVE) {
        // Not a violation: recorded through accountStatus itself.
    }
    v
}

/// Mileage rule (TP/CR/FE/BV/05, 06): within a contract, `dist` never decreases and `disUnit`
/// stays; a decrease is a roll-over when the previous value was in the top 1/16 of the range
/// and the new one in the bottom 1/16 — of the v2 `Int4` range, or of the v1 `Int3` range the
/// test suite assumes (16777215 → small).
pub fn check_mileage(previous: Option<(u32, u8)>, dist: u32, unit: u8) -> Option<String> {
    let (prev, prev_unit) = previous?;
    if prev_unit != unit {
        return Some(format!(
            "TP/CR/FE/BV/05 mileage.disUnit changed from {prev_unit} to {unit} within the contract"
        ));
    }
    if dist >= prev {
        return None;
    }
    let wraps = |max: u64| {
        let window = max / 16;
        u64::from(prev) > max - window && u64::from(dist) < window
    };
    if wraps(u64::from(u32::MAX)) || wraps(16_777_215) {
        None
    } else {
        Some(format!(
            "TP/CR/FE/BV/05 mileage decreased from {prev} to {dist} within the contract"
        ))
    }
}
