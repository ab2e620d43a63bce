//! `unicharge-sim diameter load`: the Rf CTF client as a load generator against any CDF.
//!
//! N sessions (START, INTERIMs, STOP) started at a fixed rate, each ACR sent through one
//! capabilities-exchanged connection; prints a progress line every second, then ACR/s and
//! the ACR→ACA latency p50 / p99 / p99.9 / max and the outcome counts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Mutex;
use unicharge_diameter::rf::ctf::{Ctf, CtfConfig, Delivery};
use unicharge_diameter::rf::RecordType;

/// Arguments of `unicharge-sim diameter load`.
#[derive(Debug, clap::Args)]
pub struct DiameterLoadArgs {
    /// The CDF, e.g. 127.0.0.1:3868.
    #[arg(long, default_value = "127.0.0.1:3868")]
    pub cdf: SocketAddr,
    /// How many accounting sessions to play.
    #[arg(long, default_value_t = 1000)]
    pub sessions: u32,
    /// New sessions per second.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// INTERIM records per session (between START and STOP, sent back to back).
    #[arg(long, default_value_t = 1)]
    pub interims: u32,
    #[arg(long, default_value = "ctf.sim.localdomain")]
    pub origin_host: String,
    #[arg(long, default_value = "sim.localdomain")]
    pub origin_realm: String,
    #[arg(long, default_value = "unicharge.localdomain")]
    pub destination_realm: String,
}

#[derive(Default)]
struct Stats {
    ok: u64,
    failed: u64,
    buffered: u64,
}

pub async fn load(args: DiameterLoadArgs) -> i32 {
    let mut config = CtfConfig::new(
        &args.origin_host,
        &args.origin_realm,
        &args.destination_realm,
        args.cdf,
    );
    config.max_retransmissions = 1;
    let ctf = match Ctf::connect(config).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "error: {e} (is `unicharge serve` running with [diameter] listen = \"{}\"?)",
                args.cdf
            );
            return 1;
        }
    };
    let hist = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram"),
    ));
    let stats = Arc::new(Mutex::new(Stats::default()));
    let started = Instant::now();
    let period = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let mut tasks = tokio::task::JoinSet::new();
    let mut last_progress = Instant::now();
    for i in 0..args.sessions {
        let due = started + period * i;
        tokio::time::sleep_until(due.into()).await;
        let (ctf, hist, task_stats) = (ctf.clone(), hist.clone(), stats.clone());
        let interims = args.interims;
        tasks.spawn(async move {
            let mut session = ctf.new_session();
            let msisdn = format!("4917{:08}", i);
            let kinds = std::iter::once(RecordType::Start)
                .chain(std::iter::repeat_n(RecordType::Interim, interims as usize))
                .chain(std::iter::once(RecordType::Stop));
            for kind in kinds {
                let acr = ctf.build_acr(
                    &mut session,
                    kind,
                    Some(Ctf::ims_service_information(&msisdn, Some("INVITE"))),
                );
                let t0 = Instant::now();
                let outcome = ctf.send(acr).await;
                let us = t0.elapsed().as_micros() as u64;
                let mut s = task_stats.lock().await;
                match outcome {
                    Ok(Delivery::Answered { answer, .. }) if answer.result_code() == Some(2001) => {
                        s.ok += 1;
                        let _ = hist.lock().await.record(us.max(1));
                    }
                    Ok(Delivery::Buffered) => s.buffered += 1,
                    _ => s.failed += 1,
                }
            }
        });
        if last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            let s = stats.lock().await;
            eprintln!(
                "[{:>6.1}s] sessions started {}/{} ACA ok {} failed {}",
                started.elapsed().as_secs_f64(),
                i + 1,
                args.sessions,
                s.ok,
                s.failed
            );
        }
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let s = stats.lock().await;
    let h = hist.lock().await;
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "diameter load: {} sessions, {} ACRs answered 2001 in {elapsed:.2}s ({:.0} ACR/s); failed {}, buffered {}",
        args.sessions,
        s.ok,
        s.ok as f64 / elapsed,
        s.failed,
        s.buffered
    );
    println!(
        "ACR->ACA latency ms: p50 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        ms(0.5),
        ms(0.99),
        ms(0.999),
        h.max() as f64 / 1000.0
    );
    i32::from(s.failed > 0)
}
