//! The operator side of a test case: whatever makes the CSMS act.
//!
//! Half of the OCTT CSMS cases begin with "Manual Action: request the CSMS to …". A scenario asks
//! its [`Operator`] to do that while the simulated station waits for the CALL that must follow.
//! unicharge's conformance tests implement the trait with its REST API; against another CSMS a
//! person or a script does the work.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use tokio::task::JoinHandle;

/// What the operator asks the CSMS to do. Field values are what the test case prescribes.
#[derive(Debug, Clone, PartialEq)]
pub enum OperatorAction {
    /// Any CSMS→station request, as OCPP JSON (the CSMS's generic command interface).
    Ocpp { action: String, payload: Value },
    /// B06: read variables; `(component, variable, attributeType or None)`.
    GetVariables {
        items: Vec<(String, String, Option<String>)>,
    },
    /// B05: write variables; `(component, variable, value, attributeType or None)`.
    SetVariables {
        items: Vec<(String, String, String, Option<String>)>,
    },
    /// B07: `reportBase` ConfigurationInventory / FullInventory / SummaryInventory.
    GetBaseReport { report_base: String },
    /// B08: a custom report by criteria and/or component variables (OCPP JSON of the request
    /// without `requestId`, which the CSMS allocates).
    GetCustomReport { request: Value },
    /// B11/B12: `reset_type` OnIdle / Immediate; `evse_id` None resets the station.
    Reset {
        reset_type: String,
        evse_id: Option<i64>,
    },
    /// G03/G04: `operational_status` Operative / Inoperative; EVSE and connector optional.
    ChangeAvailability {
        operational_status: String,
        evse_id: Option<i64>,
        connector_id: Option<i64>,
    },
    /// F06: `requested_message` as OCPP spells it; optional EVSE.
    TriggerMessage {
        requested_message: String,
        evse_id: Option<i64>,
        connector_id: Option<i64>,
    },
    /// A01: set a new, generated BasicAuthPassword.
    RotateBasicAuthPassword,
    /// A02: have the station renew its certificate (TriggerMessage SignChargingStationCertificate).
    RenewStationCertificate,
    /// B09 / A05: install a network connection profile in `configuration_slot` (OCPP JSON of
    /// `connectionData`).
    SetNetworkProfile {
        configuration_slot: i64,
        connection_data: Value,
    },
    /// D01: send the station's local authorization list. `update_type` Full replaces the list
    /// with `entries`; Differential adds or updates them. Entries are `(idToken, type)`; their
    /// idTokenInfo comes from what the CSMS knows of each token.
    SendLocalList {
        update_type: String,
        entries: Vec<(String, String)>,
    },
    /// D02: ask the station for its local list version.
    GetLocalListVersion,
    /// F01/F02: start a transaction remotely for `(id_token, id_token_type)`, on `evse_id` if
    /// given. The CSMS allocates the remoteStartId and reports it back (`remoteStartId`).
    RequestStartTransaction {
        id_token: String,
        id_token_type: String,
        evse_id: Option<i64>,
        /// K05: a TxProfile for the transaction (OCPP JSON of ChargingProfileType).
        charging_profile: Option<Value>,
    },
    /// K01: set a charging profile (OCPP JSON of ChargingProfileType) on `evse_id` (0: the
    /// station). `allow_without_transaction`: the operator knowingly sends a TxProfile while no
    /// transaction is ongoing (TC_K_02's prerequisite).
    SetChargingProfile {
        evse_id: i64,
        charging_profile: Value,
        allow_without_transaction: bool,
    },
    /// K10: clear by id, or by the criteria given.
    ClearChargingProfile {
        charging_profile_id: Option<i64>,
        evse_id: Option<i64>,
        charging_profile_purpose: Option<String>,
        stack_level: Option<i64>,
    },
    /// K09: ask which profiles the station holds (`charging_profile`: OCPP JSON of
    /// ChargingProfileCriterionType). The CSMS allocates the requestId and reports it back
    /// (`requestId`).
    GetChargingProfiles {
        evse_id: Option<i64>,
        charging_profile: Value,
    },
    /// K08: ask for the composite schedule of `evse_id` (0: the grid connection).
    GetCompositeSchedule {
        evse_id: i64,
        duration: i64,
        charging_rate_unit: Option<String>,
    },
    /// F03: stop a transaction remotely.
    RequestStopTransaction { transaction_id: String },
    /// E14: ask whether the station holds queued messages (of one transaction, if given).
    GetTransactionStatus { transaction_id: Option<String> },
    /// F05: unlock a connector.
    UnlockConnector { evse_id: i64, connector_id: i64 },
    /// H01: reserve for `(id_token, id_token_type)` (optionally a group), on an EVSE or a
    /// connector type or anywhere, for `expires_in_seconds`. The CSMS allocates the id and
    /// reports it back (`id`).
    ReserveNow {
        id_token: String,
        id_token_type: String,
        group_id_token: Option<String>,
        evse_id: Option<i64>,
        connector_type: Option<String>,
        expires_in_seconds: i64,
    },
    /// H02: cancel a reservation by the id the CSMS allocated.
    CancelReservation { reservation_id: i64 },
    /// C11/C12: clear the station's Authorization Cache.
    ClearCache,
    /// M05: install a root certificate (`certificate_type` as OCPP spells it, PEM).
    InstallCertificate {
        certificate_type: String,
        certificate: String,
    },
    /// M03: ask which certificates the station holds (of these types, or all).
    GetInstalledCertificateIds {
        certificate_types: Option<Vec<String>>,
    },
    /// M04: delete a certificate the CSMS looks up at the station by type and/or serial
    /// number (GetInstalledCertificateIds first, then DeleteCertificate with the hash data the
    /// station reported).
    DeleteCertificate {
        certificate_type: Option<String>,
        serial_number: Option<String>,
    },
    /// O01/O02: show a message (OCPP JSON of MessageInfoType without `id`: the CSMS allocates
    /// it and reports it back as `id`). `allow_unknown_transaction`: the operator knowingly
    /// sends a transactionId the CSMS does not know as ongoing (TC_O_10's prerequisite).
    SetDisplayMessage {
        message: Value,
        allow_unknown_transaction: bool,
    },
    /// O03/O04: ask for the station's display messages (all, or by ids / priority / state).
    /// The CSMS allocates the requestId and reports it back (`requestId`).
    GetDisplayMessages {
        ids: Option<Vec<i64>>,
        priority: Option<String>,
        state: Option<String>,
    },
    /// O05: remove a display message by id.
    ClearDisplayMessage { id: i64 },
    /// A05: move the station to `security_profile` (profile, priority, reset).
    UpgradeSecurityProfile {
        security_profile: u8,
        configuration_slot: i64,
    },
    /// L01: install firmware from `location`. The CSMS allocates the requestId and reports it
    /// back (`requestId`) with the station's answer (`status`); it adds its configured
    /// signing certificate. `signature`: the firmware's signature, as configured.
    UpdateFirmware {
        location: String,
        retrieve_date_time: Option<chrono::DateTime<chrono::Utc>>,
        install_date_time: Option<chrono::DateTime<chrono::Utc>>,
        retries: Option<i64>,
        retry_interval: Option<i64>,
        signature: Option<String>,
    },
    /// N01: have the station upload its `log_type` log (DiagnosticsLog / SecurityLog). The
    /// CSMS allocates the requestId and the upload location (unless `remote_location` is
    /// given) and reports both back (`requestId`, `remoteLocation`).
    GetLog {
        log_type: String,
        remote_location: Option<String>,
    },
    /// N02: ask for the station's monitors, by criteria and/or component variables (OCPP JSON
    /// of `componentVariable`). The CSMS allocates the requestId and reports it back.
    GetMonitoringReport {
        monitoring_criteria: Vec<String>,
        component_variable: Option<Value>,
    },
    /// N03: `monitoring_base` All / FactoryDefault / HardWiredOnly.
    SetMonitoringBase { monitoring_base: String },
    /// N05: report events of this severity and more severe only.
    SetMonitoringLevel { severity: i64 },
    /// N04: set monitors (OCPP JSON of `setMonitoringData`).
    SetVariableMonitoring { set_monitoring_data: Value },
    /// N06: clear monitors by id.
    ClearVariableMonitoring { ids: Vec<i64> },
    /// N09/N10: report and/or clear what the station keeps about a customer, named by an
    /// idToken `(idToken, type)`, a customer identifier or a certificate's hash data (OCPP
    /// JSON). The CSMS allocates the requestId and reports it back.
    CustomerInformation {
        report: bool,
        clear: bool,
        id_token: Option<(String, String)>,
        customer_identifier: Option<String>,
        customer_certificate: Option<Value>,
    },
}

/// Something that makes the CSMS act.
#[async_trait]
pub trait Operator: Send + Sync {
    /// Perform the action for `station_id` and return what the CSMS reported back (its JSON
    /// answer), or why it failed.
    async fn perform(&self, station_id: &str, action: OperatorAction) -> Result<Value, String>;
}

/// Start an operator action in the background: the station must answer the CSMS's CALL while
/// the operator's request is still waiting for the CSMS.
pub fn trigger(
    operator: Arc<dyn Operator>,
    station_id: &str,
    action: OperatorAction,
) -> JoinHandle<Result<Value, String>> {
    let station_id = station_id.to_string();
    tokio::spawn(async move { operator.perform(&station_id, action).await })
}
