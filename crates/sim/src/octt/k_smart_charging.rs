//! Block K, Smart Charging: TC_K_01–TC_K_70 as the OCTT plays them.
//!
//! The operator makes the CSMS act ([`OperatorAction::SetChargingProfile`],
//! [`OperatorAction::ClearChargingProfile`], [`OperatorAction::GetChargingProfiles`],
//! [`OperatorAction::GetCompositeSchedule`], a remote start with a TxProfile); the station
//! answers as the table says and checks the table's tool validations. The configured values
//! (`<Configured chargingProfileId>`, `stackLevel`, `chargingRateUnit`, …) are those of
//! [`SmartChargingConfig::octt`].
//!
//! Readings taken:
//!
//! * Every scenario boots first (Reusable State *Booted*); the operator's profile is built
//!   from the configuration as the table describes it, and the CSMS must pass it to the
//!   station as asked: the SetChargingProfileRequest's `chargingProfile` must equal it (after
//!   which the table's own validations are checked one by one).
//! * "validFrom now", "startSchedule now": within [`NOW_TOLERANCE`] of the moment the operator
//!   asked; "validTo now + <Configured Charging Schedule Duration>" likewise.
//! * "limit 6.0 or 6000.0": 6 A, or 6000 W when the configured unit is W.
//! * TC_K_02's prerequisite ("the CSMS supports sending a TxProfile while no transaction is
//!   ongoing") is met by an operator who asks for exactly that
//!   (`allow_without_transaction`); a CSMS may refuse such a profile otherwise.
//! * TC_K_05's memory state: the station reports one TxDefaultProfile with a generated id
//!   (not the configured one) on the configured EVSE, and the operator clears that id.
//! * TC_K_31 (no evseId): one ReportChargingProfilesRequest per EVSE (the station-wide 0 and
//!   the configured EVSE); all but the last with `tbc` true — a report whose every part says
//!   "to be continued" would never end.
//! * TC_K_43/44: the composite schedule answered is the table's (duration 300, one period at
//!   0 with limit 10, ×1000 in W); the operator's report must show it.
//! * TC_K_48/50/51 have no tool validations: the CSMS must answer the station's messages
//!   (schema-valid, no CALLERROR); what it kept is for the caller to check.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    ChargingLimitSourceEnumType, ChargingLimitType, ChargingProfileStatusEnumType,
    ChargingProfileType, ChargingRateUnitEnumType, ClearChargingProfileRequest,
    ClearChargingProfileResponse, ClearChargingProfileStatusEnumType, ClearedChargingLimitRequest,
    CompositeScheduleType, GenericStatusEnumType, GetChargingProfileStatusEnumType,
    GetChargingProfilesRequest, GetChargingProfilesResponse, GetCompositeScheduleRequest,
    GetCompositeScheduleResponse, NotifyChargingLimitRequest, ReportChargingProfilesRequest,
    RequestStartStopStatusEnumType, RequestStartTransactionRequest,
    RequestStartTransactionResponse, SetChargingProfileRequest, SetChargingProfileResponse,
    TriggerReasonEnumType,
};
use unicharge_ocpp::{ErrorCode, Frame};

use super::operator::{Operator, OperatorAction};
use super::states::{self, Session};
use super::{reports_field, with_operator, CaseError, OperatorTask, ScenarioFuture, Target};
use crate::ensure;
use crate::station::Station;

/// How far a "now" in a request may be from the moment the operator asked.
pub const NOW_TOLERANCE: Duration = Duration::from_secs(60);

/// The OCTT's smart-charging configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SmartChargingConfig {
    /// <Configured chargingProfileId>.
    pub charging_profile_id: i64,
    /// <Configured stackLevel> (and stackLevel1); <Configured stackLevel2>.
    pub stack_level: i64,
    pub stack_level2: i64,
    /// <Configured chargingRateUnit>.
    pub charging_rate_unit: ChargingRateUnitEnumType,
    /// <Configured duration> of a charging schedule, in seconds.
    pub duration: i64,
    /// <Configured Charging Schedule Duration>: validTo = validFrom + this, in seconds.
    pub schedule_validity: i64,
    /// <Configured startPeriod>.
    pub start_period: i64,
    /// <Configured numberPhases>.
    pub number_phases: i64,
    /// <Configured recurrencyKind>: `Daily` or `Weekly`.
    pub recurrency_kind: String,
    /// <Configured chargingProfilePurpose> of the GetChargingProfiles cases.
    pub charging_profile_purpose: String,
    /// <Configured chargingLimitSource>.
    pub charging_limit_source: ChargingLimitSourceEnumType,
}

impl SmartChargingConfig {
    pub fn octt() -> Self {
        SmartChargingConfig {
            charging_profile_id: 100,
            stack_level: 0,
            stack_level2: 1,
            charging_rate_unit: ChargingRateUnitEnumType::A,
            duration: 300,
            schedule_validity: 3600,
            start_period: 0,
            number_phases: 3,
            recurrency_kind: "Daily".into(),
            charging_profile_purpose: "TxDefaultProfile".into(),
            charging_limit_source: ChargingLimitSourceEnumType::Cso,
        }
    }

    /// `amps` A, or `amps` × 1000 W, in the configured unit.
    pub fn limit(&self, amps: i64) -> Decimal {
        match self.charging_rate_unit {
            ChargingRateUnitEnumType::A => Decimal::from(amps),
            ChargingRateUnitEnumType::W => Decimal::from(amps * 1000),
        }
    }

    /// [`SmartChargingConfig::limit`] as a JSON number.
    pub fn limit_number(&self, amps: i64) -> f64 {
        self.limit(amps).to_f64().unwrap_or_default()
    }

    /// A profile as the tables describe it: one schedule of one period at <Configured
    /// startPeriod> with `amps` (in the configured unit); Absolute and Recurring profiles
    /// valid from `now` for the configured validity and starting `now`.
    pub fn profile(
        &self,
        id: i64,
        stack_level: i64,
        purpose: &str,
        kind: &str,
        amps: i64,
        now: DateTime<Utc>,
    ) -> Value {
        let mut period =
            json!({"startPeriod": self.start_period, "limit": self.limit_number(amps)});
        if self.number_phases != 3 {
            period["numberPhases"] = json!(self.number_phases);
        }
        let mut schedule = json!({
            "id": 1,
            "chargingRateUnit": self.charging_rate_unit.as_str(),
            "duration": self.duration,
            "chargingSchedulePeriod": [period],
        });
        let mut profile = json!({
            "id": id,
            "stackLevel": stack_level,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": kind,
        });
        if kind != "Relative" {
            let now = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let to = (now_parse(&now) + chrono::Duration::seconds(self.schedule_validity))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            schedule["startSchedule"] = json!(now);
            profile["validFrom"] = json!(now);
            profile["validTo"] = json!(to);
        }
        if kind == "Recurring" {
            profile["recurrencyKind"] = json!(self.recurrency_kind);
        }
        profile["chargingSchedule"] = json!([schedule]);
        profile
    }
}

fn now_parse(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now())
}

pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    let cfg = SmartChargingConfig::octt();
    Some(match id {
        "TC_K_01_CSMS" => with_operator(op, move |op| tc_k_01(target, op, cfg)),
        "TC_K_02_CSMS" => with_operator(op, move |op| tc_k_02(target, op, cfg)),
        "TC_K_03_CSMS" => with_operator(op, move |op| tc_k_03(target, op, cfg)),
        "TC_K_04_CSMS" => with_operator(op, move |op| tc_k_04(target, op, cfg)),
        "TC_K_05_CSMS" => with_operator(op, move |op| tc_k_05(target, op, cfg)),
        "TC_K_06_CSMS" => with_operator(op, move |op| tc_k_06(target, op, cfg)),
        "TC_K_08_CSMS" => with_operator(op, move |op| tc_k_08(target, op, cfg)),
        "TC_K_10_CSMS" => with_operator(op, move |op| tc_k_10(target, op, cfg)),
        "TC_K_15_CSMS" => with_operator(op, move |op| tc_k_15(target, op, cfg)),
        "TC_K_19_CSMS" => with_operator(op, move |op| tc_k_19(target, op, cfg)),
        "TC_K_29_CSMS" => with_operator(op, move |op| tc_k_29(target, op, cfg)),
        "TC_K_30_CSMS" => with_operator(op, move |op| tc_k_30(target, op, cfg)),
        "TC_K_31_CSMS" => with_operator(op, move |op| tc_k_31(target, op, cfg)),
        "TC_K_32_CSMS" => with_operator(op, move |op| tc_k_32(target, op, cfg)),
        "TC_K_33_CSMS" => with_operator(op, move |op| tc_k_33(target, op, cfg)),
        "TC_K_34_CSMS" => with_operator(op, move |op| tc_k_34(target, op, cfg)),
        "TC_K_35_CSMS" => with_operator(op, move |op| tc_k_35(target, op, cfg)),
        "TC_K_36_CSMS" => with_operator(op, move |op| tc_k_36(target, op, cfg)),
        "TC_K_37_CSMS" => with_operator(op, move |op| tc_k_37(target, op, cfg)),
        "TC_K_43_CSMS" => with_operator(op, move |op| tc_k_43(target, op, cfg)),
        "TC_K_44_CSMS" => with_operator(op, move |op| tc_k_44(target, op, cfg)),
        "TC_K_48_CSMS" => Box::pin(tc_k_48(target)),
        "TC_K_50_CSMS" => Box::pin(tc_k_50(target)),
        "TC_K_51_CSMS" => Box::pin(tc_k_51(target)),
        "TC_K_52_CSMS" => with_operator(op, move |op| tc_k_52(target, op, cfg)),
        "TC_K_60_CSMS" => with_operator(op, move |op| tc_k_60(target, op, cfg)),
        "TC_K_70_CSMS" => with_operator(op, move |op| tc_k_70(target, op, cfg)),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// K01 Set charging profile
// ---------------------------------------------------------------------------------------------

/// How the station answers a SetChargingProfileRequest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProfileAnswer {
    Status(ChargingProfileStatusEnumType),
    /// RPC Framework CALLERROR NotSupported (TC_K_15).
    NotSupported,
}

/// The operator has the CSMS set `profile` on `evse_id`; the station answers `answer`. The
/// request must carry `evse_id` and exactly the profile asked for; the operator must be told
/// the station's answer (for a CALLERROR: an error naming it). Returns the request.
pub async fn set_profile(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    evse_id: i64,
    profile: Value,
    allow_without_transaction: bool,
    answer: ProfileAnswer,
) -> Result<SetChargingProfileRequest, CaseError> {
    let mut task = OperatorTask::start(
        operator,
        target,
        OperatorAction::SetChargingProfile {
            evse_id,
            charging_profile: profile.clone(),
            allow_without_transaction,
        },
        "have the CSMS send SetChargingProfileRequest",
    );
    let (id, request) = task
        .expect_call::<SetChargingProfileRequest>(station)
        .await?;
    match answer {
        ProfileAnswer::Status(status) => {
            station
                .respond::<SetChargingProfileRequest>(
                    &id,
                    &SetChargingProfileResponse {
                        custom_data: None,
                        status,
                        status_info: None,
                    },
                )
                .await?;
        }
        ProfileAnswer::NotSupported => {
            let frame = Frame::call_error(
                &id,
                ErrorCode::NotSupported,
                "smart charging is not supported",
            );
            station.send_text(&frame.to_text()).await?;
        }
    }
    ensure!(
        request.evse_id == evse_id,
        "SetChargingProfileRequest.evseId must be {evse_id}, was {}",
        request.evse_id
    );
    let sent = serde_json::to_value(&request.charging_profile)
        .map_err(|e| CaseError::Fail(e.to_string()))?;
    let asked: ChargingProfileType =
        serde_json::from_value(profile).map_err(|e| CaseError::Fail(e.to_string()))?;
    ensure!(
        request.charging_profile == asked,
        "SetChargingProfileRequest.chargingProfile must be the profile asked for; sent {sent}"
    );
    match answer {
        ProfileAnswer::Status(status) => {
            let report = task.finish(target.timeout).await?;
            ensure!(
                reports_field(&report, "status", status.as_str()),
                "the operator was not told the station's answer {}: {report}",
                status.as_str()
            );
        }
        ProfileAnswer::NotSupported => match task.finish(target.timeout).await {
            Err(CaseError::Fail(message)) => ensure!(
                message.contains("NotSupported"),
                "the operator's error must name the station's CALLERROR NotSupported: {message}"
            ),
            Err(other) => return Err(other),
            Ok(report) => {
                return Err(CaseError::Fail(format!(
                    "the operator was told success although the station answered CALLERROR \
                     NotSupported: {report}"
                )))
            }
        },
    }
    Ok(request)
}

/// The table validations of a set profile: purpose, kind, stack level, unit, duration, first
/// period's startPeriod and limit, numberPhases (omitted allowed when 3).
#[allow(clippy::too_many_arguments)]
fn check_profile(
    request: &SetChargingProfileRequest,
    cfg: &SmartChargingConfig,
    purpose: &str,
    kinds: &[&str],
    stack_level: i64,
    start_period: i64,
    amps: i64,
    with_duration: bool,
) -> Result<(), CaseError> {
    let p = &request.charging_profile;
    ensure!(
        p.charging_profile_purpose.as_str() == purpose,
        "chargingProfile.chargingProfilePurpose must be {purpose}, was {}",
        p.charging_profile_purpose.as_str()
    );
    ensure!(
        kinds.contains(&p.charging_profile_kind.as_str()),
        "chargingProfile.chargingProfileKind must be {}, was {}",
        kinds.join(" or "),
        p.charging_profile_kind.as_str()
    );
    ensure!(
        p.stack_level == stack_level,
        "chargingProfile.stackLevel must be {stack_level}, was {}",
        p.stack_level
    );
    let schedule = p
        .charging_schedule
        .first()
        .ok_or_else(|| CaseError::Fail("chargingProfile has no chargingSchedule".into()))?;
    ensure!(
        schedule.charging_rate_unit == cfg.charging_rate_unit,
        "chargingSchedule.chargingRateUnit must be {}, was {}",
        cfg.charging_rate_unit.as_str(),
        schedule.charging_rate_unit.as_str()
    );
    if with_duration {
        ensure!(
            schedule.duration == Some(cfg.duration),
            "chargingSchedule.duration must be {}, was {:?}",
            cfg.duration,
            schedule.duration
        );
    }
    let period = schedule
        .charging_schedule_period
        .first()
        .ok_or_else(|| CaseError::Fail("chargingSchedule has no period".into()))?;
    ensure!(
        period.start_period == start_period,
        "chargingSchedulePeriod.startPeriod must be {start_period}, was {}",
        period.start_period
    );
    let limit = cfg.limit(amps);
    ensure!(
        period.limit == limit,
        "chargingSchedulePeriod.limit must be {limit}, was {}",
        period.limit
    );
    let phases_ok = match period.number_phases {
        Some(n) => n == cfg.number_phases,
        None => cfg.number_phases == 3,
    };
    ensure!(
        phases_ok,
        "chargingSchedulePeriod.numberPhases must be {} (omitted only when 3), was {:?}",
        cfg.number_phases,
        period.number_phases
    );
    Ok(())
}

/// validFrom / startSchedule "now" and validTo "now + <Configured Charging Schedule Duration>";
/// with `exact` false only their presence is checked ("<Not omitted>").
fn check_validity(
    request: &SetChargingProfileRequest,
    cfg: &SmartChargingConfig,
    asked_at: DateTime<Utc>,
    exact: bool,
) -> Result<(), CaseError> {
    let p = &request.charging_profile;
    let near = |t: DateTime<Utc>, want: DateTime<Utc>| {
        (t - want).abs().to_std().is_ok_and(|d| d <= NOW_TOLERANCE)
    };
    let from = p
        .valid_from
        .ok_or_else(|| CaseError::Fail("chargingProfile.validFrom must not be omitted".into()))?;
    let to = p
        .valid_to
        .ok_or_else(|| CaseError::Fail("chargingProfile.validTo must not be omitted".into()))?;
    let start = p
        .charging_schedule
        .first()
        .and_then(|s| s.start_schedule)
        .ok_or_else(|| {
            CaseError::Fail("chargingSchedule.startSchedule must not be omitted".into())
        })?;
    if exact {
        ensure!(
            near(from, asked_at),
            "chargingProfile.validFrom must be now, was {from}"
        );
        ensure!(
            near(start, asked_at),
            "chargingSchedule.startSchedule must be now, was {start}"
        );
        let want = asked_at + chrono::Duration::seconds(cfg.schedule_validity);
        ensure!(
            near(to, want),
            "chargingProfile.validTo must be now + {} s, was {to}",
            cfg.schedule_validity
        );
    }
    Ok(())
}

async fn booted(target: &Target) -> Result<Station, CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    Ok(station)
}

/// TC_K_01_CSMS Set charging profile - TxDefaultProfile - Specific EVSE.
pub async fn tc_k_01(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let now = Utc::now();
    let profile = cfg.profile(
        cfg.charging_profile_id,
        cfg.stack_level,
        "TxDefaultProfile",
        "Absolute",
        6,
        now,
    );
    let accepted = ProfileAnswer::Status(ChargingProfileStatusEnumType::Accepted);
    let request = set_profile(
        &mut station,
        target,
        &op,
        target.evse_id,
        profile,
        false,
        accepted,
    )
    .await
    .map_err(|e| e.at_step(1))?;
    check_profile(
        &request,
        &cfg,
        "TxDefaultProfile",
        &["Absolute"],
        cfg.stack_level,
        cfg.start_period,
        6,
        true,
    )?;
    ensure!(
        request.charging_profile.id == cfg.charging_profile_id,
        "chargingProfile.id must be {}, was {}",
        cfg.charging_profile_id,
        request.charging_profile.id
    );
    check_validity(&request, &cfg, now, true)?;
    station.close().await;
    Ok(())
}

/// TC_K_02_CSMS Set charging profile - TxProfile without ongoing transaction: the station
/// answers Rejected.
pub async fn tc_k_02(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let profile = cfg.profile(
        cfg.charging_profile_id,
        cfg.stack_level,
        "TxProfile",
        "Relative",
        7,
        Utc::now(),
    );
    let rejected = ProfileAnswer::Status(ChargingProfileStatusEnumType::Rejected);
    let request = set_profile(
        &mut station,
        target,
        &op,
        target.evse_id,
        profile,
        true,
        rejected,
    )
    .await?;
    check_profile(
        &request,
        &cfg,
        "TxProfile",
        &["Relative"],
        cfg.stack_level,
        0,
        7,
        false,
    )?;
    station.close().await;
    Ok(())
}

/// TC_K_03_CSMS Set charging profile - ChargingStationMaxProfile on evseId 0.
pub async fn tc_k_03(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let profile = cfg.profile(
        cfg.charging_profile_id,
        cfg.stack_level,
        "ChargingStationMaxProfile",
        "Absolute",
        8,
        Utc::now(),
    );
    let accepted = ProfileAnswer::Status(ChargingProfileStatusEnumType::Accepted);
    let request = set_profile(&mut station, target, &op, 0, profile, false, accepted).await?;
    check_profile(
        &request,
        &cfg,
        "ChargingStationMaxProfile",
        &["Absolute", "Relative"],
        cfg.stack_level,
        0,
        8,
        true,
    )?;
    check_validity(&request, &cfg, Utc::now(), false)?;
    station.close().await;
    Ok(())
}

/// TC_K_04_CSMS Replace charging profile: the same id twice, 8 then 6.
pub async fn tc_k_04(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let accepted = ProfileAnswer::Status(ChargingProfileStatusEnumType::Accepted);
    let mut ids = Vec::new();
    for (step, amps) in [(1, 8), (3, 6)] {
        let profile = cfg.profile(
            cfg.charging_profile_id,
            cfg.stack_level,
            "TxDefaultProfile",
            "Absolute",
            amps,
            Utc::now(),
        );
        let request = set_profile(
            &mut station,
            target,
            &op,
            target.evse_id,
            profile,
            false,
            accepted,
        )
        .await
        .map_err(|e| e.at_step(step))?;
        let limit = &request.charging_profile.charging_schedule[0].charging_schedule_period[0];
        ensure!(
            limit.limit == cfg.limit(amps),
            "step {step}: limit must be {}, was {}",
            cfg.limit(amps),
            limit.limit
        );
        ids.push(request.charging_profile.id);
    }
    ensure!(
        ids[0] == ids[1],
        "step 3: chargingProfile.id must be the same for both profiles, was {ids:?}"
    );
    station.close().await;
    Ok(())
}

/// TC_K_10_CSMS Set charging profile - TxDefaultProfile - All EVSE (evseId 0).
pub async fn tc_k_10(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let profile = cfg.profile(
        cfg.charging_profile_id,
        cfg.stack_level,
        "TxDefaultProfile",
        "Absolute",
        6,
        Utc::now(),
    );
    let accepted = ProfileAnswer::Status(ChargingProfileStatusEnumType::Accepted);
    let request = set_profile(&mut station, target, &op, 0, profile, false, accepted).await?;
    check_profile(
        &request,
        &cfg,
        "TxDefaultProfile",
        &["Absolute"],
        cfg.stack_level,
        0,
        6,
        true,
    )?;
    check_validity(&request, &cfg, Utc::now(), false)?;
    station.close().await;
    Ok(())
}

/// TC_K_15_CSMS Set charging profile - Not Supported: the station answers CALLERROR.
pub async fn tc_k_15(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let profile = cfg.profile(
        cfg.charging_profile_id,
        cfg.stack_level,
        "TxDefaultProfile",
        "Absolute",
        6,
        Utc::now(),
    );
    set_profile(
        &mut station,
        target,
        &op,
        target.evse_id,
        profile,
        false,
        ProfileAnswer::NotSupported,
    )
    .await?;
    station.close().await;
    Ok(())
}

/// TC_K_19_CSMS Set charging profile - Recurrency.
pub async fn tc_k_19(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let profile = cfg.profile(
        cfg.charging_profile_id,
        cfg.stack_level,
        "TxDefaultProfile",
        "Recurring",
        6,
        Utc::now(),
    );
    let accepted = ProfileAnswer::Status(ChargingProfileStatusEnumType::Accepted);
    let request = set_profile(
        &mut station,
        target,
        &op,
        target.evse_id,
        profile,
        false,
        accepted,
    )
    .await?;
    check_profile(
        &request,
        &cfg,
        "TxDefaultProfile",
        &["Recurring"],
        cfg.stack_level,
        0,
        6,
        false,
    )?;
    let kind = request.charging_profile.recurrency_kind.map(|k| k.as_str());
    ensure!(
        kind == Some(cfg.recurrency_kind.as_str()),
        "chargingProfile.recurrencyKind must be {}, was {kind:?}",
        cfg.recurrency_kind
    );
    station.close().await;
    Ok(())
}

/// TC_K_70_CSMS Set charging profile - 2 Profiles: different ids and stack levels.
pub async fn tc_k_70(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let accepted = ProfileAnswer::Status(ChargingProfileStatusEnumType::Accepted);
    let mut sent = Vec::new();
    for (step, (id, level)) in [
        (1, (cfg.charging_profile_id, cfg.stack_level)),
        (3, (cfg.charging_profile_id + 1, cfg.stack_level2)),
    ] {
        let profile = cfg.profile(id, level, "TxDefaultProfile", "Absolute", 6, Utc::now());
        let request = set_profile(
            &mut station,
            target,
            &op,
            target.evse_id,
            profile,
            false,
            accepted,
        )
        .await
        .map_err(|e| e.at_step(step))?;
        sent.push((
            request.charging_profile.id,
            request.charging_profile.stack_level,
        ));
    }
    ensure!(
        sent[0].0 != sent[1].0 && sent[0].1 != sent[1].1,
        "step 3: the profiles must differ in id and stackLevel, were {sent:?}"
    );
    station.close().await;
    Ok(())
}

/// TC_K_60_CSMS Set charging profile - TxProfile with ongoing transaction: from
/// EnergyTransferStarted, a TxProfile for the transaction, Accepted.
pub async fn tc_k_60(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut session = Session::new(target);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let mut profile = cfg.profile(
        cfg.charging_profile_id,
        cfg.stack_level,
        "TxProfile",
        "Relative",
        6,
        Utc::now(),
    );
    profile["transactionId"] = json!(session.transaction_id);
    let accepted = ProfileAnswer::Status(ChargingProfileStatusEnumType::Accepted);
    let request = set_profile(
        &mut station,
        target,
        &op,
        target.evse_id,
        profile,
        false,
        accepted,
    )
    .await?;
    ensure!(
        request.charging_profile.charging_profile_purpose.as_str() == "TxProfile",
        "chargingProfilePurpose must be TxProfile"
    );
    ensure!(
        request.charging_profile.transaction_id.as_deref() == Some(&session.transaction_id),
        "chargingProfile.transactionId must be {}, was {:?}",
        session.transaction_id,
        request.charging_profile.transaction_id
    );
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// K10 Clear charging profile
// ---------------------------------------------------------------------------------------------

/// The operator has the CSMS clear `what`; the station answers `status`. Returns the request.
async fn clear(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    what: OperatorAction,
    status: ClearChargingProfileStatusEnumType,
) -> Result<ClearChargingProfileRequest, CaseError> {
    let mut task = OperatorTask::start(
        operator,
        target,
        what,
        "have the CSMS send ClearChargingProfileRequest",
    );
    let (id, request) = task
        .expect_call::<ClearChargingProfileRequest>(station)
        .await?;
    station
        .respond::<ClearChargingProfileRequest>(
            &id,
            &ClearChargingProfileResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    let report = task.finish(target.timeout).await?;
    ensure!(
        reports_field(&report, "status", status.as_str()),
        "the operator was not told the station's answer {}: {report}",
        status.as_str()
    );
    Ok(request)
}

fn clear_by_criteria(cfg: &SmartChargingConfig, target: &Target) -> OperatorAction {
    OperatorAction::ClearChargingProfile {
        charging_profile_id: None,
        evse_id: Some(target.evse_id),
        charging_profile_purpose: Some("TxDefaultProfile".into()),
        stack_level: Some(cfg.stack_level),
    }
}

fn check_criteria(
    request: &ClearChargingProfileRequest,
    cfg: &SmartChargingConfig,
    target: &Target,
) -> Result<(), CaseError> {
    let c = request.charging_profile_criteria.as_ref().ok_or_else(|| {
        CaseError::Fail("ClearChargingProfileRequest.chargingProfileCriteria is missing".into())
    })?;
    ensure!(
        c.charging_profile_purpose.map(|p| p.as_str()) == Some("TxDefaultProfile")
            && c.stack_level == Some(cfg.stack_level)
            && c.evse_id == Some(target.evse_id),
        "chargingProfileCriteria must be TxDefaultProfile, stackLevel {}, evseId {}; was {c:?}",
        cfg.stack_level,
        target.evse_id
    );
    Ok(())
}

/// TC_K_05_CSMS Clear Charging Profile - With chargingProfileId learnt from a report.
pub async fn tc_k_05(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let generated = 4242;
    let held = cfg.profile(
        generated,
        cfg.stack_level,
        "TxDefaultProfile",
        "Absolute",
        6,
        Utc::now(),
    );
    get_profiles(
        &mut station,
        target,
        &op,
        None,
        json!({}),
        &[(target.evse_id, vec![held])],
    )
    .await?;
    let request = clear(
        &mut station,
        target,
        &op,
        OperatorAction::ClearChargingProfile {
            charging_profile_id: Some(generated),
            evse_id: None,
            charging_profile_purpose: None,
            stack_level: None,
        },
        ClearChargingProfileStatusEnumType::Accepted,
    )
    .await?;
    ensure!(
        request.charging_profile_id == Some(generated)
            && request.charging_profile_criteria.is_none(),
        "ClearChargingProfileRequest must carry chargingProfileId {generated} and no criteria; \
         was {request:?}"
    );
    station.close().await;
    Ok(())
}

/// TC_K_06_CSMS Clear Charging Profile - stackLevel/purpose for one profile, Accepted.
pub async fn tc_k_06(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let request = clear(
        &mut station,
        target,
        &op,
        clear_by_criteria(&cfg, target),
        ClearChargingProfileStatusEnumType::Accepted,
    )
    .await?;
    check_criteria(&request, &cfg, target)?;
    station.close().await;
    Ok(())
}

/// TC_K_08_CSMS Clear Charging Profile - Without previous charging profile: Unknown.
pub async fn tc_k_08(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let request = clear(
        &mut station,
        target,
        &op,
        clear_by_criteria(&cfg, target),
        ClearChargingProfileStatusEnumType::Unknown,
    )
    .await?;
    check_criteria(&request, &cfg, target)?;
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// K09 Get charging profiles
// ---------------------------------------------------------------------------------------------

/// The operator has the CSMS ask for profiles (`evse_id`, `criterion`); the station answers
/// Accepted and reports `parts` (EVSE, profiles) under the received requestId, the last with
/// `tbc` false. The operator must be told the requestId the station was sent. Returns the
/// request.
pub async fn get_profiles(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    evse_id: Option<i64>,
    criterion: Value,
    parts: &[(i64, Vec<Value>)],
) -> Result<GetChargingProfilesRequest, CaseError> {
    get_profiles_from(
        station,
        target,
        operator,
        evse_id,
        criterion,
        parts,
        ChargingLimitSourceEnumType::Cso,
    )
    .await
}

async fn get_profiles_from(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    evse_id: Option<i64>,
    criterion: Value,
    parts: &[(i64, Vec<Value>)],
    source: ChargingLimitSourceEnumType,
) -> Result<GetChargingProfilesRequest, CaseError> {
    let mut task = OperatorTask::start(
        operator,
        target,
        OperatorAction::GetChargingProfiles {
            evse_id,
            charging_profile: criterion,
        },
        "have the CSMS send GetChargingProfilesRequest",
    );
    let (id, request) = task
        .expect_call::<GetChargingProfilesRequest>(station)
        .await?;
    station
        .respond::<GetChargingProfilesRequest>(
            &id,
            &GetChargingProfilesResponse {
                custom_data: None,
                status: GetChargingProfileStatusEnumType::Accepted,
                status_info: None,
            },
        )
        .await?;
    for (i, (evse, profiles)) in parts.iter().enumerate() {
        let profiles = profiles
            .iter()
            .map(|p| serde_json::from_value(p.clone()))
            .collect::<Result<Vec<ChargingProfileType>, _>>()
            .map_err(|e| CaseError::Fail(format!("a reported profile: {e}")))?;
        station
            .call(&ReportChargingProfilesRequest {
                custom_data: None,
                request_id: request.request_id,
                charging_limit_source: source,
                charging_profile: profiles,
                tbc: Some(i + 1 < parts.len()),
                evse_id: *evse,
            })
            .await?;
    }
    let report = task.finish(target.timeout).await?;
    ensure!(
        report.get("requestId") == Some(&json!(request.request_id)),
        "the operator must be told the requestId the station was sent ({}): {report}",
        request.request_id
    );
    Ok(request)
}

fn criterion_json(request: &GetChargingProfilesRequest) -> Value {
    serde_json::to_value(&request.charging_profile).unwrap_or_default()
}

/// A get-profiles case: `evse_id` and `criterion` asked, checked to be what was sent.
async fn get_profiles_case(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
    energy_transfer: bool,
    evse_id: Option<i64>,
    criterion: Value,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    if energy_transfer {
        let mut session = Session::new(target);
        states::energy_transfer_started(&mut station, target, &mut session).await?;
    }
    let reported_evse = evse_id.unwrap_or(target.evse_id);
    let held = cfg.profile(
        cfg.charging_profile_id,
        cfg.stack_level,
        &cfg.charging_profile_purpose,
        "Absolute",
        6,
        Utc::now(),
    );
    let parts = match evse_id {
        // TC_K_31: one part per EVSE.
        None => vec![(0, vec![held.clone()]), (target.evse_id, vec![held])],
        Some(_) => vec![(reported_evse, vec![held])],
    };
    let request = get_profiles(
        &mut station,
        target,
        &op,
        evse_id,
        criterion.clone(),
        &parts,
    )
    .await
    .map_err(|e| e.at_step(1))?;
    ensure!(
        request.evse_id == evse_id,
        "GetChargingProfilesRequest.evseId must be {evse_id:?}, was {:?}",
        request.evse_id
    );
    let sent = criterion_json(&request);
    ensure!(
        sent == criterion,
        "GetChargingProfilesRequest.chargingProfile must be {criterion}, was {sent}"
    );
    station.close().await;
    Ok(())
}

/// TC_K_29_CSMS Get charging profile - EvseId 0 (+ purpose), while charging.
pub async fn tc_k_29(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let criterion = json!({"chargingProfilePurpose": cfg.charging_profile_purpose});
    get_profiles_case(target, op, cfg, true, Some(0), criterion).await
}

/// TC_K_30_CSMS Get charging profile - EvseId > 0.
pub async fn tc_k_30(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    get_profiles_case(target, op, cfg, false, Some(target.evse_id), json!({})).await
}

/// TC_K_31_CSMS Get charging profile - No EvseId: one report per EVSE.
pub async fn tc_k_31(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    get_profiles_case(target, op, cfg, false, None, json!({})).await
}

/// TC_K_32_CSMS Get charging profile - chargingProfileId (received before).
pub async fn tc_k_32(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let criterion = json!({"chargingProfileId": [cfg.charging_profile_id]});
    get_profiles_case(target, op, cfg, false, Some(target.evse_id), criterion).await
}

/// TC_K_33_CSMS Get charging profile - EvseId > 0 + stackLevel.
pub async fn tc_k_33(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let criterion = json!({"stackLevel": cfg.stack_level});
    get_profiles_case(target, op, cfg, false, Some(target.evse_id), criterion).await
}

/// TC_K_34_CSMS Get charging profile - EvseId > 0 + chargingLimitSource.
pub async fn tc_k_34(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let criterion = json!({"chargingLimitSource": [cfg.charging_limit_source.as_str()]});
    get_profiles_case(target, op, cfg, false, Some(target.evse_id), criterion).await
}

/// TC_K_35_CSMS Get charging profile - EvseId > 0 + chargingProfilePurpose.
pub async fn tc_k_35(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let criterion = json!({"chargingProfilePurpose": cfg.charging_profile_purpose});
    get_profiles_case(target, op, cfg, false, Some(target.evse_id), criterion).await
}

/// TC_K_36_CSMS Get charging profile - EvseId > 0 + chargingProfilePurpose + stackLevel.
pub async fn tc_k_36(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let criterion = json!({
        "chargingProfilePurpose": cfg.charging_profile_purpose,
        "stackLevel": cfg.stack_level
    });
    get_profiles_case(target, op, cfg, false, Some(target.evse_id), criterion).await
}

/// TC_K_52_CSMS ChargingStationExternalConstraints in report: the station reports an external
/// profile (source EMS) on the station.
pub async fn tc_k_52(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let external = cfg.profile(
        cfg.charging_profile_id + 50,
        cfg.stack_level,
        "ChargingStationExternalConstraints",
        "Absolute",
        8,
        Utc::now(),
    );
    get_profiles_from(
        &mut station,
        target,
        &op,
        None,
        json!({}),
        &[(0, vec![external])],
        ChargingLimitSourceEnumType::Ems,
    )
    .await?;
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// K05 Remote start with a TxProfile
// ---------------------------------------------------------------------------------------------

/// TC_K_37_CSMS Remote start transaction with charging profile - Success.
pub async fn tc_k_37(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut session = Session::new(target);
    let token = session.valid_id_token.clone();
    let profile = cfg.profile(
        cfg.charging_profile_id,
        cfg.stack_level,
        "TxProfile",
        "Relative",
        6,
        Utc::now(),
    );
    let mut task = OperatorTask::start(
        &op,
        target,
        OperatorAction::RequestStartTransaction {
            id_token: token.id_token.clone(),
            id_token_type: token.r#type.as_str().into(),
            evse_id: Some(target.evse_id),
            charging_profile: Some(profile.clone()),
        },
        "have the CSMS send RequestStartTransactionRequest with a TxProfile",
    );
    let (id, request) = task
        .expect_call::<RequestStartTransactionRequest>(&mut station)
        .await?;
    station
        .respond::<RequestStartTransactionRequest>(
            &id,
            &RequestStartTransactionResponse {
                custom_data: None,
                status: RequestStartStopStatusEnumType::Accepted,
                status_info: None,
                transaction_id: None,
            },
        )
        .await?;
    ensure!(
        request.id_token.id_token == token.id_token && request.id_token.r#type == token.r#type,
        "step 1: idToken must be the configured valid idToken, was {:?}",
        request.id_token
    );
    ensure!(
        request.evse_id == Some(target.evse_id),
        "step 1: evseId must be {}, was {:?}",
        target.evse_id,
        request.evse_id
    );
    let sent = request
        .charging_profile
        .as_ref()
        .ok_or_else(|| CaseError::Fail("step 1: chargingProfile is missing".into()))?;
    ensure!(
        sent.charging_profile_purpose.as_str() == "TxProfile"
            && sent.transaction_id.is_none()
            && sent.charging_profile_kind.as_str() == "Relative",
        "step 1: chargingProfile must be a Relative TxProfile without transactionId, was {sent:?}"
    );
    let mut event = session.next_event(TriggerReasonEnumType::RemoteStart, None);
    event.transaction_info.remote_start_id = Some(request.remote_start_id);
    event.id_token = Some(token);
    station
        .call(&event)
        .await
        .map_err(|e| CaseError::from(e).at_step(3))?;
    let report = task.finish(target.timeout).await?;
    ensure!(
        reports_field(&report, "status", "Accepted"),
        "the operator was not told the station's answer Accepted: {report}"
    );
    station.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// K08 Composite schedule
// ---------------------------------------------------------------------------------------------

async fn composite(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
    evse_id: i64,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut task = OperatorTask::start(
        &op,
        target,
        OperatorAction::GetCompositeSchedule {
            evse_id,
            duration: cfg.duration,
            charging_rate_unit: Some(cfg.charging_rate_unit.as_str().into()),
        },
        "have the CSMS send GetCompositeScheduleRequest",
    );
    let (id, request) = task
        .expect_call::<GetCompositeScheduleRequest>(&mut station)
        .await?;
    let limit = cfg.limit(10);
    station
        .respond::<GetCompositeScheduleRequest>(
            &id,
            &GetCompositeScheduleResponse {
                custom_data: None,
                status: GenericStatusEnumType::Accepted,
                status_info: None,
                schedule: Some(CompositeScheduleType {
                    custom_data: None,
                    charging_schedule_period: vec![serde_json::from_value(
                        json!({"startPeriod": 0, "limit": cfg.limit_number(10)}),
                    )
                    .map_err(|e| CaseError::Fail(e.to_string()))?],
                    evse_id,
                    duration: 300,
                    schedule_start: Utc::now(),
                    charging_rate_unit: request
                        .charging_rate_unit
                        .unwrap_or(cfg.charging_rate_unit),
                }),
            },
        )
        .await?;
    ensure!(
        request.evse_id == evse_id
            && request.duration == cfg.duration
            && request.charging_rate_unit == Some(cfg.charging_rate_unit),
        "step 1: GetCompositeScheduleRequest must be evseId {evse_id}, duration {}, \
         chargingRateUnit {}; was {request:?}",
        cfg.duration,
        cfg.charging_rate_unit.as_str()
    );
    let report = task.finish(target.timeout).await?;
    let shown = report
        .pointer("/schedule/chargingSchedulePeriod/0/limit")
        .and_then(Value::as_f64);
    ensure!(
        reports_field(&report, "status", "Accepted") && shown == Some(cfg.limit_number(10)),
        "the operator must be shown the station's Accepted schedule (limit {limit}): {report}"
    );
    station.close().await;
    Ok(())
}

/// TC_K_43_CSMS Get Composite Schedule - Specific EVSE.
pub async fn tc_k_43(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    composite(target, op, cfg, 1).await
}

/// TC_K_44_CSMS Get Composite Schedule - Charging Station.
pub async fn tc_k_44(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: SmartChargingConfig,
) -> Result<(), CaseError> {
    composite(target, op, cfg, 0).await
}

// ---------------------------------------------------------------------------------------------
// K12/K13 External charging limits
// ---------------------------------------------------------------------------------------------

/// NotifyChargingLimitRequest from an EMS on the configured EVSE with one schedule of 16 A.
pub fn ems_limit(target: &Target) -> Result<NotifyChargingLimitRequest, CaseError> {
    Ok(NotifyChargingLimitRequest {
        custom_data: None,
        charging_schedule: Some(vec![serde_json::from_value(json!({
            "id": 1, "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]
        }))
        .map_err(|e| CaseError::Fail(e.to_string()))?]),
        evse_id: Some(target.evse_id),
        charging_limit: ChargingLimitType {
            custom_data: None,
            charging_limit_source: ChargingLimitSourceEnumType::Ems,
            is_grid_critical: Some(true),
        },
    })
}

fn cleared_ems(target: &Target) -> ClearedChargingLimitRequest {
    ClearedChargingLimitRequest {
        custom_data: None,
        charging_limit_source: ChargingLimitSourceEnumType::Ems,
        evse_id: Some(target.evse_id),
    }
}

/// TC_K_48_CSMS Set / Update External Charging Limit (not on a transaction).
pub async fn tc_k_48(target: &Target) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    station.call(&ems_limit(target)?).await?;
    station.close().await;
    Ok(())
}

/// TC_K_50_CSMS Reset / release external charging limit - Without ongoing transaction.
pub async fn tc_k_50(target: &Target) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    station.call(&cleared_ems(target)).await?;
    station.close().await;
    Ok(())
}

/// TC_K_51_CSMS Reset / release external charging limit - With ongoing transaction: then
/// TransactionEvent Updated ChargingRateChanged.
pub async fn tc_k_51(target: &Target) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut session = Session::new(target);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    station.call(&cleared_ems(target)).await?;
    let event = session.next_event(TriggerReasonEnumType::ChargingRateChanged, None);
    station
        .call(&event)
        .await
        .map_err(|e| CaseError::from(e).at_step(3))?;
    station.close().await;
    Ok(())
}
