//! CDR verdicts, a unicharge extension module (`unicharge_ocpi::cdr_verdicts`, B5.2), CPO role:
//! an eMSP accepts or disputes one of the CDRs we sent it ([`put`]); our operator lists them
//! ([`list`]), disputes first of all, and corrects with a credit CDR where a dispute holds.
//! Only the eMSP that can see the CDR (its own driver's) may give a verdict on it.

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use unicharge_ocpi::cdr_verdicts::CdrVerdict;
use unicharge_ocpi::transport::StatusCode;
use unicharge_store::ocpi_reservations::CdrVerdictRow;

use crate::auth::Registered;
use crate::operator::OperatorError;
use crate::reply::{self, bounded, Answer, Reply};
use crate::{cdrs, scope, Ocpi};

/// A verdict a partner gave us on one of our CDRs.
pub const RECEIVED: &str = "RECEIVED";
/// A verdict we gave a CPO partner on a CDR it pushed us (eMSP role).
pub const SENT: &str = "SENT";

/// `PUT {cdrverdicts}/{cdr_id}`.
pub async fn put(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, cdr_id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    let version = scope::version(&version)?;
    let verdict: CdrVerdict = reply::body(&bytes, "CdrVerdict")?;
    verdict.check().map_err(Reply::invalid)?;
    let known = cdrs::visible(&ocpi, &caller, &version)
        .await?
        .into_iter()
        .any(|c| c.id == cdr_id);
    if !known {
        return Err(Reply::not_found_object(
            StatusCode::CLIENT_ERROR,
            format!("no CDR {}", bounded(&cdr_id)),
        ));
    }
    let row = CdrVerdictRow {
        partner_id: caller.partner.id,
        side: RECEIVED.into(),
        cdr_id: cdr_id.clone(),
        result: verdict.result.as_str().to_string(),
        reason: verdict.reason.clone(),
        last_updated: verdict.last_updated,
    };
    ocpi.ocpi_store()
        .put_ocpi_cdr_verdict(&row)
        .await
        .map_err(Reply::server_error)?;
    tracing::info!(partner = caller.partner.id, cdr = %bounded(&cdr_id),
        result = %verdict.result, "OCPI CDR verdict received");
    Ok(Reply::ok_empty())
}

/// A verdict as the operator sees it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictView {
    pub partner_id: i64,
    pub cdr_id: String,
    /// `ACCEPTED` or `DISPUTED`.
    pub result: String,
    pub reason: Option<String>,
    pub last_updated: DateTime<Utc>,
}

impl From<CdrVerdictRow> for VerdictView {
    fn from(r: CdrVerdictRow) -> Self {
        VerdictView {
            partner_id: r.partner_id,
            cdr_id: r.cdr_id,
            result: r.result,
            reason: r.reason,
            last_updated: r.last_updated,
        }
    }
}

/// Verdicts of one side (`RECEIVED` on our CDRs, `SENT` on partners'), newest first;
/// `result` narrows to `ACCEPTED` or `DISPUTED`.
pub async fn list(
    ocpi: &Ocpi,
    side: &str,
    result: Option<&str>,
    limit: u32,
) -> Result<Vec<VerdictView>, OperatorError> {
    if let Some(r) = result {
        if !matches!(r, "ACCEPTED" | "DISPUTED") {
            return Err(OperatorError::Invalid(format!(
                "result {r:?}: use ACCEPTED or DISPUTED"
            )));
        }
    }
    Ok(ocpi
        .ocpi_store()
        .ocpi_cdr_verdicts(side, result, limit.clamp(1, 1000))
        .await?
        .into_iter()
        .map(VerdictView::from)
        .collect())
}
