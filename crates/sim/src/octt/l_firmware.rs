//! Block L, Firmware management: TC_L_01–TC_L_13 as the OCTT plays them.
//!
//! The operator has the CSMS send an UpdateFirmwareRequest
//! ([`OperatorAction::UpdateFirmware`]); the station answers as the table says and reports its
//! progress with FirmwareStatusNotifications carrying the received requestId.
//!
//! Readings taken:
//!
//! * `<Configured signingCertificate>` and `<Configured signature>` are those of
//!   [`FirmwareConfig::octt`]: the CSMS is configured with the same certificate, and the
//!   operator gives the signature (which the OCTT, not the CSMS, knows). Step 1 must carry both
//!   exactly (the certificate compared without surrounding whitespace).
//! * "InstallRebooting … BootNotification reason FirmwareUpdate": the station reboots, so it
//!   closes its connection and boots on a new one; the answer must be Accepted.
//! * "A dateTime in the future" (TC_L_02/03): later than the moment the operator asked.
//!   The table's notes ("executed after installDateTime has been reached") are not waited
//!   for: the CSMS's behaviour does not depend on them, and tests do not sleep.
//! * TC_L_10/11: the second UpdateFirmware must carry another requestId than the first; after
//!   AcceptedCanceled the new sequence carries the second requestId, after Rejected the first
//!   one continues under the first requestId.
//! * TC_L_13: the station has one connector, the one charging, so step 5 (connectors without
//!   a transaction become Unavailable) sends nothing.
//! * The operator must be told the requestId the station was sent and the station's answer.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use unicharge_ocpp::v201::{
    BootReasonEnumType, FirmwareStatusEnumType, FirmwareStatusNotificationRequest,
    RegistrationStatusEnumType, UpdateFirmwareRequest, UpdateFirmwareResponse,
    UpdateFirmwareStatusEnumType,
};

use super::operator::{Operator, OperatorAction};
use super::states::{self, Session};
use super::{with_operator, CaseError, OperatorTask, ScenarioFuture, Target};
use crate::ensure;
use crate::station::Station;

/// `<Configured signingCertificate>` of the OCTT runs here: a P-256 certificate made for
/// these cases (its key is not needed: the station's signature check is simulated).
pub const SIGNING_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIBtjCCAVugAwIBAgIUAvXqxad7vKUGPkG2mAbQ4ChKT2gwCgYIKoZIzj0EAwIw
LzENMAsGA1UECgwET0NUVDEeMBwGA1UEAwwVT0NUVCBGaXJtd2FyZSBTaWduaW5n
MCAXDTI2MTIwNjE1MDAxNFoYDzIxMjYxMTEyMTUwMDE0WjAvMQ0wCwYDVQQKDARP
Q1RUMR4wHAYDVQQDDBVPQ1RUIEZpcm13YXJlIFNpZ25pbmcwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAATmor5owa/aopi+F/Zduk5XqjELj3irqUoaOzvnFgxsc+nL
RY0JRTfY4blRT4wZxiOj7pFp5uAqE0EZwvwJEPeTo1MwUTAdBgNVHQ4EFgQUkbcL
FiWG8JxQwPbrfDOG7bGoOh4wHwYDVR0jBBgwFoAUkbcLFiWG8JxQwPbrfDOG7bGo
Oh4wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA9dBeNLIrH9Ar
LjAlFHSLoTSpV5UFwv1cp0JalizUgxUCIQC0g2q0iFNbjkJLLpyUnU+lfMd2Sat3
euwWVqfklKFUDg==
-----END CERTIFICATE-----
";

/// The OCTT's firmware configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct FirmwareConfig {
    /// Where the firmware is downloaded from.
    pub location: String,
    /// `<Configured signingCertificate>` (PEM).
    pub signing_certificate: String,
    /// `<Configured signature>` (Base64).
    pub signature: String,
    /// How far in the future `retrieveDateTime` / `installDateTime` are asked for (seconds).
    pub schedule_in: i64,
}

impl FirmwareConfig {
    pub fn octt() -> Self {
        FirmwareConfig {
            location: "https://firmware.octt.invalid/unicharge-sim-2.0.bin".into(),
            signing_certificate: SIGNING_CERTIFICATE.into(),
            signature: "MEUCIQDnZ3Vlc3NlZCBzaWduYXR1cmUgb2YgdGhlIE9DVFQgZmlybXdhcmUCIE9DVFQ="
                .into(),
            schedule_in: 3600,
        }
    }

    fn action(
        &self,
        retrieve: Option<DateTime<Utc>>,
        install: Option<DateTime<Utc>>,
    ) -> OperatorAction {
        OperatorAction::UpdateFirmware {
            location: self.location.clone(),
            retrieve_date_time: retrieve,
            install_date_time: install,
            retries: None,
            retry_interval: None,
            signature: Some(self.signature.clone()),
        }
    }
}

pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    use FirmwareStatusEnumType as S;
    let cfg = FirmwareConfig::octt();
    Some(match id {
        "TC_L_01_CSMS" => with_operator(op, move |op| tc_l_01(target, op, cfg)),
        "TC_L_02_CSMS" => with_operator(op, move |op| tc_l_02(target, op, cfg)),
        "TC_L_03_CSMS" => with_operator(op, move |op| tc_l_03(target, op, cfg)),
        "TC_L_04_CSMS" => with_operator(op, move |op| {
            refused(
                target,
                op,
                cfg,
                UpdateFirmwareStatusEnumType::RevokedCertificate,
            )
        }),
        "TC_L_05_CSMS" => with_operator(op, move |op| {
            refused(
                target,
                op,
                cfg,
                UpdateFirmwareStatusEnumType::InvalidCertificate,
            )
        }),
        "TC_L_06_CSMS" => with_operator(op, move |op| {
            failing(
                target,
                op,
                cfg,
                &[S::Downloading, S::Downloaded, S::InvalidSignature],
            )
        }),
        "TC_L_07_CSMS" => with_operator(op, move |op| {
            failing(target, op, cfg, &[S::Downloading, S::DownloadFailed])
        }),
        "TC_L_08_CSMS" => with_operator(op, move |op| {
            failing(
                target,
                op,
                cfg,
                &[
                    S::Downloading,
                    S::Downloaded,
                    S::SignatureVerified,
                    S::Installing,
                    S::InstallVerificationFailed,
                ],
            )
        }),
        "TC_L_09_CSMS" => with_operator(op, move |op| tc_l_09(target, op, cfg)),
        "TC_L_10_CSMS" => with_operator(op, move |op| tc_l_10(target, op, cfg)),
        "TC_L_11_CSMS" => with_operator(op, move |op| tc_l_11(target, op, cfg)),
        "TC_L_13_CSMS" => with_operator(op, move |op| tc_l_13(target, op, cfg)),
        _ => return None,
    })
}

async fn booted(target: &Target) -> Result<Station, CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    Ok(station)
}

/// Steps 1–2: the operator asks, the CSMS sends UpdateFirmwareRequest, the station answers
/// `status`; the operator must be told the requestId and the answer. Returns the request.
pub async fn update(
    station: &mut Station,
    target: &Target,
    operator: &Arc<dyn Operator>,
    action: OperatorAction,
    status: UpdateFirmwareStatusEnumType,
) -> Result<UpdateFirmwareRequest, CaseError> {
    let mut task = OperatorTask::start(
        operator,
        target,
        action,
        "have the CSMS send UpdateFirmwareRequest",
    );
    let (id, request) = task.expect_call::<UpdateFirmwareRequest>(station).await?;
    station
        .respond::<UpdateFirmwareRequest>(
            &id,
            &UpdateFirmwareResponse {
                custom_data: None,
                status,
                status_info: None,
            },
        )
        .await?;
    let report = task.finish(target.timeout).await?;
    ensure!(
        report.get("requestId") == Some(&json!(request.request_id)),
        "the operator must be told the requestId the station was sent ({}): {report}",
        request.request_id
    );
    ensure!(
        report.get("status") == Some(&json!(status.as_str())),
        "the operator must be told the station's answer {}: {report}",
        status.as_str()
    );
    Ok(request)
}

/// Step 1's tool validations of a secure update: the configured certificate and signature.
fn check_secure(request: &UpdateFirmwareRequest, cfg: &FirmwareConfig) -> Result<(), CaseError> {
    let cert = request
        .firmware
        .signing_certificate
        .as_deref()
        .unwrap_or("");
    ensure!(
        cert.trim() == cfg.signing_certificate.trim(),
        "step 1: firmware.signingCertificate must be <Configured signingCertificate>, was {:?}",
        cert
    );
    ensure!(
        request.firmware.signature.as_deref() == Some(cfg.signature.as_str()),
        "step 1: firmware.signature must be <Configured signature>, was {:?}",
        request.firmware.signature
    );
    ensure!(
        request.firmware.location == cfg.location,
        "step 1: firmware.location must be the firmware asked for ({}), was {}",
        cfg.location,
        request.firmware.location
    );
    Ok(())
}

/// FirmwareStatusNotifications with `statuses` under `request_id`; each must be answered.
pub async fn notify(
    station: &mut Station,
    request_id: i64,
    statuses: &[FirmwareStatusEnumType],
) -> Result<(), CaseError> {
    for status in statuses {
        station
            .call(&FirmwareStatusNotificationRequest {
                custom_data: None,
                status: *status,
                request_id: Some(request_id),
            })
            .await?;
    }
    Ok(())
}

/// InstallRebooting, then the reboot: a new connection, BootNotification reason
/// FirmwareUpdate answered Accepted, the connector reported Available. Returns the new
/// connection.
pub async fn reboot(
    mut station: Station,
    target: &Target,
    request_id: i64,
) -> Result<Station, CaseError> {
    notify(
        &mut station,
        request_id,
        &[FirmwareStatusEnumType::InstallRebooting],
    )
    .await?;
    station.close().await;
    let mut station = target.connect().await?;
    let mut boot = states::boot_request(target);
    boot.reason = BootReasonEnumType::FirmwareUpdate;
    let answer = station.call(&boot).await?;
    ensure!(
        answer.status == RegistrationStatusEnumType::Accepted,
        "BootNotificationResponse (reason FirmwareUpdate).status must be Accepted, was {}",
        answer.status.as_str()
    );
    states::notify_connector_available(&mut station, target).await?;
    Ok(station)
}

/// The whole successful sequence after the answer: `before` statuses, InstallRebooting, the
/// reboot, then `last`.
async fn install(
    station: Station,
    target: &Target,
    request_id: i64,
    before: &[FirmwareStatusEnumType],
    last: FirmwareStatusEnumType,
) -> Result<(), CaseError> {
    let mut station = station;
    notify(&mut station, request_id, before).await?;
    let mut station = reboot(station, target, request_id).await?;
    notify(&mut station, request_id, &[last]).await?;
    station.close().await;
    Ok(())
}

const DOWNLOAD_AND_INSTALL: [FirmwareStatusEnumType; 4] = [
    FirmwareStatusEnumType::Downloading,
    FirmwareStatusEnumType::Downloaded,
    FirmwareStatusEnumType::SignatureVerified,
    FirmwareStatusEnumType::Installing,
];

/// TC_L_01_CSMS Secure Firmware Update - Installation successful.
pub async fn tc_l_01(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: FirmwareConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let request = update(
        &mut station,
        target,
        &op,
        cfg.action(None, None),
        UpdateFirmwareStatusEnumType::Accepted,
    )
    .await?;
    check_secure(&request, &cfg)?;
    install(
        station,
        target,
        request.request_id,
        &DOWNLOAD_AND_INSTALL,
        FirmwareStatusEnumType::Installed,
    )
    .await
}

/// TC_L_02_CSMS Secure Firmware Update - InstallScheduled.
pub async fn tc_l_02(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: FirmwareConfig,
) -> Result<(), CaseError> {
    use FirmwareStatusEnumType as S;
    let mut station = booted(target).await?;
    let asked = Utc::now();
    let install_at = asked + chrono::Duration::seconds(cfg.schedule_in);
    let request = update(
        &mut station,
        target,
        &op,
        cfg.action(None, Some(install_at)),
        UpdateFirmwareStatusEnumType::Accepted,
    )
    .await?;
    check_secure(&request, &cfg)?;
    ensure!(
        request
            .firmware
            .install_date_time
            .is_some_and(|t| t > asked),
        "step 1: firmware.installDateTime must be a dateTime in the future, was {:?}",
        request.firmware.install_date_time
    );
    install(
        station,
        target,
        request.request_id,
        &[
            S::Downloading,
            S::Downloaded,
            S::SignatureVerified,
            S::InstallScheduled,
            S::Installing,
        ],
        S::Installed,
    )
    .await
}

/// TC_L_03_CSMS Secure Firmware Update - DownloadScheduled.
pub async fn tc_l_03(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: FirmwareConfig,
) -> Result<(), CaseError> {
    use FirmwareStatusEnumType as S;
    let mut station = booted(target).await?;
    let asked = Utc::now();
    let retrieve_at = asked + chrono::Duration::seconds(cfg.schedule_in);
    let request = update(
        &mut station,
        target,
        &op,
        cfg.action(Some(retrieve_at), None),
        UpdateFirmwareStatusEnumType::Accepted,
    )
    .await?;
    check_secure(&request, &cfg)?;
    ensure!(
        request.firmware.retrieve_date_time > asked,
        "step 1: firmware.retrieveDateTime must be a dateTime in the future, was {}",
        request.firmware.retrieve_date_time
    );
    install(
        station,
        target,
        request.request_id,
        &[
            S::DownloadScheduled,
            S::Downloading,
            S::Downloaded,
            S::SignatureVerified,
            S::Installing,
        ],
        S::Installed,
    )
    .await
}

/// TC_L_04/05_CSMS: the station refuses the certificate; no tool validations beyond the
/// CSMS sending the request and handling the answer.
pub async fn refused(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: FirmwareConfig,
    status: UpdateFirmwareStatusEnumType,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    update(&mut station, target, &op, cfg.action(None, None), status).await?;
    station.close().await;
    Ok(())
}

/// TC_L_06/07/08_CSMS: the update fails after `statuses`; the CSMS must answer each.
pub async fn failing(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: FirmwareConfig,
    statuses: &[FirmwareStatusEnumType],
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let request = update(
        &mut station,
        target,
        &op,
        cfg.action(None, None),
        UpdateFirmwareStatusEnumType::Accepted,
    )
    .await?;
    notify(&mut station, request.request_id, statuses).await?;
    station.close().await;
    Ok(())
}

/// TC_L_09_CSMS Secure Firmware Update - InstallationFailed.
pub async fn tc_l_09(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: FirmwareConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let request = update(
        &mut station,
        target,
        &op,
        cfg.action(None, None),
        UpdateFirmwareStatusEnumType::Accepted,
    )
    .await?;
    install(
        station,
        target,
        request.request_id,
        &DOWNLOAD_AND_INSTALL,
        FirmwareStatusEnumType::InstallationFailed,
    )
    .await
}

/// A second update while the first downloads; the station answers `second`. Returns both
/// requests.
async fn second_update(
    station: &mut Station,
    target: &Target,
    op: &Arc<dyn Operator>,
    cfg: &FirmwareConfig,
    second: UpdateFirmwareStatusEnumType,
) -> Result<(UpdateFirmwareRequest, UpdateFirmwareRequest), CaseError> {
    let first = update(
        station,
        target,
        op,
        cfg.action(None, None),
        UpdateFirmwareStatusEnumType::Accepted,
    )
    .await?;
    notify(
        station,
        first.request_id,
        &[FirmwareStatusEnumType::Downloading],
    )
    .await?;
    let next = update(station, target, op, cfg.action(None, None), second).await?;
    ensure!(
        next.request_id != first.request_id,
        "step 5: the second UpdateFirmwareRequest must carry a new requestId, both had {}",
        first.request_id
    );
    Ok((first, next))
}

/// TC_L_10_CSMS Secure Firmware Update - AcceptedCanceled.
pub async fn tc_l_10(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: FirmwareConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let (_, next) = second_update(
        &mut station,
        target,
        &op,
        &cfg,
        UpdateFirmwareStatusEnumType::AcceptedCanceled,
    )
    .await?;
    install(
        station,
        target,
        next.request_id,
        &DOWNLOAD_AND_INSTALL,
        FirmwareStatusEnumType::Installed,
    )
    .await
}

/// TC_L_11_CSMS Secure Firmware Update - Unable to cancel.
pub async fn tc_l_11(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: FirmwareConfig,
) -> Result<(), CaseError> {
    use FirmwareStatusEnumType as S;
    let mut station = booted(target).await?;
    let (first, _) = second_update(
        &mut station,
        target,
        &op,
        &cfg,
        UpdateFirmwareStatusEnumType::Rejected,
    )
    .await?;
    install(
        station,
        target,
        first.request_id,
        &[S::Downloaded, S::SignatureVerified, S::Installing],
        S::Installed,
    )
    .await
}

/// TC_L_13_CSMS Secure Firmware Update - Unable to download/install firmware with ongoing
/// transaction - AllowNewSessionsPendingFirmwareUpdate is false.
pub async fn tc_l_13(
    target: &Target,
    op: Arc<dyn Operator>,
    cfg: FirmwareConfig,
) -> Result<(), CaseError> {
    let mut station = booted(target).await?;
    let mut session = Session::new(target);
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let request = update(
        &mut station,
        target,
        &op,
        cfg.action(None, None),
        UpdateFirmwareStatusEnumType::Accepted,
    )
    .await?;
    ensure!(
        request
            .firmware
            .signing_certificate
            .as_deref()
            .map(str::trim)
            == Some(cfg.signing_certificate.trim()),
        "step 1: firmware.signingCertificate must be <configured signingCertificate>, was {:?}",
        request.firmware.signing_certificate
    );
    notify(
        &mut station,
        request.request_id,
        &[FirmwareStatusEnumType::DownloadScheduled],
    )
    .await?;
    states::stop_authorized(&mut station, target, &mut session).await?;
    states::ev_connected_post_session(&mut station, target, &mut session).await?;
    states::ev_disconnected(&mut station, target, &mut session).await?;
    install(
        station,
        target,
        request.request_id,
        &DOWNLOAD_AND_INSTALL,
        FirmwareStatusEnumType::Installed,
    )
    .await
}

/// What the operator's report of an update says (for callers checking it).
pub fn reported_request_id(report: &Value) -> Option<i64> {
    report.get("requestId").and_then(Value::as_i64)
}
