//! A reconnect storm: every station connects and boots as fast as the concurrency allows, as
//! after a CSMS restart or a network outage. Reports the time until all are Accepted,
//! connects/s, connect + boot latency and failures by reason. With `hold`, the connections then
//! stay open (answering the CSMS's pings) so the CSMS's memory per idle station can be read.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::{watch, Semaphore};
use tokio::task::{JoinSet, LocalSet};
use tokio::time::Instant;

use super::connect::connect_and_boot;
use super::stations::{Endpoint, StationCredentials};
use super::stats::Latencies;

/// What to storm with.
#[derive(Debug, Clone)]
pub struct StormPlan {
    pub endpoint: Endpoint,
    pub stations: Vec<StationCredentials>,
    /// Connections (connect + boot) in progress at once.
    pub concurrency: usize,
    /// Keep every connection open this long after the last boot.
    pub hold: Duration,
    /// A progress line on stderr this often; `None`: quiet.
    pub progress: Option<Duration>,
}

/// What a storm measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StormReport {
    pub stations: usize,
    pub concurrency: usize,
    /// Booted with BootNotificationResponse Accepted.
    pub accepted: usize,
    /// Stations that were not, by reason.
    pub failures: BTreeMap<String, u64>,
    /// From the first connect to the last station Accepted (`None` if some never were).
    pub seconds_until_all_accepted: Option<f64>,
    /// From the first connect to the last attempt's end.
    pub elapsed_seconds: f64,
    /// Accepted stations per second over `elapsed_seconds`.
    pub connects_per_second: f64,
    /// TCP (+ TLS) + upgrade + BootNotification round trip of one station.
    pub connect_ms: Latencies,
}

impl fmt::Display for StormReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "storm: {} of {} stations Accepted in {:.2} s ({:.0} connects/s, concurrency {})",
            self.accepted,
            self.stations,
            self.elapsed_seconds,
            self.connects_per_second,
            self.concurrency
        )?;
        match self.seconds_until_all_accepted {
            Some(s) => writeln!(f, "all Accepted after {s:.2} s")?,
            None => writeln!(f, "NOT all stations were Accepted")?,
        }
        let l = &self.connect_ms;
        write!(
            f,
            "connect + boot: p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms",
            l.p50, l.p99, l.p999, l.max
        )?;
        for (reason, n) in &self.failures {
            write!(f, "\nfailures: {n} × {reason}")?;
        }
        Ok(())
    }
}

/// Run the storm (on the calling thread; creates its own `LocalSet`).
pub async fn storm(plan: &StormPlan) -> StormReport {
    LocalSet::new().run_until(storm_local(plan)).await
}

async fn storm_local(plan: &StormPlan) -> StormReport {
    let permits = Rc::new(Semaphore::new(plan.concurrency.max(1)));
    let (release, released) = watch::channel(false);
    let start = Instant::now();
    let mut set = JoinSet::new();
    let (outcomes_tx, mut outcomes) = tokio::sync::mpsc::unbounded_channel();
    for credentials in &plan.stations {
        let permits = permits.clone();
        let endpoint = plan.endpoint.clone();
        let credentials = credentials.clone();
        let booted_tx = outcomes_tx.clone();
        let mut released = released.clone();
        set.spawn_local(async move {
            let permit = permits.acquire().await.expect("never closed");
            let began = Instant::now();
            let outcome = connect_and_boot(&endpoint, &credentials).await;
            drop(permit);
            match outcome {
                Ok((mut station, _)) => {
                    let _ = booted_tx.send(Ok((began.elapsed(), Instant::now())));
                    // Stay connected, reading (pings are answered), until released.
                    tokio::select! {
                        _ = released.wait_for(|r| *r) => {}
                        _ = station.expect_closed(Duration::from_secs(86_400)) => {}
                    }
                    station.close().await;
                }
                Err(reason) => {
                    let _ = booted_tx.send(Err(reason));
                }
            }
        });
    }
    drop(outcomes_tx);
    let mut latency = Histogram::<u64>::new_with_max(3_600_000_000, 3).expect("valid bounds");
    let mut failures = BTreeMap::new();
    let mut accepted = 0usize;
    let mut last_accepted = start;
    let mut attempts = 0usize;
    let mut last_progress = Instant::now();
    while attempts < plan.stations.len() {
        // Every task sends exactly one outcome; None only if one panicked.
        let Some(outcome) = outcomes.recv().await else {
            break;
        };
        attempts += 1;
        match outcome {
            Ok((took, at)) => {
                accepted += 1;
                last_accepted = last_accepted.max(at);
                latency.saturating_record((took.as_micros() as u64).max(1));
            }
            Err(reason) => *failures.entry(reason).or_default() += 1,
        }
        if let Some(every) = plan.progress {
            if last_progress.elapsed() >= every {
                last_progress = Instant::now();
                eprintln!(
                    "{:>6.1} s  accepted {accepted}/{}  failures {}",
                    start.elapsed().as_secs_f64(),
                    plan.stations.len(),
                    failures.values().sum::<u64>()
                );
            }
        }
    }
    let elapsed = start.elapsed();
    if !plan.hold.is_zero() {
        eprintln!(
            "holding {accepted} connections open for {:.0} s",
            plan.hold.as_secs_f64()
        );
        tokio::time::sleep(plan.hold).await;
    }
    let _ = release.send(true);
    while set.join_next().await.is_some() {}
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    StormReport {
        stations: plan.stations.len(),
        concurrency: plan.concurrency,
        accepted,
        failures,
        seconds_until_all_accepted: (accepted == plan.stations.len())
            .then(|| (last_accepted - start).as_secs_f64()),
        elapsed_seconds: elapsed.as_secs_f64(),
        connects_per_second: accepted as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
        connect_ms: Latencies {
            p50: ms(0.5),
            p99: ms(0.99),
            p999: ms(0.999),
            max: latency.max() as f64 / 1000.0,
            mean: latency.mean() / 1000.0,
        },
    }
}
