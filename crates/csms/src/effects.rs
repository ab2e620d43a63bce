//! Effects: what a handler wants done after its answer is durable and sent.
//!
//! The quinn pattern: the logic that answers a CALL returns what it wants done, and the driver
//! (the connection task) does it. So a handler never sends before its writes are committed,
//! never awaits a call on its own connection (which would deadlock: the task that would read the
//! answer is the one waiting), and every follow-up call goes through the one send path
//! ([`crate::Csms::request`]) with [`Requester::Csms`], logged like an operator's.

use chrono::{DateTime, Utc};
use unicharge_core::StationId;
use unicharge_ocpp::v201::CostUpdatedRequest;

use crate::dispatch::StationContext;
use crate::request::Requester;
use crate::security::certificate_signed::Delivery;
use crate::{provisioning, security, transactions, Csms};

/// Follow-up work of a handled CALL.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// I02: tell the driver the running cost (configured `running_cost = "cost-updated"`).
    CostUpdated(CostUpdatedRequest),
    /// A02/A03: deliver a certificate the CSMS signed (CertificateSigned) and record the answer.
    DeliverCertificate(Box<Delivery>),
    /// B02: the station was answered Pending for provisioning; ask it for the base report.
    RequestProvisioningReport,
    /// B02: a report completed; if it was the provisioning report, let the station in.
    ProvisioningReportCompleted,
    /// E14: for an Accepted station, ask about the transactions the CSMS believed ongoing when
    /// this connection began (`connected_at`); those started on this connection are not asked
    /// about.
    TransactionStatusCheck { connected_at: DateTime<Utc> },
    /// K15: send the TxProfile planned for an EV's charging needs.
    SetChargingProfile(Box<crate::smart_charging::ProfileRequest>),
    /// K09: a report of the station's profiles completed; bring the CSMS's copy in line.
    ReconcileChargingProfiles { request_id: i64 },
}

/// Run `effects` in order, in the background, for the station of `ctx`.
pub(crate) fn spawn(ctx: &StationContext, effects: Vec<Effect>) {
    if effects.is_empty() {
        return;
    }
    let csms = ctx.csms.clone();
    let station = ctx.station_id.clone();
    tokio::spawn(async move {
        for effect in effects {
            run(&csms, &station, effect).await;
        }
    });
}

async fn run(csms: &Csms, station: &StationId, effect: Effect) {
    match effect {
        Effect::CostUpdated(request) => {
            if let Err(e) = csms.request(station, &request, &Requester::Csms).await {
                tracing::warn!(station = %station, transaction = %request.transaction_id,
                    "CostUpdated not delivered: {e}");
            }
        }
        Effect::DeliverCertificate(delivery) => {
            security::certificate_signed::deliver(csms, station, *delivery).await
        }
        Effect::RequestProvisioningReport => {
            provisioning::pending_boot::request_report(csms, station).await
        }
        Effect::ProvisioningReportCompleted => {
            provisioning::pending_boot::report_completed(csms, station).await
        }
        Effect::TransactionStatusCheck { connected_at } => {
            transactions::status_check::after_accepted_boot(csms, station, connected_at).await
        }
        Effect::ReconcileChargingProfiles { request_id } => {
            if let Err(e) = crate::smart_charging::report_charging_profiles::reconcile(
                csms, station, request_id,
            )
            .await
            {
                tracing::warn!(station = %station, request_id, "charging profiles not reconciled: {e}");
            }
        }
        Effect::SetChargingProfile(request) => {
            let id = request.profile.id;
            match crate::smart_charging::set_charging_profile(
                csms,
                station,
                *request,
                &Requester::Automation {
                    rule: "iso15118-charging-needs".into(),
                },
            )
            .await
            {
                Ok(answer) => tracing::info!(station = %station, profile_id = id,
                    status = answer.status.as_str(), "planned TxProfile answered"),
                Err(e) => tracing::warn!(station = %station, profile_id = id,
                    "planned TxProfile not set: {e}"),
            }
        }
    }
}
