//! Block C, Authorization. The CSMS's token store holds what the OCTT's configuration state
//! needs (the idTokens of `AuthConfig::octt()`): the valid idTokens Accepted in the configured
//! group, the blocked one Blocked, the expired one past its expiry, the masterpass one in the
//! MasterPassGroupId group; the invalid one is unknown.

use chrono::{Duration, Utc};
use serde_json::Value;
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::StationId;
use unicharge_sim::octt;
use unicharge_sim::octt::c_authorization::AuthConfig;
use unicharge_store::TransactionRecord;

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator;

const CP: &str = "CP001";

fn id() -> StationId {
    StationId::new(CP).unwrap()
}

fn config() -> &'static AuthConfig {
    AuthConfig::octt()
}

/// Store an ISO14443 token.
async fn token(
    csms: &TestCsms,
    id_token: &str,
    status: &str,
    expiry: Option<chrono::DateTime<Utc>>,
    group: Option<&str>,
) {
    csms.server
        .store
        .upsert_token(&IdTokenRecord {
            id_token: id_token.into(),
            kind: "ISO14443".into(),
            status: status.into(),
            expiry,
            group_id_token: group.map(str::to_string),
        })
        .await
        .unwrap();
}

/// The valid idTokens (Accepted, in the configured group) and the masterpass idToken.
async fn valid_tokens(csms: &TestCsms) {
    let c = config();
    for t in [&c.valid, &c.valid2] {
        token(csms, &t.id_token, "Accepted", None, Some(&c.group_id_token)).await;
    }
    token(
        csms,
        &c.masterpass.id_token,
        "Accepted",
        None,
        Some(&c.master_pass_group_id),
    )
    .await;
}

/// Start a server with CP001 at profile 1 and the valid tokens, and play `case` (no operator).
async fn play(case: &str) -> TestCsms {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    valid_tokens(&csms).await;
    assert_pass(case, octt::run(case, &csms.target(CP, 1), None).await);
    csms
}

/// The station's transactions, by EVSE.
async fn transactions(csms: &TestCsms) -> Vec<TransactionRecord> {
    let mut transactions = csms.server.store.transactions(&id(), 10).await.unwrap();
    transactions.sort_by_key(|t| t.evse_id);
    transactions
}

/// (seqNo, eventType, triggerReason, idToken) of a transaction's events.
async fn events(
    csms: &TestCsms,
    tx: &TransactionRecord,
) -> Vec<(i64, String, String, Option<String>)> {
    csms.server
        .store
        .transaction_events(&id(), &tx.transaction_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.seq_no, e.event_type, e.trigger_reason, e.id_token))
        .collect()
}

fn ev(
    seq_no: i64,
    event_type: &str,
    trigger: &str,
    id_token: Option<&str>,
) -> (i64, String, String, Option<String>) {
    (
        seq_no,
        event_type.into(),
        trigger.into(),
        id_token.map(str::to_string),
    )
}

/// TC_C_02_CSMS: the invalid idToken is unknown to the CSMS; nothing is kept.
#[tokio::test]
async fn tc_c_02_csms() {
    let csms = play("TC_C_02_CSMS").await;
    assert!(transactions(&csms).await.is_empty());
}

/// TC_C_06_CSMS: the blocked idToken is Blocked in the store.
#[tokio::test]
async fn tc_c_06_csms() {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    token(&csms, &config().blocked.id_token, "Blocked", None, None).await;
    assert_pass(
        "TC_C_06_CSMS",
        octt::run("TC_C_06_CSMS", &csms.target(CP, 1), None).await,
    );
}

/// TC_C_07_CSMS: the expired idToken is Accepted but past its expiry (the CSMS says Expired).
#[tokio::test]
async fn tc_c_07_csms() {
    let csms = TestCsms::start(&[StationSpec::new(CP, 1)]).await;
    let yesterday = Utc::now() - Duration::days(1);
    token(
        &csms,
        &config().expired.id_token,
        "Accepted",
        Some(yesterday),
        None,
    )
    .await;
    assert_pass(
        "TC_C_07_CSMS",
        octt::run("TC_C_07_CSMS", &csms.target(CP, 1), None).await,
    );
}

/// TC_C_08_CSMS: the cached valid idToken is Accepted; the transaction keeps it.
#[tokio::test]
async fn tc_c_08_csms() {
    let csms = play("TC_C_08_CSMS").await;
    let transactions = transactions(&csms).await;
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    let tx = &transactions[0];
    assert_eq!(tx.id_token.as_deref(), Some("OCTT-VALID-001"), "{tx:?}");
    assert_eq!(
        events(&csms, tx).await,
        [
            ev(0, "Started", "CablePluggedIn", None),
            ev(1, "Updated", "Authorized", Some("OCTT-VALID-001")),
        ]
    );
}

/// TC_C_20_CSMS: the invalid idToken is answered Unknown; the event is still kept.
#[tokio::test]
async fn tc_c_20_csms() {
    let csms = play("TC_C_20_CSMS").await;
    let transactions = transactions(&csms).await;
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    assert_eq!(
        events(&csms, &transactions[0]).await,
        [
            ev(0, "Started", "CablePluggedIn", None),
            ev(1, "Updated", "Authorized", Some("OCTT-INVALID-001")),
        ]
    );
}

/// Play a ClearCache case with the REST operator; the command log keeps the request and the
/// station's `status`, which the operator was told.
async fn clear_cache(case: &str, status: &str) {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    let answers = operator.answers(|_| true);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["status"], status, "{}", answers[0]);
    let command = csms
        .server
        .store
        .commands(&id(), 50)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.action == "ClearCache")
        .expect("the ClearCacheRequest is logged");
    assert_eq!(command.outcome, "result");
    let response: Value = serde_json::from_str(command.response.as_deref().unwrap()).unwrap();
    assert_eq!(response["status"], status);
}

/// TC_C_37_CSMS: ClearCache, Accepted.
#[tokio::test]
async fn tc_c_37_csms() {
    clear_cache("TC_C_37_CSMS", "Accepted").await;
}

/// TC_C_38_CSMS: ClearCache, Rejected.
#[tokio::test]
async fn tc_c_38_csms() {
    clear_cache("TC_C_38_CSMS", "Rejected").await;
}

/// The GroupId cases' one transaction: started by valid_idtoken, stop-authorized by
/// valid_idtoken2, ended EVDisconnected.
async fn group_transaction(csms: &TestCsms) {
    let transactions = transactions(csms).await;
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    let tx = &transactions[0];
    assert_eq!(
        tx.stopped_reason.as_deref(),
        Some("EVDisconnected"),
        "{tx:?}"
    );
    assert!(tx.ended_at.is_some(), "{tx:?}");
    assert_eq!(
        events(csms, tx).await,
        [
            ev(0, "Started", "CablePluggedIn", None),
            ev(1, "Updated", "Authorized", Some("OCTT-VALID-001")),
            ev(2, "Updated", "ChargingStateChanged", None),
            ev(3, "Updated", "StopAuthorized", Some("OCTT-VALID-002")),
            ev(4, "Updated", "ChargingStateChanged", None),
            ev(5, "Ended", "EVCommunicationLost", None),
        ]
    );
}

/// TC_C_39_CSMS: both idTokens answered Accepted in their group.
#[tokio::test]
async fn tc_c_39_csms() {
    let csms = play("TC_C_39_CSMS").await;
    group_transaction(&csms).await;
}

/// TC_C_40_CSMS: as C_39 without AuthorizeRequests.
#[tokio::test]
async fn tc_c_40_csms() {
    let csms = play("TC_C_40_CSMS").await;
    group_transaction(&csms).await;
}

/// TC_C_43_CSMS: as C_40 with an AuthorizeRequest for valid_idtoken2.
#[tokio::test]
async fn tc_c_43_csms() {
    let csms = play("TC_C_43_CSMS").await;
    group_transaction(&csms).await;
}

/// The Master Pass cases: a transaction per EVSE in `evses`, each ended with stoppedReason
/// MasterPass by an event carrying `ended_with`; EVSE 1's started by valid_idtoken, EVSE 2's by
/// valid_idtoken2.
async fn master_pass_transactions(csms: &TestCsms, evses: &[i64], ended_with: &str) {
    let transactions = transactions(csms).await;
    let got: Vec<Option<i64>> = transactions.iter().map(|t| t.evse_id).collect();
    let want: Vec<Option<i64>> = evses.iter().copied().map(Some).collect();
    assert_eq!(got, want, "{transactions:?}");
    for (tx, started_by) in transactions
        .iter()
        .zip(["OCTT-VALID-001", "OCTT-VALID-002"])
    {
        assert_eq!(tx.stopped_reason.as_deref(), Some("MasterPass"), "{tx:?}");
        // The token that started the transaction is kept, not the one that ended it.
        assert_eq!(tx.id_token.as_deref(), Some(started_by), "{tx:?}");
        assert!(tx.ended_at.is_some(), "{tx:?}");
        let events = events(csms, tx).await;
        let last = events.last().unwrap();
        assert_eq!(
            (last.1.as_str(), last.3.as_deref()),
            ("Ended", Some(ended_with)),
            "{events:?}"
        );
    }
}

/// TC_C_47_CSMS (FINAL): both transactions ended by the masterpass idToken.
#[tokio::test]
async fn tc_c_47_csms() {
    let csms = play("TC_C_47_CSMS").await;
    master_pass_transactions(&csms, &[1, 2], "OCTT-MASTERPASS-001").await;
}

/// TC_C_48_CSMS: the masterpass idToken is Accepted in the MasterPass group.
#[tokio::test]
async fn tc_c_48_csms() {
    let csms = play("TC_C_48_CSMS").await;
    master_pass_transactions(&csms, &[1], "OCTT-MASTERPASS-001").await;
}

/// TC_C_49_CSMS (draft): both transactions ended with stoppedReason MasterPass.
#[tokio::test]
async fn tc_c_49_csms() {
    let csms = play("TC_C_49_CSMS").await;
    master_pass_transactions(&csms, &[1, 2], "OCTT-VALID-001").await;
}
