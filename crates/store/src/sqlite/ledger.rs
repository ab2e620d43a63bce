//! The core ledger on SQLite. An operation runs on the writer inside its job's savepoint:
//! the reference is looked up (a retry gets the stored movement), the account row and the one
//! reservation it names are read, [`Account::apply`] decides, and the account, reservation and
//! movement are written — all of it or (refused, or any error) none of it.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use rust_decimal::Decimal;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;
use unicharge_core::ledger::{self, Account, LedgerError, Movement, Request, Unit};

use super::columns::{parse_timestamp, timestamp};
use crate::{Result, StoreError};

fn decimal(raw: &str, column: &str) -> Result<Decimal> {
    Decimal::from_str(raw).map_err(|e| StoreError::Corrupt(format!("ledger {column}: {e}")))
}

fn movement_json(raw: &str) -> Result<Movement> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("ledger movement: {e}")))
}

/// Apply one request (see the module doc). Refusals are [`StoreError::Ledger`].
/// [`crate::Write::LedgerUnchanged`]: fail unless `account` is still at movement `seq`.
pub(super) fn check_unchanged(conn: &Connection, account: &str, seq: u64) -> Result<()> {
    let now: Option<i64> = conn
        .prepare_cached("SELECT seq FROM ledger_accounts WHERE id = ?")?
        .query_row(params![account], |r| r.get(0))
        .optional()?;
    match now {
        Some(now) if now as u64 == seq => Ok(()),
        Some(now) => Err(StoreError::Stale(format!(
            "ledger account {account} is at movement {now}, not {seq}"
        ))),
        None => Err(LedgerError::UnknownAccount(account.to_owned()).into()),
    }
}

pub(super) fn apply(conn: &Connection, request: &Request) -> Result<Movement> {
    let done: Option<String> = conn
        .prepare_cached("SELECT data FROM ledger_movements WHERE account_id = ? AND reference = ?")?
        .query_row(params![request.account, request.reference], |r| r.get(0))
        .optional()?;
    if let Some(done) = done {
        return Ok(ledger::replay(&movement_json(&done)?, request)?);
    }
    let row = conn
        .prepare_cached(
            "SELECT unit, floor, balance, reserved, seq, label, created_at
             FROM ledger_accounts WHERE id = ?",
        )?
        .query_row(params![request.account], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .optional()?;
    let Some((unit, floor, balance, reserved, seq, label, created_at)) = row else {
        return Err(LedgerError::UnknownAccount(request.account.clone()).into());
    };
    let mut account = Account {
        id: request.account.clone(),
        unit: Unit::from_str(&unit).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        floor: decimal(&floor, "floor")?,
        balance: decimal(&balance, "balance")?,
        reserved: decimal(&reserved, "reserved")?,
        reservations: Default::default(),
        seq: seq as u64,
        label,
        created_at: parse_timestamp(&created_at, "created_at")?,
    };
    let name = request.operation.reservation();
    if let Some(name) = name {
        let held: Option<String> = conn
            .prepare_cached(
                "SELECT amount FROM ledger_reservations WHERE account_id = ? AND reservation = ?",
            )?
            .query_row(params![request.account, name], |r| r.get(0))
            .optional()?;
        if let Some(held) = held {
            account
                .reservations
                .insert(name.to_string(), decimal(&held, "reservation")?);
        }
    }
    let movement = account.apply(&request.reference, &request.operation, request.at)?;
    conn.prepare_cached(
        "UPDATE ledger_accounts SET floor = ?, balance = ?, reserved = ?, seq = ?, updated_at = ?
         WHERE id = ?",
    )?
    .execute(params![
        account.floor.to_string(),
        account.balance.to_string(),
        account.reserved.to_string(),
        account.seq as i64,
        timestamp(&request.at),
        account.id,
    ])?;
    if let Some(name) = name {
        match account.reservations.get(name) {
            Some(held) => conn
                .prepare_cached(
                    "INSERT INTO ledger_reservations (account_id, reservation, amount)
                     VALUES (?, ?, ?)
                     ON CONFLICT (account_id, reservation) DO UPDATE SET amount = excluded.amount",
                )?
                .execute(params![account.id, name, held.to_string()])?,
            None => conn
                .prepare_cached(
                    "DELETE FROM ledger_reservations WHERE account_id = ? AND reservation = ?",
                )?
                .execute(params![account.id, name])?,
        };
    }
    let data = serde_json::to_string(&movement).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO ledger_movements
            (account_id, seq, reference, kind, amount, shortfall, balance_after, at, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        movement.account,
        movement.seq as i64,
        movement.reference,
        movement.operation.kind().as_str(),
        movement.amount.to_string(),
        movement.shortfall.to_string(),
        movement.balance_after.to_string(),
        timestamp(&movement.at),
        data,
    ])?;
    Ok(movement)
}

/// The account with all its reservations, read on the writer's connection (to refresh the
/// cache after a commit; what [`account`] reads through the pool).
pub(super) fn account_on(conn: &Connection, id: &str) -> Result<Option<Account>> {
    let row = conn
        .prepare_cached(
            "SELECT unit, floor, balance, reserved, seq, label, created_at
             FROM ledger_accounts WHERE id = ?",
        )?
        .query_row(params![id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .optional()?;
    let Some((unit, floor, balance, reserved, seq, label, created_at)) = row else {
        return Ok(None);
    };
    let mut account = Account {
        id: id.to_string(),
        unit: Unit::from_str(&unit).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        floor: decimal(&floor, "floor")?,
        balance: decimal(&balance, "balance")?,
        reserved: decimal(&reserved, "reserved")?,
        reservations: Default::default(),
        seq: seq as u64,
        label,
        created_at: parse_timestamp(&created_at, "created_at")?,
    };
    let mut statement = conn.prepare_cached(
        "SELECT reservation, amount FROM ledger_reservations WHERE account_id = ?
         ORDER BY reservation",
    )?;
    let held = statement
        .query_map(params![id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (name, amount) in held {
        account
            .reservations
            .insert(name, decimal(&amount, "reservation")?);
    }
    Ok(Some(account))
}

pub(super) async fn open(pool: &SqlitePool, account: &Account) -> Result<()> {
    if account.seq != 0 || !account.balance.is_zero() || !account.reserved.is_zero() {
        return Err(StoreError::Corrupt(
            "a new account starts empty: top it up with an operation".into(),
        ));
    }
    let done = sqlx::query(
        "INSERT INTO ledger_accounts (id, unit, floor, balance, reserved, seq, label, created_at,
            updated_at)
         VALUES (?, ?, ?, '0', '0', 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&account.id)
    .bind(account.unit.code())
    .bind(account.floor.to_string())
    .bind(&account.label)
    .bind(account.created_at)
    .bind(account.created_at)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(LedgerError::AccountExists(account.id.clone()).into());
    }
    Ok(())
}

pub(super) async fn set_label(pool: &SqlitePool, id: &str, label: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE ledger_accounts SET label = ? WHERE id = ?")
        .bind(label)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

fn account_row(row: &SqliteRow) -> Result<Account> {
    let text = |c: &str| -> Result<String> { Ok(row.try_get::<String, _>(c)?) };
    Ok(Account {
        id: text("id")?,
        unit: Unit::from_str(&text("unit")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        floor: decimal(&text("floor")?, "floor")?,
        balance: decimal(&text("balance")?, "balance")?,
        reserved: decimal(&text("reserved")?, "reserved")?,
        reservations: Default::default(),
        seq: row.try_get::<i64, _>("seq")? as u64,
        label: text("label")?,
        created_at: row.try_get::<DateTime<Utc>, _>("created_at")?,
    })
}

const ACCOUNT_COLUMNS: &str = "id, unit, floor, balance, reserved, seq, label, created_at";

pub(super) async fn account(pool: &SqlitePool, id: &str) -> Result<Option<Account>> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut account = account_row(&row)?;
    let held = sqlx::query(
        "SELECT reservation, amount FROM ledger_reservations WHERE account_id = ?
         ORDER BY reservation",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    for r in &held {
        account.reservations.insert(
            r.try_get("reservation")?,
            decimal(&r.try_get::<String, _>("amount")?, "reservation")?,
        );
    }
    tx.commit().await?;
    Ok(Some(account))
}

pub(super) async fn accounts(pool: &SqlitePool) -> Result<Vec<Account>> {
    let rows = sqlx::query(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts ORDER BY id"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(account_row).collect()
}

pub(super) async fn movements(
    pool: &SqlitePool,
    account: &str,
    limit: u32,
) -> Result<Vec<Movement>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT data FROM ledger_movements WHERE account_id = ? ORDER BY seq DESC LIMIT ?",
    )
    .bind(account)
    .bind(i64::from(limit.max(1)))
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| movement_json(r)).collect()
}

pub(super) async fn movement(
    pool: &SqlitePool,
    account: &str,
    reference: &str,
) -> Result<Option<Movement>> {
    let raw: Option<String> = sqlx::query_scalar(
        "SELECT data FROM ledger_movements WHERE account_id = ? AND reference = ?",
    )
    .bind(account)
    .bind(reference)
    .fetch_optional(pool)
    .await?;
    raw.map(|r| movement_json(&r)).transpose()
}
