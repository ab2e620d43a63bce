//! NotifyDisplayMessages (O03/O04): one part of the answer to a GetDisplayMessages, kept under
//! its requestId (committed before it is answered); the part with `tbc` false completes the
//! report. A part for a requestId the CSMS never sent is kept too (a station may report on its
//! own), and logged.

use chrono::Utc;
use unicharge_ocpp::v201::{NotifyDisplayMessagesRequest, NotifyDisplayMessagesResponse};
use unicharge_store::{DisplayMessageReportPart, Write};

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: NotifyDisplayMessagesRequest,
) -> Result<Handled<NotifyDisplayMessagesResponse>, CallRefusal> {
    let messages = req.message_info.unwrap_or_default();
    let tbc = req.tbc.unwrap_or(false);
    tracing::debug!(station = %ctx.station_id, request_id = req.request_id,
        messages = messages.len(), tbc, "NotifyDisplayMessages");
    let part = DisplayMessageReportPart {
        station_id: ctx.station_id.clone(),
        request_id: req.request_id,
        tbc,
        messages: serde_json::to_string(&messages).map_err(internal)?,
        received_at: Utc::now(),
    };
    Ok(Handled::durable(
        NotifyDisplayMessagesResponse { custom_data: None },
        vec![Write::DisplayMessageReportPart(part)],
    ))
}
