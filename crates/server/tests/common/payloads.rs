//! OCPP payloads the server tests send, built from the generated types: one copy of the
//! boilerplate-heavy TransactionEvent and meter-value builders instead of one per test file.

use chrono::{DateTime, Utc};
use unicharge_ocpp::v201::{
    ChargingStateEnumType, MeasurandEnumType, MeterValueType, ReadingContextEnumType,
    SampledValueType, TransactionEventEnumType, TransactionEventRequest, TransactionType,
    TriggerReasonEnumType,
};

/// One Energy.Active.Import.Register sample, in Wh, with its reading context.
pub fn energy(at: DateTime<Utc>, wh: i64, context: ReadingContextEnumType) -> Vec<MeterValueType> {
    vec![MeterValueType {
        custom_data: None,
        timestamp: at,
        sampled_value: vec![SampledValueType {
            custom_data: None,
            value: wh.into(),
            context: Some(context),
            measurand: Some(MeasurandEnumType::EnergyActiveImportRegister),
            phase: None,
            location: None,
            signed_meter_value: None,
            unit_of_measure: None,
        }],
    }]
}

/// A TransactionEvent of transaction `tx` in charging state `state`, without meter values,
/// EVSE or idToken (set them on the result where a case needs them).
pub fn transaction_event(
    tx: &str,
    seq_no: i64,
    event_type: TransactionEventEnumType,
    trigger: TriggerReasonEnumType,
    at: DateTime<Utc>,
    state: ChargingStateEnumType,
) -> TransactionEventRequest {
    TransactionEventRequest {
        custom_data: None,
        event_type,
        meter_value: None,
        timestamp: at,
        trigger_reason: trigger,
        seq_no,
        offline: None,
        number_of_phases_used: None,
        cable_max_current: None,
        reservation_id: None,
        transaction_info: TransactionType {
            custom_data: None,
            transaction_id: tx.into(),
            charging_state: Some(state),
            time_spent_charging: None,
            stopped_reason: None,
            remote_start_id: None,
        },
        evse: None,
        id_token: None,
    }
}
