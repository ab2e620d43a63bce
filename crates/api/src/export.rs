//! Charge records exported as JSON or CSV (`?format=csv`), for billing systems and
//! spreadsheets. One CSV layout for every source (OCPP sessions, Diameter Rf sessions, EFC
//! usage): the columns are the charge record's own fields, flattened.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use unicharge_core::charge_record::ChargeRecord;
use utoipa::ToSchema;

use crate::transactions::ChargeRecordList;
use crate::ApiError;

/// How a list of charge records is answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// `{"chargeRecords": […]}` (the default).
    #[default]
    Json,
    /// `text/csv` (RFC 4180), one header line then one line per record.
    Csv,
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 17] = [
    "id",
    "stationId",
    "transactionId",
    "idToken",
    "idTokenType",
    "startedAt",
    "endedAt",
    "stoppedReason",
    "energyWh",
    "chargingSeconds",
    "idleSeconds",
    "tariffId",
    "currency",
    "totalExclVat",
    "vat",
    "totalInclVat",
    "createdAt",
];

/// One CSV field, quoted when it holds a comma, quote, CR or LF (RFC 4180 §2); a leading
/// `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does not run it as a formula
/// (identifiers come from stations and peers, not from us).
fn field(out: &mut String, value: &str) {
    let guarded = value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err();
    let needs_quotes = guarded || value.contains([',', '"', '\r', '\n']);
    if needs_quotes {
        out.push('"');
        if guarded {
            out.push('\'');
        }
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// The records as CSV text (CRLF line ends, as RFC 4180 has them).
pub fn charge_records_csv(records: &[ChargeRecord]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for r in records {
        let cost = r.cost.as_ref();
        let cells: [String; 17] = [
            r.id.clone(),
            r.station_id.clone(),
            r.transaction_id.clone(),
            r.id_token.clone().unwrap_or_default(),
            r.id_token_type.clone().unwrap_or_default(),
            r.started_at.to_rfc3339(),
            r.ended_at.to_rfc3339(),
            r.stopped_reason.clone().unwrap_or_default(),
            r.usage.energy_wh.to_string(),
            r.usage.charging_seconds.to_string(),
            r.usage.idle_seconds.to_string(),
            r.tariff_id.clone().unwrap_or_default(),
            cost.map(|c| c.currency.clone()).unwrap_or_default(),
            cost.map(|c| c.total_excl_vat.to_string())
                .unwrap_or_default(),
            cost.map(|c| c.vat.to_string()).unwrap_or_default(),
            cost.map(|c| c.total_incl_vat.to_string())
                .unwrap_or_default(),
            r.created_at.to_rfc3339(),
        ];
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, c);
        }
        out.push_str("\r\n");
    }
    out
}

/// Answers a list of charge records in the asked format.
pub fn respond(
    records: Vec<ChargeRecord>,
    format: ExportFormat,
    file_name: &str,
) -> Result<Response, ApiError> {
    match format {
        ExportFormat::Json => {
            let charge_records = records
                .into_iter()
                .map(|r| serde_json::to_value(r).map_err(ApiError::internal))
                .collect::<Result<_, _>>()?;
            Ok(Json(ChargeRecordList { charge_records }).into_response())
        }
        ExportFormat::Csv => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file_name}.csv\""),
                ),
            ],
            charge_records_csv(&records),
        )
            .into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &str) -> String {
        let mut s = String::new();
        field(&mut s, v);
        s
    }

    #[test]
    fn csv_fields_are_quoted_and_formula_guarded() {
        assert_eq!(text("plain"), "plain");
        assert_eq!(text("a,b"), "\"a,b\"");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(text("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(text("-12.5"), "-12.5", "a negative number stays a number");
    }
}
