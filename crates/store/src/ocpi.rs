//! OCPI roaming records (issue 12, migration 0060): partners, the parties they are registered
//! with, locations, tokens. The OCPI objects themselves are JSON text here; the typed objects
//! and every rule live in `unicharge-ocpi` / `unicharge-ocpi-server`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use unicharge_core::StationId;

use crate::Result;

/// One of our parties or a partner's: ISO 3166 alpha-2 country code and the 3-character id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Party {
    pub country_code: String,
    pub party_id: String,
}

impl Party {
    pub fn new(country_code: &str, party_id: &str) -> Party {
        Party {
            country_code: country_code.to_ascii_uppercase(),
            party_id: party_id.to_ascii_uppercase(),
        }
    }
}

/// A platform we roam with.
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    pub id: i64,
    pub name: String,
    /// `PENDING` (token A issued), `REGISTERED`, `UNREGISTERED`.
    pub status: String,
    /// SHA-256 hex of the token the partner calls us with.
    pub incoming_token_hash: Option<String>,
    /// The token we call the partner with, sealed (see the migration).
    pub outgoing_token_sealed: Option<String>,
    pub version: Option<String>,
    pub versions_url: Option<String>,
    /// Their endpoints (OCPI `Endpoint` list), JSON.
    pub endpoints: String,
    /// Their roles (OCPI `CredentialsRole` list), JSON.
    pub roles: String,
    /// Our parties the partner is registered with.
    pub parties: Vec<Party>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A location of one of our parties.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationRow {
    pub party: Party,
    pub id: String,
    /// Operator-added location data, JSON.
    pub data: String,
    pub last_updated: DateTime<Utc>,
    pub stations: Vec<StationId>,
}

/// A token an eMSP gave us.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub party: Party,
    pub uid: String,
    pub kind: String,
    pub partner_id: Option<i64>,
    /// The OCPI `Token` object, JSON.
    pub data: String,
    pub last_updated: DateTime<Utc>,
}

/// Partners, locations, tokens; and, through [`OcpiOutbox`], the push outbox.
#[async_trait]
pub trait OcpiStore:
    OcpiOutbox
    + OcpiHub
    + OcpiEmsp
    + crate::ocpi_reservations::OcpiReservations
    + crate::ocpi_reservations::OcpiCdrVerdicts
    + crate::ocpi_buc::OcpiPublishedRoles
    + crate::ocpi_buc::OcpiSessionLimits
    + crate::ocpi_buc::OcpiLocationSharing
    + crate::ocpi_signing::OcpiSigningKeys
    + OcpiSync
    + Send
    + Sync
    + 'static
{
    /// Create a partner (its `id` is ignored); returns the new id.
    async fn create_ocpi_partner(&self, partner: &Partner) -> Result<i64>;
    /// Replace a partner's row and parties. True if it exists.
    async fn save_ocpi_partner(&self, partner: &Partner) -> Result<bool>;
    async fn ocpi_partner(&self, id: i64) -> Result<Option<Partner>>;
    async fn ocpi_partner_by_token_hash(&self, hash: &str) -> Result<Option<Partner>>;
    async fn ocpi_partners(&self) -> Result<Vec<Partner>>;

    /// Create or replace a location and the stations it holds.
    async fn put_ocpi_location(&self, location: &LocationRow) -> Result<()>;
    async fn ocpi_location(&self, party: &Party, id: &str) -> Result<Option<LocationRow>>;
    /// Every location, ordered by (last_updated, country_code, party_id, id).
    async fn ocpi_locations(&self) -> Result<Vec<LocationRow>>;
    /// The location a station is in.
    async fn ocpi_location_of_station(
        &self,
        station: &StationId,
    ) -> Result<Option<(Party, String)>>;

    async fn put_ocpi_token(&self, token: &TokenRow) -> Result<()>;
    async fn ocpi_token(&self, party: &Party, uid: &str, kind: &str) -> Result<Option<TokenRow>>;
    /// Every token with this uid (any party, any type).
    async fn ocpi_tokens_by_uid(&self, uid: &str) -> Result<Vec<TokenRow>>;
}

/// A push waiting for, or done by, the outbox worker (migration 0061, ADR 0038).
#[derive(Debug, Clone, PartialEq)]
pub struct PushRow {
    /// 0 when enqueueing; the row id (delivery order) when read back.
    pub id: i64,
    pub partner_id: i64,
    /// OCPI module id of the partner's Receiver endpoint: `locations`, `sessions`, `cdrs`,
    /// `tariffs`.
    pub module: String,
    /// The object pushed; rows of one key are delivered in order.
    pub object_key: String,
    /// `PUT`, `PATCH`, `POST`, `DELETE`.
    pub method: String,
    /// Appended to the Receiver endpoint URL (`/NL/UNI/LOC1/CP1*1`, empty for a CDR POST).
    pub path: String,
    /// JSON body.
    pub body: Option<String>,
    /// `OCPI-from-*`: our party that owns the object.
    pub from: Option<Party>,
    /// `OCPI-to-*`: the partner's party the object is for.
    pub to: Option<Party>,
    /// `PENDING` or `DELIVERED`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Outbox depth of one partner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushCounts {
    pub pending: i64,
    pub delivered: i64,
    /// Pending rows that failed at least once.
    pub failing: i64,
}

/// The OCPI push outbox and tariff versions (migrations 0061, 0062).
#[async_trait]
pub trait OcpiOutbox: Send + Sync + 'static {
    /// Add a push; returns its id, or `None` when it was a POST already enqueued for this
    /// partner and object (a CDR is sent once).
    async fn enqueue_ocpi_push(&self, push: &PushRow) -> Result<Option<i64>>;
    /// Pending pushes due at `now`, oldest first, each the oldest pending one of its object
    /// (so one object's pushes go out in order).
    async fn due_ocpi_pushes(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<PushRow>>;
    /// When the next pending push is due, if any (counting only the oldest pending push of
    /// each object: the others wait behind it).
    async fn next_ocpi_push_due(&self) -> Result<Option<DateTime<Utc>>>;
    async fn ocpi_push_delivered(&self, id: i64, at: DateTime<Utc>) -> Result<()>;
    /// A failed attempt: counted, with the error and when to try again.
    async fn ocpi_push_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> Result<()>;
    /// A partner's pushes, newest first.
    async fn ocpi_pushes(&self, partner_id: i64, limit: u32) -> Result<Vec<PushRow>>;
    async fn ocpi_push_counts(&self, partner_id: i64) -> Result<PushCounts>;

    /// Record a tariff's fingerprint; returns the tariff's `last_updated`: `now` when the
    /// fingerprint is new or changed (and `true`), else the stored time (and `false`).
    async fn ocpi_tariff_version(
        &self,
        tariff_id: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, bool)>;
    /// Ids of every tariff with a recorded fingerprint.
    async fn ocpi_tariff_ids(&self) -> Result<Vec<String>>;
    /// Forget a deleted tariff's fingerprint. True if it was recorded.
    async fn forget_ocpi_tariff(&self, tariff_id: &str) -> Result<bool>;
}

/// What a hub partner says about a party connected to it (migration 0063).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientInfoRow {
    pub partner_id: i64,
    pub party: Party,
    /// The OCPI `ClientInfo` object, JSON.
    pub data: String,
    pub last_updated: DateTime<Utc>,
}

/// HubClientInfo received from hub partners (migration 0063).
#[async_trait]
pub trait OcpiHub: Send + Sync + 'static {
    async fn put_ocpi_client_info(&self, info: &ClientInfoRow) -> Result<()>;
    async fn ocpi_client_info(
        &self,
        partner_id: i64,
        party: &Party,
    ) -> Result<Option<ClientInfoRow>>;
    /// Everything a hub told us, ordered by party.
    async fn ocpi_client_infos(&self, partner_id: i64) -> Result<Vec<ClientInfoRow>>;
}

/// An object a CPO partner pushed to one of our Receiver endpoints (migration 0064).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedRow {
    pub partner_id: i64,
    /// `locations`, `tariffs`, `sessions`, `cdrs`.
    pub module: String,
    /// The CPO party that owns the object (from the URL, or the CDR's own fields).
    pub party: Party,
    pub id: String,
    /// The OCPI object, JSON.
    pub data: String,
    pub last_updated: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// A command we sent to a CPO partner and, once it arrived, its CommandResult.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandSentRow {
    /// The last segment of the response_url we gave.
    pub id: String,
    pub partner_id: i64,
    pub command: String,
    /// The command object, JSON.
    pub request: String,
    /// The CommandResponse, JSON.
    pub response: Option<String>,
    /// The CommandResult, JSON.
    pub result: Option<String>,
    pub created_at: DateTime<Utc>,
    pub result_at: Option<DateTime<Utc>>,
}

/// A token of one of our eMSP parties.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnTokenRow {
    pub party: Party,
    pub uid: String,
    pub kind: String,
    /// The OCPI `Token` object, JSON.
    pub data: String,
    pub last_updated: DateTime<Utc>,
}

/// The eMSP role's records (migration 0064).
#[async_trait]
pub trait OcpiEmsp: Send + Sync + 'static {
    /// Create or replace a received object.
    async fn put_ocpi_received(&self, row: &ReceivedRow) -> Result<()>;
    /// Insert a received object unless it is there already (CDRs: never replaced). True when
    /// inserted.
    async fn insert_ocpi_received_once(&self, row: &ReceivedRow) -> Result<bool>;
    async fn ocpi_received(
        &self,
        partner_id: i64,
        module: &str,
        party: &Party,
        id: &str,
    ) -> Result<Option<ReceivedRow>>;
    /// Received objects of a module, of one partner or of all, in arrival order.
    async fn ocpi_received_list(
        &self,
        partner_id: Option<i64>,
        module: &str,
    ) -> Result<Vec<ReceivedRow>>;
    /// True if it existed.
    async fn delete_ocpi_received(
        &self,
        partner_id: i64,
        module: &str,
        party: &Party,
        id: &str,
    ) -> Result<bool>;

    async fn create_ocpi_command(&self, row: &CommandSentRow) -> Result<()>;
    /// Record the CommandResponse the CPO answered with.
    async fn ocpi_command_response(&self, id: &str, response: &str) -> Result<()>;
    /// Record the CommandResult. True if the command exists.
    async fn ocpi_command_result(&self, id: &str, result: &str, at: DateTime<Utc>) -> Result<bool>;
    async fn ocpi_command(&self, id: &str) -> Result<Option<CommandSentRow>>;
    /// A partner's commands, newest first.
    async fn ocpi_commands(&self, partner_id: i64) -> Result<Vec<CommandSentRow>>;

    async fn put_ocpi_own_token(&self, token: &OwnTokenRow) -> Result<()>;
    async fn ocpi_own_token(
        &self,
        party: &Party,
        uid: &str,
        kind: &str,
    ) -> Result<Option<OwnTokenRow>>;
    /// Every token of our eMSP parties.
    async fn ocpi_own_tokens(&self) -> Result<Vec<OwnTokenRow>>;
}

/// The last complete pull of one Sender module of a CPO partner (migration 0092).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncMark {
    pub partner_id: i64,
    /// `locations`, `tariffs`, `sessions`, `cdrs`.
    pub module: String,
    /// `date_from` of the next incremental pull.
    pub date_from: DateTime<Utc>,
    pub synced_at: DateTime<Utc>,
    /// Objects the pull read.
    pub objects: i64,
    /// Of those, new or changed.
    pub stored: i64,
}

/// Credentials rotation state of a partner (migration 0092, B8.1).
#[derive(Debug, Clone, PartialEq)]
pub struct RotationRow {
    pub partner_id: i64,
    /// We POSTed the registration, so we are the one who sends the credentials PUT.
    pub initiated_by_us: bool,
    /// When the partner's current token for us was issued.
    pub issued_at: DateTime<Utc>,
    /// SHA-256 hex of a new token sent in a PUT not acknowledged yet.
    pub pending_token_hash: Option<String>,
    pub pending_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Pull marks and credentials rotation (migration 0092).
#[async_trait]
pub trait OcpiSync: Send + Sync + 'static {
    async fn put_ocpi_sync_mark(&self, mark: &SyncMark) -> Result<()>;
    /// A partner's marks, by module.
    async fn ocpi_sync_marks(&self, partner_id: i64) -> Result<Vec<SyncMark>>;
    /// Create or replace a partner's rotation state.
    async fn put_ocpi_rotation(&self, row: &RotationRow) -> Result<()>;
    async fn ocpi_rotation(&self, partner_id: i64) -> Result<Option<RotationRow>>;
    async fn ocpi_rotations(&self) -> Result<Vec<RotationRow>>;
    /// The partner whose pending (not yet acknowledged) token has this hash.
    async fn ocpi_partner_by_pending_token_hash(&self, hash: &str) -> Result<Option<i64>>;
    /// A partner's pending pushes and every push created at or after `since`, oldest first.
    async fn ocpi_pushes_since(
        &self,
        partner_id: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<PushRow>>;
}
