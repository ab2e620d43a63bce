//! The Ro Online Charging Function (TS 32.299 §6.3, RFC 8506): answers Credit-Control-Requests
//! from the core's ledger.
//!
//! * **Rating** is [`unicharge_core::online`]: the subscriber of a Subscription-Id, the tariff of
//!   a rating group / service identifier, grant = min(asked, affordable, configured maximum).
//! * **Reservations**: a Requested-Service-Unit becomes a Granted-Service-Unit with a ledger
//!   Reserve of its cost; a Used-Service-Unit commits (debits) that reservation and releases
//!   the rest; TERMINATION and Tcc supervision release what is left. Every ledger reference
//!   is `ro:<Session-Id>:<CC-Request-Number>:<rating group>:<step>`, so a CCR is never applied
//!   twice whatever the peer resends.
//! * **Durable before acknowledged**: the ledger operations, the session row and the encoded
//!   CCA are one store batch; the CCA leaves only once it is committed. If the batch fails no
//!   answer is sent and the CTF retransmits.
//! * **Retransmissions**: a CCR whose (Session-Id, CC-Request-Number) already has a stored
//!   answer (T flag or not, same connection or another OCF node on the same store) gets that
//!   answer back, with the new request's hop-by-hop and end-to-end ids.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use unicharge_api::diameter::RoCallError;
use unicharge_core::ledger::{Account, Operation, Request, Unit};
use unicharge_core::online::{
    currency_numeric, find_tariff, quota, subscription_id_type_name, unit_value, OnlineTariff,
    QuotaUnit, SwitchSide,
};
use unicharge_core::tariff::currency_minor_units;
use unicharge_diameter::cc::{
    CcMoney, CcRequestType, Cca, Ccr, FinalUnitIndication, GsuPoolReference, Mscc, RequestedAction,
    ServiceUnit,
};
use unicharge_diameter::peer::{PeerHandle, PeerTable, RequestHandler};
use unicharge_diameter::rf::cdf::BoxFuture;
use unicharge_diameter::{app, cmd, result_code, Avp, AvpError, Message, Time, Value};
use unicharge_store::ro::{RoAnswerRow, RoGrant, RoSessionData, RoSessionRow};
use unicharge_store::{Store, StoreError, Write};

use crate::settings::RoSettings;

mod held;

use held::{Answered, Held, HeldSession};

/// RFC 8506 §9 result codes the OCF answers with.
pub mod code {
    pub const END_USER_SERVICE_DENIED: u32 = 4010;
    pub const CREDIT_CONTROL_NOT_APPLICABLE: u32 = 4011;
    pub const CREDIT_LIMIT_REACHED: u32 = 4012;
    pub const USER_UNKNOWN: u32 = 5030;
    pub const RATING_FAILED: u32 = 5031;
}

/// Final-Unit-Action (RFC 8506 §8.35) and what goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinalUnitAction {
    Terminate,
    Redirect { address: String },
    RestrictAccess { filters: Vec<String> },
}

/// The OCF's settings, checked from `[diameter.ro]`.
#[derive(Debug, Clone)]
pub struct OcfConfig {
    pub origin_host: String,
    pub origin_realm: String,
    pub tcc: Duration,
    pub validity_time: Option<u32>,
    pub quota_holding_time: Option<u32>,
    pub quota_consumption_time: Option<u32>,
    pub time_quota_threshold: Option<u32>,
    pub volume_quota_threshold: Option<u32>,
    pub unit_quota_threshold: Option<u32>,
    pub credit_control_failure_handling: Option<i32>,
    pub direct_debiting_failure_handling: Option<i32>,
    pub cc_session_failover: Option<i32>,
    pub final_unit_action: FinalUnitAction,
    pub default_rating_group: Option<u32>,
    pub credit_pooling: bool,
    pub envelope_reporting: Option<i32>,
    /// (Time-Quota-Type, Base-Time-Interval).
    pub time_quota_mechanism: Option<(i32, u32)>,
    pub triggers: Vec<i32>,
    pub reset_triggers_on_update: bool,
    pub offline_charging: bool,
    pub request_timeout: Duration,
    /// 0: never answer 3004.
    pub max_pending_ccrs: usize,
}

fn named(what: &str, value: &str, names: &[(&str, i32)]) -> anyhow::Result<Option<i32>> {
    if value.is_empty() {
        return Ok(None);
    }
    names
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(value))
        .map(|(_, v)| Some(*v))
        .ok_or_else(|| {
            let allowed: Vec<_> = names.iter().map(|(n, _)| *n).collect();
            anyhow::anyhow!(
                "[diameter.ro] {what} = {value:?} is not one of {}, or empty",
                allowed.join(", ")
            )
        })
}

impl OcfConfig {
    pub fn from_settings(
        s: &RoSettings,
        origin_host: &str,
        origin_realm: &str,
        request_timeout: Duration,
    ) -> anyhow::Result<OcfConfig> {
        let nz = |v: u32| (v > 0).then_some(v);
        let final_unit_action = match s.final_unit_action.to_ascii_uppercase().as_str() {
            "" | "TERMINATE" => FinalUnitAction::Terminate,
            "REDIRECT" => {
                if s.redirect_server_address.is_empty() {
                    anyhow::bail!("[diameter.ro] final_unit_action = \"REDIRECT\" needs redirect_server_address (a URL)");
                }
                FinalUnitAction::Redirect {
                    address: s.redirect_server_address.clone(),
                }
            }
            "RESTRICT_ACCESS" => FinalUnitAction::RestrictAccess {
                filters: s.restriction_filter_rules.clone(),
            },
            other => anyhow::bail!(
                "[diameter.ro] final_unit_action = {other:?} is not TERMINATE, REDIRECT or RESTRICT_ACCESS"
            ),
        };
        let tqt = named(
            "time_quota_type",
            &s.time_quota_type,
            &[("DISCRETE_TIME_PERIOD", 0), ("CONTINUOUS_TIME_PERIOD", 1)],
        )?;
        Ok(OcfConfig {
            origin_host: origin_host.into(),
            origin_realm: origin_realm.into(),
            tcc: s.tcc,
            validity_time: nz(s.validity_time),
            quota_holding_time: nz(s.quota_holding_time),
            quota_consumption_time: nz(s.quota_consumption_time),
            time_quota_threshold: nz(s.time_quota_threshold),
            volume_quota_threshold: nz(s.volume_quota_threshold),
            unit_quota_threshold: nz(s.unit_quota_threshold),
            credit_control_failure_handling: named(
                "credit_control_failure_handling",
                &s.credit_control_failure_handling,
                &[
                    ("TERMINATE", 0),
                    ("CONTINUE", 1),
                    ("RETRY_AND_TERMINATE", 2),
                ],
            )?,
            direct_debiting_failure_handling: named(
                "direct_debiting_failure_handling",
                &s.direct_debiting_failure_handling,
                &[("TERMINATE_OR_BUFFER", 0), ("CONTINUE", 1)],
            )?,
            cc_session_failover: named(
                "cc_session_failover",
                &s.cc_session_failover,
                &[("FAILOVER_NOT_SUPPORTED", 0), ("FAILOVER_SUPPORTED", 1)],
            )?,
            final_unit_action,
            default_rating_group: s.default_rating_group,
            credit_pooling: s.credit_pooling,
            envelope_reporting: named(
                "envelope_reporting",
                &s.envelope_reporting,
                &[
                    ("DO_NOT_REPORT_ENVELOPES", 0),
                    ("REPORT_ENVELOPES", 1),
                    ("REPORT_ENVELOPES_WITH_VOLUME", 2),
                    ("REPORT_ENVELOPES_WITH_EVENTS", 3),
                    ("REPORT_ENVELOPES_WITH_VOLUME_AND_EVENTS", 4),
                ],
            )?,
            time_quota_mechanism: tqt.map(|t| (t, s.base_time_interval)),
            triggers: s.triggers.clone(),
            reset_triggers_on_update: s.reset_triggers_on_update,
            offline_charging: s.offline_charging,
            request_timeout,
            max_pending_ccrs: s.max_pending_ccrs,
        })
    }
}

/// How many lock stripes serialise CCRs per account.
const STRIPES: usize = 256;
/// How often a CCR is re-planned when the account changed under it (another front door).
const ATTEMPTS: usize = 4;

/// The OCF.
pub struct Ocf {
    config: OcfConfig,
    store: Arc<dyn Store>,
    stripes: Vec<tokio::sync::Mutex<()>>,
    /// Sessions and accounts as this node last committed them (ADR 0046).
    held: Held,
    /// CCRs in [`Ocf::on_ccr`] now, for load shedding.
    pending: std::sync::atomic::AtomicUsize,
}

/// The units of a Service-Unit in the tariff's unit.
fn units_of(u: &ServiceUnit, tariff: &OnlineTariff) -> Option<u64> {
    match tariff.unit {
        QuotaUnit::Time => u.cc_time.map(u64::from),
        QuotaUnit::Volume => u
            .cc_total_octets
            .or(match (u.cc_input_octets, u.cc_output_octets) {
                (None, None) => None,
                (i, o) => Some(i.unwrap_or(0).saturating_add(o.unwrap_or(0))),
            }),
        QuotaUnit::ServiceSpecific => u.cc_service_specific_units,
        QuotaUnit::Money => money_units(u.cc_money?, &tariff.currency),
    }
}

/// A CC-Money amount in minor units of `currency`; `None` for another currency, a negative
/// amount, or one that is not a whole number of minor units (it cannot be granted or charged
/// exactly).
fn money_units(m: CcMoney, currency: &str) -> Option<u64> {
    if m.currency_code
        .is_some_and(|c| Some(c) != currency_numeric(currency))
    {
        return None;
    }
    // Value-Digits × 10^(Exponent + minor digits), in integers, exactly.
    let scale = i64::from(m.exponent) + i64::from(currency_minor_units(currency));
    let mut units = i128::from(m.value_digits);
    if units == 0 {
        return Some(0);
    }
    if scale >= 0 {
        for _ in 0..scale.min(40) {
            units = units.checked_mul(10)?;
        }
    } else {
        for _ in 0..(-scale).min(40) {
            if units % 10 != 0 {
                return None;
            }
            units /= 10;
        }
    }
    u64::try_from(units).ok()
}

/// A money quota of `units` minor units of `currency` as CC-Money.
fn cc_money(units: u64, currency: &str) -> CcMoney {
    let minor = currency_minor_units(currency);
    CcMoney {
        value_digits: i64::try_from(units).unwrap_or(i64::MAX),
        exponent: -(minor as i32),
        currency_code: currency_numeric(currency),
    }
}

fn service_unit(tariff: &OnlineTariff, units: u64) -> ServiceUnit {
    let mut s = ServiceUnit::default();
    match tariff.unit {
        QuotaUnit::Time => s.cc_time = Some(u32::try_from(units).unwrap_or(u32::MAX)),
        QuotaUnit::Volume => s.cc_total_octets = Some(units),
        QuotaUnit::ServiceSpecific => s.cc_service_specific_units = Some(units),
        QuotaUnit::Money => s.cc_money = Some(cc_money(units, &tariff.currency)),
    }
    s
}

/// Unit-Value{Value-Digits; Exponent} of an exact decimal.
fn unit_value_avp(d: Decimal) -> Avp {
    let (digits, exponent) = unit_value(d);
    let mut c = vec![Avp::named("Value-Digits", Value::Integer64(digits))];
    if exponent != 0 {
        c.push(Avp::named("Exponent", Value::Integer32(exponent)));
    }
    Avp::grouped("Unit-Value", c)
}

/// Cost-Information (RFC 8506 §8.7) for money; `None` for unit accounts.
fn cost_information(amount: Decimal, unit: &Unit, cost_unit: Option<&str>) -> Option<Avp> {
    let Unit::Money(currency) = unit else {
        return None;
    };
    let mut c = vec![
        unit_value_avp(amount),
        Avp::u32("Currency-Code", currency_numeric(currency)?),
    ];
    if let Some(u) = cost_unit {
        c.push(Avp::utf8("Cost-Unit", u));
    }
    Some(Avp::grouped("Cost-Information", c))
}

/// Remaining-Balance (TS 32.299 §7.2.172) of a money account.
fn remaining_balance(account: &Account) -> Option<Avp> {
    let Unit::Money(currency) = &account.unit else {
        return None;
    };
    Some(Avp::grouped(
        "Remaining-Balance",
        vec![
            unit_value_avp(account.available()),
            Avp::u32("Currency-Code", currency_numeric(currency)?),
        ],
    ))
}

/// What one CCR does, worked out on a copy of the account before anything is written.
struct Plan {
    ledger: Vec<Request>,
    account: Account,
    mscc: Vec<Avp>,
    extra: Vec<Avp>,
    grants: Vec<RoGrant>,
    debited: Decimal,
    /// Per-MSCC result codes, to derive the top-level one.
    codes: Vec<u32>,
}

impl Plan {
    fn apply(&mut self, reference: String, operation: Operation, at: DateTime<Utc>) -> bool {
        match self.account.apply(&reference, &operation, at) {
            Ok(m) => {
                if matches!(
                    operation,
                    Operation::Commit { .. } | Operation::Debit { .. }
                ) {
                    self.debited += m.amount;
                }
                self.ledger.push(Request {
                    account: self.account.id.clone(),
                    reference,
                    operation,
                    at,
                });
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "ledger operation not planned");
                false
            }
        }
    }
}

/// Why a CCR got no answer.
enum Outcome {
    Answer(Message),
    /// The store failed: no answer, the CTF retransmits.
    NoAnswer,
    /// The account moved under the plan: plan again.
    Retry,
}

impl Ocf {
    /// The store the OCF keeps its sessions in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn new(config: OcfConfig, store: Arc<dyn Store>) -> Arc<Ocf> {
        Arc::new(Ocf {
            config,
            store,
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            held: Held::default(),
            pending: Default::default(),
        })
    }

    pub fn config(&self) -> &OcfConfig {
        &self.config
    }

    fn stripe(&self, key: &str) -> &tokio::sync::Mutex<()> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        &self.stripes[(h.finish() as usize) % STRIPES]
    }

    fn error(&self, req: &Message, e: &AvpError) -> Message {
        Message::error_answer(
            &req.header,
            req.session_id(),
            e,
            &self.config.origin_host,
            &self.config.origin_realm,
        )
    }

    /// The CCA skeleton: mandatory AVPs and the configured failure-handling AVPs.
    fn cca(&self, req: &Message, ccr: &Ccr, result: u32) -> Message {
        let mut m = Cca {
            session_id: ccr.session_id.clone(),
            result_code: result,
            origin_host: self.config.origin_host.clone(),
            origin_realm: self.config.origin_realm.clone(),
            request_type: ccr.request_type,
            request_number: ccr.request_number,
            cc_session_failover: self.config.cc_session_failover,
            credit_control_failure_handling: self.config.credit_control_failure_handling,
            validity_time: None,
            mscc: vec![],
        }
        .to_message(req);
        if ccr.request_type == CcRequestType::Event
            && matches!(
                ccr.requested_action,
                None | Some(RequestedAction::DirectDebiting)
            )
        {
            if let Some(v) = self.config.direct_debiting_failure_handling {
                m.push(Avp::enumerated("Direct-Debiting-Failure-Handling", v));
            }
        }
        m
    }

    /// A stored answer for this (Session-Id, CC-Request-Number), re-addressed to `req`: from
    /// memory, else (for numbers older than what memory holds) from the store.
    async fn replay(&self, req: &Message, ccr: &Ccr, held: &HeldSession) -> Option<Message> {
        let number = i64::from(ccr.request_number);
        let bytes: Arc<[u8]> = match held.answered(number) {
            Answered::Yes(bytes) => bytes,
            Answered::No => return None,
            Answered::AskStore => match self.store.ro_answer(&ccr.session_id, number).await {
                Ok(stored) => Arc::from(stored?.answer),
                Err(e) => {
                    tracing::warn!(session_id = %ccr.session_id, error = %e, "stored answer lookup failed");
                    return None;
                }
            },
        };
        match Message::decode(&bytes) {
            Ok(mut m) => {
                m.header.hop_by_hop = req.header.hop_by_hop;
                m.header.end_to_end = req.header.end_to_end;
                tracing::info!(session_id = %ccr.session_id, peer = %ccr.origin_host,
                    request_number = ccr.request_number, retransmitted = req.header.flags.retransmit(),
                    "duplicate CCR: stored answer replayed, nothing debited again");
                metrics::counter!("diameter_ro_duplicate_ccr_total").increment(1);
                Some(m)
            }
            Err(e) => {
                tracing::error!(session_id = %ccr.session_id, error = %e, "stored CCA cannot be decoded");
                None
            }
        }
    }

    /// The session as this node holds it, read from the store (row and answers, one read) the
    /// first time. `None` when the store could not be read.
    async fn held_session(&self, id: &str) -> Option<Arc<HeldSession>> {
        if let Some(h) = self.held.session(id) {
            return Some(h);
        }
        match self.store.ro_session_with_answers(id).await {
            Ok((row, answers)) => Some(
                self.held
                    .offer_session(id, Arc::new(HeldSession::from_store(row, answers))),
            ),
            Err(e) => {
                tracing::error!(session_id = %id, error = %e, "session lookup failed: no CCA");
                None
            }
        }
    }

    /// Handles one CCR; `None` when nothing could be made durable (no answer). Past
    /// `max_pending_ccrs` CCRs at once the answer is 3004 DIAMETER_TOO_BUSY, at once: a CTF
    /// that waits in our queue past its Tx timer retransmits and doubles the load instead.
    pub async fn on_ccr(&self, req: Message) -> Option<Message> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        /// Counts the CCR out again however its future ends (answered or dropped).
        struct Pending<'a>(&'a AtomicUsize);
        impl Drop for Pending<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let pending = self.pending.fetch_add(1, Ordering::Relaxed);
        let _counted = Pending(&self.pending);
        if self.config.max_pending_ccrs > 0 && pending >= self.config.max_pending_ccrs {
            metrics::counter!("diameter_ro_shed_total").increment(1);
            tracing::debug!(session_id = ?req.session_id(), pending, "OCF busy: 3004");
            Some(self.error(
                &req,
                &AvpError::new(
                    result_code::DIAMETER_TOO_BUSY,
                    None,
                    "too many credit-control requests in progress; retry or use another OCF",
                ),
            ))
        } else {
            self.answer_ccr(req).await
        }
    }

    async fn answer_ccr(&self, req: Message) -> Option<Message> {
        let ccr = match Ccr::parse(&req) {
            Ok(c) => c,
            Err(e) => return Some(self.error(&req, &e)),
        };
        let held = self.held_session(&ccr.session_id).await?;
        if let Some(answer) = self.replay(&req, &ccr, &held).await {
            return Some(answer);
        }
        let session = held.row.as_ref();
        let now = Utc::now();
        // Who pays: the session's account, or the first known Subscription-Id.
        let (account_id, subscriber) = match (session, ccr.request_type) {
            (Some(s), CcRequestType::Update | CcRequestType::Termination) if s.state == "OPEN" => {
                (s.account.clone(), s.subscriber.clone())
            }
            (_, CcRequestType::Update | CcRequestType::Termination) => {
                tracing::info!(session_id = %ccr.session_id, peer = %ccr.origin_host,
                    "CCR for a session that is not open: 5002");
                return Some(self.cca(&req, &ccr, result_code::DIAMETER_UNKNOWN_SESSION_ID));
            }
            _ => {
                let mut found = None;
                for s in &ccr.subscription_ids {
                    let Some(kind) = subscription_id_type_name(s.kind) else {
                        continue;
                    };
                    match self.store.ro_subscriber(kind, &s.data).await {
                        Ok(Some(sub)) => {
                            found = Some((sub, format!("{kind}:{}", s.data)));
                            break;
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::error!(error = %e, "subscriber lookup failed: no CCA");
                            return None;
                        }
                    }
                }
                match found {
                    None => {
                        tracing::info!(session_id = %ccr.session_id, peer = %ccr.origin_host,
                            subscription_ids = ?ccr.subscription_ids, "no subscriber for the Subscription-Id: 5030");
                        return self
                            .store_and_answer(&req, &ccr, code::USER_UNKNOWN, now)
                            .await;
                    }
                    Some((sub, _)) if sub.barred => {
                        tracing::info!(session_id = %ccr.session_id, account = %sub.account, "barred subscriber: 4010");
                        return self
                            .store_and_answer(&req, &ccr, code::END_USER_SERVICE_DENIED, now)
                            .await;
                    }
                    Some((sub, key)) => (Some(sub.account), Some(key)),
                }
            }
        };
        let Some(account_id) = account_id else {
            return Some(self.cca(&req, &ccr, result_code::DIAMETER_UNKNOWN_SESSION_ID));
        };
        let _guard = self.stripe(&account_id).lock().await;
        for _ in 0..ATTEMPTS {
            // A copy of this request may have been answered while we waited, and an earlier
            // CCR of the session may have changed it: look again under the lock.
            let held = self.held_session(&ccr.session_id).await?;
            if let Some(answer) = self.replay(&req, &ccr, &held).await {
                return Some(answer);
            }
            let session = held
                .row
                .as_ref()
                .filter(|s| s.state == "OPEN" || ccr.request_type == CcRequestType::Initial);
            if session.is_none()
                && matches!(
                    ccr.request_type,
                    CcRequestType::Update | CcRequestType::Termination
                )
            {
                return Some(self.cca(&req, &ccr, result_code::DIAMETER_UNKNOWN_SESSION_ID));
            }
            match self
                .attempt(
                    &req,
                    &ccr,
                    &held,
                    session,
                    &account_id,
                    subscriber.as_deref(),
                )
                .await
            {
                Outcome::Answer(a) => return Some(a),
                Outcome::NoAnswer => return None,
                Outcome::Retry => {
                    // Memory was behind the store: read both again.
                    self.held.forget_session(&ccr.session_id);
                    self.held.forget_account(&account_id);
                    metrics::counter!("diameter_ro_stale_plans_total").increment(1);
                }
            }
        }
        tracing::error!(session_id = %ccr.session_id, account = %account_id, "account kept changing under the CCR: no CCA");
        None
    }

    /// An answer with no ledger effect (unknown user, barred), kept for retransmissions.
    async fn store_and_answer(
        &self,
        req: &Message,
        ccr: &Ccr,
        result: u32,
        now: DateTime<Utc>,
    ) -> Option<Message> {
        let answer = self.cca(req, ccr, result);
        let row = RoAnswerRow {
            session_id: ccr.session_id.clone(),
            request_number: i64::from(ccr.request_number),
            request_type: ccr.request_type as i64,
            result_code: i64::from(result),
            answer: answer.encode(),
            answered_at: now,
        };
        match self.store.write(vec![Write::RoAnswer(Box::new(row))]).await {
            Ok(()) => {
                // The next look at this Session-Id reads the store, which has the answer.
                self.held.forget_session(&ccr.session_id);
                Some(answer)
            }
            Err(e) => {
                tracing::error!(session_id = %ccr.session_id, error = %e, "answer not stored: no CCA");
                None
            }
        }
    }

    /// The account as this node holds it, read from the store the first time.
    async fn held_account(
        &self,
        id: &str,
    ) -> unicharge_store::Result<Option<Arc<unicharge_core::ledger::Account>>> {
        if let Some(a) = self.held.account(id) {
            return Ok(Some(a));
        }
        Ok(self.store.ledger_account(id).await?.map(Arc::new))
    }

    async fn attempt(
        &self,
        req: &Message,
        ccr: &Ccr,
        held: &HeldSession,
        session: Option<&RoSessionRow>,
        account_id: &str,
        subscriber: Option<&str>,
    ) -> Outcome {
        let now = Utc::now();
        let (account, tariffs) = match (
            self.held_account(account_id).await,
            self.store.ro_tariffs().await,
        ) {
            (Ok(Some(a)), Ok(t)) => (Arc::unwrap_or_clone(a), t),
            (Ok(None), _) => {
                tracing::error!(account = %account_id, "subscriber's ledger account does not exist: 5012");
                return Outcome::Answer(self.cca(req, ccr, result_code::DIAMETER_UNABLE_TO_COMPLY));
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "account or tariff lookup failed: no CCA");
                return Outcome::NoAnswer;
            }
        };
        let held_seq = account.seq;
        let mut plan = Plan {
            ledger: vec![],
            account,
            mscc: vec![],
            extra: vec![],
            grants: session.map(|s| s.data.grants.clone()).unwrap_or_default(),
            debited: Decimal::ZERO,
            codes: vec![],
        };
        let sid = &ccr.session_id;
        let num = ccr.request_number;
        let terminate_requested = session.is_some_and(|s| s.terminate_requested);
        if let Some(s) = session {
            let expected = s.last_request_number + 1;
            if ccr.request_type != CcRequestType::Initial && i64::from(num) != expected {
                tracing::warn!(session_id = %sid, expected, got = num, "CC-Request-Number out of sequence");
                metrics::counter!("diameter_ro_sequence_anomalies_total").increment(1);
            }
        } else if ccr.request_type == CcRequestType::Initial && num != 0 {
            tracing::warn!(session_id = %sid, got = num, "CCR-Initial with CC-Request-Number other than 0");
        }
        let mut result = result_code::DIAMETER_SUCCESS;
        match ccr.request_type {
            CcRequestType::Event => self.plan_event(ccr, &tariffs, &mut plan, now),
            CcRequestType::Initial | CcRequestType::Update | CcRequestType::Termination => {
                self.plan_usage(ccr, &tariffs, &mut plan, now);
                if terminate_requested || ccr.request_type == CcRequestType::Termination {
                    self.plan_release_all(sid, num, &mut plan, now);
                    if terminate_requested {
                        result = result_code::DIAMETER_AUTHORIZATION_REJECTED;
                    }
                } else {
                    self.plan_grants(ccr, &tariffs, &mut plan, now);
                }
            }
        }
        // Top level: success when any service succeeded, or for UPDATE/TERMINATION whose
        // per-service outcome is in the MSCCs; else the services' (common) failure.
        if result == result_code::DIAMETER_SUCCESS
            && matches!(
                ccr.request_type,
                CcRequestType::Initial | CcRequestType::Event
            )
            && !plan.codes.is_empty()
            && plan
                .codes
                .iter()
                .all(|c| *c != result_code::DIAMETER_SUCCESS)
        {
            result = plan.codes[0];
        }
        let mut answer = self.cca(req, ccr, result);
        for m in plan.mscc.drain(..) {
            answer.push(m);
        }
        for a in plan.extra.drain(..) {
            answer.push(a);
        }
        if ccr.request_type == CcRequestType::Initial && self.config.offline_charging {
            answer.push(self.offline_charging());
        }
        if ccr.request_type == CcRequestType::Termination || terminate_requested {
            let total = session.map_or(Decimal::ZERO, |s| s.data.debited) + plan.debited;
            if let Some(c) = cost_information(total, &plan.account.unit, None) {
                answer.push(c);
            }
        }
        if matches!(
            ccr.request_type,
            CcRequestType::Initial | CcRequestType::Update | CcRequestType::Termination
        ) {
            if let Some(r) = remaining_balance(&plan.account) {
                answer.push(r);
            }
        }
        let closes = terminate_requested
            || matches!(
                ccr.request_type,
                CcRequestType::Termination | CcRequestType::Event
            );
        let row = RoSessionRow {
            session_id: sid.clone(),
            origin_host: session.map_or_else(|| ccr.origin_host.clone(), |s| s.origin_host.clone()),
            origin_realm: session
                .map_or_else(|| ccr.origin_realm.clone(), |s| s.origin_realm.clone()),
            account: Some(account_id.to_owned()),
            subscriber: subscriber.map(str::to_owned),
            state: if closes { "CLOSED" } else { "OPEN" }.into(),
            closed_reason: closes.then(|| {
                if terminate_requested {
                    "OPERATOR"
                } else if ccr.request_type == CcRequestType::Event {
                    "EVENT"
                } else {
                    "TERMINATION_REQUEST"
                }
                .to_owned()
            }),
            last_request_number: i64::from(num),
            terminate_requested,
            created_at: session.map_or(now, |s| s.created_at),
            updated_at: now,
            expires_at: now + chrono::Duration::from_std(self.config.tcc).unwrap_or_default(),
            data: RoSessionData {
                grants: if closes { vec![] } else { plan.grants.clone() },
                debited: session.map_or(Decimal::ZERO, |s| s.data.debited) + plan.debited,
            },
            // The version after the one held (any row of this Session-Id, open or not).
            version: held.row.as_ref().map_or(1, |s| s.version + 1),
        };
        let stored = RoAnswerRow {
            session_id: sid.clone(),
            request_number: i64::from(num),
            request_type: ccr.request_type as i64,
            result_code: i64::from(result),
            answer: answer.encode(),
            answered_at: now,
        };
        // Planned on the account as held: committed only if no one moved it since.
        let mut batch = vec![Write::LedgerUnchanged {
            account: account_id.to_owned(),
            seq: held_seq,
        }];
        batch.extend(plan.ledger.into_iter().map(|r| Write::Ledger(Box::new(r))));
        let encoded = stored.answer.clone();
        batch.push(Write::RoSession(Box::new(row.clone())));
        batch.push(Write::RoAnswer(Box::new(stored)));
        match self.store.write(batch).await {
            Ok(()) => {
                self.held.put_account(plan.account);
                self.held
                    .put_session(sid, held.after(Some(row), i64::from(num), &encoded));
                tracing::debug!(session_id = %sid, peer = %ccr.origin_host, request_type = ?ccr.request_type,
                    request_number = num, result, "CCR answered");
                metrics::counter!("diameter_ro_ccr_total", "request_type" => format!("{:?}", ccr.request_type), "result_code" => result.to_string()).increment(1);
                Outcome::Answer(answer)
            }
            Err(e @ (StoreError::Ledger(_) | StoreError::Stale(_))) => {
                tracing::info!(session_id = %sid, error = %e, "account or session changed under the CCR: planned again");
                Outcome::Retry
            }
            Err(e) => {
                tracing::error!(session_id = %sid, peer = %ccr.origin_host, error = %e,
                    "CCR not stored: no CCA (the CTF will retransmit)");
                Outcome::NoAnswer
            }
        }
    }

    /// The MSCC extras of a grant of `unit`: thresholds, holding/consumption time, triggers.
    fn grant_extras(&self, unit: QuotaUnit, update: bool) -> Vec<Avp> {
        let c = &self.config;
        let mut v = vec![];
        {
            let threshold = match unit {
                QuotaUnit::Time => c.time_quota_threshold.map(|t| ("Time-Quota-Threshold", t)),
                QuotaUnit::Volume => c
                    .volume_quota_threshold
                    .map(|t| ("Volume-Quota-Threshold", t)),
                QuotaUnit::ServiceSpecific => {
                    c.unit_quota_threshold.map(|t| ("Unit-Quota-Threshold", t))
                }
                // RFC 8506 / TS 32.299 define no threshold for money quotas.
                QuotaUnit::Money => None,
            };
            if let Some((name, t)) = threshold {
                v.push(Avp::u32(name, t));
            }
        }
        if let Some(t) = c.quota_holding_time {
            v.push(Avp::u32("Quota-Holding-Time", t));
        }
        if unit == QuotaUnit::Time {
            if let Some(t) = c.quota_consumption_time {
                v.push(Avp::u32("Quota-Consumption-Time", t));
            }
            if let Some((kind, base)) = c.time_quota_mechanism {
                let mut m = vec![Avp::enumerated("Time-Quota-Type", kind)];
                if base > 0 {
                    m.push(Avp::u32("Base-Time-Interval", base));
                }
                v.push(Avp::grouped("Time-Quota-Mechanism", m));
            }
        }
        if let Some(e) = c.envelope_reporting {
            v.push(Avp::enumerated("Envelope-Reporting", e));
        }
        if update && c.reset_triggers_on_update {
            // No Trigger-Type: every trigger armed before is reset.
            v.push(Avp::grouped("Trigger", vec![]));
        } else if !c.triggers.is_empty() {
            v.push(Avp::grouped(
                "Trigger",
                c.triggers
                    .iter()
                    .map(|t| Avp::enumerated("Trigger-Type", *t))
                    .collect(),
            ));
        }
        v
    }

    /// Service-Information{PS-Information{Offline-Charging}} (TS 32.299 §6.5.8, §7.2.134).
    fn offline_charging(&self) -> Avp {
        let c = &self.config;
        let mut o = vec![];
        if let Some(t) = c.quota_consumption_time {
            o.push(Avp::u32("Quota-Consumption-Time", t));
        }
        if let Some((kind, base)) = c.time_quota_mechanism {
            let mut m = vec![Avp::enumerated("Time-Quota-Type", kind)];
            if base > 0 {
                m.push(Avp::u32("Base-Time-Interval", base));
            }
            o.push(Avp::grouped("Time-Quota-Mechanism", m));
        }
        if let Some(e) = c.envelope_reporting {
            o.push(Avp::enumerated("Envelope-Reporting", e));
        }
        Avp::grouped(
            "Service-Information",
            vec![Avp::grouped(
                "PS-Information",
                vec![Avp::grouped("Offline-Charging", o)],
            )],
        )
    }

    fn final_unit_indication(&self) -> FinalUnitIndication {
        match &self.config.final_unit_action {
            FinalUnitAction::Terminate => FinalUnitIndication {
                action: 0,
                restriction_filter_rules: vec![],
                redirect_server: None,
            },
            FinalUnitAction::Redirect { address } => FinalUnitIndication {
                action: 1,
                restriction_filter_rules: vec![],
                // Redirect-Address-Type 2: URL.
                redirect_server: Some((2, address.clone())),
            },
            FinalUnitAction::RestrictAccess { filters } => FinalUnitIndication {
                action: 2,
                restriction_filter_rules: filters.iter().map(|f| f.as_bytes().to_vec()).collect(),
                redirect_server: None,
            },
        }
    }

    /// The services of the request: its MSCCs, or the default rating group for a CCR without
    /// any (INITIAL / EVENT only).
    fn services(&self, ccr: &Ccr) -> Vec<Mscc> {
        if !ccr.mscc.is_empty() {
            return ccr.mscc.clone();
        }
        match (ccr.request_type, self.config.default_rating_group) {
            (CcRequestType::Initial | CcRequestType::Event, Some(rg)) => vec![Mscc {
                rating_group: Some(rg),
                ..Default::default()
            }],
            _ => vec![],
        }
    }

    /// Used-Service-Units of UPDATE / TERMINATION (and of an INITIAL that carries them, as
    /// TP_RO_OCF_CH_02 does): each rated on its side of the tariff switch, committed against
    /// the grant of its rating group (or debited when it had none).
    fn plan_usage(&self, ccr: &Ccr, tariffs: &[OnlineTariff], plan: &mut Plan, now: DateTime<Utc>) {
        let sid = &ccr.session_id;
        let num = ccr.request_number;
        for m in ccr.mscc.iter().filter(|m| !m.used.is_empty()) {
            let si = m.service_identifiers.first().copied();
            let key = m
                .rating_group
                .map_or_else(|| format!("s{}", si.unwrap_or(0)), |r| r.to_string());
            let held = plan.grants.iter().position(|g| {
                g.rating_group == m.rating_group
                    && (g.rating_group.is_some() || g.service_identifier == si)
            });
            let tariff_id = held.map(|i| plan.grants[i].tariff.clone());
            let tariff = match tariff_id
                .as_deref()
                .and_then(|id| tariffs.iter().find(|t| t.id == id))
                .map(Ok)
                .unwrap_or_else(|| find_tariff(tariffs, m.rating_group, si))
            {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(session_id = %sid, error = %e, "usage cannot be rated");
                    continue;
                }
            };
            let mut cost = Decimal::ZERO;
            let mut ok = true;
            for u in &m.used {
                let units = units_of(u, tariff).unwrap_or(0);
                let price = tariff.price_for(SwitchSide::from_tariff_change_usage(
                    u.tariff_change_usage,
                    now,
                ));
                match tariff.cost(&plan.account.unit, units, price) {
                    Ok(c) => cost += c,
                    Err(e) => {
                        tracing::warn!(session_id = %sid, error = %e, "usage cannot be rated");
                        ok = false;
                    }
                }
            }
            if !ok {
                continue;
            }
            match held {
                Some(i) => {
                    let g = plan.grants.remove(i);
                    plan.apply(
                        format!("ro:{sid}:{num}:{key}:commit"),
                        Operation::Commit {
                            reservation: g.reservation,
                            used: cost,
                            close: true,
                        },
                        now,
                    );
                }
                None => {
                    plan.apply(
                        format!("ro:{sid}:{num}:{key}:debit"),
                        Operation::Debit {
                            amount: cost,
                            partial: true,
                        },
                        now,
                    );
                }
            }
        }
    }

    /// Releases every grant still held (TERMINATION, or service ended by the operator).
    fn plan_release_all(&self, sid: &str, num: u32, plan: &mut Plan, now: DateTime<Utc>) {
        for g in std::mem::take(&mut plan.grants) {
            plan.apply(
                format!("ro:{sid}:{num}:{}:release", g.reservation),
                Operation::Release {
                    reservation: g.reservation,
                },
                now,
            );
        }
    }

    /// Requested-Service-Units of INITIAL / UPDATE → grants reserved on the ledger.
    fn plan_grants(
        &self,
        ccr: &Ccr,
        tariffs: &[OnlineTariff],
        plan: &mut Plan,
        now: DateTime<Utc>,
    ) {
        let sid = &ccr.session_id;
        let num = ccr.request_number;
        for m in self.services(ccr) {
            // UPDATE: only services that ask again (RSU) get a new grant.
            if ccr.request_type == CcRequestType::Update && m.requested.is_none() {
                continue;
            }
            let si = m.service_identifiers.first().copied();
            let key = m
                .rating_group
                .map_or_else(|| format!("s{}", si.unwrap_or(0)), |r| r.to_string());
            let mut out = Mscc {
                rating_group: m.rating_group,
                service_identifiers: m.service_identifiers.clone(),
                validity_time: self.config.validity_time,
                ..Default::default()
            };
            let tariff = match find_tariff(tariffs, m.rating_group, si) {
                Ok(t) => t,
                Err(e) => {
                    tracing::info!(session_id = %sid, error = %e, "5031 for the service");
                    out.validity_time = None;
                    out.result_code = Some(code::RATING_FAILED);
                    plan.codes.push(code::RATING_FAILED);
                    plan.mscc.push(out.to_avp_with(vec![]));
                    continue;
                }
            };
            if tariff.is_free() {
                out.validity_time = None;
                out.result_code = Some(code::CREDIT_CONTROL_NOT_APPLICABLE);
                plan.codes.push(code::CREDIT_CONTROL_NOT_APPLICABLE);
                plan.mscc.push(out.to_avp_with(vec![]));
                continue;
            }
            // A grant still held for the service (INITIAL repeated, UPDATE without usage) is
            // released first: the new grant replaces it.
            if let Some(i) = plan
                .grants
                .iter()
                .position(|g| g.rating_group == m.rating_group && g.service_identifier == si)
            {
                let g = plan.grants.remove(i);
                plan.apply(
                    format!("ro:{sid}:{num}:{key}:replace"),
                    Operation::Release {
                        reservation: g.reservation,
                    },
                    now,
                );
            }
            let requested = m.requested.as_ref().and_then(|r| units_of(r, tariff));
            let q = match quota(
                tariff,
                &plan.account.unit,
                plan.account.available(),
                requested,
                now,
            ) {
                Ok(q) => q,
                Err(e) => {
                    tracing::warn!(session_id = %sid, error = %e, "5031 for the service");
                    out.validity_time = None;
                    out.result_code = Some(code::RATING_FAILED);
                    plan.codes.push(code::RATING_FAILED);
                    plan.mscc.push(out.to_avp_with(vec![]));
                    continue;
                }
            };
            if q.units == 0 {
                out.validity_time = None;
                out.result_code = Some(code::CREDIT_LIMIT_REACHED);
                if ccr.request_type == CcRequestType::Update {
                    out.final_unit_indication = Some(self.final_unit_indication());
                }
                plan.codes.push(code::CREDIT_LIMIT_REACHED);
                plan.mscc.push(out.to_avp_with(vec![]));
                continue;
            }
            let reservation = format!("ro:{sid}:{key}:{num}");
            if q.cost > Decimal::ZERO
                && !plan.apply(
                    format!("ro:{sid}:{num}:{key}:reserve"),
                    Operation::Reserve {
                        reservation: reservation.clone(),
                        amount: q.cost,
                        minimum: q.cost,
                    },
                    now,
                )
            {
                out.validity_time = None;
                out.result_code = Some(code::CREDIT_LIMIT_REACHED);
                plan.codes.push(code::CREDIT_LIMIT_REACHED);
                plan.mscc.push(out.to_avp_with(vec![]));
                continue;
            }
            let mut gsu = service_unit(tariff, q.units);
            gsu.tariff_time_change = tariff.pending_switch(now).map(|s| Time::from_utc(s.at));
            out.granted = Some(gsu);
            out.result_code = Some(result_code::DIAMETER_SUCCESS);
            if q.final_units {
                out.final_unit_indication = Some(self.final_unit_indication());
            }
            if self.config.credit_pooling {
                if let Unit::Money(_) = plan.account.unit {
                    // Credit per unit; rounded up so the pool is never overdrawn.
                    let per_unit = (tariff.reservation_price(now)
                        / Decimal::from(tariff.block.max(1)))
                    .round_dp_with_strategy(10, rust_decimal::RoundingStrategy::AwayFromZero);
                    let (digits, exponent) = unit_value(per_unit);
                    out.gsu_pool_reference.push(GsuPoolReference {
                        pool_id: 1,
                        unit_type: match tariff.unit {
                            QuotaUnit::Time => 0,
                            QuotaUnit::Volume => 2,
                            QuotaUnit::ServiceSpecific => 5,
                            QuotaUnit::Money => 1,
                        },
                        value_digits: digits,
                        exponent: (exponent != 0).then_some(exponent),
                    });
                }
            }
            plan.codes.push(result_code::DIAMETER_SUCCESS);
            if q.cost > Decimal::ZERO {
                plan.grants.push(RoGrant {
                    rating_group: m.rating_group,
                    service_identifier: si,
                    tariff: tariff.id.clone(),
                    reservation,
                    units: q.units,
                    reserved: q.cost,
                    granted_at: now,
                });
            }
            plan.mscc.push(out.to_avp_with(
                self.grant_extras(tariff.unit, ccr.request_type == CcRequestType::Update),
            ));
        }
    }

    /// EVENT requests: DIRECT_DEBITING, REFUND_ACCOUNT, CHECK_BALANCE, PRICE_ENQUIRY
    /// (RFC 8506 §6).
    fn plan_event(&self, ccr: &Ccr, tariffs: &[OnlineTariff], plan: &mut Plan, now: DateTime<Utc>) {
        let sid = &ccr.session_id;
        let num = ccr.request_number;
        let action = ccr
            .requested_action
            .unwrap_or(RequestedAction::DirectDebiting);
        if action == RequestedAction::CheckBalance {
            // RFC 8506 §8.43 Check-Balance-Result: 0 ENOUGH_CREDIT, 1 NO_CREDIT.
            let enough = plan.account.available() > Decimal::ZERO;
            plan.extra.push(Avp::enumerated(
                "Check-Balance-Result",
                if enough { 0 } else { 1 },
            ));
            if let Some(r) = remaining_balance(&plan.account) {
                plan.extra.push(r);
            }
        }
        for m in self.services(ccr) {
            let si = m.service_identifiers.first().copied();
            let key = m
                .rating_group
                .map_or_else(|| format!("s{}", si.unwrap_or(0)), |r| r.to_string());
            let mut out = Mscc {
                rating_group: m.rating_group,
                service_identifiers: m.service_identifiers.clone(),
                ..Default::default()
            };
            let tariff = match find_tariff(tariffs, m.rating_group, si) {
                Ok(t) => t,
                Err(e) => {
                    tracing::info!(session_id = %sid, error = %e, "5031 for the service");
                    out.result_code = Some(code::RATING_FAILED);
                    plan.codes.push(code::RATING_FAILED);
                    plan.mscc.push(out.to_avp_with(vec![]));
                    continue;
                }
            };
            let units = m
                .requested
                .as_ref()
                .and_then(|r| units_of(r, tariff))
                .or_else(|| m.used.first().and_then(|u| units_of(u, tariff)))
                .unwrap_or(tariff.default_grant.max(1));
            let price = tariff.price_at(now);
            let cost = match tariff.cost(&plan.account.unit, units, price) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(session_id = %sid, error = %e, "5031 for the service");
                    out.result_code = Some(code::RATING_FAILED);
                    plan.codes.push(code::RATING_FAILED);
                    plan.mscc.push(out.to_avp_with(vec![]));
                    continue;
                }
            };
            let mut result = result_code::DIAMETER_SUCCESS;
            match action {
                RequestedAction::DirectDebiting => {
                    if tariff.is_free() {
                        result = code::CREDIT_CONTROL_NOT_APPLICABLE;
                    } else if !plan.apply(
                        format!("ro:{sid}:{num}:{key}:debit"),
                        Operation::Debit {
                            amount: cost,
                            partial: false,
                        },
                        now,
                    ) {
                        result = code::CREDIT_LIMIT_REACHED;
                    } else {
                        out.granted = Some(service_unit(tariff, units));
                    }
                }
                RequestedAction::RefundAccount => {
                    if cost > Decimal::ZERO
                        && !plan.apply(
                            format!("ro:{sid}:{num}:{key}:refund"),
                            Operation::TopUp { amount: cost },
                            now,
                        )
                    {
                        result = result_code::DIAMETER_UNABLE_TO_COMPLY;
                    } else {
                        out.granted = Some(service_unit(tariff, units));
                    }
                }
                RequestedAction::CheckBalance => {
                    // What the balance buys now, and when the price changes.
                    let affordable = tariff
                        .affordable(
                            &plan.account.unit,
                            plan.account.available(),
                            tariff.reservation_price(now),
                        )
                        .unwrap_or(0);
                    let mut gsu = service_unit(tariff, affordable.min(u64::from(u32::MAX)));
                    gsu.tariff_time_change =
                        tariff.pending_switch(now).map(|s| Time::from_utc(s.at));
                    out.granted = Some(gsu);
                }
                RequestedAction::PriceEnquiry => {
                    if let Some(c) =
                        cost_information(cost, &plan.account.unit, None).or_else(|| {
                            // A unit account: the price in the tariff's own currency.
                            cost_information(
                                tariff
                                    .cost(&Unit::Money(tariff.currency.clone()), units, price)
                                    .ok()?,
                                &Unit::Money(tariff.currency.clone()),
                                None,
                            )
                        })
                    {
                        // Cost-Information is a CCA-level AVP (RFC 8506 §3.2): the first
                        // service's price.
                        if !plan.extra.iter().any(|a| a.name() == "Cost-Information") {
                            plan.extra.push(c);
                        }
                    }
                }
            }
            out.result_code = Some(result);
            plan.codes.push(result);
            plan.mscc.push(out.to_avp_with(vec![]));
        }
        if action == RequestedAction::DirectDebiting || action == RequestedAction::RefundAccount {
            if let Some(r) = remaining_balance(&plan.account) {
                plan.extra.push(r);
            }
        }
    }

    /// Tcc supervision: sessions without a CCR for Tcc are closed and their reservations
    /// released (RFC 8506 §13, Tcc).
    pub async fn supervise(&self, now: DateTime<Utc>) {
        let expired = match self.store.ro_expired_sessions(now).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "Tcc supervision: sessions not read");
                return;
            }
        };
        for s in expired {
            let Some(account) = s.account.clone() else {
                continue;
            };
            let _guard = self.stripe(&account).lock().await;
            let Ok(Some(mut s)) = self.store.ro_session(&s.session_id).await else {
                continue;
            };
            if s.state != "OPEN" || s.expires_at > now {
                continue;
            }
            let mut batch = vec![];
            for g in std::mem::take(&mut s.data.grants) {
                batch.push(Write::Ledger(Box::new(Request {
                    account: account.clone(),
                    reference: format!("ro:{}:tcc:{}:release", s.session_id, g.reservation),
                    operation: Operation::Release {
                        reservation: g.reservation,
                    },
                    at: now,
                })));
            }
            tracing::warn!(session_id = %s.session_id, peer = %s.origin_host, released = batch.len(),
                "credit-control session silent past Tcc: closed, reservations released");
            s.state = "CLOSED".into();
            s.closed_reason = Some("SUPERVISION_TIMEOUT".into());
            s.updated_at = now;
            s.version += 1;
            let id = s.session_id.clone();
            batch.push(Write::RoSession(Box::new(s)));
            if let Err(e) = self.store.write(batch).await {
                tracing::error!(error = %e, "Tcc supervision: session not closed");
            }
            // Either way memory may be behind the store now.
            self.held.forget_session(&id);
            self.held.forget_account(&account);
        }
    }

    /// Runs [`Ocf::supervise`] every `every` until the task is dropped.
    pub async fn run_supervision(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.supervise(Utc::now()).await;
        }
    }

    /// The operator ends a session: an ASR goes to the CTF (RFC 8506 §5.5, TS 32.299
    /// §6.5.5) and the session's next CCR is answered 5003. Returns the ASA's Result-Code.
    pub async fn abort_session(
        &self,
        peers: &PeerTable,
        session_id: &str,
    ) -> Result<Option<u32>, RoCallError> {
        let s = self
            .store
            .ro_session(session_id)
            .await
            .map_err(|e| RoCallError::Store(e.to_string()))?
            .filter(|s| s.state == "OPEN")
            .ok_or_else(|| RoCallError::UnknownSession(session_id.to_owned()))?;
        self.store
            .ro_request_termination(session_id)
            .await
            .map_err(|e| RoCallError::Store(e.to_string()))?;
        self.held.forget_session(session_id);
        let asr = Message::request(cmd::ABORT_SESSION, app::CREDIT_CONTROL, 0, 0)
            .with(Avp::utf8("Session-Id", session_id))
            .with(Avp::identity("Origin-Host", &self.config.origin_host))
            .with(Avp::identity("Origin-Realm", &self.config.origin_realm))
            .with(Avp::identity("Destination-Realm", &s.origin_realm))
            .with(Avp::identity("Destination-Host", &s.origin_host))
            .with(Avp::u32("Auth-Application-Id", app::CREDIT_CONTROL));
        self.send(peers, &s.origin_host, asr).await
    }

    /// Re-authorization (RFC 8506 §5.5): an RAR asks the CTF to report usage and ask for new
    /// quota in a CCR-Update. Returns the RAA's Result-Code.
    pub async fn reauthorize(
        &self,
        peers: &PeerTable,
        session_id: &str,
    ) -> Result<Option<u32>, RoCallError> {
        let s = self
            .store
            .ro_session(session_id)
            .await
            .map_err(|e| RoCallError::Store(e.to_string()))?
            .filter(|s| s.state == "OPEN")
            .ok_or_else(|| RoCallError::UnknownSession(session_id.to_owned()))?;
        let rar = Message::request(cmd::RE_AUTH, app::CREDIT_CONTROL, 0, 0)
            .with(Avp::utf8("Session-Id", session_id))
            .with(Avp::identity("Origin-Host", &self.config.origin_host))
            .with(Avp::identity("Origin-Realm", &self.config.origin_realm))
            .with(Avp::identity("Destination-Realm", &s.origin_realm))
            .with(Avp::identity("Destination-Host", &s.origin_host))
            .with(Avp::u32("Auth-Application-Id", app::CREDIT_CONTROL))
            // AUTHORIZE_ONLY (0).
            .with(Avp::enumerated("Re-Auth-Request-Type", 0));
        self.send(peers, &s.origin_host, rar).await
    }

    async fn send(
        &self,
        peers: &PeerTable,
        host: &str,
        m: Message,
    ) -> Result<Option<u32>, RoCallError> {
        let peer = peers
            .get(host)
            .ok_or_else(|| RoCallError::Unreachable(format!("no open connection to {host}")))?;
        let answer = peer
            .request(m, self.config.request_timeout)
            .await
            .map_err(|e| RoCallError::Unreachable(e.to_string()))?;
        Ok(answer.result_code())
    }
}

/// Routes requests of an open peer: CCR to the OCF, everything else to the Rf CDF.
pub struct Dispatch {
    pub cdf: Arc<unicharge_diameter::rf::cdf::Cdf>,
    pub ocf: Option<Arc<Ocf>>,
}

impl RequestHandler for Dispatch {
    fn handle(&self, request: Message, peer: PeerHandle) -> BoxFuture<'_, Option<Message>> {
        match (&self.ocf, request.header.command_code) {
            (Some(ocf), cmd::CREDIT_CONTROL) => {
                let ocf = ocf.clone();
                Box::pin(async move { ocf.on_ccr(request).await })
            }
            _ => self.cdf.handle(request, peer),
        }
    }
}
