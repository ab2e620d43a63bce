//! Credentials module: the object exchanged at registration, update and token rotation.

use serde::{Deserialize, Serialize};

use crate::locations::BusinessDetails;
use crate::types::Role;

/// Sent in the body of POST / PUT `{credentials}` and returned by GET.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The credentials token the other party uses to call us (token B or C).
    pub token: String,
    /// Our versions endpoint.
    pub url: String,
    /// 2.3.0: when talking to a hub, the hub's own party id (country code + party id, 5 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_party_id: Option<String>,
    /// The parties (and roles) behind this platform.
    pub roles: Vec<CredentialsRole>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsRole {
    pub role: Role,
    pub business_details: BusinessDetails,
    pub party_id: String,
    pub country_code: String,
}

impl CredentialsRole {
    pub fn party(&self) -> crate::types::PartyId {
        crate::types::PartyId::new(&self.country_code, &self.party_id)
    }
}
