//! Account updates as the operator writes them (JSON), turned into the `AccountUpdate` ADU an
//! OBE receives with its next ChargeReportResponse (ISO 17575-1 `setAccount`, `addToAccount`,
//! `reloadAccount`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_efc::{
    AccountUpdate, AddToAccount, Distance, Duration, NewAccountLimit, PaymentFee, ReloadAccount,
};

/// `{"kind": "setAccount" | "addToAccount", "credit": {"amount": 500, "unitHex": "03d2"},
/// "distance": {"dist": 100, "unit": 0}, "time": "2027-01-01T00:00:00Z",
/// "duration": {"dur": 3600, "unit": 0}, "events": 10}` or
/// `{"kind": "reloadAccount", "reload": ["credit", "distance", "time", "duration", "events"]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountUpdateSpec {
    pub kind: UpdateKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<FeeSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance: Option<DistanceSpec>,
    /// An absolute time limit (setAccount) or time to add (addToAccount), as GeneralizedTime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<i64>,
    /// reloadAccount: which on-board accounts reload their predefined amount.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reload: Vec<AccountKindName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UpdateKind {
    SetAccount,
    AddToAccount,
    ReloadAccount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AccountKindName {
    Credit,
    Distance,
    Time,
    Duration,
    Events,
}

/// ISO 14906 PaymentFee: amount (0..65535) and paymentFeeUnit (2 octets, hex).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeeSpec {
    pub amount: u16,
    pub unit_hex: String,
}

/// Distance with its DistanceUnit (0 km, 1 miles, 2 m, 3 yards, 4 feet, 5 dm, 6 quarter-metres).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DistanceSpec {
    pub dist: u32,
    #[serde(default)]
    pub unit: u8,
}

/// Duration with its DurationUnit (0 s, 1 min, 2 h, 3 days, 4 months).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DurationSpec {
    pub dur: u32,
    #[serde(default)]
    pub unit: u8,
}

impl AccountUpdateSpec {
    /// The ADU; an error names the field to fix.
    pub fn to_adu(&self) -> Result<AccountUpdate, String> {
        let fee = |f: &FeeSpec| -> Result<PaymentFee, String> {
            let unit = hex::decode(&f.unit_hex)
                .ok()
                .filter(|u| u.len() == 2)
                .ok_or_else(|| {
                    format!(
                        "credit.unitHex {:?}: give 2 octets as hex, e.g. \"03d2\"",
                        f.unit_hex
                    )
                })?;
            Ok(PaymentFee {
                payment_fee_amount: f.amount,
                payment_fee_unit: unit.into(),
            })
        };
        if self.distance.as_ref().is_some_and(|d| d.unit > 6) {
            return Err("distance.unit must be 0 to 6".into());
        }
        if self.duration.as_ref().is_some_and(|d| d.unit > 4) {
            return Err("duration.unit must be 0 to 4".into());
        }
        let distance = self.distance.as_ref().map(|d| Distance {
            dist: d.dist,
            dis_unit: d.unit,
        });
        let duration = self.duration.as_ref().map(|d| Duration {
            dur: d.dur,
            dur_unit: d.unit,
        });
        let time = self.time.map(|t| t.fixed_offset());
        let nothing = || {
            format!(
                "{:?} names no account: give credit, distance, time, duration or events",
                self.kind
            )
        };
        match self.kind {
            UpdateKind::SetAccount | UpdateKind::AddToAccount => {
                if !self.reload.is_empty() {
                    return Err("reload is for kind reloadAccount".into());
                }
                let credit = self.credit.as_ref().map(fee).transpose()?;
                if credit.is_none()
                    && distance.is_none()
                    && time.is_none()
                    && duration.is_none()
                    && self.events.is_none()
                {
                    return Err(nothing());
                }
                if self.kind == UpdateKind::SetAccount {
                    let mut l = NewAccountLimit::default();
                    l.new_credit_limit = credit;
                    l.new_distance_limit = distance;
                    l.new_time_limit = time;
                    l.new_duration_limit = duration;
                    l.new_event_limit = self.events.map(Into::into);
                    Ok(AccountUpdate::SetAccount(l))
                } else {
                    let mut a = AddToAccount::default();
                    a.add_credit = credit;
                    a.add_distance = distance;
                    a.add_time = time;
                    a.add_duration = duration;
                    a.add_events = self.events.map(Into::into);
                    Ok(AccountUpdate::AddToAccount(a))
                }
            }
            UpdateKind::ReloadAccount => {
                if self.credit.is_some()
                    || self.distance.is_some()
                    || self.time.is_some()
                    || self.duration.is_some()
                    || self.events.is_some()
                {
                    return Err("reloadAccount reloads predefined amounts: list the accounts in reload, without amounts".into());
                }
                if self.reload.is_empty() {
                    return Err(nothing());
                }
                let on = |k| self.reload.contains(&k).then_some(true);
                let mut r = ReloadAccount::default();
                r.reload_old_credit_amount = on(AccountKindName::Credit);
                r.reload_old_distance_limit = on(AccountKindName::Distance);
                r.reload_old_time_limit = on(AccountKindName::Time);
                r.reload_old_duration_limit = on(AccountKindName::Duration);
                r.reload_old_event_limit = on(AccountKindName::Events);
                Ok(AccountUpdate::ReloadAccount(r))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_become_the_adus_the_tps_send() {
        let add: AccountUpdateSpec = serde_json::from_str(
            r#"{"kind":"addToAccount","credit":{"amount":250,"unitHex":"03d2"}}"#,
        )
        .unwrap();
        let AccountUpdate::AddToAccount(a) = add.to_adu().unwrap() else {
            panic!("addToAccount expected")
        };
        assert_eq!(a.add_credit.unwrap().payment_fee_amount, 250);
        assert_eq!(a.add_distance, None);
        let reload: AccountUpdateSpec =
            serde_json::from_str(r#"{"kind":"reloadAccount","reload":["events"]}"#).unwrap();
        let AccountUpdate::ReloadAccount(r) = reload.to_adu().unwrap() else {
            panic!("reloadAccount expected")
        };
        assert_eq!(
            (r.reload_old_event_limit, r.reload_old_credit_amount),
            (Some(true), None)
        );
        let set: AccountUpdateSpec =
            serde_json::from_str(r#"{"kind":"setAccount","events":-3}"#).unwrap();
        let AccountUpdate::SetAccount(l) = set.to_adu().unwrap() else {
            panic!("setAccount expected")
        };
        assert_eq!(l.new_event_limit, Some((-3).into()));
    }

    #[test]
    fn empty_or_mixed_specs_are_refused_naming_the_fix() {
        let empty: AccountUpdateSpec = serde_json::from_str(r#"{"kind":"setAccount"}"#).unwrap();
        assert!(empty.to_adu().unwrap_err().contains("give credit"));
        let bad: AccountUpdateSpec =
            serde_json::from_str(r#"{"kind":"addToAccount","credit":{"amount":1,"unitHex":"03"}}"#)
                .unwrap();
        assert!(bad.to_adu().unwrap_err().contains("credit.unitHex"));
        let mixed: AccountUpdateSpec =
            serde_json::from_str(r#"{"kind":"reloadAccount","events":1}"#).unwrap();
        assert!(mixed.to_adu().is_err());
    }
}
