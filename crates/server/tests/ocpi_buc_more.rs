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

/// B8.2 when the partner does not take the PUT: a partner platform (the tests' peer, which
/// answers a credentials PUT with 405) registered with NL*CPO; the operator adds NL*CPB. The
/// operator is told the partner refused (502); the partner's parties are changed on our side,
/// the roles it took stay NL*CPO, the publication is pending with the partner's error (and
/// retried), and the partner keeps working with the token it has.
#[tokio::test]
async fn b8_2_publication_refused_by_the_partner_stays_pending() {
    let cpo = TestCsms::start_with(&[], |s| {
        quick(s);
        s.ocpi.parties = vec![
            PartySettings::cpo("NL", "CPO", "Unicharge CPO"),
            PartySettings::cpo("NL", "CPB", "Unicharge CPO B"),
        ];
    })
    .await;
    let op = operator_of(&cpo);
    let (token_a, versions_url, id) = op.partner("Plain eMSP", &["NL*CPO"]).await;
    let mut peer = Peer::start("NL", "PLN").await;
    peer.register(&versions_url, &token_a, "2.2.1").await;
    let refused = op
        .client
        .put(format!("{}/ocpi/partners/{id}/parties", op.base))
        .bearer_auth(&op.key)
        .json(&json!({"parties": ["NL*CPO", "NL*CPB"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 502);
    let view = op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{id}/published-roles"),
            None,
        )
        .await;
    assert_eq!(view["published"], json!(["NL*CPO CPO"]), "{view}");
    assert_eq!(view["pending"], true, "{view}");
    assert!(
        view["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("405")),
        "the partner's answer is named: {view}"
    );
    assert_eq!(sorted(&view["parties"]), ["NL*CPB", "NL*CPO"], "{view}");
    // The connection stands: the partner's token still opens our endpoints.
    let (code, _, body) = peer
        .call(Method::GET, &peer.endpoint("locations"), None)
        .await;
    assert_eq!((code, &body["status_code"]), (200, &json!(1000)), "{body}");
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

// ------------------------------------------------------------------------ B4.2 and B2.4

mod limits {
    use super::*;

    use chrono::Utc;
    use unicharge_ocpp::v201::{
        AuthorizationStatusEnumType, ChargingStateEnumType, ConnectorStatusEnumType,
        DisplayMessageStatusEnumType, EvseType, IdTokenEnumType, IdTokenType,
        ReadingContextEnumType, ReasonEnumType, RequestStartStopStatusEnumType,
        RequestStopTransactionRequest, RequestStopTransactionResponse, SetDisplayMessageRequest,
        SetDisplayMessageResponse, StatusNotificationRequest, TransactionEventEnumType,
        TriggerReasonEnumType,
    };
    use unicharge_sim::octt::states;
    use unicharge_sim::Station;

    use common::payloads::{energy, transaction_event as event};
    use common::StationSpec;

    pub const CP: &str = "CP-LIM-1";
    pub const TX: &str = "TX-LIM-1";

    /// Two instances: the CPO (NL*CPO, station CP priced 0.40 EUR/kWh + 25 % VAT, i.e. 0.50
    /// per kWh with VAT), the eMSP (NL*EMS) registered with it, its driver's token pushed, and
    /// a transaction of that driver started `ago` before now with the register at 0 Wh.
    pub struct Roaming {
        pub _cpo: TestCsms,
        pub _emsp: TestCsms,
        pub cpo_op: Operator,
        pub emsp_op: Operator,
        pub station: Station,
        pub cpo_at_emsp: i64,
        pub session_id: String,
        pub started: chrono::DateTime<Utc>,
    }

    pub async fn roaming(ago: chrono::Duration) -> Roaming {
        let cpo = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
            quick(s);
            s.ocpi.session_limit_check = Duration::from_millis(50);
            s.ocpi.parties = vec![PartySettings::cpo("NL", "CPO", "Unicharge CPO")];
        })
        .await;
        let emsp = TestCsms::start_with(&[], |s| {
            quick(s);
            s.ocpi.parties = vec![PartySettings::emsp("NL", "EMS", "Unicharge eMSP")];
        })
        .await;
        let (cpo_op, emsp_op) = (operator_of(&cpo), operator_of(&emsp));
        cpo_op.location("NL*CPO", "LOC1", &[CP]).await;
        cpo_op
            .send(
                Method::POST,
                "/tariffs",
                Some(json!({
                    "id": "PREPAID", "currency": "EUR", "vatPercent": "25",
                    "pricePerKwh": "0.40", "pricePerChargingMinute": "0",
                    "pricePerIdleMinute": "0", "sessionFee": "0",
                })),
            )
            .await;
        cpo_op
            .send(
                Method::POST,
                "/tariff-assignments",
                Some(
                    json!({"tariffId": "PREPAID", "scope": {"scope": "station", "stationId": CP}}),
                ),
            )
            .await;
        let ocpi_common::Registration { cpo_at_emsp, .. } =
            ocpi_common::register_emsp(&cpo_op, &emsp_op).await;
        emsp_op
            .send(
                Method::PUT,
                "/ocpi/tokens/NL*EMS/PREPAID-1",
                Some(json!({
                    "country_code": "NL", "party_id": "EMS", "uid": "PREPAID-1", "type": "RFID",
                    "contract_id": "NL-EMS-C00000011-P", "issuer": "Unicharge eMSP",
                    "valid": true, "whitelist": "ALLOWED",
                    "last_updated": "2026-12-07T08:00:00Z",
                })),
            )
            .await;
        cpo_op
            .until("/tokens", |t| t.to_string().contains("PREPAID-1"))
            .await;

        let target = cpo.target(CP, 1);
        let mut station: Station = target.connect().await.unwrap();
        states::booted(&mut station, &target).await.unwrap();
        station
            .call(&StatusNotificationRequest {
                custom_data: None,
                timestamp: Utc::now(),
                connector_status: ConnectorStatusEnumType::Occupied,
                evse_id: 1,
                connector_id: 1,
            })
            .await
            .unwrap();
        let started = Utc::now() - ago;
        let mut first = event(
            TX,
            0,
            TransactionEventEnumType::Started,
            TriggerReasonEnumType::Authorized,
            started,
            ChargingStateEnumType::Charging,
        );
        first.id_token = Some(IdTokenType {
            custom_data: None,
            additional_info: None,
            id_token: "PREPAID-1".into(),
            r#type: IdTokenEnumType::Iso14443,
        });
        first.evse = Some(EvseType {
            custom_data: None,
            id: 1,
            connector_id: Some(1),
        });
        first.meter_value = Some(energy(started, 0, ReadingContextEnumType::TransactionBegin));
        let answer = station.call(&first).await.unwrap();
        assert_eq!(
            answer.id_token_info.unwrap().status,
            AuthorizationStatusEnumType::Accepted
        );
        let sessions = emsp_op
            .until(
                &format!("/ocpi/partners/{cpo_at_emsp}/received/sessions"),
                |s| s.as_array().is_some_and(|a| !a.is_empty()),
            )
            .await;
        let session_id = sessions[0]["id"].as_str().unwrap().to_string();
        Roaming {
            _cpo: cpo,
            _emsp: emsp,
            cpo_op,
            emsp_op,
            station,
            cpo_at_emsp,
            session_id,
            started,
        }
    }

    impl Roaming {
        pub fn limits_path(&self) -> String {
            format!(
                "/ocpi/partners/{}/sessions/{}/limits",
                self.cpo_at_emsp, self.session_id
            )
        }

        /// The meter at `wh`, now.
        pub async fn metered(&mut self, seq_no: i64, wh: i64) {
            let mut e = event(
                TX,
                seq_no,
                TransactionEventEnumType::Updated,
                TriggerReasonEnumType::MeterValuePeriodic,
                Utc::now(),
                ChargingStateEnumType::Charging,
            );
            e.meter_value = Some(energy(
                Utc::now(),
                wh,
                ReadingContextEnumType::SamplePeriodic,
            ));
            self.station.call(&e).await.unwrap();
        }

        pub async fn ended(&mut self, seq_no: i64, wh: i64) {
            let mut e = event(
                TX,
                seq_no,
                TransactionEventEnumType::Ended,
                TriggerReasonEnumType::RemoteStop,
                Utc::now(),
                ChargingStateEnumType::EvConnected,
            );
            e.transaction_info.stopped_reason = Some(ReasonEnumType::Remote);
            e.meter_value = Some(energy(
                Utc::now(),
                wh,
                ReadingContextEnumType::TransactionEnd,
            ));
            self.station.call(&e).await.unwrap();
        }

        pub async fn display(&mut self) -> SetDisplayMessageRequest {
            let (id, request) = self
                .station
                .expect_call::<SetDisplayMessageRequest>()
                .await
                .unwrap();
            self.station
                .respond::<SetDisplayMessageRequest>(
                    &id,
                    &SetDisplayMessageResponse {
                        custom_data: None,
                        status: DisplayMessageStatusEnumType::Accepted,
                        status_info: None,
                    },
                )
                .await
                .unwrap();
            request
        }

        pub async fn stop(&mut self, status: RequestStartStopStatusEnumType) {
            let (id, request) = self
                .station
                .expect_call::<RequestStopTransactionRequest>()
                .await
                .unwrap();
            assert_eq!(request.transaction_id, TX);
            self.station
                .respond::<RequestStopTransactionRequest>(
                    &id,
                    &RequestStopTransactionResponse {
                        custom_data: None,
                        status,
                        status_info: None,
                    },
                )
                .await
                .unwrap();
        }

        /// The operator API's answer (status and body) to `method` on the limits path.
        pub async fn raw(&self, method: Method, body: Option<Value>) -> (u16, Value) {
            let mut request = self
                .emsp_op
                .client
                .request(
                    method,
                    format!("{}{}", self.emsp_op.base, self.limits_path()),
                )
                .bearer_auth(&self.emsp_op.key);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
    }

    /// A decimal written as a JSON number (OCPI) or string (operator API).
    pub fn dec(v: &Value) -> rust_decimal::Decimal {
        v.as_str()
            .map_or_else(|| v.to_string(), str::to_string)
            .parse()
            .unwrap_or_else(|_| panic!("not a decimal: {v}"))
    }

    pub use unicharge_ocpp::v201::RequestStartStopStatusEnumType as StopStatus;
}

/// B4.2, cost limit, two instances: the eMSP's operator caps its driver's running session at
/// 2.00 EUR (incl. VAT) with a stop message. At 3 kWh the CPO reports 1.50 spent and keeps
/// charging; at 4 kWh (exactly 2.00: 1.60 + 0.40 VAT) it shows the stop message at the EVSE
/// (not bound to the transaction, so it outlives it) and sends RequestStopTransaction. The
/// station ends the transaction; the CDR reaching the eMSP costs 2.00 and its remark names the
/// limit; the limits read REACHED / COST / Accepted, and can no longer be lifted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b4_2_msp_cost_limit_stops_the_session_and_the_cdr_says_why() {
    use limits::*;
    let mut r = roaming(chrono::Duration::minutes(2)).await;
    let (code, set) = r
        .raw(
            Method::PUT,
            Some(json!({
                "maxCost": "2.00", "currency": "EUR",
                "stopMessage": [{"language": "en", "text": "Your pre-paid credit is used up"}],
            })),
        )
        .await;
    assert_eq!(code, 200, "{set}");
    assert_eq!(set["status"], "ARMED", "{set}");
    assert_eq!(set["sessionId"], r.session_id.as_str());
    assert_eq!(set["maxCost"], "2.00", "{set}");
    assert_eq!(set["currency"], "EUR");
    assert_eq!(dec(&set["cost"]), rust_decimal::Decimal::ZERO, "{set}");

    r.metered(1, 3_000).await;
    let (_, now) = r.raw(Method::GET, None).await;
    assert_eq!(now["status"], "ARMED", "1.50 of 2.00: {now}");
    assert_eq!(dec(&now["cost"]), "1.50".parse().unwrap(), "{now}");
    assert_eq!(dec(&now["energy"]), "3".parse().unwrap(), "{now}");
    assert!(now["duration"].as_i64().unwrap() >= 120, "{now}");

    // A stop at 1.50 would be recorded before this event was sent.
    let at_4kwh = chrono::Utc::now();
    r.metered(2, 4_000).await;
    let shown = r.display().await;
    assert_eq!(
        shown.message.message.content,
        "Your pre-paid credit is used up"
    );
    assert_eq!(shown.message.message.language.as_deref(), Some("en"));
    assert_eq!(
        shown.message.transaction_id, None,
        "outlives the transaction"
    );
    assert!(shown.message.end_date_time.is_some());
    r.stop(StopStatus::Accepted).await;
    r.ended(3, 4_000).await;

    let cdrs = r
        .emsp_op
        .until(
            &format!("/ocpi/partners/{}/received/cdrs", r.cpo_at_emsp),
            |c| c.as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    let cdr = &cdrs[0]["object"];
    assert_eq!(
        cdr["remark"], "Stopped by the CPO: the MSP's COST limit was reached (max_cost 2.00 EUR)",
        "{cdr:#}"
    );
    // OCPI 2.3.0 (the version both instances speak): 1.60 before taxes + 0.40 VAT = 2.00.
    let total = &cdr["total_cost"];
    assert_eq!(
        dec(&total["before_taxes"]),
        "1.60".parse().unwrap(),
        "{total}"
    );
    assert_eq!(
        dec(&total["taxes"][0]["amount"]),
        "0.40".parse().unwrap(),
        "{total}"
    );
    let (_, done) = r.raw(Method::GET, None).await;
    assert_eq!(done["status"], "REACHED", "{done}");
    assert_eq!(done["reached"], "COST", "{done}");
    assert_eq!(done["stopResult"], "Accepted", "{done}");
    let reached_at: chrono::DateTime<chrono::Utc> =
        done["reachedAt"].as_str().unwrap().parse().unwrap();
    assert!(
        reached_at >= at_4kwh && reached_at > r.started,
        "reached at 4 kWh, not before: {done}"
    );
    let (code, refused) = r.raw(Method::DELETE, None).await;
    assert_eq!(code, 502, "a reached limit stays: {refused}");
}

/// B4.2, duration and the CPO's checks: limits without any limit are refused by the eMSP's
/// operator API (400) and a cost in another currency than the session's by the CPO (2001,
/// 502 to the operator); another eMSP cannot read or set limits on the session (404). A
/// 5-minute limit on a session running for 10 minutes is reached at once: no stop message
/// was given so none is shown, the station refuses the first RequestStopTransaction, and the
/// CPO asks again until it accepts. Limits lifted before would not have stopped anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b4_2_duration_limit_retried_until_the_station_stops_and_checks_refused() {
    use limits::*;
    let mut r = roaming(chrono::Duration::minutes(10)).await;
    let (code, body) = r.raw(Method::PUT, Some(json!({"currency": "EUR"}))).await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = r
        .raw(
            Method::PUT,
            Some(json!({"maxCost": "5", "currency": "USD"})),
        )
        .await;
    assert_eq!(code, 502, "{body}");
    assert!(
        body.to_string().contains("priced in EUR"),
        "the CPO names the session's currency: {body}"
    );
    let (code, body) = r.raw(Method::GET, None).await;
    assert_eq!(code, 502, "nothing set yet: {body}");

    // Another eMSP of the same CPO party: the session is not its own.
    let (token_a, versions_url, _) = r.cpo_op.partner("Other eMSP", &["NL*CPO"]).await;
    let mut other = Peer::start("NL", "OTH").await;
    other.register(&versions_url, &token_a, "2.2.1").await;
    let url = format!(
        "{}/{}",
        other.endpoint("x-unicharge-sessionlimits"),
        r.session_id
    );
    let (code, _, body) = other
        .call(
            Method::PUT,
            &url,
            Some(json!({"max_energy": 1, "last_updated": "2026-12-07T08:00:00Z"})),
        )
        .await;
    assert_eq!(code, 404, "{body}");
    let (code, _, _) = other.call(Method::GET, &url, None).await;
    assert_eq!(code, 404);

    // Set, read, lifted: nothing stops.
    let (code, body) = r.raw(Method::PUT, Some(json!({"maxEnergy": "100"}))).await;
    assert_eq!((code, &body["status"]), (200, &json!("ARMED")), "{body}");
    let (code, _) = r.raw(Method::DELETE, None).await;
    assert_eq!(code, 204);

    let (code, body) = r.raw(Method::PUT, Some(json!({"maxDuration": 300}))).await;
    assert_eq!(code, 200, "{body}");
    r.stop(StopStatus::Rejected).await;
    r.stop(StopStatus::Accepted).await;
    let (_, done) = r.raw(Method::GET, None).await;
    assert_eq!(done["status"], "REACHED", "{done}");
    assert_eq!(done["reached"], "DURATION", "{done}");
    assert!(done["duration"].as_i64().unwrap() >= 600, "{done}");
    r.ended(1, 1_000).await;
    let cdrs = r
        .emsp_op
        .until(
            &format!("/ocpi/partners/{}/received/cdrs", r.cpo_at_emsp),
            |c| c.as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    assert_eq!(
        cdrs[0]["object"]["remark"],
        "Stopped by the CPO: the MSP's DURATION limit was reached (max_duration 300 s)"
    );
}

/// B2.4: the MSP gives its driver's own tariff with the session's limits; the CPO shows it at
/// the EVSE for the session's transaction, one message per language (the station drops them
/// when the transaction ends); the limits read back carry it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b2_4_msp_driver_tariff_shown_at_the_evse_during_the_session() {
    use limits::*;
    let mut r = roaming(chrono::Duration::minutes(1)).await;
    let (code, body) = r
        .raw(
            Method::PUT,
            Some(json!({
                "maxEnergy": "30",
                "driverTariff": [
                    {"language": "en", "text": "Your tariff: 0.35 EUR/kWh, pre-paid"},
                    {"language": "nl", "text": "Uw tarief: 0,35 EUR/kWh, vooruitbetaald"},
                ],
            })),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let en = r.display().await;
    let nl = r.display().await;
    for (m, lang, text) in [
        (&en, "en", "Your tariff: 0.35 EUR/kWh, pre-paid"),
        (&nl, "nl", "Uw tarief: 0,35 EUR/kWh, vooruitbetaald"),
    ] {
        assert_eq!(m.message.transaction_id.as_deref(), Some(TX));
        assert_eq!(m.message.message.language.as_deref(), Some(lang));
        assert_eq!(m.message.message.content, text);
    }
    let (_, now) = r.raw(Method::GET, None).await;
    assert_eq!(now["driverTariff"][1]["language"], "nl", "{now}");
    assert_eq!(now["status"], "ARMED", "{now}");
}
