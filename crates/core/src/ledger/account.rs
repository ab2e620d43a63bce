//! One account and the pure rule of every operation on it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{LedgerError, Movement, Operation, Unit};

/// An account: a balance in one unit above a floor, and the reservations held against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: String,
    pub unit: Unit,
    /// The balance never goes below this (0 for prepaid; negative for a credit limit).
    pub floor: Decimal,
    /// Top-ups − debits − commits.
    pub balance: Decimal,
    /// Sum of the open reservations.
    pub reserved: Decimal,
    /// Open reservations by name. The store loads only the one an operation names: an
    /// operation reads and writes no other.
    #[serde(default)]
    pub reservations: BTreeMap<String, Decimal>,
    /// Movements applied (the `seq` of the last one).
    pub seq: u64,
    /// Free text for the operator.
    #[serde(default)]
    pub label: String,
    pub created_at: DateTime<Utc>,
}

fn positive(what: &'static str, amount: Decimal) -> Result<(), LedgerError> {
    if amount > Decimal::ZERO {
        Ok(())
    } else {
        Err(LedgerError::InvalidAmount {
            what,
            rule: "greater than 0",
            amount,
        })
    }
}

fn not_negative(what: &'static str, amount: Decimal) -> Result<(), LedgerError> {
    if amount >= Decimal::ZERO {
        Ok(())
    } else {
        Err(LedgerError::InvalidAmount {
            what,
            rule: "0 or more",
            amount,
        })
    }
}

impl Account {
    /// A new, empty account (balance 0). The floor must not be above 0.
    pub fn open(
        id: impl Into<String>,
        unit: Unit,
        floor: Decimal,
        at: DateTime<Utc>,
    ) -> Result<Account, LedgerError> {
        if floor > Decimal::ZERO {
            return Err(LedgerError::InvalidAmount {
                what: "floor",
                rule: "0 or less",
                amount: floor,
            });
        }
        Ok(Account {
            id: id.into(),
            unit,
            floor,
            balance: Decimal::ZERO,
            reserved: Decimal::ZERO,
            reservations: BTreeMap::new(),
            seq: 0,
            label: String::new(),
            created_at: at,
        })
    }

    /// What can still be debited or reserved: balance − reserved − floor (never negative).
    pub fn available(&self) -> Decimal {
        (self.balance - self.reserved - self.floor).max(Decimal::ZERO)
    }

    fn unknown(&self, reservation: &str) -> LedgerError {
        LedgerError::UnknownReservation {
            account: self.id.clone(),
            reservation: reservation.to_string(),
        }
    }

    /// Apply `operation`: all of it, or (on an error) nothing. Does not know references
    /// already used: [`super::Ledger`] and the store check those before calling this.
    pub fn apply(
        &mut self,
        reference: &str,
        operation: &Operation,
        at: DateTime<Utc>,
    ) -> Result<Movement, LedgerError> {
        if reference.is_empty() || reference.len() > 256 {
            return Err(LedgerError::InvalidReference);
        }
        let available = self.available();
        // (balance delta, reserved delta, amount, shortfall, reservation's new value)
        let (db, dr, amount, shortfall, reservation): (_, _, _, _, Option<Option<Decimal>>) =
            match operation {
                Operation::TopUp { amount } => {
                    positive("top-up amount", *amount)?;
                    (*amount, Decimal::ZERO, *amount, Decimal::ZERO, None)
                }
                Operation::Debit { amount, partial } => {
                    not_negative("debit amount", *amount)?;
                    let taken = if *amount <= available {
                        *amount
                    } else if *partial {
                        available
                    } else {
                        return Err(self.insufficient(*amount));
                    };
                    (-taken, Decimal::ZERO, taken, *amount - taken, None)
                }
                Operation::Reserve {
                    reservation,
                    amount,
                    minimum,
                } => {
                    positive("reservation amount", *amount)?;
                    not_negative("reservation minimum", *minimum)?;
                    let granted = (*amount).min(available);
                    if granted < *minimum {
                        return Err(self.insufficient(*minimum));
                    }
                    let held = self.reservations.get(reservation).copied();
                    let new = held.unwrap_or(Decimal::ZERO) + granted;
                    (
                        Decimal::ZERO,
                        granted,
                        granted,
                        Decimal::ZERO,
                        Some(Some(new)),
                    )
                }
                Operation::Commit {
                    reservation,
                    used,
                    close,
                } => {
                    not_negative("used units", *used)?;
                    let held = *self
                        .reservations
                        .get(reservation)
                        .ok_or_else(|| self.unknown(reservation))?;
                    let from_reservation = (*used).min(held);
                    let beyond = *used - from_reservation;
                    let extra = beyond.min(available);
                    let left = held - from_reservation;
                    let (released, keep) = if *close {
                        (left, None)
                    } else {
                        (Decimal::ZERO, Some(left))
                    };
                    (
                        -(from_reservation + extra),
                        -(from_reservation + released),
                        from_reservation + extra,
                        beyond - extra,
                        Some(keep),
                    )
                }
                Operation::Release { reservation } => {
                    let held = *self
                        .reservations
                        .get(reservation)
                        .ok_or_else(|| self.unknown(reservation))?;
                    (Decimal::ZERO, -held, held, Decimal::ZERO, Some(None))
                }
                Operation::SetFloor { floor } => {
                    if *floor > Decimal::ZERO {
                        return Err(LedgerError::InvalidAmount {
                            what: "floor",
                            rule: "0 or less",
                            amount: *floor,
                        });
                    }
                    if self.balance - self.reserved < *floor {
                        return Err(LedgerError::InsufficientFunds {
                            account: self.id.clone(),
                            requested: *floor - self.floor,
                            available,
                        });
                    }
                    (
                        Decimal::ZERO,
                        Decimal::ZERO,
                        Decimal::ZERO,
                        Decimal::ZERO,
                        None,
                    )
                }
            };
        // Nothing has changed yet; from here on nothing can fail.
        if let Operation::SetFloor { floor } = operation {
            self.floor = *floor;
        }
        if let (Some(name), Some(new)) = (operation.reservation(), reservation) {
            match new {
                Some(v) => self.reservations.insert(name.to_string(), v),
                None => self.reservations.remove(name),
            };
        }
        self.balance += db;
        self.reserved += dr;
        self.seq += 1;
        debug_assert!(self.balance - self.reserved >= self.floor);
        Ok(Movement {
            account: self.id.clone(),
            seq: self.seq,
            reference: reference.to_string(),
            operation: operation.clone(),
            balance_delta: db,
            reserved_delta: dr,
            balance_after: self.balance,
            reserved_after: self.reserved,
            amount,
            shortfall,
            at,
        })
    }

    fn insufficient(&self, requested: Decimal) -> LedgerError {
        LedgerError::InsufficientFunds {
            account: self.id.clone(),
            requested,
            available: self.available(),
        }
    }
}
