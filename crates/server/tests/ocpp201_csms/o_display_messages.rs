//! Block O, Display Message. Every case starts with the REST operator; after it, the test
//! checks what the CSMS kept, read back through the operator API: the messages it sent with
//! the station's answers and whether each is still shown, and the assembled GetDisplayMessages
//! reports. The CSMS's token store knows the OCTT's valid idToken (for the transaction cases).

use std::sync::Arc;

use serde_json::{json, Value};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_sim::octt;
use unicharge_sim::octt::o_display_messages::DisplayConfig;

use crate::common::{assert_pass, StationSpec, TestCsms};
use crate::rest_operator::{self, RestOperator};
use unicharge_sim::octt::operator::OperatorAction;

const CP: &str = "CP001";
const VALID: &str = "OCTT-VALID-001";

/// Start a server with CP001 and the valid idToken, and play `case` with the REST operator.
async fn play(case: &str) -> (TestCsms, Arc<RestOperator>) {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    csms.server
        .store
        .upsert_token(&IdTokenRecord {
            id_token: VALID.into(),
            kind: "ISO14443".into(),
            status: "Accepted".into(),
            expiry: None,
            group_id_token: None,
        })
        .await
        .unwrap();
    assert_pass(
        case,
        octt::run(case, &csms.target(CP, 1), operator.as_operator()).await,
    );
    (csms, operator)
}

/// The messages the CSMS kept, by id.
async fn messages(operator: &RestOperator) -> Vec<Value> {
    let list = operator
        .get(&format!("/stations/{CP}/display-messages"))
        .await
        .unwrap();
    list["messages"].as_array().cloned().unwrap_or_default()
}

/// The one kept message.
async fn only_message(operator: &RestOperator) -> Value {
    let all = messages(operator).await;
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].clone()
}

/// The report of the GetDisplayMessages the operator asked for.
async fn report(operator: &RestOperator) -> Value {
    let answers = operator.answers(|a| matches!(a, OperatorAction::GetDisplayMessages { .. }));
    let request_id = answers[0]["requestId"].as_i64().unwrap();
    operator
        .get(&format!(
            "/stations/{CP}/display-messages/reports/{request_id}"
        ))
        .await
        .unwrap()
}

/// TC_O_01_CSMS: the message is kept with the station's Accepted, shown, id 1 (the first the
/// CSMS allocated for the station).
#[tokio::test]
async fn tc_o_01_csms() {
    let (_csms, operator) = play("TC_O_01_CSMS").await;
    let m = only_message(&operator).await;
    assert_eq!(m["status"], "Accepted", "{m}");
    assert_eq!(m["shown"], true, "{m}");
    assert_eq!(m["message"]["id"], 1, "{m}");
    assert_eq!(m["message"]["priority"], "NormalCycle", "{m}");
    assert_eq!(
        m["message"]["message"]["content"],
        DisplayConfig::octt().content
    );
    assert!(m["answeredAt"].is_string(), "{m}");
}

/// TC_O_02_CSMS: the NotifyDisplayMessages part is assembled under the requestId, complete.
#[tokio::test]
async fn tc_o_02_csms() {
    let (_csms, operator) = play("TC_O_02_CSMS").await;
    let r = report(&operator).await;
    assert_eq!(r["status"], "Accepted", "{r}");
    assert_eq!(r["complete"], true, "{r}");
    let parts = r["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1, "{r}");
    assert_eq!(parts[0]["messageInfo"][0]["id"], 1, "{r}");
    assert_eq!(r["request"].get("id"), None, "{r}");
}

/// TC_O_03_CSMS: Unknown completes the report with no parts.
#[tokio::test]
async fn tc_o_03_csms() {
    let (_csms, operator) = play("TC_O_03_CSMS").await;
    let r = report(&operator).await;
    assert_eq!(r["status"], "Unknown", "{r}");
    assert_eq!(r["complete"], true, "{r}");
    assert_eq!(r["parts"], json!([]), "{r}");
}

/// TC_O_04_CSMS: the cleared message is kept as cleared, no longer shown.
#[tokio::test]
async fn tc_o_04_csms() {
    let (_csms, operator) = play("TC_O_04_CSMS").await;
    let m = only_message(&operator).await;
    assert_eq!(m["shown"], false, "{m}");
    assert_eq!(m["gone"], "cleared", "{m}");
    assert!(m["clearedAt"].is_string(), "{m}");
}

/// TC_O_05_CSMS: clearing an id the CSMS never sent leaves nothing behind.
#[tokio::test]
async fn tc_o_05_csms() {
    let (_csms, operator) = play("TC_O_05_CSMS").await;
    assert_eq!(messages(&operator).await, Vec::<Value>::new());
}

/// TC_O_06_CSMS: a message for the transaction; once the transaction ended, it is no longer
/// shown (O02). A transaction the CSMS does not know as ongoing is refused before sending.
#[tokio::test]
async fn tc_o_06_csms() {
    let (csms, operator) = play("TC_O_06_CSMS").await;
    let m = only_message(&operator).await;
    assert_eq!(m["status"], "Accepted", "{m}");
    assert!(m["message"]["transactionId"].is_string(), "{m}");
    assert_eq!(m["gone"], "transaction_ended", "{m}");
    let sent = csms
        .server
        .store
        .commands(&unicharge_core::StationId::new(CP).unwrap(), 50)
        .await
        .unwrap()
        .len();
    let refused = operator
        .post(
            &format!("/stations/{CP}/display-messages"),
            json!({"priority": "NormalCycle", "transactionId": m["message"]["transactionId"],
                   "message": {"format": "UTF8", "content": "late"}}),
        )
        .await
        .unwrap_err();
    assert!(refused.starts_with("HTTP 400"), "{refused}");
    assert!(refused.contains("transaction_not_ongoing"), "{refused}");
    let after = csms
        .server
        .store
        .commands(&unicharge_core::StationId::new(CP).unwrap(), 50)
        .await
        .unwrap()
        .len();
    assert_eq!(after, sent, "nothing was sent");
}

/// TC_O_07_CSMS: the request asked for id 1 only.
#[tokio::test]
async fn tc_o_07_csms() {
    let (_csms, operator) = play("TC_O_07_CSMS").await;
    let r = report(&operator).await;
    assert_eq!(r["request"]["id"], json!([1]), "{r}");
    assert_eq!(r["complete"], true, "{r}");
}

/// TC_O_08_CSMS: the request asked by priority.
#[tokio::test]
async fn tc_o_08_csms() {
    let (_csms, operator) = play("TC_O_08_CSMS").await;
    let r = report(&operator).await;
    assert_eq!(r["request"]["priority"], "NormalCycle", "{r}");
    assert_eq!(
        r["parts"][0]["messageInfo"][0]["priority"], "NormalCycle",
        "{r}"
    );
}

/// TC_O_09_CSMS: the request asked by state; the kept message has it.
#[tokio::test]
async fn tc_o_09_csms() {
    let (_csms, operator) = play("TC_O_09_CSMS").await;
    let r = report(&operator).await;
    assert_eq!(r["request"]["state"], "Idle", "{r}");
    assert_eq!(only_message(&operator).await["message"]["state"], "Idle");
}

/// TC_O_10_CSMS: the station's UnknownTransaction is kept; the message is not shown.
#[tokio::test]
async fn tc_o_10_csms() {
    let (_csms, operator) = play("TC_O_10_CSMS").await;
    let m = only_message(&operator).await;
    assert_eq!(m["status"], "UnknownTransaction", "{m}");
    assert_eq!(m["gone"], "not_accepted", "{m}");
}

/// TC_O_14_CSMS: kept with its end; an end in the past is refused before sending.
#[tokio::test]
async fn tc_o_14_csms() {
    let (_csms, operator) = play("TC_O_14_CSMS").await;
    let m = only_message(&operator).await;
    assert!(m["message"]["endDateTime"].is_string(), "{m}");
    assert_eq!(m["shown"], true, "{m}");
    let refused = operator
        .post(
            &format!("/stations/{CP}/display-messages"),
            json!({"priority": "NormalCycle", "endDateTime": "2020-01-01T00:00:00Z",
                   "message": {"format": "UTF8", "content": "too late"}}),
        )
        .await
        .unwrap_err();
    assert!(refused.contains("end_in_the_past"), "{refused}");
}

/// A refused message is kept with the station's status and not shown.
async fn kept_refused(case: &str, status: &str) -> Value {
    let (_csms, operator) = play(case).await;
    let m = only_message(&operator).await;
    assert_eq!(m["status"], status, "{m}");
    assert_eq!(m["shown"], false, "{m}");
    m
}

/// TC_O_17_CSMS: NotSupportedPriority kept.
#[tokio::test]
async fn tc_o_17_csms() {
    let m = kept_refused("TC_O_17_CSMS", "NotSupportedPriority").await;
    assert_eq!(m["message"]["priority"], "AlwaysFront", "{m}");
}

/// TC_O_18_CSMS: NotSupportedState kept.
#[tokio::test]
async fn tc_o_18_csms() {
    let m = kept_refused("TC_O_18_CSMS", "NotSupportedState").await;
    assert_eq!(m["message"]["state"], "Unavailable", "{m}");
}

/// TC_O_19_CSMS: NotSupportedMessageFormat kept.
#[tokio::test]
async fn tc_o_19_csms() {
    let m = kept_refused("TC_O_19_CSMS", "NotSupportedMessageFormat").await;
    assert_eq!(m["message"]["message"]["format"], "HTML", "{m}");
}

/// TC_O_26_CSMS: Rejected kept.
#[tokio::test]
async fn tc_o_26_csms() {
    kept_refused("TC_O_26_CSMS", "Rejected").await;
}

/// TC_O_27_CSMS: kept with its start and transaction, shown while the transaction runs.
#[tokio::test]
async fn tc_o_27_csms() {
    let (_csms, operator) = play("TC_O_27_CSMS").await;
    let m = only_message(&operator).await;
    assert!(m["message"]["startDateTime"].is_string(), "{m}");
    assert!(m["message"]["transactionId"].is_string(), "{m}");
    assert_eq!(m["shown"], true, "{m}");
}

/// TC_O_28_CSMS: kept with end, state and transaction.
#[tokio::test]
async fn tc_o_28_csms() {
    let (_csms, operator) = play("TC_O_28_CSMS").await;
    let m = only_message(&operator).await;
    assert!(m["message"]["endDateTime"].is_string(), "{m}");
    assert_eq!(m["message"]["state"], "Charging", "{m}");
    assert_eq!(m["status"], "Accepted", "{m}");
}

/// Several languages: one message per language, consecutive ids, each answered.
#[tokio::test]
async fn display_message_in_several_languages() {
    let (csms, operator) = rest_operator::start(&[StationSpec::new(CP, 1)]).await;
    let target = csms.target(CP, 1);
    let mut station = target.connect().await.unwrap();
    unicharge_sim::octt::states::booted(&mut station, &target)
        .await
        .unwrap();
    let api = {
        let operator = operator.clone();
        tokio::spawn(async move {
            operator
                .post(
                    &format!("/stations/{CP}/display-messages"),
                    json!({"priority": "InFront",
                           "message": {"format": "UTF8", "language": "en", "content": "Hello"},
                           "translations": [{"format": "UTF8", "language": "de", "content": "Hallo"}]}),
                )
                .await
        })
    };
    use unicharge_ocpp::v201::{
        DisplayMessageStatusEnumType, SetDisplayMessageRequest, SetDisplayMessageResponse,
    };
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (id, request) = station
            .expect_call::<SetDisplayMessageRequest>()
            .await
            .unwrap();
        seen.push((
            request.message.id,
            request.message.message.language.clone().unwrap(),
            request.message.message.content.clone(),
        ));
        station
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
    }
    assert_eq!(
        seen,
        vec![
            (1, "en".to_string(), "Hello".to_string()),
            (2, "de".to_string(), "Hallo".to_string())
        ]
    );
    let answer = api.await.unwrap().unwrap();
    assert_eq!(
        answer,
        json!({"messages": [{"id": 1, "status": "Accepted"}, {"id": 2, "status": "Accepted"}]})
    );
    assert_eq!(messages(&operator).await.len(), 2);
}
