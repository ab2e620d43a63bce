//! One [`Write`] as SQL on the writer's connection, inside the batch's transaction.
//!
//! Every statement is `prepare_cached`: after the first batch each write is a bind and a step
//! on this thread, no parse and no hop to another thread. Timestamps are bound in sqlx's text
//! form ([`columns::timestamp`]) so the pool reads and compares them as before.

use std::collections::HashSet;

use rusqlite::{params, Connection};
use unicharge_core::metering::{plug_state, SequencedChange, StateChange};
use unicharge_core::StationId;

use super::cache::TransactionKey;
use super::columns::timestamp;
use crate::{Result, Write};

/// What a job changed in the cached tables, refreshed after the commit.
#[derive(Default)]
pub(super) struct Touched {
    pub stations: HashSet<StationId>,
    pub transactions: HashSet<TransactionKey>,
    /// Answers stored, in commit order.
    pub answers: Vec<(StationId, String)>,
    /// Core-ledger accounts a movement changed.
    pub ledger_accounts: HashSet<String>,
}

impl Touched {
    pub fn merge(&mut self, other: Touched) {
        self.stations.extend(other.stations);
        self.transactions.extend(other.transactions);
        self.answers.extend(other.answers);
        self.ledger_accounts.extend(other.ledger_accounts);
    }
}

/// Apply a job's writes in order. Consecutive sampledValues of one meterValue (same station,
/// EVSE, transaction and timestamp) are stored together, as the one packed row they become.
pub(super) fn apply_all(conn: &Connection, writes: &[Write], touched: &mut Touched) -> Result<()> {
    let mut rest = writes;
    while let Some((first, tail)) = rest.split_first() {
        let Write::MeterValue(m) = first else {
            apply(conn, first, touched)?;
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
        meter_values(conn, &group, touched)?;
        rest = &rest[len..];
    }
    Ok(())
}

fn meter_values(
    conn: &Connection,
    group: &[&crate::MeterValueRecord],
    touched: &mut Touched,
) -> Result<()> {
    super::meter_readings::insert(conn, group)?;
    for m in group {
        if let Some(transaction_id) = &m.transaction_id {
            touched
                .transactions
                .insert((m.station_id.clone(), transaction_id.clone()));
        }
    }
    Ok(())
}

pub(super) fn apply(conn: &Connection, write: &Write, touched: &mut Touched) -> Result<()> {
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
            conn.prepare_cached(
                "UPDATE stations SET model = ?, vendor_name = ?, serial_number = ?,
                    firmware_version = ?, last_boot_at = ?, last_boot_reason = ?,
                    last_boot_status = ?, last_seen_at = ?
                 WHERE id = ?",
            )?
            .execute(params![
                model,
                vendor_name,
                serial_number,
                firmware_version,
                timestamp(at),
                reason,
                status.as_str(),
                timestamp(at),
                station_id.as_str(),
            ])?;
            touched.stations.insert(station_id.clone());
        }
        Write::Connection {
            station_id,
            at,
            connected,
        } => {
            conn.prepare_cached(
                "UPDATE stations SET connected = ?, last_seen_at = ? WHERE id = ?",
            )?
            .execute(params![
                i64::from(*connected),
                timestamp(at),
                station_id.as_str()
            ])?;
            touched.stations.insert(station_id.clone());
        }
        Write::StationOcppVersion {
            station_id,
            version,
        } => {
            conn.prepare_cached("UPDATE stations SET ocpp_version = ? WHERE id = ?")?
                .execute(params![version, station_id.as_str()])?;
            touched.stations.insert(station_id.clone());
        }
        Write::ConnectorStatus {
            station_id,
            evse_id,
            connector_id,
            status,
            at,
        } => {
            conn.prepare_cached(
                "INSERT INTO connectors (station_id, evse_id, connector_id, status, status_at)
                 VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (station_id, evse_id, connector_id)
                 DO UPDATE SET status = excluded.status, status_at = excluded.status_at",
            )?
            .execute(params![
                station_id.as_str(),
                evse_id,
                connector_id,
                status,
                timestamp(at)
            ])?;
        }
        Write::Event(e) => {
            conn.prepare_cached(
                "INSERT INTO events (station_id, generated_at, report_seq_no, event_id, timestamp,
                    trigger, event_notification_type, component, evse_id, connector_id, variable,
                    actual_value, cleared, data)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                e.station_id.as_str(),
                timestamp(&e.generated_at),
                e.report_seq_no,
                e.event_id,
                timestamp(&e.timestamp),
                e.trigger,
                e.event_notification_type,
                e.component,
                e.evse_id,
                e.connector_id,
                e.variable,
                e.actual_value,
                e.cleared.map(i64::from),
                e.data,
            ])?;
        }
        Write::SecurityEvent(e) => {
            conn.prepare_cached(
                "INSERT INTO security_events (station_id, type, timestamp, tech_info, received_at)
                 VALUES (?, ?, ?, ?, ?)",
            )?
            .execute(params![
                e.station_id.as_str(),
                e.kind,
                timestamp(&e.timestamp),
                e.tech_info,
                timestamp(&e.received_at),
            ])?;
        }
        Write::Command(c) => {
            conn.prepare_cached(
                "INSERT INTO commands (station_id, action, request, outcome, response,
                    requested_by, sent_at, completed_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                c.station_id.as_str(),
                c.action,
                c.request,
                c.outcome,
                c.response,
                c.requested_by,
                timestamp(&c.sent_at),
                timestamp(&c.completed_at),
            ])?;
        }
        Write::Variable(v) => {
            conn.prepare_cached(
                "INSERT INTO device_model (station_id, component, component_instance, evse_id,
                    connector_id, variable, variable_instance, attribute_type, value, mutability,
                    source, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (station_id, component, component_instance, evse_id, connector_id,
                    variable, variable_instance, attribute_type)
                 DO UPDATE SET value = excluded.value,
                    mutability = COALESCE(excluded.mutability, device_model.mutability),
                    source = excluded.source, updated_at = excluded.updated_at",
            )?
            .execute(params![
                v.station_id.as_str(),
                v.component,
                v.component_instance.as_deref().unwrap_or(""),
                v.evse_id.unwrap_or(-1),
                v.connector_id.unwrap_or(-1),
                v.variable,
                v.variable_instance.as_deref().unwrap_or(""),
                v.attribute_type,
                v.value,
                v.mutability,
                v.source,
                timestamp(&v.updated_at),
            ])?;
        }
        Write::ReportPart(p) => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO report_parts
                    (station_id, request_id, seq_no, tbc, generated_at, report_data)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                p.station_id.as_str(),
                p.request_id,
                p.seq_no,
                i64::from(p.tbc),
                timestamp(&p.generated_at),
                p.report_data,
            ])?;
            if !p.tbc {
                conn.prepare_cached(
                    "UPDATE reports SET complete = 1 WHERE station_id = ? AND request_id = ?",
                )?
                .execute(params![p.station_id.as_str(), p.request_id])?;
            }
        }
        Write::IssuedCertificate(c) => {
            conn.prepare_cached(
                "INSERT INTO station_certificates (station_id, serial, subject, not_after,
                    certificate, issued_at, station_status, certificate_type)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                c.station_id.as_str(),
                c.serial,
                c.subject,
                timestamp(&c.not_after),
                c.certificate,
                timestamp(&c.issued_at),
                c.station_status,
                c.certificate_type,
            ])?;
        }
        Write::TransactionEvent(e) => transaction_event(conn, e, touched)?,
        Write::TransactionFacts(f) => {
            super::charging::apply_transaction_facts(conn, f)?;
            touched
                .transactions
                .insert((f.station_id.clone(), f.transaction_id.clone()));
        }
        Write::MeterValue(m) => meter_values(conn, &[m], touched)?,
        Write::ReservationStatus {
            station_id,
            reservation_id,
            status,
        } => {
            conn.prepare_cached(
                "UPDATE reservations SET status = ?, updated_at = ?
                 WHERE station_id = ? AND id = ? AND status NOT IN ('Used', 'Cancelled')",
            )?
            .execute(params![
                status,
                timestamp(&chrono::Utc::now()),
                station_id.as_str(),
                reservation_id,
            ])?;
        }
        Write::StationNotice(n) => {
            conn.prepare_cached(
                "INSERT INTO station_notices (station_id, kind, status, request_id, data, received_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                n.station_id.as_str(),
                n.kind,
                n.status,
                n.request_id,
                n.data,
                timestamp(&n.received_at),
            ])?;
        }
        Write::ChargeRecord(record) => super::charging::insert_charge_record(conn, record)?,
        Write::EfcReport(report) => super::efc::insert_report(conn, report)?,
        Write::Ledger(request) => {
            super::ledger::apply(conn, request)?;
            touched.ledger_accounts.insert(request.account.clone());
        }
        Write::ChargingProfileReportPart(p) => super::smart_charging::insert_report_part(conn, p)?,
        Write::TrackedPart(p) => super::tracked::insert_part(conn, p)?,
        Write::VariableMonitor(m) => super::tracked::upsert_monitor(conn, m)?,
        Write::ChargingLimit(l) => super::smart_charging::upsert_limit(conn, l)?,
        Write::DisplayMessageReportPart(p) => super::display::insert_report_part(conn, p)?,
        Write::ChargingLimitCleared {
            station_id,
            evse_id,
            source,
            at,
        } => super::smart_charging::clear_limit(conn, station_id, *evse_id, source, at)?,
        Write::AccountingRecord(r) => {
            let inserted = conn.prepare_cached(
                "INSERT INTO diameter_accounting_records
                    (session_id, record_number, record_type, origin_host, origin_realm, received_at, data)
                 VALUES (?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (session_id, record_number) DO NOTHING",
            )?
            .execute(params![
                r.session_id,
                r.record_number,
                r.record_type,
                r.origin_host,
                r.origin_realm,
                timestamp(&r.received_at),
                serde_json::to_string(&r.data)
                    .map_err(|e| crate::StoreError::Corrupt(format!("accounting data: {e}")))?,
            ])?;
            if inserted == 1 {
                super::diameter::session_after_record(conn, r)?;
            }
        }
        Write::AccountingSessionClosed {
            session_id,
            reason,
            at,
        } => super::diameter::close_session(conn, session_id, reason, at)?,
        Write::LedgerUnchanged { account, seq } => {
            super::ledger::check_unchanged(conn, account, *seq)?
        }
        Write::RoSession(s) => super::ro::put_session(conn, s)?,
        Write::RoAnswer(a) => super::ro::put_answer(conn, a)?,
        Write::Answer(a) => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO answers
                    (station_id, message_id, action, request_hash, response, answered_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                a.station_id.as_str(),
                a.message_id,
                a.action,
                a.request_hash,
                a.response,
                timestamp(&a.answered_at),
            ])?;
            touched
                .answers
                .push((a.station_id.clone(), a.message_id.clone()));
        }
    }
    Ok(())
}

fn transaction_event(
    conn: &Connection,
    e: &crate::TransactionEventRecord,
    touched: &mut Touched,
) -> Result<()> {
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO transaction_events (station_id, transaction_id, seq_no,
                event_type, trigger_reason, timestamp, offline, data, meter_value_count,
                received_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?
        .execute(params![
            e.station_id.as_str(),
            e.transaction_id,
            e.seq_no,
            e.event_type,
            e.trigger_reason,
            timestamp(&e.timestamp),
            i64::from(e.offline),
            e.data,
            e.meter_values,
            timestamp(&e.received_at),
        ])?;
    if inserted == 0 {
        // The same seqNo again: a duplicate, already counted.
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO transactions (station_id, transaction_id, evse_id, connector_id,
            id_token, started_at, ended_at, charging_state, stopped_reason, last_seq_no,
            events, started_unseen)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
         ON CONFLICT (station_id, transaction_id) DO UPDATE SET
            -- Offline events may arrive late: what changes over time follows the
            -- highest seqNo, not the arrival order; the token that started it is kept.
            evse_id = COALESCE(transactions.evse_id, excluded.evse_id),
            connector_id = COALESCE(transactions.connector_id, excluded.connector_id),
            id_token = COALESCE(transactions.id_token, excluded.id_token),
            started_at = MIN(transactions.started_at, excluded.started_at),
            ended_at = COALESCE(excluded.ended_at, transactions.ended_at),
            charging_state = CASE WHEN excluded.last_seq_no >= transactions.last_seq_no
                THEN COALESCE(excluded.charging_state, transactions.charging_state)
                ELSE transactions.charging_state END,
            stopped_reason = COALESCE(excluded.stopped_reason, transactions.stopped_reason),
            last_seq_no = MAX(transactions.last_seq_no, excluded.last_seq_no),
            events = transactions.events + 1,
            started_unseen = CASE WHEN ? = 'Started' THEN 0 ELSE transactions.started_unseen END",
    )?
    .execute(params![
        e.station_id.as_str(),
        e.transaction_id,
        e.evse_id,
        e.connector_id,
        e.id_token,
        timestamp(&e.timestamp),
        (e.event_type == "Ended").then(|| timestamp(&e.timestamp)),
        e.charging_state,
        e.stopped_reason,
        e.seq_no,
        i64::from(e.event_type != "Started"),
        e.event_type,
    ])?;
    if let Some(state) = e.charging_state.as_deref().and_then(plug_state) {
        let change = SequencedChange {
            seq_no: e.seq_no,
            change: StateChange {
                timestamp: e.timestamp,
                state,
            },
        };
        let input = super::metered_usage::Input::Change(&change);
        super::metered_usage::fold(conn, &e.station_id, &e.transaction_id, input)?;
    }
    touched
        .transactions
        .insert((e.station_id.clone(), e.transaction_id.clone()));
    Ok(())
}
