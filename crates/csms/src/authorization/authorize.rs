//! Authorize (C01, I01): the token's status from the store and, for an Accepted driver, the
//! tariff that will apply in `personalMessage` (I01: show the tariff before charging). Nothing
//! changes, so nothing is stored.

use chrono::Utc;
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, AuthorizeRequest, AuthorizeResponse, MessageContentType,
    MessageFormatEnumType,
};

use super::id_token_info;
use crate::dispatch::{CallRefusal, Handled, StationContext};
use crate::transactions::cost;

/// OCPP's limit on `personalMessage.content`.
const MESSAGE_MAX: usize = 512;

pub async fn handle(
    ctx: &mut StationContext,
    req: AuthorizeRequest,
) -> Result<Handled<AuthorizeResponse>, CallRefusal> {
    let mut info = id_token_info(ctx, &req.id_token).await?;
    if info.status == AuthorizationStatusEnumType::Accepted {
        let group = info.group_id_token.as_ref().map(|g| g.id_token.as_str());
        // No EVSE is known at Authorize: the station's (or the group's) tariff is shown.
        if let Some(tariff) =
            cost::select(ctx.store.as_ref(), &ctx.station_id, None, group, Utc::now()).await?
        {
            let language = info.language1.clone();
            let text: String = tariff
                .driver_text(language.as_deref())
                .chars()
                .take(MESSAGE_MAX)
                .collect();
            info.personal_message = Some(MessageContentType {
                custom_data: None,
                format: MessageFormatEnumType::Utf8,
                language,
                content: text,
            });
        }
    }
    tracing::debug!(station = %ctx.station_id, token_type = req.id_token.r#type.as_str(),
        status = info.status.as_str(), "Authorize");
    Ok(Handled::pure(AuthorizeResponse {
        custom_data: None,
        id_token_info: info,
        certificate_status: None,
    }))
}
