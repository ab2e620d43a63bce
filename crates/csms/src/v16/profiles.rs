//! CSMS-initiated calls of the 1.6 feature profiles beyond Core, translated like
//! [`super::outgoing`]: Local Auth List Management (D), Reservation (H) and Smart Charging (K).
//!
//! | 2.0.1 request | 1.6 request | reading / refused (400) when |
//! |---|---|---|
//! | SendLocalList | SendLocalList | versionNumber → listVersion; idToken → idTag (≤ 20 chars), idTokenInfo → idTagInfo; NotSupported → Failed |
//! | GetLocalListVersion | GetLocalListVersion | listVersion → versionNumber |
//! | ReserveNow | ReserveNow | evseId → connectorId (none → 0); groupIdToken → parentIdTag; refused with a connectorType |
//! | CancelReservation | CancelReservation | same |
//! | SetChargingProfile | SetChargingProfile | ChargingStationMaxProfile ↔ ChargePointMaxProfile; one schedule only; refused for ChargingStationExternalConstraints, a non-integer transactionId, phaseToUse or a sales tariff; NotSupported → Rejected |
//! | ClearChargingProfile | ClearChargingProfile | criteria evseId → connectorId |
//! | GetCompositeSchedule | GetCompositeSchedule | evseId → connectorId; the 1.6 schedule becomes the composite schedule |

use serde_json::Value;
use unicharge_ocpp::v16;
use unicharge_ocpp::v201::{self, Action};

use super::convert::{by_name, id_tag_info};
use super::outgoing::{decode, encode, parse, refuse, to_json, Back, Translated};
use crate::request::OpError;

/// What the translation back needs of the request.
pub enum ProfileBack {
    SendLocalList,
    GetLocalListVersion,
    ReserveNow,
    CancelReservation,
    SetChargingProfile,
    ClearChargingProfile,
    GetCompositeSchedule { evse_id: i64, duration: i64 },
}

/// Translate a request of these profiles; `None` when `action` is not one of them.
pub fn request(action: Action, payload: &Value) -> Option<Result<Translated, OpError>> {
    let translated = match action {
        Action::SendLocalList => send_local_list(action, payload),
        Action::GetLocalListVersion => Ok((
            v16::Action::GetLocalListVersion,
            encode(&v16::GetLocalListVersionRequest {}),
            ProfileBack::GetLocalListVersion,
        )),
        Action::ReserveNow => reserve_now(action, payload),
        Action::CancelReservation => {
            decode::<v201::CancelReservationRequest>(action, payload).map(|r| {
                let req = v16::CancelReservationRequest {
                    reservation_id: r.reservation_id,
                };
                (
                    v16::Action::CancelReservation,
                    encode(&req),
                    ProfileBack::CancelReservation,
                )
            })
        }
        Action::SetChargingProfile => set_charging_profile(action, payload),
        Action::ClearChargingProfile => {
            decode::<v201::ClearChargingProfileRequest>(action, payload).map(|r| {
                let criteria = r.charging_profile_criteria;
                let req = v16::ClearChargingProfileRequest {
                    id: r.charging_profile_id,
                    connector_id: criteria.as_ref().and_then(|c| c.evse_id),
                    charging_profile_purpose: criteria
                        .as_ref()
                        .and_then(|c| c.charging_profile_purpose)
                        .and_then(purpose16),
                    stack_level: criteria.as_ref().and_then(|c| c.stack_level),
                };
                (
                    v16::Action::ClearChargingProfile,
                    encode(&req),
                    ProfileBack::ClearChargingProfile,
                )
            })
        }
        Action::GetCompositeSchedule => {
            decode::<v201::GetCompositeScheduleRequest>(action, payload).map(|r| {
                let req = v16::GetCompositeScheduleRequest {
                    connector_id: r.evse_id,
                    duration: r.duration,
                    charging_rate_unit: r.charging_rate_unit.and_then(|u| {
                        by_name(&v16::ChargingRateUnitType::ALL, u.as_str(), |x| x.as_str())
                    }),
                };
                (
                    v16::Action::GetCompositeSchedule,
                    encode(&req),
                    ProfileBack::GetCompositeSchedule {
                        evse_id: r.evse_id,
                        duration: r.duration,
                    },
                )
            })
        }
        _ => return None,
    };
    Some(translated.and_then(|(action, payload, back)| {
        Ok(Translated {
            action,
            payload: payload?,
            back: Back::Profile(back),
        })
    }))
}

type Parts = (v16::Action, Result<Value, OpError>, ProfileBack);

fn send_local_list(action: Action, payload: &Value) -> Result<Parts, OpError> {
    let r: v201::SendLocalListRequest = decode(action, payload)?;
    let local_authorization_list = r
        .local_authorization_list
        .map(|entries| {
            entries
                .into_iter()
                .map(|e| {
                    if e.id_token.id_token.chars().count() > 20 {
                        return Err(refuse(
                            action,
                            format!(
                                "idToken {:?} is longer than a 1.6 idTag (20)",
                                e.id_token.id_token
                            ),
                        ));
                    }
                    Ok(v16::AuthorizationData {
                        id_tag: e.id_token.id_token,
                        id_tag_info: e.id_token_info.as_ref().map(id_tag_info),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let update_type = match r.update_type {
        v201::UpdateEnumType::Full => v16::UpdateType::Full,
        v201::UpdateEnumType::Differential => v16::UpdateType::Differential,
    };
    let req = v16::SendLocalListRequest {
        list_version: r.version_number,
        local_authorization_list,
        update_type,
    };
    Ok((
        v16::Action::SendLocalList,
        encode(&req),
        ProfileBack::SendLocalList,
    ))
}

fn reserve_now(action: Action, payload: &Value) -> Result<Parts, OpError> {
    let r: v201::ReserveNowRequest = decode(action, payload)?;
    if r.connector_type.is_some() {
        return Err(refuse(
            action,
            "1.6 reserves a connector by number, not by type: give evseId",
        ));
    }
    let too_long = |t: &str| t.chars().count() > 20;
    if too_long(&r.id_token.id_token)
        || r.group_id_token
            .as_ref()
            .is_some_and(|g| too_long(&g.id_token))
    {
        return Err(refuse(
            action,
            "a 1.6 idTag / parentIdTag has at most 20 characters",
        ));
    }
    let req = v16::ReserveNowRequest {
        connector_id: r.evse_id.unwrap_or(0),
        expiry_date: r.expiry_date_time,
        id_tag: r.id_token.id_token,
        parent_id_tag: r.group_id_token.map(|g| g.id_token),
        reservation_id: r.id,
    };
    Ok((
        v16::Action::ReserveNow,
        encode(&req),
        ProfileBack::ReserveNow,
    ))
}

fn set_charging_profile(action: Action, payload: &Value) -> Result<Parts, OpError> {
    let r: v201::SetChargingProfileRequest = decode(action, payload)?;
    let req = v16::SetChargingProfileRequest {
        connector_id: r.evse_id,
        cs_charging_profiles: charging_profile(action, r.charging_profile)?,
    };
    Ok((
        v16::Action::SetChargingProfile,
        encode(&req),
        ProfileBack::SetChargingProfile,
    ))
}

/// A 2.0.1 charging profile as the 1.6 one (SetChargingProfile's csChargingProfiles,
/// RemoteStartTransaction's chargingProfile), or the refusal of what 1.6 cannot carry.
pub(super) fn charging_profile(
    action: Action,
    p: v201::ChargingProfileType,
) -> Result<v16::ChargingProfile, OpError> {
    let purpose = purpose16(p.charging_profile_purpose).ok_or_else(|| {
        refuse(
            action,
            "1.6 has no ChargingStationExternalConstraints profiles",
        )
    })?;
    let mut schedules = p.charging_schedule.into_iter();
    let (Some(schedule), None) = (schedules.next(), schedules.next()) else {
        return Err(refuse(
            action,
            "a 1.6 charging profile has exactly one schedule",
        ));
    };
    if schedule.sales_tariff.is_some() {
        return Err(refuse(action, "1.6 has no sales tariffs"));
    }
    if schedule
        .charging_schedule_period
        .iter()
        .any(|s| s.phase_to_use.is_some())
    {
        return Err(refuse(action, "1.6 has no phaseToUse"));
    }
    let transaction_id = match p.transaction_id {
        Some(id) => Some(id.parse::<i64>().map_err(|_| {
            refuse(
                action,
                format!("transaction {id:?} is not a 1.6 transaction id (an integer)"),
            )
        })?),
        None => None,
    };
    let kind = by_name(
        &v16::ChargingProfileKindType::ALL,
        p.charging_profile_kind.as_str(),
        |x| x.as_str(),
    )
    .ok_or_else(|| refuse(action, "unknown profile kind"))?;
    let unit = by_name(
        &v16::ChargingRateUnitType::ALL,
        schedule.charging_rate_unit.as_str(),
        |x| x.as_str(),
    )
    .ok_or_else(|| refuse(action, "unknown charging rate unit"))?;
    Ok(v16::ChargingProfile {
        charging_profile_id: p.id,
        transaction_id,
        stack_level: p.stack_level,
        charging_profile_purpose: purpose,
        charging_profile_kind: kind,
        recurrency_kind: p
            .recurrency_kind
            .and_then(|k| by_name(&v16::RecurrencyKindType::ALL, k.as_str(), |x| x.as_str())),
        valid_from: p.valid_from,
        valid_to: p.valid_to,
        charging_schedule: v16::ChargingSchedule {
            duration: schedule.duration,
            start_schedule: schedule.start_schedule,
            charging_rate_unit: unit,
            charging_schedule_period: schedule
                .charging_schedule_period
                .into_iter()
                .map(|s| v16::ChargingSchedulePeriod {
                    start_period: s.start_period,
                    limit: s.limit,
                    number_phases: s.number_phases,
                })
                .collect(),
            min_charging_rate: schedule.min_charging_rate,
        },
    })
}

/// The 1.6 purpose of a 2.0.1 one (`None`: ChargingStationExternalConstraints, which 1.6 lacks).
fn purpose16(p: v201::ChargingProfilePurposeEnumType) -> Option<v16::ChargingProfilePurposeType> {
    use v201::ChargingProfilePurposeEnumType as P;
    match p {
        P::ChargingStationMaxProfile => {
            Some(v16::ChargingProfilePurposeType::ChargePointMaxProfile)
        }
        P::TxDefaultProfile => Some(v16::ChargingProfilePurposeType::TxDefaultProfile),
        P::TxProfile => Some(v16::ChargingProfilePurposeType::TxProfile),
        P::ChargingStationExternalConstraints => None,
    }
}

/// The 1.6 confirmation as the 2.0.1 response.
pub fn answer(back: &ProfileBack, answer: Value) -> Result<Value, String> {
    match back {
        ProfileBack::SendLocalList => {
            let a: v16::SendLocalListResponse = parse(answer)?;
            let status = match a.status {
                v16::UpdateStatus::Accepted => v201::SendLocalListStatusEnumType::Accepted,
                v16::UpdateStatus::VersionMismatch => {
                    v201::SendLocalListStatusEnumType::VersionMismatch
                }
                v16::UpdateStatus::Failed | v16::UpdateStatus::NotSupported => {
                    v201::SendLocalListStatusEnumType::Failed
                }
            };
            to_json(&v201::SendLocalListResponse {
                custom_data: None,
                status,
                status_info: None,
            })
        }
        ProfileBack::GetLocalListVersion => {
            let a: v16::GetLocalListVersionResponse = parse(answer)?;
            to_json(&v201::GetLocalListVersionResponse {
                custom_data: None,
                version_number: a.list_version,
            })
        }
        ProfileBack::ReserveNow => {
            let a: v16::ReserveNowResponse = parse(answer)?;
            let status = by_name(
                &v201::ReserveNowStatusEnumType::ALL,
                a.status.as_str(),
                |x| x.as_str(),
            )
            .unwrap_or(v201::ReserveNowStatusEnumType::Rejected);
            to_json(&v201::ReserveNowResponse {
                custom_data: None,
                status,
                status_info: None,
            })
        }
        ProfileBack::CancelReservation => {
            let a: v16::CancelReservationResponse = parse(answer)?;
            let status = match a.status {
                v16::CancelReservationStatus::Accepted => {
                    v201::CancelReservationStatusEnumType::Accepted
                }
                v16::CancelReservationStatus::Rejected => {
                    v201::CancelReservationStatusEnumType::Rejected
                }
            };
            to_json(&v201::CancelReservationResponse {
                custom_data: None,
                status,
                status_info: None,
            })
        }
        ProfileBack::SetChargingProfile => {
            let a: v16::SetChargingProfileResponse = parse(answer)?;
            let status = match a.status {
                v16::ChargingProfileStatus::Accepted => {
                    v201::ChargingProfileStatusEnumType::Accepted
                }
                v16::ChargingProfileStatus::Rejected | v16::ChargingProfileStatus::NotSupported => {
                    v201::ChargingProfileStatusEnumType::Rejected
                }
            };
            to_json(&v201::SetChargingProfileResponse {
                custom_data: None,
                status,
                status_info: None,
            })
        }
        ProfileBack::ClearChargingProfile => {
            let a: v16::ClearChargingProfileResponse = parse(answer)?;
            let status = match a.status {
                v16::ClearChargingProfileStatus::Accepted => {
                    v201::ClearChargingProfileStatusEnumType::Accepted
                }
                v16::ClearChargingProfileStatus::Unknown => {
                    v201::ClearChargingProfileStatusEnumType::Unknown
                }
            };
            to_json(&v201::ClearChargingProfileResponse {
                custom_data: None,
                status,
                status_info: None,
            })
        }
        ProfileBack::GetCompositeSchedule { evse_id, duration } => {
            let a: v16::GetCompositeScheduleResponse = parse(answer)?;
            let accepted = a.status == v16::GetCompositeScheduleStatus::Accepted;
            let schedule = match (accepted, a.charging_schedule) {
                (true, Some(s)) => Some(v201::CompositeScheduleType {
                    custom_data: None,
                    evse_id: a.connector_id.unwrap_or(*evse_id),
                    duration: s.duration.unwrap_or(*duration),
                    schedule_start: a
                        .schedule_start
                        .or(s.start_schedule)
                        .unwrap_or_else(chrono::Utc::now),
                    charging_rate_unit: by_name(
                        &v201::ChargingRateUnitEnumType::ALL,
                        s.charging_rate_unit.as_str(),
                        |x| x.as_str(),
                    )
                    .ok_or("unknown charging rate unit")?,
                    charging_schedule_period: s
                        .charging_schedule_period
                        .into_iter()
                        .map(|p| v201::ChargingSchedulePeriodType {
                            custom_data: None,
                            start_period: p.start_period,
                            limit: p.limit,
                            number_phases: p.number_phases,
                            phase_to_use: None,
                        })
                        .collect(),
                }),
                _ => None,
            };
            to_json(&v201::GetCompositeScheduleResponse {
                custom_data: None,
                status: if accepted {
                    v201::GenericStatusEnumType::Accepted
                } else {
                    v201::GenericStatusEnumType::Rejected
                },
                status_info: None,
                schedule,
            })
        }
    }
}
