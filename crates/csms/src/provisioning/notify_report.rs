//! NotifyReport (B07 base reports, B08 custom reports): every part is kept under its request id
//! until the part with `tbc` false completes the report, and every reported attribute updates the
//! stored device model.

use chrono::Utc;
use unicharge_ocpp::v201::{
    AttributeEnumType, ComponentType, NotifyReportRequest, NotifyReportResponse, VariableType,
};
use unicharge_store::{ReportPart, VariableRecord, Write};

use unicharge_core::StationId;

use crate::dispatch::{internal, CallRefusal, Handled, StationContext};
use crate::effects::Effect;

pub async fn handle(
    ctx: &mut StationContext,
    req: NotifyReportRequest,
) -> Result<Handled<NotifyReportResponse>, CallRefusal> {
    let now = Utc::now();
    let data = req.report_data.unwrap_or_default();
    let mut writes = Vec::with_capacity(data.len() * 2 + 1);
    for item in &data {
        for attribute in &item.variable_attribute {
            writes.push(Write::Variable(variable_record(
                &ctx.station_id,
                &item.component,
                &item.variable,
                attribute.r#type.unwrap_or(AttributeEnumType::Actual),
                attribute.value.clone(),
                attribute.mutability.map(|m| m.as_str().to_string()),
                "NotifyReport",
            )));
        }
    }
    writes.push(Write::ReportPart(ReportPart {
        station_id: ctx.station_id.clone(),
        request_id: req.request_id,
        seq_no: req.seq_no,
        tbc: req.tbc.unwrap_or(false),
        generated_at: req.generated_at,
        report_data: serde_json::to_string(&data).map_err(internal)?,
    }));
    let complete = !req.tbc.unwrap_or(false);
    tracing::debug!(station = %ctx.station_id, request_id = req.request_id, seq_no = req.seq_no,
        tbc = req.tbc.unwrap_or(false), items = data.len(), at = %now, "NotifyReport");
    let handled = Handled::durable(NotifyReportResponse { custom_data: None }, writes);
    Ok(if complete {
        // B02: if this was the provisioning report, the station may now be let in.
        handled.with_effect(Effect::ProvisioningReportCompleted)
    } else {
        handled
    })
}

/// A device-model row for one attribute of one component variable.
pub fn variable_record(
    station: &StationId,
    component: &ComponentType,
    variable: &VariableType,
    attribute_type: AttributeEnumType,
    value: Option<String>,
    mutability: Option<String>,
    source: &str,
) -> VariableRecord {
    VariableRecord {
        station_id: station.clone(),
        component: component.name.clone(),
        component_instance: component.instance.clone(),
        evse_id: component.evse.as_ref().map(|e| e.id),
        connector_id: component.evse.as_ref().and_then(|e| e.connector_id),
        variable: variable.name.clone(),
        variable_instance: variable.instance.clone(),
        attribute_type: attribute_type.as_str().to_string(),
        value,
        mutability,
        source: source.to_string(),
        updated_at: Utc::now(),
    }
}
