//! The PostgreSQL store (issue 17, ADR 0047): the same schema as SQLite, translated to the
//! PostgreSQL dialect (`migrations-postgres/`), for operators who run several nodes over one
//! database.
//!
//! Not selectable yet: it does not implement [`crate::Store`] until every trait method exists
//! (ADR 0047 keeps the table of what is done). What exists is usable and tested against a
//! real server: opening with migrations, the group-commit writer, and the CSMS core.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::ConnectOptions;

use crate::{Result, StoreError};

/// The PostgreSQL translation of `migrations/`: same versions, same names, same tables,
/// columns and indexes (checked by `tests/postgres_schema.rs`).
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations-postgres");

/// Apply pending migrations to the schema `pool` connects to (its `search_path`).
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATIONS.run(pool).await?;
    Ok(())
}

/// Connection options from a `postgres://` URL, with statement logging off (the writer runs
/// thousands of statements a second; sqlx would log each at INFO).
pub fn connect_options(url: &str) -> Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url)?.disable_statement_logging())
}

/// A pool on `options`; an unreachable server becomes an error that says what to check.
pub(crate) async fn connect(options: PgConnectOptions, connections: u32) -> Result<PgPool> {
    let (host, port, database) = (
        options.get_host().to_owned(),
        options.get_port(),
        options.get_database().unwrap_or("(default)").to_owned(),
    );
    PgPoolOptions::new()
        .max_connections(connections)
        .connect_with(options)
        .await
        .map_err(|e| match e {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => {
                StoreError::Database(sqlx::Error::Configuration(
                    format!(
                        "cannot reach PostgreSQL at {host}:{port} (database {database}): {e}; \
                         check that the server is running and listening there, and the \
                         database URL in the configuration"
                    )
                    .into(),
                ))
            }
            other => StoreError::Database(other),
        })
}
