//! Block H, Reservation. Part 6 (draft 2023-05) has no CSMS test cases for it, so these
//! scenarios follow the use cases of OCPP 2.0.1 Part 2 from the station's side, in the manner of
//! the OCTT cases: the operator makes the CSMS act, the station answers as a conforming station
//! does, and every CSMS message is checked against what was asked for.
//!
//! * H01 Reserve an EVSE: for any EVSE ([`h01_reserve_unspecified_evse_accepted`]), a specific
//!   one ([`h01_reserve_specific_evse_accepted`]) or a connector type
//!   ([`h01_reserve_connector_type_accepted`]), answered Accepted, after which the station
//!   reports its connector Reserved; and an occupied EVSE answered Occupied
//!   ([`h01_reserve_occupied_evse_answered_occupied`]).
//!
//! The reservations are asked for with [`OperatorAction::ReserveNow`], so that the CSMS allocates
//! the id and can follow the reservation to its end. A specific EVSE is reserved as Reusable
//! State *Reserved* (Table 199) does and checked as it checks, plus what [`reserve`] checks;
//! [`super::states::reserved`] itself still has the CSMS send a ReserveNow of the operator's
//! making (a generic OCPP command), which a CSMS does not know as its own reservation.
//! * H02 Cancel a reservation: answered Accepted (the connector is Available again) or Rejected
//!   (the station no longer holds it).
//! * H03 Use a reserved EVSE: the idToken of the reservation, or another of its group, starts a
//!   transaction whose first TransactionEvent carries the `reservationId`.
//! * H04 Reservation ended, not used: the station reports it Expired or Removed
//!   (ReservationStatusUpdate), or says nothing while its expiry passes.
//!
//! The idTokens are those of [`AuthConfig::octt`]: the reservation is made for the valid
//! idToken, its group is the configured groupIdToken, and valid_idtoken2 is the other member of
//! the group. The configured connector is of type [`CONNECTOR_TYPE`].
//!
//! Readings taken:
//!
//! * Every scenario boots first (Reusable State *Booted*).
//! * ReserveNowRequest is checked for what the operator asked: `evseId` and `connectorType`
//!   exactly as asked (omitted when not asked for), the idToken (compared case-insensitively, as
//!   OCPP compares idTokens), the `groupIdToken` when one was asked for (a CSMS may add the
//!   token's group on its own otherwise), and an `expiryDateTime` within [`EXPIRY_TOLERANCE`] of
//!   now plus the asked duration. When the operator's report names an `id`, it must be the
//!   reservation id the CSMS sent the station, and its `status` must be the station's answer.
//! * The station has one EVSE with one connector, so a reservation for any EVSE or for its
//!   connector type leaves no other EVSE free: the station reports the connector Reserved at
//!   once (H01: the station must keep an EVSE for the reservation once only as many EVSEs are
//!   free as there are such reservations).
//! * "Occupied" is a connector the station reported Occupied before the reservation (an EV
//!   plugged in).
//! * H02 Rejected is a reservation the station no longer holds (as H02 answers an unknown id):
//!   the connector keeps its last reported status.
//! * H03: the driver presents the idToken before plugging in (AuthorizeRequest, then the
//!   transaction starts on Authorized with `reservationId` and the idToken), then plugs in and
//!   charges (Reusable State *EnergyTransferStarted*). The answers to both must be Accepted, as
//!   Reusable State *Authorized* checks; for a group member, the AuthorizeResponse must carry the
//!   reservation's groupIdToken (the station compares it with the reservation's).
//! * H04 Removed: the station removed the reservation before its expiry (why is its own
//!   business, e.g. its EVSE was taken out of service); the connector is then Available again,
//!   as after Expired.
//! * H04 "expiry passes without an update": the reservation is made as short as the operator
//!   can ask for (one second; an expiry must lie in the future) and the station sends nothing
//!   after its Reserved report, as a station that lost its update would. What the CSMS shows
//!   once the expiry has passed is for the caller to check.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, AuthorizeRequest, CancelReservationRequest,
    CancelReservationResponse, CancelReservationStatusEnumType, ConnectorEnumType,
    ConnectorStatusEnumType, IdTokenType, ReservationStatusUpdateRequest,
    ReservationUpdateStatusEnumType, ReserveNowRequest, ReserveNowResponse,
    ReserveNowStatusEnumType, TriggerReasonEnumType,
};

use super::c_authorization::AuthConfig;
use super::operator::{Operator, OperatorAction};
use super::states::{self, Session, TxState};
use super::{reports_field, CaseError, OperatorTask, Target};
use crate::ensure;
use crate::station::Station;

/// The type of the configured connector.
pub const CONNECTOR_TYPE: ConnectorEnumType = ConnectorEnumType::CType2;

/// How long the reservations of these scenarios last, unless made to expire at once.
pub const RESERVATION_SECONDS: i64 = 3600;

/// How far ReserveNowRequest.expiryDateTime may be from now plus the asked duration.
pub const EXPIRY_TOLERANCE: Duration = Duration::from_secs(60);

/// What the operator asks the CSMS to reserve.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    pub id_token: IdTokenType,
    /// The group whose members may use the reservation too.
    pub group_id_token: Option<String>,
    /// A specific EVSE; None with no connector type: any EVSE.
    pub evse_id: Option<i64>,
    pub connector_type: Option<ConnectorEnumType>,
    pub expires_in_seconds: i64,
}

impl Reservation {
    /// Any EVSE, for the valid idToken, for [`RESERVATION_SECONDS`].
    pub fn any_evse() -> Reservation {
        Reservation {
            id_token: AuthConfig::octt().valid.clone(),
            group_id_token: None,
            evse_id: None,
            connector_type: None,
            expires_in_seconds: RESERVATION_SECONDS,
        }
    }

    /// The target's EVSE, for the valid idToken, for [`RESERVATION_SECONDS`].
    pub fn evse(target: &Target) -> Reservation {
        Reservation {
            evse_id: Some(target.evse_id),
            ..Reservation::any_evse()
        }
    }
}

/// H01 from the station's side: the operator has the CSMS reserve `reservation`; the station
/// answers `answer` and, when Accepted, reports the target's connector Reserved. The request
/// and the operator's report are checked as the module's readings say. Returns the request.
pub async fn reserve(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    reservation: &Reservation,
    answer: ReserveNowStatusEnumType,
) -> Result<ReserveNowRequest, CaseError> {
    let mut task = OperatorTask::start(
        operator,
        target,
        OperatorAction::ReserveNow {
            id_token: reservation.id_token.id_token.clone(),
            id_token_type: reservation.id_token.r#type.as_str().into(),
            group_id_token: reservation.group_id_token.clone(),
            evse_id: reservation.evse_id,
            connector_type: reservation.connector_type.map(|c| c.as_str().into()),
            expires_in_seconds: reservation.expires_in_seconds,
        },
        "have the CSMS send ReserveNowRequest",
    );
    let asked_at = Utc::now();
    let (id, request) = task.expect_call::<ReserveNowRequest>(station).await?;
    station
        .respond::<ReserveNowRequest>(
            &id,
            &ReserveNowResponse {
                custom_data: None,
                status: answer,
                status_info: None,
            },
        )
        .await?;
    check_reserve_now(&request, reservation, asked_at)?;
    if answer == ReserveNowStatusEnumType::Accepted {
        states::notify_connector_status(
            station,
            target.evse_id,
            target.connector_id,
            ConnectorStatusEnumType::Reserved,
        )
        .await?;
    }
    let report = task.finish(target.timeout).await?;
    check_report(&report, "ReserveNow", request.id, answer.as_str())?;
    Ok(request)
}

/// The ReserveNowRequest is what the operator asked for (see the module's readings).
fn check_reserve_now(
    request: &ReserveNowRequest,
    reservation: &Reservation,
    asked_at: chrono::DateTime<Utc>,
) -> Result<(), CaseError> {
    match reservation.evse_id {
        None => ensure!(
            request.evse_id.is_none(),
            "ReserveNowRequest.evseId must be omitted (no specific EVSE), was {:?}",
            request.evse_id
        ),
        Some(want) => ensure!(
            request.evse_id == Some(want),
            "ReserveNowRequest.evseId must be {want}, was {:?}",
            request.evse_id
        ),
    }
    let connector_type = request.connector_type.map(|c| c.as_str());
    let want = reservation.connector_type.map(|c| c.as_str());
    ensure!(
        connector_type == want,
        "ReserveNowRequest.connectorType must be {}, was {}",
        want.unwrap_or("omitted"),
        connector_type.unwrap_or("omitted")
    );
    check_id_token(
        "ReserveNowRequest.idToken",
        &request.id_token,
        &reservation.id_token,
    )?;
    if let Some(group) = &reservation.group_id_token {
        let got = request.group_id_token.as_ref().map(|g| g.id_token.as_str());
        ensure!(
            got.is_some_and(|g| g.eq_ignore_ascii_case(group)),
            "ReserveNowRequest.groupIdToken.idToken must be {group:?}, was {got:?}"
        );
    }
    let expected = asked_at + chrono::Duration::seconds(reservation.expires_in_seconds);
    let off = (request.expiry_date_time - expected).abs();
    ensure!(
        off.to_std().is_ok_and(|off| off <= EXPIRY_TOLERANCE),
        "ReserveNowRequest.expiryDateTime must be about now + {} s ({expected}), was {}",
        reservation.expires_in_seconds,
        request.expiry_date_time
    );
    Ok(())
}

fn check_id_token(field: &str, got: &IdTokenType, want: &IdTokenType) -> Result<(), CaseError> {
    ensure!(
        got.id_token.eq_ignore_ascii_case(&want.id_token),
        "{field}.idToken must be {:?}, was {:?}",
        want.id_token,
        got.id_token
    );
    ensure!(
        got.r#type == want.r#type,
        "{field}.type must be {}, was {}",
        want.r#type.as_str(),
        got.r#type.as_str()
    );
    Ok(())
}

/// The operator's report of `action` names the station's answer `status` and, if it names an
/// `id`, the reservation the CSMS sent the station.
fn check_report(report: &Value, action: &str, id: i64, status: &str) -> Result<(), CaseError> {
    ensure!(
        reports_field(report, "status", status),
        "the operator was not told the station's {action} answer {status}: {report}"
    );
    if let Some(reported) = report.get("id") {
        ensure!(
            reported == &json!(id),
            "the CSMS told the operator reservation id {reported} but sent the station {id}"
        );
    }
    Ok(())
}

/// Boot, reserve `reservation` (answered `answer`), and return the station for what follows.
async fn booted_and_reserved(
    target: &Target,
    operator: &Arc<dyn Operator>,
    reservation: &Reservation,
    answer: ReserveNowStatusEnumType,
) -> Result<(Station, ReserveNowRequest), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let request = reserve(&mut station, target, operator, reservation, answer).await?;
    Ok((station, request))
}

// ---------------------------------------------------------------------------------------------
// H01 Reservation
// ---------------------------------------------------------------------------------------------

/// H01, no specific EVSE: ReserveNowRequest without `evseId` and `connectorType` for the valid
/// idToken, answered Accepted; the station reports its connector Reserved.
pub async fn h01_reserve_unspecified_evse_accepted(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    let accepted = ReserveNowStatusEnumType::Accepted;
    let (station, _) =
        booted_and_reserved(target, &operator, &Reservation::any_evse(), accepted).await?;
    station.close().await;
    Ok(())
}

/// H01, a specific EVSE: ReserveNowRequest for the configured EVSE without `connectorType`,
/// answered Accepted; the station reports its connector Reserved (Reusable State *Reserved*,
/// Table 199, with the id allocated by the CSMS).
pub async fn h01_reserve_specific_evse_accepted(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    let accepted = ReserveNowStatusEnumType::Accepted;
    let reservation = Reservation::evse(target);
    let (station, _) = booted_and_reserved(target, &operator, &reservation, accepted).await?;
    station.close().await;
    Ok(())
}

/// H01, a connector type: ReserveNowRequest with `connectorType` [`CONNECTOR_TYPE`] and no
/// `evseId`, answered Accepted; the station reports its connector (of that type) Reserved.
pub async fn h01_reserve_connector_type_accepted(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    let reservation = Reservation {
        connector_type: Some(CONNECTOR_TYPE),
        ..Reservation::any_evse()
    };
    let accepted = ReserveNowStatusEnumType::Accepted;
    let (station, _) = booted_and_reserved(target, &operator, &reservation, accepted).await?;
    station.close().await;
    Ok(())
}

/// H01, an occupied EVSE: the station reports its connector Occupied, then answers the
/// reservation of that EVSE Occupied (and reports nothing more).
pub async fn h01_reserve_occupied_evse_answered_occupied(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    states::notify_connector_status(
        &mut station,
        target.evse_id,
        target.connector_id,
        ConnectorStatusEnumType::Occupied,
    )
    .await?;
    reserve(
        &mut station,
        target,
        &operator,
        &Reservation::evse(target),
        ReserveNowStatusEnumType::Occupied,
    )
    .await?;
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// H02 Cancel reservation
// ---------------------------------------------------------------------------------------------

/// The operator has the CSMS cancel `reservation_id`; the station answers `answer`. The request
/// must name that reservation; the operator must be told the answer.
async fn cancel(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    reservation_id: i64,
    answer: CancelReservationStatusEnumType,
) -> Result<(), CaseError> {
    let mut task = OperatorTask::start(
        operator,
        target,
        OperatorAction::CancelReservation { reservation_id },
        "have the CSMS send CancelReservationRequest",
    );
    let (id, request) = task
        .expect_call::<CancelReservationRequest>(station)
        .await?;
    station
        .respond::<CancelReservationRequest>(
            &id,
            &CancelReservationResponse {
                custom_data: None,
                status: answer,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.reservation_id == reservation_id,
        "CancelReservationRequest.reservationId must be {reservation_id}, was {}",
        request.reservation_id
    );
    if answer == CancelReservationStatusEnumType::Accepted {
        states::notify_connector_status(
            station,
            target.evse_id,
            target.connector_id,
            ConnectorStatusEnumType::Available,
        )
        .await?;
    }
    let report = task.finish(target.timeout).await?;
    ensure!(
        reports_field(&report, "status", answer.as_str()),
        "the operator was not told the station's CancelReservation answer {}: {report}",
        answer.as_str()
    );
    Ok(())
}

/// H02 Accepted: the configured EVSE is reserved (as in H01), then the CSMS cancels that
/// reservation; the station answers Accepted and reports its connector Available.
pub async fn h02_cancel_reservation_accepted(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    cancel_reserved(target, operator, CancelReservationStatusEnumType::Accepted).await
}

/// H02 Rejected: as H02 Accepted, but the station no longer holds the reservation and answers
/// Rejected; its connector keeps its status.
pub async fn h02_cancel_reservation_rejected(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    cancel_reserved(target, operator, CancelReservationStatusEnumType::Rejected).await
}

async fn cancel_reserved(
    target: &Target,
    operator: Arc<dyn Operator>,
    answer: CancelReservationStatusEnumType,
) -> Result<(), CaseError> {
    let accepted = ReserveNowStatusEnumType::Accepted;
    let reservation = Reservation::evse(target);
    let (mut station, request) =
        booted_and_reserved(target, &operator, &reservation, accepted).await?;
    cancel(&mut station, target, &operator, request.id, answer).await?;
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// H03 Use a reserved EVSE
// ---------------------------------------------------------------------------------------------

/// H03: the reservation is made (specific EVSE, `group` if any), then the driver presents
/// `driver` (AuthorizeRequest, Accepted, in `group` when given), the transaction starts with
/// TransactionEvent Started Authorized carrying the idToken and the `reservationId` (Accepted),
/// and the EV is plugged in and charges.
async fn use_reservation(
    target: &Target,
    operator: Arc<dyn Operator>,
    group: Option<&str>,
    driver: &IdTokenType,
) -> Result<(), CaseError> {
    let reservation = Reservation {
        group_id_token: group.map(str::to_string),
        ..Reservation::evse(target)
    };
    let accepted = ReserveNowStatusEnumType::Accepted;
    let (mut station, request) =
        booted_and_reserved(target, &operator, &reservation, accepted).await?;
    let answer = station
        .call(&AuthorizeRequest {
            custom_data: None,
            id_token: driver.clone(),
            certificate: None,
            iso15118_certificate_hash_data: None,
        })
        .await?;
    let info = answer.id_token_info;
    ensure!(
        info.status == AuthorizationStatusEnumType::Accepted,
        "AuthorizeResponse.idTokenInfo.status must be Accepted, was {}",
        info.status.as_str()
    );
    if let Some(group) = group {
        let got = info.group_id_token.as_ref().map(|g| g.id_token.as_str());
        ensure!(
            got.is_some_and(|g| g.eq_ignore_ascii_case(group)),
            "AuthorizeResponse.idTokenInfo.groupIdToken.idToken must be the reservation's \
             group {group:?}, was {got:?}"
        );
    }
    let mut session = Session::new(target).with_id_token(driver.id_token.clone(), driver.r#type);
    let mut event = session.next_event(TriggerReasonEnumType::Authorized, None);
    event.id_token = Some(driver.clone());
    event.reservation_id = Some(request.id);
    let answer = station.call(&event).await?;
    let status = answer.id_token_info.as_ref().map(|i| i.status);
    ensure!(
        status == Some(AuthorizationStatusEnumType::Accepted),
        "TransactionEventResponse.idTokenInfo.status must be Accepted, was {}",
        status.map_or("absent", |s| s.as_str())
    );
    session.authorized = true;
    session.id_token = Some(driver.clone());
    session.state = Some(TxState::Authorized);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    station.close().await;
    Ok(())
}

/// H03 with the reservation's own idToken: reserved for the valid idToken, used by it.
pub async fn h03_use_reservation_with_matching_id_token(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    let config = AuthConfig::octt();
    use_reservation(target, operator, None, &config.valid).await
}

/// H03 with the reservation's group: reserved for the valid idToken in the configured group,
/// used by valid_idtoken2 of the same group.
pub async fn h03_use_reservation_with_matching_group_id_token(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    let config = AuthConfig::octt();
    use_reservation(
        target,
        operator,
        Some(&config.group_id_token),
        &config.valid2,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// H04 Reservation ended, not used
// ---------------------------------------------------------------------------------------------

/// The configured EVSE is reserved; the station then reports the reservation `status`
/// (ReservationStatusUpdate) and its connector Available.
async fn reservation_ended(
    target: &Target,
    operator: Arc<dyn Operator>,
    status: ReservationUpdateStatusEnumType,
) -> Result<(), CaseError> {
    let accepted = ReserveNowStatusEnumType::Accepted;
    let reservation = Reservation::evse(target);
    let (mut station, request) =
        booted_and_reserved(target, &operator, &reservation, accepted).await?;
    station
        .call(&ReservationStatusUpdateRequest {
            custom_data: None,
            reservation_id: request.id,
            reservation_update_status: status,
        })
        .await?;
    states::notify_connector_status(
        &mut station,
        target.evse_id,
        target.connector_id,
        ConnectorStatusEnumType::Available,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// H04 Expired: the reservation expires unused; the station reports it Expired and its
/// connector Available.
pub async fn h04_reservation_expired_reported(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    reservation_ended(target, operator, ReservationUpdateStatusEnumType::Expired).await
}

/// H04 Removed: the station removes the reservation before its expiry and reports it Removed
/// and its connector Available.
pub async fn h04_reservation_removed_reported(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    reservation_ended(target, operator, ReservationUpdateStatusEnumType::Removed).await
}

/// H04 without an update: the configured EVSE is reserved for one second (answered Accepted,
/// connector Reserved) and the station sends nothing more.
pub async fn h04_reservation_expiry_passes_without_update(
    target: &Target,
    operator: Arc<dyn Operator>,
) -> Result<(), CaseError> {
    let reservation = Reservation {
        expires_in_seconds: 1,
        ..Reservation::evse(target)
    };
    let accepted = ReserveNowStatusEnumType::Accepted;
    let (station, _) = booted_and_reserved(target, &operator, &reservation, accepted).await?;
    station.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use serde_json::json;

    use super::*;
    use crate::octt::f_remote_control::typed_stub::TypedStub;
    use crate::octt::stub::{failure, Stub};

    /// Play `scenario` against a fresh stub with the typed operator; the stub's summary.
    async fn play<F, Fut>(scenario: F) -> (Result<(), CaseError>, Stub)
    where
        F: FnOnce(Target, Arc<dyn Operator>) -> Fut,
        Fut: Future<Output = Result<(), CaseError>>,
    {
        let stub = Stub::start().await;
        let result = scenario(stub.target(), TypedStub::wrap(stub.operator())).await;
        (result, stub)
    }

    /// The summary after the three CALLs of Booted.
    fn after_boot(stub: &Stub) -> Vec<String> {
        stub.summary()[3..].to_vec()
    }

    #[tokio::test]
    async fn reservations_are_made_and_reported() {
        let reserved = ["StatusNotification Reserved", "NotifyEvent Reserved"];
        let (result, stub) =
            play(|t, o| async move { h01_reserve_unspecified_evse_accepted(&t, o).await }).await;
        result.unwrap();
        assert_eq!(after_boot(&stub), reserved);
        let request = &stub.results()[0];
        assert_eq!(request.0, "ReserveNow");

        let (result, stub) =
            play(|t, o| async move { h01_reserve_specific_evse_accepted(&t, o).await }).await;
        result.unwrap();
        assert_eq!(after_boot(&stub), reserved);

        let (result, stub) =
            play(|t, o| async move { h01_reserve_connector_type_accepted(&t, o).await }).await;
        result.unwrap();
        assert_eq!(after_boot(&stub), reserved);

        let (result, stub) =
            play(|t, o| async move { h01_reserve_occupied_evse_answered_occupied(&t, o).await })
                .await;
        result.unwrap();
        assert_eq!(
            after_boot(&stub),
            ["StatusNotification Occupied", "NotifyEvent Occupied"]
        );
        assert_eq!(stub.results()[0].1["status"], "Occupied");
    }

    #[tokio::test]
    async fn reservations_are_cancelled_used_and_ended() {
        let (result, stub) =
            play(|t, o| async move { h02_cancel_reservation_accepted(&t, o).await }).await;
        result.unwrap();
        assert_eq!(
            after_boot(&stub)[2..],
            ["StatusNotification Available", "NotifyEvent Available"]
        );
        let results = stub.results();
        assert_eq!(results[1].0, "CancelReservation");
        assert_eq!(results[1].1["status"], "Accepted");

        let (result, stub) =
            play(|t, o| async move { h02_cancel_reservation_rejected(&t, o).await }).await;
        result.unwrap();
        assert_eq!(after_boot(&stub).len(), 2);
        assert_eq!(stub.results()[1].1["status"], "Rejected");

        let (result, stub) =
            play(|t, o| async move { h03_use_reservation_with_matching_id_token(&t, o).await })
                .await;
        result.unwrap();
        assert_eq!(
            after_boot(&stub)[2..],
            [
                "Authorize",
                "TransactionEvent Started Authorized OCTT-VALID-001",
                "StatusNotification Occupied",
                "NotifyEvent Occupied",
                "TransactionEvent Updated CablePluggedIn EVConnected",
                "TransactionEvent Updated ChargingStateChanged Charging",
            ]
        );
        let calls = stub.calls();
        let started = calls
            .iter()
            .find(|(a, p)| a == "TransactionEvent" && p["eventType"] == "Started")
            .unwrap();
        assert_eq!(started.1["reservationId"], 1);

        for (scenario, status) in [("expired", "Expired"), ("removed", "Removed")] {
            let (result, stub) = play(|t, o| async move {
                if scenario == "expired" {
                    h04_reservation_expired_reported(&t, o).await
                } else {
                    h04_reservation_removed_reported(&t, o).await
                }
            })
            .await;
            result.unwrap();
            let calls = stub.calls();
            let update = calls
                .iter()
                .find(|(a, _)| a == "ReservationStatusUpdate")
                .unwrap();
            assert_eq!(
                update.1,
                json!({"reservationId": 1, "reservationUpdateStatus": status})
            );
        }

        let (result, stub) =
            play(|t, o| async move { h04_reservation_expiry_passes_without_update(&t, o).await })
                .await;
        result.unwrap();
        assert_eq!(after_boot(&stub).len(), 2);
    }

    #[tokio::test]
    async fn reservation_validations() {
        let stub = Stub::start().await;
        let evse = TypedStub::wrap(stub.operator_with(|_, p| p["evseId"] = json!(1)));
        let message = failure(h01_reserve_unspecified_evse_accepted(&stub.target(), evse).await);
        assert!(message.contains("evseId must be omitted"), "{message}");

        let stub = Stub::start().await;
        let other_type =
            TypedStub::wrap(stub.operator_with(|_, p| p["connectorType"] = json!("cCCS2")));
        let message =
            failure(h01_reserve_connector_type_accepted(&stub.target(), other_type).await);
        assert!(
            message.contains("connectorType must be cType2, was cCCS2"),
            "{message}"
        );

        let stub = Stub::start().await;
        let late = TypedStub::wrap(stub.operator_with(|_, p| {
            p["expiryDateTime"] = json!("2031-01-01T00:00:00Z");
        }));
        let message = failure(h01_reserve_unspecified_evse_accepted(&stub.target(), late).await);
        assert!(
            message.contains("expiryDateTime must be about"),
            "{message}"
        );

        let stub = Stub::start().await;
        let other_id = TypedStub::wrap(stub.operator_with(|action, p| {
            if action == "CancelReservation" {
                p["reservationId"] = json!(99);
            }
        }));
        let message = failure(h02_cancel_reservation_accepted(&stub.target(), other_id).await);
        assert!(
            message.contains("reservationId must be 1, was 99"),
            "{message}"
        );

        // The stub authorizes without a group: the group member is not shown in the group.
        let stub = Stub::start().await;
        let message = failure(
            h03_use_reservation_with_matching_group_id_token(
                &stub.target(),
                TypedStub::wrap(stub.operator()),
            )
            .await,
        );
        assert!(
            message.contains("groupIdToken.idToken must be the reservation's group"),
            "{message}"
        );

        // The station is sent another id than the operator is told.
        let stub = Stub::start().await;
        let other_id = TypedStub::wrap(stub.operator_with(|_, p| p["id"] = json!(42)));
        let message =
            failure(h01_reserve_unspecified_evse_accepted(&stub.target(), other_id).await);
        assert!(
            message.contains("told the operator reservation id 1 but sent the station 42"),
            "{message}"
        );
    }
}
