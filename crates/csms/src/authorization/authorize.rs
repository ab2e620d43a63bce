//! Authorize (C01, C07, I01): the token's status from the store and, for an Accepted driver,
//! the tariff that will apply in `personalMessage` (I01: show the tariff before charging).
//! Nothing changes, so nothing is stored.
//!
//! C07 Plug & Charge: an Authorize carrying a contract certificate or its OCSP request data is
//! checked first ([`crate::certificate_management::contract`]); the answer carries
//! `certificateStatus`, and anything but Accepted makes the idTokenInfo Invalid (C07.FR.16:
//! revoked → CertificateRevoked and Invalid) — whatever the token store says of the eMAID.

use chrono::Utc;
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, AuthorizeCertificateStatusEnumType, AuthorizeRequest,
    AuthorizeResponse, MessageContentType, MessageFormatEnumType,
};

use super::id_token_info;
use crate::certificate_management::contract;
use crate::dispatch::{CallRefusal, Handled, StationContext};
use crate::transactions::cost;

/// OCPP's limit on `personalMessage.content`.
const MESSAGE_MAX: usize = 512;

pub async fn handle(
    ctx: &mut StationContext,
    req: AuthorizeRequest,
) -> Result<Handled<AuthorizeResponse>, CallRefusal> {
    let mut info = id_token_info(ctx, &req.id_token).await?;
    let certificate_status = contract_status(ctx, &req).await;
    if let Some(status) = certificate_status {
        if status != AuthorizeCertificateStatusEnumType::Accepted {
            info.status = AuthorizationStatusEnumType::Invalid;
            info.cache_expiry_date_time = None;
            info.group_id_token = None;
        }
    }
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
        certificate_status,
    }))
}

/// C07: the contract certificate's check, when the Authorize carries one (the certificate
/// wins over the hash data when both are sent).
async fn contract_status(
    ctx: &StationContext,
    req: &AuthorizeRequest,
) -> Option<AuthorizeCertificateStatusEnumType> {
    let trust = ctx.csms.contract_trust();
    let checked = match (&req.certificate, &req.iso15118_certificate_hash_data) {
        (Some(pem), _) => contract::check_certificate(trust, pem).await,
        (None, Some(entries)) => contract::check_hash_data(trust, entries).await,
        (None, None) => return None,
    };
    if checked.status == AuthorizeCertificateStatusEnumType::Accepted {
        tracing::info!(station = %ctx.station_id, "contract certificate checked: Accepted");
    } else {
        tracing::warn!(station = %ctx.station_id, status = checked.status.as_str(),
            "contract certificate refused: {}", checked.reason);
    }
    Some(checked.status)
}
