//! A05 Upgrade Charging Station Security Profile.
//!
//! SetNetworkProfile with the new profile in a configuration slot, SetVariables
//! `OCPPCommCtrlr.NetworkConfigurationPriority` putting that slot first, then Reset (OnIdle).
//! When all three are accepted the new profile is *pending*: it becomes the profile the station
//! must offer once the station has connected at it ([`apply_on_connect`]), so a station that
//! fails to reach the CSMS on the new slot and falls back to its old one is not locked out. From
//! then on a connection at a lower profile is refused (A05.FR.07). No downgrades (A05.FR.02).

use unicharge_core::{SecurityProfile, StationId};
use unicharge_ocpp::v201::{
    ComponentType, NetworkConnectionProfileType, ResetEnumType, ResetRequest, ResetStatusEnumType,
    SetNetworkProfileRequest, SetNetworkProfileStatusEnumType, SetVariableDataType,
    SetVariableStatusEnumType, SetVariablesRequest, VariableType,
};

use crate::request::{OpError, Requester};
use crate::Csms;

/// Each request sent and the station's answer, in order, and whether the move is now pending.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileUpgrade {
    /// `(action, request, response)` as sent and answered (JSON, for the operator to read).
    pub steps: Vec<(String, serde_json::Value, serde_json::Value)>,
    /// True when the station accepted every step: the new profile applies once the station
    /// connects at it.
    pub upgraded: bool,
}

/// Move a station to `profile` through the network profile in `configuration_slot`.
pub async fn upgrade_security_profile(
    csms: &Csms,
    station_id: &StationId,
    profile: SecurityProfile,
    configuration_slot: i64,
    mut connection_data: NetworkConnectionProfileType,
    by: &Requester,
) -> Result<ProfileUpgrade, OpError> {
    let station = csms.registered(station_id).await?;
    if profile <= station.security_profile {
        return Err(OpError::refused(
            "not_an_upgrade",
            format!(
                "station {station_id} is at profile {}; an upgrade must go higher (A05.FR.02: no downgrades)",
                station.security_profile
            ),
        ));
    }
    connection_data.security_profile = i64::from(profile.number());
    let mut steps = Vec::new();

    let set_profile = SetNetworkProfileRequest {
        custom_data: None,
        configuration_slot,
        connection_data,
    };
    let answer = csms.request(station_id, &set_profile, by).await?;
    let logged = crate::request::redact(
        unicharge_ocpp::v201::Action::SetNetworkProfile,
        &serde_json::to_value(&set_profile).unwrap_or_default(),
    );
    step(&mut steps, "SetNetworkProfile", &logged, &answer);
    if answer.status != SetNetworkProfileStatusEnumType::Accepted {
        return Ok(ProfileUpgrade {
            steps,
            upgraded: false,
        });
    }

    let priority = SetVariablesRequest {
        custom_data: None,
        set_variable_data: vec![SetVariableDataType {
            custom_data: None,
            attribute_type: None,
            attribute_value: configuration_slot.to_string(),
            component: ComponentType {
                custom_data: None,
                evse: None,
                name: "OCPPCommCtrlr".into(),
                instance: None,
            },
            variable: VariableType {
                custom_data: None,
                name: "NetworkConfigurationPriority".into(),
                instance: None,
            },
        }],
    };
    let answer = csms.request(station_id, &priority, by).await?;
    step(&mut steps, "SetVariables", &priority, &answer);
    let accepted = answer.set_variable_result.first().is_some_and(|r| {
        matches!(
            r.attribute_status,
            SetVariableStatusEnumType::Accepted | SetVariableStatusEnumType::RebootRequired
        )
    });
    if !accepted {
        return Ok(ProfileUpgrade {
            steps,
            upgraded: false,
        });
    }

    let reset = ResetRequest {
        custom_data: None,
        r#type: ResetEnumType::OnIdle,
        evse_id: None,
    };
    let answer = csms.request(station_id, &reset, by).await?;
    step(&mut steps, "Reset", &reset, &answer);
    let accepted = matches!(
        answer.status,
        ResetStatusEnumType::Accepted | ResetStatusEnumType::Scheduled
    );
    if accepted {
        csms.store()
            .set_pending_security_profile(station_id, Some(profile))
            .await?;
        tracing::info!(station = %station_id, profile = %profile,
            "security profile upgrade accepted; it applies once the station connects at it");
    }
    Ok(ProfileUpgrade {
        steps,
        upgraded: accepted,
    })
}

/// At admission: a station with a pending upgrade that connected at (or above) the new profile
/// now must use it. Returns the profile now required, if it changed.
pub async fn apply_on_connect(
    csms: &Csms,
    station: &StationId,
    pending: Option<SecurityProfile>,
    offered: SecurityProfile,
) -> Option<SecurityProfile> {
    let pending = pending?;
    if offered < pending {
        return None;
    }
    let store = csms.store();
    match store.set_security_profile(station, pending).await {
        Ok(_) => {
            if let Err(e) = store.set_pending_security_profile(station, None).await {
                tracing::error!(station = %station, error = %e, "could not clear the pending profile");
            }
            tracing::info!(station = %station, profile = %pending,
                "station connected at its new security profile; lower profiles are refused from now on");
            Some(pending)
        }
        Err(e) => {
            tracing::error!(station = %station, error = %e, "could not raise the security profile");
            None
        }
    }
}

/// Keep one step, its typed request and answer as JSON for the operator.
fn step(
    steps: &mut Vec<(String, serde_json::Value, serde_json::Value)>,
    action: &str,
    request: &impl serde::Serialize,
    response: &impl serde::Serialize,
) {
    steps.push((
        action.to_string(),
        serde_json::to_value(request).unwrap_or_default(),
        serde_json::to_value(response).unwrap_or_default(),
    ));
}
