//! HubClientInfo module: a hub tells its clients which other parties are connected.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::types::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub party_id: String,
    pub country_code: String,
    pub role: Role,
    pub status: ConnectionStatus,
    #[serde(with = "crate::datetime")]
    pub last_updated: DateTime<Utc>,
}

ocpi_enum! {
    ConnectionStatus {
        Connected => "CONNECTED",
        Offline => "OFFLINE",
        Planned => "PLANNED",
        Suspended => "SUSPENDED",
    }
}
