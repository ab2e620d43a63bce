//! When each message of a fixed-rate run is due.
//!
//! The run's messages are numbered k = 0, 1, 2, … and dealt round robin to the stations
//! (message k belongs to station k mod N), so the aggregate rate is spread evenly and every
//! station sends at the same period. With a ramp the rate rises linearly from 0 to `rate` over
//! `ramp`: the number of messages due by time t is A(t) = rate·t²/(2·ramp) during the ramp and
//! rate·ramp/2 + rate·(t − ramp) after it, and message k is due at A⁻¹(k). Computing the due
//! time from k (not by adding periods) keeps the schedule exact over hours.

use std::time::Duration;

/// How the stations pace their CALLs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// `rate` messages/s in aggregate, reached linearly over `ramp`.
    Fixed { rate: f64, ramp: Duration },
    /// Each station sends its next CALL as soon as the answer to the previous one arrives.
    ClosedLoop,
}

/// The fixed-rate schedule of a run with `stations` stations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    rate: f64,
    ramp: f64,
    stations: u64,
}

impl Schedule {
    /// `rate` > 0 messages/s over `stations` ≥ 1 stations.
    pub fn new(rate: f64, ramp: Duration, stations: usize) -> Self {
        Schedule {
            rate: rate.max(f64::MIN_POSITIVE),
            ramp: ramp.as_secs_f64(),
            stations: stations.max(1) as u64,
        }
    }

    /// When the `nth` message (0-based) of `station` is due, from the run's start.
    pub fn due(&self, station: usize, nth: u64) -> Duration {
        self.due_global(nth * self.stations + station as u64)
    }

    /// When message `k` of the whole run is due: A⁻¹(k).
    pub fn due_global(&self, k: u64) -> Duration {
        let k = k as f64;
        let during_ramp = self.rate * self.ramp / 2.0;
        let secs = if k < during_ramp {
            (2.0 * k * self.ramp / self.rate).sqrt()
        } else {
            self.ramp + (k - during_ramp) / self.rate
        };
        Duration::from_secs_f64(secs)
    }

    /// The rate the schedule asks for at `t` from the start.
    pub fn rate_at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        if t >= self.ramp {
            self.rate
        } else {
            self.rate * t / self.ramp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Duration, b: f64) -> bool {
        (a.as_secs_f64() - b).abs() < 1e-6
    }

    #[test]
    fn without_ramp_messages_are_evenly_spaced_and_dealt_round_robin() {
        let s = Schedule::new(1000.0, Duration::ZERO, 10);
        assert!(close(s.due_global(0), 0.0));
        assert!(close(s.due_global(1), 0.001));
        assert!(close(s.due(3, 0), 0.003));
        // Each station sends every 10 ms: 10 stations × 100/s.
        assert!(close(s.due(3, 1), 0.013));
        assert!(close(s.due(3, 100), 1.003));
    }

    #[test]
    fn a_ramp_sends_half_the_full_rate_volume_during_the_ramp_then_the_full_rate() {
        let s = Schedule::new(100.0, Duration::from_secs(10), 1);
        // 100/s × 10 s / 2 = 500 messages during the ramp.
        assert!(close(s.due_global(500), 10.0));
        assert!(close(s.due_global(600), 11.0));
        // Quarter of the way through the ramp volume: t = sqrt(2·125·10/100) = 5 s.
        assert!(close(s.due_global(125), 5.0));
        assert_eq!(s.rate_at(Duration::from_secs(5)), 50.0);
        assert_eq!(s.rate_at(Duration::from_secs(20)), 100.0);
    }

    #[test]
    fn due_times_never_go_backwards() {
        let s = Schedule::new(20_000.0, Duration::from_secs(3), 5000);
        let mut last = Duration::ZERO;
        for k in 0..200_000 {
            let t = s.due_global(k);
            assert!(t >= last, "message {k} due at {t:?} before {last:?}");
            last = t;
        }
    }
}
