//! Row → record mapping for the pool's reads (the cached records are in `columns`).

use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use unicharge_core::StationId;

pub(crate) use crate::columns::{
    answer, command, connector, event, security_event, transaction_event,
};

use crate::{
    ApiKeyRecord, IssuedCertificate, ReportPart, ReportRecord, Result, StoreError, VariableRecord,
};

fn station_id(row: &SqliteRow, column: &str) -> Result<StationId> {
    let raw: String = row.try_get(column)?;
    StationId::new(raw).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub fn api_key(row: &SqliteRow) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        salt: row.try_get("salt")?,
        secret_hash: row.try_get("secret_hash")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn none_if(value: String, empty: &str) -> Option<String> {
    (value != empty).then_some(value)
}

pub fn variable(row: &SqliteRow) -> Result<VariableRecord> {
    let evse: i64 = row.try_get("evse_id")?;
    let connector: i64 = row.try_get("connector_id")?;
    Ok(VariableRecord {
        station_id: station_id(row, "station_id")?,
        component: row.try_get("component")?,
        component_instance: none_if(row.try_get("component_instance")?, ""),
        evse_id: (evse >= 0).then_some(evse),
        connector_id: (connector >= 0).then_some(connector),
        variable: row.try_get("variable")?,
        variable_instance: none_if(row.try_get("variable_instance")?, ""),
        attribute_type: row.try_get("attribute_type")?,
        value: row.try_get("value")?,
        mutability: row.try_get("mutability")?,
        source: row.try_get("source")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub fn report(row: &SqliteRow) -> Result<ReportRecord> {
    Ok(ReportRecord {
        station_id: station_id(row, "station_id")?,
        request_id: row.try_get("request_id")?,
        request: row.try_get("request")?,
        status: row.try_get("status")?,
        complete: row.try_get::<i64, _>("complete")? != 0,
        requested_at: row.try_get("requested_at")?,
    })
}

pub fn report_part(row: &SqliteRow) -> Result<ReportPart> {
    Ok(ReportPart {
        station_id: station_id(row, "station_id")?,
        request_id: row.try_get("request_id")?,
        seq_no: row.try_get("seq_no")?,
        tbc: row.try_get::<i64, _>("tbc")? != 0,
        generated_at: row.try_get("generated_at")?,
        report_data: row.try_get("report_data")?,
    })
}

pub fn issued_certificate(row: &SqliteRow) -> Result<IssuedCertificate> {
    Ok(IssuedCertificate {
        station_id: station_id(row, "station_id")?,
        serial: row.try_get("serial")?,
        subject: row.try_get("subject")?,
        not_after: row.try_get("not_after")?,
        certificate: row.try_get("certificate")?,
        issued_at: row.try_get("issued_at")?,
        station_status: row.try_get("station_status")?,
        certificate_type: row.try_get("certificate_type")?,
    })
}
