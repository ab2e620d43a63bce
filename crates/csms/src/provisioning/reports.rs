//! B07 Get Base Report and B08 Get Custom Report, CSMS side: the CSMS allocates the requestId,
//! keeps the request before it leaves (the NotifyReport parts may overtake the answer), and
//! records the station's answer. The parts are assembled by [`super::notify_report`].

use chrono::Utc;
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    ComponentCriterionEnumType, ComponentVariableType, GetBaseReportRequest, GetReportRequest,
    OcppRequest, ReportBaseEnumType,
};
use unicharge_store::ReportRecord;

use crate::request::{check_request, OpError, Requester};
use crate::station_turn::{self, Turn, Work};
use crate::Csms;

/// What to report on.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportRequest {
    /// GetBaseReport (B07).
    Base(ReportBaseEnumType),
    /// GetReport (B08): by component criteria and/or named component variables.
    Custom {
        component_criteria: Option<Vec<ComponentCriterionEnumType>>,
        component_variable: Option<Vec<ComponentVariableType>>,
    },
}

/// The request id the report will be assembled under, and the station's answer
/// (`Accepted`, `Rejected`, `NotSupported`, `EmptyResultSet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRequested {
    pub request_id: i64,
    pub status: String,
}

/// Ask the station for a report.
pub async fn request(
    csms: &Csms,
    station: &StationId,
    what: ReportRequest,
    by: &Requester,
) -> Result<ReportRequested, OpError> {
    csms.registered(station).await?;
    // The id is picked and recorded under the station's turn (two requests never share it).
    let ids = station_turn::take(csms, Work::RequestId, station).await?;
    let request_id = csms.store().next_report_request_id(station).await?;
    let status = match what {
        ReportRequest::Base(report_base) => {
            let request = GetBaseReportRequest {
                custom_data: None,
                request_id,
                report_base,
            };
            keep(csms, station, request_id, &request, ids).await?;
            csms.request(station, &request, by).await?.status.as_str()
        }
        ReportRequest::Custom {
            component_criteria,
            component_variable,
        } => {
            let request = GetReportRequest {
                custom_data: None,
                component_variable,
                request_id,
                component_criteria,
            };
            keep(csms, station, request_id, &request, ids).await?;
            csms.request(station, &request, by).await?.status.as_str()
        }
    }
    .to_string();
    csms.store()
        .set_report_status(station, request_id, &status)
        .await?;
    Ok(ReportRequested { request_id, status })
}

/// Check the request and keep it before it leaves: the NotifyReport parts may overtake the
/// answer, and nothing is kept for a request that could not be sent. Recorded, its id is
/// taken: the station's turn (`ids`) ends.
async fn keep<R: OcppRequest>(
    csms: &Csms,
    station: &StationId,
    request_id: i64,
    request: &R,
    ids: Turn,
) -> Result<(), OpError> {
    let payload = serde_json::to_value(request).map_err(|e| OpError::Store(e.to_string()))?;
    check_request(R::ACTION.as_str(), &payload)?;
    csms.store()
        .create_report(&ReportRecord {
            station_id: station.clone(),
            request_id,
            request: payload.to_string(),
            status: None,
            complete: false,
            requested_at: Utc::now(),
        })
        .await?;
    drop(ids);
    Ok(())
}
