//! The operator web UI over real HTTP against a real server: login with an API key posted in a
//! form and kept in a server-side session (HttpOnly, SameSite=Strict cookie), logout, CSRF
//! refusal, a read-only key seeing no actions and being refused anyway, the confirmation step
//! before anything is sent, errors shown as the API states them, and paging, search and status
//! filters of the station list.
//!
//! Every test runs its own server on ephemeral loopback ports. Nothing sleeps.

#[path = "common/mod.rs"]
mod common;
#[path = "ui_support/mod.rs"]
mod ui_support;

use chrono::Utc;
use reqwest::StatusCode;
use unicharge_core::api_keys::ApiRole;
use unicharge_core::{RegistrationStatus, SecurityProfile, Station as StationRecord, StationId};
use unicharge_ocpp::v201::{
    ResetRequest, SecurityEventNotificationRequest, SetChargingProfileRequest,
    SetChargingProfileResponse, SetVariablesRequest, SetVariablesResponse, UpdateFirmwareRequest,
};
use unicharge_store::{CampaignRecord, CampaignStationRecord, Write};

use common::StationSpec;
use ui_support::Ui;

#[tokio::test]
async fn ui_login_keeps_the_key_server_side_and_logout_ends_the_session() {
    let ui = Ui::start(&[]).await;

    // Not logged in: every page sends the browser to the login form.
    for path in [
        "/",
        "/ui/stations",
        "/ui/transactions",
        "/ui/charge-records",
    ] {
        let answer = ui.get(path, None).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.location.as_deref(), Some("/ui/login"), "{path}");
    }
    let form = ui.get("/ui/login", None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form
        .body
        .contains(r#"<form class="login" method="post" action="/ui/login">"#));
    assert!(
        form.body.contains(r#"<label for="token">API key</label>"#),
        "{}",
        form.body
    );

    // A wrong key: the API's words, no session.
    let refused = ui
        .post("/ui/login", None, &[("token", "uc_nope_nope")])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.body.contains("unknown or revoked API key"),
        "{}",
        refused.body
    );
    assert!(refused.set_cookie.is_none());

    // The right key: a random session id in a locked-down cookie, and the key in no URL.
    let answer = ui.post("/ui/login", None, &[("token", &ui.admin)]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location.as_deref(), Some("/"));
    let cookie = answer.set_cookie.clone().unwrap();
    assert!(cookie.starts_with("uc_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains(&ui.admin),
        "the key itself never reaches the browser"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    assert_eq!(session.len(), "uc_session=".len() + 64, "{session}");

    let overview = ui.get("/", Some(&session)).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    assert!(overview.body.contains("<h1>Overview</h1>"));
    assert!(
        !overview.body.contains(&ui.admin),
        "the key is not echoed in pages"
    );
    assert!(overview.body.contains("(admin)"), "the role is shown");

    // Logout needs the CSRF token; without it nothing happens.
    let refused = ui.post("/ui/logout", Some(&session), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(ui.get("/", Some(&session)).await.status, StatusCode::OK);
    let out = ui
        .post("/ui/logout", Some(&session), &[("csrf", &overview.csrf())])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    let after = ui.get("/", Some(&session)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session is gone");

    // A revoked key ends its sessions at once.
    let operator = ui.key(ApiRole::Operator).await;
    let session = ui.login(&operator).await;
    assert_eq!(
        ui.get("/ui/stations", Some(&session)).await.status,
        StatusCode::OK
    );
    let (id, _) = unicharge_core::api_keys::parse_token(&operator).unwrap();
    assert!(ui.csms.server.store.revoke_api_key(id).await.unwrap());
    assert_eq!(
        ui.get("/ui/stations", Some(&session)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn ui_pages_carry_a_strict_content_security_policy() {
    let ui = Ui::start(&[]).await;
    let response = ui
        .http
        .get(format!("{}/ui/login", ui.base))
        .send()
        .await
        .unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let script = ui.get("/ui/assets/live.js", None).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(
        script.body.contains("new EventSource"),
        "the script is served from the binary"
    );
    assert!(
        !script.body.contains("innerHTML"),
        "nothing received is parsed as HTML"
    );
}

#[tokio::test]
async fn ui_read_only_key_sees_no_actions_and_its_action_posts_are_refused() {
    let ui = Ui::start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = ui.booted("CP001").await;

    let operator = ui.login(&ui.key(ApiRole::Operator).await).await;
    let page = ui.get("/ui/stations/CP001", Some(&operator)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page
        .body
        .contains(r#"action="/ui/stations/CP001/actions/reset""#));
    assert!(page
        .body
        .contains(r#"action="/ui/stations/CP001/actions/start""#));

    let reader = ui.login(&ui.key(ApiRole::ReadOnly).await).await;
    let page = ui.get("/ui/stations/CP001", Some(&reader)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("/actions/"),
        "no action forms for read-only keys"
    );
    assert!(
        page.body.contains(r#"data-connector="CP001/1/1""#),
        "but the connectors"
    );

    // Posting anyway (with a valid CSRF token) gets the API's 403, and nothing is sent.
    let csrf = page.csrf();
    let refused = ui
        .post(
            "/ui/stations/CP001/actions/reset",
            Some(&reader),
            &[("csrf", &csrf), ("type", "Immediate"), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("403 forbidden"), "{}", refused.body);
    assert!(
        refused.body.contains("this needs the operator role"),
        "{}",
        refused.body
    );
    assert_nothing_sent(&mut station, "probe-1").await;
}

/// Prove the CSMS sent the station nothing: a Heartbeat sent now is answered by the very next
/// frame (one connection's frames arrive in order, so an earlier CALL would come first).
async fn assert_nothing_sent(station: &mut unicharge_sim::Station, probe_id: &str) {
    station
        .send_text(&format!(r#"[2,"{probe_id}","Heartbeat",{{}}]"#))
        .await
        .unwrap();
    let text = station.next_text("the Heartbeat answer").await.unwrap();
    assert!(
        text.starts_with(&format!(r#"[3,"{probe_id}""#)),
        "the CSMS sent something first: {text}"
    );
}

#[tokio::test]
async fn ui_action_needs_the_csrf_token_then_a_confirmation_then_sends_the_typed_request() {
    let ui = Ui::start(&[StationSpec::new("CP001", 1)]).await;
    let mut station = ui.booted("CP001").await;
    let session = ui.login(&ui.key(ApiRole::Operator).await).await;
    let csrf = ui.get("/ui/stations/CP001", Some(&session)).await.csrf();

    // No token, a wrong token, another site's Origin: refused, nothing sent.
    let path = "/ui/stations/CP001/actions/reset";
    for form in [
        vec![("type", "Immediate"), ("confirmed", "yes")],
        vec![
            ("csrf", "0000"),
            ("type", "Immediate"),
            ("confirmed", "yes"),
        ],
    ] {
        let refused = ui.post(path, Some(&session), &form).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{form:?}");
        assert!(
            refused.body.contains("nothing was done"),
            "{}",
            refused.body
        );
    }
    let cross_site = ui
        .http
        .post(format!("{}{path}", ui.base))
        .header("cookie", &session)
        .header("origin", "http://evil.example")
        .form(&[
            ("csrf", csrf.as_str()),
            ("type", "Immediate"),
            ("confirmed", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_nothing_sent(&mut station, "probe-1").await;

    // The first submit only asks for confirmation, saying what will be sent.
    let confirm = ui
        .post(
            path,
            Some(&session),
            &[("csrf", &csrf), ("type", "Immediate"), ("evse_id", "")],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm
            .body
            .contains("Reset the whole station CP001 (Immediate)."),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains(r#"name="confirmed" value="yes""#));
    assert_nothing_sent(&mut station, "probe-2").await;

    // Confirmed: the station gets a ResetRequest and the page shows its answer.
    let pending = ui.confirm_in_background(
        path,
        &session,
        &[("csrf", csrf.as_str()), ("type", "Immediate")],
    );
    let (id, request) = station.expect_call::<ResetRequest>().await.unwrap();
    assert_eq!(request.r#type.as_str(), "Immediate");
    assert_eq!(request.evse_id, None);
    let response: unicharge_ocpp::v201::ResetResponse =
        serde_json::from_value(serde_json::json!({"status": "Scheduled"})).unwrap();
    station
        .respond::<ResetRequest>(&id, &response)
        .await
        .unwrap();
    let page = pending.await.unwrap();
    assert!(
        page.contains("The station answered <strong>Scheduled</strong>."),
        "{page}"
    );

    // The command log names the session's key as the requester.
    let log = ui.get("/ui/stations/CP001", Some(&session)).await;
    assert!(log.body.contains("<td>Reset</td>"), "{}", log.body);
}

#[tokio::test]
async fn ui_shows_errors_as_the_api_states_them() {
    let ui = Ui::start(&[StationSpec::new("CP001", 1)]).await;
    let session = ui.login(&ui.admin).await;
    let csrf = ui.get("/ui/stations/CP001", Some(&session)).await.csrf();
    // CP001 is registered but not connected: the API's 409.
    let answer = ui
        .post(
            "/ui/stations/CP001/actions/start",
            Some(&session),
            &[
                ("csrf", &csrf),
                ("id_token", "AAA"),
                ("id_token_type", "ISO14443"),
                ("evse_id", "1"),
                ("confirmed", "yes"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert!(
        answer.body.contains("409 station_not_connected"),
        "{}",
        answer.body
    );

    // A token type OCPP does not know: the API's 400 naming the field.
    let answer = ui
        .post(
            "/ui/stations/CP001/actions/start",
            Some(&session),
            &[
                ("csrf", &csrf),
                ("id_token", "AAA"),
                ("id_token_type", "Bogus"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("idToken/type"), "{}", answer.body);

    let missing = ui.get("/ui/stations/NOPE", Some(&session)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.body.contains("404 unknown_station"),
        "{}",
        missing.body
    );
}

#[tokio::test]
async fn ui_station_list_pages_searches_filters_and_sorts_in_the_store() {
    let ui = Ui::start(&[StationSpec::new("CP-0001", 1)]).await;
    let store = ui.csms.server.store.clone();
    for n in 2..=120 {
        let id = StationId::new(format!("CP-{n:04}")).unwrap();
        let record = StationRecord::new(id.clone(), SecurityProfile::BasicAuth, Utc::now());
        store.create_station(&record).await.unwrap();
        // The model comes from the station's BootNotification, as in production.
        let model = if n % 10 == 0 { "Wallbox X" } else { "Pillar" };
        store
            .write(vec![Write::StationBooted {
                station_id: id,
                at: Utc::now(),
                reason: "PowerUp".into(),
                model: model.into(),
                vendor_name: "unicharge".into(),
                serial_number: None,
                firmware_version: None,
                status: RegistrationStatus::Accepted,
            }])
            .await
            .unwrap();
    }
    let _online = ui.booted("CP-0001").await;
    let session = ui.login(&ui.admin).await;

    let first = ui.get("/ui/stations", Some(&session)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(
        first.body.contains("Stations 1–50 of 120"),
        "{}",
        first.body
    );
    assert_eq!(
        first
            .body
            .matches("<tr><td><a href=\"/ui/stations/")
            .count(),
        50
    );
    assert!(first.body.contains(r#"href="/ui/stations?page=2""#));

    let last = ui.get("/ui/stations?page=3", Some(&session)).await;
    assert!(
        last.body.contains("Stations 101–120 of 120"),
        "{}",
        last.body
    );
    assert!(last.body.contains(">CP-0120<"));
    assert!(!last.body.contains("rel=\"next\""));

    let search = ui.get("/ui/stations?q=wallbox", Some(&session)).await;
    assert!(
        search.body.contains("Stations 1–12 of 12"),
        "{}",
        search.body
    );

    let online = ui.get("/ui/stations?status=online", Some(&session)).await;
    assert!(online.body.contains("Stations 1–1 of 1"), "{}", online.body);
    assert!(online.body.contains(">CP-0001<"));
    let offline = ui.get("/ui/stations?status=offline", Some(&session)).await;
    assert!(
        offline.body.contains("Stations 1–50 of 119"),
        "{}",
        offline.body
    );
    assert!(!offline.body.contains(">CP-0001<"));

    let descending = ui
        .get("/ui/stations?sort=id&dir=desc", Some(&session))
        .await;
    let first_row = descending.body.find(">CP-0120<").unwrap();
    let second_row = descending.body.find(">CP-0119<").unwrap();
    assert!(first_row < second_row, "newest id first");

    let overview = ui.get("/", Some(&session)).await;
    assert!(
        overview
            .body
            .contains(r#"<dd id="count-stations"><a href="/ui/stations">120</a>"#),
        "{}",
        overview.body
    );
    assert!(overview
        .body
        .contains(r#"<dd id="count-online"><a href="/ui/stations?status=online">1</a>"#));
    assert!(overview
        .body
        .contains(r#"<dd id="count-offline"><a href="/ui/stations?status=offline">119</a>"#));
}

#[tokio::test]
async fn ui_demo_mode_runs_simulated_stations_that_answer_and_says_so_on_every_page() {
    let ui = Ui::start_with(&[], |s| s.demo = true).await;
    let ids = unicharge_server::demo::start_for(&ui.csms.server, "/ocpp")
        .await
        .unwrap();
    assert_eq!(ids.len(), unicharge_server::demo::STATIONS);
    let store = ui.csms.server.store.clone();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    // Every demo station connects over the real ws listener, boots and reports its EVSEs.
    loop {
        let mut ready = 0;
        for id in &ids {
            let id = StationId::new(id.clone()).unwrap();
            let connectors = store.connectors(&id).await.unwrap();
            if ui.csms.server.handle().is_connected(&id)
                && connectors.len() == unicharge_server::demo::EVSES as usize
            {
                ready += 1;
            }
        }
        if ready == ids.len() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{ready} of {} demo stations ready",
            ids.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let session = ui.login(&ui.admin).await;
    let overview = ui.get("/", Some(&session)).await;
    assert!(overview
        .body
        .contains("Demo mode: the stations and their data are simulated."));
    let page = ui.get("/ui/stations/DEMO-01", Some(&session)).await;
    assert!(page.body.contains("Demo mode"), "every page says so");
    assert!(
        page.body.contains("unicharge demo"),
        "the demo station booted with its vendor"
    );

    // A remote start through the UI is accepted by the demo station, which starts charging.
    let answer = ui
        .post(
            "/ui/stations/DEMO-01/actions/start",
            Some(&session),
            &[
                ("csrf", &page.csrf()),
                ("id_token", "NEWCOMER"),
                ("id_token_type", "ISO14443"),
                ("evse_id", "1"),
                ("confirmed", "yes"),
            ],
        )
        .await;
    assert!(
        answer
            .body
            .contains("The station answered <strong>Accepted</strong>."),
        "{}",
        answer.body
    );
    let station = StationId::new("DEMO-01").unwrap();
    loop {
        let txs = store.transactions(&station, 10).await.unwrap();
        if txs
            .iter()
            .any(|t| t.id_token.as_deref() == Some("NEWCOMER") && t.remote_start_id.is_some())
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no transaction for the remote start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn ui_without_demo_mode_says_nothing_of_demo_data() {
    let ui = Ui::start(&[]).await;
    let session = ui.login(&ui.admin).await;
    assert!(!ui.get("/", Some(&session)).await.body.contains("Demo mode"));
}

#[tokio::test]
async fn ui_reference_pages_show_tokens_tariffs_site_limits_and_campaigns_from_the_store() {
    let ui = Ui::start(&[StationSpec::new("CP-REF", 1)]).await;
    ui.default_tariff().await;
    let api = format!("{}/api/v1", ui.base);
    let token = ui
        .http
        .put(format!("{api}/tokens/ISO14443/BLOCKED-7"))
        .bearer_auth(&ui.admin)
        .json(&serde_json::json!({"status": "Blocked", "groupIdToken": "FLEET-A"}))
        .send()
        .await
        .unwrap();
    assert!(
        token.status().is_success(),
        "{}",
        token.text().await.unwrap()
    );
    let group = ui
        .http
        .put(format!("{api}/site-groups/depot-north"))
        .bearer_auth(&ui.admin)
        .json(
            &serde_json::json!({"limit": 64, "unit": "A", "stations": ["CP-REF"],
            "minRate": 6.0, "maxRate": 32.0, "phases": 3}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(group.status(), StatusCode::OK);
    let store = ui.csms.server.store.clone();
    let now = Utc::now();
    let campaign = store
        .create_campaign(
            &CampaignRecord {
                id: 0,
                name: "acme 2.1".into(),
                state: "Running".into(),
                firmware: "sha256:abc".into(),
                concurrency: 2,
                max_attempts: 1,
                station_timeout_secs: 600,
                created_by: "ops".into(),
                created_at: now,
                updated_at: now,
            },
            &[CampaignStationRecord {
                campaign_id: 0,
                station_id: StationId::new("CP-REF").unwrap(),
                position: 1,
                state: "Installing".into(),
                attempts: 1,
                request_id: Some(9),
                last_status: Some("Downloaded".into()),
                reason: None,
                started_at: Some(now),
                updated_at: now,
            }],
        )
        .await
        .unwrap();
    let session = ui.login(&ui.admin).await;

    let tokens = ui.get("/ui/tokens", Some(&session)).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert!(tokens.body.contains(">BLOCKED-7<"), "{}", tokens.body);
    assert!(tokens.body.contains(">Blocked<") && tokens.body.contains(">FLEET-A<"));

    let tariffs = ui.get("/ui/tariffs", Some(&session)).await;
    assert!(tariffs.body.contains(">T-UI<"), "{}", tariffs.body);
    assert!(tariffs.body.contains("0.30 EUR"), "{}", tariffs.body);

    let limits = ui.get("/ui/site-limits", Some(&session)).await;
    assert!(limits.body.contains(">depot-north<"), "{}", limits.body);
    assert!(limits.body.contains("64 A"), "{}", limits.body);
    assert!(limits.body.contains(r#"href="/ui/stations/CP-REF""#));

    let list = ui.get("/ui/firmware-campaigns", Some(&session)).await;
    assert!(
        list.body
            .contains(&format!(r#"href="/ui/firmware-campaigns/{campaign}""#)),
        "{}",
        list.body
    );
    let page = ui
        .get(
            &format!("/ui/firmware-campaigns/{campaign}"),
            Some(&session),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(r#"data-progress="Installing">1<"#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"data-firmware="CP-REF">Downloaded<"#));
    let missing = ui.get("/ui/firmware-campaigns/999", Some(&session)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ui_station_page_shows_security_events_reservations_and_the_local_list() {
    let ui = Ui::start(&[StationSpec::new("CP-SEC", 1)]).await;
    let mut station = ui.booted("CP-SEC").await;
    station
        .call(&SecurityEventNotificationRequest {
            custom_data: None,
            r#type: "TamperDetectionActivated".into(),
            timestamp: Utc::now(),
            tech_info: Some("lid opened".into()),
        })
        .await
        .unwrap();
    let session = ui.login(&ui.admin).await;
    let page = ui.get("/ui/stations/CP-SEC", Some(&session)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("<td>TamperDetectionActivated</td><td>lid opened</td>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("No reservation."));
    assert!(page.body.contains("Version 0 in the CSMS"), "{}", page.body);
    assert!(page.body.contains("No charging profile sent."));
}

#[tokio::test]
async fn ui_roaming_page_lists_ocpi_partners_and_diameter_page_says_how_to_turn_it_on() {
    let ui = Ui::start(&[StationSpec::new("CP-ROAM", 1)]).await;
    let created = ui
        .http
        .post(format!("{}/api/v1/ocpi/partners", ui.base))
        .bearer_auth(&ui.admin)
        .json(&serde_json::json!({"name": "Hubject Test EMSP"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let partner_id = created.json::<serde_json::Value>().await.unwrap()["partner"]["id"]
        .as_i64()
        .unwrap();
    let session = ui.login(&ui.admin).await;
    let roaming = ui.get("/ui/roaming", Some(&session)).await;
    assert_eq!(roaming.status, StatusCode::OK, "{}", roaming.body);
    assert!(
        roaming.body.contains(">Hubject Test EMSP<"),
        "{}",
        roaming.body
    );
    // Nothing pushed to it yet: an empty outbox, nothing failing.
    assert!(
        roaming
            .body
            .contains(&format!(r#"data-outbox-pending="{partner_id}">0</td>"#)),
        "{}",
        roaming.body
    );
    let diameter = ui.get("/ui/diameter", Some(&session)).await;
    assert_eq!(diameter.status, StatusCode::OK);
    assert!(
        diameter.body.contains("Diameter is off on this server"),
        "{}",
        diameter.body
    );
}

#[tokio::test]
async fn ui_set_variable_action_sends_the_typed_set_variables_request_and_shows_the_result() {
    let ui = Ui::start(&[StationSpec::new("CP-VAR", 1)]).await;
    let mut station = ui.booted("CP-VAR").await;
    let session = ui.login(&ui.key(ApiRole::Operator).await).await;
    let csrf = ui.get("/ui/stations/CP-VAR", Some(&session)).await.csrf();
    let path = "/ui/stations/CP-VAR/actions/set-variable";
    let form = [
        ("csrf", csrf.as_str()),
        ("component", "OCPPCommCtrlr"),
        ("variable", "HeartbeatInterval"),
        ("value", "120"),
    ];
    let confirm = ui.post(path, Some(&session), &form).await;
    assert!(
        confirm
            .body
            .contains("Set OCPPCommCtrlr.HeartbeatInterval to &quot;120&quot; on CP-VAR."),
        "{}",
        confirm.body
    );
    let pending = ui.confirm_in_background(path, &session, &form);
    let (id, request) = station.expect_call::<SetVariablesRequest>().await.unwrap();
    let item = &request.set_variable_data[0];
    assert_eq!(
        (
            item.component.name.as_str(),
            item.variable.name.as_str(),
            item.attribute_value.as_str()
        ),
        ("OCPPCommCtrlr", "HeartbeatInterval", "120")
    );
    let response: SetVariablesResponse = serde_json::from_value(serde_json::json!({
        "setVariableResult": [{"attributeStatus": "RebootRequired",
            "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]
    }))
    .unwrap();
    station
        .respond::<SetVariablesRequest>(&id, &response)
        .await
        .unwrap();
    let page = pending.await.unwrap();
    assert!(
        page.contains("The station answered <strong>RebootRequired</strong>."),
        "{page}"
    );
}

#[tokio::test]
async fn ui_operator_starts_a_firmware_campaign_after_confirming_and_the_station_gets_update_firmware(
) {
    let ui = Ui::start(&[StationSpec::new("CP-FW", 1)]).await;
    let mut station = ui.booted("CP-FW").await;
    let uploaded = ui
        .http
        .post(format!("{}/api/v1/firmware?name=acme-3.0.bin", ui.base))
        .bearer_auth(&ui.admin)
        .body(b"acme firmware 3.0".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::OK);
    let sha = uploaded.json::<serde_json::Value>().await.unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let session = ui.login(&ui.key(ApiRole::Operator).await).await;
    let list = ui.get("/ui/firmware-campaigns", Some(&session)).await;
    assert!(
        list.body
            .contains(&format!(r#"<option value="{sha}">acme-3.0.bin"#)),
        "{}",
        list.body
    );
    let csrf = list.csrf();
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "acme 3.0 rollout"),
        ("file", sha.as_str()),
        ("stations", "CP-FW"),
        ("concurrency", "1"),
    ];
    let confirm = ui
        .post("/ui/firmware-campaigns", Some(&session), &form)
        .await;
    assert!(
        confirm.body.contains(&format!(
            "Install firmware {sha} on CP-FW as campaign &quot;acme 3.0 rollout&quot;, 1 at a time."
        )),
        "{}",
        confirm.body
    );
    assert_nothing_sent(&mut station, "probe-fw").await;
    let mut confirmed = form.to_vec();
    confirmed.push(("confirmed", "yes"));
    let started = ui
        .post("/ui/firmware-campaigns", Some(&session), &confirmed)
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let location = started.location.expect("the campaign's page");
    assert!(
        location.starts_with("/ui/firmware-campaigns/"),
        "{location}"
    );
    let (_, request) = station
        .expect_call::<UpdateFirmwareRequest>()
        .await
        .unwrap();
    assert!(
        request.firmware.location.contains(&sha),
        "{}",
        request.firmware.location
    );
}

#[tokio::test]
async fn ui_set_charging_limit_action_sends_a_tx_default_profile_with_that_limit() {
    let ui = Ui::start(&[StationSpec::new("CP-LIM", 1)]).await;
    let mut station = ui.booted("CP-LIM").await;
    let session = ui.login(&ui.key(ApiRole::Operator).await).await;
    let csrf = ui.get("/ui/stations/CP-LIM", Some(&session)).await.csrf();
    let path = "/ui/stations/CP-LIM/actions/set-profile";
    let form = [
        ("csrf", csrf.as_str()),
        ("purpose", "TxDefaultProfile"),
        ("profile_id", "7"),
        ("evse_id", "0"),
        ("limit", "13.5"),
        ("unit", "A"),
    ];
    let confirm = ui.post(path, Some(&session), &form).await;
    assert!(
        confirm.body.contains(
            "Limit the whole station CP-LIM to 13.5 A with TxDefaultProfile 7 (stack level 0)."
        ),
        "{}",
        confirm.body
    );
    let pending = ui.confirm_in_background(path, &session, &form);
    let (id, request) = station
        .expect_call::<SetChargingProfileRequest>()
        .await
        .unwrap();
    assert_eq!(request.evse_id, 0);
    let profile = &request.charging_profile;
    assert_eq!(profile.id, 7);
    assert_eq!(
        profile.charging_profile_purpose.as_str(),
        "TxDefaultProfile"
    );
    let schedule = &profile.charging_schedule[0];
    assert_eq!(schedule.charging_rate_unit.as_str(), "A");
    assert_eq!(
        schedule.charging_schedule_period[0].limit.to_string(),
        "13.5"
    );
    let response: SetChargingProfileResponse =
        serde_json::from_value(serde_json::json!({"status": "Accepted"})).unwrap();
    station
        .respond::<SetChargingProfileRequest>(&id, &response)
        .await
        .unwrap();
    let page = pending.await.unwrap();
    assert!(
        page.contains("The station answered <strong>Accepted</strong>."),
        "{page}"
    );
    let station_page = ui.get("/ui/stations/CP-LIM", Some(&session)).await;
    assert!(
        station_page.body.contains("<td>TxDefaultProfile</td>"),
        "{}",
        station_page.body
    );
}

#[tokio::test]
async fn ui_tolling_page_lists_registered_obes_and_accounts_page_the_balances() {
    let ui = Ui::start(&[StationSpec::new("CP-EFC", 1)]).await;
    let put = ui
        .http
        .put(format!("{}/api/v1/efc/obes/1:00a1b2c3", ui.base))
        .bearer_auth(&ui.admin)
        .json(&serde_json::json!({"label": "truck 7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.status(),
        StatusCode::OK,
        "{}",
        put.text().await.unwrap()
    );
    for (path, body) in [
        (
            "/api/v1/accounts".to_string(),
            serde_json::json!({"id": "fleet-7", "unit": "money:EUR", "label": "truck fleet"}),
        ),
        (
            "/api/v1/accounts/fleet-7/operations".to_string(),
            serde_json::json!({"reference": "topup-1", "operation": {"op": "topUp", "amount": "42.50"}}),
        ),
    ] {
        let reply = ui
            .http
            .post(format!("{}{path}", ui.base))
            .bearer_auth(&ui.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            reply.status().is_success(),
            "{path}: {}",
            reply.text().await.unwrap()
        );
    }
    let session = ui.login(&ui.admin).await;
    let accounts = ui.get("/ui/accounts", Some(&session)).await;
    assert!(
        accounts
            .body
            .contains("<td>fleet-7</td><td>truck fleet</td>"),
        "{}",
        accounts.body
    );
    assert!(
        accounts.body.contains(r#"<td class="num">42.50</td>"#),
        "{}",
        accounts.body
    );
    let page = ui.get("/ui/efc", Some(&session)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<td>truck 7</td>"), "{}", page.body);
    assert!(page.body.contains("No charge report received yet."));
}
