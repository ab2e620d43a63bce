//! Block D, Local authorization list management: the CSMS sends a differential list
//! (TC_D_02) or an empty full list (TC_D_04), and asks for the list's version (TC_D_08/09).
//!
//! The OCTT's configuration comes from a [`LocalListConfig`]; [`LocalListConfig::octt`] holds the
//! defaults the registry plays with.
//!
//! Readings taken where the draft is inconsistent:
//!
//! * Every case boots first (Reusable State *Booted*): a CSMS need not talk to a station that has
//!   not booted, and "Before: N/a" does not say the station is offline.
//! * `<Configured versionNumber>` (D_08) and `<Bigger than currently configured in OCTT>` (D_02)
//!   are one setting, [`LocalListConfig::version_number`]: the version of the list the OCTT
//!   holds. Its default is 3: a station that already holds a list, so that D_02 catches a CSMS
//!   that sends version 1 to a station it has not asked. A CSMS may ask first
//!   (GetLocalListVersionRequest, as OCPP D01 suggests); the OCTT then answers the configured
//!   version, like a real station, while it waits for the SendLocalListRequest.
//! * "If the list is too big for one message, step 1 and 2 will be repeated": every
//!   SendLocalListRequest until the operator has the CSMS's report is answered Accepted and
//!   validated. D_02's "some idTokens" are the configured valid idTokens
//!   ([`LocalListConfig::entries`]); the table checks only that the list is not empty.
//! * D_04's `localAuthorizationList <Empty>` accepts the list omitted or an empty array (the
//!   schema allows both and they mean the same).

use std::sync::Arc;

use unicharge_ocpp::v201::{
    GetLocalListVersionRequest, GetLocalListVersionResponse, IdTokenType, SendLocalListRequest,
    SendLocalListResponse, SendLocalListStatusEnumType, UpdateEnumType,
};

use super::c_authorization::AuthConfig;
use super::operator::{self, Operator, OperatorAction};
use super::{states, with_operator, CaseError, OperatorTask, ScenarioFuture, Target};
use crate::ensure;
use crate::station::Station;

/// The OCTT's local list configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalListConfig {
    /// `<Configured versionNumber>`: the version of the list the OCTT holds (0: none).
    pub version_number: i64,
    /// The idTokens the operator asks the CSMS to send in D_02's differential list.
    pub entries: Vec<IdTokenType>,
}

impl LocalListConfig {
    /// No list held; the differential list carries the configured valid idTokens
    /// (`OCTT-VALID-001`, `OCTT-VALID-002`).
    pub fn octt() -> LocalListConfig {
        let auth = AuthConfig::octt();
        LocalListConfig {
            version_number: 3,
            entries: vec![auth.valid.clone(), auth.valid2.clone()],
        }
    }
}

/// The scenario for a case id of this block, if the simulator has one.
pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    Some(match id {
        "TC_D_02_CSMS" => with_operator(op, |op| async move {
            tc_d_02(target, op, &LocalListConfig::octt()).await
        }),
        "TC_D_04_CSMS" => with_operator(op, |op| tc_d_04(target, op)),
        "TC_D_08_CSMS" => with_operator(op, |op| async move {
            tc_d_08(target, op, &LocalListConfig::octt()).await
        }),
        "TC_D_09_CSMS" => with_operator(op, |op| tc_d_09(target, op)),
        _ => return None,
    })
}

/// The operator has the CSMS send the local list (`update_type`, `entries`); every
/// SendLocalListRequest that comes until the operator has the CSMS's report is answered
/// Accepted, and a GetLocalListVersionRequest with `version_number`. Returns the
/// SendLocalListRequests, at least one.
async fn send_local_list(
    station: &mut Station,
    target: &Target,
    operator: Arc<dyn Operator>,
    update_type: UpdateEnumType,
    entries: &[IdTokenType],
    version_number: i64,
) -> Result<Vec<SendLocalListRequest>, CaseError> {
    let action = OperatorAction::SendLocalList {
        update_type: update_type.as_str().into(),
        entries: entries
            .iter()
            .map(|t| (t.id_token.clone(), t.r#type.as_str().into()))
            .collect(),
    };
    let failed = |e: &str| {
        CaseError::Fail(format!(
            "the operator could not have the CSMS send SendLocalListRequest: {e}"
        ))
    };
    let mut pending = Pending(operator::trigger(operator, &target.station_id, action));
    let mut requests = Vec::new();
    loop {
        tokio::select! {
            action = station.next_call_action() => {
                if action? == "GetLocalListVersion" {
                    let (id, _) = station.expect_call::<GetLocalListVersionRequest>().await?;
                    station
                        .respond::<GetLocalListVersionRequest>(
                            &id,
                            &GetLocalListVersionResponse {
                                custom_data: None,
                                version_number,
                            },
                        )
                        .await?;
                    continue;
                }
                let (id, request) = station.expect_call::<SendLocalListRequest>().await?;
                station
                    .respond::<SendLocalListRequest>(
                        &id,
                        &SendLocalListResponse {
                            custom_data: None,
                            status: SendLocalListStatusEnumType::Accepted,
                            status_info: None,
                        },
                    )
                    .await?;
                requests.push(request);
            }
            outcome = &mut pending.0 => {
                outcome
                    .unwrap_or_else(|e| Err(format!("the operator task failed: {e}")))
                    .map_err(|e| failed(&e))?;
                break;
            }
        }
    }
    ensure!(
        !requests.is_empty(),
        "the operator's request completed, but the CSMS sent no SendLocalListRequest"
    );
    Ok(requests)
}

/// An operator action whose CALLs may repeat; aborted if the case fails first.
struct Pending(tokio::task::JoinHandle<Result<serde_json::Value, String>>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `SendLocalListRequest.updateType` must be `want`.
fn check_update_type(
    request: &SendLocalListRequest,
    want: UpdateEnumType,
) -> Result<(), CaseError> {
    ensure!(
        request.update_type == want,
        "step 1: SendLocalListRequest.updateType must be {}, was {}",
        want.as_str(),
        request.update_type.as_str()
    );
    Ok(())
}

/// TC_D_02_CSMS Send Local Authorization List - Differential Update: the operator has the CSMS
/// send a differential list with the configured idTokens; the OCTT answers Accepted. Step 1
/// validations (each request): `updateType` Differential, `versionNumber` bigger than
/// [`LocalListConfig::version_number`], `localAuthorizationList` not empty.
pub async fn tc_d_02(
    target: &Target,
    operator: Arc<dyn Operator>,
    config: &LocalListConfig,
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let requests = send_local_list(
        &mut station,
        target,
        operator,
        UpdateEnumType::Differential,
        &config.entries,
        config.version_number,
    )
    .await?;
    for request in &requests {
        check_update_type(request, UpdateEnumType::Differential)?;
        ensure!(
            request.version_number > config.version_number,
            "step 1: SendLocalListRequest.versionNumber must be bigger than the OCTT's {}, was {}",
            config.version_number,
            request.version_number
        );
        ensure!(
            request
                .local_authorization_list
                .as_ref()
                .is_some_and(|l| !l.is_empty()),
            "step 1: SendLocalListRequest.localAuthorizationList must not be empty"
        );
    }
    station.close().await;
    Ok(())
}

/// TC_D_04_CSMS Send Local Authorization List - Full with empty list: the operator has the CSMS
/// send a full list without entries; the OCTT answers Accepted. Step 1 validations (each
/// request): `updateType` Full, `localAuthorizationList` empty (omitted or `[]`).
pub async fn tc_d_04(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let requests =
        send_local_list(&mut station, target, operator, UpdateEnumType::Full, &[], 0).await?;
    for request in &requests {
        check_update_type(request, UpdateEnumType::Full)?;
        let entries = request
            .local_authorization_list
            .as_ref()
            .map_or(0, Vec::len);
        ensure!(
            entries == 0,
            "step 1: SendLocalListRequest.localAuthorizationList must be empty, had {entries} \
             entries"
        );
    }
    station.close().await;
    Ok(())
}

/// The operator has the CSMS ask for the list version; the OCTT answers `version_number`.
async fn get_local_list_version(
    target: &Target,
    operator: Arc<dyn Operator>,
    version_number: i64,
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::GetLocalListVersion,
        "have the CSMS send GetLocalListVersionRequest",
    );
    let (id, _request) = task
        .expect_call::<GetLocalListVersionRequest>(&mut station)
        .await?;
    station
        .respond::<GetLocalListVersionRequest>(
            &id,
            &GetLocalListVersionResponse {
                custom_data: None,
                version_number,
            },
        )
        .await?;
    task.finish(target.timeout).await?;
    station.close().await;
    Ok(())
}

/// TC_D_08_CSMS Get Local List Version - Success: the CSMS sends GetLocalListVersionRequest,
/// answered with [`LocalListConfig::version_number`]. No tool validations.
pub async fn tc_d_08(
    target: &Target,
    operator: Arc<dyn Operator>,
    config: &LocalListConfig,
) -> Result<(), CaseError> {
    get_local_list_version(target, operator, config.version_number).await
}

/// TC_D_09_CSMS Get Local List Version - No list available: as TC_D_08, answered 0. No tool
/// validations.
pub async fn tc_d_09(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    get_local_list_version(target, operator, 0).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::octt::f_remote_control::typed_stub::TypedStub;
    use crate::octt::stub::{failure, Stub};
    use crate::octt::{run, Verdict};

    #[tokio::test]
    async fn every_case_passes_against_a_conforming_csms() {
        for (case, answer) in [
            ("TC_D_02_CSMS", json!({"status": "Accepted"})),
            ("TC_D_04_CSMS", json!({"status": "Accepted"})),
            ("TC_D_08_CSMS", json!({"versionNumber": 3})),
            ("TC_D_09_CSMS", json!({"versionNumber": 0})),
        ] {
            let stub = Stub::start().await;
            // A conforming CSMS sends a version above the 3 the OCTT holds.
            let operator = stub.operator_with(|action, p| {
                if action == "SendLocalList" {
                    p["versionNumber"] = json!(4);
                }
            });
            let verdict = run(case, &stub.target(), Some(TypedStub::wrap(operator))).await;
            assert_eq!(verdict, Verdict::Pass, "{case}");
            let results = stub.results();
            assert_eq!(results.len(), 1, "{case}");
            for (field, value) in answer.as_object().unwrap() {
                assert_eq!(&results[0].1[field], value, "{case}");
            }
        }
        let stub = Stub::start().await;
        let config = LocalListConfig {
            version_number: 7,
            ..LocalListConfig::octt()
        };
        tc_d_08(&stub.target(), TypedStub::wrap(stub.operator()), &config)
            .await
            .unwrap();
        assert_eq!(stub.results()[0].1["versionNumber"], 7);
    }

    #[tokio::test]
    async fn local_list_validations() {
        let stub = Stub::start().await;
        let full = TypedStub::wrap(stub.operator_with(|_, p| p["updateType"] = json!("Full")));
        let message = failure(tc_d_02(&stub.target(), full, &LocalListConfig::octt()).await);
        assert!(
            message.contains("updateType must be Differential, was Full"),
            "{message}"
        );

        let stub = Stub::start().await;
        let message = failure(
            tc_d_02(
                &stub.target(),
                TypedStub::wrap(stub.operator()),
                &LocalListConfig::octt(),
            )
            .await,
        );
        assert!(
            message.contains("versionNumber must be bigger than the OCTT's 3, was 1"),
            "{message}"
        );

        let stub = Stub::start().await;
        let empty = TypedStub::wrap(stub.operator_with(|_, p| {
            p["versionNumber"] = json!(4);
            p.as_object_mut().unwrap().remove("localAuthorizationList");
        }));
        let message = failure(tc_d_02(&stub.target(), empty, &LocalListConfig::octt()).await);
        assert!(message.contains("must not be empty"), "{message}");

        let stub = Stub::start().await;
        let not_empty = TypedStub::wrap(stub.operator_with(|_, p| {
            p["localAuthorizationList"] = json!([{"idToken": {"idToken": "X", "type": "Central"}}]);
        }));
        let message = failure(tc_d_04(&stub.target(), not_empty).await);
        assert!(
            message.contains("must be empty, had 1 entries"),
            "{message}"
        );
    }
}
