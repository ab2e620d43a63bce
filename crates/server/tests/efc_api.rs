//! Operator API writes over real HTTP: ledger accounts and operations, EFC OBEs, contracts and
//! queued account updates — and their effect on what the back end answers a front end.

mod common;

use serde_json::{json, Value};
use unicharge_efc::dsrc::set_mmi;
use unicharge_efc::AccountUpdate;
use unicharge_sim::efc::{AccountKind, Bearer, Client, FrontEnd, OnBoardAccount};

struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
}

#[tokio::test]
async fn accounts_contracts_obes_and_updates_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::test_settings(dir.path());
    settings.csms.wss_listen = None;
    settings.http.listen = Some("127.0.0.1:0".parse().unwrap());
    settings.efc.tcp_listen = Some("127.0.0.1:0".parse().unwrap());
    settings.efc.http_listen = None;
    let server = unicharge_server::start(settings).await.unwrap();
    let api = Api {
        base: format!("http://{}", server.http_addr.unwrap()),
        key: server.initial_admin_key.clone().unwrap(),
        http: reqwest::Client::new(),
    };

    // --- ledger accounts ---
    let (s, a) = api
        .post(
            "/api/v1/accounts",
            json!({"id": "k-eur", "unit": "money:EUR", "label": "fleet 7"}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["floor"], "0");
    let (s, e) = api
        .post(
            "/api/v1/accounts",
            json!({"id": "k-eur", "unit": "money:EUR"}),
        )
        .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("account_exists")));
    let (s, e) = api
        .post("/api/v1/accounts", json!({"id": "x", "unit": "money:euro"}))
        .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_unit")));
    let top = json!({"reference": "pay-1", "operation": {"op": "topUp", "amount": "5.00"}});
    let (s, m) = api
        .post("/api/v1/accounts/k-eur/operations", top.clone())
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (m["balanceAfter"].as_str(), m["seq"].as_u64()),
        (Some("5.00"), Some(1))
    );
    // The same reference again: the first movement, applied once.
    let (s, again) = api.post("/api/v1/accounts/k-eur/operations", top).await;
    assert_eq!((s, &again), (200, &m));
    let (s, e) = api
        .post(
            "/api/v1/accounts/k-eur/operations",
            json!({"reference": "d-1", "operation": {"op": "debit", "amount": "9", "partial": false}}),
        )
        .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("insufficient_funds")));
    let (s, e) = api
        .post(
            "/api/v1/accounts/nope/operations",
            json!({"reference": "r", "operation": {"op": "topUp", "amount": "1"}}),
        )
        .await;
    assert_eq!((s, e["error"].as_str()), (404, Some("unknown_account")));

    // --- EFC: OBE, contract linked to the account, a queued update ---
    let mut fe = FrontEnd::new(42, &[0xC0, 1], 905);
    fe.account = Some(OnBoardAccount {
        kind: AccountKind::Credit,
        remaining: 1000,
        threshold: 100,
        reload_value: 50,
    });
    let (s, o) = api
        .put(
            &format!("/api/v1/efc/obes/{}", fe.obe_key()),
            json!({"label": "truck 1"}),
        )
        .await;
    assert_eq!(s, 200, "{o}");
    let (s, e) = api.put("/api/v1/efc/obes/not-a-key", json!({})).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_obe_key")));
    let contract = "276-905-0001-1";
    let (s, e) = api
        .put(
            &format!("/api/v1/efc/contracts/{contract}"),
            json!({"accounts": [{"account": "missing"}]}),
        )
        .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("unknown_account")));
    let (s, c) = api
        .put(
            &format!("/api/v1/efc/contracts/{contract}"),
            json!({"accounts": [{"account": "k-eur", "lowBelow": "1.00"}], "label": "fleet 7"}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["accounts"][0]["feeDecimals"], 2);

    let mut tcp = Client::connect(&Bearer::Tcp(server.efc_listeners.tcp_addr.unwrap()))
        .await
        .unwrap();
    let (_, crr) = fe.report(&mut tcp, chrono::Utc::now()).await.unwrap();
    assert_eq!(crr.obe_status_for_driver, Some(set_mmi::OK));
    let (_, acc) = api.get("/api/v1/accounts/k-eur").await;
    assert_eq!(acc["balance"], "3.75", "the report's 1.25 EUR debited");

    let (s, q) = api
        .post(
            &format!("/api/v1/efc/obes/{}/updates", fe.obe_key()),
            json!({"obeStatusForDriver": 2,
                   "accountUpdate": {"kind": "addToAccount", "credit": {"amount": 300, "unitHex": "03d2"}}}),
        )
        .await;
    assert_eq!(s, 201, "{q}");
    let (_, pending) = api
        .get(&format!("/api/v1/efc/obes/{}/updates", fe.obe_key()))
        .await;
    assert_eq!(pending["updates"].as_array().unwrap().len(), 1);
    let (s, e) = api
        .post(
            &format!("/api/v1/efc/obes/{}/updates", fe.obe_key()),
            json!({"accountUpdate": {"kind": "setAccount"}}),
        )
        .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_update")));

    let (_, crr) = fe.report(&mut tcp, chrono::Utc::now()).await.unwrap();
    assert_eq!(crr.obe_status_for_driver, Some(set_mmi::CONTACT_OPERATOR));
    let Some(AccountUpdate::AddToAccount(add)) = crr.account_update else {
        panic!("addToAccount expected, got {:?}", crr.account_update)
    };
    assert_eq!(add.add_credit.unwrap().payment_fee_amount, 300);
    assert_eq!(fe.account.as_ref().unwrap().remaining, 1300);
    let (_, pending) = api
        .get(&format!("/api/v1/efc/obes/{}/updates", fe.obe_key()))
        .await;
    assert!(
        pending["updates"].as_array().unwrap().is_empty(),
        "delivered once"
    );

    let (_, moves) = api.get("/api/v1/accounts/k-eur/movements").await;
    let moves = moves["movements"].as_array().unwrap();
    assert_eq!(moves.len(), 3);
    assert_eq!(moves[0]["balanceAfter"], "2.50");
    assert!(moves[0]["reference"]
        .as_str()
        .unwrap()
        .starts_with(&format!("efc:{}:1@", fe.obe_key())));
    let (_, contracts) = api.get("/api/v1/efc/contracts").await;
    assert_eq!(contracts["contracts"][0]["contractKey"], contract);
    server.shutdown().await;
}

/// Run `unicharge <args>` against the server; (success, stdout, stderr).
async fn cli(api: &Api, args: &[&str]) -> (bool, String, String) {
    common::cli(&api.base, &api.key, args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_manages_accounts_contracts_and_updates() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::test_settings(dir.path());
    settings.csms.wss_listen = None;
    settings.http.listen = Some("127.0.0.1:0".parse().unwrap());
    settings.efc.tcp_listen = Some("127.0.0.1:0".parse().unwrap());
    settings.efc.http_listen = None;
    let server = unicharge_server::start(settings).await.unwrap();
    let api = Api {
        base: format!("http://{}", server.http_addr.unwrap()),
        key: server.initial_admin_key.clone().unwrap(),
        http: reqwest::Client::new(),
    };
    let (ok, out, err) = cli(
        &api,
        &[
            "account", "open", "cli-m", "--unit", "distance", "--floor", "-1000",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli(
        &api,
        &[
            "account",
            "top-up",
            "cli-m",
            "50000",
            "--reference",
            "pay-9",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let m: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(m["balanceAfter"], "50000");
    // Retried with the same reference: applied once.
    let (ok, _, _) = cli(
        &api,
        &[
            "account",
            "top-up",
            "cli-m",
            "50000",
            "--reference",
            "pay-9",
        ],
    )
    .await;
    assert!(ok);
    let (ok, out, err) = cli(
        &api,
        &[
            "efc",
            "contract",
            "276-906-0001-1",
            "--account",
            "cli-m:20000",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli(
        &api,
        &[
            "efc",
            "queue",
            "42:c002",
            "--status",
            "no-signalling",
            "--reload",
            "distance,events",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    let (ok, _, err) = cli(&api, &["efc", "queue", "42:c002", "--credit", "5"]).await;
    assert!(!ok);
    assert!(err.contains("--set or --add"), "{err}");
    let (ok, _, err) = cli(&api, &["account", "debit", "cli-m", "999999"]).await;
    assert!(!ok);
    assert!(
        err.contains("409") && err.contains("insufficient_funds"),
        "{err}"
    );

    let mut fe = FrontEnd::new(42, &[0xC0, 2], 906);
    let mut tcp = Client::connect(&Bearer::Tcp(server.efc_listeners.tcp_addr.unwrap()))
        .await
        .unwrap();
    let (_, crr) = fe.report(&mut tcp, chrono::Utc::now()).await.unwrap();
    assert_eq!(crr.obe_status_for_driver, Some(set_mmi::NO_SIGNALLING));
    let Some(AccountUpdate::ReloadAccount(r)) = crr.account_update else {
        panic!("reloadAccount expected")
    };
    assert_eq!(
        (
            r.reload_old_distance_limit,
            r.reload_old_event_limit,
            r.reload_old_credit_amount
        ),
        (Some(true), Some(true), None)
    );
    let (ok, out, _) = cli(&api, &["account", "show", "cli-m"]).await;
    assert!(ok);
    let a: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(a["balance"], "38000", "50 km top-up once, 12 km driven");
    server.shutdown().await;
}
