//! Throughput of the back end's whole path per charge report: decode + (MAC verify) + checks +
//! durable store (group-committed SQLite, `durability = full`) + encoded answer.
//!
//! ```text
//! cargo run --release -p unicharge-efc-backend --example bench_reports -- [OBES] [REPORTS_PER_OBE] [auth][,ledger]
//! ```
//!
//! `ledger`: every OBE has its own contract linked to a money account in the core ledger, so
//! each report also reads the account and commits a debit in the same write.
//! `normal`: SQLite `synchronous = NORMAL` instead of `FULL` (no fsync per commit; survives a
//! process crash, not a power cut) — a diagnostic of how much of the time is the fsync.
//!
//! OBES concurrent front ends (tasks on a 2-thread runtime, each waiting for its answer before
//! the next report, as an OBE does) call `Backend::handle_frame` directly: the transports are
//! left out so the figure is the back end's. Also prints the CPU-only stages (decode + verify +
//! checks, no store) on one thread, to locate the bottleneck.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use rust_decimal::Decimal;
use unicharge_core::ledger::{Account, Operation, Request, Unit};
use unicharge_efc::adu::Adu;
use unicharge_efc::auth::KeyRef;
use unicharge_efc_backend::{Backend, EfcConfig};
use unicharge_sim::efc::FrontEnd;
use unicharge_store::efc::{EfcAccountLink, EfcContract, EfcObe};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::Store;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let obes: usize = args.first().map(|a| a.parse()).transpose()?.unwrap_or(512);
    let per_obe: usize = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(100);
    let mode = args.get(2).cloned().unwrap_or_default();
    let authenticated = mode.split(',').any(|m| m == "auth");
    let ledger = mode.split(',').any(|m| m == "ledger");
    let durability = if mode.split(',').any(|m| m == "normal") {
        Durability::Normal
    } else {
        Durability::Full
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let dir = tempfile::tempdir()?;
        let store = SqliteStore::open(&dir.path().join("bench.sqlite"), durability).await?;
        let sqlite = Arc::new(store);
        let store: Arc<dyn Store> = sqlite.clone();
        let backend = Backend::new(store, EfcConfig::default());
        let key = b"bench-key-0123456789".to_vec();

        // Pre-built frames: the generator's cost is not the back end's.
        let mut frames: Vec<Vec<Vec<u8>>> = Vec::with_capacity(obes);
        for i in 0..obes {
            let mut fe = FrontEnd::new(7, format!("B{i:07}").as_bytes(), (i % 16_000) as u16 + 1);
            if ledger {
                let id = format!("bench-{i}");
                let store = backend.store();
                store
                    .ledger_open(&Account::open(&id, Unit::Money("EUR".into()), Decimal::ZERO, Utc::now())?)
                    .await?;
                store
                    .ledger_apply(&Request {
                        account: id.clone(),
                        reference: "bench:top-up".into(),
                        operation: Operation::TopUp { amount: Decimal::from(1_000_000) },
                        at: Utc::now(),
                    })
                    .await?;
                let link: EfcAccountLink = serde_json::from_value(serde_json::json!({"account": id}))?;
                backend
                    .register_contract(EfcContract {
                        contract_key: unicharge_efc_backend::keys::contract_key(&fe.contract),
                        accounts: vec![link],
                        label: String::new(),
                        created_at: Utc::now(),
                    })
                    .await?;
            }
            if authenticated {
                backend
                    .register_obe(EfcObe {
                        obe_key: fe.obe_key(),
                        mac_key_hex: Some(hex::encode(&key)),
                        require_auth: true,
                        label: String::new(),
                        created_at: Utc::now(),
                    })
                    .await?;
                fe.mac = Some((
                    key.clone(),
                    KeyRef {
                        master_key_ref: 1,
                        key_derivation_id: fe.obe_key().into_bytes(),
                    },
                ));
            }
            let now = Utc::now();
            frames.push((0..per_obe).map(|_| { let r = fe.next_report(now); fe.frame(&r) }).collect());
        }
        let size = frames[0][0].len();

        // CPU-only stages on one thread.
        let sample: Vec<&Vec<u8>> = frames.iter().flat_map(|f| f.iter()).take(20_000).collect();
        let t = Instant::now();
        for f in &sample {
            let report = match Adu::from_frame(f).unwrap() {
                Adu::ChargeReport(r) => r,
                Adu::AuthenticatedChargeReport(w) => {
                    unicharge_efc::auth::open_charge_report(&w, &key).unwrap()
                }
                _ => unreachable!(),
            };
            let v = unicharge_efc_backend::checks::check_report(
                &report,
                Utc::now(),
                chrono::Duration::seconds(900),
                &Default::default(),
            );
            assert!(v.is_empty());
        }
        let cpu = sample.len() as f64 / t.elapsed().as_secs_f64();

        let before = sqlite.group_commits();
        let t = Instant::now();
        let mut tasks = Vec::new();
        for (i, list) in frames.into_iter().enumerate() {
            let b = backend.clone();
            tasks.push(tokio::spawn(async move {
                let peer = format!("bench-{i}");
                let mut latencies = Vec::with_capacity(list.len());
                for f in list {
                    let sent = Instant::now();
                    let answer = b.handle_frame(&f, &peer).await;
                    latencies.push(sent.elapsed());
                    assert_ne!(answer[0], 0xFF, "{}", String::from_utf8_lossy(&answer[1..]));
                }
                latencies
            }));
        }
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await?);
        }
        let secs = t.elapsed().as_secs_f64();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        let n = obes * per_obe;
        println!(
            "{n} charge reports ({size} octets{}{}), {obes} OBEs concurrently: {secs:.2} s, {:.0} reports/s (durable, {})",
            if authenticated { ", HMAC-SHA-256" } else { "" },
            if ledger { ", ledger debit" } else { "" },
            n as f64 / secs,
            match durability {
                Durability::Full => "full fsync",
                Durability::Normal => "synchronous=NORMAL, no fsync per commit",
            }
        );
        println!(
            "report → answer latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            latencies.last().unwrap().as_secs_f64() * 1e3
        );
        let after = sqlite.group_commits();
        println!(
            "store: {} commits, {} writer jobs ({:.1} reports per commit)",
            after.0 - before.0,
            after.1 - before.1,
            n as f64 / (after.0 - before.0).max(1) as f64
        );
        println!("decode + verify + checks only, one thread: {cpu:.0} reports/s");
        anyhow::Ok(())
    })
}
