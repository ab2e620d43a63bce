//! The reusable states of Part 6, section 18, that the CSMS cases start from.

use chrono::Utc;
use unicharge_ocpp::v201::{
    BootNotificationRequest, BootReasonEnumType, ChargingStationType, ComponentType,
    ConnectorStatusEnumType, EventDataType, EventNotificationEnumType, EventTriggerEnumType,
    EvseType, NotifyEventRequest, RegistrationStatusEnumType, StatusNotificationRequest,
    VariableType,
};

use super::{CaseError, Target};
use crate::ensure;
use crate::station::Station;

/// The BootNotificationRequest the OCTT sends (reason PowerUp, configured model and vendor).
pub fn boot_request(target: &Target) -> BootNotificationRequest {
    BootNotificationRequest {
        custom_data: None,
        charging_station: ChargingStationType {
            custom_data: None,
            serial_number: None,
            model: target.model.clone(),
            modem: None,
            vendor_name: target.vendor_name.clone(),
            firmware_version: None,
        },
        reason: BootReasonEnumType::PowerUp,
    }
}

/// Table 198, Reusable State *Booted*: boot, then report the connector Available.
///
/// Tool validation: step 2, BootNotificationResponse.status must be Accepted.
pub async fn booted(station: &mut Station, target: &Target) -> Result<(), CaseError> {
    let boot = station.call(&boot_request(target)).await?;
    ensure!(
        boot.status == RegistrationStatusEnumType::Accepted,
        "BootNotificationResponse.status must be Accepted, was {}",
        boot.status.as_str()
    );
    notify_connector_available(station, target).await
}

/// "The OCTT notifies the CSMS about the current state of all connectors": StatusNotification
/// Available and NotifyEvent Delta Connector.AvailabilityState = "Available"; the CSMS must
/// answer both (with schema-valid CALLRESULTs).
pub async fn notify_connector_available(
    station: &mut Station,
    target: &Target,
) -> Result<(), CaseError> {
    let now = Utc::now();
    station
        .call(&StatusNotificationRequest {
            custom_data: None,
            timestamp: now,
            connector_status: ConnectorStatusEnumType::Available,
            evse_id: target.evse_id,
            connector_id: target.connector_id,
        })
        .await?;
    station
        .call(&NotifyEventRequest {
            custom_data: None,
            generated_at: now,
            tbc: None,
            seq_no: 0,
            event_data: vec![EventDataType {
                custom_data: None,
                event_id: 1,
                timestamp: now,
                trigger: EventTriggerEnumType::Delta,
                cause: None,
                actual_value: "Available".into(),
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
                    name: "Connector".into(),
                    instance: None,
                },
                variable_monitoring_id: None,
                event_notification_type: EventNotificationEnumType::HardWiredNotification,
                variable: VariableType {
                    custom_data: None,
                    name: "AvailabilityState".into(),
                    instance: None,
                },
            }],
        })
        .await?;
    Ok(())
}
