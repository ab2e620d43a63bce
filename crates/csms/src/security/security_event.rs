//! SecurityEventNotification (A04): kept per station and logged at warning level, because an
//! operator must see them (e.g. `InvalidTLSVersion` after TC_A_06's refused handshake).

use chrono::Utc;
use unicharge_ocpp::v201::{SecurityEventNotificationRequest, SecurityEventNotificationResponse};
use unicharge_store::{SecurityEventRecord, Write};

use crate::dispatch::{CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: SecurityEventNotificationRequest,
) -> Result<Handled<SecurityEventNotificationResponse>, CallRefusal> {
    tracing::warn!(station = %ctx.station_id, event = %req.r#type,
        tech_info = req.tech_info.as_deref().unwrap_or(""), "security event");
    Ok(Handled::durable(
        SecurityEventNotificationResponse { custom_data: None },
        vec![Write::SecurityEvent(SecurityEventRecord {
            station_id: ctx.station_id.clone(),
            kind: req.r#type.clone(),
            timestamp: req.timestamp,
            tech_info: req.tech_info.clone(),
            received_at: Utc::now(),
        })],
    ))
}
