//! Row → record mapping for the pool's reads (the cached records are in `columns`).

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

pub(crate) use crate::columns::{
    answer, command, connector, event, issued_certificate, report, report_part, security_event,
    transaction_event, variable,
};

use crate::{ApiKeyRecord, Result};

pub fn api_key(row: &SqliteRow) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        salt: row.try_get("salt")?,
        secret_hash: row.try_get("secret_hash")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}
