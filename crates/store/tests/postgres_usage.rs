//! Usage charging on the PostgreSQL store against a real server (`UNICHARGE_TEST_POSTGRES_URL`;
//! each test in its own schema, skipped without it), with the SQLite store as the reference:
//! Diameter Ro (RFC 4006) sessions and answers, Diameter Rf (RFC 6733 §9) accounting, OCPP
//! tariffs (I), ISO 17575-1 EFC reports, smart charging (K) and site load management. The same
//! scenario runs on both engines (a macro: `PgStore` has the `Store` methods as inherent
//! methods until `impl Store` lands) and every read must agree; the values are asserted too.

mod pg_support;

use chrono::{DateTime, TimeDelta, Utc};
use pg_support::{at, id, station, store, TestSchema};
use rust_decimal::Decimal;
use unicharge_core::online::{OnlineTariff, QuotaUnit, Subscriber};
use unicharge_core::tariff::{Tariff, TariffAssignment, TariffScope};
use unicharge_core::{SecurityProfile, Station};
use unicharge_store::efc::{
    EfcChargeRecord, EfcContract, EfcObe, EfcQueuedUpdate, EfcReportRecord,
};
use unicharge_store::postgres::{PgStore, StoreConfig};
use unicharge_store::ro::{RoAnswerRow, RoSessionData, RoSessionRow};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{
    AccountingRecordData, AccountingRecordRow, ChargingLimitRecord, ChargingProfileRecord,
    ChargingProfileReport, ChargingProfileReportPart, CompositeScheduleRecord,
    SiteAllocationRecord, SiteGroup, Store, StoreError, SubscriptionIdData, Write,
};

fn minute(min: i64) -> DateTime<Utc> {
    at("2026-03-01T08:00:00Z") + TimeDelta::minutes(min)
}

async fn sqlite() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let lite = SqliteStore::open(&dir.path().join("unicharge.db"), Durability::Normal)
        .await
        .unwrap();
    (dir, lite)
}

// --- Diameter Ro ---

fn session(id: &str, version: i64, last: i64, state: &str, expires: i64) -> Write {
    Write::RoSession(Box::new(RoSessionRow {
        session_id: id.into(),
        origin_host: "ctf.example.net".into(),
        origin_realm: "example.net".into(),
        account: Some("ACC-1".into()),
        subscriber: Some("END_USER_E164:4915112345678".into()),
        state: state.into(),
        closed_reason: (state == "CLOSED").then(|| "TERMINATION_REQUEST".into()),
        last_request_number: last,
        terminate_requested: false,
        created_at: minute(0),
        updated_at: minute(last),
        expires_at: minute(expires),
        data: RoSessionData {
            grants: vec![],
            debited: Decimal::new(125 * last, 2),
        },
        version,
    }))
}

fn answer(id: &str, number: i64, result: i64, bytes: &[u8]) -> Write {
    Write::RoAnswer(Box::new(RoAnswerRow {
        session_id: id.into(),
        request_number: number,
        request_type: if number == 0 { 1 } else { 2 },
        result_code: result,
        answer: bytes.to_vec(),
        answered_at: minute(number),
    }))
}

/// Everything the Ro scenario reads back, to compare between engines.
type RoReads = (
    Option<Subscriber>,
    Vec<Subscriber>,
    Vec<OnlineTariff>,
    Option<RoSessionRow>,
    Vec<RoSessionRow>,
    Vec<RoSessionRow>,
    Vec<RoSessionRow>,
    (Option<RoSessionRow>, Vec<RoAnswerRow>),
    Option<RoAnswerRow>,
    bool,
);

macro_rules! ro_scenario {
    ($s:expr) => {{
        let s = $s;
        for (kind, data, barred) in [
            ("END_USER_E164", "4915112345678", false),
            ("END_USER_IMSI", "262011234567890", true),
        ] {
            s.ro_put_subscriber(&Subscriber {
                id_type: kind.into(),
                id_data: data.into(),
                account: "ACC-1".into(),
                barred,
            })
            .await
            .unwrap();
        }
        for (tariff, price) in [("DATA", "0.10"), ("VOICE", "0.02"), ("DATA", "0.12")] {
            s.ro_put_tariff(&OnlineTariff {
                id: tariff.into(),
                rating_group: Some(if tariff == "DATA" { 1 } else { 2 }),
                service_identifier: None,
                unit: QuotaUnit::Volume,
                currency: "EUR".into(),
                price: price.parse().unwrap(),
                block: 1_048_576,
                max_grant: Some(10_485_760),
                default_grant: 1_048_576,
                switch: None,
            })
            .await
            .unwrap();
        }
        // CCR-I, CCR-U: the session at versions 1 and 2 with their answers.
        s.write(vec![
            session("S1", 1, 0, "OPEN", 5),
            answer("S1", 0, 2001, b"cca-i"),
        ])
        .await
        .unwrap();
        s.write(vec![
            session("S1", 2, 1, "OPEN", 6),
            answer("S1", 1, 2001, b"cca-u"),
        ])
        .await
        .unwrap();
        // A second node that read version 1 too loses: nothing of its batch is kept.
        let stale = s
            .write(vec![
                session("S1", 2, 1, "OPEN", 99),
                answer("S1", 2, 5012, b"lost"),
            ])
            .await;
        assert!(matches!(stale, Err(StoreError::Stale(_))), "{stale:?}");
        // A retransmitted answer keeps the first.
        s.write(vec![answer("S1", 1, 5030, b"other")])
            .await
            .unwrap();
        s.write(vec![session("S2", 1, 0, "OPEN", 3)]).await.unwrap();
        s.write(vec![
            session("S3", 1, 0, "OPEN", 30),
            session("S4", 1, 0, "OPEN", 1),
        ])
        .await
        .unwrap();
        s.write(vec![session("S4", 2, 2, "CLOSED", 1)])
            .await
            .unwrap();
        let terminated = s.ro_request_termination("S2").await.unwrap();
        assert!(
            !s.ro_request_termination("S4").await.unwrap(),
            "S4 is closed"
        );
        (
            s.ro_subscriber("END_USER_IMSI", "262011234567890")
                .await
                .unwrap(),
            s.ro_subscribers().await.unwrap(),
            (*s.ro_tariffs().await.unwrap()).clone(),
            s.ro_session("S1").await.unwrap(),
            s.ro_open_sessions_of("ACC-1", 10).await.unwrap(),
            s.ro_sessions(Some("CLOSED"), 10).await.unwrap(),
            s.ro_expired_sessions(minute(5)).await.unwrap(),
            s.ro_session_with_answers("S1").await.unwrap(),
            s.ro_answer("S1", 1).await.unwrap(),
            terminated,
        )
    }};
}

#[tokio::test]
async fn rfc4006_ro_sessions_answers_subscribers_and_tariffs_read_as_in_sqlite() {
    let Some((_schema, pg)) = store("ro_usage").await else {
        return;
    };
    let (_dir, lite) = sqlite().await;
    let p: RoReads = ro_scenario!(&pg);
    let l: RoReads = ro_scenario!(&lite);
    assert_eq!(p, l);

    let (sub, subs, tariffs, s1, open, closed, expired, (with, answers), answer, terminated) = p;
    assert!(sub.unwrap().barred);
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0].id_type, "END_USER_E164");
    assert_eq!(tariffs.len(), 2);
    assert_eq!(
        tariffs[0].price,
        "0.12".parse::<Decimal>().unwrap(),
        "replaced"
    );
    let s1 = s1.unwrap();
    assert_eq!((s1.version, s1.last_request_number), (2, 1));
    assert_eq!(s1.expires_at, minute(6), "the stale write changed nothing");
    assert_eq!(s1.data.debited, Decimal::new(125, 2));
    let open: Vec<_> = open.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(open, ["S1", "S2", "S3"]);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].session_id, "S4");
    let expired: Vec<_> = expired.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(expired, ["S2"], "S1 expires at 6, S4 is closed");
    assert!(terminated);
    assert_eq!(with.unwrap(), s1);
    let numbers: Vec<_> = answers
        .iter()
        .map(|a| (a.request_number, a.result_code))
        .collect();
    assert_eq!(numbers, [(0, 2001), (1, 2001)]);
    assert_eq!(answer.unwrap().answer, b"cca-u");
    let s2 = pg.ro_session("S2").await.unwrap().unwrap();
    assert!(s2.terminate_requested);
    assert_eq!(s2.version, 2, "a termination request bumps the version");
    let (none, no_answers) = pg.ro_session_with_answers("nope").await.unwrap();
    assert!(none.is_none() && no_answers.is_empty());
}

// --- Diameter Rf and OCPP tariffs ---

fn acr(session: &str, number: i64, record_type: i64, received: i64) -> Write {
    Write::AccountingRecord(Box::new(AccountingRecordRow {
        session_id: session.into(),
        record_number: number,
        record_type,
        origin_host: "ctf.example.net".into(),
        origin_realm: "example.net".into(),
        received_at: minute(received),
        data: AccountingRecordData {
            record_type: [
                "",
                "EVENT_RECORD",
                "START_RECORD",
                "INTERIM_RECORD",
                "STOP_RECORD",
            ][record_type as usize]
                .into(),
            event_timestamp: (number == 0).then(|| minute(received) - TimeDelta::seconds(3)),
            service_context_id: Some("32260@3gpp.org".into()),
            subscription_ids: vec![SubscriptionIdData {
                kind: "END_USER_E164".into(),
                data: format!("49151{number}"),
            }],
            node_functionality: Some(0),
            user_name: None,
            acct_interim_interval: Some(300),
        },
    }))
}

fn tariff(id: &str, per_kwh: &str) -> Tariff {
    let dec = |s: &str| s.parse::<Decimal>().unwrap();
    Tariff {
        id: id.into(),
        currency: "EUR".into(),
        vat_percent: dec("20"),
        price_per_kwh: dec(per_kwh),
        price_per_charging_minute: dec("0"),
        price_per_idle_minute: dec("0.10"),
        session_fee: dec("0.50"),
        valid_from: None,
        valid_to: None,
        display_text: vec![],
    }
}

macro_rules! rf_scenario {
    ($s:expr) => {{
        let s = $s;
        s.write(vec![acr("A", 0, 2, 0), acr("A", 1, 3, 5)])
            .await
            .unwrap();
        // A repeated record is not counted twice; a late INTERIM after the STOP is counted
        // and does not reopen the session.
        s.write(vec![
            acr("A", 1, 3, 6),
            acr("A", 2, 4, 10),
            acr("A", 3, 3, 11),
        ])
        .await
        .unwrap();
        s.write(vec![acr("B", 0, 2, 1)]).await.unwrap();
        s.write(vec![Write::AccountingSessionClosed {
            session_id: "B".into(),
            reason: "SUPERVISION_TIMEOUT".into(),
            at: minute(20),
        }])
        .await
        .unwrap();
        s.write(vec![acr("C", 0, 1, 2)]).await.unwrap();

        s.put_tariff(&tariff("STD", "0.30")).await.unwrap();
        s.put_tariff(&tariff("NIGHT", "0.20")).await.unwrap();
        s.put_tariff(&tariff("STD", "0.35")).await.unwrap();
        let default = TariffAssignment {
            tariff_id: "STD".into(),
            scope: TariffScope::Default,
        };
        let night = TariffAssignment {
            tariff_id: "NIGHT".into(),
            scope: TariffScope::Station {
                station_id: "CP1".into(),
            },
        };
        let a1 = s.add_tariff_assignment(&default).await.unwrap();
        let a2 = s.add_tariff_assignment(&night).await.unwrap();
        let a3 = s.add_tariff_assignment(&night).await.unwrap();
        let deleted_assignment = s.delete_tariff_assignment(a2).await.unwrap();
        let before_delete = s.tariff_assignments().await.unwrap();
        let deleted = (
            s.delete_tariff("NIGHT").await.unwrap(),
            s.delete_tariff("NIGHT").await.unwrap(),
        );
        (
            s.accounting_records(None, 100).await.unwrap(),
            s.accounting_records(Some("A"), 2).await.unwrap(),
            s.accounting_sessions(None, 10).await.unwrap(),
            s.accounting_sessions(Some("OPEN"), 10).await.unwrap(),
            s.tariffs().await.unwrap(),
            (a1, a2, a3, deleted_assignment, deleted),
            before_delete,
            s.tariff_assignments().await.unwrap(),
        )
    }};
}

#[tokio::test]
async fn rfc6733_rf_accounting_and_ocpp_tariffs_read_as_in_sqlite() {
    let Some((_schema, pg)) = store("rf_usage").await else {
        return;
    };
    let (_dir, lite) = sqlite().await;
    let p = rf_scenario!(&pg);
    let l = rf_scenario!(&lite);
    assert_eq!(p, l);

    let (records, of_a, sessions, open, tariffs, ids, before, after) = p;
    assert_eq!(records.len(), 6, "the repeated (A, 1) is stored once");
    assert_eq!(
        (records[0].session_id.as_str(), records[0].record_number),
        ("A", 3)
    );
    let of_a: Vec<_> = of_a.iter().map(|r| r.record_number).collect();
    assert_eq!(of_a, [3, 2]);
    let a = sessions.iter().find(|s| s.session_id == "A").unwrap();
    assert_eq!(
        (a.records, a.first_record_number, a.last_record_number),
        (4, 0, 3)
    );
    assert_eq!(
        (a.state.as_str(), a.closed_reason.as_deref()),
        ("CLOSED", Some("STOP_RECORD"))
    );
    assert_eq!(
        a.started_at,
        minute(0) - TimeDelta::seconds(3),
        "its Event-Timestamp"
    );
    assert_eq!(a.last_record_at, minute(11));
    assert_eq!(a.subscription_id.as_ref().unwrap().data, "491510");
    let b = sessions.iter().find(|s| s.session_id == "B").unwrap();
    assert_eq!(b.closed_reason.as_deref(), Some("SUPERVISION_TIMEOUT"));
    assert_eq!(b.last_record_at, minute(20));
    let c = sessions.iter().find(|s| s.session_id == "C").unwrap();
    assert_eq!(c.closed_reason.as_deref(), Some("EVENT_RECORD"));
    let order: Vec<_> = sessions.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(order, ["B", "A", "C"], "most recently active first");
    assert!(open.is_empty());
    assert_eq!(tariffs.len(), 1);
    assert_eq!(tariffs[0].price_per_kwh, "0.35".parse::<Decimal>().unwrap());
    assert_eq!(ids, (1, 2, 3, true, (true, false)));
    assert_eq!(before.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(
        after.len(),
        1,
        "the deleted tariff's assignments went with it"
    );
    assert_eq!(after[0].1.tariff_id, "STD");
}

// --- ISO 17575-1 EFC ---

fn report(obe: &str, counter: u32, mileage: Option<u32>, update: Option<i64>) -> Write {
    Write::EfcReport(Box::new(EfcReportRecord {
        id: 0,
        obe_key: obe.into(),
        contract_key: "DE-0042-01-1".into(),
        counter: Some(counter),
        mileage,
        mileage_unit: mileage.map(|_| 1),
        account_status: Some(0),
        time_of_report: Some(minute(i64::from(counter))),
        counter_gap: (counter == 5).then_some(2),
        violations: if counter == 5 {
            vec!["counter gap".into()]
        } else {
            vec![]
        },
        request: vec![0x30, counter as u8],
        response: vec![0x31, counter as u8],
        received_at: minute(i64::from(counter)),
        charge_records: vec![
            EfcChargeRecord {
                usage_statement_id: Some(counter as u16),
                fee_excl_vat: Some(250),
                vat: Some(50),
                fee_unit: Some("03d2".into()),
                period_begin: Some(minute(0)),
                period_end: Some(minute(1)),
                distance: Some(12),
                distance_unit: Some(1),
                charge_objects: vec![4, 17],
                no_usage: false,
                events: Some(u64::MAX),
                authenticated: Some(true),
            },
            EfcChargeRecord {
                usage_statement_id: None,
                fee_excl_vat: None,
                vat: None,
                fee_unit: None,
                period_begin: None,
                period_end: None,
                distance: None,
                distance_unit: None,
                charge_objects: vec![],
                no_usage: true,
                events: None,
                authenticated: None,
            },
        ],
        completed_update: update,
    }))
}

macro_rules! efc_scenario {
    ($s:expr) => {{
        let s = $s;
        for (key, mac) in [("M:01", Some("00ff10")), ("M:02", None)] {
            s.upsert_efc_obe(&EfcObe {
                obe_key: key.into(),
                mac_key_hex: mac.map(Into::into),
                require_auth: mac.is_some(),
                label: format!("truck {key}"),
                created_at: minute(0),
            })
            .await
            .unwrap();
        }
        let contract = |label: &str| EfcContract {
            contract_key: "DE-0042-01-1".into(),
            accounts: vec![],
            label: label.into(),
            created_at: minute(0),
        };
        s.upsert_efc_contract(&contract("first")).await.unwrap();
        s.upsert_efc_contract(&contract("renamed")).await.unwrap();
        let update = |once: bool| EfcQueuedUpdate {
            id: 0,
            obe_key: "M:01".into(),
            obe_status_for_driver: Some(3),
            account_update_hex: None,
            until_account_ok: !once,
            created_at: minute(0),
        };
        let u1 = s.enqueue_efc_update(&update(true)).await.unwrap();
        let u2 = s.enqueue_efc_update(&update(false)).await.unwrap();
        s.write(vec![report("M:01", 1, Some(1000), Some(u1))])
            .await
            .unwrap();
        s.write(vec![
            report("M:01", 5, None, None),
            report("M:02", 1, Some(7), None),
        ])
        .await
        .unwrap();
        (
            s.efc_obe("M:01").await.unwrap(),
            s.efc_obes().await.unwrap(),
            s.efc_contract("DE-0042-01-1").await.unwrap(),
            s.efc_contracts().await.unwrap(),
            (u1, u2, s.efc_pending_updates("M:01").await.unwrap()),
            s.efc_reports(Some("M:01"), 10).await.unwrap(),
            s.efc_reports(None, 2).await.unwrap(),
            s.efc_report_by_counter("M:01", 1).await.unwrap(),
            s.efc_report_by_counter("M:01", 2).await.unwrap(),
            s.efc_last_mileage("DE-0042-01-1").await.unwrap(),
        )
    }};
}

#[tokio::test]
async fn iso17575_efc_reports_contracts_and_updates_read_as_in_sqlite() {
    let Some((_schema, pg)) = store("efc_usage").await else {
        return;
    };
    let (_dir, lite) = sqlite().await;
    let p = efc_scenario!(&pg);
    let l = efc_scenario!(&lite);
    assert_eq!(p, l);

    let (obe, obes, contract, contracts, (u1, u2, pending), of_m01, newest, by_1, by_2, mileage) =
        p;
    assert_eq!(obe.unwrap().mac_key_hex.as_deref(), Some("00ff10"));
    assert_eq!(obes.len(), 2);
    assert_eq!(contract.unwrap().label, "renamed");
    assert_eq!(contracts.len(), 1);
    assert_eq!((u1, u2), (1, 2));
    assert_eq!(
        pending.iter().map(|u| u.id).collect::<Vec<_>>(),
        [2],
        "u1 was delivered"
    );
    assert_eq!(
        of_m01.iter().map(|r| r.counter).collect::<Vec<_>>(),
        [Some(5), Some(1)]
    );
    let first = &of_m01[1];
    assert_eq!(first.charge_records.len(), 2);
    assert_eq!(first.charge_records[0].charge_objects, [4, 17]);
    assert_eq!(
        first.charge_records[0].events,
        Some(i64::MAX as u64),
        "BIGINT's maximum"
    );
    assert_eq!(first.charge_records[0].authenticated, Some(true));
    assert!(first.charge_records[1].no_usage);
    assert_eq!(first.request, [0x30, 1]);
    assert_eq!(of_m01[0].violations, ["counter gap"]);
    assert_eq!(newest.iter().map(|r| r.id).collect::<Vec<_>>(), [3, 2]);
    assert_eq!(by_1.map(|r| r.id), Some(1));
    assert!(by_2.is_none());
    assert_eq!(
        mileage.map(|r| (r.obe_key, r.mileage)),
        Some(("M:02".into(), Some(7)))
    );
}

// --- smart charging (K) ---

fn profile(profile_id: i64, evse: i64, status: &str) -> ChargingProfileRecord {
    ChargingProfileRecord {
        station_id: id("CP1"),
        profile_id,
        evse_id: evse,
        stack_level: profile_id % 3,
        purpose: "TxDefaultProfile".into(),
        kind: "Absolute".into(),
        valid_from: Some(minute(0)),
        valid_to: (profile_id == 2).then(|| minute(60)),
        transaction_id: None,
        profile: format!(r#"{{"id":{profile_id}}}"#),
        status: status.into(),
        status_info: None,
        sent_at: minute(profile_id),
        answered_at: None,
        cleared_at: None,
    }
}

macro_rules! k_scenario {
    ($s:expr) => {{
        let s = $s;
        let cp1 = id("CP1");
        for p in [
            profile(1, 0, "Requested"),
            profile(2, 1, "Requested"),
            profile(3, 2, "x"),
        ] {
            s.put_charging_profile(&p).await.unwrap();
        }
        s.put_charging_profile(&profile(3, 2, "Requested"))
            .await
            .unwrap();
        let set = (
            s.set_charging_profile_status(&cp1, 2, "Rejected", Some(r#"{"reasonCode":"X"}"#))
                .await
                .unwrap(),
            s.set_charging_profile_status(&cp1, 9, "Accepted", None)
                .await
                .unwrap(),
        );
        let cleared = s
            .clear_charging_profiles(&cp1, &[1, 1, 9], minute(30))
            .await
            .unwrap();
        let first_id = s.next_charging_profile_request_id(&cp1).await.unwrap();
        let report = |request_id: i64| ChargingProfileReport {
            station_id: id("CP1"),
            request_id,
            request: format!(r#"{{"requestId":{request_id}}}"#),
            status: None,
            complete: false,
            requested_at: minute(40),
        };
        s.create_charging_profile_report(&report(first_id))
            .await
            .unwrap();
        let duplicate = s
            .create_charging_profile_report(&report(first_id))
            .await
            .is_err();
        let second_id = s.next_charging_profile_request_id(&cp1).await.unwrap();
        s.create_charging_profile_report(&report(second_id))
            .await
            .unwrap();
        s.set_charging_profile_report_status(&cp1, first_id, "Accepted")
            .await
            .unwrap();
        s.set_charging_profile_report_status(&cp1, second_id, "NoProfiles")
            .await
            .unwrap();
        let part = |tbc: bool, evse: i64| {
            Write::ChargingProfileReportPart(ChargingProfileReportPart {
                station_id: id("CP1"),
                request_id: first_id,
                evse_id: evse,
                charging_limit_source: "CSO".into(),
                tbc,
                profiles: format!(r#"[{{"id":{evse}}}]"#),
                received_at: minute(41),
            })
        };
        s.write(vec![part(true, 1)]).await.unwrap();
        let incomplete = s.charging_profile_report(&cp1, first_id).await.unwrap();
        s.write(vec![part(false, 2)]).await.unwrap();
        let mut composites = vec![];
        for (evse, status) in [(1, "Accepted"), (2, "Rejected")] {
            composites.push(
                s.add_composite_schedule(&CompositeScheduleRecord {
                    id: 0,
                    station_id: id("CP1"),
                    evse_id: evse,
                    duration: 3600,
                    charging_rate_unit: Some("A".into()),
                    status: status.into(),
                    status_info: None,
                    schedule: (status == "Accepted").then(|| "{}".into()),
                    requested_at: minute(50),
                })
                .await
                .unwrap(),
            );
        }
        let limit = |evse: i64, source: &str, critical: Option<bool>| {
            Write::ChargingLimit(ChargingLimitRecord {
                station_id: id("CP1"),
                evse_id: evse,
                source: source.into(),
                is_grid_critical: critical,
                schedules: Some("[]".into()),
                notified_at: minute(60),
                cleared_at: None,
            })
        };
        s.write(vec![
            limit(1, "EMS", Some(true)),
            limit(2, "EMS", None),
            limit(1, "SO", None),
        ])
        .await
        .unwrap();
        let cleared_limit =
            |evse: Option<i64>, source: &str, min: i64| Write::ChargingLimitCleared {
                station_id: id("CP1"),
                evse_id: evse,
                source: source.into(),
                at: minute(min),
            };
        // K13: EMS released everywhere; SO on EVSE 1; a CSO never notified is kept released.
        s.write(vec![
            cleared_limit(None, "EMS", 70),
            cleared_limit(Some(1), "SO", 71),
        ])
        .await
        .unwrap();
        s.write(vec![cleared_limit(None, "CSO", 72)]).await.unwrap();
        s.write(vec![limit(2, "EMS", Some(false))]).await.unwrap();
        (
            s.charging_profiles(&cp1).await.unwrap(),
            (set, cleared, first_id, second_id, duplicate),
            incomplete,
            s.charging_profile_report(&cp1, first_id).await.unwrap(),
            s.charging_profile_report(&cp1, second_id).await.unwrap(),
            s.charging_profile_report(&cp1, 99).await.unwrap(),
            composites,
            s.composite_schedules(&cp1, 10).await.unwrap(),
            s.charging_limits(&cp1).await.unwrap(),
        )
    }};
}

#[tokio::test]
async fn k_smart_charging_profiles_reports_schedules_and_limits_read_as_in_sqlite() {
    let Some((_schema, pg)) = store("k_usage").await else {
        return;
    };
    let (_dir, lite) = sqlite().await;
    station(&pg, "CP1").await;
    lite.create_station(&Station::new(
        id("CP1"),
        SecurityProfile::BasicAuth,
        minute(0),
    ))
    .await
    .unwrap();
    let p = k_scenario!(&pg);
    let l = k_scenario!(&lite);
    // `answered_at` is the time of the answer (now): equal up to it.
    let without_answer_time = |mut v: Vec<ChargingProfileRecord>| {
        v.iter_mut().for_each(|p| p.answered_at = None);
        v
    };
    assert_eq!(
        without_answer_time(p.0.clone()),
        without_answer_time(l.0.clone())
    );
    assert_eq!(
        (&p.1, &p.2, &p.3, &p.4, &p.5),
        (&l.1, &l.2, &l.3, &l.4, &l.5)
    );
    assert_eq!((&p.6, &p.7, &p.8), (&l.6, &l.7, &l.8));

    let (profiles, ids, incomplete, first, second, missing, composites, schedules, limits) = p;
    assert_eq!(
        profiles.iter().map(|p| p.profile_id).collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(profiles[0].status, "Rejected");
    assert!(profiles[0].answered_at.is_some());
    assert_eq!(profiles[0].valid_to, Some(minute(60)));
    assert_eq!(profiles[1].status, "Requested", "replaced");
    assert_eq!(ids, ((true, false), 1, 1, 2, true));
    let (head, parts) = incomplete.unwrap();
    assert!(!head.complete);
    assert_eq!(parts.len(), 1);
    let (head, parts) = first.unwrap();
    assert!(head.complete);
    assert_eq!(head.status.as_deref(), Some("Accepted"));
    assert_eq!(
        parts.iter().map(|p| (p.evse_id, p.tbc)).collect::<Vec<_>>(),
        [(1, true), (2, false)]
    );
    let (head, parts) = second.unwrap();
    assert!(head.complete && parts.is_empty(), "NoProfiles completes it");
    assert!(missing.is_none());
    assert_eq!(composites, [1, 2]);
    assert_eq!(schedules.iter().map(|c| c.id).collect::<Vec<_>>(), [2, 1]);
    let limits: Vec<_> = limits
        .iter()
        .map(|l| {
            (
                l.evse_id,
                l.source.as_str(),
                l.is_grid_critical,
                l.cleared_at,
            )
        })
        .collect();
    assert_eq!(
        limits,
        [
            (0, "CSO", None, Some(minute(72))),
            (1, "EMS", Some(true), Some(minute(70))),
            (1, "SO", None, Some(minute(71))),
            (2, "EMS", Some(false), None),
        ]
    );
}

// --- site load management ---

fn group(id_: &str, limit: f64) -> SiteGroup {
    SiteGroup {
        id: id_.into(),
        limit,
        unit: "A".into(),
        stations: vec![id("CP1"), id("CP2")],
        min_rate: 6.0,
        max_rate: 32.0,
        phases: 3,
        stack_level: 1,
        priorities: [("FLEET".to_string(), 2)].into_iter().collect(),
        updated_at: minute(0),
    }
}

fn allocation(group_id: &str, node: u32, n: u32) -> SiteAllocationRecord {
    SiteAllocationRecord {
        group_id: group_id.into(),
        at: minute(i64::from(n)),
        station_id: id(&format!("CP{node}")),
        evse_id: 1,
        transaction_id: format!("T{node}-{n}"),
        rate: 6.5 + f64::from(n),
        unit: "A".into(),
        reason: "rebalance".into(),
        status: "Accepted".into(),
    }
}

macro_rules! site_scenario {
    ($s:expr) => {{
        let s = $s;
        s.put_site_group(&group("SITE-B", 100.0)).await.unwrap();
        s.put_site_group(&group("SITE-A", 63.0)).await.unwrap();
        s.put_site_group(&group("SITE-A", 80.0)).await.unwrap();
        for n in 0..5 {
            s.add_site_allocation(&allocation("SITE-A", 1, n))
                .await
                .unwrap();
        }
        let deleted = (
            s.delete_site_group("SITE-B").await.unwrap(),
            s.delete_site_group("SITE-B").await.unwrap(),
        );
        (
            s.site_groups().await.unwrap(),
            deleted,
            s.site_allocations("SITE-A", 3).await.unwrap(),
            s.site_allocations("SITE-B", 3).await.unwrap(),
        )
    }};
}

#[tokio::test]
async fn site_groups_and_allocation_history_read_as_in_sqlite() {
    let Some((_schema, pg)) = store("site_usage").await else {
        return;
    };
    let (_dir, lite) = sqlite().await;
    let p = site_scenario!(&pg);
    let l = site_scenario!(&lite);
    assert_eq!(p, l);
    let (groups, deleted, latest, none) = p;
    assert_eq!(groups, [group("SITE-A", 80.0)]);
    assert_eq!(deleted, (true, false));
    let latest: Vec<_> = latest.iter().map(|a| a.transaction_id.as_str()).collect();
    assert_eq!(
        latest,
        ["T1-2", "T1-3", "T1-4"],
        "the latest three, oldest first"
    );
    assert!(none.is_empty());
}

/// Two nodes (two `PgStore`s on one schema) allocating on one site at once: every allocation
/// is kept exactly once, and each node's allocations are in the order it made them.
#[tokio::test]
async fn site_allocations_of_two_nodes_at_once_stay_exact() {
    let Some(schema) = TestSchema::create("site_two_nodes").await else {
        return;
    };
    let a = PgStore::open_with(schema.options(), StoreConfig::default())
        .await
        .unwrap();
    let b = PgStore::open_with(schema.options(), StoreConfig::default())
        .await
        .unwrap();
    a.put_site_group(&group("SITE", 63.0)).await.unwrap();
    const EACH: u32 = 40;
    let node = |store: PgStore, node: u32| {
        tokio::spawn(async move {
            for n in 0..EACH {
                store
                    .add_site_allocation(&allocation("SITE", node, n))
                    .await
                    .unwrap();
            }
        })
    };
    let (x, y) = (node(a.clone(), 1), node(b.clone(), 2));
    x.await.unwrap();
    y.await.unwrap();
    let all = b.site_allocations("SITE", 1000).await.unwrap();
    assert_eq!(all.len(), 2 * EACH as usize);
    for n in [1, 2] {
        let mine: Vec<String> = all
            .iter()
            .filter(|r| r.station_id.as_str() == format!("CP{n}"))
            .map(|r| r.transaction_id.clone())
            .collect();
        let expected: Vec<String> = (0..EACH).map(|i| format!("T{n}-{i}")).collect();
        assert_eq!(mine, expected, "node {n}: each once, in its order");
    }
    assert_eq!(
        all.last(),
        a.site_allocations("SITE", 1).await.unwrap().last()
    );
}

/// The lock behind that: while another node holds the site group's row (its allocation
/// transaction not yet committed), an allocation waits for it instead of committing past it.
#[tokio::test]
async fn site_allocation_waits_for_the_group_row_lock() {
    let Some((schema, pg)) = store("site_row_lock").await else {
        return;
    };
    pg.put_site_group(&group("SITE", 63.0)).await.unwrap();
    let other_node = schema.pool().await;
    let mut held = other_node.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM site_groups WHERE id = 'SITE' FOR UPDATE")
        .fetch_one(&mut *held)
        .await
        .unwrap();
    let waiting = {
        let pg = pg.clone();
        tokio::spawn(async move { pg.add_site_allocation(&allocation("SITE", 1, 0)).await })
    };
    // Until PostgreSQL shows a session waiting to lock the group (bounded). The lock
    // is released before any assertion, so a failure cannot leave the schema locked.
    let mut waited = false;
    for _ in 0..5_000 {
        if waiting.is_finished() {
            break;
        }
        let waiters: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE wait_event_type = 'Lock' AND query LIKE '%site_groups%FOR UPDATE%'
               AND datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&other_node)
        .await
        .unwrap();
        if waiters > 0 {
            waited = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    let before_release = pg.site_allocations("SITE", 10).await.unwrap();
    held.commit().await.unwrap();
    waiting.await.unwrap().unwrap();
    assert!(waited, "the allocation did not wait for the group's lock");
    assert!(before_release.is_empty());
    assert_eq!(pg.site_allocations("SITE", 10).await.unwrap().len(), 1);
}

/// Two nodes (two `PgStore`s on one schema) writing one Ro session and one Rf session at once:
/// of the two CCR-U writes made from the same version exactly one is kept (the other is
/// `Stale` and keeps nothing of its batch), and every Rf record of both nodes is counted.
#[tokio::test]
async fn rfc4006_rfc6733_two_nodes_at_once_neither_lose_nor_double_count() {
    let Some(schema) = TestSchema::create("usage_two_nodes").await else {
        return;
    };
    let a = PgStore::open_with(schema.options(), StoreConfig::default())
        .await
        .unwrap();
    let b = PgStore::open_with(schema.options(), StoreConfig::default())
        .await
        .unwrap();
    a.write(vec![session("S1", 1, 0, "OPEN", 5)]).await.unwrap();
    for round in 0..10_i64 {
        let version = round + 2;
        let (x, y) = tokio::join!(
            a.write(vec![
                session("S1", version, version, "OPEN", 100 + version),
                answer("S1", 2 * version, 2001, b"node a"),
            ]),
            b.write(vec![
                session("S1", version, version, "OPEN", 200 + version),
                answer("S1", 2 * version + 1, 2001, b"node b"),
            ]),
        );
        let kept = match (&x, &y) {
            (Ok(()), Err(StoreError::Stale(_))) => 100,
            (Err(StoreError::Stale(_)), Ok(())) => 200,
            other => panic!("round {round}: {other:?}"),
        };
        let s1 = a.ro_session("S1").await.unwrap().unwrap();
        assert_eq!(
            (s1.version, s1.expires_at),
            (version, minute(kept + version))
        );
        let (_, answers) = b.ro_session_with_answers("S1").await.unwrap();
        assert_eq!(
            answers.len() as i64,
            round + 1,
            "the loser's answer was not kept"
        );
    }

    const EACH: i64 = 25;
    let node = |store: PgStore, first: i64| {
        tokio::spawn(async move {
            for n in 0..EACH {
                let number = first + 2 * n;
                store
                    .write(vec![acr("R", number, 3, number)])
                    .await
                    .unwrap();
            }
        })
    };
    let (x, y) = (node(a.clone(), 1), node(b.clone(), 2));
    x.await.unwrap();
    y.await.unwrap();
    let sessions = a.accounting_sessions(None, 10).await.unwrap();
    let r = sessions.iter().find(|s| s.session_id == "R").unwrap();
    assert_eq!((r.records, r.first_record_number), (2 * EACH, 1));
    assert_eq!(
        r.last_record_at,
        minute(2 * EACH),
        "the latest of both nodes"
    );
    assert_eq!(
        a.accounting_records(Some("R"), 1000).await.unwrap().len(),
        50
    );
}

/// Tariffs are read by every TransactionEvent, so a node keeps them for
/// `StoreConfig::tariff_cache_ttl`: its own changes show at once, another node's once the time
/// is up (here: never within the test for the node with a long time, at once for a node with
/// none).
#[tokio::test]
async fn tariffs_are_cached_per_node_for_their_time_and_follow_own_changes() {
    let Some(schema) = TestSchema::create("tariff_cache").await else {
        return;
    };
    let open = |ttl: std::time::Duration| {
        PgStore::open_with(
            schema.options(),
            StoreConfig {
                tariff_cache_ttl: ttl,
                ..StoreConfig::default()
            },
        )
    };
    let a = open(std::time::Duration::from_secs(3600)).await.unwrap();
    let b = open(std::time::Duration::ZERO).await.unwrap();
    let ids = |tariffs: Vec<Tariff>| tariffs.into_iter().map(|t| t.id).collect::<Vec<_>>();

    a.put_tariff(&tariff("T1", "0.30")).await.unwrap();
    assert_eq!(ids(a.tariffs().await.unwrap()), ["T1"], "its own change");
    b.put_tariff(&tariff("T2", "0.40")).await.unwrap();
    assert_eq!(ids(b.tariffs().await.unwrap()), ["T1", "T2"], "no cache");
    assert_eq!(
        ids(a.tariffs().await.unwrap()),
        ["T1"],
        "another node's change is not seen before the time is up"
    );
    let assigned = a
        .add_tariff_assignment(&TariffAssignment {
            tariff_id: "T2".into(),
            scope: TariffScope::Default,
        })
        .await
        .unwrap();
    assert_eq!(
        ids(a.tariffs().await.unwrap()),
        ["T1", "T2"],
        "its own change reads everything again"
    );
    assert_eq!(a.tariff_assignments().await.unwrap()[0].0, assigned);
    assert!(b.delete_tariff("T1").await.unwrap());
    assert!(a.delete_tariff_assignment(assigned).await.unwrap());
    assert_eq!(ids(a.tariffs().await.unwrap()), ["T2"]);
    assert!(a.tariff_assignments().await.unwrap().is_empty());
}
