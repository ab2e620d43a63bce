//! The ledger: prepaid and postpaid accounts that every front door debits.
//!
//! One [`Account`] holds one balance in one [`Unit`] (money in a currency, seconds, octets,
//! metres, events, or a service's own units) above a floor it never goes below. A customer with
//! money *and* a bundle of minutes has two accounts; which accounts belong to whom is the front
//! door's business (an Ro subscriber, an EFC contract, an OCPI session limit), not the ledger's.
//!
//! Everything that changes an account is an [`Operation`] with a **reference** naming what caused
//! it (a CCR, a charge report, an operator request). Applying it yields a [`Movement`], the
//! traceable record of what changed. The same reference on the same account is applied once: a
//! retry returns the movement stored the first time ([`Ledger::apply`], and the store does the
//! same with a unique key).
//!
//! Reservations follow online charging: **reserve** on a grant (all, part, or nothing of what
//! was asked, as the balance allows), **commit** the units actually used (the reservation pays
//! first; usage beyond it is debited as far as the floor allows and the rest recorded as
//! shortfall, because usage that happened cannot be refused), **release** the rest.
//!
//! Invariant, after every operation: `balance − reserved ≥ floor`, and `balance` = top-ups −
//! debits − commits. Amounts are exact decimals (`rust_decimal`), never floats.
//!
//! No I/O here: the store persists accounts and movements (`unicharge_store`, tables
//! `ledger_*`) by running [`Account::apply`] inside its write transaction.

mod account;
mod memory;
mod operation;
mod unit;

pub use account::Account;
pub use memory::{replay, Ledger};
pub use operation::{Movement, MovementKind, Operation, Request};
pub use unit::Unit;

use rust_decimal::Decimal;

/// Why an operation was refused. A refused operation changes nothing and records nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("account {0} does not exist")]
    UnknownAccount(String),
    #[error("account {0} already exists")]
    AccountExists(String),
    #[error("account {account}: reservation {reservation} is not open")]
    UnknownReservation {
        account: String,
        reservation: String,
    },
    #[error("{what} must be {rule}, got {amount}")]
    InvalidAmount {
        what: &'static str,
        rule: &'static str,
        amount: Decimal,
    },
    #[error("account {account}: {requested} asked, only {available} available above the floor")]
    InsufficientFunds {
        account: String,
        requested: Decimal,
        available: Decimal,
    },
    #[error("account {account}: reference {reference} was already used for another operation")]
    ReferenceConflict { account: String, reference: String },
    #[error("a reference must be 1 to 256 characters")]
    InvalidReference,
    #[error(
        "{0:?} is not a unit (money:<ISO 4217>, time, volume, distance, events, service:<id>)"
    )]
    InvalidUnit(String),
}
