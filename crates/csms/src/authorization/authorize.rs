//! Authorize (C01): the token's status from the store. Nothing changes, so nothing is stored.

use unicharge_ocpp::v201::{AuthorizeRequest, AuthorizeResponse};

use super::id_token_info;
use crate::dispatch::{CallRefusal, Handled, StationContext};

pub async fn handle(
    ctx: &mut StationContext,
    req: AuthorizeRequest,
) -> Result<Handled<AuthorizeResponse>, CallRefusal> {
    let info = id_token_info(ctx, &req.id_token).await?;
    tracing::info!(station = %ctx.station_id, token_type = req.id_token.r#type.as_str(),
        status = info.status.as_str(), "Authorize");
    Ok(Handled::pure(AuthorizeResponse {
        custom_data: None,
        id_token_info: info,
        certificate_status: None,
    }))
}
