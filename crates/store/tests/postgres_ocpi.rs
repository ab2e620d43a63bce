//! The OCPI traits on the PostgreSQL store against a real server (`UNICHARGE_TEST_POSTGRES_URL`;
//! each test in its own schema, skipped without it). Each scenario runs on SQLite and on
//! PostgreSQL through `dyn OcpiStore` and every read is compared, besides the values asserted;
//! and two nodes (two stores on one database) claiming due pushes never get the same one.

mod pg_support;

use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use pg_support::{id, store};
use unicharge_store::ocpi::{
    ClientInfoRow, CommandSentRow, LocationRow, OcpiOutbox, OcpiStore, OwnTokenRow, Partner, Party,
    PushRow, ReceivedRow, RotationRow, SyncMark, TokenRow,
};
use unicharge_store::ocpi_buc::{PublishedRolesRow, SessionLimitRow, SharingRow};
use unicharge_store::ocpi_reservations::{CdrVerdictRow, OcpiReservationRow};
use unicharge_store::postgres::{PgStore, StoreConfig};
use unicharge_store::sqlite::{Durability, SqliteStore};

fn at(second: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap() + Duration::seconds(second)
}

fn partner(name: &str, token_hash: &str, parties: Vec<Party>) -> Partner {
    Partner {
        id: 0,
        name: name.into(),
        status: "REGISTERED".into(),
        incoming_token_hash: Some(token_hash.into()),
        outgoing_token_sealed: Some(format!("sealed-{name}")),
        version: Some("2.2.1".into()),
        versions_url: Some(format!("https://{name}.example/ocpi/versions")),
        endpoints: r#"[{"identifier":"locations","role":"RECEIVER"}]"#.into(),
        roles: r#"[{"role":"EMSP"}]"#.into(),
        parties,
        created_at: at(0),
        updated_at: at(0),
    }
}

fn push(partner_id: i64, key: &str, method: &str, created: DateTime<Utc>) -> PushRow {
    PushRow {
        id: 0,
        partner_id,
        module: if method == "POST" {
            "cdrs"
        } else {
            "locations"
        }
        .into(),
        object_key: key.into(),
        method: method.into(),
        path: format!("/NL/UNI/{key}"),
        body: Some(format!(r#"{{"key":"{key}"}}"#)),
        from: Some(Party::new("NL", "UNI")),
        to: Some(Party::new("DE", "EMA")),
        status: "PENDING".into(),
        attempts: 0,
        next_attempt_at: at(0),
        last_error: None,
        created_at: created,
        delivered_at: None,
    }
}

async fn sqlite() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("unicharge.db"), Durability::Normal)
        .await
        .unwrap();
    (dir, store)
}

/// What a scenario read, in order, as text: compared between the engines.
#[derive(Default)]
struct Reads(Vec<String>);

impl Reads {
    fn note<T: std::fmt::Debug>(&mut self, what: &str, value: T) -> T {
        self.0.push(format!("{what}: {value:?}"));
        value
    }
}

/// Credentials (partners and their parties), Locations and Tokens (OCPI 2.2.1 §7, §8, §12).
async fn partners_locations_tokens(s: &dyn OcpiStore) -> Reads {
    let mut r = Reads::default();
    let nl = Party::new("NL", "UNI");
    let de = Party::new("de", "ema");
    let emsp = s
        .create_ocpi_partner(&partner("emsp", "hash-a", vec![nl.clone(), de.clone()]))
        .await
        .unwrap();
    let hub = s
        .create_ocpi_partner(&partner("hub", "hash-b", vec![]))
        .await
        .unwrap();
    r.note("ids", (emsp, hub));
    assert_ne!(emsp, hub);
    let mut p = s.ocpi_partner(emsp).await.unwrap().unwrap();
    assert_eq!(p.parties, vec![de.clone(), nl.clone()], "ordered by party");
    assert_eq!(p.outgoing_token_sealed.as_deref(), Some("sealed-emsp"));
    r.note("partner", &p);
    p.status = "UNREGISTERED".into();
    p.incoming_token_hash = Some("hash-c".into());
    p.parties = vec![nl.clone(), nl.clone()];
    p.updated_at = at(5);
    assert!(s.save_ocpi_partner(&p).await.unwrap());
    let mut missing = p.clone();
    missing.id = 999;
    assert!(!s.save_ocpi_partner(&missing).await.unwrap());
    let saved = r.note("saved", s.ocpi_partner(emsp).await.unwrap().unwrap());
    assert_eq!(
        saved.parties,
        vec![nl.clone()],
        "a repeated party is stored once"
    );
    assert_eq!(
        (saved.status.as_str(), saved.updated_at),
        ("UNREGISTERED", at(5))
    );
    assert!(s
        .ocpi_partner_by_token_hash("hash-a")
        .await
        .unwrap()
        .is_none());
    let by_hash = s
        .ocpi_partner_by_token_hash("hash-c")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_hash, saved);
    assert!(s.ocpi_partner(999).await.unwrap().is_none());
    let all = r.note("partners", s.ocpi_partners().await.unwrap());
    assert_eq!(all.iter().map(|p| p.id).collect::<Vec<_>>(), [emsp, hub]);
    assert!(all[1].parties.is_empty());

    let loc = |lid: &str, stations: &[&str], second| LocationRow {
        party: nl.clone(),
        id: lid.into(),
        data: format!(r#"{{"name":"{lid}"}}"#),
        last_updated: at(second),
        stations: stations.iter().map(|s| id(s)).collect(),
    };
    s.put_ocpi_location(&loc("LOC2", &["CP3", "CP1"], 20))
        .await
        .unwrap();
    s.put_ocpi_location(&loc("LOC1", &["CP2"], 10))
        .await
        .unwrap();
    // CP1 moves to LOC1; LOC2 keeps CP3.
    s.put_ocpi_location(&loc("LOC1", &["CP2", "CP1"], 30))
        .await
        .unwrap();
    let loc1 = r.note("LOC1", s.ocpi_location(&nl, "LOC1").await.unwrap().unwrap());
    assert_eq!(loc1.stations, vec![id("CP1"), id("CP2")]);
    assert_eq!(loc1.last_updated, at(30));
    let locations = r.note("locations", s.ocpi_locations().await.unwrap());
    assert_eq!(
        locations
            .iter()
            .map(|l| (l.id.as_str(), l.stations.len()))
            .collect::<Vec<_>>(),
        [("LOC2", 1), ("LOC1", 2)],
        "by last_updated"
    );
    assert_eq!(
        s.ocpi_location_of_station(&id("CP1")).await.unwrap(),
        Some((nl.clone(), "LOC1".to_string()))
    );
    assert!(s
        .ocpi_location_of_station(&id("CP9"))
        .await
        .unwrap()
        .is_none());
    assert!(s.ocpi_location(&de, "LOC1").await.unwrap().is_none());

    let token = |party: &Party, kind: &str, partner_id, second| TokenRow {
        party: party.clone(),
        uid: "04A1B2".into(),
        kind: kind.into(),
        partner_id,
        data: format!(r#"{{"type":"{kind}","s":{second}}}"#),
        last_updated: at(second),
    };
    s.put_ocpi_token(&token(&de, "RFID", Some(emsp), 50))
        .await
        .unwrap();
    s.put_ocpi_token(&token(&nl, "APP_USER", None, 40))
        .await
        .unwrap();
    s.put_ocpi_token(&token(&de, "RFID", Some(hub), 60))
        .await
        .unwrap();
    let rfid = r.note(
        "token",
        s.ocpi_token(&de, "04A1B2", "RFID").await.unwrap().unwrap(),
    );
    assert_eq!((rfid.partner_id, rfid.last_updated), (Some(hub), at(60)));
    assert!(s
        .ocpi_token(&de, "04A1B2", "APP_USER")
        .await
        .unwrap()
        .is_none());
    let by_uid = r.note("by uid", s.ocpi_tokens_by_uid("04A1B2").await.unwrap());
    assert_eq!(
        by_uid.iter().map(|t| t.kind.as_str()).collect::<Vec<_>>(),
        ["APP_USER", "RFID"]
    );
    r
}

#[tokio::test]
async fn credentials_locations_tokens_as_in_sqlite() {
    let Some((_schema, pg)) = store("ocpi_core").await else {
        return;
    };
    let (_dir, lite) = sqlite().await;
    let expected = partners_locations_tokens(&lite).await;
    let got = partners_locations_tokens(&pg).await;
    assert_eq!(got.0, expected.0);
}

/// The outbox as the worker drives it (each due push delivered or failed before the next
/// round), and the tariff versions.
async fn outbox_rounds(s: &dyn OcpiStore) -> Reads {
    let mut r = Reads::default();
    let p = s
        .create_ocpi_partner(&partner("emsp", "hash-a", vec![]))
        .await
        .unwrap();
    let a1 = s
        .enqueue_ocpi_push(&push(p, "evse-a", "PATCH", at(0)))
        .await
        .unwrap()
        .unwrap();
    let a2 = s
        .enqueue_ocpi_push(&push(p, "evse-a", "PATCH", at(1)))
        .await
        .unwrap()
        .unwrap();
    let b1 = s
        .enqueue_ocpi_push(&push(p, "evse-b", "PUT", at(2)))
        .await
        .unwrap()
        .unwrap();
    let cdr = s
        .enqueue_ocpi_push(&push(p, "cdr:1", "POST", at(3)))
        .await
        .unwrap();
    assert!(cdr.is_some());
    assert_eq!(
        s.enqueue_ocpi_push(&push(p, "cdr:1", "POST", at(4)))
            .await
            .unwrap(),
        None,
        "a CDR is enqueued once per partner"
    );
    let due = r.note("due 1", s.due_ocpi_pushes(at(0), 10).await.unwrap());
    assert_eq!(
        due.iter().map(|d| d.id).collect::<Vec<_>>(),
        [a1, b1, cdr.unwrap()],
        "the second push of evse-a waits for the first"
    );
    assert_eq!(due[0].next_attempt_at, at(0), "the time it was due");
    assert_eq!(due[0].to, Some(Party::new("DE", "EMA")));
    s.ocpi_push_failed(a1, "HTTP 500", at(10)).await.unwrap();
    s.ocpi_push_delivered(b1, at(1)).await.unwrap();
    s.ocpi_push_delivered(cdr.unwrap(), at(1)).await.unwrap();
    assert_eq!(
        r.note("next", s.next_ocpi_push_due().await.unwrap()),
        Some(at(10))
    );
    assert!(s.due_ocpi_pushes(at(5), 10).await.unwrap().is_empty());
    let counts = r.note("counts", s.ocpi_push_counts(p).await.unwrap());
    assert_eq!(
        (counts.pending, counts.delivered, counts.failing),
        (2, 2, 1)
    );
    let due = r.note("due 2", s.due_ocpi_pushes(at(10), 10).await.unwrap());
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].id, due[0].attempts), (a1, 1));
    assert_eq!(due[0].last_error.as_deref(), Some("HTTP 500"));
    s.ocpi_push_delivered(a1, at(11)).await.unwrap();
    let due = r.note("due 3", s.due_ocpi_pushes(at(11), 10).await.unwrap());
    assert_eq!(due.iter().map(|d| d.id).collect::<Vec<_>>(), [a2]);
    s.ocpi_push_delivered(a2, at(12)).await.unwrap();
    assert_eq!(s.next_ocpi_push_due().await.unwrap(), None);
    let pushes = s.ocpi_pushes(p, 3).await.unwrap();
    // Not `next_attempt_at`: on PostgreSQL a delivered push keeps the end of the claim it was
    // sent under (the lease), on SQLite the time it was due.
    r.note(
        "pushes",
        pushes
            .iter()
            .map(|d| (d.id, d.status.as_str(), d.attempts, d.delivered_at, &d.body))
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        pushes.iter().map(|d| d.id).collect::<Vec<_>>(),
        [cdr.unwrap(), b1, a2],
        "newest first, limited"
    );
    assert_eq!(pushes[2].delivered_at, Some(at(12)));
    assert_eq!(
        (pushes[2].status.as_str(), pushes[2].attempts),
        ("DELIVERED", 1)
    );

    assert_eq!(
        s.ocpi_tariff_version("T1", "f1", at(0)).await.unwrap(),
        (at(0), true)
    );
    assert_eq!(
        s.ocpi_tariff_version("T1", "f1", at(5)).await.unwrap(),
        (at(0), false)
    );
    assert_eq!(
        s.ocpi_tariff_version("T1", "f2", at(7)).await.unwrap(),
        (at(7), true)
    );
    s.ocpi_tariff_version("T0", "f", at(8)).await.unwrap();
    assert_eq!(
        r.note("tariffs", s.ocpi_tariff_ids().await.unwrap()),
        ["T0", "T1"]
    );
    assert!(s.forget_ocpi_tariff("T1").await.unwrap());
    assert!(!s.forget_ocpi_tariff("T1").await.unwrap());
    assert_eq!(s.ocpi_tariff_ids().await.unwrap(), ["T0"]);
    r
}

#[tokio::test]
async fn outbox_and_tariff_versions_as_in_sqlite() {
    let Some((_schema, pg)) = store("ocpi_outbox").await else {
        return;
    };
    let (_dir, lite) = sqlite().await;
    let expected = outbox_rounds(&lite).await;
    let got = outbox_rounds(&pg).await;
    assert_eq!(got.0, expected.0);
}

#[tokio::test]
async fn a_claimed_push_is_not_due_again_until_its_lease_ends() {
    let Some((schema, _first)) = store("ocpi_lease").await else {
        return;
    };
    let config = StoreConfig {
        ocpi_push_lease: StdDuration::from_secs(30),
        ..StoreConfig::default()
    };
    let node = PgStore::open_with(schema.options(), config).await.unwrap();
    let p = node
        .create_ocpi_partner(&partner("emsp", "hash-a", vec![]))
        .await
        .unwrap();
    let a = node
        .enqueue_ocpi_push(&push(p, "evse-a", "PUT", at(0)))
        .await
        .unwrap()
        .unwrap();
    let claimed = node.due_ocpi_pushes(at(1), 10).await.unwrap();
    assert_eq!(claimed.iter().map(|d| d.id).collect::<Vec<_>>(), [a]);
    assert_eq!(claimed[0].next_attempt_at, at(0));
    assert!(node.due_ocpi_pushes(at(1), 10).await.unwrap().is_empty());
    assert!(node.due_ocpi_pushes(at(30), 10).await.unwrap().is_empty());
    assert_eq!(
        node.next_ocpi_push_due().await.unwrap(),
        Some(at(31)),
        "the lease ends 30 s after the claim"
    );
    // The claiming node died: at the end of the lease any node takes the push over.
    let again = node.due_ocpi_pushes(at(31), 10).await.unwrap();
    assert_eq!(again.iter().map(|d| d.id).collect::<Vec<_>>(), [a]);
    assert_eq!(again[0].next_attempt_at, at(31));
    // A failure ends the lease with the retry time.
    node.ocpi_push_failed(a, "timeout", at(40)).await.unwrap();
    assert_eq!(node.next_ocpi_push_due().await.unwrap(), Some(at(40)));
}

#[tokio::test]
async fn two_nodes_claiming_at_once_never_get_the_same_push() {
    let Some((schema, node_a)) = store("ocpi_two_nodes").await else {
        return;
    };
    let node_b = PgStore::open_with(schema.options(), StoreConfig::default())
        .await
        .unwrap();
    let p = node_a
        .create_ocpi_partner(&partner("emsp", "hash-a", vec![]))
        .await
        .unwrap();
    // 60 objects with two pushes each: only the first of each may ever be claimed here (the
    // second waits for it, and nothing is delivered).
    let mut first = BTreeSet::new();
    for n in 0..60 {
        let key = format!("evse-{n}");
        first.insert(
            node_a
                .enqueue_ocpi_push(&push(p, &key, "PATCH", at(0)))
                .await
                .unwrap()
                .unwrap(),
        );
        node_b
            .enqueue_ocpi_push(&push(p, &key, "PATCH", at(1)))
            .await
            .unwrap()
            .unwrap();
    }
    let mut tasks = Vec::new();
    for task in 0..6 {
        let node = if task % 2 == 0 {
            node_a.clone()
        } else {
            node_b.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            // 60 claimable pushes, 7 a round: a node claiming what it already holds would
            // never run out, and fails here instead of looping.
            for _ in 0..60 {
                let due = node.due_ocpi_pushes(at(2), 7).await.unwrap();
                if due.is_empty() {
                    return mine;
                }
                mine.extend(due.iter().map(|d| d.id));
            }
            panic!("claims never ran out ({} rows claimed)", mine.len());
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    let distinct: BTreeSet<i64> = claimed.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        claimed.len(),
        "a push claimed twice: {claimed:?}"
    );
    assert_eq!(distinct, first, "every object's first push, claimed once");
    assert!(node_a.due_ocpi_pushes(at(2), 100).await.unwrap().is_empty());
}

/// HubClientInfo (§14), the eMSP role's records, pull marks and rotation (B8.1), published
/// roles (B8.2), session limits (B4.2), location sharing (B1.5), reservations and CDR
/// verdicts (B5.2).
async fn emsp_and_business_records(s: &dyn OcpiStore) -> Reads {
    let mut r = Reads::default();
    let p = s
        .create_ocpi_partner(&partner("cpo", "hash-a", vec![]))
        .await
        .unwrap();
    let q = s
        .create_ocpi_partner(&partner("hub", "hash-b", vec![]))
        .await
        .unwrap();
    let (nl, de) = (Party::new("NL", "CPO"), Party::new("DE", "ABC"));

    // Hub client info.
    for (party, second) in [(&nl, 1), (&de, 2), (&nl, 3)] {
        s.put_ocpi_client_info(&ClientInfoRow {
            partner_id: q,
            party: party.clone(),
            data: format!(r#"{{"status":"ONLINE","s":{second}}}"#),
            last_updated: at(second),
        })
        .await
        .unwrap();
    }
    let info = r.note("info", s.ocpi_client_info(q, &nl).await.unwrap().unwrap());
    assert_eq!(info.last_updated, at(3));
    let infos = r.note("infos", s.ocpi_client_infos(q).await.unwrap());
    assert_eq!(
        infos.iter().map(|i| i.party.clone()).collect::<Vec<_>>(),
        [de.clone(), nl.clone()]
    );
    assert!(s.ocpi_client_infos(p).await.unwrap().is_empty());

    // Received objects.
    let received = |id: &str, second| ReceivedRow {
        partner_id: p,
        module: "cdrs".into(),
        party: nl.clone(),
        id: id.into(),
        data: format!(r#"{{"id":"{id}","s":{second}}}"#),
        last_updated: at(second),
        received_at: at(second + 1),
    };
    assert!(s
        .insert_ocpi_received_once(&received("CDR1", 10))
        .await
        .unwrap());
    assert!(!s
        .insert_ocpi_received_once(&received("CDR1", 11))
        .await
        .unwrap());
    s.put_ocpi_received(&received("CDR2", 12)).await.unwrap();
    s.put_ocpi_received(&received("CDR2", 13)).await.unwrap();
    let cdr1 = r.note(
        "cdr1",
        s.ocpi_received(p, "cdrs", &nl, "CDR1")
            .await
            .unwrap()
            .unwrap(),
    );
    assert_eq!(cdr1.last_updated, at(10), "never replaced");
    let list = r.note(
        "received",
        s.ocpi_received_list(Some(p), "cdrs").await.unwrap(),
    );
    assert_eq!(
        list.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        ["CDR1", "CDR2"]
    );
    assert_eq!(list[1].received_at, at(14));
    assert_eq!(s.ocpi_received_list(None, "cdrs").await.unwrap(), list);
    assert!(s
        .ocpi_received_list(Some(q), "cdrs")
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .delete_ocpi_received(p, "cdrs", &nl, "CDR1")
        .await
        .unwrap());
    assert!(!s
        .delete_ocpi_received(p, "cdrs", &nl, "CDR1")
        .await
        .unwrap());

    // Commands sent.
    for (n, second) in [("c1", 20), ("c2", 21)] {
        s.create_ocpi_command(&CommandSentRow {
            id: n.into(),
            partner_id: p,
            command: "START_SESSION".into(),
            request: format!(r#"{{"n":"{n}"}}"#),
            response: None,
            result: None,
            created_at: at(second),
            result_at: None,
        })
        .await
        .unwrap();
    }
    s.ocpi_command_response("c1", r#"{"result":"ACCEPTED"}"#)
        .await
        .unwrap();
    assert!(s
        .ocpi_command_result("c1", r#"{"result":"ACCEPTED"}"#, at(25))
        .await
        .unwrap());
    assert!(!s.ocpi_command_result("nope", "{}", at(25)).await.unwrap());
    let c1 = r.note("c1", s.ocpi_command("c1").await.unwrap().unwrap());
    assert_eq!((c1.response.is_some(), c1.result_at), (true, Some(at(25))));
    let commands = r.note("commands", s.ocpi_commands(p).await.unwrap());
    assert_eq!(
        commands.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["c2", "c1"]
    );

    // Our eMSP tokens.
    for (uid, kind, second) in [
        ("U1", "RFID", 30),
        ("U2", "APP_USER", 31),
        ("U1", "RFID", 32),
    ] {
        s.put_ocpi_own_token(&OwnTokenRow {
            party: de.clone(),
            uid: uid.into(),
            kind: kind.into(),
            data: format!(r#"{{"uid":"{uid}","s":{second}}}"#),
            last_updated: at(second),
        })
        .await
        .unwrap();
    }
    let u1 = r.note(
        "own",
        s.ocpi_own_token(&de, "U1", "RFID").await.unwrap().unwrap(),
    );
    assert_eq!(u1.last_updated, at(32));
    assert!(s.ocpi_own_token(&nl, "U1", "RFID").await.unwrap().is_none());
    // Replaced tokens: SQLite keeps the first insertion's place, PostgreSQL lists by time.
    let mut own: Vec<String> = s
        .ocpi_own_tokens()
        .await
        .unwrap()
        .iter()
        .map(|t| t.uid.clone())
        .collect();
    own.sort();
    r.note("own tokens", &own);
    assert_eq!(own, ["U1", "U2"]);

    // Pull marks and rotation.
    for (module, second) in [("tariffs", 40), ("locations", 41), ("tariffs", 42)] {
        s.put_ocpi_sync_mark(&SyncMark {
            partner_id: p,
            module: module.into(),
            date_from: at(second - 10),
            synced_at: at(second),
            objects: second,
            stored: 3,
        })
        .await
        .unwrap();
    }
    let marks = r.note("marks", s.ocpi_sync_marks(p).await.unwrap());
    assert_eq!(
        marks
            .iter()
            .map(|m| (m.module.as_str(), m.objects))
            .collect::<Vec<_>>(),
        [("locations", 41), ("tariffs", 42)]
    );
    let rotation = |partner_id, pending: Option<&str>| RotationRow {
        partner_id,
        initiated_by_us: partner_id == p,
        issued_at: at(50),
        pending_token_hash: pending.map(str::to_string),
        pending_since: pending.map(|_| at(51)),
        last_error: None,
    };
    s.put_ocpi_rotation(&rotation(q, None)).await.unwrap();
    s.put_ocpi_rotation(&rotation(p, Some("new-hash")))
        .await
        .unwrap();
    let rot = r.note("rotation", s.ocpi_rotation(p).await.unwrap().unwrap());
    assert!(rot.initiated_by_us);
    assert_eq!(rot.pending_since, Some(at(51)));
    let rotations = r.note("rotations", s.ocpi_rotations().await.unwrap());
    assert_eq!(
        rotations.iter().map(|x| x.partner_id).collect::<Vec<_>>(),
        [p, q]
    );
    assert!(!rotations[1].initiated_by_us);
    assert_eq!(
        s.ocpi_partner_by_pending_token_hash("new-hash")
            .await
            .unwrap(),
        Some(p)
    );
    assert_eq!(
        s.ocpi_partner_by_pending_token_hash("old").await.unwrap(),
        None
    );

    // Published roles.
    assert!(s.ocpi_published_roles(p).await.unwrap().is_none());
    for (error, second) in [(Some("HTTP 503"), 60), (None, 61)] {
        s.put_ocpi_published_roles(&PublishedRolesRow {
            partner_id: p,
            roles: r#"[{"role":"CPO"}]"#.into(),
            published_at: at(second),
            last_error: error.map(str::to_string),
        })
        .await
        .unwrap();
    }
    let roles = r.note("roles", s.ocpi_published_roles(p).await.unwrap().unwrap());
    assert_eq!((roles.published_at, roles.last_error), (at(61), None));

    // Session limits.
    let limit = |side: &str, session: &str, stop: Option<&str>| SessionLimitRow {
        partner_id: p,
        side: side.into(),
        session_id: session.into(),
        station_id: (side == "RECEIVED").then(|| id("CP1")),
        transaction_id: (side == "RECEIVED").then(|| format!("tx-{session}")),
        data: r#"{"max_energy_kwh":10}"#.into(),
        reached: stop.map(|_| "ENERGY".to_string()),
        reached_at: stop.map(|_| at(70)),
        stop_requested_at: stop.map(|_| at(71)),
        stop_result: stop.map(str::to_string),
        last_updated: at(72),
    };
    s.put_ocpi_session_limit(&limit("RECEIVED", "S2", None))
        .await
        .unwrap();
    s.put_ocpi_session_limit(&limit("RECEIVED", "S1", Some("Rejected")))
        .await
        .unwrap();
    s.put_ocpi_session_limit(&limit("RECEIVED", "S3", Some("Accepted")))
        .await
        .unwrap();
    s.put_ocpi_session_limit(&limit("SENT", "S4", None))
        .await
        .unwrap();
    let s1 = r.note(
        "limit",
        s.ocpi_session_limit(p, "RECEIVED", "S1")
            .await
            .unwrap()
            .unwrap(),
    );
    assert_eq!(s1, limit("RECEIVED", "S1", Some("Rejected")));
    let mut armed: Vec<String> = s
        .ocpi_session_limits_armed()
        .await
        .unwrap()
        .iter()
        .map(|l| l.session_id.clone())
        .collect();
    armed.sort();
    r.note("armed", &armed);
    assert_eq!(
        armed,
        ["S1", "S2"],
        "neither the accepted stop nor the SENT side"
    );
    assert!(s
        .delete_ocpi_session_limit(p, "RECEIVED", "S2")
        .await
        .unwrap());
    assert!(!s
        .delete_ocpi_session_limit(p, "RECEIVED", "S2")
        .await
        .unwrap());

    // Location sharing.
    let sharing = |partner_id, approved| SharingRow {
        party: nl.clone(),
        location_id: "LOC1".into(),
        partner_id,
        approved,
        reason: Some("owner's request".into()),
        updated_at: at(80),
    };
    s.put_ocpi_location_sharing(&sharing(Some(q), true))
        .await
        .unwrap();
    s.put_ocpi_location_sharing(&sharing(None, true))
        .await
        .unwrap();
    s.put_ocpi_location_sharing(&sharing(None, false))
        .await
        .unwrap();
    let rows = r.note("sharing", s.ocpi_location_sharing().await.unwrap());
    assert_eq!(rows, [sharing(None, false), sharing(Some(q), true)]);
    assert!(s
        .delete_ocpi_location_sharing(&nl, "LOC1", None)
        .await
        .unwrap());
    assert!(!s
        .delete_ocpi_location_sharing(&nl, "LOC1", None)
        .await
        .unwrap());
    assert_eq!(
        s.ocpi_location_sharing().await.unwrap(),
        [sharing(Some(q), true)]
    );

    // Reservations and CDR verdicts.
    for (csms, second) in [(7, 90), (8, 91)] {
        s.put_ocpi_reservation(&OcpiReservationRow {
            partner_id: p,
            reservation_id: "R1".into(),
            location_id: "LOC1".into(),
            station_id: id("CP1"),
            csms_reservation_id: csms,
            created_at: at(second),
        })
        .await
        .unwrap();
    }
    let reservation = r.note(
        "reservation",
        s.ocpi_reservation(p, "R1").await.unwrap().unwrap(),
    );
    assert_eq!(
        (reservation.csms_reservation_id, reservation.created_at),
        (8, at(91))
    );
    assert!(s.ocpi_reservation(q, "R1").await.unwrap().is_none());
    for (cdr, result, second) in [
        ("CDR1", "DISPUTED", 100),
        ("CDR2", "ACCEPTED", 101),
        ("CDR1", "ACCEPTED", 102),
        ("CDR3", "DISPUTED", 103),
    ] {
        s.put_ocpi_cdr_verdict(&CdrVerdictRow {
            partner_id: p,
            side: "RECEIVED".into(),
            cdr_id: cdr.into(),
            result: result.into(),
            reason: (result == "DISPUTED").then(|| "wrong energy".to_string()),
            last_updated: at(second),
        })
        .await
        .unwrap();
    }
    let ids = |v: Vec<CdrVerdictRow>| v.into_iter().map(|v| v.cdr_id).collect::<Vec<_>>();
    let accepted = r.note(
        "accepted",
        ids(s
            .ocpi_cdr_verdicts("RECEIVED", Some("ACCEPTED"), 10)
            .await
            .unwrap()),
    );
    assert_eq!(accepted, ["CDR1", "CDR2"]);
    let newest = r.note(
        "newest",
        ids(s.ocpi_cdr_verdicts("RECEIVED", None, 2).await.unwrap()),
    );
    assert_eq!(newest, ["CDR3", "CDR1"]);
    assert!(s
        .ocpi_cdr_verdicts("SENT", None, 10)
        .await
        .unwrap()
        .is_empty());
    r
}

#[tokio::test]
async fn hub_emsp_sync_and_business_records_as_in_sqlite() {
    let Some((_schema, pg)) = store("ocpi_records").await else {
        return;
    };
    let (_dir, lite) = sqlite().await;
    let expected = emsp_and_business_records(&lite).await;
    let got = emsp_and_business_records(&pg).await;
    assert_eq!(got.0, expected.0);
}

/// `ocpi_pushes_since` compares `created_at` as time, not as text: a fraction of a second
/// sorts after the whole second it is in (B8.1 resend after a rotation).
async fn pushes_since(s: &dyn OcpiStore) -> Vec<i64> {
    let p = s
        .create_ocpi_partner(&partner("emsp", "hash-a", vec![]))
        .await
        .unwrap();
    let old = s
        .enqueue_ocpi_push(&push(p, "a", "PUT", at(0)))
        .await
        .unwrap()
        .unwrap();
    let pending_old = s
        .enqueue_ocpi_push(&push(p, "b", "PUT", at(0)))
        .await
        .unwrap()
        .unwrap();
    let half = at(10) + Duration::milliseconds(500);
    let later = s
        .enqueue_ocpi_push(&push(p, "c", "PUT", half))
        .await
        .unwrap()
        .unwrap();
    let exact = s
        .enqueue_ocpi_push(&push(p, "d", "PUT", at(10)))
        .await
        .unwrap()
        .unwrap();
    for id in [old, later, exact] {
        s.ocpi_push_delivered(id, at(20)).await.unwrap();
    }
    let since: Vec<i64> = s
        .ocpi_pushes_since(p, at(10))
        .await
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(since, [pending_old, later, exact]);
    let since: Vec<i64> = s
        .ocpi_pushes_since(p, at(10) + Duration::milliseconds(250))
        .await
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(since, [pending_old, later]);
    since
}

#[tokio::test]
async fn b8_1_pushes_since_compare_as_time_as_in_sqlite() {
    let Some((_schema, pg)) = store("ocpi_since").await else {
        return;
    };
    let (_dir, lite) = sqlite().await;
    assert_eq!(pushes_since(&pg).await, pushes_since(&lite).await);
}
