//! The message mix a simulated station plays, as a state machine: one charging session after
//! another on its single connector, with Heartbeats at the interval the CSMS gave.
//!
//! One session, with the defaults ([`Mix::default`]):
//!
//! | step | message | per session |
//! |---|---|---|
//! | plug in | StatusNotification `Occupied` | 1 |
//! | some sessions | Authorize | 0.5 |
//! | start | TransactionEvent `Started` (with the start reading) | 1 |
//! | charging | TransactionEvent `Updated` `MeterValuePeriodic`, one meterValue of 8 sampled values | 30 |
//! | between | MeterValues (the same 8 sampled values), after every 2nd Updated | 15 |
//! | stop | TransactionEvent `Ended` (with the final reading) | 1 |
//! | plug out | StatusNotification `Available` | 1 |
//!
//! So about 65 % TransactionEvent, 30 % MeterValues, 4 % StatusNotification and 1 % Authorize,
//! plus a Heartbeat whenever one is due — what a fleet of AC chargers sends: mostly metering.
//! Every message is one a CSMS must store before it answers (Heartbeat excepted).
//!
//! Requests are the generated OCPP types, serialised straight into a reused buffer (no
//! intermediate JSON tree), so a message costs its few small fields and one copy.

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use unicharge_ocpp::v16;
use unicharge_ocpp::v201::{
    AuthorizeRequest, ChargingStateEnumType, ConnectorStatusEnumType, EvseType, HeartbeatRequest,
    IdTokenEnumType, IdTokenType, MeasurandEnumType, MeterValueType, MeterValuesRequest,
    OcppRequest, PhaseEnumType, ReadingContextEnumType, ReasonEnumType, SampledValueType,
    StatusNotificationRequest, TransactionEventEnumType, TransactionEventRequest, TransactionType,
    TriggerReasonEnumType,
};

/// How a station's sessions are made up. Documented in `docs/load-testing.md`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mix {
    /// TransactionEvent `Updated` per session, each with one meterValue of 8 sampled values.
    pub updates_per_session: u32,
    /// A MeterValues after every this many `Updated` (0: none).
    pub meter_values_every: u32,
    /// Percentage of sessions that begin with an Authorize (spread evenly, not random, so a
    /// run is reproducible).
    pub authorize_percent: u32,
    /// Energy added to the register per `Updated` / MeterValues, in Wh (11 kW for a minute).
    pub wh_per_sample: i64,
    /// Heartbeat every this long; `None`: the `interval` of the BootNotificationResponse.
    #[serde(skip)]
    pub heartbeat_interval: Option<Duration>,
    /// The idToken sessions are authorized with (ISO14443).
    pub id_token: String,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            updates_per_session: 30,
            meter_values_every: 2,
            authorize_percent: 50,
            wh_per_sample: 183,
            heartbeat_interval: None,
            id_token: "LOAD-TOKEN".into(),
        }
    }
}

/// The kinds of message the mix has, to count what was played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Heartbeat,
    StatusNotification,
    Authorize,
    TransactionEventStarted,
    TransactionEventUpdated,
    TransactionEventEnded,
    MeterValues,
    /// OCPP 1.6 ([`super::mix16`]): the start, MeterValues of a transaction (2.0.1's
    /// `Updated`), the stop.
    StartTransaction,
    MeterValuesOfTransaction,
    StopTransaction,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Heartbeat,
        Kind::StatusNotification,
        Kind::Authorize,
        Kind::TransactionEventStarted,
        Kind::TransactionEventUpdated,
        Kind::TransactionEventEnded,
        Kind::MeterValues,
        Kind::StartTransaction,
        Kind::MeterValuesOfTransaction,
        Kind::StopTransaction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Heartbeat => "Heartbeat",
            Kind::StatusNotification => "StatusNotification",
            Kind::Authorize => "Authorize",
            Kind::TransactionEventStarted => "TransactionEvent Started",
            Kind::TransactionEventUpdated => "TransactionEvent Updated",
            Kind::TransactionEventEnded => "TransactionEvent Ended",
            Kind::MeterValues => "MeterValues",
            Kind::StartTransaction => "StartTransaction (1.6)",
            Kind::MeterValuesOfTransaction => "MeterValues of a transaction (1.6)",
            Kind::StopTransaction => "StopTransaction (1.6)",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One CALL the station is about to send, typed.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Heartbeat(HeartbeatRequest),
    StatusNotification(StatusNotificationRequest),
    Authorize(AuthorizeRequest),
    TransactionEvent(Box<TransactionEventRequest>),
    MeterValues(MeterValuesRequest),
    /// OCPP 1.6J ([`super::mix16`]).
    Heartbeat16(v16::HeartbeatRequest),
    StatusNotification16(v16::StatusNotificationRequest),
    Authorize16(v16::AuthorizeRequest),
    StartTransaction16(v16::StartTransactionRequest),
    MeterValues16(Box<v16::MeterValuesRequest>),
    StopTransaction16(v16::StopTransactionRequest),
}

impl Outgoing {
    pub fn kind(&self) -> Kind {
        match self {
            Outgoing::Heartbeat(_) => Kind::Heartbeat,
            Outgoing::StatusNotification(_) => Kind::StatusNotification,
            Outgoing::Authorize(_) => Kind::Authorize,
            Outgoing::TransactionEvent(e) => match e.event_type {
                TransactionEventEnumType::Started => Kind::TransactionEventStarted,
                TransactionEventEnumType::Updated => Kind::TransactionEventUpdated,
                TransactionEventEnumType::Ended => Kind::TransactionEventEnded,
            },
            Outgoing::MeterValues(_) => Kind::MeterValues,
            Outgoing::Heartbeat16(_) => Kind::Heartbeat,
            Outgoing::StatusNotification16(_) => Kind::StatusNotification,
            Outgoing::Authorize16(_) => Kind::Authorize,
            Outgoing::StartTransaction16(_) => Kind::StartTransaction,
            Outgoing::MeterValues16(m) if m.transaction_id.is_some() => {
                Kind::MeterValuesOfTransaction
            }
            Outgoing::MeterValues16(_) => Kind::MeterValues,
            Outgoing::StopTransaction16(_) => Kind::StopTransaction,
        }
    }

    /// `(transactionId, seqNo)` of a TransactionEvent: what a crash test checks was stored.
    pub fn transaction_event(&self) -> Option<(&str, i64)> {
        match self {
            Outgoing::TransactionEvent(e) => {
                Some((e.transaction_info.transaction_id.as_str(), e.seq_no))
            }
            _ => None,
        }
    }

    /// Write the OCPP-J CALL `[2,"id","Action",{payload}]` into `buf` (cleared first).
    pub fn write_call(&self, id: &str, buf: &mut Vec<u8>) -> serde_json::Result<()> {
        buf.clear();
        match self {
            Outgoing::Heartbeat(r) => write_call(buf, id, r),
            Outgoing::StatusNotification(r) => write_call(buf, id, r),
            Outgoing::Authorize(r) => write_call(buf, id, r),
            Outgoing::TransactionEvent(r) => write_call(buf, id, r.as_ref()),
            Outgoing::MeterValues(r) => write_call(buf, id, r),
            Outgoing::Heartbeat16(r) => write_call16(buf, id, r),
            Outgoing::StatusNotification16(r) => write_call16(buf, id, r),
            Outgoing::Authorize16(r) => write_call16(buf, id, r),
            Outgoing::StartTransaction16(r) => write_call16(buf, id, r),
            Outgoing::MeterValues16(r) => write_call16(buf, id, r.as_ref()),
            Outgoing::StopTransaction16(r) => write_call16(buf, id, r),
        }
    }

    /// The CALL as text (allocates; for tests and retransmission).
    pub fn call_text(&self, id: &str) -> String {
        let mut buf = Vec::with_capacity(1024);
        self.write_call(id, &mut buf)
            .expect("generated OCPP types always serialise");
        String::from_utf8(buf).expect("serde_json writes UTF-8")
    }
}

fn write_call<R: OcppRequest>(buf: &mut Vec<u8>, id: &str, request: &R) -> serde_json::Result<()> {
    // Message ids are made by the generator (hex and digits): nothing to escape.
    let _ = write!(buf, "[2,\"{id}\",\"{}\",", R::ACTION.as_str());
    serde_json::to_writer(&mut *buf, request)?;
    buf.push(b']');
    Ok(())
}

fn write_call16<R: v16::OcppRequest>(
    buf: &mut Vec<u8>,
    id: &str,
    request: &R,
) -> serde_json::Result<()> {
    let _ = write!(buf, "[2,\"{id}\",\"{}\",", R::ACTION.as_str());
    serde_json::to_writer(&mut *buf, request)?;
    buf.push(b']');
    Ok(())
}

/// Where the station is in its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    PlugIn,
    Authorize,
    Start,
    /// `done` Updated sent so far; a MeterValues is owed when `meter_values_due`.
    Charging {
        done: u32,
        meter_values_due: bool,
    },
    PlugOut,
}

/// One station's side of the mix: call [`Script::next`] for each CALL to send.
#[derive(Debug, Clone)]
pub struct Script {
    mix: Mix,
    /// Makes transaction ids unique across runs of the generator against the same CSMS.
    run_id: String,
    evse_id: i64,
    connector_id: i64,
    session: u64,
    step: Step,
    authorized: bool,
    transaction_id: String,
    seq_no: i64,
    energy_wh: i64,
    heartbeat_interval: Duration,
    next_heartbeat: Option<Instant>,
}

impl Script {
    /// A script for a station whose connector `evse_id`/`connector_id` is Available, with a
    /// Heartbeat due every `heartbeat_interval` unless the mix overrides it.
    pub fn new(mix: Mix, run_id: impl Into<String>, heartbeat_interval: Duration) -> Self {
        let heartbeat_interval = mix.heartbeat_interval.unwrap_or(heartbeat_interval);
        Script {
            mix,
            run_id: run_id.into(),
            evse_id: 1,
            connector_id: 1,
            session: 0,
            step: Step::PlugIn,
            authorized: false,
            transaction_id: String::new(),
            seq_no: 0,
            energy_wh: 0,
            heartbeat_interval,
            next_heartbeat: None,
        }
    }

    /// The next CALL at `now`: a Heartbeat if one is due, else the session's next step.
    pub fn next(&mut self, now: Instant) -> Outgoing {
        let next_heartbeat = *self
            .next_heartbeat
            .get_or_insert(now + self.heartbeat_interval);
        if !self.heartbeat_interval.is_zero() && now >= next_heartbeat {
            self.next_heartbeat = Some(now + self.heartbeat_interval);
            return Outgoing::Heartbeat(HeartbeatRequest { custom_data: None });
        }
        let at = Utc::now();
        match self.step {
            Step::PlugIn => {
                self.session += 1;
                self.transaction_id = format!("{}-{}", self.run_id, self.session);
                self.seq_no = 0;
                self.authorized = self.session_authorizes();
                self.step = if self.authorized {
                    Step::Authorize
                } else {
                    Step::Start
                };
                self.status(at, ConnectorStatusEnumType::Occupied)
            }
            Step::Authorize => {
                self.step = Step::Start;
                Outgoing::Authorize(AuthorizeRequest {
                    custom_data: None,
                    id_token: self.id_token(),
                    certificate: None,
                    iso15118_certificate_hash_data: None,
                })
            }
            Step::Start => {
                self.step = Step::Charging {
                    done: 0,
                    meter_values_due: false,
                };
                let trigger = if self.authorized {
                    TriggerReasonEnumType::Authorized
                } else {
                    TriggerReasonEnumType::CablePluggedIn
                };
                self.event(at, TransactionEventEnumType::Started, trigger)
            }
            Step::Charging {
                done,
                meter_values_due: true,
            } => {
                self.step = Step::Charging {
                    done,
                    meter_values_due: false,
                };
                self.energy_wh += self.mix.wh_per_sample;
                Outgoing::MeterValues(MeterValuesRequest {
                    custom_data: None,
                    evse_id: self.evse_id,
                    meter_value: vec![meter_value(at, self.energy_wh)],
                })
            }
            Step::Charging { done, .. } if done >= self.mix.updates_per_session => {
                self.step = Step::PlugOut;
                let trigger = if self.authorized {
                    TriggerReasonEnumType::StopAuthorized
                } else {
                    TriggerReasonEnumType::EvCommunicationLost
                };
                self.event(at, TransactionEventEnumType::Ended, trigger)
            }
            Step::Charging { done, .. } => {
                let done = done + 1;
                let every = self.mix.meter_values_every;
                self.step = Step::Charging {
                    done,
                    meter_values_due: every > 0 && done % every == 0,
                };
                self.energy_wh += self.mix.wh_per_sample;
                self.event(
                    at,
                    TransactionEventEnumType::Updated,
                    TriggerReasonEnumType::MeterValuePeriodic,
                )
            }
            Step::PlugOut => {
                self.step = Step::PlugIn;
                self.status(at, ConnectorStatusEnumType::Available)
            }
        }
    }

    /// Whether session `self.session` begins with Authorize: exactly `authorize_percent` of
    /// every 100 sessions, evenly spread.
    fn session_authorizes(&self) -> bool {
        let p = u64::from(self.mix.authorize_percent.min(100));
        (self.session * p) / 100 != ((self.session - 1) * p) / 100
    }

    fn id_token(&self) -> IdTokenType {
        IdTokenType {
            custom_data: None,
            additional_info: None,
            id_token: self.mix.id_token.clone(),
            r#type: IdTokenEnumType::Iso14443,
        }
    }

    fn status(&self, at: DateTime<Utc>, status: ConnectorStatusEnumType) -> Outgoing {
        Outgoing::StatusNotification(StatusNotificationRequest {
            custom_data: None,
            timestamp: at,
            connector_status: status,
            evse_id: self.evse_id,
            connector_id: self.connector_id,
        })
    }

    fn event(
        &mut self,
        at: DateTime<Utc>,
        event_type: TransactionEventEnumType,
        trigger_reason: TriggerReasonEnumType,
    ) -> Outgoing {
        let seq_no = self.seq_no;
        self.seq_no += 1;
        let started = event_type == TransactionEventEnumType::Started;
        let ended = event_type == TransactionEventEnumType::Ended;
        Outgoing::TransactionEvent(Box::new(TransactionEventRequest {
            custom_data: None,
            event_type,
            meter_value: Some(vec![meter_value(at, self.energy_wh)]),
            timestamp: at,
            trigger_reason,
            seq_no,
            offline: None,
            number_of_phases_used: None,
            cable_max_current: None,
            reservation_id: None,
            transaction_info: TransactionType {
                custom_data: None,
                transaction_id: self.transaction_id.clone(),
                charging_state: if started {
                    Some(ChargingStateEnumType::Charging)
                } else if ended {
                    Some(ChargingStateEnumType::EvConnected)
                } else {
                    None
                },
                time_spent_charging: None,
                stopped_reason: ended.then_some(if self.authorized {
                    ReasonEnumType::Local
                } else {
                    ReasonEnumType::EvDisconnected
                }),
                remote_start_id: None,
            },
            evse: started.then_some(EvseType {
                custom_data: None,
                id: self.evse_id,
                connector_id: Some(self.connector_id),
            }),
            id_token: (started && self.authorized).then(|| self.id_token()),
        }))
    }
}

fn sampled(
    value: i64,
    measurand: MeasurandEnumType,
    phase: Option<PhaseEnumType>,
) -> SampledValueType {
    SampledValueType {
        custom_data: None,
        value: Decimal::from(value),
        context: Some(ReadingContextEnumType::SamplePeriodic),
        measurand: Some(measurand),
        phase,
        location: None,
        signed_meter_value: None,
        unit_of_measure: None,
    }
}

/// One meterValue as a three-phase 11 kW charger reports it: the energy register (`wh`, the
/// billed value), power, and current and voltage per phase — eight sampled values.
pub fn meter_value(at: DateTime<Utc>, wh: i64) -> MeterValueType {
    use MeasurandEnumType::*;
    use PhaseEnumType::*;
    let mut values = Vec::with_capacity(8);
    values.push(sampled(wh, EnergyActiveImportRegister, None));
    values.push(sampled(11_000, PowerActiveImport, None));
    for phase in [L1, L2, L3] {
        values.push(sampled(16, CurrentImport, Some(phase)));
        values.push(sampled(230, Voltage, Some(phase)));
    }
    MeterValueType {
        custom_data: None,
        timestamp: at,
        sampled_value: values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn play(mix: Mix, n: usize) -> Vec<Outgoing> {
        let mut script = Script::new(mix, "run", Duration::from_secs(3600));
        let now = Instant::now();
        (0..n).map(|_| script.next(now)).collect()
    }

    #[test]
    fn a_session_is_plug_in_start_updates_with_meter_values_end_plug_out() {
        let mix = Mix {
            updates_per_session: 4,
            meter_values_every: 2,
            authorize_percent: 100,
            ..Mix::default()
        };
        let kinds: Vec<Kind> = play(mix, 11).iter().map(Outgoing::kind).collect();
        use Kind::*;
        assert_eq!(
            kinds,
            [
                StatusNotification,
                Authorize,
                TransactionEventStarted,
                TransactionEventUpdated,
                TransactionEventUpdated,
                MeterValues,
                TransactionEventUpdated,
                TransactionEventUpdated,
                MeterValues,
                TransactionEventEnded,
                StatusNotification,
            ]
        );
    }

    #[test]
    fn seq_no_counts_from_zero_per_transaction_and_ids_differ_per_session() {
        let mix = Mix {
            updates_per_session: 2,
            meter_values_every: 0,
            authorize_percent: 0,
            ..Mix::default()
        };
        let events: Vec<(String, i64)> = play(mix, 12)
            .iter()
            .filter_map(|o| o.transaction_event().map(|(t, s)| (t.to_string(), s)))
            .collect();
        assert_eq!(
            events,
            [
                ("run-1".to_string(), 0),
                ("run-1".to_string(), 1),
                ("run-1".to_string(), 2),
                ("run-1".to_string(), 3),
                ("run-2".to_string(), 0),
                ("run-2".to_string(), 1),
                ("run-2".to_string(), 2),
                ("run-2".to_string(), 3),
            ]
        );
    }

    #[test]
    fn authorize_percent_is_exact_over_a_hundred_sessions() {
        let mix = Mix {
            updates_per_session: 0,
            meter_values_every: 0,
            authorize_percent: 30,
            ..Mix::default()
        };
        let played = play(mix, 1000);
        let count = |kind| played.iter().filter(|o| o.kind() == kind).count();
        let (authorizes, sessions) = (count(Kind::Authorize), count(Kind::TransactionEventStarted));
        assert!(sessions >= 100, "{sessions} sessions");
        // floor(n × 30 / 100) of the first n sessions; the last one may be cut before Started.
        let expected = sessions * 30 / 100;
        assert!(
            authorizes == expected || authorizes == expected + 1,
            "{authorizes} Authorize in {sessions} sessions"
        );
    }

    #[test]
    fn a_heartbeat_goes_first_when_due_and_the_session_resumes_after_it() {
        let mut script = Script::new(Mix::default(), "run", Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(script.next(t0).kind(), Kind::StatusNotification);
        let later = t0 + Duration::from_secs(61);
        assert_eq!(script.next(later).kind(), Kind::Heartbeat);
        assert_ne!(script.next(later).kind(), Kind::Heartbeat);
    }

    #[test]
    fn the_call_is_valid_ocpp_j_and_its_payload_passes_the_schema() {
        use unicharge_ocpp::{Direction, Frame, Validator};
        for outgoing in play(Mix::default(), 60) {
            let text = outgoing.call_text("abc-1");
            match Frame::parse(&text).unwrap() {
                Frame::Call {
                    id,
                    action,
                    payload,
                } => {
                    assert_eq!(id, "abc-1");
                    Validator::global()
                        .validate(&action, Direction::Request, &payload)
                        .unwrap_or_else(|e| panic!("{action}: {e}: {text}"));
                }
                other => panic!("not a CALL: {other:?}"),
            }
        }
    }

    #[test]
    fn the_energy_register_rises() {
        let registers: Vec<Decimal> = play(Mix::default(), 40)
            .iter()
            .filter_map(|o| match o {
                Outgoing::TransactionEvent(e) => {
                    Some(e.meter_value.as_ref().unwrap()[0].sampled_value[0].value)
                }
                _ => None,
            })
            .collect();
        assert!(registers.windows(2).all(|w| w[0] < w[1]), "{registers:?}");
    }
}
