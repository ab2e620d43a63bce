//! NotifyCustomerInformation (N09/N10): the parts of a customer-information report, kept under
//! the requestId of the CustomerInformation until the part with `tbc` false completes it.

use unicharge_ocpp::v201::{NotifyCustomerInformationRequest, NotifyCustomerInformationResponse};
use unicharge_store::{TrackedKind, TrackedPart, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: NotifyCustomerInformationRequest,
) -> Result<Handled<NotifyCustomerInformationResponse>, CallRefusal> {
    let tbc = req.tbc.unwrap_or(false);
    // The data is about a person: its size goes to the log, never its content.
    tracing::debug!(station = %ctx.station_id, request_id = req.request_id, seq_no = req.seq_no,
        bytes = req.data.len(), tbc, "NotifyCustomerInformation");
    Ok(Handled::durable(
        NotifyCustomerInformationResponse { custom_data: None },
        vec![Write::TrackedPart(TrackedPart {
            seq_no: Some(req.seq_no),
            tbc,
            ..super::part(
                &ctx.station_id,
                TrackedKind::CustomerInformation,
                req.request_id,
                serde_json::to_string(&req).map_err(internal)?,
            )
        })],
    ))
}
