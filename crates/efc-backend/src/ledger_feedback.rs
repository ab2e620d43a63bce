//! Back End Feedback from the core ledger: a charge report debits the contract's accounts
//! (`unicharge_core::ledger`), and what is left decides what the driver is told
//! (`obeStatusForDriver`) and whether the OBE's on-board account is corrected (`setAccount`).
//!
//! Each linked account is debited with the report's usage in its own unit: a money account
//! with the fees (feeExclVat + VAT, `fee_decimals` places), a distance account with the
//! distance covered (metres), a time account with the periods covered (seconds), an events
//! account with the detected events. Usage beyond the floor is booked as shortfall (it was
//! driven; it cannot be refused), never as an overdraft. The debit is a `Write::Ledger` in the
//! same batch as the report: both are durable before the answer leaves, or neither is.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use unicharge_core::ledger::{Account, Operation, Request, Unit};
use unicharge_efc::{account_status, dis_unit, Distance, Duration, NewAccountLimit, PaymentFee};
use unicharge_store::efc::{EfcAccountLink, EfcChargeRecord};

/// What the ledger says about a contract after a report's debit, worst account first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    Ok,
    /// Less than the link's `low_below` available.
    Low,
    /// Nothing available above the floor (or usage was booked as shortfall).
    Empty,
}

impl Standing {
    /// The on-board accountStatus an OBE in step with the ledger reports.
    pub fn account_status(self) -> u8 {
        match self {
            Standing::Ok => account_status::OK,
            Standing::Low => account_status::LOW,
            Standing::Empty => account_status::EMPTY,
        }
    }
}

/// The ledger's part of one answer.
#[derive(Debug, Default)]
pub struct Feedback {
    /// Worst standing over the linked accounts found (`None`: none linked).
    pub standing: Option<Standing>,
    /// The debits to commit with the report.
    pub debits: Vec<Request>,
    /// The on-board limits to send (`setAccount`), when the OBE is out of step.
    pub set_account: Option<NewAccountLimit>,
}

/// ISO 14906 DistanceUnit → metres.
pub fn metres(dist: u32, unit: u8) -> Decimal {
    let d = Decimal::from(dist);
    match unit {
        dis_unit::KILOMETRES => d * Decimal::from(1000),
        dis_unit::MILES => d * Decimal::new(1_609_344, 3),
        dis_unit::METRES => d,
        dis_unit::YARDS => d * Decimal::new(9144, 4),
        dis_unit::FEET => d * Decimal::new(3048, 4),
        dis_unit::DECIMETRES => d * Decimal::new(1, 1),
        dis_unit::QUARTERMETRES => d * Decimal::new(25, 2),
        // Reserved units: counted as given (and the report already carries a violation if the
        // checks know the unit is wrong).
        _ => d,
    }
}

/// The usage of `records` in `unit`.
pub fn usage(unit: &Unit, link: &EfcAccountLink, records: &[EfcChargeRecord]) -> Decimal {
    records
        .iter()
        .filter(|r| !r.no_usage)
        .map(|r| match unit {
            Unit::Money(_) => {
                let cents = u64::from(r.fee_excl_vat.unwrap_or(0)) + u64::from(r.vat.unwrap_or(0));
                Decimal::from(cents) / Decimal::from(10u64.pow(link.fee_decimals.min(18)))
            }
            Unit::Distance => r
                .distance
                .map(|d| metres(d, r.distance_unit.unwrap_or(dis_unit::KILOMETRES)))
                .unwrap_or_default(),
            Unit::Time => match (r.period_begin, r.period_end) {
                (Some(b), Some(e)) if e > b => Decimal::from((e - b).num_seconds()),
                _ => Decimal::ZERO,
            },
            Unit::Events => Decimal::from(r.events.unwrap_or(0)),
            Unit::Volume | Unit::Service(_) => Decimal::ZERO,
        })
        .sum()
}

/// Debit one linked account (a copy of the stored state) and judge what is left.
///
/// `reference` names the report (`efc:<obe>:<counter>@<received>`); the store applies the same
/// rule again on its own row, so a concurrent top-up is never lost, only possibly not yet seen
/// in this answer.
pub fn debit(
    account: &mut Account,
    link: &EfcAccountLink,
    records: &[EfcChargeRecord],
    reference: &str,
    at: DateTime<Utc>,
) -> (Option<Request>, Standing) {
    let amount = usage(&account.unit, link, records);
    let mut shortfall = Decimal::ZERO;
    let mut request = None;
    if amount > Decimal::ZERO {
        let operation = Operation::Debit {
            amount,
            partial: true,
        };
        if let Ok(m) = account.apply(reference, &operation, at) {
            shortfall = m.shortfall;
            request = Some(Request {
                account: account.id.clone(),
                reference: reference.to_string(),
                operation,
                at,
            });
        }
    }
    let available = account.available();
    let standing = if shortfall > Decimal::ZERO || available.is_zero() {
        Standing::Empty
    } else if available < link.low_below {
        Standing::Low
    } else {
        Standing::Ok
    };
    (request, standing)
}

/// Put what `account` has available into `limit` as the OBE's new limit for its unit.
pub fn set_limit(limit: &mut NewAccountLimit, account: &Account, link: &EfcAccountLink) {
    let available = account.available();
    let whole = |d: Decimal| -> u64 { u64::try_from(d.trunc()).unwrap_or(0) };
    match &account.unit {
        Unit::Money(_) => {
            let scaled = available * Decimal::from(10u64.pow(link.fee_decimals.min(18)));
            let unit = hex::decode(&link.pay_unit_hex)
                .ok()
                .filter(|u| u.len() == 2)
                .unwrap_or_else(|| vec![0x03, 0xd2]);
            limit.new_credit_limit = Some(PaymentFee {
                payment_fee_amount: whole(scaled).min(u64::from(u16::MAX)) as u16,
                payment_fee_unit: unit.into(),
            });
        }
        Unit::Distance => {
            limit.new_distance_limit = Some(Distance {
                dist: whole(available).min(u64::from(u32::MAX)) as u32,
                dis_unit: dis_unit::METRES,
            });
        }
        Unit::Time => {
            limit.new_duration_limit = Some(Duration {
                dur: whole(available).min(u64::from(u32::MAX)) as u32,
                dur_unit: 0,
            });
        }
        Unit::Events => {
            limit.new_event_limit = Some(whole(available).into());
        }
        Unit::Volume | Unit::Service(_) => {}
    }
}
