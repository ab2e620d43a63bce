//! MeterValues (J01, J02, F06): samples outside a transaction event — clock-aligned readings of
//! the main meter (evseId 0) and the EVSEs, and triggered readings. A sample taken on an EVSE
//! during a transaction is filed under that transaction, so its time series is complete.

use unicharge_ocpp::v201::{MeterValuesRequest, MeterValuesResponse};
use unicharge_store::Write;

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: MeterValuesRequest,
) -> Result<Handled<MeterValuesResponse>, CallRefusal> {
    let transaction = if req.evse_id > 0 {
        ctx.store
            .transactions(&ctx.station_id, 20)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|t| t.ended_at.is_none() && t.evse_id == Some(req.evse_id))
            .map(|t| t.transaction_id)
    } else {
        None
    };
    let samples = super::samples(
        &ctx.station_id,
        req.evse_id,
        transaction.as_deref(),
        &req.meter_value,
        "MeterValues",
    );
    tracing::debug!(station = %ctx.station_id, evse = req.evse_id, samples = samples.len(),
        "MeterValues");
    Ok(Handled::durable(
        MeterValuesResponse { custom_data: None },
        samples
            .into_iter()
            .map(|s| Write::MeterValue(Box::new(s)))
            .collect(),
    ))
}
