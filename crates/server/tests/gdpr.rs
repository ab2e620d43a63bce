//! GDPR for what unicharge stores about an idToken, over real HTTP against a real server whose
//! station is the simulator on a real WebSocket: the token is put in the token store, on a
//! station's local list, reserved for, remote-started, used in a priced transaction. Then:
//!
//! - `GET /api/v1/tokens/{id_token}/personal-data` lists all of it;
//! - `POST /api/v1/tokens/{id_token}/erase` deletes what only serves charging, pseudonymises
//!   the rest; afterwards no column of any table of the SQLite file contains the idToken (in
//!   any letter case), while the charge record still holds its amounts under the pseudonym;
//! - the erasure is audited (who, when; not the value) and a second one finds nothing.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use chrono::Utc;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    ChargingStateEnumType, EvseType, GetLocalListVersionRequest, GetLocalListVersionResponse,
    IdTokenEnumType, IdTokenType, ReadingContextEnumType, ReasonEnumType,
    RequestStartStopStatusEnumType, RequestStartTransactionRequest,
    RequestStartTransactionResponse, ReserveNowRequest, ReserveNowResponse,
    ReserveNowStatusEnumType, SendLocalListRequest, SendLocalListResponse,
    SendLocalListStatusEnumType, TransactionEventEnumType, TransactionEventRequest,
    TriggerReasonEnumType,
};
use unicharge_sim::octt::states;
use unicharge_sim::Station;

use common::payloads::{energy, transaction_event};
use common::{StationSpec, TestCsms};

const CP: &str = "CP042";
const TX: &str = "TX-GDPR-1";
/// Distinctive enough that finding it in a column means it was not erased.
const TOKEN: &str = "GdprDriver7731";

struct Api {
    client: Client,
    base: String,
    key: String,
}

impl Api {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.send(method.clone(), path, body).await;
        assert!(
            status.is_success(),
            "{method} {path}: HTTP {status}: {body}"
        );
        body
    }
}

/// A decimal as the API gives it (JSON string or number).
fn amount(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn token(id: &str) -> IdTokenType {
    IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: id.into(),
        r#type: IdTokenEnumType::Iso14443,
    }
}

fn event(
    seq_no: i64,
    event_type: TransactionEventEnumType,
    trigger: TriggerReasonEnumType,
    wh: i64,
    minutes: i64,
) -> TransactionEventRequest {
    let at = Utc::now() - chrono::Duration::hours(2) + chrono::Duration::minutes(minutes);
    let mut event = transaction_event(
        TX,
        seq_no,
        event_type,
        trigger,
        at,
        ChargingStateEnumType::Charging,
    );
    event.meter_value = Some(energy(at, wh, ReadingContextEnumType::SamplePeriodic));
    // The station reports the token in upper case: idTokens are case-insensitive.
    event.id_token = Some(token(&TOKEN.to_uppercase()));
    event
}

#[tokio::test]
async fn gdpr_personal_data_of_a_token_listed_then_erased_everywhere_amounts_kept() {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        // Reads the SQLite file by hand after the erasure (PostgreSQL's erasure is checked by
        // the store's tests/postgres_operations.rs).
        common::sqlite_only(s);
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let api = Api {
        client: Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        base: format!("http://{}/api/v1", csms.server.http_addr.unwrap()),
        key: csms.server.initial_admin_key.clone().unwrap(),
    };
    let db = csms.dir.path().join("data/unicharge.db");

    // The operator: the driver's token, a station tariff.
    api.ok(
        Method::PUT,
        &format!("/tokens/ISO14443/{TOKEN}"),
        Some(json!({"status": "Accepted"})),
    )
    .await;
    api.ok(
        Method::POST,
        "/tariffs",
        Some(
            json!({"id": "STD", "currency": "EUR", "vatPercent": "19", "pricePerKwh": "0.50",
            "pricePerChargingMinute": "0", "pricePerIdleMinute": "0", "sessionFee": "0"}),
        ),
    )
    .await;
    api.ok(
        Method::POST,
        "/tariff-assignments",
        Some(json!({"tariffId": "STD", "scope": {"scope": "station", "stationId": CP}})),
    )
    .await;

    let target = csms.target(CP, 1);
    let mut station: Station = target.connect().await.unwrap();
    states::booted(&mut station, &target).await.unwrap();

    // On the station's local list.
    let sent = {
        let (client, url, key) = (api.client.clone(), api.base.clone(), api.key.clone());
        tokio::spawn(async move {
            client
                .post(format!("{url}/stations/{CP}/local-list"))
                .bearer_auth(key)
                .json(&json!({"entries": [{"idToken": TOKEN, "type": "ISO14443"}]}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    // The CSMS first asks which version the station holds (D01).
    let (id, _) = station
        .expect_call::<GetLocalListVersionRequest>()
        .await
        .unwrap();
    station
        .respond::<GetLocalListVersionRequest>(
            &id,
            &GetLocalListVersionResponse {
                custom_data: None,
                version_number: 0,
            },
        )
        .await
        .unwrap();
    let (id, list) = station.expect_call::<SendLocalListRequest>().await.unwrap();
    assert!(serde_json::to_string(&list).unwrap().contains(TOKEN));
    station
        .respond::<SendLocalListRequest>(
            &id,
            &SendLocalListResponse {
                custom_data: None,
                status: SendLocalListStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    assert!(sent.await.unwrap().is_success());

    // Reserved for.
    let reserved = {
        let (client, url, key) = (api.client.clone(), api.base.clone(), api.key.clone());
        tokio::spawn(async move {
            client
                .post(format!("{url}/stations/{CP}/reservations"))
                .bearer_auth(key)
                .json(&json!({"idToken": {"idToken": TOKEN, "type": "ISO14443"}, "evseId": 1}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let (id, _) = station.expect_call::<ReserveNowRequest>().await.unwrap();
    station
        .respond::<ReserveNowRequest>(
            &id,
            &ReserveNowResponse {
                custom_data: None,
                status: ReserveNowStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await
        .unwrap();
    assert!(reserved.await.unwrap().is_success());

    // Remote-started, then charged: 10 kWh at 0.50 + 19 % = 5.95.
    let start = {
        let (client, url, key) = (api.client.clone(), api.base.clone(), api.key.clone());
        tokio::spawn(async move {
            client
                .post(format!("{url}/stations/{CP}/transactions/start"))
                .bearer_auth(key)
                .json(&json!({"idToken": {"idToken": TOKEN, "type": "ISO14443"}, "evseId": 2}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let (id, request) = station
        .expect_call::<RequestStartTransactionRequest>()
        .await
        .unwrap();
    station
        .respond::<RequestStartTransactionRequest>(
            &id,
            &RequestStartTransactionResponse {
                custom_data: None,
                status: RequestStartStopStatusEnumType::Accepted,
                status_info: None,
                transaction_id: None,
            },
        )
        .await
        .unwrap();
    assert!(start.await.unwrap().is_success());
    let mut first = event(
        0,
        TransactionEventEnumType::Started,
        TriggerReasonEnumType::RemoteStart,
        10_000,
        0,
    );
    first.transaction_info.remote_start_id = Some(request.remote_start_id);
    first.evse = Some(EvseType {
        custom_data: None,
        id: 2,
        connector_id: Some(1),
    });
    station.call(&first).await.unwrap();
    let mut ended = event(
        1,
        TransactionEventEnumType::Ended,
        TriggerReasonEnumType::StopAuthorized,
        20_000,
        60,
    );
    ended.transaction_info.stopped_reason = Some(ReasonEnumType::Local);
    let last = station.call(&ended).await.unwrap();
    assert_eq!(last.total_cost, Some("5.95".parse().unwrap()));
    station.close().await;

    // Right of access: everything is listed.
    let data = api
        .ok(Method::GET, &format!("/tokens/{TOKEN}/personal-data"), None)
        .await;
    assert_eq!(data["tokens"][0]["idToken"], TOKEN, "{data}");
    assert_eq!(data["localListEntries"][0]["stationId"], CP);
    assert_eq!(data["reservations"].as_array().unwrap().len(), 1);
    assert_eq!(data["remoteStarts"].as_array().unwrap().len(), 1);
    assert_eq!(data["transactions"][0]["transactionId"], TX);
    assert_eq!(data["transactionEvents"].as_array().unwrap().len(), 2);
    assert_eq!(
        amount(&data["chargeRecords"][0]["cost"]["totalInclVat"]),
        "5.95"
    );
    assert!(
        data["commands"].as_array().unwrap().len() >= 3,
        "{}",
        data["commands"]
    );
    assert!(
        !common::db_occurrences(&db, TOKEN).is_empty(),
        "the scan finds the token before"
    );

    // A read-only key may not erase.
    let (status, _) = Api {
        client: api.client.clone(),
        base: api.base.clone(),
        key: read_only_key(&csms).await,
    }
    .send(Method::POST, &format!("/tokens/{TOKEN}/erase"), None)
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Right to be forgotten (asked in another letter case: idTokens are case-insensitive).
    let erased = api
        .ok(
            Method::POST,
            &format!("/tokens/{}/erase", TOKEN.to_lowercase()),
            None,
        )
        .await;
    assert_eq!(erased["found"], true, "{erased}");
    assert_eq!(erased["deleted"]["id_tokens.id_token"], 1);
    assert_eq!(erased["deleted"]["local_list_entries.id_token"], 1);
    assert_eq!(erased["deleted"]["reservations.id_token"], 1);
    assert_eq!(erased["pseudonymised"]["transactions.id_token"], 1);
    assert_eq!(erased["pseudonymised"]["charge_records.data"], 1);
    assert_eq!(erased["pseudonymised"]["transaction_events.data"], 2);
    assert_eq!(erased["localListStations"], json!([CP]));
    let pseudonym = erased["pseudonym"].as_str().unwrap().to_string();
    assert!(pseudonym.starts_with("erased-"), "{pseudonym}");

    let left = common::db_occurrences(&db, TOKEN);
    assert!(left.is_empty(), "the idToken is still in {left:?}");

    // The charge record stays, with its amounts, under the pseudonym.
    let record = api
        .ok(Method::GET, &format!("/charge-records/{CP}%3A{TX}"), None)
        .await;
    assert_eq!(record["idToken"], pseudonym.as_str(), "{record}");
    assert_eq!(amount(&record["cost"]["totalInclVat"]), "5.95");
    assert_eq!(amount(&record["cost"]["energy"]), "5.00");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let total: String = conn
        .query_row(
            "SELECT total_incl_vat FROM charge_records WHERE transaction_id = ?1",
            [TX],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(total, "5.95");
    let (by, at, audited_alias): (String, String, String) = conn
        .query_row(
            "SELECT erased_by, erased_at, pseudonym FROM personal_data_erasures",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let admin_key_id = api.key.split('_').nth(1).unwrap().to_string();
    assert_eq!(by, admin_key_id, "audited: who");
    assert!(!at.is_empty(), "audited: when");
    assert_eq!(audited_alias, pseudonym);

    // Nothing left to list; a second erasure is harmless and says it found nothing.
    let data = api
        .ok(Method::GET, &format!("/tokens/{TOKEN}/personal-data"), None)
        .await;
    for section in [
        "tokens",
        "localListEntries",
        "reservations",
        "transactions",
        "chargeRecords",
    ] {
        assert_eq!(data[section], json!([]), "{section}: {data}");
    }
    let again = api
        .ok(Method::POST, &format!("/tokens/{TOKEN}/erase"), None)
        .await;
    assert_eq!(again["found"], false, "{again}");
    assert_eq!(
        again["pseudonym"],
        pseudonym.as_str(),
        "one token, one pseudonym"
    );
    let audits: i64 = conn
        .query_row("SELECT COUNT(*) FROM personal_data_erasures", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(audits, 2);
}

async fn read_only_key(csms: &TestCsms) -> String {
    use unicharge_core::api_keys::ApiRole;
    unicharge_api::auth::create_key(csms.server.store.as_ref(), "gdpr reader", ApiRole::ReadOnly)
        .await
        .unwrap_or_else(|e| panic!("creating a key failed: {e:?}"))
        .0
}
