//! Test harness: a real unicharge server on ephemeral loopback ports, provisioned the way an
//! operator does it (a bootstrap file), with its generated TLS material, plus helpers that make
//! the certificates the OCTT configuration asks for.
#![allow(dead_code)] // each test binary uses its own part of the harness

pub mod payloads;

use std::path::PathBuf;
use std::time::Duration;

use unicharge_csms::security::pki::{self, KeyKind, PkiPaths};
use unicharge_server::{Server, Settings};
use unicharge_sim::octt::{Target, Verdict};
use unicharge_store::sqlite::Durability;

/// The password the OCTT is configured with in these tests (16–40 identifierString chars).
pub const PASSWORD: &str = "octt-Basic-Auth-Password-01";

/// A station to provision before the server starts.
pub struct StationSpec {
    pub id: &'static str,
    pub profile: u8,
    pub password: Option<&'static str>,
}

impl StationSpec {
    pub fn new(id: &'static str, profile: u8) -> Self {
        StationSpec {
            id,
            profile,
            password: if profile < 3 { Some(PASSWORD) } else { None },
        }
    }
}

/// A running server and the folder it lives in.
pub struct TestCsms {
    pub server: Server,
    pub dir: tempfile::TempDir,
    pub tls: PkiPaths,
}

/// `UNICHARGE_TEST_ENGINE=postgres` (with `UNICHARGE_TEST_POSTGRES_URL`, as `.ci/run` sets
/// for its PostgreSQL pass) runs the server on PostgreSQL instead of SQLite.
pub const ENGINE_VAR: &str = "UNICHARGE_TEST_ENGINE";

/// The file, in a test's directory, that names its PostgreSQL store URL: a server restarted on
/// the same directory finds the same schema, as it would find the same SQLite file.
const POSTGRES_URL_FILE: &str = "postgres-url";

/// With the PostgreSQL engine selected: the store URL for the test directory `dir` — a fresh
/// schema of its own (suites run in parallel), or the one made before for `dir`. The schemas
/// live as long as the throwaway server `.ci/services.sh` starts.
pub fn postgres_url(dir: &std::path::Path) -> Option<String> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    if std::env::var(ENGINE_VAR).ok().as_deref() != Some("postgres") {
        return None;
    }
    let file = dir.join(POSTGRES_URL_FILE);
    if let Ok(url) = std::fs::read_to_string(&file) {
        return Some(url);
    }
    let url = std::env::var("UNICHARGE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| panic!("{ENGINE_VAR}=postgres needs UNICHARGE_TEST_POSTGRES_URL"));
    let schema = format!(
        "srv_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let url = fresh_schema(&url, &schema);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&file, &url).unwrap();
    Some(url)
}

/// A store URL on a fresh schema `schema` of the server at `url` (dropped first if a run
/// before left it): every connection made with the URL works in that schema.
fn fresh_schema(url: &str, schema: &str) -> String {
    let statements = [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ];
    postgres_blocking(url, |mut admin| async move {
        for sql in statements {
            sqlx::query(&sql).execute(&mut admin).await.unwrap();
        }
    });
    let join = if url.contains('?') { '&' } else { '?' };
    format!("{url}{join}options[search_path]={schema}")
}

/// For servers that share one store (several nodes): a store URL on a fresh schema named
/// after `test`, or `None` — the test then says it skipped — without
/// `UNICHARGE_TEST_POSTGRES_URL`.
pub fn shared_postgres_store(test: &str) -> Option<String> {
    let Some(url) = std::env::var("UNICHARGE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("{test}: skipped, UNICHARGE_TEST_POSTGRES_URL is not set (.ci/run sets it)");
        return None;
    };
    Some(fresh_schema(
        &url,
        &format!("{test}_{}", std::process::id()),
    ))
}

/// Run `work` on a connection to `url`, from sync code (possibly inside a test's runtime): on
/// a thread with a runtime of its own.
fn postgres_blocking<F, Fut, T>(url: &str, work: F) -> T
where
    F: FnOnce(sqlx::PgConnection) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
    T: Send + 'static,
{
    let url = url.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            use sqlx::Connection;
            let conn = sqlx::PgConnection::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
            work(conn).await
        })
    })
    .join()
    .unwrap()
}

/// For a test that inspects the SQLite file itself (its permissions, its rows by hand): SQLite
/// whatever the engine of the run.
pub fn sqlite_only(settings: &mut Settings) {
    settings.store.url = None;
}

/// Settings for tests: loopback, ephemeral ports, no HTTP side door, short timers.
pub fn test_settings(dir: &std::path::Path) -> Settings {
    let mut s = Settings {
        data_dir: dir.join("data"),
        ..Settings::default()
    };
    s.csms.ws_listen = Some("127.0.0.1:0".parse().unwrap());
    s.csms.wss_listen = Some("127.0.0.1:0".parse().unwrap());
    s.csms.server_names = vec!["localhost".into(), "127.0.0.1".into()];
    s.csms.ping_interval = Duration::from_secs(5);
    s.csms.call_timeout = Duration::from_secs(5);
    s.csms.handshake_timeout = Duration::from_secs(5);
    // E14: ask a reconnecting station about its ongoing transactions at once.
    s.csms.transaction_status_delay = Duration::ZERO;
    s.http.listen = None;
    s.efc.tcp_listen = Some("127.0.0.1:0".parse().unwrap());
    s.efc.http_listen = Some("127.0.0.1:0".parse().unwrap());
    s.diameter.listen = None;
    s.store.durability = Durability::Normal;
    s.store.url = postgres_url(dir);
    s
}

impl TestCsms {
    /// What `/metrics` answers now (Prometheus text); needs the HTTP listener.
    pub async fn metrics(&self) -> String {
        let url = format!("http://{}/metrics", self.server.http_addr.unwrap());
        reqwest::get(url).await.unwrap().text().await.unwrap()
    }

    /// Start with these stations provisioned through a bootstrap file.
    pub async fn start(stations: &[StationSpec]) -> TestCsms {
        Self::start_with(stations, |_| {}).await
    }

    /// Start with these stations and adjusted settings.
    pub async fn start_with(
        stations: &[StationSpec],
        adjust: impl FnOnce(&mut Settings),
    ) -> TestCsms {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = test_settings(dir.path());
        let mut bootstrap = String::new();
        for s in stations {
            bootstrap.push_str(&format!(
                "[[stations]]\nid = {:?}\nsecurity_profile = {}\n",
                s.id, s.profile
            ));
            if let Some(p) = s.password {
                bootstrap.push_str(&format!("password = {p:?}\n"));
            }
        }
        let path = dir.path().join("bootstrap.toml");
        std::fs::write(&path, bootstrap).unwrap();
        settings.bootstrap = Some(path);
        adjust(&mut settings);
        let server = unicharge_server::start(settings)
            .await
            .expect("server starts");
        let tls = server
            .generated_tls
            .as_ref()
            .map(|g| g.paths.clone())
            .unwrap_or_else(|| PkiPaths::in_dir(&dir.path().join("data/tls")));
        TestCsms { server, dir, tls }
    }

    pub fn ws_base(&self) -> String {
        format!(
            "ws://127.0.0.1:{}/ocpp",
            self.server.ws_addr().unwrap().port()
        )
    }

    /// wss by host name: the server certificate's CN is `localhost` (TC_A_04 checks CN = FQDN).
    pub fn wss_base(&self) -> String {
        format!(
            "wss://localhost:{}/ocpp",
            self.server.wss_addr().unwrap().port()
        )
    }

    /// A certificate for `cn` from the server's own CA, valid or already expired.
    pub fn client_cert(&self, cn: &str, expired: bool) -> (PathBuf, PathBuf) {
        let ca = pki::load_ca(&self.tls.ca_cert, &self.tls.ca_key).unwrap();
        let (offset, days) = if expired { (-30, 10) } else { (0, 30) };
        let (cert, key) =
            pki::issue_client_certificate(&ca, KeyKind::EcP256, cn, offset, days).unwrap();
        self.write_pair(
            &format!("{cn}-{}", if expired { "expired" } else { "valid" }),
            &cert,
            &key,
        )
    }

    /// A certificate for `cn` from a CA the server has never seen.
    pub fn foreign_client_cert(&self, cn: &str) -> (PathBuf, PathBuf) {
        let other = pki::generate_ca("someone else's CA", 30).unwrap();
        let (cert, key) =
            pki::issue_client_certificate(&other, KeyKind::Rsa2048, cn, 0, 30).unwrap();
        self.write_pair(&format!("{cn}-foreign"), &cert, &key)
    }

    fn write_pair(
        &self,
        name: &str,
        cert: &openssl::x509::X509,
        key: &openssl::pkey::PKey<openssl::pkey::Private>,
    ) -> (PathBuf, PathBuf) {
        let cert_path = self.dir.path().join(format!("{name}.pem"));
        let key_path = self.dir.path().join(format!("{name}.key.pem"));
        pki::write_pem(&cert_path, &pki::certificate_to_pem(cert).unwrap(), false).unwrap();
        pki::write_pem(&key_path, &pki::private_key_to_pem(key).unwrap(), true).unwrap();
        (cert_path, key_path)
    }

    /// The OCTT configuration for `station` at `profile` against this server.
    pub fn target(&self, station: &str, profile: u8) -> Target {
        let mut t = Target::new(station);
        t.ws_url = Some(self.ws_base());
        t.wss_url = Some(self.wss_base());
        t.security_profile = profile;
        t.password = Some(PASSWORD.into());
        t.ca = Some(self.tls.ca_cert.clone());
        if profile == 3 {
            t.client_cert = Some(self.client_cert(station, false));
        }
        t.timeout = Duration::from_secs(10);
        t
    }
}

/// Fail the test with the scenario's reason unless it passed.
pub fn assert_pass(case: &str, verdict: Verdict) {
    assert_eq!(verdict, Verdict::Pass, "{case} did not pass");
}

/// An online-charging subscriber (END_USER_E164 `msisdn`) on a new money account in EUR,
/// topped up with `balance` when it is above zero: what every Ro test provisions first.
pub async fn ro_subscriber<S: unicharge_store::Store + ?Sized>(
    store: &S,
    account: &str,
    msisdn: &str,
    balance: rust_decimal::Decimal,
) {
    use unicharge_core::ledger::{Account, Operation, Request, Unit};
    let now = chrono::Utc::now();
    store
        .ledger_open(
            &Account::open(
                account,
                Unit::Money("EUR".into()),
                rust_decimal::Decimal::ZERO,
                now,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    if balance > rust_decimal::Decimal::ZERO {
        store
            .ledger_apply(&Request {
                account: account.into(),
                reference: "test:topup".into(),
                operation: Operation::TopUp { amount: balance },
                at: now,
            })
            .await
            .unwrap();
    }
    store
        .ro_put_subscriber(&unicharge_core::online::Subscriber {
            id_type: "END_USER_E164".into(),
            id_data: msisdn.into(),
            account: account.into(),
            barred: false,
        })
        .await
        .unwrap();
}

/// Every (table, column) of the database file whose text contains `needle`, any case. On the
/// PostgreSQL engine, of the test's schema instead (`db` is `<test dir>/data/unicharge.db`).
pub fn db_occurrences(db: &std::path::Path, needle: &str) -> Vec<String> {
    // No SQLite file: the server ran on the test directory's PostgreSQL schema.
    let test_dir = db.parent().and_then(|d| d.parent());
    let postgres = test_dir.and_then(|d| std::fs::read_to_string(d.join(POSTGRES_URL_FILE)).ok());
    if let (false, Some(url)) = (db.exists(), postgres) {
        return postgres_occurrences(&url, needle);
    }
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut found = Vec::new();
    for table in tables {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for column in columns {
            let n: i64 = conn
                .query_row(
                    &format!(
                        "SELECT COUNT(*) FROM \"{table}\" WHERE lower(CAST(\"{column}\" AS TEXT)) \
                         LIKE '%' || lower(?1) || '%'"
                    ),
                    [needle],
                    |r| r.get(0),
                )
                .unwrap();
            if n > 0 {
                found.push(format!("{table}.{column} ({n} rows)"));
            }
        }
    }
    found
}

/// [`db_occurrences`] on PostgreSQL: every column of every table in the schema the URL uses.
fn postgres_occurrences(url: &str, needle: &str) -> Vec<String> {
    let needle = needle.to_string();
    postgres_blocking(url, |mut conn| async move {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut found = Vec::new();
        for (table, column) in columns {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM \"{table}\"
                 WHERE lower(CAST(\"{column}\" AS TEXT) COLLATE \"C\") LIKE '%' || lower($1) || '%'"
            ))
            .bind(&needle)
            .fetch_one(&mut conn)
            .await
            .unwrap();
            if n > 0 {
                found.push(format!("{table}.{column} ({n} rows)"));
            }
        }
        found
    })
}

/// Run one statement with one integer parameter (`$1`) against the store of the test
/// directory `dir`, whichever engine it uses (a test that simulates damage by hand): the
/// number of rows changed.
pub fn execute_in_store(dir: &std::path::Path, sql: &str, param: i64) -> u64 {
    let sqlite = dir.join("data/unicharge.db");
    let postgres = std::fs::read_to_string(dir.join(POSTGRES_URL_FILE));
    if let (false, Ok(url)) = (sqlite.exists(), postgres) {
        let sql = sql.to_string();
        return postgres_blocking(&url, move |mut conn| async move {
            sqlx::query(&sql)
                .bind(param)
                .execute(&mut conn)
                .await
                .unwrap()
                .rows_affected()
        });
    }
    let db = rusqlite::Connection::open(sqlite).unwrap();
    db.execute(sql, [param]).unwrap() as u64
}

/// Play the load generator's mix, closed loop for `duration`, on `stations` (the test's
/// `PASSWORD`, profile 1) against `csms`, on one thread as `unicharge-sim load` does.
pub async fn play_load(
    csms: &TestCsms,
    stations: &[&str],
    mix: unicharge_sim::load::Mix,
    duration: Duration,
    ocpp16_percent: u32,
) -> unicharge_sim::load::Report {
    use unicharge_sim::load::{self, Endpoint, StationCredentials};
    let plan = load::LoadPlan {
        endpoint: Endpoint {
            ws_url: Some(csms.ws_base()),
            wss_url: None,
            profile: 1,
            ca: None,
            cert_dir: None,
            timeout: Duration::from_secs(10),
        },
        stations: stations
            .iter()
            .map(|id| StationCredentials {
                id: id.to_string(),
                password: Some(PASSWORD.to_string()),
            })
            .collect(),
        mix,
        pace: load::Pace::ClosedLoop,
        duration,
        connect_concurrency: stations.len(),
        progress: None,
        ocpp16_percent,
    };
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(load::run(&plan))
    })
    .await
    .unwrap()
}

/// Run the `unicharge` CLI against a running server's API, as an operator would (the built
/// binary, `--api-url` / `--api-key`, no configuration file): (success, stdout, stderr).
pub async fn cli(api_url: &str, api_key: &str, args: &[&str]) -> (bool, String, String) {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend([
        "--api-url".into(),
        api_url.into(),
        "--api-key".into(),
        api_key.into(),
    ]);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_unicharge"))
            .args(&all)
            .env_remove("UNICHARGE_CONFIG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
