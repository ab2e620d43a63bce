//! BootNotification (B01 Cold Boot, B02 Pending, B03 Rejected; TC_B_01).
//!
//! The answer follows the station's registration: Accepted stations get the heartbeat interval;
//! Pending and Rejected ones the retry interval, after which they boot again. What the station
//! says it is (model, vendor, serial, firmware) is stored with the answer given.

use chrono::Utc;
use unicharge_core::RegistrationStatus;
use unicharge_ocpp::v201::{
    BootNotificationRequest, BootNotificationResponse, RegistrationStatusEnumType,
};
use unicharge_store::Write;

use super::pending_boot;
use crate::dispatch::{internal, CallRefusal, Handled, StationContext};
use crate::effects::Effect;
use crate::facts::Fact;

pub async fn handle(
    ctx: &mut StationContext,
    req: BootNotificationRequest,
) -> Result<Handled<BootNotificationResponse>, CallRefusal> {
    // The registration can change while connected (an operator accepts a pending station), so
    // read it fresh rather than from the connection's start.
    let stored = if ctx.registered {
        ctx.store
            .get_station(&ctx.station_id)
            .await
            .map_err(internal)?
    } else {
        None
    };
    let mut registration = stored
        .as_ref()
        .map(|s| s.registration)
        .unwrap_or(RegistrationStatus::Rejected);
    let provisioning = registration == RegistrationStatus::Accepted
        && pending_boot::pending(
            ctx,
            stored.as_ref().is_some_and(|s| s.provisioned_at.is_some()),
        );
    if provisioning {
        // B02: Pending until the provisioning report is in; it is requested after this answer.
        registration = RegistrationStatus::Pending;
    }
    let (status, interval) = match registration {
        RegistrationStatus::Accepted => (
            RegistrationStatusEnumType::Accepted,
            ctx.config.heartbeat_interval,
        ),
        RegistrationStatus::Pending => (
            RegistrationStatusEnumType::Pending,
            ctx.config.boot_retry_interval,
        ),
        RegistrationStatus::Rejected => (
            RegistrationStatusEnumType::Rejected,
            ctx.config.boot_retry_interval,
        ),
    };
    let now = Utc::now();
    let station = &req.charging_station;
    if !ctx.registered {
        tracing::warn!(station = %ctx.station_id, model = %station.model, vendor = %station.vendor_name,
            serial = station.serial_number.as_deref().unwrap_or("-"),
            "BootNotification from an unregistered station: Rejected (register it with `unicharge station add`)");
    }
    tracing::info!(station = %ctx.station_id, reason = req.reason.as_str(), model = %station.model,
        vendor = %station.vendor_name, status = registration.as_str(), "BootNotification");
    let writes = vec![Write::StationBooted {
        station_id: ctx.station_id.clone(),
        at: now,
        reason: req.reason.as_str().to_string(),
        model: station.model.clone(),
        vendor_name: station.vendor_name.clone(),
        serial_number: station.serial_number.clone(),
        firmware_version: station.firmware_version.clone(),
        status: registration,
    }];
    ctx.boot_status = Some(registration);
    if registration != RegistrationStatus::Pending {
        // What was solicited while Pending is not needed any more (B02.FR.09).
        ctx.solicited.clear();
    }
    let mut handled = Handled::durable(
        BootNotificationResponse {
            current_time: now,
            interval: i64::try_from(interval.as_secs()).unwrap_or(i64::MAX),
            status,
            status_info: None,
            custom_data: None,
        },
        writes,
    );
    if ctx.registered {
        handled = handled.with_fact(Fact::StationBooted {
            station: ctx.station_id.clone(),
            status: registration,
        });
    }
    if provisioning {
        handled = handled.with_effect(Effect::RequestProvisioningReport);
    }
    if ctx.registered && registration == RegistrationStatus::Accepted && !ctx.status_check_scheduled
    {
        // E14: only an Accepted station is asked about its transactions.
        ctx.status_check_scheduled = true;
        let connected_at = ctx.connection.as_ref().map_or(now, |c| c.connected_at);
        handled = handled.with_effect(Effect::TransactionStatusCheck { connected_at });
    }
    Ok(handled)
}
