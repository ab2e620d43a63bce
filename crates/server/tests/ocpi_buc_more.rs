//! More OCPI 3.0 business use cases of seed 003 over real HTTP between running instances:
//!
//! * B8.2 (publish an updated list of roles): the CPO's operator adds and removes parties of a
//!   partner; the partner instance gets the new roles in a credentials PUT, stores them and
//!   accepts or refuses pushes by them (ADR 0044);
//! * B4.2 (the MSP sets charging limits on a session, pre-paid) and B2.4 (the MSP's driver
//!   tariff and limits at the CPO): the `x-unicharge-sessionlimits` extension module (ADR 0045).

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use unicharge_ocpi_server::settings::PartySettings;

use common::TestCsms;
use ocpi_common::{Operator, Peer};

fn operator_of(csms: &TestCsms) -> Operator {
    Operator::new(
        csms.server.http_addr.unwrap(),
        csms.server.initial_admin_key.as_ref().unwrap(),
    )
}

fn quick(s: &mut unicharge_server::settings::Settings) {
    s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    s.ocpi.push_retry_initial = Duration::from_millis(20);
    s.ocpi.push_retry_max = Duration::from_millis(100);
}

/// The partner `id` as the operator API lists it.
async fn partner(op: &Operator, id: i64) -> Value {
    let all = op.send(Method::GET, "/ocpi/partners", None).await;
    all.as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no partner {id} in {all:#}"))
        .clone()
}

fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// Locations the eMSP received from partner `id`: (party, location id), sorted.
async fn received_locations(op: &Operator, id: i64) -> Vec<(String, String)> {
    let got = op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{id}/received/locations"),
            None,
        )
        .await;
    let mut out: Vec<(String, String)> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["party"].as_str().unwrap().to_string(),
                l["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

// ------------------------------------------------------------------------------------ B8.2

/// B8.2, publishing side, two unicharge instances. The CPO platform holds two CPO parties,
/// NL*CPO and NL*CPB, each with a location; the eMSP registers with NL*CPO only and receives
/// LOC1 and nothing of NL*CPB. The CPO's operator adds NL*CPB to the partner: the eMSP holds
/// both roles as soon as the operator's call returns (credentials PUT), and NL*CPB's location
/// arrives (the eMSP now accepts pushes of that party). The operator then removes NL*CPO: the
/// eMSP holds NL*CPB alone, a change to LOC1 is no longer pushed to it while a change to LOCB
/// still is (with the tokens both PUTs renewed), and the CPO's Sender answers LOC1 as unknown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b8_2_roles_added_and_removed_are_published_to_the_partner_instance() {
    let cpo = TestCsms::start_with(&[], |s| {
        quick(s);
        s.ocpi.parties = vec![
            PartySettings::cpo("NL", "CPO", "Unicharge CPO"),
            PartySettings::cpo("NL", "CPB", "Unicharge CPO B"),
        ];
    })
    .await;
    let emsp = TestCsms::start_with(&[], |s| {
        quick(s);
        s.ocpi.parties = vec![PartySettings::emsp("NL", "EMS", "Unicharge eMSP")];
    })
    .await;
    let (cpo_op, emsp_op) = (operator_of(&cpo), operator_of(&emsp));
    cpo_op.location("NL*CPO", "LOC1", &[]).await;
    cpo_op.location("NL*CPB", "LOCB", &[]).await;
    let ocpi_common::Registration {
        cpo_at_emsp,
        emsp_at_cpo,
        answer,
        ..
    } = ocpi_common::register_emsp(&cpo_op, &emsp_op).await;
    assert_eq!(answer["roles"], json!(["NL*CPO CPO"]), "{answer}");
    let loc1 = ("NL*CPO".to_string(), "LOC1".to_string());
    let locb = ("NL*CPB".to_string(), "LOCB".to_string());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while received_locations(&emsp_op, cpo_at_emsp).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "LOC1 never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        received_locations(&emsp_op, cpo_at_emsp).await,
        vec![loc1.clone()]
    );
    let before = cpo_op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{emsp_at_cpo}/published-roles"),
            None,
        )
        .await;
    assert_eq!(before["published"], json!(["NL*CPO CPO"]), "{before}");
    assert_eq!(before["pending"], false, "{before}");

    // A role added.
    let added = cpo_op
        .send(
            Method::PUT,
            &format!("/ocpi/partners/{emsp_at_cpo}/parties"),
            Some(json!({"parties": ["NL*CPO", "NL*CPB"]})),
        )
        .await;
    assert_eq!(
        sorted(&added["published"]),
        ["NL*CPB CPO", "NL*CPO CPO"],
        "{added}"
    );
    assert_eq!(added["pending"], false, "{added}");
    assert_eq!(added["lastError"], Value::Null, "{added}");
    let at_emsp = partner(&emsp_op, cpo_at_emsp).await;
    assert_eq!(
        sorted(&at_emsp["roles"]),
        ["NL*CPB CPO", "NL*CPO CPO"],
        "the eMSP stored the new roles: {at_emsp}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !received_locations(&emsp_op, cpo_at_emsp)
        .await
        .contains(&locb)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "LOCB of the new role never reached the eMSP"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A role removed.
    let removed = cpo_op
        .send(
            Method::PUT,
            &format!("/ocpi/partners/{emsp_at_cpo}/parties"),
            Some(json!({"parties": ["NL*CPB"]})),
        )
        .await;
    assert_eq!(removed["published"], json!(["NL*CPB CPO"]), "{removed}");
    let at_emsp = partner(&emsp_op, cpo_at_emsp).await;
    assert_eq!(at_emsp["roles"], json!(["NL*CPB CPO"]), "{at_emsp}");
    let at_cpo = partner(&cpo_op, emsp_at_cpo).await;
    assert_eq!(at_cpo["parties"], json!(["NL*CPB"]), "{at_cpo}");

    // LOC1 changes, then LOCB: only LOCB is pushed, and it arrives with the renewed tokens.
    let outbox = format!("/ocpi/partners/{emsp_at_cpo}/outbox");
    let pushes_of = |o: &Value, id: &str| {
        o["pushes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["objectKey"].as_str().unwrap().ends_with(id))
            .count()
    };
    let o = cpo_op.send(Method::GET, &outbox, None).await;
    let (loc1_pushes, locb_pushes) = (pushes_of(&o, "/LOC1"), pushes_of(&o, "/LOCB"));
    cpo_op.location("NL*CPO", "LOC1", &[]).await;
    cpo_op.location("NL*CPB", "LOCB", &[]).await;
    let o = cpo_op
        .until(&outbox, |o| {
            pushes_of(o, "/LOCB") > locb_pushes && o["pending"] == 0
        })
        .await;
    assert_eq!(o["failing"], 0, "{o:#}");
    assert_eq!(
        pushes_of(&o, "/LOC1"),
        loc1_pushes,
        "LOC1 is no longer pushed: {o:#}"
    );

    // The eMSP pulls the CPO's Locations Sender in full: it lists LOCB alone now.
    let asked = chrono::Utc::now();
    emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{cpo_at_emsp}/sync"),
            Some(json!({"full": true})),
        )
        .await;
    let pulled = emsp_op
        .until(&format!("/ocpi/partners/{cpo_at_emsp}/sync"), |s| {
            s["running"] == false
                && s["modules"].as_array().unwrap().iter().any(|m| {
                    m["module"] == "locations"
                        && m["syncedAt"]
                            .as_str()
                            .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
                            .is_some_and(|t| t >= asked)
                })
        })
        .await;
    let locations = pulled["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "locations")
        .unwrap();
    assert_eq!(locations["objects"], 1, "only LOCB is visible: {pulled:#}");
}

/// A unicharge instance in a runtime of its own on a fixed port, so that stopping it stops
/// everything it runs as a process exit would; its database stays in `dir`.
struct Instance {
    runtime: Option<tokio::runtime::Runtime>,
    op: Operator,
}

impl Instance {
    async fn start(
        dir: &std::path::Path,
        port: u16,
        parties: Vec<PartySettings>,
        key: Option<&str>,
    ) -> Instance {
        let key_given = key;
        let mut settings = common::test_settings(dir);
        quick(&mut settings);
        settings.http.listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        settings.ocpi.parties = parties;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            let server = unicharge_server::start(settings).await.expect("starts");
            let _ = tx.send((server.http_addr.unwrap(), server.initial_admin_key.clone()));
            let _running = server;
            std::future::pending::<()>().await;
        });
        let (http, key) = rx.await.unwrap();
        let known = key_given;
        Instance {
            runtime: Some(runtime),
            // The admin key is shown on the first start only.
            op: Operator::new(http, key.as_deref().or(known).expect("an admin key")),
        }
    }

    async fn stop(mut self) {
        let runtime = self.runtime.take().unwrap();
        tokio::task::spawn_blocking(move || runtime.shutdown_timeout(Duration::from_secs(10)))
            .await
            .unwrap();
    }
}

/// B8.2 through the configuration: the CPO platform, with parties NL*CPO and NL*CPB, has an
/// eMSP instance registered with both. Its operator takes NL*CPB out of `[[ocpi.parties]]`
/// and restarts it: at start the CPO publishes the roles that changed, so the eMSP holds
/// NL*CPO alone, and the CPO no longer counts NL*CPB among the partner's parties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b8_2_party_taken_out_of_the_configuration_published_at_restart() {
    let both = || {
        vec![
            PartySettings::cpo("NL", "CPO", "Unicharge CPO"),
            PartySettings::cpo("NL", "CPB", "Unicharge CPO B"),
        ]
    };
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cpo = Instance::start(dir.path(), port, both(), None).await;
    let key = cpo.op.key.clone();
    let emsp = TestCsms::start_with(&[], |s| {
        quick(s);
        s.ocpi.parties = vec![PartySettings::emsp("NL", "EMS", "Unicharge eMSP")];
    })
    .await;
    let emsp_op = operator_of(&emsp);
    let (token_a, versions_url, emsp_at_cpo) = cpo
        .op
        .partner("Unicharge eMSP", &["NL*CPO", "NL*CPB"])
        .await;
    let created = emsp_op
        .send(
            Method::POST,
            "/ocpi/partners",
            Some(json!({"name": "Unicharge CPO", "parties": ["NL*EMS"]})),
        )
        .await;
    let cpo_at_emsp = created["partner"]["id"].as_i64().unwrap();
    let registered = emsp_op
        .send(
            Method::POST,
            &format!("/ocpi/partners/{cpo_at_emsp}/register"),
            Some(json!({"versionsUrl": versions_url, "token": token_a})),
        )
        .await;
    assert_eq!(
        sorted(&registered["roles"]),
        ["NL*CPB CPO", "NL*CPO CPO"],
        "{registered}"
    );
    cpo.stop().await;

    let cpo = Instance::start(
        dir.path(),
        port,
        vec![PartySettings::cpo("NL", "CPO", "Unicharge CPO")],
        Some(&key),
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let at_emsp = partner(&emsp_op, cpo_at_emsp).await;
        if at_emsp["roles"] == json!(["NL*CPO CPO"]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the roles were never published: {at_emsp}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let at_cpo = partner(&cpo.op, emsp_at_cpo).await;
    assert_eq!(at_cpo["parties"], json!(["NL*CPO"]), "{at_cpo}");
    let published = cpo
        .op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{emsp_at_cpo}/published-roles"),
            None,
        )
        .await;
    assert_eq!(published["published"], json!(["NL*CPO CPO"]), "{published}");
    assert_eq!(published["pending"], false, "{published}");
    cpo.stop().await;
}

/// B8.2, receiving side: a CPO platform (the tests' OCPI peer, role CPO, party NL*PCP)
/// registered with the eMSP instance pushes a location of NL*PCP; it then sends a credentials
/// PUT whose roles replace NL*PCP with NL*PCQ. The eMSP answers with a new token, stores the
/// new roles, accepts a location of NL*PCQ and refuses one of NL*PCP (2001); the old token no
/// longer opens anything (401).
#[tokio::test]
async fn b8_2_partner_roles_update_received_changes_what_it_may_push() {
    let emsp = TestCsms::start_with(&[], |s| {
        quick(s);
        s.ocpi.parties = vec![PartySettings::emsp("NL", "EMS", "Unicharge eMSP")];
    })
    .await;
    let op = operator_of(&emsp);
    let (token_a, versions_url, id) = op.partner("Peer CPO", &["NL*EMS"]).await;
    let mut peer = Peer::start("NL", "PCP").await.with_role("CPO");
    peer.register(&versions_url, &token_a, "2.2.1").await;
    let locations = peer.endpoint("locations");
    let at = "2026-12-07T08:00:00Z";
    let push = |cc: &str, pid: &str, loc: &str| {
        (
            format!("{locations}/{cc}/{pid}/{loc}"),
            location_body(cc, pid, loc, at),
        )
    };
    let (url, body) = push("NL", "PCP", "P1");
    let (code, _, answer) = peer.call(Method::PUT, &url, Some(body)).await;
    assert_eq!(
        (code, &answer["status_code"]),
        (200, &json!(1000)),
        "{answer}"
    );

    let new_b = "peer-token-b2-PCP-0123456789";
    peer.issue_token_a(new_b);
    let old_token = peer.token.clone();
    let (code, _, answer) = peer
        .call(
            Method::PUT,
            &peer.endpoint("credentials"),
            Some(json!({
                "token": new_b, "url": format!("{}/versions", peer.base),
                "roles": [{"role": "CPO", "country_code": "NL", "party_id": "PCQ",
                           "business_details": {"name": "Peer CPO Q"}}],
            })),
        )
        .await;
    assert_eq!(
        (code, &answer["status_code"]),
        (200, &json!(1000)),
        "{answer}"
    );
    assert_eq!(answer["data"]["roles"][0]["party_id"], "EMS", "{answer}");
    peer.token = answer["data"]["token"].as_str().unwrap().to_string();
    assert_ne!(peer.token, old_token);
    let stored = partner(&op, id).await;
    assert_eq!(stored["roles"], json!(["NL*PCQ CPO"]), "{stored}");

    let (url, body) = push("NL", "PCQ", "Q1");
    let (code, _, answer) = peer.call(Method::PUT, &url, Some(body)).await;
    assert_eq!(
        (code, &answer["status_code"]),
        (200, &json!(1000)),
        "{answer}"
    );
    let (url, body) = push("NL", "PCP", "P2");
    let (_, _, answer) = peer.call(Method::PUT, &url, Some(body)).await;
    assert_eq!(answer["status_code"], 2001, "the dropped role: {answer}");
    let (code, _, _) = peer
        .call_with(&old_token, Method::GET, &versions_url, None, &[])
        .await;
    assert_eq!(code, 401, "the old token is void");
    assert_eq!(
        received_locations(&op, id).await,
        vec![
            ("NL*PCP".to_string(), "P1".to_string()),
            ("NL*PCQ".to_string(), "Q1".to_string()),
        ]
    );
}

fn location_body(cc: &str, pid: &str, id: &str, at: &str) -> Value {
    json!({
        "country_code": cc, "party_id": pid, "id": id, "publish": true, "name": "Station Square",
        "address": "Stationsplein 1", "city": "Utrecht", "postal_code": "3511 ED",
        "country": "NLD", "coordinates": {"latitude": "52.089444", "longitude": "5.110278"},
        "time_zone": "Europe/Amsterdam",
        "evses": [{"uid": "3256", "evse_id": "NL*TNM*E3256", "status": "AVAILABLE",
                   "connectors": [{"id": "1", "standard": "IEC_62196_T2", "format": "SOCKET",
                                   "power_type": "AC_3_PHASE", "max_voltage": 230,
                                   "max_amperage": 32, "last_updated": at}],
                   "last_updated": at}],
        "last_updated": at,
    })
}
