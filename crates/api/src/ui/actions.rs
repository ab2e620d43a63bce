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
use unicharge_csms::smart_charging::{self as k, ClearRequest, ProfileRequest};
use unicharge_csms::{availability as g, provisioning as b};
use unicharge_ocpp::v201::{
    ChangeAvailabilityRequest, ChargingProfileKindEnumType, ChargingProfilePurposeEnumType,
    ChargingProfileType, ChargingSchedulePeriodType, ChargingScheduleType, ComponentType, EvseType,
    GetVariableDataType, ResetRequest, SetVariableDataType, TriggerMessageRequest, VariableType,
};

use crate::error::ocpp_enum;
use crate::stations::station_id;
use crate::transactions::IdTokenBody;
use crate::ui::layout::{api_error, csrf_field, seg, Nav, Page};
use crate::ui::session::{same_origin, Viewer};
use crate::ui::{forbidden, UiState};
use crate::ApiError;

/// The actions, as they appear in paths.
pub const ACTIONS: [&str; 11] = [
    "reset",
    "start",
    "stop",
    "unlock",
    "availability",
    "trigger",
    "get-variable",
    "set-variable",
    "set-profile",
    "clear-profiles",
    "local-list",
];

pub(crate) fn action_href(station: &str, action: &str) -> String {
    format!("/ui/stations/{}/actions/{action}", seg(station))
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
    SetProfile(ProfileRequest),
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

/// A constant limit from now on (one schedule period), as TxDefaultProfile or
/// ChargingStationMaxProfile: the limit operators set by hand; anything richer goes through
/// `PUT /api/v1/stations/{id}/charging-profiles`.
fn constant_limit(form: &HashMap<String, String>) -> Result<ProfileRequest, ApiError> {
    let purpose: ChargingProfilePurposeEnumType =
        ocpp_enum("chargingProfilePurpose", required(form, "purpose")?)?;
    let limit: rust_decimal::Decimal = required(form, "limit")?.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_request",
            "`limit` must be a number such as 16 or 7.5",
        )
    })?;
    let kind = match purpose {
        ChargingProfilePurposeEnumType::TxDefaultProfile => ChargingProfileKindEnumType::Relative,
        _ => ChargingProfileKindEnumType::Absolute,
    };
    let id = required_number(form, "profile_id")?;
    Ok(ProfileRequest {
        evse_id: required_number(form, "evse_id")?,
        profile: ChargingProfileType {
            custom_data: None,
            id,
            stack_level: 0,
            charging_profile_purpose: purpose,
            charging_profile_kind: kind,
            recurrency_kind: None,
            valid_from: None,
            valid_to: None,
            charging_schedule: vec![ChargingScheduleType {
                custom_data: None,
                id,
                start_schedule: (kind == ChargingProfileKindEnumType::Absolute)
                    .then(chrono::Utc::now),
                duration: None,
                charging_rate_unit: ocpp_enum("chargingRateUnit", required(form, "unit")?)?,
                charging_schedule_period: vec![ChargingSchedulePeriodType {
                    custom_data: None,
                    start_period: 0,
                    limit,
                    number_phases: None,
                    phase_to_use: None,
                }],
                min_charging_rate: None,
                sales_tariff: None,
            }],
            transaction_id: None,
        },
        allow_without_transaction: false,
    })
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
            "set-profile" => Action::SetProfile(constant_limit(form)?),
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
            Action::SetProfile(p) => {
                let period = &p.profile.charging_schedule[0].charging_schedule_period[0];
                format!(
                    "Limit {} to {} {} with {} {} (stack level {}).",
                    target(Some(p.evse_id).filter(|e| *e > 0), None),
                    period.limit,
                    p.profile.charging_schedule[0].charging_rate_unit.as_str(),
                    p.profile.charging_profile_purpose.as_str(),
                    p.profile.id,
                    p.profile.stack_level
                )
            }
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
            Action::SetProfile(p) => json(k::set_charging_profile(csms, &id, p, &by).await?),
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
