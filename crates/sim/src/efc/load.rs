//! Load: many OBEs, each on its own connection, sending reports as fast as answers come back;
//! a progress line every second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::{Bearer, Client};
use super::front_end::FrontEnd;

/// What a load run did.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadSummary {
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
}

impl LoadSummary {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `obes` front ends send `reports` reports each; `progress` is called about once a second.
pub async fn run(
    bearer: Bearer,
    obes: usize,
    reports: u64,
    progress: impl Fn(LoadSummary) + Send + 'static,
) -> anyhow::Result<LoadSummary> {
    let sent = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..obes {
        let bearer = bearer.clone();
        let (sent, ok, failed) = (sent.clone(), ok.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(&bearer).await?;
            let mut fe = FrontEnd::new(9000, format!("LOAD{i:06}").as_bytes(), 4321);
            for _ in 0..reports {
                sent.fetch_add(1, Ordering::Relaxed);
                match fe.report(&mut client, chrono::Utc::now()).await {
                    Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
            anyhow::Ok(())
        }));
    }
    let snapshot = {
        let (sent, ok, failed) = (sent.clone(), ok.clone(), failed.clone());
        move || LoadSummary {
            sent: sent.load(Ordering::Relaxed),
            ok: ok.load(Ordering::Relaxed),
            failed: failed.load(Ordering::Relaxed),
            elapsed: start.elapsed(),
        }
    };
    let ticker = {
        let snapshot = snapshot.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tick.tick().await;
                progress(snapshot());
            }
        })
    };
    let mut first_error = None;
    for t in tasks {
        if let Err(e) = t.await? {
            first_error.get_or_insert(e);
        }
    }
    ticker.abort();
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(snapshot())
}
