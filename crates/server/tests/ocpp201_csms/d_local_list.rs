//! Block D, Local authorization list. The CSMS's token store knows the OCTT's valid idTokens
//! (`OCTT-VALID-001`, `OCTT-VALID-002`, Accepted in the configured group), which the lists carry
//! with their idTokenInfo. After each case the test checks what the operator was told, the
//! logged request, and the list the CSMS keeps for the station.
//!
//! TC_D_08 is played with a `<Configured versionNumber>` of 5 (the default 0 is also what TC_D_09
//! answers), so that the test can tell the station's report from the CSMS's own version.

use std::sync::Arc;

use serde_json::Value;
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_sim::octt;
use unicharge_sim::octt::c_authorization::AuthConfig;
use unicharge_sim::octt::d_local_list::{self, LocalListConfig};
use unicharge_sim::octt::operator::OperatorAction;
use unicharge_sim::octt::Verdict;
use unicharge_store::LocalList;

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator::{self, RestOperator};

const CP: &str = "CP001";

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

/// Start a server with CP001 at profile 1 and the valid idTokens.
async fn start() -> (TestCsms, Arc<RestOperator>) {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    let config = AuthConfig::octt();
    for token in [&config.valid, &config.valid2] {
        csms.server
            .store
            .upsert_token(&IdTokenRecord {
                id_token: token.id_token.clone(),
                kind: "ISO14443".into(),
                status: "Accepted".into(),
                expiry: None,
                group_id_token: Some(config.group_id_token.clone()),
            })
            .await
            .unwrap();
    }
    (csms, operator)
}

/// Start and play `case` with the REST operator.
async fn play(case: &str) -> (TestCsms, Arc<RestOperator>) {
    let (csms, operator) = start().await;
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    (csms, operator)
}

/// The one answer the operator got for actions `matching`.
fn answer(operator: &RestOperator, matching: impl Fn(&OperatorAction) -> bool) -> Value {
    let answers = operator.answers(matching);
    assert_eq!(answers.len(), 1, "{answers:?}");
    answers.into_iter().next().unwrap()
}

/// The one logged command of `action`, answered; its request and response.
async fn command(csms: &TestCsms, action: &str) -> (Value, Value) {
    let commands: Vec<_> = csms
        .server
        .store
        .commands(&id(), 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.action == action)
        .collect();
    assert_eq!(commands.len(), 1, "{action}: {commands:?}");
    assert_eq!(commands[0].outcome, "result", "{:?}", commands[0]);
    (
        serde_json::from_str(&commands[0].request).unwrap(),
        serde_json::from_str(commands[0].response.as_deref().unwrap()).unwrap(),
    )
}

async fn kept_list(csms: &TestCsms) -> LocalList {
    csms.server.store.local_list(&id()).await.unwrap()
}

/// Play a SendLocalList case; check the operator was told `version` Accepted without a resend,
/// the CSMS keeps `version` as Accepted with `entries`, and returns the logged request. The
/// CSMS asked the station's version first (D01), so `version` is one above what the OCTT holds.
async fn send_local_list(case: &str, entries: &[(&str, &str)], version: i64) -> Value {
    let (csms, operator) = play(case).await;
    let answer = answer(&operator, |a| {
        matches!(a, OperatorAction::SendLocalList { .. })
    });
    assert_eq!(answer["versionNumber"], version, "{answer}");
    assert_eq!(answer["status"], "Accepted", "{answer}");
    assert_eq!(answer["resentFull"], false, "{answer}");
    let (_, station_version) = command(&csms, "GetLocalListVersion").await;
    assert_eq!(station_version["versionNumber"], version - 1);
    let (request, response) = command(&csms, "SendLocalList").await;
    assert_eq!(request["versionNumber"], version, "{request}");
    assert_eq!(response["status"], "Accepted");
    let list = kept_list(&csms).await;
    assert_eq!(
        (list.version, list.last_status.as_deref()),
        (version, Some("Accepted")),
        "{list:?}"
    );
    let mut kept: Vec<(&str, &str)> = list
        .entries
        .iter()
        .map(|(t, k)| (t.as_str(), k.as_str()))
        .collect();
    kept.sort();
    assert_eq!(kept, entries);
    request
}

/// TC_D_02_CSMS: a differential list with both valid idTokens, each with its idTokenInfo from
/// the token store.
#[tokio::test]
async fn tc_d_02_csms() {
    let request = send_local_list(
        "TC_D_02_CSMS",
        &[
            ("OCTT-VALID-001", "ISO14443"),
            ("OCTT-VALID-002", "ISO14443"),
        ],
        // The OCTT holds version 3 (LocalListConfig::octt).
        4,
    )
    .await;
    assert_eq!(request["updateType"], "Differential");
    let mut sent: Vec<(String, String, String)> = request["localAuthorizationList"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| {
            (
                e["idToken"]["idToken"].as_str().unwrap().to_string(),
                e["idToken"]["type"].as_str().unwrap().to_string(),
                e["idTokenInfo"]["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    sent.sort();
    let accepted = |t: &str| {
        (
            t.to_string(),
            "ISO14443".to_string(),
            "Accepted".to_string(),
        )
    };
    assert_eq!(
        sent,
        [accepted("OCTT-VALID-001"), accepted("OCTT-VALID-002")]
    );
}

/// TC_D_04_CSMS: a full list without entries; the CSMS keeps an empty list at version 1.
#[tokio::test]
async fn tc_d_04_csms() {
    let request = send_local_list("TC_D_04_CSMS", &[], 1).await;
    assert_eq!(request["updateType"], "Full");
    let entries = request
        .get("localAuthorizationList")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    assert_eq!(entries, 0, "{request}");
}

/// Check the operator was told, and the CSMS keeps, the station's reported `version`.
async fn reported_version(csms: &TestCsms, operator: &RestOperator, version: i64) {
    let answer = answer(operator, |a| {
        matches!(a, OperatorAction::GetLocalListVersion)
    });
    assert_eq!(answer["versionNumber"], version, "{answer}");
    let (_, response) = command(csms, "GetLocalListVersion").await;
    assert_eq!(response["versionNumber"], version);
    let list = kept_list(csms).await;
    assert_eq!(list.station_version, Some(version), "{list:?}");
    // What the station holds does not change what the CSMS has sent.
    assert_eq!(list.version, 0, "{list:?}");
}

/// TC_D_08_CSMS: the station reports its list at version 5 (see the module's note).
#[tokio::test]
async fn tc_d_08_csms() {
    let (csms, operator) = start().await;
    let config = LocalListConfig {
        version_number: 5,
        ..LocalListConfig::octt()
    };
    let target = csms.target(CP, 1);
    let verdict =
        match d_local_list::tc_d_08(&target, operator.as_operator().unwrap(), &config).await {
            Ok(()) => Verdict::Pass,
            Err(e) => Verdict::Fail(e.to_string()),
        };
    assert_pass("TC_D_08_CSMS", verdict);
    reported_version(&csms, &operator, 5).await;
}

/// TC_D_09_CSMS: the station has no list (version 0).
#[tokio::test]
async fn tc_d_09_csms() {
    let (csms, operator) = play("TC_D_09_CSMS").await;
    reported_version(&csms, &operator, 0).await;
}
