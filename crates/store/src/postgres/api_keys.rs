//! Operator API keys on PostgreSQL: the statements of the SQLite store's methods.

use chrono::Utc;

use super::PgStore;
use crate::columns::{self, timestamp};
use crate::{ApiKeyRecord, Result};

impl PgStore {
    /// Store a new key (its salted hash; the secret itself is never stored).
    pub async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, salt, secret_hash, created_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.role)
        .bind(&key.salt)
        .bind(&key.secret_hash)
        .bind(timestamp(&key.created_at))
        .bind(key.revoked_at.as_ref().map(timestamp))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| columns::api_key(&r)).transpose()
    }

    /// Every key, oldest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let rows = sqlx::query("SELECT * FROM api_keys ORDER BY created_at")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(columns::api_key).collect()
    }

    /// Revoke a key now. True if it existed and was not revoked yet.
    pub async fn revoke_api_key(&self, id: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(timestamp(&Utc::now()))
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}
