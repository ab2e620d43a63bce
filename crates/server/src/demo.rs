//! `unicharge serve --demo`: the server plus a handful of simulated stations, in-process, so a
//! newcomer sees a living system in the web UI within seconds. Never on by default; every UI
//! page says "Demo mode".
//!
//! Each demo station is the simulator library's [`Station`] speaking OCPP 2.0.1 over a real
//! WebSocket to this server's own ws listener, with a password the demo registers for it. It
//! boots, reports its connectors, starts sessions of its own now and then and accepts remote
//! starts and stops, unlocks, availability changes and resets; while charging it reports
//! energy and power every tick (time runs [`TIME_LAPSE`] times faster for the meter, so costs
//! visibly grow); and it goes offline now and then and comes back.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde_json::{json, Value};
use unicharge_core::credentials::GeneratedPassword;
use unicharge_core::{SecurityProfile, Station as StationRecord, StationId};
use unicharge_sim::{ConnectOptions, SimError, Station};
use unicharge_store::Store;

/// How many stations the demo runs.
pub const STATIONS: usize = 5;
/// EVSEs per demo station (one connector each).
pub const EVSES: i64 = 2;
/// How often a demo station reports while charging, and looks around.
pub const TICK: Duration = Duration::from_secs(3);
/// The meter runs this much faster than the clock.
pub const TIME_LAPSE: f64 = 30.0;

/// What the demo needs to reach the server.
#[derive(Debug, Clone)]
pub struct DemoTarget {
    /// `ws://127.0.0.1:port/ocpp` (the server's own ws listener).
    pub ws_base: String,
}

/// Start the demo next to a running server (its own ws listener is the stations' target).
/// `path_prefix` is `[csms] path_prefix` (`/ocpp` by default).
pub async fn start_for(server: &crate::Server, path_prefix: &str) -> anyhow::Result<Vec<String>> {
    let ws = server.ws_addr().ok_or_else(|| {
        anyhow::anyhow!("--demo needs the ws listener: set [csms] ws_listen (it is off)")
    })?;
    let target = DemoTarget {
        ws_base: format!("ws://127.0.0.1:{}{path_prefix}", ws.port()),
    };
    start(server.store.clone(), target).await
}

/// Register the demo stations and a demo tariff (if there is no tariff yet), then run each
/// station in its own task. Returns the station ids.
pub async fn start(store: Arc<dyn Store>, target: DemoTarget) -> anyhow::Result<Vec<String>> {
    if store.tariffs().await?.is_empty() {
        use rust_decimal::Decimal;
        use unicharge_core::tariff::{Tariff, TariffAssignment, TariffScope};
        store
            .put_tariff(&Tariff {
                id: "DEMO".into(),
                currency: "EUR".into(),
                vat_percent: Decimal::from(19),
                price_per_kwh: Decimal::new(39, 2),
                price_per_charging_minute: Decimal::ZERO,
                price_per_idle_minute: Decimal::new(5, 2),
                session_fee: Decimal::new(50, 2),
                valid_from: None,
                valid_to: None,
                display_text: Vec::new(),
            })
            .await?;
        store
            .add_tariff_assignment(&TariffAssignment {
                tariff_id: "DEMO".into(),
                scope: TariffScope::Default,
            })
            .await?;
    }
    let mut ids = Vec::new();
    for n in 1..=STATIONS {
        let id = format!("DEMO-{n:02}");
        let station_id = StationId::new(id.clone())?;
        let password = GeneratedPassword::new();
        match store.get_station(&station_id).await? {
            Some(_) => {
                store
                    .set_password_hash(&station_id, Some(password.hash().as_str()))
                    .await?;
            }
            None => {
                let mut record =
                    StationRecord::new(station_id.clone(), SecurityProfile::BasicAuth, Utc::now());
                record.password_hash = Some(password.hash());
                store.create_station(&record).await?;
            }
        }
        let options = ConnectOptions::new(format!("{}/{id}", target.ws_base))
            .basic(id.clone(), password.as_str().to_string());
        tokio::spawn(run(id.clone(), n, options));
        ids.push(id);
    }
    Ok(ids)
}

/// One demo station, forever: connect, live a while, drop off, come back.
async fn run(id: String, n: usize, mut options: ConnectOptions) {
    options.timeout = TICK;
    let mut demo = Demo::new(id.clone(), n);
    loop {
        match Station::connect(&options).await {
            Ok(mut station) => {
                let online_for = Duration::from_secs(rand::thread_rng().gen_range(120..420));
                match demo.live(&mut station, online_for).await {
                    Ok(()) => {
                        tracing::info!(station = %id, "demo station goes offline for a while")
                    }
                    Err(e) => tracing::info!(station = %id, error = %e, "demo station dropped"),
                }
                station.close().await;
            }
            Err(e) => tracing::debug!(station = %id, error = %e, "demo station cannot connect yet"),
        }
        let offline = Duration::from_secs(rand::thread_rng().gen_range(10..40));
        tokio::time::sleep(offline).await;
    }
}

fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A session on one EVSE.
#[derive(Debug, Clone)]
struct Session {
    transaction_id: String,
    seq_no: i64,
    register_wh: f64,
    power_w: f64,
    target_wh: f64,
}

struct Demo {
    id: String,
    model: &'static str,
    /// The energy register of each EVSE (kept across sessions and reconnects).
    registers: HashMap<i64, f64>,
    sessions: HashMap<i64, Session>,
    next_tx: u64,
}

impl Demo {
    fn new(id: String, n: usize) -> Demo {
        Demo {
            id,
            model: ["Wallbox Pro 22", "City Pillar 2x11", "DC Fast 50"][n % 3],
            registers: (1..=EVSES)
                .map(|e| (e, 1_000_000.0 * n as f64 + 1000.0 * e as f64))
                .collect(),
            sessions: HashMap::new(),
            next_tx: 1,
        }
    }

    async fn status(&self, station: &mut Station, evse: i64, status: &str) -> Result<(), SimError> {
        station
            .call_raw(
                "StatusNotification",
                json!({"timestamp": ts(Utc::now()), "connectorStatus": status, "evseId": evse, "connectorId": 1}),
            )
            .await
            .map(|_| ())
    }

    fn meter(&self, evse: i64, context: &str, power_w: f64) -> Value {
        json!([{"timestamp": ts(Utc::now()), "sampledValue": [
            {"value": (self.registers[&evse]).round(), "context": context,
             "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
            {"value": power_w.round(), "context": context, "measurand": "Power.Active.Import",
             "unitOfMeasure": {"unit": "W"}}]}])
    }

    /// Connected for `online_for`: boot, report, then serve calls and tick.
    async fn live(&mut self, station: &mut Station, online_for: Duration) -> Result<(), SimError> {
        station
            .call_raw(
                "BootNotification",
                json!({"reason": "PowerUp", "chargingStation": {"model": self.model,
                       "vendorName": "unicharge demo", "serialNumber": format!("SN-{}", self.id),
                       "firmwareVersion": "1.4.2"}}),
            )
            .await?;
        for evse in 1..=EVSES {
            let status = if self.sessions.contains_key(&evse) {
                "Occupied"
            } else {
                "Available"
            };
            self.status(station, evse, status).await?;
        }
        let until = tokio::time::Instant::now() + online_for;
        let mut last_tick = tokio::time::Instant::now();
        while tokio::time::Instant::now() < until {
            match station.next_call_action().await {
                Ok(action) => self.answer(station, &action).await?,
                Err(SimError::Timeout(..)) => {}
                Err(e) => return Err(e),
            }
            if last_tick.elapsed() >= TICK {
                let elapsed = last_tick.elapsed();
                last_tick = tokio::time::Instant::now();
                self.tick(station, elapsed).await?;
            }
        }
        Ok(())
    }

    async fn start_session(
        &mut self,
        station: &mut Station,
        evse: i64,
        token: &str,
        remote_start_id: Option<i64>,
    ) -> Result<(), SimError> {
        let transaction_id = format!(
            "{}-{}-{}",
            self.id,
            Utc::now().format("%H%M%S"),
            self.next_tx
        );
        self.next_tx += 1;
        let session = {
            // (the thread's RNG is not Send: it must not live across an await)
            let mut rng = rand::thread_rng();
            Session {
                transaction_id: transaction_id.clone(),
                seq_no: 0,
                register_wh: self.registers[&evse],
                power_w: [7400.0, 11000.0, 22000.0][rng.gen_range(0..3)] * rng.gen_range(0.85..1.0),
                target_wh: rng.gen_range(8000.0..40000.0),
            }
        };
        self.status(station, evse, "Occupied").await?;
        let mut info = json!({"transactionId": transaction_id, "chargingState": "Charging"});
        if let Some(id) = remote_start_id {
            info["remoteStartId"] = id.into();
        }
        station
            .call_raw(
                "TransactionEvent",
                json!({"eventType": "Started", "timestamp": ts(Utc::now()),
                       "triggerReason": if remote_start_id.is_some() { "RemoteStart" } else { "Authorized" },
                       "seqNo": 0, "transactionInfo": info,
                       "evse": {"id": evse, "connectorId": 1},
                       "idToken": {"idToken": token, "type": "ISO14443"},
                       "meterValue": self.meter(evse, "Transaction.Begin", session.power_w)}),
            )
            .await?;
        self.sessions.insert(evse, session);
        Ok(())
    }

    async fn end_session(
        &mut self,
        station: &mut Station,
        evse: i64,
        reason: &str,
    ) -> Result<(), SimError> {
        let Some(mut session) = self.sessions.remove(&evse) else {
            return Ok(());
        };
        session.seq_no += 1;
        station
            .call_raw(
                "TransactionEvent",
                json!({"eventType": "Ended", "timestamp": ts(Utc::now()),
                       "triggerReason": if reason == "Remote" { "RemoteStop" } else { "EVCommunicationLost" },
                       "seqNo": session.seq_no,
                       "transactionInfo": {"transactionId": session.transaction_id,
                                           "chargingState": "Idle", "stoppedReason": reason},
                       "meterValue": self.meter(evse, "Transaction.End", 0.0)}),
            )
            .await?;
        self.status(station, evse, "Available").await
    }

    async fn tick(&mut self, station: &mut Station, elapsed: Duration) -> Result<(), SimError> {
        // Sometimes a driver arrives at a free EVSE.
        let free: Vec<i64> = (1..=EVSES)
            .filter(|e| !self.sessions.contains_key(e))
            .collect();
        let arrival = {
            let mut rng = rand::thread_rng();
            (!free.is_empty() && rng.gen_bool(0.04)).then(|| {
                (
                    free[rng.gen_range(0..free.len())],
                    format!("DEMO-CARD-{:03}", rng.gen_range(1..50)),
                )
            })
        };
        if let Some((evse, token)) = arrival {
            self.start_session(station, evse, &token, None).await?;
        }
        let evses: Vec<i64> = self.sessions.keys().copied().collect();
        for evse in evses {
            let (done, update) = {
                let session = self.sessions.get_mut(&evse).expect("listed");
                // Power tapers off as the battery fills.
                let progress =
                    ((self.registers[&evse] - session.register_wh) / session.target_wh).min(1.0);
                let power = session.power_w * if progress > 0.8 { 0.5 } else { 1.0 };
                let wh = power * elapsed.as_secs_f64() * TIME_LAPSE / 3600.0;
                *self
                    .registers
                    .get_mut(&evse)
                    .expect("every EVSE has a register") += wh;
                session.seq_no += 1;
                (
                    progress >= 1.0,
                    (session.transaction_id.clone(), session.seq_no, power),
                )
            };
            if done {
                self.end_session(station, evse, "EVDisconnected").await?;
                continue;
            }
            let (transaction_id, seq_no, power) = update;
            station
                .call_raw(
                    "TransactionEvent",
                    json!({"eventType": "Updated", "timestamp": ts(Utc::now()),
                           "triggerReason": "MeterValuePeriodic", "seqNo": seq_no,
                           "transactionInfo": {"transactionId": transaction_id, "chargingState": "Charging"},
                           "meterValue": self.meter(evse, "Sample.Periodic", power)}),
                )
                .await?;
        }
        Ok(())
    }

    /// Answer the CSMS's CALL `action` (waiting first in the station's inbox).
    async fn answer(&mut self, station: &mut Station, action: &str) -> Result<(), SimError> {
        use unicharge_ocpp::v201::{
            ChangeAvailabilityRequest, RequestStartTransactionRequest,
            RequestStopTransactionRequest, ResetRequest, UnlockConnectorRequest,
        };
        fn typed<T: serde::de::DeserializeOwned>(v: Value) -> T {
            serde_json::from_value(v).expect("a schema-valid demo answer")
        }
        match action {
            "RequestStartTransaction" => {
                let (id, request) = station
                    .expect_call::<RequestStartTransactionRequest>()
                    .await?;
                let evse = request.evse_id.unwrap_or_else(|| {
                    (1..=EVSES)
                        .find(|e| !self.sessions.contains_key(e))
                        .unwrap_or(1)
                });
                let free = (1..=EVSES).contains(&evse) && !self.sessions.contains_key(&evse);
                let status = if free { "Accepted" } else { "Rejected" };
                station
                    .respond::<RequestStartTransactionRequest>(
                        &id,
                        &typed(json!({"status": status})),
                    )
                    .await?;
                if free {
                    let token = request.id_token.id_token.clone();
                    self.start_session(station, evse, &token, Some(request.remote_start_id))
                        .await?;
                }
            }
            "RequestStopTransaction" => {
                let (id, request) = station
                    .expect_call::<RequestStopTransactionRequest>()
                    .await?;
                let evse = self
                    .sessions
                    .iter()
                    .find(|(_, s)| s.transaction_id == request.transaction_id)
                    .map(|(e, _)| *e);
                let status = if evse.is_some() {
                    "Accepted"
                } else {
                    "Rejected"
                };
                station
                    .respond::<RequestStopTransactionRequest>(
                        &id,
                        &typed(json!({"status": status})),
                    )
                    .await?;
                if let Some(evse) = evse {
                    self.end_session(station, evse, "Remote").await?;
                }
            }
            "UnlockConnector" => {
                let (id, _) = station.expect_call::<UnlockConnectorRequest>().await?;
                station
                    .respond::<UnlockConnectorRequest>(&id, &typed(json!({"status": "Unlocked"})))
                    .await?;
            }
            "ChangeAvailability" => {
                let (id, request) = station.expect_call::<ChangeAvailabilityRequest>().await?;
                station
                    .respond::<ChangeAvailabilityRequest>(
                        &id,
                        &typed(json!({"status": "Accepted"})),
                    )
                    .await?;
                let evses: Vec<i64> = match &request.evse {
                    Some(e) => vec![e.id],
                    None => (1..=EVSES).collect(),
                };
                let status = match request.operational_status.as_str() {
                    "Inoperative" => "Unavailable",
                    _ => "Available",
                };
                for evse in evses.into_iter().filter(|e| !self.sessions.contains_key(e)) {
                    self.status(station, evse, status).await?;
                }
            }
            "Reset" => {
                let (id, _) = station.expect_call::<ResetRequest>().await?;
                station
                    .respond::<ResetRequest>(&id, &typed(json!({"status": "Accepted"})))
                    .await?;
                return Err(SimError::Unexpected("reset: rebooting".into()));
            }
            other => {
                // Take it out of the inbox and refuse it the OCPP way.
                let (id, _) = station.take_call()?;
                let text = json!([
                    4,
                    id,
                    "NotImplemented",
                    format!("the demo station does not do {other}"),
                    {}
                ]);
                station.send_text(&text.to_string()).await?;
            }
        }
        Ok(())
    }
}
