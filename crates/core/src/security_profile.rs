//! OCPP security profiles (OCPP 2.0.1 Part 2, A00 "Security profiles").

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a station proves who it is and how its connection is protected.
///
/// Ordered: a connection must offer at least the profile the station is registered at. OCPP
/// forbids falling back to a lower profile once a higher one is configured (A00, and A05 for the
/// upgrade), so the CSMS refuses such a connection and a downgrade cannot be forced by an
/// attacker in the middle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum SecurityProfile {
    /// 1: unsecured transport (ws) with HTTP Basic authentication.
    BasicAuth = 1,
    /// 2: TLS (wss) with HTTP Basic authentication.
    TlsBasicAuth = 2,
    /// 3: TLS (wss) with a client certificate.
    TlsClientCert = 3,
}

impl SecurityProfile {
    /// The number OCPP uses for the profile (1, 2 or 3).
    pub fn number(self) -> u8 {
        self as u8
    }

    /// True when the profile runs over TLS.
    pub fn uses_tls(self) -> bool {
        self != SecurityProfile::BasicAuth
    }
}

/// A number that is not 1, 2 or 3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("security profile must be 1, 2 or 3 (got {0})")]
pub struct InvalidSecurityProfile(pub i64);

impl TryFrom<u8> for SecurityProfile {
    type Error = InvalidSecurityProfile;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        SecurityProfile::try_from(i64::from(n))
    }
}

impl TryFrom<i64> for SecurityProfile {
    type Error = InvalidSecurityProfile;
    fn try_from(n: i64) -> Result<Self, Self::Error> {
        match n {
            1 => Ok(SecurityProfile::BasicAuth),
            2 => Ok(SecurityProfile::TlsBasicAuth),
            3 => Ok(SecurityProfile::TlsClientCert),
            other => Err(InvalidSecurityProfile(other)),
        }
    }
}

impl From<SecurityProfile> for u8 {
    fn from(p: SecurityProfile) -> u8 {
        p.number()
    }
}

impl fmt::Display for SecurityProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_ordered_by_strength() {
        assert!(SecurityProfile::BasicAuth < SecurityProfile::TlsBasicAuth);
        assert!(SecurityProfile::TlsBasicAuth < SecurityProfile::TlsClientCert);
        assert_eq!(
            SecurityProfile::try_from(4u8),
            Err(InvalidSecurityProfile(4))
        );
        assert_eq!(
            SecurityProfile::try_from(2u8),
            Ok(SecurityProfile::TlsBasicAuth)
        );
    }
}
