//! idTokens: who may charge (OCPP 2.0.1 C01 and the authorization rules of block C), free of I/O.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The status an idToken is answered with (OCPP `AuthorizationStatusEnumType`).
pub const AUTHORIZATION_STATUSES: [&str; 9] = [
    "Accepted",
    "Blocked",
    "ConcurrentTx",
    "Expired",
    "Invalid",
    "NoCredit",
    "NotAllowedTypeEVSE",
    "NotAtThisLocation",
    "NotAtThisTime",
];

/// A token the CSMS knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTokenRecord {
    /// The token value (case-insensitive in OCPP, kept as given).
    pub id_token: String,
    /// OCPP `IdTokenEnumType`: `ISO14443`, `ISO15693`, `eMAID`, `Central`, `KeyCode`, `Local`,
    /// `MacAddress`, `NoAuthorization`.
    #[serde(rename = "type")]
    pub kind: String,
    /// One of [`AUTHORIZATION_STATUSES`].
    pub status: String,
    /// After this instant the token is answered `Expired`.
    pub expiry: Option<DateTime<Utc>>,
    /// The group the token belongs to (OCPP `groupIdToken`).
    pub group_id_token: Option<String>,
}

/// What the CSMS answers for a presented token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationDecision {
    /// `Accepted`, `Blocked`, `Expired`, `Invalid`, `Unknown`, …
    pub status: String,
    pub group_id_token: Option<String>,
}

/// The decision for a presented token: `Unknown` when the CSMS does not know it, `Expired` past
/// its expiry, otherwise its stored status. The group is returned with every known token (the
/// station needs it to match a stop to its start, C01.FR.?? / C09).
pub fn decide(record: Option<&IdTokenRecord>, now: DateTime<Utc>) -> AuthorizationDecision {
    match record {
        None => AuthorizationDecision {
            status: "Unknown".into(),
            group_id_token: None,
        },
        Some(r) => AuthorizationDecision {
            status: if r.expiry.is_some_and(|e| e <= now) {
                "Expired".into()
            } else {
                r.status.clone()
            },
            group_id_token: r.group_id_token.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn token(status: &str, expiry: Option<DateTime<Utc>>) -> IdTokenRecord {
        IdTokenRecord {
            id_token: "T1".into(),
            kind: "ISO14443".into(),
            status: status.into(),
            expiry,
            group_id_token: Some("G1".into()),
        }
    }

    #[test]
    fn unknown_expired_and_stored_statuses() {
        let now = Utc::now();
        assert_eq!(decide(None, now).status, "Unknown");
        let ok = decide(Some(&token("Accepted", Some(now + Duration::days(1)))), now);
        assert_eq!(ok.status, "Accepted");
        assert_eq!(ok.group_id_token.as_deref(), Some("G1"));
        assert_eq!(
            decide(
                Some(&token("Accepted", Some(now - Duration::seconds(1)))),
                now
            )
            .status,
            "Expired"
        );
        assert_eq!(decide(Some(&token("Blocked", None)), now).status, "Blocked");
    }
}
