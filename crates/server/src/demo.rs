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

use chrono::Utc;
use rand::Rng;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde_json::Value;
use unicharge_core::credentials::GeneratedPassword;
use unicharge_core::{SecurityProfile, Station as StationRecord, StationId};
use unicharge_ocpp::v201::{
    BootNotificationRequest, BootReasonEnumType, ChangeAvailabilityRequest,
    ChangeAvailabilityResponse, ChangeAvailabilityStatusEnumType, ChargingStateEnumType,
    ChargingStationType, ConnectorStatusEnumType, EvseType, IdTokenEnumType, IdTokenType,
    MeasurandEnumType, MeterValueType, OperationalStatusEnumType, ReadingContextEnumType,
    ReasonEnumType, RequestStartStopStatusEnumType, RequestStartTransactionRequest,
    RequestStartTransactionResponse, RequestStopTransactionRequest, RequestStopTransactionResponse,
    ResetRequest, ResetResponse, ResetStatusEnumType, SampledValueType, StatusNotificationRequest,
    TransactionEventEnumType, TransactionEventRequest, TransactionType, TriggerReasonEnumType,
    UnitOfMeasureType, UnlockConnectorRequest, UnlockConnectorResponse, UnlockStatusEnumType,
};
use unicharge_ocpp::{ErrorCode, Frame};
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

    async fn status(
        &self,
        station: &mut Station,
        evse: i64,
        status: ConnectorStatusEnumType,
    ) -> Result<(), SimError> {
        let request = StatusNotificationRequest {
            custom_data: None,
            timestamp: Utc::now(),
            connector_status: status,
            evse_id: evse,
            connector_id: 1,
        };
        station.call(&request).await.map(|_| ())
    }

    /// The EVSE's energy register and its power now, as one meterValue.
    fn meter(
        &self,
        evse: i64,
        context: ReadingContextEnumType,
        power_w: f64,
    ) -> Vec<MeterValueType> {
        let sampled = |value: f64, measurand, unit: &str| SampledValueType {
            custom_data: None,
            value: Decimal::from_f64(value.round()).unwrap_or_default(),
            context: Some(context),
            measurand: Some(measurand),
            phase: None,
            location: None,
            signed_meter_value: None,
            unit_of_measure: Some(UnitOfMeasureType {
                custom_data: None,
                unit: Some(unit.into()),
                multiplier: None,
            }),
        };
        vec![MeterValueType {
            custom_data: None,
            timestamp: Utc::now(),
            sampled_value: vec![
                sampled(
                    self.registers[&evse],
                    MeasurandEnumType::EnergyActiveImportRegister,
                    "Wh",
                ),
                sampled(power_w, MeasurandEnumType::PowerActiveImport, "W"),
            ],
        }]
    }

    /// A TransactionEvent of this station, now.
    fn event(
        event_type: TransactionEventEnumType,
        trigger_reason: TriggerReasonEnumType,
        seq_no: i64,
        transaction_info: TransactionType,
        meter_value: Vec<MeterValueType>,
    ) -> TransactionEventRequest {
        TransactionEventRequest {
            custom_data: None,
            event_type,
            meter_value: Some(meter_value),
            timestamp: Utc::now(),
            trigger_reason,
            seq_no,
            offline: None,
            number_of_phases_used: None,
            cable_max_current: None,
            reservation_id: None,
            transaction_info,
            evse: None,
            id_token: None,
        }
    }

    fn transaction(
        transaction_id: &str,
        charging_state: ChargingStateEnumType,
        stopped_reason: Option<ReasonEnumType>,
    ) -> TransactionType {
        TransactionType {
            custom_data: None,
            transaction_id: transaction_id.to_owned(),
            charging_state: Some(charging_state),
            time_spent_charging: None,
            stopped_reason,
            remote_start_id: None,
        }
    }

    /// Connected for `online_for`: boot, report, then serve calls and tick.
    async fn live(&mut self, station: &mut Station, online_for: Duration) -> Result<(), SimError> {
        let boot = BootNotificationRequest {
            custom_data: None,
            charging_station: ChargingStationType {
                custom_data: None,
                serial_number: Some(format!("SN-{}", self.id)),
                model: self.model.into(),
                modem: None,
                vendor_name: "unicharge demo".into(),
                firmware_version: Some("1.4.2".into()),
            },
            reason: BootReasonEnumType::PowerUp,
        };
        station.call(&boot).await?;
        for evse in 1..=EVSES {
            let status = if self.sessions.contains_key(&evse) {
                ConnectorStatusEnumType::Occupied
            } else {
                ConnectorStatusEnumType::Available
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
        self.status(station, evse, ConnectorStatusEnumType::Occupied)
            .await?;
        let mut info = Self::transaction(&transaction_id, ChargingStateEnumType::Charging, None);
        info.remote_start_id = remote_start_id;
        let mut started = Self::event(
            TransactionEventEnumType::Started,
            if remote_start_id.is_some() {
                TriggerReasonEnumType::RemoteStart
            } else {
                TriggerReasonEnumType::Authorized
            },
            0,
            info,
            self.meter(
                evse,
                ReadingContextEnumType::TransactionBegin,
                session.power_w,
            ),
        );
        started.evse = Some(EvseType {
            custom_data: None,
            id: evse,
            connector_id: Some(1),
        });
        started.id_token = Some(IdTokenType {
            custom_data: None,
            id_token: token.to_owned(),
            r#type: IdTokenEnumType::Iso14443,
            additional_info: None,
        });
        station.call(&started).await?;
        self.sessions.insert(evse, session);
        Ok(())
    }

    async fn end_session(
        &mut self,
        station: &mut Station,
        evse: i64,
        reason: ReasonEnumType,
    ) -> Result<(), SimError> {
        let Some(mut session) = self.sessions.remove(&evse) else {
            return Ok(());
        };
        session.seq_no += 1;
        let ended = Self::event(
            TransactionEventEnumType::Ended,
            if reason == ReasonEnumType::Remote {
                TriggerReasonEnumType::RemoteStop
            } else {
                TriggerReasonEnumType::EvCommunicationLost
            },
            session.seq_no,
            Self::transaction(
                &session.transaction_id,
                ChargingStateEnumType::Idle,
                Some(reason),
            ),
            self.meter(evse, ReadingContextEnumType::TransactionEnd, 0.0),
        );
        station.call(&ended).await?;
        self.status(station, evse, ConnectorStatusEnumType::Available)
            .await
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
                self.end_session(station, evse, ReasonEnumType::EvDisconnected)
                    .await?;
                continue;
            }
            let (transaction_id, seq_no, power) = update;
            let updated = Self::event(
                TransactionEventEnumType::Updated,
                TriggerReasonEnumType::MeterValuePeriodic,
                seq_no,
                Self::transaction(&transaction_id, ChargingStateEnumType::Charging, None),
                self.meter(evse, ReadingContextEnumType::SamplePeriodic, power),
            );
            station.call(&updated).await?;
        }
        Ok(())
    }

    /// Answer the CSMS's CALL `action` (waiting first in the station's inbox).
    async fn answer(&mut self, station: &mut Station, action: &str) -> Result<(), SimError> {
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
                let answer = RequestStartTransactionResponse {
                    custom_data: None,
                    status: if free {
                        RequestStartStopStatusEnumType::Accepted
                    } else {
                        RequestStartStopStatusEnumType::Rejected
                    },
                    status_info: None,
                    transaction_id: None,
                };
                station
                    .respond::<RequestStartTransactionRequest>(&id, &answer)
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
                let answer = RequestStopTransactionResponse {
                    custom_data: None,
                    status: if evse.is_some() {
                        RequestStartStopStatusEnumType::Accepted
                    } else {
                        RequestStartStopStatusEnumType::Rejected
                    },
                    status_info: None,
                };
                station
                    .respond::<RequestStopTransactionRequest>(&id, &answer)
                    .await?;
                if let Some(evse) = evse {
                    self.end_session(station, evse, ReasonEnumType::Remote)
                        .await?;
                }
            }
            "UnlockConnector" => {
                let (id, _) = station.expect_call::<UnlockConnectorRequest>().await?;
                station
                    .respond::<UnlockConnectorRequest>(
                        &id,
                        &UnlockConnectorResponse {
                            custom_data: None,
                            status: UnlockStatusEnumType::Unlocked,
                            status_info: None,
                        },
                    )
                    .await?;
            }
            "ChangeAvailability" => {
                let (id, request) = station.expect_call::<ChangeAvailabilityRequest>().await?;
                station
                    .respond::<ChangeAvailabilityRequest>(
                        &id,
                        &ChangeAvailabilityResponse {
                            custom_data: None,
                            status: ChangeAvailabilityStatusEnumType::Accepted,
                            status_info: None,
                        },
                    )
                    .await?;
                let evses: Vec<i64> = match &request.evse {
                    Some(e) => vec![e.id],
                    None => (1..=EVSES).collect(),
                };
                let status = match request.operational_status {
                    OperationalStatusEnumType::Inoperative => ConnectorStatusEnumType::Unavailable,
                    OperationalStatusEnumType::Operative => ConnectorStatusEnumType::Available,
                };
                for evse in evses.into_iter().filter(|e| !self.sessions.contains_key(e)) {
                    self.status(station, evse, status).await?;
                }
            }
            "Reset" => {
                let (id, _) = station.expect_call::<ResetRequest>().await?;
                station
                    .respond::<ResetRequest>(
                        &id,
                        &ResetResponse {
                            custom_data: None,
                            status: ResetStatusEnumType::Accepted,
                            status_info: None,
                        },
                    )
                    .await?;
                return Err(SimError::Unexpected("reset: rebooting".into()));
            }
            other => {
                // Take it out of the inbox and refuse it the OCPP way.
                let (id, _) = station.take_call()?;
                let refusal = Frame::CallError {
                    id,
                    code: ErrorCode::NotImplemented,
                    description: format!("the demo station does not do {other}"),
                    details: Value::Object(Default::default()),
                };
                station.send_text(&refusal.to_text()).await?;
            }
        }
        Ok(())
    }
}
