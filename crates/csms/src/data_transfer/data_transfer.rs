//! DataTransfer from a station (P02).
//!
//! P02.FR.06: a CSMS that has no implementation for the vendorId answers `UnknownVendorId`.
//! This CSMS has none, so that is the answer to every DataTransfer, whatever its data — never a
//! CALLERROR, which would tell the station the message itself was broken. The vendorId is logged
//! bounded (it is up to 255 characters of whatever the station chose).

use unicharge_ocpp::peer_text::Bounded;
use unicharge_ocpp::v201::{DataTransferRequest, DataTransferResponse, DataTransferStatusEnumType};

use crate::dispatch::{CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: DataTransferRequest,
) -> Result<Handled<DataTransferResponse>, CallRefusal> {
    tracing::info!(station = %ctx.station_id, vendor_id = %Bounded(&req.vendor_id),
        message_id = %Bounded(req.message_id.as_deref().unwrap_or("")),
        "DataTransfer for a vendor this CSMS does not know: UnknownVendorId");
    Ok(Handled::pure(DataTransferResponse {
        custom_data: None,
        status: DataTransferStatusEnumType::UnknownVendorId,
        status_info: None,
        data: None,
    }))
}
