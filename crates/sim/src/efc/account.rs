//! The on-board account of a front end (ISO 17575-1 clause 6.6): a limit of credit, distance,
//! time, duration or events, its threshold THR, and the accountStatus it reports.

use chrono::{DateTime, Utc};
use unicharge_efc::{account_status, AccountUpdate, AddToAccount, NewAccountLimit, ReloadAccount};

/// Which quantity the account counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Credit,
    Distance,
    /// An absolute time limit (`newTimeLimit`); remaining = limit − now, in seconds.
    Time,
    Duration,
    Event,
}

/// The account: what remains, the threshold and the predefined reload value.
#[derive(Debug, Clone, PartialEq)]
pub struct OnBoardAccount {
    pub kind: AccountKind,
    /// Remaining amount (for [`AccountKind::Time`]: the limit as UNIX seconds).
    pub remaining: i64,
    pub threshold: i64,
    /// Added by a `reloadAccount` for this kind (0 < R < THR/2 in the TPs).
    pub reload_value: i64,
}

impl OnBoardAccount {
    /// accountStatus: > THR ok, 0 < x ≤ THR low, 0 empty, < 0 negative.
    pub fn status(&self, now: DateTime<Utc>) -> u8 {
        let x = match self.kind {
            AccountKind::Time => self.remaining - now.timestamp(),
            _ => self.remaining,
        };
        if x > self.threshold {
            account_status::OK
        } else if x > 0 {
            account_status::LOW
        } else if x == 0 {
            account_status::EMPTY
        } else {
            account_status::NEGATIVE
        }
    }

    fn set(&mut self, limit: &NewAccountLimit) {
        let value = match self.kind {
            AccountKind::Credit => limit
                .new_credit_limit
                .as_ref()
                .map(|f| i64::from(f.payment_fee_amount)),
            AccountKind::Distance => limit.new_distance_limit.as_ref().map(|d| i64::from(d.dist)),
            AccountKind::Time => limit.new_time_limit.map(|t| t.timestamp()),
            AccountKind::Duration => limit.new_duration_limit.as_ref().map(|d| i64::from(d.dur)),
            AccountKind::Event => limit
                .new_event_limit
                .as_ref()
                .and_then(|e| i64::try_from(e).ok()),
        };
        if let Some(v) = value {
            self.remaining = v;
        }
    }

    fn add(&mut self, add: &AddToAccount) {
        let value = match self.kind {
            AccountKind::Credit => add
                .add_credit
                .as_ref()
                .map(|f| i64::from(f.payment_fee_amount)),
            AccountKind::Distance => add.add_distance.as_ref().map(|d| i64::from(d.dist)),
            AccountKind::Time => add.add_time.map(|t| t.timestamp() - self.remaining.min(0)),
            AccountKind::Duration => add.add_duration.as_ref().map(|d| i64::from(d.dur)),
            AccountKind::Event => add.add_events.as_ref().and_then(|e| i64::try_from(e).ok()),
        };
        if let Some(v) = value {
            self.remaining += v;
        }
    }

    fn reload(&mut self, r: &ReloadAccount) {
        let flag = match self.kind {
            AccountKind::Credit => r.reload_old_credit_amount,
            AccountKind::Distance => r.reload_old_distance_limit,
            AccountKind::Time => r.reload_old_time_limit,
            AccountKind::Duration => r.reload_old_duration_limit,
            AccountKind::Event => r.reload_old_event_limit,
        };
        if flag == Some(true) {
            self.remaining += self.reload_value;
        }
    }

    /// Apply the back end's `accountUpdate` (authenticated variants are not unwrapped here).
    pub fn apply(&mut self, update: &AccountUpdate) {
        match update {
            AccountUpdate::SetAccount(l) => self.set(l),
            AccountUpdate::AddToAccount(a) => self.add(a),
            AccountUpdate::ReloadAccount(r) => self.reload(r),
            _ => {}
        }
    }
}
