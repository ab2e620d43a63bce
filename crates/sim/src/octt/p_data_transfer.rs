//! Block P, DataTransfer: TC_P_02 and TC_P_03 as the OCTT plays them.
//!
//! Readings taken:
//!
//! * Both cases list no reusable state; the station boots first (Reusable State *Booted*), as
//!   every OCTT session does, so the CSMS answers rather than refusing an unbooted station.
//! * TC_P_02: <Configured vendorId> and <Configured messageId> are [`DataTransferConfig::octt`]'s;
//!   the status must be UnknownVendorId, UnknownMessageId or Rejected (the table allows all
//!   three). A CALLERROR fails the case: the message was valid.
//! * TC_P_03 has no tool validations: the CSMS must answer both messages schema-valid and without
//!   a CALLERROR, although they carry `customData` with vendor properties of their own.

use serde_json::json;
use unicharge_ocpp::v201::{
    ChargingStateEnumType, ConnectorStatusEnumType, CustomDataType, DataTransferRequest,
    DataTransferStatusEnumType, StatusNotificationRequest, TriggerReasonEnumType,
};

use super::states::{self, Session};
use super::{CaseError, ScenarioFuture, Target};
use crate::ensure;

/// The OCTT's DataTransfer configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct DataTransferConfig {
    /// <Configured vendorId>.
    pub vendor_id: String,
    /// <Configured messageId>.
    pub message_id: String,
    /// The vendorId of the `customData` TC_P_03 sends.
    pub custom_data_vendor_id: String,
}

impl DataTransferConfig {
    pub fn octt() -> Self {
        DataTransferConfig {
            vendor_id: "org.openchargealliance.octt".into(),
            message_id: "TestMessage".into(),
            custom_data_vendor_id: "org.openchargealliance.octt".into(),
        }
    }
}

pub(crate) fn scenario<'a>(id: &str, target: &'a Target) -> Option<ScenarioFuture<'a>> {
    let cfg = DataTransferConfig::octt();
    Some(match id {
        "TC_P_02_CSMS" => Box::pin(tc_p_02(target, cfg)),
        "TC_P_03_CSMS" => Box::pin(tc_p_03(target, cfg)),
        _ => return None,
    })
}

/// TC_P_02_CSMS Data Transfer to the CSMS - Rejected / Unknown VendorId / Unknown MessageId.
pub async fn tc_p_02(target: &Target, cfg: DataTransferConfig) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    let answer = station
        .call(&DataTransferRequest {
            custom_data: None,
            message_id: Some(cfg.message_id.clone()),
            data: Some(json!({"octt": "data"})),
            vendor_id: cfg.vendor_id.clone(),
        })
        .await
        .map_err(|e| CaseError::from(e).at_step(2))?;
    ensure!(
        matches!(
            answer.status,
            DataTransferStatusEnumType::UnknownVendorId
                | DataTransferStatusEnumType::UnknownMessageId
                | DataTransferStatusEnumType::Rejected
        ),
        "step 2: DataTransferResponse.status must be UnknownVendorId, UnknownMessageId or \
         Rejected, was {}",
        answer.status.as_str()
    );
    station.close().await;
    Ok(())
}

fn custom_data(cfg: &DataTransferConfig, what: &str) -> CustomDataType {
    let mut extra = serde_json::Map::new();
    extra.insert("octtProperty".into(), json!(what));
    extra.insert("octtNumber".into(), json!(42));
    CustomDataType {
        vendor_id: cfg.custom_data_vendor_id.clone(),
        extra,
    }
}

/// TC_P_03_CSMS Able to receive custom data.
pub async fn tc_p_03(target: &Target, cfg: DataTransferConfig) -> Result<(), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    station
        .call(&StatusNotificationRequest {
            custom_data: Some(custom_data(&cfg, "status")),
            timestamp: chrono::Utc::now(),
            connector_status: ConnectorStatusEnumType::Occupied,
            evse_id: target.evse_id,
            connector_id: target.connector_id,
        })
        .await
        .map_err(|e| CaseError::from(e).at_step(2))?;
    let mut session = Session::new(target);
    let mut event = session.next_event(
        TriggerReasonEnumType::CablePluggedIn,
        Some(ChargingStateEnumType::EvConnected),
    );
    event.custom_data = Some(custom_data(&cfg, "transaction event"));
    event.transaction_info.custom_data = Some(custom_data(&cfg, "transaction info"));
    station
        .call(&event)
        .await
        .map_err(|e| CaseError::from(e).at_step(4))?;
    station.close().await;
    Ok(())
}
