//! Site load management (issue 10, block K): ten simulated stations behind one group limit,
//! driven over real WebSockets, the group configured and read over the real REST API.
//!
//! Every SetChargingProfile a station accepts is logged in the order the stations accepted
//! them, together with the transactions ending. Replaying the log shows the sum of the limits
//! in force never exceeded the group limit at any moment; after every step the allocation
//! each EVSE holds is exactly the share worked out by hand (equal share up to the 32 A maximum,
//! minimum 6 A first, one decimal rounded down), and every active EVSE holds at least the
//! minimum whenever the limit covers all minimums.

#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Client;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use unicharge_ocpp::v201::{
    BootNotificationRequest, ChargingProfilePurposeEnumType, ChargingProfileStatusEnumType,
    SetChargingProfileRequest, SetChargingProfileResponse, TransactionEventRequest,
};
use unicharge_sim::{ConnectOptions, SimError, Station};

use common::{StationSpec, TestCsms, PASSWORD};

const STATIONS: [&str; 10] = [
    "SITE00", "SITE01", "SITE02", "SITE03", "SITE04", "SITE05", "SITE06", "SITE07", "SITE08",
    "SITE09",
];
const BOUND: Duration = Duration::from_secs(10);

/// What happened at the stations, in the order it happened.
#[derive(Debug, Clone)]
enum Event {
    /// A station accepted a TxProfile limit for an EVSE.
    Limit {
        station: usize,
        limit: f64,
        phases: Option<i64>,
    },
    /// A transaction ended: the EVSE draws nothing any more.
    Ended { station: usize },
}

type Log = Arc<Mutex<Vec<Event>>>;

enum Command {
    Event(Box<TransactionEventRequest>, oneshot::Sender<()>),
}

fn event(tx: &str, seq_no: i64, event_type: &str) -> TransactionEventRequest {
    let mut e = json!({
        "eventType": event_type,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "triggerReason": if event_type == "Started" { "CablePluggedIn" } else { "EVCommunicationLost" },
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": tx, "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1},
    });
    if event_type == "Ended" {
        e["transactionInfo"]["stoppedReason"] = json!("EVDisconnected");
    }
    serde_json::from_value(e).unwrap()
}

/// A station that answers every SetChargingProfile with Accepted (logging the limit) and sends
/// the TransactionEvents the test gives it.
async fn station_task(
    index: usize,
    mut station: Station,
    log: Log,
    mut commands: mpsc::Receiver<Command>,
) {
    loop {
        tokio::select! {
            command = commands.recv() => {
                let Some(Command::Event(request, done)) = command else { return };
                if request.event_type.as_str() == "Ended" {
                    log.lock().unwrap().push(Event::Ended { station: index });
                }
                station.call(&*request).await.expect("TransactionEvent answered");
                let _ = done.send(());
            }
            action = station.next_call_action() => {
                let action = match action {
                    Ok(action) => action,
                    // Quiet for a while: nothing to answer yet.
                    Err(SimError::Timeout(..)) => continue,
                    Err(e) => panic!("the CSMS connection broke: {e}"),
                };
                assert_eq!(action, "SetChargingProfile", "only profiles are expected");
                let (id, request) = station
                    .expect_call::<SetChargingProfileRequest>()
                    .await
                    .unwrap();
                let profile = &request.charging_profile;
                assert_eq!(profile.charging_profile_purpose, ChargingProfilePurposeEnumType::TxProfile);
                assert_eq!(profile.transaction_id.as_deref(), Some(format!("TX-{index}").as_str()));
                assert_eq!(request.evse_id, 1);
                let limit: f64 = profile.charging_schedule[0].charging_schedule_period[0]
                    .limit
                    .to_string()
                    .parse()
                    .unwrap();
                let phases = profile.charging_schedule[0].charging_schedule_period[0].number_phases;
                log.lock().unwrap().push(Event::Limit { station: index, limit, phases });
                let answer = SetChargingProfileResponse {
                    custom_data: None,
                    status: ChargingProfileStatusEnumType::Accepted,
                    status_info: None,
                };
                station.respond::<SetChargingProfileRequest>(&id, &answer).await.unwrap();
            }
        }
    }
}

struct Site {
    _csms: TestCsms,
    http: Client,
    base: String,
    admin: String,
    log: Log,
    stations: Vec<mpsc::Sender<Command>>,
}

impl Site {
    async fn put_group(&self, limit: f64) -> Value {
        self.put(json!({
            "limit": limit, "unit": "A", "stations": STATIONS,
            "minRate": 6.0, "maxRate": 32.0, "phases": 3,
        }))
        .await
    }

    async fn put(&self, body: Value) -> Value {
        let response = self
            .http
            .put(format!("{}/site-groups/site-1", self.base))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn group(&self) -> Value {
        self.http
            .get(format!("{}/site-groups/site-1", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn send(&self, station: usize, request: TransactionEventRequest) {
        let (done, answered) = oneshot::channel();
        self.stations[station]
            .send(Command::Event(Box::new(request), done))
            .await
            .unwrap();
        tokio::time::timeout(BOUND, answered)
            .await
            .unwrap()
            .unwrap();
    }

    /// Wait until the API shows exactly `expected` (station index → limit) accepted.
    async fn settles_at(&self, expected: &[(usize, f64)]) -> Value {
        let want: HashMap<String, f64> = expected
            .iter()
            .map(|(i, l)| (STATIONS[*i].to_string(), *l))
            .collect();
        let deadline = tokio::time::Instant::now() + BOUND;
        loop {
            let group = self.group().await;
            let evses = group["evses"].as_array().cloned().unwrap_or_default();
            let got: HashMap<String, f64> = evses
                .iter()
                .filter(|e| e["status"] == "Accepted")
                .map(|e| {
                    (
                        e["stationId"].as_str().unwrap().to_string(),
                        e["rate"].as_f64().unwrap(),
                    )
                })
                .collect();
            if got.len() == evses.len() && got == want {
                return group;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "allocation did not settle at {want:?}: {group}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Replay the log: the sum of the limits in force never exceeded `limit`.
    fn never_exceeded(&self, limit: f64) {
        let mut in_force: HashMap<usize, f64> = HashMap::new();
        for (n, e) in self.log.lock().unwrap().iter().enumerate() {
            match e {
                Event::Limit { station, limit, .. } => in_force.insert(*station, *limit),
                Event::Ended { station } => in_force.remove(station),
            };
            let sum: f64 = in_force.values().sum();
            assert!(
                sum <= limit + 1e-9,
                "after event {n} ({e:?}) the limits in force sum to {sum} A > {limit} A"
            );
        }
    }

    fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

async fn site() -> Site {
    let specs: Vec<StationSpec> = STATIONS.iter().map(|id| StationSpec::new(id, 1)).collect();
    let csms = TestCsms::start_with(&specs, |s| {
        s.csms.wss_listen = None;
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let base = format!("http://{}/api/v1", csms.server.http_addr.unwrap());
    let admin = csms.server.initial_admin_key.clone().unwrap();
    let log: Log = Arc::default();
    let mut stations = Vec::new();
    for (index, id) in STATIONS.iter().enumerate() {
        let mut options =
            ConnectOptions::new(format!("{}/{id}", csms.ws_base())).basic(*id, PASSWORD);
        options.timeout = BOUND;
        let mut station = Station::connect(&options).await.unwrap();
        let boot: BootNotificationRequest = serde_json::from_value(json!({
            "reason": "PowerUp",
            "chargingStation": {"model": "Site-1", "vendorName": "Site Inc"}
        }))
        .unwrap();
        let answer = station.call(&boot).await.unwrap();
        assert_eq!(answer.status.as_str(), "Accepted");
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(station_task(index, station, log.clone(), rx));
        stations.push(tx);
    }
    let http = Client::builder().no_proxy().timeout(BOUND).build().unwrap();
    Site {
        _csms: csms,
        http,
        base,
        admin,
        log,
        stations,
    }
}

fn all(active: std::ops::Range<usize>, limit: f64) -> Vec<(usize, f64)> {
    active.map(|i| (i, limit)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_stations_share_a_group_limit_that_is_never_exceeded() {
    let site = site().await;
    let created = site.put_group(100.0).await;
    assert_eq!(created["evses"], json!([]), "nothing charges yet");

    // Transactions start one by one: equal shares of 100 A, at most 32 A each.
    let shares = [32.0, 32.0, 32.0, 25.0, 20.0, 16.6, 14.2, 12.5, 11.1, 10.0];
    for (i, share) in shares.iter().enumerate() {
        site.send(i, event(&format!("TX-{i}"), 0, "Started")).await;
        let group = site.settles_at(&all(0..i + 1, *share)).await;
        assert!(group["allocated"].as_f64().unwrap() <= 100.0);
    }
    // They end one by one: the others get more.
    let shares = [11.1, 12.5, 14.2, 16.6, 20.0];
    for (i, share) in shares.iter().enumerate() {
        site.send(i, event(&format!("TX-{i}"), 1, "Ended")).await;
        site.settles_at(&all(i + 1..10, *share)).await;
    }
    site.never_exceeded(100.0);

    // The limit drops to 40 A: the five active EVSEs keep more than their 6 A minimum.
    site.clear_log();
    site.put_group(40.0).await;
    site.settles_at(&all(5..10, 8.0)).await;
    site.never_exceeded(100.0);

    // 20 A cannot cover five minimums: three charge (6 A each plus an equal share of the
    // 2 A left), two are paused at 0, and the sum stays within 20 A.
    site.put_group(20.0).await;
    let group = site
        .settles_at(&[(5, 6.6), (6, 6.6), (7, 6.6), (8, 0.0), (9, 0.0)])
        .await;
    assert!(group["allocated"].as_f64().unwrap() <= 20.0);

    // The history shows every change with its reason.
    let history: Value = site
        .http
        .get(format!("{}/site-groups/site-1/history", site.base))
        .bearer_auth(&site.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let changes = history["changes"].as_array().unwrap();
    let reasons: Vec<&str> = changes
        .iter()
        .map(|c| c["reason"].as_str().unwrap())
        .collect();
    for reason in ["transaction_started", "transaction_ended", "group_changed"] {
        assert!(reasons.contains(&reason), "{reason} in {reasons:?}");
    }
    assert!(changes
        .iter()
        .any(|c| c["status"] == "ended" && c["stationId"] == "SITE00" && c["rate"] == 0.0));
}

#[tokio::test]
async fn a_group_with_bad_settings_is_refused_with_the_setting_to_fix() {
    let site = site().await;
    for (body, code) in [
        (
            json!({"limit": 50, "unit": "kW", "stations": ["SITE00"]}),
            "bad_unit",
        ),
        (
            json!({"limit": 50, "stations": ["SITE00"], "minRate": 40, "maxRate": 32}),
            "bad_rates",
        ),
        (
            json!({"limit": 50, "stations": ["NOT-THERE"]}),
            "unknown_station",
        ),
    ] {
        let response = site
            .http
            .put(format!("{}/site-groups/g", site.base))
            .bearer_auth(&site.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert!(status == 400 || status == 404, "{status} {answer}");
        assert_eq!(answer["error"], code, "{answer}");
    }
    let missing = site
        .http
        .get(format!("{}/site-groups/nope", site.base))
        .bearer_auth(&site.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// A W limit follows the phases an EV uses: 22,080 W (32 A × 230 V × 3) for two three-phase
/// EVSEs gives 11,040 W each; when one reports numberOfPhasesUsed 1 its maximum is a third
/// (7,360 W), it gets that with numberPhases 1, and the other gets the rest.
#[tokio::test]
async fn a_change_of_phase_use_rebalances_a_power_limit() {
    let site = site().await;
    site.put(json!({
        "limit": 22080, "unit": "W", "stations": ["SITE00", "SITE01"],
        "minRate": 4140, "maxRate": 22080, "phases": 3,
    }))
    .await;
    site.send(0, event("TX-0", 0, "Started")).await;
    site.send(1, event("TX-1", 0, "Started")).await;
    site.settles_at(&[(0, 11040.0), (1, 11040.0)]).await;
    let mut one_phase = event("TX-0", 1, "Updated");
    one_phase.number_of_phases_used = Some(1);
    one_phase.trigger_reason = serde_json::from_value(json!("ChargingStateChanged")).unwrap();
    site.send(0, one_phase).await;
    let group = site.settles_at(&[(0, 7360.0), (1, 14720.0)]).await;
    assert_eq!(group["evses"][0]["phases"], 1, "{group}");
    site.never_exceeded(22080.0);
    let last_for_0 = site.log.lock().unwrap().iter().rev().find_map(|e| match e {
        Event::Limit {
            station: 0, phases, ..
        } => Some(*phases),
        _ => None,
    });
    assert_eq!(last_for_0, Some(Some(1)));
}
