//! Functional block J, Meter values: samples from MeterValues (J01 clock-aligned, J02
//! sampled, F06 triggered) and from the meterValue of TransactionEvents, stored one row per
//! sampledValue as a time series per EVSE and transaction. Values are kept exactly as
//! reported (decimal text); energy registers also converted to Wh for rating.

pub mod meter_values;

use unicharge_core::metering::to_wh;
use unicharge_core::StationId;
use unicharge_ocpp::v201::MeterValueType;
use unicharge_store::MeterValueRecord;

/// OCPP's defaults for omitted fields (SampledValueType).
const DEFAULT_CONTEXT: &str = "Sample.Periodic";
const DEFAULT_MEASURAND: &str = "Energy.Active.Import.Register";

/// One record per sampledValue. `source` is the action that carried them.
pub fn samples(
    station_id: &StationId,
    evse_id: i64,
    transaction_id: Option<&str>,
    meter_values: &[MeterValueType],
    source: &str,
) -> Vec<MeterValueRecord> {
    let mut out = Vec::new();
    for mv in meter_values {
        for sv in &mv.sampled_value {
            let measurand = sv
                .measurand
                .map(|m| m.as_str().to_string())
                .unwrap_or_else(|| DEFAULT_MEASURAND.into());
            let unit = sv.unit_of_measure.as_ref().and_then(|u| u.unit.clone());
            let multiplier = sv
                .unit_of_measure
                .as_ref()
                .and_then(|u| u.multiplier)
                .unwrap_or(0)
                .clamp(-20, 20) as i32;
            // Only the cumulative energy registers are converted: they are what rating uses.
            let wh = if measurand.starts_with("Energy.Active.") && measurand.ends_with(".Register")
            {
                to_wh(sv.value, unit.as_deref(), Some(multiplier))
            } else {
                None
            };
            out.push(MeterValueRecord {
                station_id: station_id.clone(),
                evse_id,
                transaction_id: transaction_id.map(str::to_string),
                timestamp: mv.timestamp,
                context: sv
                    .context
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_else(|| DEFAULT_CONTEXT.into()),
                measurand,
                phase: sv.phase.map(|p| p.as_str().to_string()),
                location: sv.location.map(|l| l.as_str().to_string()),
                unit,
                multiplier,
                value: sv.value,
                wh,
                signed: sv.signed_meter_value.is_some(),
                signed_data: sv
                    .signed_meter_value
                    .as_ref()
                    .and_then(|s| serde_json::to_string(s).ok()),
                source: source.to_string(),
                energy_backwards: false,
            });
        }
    }
    out
}
