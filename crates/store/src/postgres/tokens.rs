//! idTokens on PostgreSQL: the statements of the SQLite store's token methods. `id_token` has
//! the ICU `nocase` collation (migration 0006, ADR 0047), so `=` and the primary key ignore
//! case as SQLite's `COLLATE NOCASE` does, with no `lower()` in the queries.

use unicharge_core::tokens::IdTokenRecord;

use super::PgStore;
use crate::columns::{self, timestamp};
use crate::Result;

impl PgStore {
    /// Add or replace an idToken (its status, expiry and group).
    pub async fn upsert_token(&self, token: &IdTokenRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO id_tokens (id_token, type, status, expiry, group_id_token)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id_token, type) DO UPDATE SET status = excluded.status,
                expiry = excluded.expiry, group_id_token = excluded.group_id_token",
        )
        .bind(&token.id_token)
        .bind(&token.kind)
        .bind(&token.status)
        .bind(token.expiry.as_ref().map(timestamp))
        .bind(&token.group_id_token)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The token with this value (any case) and type.
    pub async fn find_token(&self, id_token: &str, kind: &str) -> Result<Option<IdTokenRecord>> {
        let row = sqlx::query("SELECT * FROM id_tokens WHERE id_token = $1 AND type = $2")
            .bind(id_token)
            .bind(kind)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| columns::token(&r)).transpose()
    }

    pub async fn list_tokens(&self) -> Result<Vec<IdTokenRecord>> {
        let rows = sqlx::query("SELECT * FROM id_tokens ORDER BY id_token, type")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(columns::token).collect()
    }

    /// Remove the token with this value (any case) and type. True if there was one.
    pub async fn delete_token(&self, id_token: &str, kind: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM id_tokens WHERE id_token = $1 AND type = $2")
            .bind(id_token)
            .bind(kind)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
