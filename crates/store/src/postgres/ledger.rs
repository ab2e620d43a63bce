//! The core ledger on PostgreSQL, as `sqlite/ledger.rs` keeps it. An operation runs on the
//! writer inside its job's savepoint: the reference is looked up (a retry gets the stored
//! movement), the account row is read `FOR UPDATE` — so two nodes' writers applying to one
//! account take turns and neither decides on a balance the other has changed (ADR 0047,
//! "shared state") — with the one reservation it names, [`Account::apply`] decides, and the
//! account, reservation and movement are written: all of it or (refused, or any error) none.

use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use unicharge_core::ledger::{self, Account, LedgerError, Movement, Request, Unit};

use super::PgStore;
use crate::columns::{parse_timestamp, timestamp};
use crate::{Result, StoreError};

fn decimal(raw: &str, column: &str) -> Result<Decimal> {
    Decimal::from_str(raw).map_err(|e| StoreError::Corrupt(format!("ledger {column}: {e}")))
}

fn movement_json(raw: &str) -> Result<Movement> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("ledger movement: {e}")))
}

/// id, unit, floor, balance, reserved, seq, label, created_at.
type AccountRow = (String, String, String, String, String, i64, String, String);

const ACCOUNT_COLUMNS: &str = "id, unit, floor, balance, reserved, seq, label, created_at";

/// An account without its reservations.
fn account_row(row: AccountRow) -> Result<Account> {
    let (id, unit, floor, balance, reserved, seq, label, created_at) = row;
    Ok(Account {
        id,
        unit: Unit::from_str(&unit).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        floor: decimal(&floor, "floor")?,
        balance: decimal(&balance, "balance")?,
        reserved: decimal(&reserved, "reserved")?,
        reservations: Default::default(),
        seq: seq as u64,
        label,
        created_at: parse_timestamp(&created_at, "created_at")?,
    })
}

/// [`crate::Write::LedgerUnchanged`]: fail unless `account` is still at movement `seq`. The
/// row stays locked until the commit, so no other writer moves it in between.
pub(super) async fn check_unchanged(
    conn: &mut PgConnection,
    account: &str,
    seq: u64,
) -> Result<()> {
    let now: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM ledger_accounts WHERE id = $1 FOR UPDATE")
            .bind(account)
            .fetch_optional(&mut *conn)
            .await?;
    match now {
        Some(now) if now as u64 == seq => Ok(()),
        Some(now) => Err(StoreError::Stale(format!(
            "ledger account {account} is at movement {now}, not {seq}"
        ))),
        None => Err(LedgerError::UnknownAccount(account.to_owned()).into()),
    }
}

/// Apply one request (see the module doc). Refusals are [`StoreError::Ledger`].
pub(super) async fn apply(conn: &mut PgConnection, request: &Request) -> Result<Movement> {
    // Locked first: a retry racing the first attempt on another node then finds its movement.
    let row: Option<AccountRow> = sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1 FOR UPDATE"
    ))
    .bind(&request.account)
    .fetch_optional(&mut *conn)
    .await?;
    let done: Option<String> = sqlx::query_scalar(
        "SELECT data FROM ledger_movements WHERE account_id = $1 AND reference = $2",
    )
    .bind(&request.account)
    .bind(&request.reference)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(done) = done {
        return Ok(ledger::replay(&movement_json(&done)?, request)?);
    }
    let Some(row) = row else {
        return Err(LedgerError::UnknownAccount(request.account.clone()).into());
    };
    let mut account = account_row(row)?;
    let name = request.operation.reservation();
    if let Some(name) = name {
        let held: Option<String> = sqlx::query_scalar(
            "SELECT amount FROM ledger_reservations WHERE account_id = $1 AND reservation = $2",
        )
        .bind(&request.account)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(held) = held {
            account
                .reservations
                .insert(name.to_string(), decimal(&held, "reservation")?);
        }
    }
    let movement = account.apply(&request.reference, &request.operation, request.at)?;
    sqlx::query(
        "UPDATE ledger_accounts SET floor = $1, balance = $2, reserved = $3, seq = $4,
            updated_at = $5
         WHERE id = $6",
    )
    .bind(account.floor.to_string())
    .bind(account.balance.to_string())
    .bind(account.reserved.to_string())
    .bind(account.seq as i64)
    .bind(timestamp(&request.at))
    .bind(&account.id)
    .execute(&mut *conn)
    .await?;
    if let Some(name) = name {
        match account.reservations.get(name) {
            Some(held) => sqlx::query(
                "INSERT INTO ledger_reservations (account_id, reservation, amount)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (account_id, reservation) DO UPDATE SET amount = excluded.amount",
            )
            .bind(&account.id)
            .bind(name)
            .bind(held.to_string()),
            None => sqlx::query(
                "DELETE FROM ledger_reservations WHERE account_id = $1 AND reservation = $2",
            )
            .bind(&account.id)
            .bind(name),
        }
        .execute(&mut *conn)
        .await?;
    }
    let data = serde_json::to_string(&movement).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO ledger_movements
            (account_id, seq, reference, kind, amount, shortfall, balance_after, at, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&movement.account)
    .bind(movement.seq as i64)
    .bind(&movement.reference)
    .bind(movement.operation.kind().as_str())
    .bind(movement.amount.to_string())
    .bind(movement.shortfall.to_string())
    .bind(movement.balance_after.to_string())
    .bind(timestamp(&movement.at))
    .bind(data)
    .execute(&mut *conn)
    .await?;
    Ok(movement)
}

async fn movement(pool: &PgPool, account: &str, reference: &str) -> Result<Option<Movement>> {
    let raw: Option<String> = sqlx::query_scalar(
        "SELECT data FROM ledger_movements WHERE account_id = $1 AND reference = $2",
    )
    .bind(account)
    .bind(reference)
    .fetch_optional(pool)
    .await?;
    raw.map(|r| movement_json(&r)).transpose()
}

impl PgStore {
    /// [`crate::Store::ledger_open`]: a new account starts empty.
    pub async fn ledger_open(&self, account: &Account) -> Result<()> {
        if account.seq != 0 || !account.balance.is_zero() || !account.reserved.is_zero() {
            return Err(StoreError::Corrupt(
                "a new account starts empty: top it up with an operation".into(),
            ));
        }
        let done = sqlx::query(
            "INSERT INTO ledger_accounts (id, unit, floor, balance, reserved, seq, label,
                created_at, updated_at)
             VALUES ($1, $2, $3, '0', '0', 0, $4, $5, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&account.id)
        .bind(account.unit.code())
        .bind(account.floor.to_string())
        .bind(&account.label)
        .bind(timestamp(&account.created_at))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(LedgerError::AccountExists(account.id.clone()).into());
        }
        Ok(())
    }

    /// [`crate::Store::ledger_set_label`].
    pub async fn ledger_set_label(&self, id: &str, label: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE ledger_accounts SET label = $1 WHERE id = $2")
            .bind(label)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// [`crate::Store::ledger_apply`]: group-committed through the writer, then the movement
    /// it recorded (or the one recorded the first time, for a retry) is read back.
    pub async fn ledger_apply(&self, request: &Request) -> Result<Movement> {
        self.write(vec![crate::Write::Ledger(Box::new(request.clone()))])
            .await?;
        movement(&self.pool, &request.account, &request.reference)
            .await?
            .ok_or_else(|| StoreError::Corrupt("ledger movement missing after commit".into()))
    }

    /// [`crate::Store::ledger_account`]: the account with all its reservations, read in one
    /// snapshot (REPEATABLE READ) so the two agree.
    pub async fn ledger_account(&self, id: &str) -> Result<Option<Account>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *tx)
            .await?;
        let row: Option<AccountRow> = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            // End the transaction now: a dropped sqlx transaction is rolled back only when its
            // connection is next used, and until then it holds its locks (a DROP or an ALTER
            // of the table would wait on an idle pooled connection).
            tx.commit().await?;
            return Ok(None);
        };
        let mut account = account_row(row)?;
        let held: Vec<(String, String)> = sqlx::query_as(
            "SELECT reservation, amount FROM ledger_reservations WHERE account_id = $1
             ORDER BY reservation",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        for (name, amount) in held {
            account
                .reservations
                .insert(name, decimal(&amount, "reservation")?);
        }
        tx.commit().await?;
        Ok(Some(account))
    }

    /// [`crate::Store::ledger_accounts`]: every account, without reservations, by id.
    pub async fn ledger_accounts(&self) -> Result<Vec<Account>> {
        let rows: Vec<AccountRow> = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(account_row).collect()
    }

    /// [`crate::Store::ledger_movements`]: the newest `limit` (at least one), newest first.
    pub async fn ledger_movements(&self, account: &str, limit: u32) -> Result<Vec<Movement>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT data FROM ledger_movements WHERE account_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(account)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| movement_json(r)).collect()
    }

    /// [`crate::Store::ledger_movement`].
    pub async fn ledger_movement(
        &self,
        account: &str,
        reference: &str,
    ) -> Result<Option<Movement>> {
        movement(&self.pool, account, reference).await
    }
}
