//! Crash safety (issue 9, item 7): "durable before acknowledged", tested against the real
//! binary. A transaction load runs from a few stations; the server is killed with SIGKILL after
//! a configurable number of acknowledged TransactionEvents (no sleeps: the kill follows the
//! count); it restarts on the same data directory; each station reconnects and retransmits the
//! CALL that was unanswered when the server died (same message id, as OCPP-J wants), twice, and
//! one acknowledged TransactionEvent. Then the store must hold every acknowledged event exactly
//! once, nothing that was never sent, and no event, counter or sample applied twice.
//!
//! `UNICHARGE_CRASH_STATIONS` and `UNICHARGE_CRASH_KILL_AFTER` scale it up (docs/load-testing.md
//! has the full-size run against a release build).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Notify;
use unicharge_core::StationId;
use unicharge_ocpp::Frame;
use unicharge_sim::load::{Mix, Script};
use unicharge_sim::{ConnectOptions, Station};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{MeterValueFilter, Store};

const PASSWORD: &str = "crash-safety-password-01";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `unicharge serve` process and the ws endpoint it printed.
struct ServerProcess {
    child: Child,
    ws_base: String,
}

impl ServerProcess {
    /// Start `unicharge serve` on `dir`'s configuration and wait for it to print its ws
    /// endpoint (it listens on a free port: `127.0.0.1:0`).
    fn start(dir: &Path, log_name: &str) -> ServerProcess {
        let log = std::fs::File::create(dir.join(log_name)).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_unicharge"))
            .arg("--config")
            .arg(dir.join("unicharge.toml"))
            .arg("serve")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("unicharge starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Report the endpoint, then keep draining so the server never blocks on stdout.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split_whitespace().find(|w| w.starts_with("ws://")) {
                    let base = url.trim_end_matches("/{stationId}").to_string();
                    let _ = tx.send(base);
                }
            }
        });
        let ws_base = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "no ws endpoint printed; see {}",
                    dir.join(log_name).display()
                )
            });
        ServerProcess { child, ws_base }
    }

    /// SIGKILL: no shutdown code runs, as in a crash.
    fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

fn write_config(dir: &Path, stations: &[String]) {
    let mut bootstrap = String::new();
    for id in stations {
        bootstrap.push_str(&format!(
            "[[stations]]\nid = {id:?}\nsecurity_profile = 1\npassword = {PASSWORD:?}\n"
        ));
    }
    std::fs::write(dir.join("stations.toml"), bootstrap).unwrap();
    std::fs::write(
        dir.join("unicharge.toml"),
        r#"data_dir = "data"
bootstrap = "stations.toml"

[csms]
ws_listen = "127.0.0.1:0"
wss_listen = ""
# Not under test here, and a reconnecting load station implements no GetTransactionStatus.
transaction_status_check = "off"

[store]
durability = "full"

[http]
listen = ""

[efc]
tcp_listen = "127.0.0.1:0"
http_listen = ""

[diameter]
listen = ""
"#,
    )
    .unwrap();
}

/// A CALL a station sent: its id and exact text (to retransmit), and for a TransactionEvent
/// its `(transactionId, seqNo)`.
#[derive(Debug, Clone)]
struct Sent {
    id: String,
    text: String,
    event: Option<(String, i64)>,
}

/// What one station saw before the crash.
#[derive(Debug)]
struct Played {
    station: String,
    /// CALLs answered with a CALLRESULT, with that answer's payload.
    acknowledged: Vec<(Sent, Value)>,
    /// The CALL in flight when the connection died.
    unanswered: Option<Sent>,
}

async fn connect(ws_base: &str, station: &str) -> Station {
    let mut options = ConnectOptions::new(format!("{ws_base}/{station}")).basic(station, PASSWORD);
    options.timeout = Duration::from_secs(30);
    Station::connect(&options).await.expect("station connects")
}

/// Send `sent` and wait for its answer's payload; Err when the connection is gone.
async fn exchange(station: &mut Station, sent: &Sent) -> Result<Value, String> {
    station
        .send_text(&sent.text)
        .await
        .map_err(|e| e.to_string())?;
    match station.await_answer(&sent.id).await {
        Ok(Frame::CallResult { payload, .. }) => Ok(payload),
        Ok(other) => panic!("{}: {other:?}", sent.text),
        Err(e) => Err(e.to_string()),
    }
}

/// Play transaction sessions until the connection dies or `limit` CALLs are answered.
async fn play(
    mut station: Station,
    id: String,
    acknowledged_events: Arc<AtomicUsize>,
    kill_after: usize,
    time_to_kill: Arc<Notify>,
    limit: usize,
) -> Played {
    let mix = Mix {
        updates_per_session: 5,
        // Only TransactionEvents carry samples: the stored sample count is then exact.
        meter_values_every: 0,
        authorize_percent: 50,
        heartbeat_interval: Some(Duration::ZERO),
        ..Mix::default()
    };
    let run = format!("{:08x}", rand_suffix(&id));
    let mut script = Script::new(mix, run.clone(), Duration::ZERO);
    let mut played = Played {
        station: id.clone(),
        acknowledged: Vec::new(),
        unanswered: None,
    };
    for n in 0..limit {
        let outgoing = script.next(Instant::now());
        let message_id = format!("{run}-{n}");
        let sent = Sent {
            text: outgoing.call_text(&message_id),
            id: message_id,
            event: outgoing
                .transaction_event()
                .map(|(tx, seq)| (tx.to_string(), seq)),
        };
        match exchange(&mut station, &sent).await {
            Ok(answer) => {
                if sent.event.is_some()
                    && acknowledged_events.fetch_add(1, Ordering::SeqCst) + 1 == kill_after
                {
                    time_to_kill.notify_one();
                }
                played.acknowledged.push((sent, answer));
            }
            Err(_) => {
                played.unanswered = Some(sent);
                return played;
            }
        }
    }
    station.close().await;
    played
}

/// Transaction ids must not collide with another run's on the same station.
fn rand_suffix(id: &str) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos
        ^ id.bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_transaction_load_loses_no_acknowledged_event() {
    let stations = setting("UNICHARGE_CRASH_STATIONS", 10);
    let kill_after = setting("UNICHARGE_CRASH_KILL_AFTER", 120);
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = (0..stations).map(|i| format!("CRASH{i}")).collect();
    write_config(dir.path(), &ids);

    // 1. Load, then SIGKILL once `kill_after` TransactionEvents are acknowledged.
    let server = ServerProcess::start(dir.path(), "server-1.log");
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let time_to_kill = Arc::new(Notify::new());
    // Connected one after the other (the server sheds concurrent password checks with 503),
    // then all play at once.
    let mut connected = Vec::new();
    for id in &ids {
        connected.push(connect(&server.ws_base, id).await);
    }
    let players: Vec<_> = ids
        .iter()
        .zip(connected)
        .map(|(id, station)| {
            tokio::spawn(play(
                station,
                id.clone(),
                acknowledged.clone(),
                kill_after,
                time_to_kill.clone(),
                // Enough that the stations are still sending when the kill comes.
                kill_after * 4,
            ))
        })
        .collect();
    time_to_kill.notified().await;
    server.kill_9();
    let mut played = Vec::new();
    for p in players {
        played.push(p.await.expect("station task"));
    }
    let in_flight = played.iter().filter(|p| p.unanswered.is_some()).count();
    assert!(
        in_flight > 0,
        "the kill came while no CALL was in flight: the test proves nothing"
    );

    // 2. Restart on the same data directory; retransmit what was unanswered (twice: the second
    //    answer must be the first's, replayed) and one acknowledged TransactionEvent (its
    //    answer must be the one given before the crash).
    let server = ServerProcess::start(dir.path(), "server-2.log");
    let mut retransmitted_ok: BTreeMap<String, Vec<Sent>> = BTreeMap::new();
    for p in &played {
        let mut station = connect(&server.ws_base, &p.station).await;
        if let Some(sent) = &p.unanswered {
            let first = exchange(&mut station, sent)
                .await
                .expect("answered after restart");
            let again = exchange(&mut station, sent).await.expect("answered again");
            assert_eq!(
                first, again,
                "{}: a retransmission got another answer",
                sent.text
            );
            retransmitted_ok
                .entry(p.station.clone())
                .or_default()
                .push(sent.clone());
        }
        if let Some((sent, answer)) = p.acknowledged.iter().rev().find(|(s, _)| s.event.is_some()) {
            let replayed = exchange(&mut station, sent).await.expect("answered");
            assert_eq!(
                &replayed, answer,
                "{}: answer changed across the crash",
                sent.text
            );
        }
        station.close().await;
    }
    server.kill_9();

    // 3. Every acknowledged event is stored exactly once; nothing unsent is stored.
    let store = SqliteStore::open(&dir.path().join("data/unicharge.db"), Durability::Normal)
        .await
        .expect("store opens");
    let mut checked = 0;
    for p in &played {
        let station = StationId::new(&p.station).unwrap();
        let mut must: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        let mut may: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        let acknowledged = p.acknowledged.iter().map(|(s, _)| s);
        let retransmitted = retransmitted_ok.get(&p.station).into_iter().flatten();
        for sent in acknowledged.chain(retransmitted) {
            if let Some((tx, seq)) = &sent.event {
                must.entry(tx.clone()).or_default().insert(*seq);
            }
        }
        for sent in p
            .unanswered
            .iter()
            .chain(p.acknowledged.iter().map(|(s, _)| s))
        {
            if let Some((tx, seq)) = &sent.event {
                may.entry(tx.clone()).or_default().insert(*seq);
            }
        }
        for (tx, sent_seqs) in &may {
            let stored: Vec<i64> = store
                .transaction_events(&station, tx)
                .await
                .unwrap()
                .iter()
                .map(|e| e.seq_no)
                .collect();
            let stored_set: BTreeSet<i64> = stored.iter().copied().collect();
            assert_eq!(
                stored.len(),
                stored_set.len(),
                "{station} {tx}: an event stored twice: {stored:?}"
            );
            let missing: Vec<_> = must
                .get(tx)
                .into_iter()
                .flatten()
                .filter(|s| !stored_set.contains(s))
                .collect();
            assert!(
                missing.is_empty(),
                "{station} {tx}: acknowledged seqNo {missing:?} lost (stored {stored:?})"
            );
            assert!(
                stored_set.is_subset(sent_seqs),
                "{station} {tx}: stored {stored:?}, sent {sent_seqs:?}"
            );
            if stored.is_empty() {
                continue;
            }
            let record = store
                .transaction(&station, tx)
                .await
                .unwrap()
                .expect("transaction stored");
            assert_eq!(
                record.events,
                stored.len() as i64,
                "{station} {tx}: event counter applied twice"
            );
            let samples = store
                .meter_values(
                    &station,
                    &MeterValueFilter {
                        transaction_id: Some(tx.clone()),
                        evse_id: None,
                        limit: 10_000,
                        until: None,
                    },
                )
                .await
                .unwrap();
            assert_eq!(
                samples.len(),
                8 * stored.len(),
                "{station} {tx}: samples stored twice or lost"
            );
            checked += stored.len();
        }
    }
    assert!(checked >= kill_after, "only {checked} events checked");
    eprintln!(
        "{stations} stations, SIGKILL after {kill_after} acknowledged TransactionEvents: \
         {in_flight} CALLs in flight retransmitted, {checked} stored events checked"
    );
}
