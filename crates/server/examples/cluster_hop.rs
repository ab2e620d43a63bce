//! What the NATS hop costs an operation (docs/scaling.md): the same operator Reset, sent N times
//! through node A's REST API to a station connected to node A (local) and to one connected to
//! node B (routed over NATS), one at a time; medians and p99 of the API round trip.
//!
//! ```text
//! nats-server -js -a 127.0.0.1 -p 4222 &
//! cargo run --release -p unicharge-server --example cluster_hop -- nats://127.0.0.1:4222 2000
//! ```

use std::time::{Duration, Instant};

use serde_json::json;
use unicharge_ocpp::v201::{
    BootNotificationRequest, BootReasonEnumType, ChargingStationType, ResetRequest, ResetResponse,
    ResetStatusEnumType,
};
use unicharge_server::{Server, Settings};
use unicharge_sim::{ConnectOptions, Station};

const PASSWORD: &str = "cluster-hop-password-01";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let ns = format!("hop{}", std::process::id());
    let dir = tempfile::tempdir()?;
    let a = node(dir.path(), "a", &url, &ns).await?;
    let b = node(dir.path(), "b", &url, &ns).await?;
    let local = answering_station(&a, "HOP-A").await?;
    let remote = answering_station(&b, "HOP-B").await?;
    // Wait until A sees B's station.
    let id: unicharge_core::StationId = "HOP-B".parse()?;
    while !a.handle().is_connected(&id) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let api = format!("http://{}", a.http_addr.unwrap());
    let key = a.initial_admin_key.clone().unwrap();
    let http = reqwest::Client::new();
    for (label, station) in [
        ("local (A → A)", "HOP-A"),
        ("routed (A → NATS → B)", "HOP-B"),
    ] {
        let mut took = Vec::with_capacity(n);
        let started = Instant::now();
        for _ in 0..n {
            let t = Instant::now();
            let response = http
                .post(format!("{api}/api/v1/stations/{station}/reset"))
                .bearer_auth(&key)
                .json(&json!({"type": "OnIdle"}))
                .send()
                .await?;
            anyhow::ensure!(response.status().is_success(), "{}", response.status());
            took.push(t.elapsed());
        }
        let total = started.elapsed();
        took.sort();
        let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
        println!(
            "{label:24} n={n} median {:?} p99 {:?} max {:?}  ({:.0} ops/s one at a time)",
            at(0.5),
            at(0.99),
            took[took.len() - 1],
            n as f64 / total.as_secs_f64()
        );
    }
    local.abort();
    remote.abort();
    Ok(())
}

async fn node(dir: &std::path::Path, name: &str, url: &str, ns: &str) -> anyhow::Result<Server> {
    let data = dir.join(name);
    std::fs::create_dir_all(&data)?;
    let bootstrap = data.join("bootstrap.toml");
    std::fs::write(
        &bootstrap,
        format!(
            "[[stations]]\nid = \"HOP-A\"\nsecurity_profile = 1\npassword = \"{PASSWORD}\"\n\
             [[stations]]\nid = \"HOP-B\"\nsecurity_profile = 1\npassword = \"{PASSWORD}\"\n"
        ),
    )?;
    let mut s = Settings {
        data_dir: data.join("data"),
        bootstrap: Some(bootstrap),
        ..Settings::default()
    };
    s.csms.ws_listen = Some("127.0.0.1:0".parse()?);
    s.csms.wss_listen = None;
    s.http.listen = Some("127.0.0.1:0".parse()?);
    s.efc.tcp_listen = None;
    s.efc.http_listen = None;
    s.diameter.listen = None;
    s.cluster.nats_url = Some(url.into());
    s.cluster.node_id = Some(name.into());
    s.cluster.bucket = ns.into();
    s.cluster.subject_prefix = ns.into();
    unicharge_server::start(s).await
}

/// Connect and boot `id` at `node`, then answer every Reset Accepted, in the background.
async fn answering_station(node: &Server, id: &str) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let url = format!("ws://{}/ocpp/{id}", node.ws_addr().unwrap());
    let mut options = ConnectOptions::new(url).basic(id, PASSWORD);
    // The station waits through the other phase's calls.
    options.timeout = Duration::from_secs(3600);
    let mut station = Station::connect(&options).await?;
    let boot = BootNotificationRequest {
        custom_data: None,
        charging_station: ChargingStationType {
            custom_data: None,
            serial_number: None,
            model: "Hop".into(),
            modem: None,
            vendor_name: "unicharge".into(),
            firmware_version: None,
        },
        reason: BootReasonEnumType::PowerUp,
    };
    station.call(&boot).await?;
    Ok(tokio::spawn(async move {
        while let Ok((id, _)) = station.expect_call::<ResetRequest>().await {
            let answer = ResetResponse {
                custom_data: None,
                status: ResetStatusEnumType::Accepted,
                status_info: None,
            };
            if station.respond::<ResetRequest>(&id, &answer).await.is_err() {
                break;
            }
        }
    }))
}
