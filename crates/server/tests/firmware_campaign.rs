//! L01 firmware rollout campaigns over real WebSockets and real HTTP: simulated stations
//! (`unicharge_sim::device`) download the served firmware with their own per-request URL, check
//! its SHA-256 and report FirmwareStatusNotification; some fail as configured. The campaign is
//! driven only by what they report. Asserted: the concurrency limit (counted by the stations
//! themselves and seen in the API), retries, pause, resume, abort, offline stations skipped, and
//! the final state of every station with its last FirmwareStatus.

#[path = "common/mod.rs"]
mod common;
#[path = "common/fleet.rs"]
mod fleet;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use unicharge_sim::device::{self, Behaviour, Counters, FirmwareOutcome};

use common::{StationSpec, TestCsms};
use fleet::{boot, eventually, sha256, Api};

const WAIT: Duration = Duration::from_secs(60);

fn ids(prefix: &str, n: usize) -> Vec<&'static str> {
    (0..n)
        .map(|i| &*Box::leak(format!("{prefix}{i:02}").into_boxed_str()))
        .collect()
}

async fn start(ids: &[&'static str]) -> (TestCsms, Api) {
    let specs: Vec<StationSpec> = ids.iter().map(|id| StationSpec::new(id, 1)).collect();
    let csms = TestCsms::start_with(&specs, |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.csms.campaign_tick = Duration::from_secs(1);
    })
    .await;
    let api = Api::new(&csms);
    (csms, api)
}

/// Boot these stations and let each act as a device with the outcome `outcome_of` gives it.
async fn devices(
    csms: &TestCsms,
    ids: &[&'static str],
    firmware: &[u8],
    outcome_of: impl Fn(&str) -> FirmwareOutcome,
    counters: &Counters,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for id in ids {
        let mut station = boot(csms, id, "1.0").await;
        let behaviour = Behaviour {
            firmware: outcome_of(id),
            expect_sha256: Some(sha256(firmware)),
            ..Behaviour::default()
        };
        let counters = counters.clone();
        tasks.push(tokio::spawn(async move {
            let _ = device::serve(&mut station, &behaviour, &counters).await;
        }));
    }
    tasks
}

async fn campaign(api: &Api, id: i64) -> Value {
    api.get(&format!("firmware-campaigns/{id}")).await
}

fn by_station(campaign: &Value) -> HashMap<String, Value> {
    campaign["stations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["stationId"].as_str().unwrap().to_string(), s.clone()))
        .collect()
}

/// Wait until `done` holds of the campaign, checking the concurrency limit on every read.
async fn follow(api: &Api, id: i64, limit: i64, done: impl Fn(&Value) -> bool) -> Value {
    let done = &done;
    eventually(WAIT, "the campaign", || async move {
        let c = campaign(api, id).await;
        let in_progress = c["counts"]["inProgress"].as_i64().unwrap();
        assert!(
            in_progress <= limit,
            "{in_progress} in progress > {limit}: {c}"
        );
        done(&c).then_some(c)
    })
    .await
}

#[tokio::test]
async fn campaign_over_fifty_stations_with_failures_retries_and_an_offline_one() {
    let online = ids("FW", 50);
    let mut all = online.clone();
    all.push("FW-OFFLINE");
    let (csms, api) = start(&all).await;
    let firmware: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = api.upload_firmware("acme-2.0.bin", &firmware).await;
    let install_fails = ["FW07", "FW21", "FW33"];
    let download_fails = ["FW12", "FW40"];
    let counters = Counters::default();
    let _devices = devices(
        &csms,
        &online,
        &firmware,
        |id| {
            if install_fails.contains(&id) {
                FirmwareOutcome::InstallationFailed
            } else if download_fails.contains(&id) {
                FirmwareOutcome::DownloadFailed
            } else {
                FirmwareOutcome::Install
            }
        },
        &counters,
    )
    .await;
    let mut stations: Vec<&str> = online.clone();
    stations.insert(25, "FW-OFFLINE");
    let (status, created) = api
        .post(
            "firmware-campaigns",
            json!({
                "name": "acme 2.0",
                "file": sha,
                "stations": stations,
                "concurrency": 5,
                "maxAttempts": 2,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["counts"]["total"], 51);
    let done = follow(&api, id, 5, |c| c["state"] == "Completed").await;
    let counts = &done["counts"];
    assert_eq!(counts["installed"], 45, "{done}");
    assert_eq!(counts["failed"], 5, "{done}");
    assert_eq!(counts["skipped"], 1, "{done}");
    assert_eq!(counts["pending"], 0);
    assert_eq!(counts["inProgress"], 0);
    let stations = by_station(&done);
    for id in &online {
        let s = &stations[*id];
        if install_fails.contains(id) {
            assert_eq!(s["state"], "Failed", "{s}");
            assert_eq!(s["lastStatus"], "InstallationFailed", "{s}");
            assert_eq!(s["attempts"], 2, "retried once: {s}");
            assert!(
                s["reason"].as_str().unwrap().contains("InstallationFailed"),
                "{s}"
            );
        } else if download_fails.contains(id) {
            assert_eq!(s["state"], "Failed", "{s}");
            assert_eq!(s["lastStatus"], "DownloadFailed", "{s}");
            assert_eq!(s["attempts"], 2, "{s}");
        } else {
            assert_eq!(s["state"], "Installed", "{s}");
            assert_eq!(s["lastStatus"], "Installed", "{s}");
            assert_eq!(s["attempts"], 1, "{s}");
            // The update is the firmware block's own tracked request.
            let rid = s["requestId"].as_i64().unwrap();
            let update = api
                .get(&format!("stations/{id}/firmware/updates/{rid}"))
                .await;
            assert_eq!(update["status"], "Installed", "{update}");
            assert_eq!(update["complete"], true);
        }
    }
    let offline = &stations["FW-OFFLINE"];
    assert_eq!(offline["state"], "Skipped", "{offline}");
    assert!(offline["reason"].as_str().unwrap().contains("offline"));
    assert_eq!(offline["attempts"], 0);
    // What the stations saw: 45 + 5 × 2 updates, never more than 5 at once.
    assert_eq!(counters.updates.load(Ordering::SeqCst), 55);
    let max = counters.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 5, "{max} updates in flight at once");
    assert!(
        max >= 2,
        "the campaign never ran updates side by side ({max})"
    );
    // The list shows it with its counts.
    let list = api.get("firmware-campaigns").await;
    assert_eq!(list["campaigns"][0]["id"], id);
    assert_eq!(list["campaigns"][0]["counts"]["installed"], 45);
}

#[tokio::test]
async fn campaign_paused_starts_nothing_until_resumed() {
    let ids = ids("PZ", 12);
    let (csms, api) = start(&ids).await;
    let firmware = b"firmware 3.1".to_vec();
    let sha = api.upload_firmware("fw-3.1.bin", &firmware).await;
    let counters = Counters::default();
    let _devices = devices(
        &csms,
        &ids,
        &firmware,
        |_| FirmwareOutcome::Install,
        &counters,
    )
    .await;
    let (status, created) = api
        .post(
            "firmware-campaigns",
            json!({"name": "pz", "file": sha, "stations": ids,
                   "concurrency": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, paused) = api
        .post(&format!("firmware-campaigns/{id}/pause"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(paused["state"], "Paused");
    // The updates under way end; nothing new starts although their ends wake the campaign.
    let settled = follow(&api, id, 2, |c| c["counts"]["inProgress"] == 0).await;
    let installed = settled["counts"]["installed"].as_u64().unwrap();
    assert!(installed <= 2, "{settled}");
    assert_eq!(settled["counts"]["pending"], 12 - installed, "{settled}");
    assert_eq!(settled["state"], "Paused");
    assert_eq!(counters.updates.load(Ordering::SeqCst) as u64, installed);
    // Pausing twice is refused (it is paused).
    let (status, _) = api
        .post(&format!("firmware-campaigns/{id}/pause"), json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, resumed) = api
        .post(&format!("firmware-campaigns/{id}/resume"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    let done = follow(&api, id, 2, |c| c["state"] == "Completed").await;
    assert_eq!(done["counts"]["installed"], 12, "{done}");
    assert_eq!(counters.updates.load(Ordering::SeqCst), 12);
    assert!(counters.max_in_flight.load(Ordering::SeqCst) <= 2);
}

#[tokio::test]
async fn campaign_aborted_ends_pending_stations_aborted() {
    let ids = ids("AB", 12);
    let (csms, api) = start(&ids).await;
    let firmware = b"firmware 4.0".to_vec();
    let sha = api.upload_firmware("fw-4.0.bin", &firmware).await;
    let counters = Counters::default();
    let _devices = devices(
        &csms,
        &ids,
        &firmware,
        |_| FirmwareOutcome::Install,
        &counters,
    )
    .await;
    let (_, created) = api
        .post(
            "firmware-campaigns",
            json!({"name": "ab", "file": sha, "stations": ids,
                   "concurrency": 2}),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    let (status, aborted) = api
        .post(&format!("firmware-campaigns/{id}/abort"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{aborted}");
    assert_eq!(aborted["state"], "Aborted");
    let done = follow(&api, id, 2, |c| c["counts"]["inProgress"] == 0).await;
    let installed = done["counts"]["installed"].as_u64().unwrap();
    assert_eq!(done["counts"]["aborted"], 12 - installed, "{done}");
    assert_eq!(done["counts"]["pending"], 0);
    assert_eq!(done["state"], "Aborted");
    assert_eq!(counters.updates.load(Ordering::SeqCst) as u64, installed);
    for s in done["stations"].as_array().unwrap() {
        if s["state"] == "Aborted" {
            assert_eq!(s["attempts"], 0, "{s}");
            assert_eq!(s["reason"], "campaign aborted");
        }
    }
    // An aborted campaign cannot be resumed.
    let (status, _) = api
        .post(&format!("firmware-campaigns/{id}/resume"), json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn campaign_by_filter_on_boot_data() {
    let ids = ids("FL", 4);
    let (csms, api) = start(&ids).await;
    let counters = Counters::default();
    let sha = api.upload_firmware("fw-2.0.bin", b"firmware 2.0").await;
    // FL00, FL01 run 1.0; FL02, FL03 run 2.0 already.
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let mut station = boot(&csms, id, if i < 2 { "1.0" } else { "2.0" }).await;
        let counters = counters.clone();
        tasks.push(tokio::spawn(async move {
            let _ = device::serve(&mut station, &Behaviour::default(), &counters).await;
        }));
    }
    // Started the way an operator does, with the CLI (its body is the API's own request type).
    let (ok, out, err) = common::cli(
        &api.base,
        &api.key,
        &[
            "firmware",
            "campaign",
            "start",
            "--name",
            "to 2.0",
            "--file",
            &sha,
            "--vendor",
            "Acme",
            "--model",
            "AC22",
            "--firmware-version",
            "1.0",
            "--concurrency",
            "10",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("started on 2 stations"), "{out}");
    let id: i64 = out
        .strip_prefix("campaign ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no campaign id in {out:?}"));
    let created = campaign(&api, id).await;
    let mut chosen: Vec<&str> = created["stations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stationId"].as_str().unwrap())
        .collect();
    chosen.sort();
    assert_eq!(chosen, ["FL00", "FL01"]);
    assert_eq!(created["name"], "to 2.0");
    let done = follow(&api, id, 10, |c| c["state"] == "Completed").await;
    assert_eq!(done["counts"]["installed"], 2, "{done}");
    // Nothing matches: refused with a message naming the fix.
    let (status, body) = api
        .post(
            "firmware-campaigns",
            json!({"name": "none", "location": "http://203.0.113.9/x.bin",
                   "filter": {"vendor": "Nobody"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "campaign_without_stations");
}

#[tokio::test]
async fn campaign_resumes_after_a_server_restart() {
    use unicharge_ocpp::v201::{
        FirmwareStatusEnumType, FirmwareStatusNotificationRequest, UpdateFirmwareRequest,
        UpdateFirmwareResponse, UpdateFirmwareStatusEnumType,
    };
    let ids = ids("RS", 6);
    let (csms, api) = start(&ids).await;
    let firmware = b"firmware 5.0".to_vec();
    let sha = api.upload_firmware("fw-5.0.bin", &firmware).await;
    // RS00 and RS01 are driven by hand: they accept and start downloading, then the server
    // goes down. The others are not connected yet.
    let mut a = boot(&csms, ids[0], "1.0").await;
    let mut b = boot(&csms, ids[1], "1.0").await;
    let (_, created) = api
        .post(
            "firmware-campaigns",
            json!({"name": "rs", "file": sha, "stations": ids, "concurrency": 2}),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    let mut request_ids = Vec::new();
    for station in [&mut a, &mut b] {
        let (call, request) = station
            .expect_call::<UpdateFirmwareRequest>()
            .await
            .unwrap();
        station
            .respond::<UpdateFirmwareRequest>(
                &call,
                &UpdateFirmwareResponse {
                    custom_data: None,
                    status: UpdateFirmwareStatusEnumType::Accepted,
                    status_info: None,
                },
            )
            .await
            .unwrap();
        station
            .call(&FirmwareStatusNotificationRequest {
                custom_data: None,
                status: FirmwareStatusEnumType::Downloading,
                request_id: Some(request.request_id),
            })
            .await
            .unwrap();
        request_ids.push(request.request_id);
    }
    let before = follow(&api, id, 2, |c| {
        c["counts"]["inProgress"] == 2
            && c["stations"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["lastStatus"] == "Downloading")
                .count()
                == 2
    })
    .await;
    assert_eq!(before["counts"]["pending"], 4, "{before}");
    // Restart on the same data directory.
    let TestCsms { server, dir, tls } = csms;
    server.shutdown().await;
    drop((a, b));
    let mut settings = common::test_settings(dir.path());
    settings.http.listen = Some("127.0.0.1:0".parse().unwrap());
    settings.csms.campaign_tick = Duration::from_secs(1);
    let server = unicharge_server::start(settings).await.expect("restarts");
    let csms = TestCsms { server, dir, tls };
    let api = Api {
        base: format!("http://{}", csms.server.http_addr.unwrap()),
        ..api
    };
    // The four others connect first (each must be online when its turn comes)…
    let counters = Counters::default();
    let _devices = devices(
        &csms,
        &ids[2..],
        &firmware,
        |_| FirmwareOutcome::Install,
        &counters,
    )
    .await;
    // … then the two come back with the new firmware installed (L01: Installed after reboot).
    for (n, id) in ids[..2].iter().enumerate() {
        let mut station = boot(&csms, id, "5.0").await;
        station
            .call(&FirmwareStatusNotificationRequest {
                custom_data: None,
                status: FirmwareStatusEnumType::Installed,
                request_id: Some(request_ids[n]),
            })
            .await
            .unwrap();
        tokio::spawn(async move {
            let _ = device::serve(&mut station, &Behaviour::default(), &Counters::default()).await;
        });
    }
    let done = follow(&api, id, 2, |c| c["state"] == "Completed").await;
    assert_eq!(done["counts"]["installed"], 6, "{done}");
    let stations = by_station(&done);
    for (n, id) in ids[..2].iter().enumerate() {
        let s = &stations[*id];
        assert_eq!(s["requestId"], request_ids[n], "not sent again: {s}");
        assert_eq!(s["attempts"], 1, "{s}");
    }
    // The four others were started by the restarted server, each once.
    assert_eq!(counters.updates.load(Ordering::SeqCst), 4);
}
