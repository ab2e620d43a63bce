//! OCPI 2.2.1 and 2.3.0 over HTTP: the front door roaming partners use (issue 12, ADR 0033).
//!
//! Everything a partner reaches is under `/ocpi` on the operator API's listener:
//!
//! * [`versions`]: `GET /ocpi/versions` and the version details `GET /ocpi/{version}`;
//! * [`credentials`]: registration with tokens A / B / C, update, unregister;
//! * CPO modules fed by the CSMS: [`locations`] (stations and operator-added location data),
//!   [`sessions`] (OCPP transactions), [`cdrs`] (charge records), [`commands`] (START_SESSION /
//!   STOP_SESSION → the CSMS's typed remote start / stop), [`charging_profiles`] (an eMSP's
//!   profile for its session → the CSMS's block-K operations), [`tokens`] (eMSP tokens → CSMS tokens),
//!   [`tariffs`] (the core tariffs that price sessions), [`hub_client_info`] (a hub's connected
//!   parties).
//!
//! Pushes to partners' Receiver endpoints ([`push`]: EVSE status, sessions, CDRs, tariffs) go
//! through a durable outbox delivered by the [`outbox`] worker (ADR 0038).
//!
//! After a registration ([`onboard`], ADR 0041) the CPO role enqueues its [`full_view`] for the
//! partner and the eMSP role pulls the partner's Sender lists ([`emsp::sync`]); [`rotation`]
//! renews the credentials of partners we registered with (B8.1).
//!
//! Every request is tied to a [`partner`](unicharge_store::ocpi::Partner) by its credentials
//! token ([`auth`]); every object a partner reads or writes is scoped to the parties that partner
//! is registered with ([`scope`]). The operator creates partners and locations through
//! [`operator`] (used by the REST API and the CLI).

pub mod access;
pub mod auth;
pub mod cdr_verdicts;
pub mod cdrs;
pub mod charging_profiles;
pub mod client;
pub mod commands;
pub mod credentials;
pub mod driver_messages;
pub mod emsp;
pub mod full_view;
pub mod gdpr;
pub mod hub_client_info;
pub mod location_energy;
pub mod locations;
pub mod onboard;
pub mod operator;
pub mod outbox;
pub mod push;
pub mod reply;
pub mod roles;
pub mod rotation;
pub mod scope;
pub mod secrets;
pub mod session_index;
pub mod session_limits;
pub mod sessions;
pub mod settings;
pub mod sharing;
pub mod signing;
pub mod signing_keys;
pub mod sweep;
pub mod tariffs;
pub mod tokens;
pub mod versions;

use std::sync::{Arc, OnceLock};

use unicharge_csms::Csms;
use unicharge_store::ocpi::OcpiStore;
use unicharge_store::Store;

pub use settings::OcpiSettings;

/// The OCPI front door: cheap to clone, shared by the HTTP handlers and the operator API.
#[derive(Clone)]
pub struct Ocpi(Arc<Inner>);

struct Inner {
    settings: OcpiSettings,
    store: Arc<dyn Store>,
    ocpi: Arc<dyn OcpiStore>,
    csms: Csms,
    sealer: secrets::Sealer,
    http: reqwest::Client,
    /// Base URL of our OCPI endpoints as partners reach them (…/ocpi), set once bound.
    base_url: OnceLock<String>,
    /// Wakes the outbox worker when a push is written.
    outbox: outbox::Wakeup,
    /// Held while a location is written and its PUT enqueued, and while a status change
    /// enqueues EVSE PATCHes: a PATCH is never enqueued ahead of the PUT that brings its
    /// location to the partner (which would refuse it with 2003 and hold the queue).
    location_pushes: tokio::sync::Mutex<()>,
    /// The key of the GDPR pseudonyms (`<data_dir>/pseudonym.key`, the operator API's): an
    /// erasure asked by a partner must give the same pseudonym as one asked by the operator.
    pseudonym_key: OnceLock<Vec<u8>>,
    /// When each session's last ChargingProfiles request of each kind was accepted (TOO_OFTEN).
    charging_profile_requests: charging_profiles::Pace,
    /// Partners whose Sender lists are being pulled, with the pull asked for meanwhile (one
    /// pull per partner at a time, [`emsp::sync`]).
    syncing: emsp::sync::Runs,
    /// Held during a credentials rotation ([`rotation`]): the schedule and the operator never
    /// rotate at the same time.
    rotating: tokio::sync::Mutex<()>,
    /// Wakes the session-limits enforcer (B4.2, [`session_limits`]).
    limits: session_limits::Wakeup,
    /// Session id → transaction, for the Receiver calls that name a session.
    session_index: session_index::SessionIndex,
    /// Our signing key and the pace of partner key fetches (B8.5, [`signing`]).
    signatures: signing::Signatures,
}

impl Ocpi {
    /// `data_dir` holds the key that seals the tokens we send (`ocpi.key`, created 0600).
    ///
    /// Called inside the Tokio runtime, it also starts the pushes: a subscriber to the CSMS's
    /// facts (subscribed here, so no fact after start-up is missed) and the outbox worker.
    pub fn new(
        settings: OcpiSettings,
        store: Arc<dyn Store>,
        ocpi: Arc<dyn OcpiStore>,
        csms: Csms,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Ocpi> {
        settings.check()?;
        let sealer = secrets::Sealer::load_or_create(&data_dir.join("ocpi.key"))?;
        let signatures = signing::Signatures::load_or_create(&data_dir.join("ocpi-signing.key"))?;
        let http = reqwest::Client::builder()
            .timeout(settings.partner_timeout)
            .build()?;
        let base_url = OnceLock::new();
        if let Some(url) = &settings.public_url {
            let _ = base_url.set(url.trim_end_matches('/').to_string());
        }
        let facts = csms.subscribe();
        let limit_facts = csms.subscribe();
        let limits = session_limits::Wakeup::default();
        let wakeup = outbox::Wakeup::default();
        let this = Ocpi(Arc::new(Inner {
            settings,
            store,
            ocpi,
            csms,
            sealer,
            http,
            base_url,
            outbox: wakeup.clone(),
            location_pushes: tokio::sync::Mutex::new(()),
            pseudonym_key: OnceLock::new(),
            charging_profile_requests: charging_profiles::Pace::default(),
            syncing: Default::default(),
            rotating: Default::default(),
            limits: limits.clone(),
            session_index: Default::default(),
            signatures,
        }));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(push::run(this.clone(), facts));
                runtime.spawn(sweep::run(this.clone()));
                runtime.spawn(outbox::run(this.clone(), wakeup));
                runtime.spawn(rotation::run(this.clone()));
                runtime.spawn(roles::run(this.clone()));
                runtime.spawn(session_limits::run(this.clone(), limit_facts, limits));
            }
            Err(_) => tracing::warn!("OCPI pushes not started: no Tokio runtime"),
        }
        Ok(this)
    }

    /// Serialises location writes with EVSE status pushes (see `Inner::location_pushes`).
    pub(crate) async fn location_pushes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.0.location_pushes.lock().await
    }

    pub(crate) fn syncing(&self) -> &emsp::sync::Runs {
        &self.0.syncing
    }

    pub(crate) fn rotating(&self) -> &tokio::sync::Mutex<()> {
        &self.0.rotating
    }

    /// Wake the outbox worker: a push was written.
    pub fn wake_outbox(&self) {
        self.0.outbox.wake();
    }

    /// Where the HTTP listener ended up: the base URL is `http://{addr}/ocpi` unless
    /// `ocpi.public_url` says otherwise.
    /// The key GDPR erasures pseudonymise with (B3.4); without it they are refused.
    pub fn set_pseudonym_key(&self, key: Vec<u8>) {
        let _ = self.0.pseudonym_key.set(key);
    }

    pub(crate) fn pseudonym_key(&self) -> Option<&[u8]> {
        self.0.pseudonym_key.get().map(Vec::as_slice)
    }

    pub fn set_listen_addr(&self, addr: std::net::SocketAddr) {
        let _ = self.0.base_url.set(format!("http://{addr}/ocpi"));
    }

    /// Our versions endpoint, the URL partners are given with token A.
    pub fn versions_url(&self) -> String {
        format!("{}/versions", self.base_url())
    }

    pub fn base_url(&self) -> &str {
        self.0
            .base_url
            .get()
            .map(String::as_str)
            .unwrap_or("http://localhost/ocpi")
    }

    pub fn settings(&self) -> &OcpiSettings {
        &self.0.settings
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    pub fn ocpi_store(&self) -> &Arc<dyn OcpiStore> {
        &self.0.ocpi
    }

    pub fn csms(&self) -> &Csms {
        &self.0.csms
    }

    pub(crate) fn sealer(&self) -> &secrets::Sealer {
        &self.0.sealer
    }

    pub(crate) fn session_index(&self) -> &session_index::SessionIndex {
        &self.0.session_index
    }

    pub(crate) fn charging_profile_pace(&self) -> &charging_profiles::Pace {
        &self.0.charging_profile_requests
    }

    pub fn signatures(&self) -> &signing::Signatures {
        &self.0.signatures
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.0.http
    }

    /// The routes partners call, to merge into the HTTP server.
    pub fn router(&self) -> axum::Router {
        use axum::routing::{get, post, put};
        let ocpi = axum::Router::new()
            .route("/versions", get(versions::versions))
            .route("/{version}", get(versions::details))
            .route(
                "/{version}/credentials",
                get(credentials::get)
                    .post(credentials::post)
                    .put(credentials::put)
                    .delete(credentials::delete),
            )
            .route("/{version}/cpo/locations", get(locations::list))
            .route(
                "/{version}/cpo/locations/{location_id}",
                get(locations::one),
            )
            .route(
                "/{version}/cpo/locations/{location_id}/{evse_uid}",
                get(locations::evse),
            )
            .route(
                "/{version}/cpo/locations/{location_id}/{evse_uid}/{connector_id}",
                get(locations::connector),
            )
            .route("/{version}/cpo/sessions", get(sessions::list))
            .route("/{version}/cpo/sessions/{session_id}", get(sessions::one))
            .route(
                "/{version}/cpo/sessions/{session_id}/charging_preferences",
                put(sessions::charging_preferences),
            )
            .route("/{version}/cpo/tariffs", get(tariffs::list))
            .route(
                "/{version}/cpo/hubclientinfo/{country_code}/{party_id}",
                get(hub_client_info::get).put(hub_client_info::put),
            )
            .route("/{version}/cpo/cdrs", get(cdrs::list))
            .route("/{version}/cpo/cdrs/{cdr_id}", get(cdrs::one))
            .route("/{version}/cpo/commands/{command}", post(commands::post))
            .route(
                "/{version}/cpo/x-unicharge-drivermessages/{session_id}",
                post(driver_messages::post),
            )
            .route(
                "/{version}/cpo/x-unicharge-gdpr/{country_code}/{party_id}/{token_uid}",
                get(gdpr::get).delete(gdpr::delete),
            )
            .route(
                "/{version}/cpo/x-unicharge-locationenergy",
                get(location_energy::list),
            )
            .route(
                "/{version}/cpo/x-unicharge-cdrverdicts/{cdr_id}",
                put(cdr_verdicts::put),
            )
            .route(
                "/{version}/cpo/x-unicharge-sessionlimits/{session_id}",
                get(session_limits::get)
                    .put(session_limits::put)
                    .delete(session_limits::delete),
            )
            .route(
                "/{version}/cpo/chargingprofiles/{session_id}",
                get(charging_profiles::get)
                    .put(charging_profiles::put)
                    .delete(charging_profiles::delete),
            )
            .route(
                "/{version}/cpo/tokens/{country_code}/{party_id}/{token_uid}",
                get(tokens::get).put(tokens::put).patch(tokens::patch),
            )
            .route("/{version}/cpo/x-unicharge-signing", get(signing::keys))
            .route("/{version}/emsp/x-unicharge-signing", get(signing::keys))
            .merge(emsp_routes())
            // Unknown paths under /ocpi get an OCPI answer; the rest of the server keeps its own.
            .fallback(reply::not_found)
            // Roles beyond CPO / eMSP reach only the modules ADR 0049 opens to them.
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                access::guard,
            ))
            // Outside the access guard: it finds the caller once for every layer and handler
            // inside, and a refused signature is refused before anything else looks at it.
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                signing::guard,
            ))
            .layer(axum::middleware::from_fn(reply::echo_request_ids))
            .with_state(self.clone());
        axum::Router::new().nest("/ocpi", ocpi)
    }
}

/// The eMSP role's endpoints (ADR 0039), published in version details when we have an eMSP
/// party.
fn emsp_routes() -> axum::Router<Ocpi> {
    use axum::routing::{get, post};
    use emsp::{cdrs as c, charging_profiles as cp, commands as cmd, receiver as r, tokens as t};
    axum::Router::new()
        .route(
            "/{version}/emsp/locations/{country_code}/{party_id}/{location_id}",
            get(r::get_location)
                .put(r::put_location)
                .patch(r::patch_location),
        )
        .route(
            "/{version}/emsp/locations/{country_code}/{party_id}/{location_id}/{evse_uid}",
            get(r::get_evse).put(r::put_evse).patch(r::patch_evse),
        )
        .route(
            "/{version}/emsp/locations/{country_code}/{party_id}/{location_id}/{evse_uid}/{connector_id}",
            get(r::get_connector)
                .put(r::put_connector)
                .patch(r::patch_connector),
        )
        .route(
            "/{version}/emsp/tariffs/{country_code}/{party_id}/{tariff_id}",
            get(r::get_tariff)
                .put(r::put_tariff)
                .delete(r::delete_tariff),
        )
        .route(
            "/{version}/emsp/sessions/{country_code}/{party_id}/{session_id}",
            get(r::get_session)
                .put(r::put_session)
                .patch(r::patch_session),
        )
        .route("/{version}/emsp/cdrs", post(c::post))
        .route(
            "/{version}/emsp/cdrs/{country_code}/{party_id}/{cdr_id}",
            get(c::get),
        )
        .route("/{version}/emsp/commands/{command_id}", post(cmd::result))
        .route(
            "/{version}/emsp/x-unicharge-drivermessages/{country_code}/{party_id}/{session_id}",
            post(emsp::driver_messages::post),
        )
        .route(
            "/{version}/emsp/chargingprofiles/{session_id}",
            axum::routing::put(cp::put_active),
        )
        .route(
            "/{version}/emsp/chargingprofiles/results/{request_id}",
            post(cp::result),
        )
        .route("/{version}/emsp/tokens", get(t::list))
        .route("/{version}/emsp/tokens/{token_uid}/authorize", post(t::authorize))
}
