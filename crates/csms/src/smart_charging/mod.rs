//! Functional block K, Smart Charging, CSMS side, both directions.
//!
//! What the CSMS starts (each a typed operation the REST API, the CLI and automation call):
//! K01 [`set_charging_profile`] (checked by [`validation`] before it is sent), K10
//! [`clear_charging_profile`] (by id or by criteria), K09 [`get_charging_profiles`] (the
//! ReportChargingProfiles parts are assembled under the CSMS-allocated requestId by
//! [`report_charging_profiles`]), K08 [`get_composite_schedule`] (answer stored). K05, a
//! TxProfile in RequestStartTransaction, is checked here ([`check_start_profile`]) and stored
//! by [`crate::remote_control::request_start`].
//!
//! What stations send: K09 ReportChargingProfiles ([`report_charging_profiles`]), K12
//! NotifyChargingLimit and K13 ClearedChargingLimit ([`charging_limits`]: external limits kept
//! per EVSE with their source). A TransactionEvent with triggerReason ChargingRateChanged (K13)
//! is kept with its transaction like every event.
//!
//! Site load management ([`site`]): groups of stations sharing one limit, enforced with
//! TxProfiles as transactions start and end.
//!
//! The CSMS keeps every profile it sent, per station and EVSE, with what the station answered,
//! so it always knows what the station holds ([`unicharge_store::ChargingProfileRecord`]).

pub mod charging_limits;
pub mod composite;
pub mod iso15118;
pub mod report_charging_profiles;
pub mod site;
pub mod validation;

use chrono::Utc;
use serde_json::json;
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    ChargingProfileCriterionType, ChargingProfilePurposeEnumType, ChargingProfileStatusEnumType,
    ChargingProfileType, ChargingRateUnitEnumType, ClearChargingProfileRequest,
    ClearChargingProfileResponse, ClearChargingProfileStatusEnumType, ClearChargingProfileType,
    GetChargingProfilesRequest, GetCompositeScheduleRequest, GetCompositeScheduleResponse,
    SetChargingProfileRequest, SetChargingProfileResponse,
};
use unicharge_store::{ChargingProfileRecord, ChargingProfileReport, CompositeScheduleRecord};

use crate::request::{check_request, OpError, Requester};
use crate::station_turn::{self, Work};
use crate::Csms;
use validation::{Broken, StationLimits, StationView};

/// What the CSMS knows of the station's smart-charging state: limits, held profiles, ongoing
/// transactions.
pub async fn station_view(csms: &Csms, station: &StationId) -> Result<StationView, OpError> {
    let store = csms.store();
    let limits = StationLimits::from_device_model(&store.device_model(station).await?);
    let profiles = store.charging_profiles(station).await?;
    let ongoing = crate::transactions::ongoing(store.as_ref(), station)
        .await?
        .into_iter()
        .map(|t| (t.transaction_id, t.evse_id))
        .collect();
    Ok(StationView {
        limits,
        profiles,
        ongoing,
    })
}

/// A broken rule as the operation's error: the rule's id is the error code, the requirement
/// and the rule are in the detail.
fn refused(broken: Broken) -> OpError {
    let detail = json!({ "rule": broken.rule, "requirement": broken.requirement });
    OpError::refused(broken.rule, broken.message).with_detail(detail)
}

/// What to set (K01).
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRequest {
    /// 0: the whole station.
    pub evse_id: i64,
    pub profile: ChargingProfileType,
    /// Send a TxProfile although no transaction is ongoing on the EVSE (the station will
    /// normally reject it; TC_K_02 reads that answer).
    pub allow_without_transaction: bool,
}

fn record(
    station: &StationId,
    evse_id: i64,
    profile: &ChargingProfileType,
) -> Result<ChargingProfileRecord, OpError> {
    Ok(ChargingProfileRecord {
        station_id: station.clone(),
        profile_id: profile.id,
        evse_id,
        stack_level: profile.stack_level,
        purpose: profile.charging_profile_purpose.as_str().to_string(),
        kind: profile.charging_profile_kind.as_str().to_string(),
        valid_from: profile.valid_from,
        valid_to: profile.valid_to,
        transaction_id: profile.transaction_id.clone(),
        profile: serde_json::to_string(profile).map_err(|e| OpError::Store(e.to_string()))?,
        status: "Requested".into(),
        status_info: None,
        sent_at: Utc::now(),
        answered_at: None,
        cleared_at: None,
    })
}

/// K01: check the profile against the rules and what the station holds, keep it, send it and
/// keep the station's answer. A profile that breaks a rule is not sent
/// ([`OpError::Refused`] with the rule's id as code).
pub async fn set_charging_profile(
    csms: &Csms,
    station: &StationId,
    request: ProfileRequest,
    by: &Requester,
) -> Result<SetChargingProfileResponse, OpError> {
    csms.registered(station).await?;
    let view = station_view(csms, station).await?;
    validation::check(
        request.evse_id,
        &request.profile,
        &view,
        request.allow_without_transaction,
    )
    .map_err(refused)?;
    let call = SetChargingProfileRequest {
        custom_data: None,
        evse_id: request.evse_id,
        charging_profile: request.profile,
    };
    let payload = serde_json::to_value(&call).map_err(|e| OpError::Store(e.to_string()))?;
    check_request("SetChargingProfile", &payload)?;
    if !csms.is_connected(station) {
        return Err(OpError::NotConnected(station.clone()));
    }
    let store = csms.store();
    store
        .put_charging_profile(&record(station, call.evse_id, &call.charging_profile)?)
        .await?;
    let id = call.charging_profile.id;
    match csms.request(station, &call, by).await {
        Ok(response) => {
            let info = response
                .status_info
                .as_ref()
                .map(|i| serde_json::to_string(i).unwrap_or_default());
            store
                .set_charging_profile_status(station, id, response.status.as_str(), info.as_deref())
                .await?;
            if response.status == ChargingProfileStatusEnumType::Accepted {
                tracing::info!(%station, profile_id = id, evse_id = call.evse_id,
                    purpose = call.charging_profile.charging_profile_purpose.as_str(),
                    "charging profile accepted");
            }
            Ok(response)
        }
        Err(e) => {
            store
                .set_charging_profile_status(station, id, e.label(), None)
                .await?;
            Err(e)
        }
    }
}

/// K05: the TxProfile of a RequestStartTransaction: purpose TxProfile, no transactionId (the
/// transaction does not exist yet), and the rules of K01 for the EVSE it starts on.
pub async fn check_start_profile(
    csms: &Csms,
    station: &StationId,
    evse_id: Option<i64>,
    profile: &ChargingProfileType,
) -> Result<(), OpError> {
    if profile.charging_profile_purpose != ChargingProfilePurposeEnumType::TxProfile {
        return Err(refused(Broken {
            rule: "start_profile_not_tx_profile",
            requirement: "F01.FR.08",
            message: format!(
                "the chargingProfile of a remote start must be a TxProfile, not {}",
                profile.charging_profile_purpose.as_str()
            ),
        }));
    }
    if profile.transaction_id.is_some() {
        return Err(refused(Broken {
            rule: "start_profile_with_transaction_id",
            requirement: "F01.FR.09",
            message: "the TxProfile of a remote start has no transactionId: the transaction \
                      does not exist yet"
                .into(),
        }));
    }
    let view = station_view(csms, station).await?;
    // The transaction starts with it: no ongoing transaction needed.
    validation::check(evse_id.unwrap_or(1).max(1), profile, &view, true).map_err(refused)
}

/// K05: keep the TxProfile of a remote start the station accepted.
pub async fn keep_start_profile(
    csms: &Csms,
    station: &StationId,
    evse_id: Option<i64>,
    profile: &ChargingProfileType,
    transaction_id: Option<&str>,
) -> Result<(), OpError> {
    let mut record = record(station, evse_id.unwrap_or(0), profile)?;
    record.status = "Accepted".into();
    record.answered_at = Some(Utc::now());
    record.transaction_id = transaction_id.map(str::to_string);
    csms.store().put_charging_profile(&record).await?;
    Ok(())
}

/// What to clear (K10).
#[derive(Debug, Clone, PartialEq)]
pub enum ClearRequest {
    /// One profile by its id.
    Id(i64),
    /// Every profile that matches all given criteria.
    Criteria {
        evse_id: Option<i64>,
        purpose: Option<ChargingProfilePurposeEnumType>,
        stack_level: Option<i64>,
    },
}

/// K10: clear profiles. When the station accepts, the stored profiles that match are marked
/// cleared.
pub async fn clear_charging_profile(
    csms: &Csms,
    station: &StationId,
    what: ClearRequest,
    by: &Requester,
) -> Result<ClearChargingProfileResponse, OpError> {
    csms.registered(station).await?;
    let request = match &what {
        ClearRequest::Id(id) => ClearChargingProfileRequest {
            custom_data: None,
            charging_profile_id: Some(*id),
            charging_profile_criteria: None,
        },
        ClearRequest::Criteria {
            evse_id,
            purpose,
            stack_level,
        } => {
            if *purpose == Some(ChargingProfilePurposeEnumType::ChargingStationExternalConstraints)
            {
                return Err(refused(Broken {
                    rule: "external_constraints_not_clearable",
                    requirement: "K10",
                    message: "ChargingStationExternalConstraints profiles are the external \
                              system's; a CSMS does not clear them"
                        .into(),
                }));
            }
            ClearChargingProfileRequest {
                custom_data: None,
                charging_profile_id: None,
                charging_profile_criteria: Some(ClearChargingProfileType {
                    custom_data: None,
                    evse_id: *evse_id,
                    charging_profile_purpose: *purpose,
                    stack_level: *stack_level,
                }),
            }
        }
    };
    let response = csms.request(station, &request, by).await?;
    if response.status == ClearChargingProfileStatusEnumType::Accepted {
        let store = csms.store();
        let ids: Vec<i64> = store
            .charging_profiles(station)
            .await?
            .into_iter()
            .filter(|p| matches(p, &what))
            .map(|p| p.profile_id)
            .collect();
        store
            .clear_charging_profiles(station, &ids, Utc::now())
            .await?;
    }
    Ok(response)
}

fn matches(p: &ChargingProfileRecord, what: &ClearRequest) -> bool {
    match what {
        ClearRequest::Id(id) => p.profile_id == *id,
        ClearRequest::Criteria {
            evse_id,
            purpose,
            stack_level,
        } => {
            evse_id.is_none_or(|e| e == p.evse_id)
                && purpose.is_none_or(|u| u.as_str() == p.purpose)
                && stack_level.is_none_or(|s| s == p.stack_level)
        }
    }
}

/// The requestId a GetChargingProfiles report is assembled under, and the station's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfilesRequested {
    pub request_id: i64,
    /// `Accepted` or `NoProfiles`.
    pub status: String,
}

/// K09: ask the station which profiles it holds. The request is kept before it leaves (the
/// report parts may overtake the answer).
pub async fn get_charging_profiles(
    csms: &Csms,
    station: &StationId,
    evse_id: Option<i64>,
    criterion: ChargingProfileCriterionType,
    by: &Requester,
) -> Result<ProfilesRequested, OpError> {
    csms.registered(station).await?;
    let store = csms.store();
    // The id is picked and recorded under the station's turn (two requests never share it).
    let ids = station_turn::take(csms, Work::RequestId, station).await?;
    let request_id = store.next_charging_profile_request_id(station).await?;
    let request = GetChargingProfilesRequest {
        custom_data: None,
        request_id,
        evse_id,
        charging_profile: criterion,
    };
    let payload = serde_json::to_value(&request).map_err(|e| OpError::Store(e.to_string()))?;
    check_request("GetChargingProfiles", &payload)?;
    if !csms.is_connected(station) {
        return Err(OpError::NotConnected(station.clone()));
    }
    store
        .create_charging_profile_report(&ChargingProfileReport {
            station_id: station.clone(),
            request_id,
            request: payload.to_string(),
            status: None,
            complete: false,
            requested_at: Utc::now(),
        })
        .await?;
    drop(ids);
    let response = csms.request(station, &request, by).await?;
    let status = response.status.as_str().to_string();
    store
        .set_charging_profile_report_status(station, request_id, &status)
        .await?;
    if status == "NoProfiles" {
        report_charging_profiles::reconcile(csms, station, request_id).await?;
    }
    Ok(ProfilesRequested { request_id, status })
}

/// K08: ask the station for its composite schedule; the answer is kept.
pub async fn get_composite_schedule(
    csms: &Csms,
    station: &StationId,
    evse_id: i64,
    duration: i64,
    charging_rate_unit: Option<ChargingRateUnitEnumType>,
    by: &Requester,
) -> Result<(i64, GetCompositeScheduleResponse), OpError> {
    csms.registered(station).await?;
    if duration <= 0 {
        return Err(OpError::refused(
            "duration_not_positive",
            format!("duration {duration}: ask for a schedule of at least one second"),
        ));
    }
    let request = GetCompositeScheduleRequest {
        custom_data: None,
        duration,
        charging_rate_unit,
        evse_id,
    };
    let response = csms.request(station, &request, by).await?;
    let id = csms
        .store()
        .add_composite_schedule(&CompositeScheduleRecord {
            id: 0,
            station_id: station.clone(),
            evse_id,
            duration,
            charging_rate_unit: charging_rate_unit.map(|u| u.as_str().to_string()),
            status: response.status.as_str().to_string(),
            status_info: response
                .status_info
                .as_ref()
                .map(|i| serde_json::to_string(i).unwrap_or_default()),
            schedule: response
                .schedule
                .as_ref()
                .map(|s| serde_json::to_string(s).unwrap_or_default()),
            requested_at: Utc::now(),
        })
        .await?;
    Ok((id, response))
}
