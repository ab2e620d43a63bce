//! Heartbeat (G02): tell the station the time; note that it is alive.

use chrono::Utc;
use unicharge_ocpp::v201::{HeartbeatRequest, HeartbeatResponse};
use unicharge_store::Write;

use crate::dispatch::{CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    _req: HeartbeatRequest,
) -> Result<Handled<HeartbeatResponse>, CallRefusal> {
    let now = Utc::now();
    let mut handled = Handled::pure(HeartbeatResponse {
        current_time: now,
        custom_data: None,
    });
    // last_seen_at moves with every heartbeat; the group commit makes this cheap.
    handled.writes.push(Write::Connection {
        station_id: ctx.station_id.clone(),
        at: now,
        connected: true,
    });
    Ok(handled)
}
