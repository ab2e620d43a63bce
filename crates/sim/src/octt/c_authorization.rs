//! Block C, Authorization: the CSMS's answer for invalid, blocked and expired idTokens
//! (TC_C_02/06/07), for idTokens the station took from its Authorization Cache (TC_C_08/20),
//! clearing that cache (TC_C_37/38), authorization by GroupId (TC_C_39/40/43) and stopping
//! transactions with a Master Pass (TC_C_47/48/49).
//!
//! The OCTT's configured idTokens come from an [`AuthConfig`]; [`AuthConfig::octt`] holds the
//! defaults the registry plays with (ISO14443 tokens `OCTT-VALID-001`, `OCTT-VALID-002`,
//! `OCTT-INVALID-001`, `OCTT-BLOCKED-001`, `OCTT-EXPIRED-001`, `OCTT-MASTERPASS-001`, group
//! `OCTT-GROUP-001`, MasterPassGroupId `OCTT-MASTERPASS-GROUP`). The valid idToken is the one
//! [`Session::new`] uses.
//!
//! Readings taken where the draft is inconsistent:
//!
//! * Every case boots first (Reusable State *Booted*): a CSMS need not answer a station that has
//!   not booted, and "Before: N/a" does not say the station is offline.
//! * TC_C_08's "<Valid id token configured in Authorization Cache>" is the configured valid
//!   idToken; the station sends no AuthorizeRequest before the Authorized event. The note
//!   "TxStartPoint contains ParkingBayOccupancy" changes nothing the CSMS sees: the transaction
//!   was started by EVConnectedPreSession, so the event is Updated as printed (same for C_20).
//! * TC_C_39 step 1 authorizes valid_idtoken2 and step 3 sends valid_idtoken, as printed.
//! * TC_C_40's "configured in the local Authorization List" is the station's own list: the
//!   station sends no AuthorizeRequest, and the CSMS answers the events from what it knows.
//! * TC_C_43 is titled "Invalid status" but validates Accepted (with the group) at every step:
//!   Accepted is checked. Its validation "Step 1: TransactionEventResponse" is step 2.
//! * TC_C_47 follows the FINAL edition: the Ended events carry the masterpass idToken. "EVSE 2"
//!   is EVSE 2, connector 1 ([`AuthConfig::second_evse`]). The Ended events have
//!   `triggerReason` StopAuthorized and `chargingState` EVConnected (the table gives neither;
//!   the cable is still in, the transaction is stopped by a token). No tool validations.
//! * TC_C_48's step 1 sends valid_idtoken in the draft, yet its validation wants the
//!   masterPassGroupId in the answer: the masterpass idToken is sent (as the FINAL fixes the
//!   same step of C_47). "EnergyTransferStarted for all EVSE" is the configured EVSE.
//! * TC_C_49 has only the draft: its Ended events carry valid_idtoken as printed (the FINAL
//!   change to C_47 is not carried over unverified). Otherwise as C_47; no tool validations.
//! * groupIdToken values compare case-insensitively, as OCPP compares idTokens.

use std::sync::{Arc, OnceLock};

use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, AuthorizeRequest, ChargingStateEnumType, ClearCacheRequest,
    ClearCacheResponse, ClearCacheStatusEnumType, IdTokenEnumType, IdTokenInfoType, IdTokenType,
    ReasonEnumType, TriggerReasonEnumType,
};

use super::operator::{Operator, OperatorAction};
use super::states::{self, Session, TxState};
use super::{CaseError, OperatorTask, Target};
use crate::ensure;
use crate::station::Station;

/// The idTokens the OCTT is configured with (its configuration screen's Authorization part).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfig {
    /// <Configured valid_idtoken_idtoken> / `_type`.
    pub valid: IdTokenType,
    /// <Configured valid_idtoken2_idtoken> / `_type`: same group as `valid`.
    pub valid2: IdTokenType,
    /// <Configured invalid_idtoken_idtoken> / `_type`: unknown to (or invalid at) the CSMS.
    pub invalid: IdTokenType,
    /// <Configured blocked_idtoken_idtoken> / `_type`.
    pub blocked: IdTokenType,
    /// <Configured expired_idtoken_idtoken> / `_type`.
    pub expired: IdTokenType,
    /// <Configured masterpass_idtoken_idtoken> / `_type`: its group is `master_pass_group_id`.
    pub masterpass: IdTokenType,
    /// <Configured groupIdToken>: the group of `valid` and `valid2`.
    pub group_id_token: String,
    /// <Configured masterPassGroupId>.
    pub master_pass_group_id: String,
    /// The second EVSE of TC_C_47/49 (evseId, connectorId).
    pub second_evse: (i64, i64),
}

fn iso14443(id: &str) -> IdTokenType {
    IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: id.into(),
        r#type: IdTokenEnumType::Iso14443,
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            valid: iso14443("OCTT-VALID-001"),
            valid2: iso14443("OCTT-VALID-002"),
            invalid: iso14443("OCTT-INVALID-001"),
            blocked: iso14443("OCTT-BLOCKED-001"),
            expired: iso14443("OCTT-EXPIRED-001"),
            masterpass: iso14443("OCTT-MASTERPASS-001"),
            group_id_token: "OCTT-GROUP-001".into(),
            master_pass_group_id: "OCTT-MASTERPASS-GROUP".into(),
            second_evse: (2, 1),
        }
    }
}

impl AuthConfig {
    /// The defaults, shared.
    pub fn octt() -> &'static AuthConfig {
        static CONFIG: OnceLock<AuthConfig> = OnceLock::new();
        CONFIG.get_or_init(AuthConfig::default)
    }

    /// A session on the target's EVSE authorized with `token`.
    fn session(&self, target: &Target, token: &IdTokenType) -> Session {
        Session::new(target).with_id_token(token.id_token.clone(), token.r#type)
    }
}

/// `<message>.idTokenInfo.status` must be one of `allowed`.
fn check_status(
    message: &str,
    info: Option<&IdTokenInfoType>,
    allowed: &[AuthorizationStatusEnumType],
) -> Result<(), CaseError> {
    let status = info.map(|i| i.status);
    ensure!(
        status.is_some_and(|s| allowed.contains(&s)),
        "{message}.idTokenInfo.status must be {}, was {}",
        allowed
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" or "),
        status.map_or("absent", |s| s.as_str())
    );
    Ok(())
}

/// `<message>.idTokenInfo.status` Accepted and `groupIdToken.idToken` = `group`.
fn check_accepted_in_group(
    message: &str,
    info: Option<&IdTokenInfoType>,
    group: &str,
) -> Result<(), CaseError> {
    check_status(message, info, &[AuthorizationStatusEnumType::Accepted])?;
    let got = info
        .and_then(|i| i.group_id_token.as_ref())
        .map(|g| g.id_token.as_str());
    ensure!(
        got.is_some_and(|g| g.eq_ignore_ascii_case(group)),
        "{message}.idTokenInfo.groupIdToken.idToken must be {group:?}, was {got:?}"
    );
    Ok(())
}

/// AuthorizeRequest with `token`; the answer's idTokenInfo.
async fn authorize(
    station: &mut Station,
    token: &IdTokenType,
) -> Result<IdTokenInfoType, CaseError> {
    let answer = station
        .call(&AuthorizeRequest {
            custom_data: None,
            id_token: token.clone(),
            certificate: None,
            iso15118_certificate_hash_data: None,
        })
        .await?;
    Ok(answer.id_token_info)
}

/// TransactionEventRequest `trigger` with `token` (Started or Updated as the session goes); the
/// answer's idTokenInfo.
async fn token_event(
    station: &mut Station,
    session: &mut Session,
    trigger: TriggerReasonEnumType,
    token: &IdTokenType,
) -> Result<Option<IdTokenInfoType>, CaseError> {
    let mut event = session.next_event(trigger, None);
    event.id_token = Some(token.clone());
    Ok(station.call(&event).await?.id_token_info)
}

/// The session is authorized by `token` (after a TransactionEvent Authorized of the case's own).
fn mark_authorized(session: &mut Session, token: &IdTokenType) {
    session.authorized = true;
    session.id_token = Some(token.clone());
    session.state = Some(TxState::Authorized);
}

/// Boot, send one AuthorizeRequest with `token` and check its status is one of `allowed`.
async fn authorize_only(
    target: &Target,
    token: &IdTokenType,
    allowed: &[AuthorizationStatusEnumType],
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let info = authorize(&mut station, token).await?;
    check_status("AuthorizeResponse", Some(&info), allowed).map_err(|e| e.at_step(2))?;
    station.close().await;
    Ok(())
}

/// TC_C_02_CSMS Local start transaction - Authorization Invalid/Unknown: AuthorizeRequest with
/// the invalid idToken; the status must be Invalid or Unknown.
pub async fn tc_c_02(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    use AuthorizationStatusEnumType::{Invalid, Unknown};
    authorize_only(target, &config.invalid, &[Invalid, Unknown]).await
}

/// TC_C_06_CSMS Local start transaction - Authorization Blocked: AuthorizeRequest with the
/// blocked idToken; the status must be Blocked or Invalid.
pub async fn tc_c_06(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    use AuthorizationStatusEnumType::{Blocked, Invalid};
    authorize_only(target, &config.blocked, &[Blocked, Invalid]).await
}

/// TC_C_07_CSMS Local start transaction - Authorization Expired: AuthorizeRequest with the
/// expired idToken; the status must be Expired or Invalid.
pub async fn tc_c_07(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    use AuthorizationStatusEnumType::{Expired, Invalid};
    authorize_only(target, &config.expired, &[Expired, Invalid]).await
}

/// From EVConnectedPreSession, TransactionEvent Updated Authorized with `token` taken from the
/// Authorization Cache (no AuthorizeRequest); its status must be one of `allowed`.
async fn cached_token(
    target: &Target,
    config: &AuthConfig,
    token: &IdTokenType,
    allowed: &[AuthorizationStatusEnumType],
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = config.session(target, &config.valid);
    states::ev_connected_pre_session(&mut station, target, &mut session).await?;
    let info = token_event(
        &mut station,
        &mut session,
        TriggerReasonEnumType::Authorized,
        token,
    )
    .await?;
    check_status("TransactionEventResponse", info.as_ref(), allowed).map_err(|e| e.at_step(2))?;
    station.close().await;
    Ok(())
}

/// TC_C_08_CSMS Authorization through authorization cache - Accepted: from
/// EVConnectedPreSession, TransactionEvent Updated Authorized with the valid idToken (from the
/// station's cache, no AuthorizeRequest); the status must be Accepted.
pub async fn tc_c_08(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    use AuthorizationStatusEnumType::Accepted;
    cached_token(target, config, &config.valid, &[Accepted]).await
}

/// TC_C_20_CSMS Authorization through authorization cache - Invalid: as TC_C_08 with the
/// invalid idToken; the status must be Invalid or Unknown.
pub async fn tc_c_20(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    use AuthorizationStatusEnumType::{Invalid, Unknown};
    cached_token(target, config, &config.invalid, &[Invalid, Unknown]).await
}

/// The CSMS sends ClearCacheRequest (operator: generic `ClearCache`), answered with `status`.
async fn clear_cache(
    target: &Target,
    operator: Arc<dyn Operator>,
    status: ClearCacheStatusEnumType,
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut task = OperatorTask::start(
        &operator,
        target,
        OperatorAction::Ocpp {
            action: "ClearCache".into(),
            payload: serde_json::json!({}),
        },
        "have the CSMS send ClearCacheRequest",
    );
    let (id, _request) = task.expect_call::<ClearCacheRequest>(&mut station).await?;
    station
        .respond::<ClearCacheRequest>(
            &id,
            &ClearCacheResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    task.finish(target.timeout).await?;
    station.close().await;
    Ok(())
}

/// TC_C_37_CSMS Clear Authorization Data in Authorization Cache - Accepted: the CSMS sends
/// ClearCacheRequest, answered Accepted. No tool validations.
pub async fn tc_c_37(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    clear_cache(target, operator, ClearCacheStatusEnumType::Accepted).await
}

/// TC_C_38_CSMS Clear Authorization Data in Authorization Cache - Rejected: as TC_C_37,
/// answered Rejected. No tool validations.
pub async fn tc_c_38(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    clear_cache(target, operator, ClearCacheStatusEnumType::Rejected).await
}

/// TransactionEvent Updated StopAuthorized with valid_idtoken2 (checked Accepted in the group
/// at `step`), then EVConnectedPostSession and EVDisconnected.
async fn stop_with_second_token(
    station: &mut Station,
    target: &Target,
    config: &AuthConfig,
    session: &mut Session,
    step: u32,
) -> Result<(), CaseError> {
    let info = token_event(
        station,
        session,
        TriggerReasonEnumType::StopAuthorized,
        &config.valid2,
    )
    .await?;
    check_accepted_in_group(
        "TransactionEventResponse",
        info.as_ref(),
        &config.group_id_token,
    )
    .map_err(|e| e.at_step(step))?;
    session.authorized = false;
    session.state = Some(TxState::StopAuthorized);
    states::ev_connected_post_session(station, target, session).await?;
    states::ev_disconnected(station, target, session).await
}

/// TC_C_39_CSMS Authorization by GroupId - Success: from EVConnectedPreSession, Authorize
/// valid_idtoken2 (2), TransactionEvent Authorized valid_idtoken (4), EnergyTransferStarted,
/// Authorize valid_idtoken2 (7), TransactionEvent StopAuthorized valid_idtoken2 (9),
/// EVConnectedPostSession, EVDisconnected. Each numbered answer must be Accepted with
/// `groupIdToken.idToken` the configured groupIdToken.
pub async fn tc_c_39(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    let group = config.group_id_token.as_str();
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = config.session(target, &config.valid);
    states::ev_connected_pre_session(&mut station, target, &mut session).await?;
    let info = authorize(&mut station, &config.valid2).await?;
    check_accepted_in_group("AuthorizeResponse", Some(&info), group).map_err(|e| e.at_step(2))?;
    let info = token_event(
        &mut station,
        &mut session,
        TriggerReasonEnumType::Authorized,
        &config.valid,
    )
    .await?;
    check_accepted_in_group("TransactionEventResponse", info.as_ref(), group)
        .map_err(|e| e.at_step(4))?;
    mark_authorized(&mut session, &config.valid);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let info = authorize(&mut station, &config.valid2).await?;
    check_accepted_in_group("AuthorizeResponse", Some(&info), group).map_err(|e| e.at_step(7))?;
    stop_with_second_token(&mut station, target, config, &mut session, 9).await?;
    station.close().await;
    Ok(())
}

/// TC_C_40_CSMS Authorization by GroupId - Success with Local Authorization List: from
/// EVConnectedPreSession, TransactionEvent Authorized valid_idtoken (2), EnergyTransferStarted,
/// TransactionEvent StopAuthorized valid_idtoken2 (6), EVConnectedPostSession, EVDisconnected.
/// Both answers must be Accepted in the configured group.
pub async fn tc_c_40(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    group_stop(target, config, false).await
}

/// TC_C_43_CSMS Authorization by GroupId - Invalid status with Local Authorization List: as
/// TC_C_40 with an AuthorizeRequest for valid_idtoken2 before the StopAuthorized event; all
/// three answers (2, 5, 7) must be Accepted in the configured group (see the module's readings).
pub async fn tc_c_43(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    group_stop(target, config, true).await
}

async fn group_stop(
    target: &Target,
    config: &AuthConfig,
    authorize_second: bool,
) -> Result<(), CaseError> {
    let group = config.group_id_token.as_str();
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = config.session(target, &config.valid);
    states::ev_connected_pre_session(&mut station, target, &mut session).await?;
    let info = token_event(
        &mut station,
        &mut session,
        TriggerReasonEnumType::Authorized,
        &config.valid,
    )
    .await?;
    check_accepted_in_group("TransactionEventResponse", info.as_ref(), group)
        .map_err(|e| e.at_step(2))?;
    mark_authorized(&mut session, &config.valid);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let stop_step = if authorize_second {
        let info = authorize(&mut station, &config.valid2).await?;
        check_accepted_in_group("AuthorizeResponse", Some(&info), group)
            .map_err(|e| e.at_step(5))?;
        7
    } else {
        6
    };
    stop_with_second_token(&mut station, target, config, &mut session, stop_step).await?;
    station.close().await;
    Ok(())
}

/// EnergyTransferStarted on the configured EVSE with valid_idtoken and, when `second`, on
/// [`AuthConfig::second_evse`] with valid_idtoken2.
async fn charging_sessions(
    station: &mut Station,
    target: &Target,
    config: &AuthConfig,
    second: bool,
) -> Result<Vec<Session>, CaseError> {
    let mut sessions = vec![config.session(target, &config.valid)];
    if second {
        let mut session = config.session(target, &config.valid2);
        (session.evse_id, session.connector_id) = config.second_evse;
        sessions.push(session);
    }
    for session in &mut sessions {
        states::energy_transfer_started(station, target, session).await?;
    }
    Ok(sessions)
}

/// TransactionEvent Ended StopAuthorized / EVConnected, `stoppedReason` MasterPass, with
/// `token`, for each session; the answers' idTokenInfo.
async fn end_by_master_pass(
    station: &mut Station,
    sessions: &mut [Session],
    token: &IdTokenType,
) -> Result<Vec<Option<IdTokenInfoType>>, CaseError> {
    let mut infos = Vec::new();
    for session in sessions {
        let mut event = session.end_event(
            TriggerReasonEnumType::StopAuthorized,
            Some(ChargingStateEnumType::EvConnected),
            ReasonEnumType::MasterPass,
        );
        event.id_token = Some(token.clone());
        infos.push(station.call(&event).await?.id_token_info);
    }
    Ok(infos)
}

/// TC_C_47 / TC_C_49: two charging EVSEs, Authorize masterpass, both transactions Ended with
/// stoppedReason MasterPass and `ended_with` as idToken. No tool validations.
async fn master_pass_all(
    target: &Target,
    config: &AuthConfig,
    ended_with: &IdTokenType,
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut sessions = charging_sessions(&mut station, target, config, true).await?;
    authorize(&mut station, &config.masterpass).await?;
    end_by_master_pass(&mut station, &mut sessions, ended_with).await?;
    station.close().await;
    Ok(())
}

/// TC_C_47_CSMS Stop Transaction with a Master Pass - With UI - All transactions (FINAL
/// edition): EnergyTransferStarted on EVSE 1 (valid_idtoken) and EVSE 2 (valid_idtoken2),
/// AuthorizeRequest masterpass, then TransactionEvent Ended `stoppedReason` MasterPass with the
/// masterpass idToken for both EVSEs. No tool validations.
pub async fn tc_c_47(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    master_pass_all(target, config, &config.masterpass).await
}

/// TC_C_48_CSMS Stop Transaction with a Master Pass - With UI - Specific transactions:
/// EnergyTransferStarted on the configured EVSE, AuthorizeRequest with the masterpass idToken
/// (see the module's readings), TransactionEvent Ended `stoppedReason` MasterPass with the
/// masterpass idToken. Both answers (2, 4) must be Accepted with `groupIdToken.idToken` the
/// configured masterPassGroupId.
pub async fn tc_c_48(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    let group = config.master_pass_group_id.as_str();
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut sessions = charging_sessions(&mut station, target, config, false).await?;
    let info = authorize(&mut station, &config.masterpass).await?;
    check_accepted_in_group("AuthorizeResponse", Some(&info), group).map_err(|e| e.at_step(2))?;
    let infos = end_by_master_pass(&mut station, &mut sessions, &config.masterpass).await?;
    for info in &infos {
        check_accepted_in_group("TransactionEventResponse", info.as_ref(), group)
            .map_err(|e| e.at_step(4))?;
    }
    station.close().await;
    Ok(())
}

/// TC_C_49_CSMS Stop Transaction with a Master Pass - Without UI: as TC_C_47, but the Ended
/// events carry valid_idtoken as the draft prints. No tool validations.
pub async fn tc_c_49(target: &Target, config: &AuthConfig) -> Result<(), CaseError> {
    master_pass_all(target, config, &config.valid).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::octt::stub::{failure, Stub};
    use crate::octt::{run, Verdict};

    /// The stub answers every idToken Accepted without a group: the cases that want Accepted
    /// (and nothing more) pass, the others fail at the validation the table gives.
    #[tokio::test]
    async fn cases_pass_or_fail_against_the_stub_as_their_validations_say() {
        for case in [
            "TC_C_08_CSMS",
            "TC_C_37_CSMS",
            "TC_C_38_CSMS",
            "TC_C_47_CSMS",
            "TC_C_49_CSMS",
        ] {
            let stub = Stub::start().await;
            let verdict = run(case, &stub.target(), Some(stub.operator())).await;
            assert_eq!(verdict, Verdict::Pass, "{case}");
        }
        let config = AuthConfig::octt();
        let stub = Stub::start().await;
        let message = failure(tc_c_02(&stub.target(), config).await);
        assert!(
            message.contains("step 2") && message.contains("Invalid or Unknown, was Accepted"),
            "{message}"
        );
        let stub = Stub::start().await;
        let message = failure(tc_c_06(&stub.target(), config).await);
        assert!(message.contains("Blocked or Invalid"), "{message}");
        let stub = Stub::start().await;
        let message = failure(tc_c_07(&stub.target(), config).await);
        assert!(message.contains("Expired or Invalid"), "{message}");
        let stub = Stub::start().await;
        let message = failure(tc_c_20(&stub.target(), config).await);
        assert!(
            message.contains("TransactionEventResponse.idTokenInfo.status"),
            "{message}"
        );
        for (scenario, step) in [
            ("TC_C_39_CSMS", 2),
            ("TC_C_40_CSMS", 2),
            ("TC_C_43_CSMS", 2),
        ] {
            let stub = Stub::start().await;
            let Verdict::Fail(message) = run(scenario, &stub.target(), None).await else {
                panic!("{scenario} must fail without a group");
            };
            assert!(
                message.contains(&format!("step {step}:")) && message.contains("groupIdToken"),
                "{message}"
            );
        }
        let stub = Stub::start().await;
        let message = failure(tc_c_48(&stub.target(), config).await);
        assert!(message.contains("OCTT-MASTERPASS-GROUP"), "{message}");
    }

    #[tokio::test]
    async fn master_pass_ends_both_transactions() {
        let stub = Stub::start().await;
        tc_c_47(&stub.target(), AuthConfig::octt()).await.unwrap();
        let summary = stub.summary();
        let ended: Vec<&String> = summary
            .iter()
            .filter(|s| s.starts_with("TransactionEvent Ended"))
            .collect();
        assert_eq!(
            ended,
            [
                "TransactionEvent Ended StopAuthorized EVConnected MasterPass OCTT-MASTERPASS-001",
                "TransactionEvent Ended StopAuthorized EVConnected MasterPass OCTT-MASTERPASS-001",
            ]
        );
        let evses: Vec<i64> = stub
            .calls()
            .iter()
            .filter(|(a, p)| a == "TransactionEvent" && p["eventType"] == "Started")
            .map(|(_, p)| p["evse"]["id"].as_i64().unwrap())
            .collect();
        assert_eq!(evses, [1, 2]);
        assert!(summary.contains(&"Authorize".to_string()));
    }
}
