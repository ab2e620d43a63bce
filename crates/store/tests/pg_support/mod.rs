//! A fresh PostgreSQL schema per test (ADR 0047): tests share one database (the one
//! `UNICHARGE_TEST_POSTGRES_URL` names) and run in parallel, so each gets its own schema,
//! reached through `search_path` on every connection, and dropped when the test ends — also
//! when it panics.

#![allow(dead_code)] // each test binary uses part of it

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use unicharge_core::{SecurityProfile, Station, StationId};
use unicharge_store::postgres::{connect_options, PgStore, StoreConfig, WriterConfig};

pub const URL_VAR: &str = "UNICHARGE_TEST_POSTGRES_URL";

/// The server URL, or `None` after saying once why the test does nothing.
pub fn url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!(
                "{test}: skipped, {URL_VAR} is not set (no PostgreSQL; .ci/run or \
                 .ci/services.sh provide one)"
            );
            None
        }
    }
}

/// A schema of its own; dropped (with everything in it) on drop.
pub struct TestSchema {
    pub url: String,
    pub name: String,
}

impl TestSchema {
    /// Create `name`-derived fresh schema, or `None` when no server is configured.
    pub async fn create(test: &str) -> Option<TestSchema> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let url = url(test)?;
        let name = format!(
            "t_{}_{}_{}",
            test.to_ascii_lowercase(),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect_with(&connect_options(&url).unwrap())
            .await
            .unwrap_or_else(|e| panic!("{URL_VAR}={url}: {e}"));
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        Some(TestSchema { url, name })
    }

    /// Connection options whose `search_path` is this schema only.
    pub fn options(&self) -> PgConnectOptions {
        connect_options(&self.url)
            .unwrap()
            .options([("search_path", self.name.as_str())])
    }

    pub async fn pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(4)
            .connect_with(self.options())
            .await
            .unwrap()
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Drop may run inside the test's runtime, which cannot block on its own futures: a
        // thread with a runtime of its own drops the schema.
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut admin = PgConnection::connect_with(&connect_options(&url).unwrap())
                    .await
                    .unwrap();
                sqlx::query(&format!("DROP SCHEMA {name} CASCADE"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
            })
        })
        .join();
        if dropped.is_err() && !std::thread::panicking() {
            panic!("could not drop test schema {}", self.name);
        }
    }
}

/// A station id that is known to be valid.
pub fn id(s: &str) -> StationId {
    StationId::new(s).unwrap()
}

/// A fixed instant, written as RFC 3339.
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// A PostgreSQL store on a fresh schema, or `None` (test skipped) without a server.
pub async fn store_with(test: &str, writer: WriterConfig) -> Option<(TestSchema, PgStore)> {
    let schema = TestSchema::create(test).await?;
    let config = StoreConfig {
        writer,
        ..StoreConfig::default()
    };
    let store = PgStore::open_with(schema.options(), config).await.unwrap();
    Some((schema, store))
}

pub async fn store(test: &str) -> Option<(TestSchema, PgStore)> {
    store_with(test, WriterConfig::default()).await
}

/// Register station `name` (Basic auth, a password hash, created at a fixed instant).
pub async fn station(store: &PgStore, name: &str) {
    let mut s = Station::new(
        id(name),
        SecurityProfile::BasicAuth,
        at("2026-03-01T10:00:00Z"),
    );
    s.password_hash = Some("$argon2id$fake".into());
    store.create_station(&s).await.unwrap();
}
