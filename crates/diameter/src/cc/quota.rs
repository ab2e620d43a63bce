//! The credit-control client's side of one granted quota: what a CTF must do between two
//! CCRs (RFC 8506 §5.1.2, §5.6; 3GPP TS 32.299 §5.1.2.2 and §6.5 "other procedures").
//!
//! Free of I/O and of the clock: the caller feeds traffic with its time stamps and asks,
//! with the time it wants, whether a report is due ([`Quota::due`]) and for the
//! Multiple-Services-Credit-Control that reports it ([`Quota::report`]). What it covers:
//!
//! - consumption of granted time, volume and service-specific units, with the time counted
//!   continuously, by Quota-Consumption-Time (an envelope closes QCT after the last packet),
//!   or by Time-Quota-Mechanism (discrete or continuous time periods of Base-Time-Interval);
//! - the reasons to report (Reporting-Reason, TS 32.299 §7.2.175): thresholds, quota
//!   exhausted, the other quota type, Quota-Holding-Time, Validity-Time, triggers (rating
//!   condition change), forced re-authorisation, final — each placed where TS 32.299 puts
//!   it (in the Used-Service-Unit for the reasons about one quota type, at MSCC level for
//!   the others);
//! - Envelope-Reporting: envelopes with their start and end, volumes and events as asked;
//! - Tariff-Time-Change: usage split into two Used-Service-Units by Tariff-Change-Usage;
//! - Final-Unit-Indication: when the final units are used, the action to take.

use chrono::{DateTime, Duration, Utc};

use super::{FinalUnitIndication, Mscc, ServiceUnit};
use crate::avp::{Avp, Time, Value};

/// Reporting-Reason (TS 32.299 §7.2.175).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ReportingReason {
    Threshold = 0,
    QuotaHoldingTime = 1,
    Final = 2,
    QuotaExhausted = 3,
    ValidityTime = 4,
    OtherQuotaType = 5,
    RatingConditionChange = 6,
    ForcedReauthorisation = 7,
    PoolExhausted = 8,
}

impl ReportingReason {
    /// TS 32.299 §7.2.175: THRESHOLD, QUOTA_EXHAUSTED, OTHER_QUOTA_TYPE and POOL_EXHAUSTED
    /// concern a quota type and go in its Used-Service-Unit; the others concern the whole
    /// MSCC and go at its level.
    pub fn in_used_service_unit(self) -> bool {
        matches!(
            self,
            Self::Threshold | Self::QuotaExhausted | Self::OtherQuotaType | Self::PoolExhausted
        )
    }
}

/// Envelope-Reporting (TS 32.299 §7.2.51).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeReporting {
    DoNotReportEnvelopes = 0,
    ReportEnvelopes = 1,
    ReportEnvelopesWithVolume = 2,
    ReportEnvelopesWithEvents = 3,
    ReportEnvelopesWithVolumeAndEvents = 4,
}

impl EnvelopeReporting {
    fn from_i32(v: i32) -> Option<Self> {
        Some(match v {
            0 => Self::DoNotReportEnvelopes,
            1 => Self::ReportEnvelopes,
            2 => Self::ReportEnvelopesWithVolume,
            3 => Self::ReportEnvelopesWithEvents,
            4 => Self::ReportEnvelopesWithVolumeAndEvents,
            _ => return None,
        })
    }
}

/// Time-Quota-Type (TS 32.299 §7.2.214).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeQuotaType {
    DiscreteTimePeriod = 0,
    ContinuousTimePeriod = 1,
}

/// What the client must do now about one quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Send a CCR-Update reporting this quota for the reason.
    Report(ReportingReason),
    /// The final units are used: apply the Final-Unit-Action (RFC 8506 §5.6).
    FinalUnits(FinalUnitIndication),
}

/// Why a grant cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantRejected {
    /// RFC 8506 §5.1.2: a client that does not support tariff time changes and receives a
    /// Tariff-Time-Change terminates the session with Termination-Cause DIAMETER_BAD_ANSWER.
    #[error("Tariff-Time-Change received but tariff changes are not supported")]
    TariffTimeChangeUnsupported,
}

/// Termination-Cause DIAMETER_BAD_ANSWER (RFC 6733 §8.15).
pub const TERMINATION_CAUSE_BAD_ANSWER: i32 = 3;

/// Client choices where the OCF says nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaPolicy {
    /// Quota-Holding-Time (s) used when the CCA carries none (TS 32.299 §5.1.2.2.4; 0 = none).
    pub local_quota_holding_time: u32,
    /// Whether Tariff-Time-Change is honoured (else the grant is refused).
    pub supports_tariff_time_change: bool,
}

impl Default for QuotaPolicy {
    fn default() -> Self {
        QuotaPolicy {
            local_quota_holding_time: 0,
            supports_tariff_time_change: true,
        }
    }
}

/// One envelope of traffic (TS 32.299 §5.1.2.2.8): when it ran and what it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub input_octets: u64,
    pub output_octets: u64,
    pub events: u64,
}

/// Usage on one side of a tariff switch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Usage {
    time_ms: i64,
    input: u64,
    output: u64,
    units: u64,
}

impl Usage {
    fn add(&mut self, o: Usage) {
        self.time_ms += o.time_ms;
        self.input += o.input;
        self.output += o.output;
        self.units += o.units;
    }
}

/// The client's state of one granted MSCC.
#[derive(Debug, Clone)]
pub struct Quota {
    pub rating_group: Option<u32>,
    pub service_identifiers: Vec<u32>,
    granted: ServiceUnit,
    validity_until: Option<DateTime<Utc>>,
    holding_time: u32,
    consumption_time: Option<u32>,
    mechanism: Option<(TimeQuotaType, u32)>,
    time_threshold: Option<u32>,
    volume_threshold: Option<u64>,
    unit_threshold: Option<u64>,
    final_units: Option<FinalUnitIndication>,
    envelope_reporting: EnvelopeReporting,
    tariff_change: Option<DateTime<Utc>>,
    /// Trigger-Types armed by the OCF (TS 32.299 §7.2.208).
    pub triggers: Vec<i32>,
    /// The G-S-U-Pool-Reference the grant draws on: pool id, CC-Unit-Type, multiplier.
    pool: Option<(u32, i32, f64)>,
    /// Usage since the last report, before and after the tariff switch.
    before: Usage,
    after: Usage,
    /// Usage since the grant (for exhaustion and thresholds).
    total: Usage,
    envelopes: Vec<Envelope>,
    open: Option<Envelope>,
    last_traffic: Option<DateTime<Utc>>,
    threshold_reported: bool,
    trigger_fired: Option<i32>,
}

impl Quota {
    /// Takes the grant of one MSCC of a CCA. `raw` is the MSCC AVP as received, for the
    /// TS 32.299 AVPs the typed [`Mscc`] does not carry.
    pub fn grant(
        mscc: &Mscc,
        raw: &Avp,
        now: DateTime<Utc>,
        policy: QuotaPolicy,
    ) -> Result<Quota, GrantRejected> {
        let granted = mscc.granted.clone().unwrap_or_default();
        let tariff_change = granted.tariff_time_change.map(Time::to_utc);
        if tariff_change.is_some() && !policy.supports_tariff_time_change {
            return Err(GrantRejected::TariffTimeChangeUnsupported);
        }
        let u32_of = |n: &str| raw.child(n).and_then(Avp::as_u32);
        let mechanism = raw.child("Time-Quota-Mechanism").and_then(|m| {
            let kind = match m.child("Time-Quota-Type")?.as_i32()? {
                0 => TimeQuotaType::DiscreteTimePeriod,
                1 => TimeQuotaType::ContinuousTimePeriod,
                _ => return None,
            };
            Some((kind, m.child("Base-Time-Interval")?.as_u32()?.max(1)))
        });
        let pool = mscc.gsu_pool_reference.first().map(|p| {
            (
                p.pool_id,
                p.unit_type,
                p.value_digits as f64 * 10f64.powi(p.exponent.unwrap_or(0)),
            )
        });
        Ok(Quota {
            rating_group: mscc.rating_group,
            service_identifiers: mscc.service_identifiers.clone(),
            validity_until: mscc
                .validity_time
                .map(|v| now + Duration::seconds(i64::from(v))),
            holding_time: u32_of("Quota-Holding-Time").unwrap_or(policy.local_quota_holding_time),
            consumption_time: u32_of("Quota-Consumption-Time"),
            mechanism,
            time_threshold: u32_of("Time-Quota-Threshold"),
            volume_threshold: u32_of("Volume-Quota-Threshold").map(u64::from),
            unit_threshold: u32_of("Unit-Quota-Threshold").map(u64::from),
            final_units: mscc.final_unit_indication.clone(),
            envelope_reporting: raw
                .child("Envelope-Reporting")
                .and_then(Avp::as_i32)
                .and_then(EnvelopeReporting::from_i32)
                .unwrap_or(EnvelopeReporting::DoNotReportEnvelopes),
            tariff_change,
            triggers: raw
                .children()
                .unwrap_or_default()
                .iter()
                .filter(|c| c.name() == "Trigger")
                .flat_map(|t| t.children().unwrap_or_default().iter())
                .filter(|c| c.name() == "Trigger-Type")
                .filter_map(Avp::as_i32)
                .collect(),
            pool,
            granted,
            before: Usage::default(),
            after: Usage::default(),
            total: Usage::default(),
            envelopes: vec![],
            open: None,
            last_traffic: None,
            threshold_reported: false,
            trigger_fired: None,
        })
    }

    /// The window after the last packet during which time is still consumed: QCT, or for a
    /// time-quota mechanism without QCT one Base-Time-Interval; `None` = continuous.
    fn idle_window(&self) -> Option<i64> {
        match (self.consumption_time, self.mechanism) {
            (Some(q), _) => Some(i64::from(q) * 1000),
            (None, Some((_, bti))) => Some(i64::from(bti) * 1000),
            (None, None) => None,
        }
    }

    /// Traffic at `at`: octets in each direction and service events.
    pub fn traffic(&mut self, at: DateTime<Utc>, input: u64, output: u64, events: u64) {
        self.close_idle(at);
        let env = self.open.get_or_insert(Envelope {
            start: at,
            end: at,
            input_octets: 0,
            output_octets: 0,
            events: 0,
        });
        env.input_octets += input;
        env.output_octets += output;
        env.events += events;
        env.end = at;
        self.last_traffic = Some(at);
        let side = Usage {
            time_ms: 0,
            input,
            output,
            units: events,
        };
        if self.tariff_change.is_some_and(|t| at >= t) {
            self.after.add(side);
        } else {
            self.before.add(side);
        }
        self.total.add(side);
    }

    /// A trigger armed by the OCF fired (a change of rating conditions).
    pub fn rating_condition_changed(&mut self, trigger_type: i32) {
        if self.triggers.contains(&trigger_type) {
            self.trigger_fired = Some(trigger_type);
        }
    }

    /// The end of the open envelope if it closed before `now` (idle longer than the
    /// window), as the envelope's consumption counts it.
    fn idle_end(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let env = self.open.as_ref()?;
        if let (Some((TimeQuotaType::DiscreteTimePeriod, bti)), None) =
            (self.mechanism, self.consumption_time)
        {
            // DTP: the envelope is the run of Base-Time-Intervals with traffic; it ends with
            // the period of the last packet once the next period passed without any.
            let bti = i64::from(bti) * 1000;
            let into = (env.end - env.start).num_milliseconds();
            let period_end = env.start + Duration::milliseconds((into / bti + 1) * bti);
            return (now >= period_end + Duration::milliseconds(bti)).then_some(period_end);
        }
        let window = self.idle_window()?;
        let end = env.end + Duration::milliseconds(window);
        (now >= end).then(|| self.rounded_end(env.start, end))
    }

    /// An envelope end on the Base-Time-Interval grid anchored at its start (TQM).
    fn rounded_end(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> DateTime<Utc> {
        match self.mechanism {
            Some((_, bti)) => {
                let bti = i64::from(bti) * 1000;
                let len = (end - start).num_milliseconds();
                let periods = (len + bti - 1) / bti;
                start + Duration::milliseconds(periods.max(1) * bti)
            }
            None => end,
        }
    }

    fn close_idle(&mut self, now: DateTime<Utc>) {
        if let Some(end) = self.idle_end(now) {
            self.close_open(end);
        }
    }

    /// Closes the open envelope at `end`, counting its time before / after the switch.
    fn close_open(&mut self, end: DateTime<Utc>) {
        let Some(mut env) = self.open.take() else {
            return;
        };
        env.end = end.max(env.start);
        let (before, after) = match self.tariff_change {
            Some(t) if t <= env.start => (0, (env.end - env.start).num_milliseconds()),
            Some(t) if t < env.end => (
                (t - env.start).num_milliseconds(),
                (env.end - t).num_milliseconds(),
            ),
            _ => ((env.end - env.start).num_milliseconds(), 0),
        };
        self.before.time_ms += before;
        self.after.time_ms += after;
        self.total.time_ms += before + after;
        self.envelopes.push(env);
    }

    /// Time consumed since the grant up to `now`, counting the open envelope.
    fn time_used_ms(&self, now: DateTime<Utc>) -> i64 {
        let open = self.open.as_ref().map_or(0, |e| {
            let end = self
                .idle_end(now)
                .unwrap_or_else(|| self.rounded_end(e.start, now.max(e.end)));
            (end - e.start).num_milliseconds()
        });
        self.total.time_ms + open
    }

    /// What is due at `now`, if anything (the most pressing reason first).
    pub fn due(&self, now: DateTime<Utc>) -> Option<Due> {
        if self.validity_until.is_some_and(|v| now >= v) {
            return Some(Due::Report(ReportingReason::ValidityTime));
        }
        if self.exhausted(now) {
            return Some(match &self.final_units {
                Some(f) => Due::FinalUnits(f.clone()),
                None => Due::Report(ReportingReason::QuotaExhausted),
            });
        }
        if !self.threshold_reported && self.threshold_reached(now) {
            return Some(Due::Report(ReportingReason::Threshold));
        }
        if self.trigger_fired.is_some() {
            return Some(Due::Report(ReportingReason::RatingConditionChange));
        }
        if self.holding_time > 0
            && self
                .last_traffic
                .is_some_and(|t| now >= t + Duration::seconds(i64::from(self.holding_time)))
        {
            return Some(Due::Report(ReportingReason::QuotaHoldingTime));
        }
        None
    }

    fn time_exhausted(&self, now: DateTime<Utc>) -> bool {
        self.granted
            .cc_time
            .is_some_and(|g| self.time_used_ms(now) >= i64::from(g) * 1000)
    }

    fn volume_exhausted(&self) -> bool {
        let t = &self.total;
        let g = &self.granted;
        g.cc_total_octets.is_some_and(|g| t.input + t.output >= g)
            || g.cc_input_octets.is_some_and(|g| t.input >= g)
            || g.cc_output_octets.is_some_and(|g| t.output >= g)
    }

    fn units_exhausted(&self) -> bool {
        self.granted
            .cc_service_specific_units
            .is_some_and(|g| self.total.units >= g)
    }

    /// A pooled grant is not exhausted on its own: the pool is (see [`Self::pool_credits`]).
    fn exhausted(&self, now: DateTime<Utc>) -> bool {
        self.pool.is_none()
            && (self.time_exhausted(now) || self.volume_exhausted() || self.units_exhausted())
    }

    /// The credit pool this quota draws on (RFC 8506 §5.1.2): its id, and the credits this
    /// grant brought to it and has used so far (units × the G-S-U-Pool-Reference
    /// multiplier, in the pool's CC-Unit-Type). The pool is exhausted when the credits used
    /// by all its quotas reach the credits they brought.
    pub fn pool_credits(&self, now: DateTime<Utc>) -> Option<(u32, f64, f64)> {
        let (id, unit, multiplier) = self.pool?;
        let g = &self.granted;
        let t = &self.total;
        let (granted, used) = match unit {
            0 => (
                g.cc_time.map(f64::from),
                self.time_used_ms(now) as f64 / 1000.0,
            ),
            2 => (
                g.cc_total_octets.map(|v| v as f64),
                (t.input + t.output) as f64,
            ),
            3 => (g.cc_input_octets.map(|v| v as f64), t.input as f64),
            4 => (g.cc_output_octets.map(|v| v as f64), t.output as f64),
            5 => (
                g.cc_service_specific_units.map(|v| v as f64),
                t.units as f64,
            ),
            _ => return None,
        };
        Some((id, granted? * multiplier, used * multiplier))
    }

    /// The credit pool this quota draws on, if any.
    pub fn pool_id(&self) -> Option<u32> {
        self.pool.map(|p| p.0)
    }

    fn threshold_reached(&self, now: DateTime<Utc>) -> bool {
        let t = &self.total;
        let g = &self.granted;
        let time = match (self.time_threshold, g.cc_time) {
            (Some(th), Some(g)) => {
                i64::from(g) * 1000 - self.time_used_ms(now) <= i64::from(th) * 1000
            }
            _ => false,
        };
        let volume = match (self.volume_threshold, g.cc_total_octets) {
            (Some(th), Some(g)) => g.saturating_sub(t.input + t.output) <= th,
            _ => false,
        };
        let units = match (self.unit_threshold, g.cc_service_specific_units) {
            (Some(th), Some(g)) => g.saturating_sub(t.units) <= th,
            _ => false,
        };
        time || volume || units
    }

    /// Which quota types were granted: [time, volume, units].
    fn kinds(&self) -> [bool; 3] {
        let g = &self.granted;
        [
            g.cc_time.is_some(),
            g.cc_total_octets.is_some()
                || g.cc_input_octets.is_some()
                || g.cc_output_octets.is_some(),
            g.cc_service_specific_units.is_some(),
        ]
    }

    /// A Used-Service-Unit with the quota types `kinds` ([time, volume, units]) of `u`.
    fn unit_of(&self, u: Usage, kinds: [bool; 3], tcu: Option<i32>) -> ServiceUnit {
        let [time, volume, units] = kinds;
        ServiceUnit {
            cc_time: time.then(|| u32::try_from((u.time_ms + 999) / 1000).unwrap_or(u32::MAX)),
            cc_total_octets: volume.then_some(u.input + u.output),
            cc_input_octets: volume.then_some(u.input),
            cc_output_octets: volume.then_some(u.output),
            cc_service_specific_units: units.then_some(u.units),
            // The CTF meters time, octets and events; money quotas are the OCF's side.
            cc_money: None,
            tariff_time_change: None,
            tariff_change_usage: tcu,
        }
    }

    /// The MSCC reporting the usage since the last report for `reason`, and the quota reset
    /// for what follows (the reported units are consumed; the grant stays until the CCA
    /// replaces it). Closes the open envelope at `now` where the time is continuous.
    pub fn report(&mut self, reason: ReportingReason, now: DateTime<Utc>) -> Avp {
        let exhausted_time = self.time_exhausted(now);
        self.close_idle(now);
        // Traffic still flowing: its envelope is reported up to now (on the BTI grid for a
        // time-quota mechanism, which counts the whole current period), and consumption
        // goes on after the report: a continuous service from now, a QCT envelope until
        // QCT after the last packet.
        if let Some((start, last)) = self.open.as_ref().map(|e| (e.start, e.end)) {
            self.close_open(self.rounded_end(start, now.max(last)));
            if self.mechanism.is_none() {
                self.open = Some(Envelope {
                    start: now,
                    end: if self.consumption_time.is_some() {
                        last
                    } else {
                        now
                    },
                    input_octets: 0,
                    output_octets: 0,
                    events: 0,
                });
            }
        }
        let kinds = self.kinds();
        let mut usus: Vec<(ServiceUnit, Option<ReportingReason>)> = vec![];
        let split = self.after != Usage::default() && self.tariff_change.is_some();
        let sides: Vec<(Usage, Option<i32>)> = if split {
            vec![(self.before, Some(0)), (self.after, Some(1))]
        } else {
            let mut all = self.before;
            all.add(self.after);
            vec![(all, None)]
        };
        // Exhaustion of one of several quota types: one USU per type, the exhausted one says
        // so, the others carry OTHER_QUOTA_TYPE (TS 32.299 §7.2.175).
        let exhausted = [
            exhausted_time,
            self.volume_exhausted(),
            self.units_exhausted(),
        ];
        let per_type =
            reason == ReportingReason::QuotaExhausted && kinds.iter().filter(|k| **k).count() > 1;
        for (usage, tcu) in sides {
            if per_type {
                for i in (0..3).filter(|i| kinds[*i]) {
                    let mut only = [false; 3];
                    only[i] = true;
                    let r = if exhausted[i] {
                        ReportingReason::QuotaExhausted
                    } else {
                        ReportingReason::OtherQuotaType
                    };
                    usus.push((self.unit_of(usage, only, tcu), Some(r)));
                }
            } else {
                // Nothing granted that we know of: report the time the service ran.
                let k = if kinds == [false; 3] {
                    [true, false, false]
                } else {
                    kinds
                };
                let r = reason.in_used_service_unit().then_some(reason);
                usus.push((self.unit_of(usage, k, tcu), r));
            }
        }
        let mut children = vec![];
        for (u, r) in usus {
            let mut a = u.to_avp("Used-Service-Unit");
            if let (Some(r), Value::Grouped(c)) = (r, &mut a.value) {
                c.push(Avp::enumerated("Reporting-Reason", r as i32));
            }
            children.push(a);
        }
        children.extend(
            self.service_identifiers
                .iter()
                .map(|s| Avp::u32("Service-Identifier", *s)),
        );
        if let Some(rg) = self.rating_group {
            children.push(Avp::u32("Rating-Group", rg));
        }
        if !reason.in_used_service_unit() {
            children.push(Avp::enumerated("Reporting-Reason", reason as i32));
        }
        if reason == ReportingReason::RatingConditionChange {
            if let Some(t) = self.trigger_fired.take() {
                children.push(Avp::grouped(
                    "Trigger",
                    vec![Avp::enumerated("Trigger-Type", t)],
                ));
            }
        }
        children.extend(self.envelope_avps());
        match reason {
            ReportingReason::Threshold => self.threshold_reported = true,
            // The quota is handed back: holding time restarts with new traffic only.
            ReportingReason::QuotaHoldingTime => self.last_traffic = None,
            _ => {}
        }
        self.before = Usage::default();
        self.after = Usage::default();
        self.envelopes.clear();
        Avp::grouped("Multiple-Services-Credit-Control", children)
    }

    fn envelope_avps(&self) -> Vec<Avp> {
        use EnvelopeReporting as E;
        let (volume, events) = match self.envelope_reporting {
            E::DoNotReportEnvelopes => return vec![],
            E::ReportEnvelopes => (false, false),
            E::ReportEnvelopesWithVolume => (true, false),
            E::ReportEnvelopesWithEvents => (false, true),
            E::ReportEnvelopesWithVolumeAndEvents => (true, true),
        };
        self.envelopes
            .iter()
            .map(|e| {
                let mut c = vec![
                    Avp::time("Envelope-Start-Time", Time::from_utc(e.start)),
                    Avp::time("Envelope-End-Time", Time::from_utc(e.end)),
                ];
                if volume {
                    c.push(Avp::u64(
                        "CC-Total-Octets",
                        e.input_octets + e.output_octets,
                    ));
                    c.push(Avp::u64("CC-Input-Octets", e.input_octets));
                    c.push(Avp::u64("CC-Output-Octets", e.output_octets));
                }
                if events {
                    c.push(Avp::u64("CC-Service-Specific-Units", e.events));
                }
                Avp::grouped("Envelope", c)
            })
            .collect()
    }

    /// The envelopes closed so far and not yet reported (for tests and operators).
    pub fn envelopes(&self) -> &[Envelope] {
        &self.envelopes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_733_486_400 + s, 0).unwrap()
    }

    fn grant(gsu: ServiceUnit, extra: Vec<Avp>) -> Quota {
        let mscc = Mscc {
            rating_group: Some(10),
            granted: Some(gsu),
            ..Default::default()
        };
        let raw = mscc.to_avp_with(extra);
        let typed = Mscc::from_avp(&raw);
        Quota::grant(&typed, &raw, t(0), QuotaPolicy::default()).unwrap()
    }

    fn time(s: u32) -> ServiceUnit {
        ServiceUnit {
            cc_time: Some(s),
            ..Default::default()
        }
    }

    fn usu(m: &Avp) -> Vec<&Avp> {
        m.children()
            .unwrap()
            .iter()
            .filter(|c| c.name() == "Used-Service-Unit")
            .collect()
    }

    #[test]
    fn quota_consumption_time_closes_envelopes_qct_after_the_last_packet() {
        let mut q = grant(time(600), vec![Avp::u32("Quota-Consumption-Time", 10)]);
        q.traffic(t(0), 100, 100, 0);
        q.traffic(t(5), 100, 100, 0);
        // Idle 40 s: the envelope closed at 5 + 10 = 15; a new one from 55.
        q.traffic(t(55), 10, 10, 0);
        let m = q.report(ReportingReason::QuotaHoldingTime, t(100));
        let u = usu(&m);
        // 15 s + (55 + 10 = 65, closed before 100) 10 s = 25 s.
        assert_eq!(u[0].child("CC-Time").unwrap().as_u32(), Some(25));
    }

    #[test]
    fn discrete_time_periods_count_whole_base_time_intervals() {
        let mut q = grant(
            time(600),
            vec![Avp::grouped(
                "Time-Quota-Mechanism",
                vec![
                    Avp::enumerated("Time-Quota-Type", 0),
                    Avp::u32("Base-Time-Interval", 30),
                ],
            )],
        );
        q.traffic(t(1), 1, 1, 0);
        q.traffic(t(31), 1, 1, 0);
        q.traffic(t(200), 1, 1, 0);
        q.close_idle(t(400));
        let lens: Vec<i64> = q
            .envelopes()
            .iter()
            .map(|e| (e.end - e.start).num_seconds())
            .collect();
        // 1..31 then idle 30 s → [1, 61]: two BTIs; 200 → [200, 230]: one BTI.
        assert_eq!(lens, vec![60, 30]);
        assert!(lens.iter().all(|l| l % 30 == 0));
    }

    #[test]
    fn a_tariff_switch_splits_the_usage_in_two_used_service_units() {
        let switch = Time::from_utc(t(60));
        let mut q = grant(
            ServiceUnit {
                cc_time: Some(600),
                tariff_time_change: Some(switch),
                ..Default::default()
            },
            vec![],
        );
        q.traffic(t(0), 0, 0, 0);
        let m = q.report(ReportingReason::Final, t(100));
        let u = usu(&m);
        assert_eq!(u.len(), 2);
        let read = |a: &Avp| {
            (
                a.child("Tariff-Change-Usage").unwrap().as_i32().unwrap(),
                a.child("CC-Time").unwrap().as_u32().unwrap(),
            )
        };
        assert_eq!(read(u[0]), (0, 60));
        assert_eq!(read(u[1]), (1, 40));
        assert_eq!(
            m.child("Reporting-Reason").unwrap().as_i32(),
            Some(2),
            "FINAL at MSCC level"
        );
    }

    #[test]
    fn exhausting_one_of_two_quota_types_reports_each_in_its_own_used_service_unit() {
        let mut q = grant(
            ServiceUnit {
                cc_time: Some(600),
                cc_total_octets: Some(1000),
                ..Default::default()
            },
            vec![],
        );
        q.traffic(t(0), 600, 500, 0);
        assert_eq!(
            q.due(t(1)),
            Some(Due::Report(ReportingReason::QuotaExhausted))
        );
        let m = q.report(ReportingReason::QuotaExhausted, t(1));
        let reasons: Vec<(bool, i32)> = usu(&m)
            .iter()
            .map(|u| {
                (
                    u.child("CC-Time").is_some(),
                    u.child("Reporting-Reason").unwrap().as_i32().unwrap(),
                )
            })
            .collect();
        assert_eq!(reasons, vec![(true, 5), (false, 3)]);
        assert!(m.child("Reporting-Reason").is_none(), "not at MSCC level");
    }

    #[test]
    fn thresholds_holding_time_and_validity_are_due_in_time() {
        let mut q = grant(
            ServiceUnit {
                cc_total_octets: Some(1000),
                ..Default::default()
            },
            vec![
                Avp::u32("Volume-Quota-Threshold", 200),
                Avp::u32("Quota-Holding-Time", 30),
                Avp::u32("Validity-Time", 3600),
            ],
        );
        q.traffic(t(0), 100, 100, 0);
        assert_eq!(q.due(t(1)), None);
        q.traffic(t(2), 300, 300, 0);
        assert_eq!(q.due(t(3)), Some(Due::Report(ReportingReason::Threshold)));
        q.report(ReportingReason::Threshold, t(3));
        assert_eq!(q.due(t(10)), None, "a threshold is reported once");
        assert_eq!(
            q.due(t(32)),
            Some(Due::Report(ReportingReason::QuotaHoldingTime))
        );
    }

    #[test]
    fn a_continuous_service_keeps_consuming_after_a_report() {
        let t = |s: i64| DateTime::from_timestamp(1_733_486_400 + s, 0).unwrap();
        let mscc = Mscc {
            rating_group: Some(10),
            granted: Some(ServiceUnit {
                cc_time: Some(600),
                ..Default::default()
            }),
            ..Default::default()
        };
        let raw = mscc.to_avp_with(vec![]);
        let mut q = Quota::grant(&mscc, &raw, t(0), QuotaPolicy::default()).unwrap();
        q.traffic(t(0), 0, 0, 0);
        let time = |m: &Avp| {
            m.children()
                .unwrap()
                .iter()
                .find(|c| c.name() == "Used-Service-Unit")
                .and_then(|u| u.child("CC-Time"))
                .and_then(Avp::as_u32)
        };
        assert_eq!(
            time(&q.report(ReportingReason::RatingConditionChange, t(30))),
            Some(30)
        );
        assert_eq!(
            time(&q.report(ReportingReason::ForcedReauthorisation, t(40))),
            Some(10)
        );
    }
}
