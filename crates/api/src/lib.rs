//! The operator REST API, under `/api/v1`.
//!
//! Operators — people, scripts, roaming partners — act on stations through it: the station
//! registry, what stations reported, and every CSMS→station OCPP request. The API is a mapping:
//! each handler checks the caller's role, turns the body into the typed input of a CSMS
//! operation (`unicharge_csms::<block>`), calls it, and turns the result into JSON; failures
//! become HTTP errors in one place (`impl From<OpError> for ApiError`). A generic command
//! endpoint sends actions without CSMS state. Every request carries an API key
//! (`Authorization: Bearer uc_…`) whose role decides what it may do. The OpenAPI document is at
//! `/api/v1/openapi.json`, Swagger UI (served from the binary, no internet needed) at
//! `/api/v1/docs`.

pub mod accounts;
pub mod auth;
pub mod availability;
pub mod campaigns;
pub mod certificate_management;
pub mod commands;
pub mod data_transfer;
pub mod diagnostics;
pub mod diameter;
pub mod display;
pub mod efc;
pub mod error;
pub mod export;
pub mod files;
pub mod firmware;
pub mod local_list;
pub mod log_files;
pub mod ocpi;
pub mod ocpi_buc;
pub mod ocpi_signing;
pub mod ocpi_sync;
pub mod personal_data;
pub mod provisioning;
pub mod remote_control;
pub mod reservations;
pub mod ro;
pub mod security;
pub mod site_load;
pub mod smart_charging;
pub mod stations;
pub mod tariffs;
pub mod tokens;
pub mod tracked;
pub mod transactions;
pub mod ui;

use std::sync::Arc;

use axum::Router;
use unicharge_csms::Csms;
use unicharge_store::Store;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

pub use auth::ensure_admin_key;
pub use error::ApiError;

/// What every handler reaches.
#[derive(Clone)]
pub struct ApiState {
    pub csms: Csms,
    pub store: Arc<dyn Store>,
    /// The EFC back end, when it runs: OBE, contract and update writes go through it so its
    /// caches see them.
    pub efc: Option<unicharge_efc_backend::Backend>,
    /// The Diameter peers, when the `[diameter]` listener runs.
    pub diameter: Option<diameter::SharedPeers>,
    /// `serve --demo`: the stations are simulated; the web UI says so on every page.
    pub demo: bool,
    /// The OCPI front door, when it runs: partners and locations are managed through it.
    pub ocpi: Option<unicharge_ocpi_server::Ocpi>,
    /// GDPR erasure: the key of the pseudonyms (kept outside the database).
    pub pseudonym_key: Option<Arc<Vec<u8>>>,
}

impl ApiState {
    pub fn new(csms: Csms, store: Arc<dyn Store>) -> Self {
        ApiState {
            csms,
            store,
            efc: None,
            diameter: None,
            demo: false,
            ocpi: None,
            pseudonym_key: None,
        }
    }

    /// Mark the data as simulated (`serve --demo`).
    pub fn with_demo(mut self, demo: bool) -> Self {
        self.demo = demo;
        self
    }

    /// The key erasures pseudonymise idTokens with (`<data_dir>/pseudonym.key`).
    pub fn with_pseudonym_key(mut self, key: Vec<u8>) -> Self {
        self.pseudonym_key = Some(Arc::new(key));
        self
    }

    /// Route the EFC writes through this back end.
    pub fn with_efc(mut self, efc: unicharge_efc_backend::Backend) -> Self {
        self.efc = Some(efc);
        self
    }

    /// With the OCPI front door.
    pub fn with_ocpi(mut self, ocpi: unicharge_ocpi_server::Ocpi) -> Self {
        self.ocpi = Some(ocpi);
        self
    }

    /// With the running node's Diameter peers.
    pub fn with_diameter(mut self, peers: diameter::SharedPeers) -> Self {
        self.diameter = Some(peers);
        self
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "unicharge operator API",
        description = "Stations, what they reported, and the OCPP requests the CSMS sends them. \
                       Authenticate with `Authorization: Bearer <API key>`."
    ),
    paths(
        stations::list_stations,
        stations::create_station,
        stations::get_station,
        stations::update_station,
        stations::delete_station,
        stations::connectors,
        stations::events,
        stations::security_events,
        stations::command_log,
        commands::ocpp_command,
        provisioning::get_variables,
        provisioning::set_variables,
        provisioning::device_model,
        provisioning::request_report,
        provisioning::get_report,
        provisioning::reset,
        provisioning::set_network_profile,
        availability::change_availability,
        availability::trigger_message,
        security::rotate_password,
        security::upgrade_security_profile,
        security::renew_certificate,
        security::certificates,
        tokens::list_tokens,
        tokens::put_token,
        tokens::delete_token,
        personal_data::get_personal_data,
        personal_data::erase,
        local_list::get_local_list,
        local_list::send_full_list,
        local_list::send_differential_list,
        local_list::get_local_list_version,
        transactions::list_transactions,
        transactions::get_transaction,
        transactions::meter_values,
        transactions::start_transaction,
        transactions::stop_transaction,
        transactions::transaction_status,
        transactions::list_charge_records,
        transactions::get_charge_record,
        efc::list_obes,
        efc::list_reports,
        efc::put_obe,
        efc::list_contracts,
        efc::put_contract,
        efc::queue_update,
        efc::list_updates,
        accounts::list_accounts,
        accounts::open_account,
        accounts::get_account,
        accounts::apply_operation,
        accounts::list_movements,
        diameter::list_peers,
        diameter::list_sessions,
        diameter::list_charge_records,
        ro::list_subscribers,
        ro::put_subscriber,
        ro::list_tariffs,
        ro::put_tariff,
        ro::list_sessions,
        ro::terminate_session,
        ro::abort_session,
        ro::reauthorize_session,
        remote_control::unlock_connector,
        remote_control::clear_cache,
        reservations::reserve_now,
        reservations::list_reservations,
        reservations::cancel_reservation,
        tariffs::list_tariffs,
        tariffs::put_tariff,
        tariffs::get_tariff,
        tariffs::delete_tariff,
        tariffs::list_assignments,
        tariffs::add_assignment,
        tariffs::delete_assignment,
        tariffs::station_tariff,
        smart_charging::set_charging_profile,
        smart_charging::list_charging_profiles,
        smart_charging::clear_charging_profile,
        smart_charging::get_charging_profiles,
        smart_charging::charging_profile_report,
        smart_charging::get_composite_schedule,
        smart_charging::list_composite_schedules,
        smart_charging::list_charging_limits,
        smart_charging::evse_allowed,
        site_load::list_site_groups,
        site_load::put_site_group,
        site_load::get_site_group,
        site_load::delete_site_group,
        site_load::site_group_history,
        firmware::update_firmware,
        firmware::list_updates,
        firmware::get_update,
        firmware::publish_firmware,
        firmware::list_publications,
        firmware::get_publication,
        firmware::unpublish_firmware,
        files::upload_firmware,
        files::list_firmware,
        diagnostics::get_log,
        log_files::list_log_files,
        campaigns::start_campaign,
        campaigns::list_campaigns,
        campaigns::get_campaign,
        campaigns::pause,
        campaigns::resume,
        campaigns::abort,
        log_files::get_log_file,
        log_files::log_file_content,
        diagnostics::list_logs,
        diagnostics::log_request,
        diagnostics::get_monitoring_report,
        diagnostics::monitoring_report,
        diagnostics::set_monitoring_base,
        diagnostics::set_monitoring_level,
        diagnostics::set_variable_monitoring,
        diagnostics::clear_variable_monitoring,
        diagnostics::list_monitors,
        diagnostics::alerts,
        diagnostics::customer_information,
        diagnostics::customer_information_report,
        data_transfer::data_transfer,
        certificate_management::install_certificate,
        certificate_management::get_installed_certificate_ids,
        certificate_management::list_installed,
        certificate_management::delete_certificate,
        display::set_display_message,
        display::list_display_messages,
        display::get_display_messages,
        display::display_message_report,
        display::clear_display_message,
        ocpi::outbox,
        ocpi::hub_clients,
        ocpi::received,
        ocpi::send_command,
        ocpi::send_driver_message,
        ocpi::push_driver_message,
        ocpi::partner_personal_data,
        ocpi::partner_erase,
        ocpi::list_cdr_verdicts,
        ocpi::put_cdr_verdict,
        ocpi::list_commands,
        ocpi::put_charging_profile,
        ocpi::get_active_charging_profile,
        ocpi::clear_charging_profile,
        ocpi::list_charging_profiles,
        ocpi_sync::start_sync,
        ocpi_sync::sync_status,
        ocpi_sync::rotate_now,
        ocpi_sync::rotation_status,
        ocpi_buc::put_parties,
        ocpi_buc::published_roles,
        ocpi_buc::put_limits,
        ocpi_buc::get_limits,
        ocpi_buc::delete_limits,
        ocpi_buc::put_sharing,
        ocpi_buc::get_sharing,
        ocpi_signing::get_keys,
        ocpi_signing::trust_key,
        ocpi_signing::distrust_key,
        ocpi_signing::refresh_keys,
    ),
    components(schemas(
        stations::StationView,
        stations::CreateStation,
        stations::CreatedStation,
        stations::UpdateStation,
        stations::ConnectorView,
        stations::EventView,
        stations::SecurityEventView,
        stations::CommandView,
        error::ErrorBody,
        provisioning::VariableRef,
        provisioning::GetVariablesBody,
        provisioning::SetVariableItem,
        provisioning::SetVariablesBody,
        provisioning::VariableResults,
        provisioning::DeviceModelEntry,
        provisioning::DeviceModel,
        provisioning::ReportBody,
        provisioning::ReportRequested,
        provisioning::Report,
        provisioning::ResetBody,
        provisioning::NetworkProfileBody,
        availability::AvailabilityBody,
        availability::TriggerBody,
        security::PasswordRotated,
        security::SecurityProfileBody,
        security::SecurityProfileUpgraded,
        security::UpgradeStep,
        security::CertificateView,
        tokens::TokenView,
        tokens::TokenBody,
        personal_data::PersonalDataView,
        personal_data::ErasureView,
        local_list::ListEntry,
        local_list::LocalListEntryView,
        local_list::LocalListView,
        local_list::FullListBody,
        local_list::DifferentialBody,
        local_list::LocalListSent,
        local_list::LocalListVersion,
        transactions::TransactionFields,
        transactions::TransactionView,
        transactions::TransactionList,
        transactions::TransactionEventView,
        transactions::MeterValueView,
        transactions::MeterValueList,
        transactions::TransactionDetail,
        transactions::IdTokenBody,
        transactions::StartTransactionBody,
        transactions::StartTransactionAnswer,
        transactions::TransactionStatusBody,
        transactions::TransactionStatusAnswer,
        transactions::ChargeRecordList,
        remote_control::UnlockBody,
        remote_control::StatusAnswer,
        reservations::ReserveBody,
        reservations::Reserved,
        reservations::ReservationView,
        reservations::ReservationList,
        tariffs::TariffTextDoc,
        tariffs::TariffDoc,
        ocpi::PushDoc,
        ocpi::OutboxDoc,
        ocpi::ClientInfoDoc,
        ocpi::CostDoc,
        ocpi::ReceivedDoc,
        ocpi::CommandRequestDoc,
        ocpi::CommandDoc,
        ocpi::DriverMessageDoc,
        ocpi::VerdictDoc,
        ocpi::VerdictRequestDoc,
        ocpi::DriverMessageSentDoc,
        ocpi::PushDriverMessageDoc,
        ocpi::SetChargingProfileDoc,
        ocpi::ActiveRequestDoc,
        ocpi::ProfileRequestDoc,
        ocpi_sync::SyncBody,
        ocpi_sync::SyncDoc,
        ocpi_sync::ModuleDoc,
        ocpi_sync::RotationDoc,
        ocpi_buc::PartiesBody,
        ocpi_buc::PublishedDoc,
        ocpi_buc::LimitsDoc,
        ocpi_buc::LimitsStateDoc,
        ocpi_buc::SharingBody,
        ocpi_buc::SharingDoc,
        ocpi_signing::TrustBody,
        ocpi_signing::SigningDoc,
        tariffs::TariffList,
        tariffs::AssignmentBody,
        tariffs::AssignmentView,
        tariffs::AssignmentList,
        tariffs::StationTariff,
        smart_charging::SetProfileBody,
        site_load::SiteGroupBody,
        site_load::SiteGroupView,
        site_load::SiteGroupList,
        site_load::EvseAllocationView,
        site_load::AllocationChangeView,
        site_load::AllocationHistory,
        tracked::RequestSent,
        tracked::PartView,
        tracked::TrackedView,
        tracked::TrackedList,
        firmware::UpdateFirmwareBody,
        firmware::PublishFirmwareBody,
        firmware::UnpublishFirmwareBody,
        diagnostics::GetLogBody,
        log_files::LogFileView,
        log_files::LogFileList,
        campaigns::StationFilter,
        campaigns::StartCampaignBody,
        campaigns::CampaignStationView,
        campaigns::CampaignCounts,
        campaigns::CampaignView,
        campaigns::CampaignList,
        diagnostics::LogRequested,
        diagnostics::MonitoringReportBody,
        diagnostics::MonitoringBaseBody,
        diagnostics::MonitoringLevelBody,
        diagnostics::SetMonitorsBody,
        diagnostics::MonitorResults,
        diagnostics::ClearMonitorsBody,
        diagnostics::MonitorView,
        diagnostics::AlertView,
        diagnostics::CustomerInformationBody,
        smart_charging::ProfileSet,
        smart_charging::ChargingProfileView,
        smart_charging::ChargingProfileList,
        smart_charging::ClearBody,
        smart_charging::GetProfilesBody,
        smart_charging::ProfilesRequested,
        smart_charging::ReportPartView,
        smart_charging::ChargingProfileReportView,
        smart_charging::CompositeBody,
        smart_charging::CompositeView,
        smart_charging::CompositeList,
        smart_charging::ChargingLimitView,
        smart_charging::ChargingLimitList,
        smart_charging::AllowedPeriod,
        smart_charging::AllowedView,
        diameter::DiameterPeerView,
        diameter::DiameterPeerList,
        diameter::AccountingSessionView,
        diameter::AccountingSessionList,
        ro::SubscriberView,
        ro::SubscriberList,
        ro::TariffView,
        ro::PeerAnswer,
        ro::TariffList,
        ro::RoGrantView,
        ro::RoSessionView,
        ro::RoSessionList,
        data_transfer::DataTransferBody,
        data_transfer::DataTransferAnswerView,
        certificate_management::InstallBody,
        certificate_management::InstalledIdsBody,
        certificate_management::InstalledCertificateView,
        certificate_management::InstalledCertificateList,
        certificate_management::DeleteBody,
        certificate_management::DeletedView,
        display::SetDisplayMessageBody,
        display::MessageSetView,
        display::MessagesSetView,
        display::DisplayMessageView,
        display::DisplayMessageList,
        display::GetMessagesBody,
        display::MessagesRequestedView,
        display::MessageReportPartView,
        display::DisplayMessageReportView,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `uc_<id>_<secret>`"))
                    .build(),
            ),
        );
    }
}

/// The API's routes, to be merged into the HTTP server.
pub fn router(state: ApiState) -> Router {
    let state_for_ui = state.clone();
    let api = Router::new()
        .merge(stations::routes())
        .merge(commands::routes())
        .merge(provisioning::routes())
        .merge(availability::routes())
        .merge(security::routes())
        .merge(tokens::routes())
        .merge(personal_data::routes())
        .merge(local_list::routes())
        .merge(transactions::routes())
        .merge(remote_control::routes())
        .merge(reservations::routes())
        .merge(tariffs::routes())
        .merge(efc::routes())
        .merge(ocpi::routes())
        .merge(ocpi_sync::routes())
        .merge(ocpi_buc::routes())
        .merge(ocpi_signing::routes())
        .merge(accounts::routes())
        .merge(diameter::routes())
        .merge(ro::routes())
        .merge(smart_charging::routes())
        .merge(site_load::routes())
        .merge(firmware::routes())
        .merge(diagnostics::routes())
        .merge(files::routes())
        .merge(log_files::routes())
        .merge(campaigns::routes())
        .merge(data_transfer::routes())
        .merge(display::routes())
        .merge(certificate_management::routes())
        .with_state(state);
    Router::new()
        .merge(ui::routes(state_for_ui))
        .merge(api)
        .merge(SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", ApiDoc::openapi()))
}
