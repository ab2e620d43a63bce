//! The operator-initiated blocks on both engines: each scenario runs against the SQLite store
//! (the reference) and the PostgreSQL store (`UNICHARGE_TEST_POSTGRES_URL`, a schema per test;
//! skipped without it) and asserts the same values on both: local lists (D01), remote starts
//! (F01), reservations (H01), OCPP 1.6 transaction ids, tracked requests and monitors (L, N),
//! display messages (O), installed certificates (M), campaigns and log files, GDPR access and
//! erasure, and the operator views.

mod pg_support;

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use pg_support::{at, id};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::{SecurityProfile, Station};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::views::{StationQuery, StationSort, StationStatusFilter};
use unicharge_store::{
    CampaignRecord, CampaignStationRecord, CertificateHash, CommandRecord, DisplayMessageRecord,
    DisplayMessageReport, DisplayMessageReportPart, InstalledCertificate, LogFileRecord,
    ReservationRecord, Store, TrackedKind, TrackedPart, TrackedRequest, VariableMonitorRecord,
    Write,
};

/// Run `scenario` on SQLite, then on PostgreSQL when a server is configured.
async fn on_both<F, Fut>(test: &str, scenario: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("unicharge.db"), Durability::Normal)
        .await
        .unwrap();
    scenario(Arc::new(sqlite)).await;
    if let Some((_schema, pg)) = pg_support::store(test).await {
        scenario(Arc::new(pg)).await;
    }
}

async fn station(store: &dyn Store, name: &str, vendor: &str, created: &str) {
    let mut s = Station::new(id(name), SecurityProfile::BasicAuth, at(created));
    s.vendor_name = Some(vendor.into());
    store.create_station(&s).await.unwrap();
}

#[tokio::test]
async fn d01_local_list_is_replaced_whole_and_keeps_the_station_state() {
    on_both("local_list", |store| async move {
        station(&*store, "CP1", "Acme", "2026-03-01T10:00:00Z").await;
        let cp1 = id("CP1");
        let empty = store.local_list(&cp1).await.unwrap();
        assert_eq!((empty.version, empty.entries.len()), (0, 0));
        store
            .set_local_list_station_state(&cp1, None, Some(7))
            .await
            .unwrap();
        let entries = vec![
            ("TOKEN-B".to_string(), "ISO14443".to_string()),
            ("TOKEN-A".to_string(), "ISO14443".to_string()),
            // The same token in another case: idTokens compare case-insensitively.
            ("token-a".to_string(), "ISO14443".to_string()),
        ];
        store.put_local_list(&cp1, 8, &entries).await.unwrap();
        store
            .set_local_list_station_state(&cp1, Some("Accepted"), None)
            .await
            .unwrap();
        let list = store.local_list(&cp1).await.unwrap();
        assert_eq!(list.version, 8);
        assert_eq!(list.station_version, Some(7), "kept across the replacement");
        assert_eq!(list.last_status.as_deref(), Some("Accepted"));
        assert_eq!(
            list.entries,
            vec![
                ("TOKEN-A".to_string(), "ISO14443".to_string()),
                ("TOKEN-B".to_string(), "ISO14443".to_string()),
            ]
        );
        store.put_local_list(&cp1, 9, &entries[..1]).await.unwrap();
        let list = store.local_list(&cp1).await.unwrap();
        assert_eq!((list.version, list.entries.len()), (9, 1));
        assert_eq!(list.last_status, None, "a new list is not answered yet");
    })
    .await;
}

#[tokio::test]
async fn f01_h01_remote_starts_reservations_and_ocpp16_ids() {
    on_both("remote_reservations", |store| async move {
        station(&*store, "CP1", "Acme", "2026-03-01T10:00:00Z").await;
        let cp1 = id("CP1");
        let before = Utc::now() - TimeDelta::seconds(5);
        let first = store
            .create_remote_start(&cp1, "TOKEN-A", "ISO14443", Some(1))
            .await
            .unwrap();
        let second = store
            .create_remote_start(&cp1, "TOKEN-A", "ISO14443", None)
            .await
            .unwrap();
        assert!(second > first);
        assert_eq!(
            store
                .open_remote_start(&cp1, "TOKEN-A", 1, before)
                .await
                .unwrap(),
            Some(second),
            "the newest open request for the EVSE"
        );
        store
            .set_remote_start_outcome(second, "Accepted", Some("TX-1"))
            .await
            .unwrap();
        store
            .set_remote_start_outcome(second, "Accepted", Some("TX-2"))
            .await
            .unwrap();
        let started = store.remote_start(second).await.unwrap().unwrap();
        assert_eq!(
            (started.status.as_str(), started.transaction_id.as_deref()),
            ("Accepted", Some("TX-1")),
            "the first transaction id stays"
        );
        assert_eq!(started.evse_id, None);
        assert_eq!(
            store
                .open_remote_start(&cp1, "TOKEN-A", 1, before)
                .await
                .unwrap(),
            Some(first)
        );

        let expires = at("2026-03-01T12:00:00Z");
        let r = ReservationRecord {
            id: 0,
            station_id: cp1.clone(),
            evse_id: Some(2),
            connector_type: Some("cType2".into()),
            id_token: "TOKEN-A".into(),
            id_token_type: "ISO14443".into(),
            group_id_token: Some("GROUP-1".into()),
            expires_at: expires,
            status: "Requested".into(),
            transaction_id: None,
            created_at: at("2026-03-01T11:00:00Z"),
            updated_at: at("2026-03-01T11:00:00Z"),
        };
        let r1 = store.create_reservation(&r).await.unwrap();
        let r2 = store.create_reservation(&r).await.unwrap();
        assert!(store
            .set_reservation_status(&cp1, r1, "Accepted")
            .await
            .unwrap());
        assert!(!store
            .set_reservation_status(&id("CP2"), r1, "Accepted")
            .await
            .unwrap());
        store
            .set_reservation_status(&cp1, r2, "Cancelled")
            .await
            .unwrap();
        // ReservationStatusUpdate never revives a cancelled reservation.
        for (reservation_id, status) in [(r1, "Expired"), (r2, "Expired")] {
            store
                .write(vec![Write::ReservationStatus {
                    station_id: cp1.clone(),
                    reservation_id,
                    status: status.into(),
                }])
                .await
                .unwrap();
        }
        let one = store.reservation(&cp1, r1).await.unwrap().unwrap();
        assert_eq!(one.status, "Expired");
        assert_eq!(one.expires_at, expires);
        assert_eq!(one.group_id_token.as_deref(), Some("GROUP-1"));
        let all = store.reservations(&cp1).await.unwrap();
        assert_eq!(
            all.iter()
                .map(|r| (r.id, r.status.as_str()))
                .collect::<Vec<_>>(),
            vec![(r2, "Cancelled"), (r1, "Expired")],
            "newest first"
        );

        let started_at = at("2026-03-01T11:30:00Z");
        let a = store
            .ocpp16_transaction_id(&cp1, 1, "TAG", started_at)
            .await
            .unwrap();
        let again = store
            .ocpp16_transaction_id(&cp1, 1, "TAG", started_at)
            .await
            .unwrap();
        let b = store
            .ocpp16_transaction_id(&cp1, 2, "TAG", started_at)
            .await
            .unwrap();
        assert_eq!(a, again, "a repeated StartTransaction gets the same id");
        assert_ne!(a, b);
    })
    .await;
}

fn tracked(kind: TrackedKind, request_id: i64) -> TrackedRequest {
    TrackedRequest {
        station_id: id("CP1"),
        kind,
        request_id,
        request: r#"{"requestId":1}"#.into(),
        answer: None,
        status: None,
        complete: false,
        requested_at: at("2026-03-01T10:05:00Z"),
        updated_at: at("2026-03-01T10:05:00Z"),
    }
}

fn monitor(monitor_id: i64, value: f64) -> VariableMonitorRecord {
    VariableMonitorRecord {
        station_id: id("CP1"),
        monitor_id,
        component: "EVSE".into(),
        component_instance: None,
        evse_id: Some(1),
        connector_id: None,
        variable: "Power".into(),
        variable_instance: Some("Active".into()),
        monitor_type: "UpperThreshold".into(),
        value,
        severity: 4,
        transaction_only: true,
        origin: "SetVariableMonitoring".into(),
        updated_at: at("2026-03-01T10:06:00Z"),
        cleared_at: None,
    }
}

#[tokio::test]
async fn l01_n02_tracked_requests_parts_and_monitors() {
    on_both("tracked", |store| async move {
        station(&*store, "CP1", "Acme", "2026-03-01T10:00:00Z").await;
        let cp1 = id("CP1");
        let kind = TrackedKind::GetMonitoringReport;
        assert_eq!(store.next_tracked_request_id(&cp1, kind).await.unwrap(), 1);
        store
            .create_tracked_request(&tracked(kind, 1))
            .await
            .unwrap();
        store
            .create_tracked_request(&tracked(TrackedKind::UpdateFirmware, 5))
            .await
            .unwrap();
        assert_eq!(store.next_tracked_request_id(&cp1, kind).await.unwrap(), 2);
        assert!(store
            .set_tracked_answer(&cp1, kind, 1, r#"{"status":"Accepted"}"#, false)
            .await
            .unwrap());
        let part = |seq_no, tbc| TrackedPart {
            station_id: cp1.clone(),
            kind,
            request_id: 1,
            seq_no: Some(seq_no),
            tbc,
            status: None,
            final_status: false,
            data: format!(r#"{{"seqNo":{seq_no}}}"#),
            received_at: at("2026-03-01T10:07:00Z"),
        };
        store
            .write(vec![
                Write::TrackedPart(part(0, true)),
                Write::VariableMonitor(monitor(3, 11000.0)),
            ])
            .await
            .unwrap();
        let (open, parts) = store.tracked_request(&cp1, kind, 1).await.unwrap().unwrap();
        assert!(!open.complete);
        assert_eq!(parts.len(), 1);
        store
            .write(vec![Write::TrackedPart(part(1, false))])
            .await
            .unwrap();
        let (done, parts) = store.tracked_request(&cp1, kind, 1).await.unwrap().unwrap();
        assert!(done.complete, "the last part (tbc false) completes it");
        assert_eq!(done.answer.as_deref(), Some(r#"{"status":"Accepted"}"#));
        assert_eq!(
            parts.iter().map(|p| (p.seq_no, p.tbc)).collect::<Vec<_>>(),
            vec![(Some(0), true), (Some(1), false)]
        );
        assert_eq!(parts[1].received_at, at("2026-03-01T10:07:00Z"));
        let listed = store.tracked_requests(&cp1, kind, 10).await.unwrap();
        assert_eq!(listed.len(), 1);

        store
            .put_variable_monitor(&monitor(3, 22000.5))
            .await
            .unwrap();
        store.put_variable_monitor(&monitor(4, 7.25)).await.unwrap();
        assert_eq!(
            store
                .clear_variable_monitors(&cp1, &[4, 99], at("2026-03-01T10:08:00Z"))
                .await
                .unwrap(),
            1
        );
        let held = store.variable_monitors(&cp1).await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!((held[0].monitor_id, held[0].value), (3, 22000.5));
        assert!(held[0].transaction_only);
        assert_eq!(held[0].variable_instance.as_deref(), Some("Active"));
    })
    .await;
}

fn message(message_id: i64) -> DisplayMessageRecord {
    DisplayMessageRecord {
        station_id: id("CP1"),
        message_id,
        priority: "NormalCycle".into(),
        state: Some("Charging".into()),
        transaction_id: None,
        start_at: Some(at("2026-03-01T00:00:00Z")),
        end_at: None,
        message: r#"{"format":"UTF8","content":"Welcome"}"#.into(),
        status: "Requested".into(),
        status_info: None,
        sent_at: at("2026-03-01T10:10:00Z"),
        answered_at: None,
        cleared_at: None,
    }
}

#[tokio::test]
async fn o01_o04_display_messages_and_their_reports() {
    on_both("display", |store| async move {
        station(&*store, "CP1", "Acme", "2026-03-01T10:00:00Z").await;
        let cp1 = id("CP1");
        store.put_display_message(&message(2)).await.unwrap();
        store.put_display_message(&message(1)).await.unwrap();
        assert!(store
            .set_display_message_status(&cp1, 1, "Accepted", None)
            .await
            .unwrap());
        assert!(store
            .clear_display_message(&cp1, 2, at("2026-03-01T10:11:00Z"))
            .await
            .unwrap());
        assert!(!store
            .clear_display_message(&cp1, 2, at("2026-03-01T10:12:00Z"))
            .await
            .unwrap());
        let shown = store.display_messages(&cp1).await.unwrap();
        assert_eq!(shown.len(), 2);
        assert_eq!(
            (shown[0].message_id, shown[0].status.as_str()),
            (1, "Accepted")
        );
        assert!(shown[0].answered_at.is_some());
        assert_eq!(shown[1].cleared_at, Some(at("2026-03-01T10:11:00Z")));
        assert_eq!(shown[0].start_at, Some(at("2026-03-01T00:00:00Z")));

        // Several reports asked at once still get one requestId each.
        let report = DisplayMessageReport {
            station_id: cp1.clone(),
            request_id: 0,
            request: "{}".into(),
            status: None,
            complete: false,
            requested_at: at("2026-03-01T10:13:00Z"),
        };
        let mut asks = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let (store, report) = (store.clone(), report.clone());
            asks.spawn(async move { store.create_display_message_report(&report).await });
        }
        let mut ids = asks
            .join_all()
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        ids.sort();
        assert_eq!(ids, vec![1, 2, 3, 4, 5, 6]);
        store
            .set_display_message_report_status(&cp1, 1, "Accepted")
            .await
            .unwrap();
        store
            .write(vec![Write::DisplayMessageReportPart(
                DisplayMessageReportPart {
                    station_id: cp1.clone(),
                    request_id: 1,
                    tbc: false,
                    messages: "[]".into(),
                    received_at: at("2026-03-01T10:14:00Z"),
                },
            )])
            .await
            .unwrap();
        let (head, parts) = store
            .display_message_report(&cp1, 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(head.status.as_deref(), Some("Accepted"));
        assert!(head.complete);
        assert_eq!(parts.len(), 1);
        store
            .set_display_message_report_status(&cp1, 2, "Unknown")
            .await
            .unwrap();
        let (unknown, _) = store
            .display_message_report(&cp1, 2)
            .await
            .unwrap()
            .unwrap();
        assert!(unknown.complete, "Unknown: no parts will follow");
        assert!(store
            .display_message_report(&cp1, 99)
            .await
            .unwrap()
            .is_none());
    })
    .await;
}

#[tokio::test]
async fn m03_m04_installed_certificates_are_refreshed_and_deleted_once() {
    on_both("certificates", |store| async move {
        station(&*store, "CP1", "Acme", "2026-03-01T10:00:00Z").await;
        let cp1 = id("CP1");
        let cert = |algorithm: &str, certificate: Option<&str>| InstalledCertificate {
            station_id: cp1.clone(),
            hash_algorithm: algorithm.into(),
            issuer_name_hash: "AABB".into(),
            issuer_key_hash: "CCDD".into(),
            serial_number: "01F3".into(),
            certificate_type: "V2GRootCertificate".into(),
            certificate: certificate.map(str::to_string),
            source: if certificate.is_some() {
                "Installed"
            } else {
                "Reported"
            }
            .into(),
            seen_at: at("2026-03-01T10:20:00Z"),
            deleted_at: None,
        };
        store
            .put_installed_certificate(&cert("SHA256", Some("PEM")))
            .await
            .unwrap();
        store
            .put_installed_certificate(&cert("SHA256", None))
            .await
            .unwrap();
        store
            .put_installed_certificate(&cert("SHA384", None))
            .await
            .unwrap();
        let held = store.installed_certificates(&cp1).await.unwrap();
        assert_eq!(held.len(), 2);
        let sha256 = held.iter().find(|c| c.hash_algorithm == "SHA256").unwrap();
        assert_eq!(sha256.certificate.as_deref(), Some("PEM"), "PEM kept");
        assert_eq!(sha256.source, "Installed");
        let hash = CertificateHash {
            hash_algorithm: "SHA256".into(),
            issuer_name_hash: "aabb".into(),
            issuer_key_hash: "ccdd".into(),
            serial_number: "01f3".into(),
        };
        let now = at("2026-03-01T10:21:00Z");
        assert!(store
            .mark_certificate_deleted(&cp1, &hash, now)
            .await
            .unwrap());
        assert!(!store
            .mark_certificate_deleted(&cp1, &hash, now)
            .await
            .unwrap());
        let held = store.installed_certificates(&cp1).await.unwrap();
        assert!(
            held.iter().all(|c| c.deleted_at == Some(now)),
            "deleted under both hash algorithms"
        );
    })
    .await;
}

#[tokio::test]
async fn l01_n01_campaigns_and_log_files() {
    on_both("campaigns", |store| async move {
        for cp in ["CP1", "CP2"] {
            station(&*store, cp, "Acme", "2026-03-01T10:00:00Z").await;
        }
        let campaign = CampaignRecord {
            id: 0,
            name: "fw 2.1".into(),
            state: "Running".into(),
            firmware: r#"{"location":"https://fw"}"#.into(),
            concurrency: 2,
            max_attempts: 3,
            station_timeout_secs: 600,
            created_by: "admin".into(),
            created_at: at("2026-03-01T11:00:00Z"),
            updated_at: at("2026-03-01T11:00:00Z"),
        };
        let member = |cp: &str, position| CampaignStationRecord {
            campaign_id: 0,
            station_id: id(cp),
            position,
            state: "Pending".into(),
            attempts: 0,
            request_id: None,
            last_status: None,
            reason: None,
            started_at: None,
            updated_at: at("2026-03-01T11:00:00Z"),
        };
        let c = store
            .create_campaign(&campaign, &[member("CP2", 1), member("CP1", 0)])
            .await
            .unwrap();
        let mut cp2 = member("CP2", 1);
        cp2.campaign_id = c;
        cp2.state = "Installing".into();
        cp2.attempts = 1;
        cp2.request_id = Some(41);
        cp2.started_at = Some(at("2026-03-01T11:01:00Z"));
        store.put_campaign_stations(&[cp2]).await.unwrap();
        assert!(store.set_campaign_state(c, "Paused").await.unwrap());
        assert!(!store.set_campaign_state(c + 100, "Paused").await.unwrap());
        let stored = store.campaign(c).await.unwrap().unwrap();
        assert_eq!((stored.state.as_str(), stored.concurrency), ("Paused", 2));
        assert_eq!(store.campaigns().await.unwrap().len(), 1);
        let members = store.campaign_stations(c).await.unwrap();
        assert_eq!(
            members
                .iter()
                .map(|m| (m.station_id.as_str(), m.state.as_str(), m.request_id))
                .collect::<Vec<_>>(),
            vec![("CP1", "Pending", None), ("CP2", "Installing", Some(41))]
        );
        assert_eq!(members[1].started_at, Some(at("2026-03-01T11:01:00Z")));

        let file = |request_id| LogFileRecord {
            id: 0,
            station_id: id("CP1"),
            request_id,
            filename: Some("diag.log".into()),
            content_type: None,
            size: 1234,
            sha256: "ab".repeat(32),
            path: format!("logs/{request_id}"),
            uploaded_at: at("2026-03-01T12:00:00Z"),
        };
        let first = store.add_log_file(&file(7)).await.unwrap();
        let second = store.add_log_file(&file(8)).await.unwrap();
        let listed = store.log_files(&id("CP1"), 1).await.unwrap();
        assert_eq!(
            listed.iter().map(|f| f.id).collect::<Vec<_>>(),
            vec![second]
        );
        let one = store.log_file(first).await.unwrap().unwrap();
        assert_eq!((one.request_id, one.size), (7, 1234));
        assert_eq!(one.uploaded_at, at("2026-03-01T12:00:00Z"));
    })
    .await;
}

#[tokio::test]
async fn gdpr_access_lists_and_erasure_pseudonymises_on_both_engines() {
    on_both("gdpr", |store| async move {
        station(&*store, "CP1", "Acme", "2026-03-01T10:00:00Z").await;
        let cp1 = id("CP1");
        store
            .upsert_token(&IdTokenRecord {
                id_token: "Driver-7".into(),
                kind: "ISO14443".into(),
                status: "Accepted".into(),
                expiry: None,
                group_id_token: None,
            })
            .await
            .unwrap();
        store
            .put_local_list(&cp1, 1, &[("DRIVER-7".into(), "ISO14443".into())])
            .await
            .unwrap();
        store
            .create_remote_start(&cp1, "driver-7", "ISO14443", Some(1))
            .await
            .unwrap();
        let sent = at("2026-03-01T10:30:00Z");
        store
            .write(vec![Write::Command(CommandRecord {
                seq: 0,
                station_id: cp1.clone(),
                action: "RequestStartTransaction".into(),
                request:
                    r#"{"idToken":{"idToken":"Driver-7","type":"ISO14443"},"remoteStartId":1}"#
                        .into(),
                outcome: "Accepted".into(),
                response: Some(r#"{"status":"Accepted"}"#.into()),
                requested_by: Some("admin".into()),
                sent_at: sent,
                completed_at: sent,
            })])
            .await
            .unwrap();
        let data = store.personal_data("DRIVER-7").await.unwrap();
        assert_eq!(data.tokens.len(), 1);
        assert_eq!(data.tokens[0]["idToken"], "Driver-7", "camelCase columns");
        assert_eq!(data.local_list_entries.len(), 1);
        assert_eq!(data.remote_starts.len(), 1);
        assert_eq!(data.commands.len(), 1);
        assert_eq!(
            data.commands[0]["value"]["idToken"]["idToken"], "Driver-7",
            "the JSON column parsed"
        );

        let erasure = store
            .erase_personal_data("driver-7", b"key", "admin")
            .await
            .unwrap();
        assert_eq!(erasure.deleted["id_tokens.id_token"], 1);
        assert_eq!(erasure.deleted["local_list_entries.id_token"], 1);
        assert_eq!(erasure.pseudonymised["remote_starts.id_token"], 1);
        assert_eq!(erasure.pseudonymised["commands.request"], 1);
        assert_eq!(erasure.local_list_stations, vec!["CP1".to_string()]);
        let after = store.personal_data("driver-7").await.unwrap();
        assert!(after.tokens.is_empty() && after.commands.is_empty());
        assert!(after.remote_starts.is_empty());
        let by_alias = store.personal_data(&erasure.pseudonym).await.unwrap();
        assert_eq!(by_alias.remote_starts.len(), 1);
        assert_eq!(by_alias.commands.len(), 1);
        let again = store
            .erase_personal_data("driver-7", b"key", "admin")
            .await
            .unwrap();
        assert!(again.deleted.values().all(|n| *n == 0), "idempotent");
    })
    .await;
}

#[tokio::test]
async fn operator_views_page_filter_and_count_the_same_on_both_engines() {
    on_both("views", |store| async move {
        station(&*store, "CP-A", "Acme", "2026-03-01T10:00:00Z").await;
        station(&*store, "CP-B", "Other", "2026-03-02T10:00:00Z").await;
        station(&*store, "CP_C", "acme corp", "2026-03-03T10:00:00Z").await;
        let page = |search: Option<&str>, status, sort, descending| StationQuery {
            search: search.map(str::to_string),
            status,
            connected: vec![id("CP-B")],
            sort,
            descending,
            limit: 10,
            offset: 0,
        };
        let ids = |p: &unicharge_store::views::StationPage| {
            p.stations
                .iter()
                .map(|s| s.id.as_str().to_string())
                .collect::<Vec<_>>()
        };
        let all = store
            .station_page(&page(
                None,
                StationStatusFilter::All,
                StationSort::Id,
                false,
            ))
            .await
            .unwrap();
        assert_eq!(
            (ids(&all), all.total),
            (vec!["CP-A".into(), "CP-B".into(), "CP_C".into()], 3)
        );
        let found = store
            .station_page(&page(
                Some("cp-"),
                StationStatusFilter::All,
                StationSort::Created,
                true,
            ))
            .await
            .unwrap();
        assert_eq!(
            ids(&found),
            vec!["CP-B".to_string(), "CP-A".to_string()],
            "case folded, newest first"
        );
        let underscore = store
            .station_page(&page(
                Some("_"),
                StationStatusFilter::All,
                StationSort::Id,
                false,
            ))
            .await
            .unwrap();
        assert_eq!(
            ids(&underscore),
            vec!["CP_C".to_string()],
            "wildcards literal"
        );
        let online = store
            .station_page(&page(
                None,
                StationStatusFilter::Online,
                StationSort::Id,
                false,
            ))
            .await
            .unwrap();
        assert_eq!((ids(&online), online.total), (vec!["CP-B".to_string()], 1));
        let offline = store
            .station_page(&page(
                None,
                StationStatusFilter::Offline,
                StationSort::Id,
                true,
            ))
            .await
            .unwrap();
        assert_eq!(ids(&offline), vec!["CP_C".to_string(), "CP-A".to_string()]);
        let figures = store
            .fleet_figures(at("2026-01-01T00:00:00Z"))
            .await
            .unwrap();
        assert_eq!((figures.stations, figures.records), (3, 0));
        let transactions = store.transaction_page(true, 10, 0).await.unwrap();
        assert_eq!(transactions.total, 0);
        let records = store.charge_record_page(10, 0).await.unwrap();
        assert_eq!(records.total, 0);
    })
    .await;
}
