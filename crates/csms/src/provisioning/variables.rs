//! B05 Set Variables and B06 Get Variables, CSMS side. What the station accepted is merged into
//! the stored device model, each result matched back to the request item it answers by its full
//! identity (component name, instance and EVSE/connector; variable name and instance; attribute
//! type) — matching on names alone would file EVSE 2's value under EVSE 1's item.
//!
//! A request with more items than the station takes in one message
//! (`DeviceDataCtrlr.ItemsPerMessage` / `BytesPerMessage`, B06.FR.05) goes out in parts, one
//! after the other; see [`super::limits`].
//!
//! `SecurityCtrlr.BasicAuthPassword` is refused here: a new password must also become the one
//! the CSMS expects, which is A01 ([`crate::security::password`]).

use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    AttributeEnumType, ComponentType, GetVariableDataType, GetVariableResultType,
    GetVariableStatusEnumType, GetVariablesRequest, SetVariableDataType, SetVariableResultType,
    SetVariableStatusEnumType, SetVariablesRequest, VariableType,
};
use unicharge_store::Write;

use super::limits::{message_limits, split, ItemsRequest};
use super::notify_report::variable_record;
use crate::request::{is_secret_variable, OpError, Requester};
use crate::Csms;

/// Read variables (B06); values read are kept in the device model.
///
/// The items go out in as many GetVariablesRequests as the station's limits need (reading the
/// limits first if the CSMS does not know them); the results come back concatenated in the
/// order of the parts. If one part fails, the operation fails with that part's error; the values
/// the parts before it read are already kept in the device model.
pub async fn get_variables(
    csms: &Csms,
    station: &StationId,
    items: Vec<GetVariableDataType>,
    by: &Requester,
) -> Result<Vec<GetVariableResultType>, OpError> {
    csms.registered(station).await?;
    let limits = message_limits::<GetVariablesRequest>(csms, station, items.len()).await?;
    let mut results = Vec::with_capacity(items.len());
    for part in split::<GetVariablesRequest>(items, limits) {
        results.extend(get_part(csms, station, part, by).await?);
    }
    Ok(results)
}

/// One GetVariablesRequest; the accepted values are merged into the device model.
async fn get_part(
    csms: &Csms,
    station: &StationId,
    items: Vec<GetVariableDataType>,
    by: &Requester,
) -> Result<Vec<GetVariableResultType>, OpError> {
    let request = GetVariablesRequest::with_items(items);
    let answer = csms.request(station, &request, by).await?;
    let writes = answer
        .get_variable_result
        .iter()
        .filter(|r| r.attribute_status == GetVariableStatusEnumType::Accepted)
        .filter(|r| {
            request.get_variable_data.iter().any(|item| {
                same(
                    (&item.component, &item.variable, item.attribute_type),
                    (&r.component, &r.variable, r.attribute_type),
                )
            })
        })
        .map(|r| {
            Write::Variable(variable_record(
                station,
                &r.component,
                &r.variable,
                r.attribute_type.unwrap_or(AttributeEnumType::Actual),
                r.attribute_value.clone(),
                None,
                "GetVariables",
            ))
        })
        .collect();
    csms.store().write(writes).await?;
    Ok(answer.get_variable_result)
}

/// Write variables (B05); accepted values (`Accepted`, `RebootRequired`) are kept in the device
/// model.
///
/// The items go out in as many SetVariablesRequests as the station's limits need (reading the
/// limits first if the CSMS does not know them); the results come back concatenated in the
/// order of the parts. If one part fails, the operation fails with that part's error: the parts
/// before it were sent, the station applied what it accepted of them, and those values are
/// already kept in the device model; the parts after it were not sent.
pub async fn set_variables(
    csms: &Csms,
    station: &StationId,
    items: Vec<SetVariableDataType>,
    by: &Requester,
) -> Result<Vec<SetVariableResultType>, OpError> {
    if items
        .iter()
        .any(|i| is_secret_variable(&i.component.name, &i.variable.name))
    {
        return Err(OpError::refused(
            "use_password_rotation",
            "set SecurityCtrlr.BasicAuthPassword with POST /api/v1/stations/{id}/password/rotate \
             (`unicharge station rotate-password`), which also updates the password the CSMS expects",
        ));
    }
    csms.registered(station).await?;
    let limits = message_limits::<SetVariablesRequest>(csms, station, items.len()).await?;
    let mut results = Vec::with_capacity(items.len());
    for part in split::<SetVariablesRequest>(items, limits) {
        results.extend(set_part(csms, station, part, by).await?);
    }
    Ok(results)
}

/// One SetVariablesRequest; the accepted values are merged into the device model.
async fn set_part(
    csms: &Csms,
    station: &StationId,
    items: Vec<SetVariableDataType>,
    by: &Requester,
) -> Result<Vec<SetVariableResultType>, OpError> {
    let request = SetVariablesRequest::with_items(items);
    let answer = csms.request(station, &request, by).await?;
    let writes = answer
        .set_variable_result
        .iter()
        .filter(|r| {
            matches!(
                r.attribute_status,
                SetVariableStatusEnumType::Accepted | SetVariableStatusEnumType::RebootRequired
            )
        })
        .filter_map(|r| {
            let item = request.set_variable_data.iter().find(|item| {
                same(
                    (&item.component, &item.variable, item.attribute_type),
                    (&r.component, &r.variable, r.attribute_type),
                )
            })?;
            Some(Write::Variable(variable_record(
                station,
                &item.component,
                &item.variable,
                item.attribute_type.unwrap_or(AttributeEnumType::Actual),
                Some(item.attribute_value.clone()),
                None,
                "SetVariables",
            )))
        })
        .collect();
    csms.store().write(writes).await?;
    Ok(answer.set_variable_result)
}

/// Whether a result answers a request item: same component (name, instance, EVSE, connector),
/// variable (name, instance) and attribute type (absent = `Actual`).
fn same(
    (c1, v1, t1): (&ComponentType, &VariableType, Option<AttributeEnumType>),
    (c2, v2, t2): (&ComponentType, &VariableType, Option<AttributeEnumType>),
) -> bool {
    let evse = |c: &ComponentType| c.evse.as_ref().map(|e| (e.id, e.connector_id));
    c1.name == c2.name
        && c1.instance == c2.instance
        && evse(c1) == evse(c2)
        && v1.name == v2.name
        && v1.instance == v2.instance
        && t1.unwrap_or(AttributeEnumType::Actual) == t2.unwrap_or(AttributeEnumType::Actual)
}
