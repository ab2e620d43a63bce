//! The operator's actions on a station: reset, remote start, remote stop, unlock, change
//! availability, trigger message, get / set variable, clear charging profiles and resend the
//! local list. Each is a form on the station page; submitting it shows a confirmation page
//! that says exactly what will be sent, and confirming sends it through the same typed CSMS
//! operation the REST API calls, with the same requester (the session's API key) in the
//! command log. Errors are shown as the API states them (status, code, message).
//!
//! A read-only key sees no forms, and a POST made anyway is refused with the API's 403 before
//! anything is built or sent. Every form carries the session's CSRF token.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use serde::Serialize;
use unicharge_csms::local_auth_list as d;
use unicharge_csms::remote_control::{self as f, request_start::StartRequest};
use unicharge_csms::smart_charging::{self as k, ClearRequest};
use unicharge_csms::{availability as g, provisioning as b};
use unicharge_ocpp::v201::{
    ChangeAvailabilityRequest, ComponentType, EvseType, GetVariableDataType, ResetRequest,
    SetVariableDataType, TriggerMessageRequest, VariableType,
};
use unicharge_store::ConnectorRecord;

use crate::error::ocpp_enum;
use crate::stations::station_id;
use crate::transactions::IdTokenBody;
use crate::ui::layout::{api_error, csrf_field, seg, Nav, Page};
use crate::ui::session::{same_origin, Viewer};
use crate::ui::{forbidden, UiState};
use crate::ApiError;

/// The actions, as they appear in paths.
pub const ACTIONS: [&str; 10] = [
    "reset",
    "start",
    "stop",
    "unlock",
    "availability",
    "trigger",
    "get-variable",
    "set-variable",
    "clear-profiles",
    "local-list",
];

/// The messages a TriggerMessage may ask for (MessageTriggerEnumType).
const TRIGGERS: [&str; 10] = [
    "BootNotification",
    "LogStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "SignChargingStationCertificate",
    "SignV2GCertificate",
    "StatusNotification",
    "TransactionEvent",
    "PublishFirmwareStatusNotification",
];

fn action_href(station: &str, action: &str) -> String {
    format!("/ui/stations/{}/actions/{action}", seg(station))
}

/// The action forms of the station page (only rendered for operators).
pub fn forms(
    viewer: &Viewer,
    station: &str,
    connectors: &[ConnectorRecord],
    running: &[String],
) -> Markup {
    let evse_ids: Vec<i64> = {
        let mut ids: Vec<i64> = connectors
            .iter()
            .map(|c| c.evse_id)
            .filter(|e| *e > 0)
            .collect();
        ids.dedup();
        ids
    };
    html! {
        section.actions aria-labelledby="actions" {
            h2 id="actions" { "Actions" }
            p.hint { "Each action asks for confirmation before anything is sent to the station." }
            div.action-grid {
                form method="post" action=(action_href(station, "start")) aria-labelledby="start-h" {
                    h3 id="start-h" { "Remote start" }
                    (csrf_field(viewer))
                    label for="start-token" { "Id token" }
                    input id="start-token" name="id_token" required maxlength="36" autocomplete="off";
                    label for="start-type" { "Token type" }
                    select id="start-type" name="id_token_type" {
                        @for t in ["ISO14443", "ISO15693", "Central", "eMAID", "KeyCode", "Local", "MacAddress", "NoAuthorization"] {
                            option value=(t) { (t) }
                        }
                    }
                    label for="start-evse" { "EVSE (empty: station chooses)" }
                    input id="start-evse" name="evse_id" type="number" min="1" value=[evse_ids.first()];
                    button type="submit" { "Start…" }
                }
                form method="post" action=(action_href(station, "stop")) aria-labelledby="stop-h" {
                    h3 id="stop-h" { "Remote stop" }
                    (csrf_field(viewer))
                    label for="stop-tx" { "Transaction id" }
                    input id="stop-tx" name="transaction_id" required list="running-tx" value=[running.first()];
                    datalist id="running-tx" { @for t in running { option value=(t) {} } }
                    button type="submit" { "Stop…" }
                }
                form method="post" action=(action_href(station, "unlock")) aria-labelledby="unlock-h" {
                    h3 id="unlock-h" { "Unlock connector" }
                    (csrf_field(viewer))
                    label for="unlock-evse" { "EVSE" }
                    input id="unlock-evse" name="evse_id" type="number" min="1" required value=[evse_ids.first()];
                    label for="unlock-connector" { "Connector" }
                    input id="unlock-connector" name="connector_id" type="number" min="1" required value="1";
                    button type="submit" { "Unlock…" }
                }
                form method="post" action=(action_href(station, "availability")) aria-labelledby="avail-h" {
                    h3 id="avail-h" { "Change availability" }
                    (csrf_field(viewer))
                    label for="avail-status" { "Make" }
                    select id="avail-status" name="operational_status" {
                        option value="Inoperative" { "Inoperative" }
                        option value="Operative" { "Operative" }
                    }
                    label for="avail-evse" { "EVSE (empty: whole station)" }
                    input id="avail-evse" name="evse_id" type="number" min="1";
                    label for="avail-connector" { "Connector (empty: whole EVSE)" }
                    input id="avail-connector" name="connector_id" type="number" min="1";
                    button type="submit" { "Change…" }
                }
                form method="post" action=(action_href(station, "reset")) aria-labelledby="reset-h" {
                    h3 id="reset-h" { "Reset" }
                    (csrf_field(viewer))
                    label for="reset-type" { "Type" }
                    select id="reset-type" name="type" {
                        option value="OnIdle" { "OnIdle (after running transactions)" }
                        option value="Immediate" { "Immediate" }
                    }
                    label for="reset-evse" { "EVSE (empty: whole station)" }
                    input id="reset-evse" name="evse_id" type="number" min="1";
                    button type="submit" { "Reset…" }
                }
                form method="post" action=(action_href(station, "trigger")) aria-labelledby="trigger-h" {
                    h3 id="trigger-h" { "Trigger message" }
                    (csrf_field(viewer))
                    label for="trigger-message" { "Message" }
                    select id="trigger-message" name="requested_message" {
                        @for t in TRIGGERS { option value=(t) { (t) } }
                    }
                    label for="trigger-evse" { "EVSE (empty: whole station)" }
                    input id="trigger-evse" name="evse_id" type="number" min="1";
                    button type="submit" { "Trigger…" }
                }
                form method="post" action=(action_href(station, "get-variable")) aria-labelledby="getvar-h" {
                    h3 id="getvar-h" { "Get variable" }
                    (csrf_field(viewer))
                    label for="getvar-component" { "Component" }
                    input id="getvar-component" name="component" required value="OCPPCommCtrlr";
                    label for="getvar-variable" { "Variable" }
                    input id="getvar-variable" name="variable" required value="HeartbeatInterval";
                    button type="submit" { "Get…" }
                }
                form method="post" action=(action_href(station, "set-variable")) aria-labelledby="setvar-h" {
                    h3 id="setvar-h" { "Set variable" }
                    (csrf_field(viewer))
                    label for="setvar-component" { "Component" }
                    input id="setvar-component" name="component" required value="OCPPCommCtrlr";
                    label for="setvar-variable" { "Variable" }
                    input id="setvar-variable" name="variable" required value="HeartbeatInterval";
                    label for="setvar-value" { "Value" }
                    input id="setvar-value" name="value" required maxlength="1000";
                    button type="submit" { "Set…" }
                }
                form method="post" action=(action_href(station, "clear-profiles")) aria-labelledby="clear-h" {
                    h3 id="clear-h" { "Clear charging profiles" }
                    (csrf_field(viewer))
                    label for="clear-id" { "Profile id (empty: by EVSE)" }
                    input id="clear-id" name="profile_id" type="number" min="1";
                    label for="clear-evse" { "EVSE (empty: all; 0: station)" }
                    input id="clear-evse" name="evse_id" type="number" min="0";
                    button type="submit" { "Clear…" }
                }
                form method="post" action=(action_href(station, "local-list")) aria-labelledby="list-h" {
                    h3 id="list-h" { "Local list" }
                    (csrf_field(viewer))
                    p.hint { "Send the CSMS's list again as a Full update (new version)." }
                    button type="submit" { "Resend…" }
                }
            }
        }
    }
}

/// A form field: trimmed, empty = absent.
pub(crate) fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

pub(crate) fn number(form: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    field(form, name)
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_request",
                    format!("`{name}` must be a whole number, not {v:?}"),
                )
            })
        })
        .transpose()
}

pub(crate) fn required<'a>(
    form: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, ApiError> {
    field(form, name)
        .ok_or_else(|| ApiError::bad_request("invalid_request", format!("`{name}` is required")))
}

fn required_number(form: &HashMap<String, String>, name: &str) -> Result<i64, ApiError> {
    required(form, name)?;
    Ok(number(form, name)?.unwrap_or_default())
}

fn evse(evse_id: Option<i64>, connector_id: Option<i64>) -> Result<Option<EvseType>, ApiError> {
    match (evse_id, connector_id) {
        (None, None) => Ok(None),
        (Some(id), connector_id) => Ok(Some(EvseType {
            custom_data: None,
            id,
            connector_id,
        })),
        (None, Some(_)) => Err(ApiError::bad_request(
            "connector_without_evse",
            "a connectorId needs the evseId it belongs to",
        )),
    }
}

/// An action, checked and typed, ready to send.
enum Action {
    Reset(ResetRequest),
    Start(StartRequest),
    Stop(String),
    Unlock { evse_id: i64, connector_id: i64 },
    Availability(ChangeAvailabilityRequest),
    Trigger(TriggerMessageRequest),
    GetVariable(GetVariableDataType),
    SetVariable(SetVariableDataType),
    ClearProfiles(ClearRequest),
    LocalList,
}

/// What the station answered to the resent local list (SendLocalList is not a REST DTO).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocalListAnswer {
    status: &'static str,
    version_number: i64,
    resent_full: bool,
}

/// A component (optionally on an EVSE) and one of its variables, both by name.
fn component_variable(
    form: &HashMap<String, String>,
) -> Result<(ComponentType, VariableType), ApiError> {
    Ok((
        ComponentType {
            custom_data: None,
            evse: None,
            name: required(form, "component")?.to_string(),
            instance: None,
        },
        VariableType {
            custom_data: None,
            name: required(form, "variable")?.to_string(),
            instance: None,
        },
    ))
}

impl Action {
    fn parse(name: &str, form: &HashMap<String, String>) -> Result<Action, ApiError> {
        Ok(match name {
            "reset" => Action::Reset(ResetRequest {
                custom_data: None,
                r#type: ocpp_enum("type", required(form, "type")?)?,
                evse_id: number(form, "evse_id")?,
            }),
            "start" => Action::Start(StartRequest {
                id_token: IdTokenBody {
                    id_token: required(form, "id_token")?.to_string(),
                    kind: required(form, "id_token_type")?.to_string(),
                    additional_info: None,
                }
                .typed("idToken")?,
                evse_id: number(form, "evse_id")?,
                group_id_token: None,
                charging_profile: None,
            }),
            "stop" => Action::Stop(required(form, "transaction_id")?.to_string()),
            "unlock" => Action::Unlock {
                evse_id: required_number(form, "evse_id")?,
                connector_id: required_number(form, "connector_id")?,
            },
            "availability" => Action::Availability(ChangeAvailabilityRequest {
                custom_data: None,
                evse: evse(number(form, "evse_id")?, number(form, "connector_id")?)?,
                operational_status: ocpp_enum(
                    "operationalStatus",
                    required(form, "operational_status")?,
                )?,
            }),
            "trigger" => Action::Trigger(TriggerMessageRequest {
                custom_data: None,
                evse: evse(number(form, "evse_id")?, None)?,
                requested_message: ocpp_enum(
                    "requestedMessage",
                    required(form, "requested_message")?,
                )?,
            }),
            "get-variable" => {
                let (component, variable) = component_variable(form)?;
                Action::GetVariable(GetVariableDataType {
                    custom_data: None,
                    attribute_type: None,
                    component,
                    variable,
                })
            }
            "set-variable" => {
                let (component, variable) = component_variable(form)?;
                Action::SetVariable(SetVariableDataType {
                    custom_data: None,
                    attribute_type: None,
                    attribute_value: required(form, "value")?.to_string(),
                    component,
                    variable,
                })
            }
            "clear-profiles" => Action::ClearProfiles(match number(form, "profile_id")? {
                Some(id) => ClearRequest::Id(id),
                None => ClearRequest::Criteria {
                    evse_id: number(form, "evse_id")?,
                    purpose: None,
                    stack_level: None,
                },
            }),
            "local-list" => Action::LocalList,
            other => {
                return Err(ApiError::not_found(
                    "unknown_action",
                    format!("no action {other:?}; the UI offers {}", ACTIONS.join(", ")),
                ))
            }
        })
    }

    /// What will happen, in one sentence, for the confirmation page.
    fn describe(&self, station: &str) -> String {
        let target = |evse: Option<i64>, connector: Option<i64>| match (evse, connector) {
            (None, _) => format!("the whole station {station}"),
            (Some(e), None) => format!("EVSE {e} of {station}"),
            (Some(e), Some(c)) => format!("connector {c} of EVSE {e} of {station}"),
        };
        match self {
            Action::Reset(r) => {
                format!("Reset {} ({}).", target(r.evse_id, None), r.r#type.as_str())
            }
            Action::Start(s) => format!(
                "Start a transaction on {} for token {} ({}).",
                s.evse_id.map_or_else(
                    || format!("an EVSE {station} chooses"),
                    |e| format!("EVSE {e} of {station}")
                ),
                s.id_token.id_token,
                s.id_token.r#type.as_str()
            ),
            Action::Stop(t) => format!("Stop transaction {t} on {station}."),
            Action::Unlock {
                evse_id,
                connector_id,
            } => {
                format!("Unlock {}.", target(Some(*evse_id), Some(*connector_id)))
            }
            Action::Availability(a) => format!(
                "Make {} {}.",
                target(
                    a.evse.as_ref().map(|e| e.id),
                    a.evse.as_ref().and_then(|e| e.connector_id)
                ),
                a.operational_status.as_str()
            ),
            Action::Trigger(t) => format!(
                "Ask {} to send a {}.",
                target(t.evse.as_ref().map(|e| e.id), None),
                t.requested_message.as_str()
            ),
            Action::GetVariable(g) => format!(
                "Read {}.{} from {station}.",
                g.component.name, g.variable.name
            ),
            Action::SetVariable(v) => format!(
                "Set {}.{} to {:?} on {station}.",
                v.component.name, v.variable.name, v.attribute_value
            ),
            Action::ClearProfiles(ClearRequest::Id(id)) => {
                format!("Clear charging profile {id} on {station}.")
            }
            Action::ClearProfiles(ClearRequest::Criteria { evse_id, .. }) => match evse_id {
                None => format!("Clear every charging profile on {station}."),
                Some(e) => format!("Clear the charging profiles of EVSE {e} on {station}."),
            },
            Action::LocalList => {
                format!("Send the CSMS's local authorization list to {station} as a Full update.")
            }
        }
    }

    /// Send it through the CSMS operation the REST API uses; the answer as JSON.
    async fn send(
        self,
        state: &UiState,
        station: &str,
        viewer: &Viewer,
    ) -> Result<serde_json::Value, ApiError> {
        let by = viewer.caller.operator()?;
        let csms = &state.api.csms;
        let id = station_id(station)?;
        fn json(value: impl Serialize) -> Result<serde_json::Value, ApiError> {
            serde_json::to_value(value).map_err(ApiError::internal)
        }
        match self {
            Action::Reset(r) => json(b::reset::reset(csms, &id, r, &by).await?),
            Action::Start(s) => {
                let started = f::request_start::request_start(csms, &id, s, &by).await?;
                let mut answer = json(&started.response)?;
                answer["remoteStartId"] = started.remote_start_id.into();
                Ok(answer)
            }
            Action::Stop(t) => json(f::request_stop(csms, &id, t, &by).await?),
            Action::Unlock {
                evse_id,
                connector_id,
            } => json(f::unlock_connector(csms, &id, evse_id, connector_id, &by).await?),
            Action::Availability(a) => json(g::change_availability(csms, &id, a, &by).await?),
            Action::Trigger(t) => json(f::trigger_message(csms, &id, t, &by).await?),
            Action::GetVariable(g) => {
                json(b::variables::get_variables(csms, &id, vec![g], &by).await?)
            }
            Action::SetVariable(v) => {
                json(b::variables::set_variables(csms, &id, vec![v], &by).await?)
            }
            Action::ClearProfiles(c) => json(k::clear_charging_profile(csms, &id, c, &by).await?),
            Action::LocalList => {
                let held = state.api.store.local_list(&id).await?;
                let mut entries = Vec::with_capacity(held.entries.len());
                for (id_token, kind) in held.entries {
                    entries.push(d::ListEntry {
                        id_token,
                        kind: ocpp_enum("type", &kind)?,
                    });
                }
                let sent = d::send_full(csms, &id, entries, &by).await?;
                json(LocalListAnswer {
                    status: sent.status.as_str(),
                    version_number: sent.version_number,
                    resent_full: sent.resent_full,
                })
            }
        }
    }
}

/// The confirmation step every UI action goes through: says what will be sent and posts the
/// same form again with `confirmed=yes` (and a fresh CSRF field).
pub(crate) fn confirmation(
    viewer: &Viewer,
    url: &str,
    form: &HashMap<String, String>,
    description: &str,
    back: &str,
) -> Markup {
    html! {
        p.confirm id="confirm-text" { (description) }
        form method="post" action=(url) {
            @for (k, v) in form {
                @if k != "csrf" && k != "confirmed" { input type="hidden" name=(k) value=(v); }
            }
            (csrf_field(viewer))
            input type="hidden" name="confirmed" value="yes";
            button type="submit" id="confirm" autofocus { "Confirm" }
            " "
            a.button-link href=(back) { "Cancel" }
        }
    }
}

pub async fn act(
    State(state): State<UiState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((station, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !same_origin(&headers) || !viewer.csrf_ok(form.get("csrf").map(String::as_str)) {
        return forbidden(&state, &viewer);
    }
    let back = format!("/ui/stations/{}", seg(&station));
    let page = |title: &str, body: Markup, status| {
        Page::new(title, Nav::Stations, body)
            .status(status)
            .render(Some(&viewer), state.demo)
    };
    // The role first: a read-only key gets the API's 403 and nothing is built or sent.
    if let Err(e) = viewer.caller.operator() {
        return page(
            "Not allowed",
            html! { (api_error(&e)) p { a href=(back) { "Back to the station" } } },
            e.status,
        );
    }
    let parsed = match Action::parse(&action, &form) {
        Ok(a) => a,
        Err(e) => {
            return page(
                "Not sent",
                html! { (api_error(&e)) p { a href=(back) { "Back to the station" } } },
                e.status,
            )
        }
    };
    let description = parsed.describe(&station);
    if form.get("confirmed").map(String::as_str) != Some("yes") {
        let body = confirmation(
            &viewer,
            &action_href(&station, &action),
            &form,
            &description,
            &back,
        );
        return page("Confirm", body, axum::http::StatusCode::OK);
    }
    tracing::info!(station = %station, action = %action, key = %viewer.caller.key_id, "UI action");
    match parsed.send(&state, &station, &viewer).await {
        Ok(answer) => {
            // `status` for most answers; the first result's `attributeStatus` for
            // Get/SetVariables, whose answer is a list of results.
            let status = answer
                .get("status")
                .or_else(|| answer.get(0).and_then(|r| r.get("attributeStatus")))
                .and_then(|s| s.as_str())
                .unwrap_or("answered")
                .to_string();
            let body = html! {
                p { (description) }
                p.result role="status" id="result" { "The station answered " strong { (status) } "." }
                pre { (serde_json::to_string_pretty(&answer).unwrap_or_default()) }
                p { a href=(back) { "Back to the station" } }
            };
            page("Sent", body, axum::http::StatusCode::OK)
        }
        Err(e) => {
            let status = e.status;
            page(
                "Not done",
                html! { p { (description) } (api_error(&e)) p { a href=(back) { "Back to the station" } } },
                status,
            )
        }
    }
}
