//! DataTransfer from a station (P02): routed to the registered handler of its vendorId and
//! messageId ([`super::DataTransferHandlers::route`]); `UnknownVendorId` / `UnknownMessageId`
//! otherwise (P02.FR.06/07) — never a CALLERROR, which would tell the station the message itself
//! was broken. The vendorId and messageId are logged bounded (up to 255 characters of whatever
//! the station chose). The answer is not kept for retransmissions: a handler decides what it
//! keeps, and a repeated message is routed again.

use unicharge_ocpp::peer_text::Bounded;
use unicharge_ocpp::v201::{DataTransferRequest, DataTransferResponse, DataTransferStatusEnumType};

use super::Route;
use crate::dispatch::{CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: DataTransferRequest,
) -> Result<Handled<DataTransferResponse>, CallRefusal> {
    let message_id = req.message_id.as_deref();
    let route = ctx
        .csms
        .data_transfer_handlers()
        .route(&req.vendor_id, message_id);
    let (status, data) = match route {
        Route::UnknownVendorId => (DataTransferStatusEnumType::UnknownVendorId, None),
        Route::UnknownMessageId => (DataTransferStatusEnumType::UnknownMessageId, None),
        Route::Handler(handler) => {
            let answer = handler
                .handle(&ctx.csms, &ctx.station_id, message_id, req.data.as_ref())
                .await;
            let status = if answer.accepted {
                DataTransferStatusEnumType::Accepted
            } else {
                DataTransferStatusEnumType::Rejected
            };
            (status, answer.data)
        }
    };
    tracing::info!(station = %ctx.station_id, vendor_id = %Bounded(&req.vendor_id),
        message_id = %Bounded(message_id.unwrap_or("")), status = status.as_str(), "DataTransfer");
    Ok(Handled::pure(DataTransferResponse {
        custom_data: None,
        status,
        status_info: None,
        data,
    }))
}
