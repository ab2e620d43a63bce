//! B02 "Cold Boot Charging Station – Pending": a provisioning step before a station is Accepted.
//!
//! When `boot_provisioning_report` is configured, a registered station that was never provisioned
//! is answered Pending at its boot. Once that answer is sent, the CSMS asks it for the configured
//! base report; when the report is complete (its last NotifyReport part), the station is marked
//! provisioned and told to boot again (TriggerMessage BootNotification), and that boot is
//! Accepted. A station that refuses or cannot deliver the report is not held back forever: it is
//! marked provisioned with a warning, and accepted.

use chrono::Utc;
use serde_json::json;
use unicharge_core::StationId;
use unicharge_store::{ReportRecord, Store};

use crate::connection::ConnectionHandle;
use crate::dispatch::StationContext;

/// True when this boot must be answered Pending for provisioning.
pub fn pending(ctx: &StationContext, provisioned: bool) -> bool {
    ctx.registered && !provisioned && ctx.config.boot_provisioning_report.is_some()
}

/// After the Pending answer: request the report (runs after the answer has left).
pub fn start(ctx: &StationContext) {
    let (Some(connection), Some(report_base)) = (
        ctx.connection.clone(),
        ctx.config.boot_provisioning_report.clone(),
    ) else {
        return;
    };
    let store = ctx.store.clone();
    let station = ctx.station_id.clone();
    tokio::spawn(async move {
        if let Err(reason) = request_report(&*store, &connection, &station, &report_base).await {
            tracing::warn!(station = %station, "provisioning report not delivered ({reason}); accepting the station without it");
            finish(&*store, &connection, &station).await;
        }
    });
}

async fn request_report(
    store: &dyn Store,
    connection: &ConnectionHandle,
    station: &StationId,
    report_base: &str,
) -> Result<(), String> {
    let request_id = store
        .next_report_request_id(station)
        .await
        .map_err(|e| e.to_string())?;
    let request = json!({"requestId": request_id, "reportBase": report_base});
    store
        .create_report(&ReportRecord {
            station_id: station.clone(),
            request_id,
            request: request.to_string(),
            status: None,
            complete: false,
            requested_at: Utc::now(),
        })
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(station = %station, request_id, report_base, "provisioning: requesting the base report");
    let answer = connection
        .call("GetBaseReport", request)
        .await
        .map_err(|e| e.to_string())?;
    let status = answer["status"].as_str().unwrap_or("");
    let _ = store.set_report_status(station, request_id, status).await;
    if status == "Accepted" {
        Ok(())
    } else {
        Err(format!("GetBaseReport answered {status}"))
    }
}

/// A report completed: if the station was waiting for provisioning, let it in.
pub fn report_completed(ctx: &StationContext) {
    if ctx.config.boot_provisioning_report.is_none() || !ctx.registered {
        return;
    }
    let Some(connection) = ctx.connection.clone() else {
        return;
    };
    let store = ctx.store.clone();
    let station = ctx.station_id.clone();
    tokio::spawn(async move {
        let waiting =
            matches!(store.get_station(&station).await, Ok(Some(s)) if s.provisioned_at.is_none());
        if waiting {
            finish(&*store, &connection, &station).await;
        }
    });
}

async fn finish(store: &dyn Store, connection: &ConnectionHandle, station: &StationId) {
    if let Err(e) = store.set_provisioned(station, Utc::now()).await {
        tracing::error!(station = %station, error = %e, "could not record provisioning");
        return;
    }
    tracing::info!(station = %station, "provisioned; asking the station to boot again");
    if let Err(e) = connection
        .call(
            "TriggerMessage",
            json!({"requestedMessage": "BootNotification"}),
        )
        .await
    {
        tracing::warn!(station = %station, error = %e, "TriggerMessage BootNotification failed; the station is accepted at its next boot");
    }
}
