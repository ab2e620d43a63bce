//! C11 Clear Authorization Data in Authorization Cache.

use unicharge_core::StationId;
use unicharge_ocpp::v201::{ClearCacheRequest, ClearCacheResponse};

use crate::request::{OpError, Requester};
use crate::Csms;

pub async fn clear_cache(
    csms: &Csms,
    station: &StationId,
    by: &Requester,
) -> Result<ClearCacheResponse, OpError> {
    csms.registered(station).await?;
    csms.request(station, &ClearCacheRequest { custom_data: None }, by)
        .await
}
