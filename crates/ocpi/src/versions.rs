//! Version information endpoint: the versions a platform speaks and, per version, the module
//! endpoints (version details).

use serde::{Deserialize, Serialize};

ocpi_enum! {
    /// An OCPI version number (VersionNumber; OpenEnum in 2.3.0).
    Version {
        V2_0 => "2.0",
        V2_1 => "2.1",
        V2_1_1 => "2.1.1",
        V2_2 => "2.2",
        V2_2_1 => "2.2.1",
        V2_3_0 => "2.3.0",
    }
}

impl Version {
    /// The versions unicharge speaks, best first (used to pick the highest mutual version).
    pub const SUPPORTED: [Version; 2] = [Version::V2_3_0, Version::V2_2_1];

    /// Credentials tokens go Base64 encoded in the Authorization header from 2.2 on.
    pub fn encodes_token_base64(&self) -> bool {
        !matches!(self, Version::V2_0 | Version::V2_1 | Version::V2_1_1)
    }

    /// Prices carry `before_taxes` / `taxes` (2.3.0) rather than `excl_vat` / `incl_vat`.
    pub fn prices_with_taxes(&self) -> bool {
        matches!(self, Version::V2_3_0)
    }

    /// The highest version both we and the peer (which lists `theirs`) speak.
    pub fn negotiate(theirs: &[VersionInfo]) -> Option<Version> {
        Self::SUPPORTED
            .into_iter()
            .find(|ours| theirs.iter().any(|v| &v.version == ours))
    }
}

/// One entry of the versions list: a version and the URL of its details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: Version,
    pub url: String,
}

/// The details of one version: its number and its endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionDetails {
    pub version: Version,
    pub endpoints: Vec<Endpoint>,
}

/// One module endpoint of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub identifier: ModuleId,
    pub role: InterfaceRole,
    pub url: String,
}

ocpi_enum! {
    /// Module identifiers (ModuleID; OpenEnum in 2.3.0, so custom modules are kept).
    ModuleId {
        Cdrs => "cdrs",
        ChargingProfiles => "chargingprofiles",
        Commands => "commands",
        Credentials => "credentials",
        HubClientInfo => "hubclientinfo",
        Locations => "locations",
        Sessions => "sessions",
        Tariffs => "tariffs",
        Tokens => "tokens",
    }
}

ocpi_enum! {
    /// Which side of a module an endpoint implements.
    InterfaceRole {
        Sender => "SENDER",
        Receiver => "RECEIVER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_picks_highest_mutual() {
        let theirs = |versions: &[&str]| -> Vec<VersionInfo> {
            versions
                .iter()
                .map(|v| VersionInfo {
                    version: v.parse().unwrap(),
                    url: String::new(),
                })
                .collect()
        };
        assert_eq!(
            Version::negotiate(&theirs(&["2.1.1", "2.2.1"])),
            Some(Version::V2_2_1)
        );
        assert_eq!(
            Version::negotiate(&theirs(&["2.2.1", "2.3.0"])),
            Some(Version::V2_3_0)
        );
        assert_eq!(Version::negotiate(&theirs(&["2.1.1", "3.0"])), None);
        assert_eq!(
            "3.0".parse::<Version>().unwrap(),
            Version::Other("3.0".into())
        );
    }
}
