//! L01 rollout campaigns: one firmware to many stations, a few at a time.
//!
//! A campaign is a client of [`super::update_firmware`] — the same typed operation, tracked
//! request and FirmwareStatusNotification tracking an operator's single update uses — not a
//! second path. Its state is kept in the store (`firmware_campaigns`,
//! `firmware_campaign_stations`), each step written before it is taken, so a restarted server
//! resumes where it stood (an attempt whose send was interrupted is matched to the
//! UpdateFirmware the store shows, or started again).
//!
//! One task ([`run`]) drives every campaign — on one node at a time when several share the
//! store (the cluster lease `campaigns`). It wakes on a FirmwareStatusNotification
//! ([`Fact::FirmwareStatus`]), a station connecting, disconnecting or booting, an operator's
//! change ([`wake`]) and every `csms.campaign_tick` (timeouts), and then for each campaign:
//!
//! 1. follows the stations in progress through their tracked update: `Installed` ends one as
//!    Installed; a failing final status (`DownloadFailed`, `InstallationFailed`,
//!    `InvalidSignature`, …), a refusal, no answer or no final status within the campaign's
//!    station timeout is an attempt failed — retried while attempts remain, else Failed with
//!    the last FirmwareStatus and the reason;
//! 2. while Running, starts pending stations up to the concurrency limit; a station that is
//!    offline when its turn comes is Skipped (reported, never silently dropped);
//! 3. ends the campaign (Completed) when no station is pending or in progress.
//!
//! Pause stops new starts (updates under way are still followed); resume continues; abort marks
//! every pending station Aborted — updates already sent cannot be recalled in OCPP 2.0.1, so
//! they are followed to their end.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use unicharge_core::StationId;
use unicharge_store::{CampaignRecord, CampaignStationRecord, TrackedKind, TrackedRequest};

use super::{update_firmware, FirmwareUpdate};
use crate::facts::Fact;
use crate::request::{OpError, Requester};
use crate::Csms;

/// Campaign states.
pub mod state {
    pub const RUNNING: &str = "Running";
    pub const PAUSED: &str = "Paused";
    pub const ABORTED: &str = "Aborted";
    pub const COMPLETED: &str = "Completed";
}

/// Per-station states.
pub mod station_state {
    pub const PENDING: &str = "Pending";
    pub const IN_PROGRESS: &str = "InProgress";
    pub const INSTALLED: &str = "Installed";
    pub const FAILED: &str = "Failed";
    pub const ABORTED: &str = "Aborted";
    pub const SKIPPED: &str = "Skipped";
}

/// What a campaign installs: an UpdateFirmware's firmware, the same for every station.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignFirmware {
    /// External URI; empty with `file`.
    #[serde(default)]
    pub location: String,
    /// A firmware file unicharge serves (its SHA-256): each station gets its own download URL.
    pub file: Option<String>,
    pub signature: Option<String>,
    pub install_date_time: Option<DateTime<Utc>>,
    /// The station's own download retries (UpdateFirmware `retries` / `retryInterval`).
    pub retries: Option<i64>,
    pub retry_interval: Option<i64>,
}

impl CampaignFirmware {
    fn update(&self) -> FirmwareUpdate {
        FirmwareUpdate {
            location: self.location.clone(),
            file: self.file.clone(),
            retrieve_date_time: None,
            install_date_time: self.install_date_time,
            retries: self.retries,
            retry_interval: self.retry_interval,
            signature: self.signature.clone(),
        }
    }
}

/// Which stations: a list, or every registered station whose boot data match.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    List(Vec<StationId>),
    /// Exact matches on the last BootNotification's fields; `None` matches anything.
    Filter {
        vendor: Option<String>,
        model: Option<String>,
        firmware_version: Option<String>,
    },
}

/// A campaign to start.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignSpec {
    pub name: String,
    pub firmware: CampaignFirmware,
    pub stations: Selection,
    /// Stations updating at once, at most (≥ 1).
    pub concurrency: i64,
    /// UpdateFirmware attempts per station (≥ 1; 1: no retry).
    pub max_attempts: i64,
    /// An attempt without a final FirmwareStatus after this long has failed (`timeout`).
    pub station_timeout: Duration,
}

/// Wake the campaign task (after an operator's change).
#[derive(Default)]
pub struct CampaignWake(tokio::sync::Notify);

impl CampaignWake {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Start a campaign: checked, its stations chosen and kept, then driven by [`run`].
pub async fn start_campaign(
    csms: &Csms,
    spec: CampaignSpec,
    by: &Requester,
) -> Result<i64, OpError> {
    if spec.concurrency < 1 || spec.max_attempts < 1 {
        return Err(OpError::refused(
            "campaign_limits_invalid",
            "concurrency and maxAttempts must be at least 1",
        ));
    }
    if spec.name.trim().is_empty() {
        return Err(OpError::refused(
            "campaign_name_missing",
            "give the campaign a name",
        ));
    }
    let f = &spec.firmware;
    match &f.file {
        Some(sha256) => {
            let (file, _) = super::served_file(csms, sha256)?;
            if super::signing_certificate(csms)?.is_some()
                && f.signature.is_none()
                && file.signature.is_none()
            {
                return Err(signature_missing());
            }
        }
        None if f.location.trim().is_empty() => {
            return Err(OpError::refused(
                "firmware_location_missing",
                "give the firmware's location (the URI stations download it from), or the id \
                 (SHA-256) of a firmware file unicharge serves",
            ))
        }
        None => {
            if super::signing_certificate(csms)?.is_some() && f.signature.is_none() {
                return Err(signature_missing());
            }
        }
    }
    let store = csms.store();
    let stations: Vec<StationId> = match &spec.stations {
        Selection::List(ids) => {
            let mut unknown = Vec::new();
            for id in ids {
                if store.get_station(id).await?.is_none() {
                    unknown.push(id.to_string());
                }
            }
            if !unknown.is_empty() {
                return Err(OpError::NotFound {
                    code: "unknown_station",
                    message: format!("not registered: {}", unknown.join(", ")),
                });
            }
            let mut seen = std::collections::HashSet::new();
            ids.iter().filter(|id| seen.insert(*id)).cloned().collect()
        }
        Selection::Filter {
            vendor,
            model,
            firmware_version,
        } => {
            let matches = |want: &Option<String>, have: &Option<String>| {
                want.as_ref().is_none_or(|w| have.as_ref() == Some(w))
            };
            store
                .list_stations()
                .await?
                .into_iter()
                .filter(|s| {
                    matches(vendor, &s.vendor_name)
                        && matches(model, &s.model)
                        && matches(firmware_version, &s.firmware_version)
                })
                .map(|s| s.id)
                .collect()
        }
    };
    if stations.is_empty() {
        return Err(OpError::refused(
            "campaign_without_stations",
            "no station matches: give station ids, or a filter (vendor, model, firmware \
             version) that matches registered stations' boot data",
        ));
    }
    let now = Utc::now();
    let record = CampaignRecord {
        id: 0,
        name: spec.name.trim().to_string(),
        state: state::RUNNING.into(),
        firmware: serde_json::to_string(&spec.firmware)
            .map_err(|e| OpError::Store(e.to_string()))?,
        concurrency: spec.concurrency,
        max_attempts: spec.max_attempts,
        station_timeout_secs: spec.station_timeout.as_secs().max(1) as i64,
        created_by: by.label(),
        created_at: now,
        updated_at: now,
    };
    let rows: Vec<CampaignStationRecord> = stations
        .into_iter()
        .enumerate()
        .map(|(i, station_id)| CampaignStationRecord {
            campaign_id: 0,
            station_id,
            position: i as i64,
            state: station_state::PENDING.into(),
            attempts: 0,
            request_id: None,
            last_status: None,
            reason: None,
            started_at: None,
            updated_at: now,
        })
        .collect();
    let id = store.create_campaign(&record, &rows).await?;
    tracing::info!(campaign = id, name = %record.name, stations = rows.len(),
        concurrency = record.concurrency, "firmware campaign started");
    csms.shared().campaigns.wake();
    Ok(id)
}

fn signature_missing() -> OpError {
    OpError::refused(
        "firmware_signature_missing",
        "a firmware-signing certificate is configured, so a secure update needs the firmware's \
         signature: give `signature` (Base64, made with the signing key), or use a firmware file \
         unicharge signed",
    )
}

/// Pause, resume or abort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    Abort,
}

/// Change a campaign's state; refused when the change makes no sense from where it is.
pub async fn control(csms: &Csms, id: i64, control: Control) -> Result<CampaignRecord, OpError> {
    let store = csms.store();
    let campaign = store.campaign(id).await?.ok_or_else(|| OpError::NotFound {
        code: "unknown_campaign",
        message: format!("no firmware campaign {id}"),
    })?;
    let to = match (control, campaign.state.as_str()) {
        (Control::Pause, state::RUNNING) => state::PAUSED,
        (Control::Resume, state::PAUSED) => state::RUNNING,
        (Control::Abort, state::RUNNING | state::PAUSED) => state::ABORTED,
        (c, from) => {
            return Err(OpError::refused(
                "campaign_state_conflict",
                format!("campaign {id} is {from}: cannot {c:?} it"),
            ))
        }
    };
    store.set_campaign_state(id, to).await?;
    if to == state::ABORTED {
        // Pending stations end Aborted at once; the ones under way are followed to their end.
        let now = Utc::now();
        let aborted: Vec<CampaignStationRecord> = store
            .campaign_stations(id)
            .await?
            .into_iter()
            .filter(|s| s.state == station_state::PENDING)
            .map(|mut s| {
                s.state = station_state::ABORTED.into();
                s.reason = Some("campaign aborted".into());
                s.updated_at = now;
                s
            })
            .collect();
        store.put_campaign_stations(&aborted).await?;
    }
    tracing::info!(campaign = id, from = %campaign.state, to, "firmware campaign changed");
    csms.shared().campaigns.wake();
    Ok(CampaignRecord {
        state: to.into(),
        ..campaign
    })
}

/// What the tracked update of an attempt says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still going; the latest status, if any.
    Running(Option<String>),
    Installed,
    /// The attempt failed: the last status (or answer) and why.
    Failed {
        last_status: Option<String>,
        reason: String,
    },
}

/// Judge an attempt from its tracked request (pure: unit-tested).
pub fn judge(
    tracked: Option<&TrackedRequest>,
    started_at: Option<DateTime<Utc>>,
    timeout: chrono::Duration,
    now: DateTime<Utc>,
) -> Progress {
    let Some(t) = tracked else {
        return Progress::Failed {
            last_status: None,
            reason: "the update is not tracked".into(),
        };
    };
    if t.complete {
        return match t.status.as_deref() {
            Some("Installed") => Progress::Installed,
            Some(status) => Progress::Failed {
                last_status: Some(status.into()),
                reason: format!("station reported {status}"),
            },
            None => Progress::Failed {
                last_status: t.answer.clone(),
                reason: format!(
                    "UpdateFirmware answered {}",
                    t.answer.as_deref().unwrap_or("nothing")
                ),
            },
        };
    }
    let since = started_at.unwrap_or(t.requested_at);
    if now - since > timeout {
        return Progress::Failed {
            last_status: t.status.clone(),
            reason: format!("no final FirmwareStatus within {}s", timeout.num_seconds()),
        };
    }
    Progress::Running(t.status.clone())
}

/// The campaign task: see the module documentation.
pub async fn run(csms: Csms, mut facts: broadcast::Receiver<Fact>) {
    let tick = csms.config().campaign_tick;
    let mut every = tokio::time::interval(tick);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // One node at a time steps the campaigns (their state is in the shared store; two
        // nodes stepping at once could start one station's update twice).
        match csms.lease("campaigns").await {
            Some(_lease) => {
                if let Err(e) = step_all(&csms).await {
                    tracing::warn!(error = %e,
                        "firmware campaigns: step failed; retried at the next tick");
                }
            }
            None => tracing::debug!("firmware campaigns: another node is stepping them"),
        }
        // Wait for a reason to step again: the tick, a change, or a fact that can move a
        // campaign. Every other fact (most are transaction events and meter values) is passed
        // over here, without reading the campaigns again.
        loop {
            tokio::select! {
                _ = every.tick() => break,
                _ = csms.shared().campaigns.0.notified() => break,
                fact = facts.recv() => match fact {
                    Ok(Fact::FirmwareStatus { .. })
                    | Ok(Fact::StationConnected { .. })
                    | Ok(Fact::StationDisconnected { .. })
                    | Ok(Fact::StationBooted { .. })
                    | Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }
}

/// One pass over every campaign that is not over.
pub async fn step_all(csms: &Csms) -> Result<(), OpError> {
    for campaign in csms.store().campaigns().await? {
        if campaign.state == state::COMPLETED {
            continue;
        }
        step(csms, &campaign).await?;
    }
    Ok(())
}

fn counts(stations: &[CampaignStationRecord]) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for s in stations {
        *counts.entry(s.state.as_str()).or_default() += 1;
    }
    counts
}

async fn step(csms: &Csms, campaign: &CampaignRecord) -> Result<(), OpError> {
    use station_state as S;
    let store = csms.store();
    let mut stations = store.campaign_stations(campaign.id).await?;
    let timeout = chrono::Duration::seconds(campaign.station_timeout_secs);
    let retry = campaign.state != state::ABORTED;
    let mut changed = Vec::new();
    // 1. Follow the stations in progress.
    for s in stations.iter_mut().filter(|s| s.state == S::IN_PROGRESS) {
        let before = s.clone();
        let now = Utc::now();
        let request_id = match s.request_id {
            Some(id) => Some(id),
            None => adopt(csms, s).await?,
        };
        let Some(request_id) = request_id else {
            // Sent, but the answer was never recorded (a restart in between): start again.
            s.state = S::PENDING.into();
            s.attempts = (s.attempts - 1).max(0);
            s.updated_at = now;
            changed.push(s.clone());
            continue;
        };
        s.request_id = Some(request_id);
        let tracked = store
            .tracked_request(&s.station_id, TrackedKind::UpdateFirmware, request_id)
            .await?
            .map(|(t, _)| t);
        match judge(tracked.as_ref(), s.started_at, timeout, now) {
            Progress::Running(status) => s.last_status = status.or(s.last_status.take()),
            Progress::Installed => {
                s.state = S::INSTALLED.into();
                s.last_status = Some("Installed".into());
                s.reason = None;
            }
            Progress::Failed {
                last_status,
                reason,
            } => fail(s, last_status, reason, campaign.max_attempts, retry),
        }
        if *s != before {
            s.updated_at = now;
            changed.push(s.clone());
        }
    }
    if !changed.is_empty() {
        store.put_campaign_stations(&changed).await?;
    }
    // 2. Start pending stations up to the limit.
    if campaign.state == state::RUNNING {
        let firmware: CampaignFirmware = serde_json::from_str(&campaign.firmware)
            .map_err(|e| OpError::Store(format!("campaign {} firmware: {e}", campaign.id)))?;
        let by = Requester::Automation {
            rule: format!("firmware-campaign:{}", campaign.id),
        };
        loop {
            // Re-read: pause / abort take effect between two starts.
            let current = store.campaign(campaign.id).await?;
            if current.as_ref().map(|c| c.state.as_str()) != Some(state::RUNNING) {
                break;
            }
            let in_progress = stations
                .iter()
                .filter(|s| s.state == S::IN_PROGRESS)
                .count();
            if in_progress as i64 >= campaign.concurrency {
                break;
            }
            let Some(s) = stations.iter_mut().find(|s| s.state == S::PENDING) else {
                break;
            };
            start_one(csms, campaign, &firmware, &by, s).await?;
        }
    }
    // 3. Over?
    let open = stations
        .iter()
        .any(|s| s.state == S::PENDING || s.state == S::IN_PROGRESS);
    let current = store.campaign(campaign.id).await?;
    if !open && current.as_ref().map(|c| c.state.as_str()) == Some(state::RUNNING) {
        store
            .set_campaign_state(campaign.id, state::COMPLETED)
            .await?;
        tracing::info!(campaign = campaign.id, stations = ?counts(&stations),
            "firmware campaign completed");
    }
    publish_metrics(campaign.id, &stations);
    Ok(())
}

/// An in-progress station without a recorded requestId: the UpdateFirmware sent to it since the
/// attempt started, if the store has one.
async fn adopt(csms: &Csms, s: &CampaignStationRecord) -> Result<Option<i64>, OpError> {
    let Some(started) = s.started_at else {
        return Ok(None);
    };
    Ok(csms
        .store()
        .tracked_requests(&s.station_id, TrackedKind::UpdateFirmware, 5)
        .await?
        .into_iter()
        .find(|t| t.requested_at >= started)
        .map(|t| t.request_id))
}

/// An attempt failed: retry while attempts remain (and the campaign is not aborted), else
/// Failed with the last status and the reason.
fn fail(
    s: &mut CampaignStationRecord,
    last_status: Option<String>,
    reason: String,
    max_attempts: i64,
    retry: bool,
) {
    s.last_status = last_status.or(s.last_status.take());
    s.reason = Some(reason);
    s.state = if retry && s.attempts < max_attempts {
        station_state::PENDING.into()
    } else {
        station_state::FAILED.into()
    };
}

async fn start_one(
    csms: &Csms,
    campaign: &CampaignRecord,
    firmware: &CampaignFirmware,
    by: &Requester,
    s: &mut CampaignStationRecord,
) -> Result<(), OpError> {
    use station_state as S;
    let store = csms.store();
    let now = Utc::now();
    if !csms.is_connected(&s.station_id) {
        s.state = S::SKIPPED.into();
        s.reason = Some("offline when its turn came".into());
        s.updated_at = now;
        store.put_campaign_stations(std::slice::from_ref(s)).await?;
        tracing::info!(campaign = campaign.id, station = %s.station_id, "campaign: station offline, skipped");
        return Ok(());
    }
    // Kept before it is sent: a restart finds the attempt (and adopts its requestId).
    s.state = S::IN_PROGRESS.into();
    s.attempts += 1;
    s.request_id = None;
    s.started_at = Some(now);
    s.updated_at = now;
    store.put_campaign_stations(std::slice::from_ref(s)).await?;
    let result = update_firmware(csms, &s.station_id, firmware.update(), by).await;
    let now = Utc::now();
    match result {
        Ok(sent) => {
            use unicharge_ocpp::v201::UpdateFirmwareStatusEnumType as U;
            s.request_id = Some(sent.request_id);
            s.last_status = Some(sent.status.as_str().to_string());
            if !matches!(sent.status, U::Accepted | U::AcceptedCanceled) {
                let reason = format!("UpdateFirmware answered {}", sent.status.as_str());
                fail(s, None, reason, campaign.max_attempts, true);
            }
        }
        Err(OpError::NotConnected(_)) => {
            s.state = S::SKIPPED.into();
            s.reason = Some("offline when its turn came".into());
            s.attempts -= 1;
        }
        Err(e) => {
            let reason = format!("UpdateFirmware not delivered: {e}");
            fail(
                s,
                Some(e.label().into()),
                reason,
                campaign.max_attempts,
                true,
            );
        }
    }
    s.updated_at = now;
    store.put_campaign_stations(std::slice::from_ref(s)).await?;
    tracing::info!(campaign = campaign.id, station = %s.station_id, attempt = s.attempts,
        request_id = ?s.request_id, state = %s.state, "campaign: update sent");
    Ok(())
}

fn publish_metrics(campaign: i64, stations: &[CampaignStationRecord]) {
    let counts = counts(stations);
    for st in [
        station_state::PENDING,
        station_state::IN_PROGRESS,
        station_state::INSTALLED,
        station_state::FAILED,
        station_state::ABORTED,
        station_state::SKIPPED,
    ] {
        metrics::gauge!("unicharge_firmware_campaign_stations",
            "campaign" => campaign.to_string(), "state" => st)
        .set(counts.get(st).copied().unwrap_or(0) as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(status: Option<&str>, answer: Option<&str>, complete: bool) -> TrackedRequest {
        let at = Utc::now() - chrono::Duration::seconds(100);
        TrackedRequest {
            station_id: "CP1".parse().unwrap(),
            kind: TrackedKind::UpdateFirmware,
            request_id: 1,
            request: "{}".into(),
            answer: answer.map(str::to_string),
            status: status.map(str::to_string),
            complete,
            requested_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn an_attempt_is_judged_from_its_tracked_update() {
        let now = Utc::now();
        let long = chrono::Duration::seconds(3600);
        let t = tracked(Some("Installed"), Some("Accepted"), true);
        assert_eq!(judge(Some(&t), None, long, now), Progress::Installed);
        let t = tracked(Some("InstallationFailed"), Some("Accepted"), true);
        assert_eq!(
            judge(Some(&t), None, long, now),
            Progress::Failed {
                last_status: Some("InstallationFailed".into()),
                reason: "station reported InstallationFailed".into()
            }
        );
        let t = tracked(None, Some("Rejected"), true);
        assert!(matches!(judge(Some(&t), None, long, now),
            Progress::Failed { last_status: Some(s), .. } if s == "Rejected"));
        let t = tracked(Some("Downloading"), Some("Accepted"), false);
        assert_eq!(
            judge(Some(&t), None, long, now),
            Progress::Running(Some("Downloading".into()))
        );
        // 100 s without a final status against a 60 s timeout.
        let short = chrono::Duration::seconds(60);
        assert!(matches!(judge(Some(&t), None, short, now),
            Progress::Failed { last_status: Some(s), reason } if s == "Downloading" && reason.contains("60s")));
        assert!(matches!(
            judge(None, None, long, now),
            Progress::Failed { .. }
        ));
    }

    #[test]
    fn a_failed_attempt_is_retried_while_attempts_remain() {
        let mut s = CampaignStationRecord {
            campaign_id: 1,
            station_id: "CP1".parse().unwrap(),
            position: 0,
            state: station_state::IN_PROGRESS.into(),
            attempts: 1,
            request_id: Some(1),
            last_status: None,
            reason: None,
            started_at: None,
            updated_at: Utc::now(),
        };
        fail(&mut s, Some("DownloadFailed".into()), "x".into(), 2, true);
        assert_eq!(s.state, station_state::PENDING);
        s.attempts = 2;
        fail(&mut s, Some("DownloadFailed".into()), "x".into(), 2, true);
        assert_eq!(s.state, station_state::FAILED);
        assert_eq!(s.last_status.as_deref(), Some("DownloadFailed"));
        s.attempts = 1;
        fail(&mut s, None, "x".into(), 5, false);
        assert_eq!(s.state, station_state::FAILED, "no retry once aborted");
        assert_eq!(s.last_status.as_deref(), Some("DownloadFailed"), "kept");
    }
}
