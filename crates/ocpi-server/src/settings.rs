//! `[ocpi]` in the configuration file.

use std::time::Duration;

use serde::{Deserialize, Serialize};
pub use unicharge_ocpi::types::Role;

/// OCPI settings. The defaults start without configuration: OCPI served under `/ocpi` on the
/// operator API's listener, one CPO party `ZZ`/`UNI` (set your own), partners created by the
/// operator (`unicharge ocpi partner-add`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OcpiSettings {
    /// Serve OCPI at all.
    pub enabled: bool,
    /// Base of our OCPI URLs as partners reach them, e.g. `https://cpo.example.com/ocpi`
    /// (behind a TLS-terminating proxy). Default: `http://{http.listen}/ocpi`.
    pub public_url: Option<String>,
    /// Most objects per page of a Sender GET (`X-Limit`).
    pub max_page: u64,
    /// Currency of sessions and CDRs that no tariff priced.
    pub currency: String,
    /// How long a partner's endpoint may take to answer (credentials exchange, CommandResult).
    #[serde(with = "secs")]
    pub partner_timeout: Duration,
    /// The `timeout` given in a CommandResponse: how long the partner should wait for the
    /// CommandResult.
    #[serde(with = "secs")]
    pub command_timeout: Duration,
    /// First wait before a failed push to a partner is tried again; doubled per failure.
    #[serde(with = "secs")]
    pub push_retry_initial: Duration,
    /// Longest wait between two tries of a push (a partner that is down gets retried at least
    /// this often, and everything pending reaches it when it is back).
    #[serde(with = "secs")]
    pub push_retry_max: Duration,
    /// Pushes the outbox worker sends per round.
    pub push_batch: u32,
    /// Shortest time between two accepted ChargingProfiles requests of the same kind (GET,
    /// PUT, DELETE) for one session; sooner is answered TOO_OFTEN, sparing the station's
    /// (often slow, metered) link. 0: no limit.
    #[serde(with = "secs")]
    pub charging_profile_min_interval: Duration,
    /// Rotate the credentials token of every partner we registered with once it is this old
    /// (B8.1: a new token for the partner to call us with, sent in a credentials PUT; the
    /// partner answers with its new token for us). 0 (the default) turns the schedule off:
    /// a partner platform that mishandles the PUT would lose its connection with us at a time
    /// nobody chose, so operators opt in (e.g. 7776000 for 90 days) once the partner agreed.
    /// `POST /api/v1/ocpi/partners/{id}/rotate-credentials` rotates one partner at any time.
    #[serde(with = "secs")]
    pub credentials_rotation: Duration,
    /// How often the MSPs' session limits (B4.2) are checked besides every transaction event:
    /// a session priced by time grows dearer between meter values.
    #[serde(with = "secs")]
    pub session_limit_check: Duration,
    /// Our own parties, each a CPO or an eMSP (`role`). Each partner is registered with some
    /// of them. (Last: a TOML array of tables follows the plain keys.)
    pub parties: Vec<PartySettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartySettings {
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// Three characters (ISO 15118 / eMI3 party id).
    pub party_id: String,
    /// Business name shown to partners.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// `CPO` (default: our stations, served by the Sender modules) or `EMSP` (our drivers:
    /// CPO partners push their locations, tariffs, sessions and CDRs to our Receiver
    /// endpoints, ADR 0039). One platform may hold parties of both roles.
    #[serde(default = "cpo_role")]
    pub role: Role,
}

fn cpo_role() -> Role {
    Role::Cpo
}

impl PartySettings {
    /// A CPO party.
    pub fn cpo(country_code: &str, party_id: &str, name: &str) -> PartySettings {
        PartySettings {
            country_code: country_code.into(),
            party_id: party_id.into(),
            name: name.into(),
            website: None,
            role: Role::Cpo,
        }
    }

    /// An eMSP party.
    pub fn emsp(country_code: &str, party_id: &str, name: &str) -> PartySettings {
        PartySettings {
            role: Role::Emsp,
            ..PartySettings::cpo(country_code, party_id, name)
        }
    }

    pub fn party(&self) -> unicharge_store::ocpi::Party {
        unicharge_store::ocpi::Party::new(&self.country_code, &self.party_id)
    }
}

impl Default for OcpiSettings {
    fn default() -> Self {
        OcpiSettings {
            enabled: true,
            public_url: None,
            max_page: 100,
            currency: "EUR".into(),
            partner_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(30),
            push_retry_initial: Duration::from_secs(10),
            push_retry_max: Duration::from_secs(30 * 60),
            push_batch: 50,
            charging_profile_min_interval: Duration::from_secs(5),
            credentials_rotation: Duration::ZERO,
            session_limit_check: Duration::from_secs(15),
            parties: vec![PartySettings {
                country_code: "ZZ".into(),
                party_id: "UNI".into(),
                name: "unicharge".into(),
                website: None,
                role: Role::Cpo,
            }],
        }
    }
}

impl OcpiSettings {
    /// Clear errors that name the fix.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.parties.is_empty(),
            "ocpi.parties is empty: add at least one [[ocpi.parties]] (country_code, party_id, name)"
        );
        for p in &self.parties {
            anyhow::ensure!(
                p.country_code.len() == 2
                    && p.country_code.bytes().all(|b| b.is_ascii_alphabetic()),
                "ocpi.parties: country_code {:?} must be two letters (ISO 3166-1 alpha-2)",
                p.country_code
            );
            anyhow::ensure!(
                p.party_id.len() == 3 && p.party_id.bytes().all(|b| b.is_ascii_alphanumeric()),
                "ocpi.parties: party_id {:?} must be three letters or digits",
                p.party_id
            );
            anyhow::ensure!(
                matches!(p.role, Role::Cpo | Role::Emsp),
                "ocpi.parties: {}*{} has role {}: use CPO or EMSP",
                p.country_code,
                p.party_id,
                p.role
            );
        }
        anyhow::ensure!(self.max_page > 0, "ocpi.max_page must be at least 1");
        anyhow::ensure!(
            self.push_retry_max >= self.push_retry_initial,
            "ocpi.push_retry_max must be at least ocpi.push_retry_initial"
        );
        anyhow::ensure!(self.push_batch > 0, "ocpi.push_batch must be at least 1");
        Ok(())
    }

    /// Our parties, normalised to upper case.
    pub fn own_parties(&self) -> Vec<unicharge_store::ocpi::Party> {
        self.parties
            .iter()
            .map(|p| unicharge_store::ocpi::Party::new(&p.country_code, &p.party_id))
            .collect()
    }

    /// Our parties of one role (CPO or EMSP).
    pub fn parties_with_role(&self, role: &Role) -> Vec<unicharge_store::ocpi::Party> {
        self.parties
            .iter()
            .filter(|p| &p.role == role)
            .map(PartySettings::party)
            .collect()
    }

    /// The role of our party `party` (None: not one of ours).
    pub fn role_of(&self, party: &unicharge_store::ocpi::Party) -> Option<Role> {
        self.parties
            .iter()
            .find(|p| &p.party() == party)
            .map(|p| p.role.clone())
    }
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}
