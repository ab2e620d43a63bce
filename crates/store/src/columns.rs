//! One row decoder for every connection: SQLite's pool (sqlx) and writer (rusqlite), and
//! PostgreSQL's (sqlx; ADR 0047 keeps timestamps in the same text so these decoders serve
//! both engines).
//!
//! The cached records (stations, transactions, tokens, metered usage) are read by the pool on a
//! cache miss and by the writer thread when it refreshes what a batch touched; both must decode
//! a row identically, or the cache would disagree with a fresh read. So the decoders are
//! written once against [`Columns`], and values are written by the writer in exactly the text
//! sqlx writes ([`timestamp`]), so either side reads what the other wrote.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};
use unicharge_ocpp::v201::TransactionEventRequest;

use crate::{
    CommandRecord, ConnectorRecord, EventRecord, Result, SecurityEventRecord, StoreError,
    StoredAnswer, TransactionEventRecord, TransactionRecord,
};

/// Typed access to a row's columns by name.
pub(crate) trait Columns {
    fn text(&self, column: &str) -> Result<Option<String>>;
    fn int(&self, column: &str) -> Result<Option<i64>>;

    fn required_text(&self, column: &str) -> Result<String> {
        self.text(column)?
            .ok_or_else(|| StoreError::Corrupt(format!("{column} is NULL")))
    }

    fn required_int(&self, column: &str) -> Result<i64> {
        self.int(column)?
            .ok_or_else(|| StoreError::Corrupt(format!("{column} is NULL")))
    }

    fn flag(&self, column: &str) -> Result<bool> {
        Ok(self.required_int(column)? != 0)
    }

    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        self.text(column)?
            .map(|raw| parse_timestamp(&raw, column))
            .transpose()
    }

    fn required_time(&self, column: &str) -> Result<DateTime<Utc>> {
        self.time(column)?
            .ok_or_else(|| StoreError::Corrupt(format!("{column} is NULL")))
    }
}

impl Columns for SqliteRow {
    fn text(&self, column: &str) -> Result<Option<String>> {
        Ok(self.try_get(column)?)
    }

    fn int(&self, column: &str) -> Result<Option<i64>> {
        Ok(self.try_get(column)?)
    }
}

impl Columns for PgRow {
    fn text(&self, column: &str) -> Result<Option<String>> {
        Ok(self.try_get(column)?)
    }

    fn int(&self, column: &str) -> Result<Option<i64>> {
        Ok(self.try_get(column)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, column: &str) -> Result<Option<String>> {
        Ok(self.get(column)?)
    }

    fn int(&self, column: &str) -> Result<Option<i64>> {
        Ok(self.get(column)?)
    }
}

/// `%term%` for LIKE / ILIKE (with `ESCAPE '\\'`), the wildcards in the term taken literally.
pub(crate) fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A stored decimal text (exact, never a float); NULL counts as zero in the sums it feeds.
pub(crate) fn decimal(raw: Option<String>, what: &str) -> Result<rust_decimal::Decimal> {
    use std::str::FromStr;
    match raw {
        None => Ok(rust_decimal::Decimal::ZERO),
        Some(text) => rust_decimal::Decimal::from_str(&text)
            .or_else(|_| rust_decimal::Decimal::from_scientific(&text))
            .map_err(|e| StoreError::Corrupt(format!("{what} {text:?}: {e}"))),
    }
}

/// A timestamp as sqlx stores a `DateTime<Utc>` (RFC 3339, `+00:00`, fraction only when
/// non-zero): the writer's rows must sort and compare with the pool's (`timestamp < ?`).
pub(crate) fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The formats sqlx reads back: RFC 3339, or SQLite's own `YYYY-MM-DD HH:MM:SS[.fff]` (UTC).
pub(crate) fn parse_timestamp(raw: &str, column: &str) -> Result<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    ["%F %T%.f", "%FT%T%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
        .map(|naive| naive.and_utc())
        .ok_or_else(|| StoreError::Corrupt(format!("{column}: not a timestamp: {raw:.40}")))
}

fn registration(raw: &str) -> Result<RegistrationStatus> {
    RegistrationStatus::parse(raw)
        .ok_or_else(|| StoreError::Corrupt(format!("registration status {raw:.40}")))
}

fn profile(number: i64) -> Result<SecurityProfile> {
    SecurityProfile::try_from(number).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn station_id(row: &impl Columns, column: &str) -> Result<StationId> {
    StationId::new(row.required_text(column)?)
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn station(row: &impl Columns) -> Result<Station> {
    Ok(Station {
        id: station_id(row, "id")?,
        security_profile: profile(row.required_int("security_profile")?)?,
        pending_security_profile: row
            .int("pending_security_profile")?
            .map(profile)
            .transpose()?,
        password_hash: row.text("password_hash")?,
        registration: registration(&row.required_text("registration")?)?,
        model: row.text("model")?,
        vendor_name: row.text("vendor_name")?,
        serial_number: row.text("serial_number")?,
        firmware_version: row.text("firmware_version")?,
        last_boot_at: row.time("last_boot_at")?,
        last_boot_reason: row.text("last_boot_reason")?,
        last_boot_status: row
            .text("last_boot_status")?
            .as_deref()
            .map(registration)
            .transpose()?,
        last_seen_at: row.time("last_seen_at")?,
        provisioned_at: row.time("provisioned_at")?,
        connected: row.flag("connected")?,
        ocpp_version: row.text("ocpp_version")?,
        preferred_ocpp_version: row.text("preferred_ocpp_version")?,
        created_at: row.required_time("created_at")?,
    })
}

pub(crate) fn token(row: &impl Columns) -> Result<unicharge_core::tokens::IdTokenRecord> {
    Ok(unicharge_core::tokens::IdTokenRecord {
        id_token: row.required_text("id_token")?,
        kind: row.required_text("type")?,
        status: row.required_text("status")?,
        expiry: row.time("expiry")?,
        group_id_token: row.text("group_id_token")?,
    })
}

/// A `transactions` row; `seq_no_gaps` is left empty (it needs another read).
pub(crate) fn transaction(row: &impl Columns) -> Result<TransactionRecord> {
    Ok(TransactionRecord {
        station_id: station_id(row, "station_id")?,
        transaction_id: row.required_text("transaction_id")?,
        evse_id: row.int("evse_id")?,
        connector_id: row.int("connector_id")?,
        id_token: row.text("id_token")?,
        started_at: row.required_time("started_at")?,
        ended_at: row.time("ended_at")?,
        charging_state: row.text("charging_state")?,
        stopped_reason: row.text("stopped_reason")?,
        last_seq_no: row.required_int("last_seq_no")?,
        events: row.required_int("events")?,
        started_unseen: row.flag("started_unseen")?,
        id_token_type: row.text("id_token_type")?,
        group_id_token: row.text("group_id_token")?,
        remote_start_id: row.int("remote_start_id")?,
        reservation_id: row.int("reservation_id")?,
        tariff_id: row.text("tariff_id")?,
        station_forgot_at: row.time("station_forgot_at")?,
        seq_no_gaps: Vec::new(),
    })
}

/// The seqNos missing between `lowest` and the transaction's highest, given every seqNo
/// stored in order — bounded: a station sending seqNo 0 then 2^40 must not make us allocate
/// terabytes. Without gaps (the usual case) the caller does not read the seqNos at all
/// ([`contiguous`]).
pub(crate) fn gaps(seqs: &[i64]) -> Vec<i64> {
    let mut gaps = Vec::new();
    for pair in seqs.windows(2) {
        let missing = (pair[0] + 1)..pair[1];
        gaps.extend(missing.take(1000usize.saturating_sub(gaps.len())));
    }
    gaps
}

/// Whether the transaction's events run from `lowest` to its highest seqNo without a hole:
/// it counts its distinct events, so the lowest seqNo alone tells.
pub(crate) fn contiguous(transaction: &TransactionRecord, lowest: Option<i64>) -> bool {
    match lowest {
        None => true,
        Some(lowest) => {
            transaction
                .last_seq_no
                .checked_sub(lowest)
                .and_then(|span| span.checked_add(1))
                == Some(transaction.events)
        }
    }
}

pub(crate) fn answer(row: &impl Columns) -> Result<StoredAnswer> {
    Ok(StoredAnswer {
        station_id: station_id(row, "station_id")?,
        message_id: row.required_text("message_id")?,
        action: row.required_text("action")?,
        request_hash: row.required_text("request_hash")?,
        response: row.required_text("response")?,
        answered_at: row.required_time("answered_at")?,
    })
}

pub(crate) fn connector(row: &impl Columns) -> Result<ConnectorRecord> {
    Ok(ConnectorRecord {
        evse_id: row.required_int("evse_id")?,
        connector_id: row.required_int("connector_id")?,
        status: row.required_text("status")?,
        status_at: row.required_time("status_at")?,
    })
}

/// The columns an event row has; the rest is read back from the stored request, decoded into
/// its OCPP type (a row that does not decode keeps its columns and leaves the rest empty).
pub(crate) fn transaction_event(row: &impl Columns) -> Result<TransactionEventRecord> {
    let data = row.required_text("data")?;
    let event = serde_json::from_str::<TransactionEventRequest>(&data).ok();
    let evse = event.as_ref().and_then(|e| e.evse.as_ref());
    let info = event.as_ref().map(|e| &e.transaction_info);
    Ok(TransactionEventRecord {
        station_id: station_id(row, "station_id")?,
        transaction_id: row.required_text("transaction_id")?,
        seq_no: row.required_int("seq_no")?,
        event_type: row.required_text("event_type")?,
        trigger_reason: row.required_text("trigger_reason")?,
        timestamp: row.required_time("timestamp")?,
        offline: row.flag("offline")?,
        evse_id: evse.map(|e| e.id),
        connector_id: evse.and_then(|e| e.connector_id),
        id_token: event
            .as_ref()
            .and_then(|e| e.id_token.as_ref())
            .map(|t| t.id_token.clone()),
        charging_state: info
            .and_then(|i| i.charging_state)
            .map(|s| s.as_str().to_string()),
        stopped_reason: info
            .and_then(|i| i.stopped_reason)
            .map(|s| s.as_str().to_string()),
        data,
        meter_values: row.required_int("meter_value_count")?,
        received_at: row.required_time("received_at")?,
    })
}

pub(crate) fn event(row: &impl Columns) -> Result<EventRecord> {
    Ok(EventRecord {
        station_id: station_id(row, "station_id")?,
        generated_at: row.required_time("generated_at")?,
        report_seq_no: row.required_int("report_seq_no")?,
        event_id: row.required_int("event_id")?,
        timestamp: row.required_time("timestamp")?,
        trigger: row.required_text("trigger")?,
        event_notification_type: row.required_text("event_notification_type")?,
        component: row.required_text("component")?,
        evse_id: row.int("evse_id")?,
        connector_id: row.int("connector_id")?,
        variable: row.required_text("variable")?,
        actual_value: row.required_text("actual_value")?,
        cleared: row.int("cleared")?.map(|c| c != 0),
        data: row.required_text("data")?,
    })
}

pub(crate) fn security_event(row: &impl Columns) -> Result<SecurityEventRecord> {
    Ok(SecurityEventRecord {
        station_id: station_id(row, "station_id")?,
        kind: row.required_text("type")?,
        timestamp: row.required_time("timestamp")?,
        tech_info: row.text("tech_info")?,
        received_at: row.required_time("received_at")?,
    })
}

pub(crate) fn command(row: &impl Columns) -> Result<CommandRecord> {
    Ok(CommandRecord {
        seq: row.required_int("seq")?,
        station_id: station_id(row, "station_id")?,
        action: row.required_text("action")?,
        request: row.required_text("request")?,
        outcome: row.required_text("outcome")?,
        response: row.text("response")?,
        requested_by: row.text("requested_by")?,
        sent_at: row.required_time("sent_at")?,
        completed_at: row.required_time("completed_at")?,
    })
}

pub(crate) fn station_notice(row: &impl Columns) -> Result<crate::StationNotice> {
    Ok(crate::StationNotice {
        station_id: station_id(row, "station_id")?,
        kind: row.required_text("kind")?,
        status: row.required_text("status")?,
        request_id: row.int("request_id")?,
        data: row.required_text("data")?,
        received_at: row.required_time("received_at")?,
    })
}

fn none_if(value: String, empty: &str) -> Option<String> {
    (value != empty).then_some(value)
}

/// A device-model row; `''` and `-1` are the key's "none" (primary key columns cannot be NULL).
pub(crate) fn variable(row: &impl Columns) -> Result<crate::VariableRecord> {
    let evse = row.required_int("evse_id")?;
    let connector = row.required_int("connector_id")?;
    Ok(crate::VariableRecord {
        station_id: station_id(row, "station_id")?,
        component: row.required_text("component")?,
        component_instance: none_if(row.required_text("component_instance")?, ""),
        evse_id: (evse >= 0).then_some(evse),
        connector_id: (connector >= 0).then_some(connector),
        variable: row.required_text("variable")?,
        variable_instance: none_if(row.required_text("variable_instance")?, ""),
        attribute_type: row.required_text("attribute_type")?,
        value: row.text("value")?,
        mutability: row.text("mutability")?,
        source: row.required_text("source")?,
        updated_at: row.required_time("updated_at")?,
    })
}

pub(crate) fn report(row: &impl Columns) -> Result<crate::ReportRecord> {
    Ok(crate::ReportRecord {
        station_id: station_id(row, "station_id")?,
        request_id: row.required_int("request_id")?,
        request: row.required_text("request")?,
        status: row.text("status")?,
        complete: row.flag("complete")?,
        requested_at: row.required_time("requested_at")?,
    })
}

pub(crate) fn report_part(row: &impl Columns) -> Result<crate::ReportPart> {
    Ok(crate::ReportPart {
        station_id: station_id(row, "station_id")?,
        request_id: row.required_int("request_id")?,
        seq_no: row.required_int("seq_no")?,
        tbc: row.flag("tbc")?,
        generated_at: row.required_time("generated_at")?,
        report_data: row.required_text("report_data")?,
    })
}

pub(crate) fn issued_certificate(row: &impl Columns) -> Result<crate::IssuedCertificate> {
    Ok(crate::IssuedCertificate {
        station_id: station_id(row, "station_id")?,
        serial: row.required_text("serial")?,
        subject: row.required_text("subject")?,
        not_after: row.required_time("not_after")?,
        certificate: row.required_text("certificate")?,
        issued_at: row.required_time("issued_at")?,
        station_status: row.text("station_status")?,
        certificate_type: row.required_text("certificate_type")?,
    })
}

pub(crate) fn api_key(row: &impl Columns) -> Result<crate::ApiKeyRecord> {
    Ok(crate::ApiKeyRecord {
        id: row.required_text("id")?,
        name: row.required_text("name")?,
        role: row.required_text("role")?,
        salt: row.required_text("salt")?,
        secret_hash: row.required_text("secret_hash")?,
        created_at: row.required_time("created_at")?,
        revoked_at: row.time("revoked_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_sqlx_writes_them_and_read_back_exactly() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(timestamp(&at), "2026-03-01T10:00:00.123456789+00:00");
        assert_eq!(parse_timestamp(&timestamp(&at), "t").unwrap(), at);
        let whole = at - chrono::TimeDelta::nanoseconds(123_456_789);
        assert_eq!(timestamp(&whole), "2026-03-01T10:00:00+00:00");
        assert_eq!(
            parse_timestamp("2026-03-01 10:00:00", "t").unwrap(),
            whole,
            "SQLite's own format is UTC"
        );
        assert!(parse_timestamp("yesterday", "t").is_err());
    }

    #[test]
    fn gaps_are_the_missing_seq_nos_and_bounded() {
        assert_eq!(gaps(&[1, 2, 5, 7]), vec![3, 4, 6]);
        assert_eq!(gaps(&[0, 1 << 40]).len(), 1000);
    }
}
