//! The back end's answer to one frame: decode, authenticate, check, store durably, respond.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use unicharge_efc::adu::Adu;
use unicharge_efc::auth::{self, KeyRef};
use unicharge_efc::dsrc::set_mmi;
use unicharge_efc::{
    account_status, AccountUpdate, AduError, ChargeReport, ChargeReportResponse, DataReceived,
    UsageStatement, UsageStatementEntry,
};
use unicharge_store::efc::{
    EfcChargeRecord, EfcContract, EfcObe, EfcQueuedUpdate, EfcReportRecord,
};
use unicharge_store::{Store, Write};

use crate::batcher::{Batcher, MAX_BATCH};
use crate::checks::{check_mileage, check_report};
use crate::keys::{contract_key, report_obe_key};
use crate::ledger_feedback::{self, Feedback, Standing};
use crate::EfcConfig;

/// Where "now" comes from (tests pass a fixed clock; no sleeping).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What the back end remembers of one OBE between reports.
#[derive(Default)]
struct ObeState {
    loaded: bool,
    last_counter: Option<u32>,
    last_request: Vec<u8>,
    last_response: Vec<u8>,
    pending: Vec<EfcQueuedUpdate>,
}

/// The ISO 17575-1 back end. Cheap to clone; one per server.
#[derive(Clone)]
pub struct Backend {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    /// Reports queued while the store is busy go to it as one job ([`crate::batcher`]).
    batcher: Arc<Batcher>,
    config: EfcConfig,
    clock: Clock,
    obes: StdMutex<HashMap<String, Arc<Mutex<ObeState>>>>,
    /// Last (dist, unit) per contract.
    mileage: StdMutex<HashMap<String, Option<(u32, u8)>>>,
    registry: StdMutex<HashMap<String, Option<EfcObe>>>,
    contracts: StdMutex<HashMap<String, Option<EfcContract>>>,
}

/// Why a frame was answered with an error frame instead of a ChargeReportResponse.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Adu(#[from] AduError),
    #[error("{0}")]
    Refused(String),
    #[error("store: {0}")]
    Store(#[from] unicharge_store::StoreError),
}

impl Backend {
    pub fn new(store: Arc<dyn Store>, config: EfcConfig) -> Self {
        Self::with_clock(store, config, Arc::new(Utc::now))
    }

    pub fn with_clock(store: Arc<dyn Store>, config: EfcConfig, clock: Clock) -> Self {
        Backend {
            inner: Arc::new(Inner {
                batcher: Batcher::new(store.clone(), MAX_BATCH),
                store,
                config,
                clock,
                obes: StdMutex::new(HashMap::new()),
                mileage: StdMutex::new(HashMap::new()),
                registry: StdMutex::new(HashMap::new()),
                contracts: StdMutex::new(HashMap::new()),
            }),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Register (or change) an OBE and its key.
    pub async fn register_obe(&self, obe: EfcObe) -> Result<(), Refusal> {
        self.inner.store.upsert_efc_obe(&obe).await?;
        self.inner
            .registry
            .lock()
            .unwrap()
            .insert(obe.obe_key.clone(), Some(obe));
        Ok(())
    }

    /// Register (or change) a contract and the ledger accounts its reports debit.
    pub async fn register_contract(&self, contract: EfcContract) -> Result<(), Refusal> {
        self.inner.store.upsert_efc_contract(&contract).await?;
        self.inner
            .contracts
            .lock()
            .unwrap()
            .insert(contract.contract_key.clone(), Some(contract));
        Ok(())
    }

    async fn contract(&self, key: &str) -> Result<Option<EfcContract>, Refusal> {
        if let Some(known) = self.inner.contracts.lock().unwrap().get(key) {
            return Ok(known.clone());
        }
        let found = self.inner.store.efc_contract(key).await?;
        self.inner
            .contracts
            .lock()
            .unwrap()
            .insert(key.to_string(), found.clone());
        Ok(found)
    }

    /// Debit the contract's ledger accounts with a report's usage (see [`ledger_feedback`]).
    async fn ledger_feedback(
        &self,
        contract: &str,
        reference: impl FnOnce() -> String,
        reported_status: Option<u8>,
        records: &[EfcChargeRecord],
        now: DateTime<Utc>,
    ) -> Result<Feedback, Refusal> {
        let mut feedback = Feedback::default();
        let Some(contract) = self.contract(contract).await? else {
            return Ok(feedback);
        };
        if contract.accounts.is_empty() {
            return Ok(feedback);
        }
        let reference = reference();
        let mut linked = Vec::new();
        for link in &contract.accounts {
            let Some(mut account) = self.inner.store.ledger_account(&link.account).await? else {
                tracing::warn!(contract = %contract.contract_key, account = %link.account,
                    "EFC contract names a ledger account that does not exist; not debited");
                continue;
            };
            let (debit, standing) =
                ledger_feedback::debit(&mut account, link, records, &reference, now);
            feedback.debits.extend(debit);
            feedback.standing = feedback.standing.max(Some(standing));
            linked.push((account, link));
        }
        if let (Some(standing), Some(reported)) = (feedback.standing, reported_status) {
            if reported != standing.account_status() {
                let mut limit = unicharge_efc::NewAccountLimit::default();
                for (account, link) in linked.iter().filter(|(_, l)| l.sync_obe) {
                    ledger_feedback::set_limit(&mut limit, account, link);
                }
                if limit != unicharge_efc::NewAccountLimit::default() {
                    feedback.set_account = Some(limit);
                }
            }
        }
        Ok(feedback)
    }

    /// The usage statements as charge records. An `authenticatedUsageStatement` is opened with
    /// the key of the OBE its `keyDerivationID` names: verified, it is recorded (and charged)
    /// like a plain one; otherwise it is recorded empty and the report gets a violation (the
    /// driver is told nok), never charged on unverified content.
    async fn usage_records(
        &self,
        report: &ChargeReport,
        violations: &mut Vec<String>,
    ) -> Result<Vec<EfcChargeRecord>, Refusal> {
        let mut out = Vec::with_capacity(report.usage_statement_list.len());
        for (i, entry) in report.usage_statement_list.iter().enumerate() {
            match entry {
                UsageStatementEntry::UsageStatement(us) => out.push(charge_record(us)),
                UsageStatementEntry::AuthenticatedUsageStatement(w) => {
                    match self.open_statement(w).await? {
                        Ok(us) => {
                            let mut record = charge_record(&us);
                            record.authenticated = Some(true);
                            out.push(record);
                        }
                        Err(why) => {
                            violations.push(format!(
                                "usageStatementList[{i}] authenticatedUsageStatement: {why}"
                            ));
                            out.push(unverified_record());
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    async fn open_statement(
        &self,
        wrapper: &unicharge_efc::AuthenticatedUsageStatement,
    ) -> Result<Result<UsageStatement, String>, Refusal> {
        let key_ref = match auth::key_ref(&wrapper.message_authenticator) {
            Ok(k) => k,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let obe_key = String::from_utf8_lossy(&key_ref.key_derivation_id).into_owned();
        let key = self
            .registered(&obe_key)
            .await?
            .and_then(|o| o.mac_key_hex)
            .and_then(|h| hex::decode(h).ok());
        let Some(key) = key else {
            return Ok(Err(format!(
                "no MAC key registered for keyDerivationID {obe_key}"
            )));
        };
        Ok(auth::open_usage_statement(wrapper, &key).map_err(|e| e.to_string()))
    }

    /// Queue an answer for an OBE's next report(s). Returns its id.
    pub async fn enqueue_update(&self, mut update: EfcQueuedUpdate) -> Result<i64, Refusal> {
        if let Some(hex) = &update.account_update_hex {
            let bytes = hex::decode(hex)
                .map_err(|e| Refusal::Refused(format!("accountUpdate is not hex: {e}")))?;
            unicharge_efc::decode::<AccountUpdate>(&bytes)?;
        }
        update.id = self.inner.store.enqueue_efc_update(&update).await?;
        let state = self.state(&update.obe_key);
        let mut state = state.lock().await;
        if state.loaded {
            state.pending.push(update.clone());
        }
        Ok(update.id)
    }

    fn state(&self, obe_key: &str) -> Arc<Mutex<ObeState>> {
        let mut obes = self.inner.obes.lock().unwrap();
        // The key is copied only for an OBE seen for the first time, not on every report.
        if let Some(state) = obes.get(obe_key) {
            return state.clone();
        }
        obes.entry(obe_key.to_string()).or_default().clone()
    }

    async fn registered(&self, obe_key: &str) -> Result<Option<EfcObe>, Refusal> {
        if let Some(known) = self.inner.registry.lock().unwrap().get(obe_key) {
            return Ok(known.clone());
        }
        let found = self.inner.store.efc_obe(obe_key).await?;
        self.inner
            .registry
            .lock()
            .unwrap()
            .insert(obe_key.to_string(), found.clone());
        Ok(found)
    }

    /// Answer one frame (ADU-kind octet + UPER). Never fails: a frame that cannot be processed
    /// gets an error frame and a bounded log line naming the peer.
    pub async fn handle_frame(&self, frame: &[u8], peer: &str) -> Vec<u8> {
        match self.process(frame, peer).await {
            Ok(answer) => answer,
            Err(e) => {
                let text: String = e.to_string().chars().take(300).collect();
                tracing::warn!(peer, error = %text, "EFC frame refused");
                metrics::counter!("efc_frames_refused_total").increment(1);
                Adu::Error(text).to_frame().unwrap_or_default()
            }
        }
    }

    async fn process(&self, frame: &[u8], peer: &str) -> Result<Vec<u8>, Refusal> {
        let (report, obe_key, mac_key) = match Adu::from_frame(frame)? {
            Adu::ChargeReport(r) => {
                let key = report_obe_key(&r);
                if self.registered(&key).await?.is_some_and(|o| o.require_auth) {
                    return Err(Refusal::Refused(format!(
                        "OBE {key} must send AuthenticatedChargeReport"
                    )));
                }
                (r, key, None)
            }
            Adu::AuthenticatedChargeReport(w) => {
                let key_ref = auth::key_ref(&w.message_authenticator)?;
                let obe_key = String::from_utf8_lossy(&key_ref.key_derivation_id).into_owned();
                let obe = self.registered(&obe_key).await?.ok_or_else(|| {
                    Refusal::Refused(format!("no OBE {obe_key} (keyDerivationID) is registered"))
                })?;
                let key = obe
                    .mac_key_hex
                    .as_deref()
                    .and_then(|h| hex::decode(h).ok())
                    .ok_or_else(|| Refusal::Refused(format!("OBE {obe_key} has no MAC key")))?;
                let report = auth::open_charge_report(&w, &key)?;
                if report_obe_key(&report) != obe_key {
                    return Err(Refusal::Refused(format!(
                        "keyDerivationID {obe_key} does not match the report's obeId"
                    )));
                }
                (report, obe_key, Some((key, key_ref)))
            }
            other => {
                return Err(Refusal::Refused(format!(
                    "a back end receives charge reports, not {}",
                    match other {
                        Adu::ChargeReportResponse(_) => "ChargeReportResponse",
                        Adu::AuthenticatedChargeReportResponse(_) => {
                            "AuthenticatedChargeReportResponse"
                        }
                        _ => "an error frame",
                    }
                )))
            }
        };
        self.answer(report, obe_key, frame, mac_key, peer).await
    }

    async fn load(&self, obe_key: &str, state: &mut ObeState) -> Result<(), Refusal> {
        if state.loaded {
            return Ok(());
        }
        if let Some(last) = self.inner.store.efc_reports(Some(obe_key), 1).await?.pop() {
            state.last_counter = last.counter;
            state.last_request = last.request;
            state.last_response = last.response;
        }
        state.pending = self.inner.store.efc_pending_updates(obe_key).await?;
        state.loaded = true;
        Ok(())
    }

    async fn last_mileage(&self, contract: &str) -> Result<Option<(u32, u8)>, Refusal> {
        if let Some(m) = self.inner.mileage.lock().unwrap().get(contract) {
            return Ok(*m);
        }
        let m = self
            .inner
            .store
            .efc_last_mileage(contract)
            .await?
            .and_then(|r| Some((r.mileage?, r.mileage_unit.unwrap_or(0))));
        self.inner
            .mileage
            .lock()
            .unwrap()
            .insert(contract.to_string(), m);
        Ok(m)
    }

    /// `obe_key` is [`report_obe_key`] of `report` (the caller has it already).
    async fn answer(
        &self,
        report: ChargeReport,
        obe_key: String,
        frame: &[u8],
        mac_key: Option<(Vec<u8>, KeyRef)>,
        peer: &str,
    ) -> Result<Vec<u8>, Refusal> {
        let contract = contract_key(&report.service_provider_contract);
        let state = self.state(&obe_key);
        // One report of an OBE at a time: counter, mileage and queue stay consistent.
        let mut state = state.lock().await;
        self.load(&obe_key, &mut state).await?;

        // Retransmission: same counter as the last report (or an older stored one, same bytes).
        if let Some(counter) = report.charge_report_counter {
            if state.last_counter == Some(counter) && !state.last_response.is_empty() {
                tracing::debug!(peer, obe = %obe_key, counter, "replayed charge report: stored answer");
                metrics::counter!("efc_reports_replayed_total").increment(1);
                if state.last_request != frame {
                    tracing::warn!(peer, obe = %obe_key, counter,
                        "charge report repeats the last counter with different content; stored answer sent");
                }
                return Ok(state.last_response.clone());
            }
            // An older report again: only possible when the counter is not the next one, so
            // the in-order path never reads the store.
            let in_order = state
                .last_counter
                .is_some_and(|last| counter == last.wrapping_add(1));
            if !in_order {
                if let Some(old) = self
                    .inner
                    .store
                    .efc_report_by_counter(&obe_key, counter)
                    .await?
                    .filter(|old| old.request == frame)
                {
                    return Ok(old.response);
                }
            }
        }

        let now = (self.inner.clock)();
        let config = &self.inner.config;
        let mut violations = check_report(
            &report,
            now,
            config.time_tolerance(),
            &config.tariff_classes,
        );
        let mut counter_gap = None;
        if let (Some(counter), Some(last)) = (report.charge_report_counter, state.last_counter) {
            // chargeReportCounter: +1 per report, 4294967295 wraps to 0 (TP/CR/FE/BV/03, 04).
            let expected = last.wrapping_add(1);
            if counter != expected {
                let gap = counter.wrapping_sub(expected);
                counter_gap = Some(gap);
                tracing::info!(peer, obe = %obe_key, expected, counter, gap, "charge report counter gap recorded");
            }
        }
        let mileage = report.mileage.as_ref().map(|m| (m.dist, m.dis_unit));
        if let Some((dist, unit)) = mileage {
            if let Some(v) = check_mileage(self.last_mileage(&contract).await?, dist, unit) {
                violations.push(v);
            }
        }

        let records = self.usage_records(&report, &mut violations).await?;
        // The debits' idempotency reference; formatted only when a contract has accounts.
        let reference = || {
            format!(
                "efc:{obe_key}:{}@{}",
                report
                    .charge_report_counter
                    .map_or_else(|| "-".to_string(), |c| c.to_string()),
                now.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
            )
        };
        let feedback = self
            .ledger_feedback(&contract, reference, report.account_status, &records, now)
            .await?;

        // The answer: queued operator update first, then rule violations, then the ledger,
        // then policy by the reported account status.
        let mut response = ChargeReportResponse::default();
        response.charge_report_resp_sender = config.sender.clone();
        response.data_received = data_received(&report);
        let mut completed_update = None;
        let mut delivered = None;
        if let Some(update) = state.pending.first().cloned() {
            if update.until_account_ok && report.account_status == Some(account_status::OK) {
                completed_update = Some(update.id);
            } else {
                if !update.until_account_ok {
                    completed_update = Some(update.id);
                }
                delivered = Some(update);
            }
        }
        match &delivered {
            Some(update) => {
                response.obe_status_for_driver = update.obe_status_for_driver;
                response.account_update = update
                    .account_update_hex
                    .as_deref()
                    .map(|h| -> Result<AccountUpdate, Refusal> {
                        let bytes = hex::decode(h).map_err(|e| Refusal::Refused(e.to_string()))?;
                        Ok(unicharge_efc::decode(&bytes)?)
                    })
                    .transpose()?;
            }
            None if !violations.is_empty() => {
                response.obe_status_for_driver = Some(set_mmi::NOK);
            }
            None => {
                response.obe_status_for_driver = Some(match feedback.standing {
                    Some(Standing::Ok) => config.settings.status_when_ok,
                    Some(Standing::Low) => config.settings.status_when_account_low,
                    Some(Standing::Empty) => config.settings.status_when_account_empty,
                    None => config.status_for(report.account_status),
                });
                response.account_update =
                    feedback.set_account.clone().map(AccountUpdate::SetAccount);
            }
        }
        let answer = match &mac_key {
            None => Adu::ChargeReportResponse(response),
            Some((key, key_ref)) => Adu::AuthenticatedChargeReportResponse(
                auth::authenticate_response(&response, key, key_ref)?,
            ),
        }
        .to_frame()?;

        let record = EfcReportRecord {
            id: 0,
            obe_key: obe_key.clone(),
            contract_key: contract.clone(),
            counter: report.charge_report_counter,
            mileage: mileage.map(|m| m.0),
            mileage_unit: mileage.map(|m| m.1),
            account_status: report.account_status,
            time_of_report: report.time_of_report.map(|t| t.with_timezone(&Utc)),
            counter_gap,
            violations: violations.clone(),
            request: frame.to_vec(),
            response: answer.clone(),
            received_at: now,
            charge_records: records,
            completed_update,
        };
        // Durable before acknowledged: the report, its answer and its debits in one commit
        // (shared with the other reports queued meanwhile; this OBE's lock is held until then).
        let mut batch = vec![Write::EfcReport(Box::new(record))];
        batch.extend(
            feedback
                .debits
                .into_iter()
                .map(|d| Write::Ledger(Box::new(d))),
        );
        self.inner.batcher.commit(batch).await?;
        metrics::counter!("efc_reports_total").increment(1);
        if !violations.is_empty() {
            tracing::info!(peer, obe = %obe_key, ?violations, "charge report stored with rule violations");
        }
        tracing::debug!(peer, obe = %obe_key, counter = ?report.charge_report_counter, "charge report stored and answered");

        if let Some(c) = report.charge_report_counter {
            state.last_counter = Some(c);
        }
        // Into the OBE's own buffers, reused from report to report (no allocation per report).
        state.last_request.clear();
        state.last_request.extend_from_slice(frame);
        state.last_response.clear();
        state.last_response.extend_from_slice(&answer);
        if let Some(done) = completed_update {
            state.pending.retain(|u| u.id != done);
        }
        if let Some(m) = mileage {
            self.inner.mileage.lock().unwrap().insert(contract, Some(m));
        }
        Ok(answer)
    }
}

/// `dataReceived`: echo the counter, else the mileage, else the time of report.
fn data_received(report: &ChargeReport) -> Option<DataReceived> {
    if let Some(c) = report.charge_report_counter {
        Some(DataReceived::ChargeReportCounter(c))
    } else if let Some(m) = &report.mileage {
        Some(DataReceived::Mileage(m.clone()))
    } else {
        report.time_of_report.map(DataReceived::TimeOfReport)
    }
}

fn charge_record(us: &UsageStatement) -> EfcChargeRecord {
    let fee = us
        .aggregated_fee
        .as_ref()
        .map(|f| &f.fee_excl_vat)
        .or_else(|| {
            us.aggregated_single_tariff_class_session
                .as_ref()
                .and_then(|s| s.fee_excl_vat.as_ref())
        });
    let vat = us
        .aggregated_fee
        .as_ref()
        .and_then(|f| f.sum_vat.as_ref())
        .or(us.sum_vat.as_ref());
    let period = us
        .aggregated_fee
        .as_ref()
        .map(|f| &f.time_period_covered)
        .or_else(|| {
            us.aggregated_single_tariff_class_session
                .as_ref()
                .and_then(|s| s.time_period_covered.as_ref())
        });
    let distance = us
        .aggregated_single_tariff_class_session
        .as_ref()
        .and_then(|s| s.total_distance_covered.as_ref());
    EfcChargeRecord {
        usage_statement_id: us.usage_statement_id,
        fee_excl_vat: fee.map(|f| f.payment_fee_amount),
        vat: vat.map(|f| f.payment_fee_amount),
        fee_unit: fee.map(|f| hex::encode(&f.payment_fee_unit)),
        period_begin: period.map(|p| p.begin_of_period.with_timezone(&Utc)),
        period_end: period.map(|p| p.end_of_period.with_timezone(&Utc)),
        distance: distance.map(|d| d.dist),
        distance_unit: distance.map(|d| d.dis_unit),
        charge_objects: us
            .list_of_charge_objects
            .iter()
            .flatten()
            .map(|o| o.charge_object_id.charge_object_designation)
            .collect(),
        no_usage: us.no_usage.unwrap_or(false),
        events: us
            .aggregated_single_tariff_class_session
            .as_ref()
            .and_then(|s| s.number_of_detected_events.as_ref())
            .and_then(|n| u64::try_from(n).ok()),
        authenticated: None,
    }
}

/// The record of an authenticated usage statement whose MAC did not verify: nothing of its
/// content is trusted (its bytes stay in the stored request).
fn unverified_record() -> EfcChargeRecord {
    EfcChargeRecord {
        usage_statement_id: None,
        fee_excl_vat: None,
        vat: None,
        fee_unit: None,
        period_begin: None,
        period_end: None,
        distance: None,
        distance_unit: None,
        charge_objects: Vec::new(),
        no_usage: false,
        events: None,
        authenticated: Some(false),
    }
}
