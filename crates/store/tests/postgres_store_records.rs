//! The PostgreSQL store's operator-side records against a real server
//! (`UNICHARGE_TEST_POSTGRES_URL`; each test in its own schema, skipped without it): station
//! columns (A05, B02), NotifyEvent and security events (N07, A04), commands and notices,
//! idTokens (C01), device model and reports (B07, B08), issued certificates (A02) and the
//! operator API keys.

mod pg_support;

use chrono::{TimeDelta, Utc};
use pg_support::{at, id, station, store};
use unicharge_core::{RegistrationStatus, SecurityProfile};
use unicharge_store::{
    ApiKeyRecord, CommandRecord, EventRecord, IssuedCertificate, ReportPart, ReportRecord,
    SecurityEventRecord, StationNotice, VariableRecord, Write,
};

#[tokio::test]
async fn a05_b02_station_columns_change_one_at_a_time() {
    let Some((_schema, store)) = store("station_columns").await else {
        return;
    };
    station(&store, "CP1").await;
    let cp1 = id("CP1");
    let provisioned = at("2026-03-02T08:00:00.5Z");
    assert!(store
        .set_password_hash(&cp1, Some("$argon2id$new"))
        .await
        .unwrap());
    assert!(store
        .set_security_profile(&cp1, SecurityProfile::TlsBasicAuth)
        .await
        .unwrap());
    assert!(store
        .set_pending_security_profile(&cp1, Some(SecurityProfile::TlsClientCert))
        .await
        .unwrap());
    assert!(store.set_provisioned(&cp1, provisioned).await.unwrap());
    assert!(store
        .set_preferred_ocpp_version(&cp1, Some("1.6"))
        .await
        .unwrap());
    assert!(store
        .set_registration(&cp1, RegistrationStatus::Pending)
        .await
        .unwrap());
    let s = store.get_station(&cp1).await.unwrap().unwrap();
    assert_eq!(s.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!(s.security_profile, SecurityProfile::TlsBasicAuth);
    assert_eq!(
        s.pending_security_profile,
        Some(SecurityProfile::TlsClientCert)
    );
    assert_eq!(s.provisioned_at, Some(provisioned));
    assert_eq!(s.preferred_ocpp_version.as_deref(), Some("1.6"));
    assert_eq!(s.registration, RegistrationStatus::Pending);

    assert!(store.set_password_hash(&cp1, None).await.unwrap());
    assert!(store
        .set_pending_security_profile(&cp1, None)
        .await
        .unwrap());
    let s = store.get_station(&cp1).await.unwrap().unwrap();
    assert_eq!(s.password_hash, None);
    assert_eq!(s.pending_security_profile, None);
    assert!(!store
        .set_registration(&id("NOPE"), RegistrationStatus::Accepted)
        .await
        .unwrap());
}

#[tokio::test]
async fn n07_a04_events_security_events_commands_and_notices_newest_first() {
    let Some((_schema, store)) = store("reported").await else {
        return;
    };
    station(&store, "CP1").await;
    let t0 = at("2026-03-01T10:00:00Z");
    let mut batch = Vec::new();
    for n in 0..3 {
        let when = t0 + TimeDelta::seconds(n);
        batch.push(Write::Event(EventRecord {
            station_id: id("CP1"),
            generated_at: when,
            report_seq_no: n,
            event_id: 100 + n,
            timestamp: when,
            trigger: "Delta".into(),
            event_notification_type: "HardWiredNotification".into(),
            component: "Connector".into(),
            evse_id: Some(1),
            connector_id: (n != 1).then_some(1),
            variable: "AvailabilityState".into(),
            actual_value: format!("value-{n}"),
            cleared: [None, Some(true), Some(false)][n as usize],
            data: format!("{{\"eventId\":{}}}", 100 + n),
        }));
        batch.push(Write::SecurityEvent(SecurityEventRecord {
            station_id: id("CP1"),
            kind: format!("Kind{n}"),
            timestamp: when,
            tech_info: (n == 2).then(|| "tech".to_owned()),
            received_at: when,
        }));
        batch.push(Write::Command(CommandRecord {
            seq: 0,
            station_id: id("CP1"),
            action: "Reset".into(),
            request: format!("{{\"n\":{n}}}"),
            outcome: "Accepted".into(),
            response: (n > 0).then(|| "{}".to_owned()),
            requested_by: Some("admin".into()),
            sent_at: when,
            completed_at: when + TimeDelta::milliseconds(250),
        }));
        batch.push(Write::StationNotice(StationNotice {
            station_id: id("CP1"),
            kind: "FirmwareStatus".into(),
            status: format!("Status{n}"),
            request_id: Some(n),
            data: "{}".into(),
            received_at: when,
        }));
    }
    store.write(batch).await.unwrap();

    let events = store.events(&id("CP1"), 2).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event_id, 102, "newest first");
    assert_eq!(events[0].cleared, Some(false));
    assert_eq!(events[1].cleared, Some(true));
    assert_eq!(events[1].connector_id, None);
    assert_eq!(events[1].actual_value, "value-1");
    assert_eq!(events[1].generated_at, t0 + TimeDelta::seconds(1));

    let security = store.security_events(&id("CP1"), 10).await.unwrap();
    let kinds: Vec<&str> = security.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["Kind2", "Kind1", "Kind0"]);
    assert_eq!(security[0].tech_info.as_deref(), Some("tech"));

    let commands = store.commands(&id("CP1"), 10).await.unwrap();
    assert_eq!(commands.len(), 3);
    assert!(commands[0].seq > commands[1].seq);
    assert_eq!(commands[0].request, "{\"n\":2}");
    assert_eq!(commands[2].response, None);
    assert_eq!(
        commands[0].completed_at,
        t0 + TimeDelta::seconds(2) + TimeDelta::milliseconds(250)
    );

    let notices = store.station_notices(&id("CP1"), 2).await.unwrap();
    let statuses: Vec<(&str, Option<i64>)> = notices
        .iter()
        .map(|n| (n.status.as_str(), n.request_id))
        .collect();
    assert_eq!(statuses, [("Status2", Some(2)), ("Status1", Some(1))]);
}

fn token(value: &str, kind: &str, status: &str) -> unicharge_core::tokens::IdTokenRecord {
    unicharge_core::tokens::IdTokenRecord {
        id_token: value.into(),
        kind: kind.into(),
        status: status.into(),
        expiry: None,
        group_id_token: None,
    }
}

#[tokio::test]
async fn c01_id_tokens_are_found_whatever_their_case() {
    let Some((_schema, store)) = store("tokens").await else {
        return;
    };
    store
        .upsert_token(&token("04A2B3C4", "ISO14443", "Accepted"))
        .await
        .unwrap();
    store
        .upsert_token(&token("04a2b3c4", "eMAID", "Accepted"))
        .await
        .unwrap();
    // The same token in another case is the same row: updated, not added.
    let mut blocked = token("04a2b3c4", "ISO14443", "Blocked");
    blocked.expiry = Some(at("2027-01-01T00:00:00Z"));
    blocked.group_id_token = Some("FLEET-1".into());
    store.upsert_token(&blocked).await.unwrap();

    let found = store
        .find_token("04A2b3C4", "ISO14443")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id_token, "04A2B3C4", "stored as first written");
    assert_eq!(found.status, "Blocked");
    assert_eq!(found.expiry, Some(at("2027-01-01T00:00:00Z")));
    assert_eq!(found.group_id_token.as_deref(), Some("FLEET-1"));
    assert!(store
        .find_token("04A2B3C4", "Central")
        .await
        .unwrap()
        .is_none());

    let listed: Vec<(String, String)> = store
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id_token, t.kind))
        .collect();
    assert_eq!(
        listed,
        [
            ("04A2B3C4".to_owned(), "ISO14443".to_owned()),
            ("04a2b3c4".to_owned(), "eMAID".to_owned()),
        ]
    );
    assert!(store.delete_token("04A2B3C4", "eMAID").await.unwrap());
    assert!(!store.delete_token("04A2B3C4", "eMAID").await.unwrap());
    assert_eq!(store.list_tokens().await.unwrap().len(), 1);
}

/// (component, EVSE, value, mutability) of a device-model row.
type VariableRow<'a> = (&'a str, Option<i64>, Option<&'a str>, Option<&'a str>);

fn variable(component: &str, evse: Option<i64>, value: &str, mutability: Option<&str>) -> Write {
    Write::Variable(VariableRecord {
        station_id: id("CP1"),
        component: component.into(),
        component_instance: None,
        evse_id: evse,
        connector_id: None,
        variable: "AvailabilityState".into(),
        variable_instance: None,
        attribute_type: "Actual".into(),
        value: Some(value.into()),
        mutability: mutability.map(str::to_owned),
        source: "NotifyReport".into(),
        updated_at: at("2026-03-01T10:00:00Z"),
    })
}

fn part(seq_no: i64, tbc: bool, data: &str) -> Write {
    Write::ReportPart(ReportPart {
        station_id: id("CP1"),
        request_id: 1,
        seq_no,
        tbc,
        generated_at: at("2026-03-01T10:00:00Z"),
        report_data: data.into(),
    })
}

#[tokio::test]
async fn b07_b08_reports_build_the_device_model_and_a02_certificates_are_listed() {
    let Some((_schema, store)) = store("device_model").await else {
        return;
    };
    station(&store, "CP1").await;
    assert_eq!(store.next_report_request_id(&id("CP1")).await.unwrap(), 1);
    store
        .create_report(&ReportRecord {
            station_id: id("CP1"),
            request_id: 1,
            request: "{\"requestId\":1}".into(),
            status: None,
            complete: false,
            requested_at: at("2026-03-01T09:59:59Z"),
        })
        .await
        .unwrap();
    store
        .set_report_status(&id("CP1"), 1, "Accepted")
        .await
        .unwrap();
    assert_eq!(store.next_report_request_id(&id("CP1")).await.unwrap(), 2);

    store
        .write(vec![
            part(0, true, "first"),
            variable("EVSE", Some(2), "Available", Some("ReadOnly")),
            variable("ChargingStation", None, "Available", None),
        ])
        .await
        .unwrap();
    let (report, parts) = store.report(&id("CP1"), 1).await.unwrap().unwrap();
    assert!(!report.complete, "tbc: more parts to come");
    assert_eq!(report.status.as_deref(), Some("Accepted"));
    assert_eq!(report.requested_at, at("2026-03-01T09:59:59Z"));
    assert_eq!(parts.len(), 1);

    store
        .write(vec![
            part(1, false, "last"),
            part(0, true, "first again"),
            // The same attribute again: the value changes, the known mutability stays.
            variable("EVSE", Some(2), "Occupied", None),
        ])
        .await
        .unwrap();
    let (report, parts) = store.report(&id("CP1"), 1).await.unwrap().unwrap();
    assert!(report.complete);
    let data: Vec<&str> = parts.iter().map(|p| p.report_data.as_str()).collect();
    assert_eq!(data, ["first again", "last"]);
    assert!(store.report(&id("CP1"), 2).await.unwrap().is_none());

    let model = store.device_model(&id("CP1")).await.unwrap();
    let rows: Vec<VariableRow> = model
        .iter()
        .map(|v| {
            (
                v.component.as_str(),
                v.evse_id,
                v.value.as_deref(),
                v.mutability.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("ChargingStation", None, Some("Available"), None),
            ("EVSE", Some(2), Some("Occupied"), Some("ReadOnly")),
        ]
    );
    assert_eq!(model[0].component_instance, None, "'' read back as none");

    let certificate = |serial: &str, status: Option<&str>| {
        Write::IssuedCertificate(IssuedCertificate {
            station_id: id("CP1"),
            serial: serial.into(),
            subject: "CN=CP1".into(),
            not_after: at("2027-03-01T00:00:00Z"),
            certificate: "-----BEGIN CERTIFICATE-----".into(),
            issued_at: at("2026-03-01T10:00:00Z"),
            station_status: status.map(str::to_owned),
            certificate_type: "ChargingStationCertificate".into(),
        })
    };
    store
        .write(vec![
            certificate("01", Some("Accepted")),
            certificate("02", None),
        ])
        .await
        .unwrap();
    let issued = store.issued_certificates(&id("CP1")).await.unwrap();
    let serials: Vec<(&str, Option<&str>)> = issued
        .iter()
        .map(|c| (c.serial.as_str(), c.station_status.as_deref()))
        .collect();
    assert_eq!(
        serials,
        [("02", None), ("01", Some("Accepted"))],
        "newest first"
    );
    assert_eq!(issued[0].not_after, at("2027-03-01T00:00:00Z"));
}

#[tokio::test]
async fn operator_api_keys_are_kept_listed_and_revoked_once() {
    let Some((_schema, store)) = store("api_keys").await else {
        return;
    };
    let key = |id: &str, created: &str| ApiKeyRecord {
        id: id.into(),
        name: format!("key {id}"),
        role: "operator".into(),
        salt: "c2FsdA".into(),
        secret_hash: format!("hash-{id}"),
        created_at: at(created),
        revoked_at: None,
    };
    store
        .create_api_key(&key("k2", "2026-03-02T00:00:00Z"))
        .await
        .unwrap();
    store
        .create_api_key(&key("k1", "2026-03-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(
        store
            .create_api_key(&key("k1", "2026-03-03T00:00:00Z"))
            .await
            .is_err(),
        "ids are unique"
    );
    let got = store.get_api_key("k1").await.unwrap().unwrap();
    assert_eq!(got, key("k1", "2026-03-01T00:00:00Z"));
    let ids: Vec<String> = store
        .list_api_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, ["k1", "k2"], "oldest first");

    let before = Utc::now();
    assert!(store.revoke_api_key("k1").await.unwrap());
    assert!(
        !store.revoke_api_key("k1").await.unwrap(),
        "already revoked"
    );
    assert!(!store.revoke_api_key("nope").await.unwrap());
    let revoked = store.get_api_key("k1").await.unwrap().unwrap().revoked_at;
    assert!(revoked.is_some_and(|at| at >= before));
    assert!(store
        .get_api_key("k2")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
}
