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
    s
}

impl TestCsms {
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

/// Every (table, column) of the database file whose text contains `needle`, any case.
pub fn db_occurrences(db: &std::path::Path, needle: &str) -> Vec<String> {
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
