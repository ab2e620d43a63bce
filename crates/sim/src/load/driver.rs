//! The load run: connect and boot every station, then play the mix at a fixed aggregate rate
//! or closed loop for the duration, with a progress line every second.
//!
//! Everything runs as local tasks on the calling thread (a current-thread runtime): no
//! cross-thread wake-ups and no locks, which is what lets one core drive tens of thousands of
//! messages per second. Each station reuses one serialisation buffer and one id buffer.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::{JoinSet, LocalSet};
use tokio::time::Instant;

use super::connect::{await_answer, connect_and_boot_as, report_connector};
use super::mix::{Mix, Outgoing, Script};
use super::mix16::Script16;
use super::schedule::{Pace, Schedule};
use super::stations::{Endpoint, StationCredentials};
use super::stats::{progress_line, ErrorKind, Report, RunFacts, Stats};
use crate::station::Station;

/// A send that goes out this much after its due time, with the station free, counts as
/// "generator late" (tokio's timer has millisecond resolution).
const GENERATOR_SLACK: Duration = Duration::from_millis(2);

/// How often a station retries a connection refused with HTTP 503, and the back-off step.
const CONNECT_RETRIES: u32 = 10;
const CONNECT_BACKOFF: Duration = Duration::from_millis(100);

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub endpoint: Endpoint,
    pub stations: Vec<StationCredentials>,
    pub mix: Mix,
    pub pace: Pace,
    /// The load phase, ramp included (connecting comes before it).
    pub duration: Duration,
    /// Stations connecting at once.
    pub connect_concurrency: usize,
    /// A progress line on stderr this often; `None`: quiet.
    pub progress: Option<Duration>,
    /// Percentage of the stations that speak OCPP 1.6J ([`super::mix16`]), evenly spread
    /// over the list (50: every other station); the rest speak 2.0.1.
    pub ocpp16_percent: u32,
}

/// Whether station `index` (from 0) of the list speaks 1.6: exactly `percent` of every 100,
/// evenly spread.
pub fn speaks_ocpp16(index: usize, percent: u32) -> bool {
    let p = u64::from(percent.min(100));
    let n = index as u64 + 1;
    (n * p) / 100 != ((n - 1) * p) / 100
}

/// A station's script in the version it speaks.
enum AnyScript {
    V201(Script),
    V16(Script16),
}

impl AnyScript {
    fn next(&mut self, now: std::time::Instant) -> Outgoing {
        match self {
            AnyScript::V201(s) => s.next(now),
            AnyScript::V16(s) => s.next(now),
        }
    }

    fn answered(&mut self, outgoing: &Outgoing, payload: &serde_json::Value) {
        if let AnyScript::V16(s) = self {
            s.answered(outgoing.kind(), payload);
        }
    }
}

/// Connect and boot every station, then play the mix. Must be awaited on a current-thread
/// runtime or inside a [`LocalSet`]-compatible context (it creates its own `LocalSet`).
pub async fn run(plan: &LoadPlan) -> Report {
    LocalSet::new().run_until(run_local(plan)).await
}

async fn run_local(plan: &LoadPlan) -> Report {
    let run_id = format!("{:08x}", rand::random::<u32>());
    let stats = Rc::new(RefCell::new(Stats::default()));

    let connect_started = Instant::now();
    let (stations, connect_failures) = connect_all(plan).await;
    let connect_time = connect_started.elapsed();

    let start = Instant::now();
    let stop_at = start + plan.duration;
    let schedule = match plan.pace {
        Pace::Fixed { rate, ramp } => Some(Schedule::new(rate, ramp, stations.len())),
        Pace::ClosedLoop => None,
    };
    let progress = plan
        .progress
        .map(|every| tokio::task::spawn_local(progress(every, start, stats.clone())));
    let mut set = JoinSet::new();
    let connected = stations.len();
    for (index, (station, heartbeat)) in stations.into_iter().enumerate() {
        let script = if station.version() == unicharge_ocpp::OcppVersion::V16 {
            AnyScript::V16(Script16::new(plan.mix.clone(), heartbeat))
        } else {
            AnyScript::V201(Script::new(plan.mix.clone(), run_id.clone(), heartbeat))
        };
        let player = Player {
            index,
            run_id: run_id.clone(),
            schedule,
            start,
            stop_at,
            stats: stats.clone(),
        };
        set.spawn_local(player.play(station, script));
    }
    while set.join_next().await.is_some() {}
    let elapsed = start.elapsed();
    if let Some(progress) = progress {
        progress.abort();
    }
    let facts = RunFacts {
        mode: if schedule.is_some() {
            "rate"
        } else {
            "closed-loop"
        },
        target_rate: match plan.pace {
            Pace::Fixed { rate, .. } => Some(rate),
            Pace::ClosedLoop => None,
        },
        stations: plan.stations.len(),
        connected,
        connect_failures,
        connect_time,
        elapsed,
    };
    let report = stats.borrow().report(facts);
    report
}

/// Connect and boot all stations, `connect_concurrency` at a time; those that fail are
/// counted by reason and left out of the run.
async fn connect_all(plan: &LoadPlan) -> (Vec<(Station, Duration)>, BTreeMap<String, u64>) {
    let permits = Rc::new(Semaphore::new(plan.connect_concurrency.max(1)));
    let mut set = JoinSet::new();
    for (i, credentials) in plan.stations.iter().enumerate() {
        let permits = permits.clone();
        let endpoint = plan.endpoint.clone();
        let credentials = credentials.clone();
        let ocpp16 = speaks_ocpp16(i, plan.ocpp16_percent);
        set.spawn_local(async move {
            let _permit = permits.acquire().await.expect("never closed");
            // A CSMS shedding admissions answers 503: retry as a station would, with back-off,
            // so the load phase starts with every station (the storm command counts them).
            let mut attempt = 0u32;
            let (mut station, heartbeat) = loop {
                match connect_and_boot_as(&endpoint, &credentials, ocpp16).await {
                    Err(reason) if reason == "HTTP 503" && attempt < CONNECT_RETRIES => {
                        attempt += 1;
                        tokio::time::sleep(CONNECT_BACKOFF * attempt).await;
                    }
                    outcome => break outcome?,
                }
            };
            report_connector(&mut station).await?;
            Ok::<_, String>((i, station, heartbeat))
        });
    }
    let mut stations = Vec::with_capacity(plan.stations.len());
    let mut failures = BTreeMap::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(connected)) => stations.push(connected),
            Ok(Err(reason)) => *failures.entry(reason).or_default() += 1,
            Err(e) => *failures.entry(format!("task: {e}")).or_default() += 1,
        }
    }
    // Keep the file's order so a station's place in the schedule does not depend on timing.
    stations.sort_by_key(|(i, _, _)| *i);
    let stations = stations.into_iter().map(|(_, s, h)| (s, h)).collect();
    (stations, failures)
}

/// One station's part of the run.
struct Player {
    index: usize,
    run_id: String,
    schedule: Option<Schedule>,
    start: Instant,
    stop_at: Instant,
    stats: Rc<RefCell<Stats>>,
}

impl Player {
    async fn play(self, mut station: Station, mut script: AnyScript) {
        let mut buf = Vec::with_capacity(2048);
        let mut id = String::with_capacity(32);
        let mut answered_at = self.start;
        let mut nth = 0u64;
        loop {
            if let Some(schedule) = &self.schedule {
                let due = self.start + schedule.due(self.index, nth);
                if due >= self.stop_at {
                    break;
                }
                let now = Instant::now();
                if now < due {
                    tokio::time::sleep_until(due).await;
                    if due.elapsed() > GENERATOR_SLACK {
                        self.stats.borrow_mut().generator_late();
                    }
                } else if answered_at > due {
                    self.stats.borrow_mut().behind_schedule();
                } else if now - due > GENERATOR_SLACK {
                    self.stats.borrow_mut().generator_late();
                }
            } else if Instant::now() >= self.stop_at {
                break;
            }
            nth += 1;
            let outgoing = script.next(Instant::now().into_std());
            id.clear();
            let _ = write!(id, "{}-{nth}", self.run_id);
            if outgoing.write_call(&id, &mut buf).is_err() {
                self.stats.borrow_mut().error(ErrorKind::Malformed);
                continue;
            }
            let text = std::str::from_utf8(&buf).expect("serde_json writes UTF-8");
            let sent = Instant::now();
            let result = match station.send_text(text).await {
                Ok(()) => await_answer(&mut station, &id, &self.stats).await,
                Err(_) => Err(ErrorKind::Closed),
            };
            answered_at = Instant::now();
            match result {
                Ok(payload) => {
                    script.answered(&outgoing, &payload);
                    self.stats
                        .borrow_mut()
                        .answered(outgoing.kind(), answered_at - sent);
                }
                Err(kind) => {
                    self.stats.borrow_mut().error(kind);
                    if kind == ErrorKind::Closed {
                        return;
                    }
                }
            }
        }
        station.close().await;
    }
}

/// Print a progress line every `every` (until aborted).
async fn progress(every: Duration, start: Instant, stats: Rc<RefCell<Stats>>) {
    let mut ticks = tokio::time::interval_at(start + every, every);
    let mut last = (start, 0u64);
    loop {
        ticks.tick().await;
        let now = Instant::now();
        let stats = stats.borrow();
        let answered = stats.answered_count();
        let rate = (answered - last.1) as f64 / (now - last.0).as_secs_f64();
        eprintln!("{}", progress_line(now - start, rate, &stats));
        last = (now, answered);
    }
}

#[cfg(test)]
mod tests {
    use super::speaks_ocpp16;

    #[test]
    fn the_1_6_share_is_exact_and_evenly_spread() {
        let half: Vec<bool> = (0..6).map(|i| speaks_ocpp16(i, 50)).collect();
        assert_eq!(half, [false, true, false, true, false, true]);
        for percent in [0, 10, 33, 50, 100] {
            let n = (0..1000).filter(|&i| speaks_ocpp16(i, percent)).count();
            assert_eq!(n, 10 * percent as usize, "{percent}%");
        }
    }
}
