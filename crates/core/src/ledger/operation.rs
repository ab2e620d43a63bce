//! What can be done to an account, and the record of what was done.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One change asked of an account. Amounts are in the account's unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Operation {
    /// Add to the balance (a payment, a bundle, a refund). `amount > 0`.
    TopUp { amount: Decimal },
    /// Take from the balance without a reservation (direct debiting, a reported usage).
    /// `amount ≥ 0`. When the balance above the floor is short: refused, or — with `partial` —
    /// what is there is taken and the rest recorded as the movement's `shortfall`.
    Debit { amount: Decimal, partial: bool },
    /// Set aside up to `amount` under `reservation` (a new one, or more for an open one).
    /// Grants `min(amount, available)`; refused if that is below `minimum` (`minimum = amount`:
    /// all or nothing; `0`: whatever is there).
    Reserve {
        reservation: String,
        amount: Decimal,
        minimum: Decimal,
    },
    /// Debit `used` units of an open reservation: the reservation pays first, usage beyond it
    /// is debited as far as the floor allows and the rest is shortfall. With `close`, what is
    /// left of the reservation is released and it is closed; without, it stays open with what
    /// is left (an interim report).
    Commit {
        reservation: String,
        used: Decimal,
        close: bool,
    },
    /// Give back what is left of an open reservation and close it.
    Release { reservation: String },
    /// Move the floor (credit limit). Refused if the balance less reservations would be below it.
    SetFloor { floor: Decimal },
}

/// The kind of a [`Movement`], for listings and queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MovementKind {
    TopUp,
    Debit,
    Reserve,
    Commit,
    Release,
    SetFloor,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::TopUp => "topUp",
            MovementKind::Debit => "debit",
            MovementKind::Reserve => "reserve",
            MovementKind::Commit => "commit",
            MovementKind::Release => "release",
            MovementKind::SetFloor => "setFloor",
        }
    }
}

impl Operation {
    pub fn kind(&self) -> MovementKind {
        match self {
            Operation::TopUp { .. } => MovementKind::TopUp,
            Operation::Debit { .. } => MovementKind::Debit,
            Operation::Reserve { .. } => MovementKind::Reserve,
            Operation::Commit { .. } => MovementKind::Commit,
            Operation::Release { .. } => MovementKind::Release,
            Operation::SetFloor { .. } => MovementKind::SetFloor,
        }
    }

    /// The reservation the operation works on, if any.
    pub fn reservation(&self) -> Option<&str> {
        match self {
            Operation::Reserve { reservation, .. }
            | Operation::Commit { reservation, .. }
            | Operation::Release { reservation } => Some(reservation),
            _ => None,
        }
    }
}

/// An operation addressed to an account, with the reference of what caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub account: String,
    /// What caused it, unique per account: e.g. `ro:<Session-Id>:<CC-Request-Number>`,
    /// `efc:<obe>:<chargeReportCounter>`, `api:<request id>`. A second request with the same
    /// reference is not applied again.
    pub reference: String,
    pub operation: Operation,
    pub at: DateTime<Utc>,
}

/// What one applied operation changed: the traceable line of the account's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Movement {
    pub account: String,
    /// 1 for the account's first movement, then +1.
    pub seq: u64,
    pub reference: String,
    pub operation: Operation,
    /// Change of the balance (negative for debits and commits).
    pub balance_delta: Decimal,
    /// Change of the amount held by reservations.
    pub reserved_delta: Decimal,
    pub balance_after: Decimal,
    pub reserved_after: Decimal,
    /// What the operation achieved in the account's unit: the amount added (top-up), debited
    /// (debit, commit), granted (reserve) or released (release); 0 for SetFloor.
    pub amount: Decimal,
    /// Usage that could not be debited because the floor was reached.
    pub shortfall: Decimal,
    pub at: DateTime<Utc>,
}
