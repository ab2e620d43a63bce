//! CDR verdicts (the `x-unicharge-cdrverdicts` extension module, B5.2), eMSP role: our
//! operator accepts or disputes a CDR a CPO partner pushed us, with a reason; we PUT the
//! verdict to the CPO and keep it (side `SENT`) once the CPO took it.

use chrono::Utc;
use serde::Deserialize;
use unicharge_ocpi::cdr_verdicts::{CdrVerdict, CdrVerdictType, MODULE_ID};
use unicharge_store::ocpi_reservations::CdrVerdictRow;

use super::commands::target;
use super::CDRS;
use crate::cdr_verdicts::{VerdictView, SENT};
use crate::client;
use crate::operator::OperatorError;
use crate::Ocpi;

/// What the operator says of a CDR.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerdictRequest {
    /// `ACCEPTED` or `DISPUTED`.
    pub result: String,
    /// Why (required for `DISPUTED`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Give CPO partner `partner_id` our verdict on its CDR `cdr_id`.
pub async fn send(
    ocpi: &Ocpi,
    partner_id: i64,
    cdr_id: &str,
    req: VerdictRequest,
) -> Result<VerdictView, OperatorError> {
    let result = match req.result.as_str() {
        "ACCEPTED" => CdrVerdictType::Accepted,
        "DISPUTED" => CdrVerdictType::Disputed,
        other => {
            return Err(OperatorError::Invalid(format!(
                "result {other:?}: use ACCEPTED or DISPUTED"
            )))
        }
    };
    let verdict = CdrVerdict {
        result,
        reason: req.reason.filter(|r| !r.trim().is_empty()),
        last_updated: Utc::now(),
    };
    verdict
        .check()
        .map_err(|e| OperatorError::Invalid(e.into()))?;
    let store = ocpi.ocpi_store();
    let received = store
        .ocpi_received_list(Some(partner_id), CDRS)
        .await?
        .iter()
        .any(|c| c.id == cdr_id);
    if !received {
        return Err(OperatorError::NotFound(format!(
            "CDR {cdr_id} of OCPI partner {partner_id}"
        )));
    }
    let target = target(ocpi, partner_id, MODULE_ID, "CDR verdicts").await?;
    let url = format!("{}/{cdr_id}", target.url);
    client::call::<serde::de::IgnoredAny, _>(
        ocpi,
        reqwest::Method::PUT,
        &url,
        &target.token,
        &target.version,
        Some(&verdict),
    )
    .await
    .map_err(|e| OperatorError::Partner(e.to_string()))?;
    let row = CdrVerdictRow {
        partner_id,
        side: SENT.into(),
        cdr_id: cdr_id.to_string(),
        result: verdict.result.as_str().to_string(),
        reason: verdict.reason.clone(),
        last_updated: verdict.last_updated,
    };
    store.put_ocpi_cdr_verdict(&row).await?;
    tracing::info!(partner = partner_id, cdr = %cdr_id, result = %verdict.result,
        "OCPI CDR verdict sent");
    Ok(row.into())
}
