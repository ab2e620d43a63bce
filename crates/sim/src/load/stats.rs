//! What a run measures and how it is reported: a latency histogram (HdrHistogram: p99.9 and max
//! exact to 3 significant digits without keeping every sample), errors by kind, sends behind
//! schedule, and counts per message kind.
//!
//! All stations of a run share one [`Stats`] on one thread (the generator runs on a
//! current-thread runtime), so recording is a plain, uncontended borrow.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use unicharge_ocpp::ErrorCode;

use super::mix::Kind;

/// Why a CALL got no CALLRESULT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The CSMS answered with a CALLERROR of this code.
    CallError(ErrorCode),
    /// No answer within the timeout.
    Timeout,
    /// The connection closed (or broke) while the CALL was unanswered.
    Closed,
    /// The answer was not OCPP-J, or answered another message id.
    Malformed,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::CallError(code) => write!(f, "CALLERROR {}", code.as_str()),
            ErrorKind::Timeout => f.write_str("timeout"),
            ErrorKind::Closed => f.write_str("closed"),
            ErrorKind::Malformed => f.write_str("malformed"),
        }
    }
}

/// Latencies are recorded in microseconds, up to an hour.
const MAX_MICROS: u64 = 3_600_000_000;

/// The running tally of a run.
pub struct Stats {
    latency: Histogram<u64>,
    answered: u64,
    /// By [`ErrorKind`]'s text (errors are rare: the key's allocation does not matter).
    errors: BTreeMap<String, u64>,
    behind_schedule: u64,
    generator_late: u64,
    by_kind: [u64; Kind::ALL.len()],
    csms_calls_refused: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            latency: Histogram::new_with_max(MAX_MICROS, 3).expect("valid histogram bounds"),
            answered: 0,
            errors: BTreeMap::new(),
            behind_schedule: 0,
            generator_late: 0,
            by_kind: [0; Kind::ALL.len()],
            csms_calls_refused: 0,
        }
    }
}

impl Stats {
    /// A CALLRESULT arrived `latency` after the CALL went out.
    pub fn answered(&mut self, kind: Kind, latency: Duration) {
        let micros = (latency.as_micros() as u64).clamp(1, MAX_MICROS);
        self.latency.saturating_record(micros);
        self.answered += 1;
        self.by_kind[kind.index()] += 1;
    }

    pub fn error(&mut self, kind: ErrorKind) {
        *self.errors.entry(kind.to_string()).or_default() += 1;
    }

    /// A send whose due time passed while the station still waited for its previous answer
    /// (OCPP-J allows one CALL in flight): the CSMS is slower than the schedule.
    pub fn behind_schedule(&mut self) {
        self.behind_schedule += 1;
    }

    /// A send that went out late although the station was free: the generator itself could not
    /// keep up (its figures are then a floor, not the CSMS's).
    pub fn generator_late(&mut self) {
        self.generator_late += 1;
    }

    /// The CSMS sent a CALL; the load stations refuse it with CALLERROR NotSupported.
    pub fn csms_call_refused(&mut self) {
        self.csms_calls_refused += 1;
    }

    pub fn answered_count(&self) -> u64 {
        self.answered
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn behind_count(&self) -> u64 {
        self.behind_schedule
    }

    /// Latency at `quantile` (0..=1) so far.
    pub fn quantile(&self, quantile: f64) -> Duration {
        Duration::from_micros(self.latency.value_at_quantile(quantile))
    }

    /// The final report.
    pub fn report(&self, run: RunFacts) -> Report {
        let ms = |q: f64| self.quantile(q).as_secs_f64() * 1000.0;
        let seconds = run.elapsed.as_secs_f64();
        Report {
            mode: run.mode,
            target_rate: run.target_rate,
            stations: run.stations,
            connected: run.connected,
            connect_failures: run.connect_failures,
            connect_seconds: run.connect_time.as_secs_f64(),
            elapsed_seconds: seconds,
            messages: self.answered,
            messages_per_second: if seconds > 0.0 {
                self.answered as f64 / seconds
            } else {
                0.0
            },
            latency_ms: Latencies {
                p50: ms(0.5),
                p99: ms(0.99),
                p999: ms(0.999),
                max: Duration::from_micros(self.latency.max()).as_secs_f64() * 1000.0,
                mean: self.latency.mean() / 1000.0,
            },
            errors: self.errors.clone(),
            behind_schedule: self.behind_schedule,
            generator_late: self.generator_late,
            csms_calls_refused: self.csms_calls_refused,
            by_kind: Kind::ALL
                .iter()
                .map(|k| (k.as_str().to_string(), self.by_kind[k.index()]))
                .collect(),
        }
    }
}

/// What the driver knows about the run besides the tally.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub mode: &'static str,
    pub target_rate: Option<f64>,
    pub stations: usize,
    pub connected: usize,
    pub connect_failures: BTreeMap<String, u64>,
    pub connect_time: Duration,
    pub elapsed: Duration,
}

/// Round-trip latencies in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latencies {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

/// The result of a load run: printed as text, or as one JSON object with `--json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `"rate"` or `"closed-loop"`.
    pub mode: &'static str,
    /// Messages/s asked for (rate mode).
    pub target_rate: Option<f64>,
    pub stations: usize,
    /// Stations that connected and booted Accepted.
    pub connected: usize,
    /// Stations that did not, by reason.
    pub connect_failures: BTreeMap<String, u64>,
    /// From the first connect to the last station booted.
    pub connect_seconds: f64,
    /// The load phase (ramp included), to the last answer.
    pub elapsed_seconds: f64,
    /// CALLs answered with a CALLRESULT.
    pub messages: u64,
    pub messages_per_second: f64,
    /// Round trip at the station, CALL sent to CALLRESULT read.
    pub latency_ms: Latencies,
    /// CALLs without a CALLRESULT, by kind: `CALLERROR <code>`, `timeout`, `closed`, `malformed`.
    pub errors: BTreeMap<String, u64>,
    /// Sends due while the station still awaited its previous answer.
    pub behind_schedule: u64,
    /// Sends that went out late while the station was free (the generator was saturated).
    pub generator_late: u64,
    /// CALLs from the CSMS the load stations refused (CALLERROR NotSupported).
    pub csms_calls_refused: u64,
    /// CALLRESULTs per message kind.
    pub by_kind: BTreeMap<String, u64>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self
            .target_rate
            .map(|r| format!(" at a target of {r:.0} msg/s"))
            .unwrap_or_default();
        writeln!(
            f,
            "{} run{target}: {} of {} stations connected and booted in {:.2} s",
            self.mode, self.connected, self.stations, self.connect_seconds
        )?;
        for (reason, n) in &self.connect_failures {
            writeln!(f, "  connect failures: {n} × {reason}")?;
        }
        writeln!(
            f,
            "{} messages answered in {:.2} s = {:.0} msg/s",
            self.messages, self.elapsed_seconds, self.messages_per_second
        )?;
        let l = &self.latency_ms;
        writeln!(
            f,
            "round trip: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms (mean {:.2} ms)",
            l.p50, l.p99, l.p999, l.max, l.mean
        )?;
        let errors: u64 = self.errors.values().sum();
        write!(f, "errors: {errors}")?;
        for (kind, n) in &self.errors {
            write!(f, ", {n} × {kind}")?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "behind schedule: {}; generator late: {}; CSMS CALLs refused: {}",
            self.behind_schedule, self.generator_late, self.csms_calls_refused
        )?;
        write!(f, "mix played:")?;
        for (kind, n) in &self.by_kind {
            if *n > 0 {
                write!(f, " {kind} {n};")?;
            }
        }
        Ok(())
    }
}

/// One progress line: elapsed, rate over the last interval, p99 so far, errors, behind.
pub fn progress_line(elapsed: Duration, rate: f64, stats: &Stats) -> String {
    format!(
        "{:>6.1} s  {:>8.0} msg/s  p99 {:>8.2} ms  errors {}  behind {}",
        elapsed.as_secs_f64(),
        rate,
        stats.quantile(0.99).as_secs_f64() * 1000.0,
        stats.error_count(),
        stats.behind_count()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> RunFacts {
        RunFacts {
            mode: "rate",
            target_rate: Some(100.0),
            stations: 2,
            connected: 2,
            connect_failures: BTreeMap::new(),
            connect_time: Duration::from_millis(10),
            elapsed: Duration::from_secs(2),
        }
    }

    #[test]
    fn the_report_has_percentiles_rate_errors_by_kind_and_the_mix() {
        let mut stats = Stats::default();
        for ms in 1..=1000u64 {
            stats.answered(Kind::TransactionEventUpdated, Duration::from_millis(ms));
        }
        stats.error(ErrorKind::Timeout);
        stats.error(ErrorKind::CallError(ErrorCode::InternalError));
        stats.error(ErrorKind::CallError(ErrorCode::InternalError));
        stats.behind_schedule();
        let report = stats.report(facts());
        assert_eq!(report.messages, 1000);
        assert_eq!(report.messages_per_second, 500.0);
        assert!((report.latency_ms.p50 - 500.0).abs() < 1.0, "{report:?}");
        assert!((report.latency_ms.p99 - 990.0).abs() < 1.0, "{report:?}");
        assert!((report.latency_ms.max - 1000.0).abs() < 1.0, "{report:?}");
        assert_eq!(report.errors["CALLERROR InternalError"], 2);
        assert_eq!(report.errors["timeout"], 1);
        assert_eq!(report.behind_schedule, 1);
        assert_eq!(report.by_kind["TransactionEvent Updated"], 1000);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["latency_ms"]["max"], report.latency_ms.max);
        assert!(report.to_string().contains("1 × timeout"));
    }
}
