//! The action forms of a station's page (rendered for operators only). Each posts to
//! [`crate::ui::actions::act`], which asks for confirmation before anything is sent.

use maud::{html, Markup};
use unicharge_store::ConnectorRecord;

use crate::ui::actions::action_href;
use crate::ui::layout::csrf_field;
use crate::ui::session::Viewer;

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
                form method="post" action=(action_href(station, "set-profile")) aria-labelledby="profile-h" {
                    h3 id="profile-h" { "Set a charging limit" }
                    (csrf_field(viewer))
                    label for="profile-purpose" { "Profile" }
                    select id="profile-purpose" name="purpose" {
                        option value="TxDefaultProfile" { "TxDefaultProfile (each transaction)" }
                        option value="ChargingStationMaxProfile" { "ChargingStationMaxProfile (station, EVSE 0)" }
                    }
                    label for="profile-id" { "Profile id" }
                    input id="profile-id" name="profile_id" type="number" min="1" required value="1";
                    label for="profile-evse" { "EVSE (0: whole station)" }
                    input id="profile-evse" name="evse_id" type="number" min="0" required value="0";
                    label for="profile-limit" { "Limit" }
                    input id="profile-limit" name="limit" required inputmode="decimal" value="16";
                    label for="profile-unit" { "Unit" }
                    select id="profile-unit" name="unit" { option value="A" { "A" } option value="W" { "W" } }
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
