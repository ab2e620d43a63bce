//! SignCertificate with `certificateType` V2GCertificate (A02/A03 for the ISO 15118 side): the
//! station asks for its SECC certificate. The CSR is checked ([`super::v2g_ca::V2gSubCa::sign`]:
//! own signature, P-256 key, subject CN/O, CN = this station's SECC id) and signed by the
//! configured V2G sub-CA; once the Accepted answer is sent, CertificateSigned delivers the leaf
//! and the sub-CA chain (the same [`Effect::DeliverCertificate`] as station certificates, kept
//! with the station's verdict and the certificate type).
//!
//! Without a sub-CA configured the request is Rejected and the log names the settings
//! (`plug_and_charge.v2g_sub_ca_chain` / `v2g_sub_ca_key`).

use unicharge_ocpp::v201::{
    CertificateSigningUseEnumType, GenericStatusEnumType, SignCertificateRequest,
    SignCertificateResponse,
};

use crate::dispatch::{CallRefusal, Handled, StationContext};
use crate::effects::Effect;
use crate::security::certificate_signed::Delivery;
use crate::security::sign_certificate::{asn1_to_utc, rejected};

/// The device-model variable whose value is the SECC id (the CN of the SECC certificate).
const SECC_COMPONENT: &str = "ISO15118Ctrlr";
const SECC_VARIABLE: &str = "SeccId";

/// The commonNames this station may ask for: the SeccId values it reported (per EVSE), and its
/// own station id (stations that report none use it).
async fn secc_ids(ctx: &StationContext) -> Result<Vec<String>, CallRefusal> {
    let model = ctx
        .store
        .device_model(&ctx.station_id)
        .await
        .map_err(crate::dispatch::internal)?;
    let mut ids: Vec<String> = model
        .into_iter()
        .filter(|v| {
            v.component == SECC_COMPONENT
                && v.variable == SECC_VARIABLE
                && v.attribute_type == "Actual"
        })
        .filter_map(|v| v.value)
        .filter(|v| !v.is_empty())
        .collect();
    ids.push(ctx.station_id.as_str().to_string());
    ids.dedup();
    Ok(ids)
}

pub async fn handle(
    ctx: &mut StationContext,
    req: SignCertificateRequest,
) -> Result<Handled<SignCertificateResponse>, CallRefusal> {
    let Some(ca) = ctx.csms.shared().v2g_ca.clone() else {
        tracing::warn!(station = %ctx.station_id,
            "SignCertificate V2GCertificate Rejected: no V2G sub-CA configured; set \
             plug_and_charge.v2g_sub_ca_chain and plug_and_charge.v2g_sub_ca_key");
        return Ok(Handled::durable(
            rejected(
                "NoV2GSubCA",
                "this CSMS has no V2G sub-CA configured to sign SECC certificates".into(),
            ),
            vec![],
        ));
    };
    let allowed = secc_ids(ctx).await?;
    let leaf = match ca.sign(&req.csr, &allowed) {
        Ok(leaf) => leaf,
        Err(e) => {
            tracing::warn!(station = %ctx.station_id, error = %e,
                "SignCertificate V2GCertificate Rejected");
            return Ok(Handled::durable(
                rejected(e.reason_code(), e.to_string()),
                vec![],
            ));
        }
    };
    let chain = ca.chain_pem(&leaf).map_err(crate::dispatch::internal)?;
    let serial = leaf
        .serial_number()
        .to_bn()
        .and_then(|bn| bn.to_hex_str().map(|s| s.to_string()))
        .unwrap_or_default();
    let subject = leaf
        .subject_name()
        .entries()
        .filter_map(|e| {
            Some(format!(
                "{}={}",
                e.object().nid().short_name().ok()?,
                e.data().to_string().ok()?
            ))
        })
        .collect::<Vec<_>>()
        .join(",");
    let not_after = asn1_to_utc(leaf.not_after()).unwrap_or_else(chrono::Utc::now);
    tracing::info!(station = %ctx.station_id, serial = %serial, subject = %subject,
        "V2G CSR accepted; delivering the SECC certificate");
    Ok(Handled::durable(
        SignCertificateResponse {
            custom_data: None,
            status: GenericStatusEnumType::Accepted,
            status_info: None,
        },
        vec![],
    )
    .with_effect(Effect::DeliverCertificate(Box::new(Delivery {
        certificate_chain: chain,
        certificate_type: CertificateSigningUseEnumType::V2GCertificate,
        subject,
        serial,
        not_after,
    }))))
}
