//! `impl Store for PgStore`: every method is the inherent method of the same name in the
//! area's file (`registry.rs`, `tokens.rs`, …), so each area reads as one unit with its SQL,
//! and this file only says that the PostgreSQL store is a [`Store`].
//!
//! An inherent method that is missing would make its line here call the trait method itself,
//! forever: the test below checks that every name has its `pub async fn` in another file.

use async_trait::async_trait;
use unicharge_core::{RegistrationStatus, SecurityProfile, Station, StationId};

use super::PgStore;
use crate::*;

#[async_trait]
impl Store for PgStore {
    async fn create_station(&self, station: &Station) -> Result<()> {
        PgStore::create_station(self, station).await
    }

    async fn upsert_station(&self, station: &Station) -> Result<()> {
        PgStore::upsert_station(self, station).await
    }

    async fn get_station(&self, id: &StationId) -> Result<Option<Station>> {
        PgStore::get_station(self, id).await
    }

    async fn list_stations(&self) -> Result<Vec<Station>> {
        PgStore::list_stations(self).await
    }

    async fn delete_station(&self, id: &StationId) -> Result<bool> {
        PgStore::delete_station(self, id).await
    }

    async fn set_password_hash(&self, id: &StationId, hash: Option<&str>) -> Result<bool> {
        PgStore::set_password_hash(self, id, hash).await
    }

    async fn set_security_profile(&self, id: &StationId, profile: SecurityProfile) -> Result<bool> {
        PgStore::set_security_profile(self, id, profile).await
    }

    async fn set_pending_security_profile(
        &self,
        id: &StationId,
        profile: Option<SecurityProfile>,
    ) -> Result<bool> {
        PgStore::set_pending_security_profile(self, id, profile).await
    }

    async fn set_provisioned(
        &self,
        id: &StationId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        PgStore::set_provisioned(self, id, at).await
    }

    async fn set_preferred_ocpp_version(
        &self,
        id: &StationId,
        version: Option<&str>,
    ) -> Result<bool> {
        PgStore::set_preferred_ocpp_version(self, id, version).await
    }

    async fn set_registration(&self, id: &StationId, status: RegistrationStatus) -> Result<bool> {
        PgStore::set_registration(self, id, status).await
    }

    async fn write(&self, batch: Vec<Write>) -> Result<()> {
        PgStore::write(self, batch).await
    }

    async fn prune_answers(&self, before: chrono::DateTime<chrono::Utc>) -> Result<u64> {
        PgStore::prune_answers(self, before).await
    }

    async fn find_answer(
        &self,
        station: &StationId,
        message_id: &str,
    ) -> Result<Option<StoredAnswer>> {
        PgStore::find_answer(self, station, message_id).await
    }

    async fn connectors(&self, station: &StationId) -> Result<Vec<ConnectorRecord>> {
        PgStore::connectors(self, station).await
    }

    async fn events(&self, station: &StationId, limit: u32) -> Result<Vec<EventRecord>> {
        PgStore::events(self, station, limit).await
    }

    async fn security_events(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<SecurityEventRecord>> {
        PgStore::security_events(self, station, limit).await
    }

    async fn commands(&self, station: &StationId, limit: u32) -> Result<Vec<CommandRecord>> {
        PgStore::commands(self, station, limit).await
    }

    async fn device_model(&self, station: &StationId) -> Result<Vec<VariableRecord>> {
        PgStore::device_model(self, station).await
    }

    async fn create_report(&self, report: &ReportRecord) -> Result<()> {
        PgStore::create_report(self, report).await
    }

    async fn set_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()> {
        PgStore::set_report_status(self, station, request_id, status).await
    }

    async fn next_report_request_id(&self, station: &StationId) -> Result<i64> {
        PgStore::next_report_request_id(self, station).await
    }

    async fn report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<Option<(ReportRecord, Vec<ReportPart>)>> {
        PgStore::report(self, station, request_id).await
    }

    async fn issued_certificates(&self, station: &StationId) -> Result<Vec<IssuedCertificate>> {
        PgStore::issued_certificates(self, station).await
    }

    async fn upsert_token(&self, token: &unicharge_core::tokens::IdTokenRecord) -> Result<()> {
        PgStore::upsert_token(self, token).await
    }

    async fn find_token(
        &self,
        id_token: &str,
        kind: &str,
    ) -> Result<Option<unicharge_core::tokens::IdTokenRecord>> {
        PgStore::find_token(self, id_token, kind).await
    }

    async fn list_tokens(&self) -> Result<Vec<unicharge_core::tokens::IdTokenRecord>> {
        PgStore::list_tokens(self).await
    }

    async fn delete_token(&self, id_token: &str, kind: &str) -> Result<bool> {
        PgStore::delete_token(self, id_token, kind).await
    }

    async fn transaction(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Option<TransactionRecord>> {
        PgStore::transaction(self, station, transaction_id).await
    }

    async fn transactions(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<TransactionRecord>> {
        PgStore::transactions(self, station, limit).await
    }

    async fn mark_transaction_forgotten(
        &self,
        station: &StationId,
        transaction_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        PgStore::mark_transaction_forgotten(self, station, transaction_id, at).await
    }

    async fn transaction_events(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Vec<TransactionEventRecord>> {
        PgStore::transaction_events(self, station, transaction_id).await
    }

    async fn transaction_event_seen(
        &self,
        station: &StationId,
        transaction_id: &str,
        seq_no: i64,
    ) -> Result<bool> {
        PgStore::transaction_event_seen(self, station, transaction_id, seq_no).await
    }

    async fn metered_usage(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Option<unicharge_core::metering::MeteredUsage>> {
        PgStore::metered_usage(self, station, transaction_id).await
    }

    async fn metered_series(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<MeteredSeries> {
        PgStore::metered_series(self, station, transaction_id).await
    }

    async fn station_notices(&self, station: &StationId, limit: u32) -> Result<Vec<StationNotice>> {
        PgStore::station_notices(self, station, limit).await
    }

    async fn meter_values(
        &self,
        station: &StationId,
        filter: &MeterValueFilter,
    ) -> Result<Vec<MeterValueRecord>> {
        PgStore::meter_values(self, station, filter).await
    }

    async fn local_list(&self, station: &StationId) -> Result<LocalList> {
        PgStore::local_list(self, station).await
    }

    async fn put_local_list(
        &self,
        station: &StationId,
        version: i64,
        entries: &[(String, String)],
    ) -> Result<()> {
        PgStore::put_local_list(self, station, version, entries).await
    }

    async fn set_local_list_station_state(
        &self,
        station: &StationId,
        last_status: Option<&str>,
        station_version: Option<i64>,
    ) -> Result<()> {
        PgStore::set_local_list_station_state(self, station, last_status, station_version).await
    }

    async fn ocpp16_transaction_id(
        &self,
        station: &StationId,
        connector_id: i64,
        id_tag: &str,
        started_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<i64> {
        PgStore::ocpp16_transaction_id(self, station, connector_id, id_tag, started_at).await
    }

    async fn create_remote_start(
        &self,
        station: &StationId,
        id_token: &str,
        id_token_type: &str,
        evse_id: Option<i64>,
    ) -> Result<i64> {
        PgStore::create_remote_start(self, station, id_token, id_token_type, evse_id).await
    }

    async fn set_remote_start_outcome(
        &self,
        id: i64,
        status: &str,
        transaction_id: Option<&str>,
    ) -> Result<()> {
        PgStore::set_remote_start_outcome(self, id, status, transaction_id).await
    }

    async fn remote_start(&self, id: i64) -> Result<Option<RemoteStartRecord>> {
        PgStore::remote_start(self, id).await
    }

    async fn open_remote_start(
        &self,
        station: &StationId,
        id_token: &str,
        evse_id: i64,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<i64>> {
        PgStore::open_remote_start(self, station, id_token, evse_id, since).await
    }

    async fn create_reservation(&self, reservation: &ReservationRecord) -> Result<i64> {
        PgStore::create_reservation(self, reservation).await
    }

    async fn set_reservation_status(
        &self,
        station: &StationId,
        id: i64,
        status: &str,
    ) -> Result<bool> {
        PgStore::set_reservation_status(self, station, id, status).await
    }

    async fn reservation(&self, station: &StationId, id: i64) -> Result<Option<ReservationRecord>> {
        PgStore::reservation(self, station, id).await
    }

    async fn reservations(&self, station: &StationId) -> Result<Vec<ReservationRecord>> {
        PgStore::reservations(self, station).await
    }

    async fn put_tariff(&self, tariff: &unicharge_core::tariff::Tariff) -> Result<()> {
        PgStore::put_tariff(self, tariff).await
    }

    async fn tariffs(&self) -> Result<Vec<unicharge_core::tariff::Tariff>> {
        PgStore::tariffs(self).await
    }

    async fn delete_tariff(&self, id: &str) -> Result<bool> {
        PgStore::delete_tariff(self, id).await
    }

    async fn add_tariff_assignment(
        &self,
        assignment: &unicharge_core::tariff::TariffAssignment,
    ) -> Result<i64> {
        PgStore::add_tariff_assignment(self, assignment).await
    }

    async fn tariff_assignments(
        &self,
    ) -> Result<Vec<(i64, unicharge_core::tariff::TariffAssignment)>> {
        PgStore::tariff_assignments(self).await
    }

    async fn delete_tariff_assignment(&self, id: i64) -> Result<bool> {
        PgStore::delete_tariff_assignment(self, id).await
    }

    async fn charge_record(
        &self,
        id: &str,
    ) -> Result<Option<unicharge_core::charge_record::ChargeRecord>> {
        PgStore::charge_record(self, id).await
    }

    async fn accounting_records(
        &self,
        session_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccountingRecordRow>> {
        PgStore::accounting_records(self, session_id, limit).await
    }

    async fn charge_records(
        &self,
        station: Option<&StationId>,
        limit: u32,
    ) -> Result<Vec<unicharge_core::charge_record::ChargeRecord>> {
        PgStore::charge_records(self, station, limit).await
    }

    async fn accounting_sessions(
        &self,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccountingSessionRow>> {
        PgStore::accounting_sessions(self, state, limit).await
    }

    async fn ro_put_subscriber(&self, s: &unicharge_core::online::Subscriber) -> Result<()> {
        PgStore::ro_put_subscriber(self, s).await
    }

    async fn ro_subscriber(
        &self,
        id_type: &str,
        id_data: &str,
    ) -> Result<Option<unicharge_core::online::Subscriber>> {
        PgStore::ro_subscriber(self, id_type, id_data).await
    }

    async fn ro_subscribers(&self) -> Result<Vec<unicharge_core::online::Subscriber>> {
        PgStore::ro_subscribers(self).await
    }

    async fn ro_put_tariff(&self, t: &unicharge_core::online::OnlineTariff) -> Result<()> {
        PgStore::ro_put_tariff(self, t).await
    }

    async fn ro_tariffs(
        &self,
    ) -> Result<std::sync::Arc<Vec<unicharge_core::online::OnlineTariff>>> {
        PgStore::ro_tariffs(self).await
    }

    async fn ro_session(&self, session_id: &str) -> Result<Option<ro::RoSessionRow>> {
        PgStore::ro_session(self, session_id).await
    }

    async fn ro_open_sessions_of(
        &self,
        account: &str,
        limit: u32,
    ) -> Result<Vec<ro::RoSessionRow>> {
        PgStore::ro_open_sessions_of(self, account, limit).await
    }

    async fn ro_sessions(&self, state: Option<&str>, limit: u32) -> Result<Vec<ro::RoSessionRow>> {
        PgStore::ro_sessions(self, state, limit).await
    }

    async fn ro_expired_sessions(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ro::RoSessionRow>> {
        PgStore::ro_expired_sessions(self, now).await
    }

    async fn ro_request_termination(&self, session_id: &str) -> Result<bool> {
        PgStore::ro_request_termination(self, session_id).await
    }

    async fn ro_session_with_answers(
        &self,
        session_id: &str,
    ) -> Result<(Option<ro::RoSessionRow>, Vec<ro::RoAnswerRow>)> {
        PgStore::ro_session_with_answers(self, session_id).await
    }

    async fn ro_answer(
        &self,
        session_id: &str,
        request_number: i64,
    ) -> Result<Option<ro::RoAnswerRow>> {
        PgStore::ro_answer(self, session_id, request_number).await
    }

    async fn charge_records_with_station_prefix(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<unicharge_core::charge_record::ChargeRecord>> {
        PgStore::charge_records_with_station_prefix(self, prefix, limit).await
    }

    async fn upsert_efc_obe(&self, obe: &efc::EfcObe) -> Result<()> {
        PgStore::upsert_efc_obe(self, obe).await
    }

    async fn efc_obe(&self, obe_key: &str) -> Result<Option<efc::EfcObe>> {
        PgStore::efc_obe(self, obe_key).await
    }

    async fn efc_obes(&self) -> Result<Vec<efc::EfcObe>> {
        PgStore::efc_obes(self).await
    }

    async fn efc_reports(
        &self,
        obe_key: Option<&str>,
        limit: u32,
    ) -> Result<Vec<efc::EfcReportRecord>> {
        PgStore::efc_reports(self, obe_key, limit).await
    }

    async fn efc_report_by_counter(
        &self,
        obe_key: &str,
        counter: u32,
    ) -> Result<Option<efc::EfcReportRecord>> {
        PgStore::efc_report_by_counter(self, obe_key, counter).await
    }

    async fn efc_last_mileage(&self, contract_key: &str) -> Result<Option<efc::EfcReportRecord>> {
        PgStore::efc_last_mileage(self, contract_key).await
    }

    async fn enqueue_efc_update(&self, update: &efc::EfcQueuedUpdate) -> Result<i64> {
        PgStore::enqueue_efc_update(self, update).await
    }

    async fn efc_pending_updates(&self, obe_key: &str) -> Result<Vec<efc::EfcQueuedUpdate>> {
        PgStore::efc_pending_updates(self, obe_key).await
    }

    async fn upsert_efc_contract(&self, contract: &efc::EfcContract) -> Result<()> {
        PgStore::upsert_efc_contract(self, contract).await
    }

    async fn efc_contract(&self, contract_key: &str) -> Result<Option<efc::EfcContract>> {
        PgStore::efc_contract(self, contract_key).await
    }

    async fn efc_contracts(&self) -> Result<Vec<efc::EfcContract>> {
        PgStore::efc_contracts(self).await
    }

    async fn ledger_open(&self, account: &unicharge_core::ledger::Account) -> Result<()> {
        PgStore::ledger_open(self, account).await
    }

    async fn ledger_set_label(&self, id: &str, label: &str) -> Result<bool> {
        PgStore::ledger_set_label(self, id, label).await
    }

    async fn ledger_apply(
        &self,
        request: &unicharge_core::ledger::Request,
    ) -> Result<unicharge_core::ledger::Movement> {
        PgStore::ledger_apply(self, request).await
    }

    async fn ledger_account(&self, id: &str) -> Result<Option<unicharge_core::ledger::Account>> {
        PgStore::ledger_account(self, id).await
    }

    async fn ledger_accounts(&self) -> Result<Vec<unicharge_core::ledger::Account>> {
        PgStore::ledger_accounts(self).await
    }

    async fn ledger_movements(
        &self,
        account: &str,
        limit: u32,
    ) -> Result<Vec<unicharge_core::ledger::Movement>> {
        PgStore::ledger_movements(self, account, limit).await
    }

    async fn ledger_movement(
        &self,
        account: &str,
        reference: &str,
    ) -> Result<Option<unicharge_core::ledger::Movement>> {
        PgStore::ledger_movement(self, account, reference).await
    }

    async fn put_charging_profile(&self, profile: &ChargingProfileRecord) -> Result<()> {
        PgStore::put_charging_profile(self, profile).await
    }

    async fn set_charging_profile_status(
        &self,
        station: &StationId,
        profile_id: i64,
        status: &str,
        status_info: Option<&str>,
    ) -> Result<bool> {
        PgStore::set_charging_profile_status(self, station, profile_id, status, status_info).await
    }

    async fn charging_profiles(&self, station: &StationId) -> Result<Vec<ChargingProfileRecord>> {
        PgStore::charging_profiles(self, station).await
    }

    async fn clear_charging_profiles(
        &self,
        station: &StationId,
        profile_ids: &[i64],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        PgStore::clear_charging_profiles(self, station, profile_ids, at).await
    }

    async fn create_charging_profile_report(&self, report: &ChargingProfileReport) -> Result<()> {
        PgStore::create_charging_profile_report(self, report).await
    }

    async fn set_charging_profile_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()> {
        PgStore::set_charging_profile_report_status(self, station, request_id, status).await
    }

    async fn next_charging_profile_request_id(&self, station: &StationId) -> Result<i64> {
        PgStore::next_charging_profile_request_id(self, station).await
    }

    async fn charging_profile_report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<Option<(ChargingProfileReport, Vec<ChargingProfileReportPart>)>> {
        PgStore::charging_profile_report(self, station, request_id).await
    }

    async fn add_composite_schedule(&self, schedule: &CompositeScheduleRecord) -> Result<i64> {
        PgStore::add_composite_schedule(self, schedule).await
    }

    async fn composite_schedules(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<CompositeScheduleRecord>> {
        PgStore::composite_schedules(self, station, limit).await
    }

    async fn charging_limits(&self, station: &StationId) -> Result<Vec<ChargingLimitRecord>> {
        PgStore::charging_limits(self, station).await
    }

    async fn put_site_group(&self, group: &SiteGroup) -> Result<()> {
        PgStore::put_site_group(self, group).await
    }

    async fn site_groups(&self) -> Result<Vec<SiteGroup>> {
        PgStore::site_groups(self).await
    }

    async fn delete_site_group(&self, id: &str) -> Result<bool> {
        PgStore::delete_site_group(self, id).await
    }

    async fn add_site_allocation(&self, allocation: &SiteAllocationRecord) -> Result<()> {
        PgStore::add_site_allocation(self, allocation).await
    }

    async fn site_allocations(
        &self,
        group_id: &str,
        limit: u32,
    ) -> Result<Vec<SiteAllocationRecord>> {
        PgStore::site_allocations(self, group_id, limit).await
    }

    async fn create_tracked_request(&self, request: &tracked::TrackedRequest) -> Result<()> {
        PgStore::create_tracked_request(self, request).await
    }

    async fn set_tracked_answer(
        &self,
        station: &StationId,
        kind: tracked::TrackedKind,
        request_id: i64,
        answer: &str,
        complete: bool,
    ) -> Result<bool> {
        PgStore::set_tracked_answer(self, station, kind, request_id, answer, complete).await
    }

    async fn next_tracked_request_id(
        &self,
        station: &StationId,
        kind: tracked::TrackedKind,
    ) -> Result<i64> {
        PgStore::next_tracked_request_id(self, station, kind).await
    }

    async fn tracked_requests(
        &self,
        station: &StationId,
        kind: tracked::TrackedKind,
        limit: u32,
    ) -> Result<Vec<tracked::TrackedRequest>> {
        PgStore::tracked_requests(self, station, kind, limit).await
    }

    async fn tracked_request(
        &self,
        station: &StationId,
        kind: tracked::TrackedKind,
        request_id: i64,
    ) -> Result<Option<(tracked::TrackedRequest, Vec<tracked::TrackedPart>)>> {
        PgStore::tracked_request(self, station, kind, request_id).await
    }

    async fn put_variable_monitor(&self, monitor: &tracked::VariableMonitorRecord) -> Result<()> {
        PgStore::put_variable_monitor(self, monitor).await
    }

    async fn clear_variable_monitors(
        &self,
        station: &StationId,
        monitor_ids: &[i64],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        PgStore::clear_variable_monitors(self, station, monitor_ids, at).await
    }

    async fn variable_monitors(
        &self,
        station: &StationId,
    ) -> Result<Vec<tracked::VariableMonitorRecord>> {
        PgStore::variable_monitors(self, station).await
    }

    async fn put_installed_certificate(&self, certificate: &InstalledCertificate) -> Result<()> {
        PgStore::put_installed_certificate(self, certificate).await
    }

    async fn installed_certificates(
        &self,
        station: &StationId,
    ) -> Result<Vec<InstalledCertificate>> {
        PgStore::installed_certificates(self, station).await
    }

    async fn mark_certificate_deleted(
        &self,
        station: &StationId,
        hash: &CertificateHash,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        PgStore::mark_certificate_deleted(self, station, hash, at).await
    }

    async fn put_display_message(&self, message: &DisplayMessageRecord) -> Result<()> {
        PgStore::put_display_message(self, message).await
    }

    async fn set_display_message_status(
        &self,
        station: &StationId,
        message_id: i64,
        status: &str,
        status_info: Option<&str>,
    ) -> Result<bool> {
        PgStore::set_display_message_status(self, station, message_id, status, status_info).await
    }

    async fn display_messages(&self, station: &StationId) -> Result<Vec<DisplayMessageRecord>> {
        PgStore::display_messages(self, station).await
    }

    async fn clear_display_message(
        &self,
        station: &StationId,
        message_id: i64,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        PgStore::clear_display_message(self, station, message_id, at).await
    }

    async fn create_display_message_report(&self, report: &DisplayMessageReport) -> Result<i64> {
        PgStore::create_display_message_report(self, report).await
    }

    async fn set_display_message_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()> {
        PgStore::set_display_message_report_status(self, station, request_id, status).await
    }

    async fn display_message_report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<Option<(DisplayMessageReport, Vec<DisplayMessageReportPart>)>> {
        PgStore::display_message_report(self, station, request_id).await
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<()> {
        PgStore::create_api_key(self, key).await
    }

    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        PgStore::get_api_key(self, id).await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        PgStore::list_api_keys(self).await
    }

    async fn revoke_api_key(&self, id: &str) -> Result<bool> {
        PgStore::revoke_api_key(self, id).await
    }

    async fn station_page(&self, query: &views::StationQuery) -> Result<views::StationPage> {
        PgStore::station_page(self, query).await
    }

    async fn fleet_figures(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<views::FleetFigures> {
        PgStore::fleet_figures(self, since).await
    }

    async fn daily_figures(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<views::DailyFigures>> {
        PgStore::daily_figures(self, since).await
    }

    async fn transaction_page(
        &self,
        active_only: bool,
        limit: u32,
        offset: u64,
    ) -> Result<views::TransactionPage> {
        PgStore::transaction_page(self, active_only, limit, offset).await
    }

    async fn charge_record_page(&self, limit: u32, offset: u64) -> Result<views::ChargeRecordPage> {
        PgStore::charge_record_page(self, limit, offset).await
    }

    async fn personal_data(&self, id_token: &str) -> Result<PersonalData> {
        PgStore::personal_data(self, id_token).await
    }

    async fn erase_personal_data(
        &self,
        id_token: &str,
        key: &[u8],
        erased_by: &str,
    ) -> Result<Erasure> {
        PgStore::erase_personal_data(self, id_token, key, erased_by).await
    }

    async fn add_log_file(&self, file: &campaigns::LogFileRecord) -> Result<i64> {
        PgStore::add_log_file(self, file).await
    }

    async fn log_files(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<campaigns::LogFileRecord>> {
        PgStore::log_files(self, station, limit).await
    }

    async fn log_file(&self, id: i64) -> Result<Option<campaigns::LogFileRecord>> {
        PgStore::log_file(self, id).await
    }

    async fn create_campaign(
        &self,
        campaign: &campaigns::CampaignRecord,
        stations: &[campaigns::CampaignStationRecord],
    ) -> Result<i64> {
        PgStore::create_campaign(self, campaign, stations).await
    }

    async fn put_campaign_stations(
        &self,
        stations: &[campaigns::CampaignStationRecord],
    ) -> Result<()> {
        PgStore::put_campaign_stations(self, stations).await
    }

    async fn set_campaign_state(&self, id: i64, state: &str) -> Result<bool> {
        PgStore::set_campaign_state(self, id, state).await
    }

    async fn campaigns(&self) -> Result<Vec<campaigns::CampaignRecord>> {
        PgStore::campaigns(self).await
    }

    async fn campaign(&self, id: i64) -> Result<Option<campaigns::CampaignRecord>> {
        PgStore::campaign(self, id).await
    }

    async fn campaign_stations(&self, id: i64) -> Result<Vec<campaigns::CampaignStationRecord>> {
        PgStore::campaign_stations(self, id).await
    }
}

#[cfg(test)]
mod tests {
    /// Each `PgStore::name(` above has `pub async fn name` in one of the area files.
    #[test]
    fn every_delegated_method_is_an_inherent_method() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/postgres");
        let mut inherent = String::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap() != "store.rs" {
                inherent.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
        let this = include_str!("store.rs");
        let mut checked = 0;
        for call in this.split("PgStore::").skip(1) {
            let name: String = call
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !call[name.len()..].starts_with("(self") {
                continue;
            }
            assert!(
                inherent.contains(&format!("pub async fn {name}(")),
                "PgStore::{name} has no inherent method: the trait method would call itself"
            );
            checked += 1;
        }
        assert_eq!(checked, 144, "one delegation per Store method");
    }
}
