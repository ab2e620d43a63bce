//! Which store the server runs on: the SQLite file in `data_dir` (one node, the default), or
//! PostgreSQL when `[store] url` (or `UNICHARGE_DATABASE_URL`) is a `postgres://` URL, which
//! several nodes share (issue 17, ADR 0047). Everything above this module sees the store
//! traits only.

use std::sync::Arc;

use anyhow::Context;
use unicharge_store::ocpi::OcpiStore;
use unicharge_store::postgres::PgStore;
use unicharge_store::sqlite::SqliteStore;
use unicharge_store::Store;

use crate::settings::Settings;

/// The environment variable that overrides `[store] url` (containers, secrets managers).
pub const DATABASE_URL_VAR: &str = "UNICHARGE_DATABASE_URL";

/// The store behind both trait views the server uses.
pub struct Stores {
    pub store: Arc<dyn Store>,
    pub ocpi: Arc<dyn OcpiStore>,
    /// What the operator reads at start-up: the file, or the server without its password.
    pub described: String,
}

/// The database URL in effect: the environment's, else the configuration's; empty is unset.
pub fn database_url(settings: &Settings) -> Option<String> {
    std::env::var(DATABASE_URL_VAR)
        .ok()
        .or_else(|| settings.store.url.clone())
        .filter(|u| !u.trim().is_empty())
}

/// Open (and migrate) the configured store.
pub async fn open(settings: &Settings) -> anyhow::Result<Stores> {
    match database_url(settings) {
        None => {
            crate::create_private_dir(&settings.data_dir).with_context(|| {
                format!(
                    "cannot create the data directory {} (set data_dir in the configuration)",
                    settings.data_dir.display()
                )
            })?;
            let path = settings.database_path();
            let store = SqliteStore::open(&path, settings.store.durability)
                .await
                .with_context(|| format!("cannot open the database {}", path.display()))?;
            let store = Arc::new(store);
            Ok(Stores {
                store: store.clone(),
                ocpi: store,
                described: format!("SQLite {}", path.display()),
            })
        }
        Some(url) => {
            let described = format!("PostgreSQL {}", without_password(&url)?);
            let store = PgStore::open(&url)
                .await
                .with_context(|| format!("cannot open the store at {described}"))?;
            let store = Arc::new(store);
            Ok(Stores {
                store: store.clone(),
                ocpi: store,
                described,
            })
        }
    }
}

/// `postgres://user@host:port/db`: the URL as it may be logged. Anything but a PostgreSQL URL
/// is refused with what to write instead.
fn without_password(url: &str) -> anyhow::Result<String> {
    let scheme = url.split_once("://").map(|(s, _)| s);
    anyhow::ensure!(
        matches!(scheme, Some("postgres" | "postgresql")),
        "store.url / {DATABASE_URL_VAR} must be a postgres:// URL \
         (postgres://user:password@host:5432/database), or be left unset for the SQLite file \
         in data_dir"
    );
    let options = unicharge_store::postgres::connect_options(url).map_err(|e| {
        anyhow::anyhow!(
            "store.url / {DATABASE_URL_VAR} is not a valid PostgreSQL URL ({e}): write \
             postgres://user:password@host:5432/database"
        )
    })?;
    Ok(format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(options.get_username())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logged_url_never_carries_the_password() {
        let shown = without_password("postgres://unicharge:s3cret@db.example:5433/cs").unwrap();
        assert_eq!(shown, "postgres://unicharge@db.example:5433/cs");
        assert!(without_password("mysql://u:p@h/db")
            .unwrap_err()
            .to_string()
            .contains("must be a postgres:// URL"));
        assert!(without_password("not a url").is_err());
    }
}
