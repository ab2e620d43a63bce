//! Block G, Availability: changing the availability of an EVSE (TC_G_03/04), the station
//! (TC_G_05/06) and a connector (TC_G_07/08) without a transaction, and during one
//! (TC_G_11/14/17, answered Scheduled), and the lock failure event (TC_G_20).
//!
//! Readings taken where the draft is inconsistent:
//!
//! * The "Memory State Unavailable" of G_04 and G_08, and G_06's "Charging Station set to
//!   Unavailable (original status was Available)", are the OCTT's own memory: the station boots
//!   (Accepted) and reports its connector Unavailable, as a station that was made inoperative
//!   before a reboot does. Nothing is asked of the CSMS to get there.
//! * G_06's manual action says "to Inoperative" but its validation and title say Operative:
//!   Operative is asked for and validated.
//! * "connectorId omit" (G_04) is `evse.connectorId` (ChangeAvailabilityRequest has no
//!   top-level connectorId); "evseId omit" (G_05/G_06) is `evse` absent.
//! * "all connectors" are the configured one; G_04's optional EVSE report is not sent.
//! * G_20 ("System under test: Charging Station", but the purpose is the CSMS's answer) boots
//!   first, and reports the lock of the configured connector.
//! * G_11/14/17 ("System under test: Charging Station" too, but the purpose is the CSMS's
//!   request) start from "State is EnergyTransferStarted": the station boots and plays
//!   EnergyTransferStarted on a fresh session. The manual action asks for Inoperative, which
//!   the validations confirm.
//! * G_11/14/17 "Wait for <Configured Transaction Duration>" is waited, and the StopAuthorized
//!   state then waits it again as its own table says (both [`super::states::Session::wait`],
//!   zero on the fresh session these cases play, as `Target` configures no duration).
//! * G_11 "connectorId omit" is `evse.connectorId`; G_14 "evseld omit, connectorId omit" is
//!   `evse` absent.
//! * G_11 step 6 "StatusNotification … OR NotifyEvent …" sends both (with the configured
//!   connector); G_14 step 8 and G_17 step 6 print StatusNotification only and send only that.
//! * G_14 step 3 ("all unoccupied connectors"): the configured connector is the only one and it
//!   is occupied, so nothing is sent.
//! * The post-scenario validation "a respond to report the state of a connector has been received
//!   for all connectors" is the CSMS answering every StatusNotification / NotifyEvent, which each
//!   step checks.

use std::sync::Arc;

use chrono::Utc;
use rand::Rng;
use unicharge_ocpp::v201::{
    ChangeAvailabilityRequest, ChangeAvailabilityResponse, ChangeAvailabilityStatusEnumType,
    ComponentType, ConnectorStatusEnumType, EventDataType, EventNotificationEnumType,
    EventTriggerEnumType, EvseType, NotifyEventRequest, OperationalStatusEnumType,
    StatusNotificationRequest, VariableType,
};

use super::operator::{Operator, OperatorAction};
use super::states::Session;
use super::{states, CaseError, OperatorTask, Target};
use crate::ensure;
use crate::station::Station;

/// TC_G_03_CSMS Change Availability EVSE - Operative to inoperative: Reusable State Unavailable
/// for the configured EVSE.
pub async fn tc_g_03(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    states::unavailable(
        &mut station,
        target,
        operator,
        target.evse_id,
        target.connector_id,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_G_04_CSMS Change Availability EVSE - Inoperative to operative: from Unavailable, the
/// ChangeAvailabilityRequest must be Operative for `evse.id` the configured EVSE with no
/// connectorId; the OCTT accepts and reports the connector Available.
pub async fn tc_g_04(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    boot_unavailable(&mut station, target).await?;
    change_availability(
        &mut station,
        target,
        operator,
        OperationalStatusEnumType::Operative,
        Some(target.evse_id),
        None,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_G_05_CSMS Change Availability Charging Station - Operative to inoperative: the request
/// must be Inoperative with no `evse`; the OCTT accepts and reports its connector Unavailable.
pub async fn tc_g_05(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    change_availability(
        &mut station,
        target,
        operator,
        OperationalStatusEnumType::Inoperative,
        None,
        None,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_G_06_CSMS Change Availability Charging station - Inoperative to operative: from
/// Unavailable, the request must be Operative with no `evse`; the OCTT accepts and reports its
/// connector Available.
pub async fn tc_g_06(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    boot_unavailable(&mut station, target).await?;
    change_availability(
        &mut station,
        target,
        operator,
        OperationalStatusEnumType::Operative,
        None,
        None,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_G_07_CSMS Change Availability Connector - Operative to inoperative: the request must be
/// Inoperative for `evse.id` / `evse.connectorId` the configured ones; the OCTT accepts and
/// reports the connector Unavailable.
pub async fn tc_g_07(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    change_availability(
        &mut station,
        target,
        operator,
        OperationalStatusEnumType::Inoperative,
        Some(target.evse_id),
        Some(target.connector_id),
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_G_08_CSMS Change Availability Connector - Inoperative to operative: from Unavailable, the
/// request must be Operative for the configured EVSE and connector; the OCTT accepts and
/// reports the connector Available.
pub async fn tc_g_08(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    boot_unavailable(&mut station, target).await?;
    change_availability(
        &mut station,
        target,
        operator,
        OperationalStatusEnumType::Operative,
        Some(target.evse_id),
        Some(target.connector_id),
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_G_20_CSMS Lock Failure (G05.FR.03): the OCTT sends NotifyEventRequest Delta
/// ConnectorPlugRetentionLock.Problem = "true"; the CSMS must answer (schema-valid).
pub async fn tc_g_20(target: &Target) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let now = Utc::now();
    let event_id = rand::thread_rng().gen_range(1..=i64::from(i32::MAX));
    station
        .call(&NotifyEventRequest {
            custom_data: None,
            generated_at: now,
            tbc: None,
            seq_no: 0,
            event_data: vec![EventDataType {
                custom_data: None,
                event_id,
                timestamp: now,
                trigger: EventTriggerEnumType::Delta,
                cause: None,
                actual_value: "true".into(),
                tech_code: None,
                tech_info: None,
                cleared: None,
                transaction_id: None,
                component: ComponentType {
                    custom_data: None,
                    evse: Some(EvseType {
                        custom_data: None,
                        id: target.evse_id,
                        connector_id: Some(target.connector_id),
                    }),
                    name: "ConnectorPlugRetentionLock".into(),
                    instance: None,
                },
                variable_monitoring_id: None,
                event_notification_type: EventNotificationEnumType::HardWiredNotification,
                variable: VariableType {
                    custom_data: None,
                    name: "Problem".into(),
                    instance: None,
                },
            }],
        })
        .await?;
    station.close().await;
    Ok(())
}

/// The memory state "Unavailable": boot (Accepted) and report the connector Unavailable.
async fn boot_unavailable(station: &mut Station, target: &Target) -> Result<(), CaseError> {
    states::boot(station, target).await?;
    states::notify_connector_status(
        station,
        target.evse_id,
        target.connector_id,
        ConnectorStatusEnumType::Unavailable,
    )
    .await
}

/// The operator changes the availability of the station (`evse_id` None), an EVSE
/// (`connector_id` None) or a connector to `status`; the request must say exactly that; the
/// OCTT accepts and reports the configured connector Unavailable or Available.
async fn change_availability(
    station: &mut Station,
    target: &Target,
    operator: Arc<dyn Operator>,
    status: OperationalStatusEnumType,
    evse_id: Option<i64>,
    connector_id: Option<i64>,
) -> Result<(), CaseError> {
    let task = request_change(
        station,
        target,
        &operator,
        status,
        (evse_id, connector_id),
        ChangeAvailabilityStatusEnumType::Accepted,
    )
    .await?;
    let connector_status = match status {
        OperationalStatusEnumType::Inoperative => ConnectorStatusEnumType::Unavailable,
        OperationalStatusEnumType::Operative => ConnectorStatusEnumType::Available,
    };
    states::notify_connector_status(
        station,
        target.evse_id,
        target.connector_id,
        connector_status,
    )
    .await?;
    task.finish(target.timeout).await?;
    Ok(())
}

/// Step 1 and 2 of the ChangeAvailability cases: the operator changes the availability of the
/// station (`evse_id` None), an EVSE (`connector_id` None) or a connector to `status`; the OCTT
/// answers `answer`. Step 1 validations: `operationalStatus` = `status`; `evse` omitted for the
/// station, else `evse.id` = `evse_id` and `evse.connectorId` = `connector_id` (omitted when
/// None). Returns the operator's task, still to be finished.
async fn request_change(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    status: OperationalStatusEnumType,
    (evse_id, connector_id): (Option<i64>, Option<i64>),
    answer: ChangeAvailabilityStatusEnumType,
) -> Result<OperatorTask, CaseError> {
    let mut task = OperatorTask::start(
        operator,
        target,
        OperatorAction::ChangeAvailability {
            operational_status: status.as_str().into(),
            evse_id,
            connector_id,
        },
        "have the CSMS send ChangeAvailabilityRequest",
    );
    let (id, request) = task
        .expect_call::<ChangeAvailabilityRequest>(station)
        .await?;
    station
        .respond::<ChangeAvailabilityRequest>(
            &id,
            &ChangeAvailabilityResponse {
                custom_data: None,
                status: answer,
                status_info: None,
            },
        )
        .await?;
    ensure!(
        request.operational_status == status,
        "step 1: ChangeAvailabilityRequest.operationalStatus must be {}, was {}",
        status.as_str(),
        request.operational_status.as_str()
    );
    let evse = request.evse.as_ref();
    match evse_id {
        None => ensure!(
            evse.is_none(),
            "step 1: ChangeAvailabilityRequest.evse must be omitted (the whole station), was \
             evse.id {:?}",
            evse.map(|e| e.id)
        ),
        Some(want) => ensure!(
            evse.map(|e| e.id) == Some(want),
            "step 1: ChangeAvailabilityRequest.evse.id must be {want}, was {:?}",
            evse.map(|e| e.id)
        ),
    }
    let got_connector = evse.and_then(|e| e.connector_id);
    match connector_id {
        None => ensure!(
            got_connector.is_none(),
            "step 1: ChangeAvailabilityRequest.evse.connectorId must be omitted, was \
             {got_connector:?}"
        ),
        Some(want) => ensure!(
            got_connector == Some(want),
            "step 1: ChangeAvailabilityRequest.evse.connectorId must be {want}, was \
             {got_connector:?}"
        ),
    }
    Ok(task)
}

// ---------------------------------------------------------------------------------------------
// Change availability during a transaction (G03, G04)
// ---------------------------------------------------------------------------------------------

/// TC_G_11_CSMS Change Availability EVSE - With ongoing transaction. Booted and
/// EnergyTransferStarted; the operator makes the configured EVSE Inoperative; the request must be
/// Inoperative for `evse.id` the configured EVSE with no connectorId; the OCTT answers Scheduled,
/// waits `<Configured Transaction Duration>`, plays StopAuthorized, EVConnectedPostSession and
/// EVDisconnected, then reports the connector Unavailable (StatusNotification and NotifyEvent).
pub async fn tc_g_11(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    inoperative_during_transaction(target, operator, Some(target.evse_id), None).await
}

/// TC_G_14_CSMS Change Availability - Charging Station - With ongoing transaction. As TC_G_11
/// for the whole station: the request must be Inoperative with no `evse`; there is no unoccupied
/// connector to report Unavailable at once; after the transaction the configured connector is
/// reported Unavailable (StatusNotification).
pub async fn tc_g_14(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    inoperative_during_transaction(target, operator, None, None).await
}

/// TC_G_17_CSMS Change Availability - Connector - With ongoing transaction. As TC_G_11 for the
/// configured connector: the request must be Inoperative for `evse.id` / `evse.connectorId` the
/// configured ones; after the transaction the connector is reported Unavailable
/// (StatusNotification).
pub async fn tc_g_17(target: &Target, operator: Arc<dyn Operator>) -> Result<(), CaseError> {
    inoperative_during_transaction(
        target,
        operator,
        Some(target.evse_id),
        Some(target.connector_id),
    )
    .await
}

/// TC_G_11/14/17: Booted and EnergyTransferStarted; the operator makes the station (`evse_id`
/// None), the EVSE (`connector_id` None) or the connector Inoperative (validated as in
/// [`request_change`]); the OCTT answers Scheduled, waits `<Configured Transaction Duration>`
/// ([`Session::wait`]), plays StopAuthorized, EVConnectedPostSession and EVDisconnected, and
/// reports the configured connector Unavailable: StatusNotification and NotifyEvent for an EVSE
/// (G_11's "StatusNotification OR NotifyEvent"), StatusNotification only otherwise.
async fn inoperative_during_transaction(
    target: &Target,
    operator: Arc<dyn Operator>,
    evse_id: Option<i64>,
    connector_id: Option<i64>,
) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let mut session = Session::new(target);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let task = request_change(
        &mut station,
        target,
        &operator,
        OperationalStatusEnumType::Inoperative,
        (evse_id, connector_id),
        ChangeAvailabilityStatusEnumType::Scheduled,
    )
    .await?;
    task.finish(target.timeout).await?;
    // G_14 step 3, "all unoccupied connectors": the configured connector is the only one and it
    // is occupied, so there is nothing to report yet.
    states::pause(session.wait).await;
    states::stop_authorized(&mut station, target, &mut session).await?;
    states::ev_connected_post_session(&mut station, target, &mut session).await?;
    states::ev_disconnected(&mut station, target, &mut session).await?;
    if evse_id.is_some() && connector_id.is_none() {
        states::notify_connector_status(
            &mut station,
            session.evse_id,
            session.connector_id,
            ConnectorStatusEnumType::Unavailable,
        )
        .await?;
    } else {
        station
            .call(&StatusNotificationRequest {
                custom_data: None,
                timestamp: Utc::now(),
                connector_status: ConnectorStatusEnumType::Unavailable,
                evse_id: session.evse_id,
                connector_id: session.connector_id,
            })
            .await?;
    }
    station.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::octt::stub::{failure, Stub, CHARGING};
    use crate::octt::{run, Verdict};

    /// The connector statuses the station reported.
    fn statuses(stub: &Stub) -> Vec<String> {
        stub.calls()
            .into_iter()
            .filter(|(a, _)| a == "StatusNotification")
            .map(|(_, p)| p["connectorStatus"].as_str().unwrap().to_string())
            .collect()
    }

    #[tokio::test]
    async fn every_case_passes_against_a_conforming_csms() {
        let cases = [
            ("TC_G_03_CSMS", ["Available", "Unavailable"]),
            ("TC_G_04_CSMS", ["Unavailable", "Available"]),
            ("TC_G_05_CSMS", ["Available", "Unavailable"]),
            ("TC_G_06_CSMS", ["Unavailable", "Available"]),
            ("TC_G_07_CSMS", ["Available", "Unavailable"]),
            ("TC_G_08_CSMS", ["Unavailable", "Available"]),
        ];
        for (case, expected) in cases {
            let stub = Stub::start().await;
            let verdict = run(case, &stub.target(), Some(stub.operator())).await;
            assert_eq!(verdict, Verdict::Pass, "{case}");
            assert_eq!(statuses(&stub), expected, "{case}");
        }
        let stub = Stub::start().await;
        tc_g_20(&stub.target()).await.unwrap();
        let calls = stub.calls();
        let (_, event) = calls.last().unwrap();
        let data: &Value = &event["eventData"][0];
        assert_eq!(data["component"]["name"], "ConnectorPlugRetentionLock");
        assert_eq!(data["variable"]["name"], "Problem");
        assert_eq!(data["actualValue"], "true");
        assert_eq!(data["trigger"], "Delta");
    }

    #[tokio::test]
    async fn change_availability_validations() {
        let stub = Stub::start().await;
        let evse = stub.operator_with(|_, p| p["evse"] = json!({"id": 1}));
        let message = failure(tc_g_05(&stub.target(), evse).await);
        assert!(message.contains("evse must be omitted"), "{message}");

        let stub = Stub::start().await;
        let inoperative = stub.operator_with(|_, p| p["operationalStatus"] = json!("Inoperative"));
        let message = failure(tc_g_06(&stub.target(), inoperative).await);
        assert!(message.contains("Operative, was Inoperative"), "{message}");

        let stub = Stub::start().await;
        let no_connector = stub.operator_with(|_, p| {
            p["evse"].as_object_mut().unwrap().remove("connectorId");
        });
        let message = failure(tc_g_07(&stub.target(), no_connector).await);
        assert!(message.contains("connectorId must be 1"), "{message}");

        let stub = Stub::start().await;
        let connector = stub.operator_with(|_, p| p["evse"]["connectorId"] = json!(1));
        let message = failure(tc_g_04(&stub.target(), connector).await);
        assert!(message.contains("connectorId must be omitted"), "{message}");

        let stub = Stub::start().await;
        let other_evse = stub.operator_with(|_, p| p["evse"]["id"] = json!(2));
        let message = failure(tc_g_08(&stub.target(), other_evse).await);
        assert!(message.contains("evse.id must be 1"), "{message}");
    }

    #[tokio::test]
    async fn inoperative_during_a_transaction_waits_for_its_end() {
        let ended = [
            "TransactionEvent Updated StopAuthorized OCTT-VALID-001",
            "TransactionEvent Updated ChargingStateChanged EVConnected",
            "StatusNotification Available",
            "NotifyEvent Available",
            "TransactionEvent Ended EVCommunicationLost Idle EVDisconnected",
        ];
        let cases = [
            (
                "TC_G_11_CSMS",
                &["StatusNotification Unavailable", "NotifyEvent Unavailable"][..],
            ),
            ("TC_G_14_CSMS", &["StatusNotification Unavailable"][..]),
            ("TC_G_17_CSMS", &["StatusNotification Unavailable"][..]),
        ];
        for (case, last) in cases {
            let stub = Stub::start().await;
            let verdict = run(case, &stub.target(), Some(stub.operator())).await;
            assert_eq!(verdict, Verdict::Pass, "{case}");
            let summary = stub.summary();
            assert_eq!(summary[..CHARGING.len()], CHARGING, "{case}");
            assert_eq!(
                summary[CHARGING.len()..],
                [&ended[..], last].concat(),
                "{case}"
            );
            let results = stub.results();
            assert_eq!(results.len(), 1, "{case}");
            assert_eq!(results[0].0, "ChangeAvailability");
            assert_eq!(results[0].1["status"], "Scheduled", "{case}");
        }
    }

    #[tokio::test]
    async fn inoperative_during_a_transaction_validations() {
        let stub = Stub::start().await;
        let connector = stub.operator_with(|_, p| p["evse"]["connectorId"] = json!(1));
        let message = failure(tc_g_11(&stub.target(), connector).await);
        assert!(
            message.contains("step 1") && message.contains("connectorId must be omitted"),
            "{message}"
        );

        let stub = Stub::start().await;
        let evse = stub.operator_with(|_, p| p["evse"] = json!({"id": 1}));
        let message = failure(tc_g_14(&stub.target(), evse).await);
        assert!(message.contains("evse must be omitted"), "{message}");

        let stub = Stub::start().await;
        let operative = stub.operator_with(|_, p| p["operationalStatus"] = json!("Operative"));
        let message = failure(tc_g_17(&stub.target(), operative).await);
        assert!(message.contains("Inoperative, was Operative"), "{message}");

        let stub = Stub::start().await;
        let evse_only = stub.operator_with(|_, p| {
            p["evse"].as_object_mut().unwrap().remove("connectorId");
        });
        let message = failure(tc_g_17(&stub.target(), evse_only).await);
        assert!(message.contains("connectorId must be 1"), "{message}");
    }
}
