//! The group-commit writer.
//!
//! One task owns the only write connection. It takes the first waiting job, drains whatever else
//! is already queued (up to `max_batch`), and commits them all in one `BEGIN IMMEDIATE … COMMIT`.
//! Each job runs inside its own SAVEPOINT, so one job's failure (a constraint, say) rolls back
//! that job only and is reported to its caller alone. With N stations writing at once the disk
//! sees one fsync per batch instead of N.

use sqlx::{Executor, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use unicharge_core::metering::{plug_state, SequencedChange, StateChange};

use crate::{Result, StoreError, Write};

/// Group-commit settings.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Most jobs committed in one transaction.
    pub max_batch: usize,
    /// Jobs that may wait for the writer before callers are slowed down (back-pressure).
    pub queue: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch: 512,
            queue: 8192,
        }
    }
}

/// One caller's atomic batch and where to report its outcome.
pub struct Job {
    pub batch: Vec<Write>,
    pub done: oneshot::Sender<Result<()>>,
}

pub fn spawn(conn: SqliteConnection, config: WriterConfig) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel(config.queue);
    tokio::spawn(run(conn, rx, config.max_batch.max(1)));
    tx
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
    let mut jobs = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut jobs, max_batch).await > 0 {
        let outcomes = commit_batch(&mut conn, &jobs).await;
        metrics::histogram!("store_group_commit_jobs").record(jobs.len() as f64);
        for (job, outcome) in jobs.drain(..).zip(outcomes) {
            // The caller may have gone away (its station disconnected): nothing to tell.
            let _ = job.done.send(outcome);
        }
    }
}

/// Commit every job's writes; one outcome per job, in order.
async fn commit_batch(conn: &mut SqliteConnection, jobs: &[Job]) -> Vec<Result<()>> {
    if let Err(e) = conn.execute("BEGIN IMMEDIATE").await {
        tracing::error!(error = %e, "store writer could not begin a transaction");
        return jobs.iter().map(|_| Err(clone_error(&e))).collect();
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        outcomes.push(apply_job(conn, &job.batch).await);
    }
    if let Err(e) = conn.execute("COMMIT").await {
        tracing::error!(error = %e, "store writer could not commit; the batch is lost");
        let _ = conn.execute("ROLLBACK").await;
        return jobs.iter().map(|_| Err(clone_error(&e))).collect();
    }
    outcomes
}

async fn apply_job(conn: &mut SqliteConnection, batch: &[Write]) -> Result<()> {
    conn.execute("SAVEPOINT job").await?;
    for write in batch {
        if let Err(e) = apply(conn, write).await {
            tracing::warn!(error = %e, "a store write failed; its batch is rolled back");
            conn.execute("ROLLBACK TO job").await?;
            conn.execute("RELEASE job").await?;
            return Err(e);
        }
    }
    conn.execute("RELEASE job").await?;
    Ok(())
}

async fn apply(conn: &mut SqliteConnection, write: &Write) -> Result<()> {
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
                "UPDATE stations SET model = ?, vendor_name = ?, serial_number = ?,
                    firmware_version = ?, last_boot_at = ?, last_boot_reason = ?,
                    last_boot_status = ?, last_seen_at = ?
                 WHERE id = ?",
            )
            .bind(model)
            .bind(vendor_name)
            .bind(serial_number)
            .bind(firmware_version)
            .bind(at)
            .bind(reason)
            .bind(status.as_str())
            .bind(at)
            .bind(station_id.as_str())
            .execute(&mut *conn)
            .await?;
        }
        Write::Connection {
            station_id,
            at,
            connected,
        } => {
            sqlx::query("UPDATE stations SET connected = ?, last_seen_at = ? WHERE id = ?")
                .bind(i64::from(*connected))
                .bind(at)
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
                 VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (station_id, evse_id, connector_id)
                 DO UPDATE SET status = excluded.status, status_at = excluded.status_at",
            )
            .bind(station_id.as_str())
            .bind(evse_id)
            .bind(connector_id)
            .bind(status)
            .bind(at)
            .execute(&mut *conn)
            .await?;
        }
        Write::Event(e) => {
            sqlx::query(
                "INSERT INTO events (station_id, generated_at, report_seq_no, event_id, timestamp,
                    trigger, event_notification_type, component, evse_id, connector_id, variable,
                    actual_value, cleared, data)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(e.station_id.as_str())
            .bind(e.generated_at)
            .bind(e.report_seq_no)
            .bind(e.event_id)
            .bind(e.timestamp)
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
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(e.station_id.as_str())
            .bind(&e.kind)
            .bind(e.timestamp)
            .bind(&e.tech_info)
            .bind(e.received_at)
            .execute(&mut *conn)
            .await?;
        }
        Write::Command(c) => {
            sqlx::query(
                "INSERT INTO commands (station_id, action, request, outcome, response,
                    requested_by, sent_at, completed_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(c.station_id.as_str())
            .bind(&c.action)
            .bind(&c.request)
            .bind(&c.outcome)
            .bind(&c.response)
            .bind(&c.requested_by)
            .bind(c.sent_at)
            .bind(c.completed_at)
            .execute(&mut *conn)
            .await?;
        }
        Write::Variable(v) => {
            sqlx::query(
                "INSERT INTO device_model (station_id, component, component_instance, evse_id,
                    connector_id, variable, variable_instance, attribute_type, value, mutability,
                    source, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
            .bind(v.updated_at)
            .execute(&mut *conn)
            .await?;
        }
        Write::ReportPart(p) => {
            sqlx::query(
                "INSERT OR REPLACE INTO report_parts
                    (station_id, request_id, seq_no, tbc, generated_at, report_data)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(p.station_id.as_str())
            .bind(p.request_id)
            .bind(p.seq_no)
            .bind(i64::from(p.tbc))
            .bind(p.generated_at)
            .bind(&p.report_data)
            .execute(&mut *conn)
            .await?;
            if !p.tbc {
                sqlx::query(
                    "UPDATE reports SET complete = 1 WHERE station_id = ? AND request_id = ?",
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
                    certificate, issued_at, station_status)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(c.station_id.as_str())
            .bind(&c.serial)
            .bind(&c.subject)
            .bind(c.not_after)
            .bind(&c.certificate)
            .bind(c.issued_at)
            .bind(&c.station_status)
            .execute(&mut *conn)
            .await?;
        }
        Write::TransactionEvent(e) => {
            let inserted = sqlx::query(
                "INSERT OR IGNORE INTO transaction_events (station_id, transaction_id, seq_no,
                    event_type, trigger_reason, timestamp, offline, data, received_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(e.station_id.as_str())
            .bind(&e.transaction_id)
            .bind(e.seq_no)
            .bind(&e.event_type)
            .bind(&e.trigger_reason)
            .bind(e.timestamp)
            .bind(i64::from(e.offline))
            .bind(&e.data)
            .bind(e.received_at)
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
            )
            .bind(e.station_id.as_str())
            .bind(&e.transaction_id)
            .bind(e.evse_id)
            .bind(e.connector_id)
            .bind(&e.id_token)
            .bind(e.timestamp)
            .bind((e.event_type == "Ended").then_some(e.timestamp))
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
                let input = super::metered_usage::Input::Change(&change);
                super::metered_usage::fold(conn, &e.station_id, &e.transaction_id, input).await?;
            }
        }
        Write::TransactionFacts(f) => super::charging::apply_transaction_facts(conn, f).await?,
        Write::MeterValue(m) => super::charging::insert_meter_value(conn, m).await?,
        Write::ReservationStatus {
            station_id,
            reservation_id,
            status,
        } => {
            sqlx::query(
                "UPDATE reservations SET status = ?, updated_at = ?
                 WHERE station_id = ? AND id = ? AND status NOT IN ('Used', 'Cancelled')",
            )
            .bind(status)
            .bind(chrono::Utc::now())
            .bind(station_id.as_str())
            .bind(reservation_id)
            .execute(&mut *conn)
            .await?;
        }
        Write::StationNotice(n) => {
            sqlx::query(
                "INSERT INTO station_notices (station_id, kind, status, request_id, data, received_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(n.station_id.as_str())
            .bind(&n.kind)
            .bind(&n.status)
            .bind(n.request_id)
            .bind(&n.data)
            .bind(n.received_at)
            .execute(&mut *conn)
            .await?;
        }
        Write::ChargeRecord(record) => super::charging::insert_charge_record(conn, record).await?,
        Write::Answer(a) => {
            sqlx::query(
                "INSERT OR REPLACE INTO answers
                    (station_id, message_id, action, request_hash, response, answered_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(a.station_id.as_str())
            .bind(&a.message_id)
            .bind(&a.action)
            .bind(&a.request_hash)
            .bind(&a.response)
            .bind(a.answered_at)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// sqlx errors are not `Clone`; every job of a failed batch gets the same message.
fn clone_error(e: &sqlx::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(e.to_string()))
}
