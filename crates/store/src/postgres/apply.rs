//! One [`Write`] as PostgreSQL statements on the writer's connection, inside the job's
//! savepoint: the same rows as `sqlite/apply.rs` writes, in the same text encodings
//! ([`timestamp`]), so the shared decoders (`crate::columns`) read either engine's rows.
//!
//! The match has no catch-all arm: a `Write` variant added later does not compile until it has
//! its PostgreSQL statements here as well as in SQLite's apply.

use sqlx::PgConnection;
use unicharge_core::metering::{plug_state, SequencedChange, StateChange};

use crate::columns::timestamp;
use crate::{Result, TransactionEventRecord, Write};

/// Apply a job's writes in order. Consecutive sampledValues of one meterValue (same station,
/// EVSE, transaction and timestamp) are stored together, as the one packed row they become
/// (as `sqlite/apply.rs` groups them).
pub(super) async fn apply_all(conn: &mut PgConnection, writes: &[Write]) -> Result<()> {
    let mut rest = writes;
    while let Some((first, tail)) = rest.split_first() {
        let Write::MeterValue(m) = first else {
            apply(conn, first).await?;
            rest = tail;
            continue;
        };
        let same_reading = |w: &Write| {
            matches!(w, Write::MeterValue(n) if n.station_id == m.station_id
                && n.evse_id == m.evse_id && n.transaction_id == m.transaction_id
                && n.timestamp == m.timestamp)
        };
        let len = 1 + tail.iter().take_while(|w| same_reading(w)).count();
        let group: Vec<&crate::MeterValueRecord> = rest[..len]
            .iter()
            .filter_map(|w| match w {
                Write::MeterValue(m) => Some(&**m),
                _ => None,
            })
            .collect();
        super::meter_readings::insert(conn, &group).await?;
        rest = &rest[len..];
    }
    Ok(())
}

async fn apply(conn: &mut PgConnection, write: &Write) -> Result<()> {
    match write {
        Write::StationBooted {
            station_id,
            at,
            reason,
            model,
            vendor_name,
            serial_number,
            firmware_version,
            status,
        } => {
            sqlx::query(
                "UPDATE stations SET model = $1, vendor_name = $2, serial_number = $3,
                    firmware_version = $4, last_boot_at = $5, last_boot_reason = $6,
                    last_boot_status = $7, last_seen_at = $5
                 WHERE id = $8",
            )
            .bind(model)
            .bind(vendor_name)
            .bind(serial_number)
            .bind(firmware_version)
            .bind(timestamp(at))
            .bind(reason)
            .bind(status.as_str())
            .bind(station_id.as_str())
            .execute(&mut *conn)
            .await?;
        }
        Write::Connection {
            station_id,
            at,
            connected,
        } => {
            sqlx::query("UPDATE stations SET connected = $1, last_seen_at = $2 WHERE id = $3")
                .bind(i64::from(*connected))
                .bind(timestamp(at))
                .bind(station_id.as_str())
                .execute(&mut *conn)
                .await?;
        }
        Write::StationOcppVersion {
            station_id,
            version,
        } => {
            sqlx::query("UPDATE stations SET ocpp_version = $1 WHERE id = $2")
                .bind(version)
                .bind(station_id.as_str())
                .execute(&mut *conn)
                .await?;
        }
        Write::ConnectorStatus {
            station_id,
            evse_id,
            connector_id,
            status,
            at,
        } => {
            sqlx::query(
                "INSERT INTO connectors (station_id, evse_id, connector_id, status, status_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (station_id, evse_id, connector_id)
                 DO UPDATE SET status = excluded.status, status_at = excluded.status_at",
            )
            .bind(station_id.as_str())
            .bind(evse_id)
            .bind(connector_id)
            .bind(status)
            .bind(timestamp(at))
            .execute(&mut *conn)
            .await?;
        }
        Write::Event(e) => {
            sqlx::query(
                "INSERT INTO events (station_id, generated_at, report_seq_no, event_id, timestamp,
                    trigger, event_notification_type, component, evse_id, connector_id, variable,
                    actual_value, cleared, data)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(e.station_id.as_str())
            .bind(timestamp(&e.generated_at))
            .bind(e.report_seq_no)
            .bind(e.event_id)
            .bind(timestamp(&e.timestamp))
            .bind(&e.trigger)
            .bind(&e.event_notification_type)
            .bind(&e.component)
            .bind(e.evse_id)
            .bind(e.connector_id)
            .bind(&e.variable)
            .bind(&e.actual_value)
            .bind(e.cleared.map(i64::from))
            .bind(&e.data)
            .execute(&mut *conn)
            .await?;
        }
        Write::SecurityEvent(e) => {
            sqlx::query(
                "INSERT INTO security_events (station_id, type, timestamp, tech_info, received_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(e.station_id.as_str())
            .bind(&e.kind)
            .bind(timestamp(&e.timestamp))
            .bind(&e.tech_info)
            .bind(timestamp(&e.received_at))
            .execute(&mut *conn)
            .await?;
        }
        Write::Command(c) => {
            sqlx::query(
                "INSERT INTO commands (station_id, action, request, outcome, response,
                    requested_by, sent_at, completed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(c.station_id.as_str())
            .bind(&c.action)
            .bind(&c.request)
            .bind(&c.outcome)
            .bind(&c.response)
            .bind(&c.requested_by)
            .bind(timestamp(&c.sent_at))
            .bind(timestamp(&c.completed_at))
            .execute(&mut *conn)
            .await?;
        }
        Write::StationNotice(n) => {
            sqlx::query(
                "INSERT INTO station_notices (station_id, kind, status, request_id, data,
                    received_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(n.station_id.as_str())
            .bind(&n.kind)
            .bind(&n.status)
            .bind(n.request_id)
            .bind(&n.data)
            .bind(timestamp(&n.received_at))
            .execute(&mut *conn)
            .await?;
        }
        Write::Variable(v) => {
            sqlx::query(
                "INSERT INTO device_model (station_id, component, component_instance, evse_id,
                    connector_id, variable, variable_instance, attribute_type, value, mutability,
                    source, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (station_id, component, component_instance, evse_id, connector_id,
                    variable, variable_instance, attribute_type)
                 DO UPDATE SET value = excluded.value,
                    mutability = COALESCE(excluded.mutability, device_model.mutability),
                    source = excluded.source, updated_at = excluded.updated_at",
            )
            .bind(v.station_id.as_str())
            .bind(&v.component)
            .bind(v.component_instance.as_deref().unwrap_or(""))
            .bind(v.evse_id.unwrap_or(-1))
            .bind(v.connector_id.unwrap_or(-1))
            .bind(&v.variable)
            .bind(v.variable_instance.as_deref().unwrap_or(""))
            .bind(&v.attribute_type)
            .bind(&v.value)
            .bind(&v.mutability)
            .bind(&v.source)
            .bind(timestamp(&v.updated_at))
            .execute(&mut *conn)
            .await?;
        }
        Write::ReportPart(p) => {
            // SQLite's INSERT OR REPLACE: a part sent again replaces the stored one.
            sqlx::query(
                "INSERT INTO report_parts
                    (station_id, request_id, seq_no, tbc, generated_at, report_data)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (station_id, request_id, seq_no) DO UPDATE SET
                    tbc = excluded.tbc, generated_at = excluded.generated_at,
                    report_data = excluded.report_data",
            )
            .bind(p.station_id.as_str())
            .bind(p.request_id)
            .bind(p.seq_no)
            .bind(i64::from(p.tbc))
            .bind(timestamp(&p.generated_at))
            .bind(&p.report_data)
            .execute(&mut *conn)
            .await?;
            if !p.tbc {
                sqlx::query(
                    "UPDATE reports SET complete = 1 WHERE station_id = $1 AND request_id = $2",
                )
                .bind(p.station_id.as_str())
                .bind(p.request_id)
                .execute(&mut *conn)
                .await?;
            }
        }
        Write::IssuedCertificate(c) => {
            sqlx::query(
                "INSERT INTO station_certificates (station_id, serial, subject, not_after,
                    certificate, issued_at, station_status, certificate_type)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(c.station_id.as_str())
            .bind(&c.serial)
            .bind(&c.subject)
            .bind(timestamp(&c.not_after))
            .bind(&c.certificate)
            .bind(timestamp(&c.issued_at))
            .bind(&c.station_status)
            .bind(&c.certificate_type)
            .execute(&mut *conn)
            .await?;
        }
        Write::TransactionEvent(e) => transaction_event(conn, e).await?,
        Write::MeterValue(m) => super::meter_readings::insert(conn, &[m]).await?,
        Write::TransactionFacts(f) => super::charging::apply_transaction_facts(conn, f).await?,
        Write::ChargeRecord(record) => super::charging::insert_charge_record(conn, record).await?,
        Write::Ledger(request) => {
            super::ledger::apply(conn, request).await?;
        }
        Write::LedgerUnchanged { account, seq } => {
            super::ledger::check_unchanged(conn, account, *seq).await?
        }
        Write::Answer(a) => {
            // SQLite's INSERT OR REPLACE: the newest answer to a message id wins.
            sqlx::query(
                "INSERT INTO answers
                    (station_id, message_id, action, request_hash, response, answered_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (station_id, message_id) DO UPDATE SET
                    action = excluded.action, request_hash = excluded.request_hash,
                    response = excluded.response, answered_at = excluded.answered_at",
            )
            .bind(a.station_id.as_str())
            .bind(&a.message_id)
            .bind(&a.action)
            .bind(&a.request_hash)
            .bind(&a.response)
            .bind(timestamp(&a.answered_at))
            .execute(&mut *conn)
            .await?;
        }
        Write::ReservationStatus {
            station_id,
            reservation_id,
            status,
        } => super::control::reservation_status(conn, station_id, *reservation_id, status).await?,
        Write::TrackedPart(p) => super::tracked::insert_part(conn, p).await?,
        Write::VariableMonitor(m) => super::tracked::upsert_monitor(conn, m).await?,
        Write::DisplayMessageReportPart(p) => super::display::insert_report_part(conn, p).await?,
        // Diameter, EFC, smart charging (pg-usage)
        Write::RoSession(s) => super::ro::put_session(conn, s).await?,
        Write::RoAnswer(a) => super::ro::put_answer(conn, a).await?,
        Write::AccountingRecord(r) => super::diameter::insert_record(conn, r).await?,
        Write::AccountingSessionClosed {
            session_id,
            reason,
            at,
        } => super::diameter::close_session(conn, session_id, reason, at).await?,
        Write::EfcReport(r) => super::efc::insert_report(conn, r).await?,
        Write::ChargingProfileReportPart(p) => {
            super::smart_charging::insert_report_part(conn, p).await?
        }
        Write::ChargingLimit(l) => super::smart_charging::upsert_limit(conn, l).await?,
        Write::ChargingLimitCleared {
            station_id,
            evse_id,
            source,
            at,
        } => super::smart_charging::clear_limit(conn, station_id, *evse_id, source, at).await?,
    }
    Ok(())
}

/// The event row, then its transaction created or updated — once per (station, transaction,
/// seqNo): a retransmitted event changes nothing.
///
/// A chargingState that is a plug-state change is folded into the transaction's running
/// metered-usage aggregate (`super::metered_usage`), as SQLite does.
async fn transaction_event(conn: &mut PgConnection, e: &TransactionEventRecord) -> Result<()> {
    let inserted = sqlx::query(
        "INSERT INTO transaction_events (station_id, transaction_id, seq_no, event_type,
            trigger_reason, timestamp, offline, data, meter_value_count, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (station_id, transaction_id, seq_no) DO NOTHING",
    )
    .bind(e.station_id.as_str())
    .bind(&e.transaction_id)
    .bind(e.seq_no)
    .bind(&e.event_type)
    .bind(&e.trigger_reason)
    .bind(timestamp(&e.timestamp))
    .bind(i64::from(e.offline))
    .bind(&e.data)
    .bind(e.meter_values)
    .bind(timestamp(&e.received_at))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        // The same seqNo again: a duplicate, already counted.
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO transactions (station_id, transaction_id, evse_id, connector_id,
            id_token, started_at, ended_at, charging_state, stopped_reason, last_seq_no,
            events, started_unseen)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11)
         ON CONFLICT (station_id, transaction_id) DO UPDATE SET
            -- Offline events may arrive late: what changes over time follows the
            -- highest seqNo, not the arrival order; the token that started it is kept.
            evse_id = COALESCE(transactions.evse_id, excluded.evse_id),
            connector_id = COALESCE(transactions.connector_id, excluded.connector_id),
            id_token = COALESCE(transactions.id_token, excluded.id_token),
            started_at = LEAST(transactions.started_at, excluded.started_at),
            ended_at = COALESCE(excluded.ended_at, transactions.ended_at),
            charging_state = CASE WHEN excluded.last_seq_no >= transactions.last_seq_no
                THEN COALESCE(excluded.charging_state, transactions.charging_state)
                ELSE transactions.charging_state END,
            stopped_reason = COALESCE(excluded.stopped_reason, transactions.stopped_reason),
            last_seq_no = GREATEST(transactions.last_seq_no, excluded.last_seq_no),
            events = transactions.events + 1,
            started_unseen = CASE WHEN $12 = 'Started' THEN 0
                ELSE transactions.started_unseen END",
    )
    .bind(e.station_id.as_str())
    .bind(&e.transaction_id)
    .bind(e.evse_id)
    .bind(e.connector_id)
    .bind(&e.id_token)
    .bind(timestamp(&e.timestamp))
    .bind((e.event_type == "Ended").then(|| timestamp(&e.timestamp)))
    .bind(&e.charging_state)
    .bind(&e.stopped_reason)
    .bind(e.seq_no)
    .bind(i64::from(e.event_type != "Started"))
    .bind(&e.event_type)
    .execute(&mut *conn)
    .await?;
    if let Some(state) = e.charging_state.as_deref().and_then(plug_state) {
        let change = SequencedChange {
            seq_no: e.seq_no,
            change: StateChange {
                timestamp: e.timestamp,
                state,
            },
        };
        let input = crate::metered::Input::Change(&change);
        super::metered_usage::fold(conn, &e.station_id, &e.transaction_id, input).await?;
    }
    Ok(())
}
