//! A charging session driven through the CSMS's real CALL path — `dispatch`: schema check,
//! retransmission check, the functional block's handler, the durable commit to an SQLite store
//! in a temporary directory, the answer — without a socket, so a test or a benchmark can play
//! thousands of events quickly. Shared by `tests/running_cost.rs` and
//! `benches/transaction_event_cost.rs`.

#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use unicharge_core::tariff::{Tariff, TariffAssignment, TariffScope};
use unicharge_core::{SecurityProfile, Station, StationId};
use unicharge_csms::dispatch::{dispatch, StationContext};
use unicharge_csms::CsmsConfig;
use unicharge_ocpp::v201::{
    ChargingStateEnumType, EvseType, MeasurandEnumType, MeterValueType, PhaseEnumType,
    ReadingContextEnumType, SampledValueType, TransactionEventEnumType, TransactionEventRequest,
    TransactionType, TriggerReasonEnumType,
};
use unicharge_ocpp::Frame;
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::Store;

pub const STATION: &str = "CP-COST";

pub struct Session {
    _dir: tempfile::TempDir,
    pub store: Arc<SqliteStore>,
    pub ctx: StationContext,
    next_message: u64,
    _csms: unicharge_csms::RunningCsms,
}

/// 1 EUR per kWh, 0.06 per charging minute, 0.60 per idle minute, no fee, no VAT: every
/// amount in the tests is easy to check by hand.
pub fn tariff() -> Tariff {
    let d = |s: &str| Decimal::from_str(s).unwrap();
    Tariff {
        id: "COST".into(),
        currency: "EUR".into(),
        vat_percent: d("0"),
        price_per_kwh: d("1"),
        price_per_charging_minute: d("0.06"),
        price_per_idle_minute: d("0.60"),
        session_fee: d("0"),
        valid_from: None,
        valid_to: None,
        display_text: Vec::new(),
    }
}

impl Session {
    /// A registered, booted station with [`tariff`] as the default tariff.
    pub async fn new(durability: Durability) -> Session {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("unicharge.db"), durability)
                .await
                .unwrap(),
        );
        let id = StationId::new(STATION).unwrap();
        store
            .create_station(&Station::new(
                id.clone(),
                SecurityProfile::BasicAuth,
                Utc::now(),
            ))
            .await
            .unwrap();
        store.put_tariff(&tariff()).await.unwrap();
        store
            .add_tariff_assignment(&TariffAssignment {
                tariff_id: "COST".into(),
                scope: TariffScope::Default,
            })
            .await
            .unwrap();
        // A CSMS without listeners: the handle effects and facts go through.
        let config = CsmsConfig {
            ws_listen: None,
            wss_listen: None,
            ..CsmsConfig::default()
        };
        let running = unicharge_csms::Csms::start(config.clone(), store.clone())
            .await
            .unwrap();
        let ctx = StationContext {
            station_id: id,
            store: store.clone(),
            config: Arc::new(config),
            boot_status: Some(unicharge_core::RegistrationStatus::Accepted),
            registered: true,
            ca: None,
            connection: None,
            csms: running.csms.clone(),
            solicited: Default::default(),
            status_check_scheduled: false,
            version: unicharge_ocpp::OcppVersion::V201,
        };
        Session {
            _dir: dir,
            store,
            ctx,
            next_message: 0,
            _csms: running,
        }
    }

    pub fn station_id(&self) -> StationId {
        self.ctx.station_id.clone()
    }

    /// Send one CALL with a fresh message id; its CALLRESULT payload, typed.
    pub async fn call<Q: Serialize, R: DeserializeOwned>(
        &mut self,
        action: &str,
        request: &Q,
    ) -> R {
        self.next_message += 1;
        let id = format!("m{}", self.next_message);
        let payload = serde_json::to_value(request).unwrap();
        match dispatch(&mut self.ctx, &id, action, payload).await.0 {
            Frame::CallResult { payload, .. } => serde_json::from_value(payload).unwrap(),
            other => panic!("{action} refused: {other:?}"),
        }
    }
}

/// A TransactionEvent of transaction `transaction_id` on EVSE 1.
pub fn event(
    transaction_id: &str,
    seq_no: i64,
    event_type: TransactionEventEnumType,
    at: DateTime<Utc>,
    state: Option<ChargingStateEnumType>,
    meter_value: Vec<MeterValueType>,
) -> TransactionEventRequest {
    TransactionEventRequest {
        custom_data: None,
        event_type,
        meter_value: (!meter_value.is_empty()).then_some(meter_value),
        timestamp: at,
        trigger_reason: match event_type {
            TransactionEventEnumType::Started => TriggerReasonEnumType::CablePluggedIn,
            TransactionEventEnumType::Ended => TriggerReasonEnumType::EvCommunicationLost,
            TransactionEventEnumType::Updated => TriggerReasonEnumType::MeterValuePeriodic,
        },
        seq_no,
        offline: None,
        number_of_phases_used: None,
        cable_max_current: None,
        reservation_id: None,
        transaction_info: TransactionType {
            custom_data: None,
            transaction_id: transaction_id.into(),
            charging_state: state,
            time_spent_charging: None,
            stopped_reason: None,
            remote_start_id: None,
        },
        evse: Some(EvseType {
            custom_data: None,
            id: 1,
            connector_id: Some(1),
        }),
        id_token: None,
    }
}

fn sampled(
    value: Decimal,
    measurand: MeasurandEnumType,
    phase: Option<PhaseEnumType>,
) -> SampledValueType {
    SampledValueType {
        custom_data: None,
        value,
        context: Some(ReadingContextEnumType::SamplePeriodic),
        measurand: Some(measurand),
        phase,
        location: None,
        signed_meter_value: None,
        unit_of_measure: None,
    }
}

/// One meterValue as a three-phase charger reports it: the energy register (`wh`) plus power,
/// and current and voltage per phase — eight sampled values, one of them billed.
pub fn sample(at: DateTime<Utc>, wh: i64) -> MeterValueType {
    use MeasurandEnumType::*;
    use PhaseEnumType::*;
    let mut values = vec![
        sampled(Decimal::from(wh), EnergyActiveImportRegister, None),
        sampled(Decimal::from(11_000), PowerActiveImport, None),
    ];
    for phase in [L1, L2, L3] {
        values.push(sampled(Decimal::from(16), CurrentImport, Some(phase)));
        values.push(sampled(Decimal::from(230), Voltage, Some(phase)));
    }
    MeterValueType {
        custom_data: None,
        timestamp: at,
        sampled_value: values,
    }
}
