//! Block J, Meter values: clock-aligned meter values without and with a transaction (TC_J_01/02),
//! clock-aligned and sampled values in the Ended event, plain and signed (TC_J_03/04/10/11),
//! `Transaction.Begin` values when the EVSE is known at the start and when it is not
//! (TC_J_07/08), and sampled values during a transaction (TC_J_09).
//!
//! None of these cases has a tool validation: the CSMS passes by answering every message with a
//! schema-valid CALLRESULT (which [`Station::call`] checks). What it must keep of the values is
//! checked by unicharge's conformance tests through its store.
//!
//! The meter data comes from a [`Meter`] per EVSE (an `Energy.Active.Import.Register` in Wh that
//! only goes up; EVSE 0 is the station's main meter). The intervals the OCTT is configured with
//! come from a [`MeterConfig`].
//!
//! Readings taken where the draft is ambiguous:
//!
//! * `<Configured clock-aligned Meter Values interval>` and `<Configured sampled Meter Values
//!   interval>` are [`MeterConfig`]'s. The station waits them for real between samples (for
//!   clock-aligned ones, until the next multiple of the interval since the epoch, as
//!   `AlignedDataInterval` defines) and dates each sample with the moment it waited for, so the
//!   intervals between timestamps are the configured one. [`MeterConfig::octt`] has zero
//!   intervals, as [`Session::wait`] defaults to no wait: the samples then follow each other as
//!   fast as the CSMS answers, their timestamps strictly increasing.
//! * "The OCTT will end the testcase after it has send three Meter Value messages" (J_01) and
//!   "three MeterValues" (J_09): three rounds ([`MeterConfig::samples`]); in J_01 a round is a
//!   MeterValuesRequest and a NotifyEventRequest for EVSE 0 and for the configured EVSE each.
//!   J_02's "until the <Configured transaction duration> is reached" is the same number of
//!   rounds, each for EVSE 0 only (the configured EVSE is not idle) plus the transaction's
//!   MeterValueClock event.
//! * The NotifyEventRequest of J_01/02 (trigger Periodic, `component.name` FiscalMetering) reports
//!   the register as `variable.name` EnergyImportRegister (the table names no variable) from a
//!   preconfigured monitor, with `component.evse` for EVSE ids above 0.
//! * J_03/04/10/11: the samples are taken during the transaction (after EnergyTransferStarted,
//!   before the EVDisconnected chain) and sent only in the Ended event, the Tx-ended data a
//!   station keeps, followed by one `Transaction.End` sample; the Ended event is the
//!   EVDisconnected state's (EVCommunicationLost / Idle / EVDisconnected) with that `meterValue`.
//!   The signed variants sign every sample ([`signed_meter_value`]).
//! * J_07's `Transaction.Begin` value rides on the EVConnectedPreSession event that starts the
//!   transaction. J_08 ("EVSE not known") plays Authorized with the Started event *without*
//!   `evse` — the station does not know the EVSE until the cable is plugged in, which is what the
//!   case is about — and sends `evse` and the `Transaction.Begin` value with the CablePluggedIn
//!   event of EVConnectedPreSession (J02.FR.19 / E01: the EVSE is reported when known).
//! * Clock-aligned and periodic samples report `Energy.Active.Import.Register` (Wh); periodic
//!   samples during a transaction also report `Power.Active.Import` (W), so a meter value holds
//!   more than one sampled value.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use rand::Rng;
use serde::de::DeserializeOwned;
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, AuthorizeRequest, ChargingStateEnumType, ComponentType,
    ConnectorStatusEnumType, EventDataType, EventNotificationEnumType, EventTriggerEnumType,
    EvseType, MeasurandEnumType, MeterValueType, MeterValuesRequest, NotifyEventRequest,
    ReadingContextEnumType, ReasonEnumType, SampledValueType, SignedMeterValueType,
    TriggerReasonEnumType, UnitOfMeasureType, VariableType,
};

use super::operator::Operator;
use super::states::{self, Session, TxState};
use super::{CaseError, ScenarioFuture, Target};
use crate::ensure;
use crate::station::Station;

/// The scenario for a case id of this block, if the simulator has one.
pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    _op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    let config = MeterConfig::octt();
    Some(match id {
        "TC_J_01_CSMS" => Box::pin(tc_j_01(target, config)),
        "TC_J_02_CSMS" => Box::pin(tc_j_02(target, config)),
        "TC_J_03_CSMS" => Box::pin(tc_j_03(target, config)),
        "TC_J_04_CSMS" => Box::pin(tc_j_04(target, config)),
        "TC_J_07_CSMS" => Box::pin(tc_j_07(target, config)),
        "TC_J_08_CSMS" => Box::pin(tc_j_08(target, config)),
        "TC_J_09_CSMS" => Box::pin(tc_j_09(target, config)),
        "TC_J_10_CSMS" => Box::pin(tc_j_10(target, config)),
        "TC_J_11_CSMS" => Box::pin(tc_j_11(target, config)),
        _ => return None,
    })
}

/// What the OCTT is configured with for meter values.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterConfig {
    /// <Configured clock-aligned Meter Values interval> (`AlignedDataInterval`, and
    /// `AlignedDataTxEndedInterval` for the Ended event's samples).
    pub clock_aligned_interval: Duration,
    /// <Configured sampled Meter Values interval> (`SampledDataTxUpdatedInterval`, and
    /// `SampledDataTxEndedInterval` for the Ended event's samples).
    pub sampled_interval: Duration,
    /// How many samples (rounds of messages) a case takes: three, as J_01 and J_09 say.
    pub samples: usize,
}

impl Default for MeterConfig {
    fn default() -> Self {
        MeterConfig {
            clock_aligned_interval: Duration::ZERO,
            sampled_interval: Duration::ZERO,
            samples: 3,
        }
    }
}

impl MeterConfig {
    /// The defaults (no waiting, three samples), shared.
    pub fn octt() -> &'static MeterConfig {
        static CONFIG: OnceLock<MeterConfig> = OnceLock::new();
        CONFIG.get_or_init(MeterConfig::default)
    }
}

// ---------------------------------------------------------------------------------------------
// Meter data, shared with block E
// ---------------------------------------------------------------------------------------------

/// A simulated energy meter: an `Energy.Active.Import.Register` in Wh that only goes up, and
/// the power it is drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meter {
    /// The register, Wh.
    pub wh: i64,
    /// What the register gains per sample, Wh.
    pub step_wh: i64,
    /// `Power.Active.Import`, W.
    pub power_w: i64,
}

impl Meter {
    /// An EVSE's meter at `wh`, charging at 11 kW (about 1.5 kWh between samples).
    pub fn charging(wh: i64) -> Meter {
        Meter {
            wh,
            step_wh: 1_500,
            power_w: 11_000,
        }
    }

    /// A meter at `wh` with nothing charging: the station's main meter (EVSE 0) or an idle
    /// EVSE, drawing a little for the station itself.
    pub fn idle(wh: i64) -> Meter {
        Meter {
            wh,
            step_wh: 25,
            power_w: 100,
        }
    }

    /// The register after one more interval.
    pub fn advance(&mut self) -> i64 {
        self.wh += self.step_wh;
        self.wh
    }
}

/// A JSON number as whatever numeric type the OCPP types use (the simulator does not name the
/// decimal type: it only needs to write whole numbers into it).
pub(crate) fn number<T: DeserializeOwned>(n: i64) -> T {
    serde_json::from_value(serde_json::Value::from(n)).expect("a whole number is a valid decimal")
}

/// One sampled value of `measurand` in `unit`, taken for `context`.
pub(crate) fn sampled_value(
    value: i64,
    measurand: MeasurandEnumType,
    unit: &str,
    context: ReadingContextEnumType,
    signed: Option<SignedMeterValueType>,
) -> SampledValueType {
    SampledValueType {
        custom_data: None,
        value: number(value),
        context: Some(context),
        measurand: Some(measurand),
        phase: None,
        location: None,
        signed_meter_value: signed,
        unit_of_measure: Some(UnitOfMeasureType {
            custom_data: None,
            unit: Some(unit.into()),
            multiplier: None,
        }),
    }
}

/// The `Energy.Active.Import.Register` reading `wh` at `timestamp` for `context`, signed if
/// asked.
pub(crate) fn energy_value(
    timestamp: DateTime<Utc>,
    wh: i64,
    context: ReadingContextEnumType,
    signed: bool,
) -> MeterValueType {
    let signature = signed.then(|| signed_meter_value(wh, timestamp, context));
    MeterValueType {
        custom_data: None,
        sampled_value: vec![sampled_value(
            wh,
            MeasurandEnumType::EnergyActiveImportRegister,
            "Wh",
            context,
            signature,
        )],
        timestamp,
    }
}

/// The meter's register and power at `timestamp` for `context` (two sampled values).
pub(crate) fn energy_and_power(
    timestamp: DateTime<Utc>,
    meter: &Meter,
    context: ReadingContextEnumType,
) -> MeterValueType {
    let mut value = energy_value(timestamp, meter.wh, context, false);
    value.sampled_value.push(sampled_value(
        meter.power_w,
        MeasurandEnumType::PowerActiveImport,
        "W",
        context,
        None,
    ));
    value
}

/// The key the simulated meter signs with (ECDSA P-256, one per process).
fn meter_key() -> &'static PKey<Private> {
    static KEY: OnceLock<PKey<Private>> = OnceLock::new();
    KEY.get_or_init(|| {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256 is known");
        let key = EcKey::generate(&group).expect("EC key generation");
        PKey::from_ec_key(key).expect("EC key as PKey")
    })
}

/// A `SignedMeterValueType` for the register reading `wh` at `timestamp`: an OCMF record
/// (`OCMF|<payload>|<signature>`), signed with ECDSA P-256 over SHA-256, base64-encoded, with
/// the meter's public key (base64 DER SubjectPublicKeyInfo). The `<Generated
/// SignedMeterValueType>` of E_11, J_04 and J_11.
pub fn signed_meter_value(
    wh: i64,
    timestamp: DateTime<Utc>,
    context: ReadingContextEnumType,
) -> SignedMeterValueType {
    let key = meter_key();
    let reading_type = match context {
        ReadingContextEnumType::TransactionBegin => "B",
        ReadingContextEnumType::TransactionEnd => "E",
        _ => "T",
    };
    let payload = serde_json::json!({
        "FV": "1.0",
        "GI": "unicharge-sim",
        "PG": "T1",
        "RD": [{
            "TM": timestamp.format("%Y-%m-%dT%H:%M:%S,%3f%z S").to_string(),
            "TX": reading_type,
            "RV": wh as f64 / 1000.0,
            "RI": "01-00:B2.08.00.FF",
            "RU": "kWh",
            "ST": "G",
        }],
    })
    .to_string();
    let mut signer = Signer::new(MessageDigest::sha256(), key).expect("ECDSA signer");
    signer.update(payload.as_bytes()).expect("signing");
    let signature = signer.sign_to_vec().expect("signing");
    let signature: String = signature.iter().map(|b| format!("{b:02X}")).collect();
    let record =
        format!("OCMF|{payload}|{{\"SA\":\"ECDSA-secp256r1-SHA256\",\"SD\":\"{signature}\"}}");
    let b64 = base64::engine::general_purpose::STANDARD;
    SignedMeterValueType {
        custom_data: None,
        signed_meter_data: b64.encode(record),
        signing_method: "ECDSA-secp256r1-SHA256".into(),
        encoding_method: "OCMF".into(),
        public_key: b64.encode(key.public_key_to_der().expect("public key DER")),
    }
}

/// When the next sample is due: every `interval` (clock-aligned: at multiples of it since the
/// epoch), waited for real; each timestamp is the moment waited for, strictly after the last.
#[derive(Debug, Clone)]
pub(crate) struct Ticker {
    interval: Duration,
    aligned: bool,
    last: Option<DateTime<Utc>>,
}

impl Ticker {
    /// Samples at multiples of `interval` since the epoch (`Sample.Clock`).
    pub(crate) fn clock_aligned(interval: Duration) -> Ticker {
        Ticker {
            interval,
            aligned: true,
            last: None,
        }
    }

    /// Samples `interval` apart, the first `interval` from now (`Sample.Periodic`).
    pub(crate) fn periodic(interval: Duration) -> Ticker {
        Ticker {
            interval,
            aligned: false,
            last: None,
        }
    }

    /// Wait for the next sample and return its timestamp.
    pub(crate) async fn tick(&mut self) -> DateTime<Utc> {
        let now = Utc::now();
        let interval = chrono::Duration::from_std(self.interval).unwrap_or(chrono::Duration::MAX);
        let due = if self.interval.is_zero() {
            now
        } else if self.aligned {
            let step = interval.num_milliseconds().max(1);
            let next = (now.timestamp_millis() / step + 1) * step;
            DateTime::from_timestamp_millis(next).unwrap_or(now)
        } else {
            self.last.unwrap_or(now) + interval
        };
        if let Ok(wait) = (due - Utc::now()).to_std() {
            tokio::time::sleep(wait).await;
        }
        let timestamp = after(self.last, due);
        self.last = Some(timestamp);
        timestamp
    }
}

/// `at`, or a millisecond after `last` if `at` is not later than it.
pub(crate) fn after(last: Option<DateTime<Utc>>, at: DateTime<Utc>) -> DateTime<Utc> {
    match last {
        Some(last) if at <= last => last + chrono::Duration::milliseconds(1),
        _ => at,
    }
}

/// NotifyEventRequest ids, unique within the process and unlikely to meet the reusable states'
/// (which count from 1).
fn next_event_id() -> i64 {
    static NEXT: OnceLock<AtomicI64> = OnceLock::new();
    NEXT.get_or_init(|| AtomicI64::new(rand::thread_rng().gen_range(1_000_000..1_000_000_000)))
        .fetch_add(1, Ordering::Relaxed)
}

/// The clock-aligned report of one EVSE's meter (J_01/02 step 1): MeterValuesRequest with the
/// register as `Sample.Clock`, then NotifyEventRequest Periodic FiscalMetering
/// EnergyImportRegister with the same reading. The CSMS must answer both.
async fn clock_aligned_report(
    station: &mut Station,
    evse_id: i64,
    timestamp: DateTime<Utc>,
    wh: i64,
) -> Result<(), CaseError> {
    station
        .call(&MeterValuesRequest {
            custom_data: None,
            evse_id,
            meter_value: vec![energy_value(
                timestamp,
                wh,
                ReadingContextEnumType::SampleClock,
                false,
            )],
        })
        .await?;
    station
        .call(&NotifyEventRequest {
            custom_data: None,
            generated_at: Utc::now(),
            tbc: None,
            seq_no: 0,
            event_data: vec![EventDataType {
                custom_data: None,
                event_id: next_event_id(),
                timestamp,
                trigger: EventTriggerEnumType::Periodic,
                cause: None,
                actual_value: wh.to_string(),
                tech_code: None,
                tech_info: None,
                cleared: None,
                transaction_id: None,
                component: ComponentType {
                    custom_data: None,
                    evse: (evse_id > 0).then_some(EvseType {
                        custom_data: None,
                        id: evse_id,
                        connector_id: None,
                    }),
                    name: "FiscalMetering".into(),
                    instance: None,
                },
                variable_monitoring_id: None,
                event_notification_type: EventNotificationEnumType::PreconfiguredMonitor,
                variable: VariableType {
                    custom_data: None,
                    name: "EnergyImportRegister".into(),
                    instance: None,
                },
            }],
        })
        .await?;
    Ok(())
}

/// Connect, boot, and a fresh session on the configured EVSE.
async fn boot(target: &Target) -> Result<(Station, Session), CaseError> {
    let mut station = target.connect().await?;
    states::booted(&mut station, target).await?;
    Ok((station, Session::new(target)))
}

/// TC_J_01_CSMS Clock-aligned Meter Values - No transaction ongoing: [`MeterConfig::samples`]
/// rounds, each at the next clock-aligned time: MeterValuesRequest `Sample.Clock` and
/// NotifyEventRequest Periodic FiscalMetering for EVSE 0 and for the configured EVSE. No tool
/// validations.
pub async fn tc_j_01(target: &Target, config: &MeterConfig) -> Result<(), CaseError> {
    let (mut station, _session) = boot(target).await?;
    let mut ticker = Ticker::clock_aligned(config.clock_aligned_interval);
    let mut meters = [
        (0, Meter::idle(120_000)),
        (target.evse_id, Meter::idle(4_000)),
    ];
    for _ in 0..config.samples {
        let timestamp = ticker.tick().await;
        for (evse_id, meter) in &mut meters {
            let wh = meter.advance();
            clock_aligned_report(&mut station, *evse_id, timestamp, wh).await?;
        }
    }
    station.close().await;
    Ok(())
}

/// TC_J_02_CSMS Clock-aligned Meter Values - Transaction ongoing: from EnergyTransferStarted,
/// [`MeterConfig::samples`] clock-aligned rounds: the report for EVSE 0 (the only idle one), then
/// TransactionEvent Updated MeterValueClock with the EVSE's register as `Sample.Clock`, dated
/// with the round. No tool validations.
pub async fn tc_j_02(target: &Target, config: &MeterConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let mut ticker = Ticker::clock_aligned(config.clock_aligned_interval);
    let mut main = Meter::idle(120_000);
    let mut meter = Meter::charging(0);
    for _ in 0..config.samples {
        let timestamp = ticker.tick().await;
        let wh = main.advance();
        clock_aligned_report(&mut station, 0, timestamp, wh).await?;
        let wh = meter.advance();
        let mut event = session.next_event(TriggerReasonEnumType::MeterValueClock, None);
        event.timestamp = timestamp;
        event.meter_value = Some(vec![energy_value(
            timestamp,
            wh,
            ReadingContextEnumType::SampleClock,
            false,
        )]);
        station.call(&event).await?;
    }
    station.close().await;
    Ok(())
}

/// From EnergyTransferStarted, take [`MeterConfig::samples`] samples of `context` (clock-aligned
/// or periodic, signed if asked) without sending them, then play EVDisconnected with the Ended
/// event carrying them and a final `Transaction.End` reading.
async fn samples_in_ended_event(
    target: &Target,
    config: &MeterConfig,
    context: ReadingContextEnumType,
    signed: bool,
) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let mut ticker = if context == ReadingContextEnumType::SampleClock {
        Ticker::clock_aligned(config.clock_aligned_interval)
    } else {
        Ticker::periodic(config.sampled_interval)
    };
    let mut meter = Meter::charging(0);
    let mut values = Vec::new();
    for _ in 0..config.samples {
        let timestamp = ticker.tick().await;
        let wh = meter.advance();
        values.push(energy_value(timestamp, wh, context, signed));
    }
    states::ev_connected_post_session(&mut station, target, &mut session).await?;
    states::notify_connector_status(
        &mut station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Available,
    )
    .await?;
    let end = after(values.last().map(|v| v.timestamp), Utc::now());
    values.push(energy_value(
        end,
        meter.wh,
        ReadingContextEnumType::TransactionEnd,
        signed,
    ));
    let mut event = session.end_event(
        TriggerReasonEnumType::EvCommunicationLost,
        Some(ChargingStateEnumType::Idle),
        ReasonEnumType::EvDisconnected,
    );
    event.timestamp = end;
    event.meter_value = Some(values);
    station.call(&event).await?;
    session.ev_connected = false;
    session.state = Some(TxState::EvDisconnected);
    station.close().await;
    Ok(())
}

/// TC_J_03_CSMS Clock-aligned Meter Values - EventType Ended: from EnergyTransferStarted, three
/// clock-aligned samples, then EVDisconnected whose Ended event carries them (`Sample.Clock`) and
/// a last `Transaction.End` reading. No tool validations.
pub async fn tc_j_03(target: &Target, config: &MeterConfig) -> Result<(), CaseError> {
    samples_in_ended_event(target, config, ReadingContextEnumType::SampleClock, false).await
}

/// TC_J_04_CSMS Clock-aligned Meter Values - Signed: as TC_J_03 with every sampled value
/// carrying a `signedMeterValue`. No tool validations.
pub async fn tc_j_04(target: &Target, config: &MeterConfig) -> Result<(), CaseError> {
    samples_in_ended_event(target, config, ReadingContextEnumType::SampleClock, true).await
}

/// TC_J_10_CSMS Sampled Meter Values - EventType Ended: as TC_J_03 with periodic samples
/// (`Sample.Periodic`, the sampled interval apart). No tool validations.
pub async fn tc_j_10(target: &Target, config: &MeterConfig) -> Result<(), CaseError> {
    samples_in_ended_event(
        target,
        config,
        ReadingContextEnumType::SamplePeriodic,
        false,
    )
    .await
}

/// TC_J_11_CSMS Sampled Meter Values - Signed: as TC_J_10 with every sampled value signed.
/// No tool validations.
pub async fn tc_j_11(target: &Target, config: &MeterConfig) -> Result<(), CaseError> {
    samples_in_ended_event(target, config, ReadingContextEnumType::SamplePeriodic, true).await
}

/// EVConnectedPreSession (Table 201) whose TransactionEvent also carries the EVSE meter's
/// `Transaction.Begin` reading: StatusNotification Occupied and NotifyEvent "Occupied", then
/// TransactionEvent CablePluggedIn / EVConnected with `evse` and the reading.
async fn plug_in_with_begin_value(
    station: &mut Station,
    session: &mut Session,
    meter: &Meter,
) -> Result<(), CaseError> {
    states::notify_connector_status(
        station,
        session.evse_id,
        session.connector_id,
        ConnectorStatusEnumType::Occupied,
    )
    .await?;
    let mut event = session.next_event(
        TriggerReasonEnumType::CablePluggedIn,
        Some(ChargingStateEnumType::EvConnected),
    );
    event.evse = Some(session.evse());
    event.meter_value = Some(vec![energy_value(
        event.timestamp,
        meter.wh,
        ReadingContextEnumType::TransactionBegin,
        false,
    )]);
    station.call(&event).await?;
    session.ev_connected = true;
    session.state = Some(TxState::EvConnectedPreSession);
    Ok(())
}

/// TC_J_07_CSMS Sampled Meter Values - EventType Started - EVSE known: EVConnectedPreSession
/// whose (Started) TransactionEvent carries a `Transaction.Begin` reading. No tool validations.
pub async fn tc_j_07(target: &Target, _config: &MeterConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target).await?;
    plug_in_with_begin_value(&mut station, &mut session, &Meter::charging(0)).await?;
    station.close().await;
    Ok(())
}

/// TC_J_08_CSMS Sampled Meter Values - EventType Started - EVSE not known: Authorized with a
/// Started event without `evse` (see the module's readings), EVConnectedPreSession whose Updated
/// event carries `evse` and a `Transaction.Begin` reading, then EnergyTransferStarted.
///
/// Tool validations (Table 202, Authorized): AuthorizeResponse and TransactionEventResponse
/// `idTokenInfo.status` Accepted.
pub async fn tc_j_08(target: &Target, _config: &MeterConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target).await?;
    let token = session.valid_id_token.clone();
    let answer = station
        .call(&AuthorizeRequest {
            custom_data: None,
            id_token: token.clone(),
            certificate: None,
            iso15118_certificate_hash_data: None,
        })
        .await?;
    let status = answer.id_token_info.status;
    ensure!(
        status == AuthorizationStatusEnumType::Accepted,
        "step 1 (Authorized): AuthorizeResponse.idTokenInfo.status must be Accepted, was {}",
        status.as_str()
    );
    let mut event = session.next_event(TriggerReasonEnumType::Authorized, None);
    event.evse = None;
    event.id_token = Some(token.clone());
    let answer = station.call(&event).await?;
    let status = answer.id_token_info.map(|i| i.status);
    ensure!(
        status == Some(AuthorizationStatusEnumType::Accepted),
        "step 1 (Authorized): TransactionEventResponse.idTokenInfo.status must be Accepted, \
         was {}",
        status.map_or("absent", |s| s.as_str())
    );
    session.authorized = true;
    session.id_token = Some(token);
    session.state = Some(TxState::Authorized);
    plug_in_with_begin_value(&mut station, &mut session, &Meter::charging(0)).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    station.close().await;
    Ok(())
}

/// TC_J_09_CSMS Sampled Meter Values - EventType Updated: from EnergyTransferStarted, three
/// TransactionEvents Updated MeterValuePeriodic, the sampled interval apart, each with the
/// register and the power as `Sample.Periodic`. No tool validations.
pub async fn tc_j_09(target: &Target, config: &MeterConfig) -> Result<(), CaseError> {
    let (mut station, mut session) = boot(target).await?;
    states::energy_transfer_started(&mut station, target, &mut session).await?;
    let mut ticker = Ticker::periodic(config.sampled_interval);
    let mut meter = Meter::charging(0);
    for _ in 0..config.samples {
        let timestamp = ticker.tick().await;
        meter.advance();
        let mut event = session.next_event(TriggerReasonEnumType::MeterValuePeriodic, None);
        event.timestamp = timestamp;
        event.meter_value = Some(vec![energy_and_power(
            timestamp,
            &meter,
            ReadingContextEnumType::SamplePeriodic,
        )]);
        station.call(&event).await?;
    }
    station.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::octt::stub::Stub;
    use crate::octt::{run, Verdict};
    use serde_json::Value;

    fn contexts(payload: &Value) -> Vec<String> {
        payload["meterValue"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|mv| mv["sampledValue"].as_array().into_iter().flatten())
            .map(|sv| sv["context"].as_str().unwrap_or("").to_string())
            .collect()
    }

    #[tokio::test]
    async fn every_case_passes_against_a_stub_that_answers() {
        for case in [
            "TC_J_01_CSMS",
            "TC_J_02_CSMS",
            "TC_J_03_CSMS",
            "TC_J_04_CSMS",
            "TC_J_07_CSMS",
            "TC_J_08_CSMS",
            "TC_J_09_CSMS",
            "TC_J_10_CSMS",
            "TC_J_11_CSMS",
        ] {
            let stub = Stub::start().await;
            assert_eq!(
                run(case, &stub.target(), None).await,
                Verdict::Pass,
                "{case}"
            );
        }
    }

    #[tokio::test]
    async fn clock_aligned_rounds_cover_the_main_meter_and_the_evse() {
        let stub = Stub::start().await;
        tc_j_01(&stub.target(), MeterConfig::octt()).await.unwrap();
        let evses: Vec<i64> = stub
            .calls()
            .iter()
            .filter(|(a, _)| a == "MeterValues")
            .map(|(_, p)| p["evseId"].as_i64().unwrap())
            .collect();
        assert_eq!(evses, [0, 1, 0, 1, 0, 1]);
        let fiscal = stub
            .calls()
            .iter()
            .filter(|(a, p)| {
                a == "NotifyEvent" && p["eventData"][0]["component"]["name"] == "FiscalMetering"
            })
            .count();
        assert_eq!(fiscal, 6);
    }

    #[tokio::test]
    async fn the_ended_event_carries_the_samples_and_a_final_reading() {
        let stub = Stub::start().await;
        tc_j_04(&stub.target(), MeterConfig::octt()).await.unwrap();
        let calls = stub.calls();
        let (_, ended) = calls
            .iter()
            .find(|(a, p)| a == "TransactionEvent" && p["eventType"] == "Ended")
            .unwrap();
        assert_eq!(
            contexts(ended),
            [
                "Sample.Clock",
                "Sample.Clock",
                "Sample.Clock",
                "Transaction.End"
            ]
        );
        let values = ended["meterValue"].as_array().unwrap();
        let stamps: Vec<&str> = values
            .iter()
            .map(|v| v["timestamp"].as_str().unwrap())
            .collect();
        let mut sorted = stamps.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(stamps, sorted, "timestamps strictly increase");
        for v in values {
            let signed = &v["sampledValue"][0]["signedMeterValue"];
            assert_eq!(signed["encodingMethod"], "OCMF");
            assert!(signed["signedMeterData"].as_str().unwrap().len() > 20);
        }
    }

    #[tokio::test]
    async fn evse_unknown_at_authorization_comes_with_the_begin_value() {
        let stub = Stub::start().await;
        tc_j_08(&stub.target(), MeterConfig::octt()).await.unwrap();
        let events: Vec<Value> = stub
            .calls()
            .into_iter()
            .filter(|(a, _)| a == "TransactionEvent")
            .map(|(_, p)| p)
            .collect();
        assert_eq!(events[0]["eventType"], "Started");
        assert!(events[0].get("evse").is_none());
        assert_eq!(events[1]["triggerReason"], "CablePluggedIn");
        assert_eq!(events[1]["evse"]["id"], 1);
        assert_eq!(contexts(&events[1]), ["Transaction.Begin"]);
    }

    #[test]
    fn signed_values_verify_with_their_public_key() {
        let signed = signed_meter_value(1500, Utc::now(), ReadingContextEnumType::SampleClock);
        let b64 = base64::engine::general_purpose::STANDARD;
        let record = String::from_utf8(b64.decode(&signed.signed_meter_data).unwrap()).unwrap();
        let mut parts = record.splitn(3, '|');
        assert_eq!(parts.next(), Some("OCMF"));
        let payload = parts.next().unwrap();
        let signature: Value = serde_json::from_str(parts.next().unwrap()).unwrap();
        let hex = signature["SD"].as_str().unwrap();
        let der: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let key = PKey::public_key_from_der(&b64.decode(&signed.public_key).unwrap()).unwrap();
        let mut verifier = openssl::sign::Verifier::new(MessageDigest::sha256(), &key).unwrap();
        verifier.update(payload.as_bytes()).unwrap();
        assert!(verifier.verify(&der).unwrap());
    }
}
