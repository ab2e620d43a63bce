//! The mix of [`super::mix`] as an OCPP 1.6J charge point plays it (issue 18): the same
//! sessions, message for message, in 1.6's words, so a run with `--ocpp16-percent 50` puts the
//! same work on the CSMS from both halves of the fleet.
//!
//! | step | 2.0.1 (the [`super::mix`] table) | 1.6 | per session |
//! |---|---|---|---|
//! | plug in | StatusNotification `Occupied` | StatusNotification `Preparing` | 1 |
//! | some sessions | Authorize | Authorize | 0.5 |
//! | start | TransactionEvent `Started` | StartTransaction (meterStart); the answer's transactionId is used from then on | 1 |
//! | charging | TransactionEvent `Updated` | MeterValues with the transactionId, 8 sampled values | 30 |
//! | between | MeterValues | MeterValues without transactionId (connector 1) | 15 |
//! | stop | TransactionEvent `Ended` | StopTransaction (meterStop, reason) | 1 |
//! | plug out | StatusNotification `Available` | StatusNotification `Available` | 1 |
//!
//! plus a Heartbeat whenever one is due.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use unicharge_ocpp::v16::{
    AuthorizeRequest, ChargePointErrorCode, ChargePointStatus, HeartbeatRequest, Measurand,
    MeterValue, MeterValuesRequest, Phase, ReadingContext, Reason, SampledValue,
    StartTransactionRequest, StatusNotificationRequest, StopTransactionRequest,
};

use super::mix::{Kind, Mix, Outgoing};

/// Where the charge point is in its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    PlugIn,
    Authorize,
    Start,
    Charging { done: u32, meter_values_due: bool },
    PlugOut,
}

/// One 1.6 charge point's side of the mix: [`Script16::next`] for each CALL to send, and
/// [`Script16::answered`] with each answer (the StartTransaction answer carries the
/// transactionId the CSMS allocated).
#[derive(Debug, Clone)]
pub struct Script16 {
    mix: Mix,
    session: u64,
    step: Step,
    authorized: bool,
    /// The CSMS's transactionId of the session under way (`None` until the start is answered,
    /// or when it was refused: the session's MeterValues then name none).
    transaction_id: Option<i64>,
    energy_wh: i64,
    heartbeat_interval: Duration,
    next_heartbeat: Option<Instant>,
}

impl Script16 {
    pub fn new(mix: Mix, heartbeat_interval: Duration) -> Self {
        let heartbeat_interval = mix.heartbeat_interval.unwrap_or(heartbeat_interval);
        Script16 {
            mix,
            session: 0,
            step: Step::PlugIn,
            authorized: false,
            transaction_id: None,
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
            return Outgoing::Heartbeat16(HeartbeatRequest {});
        }
        let at = Utc::now();
        match self.step {
            Step::PlugIn => {
                self.session += 1;
                self.transaction_id = None;
                self.authorized = authorizes(self.session, self.mix.authorize_percent);
                self.step = if self.authorized {
                    Step::Authorize
                } else {
                    Step::Start
                };
                status(at, ChargePointStatus::Preparing)
            }
            Step::Authorize => {
                self.step = Step::Start;
                Outgoing::Authorize16(AuthorizeRequest {
                    id_tag: self.mix.id_token.clone(),
                })
            }
            Step::Start => {
                self.step = Step::Charging {
                    done: 0,
                    meter_values_due: false,
                };
                Outgoing::StartTransaction16(StartTransactionRequest {
                    connector_id: 1,
                    id_tag: self.mix.id_token.clone(),
                    meter_start: self.energy_wh,
                    reservation_id: None,
                    timestamp: at,
                })
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
                self.meter_values(at, None)
            }
            Step::Charging { done, .. } if done >= self.mix.updates_per_session => {
                self.step = Step::PlugOut;
                Outgoing::StopTransaction16(StopTransactionRequest {
                    id_tag: self.authorized.then(|| self.mix.id_token.clone()),
                    meter_stop: self.energy_wh,
                    timestamp: at,
                    transaction_id: self.transaction_id.unwrap_or(0),
                    reason: Some(if self.authorized {
                        Reason::Local
                    } else {
                        Reason::EvDisconnected
                    }),
                    transaction_data: None,
                })
            }
            Step::Charging { done, .. } => {
                let done = done + 1;
                let every = self.mix.meter_values_every;
                self.step = Step::Charging {
                    done,
                    meter_values_due: every > 0 && done % every == 0,
                };
                self.energy_wh += self.mix.wh_per_sample;
                self.meter_values(at, self.transaction_id)
            }
            Step::PlugOut => {
                self.step = Step::PlugIn;
                status(at, ChargePointStatus::Available)
            }
        }
    }

    /// The CSMS answered a CALL of `kind` with `payload`.
    pub fn answered(&mut self, kind: Kind, payload: &Value) {
        if kind == Kind::StartTransaction {
            self.transaction_id = payload.get("transactionId").and_then(Value::as_i64);
        }
    }

    fn meter_values(&self, at: DateTime<Utc>, transaction_id: Option<i64>) -> Outgoing {
        Outgoing::MeterValues16(Box::new(MeterValuesRequest {
            connector_id: 1,
            transaction_id,
            meter_value: vec![meter_value(at, self.energy_wh)],
        }))
    }
}

/// Whether session `session` (from 1) begins with Authorize: exactly `percent` of every 100,
/// evenly spread (as in [`super::mix`]).
fn authorizes(session: u64, percent: u32) -> bool {
    let p = u64::from(percent.min(100));
    (session * p) / 100 != ((session - 1) * p) / 100
}

fn status(at: DateTime<Utc>, status: ChargePointStatus) -> Outgoing {
    Outgoing::StatusNotification16(StatusNotificationRequest {
        connector_id: 1,
        error_code: ChargePointErrorCode::NoError,
        info: None,
        status,
        timestamp: Some(at),
        vendor_id: None,
        vendor_error_code: None,
    })
}

fn sampled(value: i64, measurand: Measurand, phase: Option<Phase>) -> SampledValue {
    SampledValue {
        value: value.to_string(),
        context: Some(ReadingContext::SamplePeriodic),
        format: None,
        measurand: Some(measurand),
        phase,
        location: None,
        unit: None,
    }
}

/// The eight sampled values of [`super::mix::meter_value`] in 1.6 form.
pub fn meter_value(at: DateTime<Utc>, wh: i64) -> MeterValue {
    let mut values = Vec::with_capacity(8);
    values.push(sampled(wh, Measurand::EnergyActiveImportRegister, None));
    values.push(sampled(11_000, Measurand::PowerActiveImport, None));
    for phase in [Phase::L1, Phase::L2, Phase::L3] {
        values.push(sampled(16, Measurand::CurrentImport, Some(phase)));
        values.push(sampled(230, Measurand::Voltage, Some(phase)));
    }
    MeterValue {
        timestamp: at,
        sampled_value: values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_session_is_the_2_0_1_session_in_1_6_words_and_uses_the_answered_transaction_id() {
        let mix = Mix {
            updates_per_session: 4,
            meter_values_every: 2,
            authorize_percent: 100,
            ..Mix::default()
        };
        let mut script = Script16::new(mix, Duration::from_secs(3600));
        let now = Instant::now();
        let mut played = Vec::new();
        for _ in 0..11 {
            let outgoing = script.next(now);
            if outgoing.kind() == Kind::StartTransaction {
                script.answered(
                    Kind::StartTransaction,
                    &json!({"transactionId": 77, "idTagInfo": {"status": "Accepted"}}),
                );
            }
            played.push(outgoing);
        }
        use Kind::*;
        let kinds: Vec<Kind> = played.iter().map(Outgoing::kind).collect();
        assert_eq!(
            kinds,
            [
                StatusNotification,
                Authorize,
                StartTransaction,
                MeterValuesOfTransaction,
                MeterValuesOfTransaction,
                MeterValues,
                MeterValuesOfTransaction,
                MeterValuesOfTransaction,
                MeterValues,
                StopTransaction,
                StatusNotification,
            ]
        );
        match &played[9] {
            Outgoing::StopTransaction16(stop) => {
                assert_eq!(stop.transaction_id, 77);
                assert_eq!(stop.meter_stop, 6 * Mix::default().wh_per_sample);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_call_passes_the_1_6_schema() {
        use unicharge_ocpp::{v16::Validator, Direction, Frame};
        let mut script = Script16::new(Mix::default(), Duration::from_secs(1));
        let start = Instant::now();
        for n in 0..80u64 {
            let text = script
                .next(start + Duration::from_millis(300 * n))
                .call_text("abc-1");
            match Frame::parse(&text).unwrap() {
                Frame::Call {
                    action, payload, ..
                } => Validator::global()
                    .validate(&action, Direction::Request, &payload)
                    .unwrap_or_else(|e| panic!("{action}: {e}: {text}")),
                other => panic!("not a CALL: {other:?}"),
            }
        }
    }
}
