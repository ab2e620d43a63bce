//! Ro failover across processes (issue 14, item 6): two `unicharge serve` processes share one
//! store; a credit-control session opened on the first continues on the second after the
//! first is killed with SIGKILL. The CTF fails over with the T flag (RFC 8506 §5.7,
//! CC-Session-Failover FAILOVER_SUPPORTED); the second node finds the session and its
//! reservation in the store, debits the used units once, and closes it.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use unicharge_core::online::{OnlineTariff, QuotaUnit};
use unicharge_diameter::cc::{CcRequestType, Mscc, ServiceUnit};
use unicharge_diameter::rf::ctf::CtfConfig;
use unicharge_sim::diameter_ro::client::{Outcome, RoClient};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::Store;

const MSISDN: &str = "4915100000077";
const ACCOUNT: &str = "failover-acc";
const VOICE: u32 = 10;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A node: same data directory, its own Diameter port and Origin-Host.
fn write_config(dir: &Path, name: &str, port: u16) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            r#"data_dir = "data"

[csms]
ws_listen = "127.0.0.1:0"
wss_listen = ""

[http]
listen = ""

[efc]
tcp_listen = ""
http_listen = ""

[diameter]
listen = "127.0.0.1:{port}"
origin_host = "{name}.ocf.example"
origin_realm = "ocf.example"

[diameter.ro]
cc_session_failover = "FAILOVER_SUPPORTED"
"#
        ),
    )
    .unwrap();
    path
}

struct Node(Child);

impl Node {
    fn start(dir: &Path, config: &Path, name: &str) -> Node {
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_unicharge"))
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("unicharge starts");
        Node(child)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn listening(port: u16, dir: &Path, name: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{name} does not listen; see {}",
            dir.join(format!("{name}.log")).display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn time(s: u32) -> ServiceUnit {
    ServiceUnit {
        cc_time: Some(s),
        ..Default::default()
    }
}

fn voice(requested: Option<u32>, used: Option<u32>) -> Mscc {
    Mscc {
        rating_group: Some(VOICE),
        requested: requested.map(time),
        used: used.map(time).into_iter().collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn ro_session_continues_on_a_second_node_after_the_first_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/unicharge.db");
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    // Provision the account, subscriber and tariff in the shared store before the nodes run.
    {
        let store = SqliteStore::open(&db, Durability::Full).await.unwrap();
        common::ro_subscriber(&store, ACCOUNT, MSISDN, d("5.00")).await;
        store
            .ro_put_tariff(&OnlineTariff {
                id: "voice".into(),
                rating_group: Some(VOICE),
                service_identifier: None,
                unit: QuotaUnit::Time,
                currency: "EUR".into(),
                price: d("0.10"),
                block: 60,
                max_grant: None,
                default_grant: 60,
                switch: None,
            })
            .await
            .unwrap();
    }
    let (pa, pb) = (free_port(), free_port());
    let ca = write_config(dir.path(), "node-a", pa);
    let cb = write_config(dir.path(), "node-b", pb);
    let mut a = Node::start(dir.path(), &ca, "node-a");
    listening(pa, dir.path(), "node-a").await;
    let _b = Node::start(dir.path(), &cb, "node-b");
    listening(pb, dir.path(), "node-b").await;

    let mut config = CtfConfig::new(
        "ctf.failover.example",
        "failover.example",
        "ocf.example",
        format!("127.0.0.1:{pa}").parse().unwrap(),
    );
    config.secondary = Some(format!("127.0.0.1:{pb}").parse().unwrap());
    config.request_timeout = Duration::from_secs(3);
    config.max_retransmissions = 0;
    let ctf = RoClient::connect(config, MSISDN).await.unwrap();
    let mut s = ctf.new_session();

    // CCR-Initial on node A: 60 s granted, reserved on the account.
    let ccr = ctf.ccr(
        &mut s,
        CcRequestType::Initial,
        None,
        vec![voice(Some(60), None)],
    );
    let Outcome::Answered {
        answer,
        via_secondary,
        cca,
        ..
    } = ctf.send(&mut s, &ccr).await.unwrap()
    else {
        panic!("no CCA-I")
    };
    assert_eq!(answer.result_code(), Some(2001));
    assert!(!via_secondary);
    assert_eq!(answer.str("Origin-Host"), Some("node-a.ocf.example"));
    assert_eq!(cca.cc_session_failover, Some(1), "FAILOVER_SUPPORTED");

    // Node A dies without a word.
    a.0.kill().unwrap();
    a.0.wait().unwrap();

    // CCR-Update: 60 s used, 60 more asked; it fails over to node B, which knows the session.
    let ccr = ctf.ccr(
        &mut s,
        CcRequestType::Update,
        None,
        vec![voice(Some(60), Some(60))],
    );
    let Outcome::Answered {
        answer,
        via_secondary,
        ..
    } = ctf.send(&mut s, &ccr).await.unwrap()
    else {
        panic!("no CCA-U")
    };
    assert!(via_secondary, "answered by the second node");
    assert_eq!(answer.str("Origin-Host"), Some("node-b.ocf.example"));
    assert_eq!(answer.result_code(), Some(2001), "{answer:?}");
    // CCR-Termination on node B: 30 s more used.
    let ccr = ctf.ccr(
        &mut s,
        CcRequestType::Termination,
        None,
        vec![voice(None, Some(30))],
    );
    let Outcome::Answered { answer, .. } = ctf.send(&mut s, &ccr).await.unwrap() else {
        panic!("no CCA-T")
    };
    assert_eq!(answer.result_code(), Some(2001), "{answer:?}");
    drop(_b);

    // 90 s used at 0.10 EUR per started minute: 60 s = 0.10, 30 s = 0.10 → 0.20 debited once,
    // nothing left reserved, the session closed.
    let store = SqliteStore::open(&db, Durability::Full).await.unwrap();
    let account = store.ledger_account(ACCOUNT).await.unwrap().unwrap();
    assert_eq!(account.balance, d("4.80"), "{account:?}");
    assert_eq!(account.reserved, Decimal::ZERO, "{account:?}");
    let session = store.ro_session(&s.session_id).await.unwrap().unwrap();
    assert_eq!(session.state, "CLOSED", "{session:?}");
}
