//! The operator web UI in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, from the system's packages; `.ci/run` installs them). The browser logs in,
//! watches a simulated station (the simulator library over a real WebSocket) come online and
//! its connector turn Occupied without a reload, starts a remote transaction through the
//! confirmation step, sees its running cost change live when the station reports energy, and
//! finds the charge record at the end; a read-only key then finds no actions.
//!
//! Without chromedriver on PATH (or `UNICHARGE_CHROMEDRIVER`) the test says so and passes,
//! unless `UNICHARGE_REQUIRE_BROWSER=1` (CI sets it) makes that a failure. With
//! `UNICHARGE_UI_SCREENSHOTS=1` it saves a screenshot of each page to `docs/ui/`.
//!
//! Nothing sleeps except polling with a deadline.

#[path = "common/mod.rs"]
mod common;
#[path = "ui_support/mod.rs"]
mod ui_support;

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::time::Instant;
use unicharge_core::api_keys::ApiRole;
use unicharge_ocpp::v201::{ConnectorStatusEnumType, RequestStartTransactionRequest};
use unicharge_sim::octt::states;
use unicharge_sim::{SimError, Station};

use common::StationSpec;
use ui_support::Ui;

/// How long any one expected change may take.
const BOUND: Duration = Duration::from_secs(15);

/// chromedriver, started for this test and stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_chromedriver() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("UNICHARGE_CHROMEDRIVER") {
        return Some(PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("chromedriver"))
        .find(|p| p.is_file())
}

async fn start_driver() -> Option<Driver> {
    let Some(path) = find_chromedriver() else {
        let message = "SKIPPED ui_browser: no chromedriver on PATH. Install it with \
                       `apt-get install -y chromium chromium-driver` (or set \
                       UNICHARGE_CHROMEDRIVER) to run the browser tests.";
        if std::env::var("UNICHARGE_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("{message} (UNICHARGE_REQUIRE_BROWSER=1)");
        }
        eprintln!("{message}");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + BOUND;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(driver)
}

async fn browser(driver: &Driver) -> Client {
    let mut options = json!({"args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=1280,1000", "--force-device-scale-factor=1",
    ]});
    if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    let deadline = Instant::now() + BOUND;
    loop {
        match ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&driver.url)
            .await
        {
            Ok(client) => return client,
            Err(e) if Instant::now() < deadline => {
                eprintln!("waiting for chromedriver: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no browser session: {e}"),
        }
    }
}

/// Poll `check` until it yields a value, or fail naming `what`.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of the first element matching `css`, if any.
async fn text(client: &Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

/// Wait until the element at `css` reads `expected`.
async fn reads(client: &Client, css: &str, expected: &str) {
    eventually(&format!("{css} to read {expected:?}"), || async {
        (text(client, css).await.as_deref() == Some(expected)).then_some(())
    })
    .await;
}

/// Wait until the page's live stream is open (updates from now on are shown).
async fn live(client: &Client) {
    eventually("the live stream to open", || async {
        client
            .find(Locator::Css("body[data-live-ready='true']"))
            .await
            .ok()
            .map(|_| ())
    })
    .await;
}

async fn screenshot(client: &Client, name: &str) {
    if std::env::var("UNICHARGE_UI_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/ui");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

async fn login(client: &Client, base: &str, token: &str) {
    client.goto(&format!("{base}/ui/login")).await.unwrap();
    let field = client.find(Locator::Id("token")).await.unwrap();
    field.send_keys(token).await.unwrap();
    client
        .find(Locator::Css("form.login button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the overview after login", || async {
        (text(client, "h1").await.as_deref() == Some("Overview")).then_some(())
    })
    .await;
}

/// Keep the station's connection alive (a Heartbeat a second, which also answers the CSMS's
/// pings) until the test says go.
async fn idle_until(station: &mut Station, mut go: oneshot::Receiver<()>) {
    loop {
        match tokio::time::timeout(Duration::from_secs(1), &mut go).await {
            Ok(result) => return result.expect("the test goes on"),
            Err(_) => {
                station
                    .call_raw("Heartbeat", json!({}))
                    .await
                    .expect("Heartbeat answered");
            }
        }
    }
}

fn ts(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn energy(at: chrono::DateTime<Utc>, wh: f64, context: &str) -> Value {
    json!([{"timestamp": ts(at), "sampledValue": [
        {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": 7400.0, "context": context, "measurand": "Power.Active.Import",
         "unitOfMeasure": {"unit": "W"}}]}])
}

#[tokio::test]
async fn ui_browser_operator_watches_a_station_starts_a_charge_and_sees_cost_and_record() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let ui = Ui::start(&[StationSpec::new("CP001", 1)]).await;
    ui.default_tariff().await;
    let client = browser(&driver).await;
    let base = ui.base.clone();

    // The login form, then the overview.
    client.goto(&format!("{base}/ui/login")).await.unwrap();
    screenshot(&client, "login").await;
    login(&client, &base, &ui.admin).await;
    assert!(!client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains(&ui.admin));

    // The station list: CP001 is offline, then comes online without a reload.
    client.goto(&format!("{base}/ui/stations")).await.unwrap();
    reads(&client, "[data-station='CP001']", "Offline").await;
    live(&client).await;
    let mut station = ui.booted("CP001").await;
    reads(&client, "[data-station='CP001']", "Online").await;
    screenshot(&client, "stations").await;

    // The station page: the connector turns Occupied live.
    client
        .goto(&format!("{base}/ui/stations/CP001"))
        .await
        .unwrap();
    reads(&client, "[data-connector='CP001/1/1']", "Available").await;
    live(&client).await;
    states::notify_connector_status(&mut station, 1, 1, ConnectorStatusEnumType::Occupied)
        .await
        .unwrap();
    reads(&client, "[data-connector='CP001/1/1']", "Occupied").await;

    // The station side of the session: accept the remote start, start TX-UI-1 at 1 kWh, then
    // report 5 kWh and end when told.
    let (update_tx, update_rx) = oneshot::channel::<()>();
    let (end_tx, end_rx) = oneshot::channel::<()>();
    let started_at = Utc::now() - chrono::Duration::minutes(10);
    let station_side = tokio::spawn(async move {
        // The browser fills the form and confirms first: wait as long as that may take.
        let deadline = Instant::now() + BOUND;
        let (id, request) = loop {
            match station
                .expect_call::<RequestStartTransactionRequest>()
                .await
            {
                Ok(call) => break call,
                Err(SimError::Timeout(..)) if Instant::now() < deadline => continue,
                Err(e) => panic!("no RequestStartTransaction: {e}"),
            }
        };
        assert_eq!(request.id_token.id_token, "DRIVER-1");
        assert_eq!(request.evse_id, Some(1));
        let accepted = serde_json::from_value(json!({"status": "Accepted"})).unwrap();
        station
            .respond::<RequestStartTransactionRequest>(&id, &accepted)
            .await
            .unwrap();
        station
            .call_raw("TransactionEvent", json!({
                "eventType": "Started", "timestamp": ts(started_at), "triggerReason": "RemoteStart",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "TX-UI-1", "chargingState": "Charging",
                                    "remoteStartId": request.remote_start_id},
                "evse": {"id": 1, "connectorId": 1},
                "idToken": {"idToken": "DRIVER-1", "type": "ISO14443"},
                "meterValue": energy(started_at, 1000.0, "Transaction.Begin"),
            }))
            .await
            .expect("Started answered");
        idle_until(&mut station, update_rx).await;
        let at = Utc::now() - chrono::Duration::minutes(5);
        station
            .call_raw("TransactionEvent", json!({
                "eventType": "Updated", "timestamp": ts(at), "triggerReason": "MeterValuePeriodic",
                "seqNo": 1, "transactionInfo": {"transactionId": "TX-UI-1", "chargingState": "Charging"},
                "meterValue": energy(at, 5000.0, "Sample.Periodic"),
            }))
            .await
            .expect("Updated answered");
        idle_until(&mut station, end_rx).await;
        let at = Utc::now();
        station
            .call_raw(
                "TransactionEvent",
                json!({
                    "eventType": "Ended", "timestamp": ts(at), "triggerReason": "StopAuthorized",
                    "seqNo": 2,
                    "transactionInfo": {"transactionId": "TX-UI-1", "chargingState": "EVConnected",
                                        "stoppedReason": "Local"},
                    "meterValue": energy(at, 5000.0, "Transaction.End"),
                }),
            )
            .await
            .expect("Ended answered");
        station
    });

    // Remote start through the form and its confirmation.
    client
        .find(Locator::Id("start-token"))
        .await
        .unwrap()
        .send_keys("DRIVER-1")
        .await
        .unwrap();
    screenshot(&client, "station").await;
    client
        .find(Locator::Css(
            "form[action$='/actions/start'] button[type='submit']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    reads(
        &client,
        "#confirm-text",
        "Start a transaction on EVSE 1 of CP001 for token DRIVER-1 (ISO14443).",
    )
    .await;
    screenshot(&client, "confirm").await;
    client
        .find(Locator::Id("confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the station's answer", || async {
        text(&client, "#result")
            .await
            .filter(|t| t.contains("Accepted"))
    })
    .await;

    // The running transaction appears on the station page; its page shows the cost so far.
    client
        .goto(&format!("{base}/ui/stations/CP001"))
        .await
        .unwrap();
    let link = eventually("the running transaction", || async {
        client.find(Locator::LinkText("TX-UI-1")).await.ok()
    })
    .await;
    link.click().await.unwrap();
    reads(&client, "h1", "Transaction TX-UI-1").await;
    reads(&client, "[data-cost='CP001/TX-UI-1']", "0.00 EUR").await;
    live(&client).await;

    // 4 kWh at 0.30 EUR: the cost changes on the open page.
    update_tx.send(()).unwrap();
    reads(&client, "[data-cost='CP001/TX-UI-1']", "1.20 EUR").await;
    client.refresh().await.unwrap(); // the chart is drawn from the stored samples
    reads(&client, "h1", "Transaction TX-UI-1").await;
    screenshot(&client, "transaction").await;
    live(&client).await;

    // The end: the charge record link appears, and the record has the same total.
    end_tx.send(()).unwrap();
    let record = eventually("the charge record link", || async {
        let link = client.find(Locator::Id("charge-record-link")).await.ok()?;
        link.is_displayed().await.ok()?.then_some(link)
    })
    .await;
    record.click().await.unwrap();
    reads(&client, "h1", "Charge record CP001:TX-UI-1").await;
    reads(&client, "#record-total", "1.20 EUR").await;
    screenshot(&client, "charge-record").await;
    let _station = station_side.await.unwrap();

    for (path, name) in [
        ("/ui/transactions", "transactions"),
        ("/ui/charge-records", "charge-records"),
        ("/ui/tariffs", "tariffs"),
        ("/ui/tokens", "tokens"),
        ("/ui/firmware-campaigns", "firmware-campaigns"),
        ("/ui/site-limits", "site-limits"),
        ("/ui/accounts", "accounts"),
        ("/ui/roaming", "roaming"),
        ("/ui/diameter", "diameter"),
        ("/ui/efc", "tolling"),
        ("/", "overview"),
    ] {
        client.goto(&format!("{base}{path}")).await.unwrap();
        screenshot(&client, name).await;
    }
    reads(&client, "#energy-today", "4.000 kWh").await;
    reads(&client, "#revenue-today", "1.20 EUR").await;
    // The revenue chart of the day's currency, its value in the chart's accessible summary.
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let summary = client
        .find(Locator::Css("svg[aria-label^='Revenue incl. VAT']"))
        .await
        .expect("a revenue-per-day chart")
        .attr("aria-label")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(summary.contains(&format!("{today} 1.20 EUR")), "{summary}");

    // Phone width: the station page still works (one column, no sideways scrolling of the page).
    client.set_window_size(390, 844).await.unwrap();
    client
        .goto(&format!("{base}/ui/stations/CP001"))
        .await
        .unwrap();
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, json!(true), "the page fits a phone's width");
    screenshot(&client, "station-phone").await;
    client.set_window_size(1280, 1000).await.unwrap();

    // A read-only key: the same page without any action.
    client
        .find(Locator::Css("form.logout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    reads(&client, "h1", "Log in").await;
    let reader = ui.key(ApiRole::ReadOnly).await;
    login(&client, &base, &reader).await;
    client
        .goto(&format!("{base}/ui/stations/CP001"))
        .await
        .unwrap();
    reads(&client, "[data-connector='CP001/1/1']", "Occupied").await;
    let actions = client
        .find_all(Locator::Css("form[action*='/actions/']"))
        .await
        .unwrap();
    assert!(actions.is_empty(), "a read-only key sees no actions");
    assert!(client.find(Locator::Id("actions")).await.is_err());

    client.close().await.unwrap();
}
