//! The OCPP load generator: many simulated stations, each booting and then sending state-changing
//! messages back to back (as OCPP-J allows: one CALL in flight per station), with round-trip
//! latencies recorded. Every message is one the CSMS must store before it answers, so the figure
//! is *durable* messages per second.

use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::task::JoinSet;
use unicharge_ocpp::v201::{ConnectorStatusEnumType, StatusNotificationRequest};

use crate::octt::{states, Target};
use crate::station::{ConnectOptions, Station};

/// What to generate.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// `ws://host:port/ocpp` (station ids are appended).
    pub ws_url: String,
    /// Station ids are `<prefix><n>`.
    pub id_prefix: String,
    pub password: String,
    pub stations: usize,
    /// StatusNotifications each station sends after booting.
    pub messages_per_station: usize,
    /// How many stations connect at once (the CSMS verifies an Argon2 hash per connection).
    pub connect_concurrency: usize,
    pub timeout: Duration,
    /// Keep every connection open (idle) this long after sending, e.g. to measure the CSMS's
    /// memory per idle station.
    pub hold: Duration,
}

/// What was measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub stations: usize,
    pub connect_time: Duration,
    pub messages: usize,
    pub errors: usize,
    pub elapsed: Duration,
    /// Round-trip latencies, sorted.
    pub latencies: Vec<Duration>,
}

impl LoadReport {
    pub fn per_second(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[rank.min(self.latencies.len() - 1)]
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} stations connected and booted in {:.2?}; {} durable messages in {:.2?} = {:.0} msg/s; \
             round trip p50 {:.2?}, p99 {:.2?}, max {:.2?}; {} errors",
            self.stations,
            self.connect_time,
            self.messages,
            self.elapsed,
            self.per_second(),
            self.percentile(50.0),
            self.percentile(99.0),
            self.latencies.last().copied().unwrap_or_default(),
            self.errors
        )
    }
}

/// Connect and boot every station, then let them all send at once.
pub async fn run(plan: &LoadPlan) -> anyhow::Result<LoadReport> {
    let started = Instant::now();
    let mut stations = Vec::with_capacity(plan.stations);
    let ids: Vec<String> = (0..plan.stations)
        .map(|n| format!("{}{n}", plan.id_prefix))
        .collect();
    for chunk in ids.chunks(plan.connect_concurrency.max(1)) {
        let mut set = JoinSet::new();
        for id in chunk {
            let plan = plan.clone();
            let id = id.clone();
            set.spawn(async move { connect_and_boot(&plan, &id).await });
        }
        while let Some(joined) = set.join_next().await {
            stations.push(joined??);
        }
    }
    let connect_time = started.elapsed();

    let started = Instant::now();
    let mut set = JoinSet::new();
    for (mut station, target) in stations {
        let n = plan.messages_per_station;
        let hold = plan.hold;
        set.spawn(async move {
            let mut latencies = Vec::with_capacity(n);
            let mut errors = 0;
            for i in 0..n {
                let sent = Instant::now();
                let status = if i % 2 == 0 {
                    ConnectorStatusEnumType::Occupied
                } else {
                    ConnectorStatusEnumType::Available
                };
                let request = StatusNotificationRequest {
                    custom_data: None,
                    timestamp: Utc::now(),
                    connector_status: status,
                    evse_id: target.evse_id,
                    connector_id: target.connector_id,
                };
                match station.call(&request).await {
                    Ok(_) => latencies.push(sent.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            if !hold.is_zero() {
                // Idle, but keep reading so the CSMS's pings are answered.
                let _ = station.expect_closed(hold).await;
            }
            station.close().await;
            (latencies, errors)
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(joined) = set.join_next().await {
        let (l, e) = joined?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().saturating_sub(plan.hold);
    latencies.sort();
    Ok(LoadReport {
        stations: plan.stations,
        connect_time,
        messages: latencies.len(),
        errors,
        elapsed,
        latencies,
    })
}

async fn connect_and_boot(plan: &LoadPlan, id: &str) -> anyhow::Result<(Station, Target)> {
    let mut options = ConnectOptions::new(format!("{}/{id}", plan.ws_url.trim_end_matches('/')))
        .basic(id, plan.password.clone());
    options.timeout = plan.timeout;
    let mut station = Station::connect(&options)
        .await
        .map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
    let target = Target::new(id);
    states::booted(&mut station, &target)
        .await
        .map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
    Ok((station, target))
}
