//! GDPR for what unicharge itself stores about an idToken: the right of access (everything kept
//! about it, [`PersonalData`]) and the right to be forgotten ([`Erasure`]).
//!
//! Erasing deletes what only serves to let the token charge (the token, its local-list entries,
//! its reservations) and pseudonymises what billing law requires keeping (transactions, their
//! events, charge records, remote starts, the command log): every occurrence of the idToken is
//! replaced by [`pseudonym`], a keyed hash (HMAC-SHA-256 under a key kept outside the
//! database), so the amounts stay and the same token keeps one pseudonym, while the database
//! alone does not give the idToken back.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

/// Prefix of every pseudonym: recognisable in a record, never a valid card UID.
pub const PSEUDONYM_PREFIX: &str = "erased-";

/// The pseudonym that replaces `id_token`: `erased-` and the first 12 bytes (24 hex digits) of
/// HMAC-SHA-256(key, lower-case idToken). 31 characters: still a valid OCPP idToken (≤ 36).
/// idTokens are case-insensitive, so the hash is of the lower-case form.
pub fn pseudonym(key: &[u8], id_token: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id_token.to_lowercase().as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("{PSEUDONYM_PREFIX}{}", hex::encode(&digest[..12]))
}

/// Everything stored about one idToken. Rows are given as the database holds them (column
/// names in camelCase; JSON columns parsed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonalData {
    pub id_token: String,
    /// The token records (one per type).
    pub tokens: Vec<Value>,
    /// Local authorization list entries, per station.
    pub local_list_entries: Vec<Value>,
    pub reservations: Vec<Value>,
    /// RequestStartTransaction requests made for the token.
    pub remote_starts: Vec<Value>,
    pub transactions: Vec<Value>,
    /// Every TransactionEvent that names the token (the whole request as received).
    pub transaction_events: Vec<Value>,
    pub charge_records: Vec<Value>,
    /// CSMS→station calls whose request or answer names the token (SendLocalList, ReserveNow,
    /// RequestStartTransaction, CustomerInformation, …).
    pub commands: Vec<Value>,
    /// Requests followed up by the station (CustomerInformation reports) naming the token,
    /// and the report parts that do.
    pub station_requests: Vec<Value>,
    /// Station answers kept for retransmission that name the token.
    pub stored_answers: Vec<Value>,
    /// ISO 15118 contract certificate data kept for the token. unicharge checks contract
    /// certificates per Authorize (C07) and keeps none, so this lists what a future store
    /// would hold; it is empty today.
    pub contract_certificates: Vec<Value>,
    /// OCPI: the token as roaming partners pushed it or as our eMSP issued it, and the
    /// pushes, received objects and commands naming it (`{table, rowid, column, value}`).
    #[serde(default)]
    pub roaming: Vec<Value>,
}

/// What an erasure did, per table: rows deleted and rows pseudonymised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Erasure {
    /// The value that now stands for the idToken where records are kept.
    pub pseudonym: String,
    pub deleted: BTreeMap<String, u64>,
    pub pseudonymised: BTreeMap<String, u64>,
    /// Stations whose local authorization list held the token: send them their list again
    /// (or CustomerInformation clear) so they forget it too.
    pub local_list_stations: Vec<String>,
    /// When and by whom (an API key id), as audited.
    pub erased_at: chrono::DateTime<chrono::Utc>,
    pub erased_by: String,
}

impl Erasure {
    /// Nothing was found: the token was erased before, or never stored.
    pub fn is_empty(&self) -> bool {
        self.deleted
            .values()
            .chain(self.pseudonymised.values())
            .all(|n| *n == 0)
    }
}

/// Replace every JSON string equal to `id_token` (case-insensitively, as OCPP compares
/// idTokens) by `pseudonym`. True if anything changed.
pub fn replace_in_json(value: &mut Value, id_token: &str, pseudonym: &str) -> bool {
    match value {
        Value::String(s) if s.eq_ignore_ascii_case(id_token) => {
            *s = pseudonym.to_string();
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, v| {
            replace_in_json(v, id_token, pseudonym) | changed
        }),
        Value::Object(map) => map.values_mut().fold(false, |changed, v| {
            replace_in_json(v, id_token, pseudonym) | changed
        }),
        _ => false,
    }
}

/// True if some JSON string in `value` equals `id_token` (case-insensitively).
pub fn mentions(value: &Value, id_token: &str) -> bool {
    match value {
        Value::String(s) => s.eq_ignore_ascii_case(id_token),
        Value::Array(items) => items.iter().any(|v| mentions(v, id_token)),
        Value::Object(map) => map.values().any(|v| mentions(v, id_token)),
        _ => false,
    }
}

// --- where an idToken can be, for both stores ---
//
// `PLAIN` columns hold it as the whole value, `JSON` columns inside the OCPP messages and
// records kept as JSON text. A table added later that keeps idTokens belongs in one of the two
// lists (the erasure test scans every table).

/// What happens to a row whose column holds the idToken as its whole value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plain {
    /// The row exists only for the token to charge: deleted.
    Delete,
    /// Kept for billing or as history: the value is replaced by the pseudonym.
    Pseudonymise,
}

/// (table, column, what to do). Deletions run first: a reservation deleted for its idToken is
/// not pseudonymised for its group.
pub(crate) const PLAIN: &[(&str, &str, Plain)] = &[
    ("id_tokens", "id_token", Plain::Delete),
    ("local_list_entries", "id_token", Plain::Delete),
    ("reservations", "id_token", Plain::Delete),
    ("id_tokens", "group_id_token", Plain::Pseudonymise),
    ("reservations", "group_id_token", Plain::Pseudonymise),
    ("remote_starts", "id_token", Plain::Pseudonymise),
    ("transactions", "id_token", Plain::Pseudonymise),
    ("transactions", "group_id_token", Plain::Pseudonymise),
    // OCPI: a roaming partner's token (CPO role) and our own drivers' tokens (eMSP role).
    ("ocpi_tokens", "uid", Plain::Delete),
    ("ocpi_own_tokens", "uid", Plain::Delete),
];

/// (table, column) holding JSON in which the idToken may be a string value.
pub(crate) const JSON: &[(&str, &str)] = &[
    ("transaction_events", "data"),
    ("charge_records", "data"),
    ("commands", "request"),
    ("commands", "response"),
    ("tracked_requests", "request"),
    ("tracked_requests", "answer"),
    ("tracked_request_parts", "data"),
    ("answers", "response"),
    ("events", "data"),
    ("station_notices", "data"),
    // OCPI: pushes (sessions and CDRs carry the token), objects CPOs pushed us, commands sent.
    ("ocpi_outbox", "body"),
    ("ocpi_received", "data"),
    ("ocpi_commands_sent", "request"),
];

/// `snake_case` → `camelCase`, the API's casing.
pub(crate) fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pseudonyms_are_keyed_stable_case_insensitive_and_valid_id_tokens() {
        let a = pseudonym(b"key one", "04A1B2C3");
        assert_eq!(a, pseudonym(b"key one", "04a1b2c3"));
        assert_ne!(a, pseudonym(b"key two", "04A1B2C3"));
        assert_ne!(a, pseudonym(b"key one", "04A1B2C4"));
        assert!(a.starts_with(PSEUDONYM_PREFIX) && a.len() == 31, "{a}");
    }

    #[test]
    fn json_replacement_reaches_every_string_and_only_equal_ones() {
        let mut v = json!({"idToken": {"idToken": "abc", "type": "ISO14443"},
            "list": [{"idToken": {"idToken": "ABC"}}, "abcd", 5], "note": "xabc"});
        assert!(mentions(&v, "aBc"));
        assert!(replace_in_json(&mut v, "abc", "P"));
        assert_eq!(v["idToken"]["idToken"], "P");
        assert_eq!(v["list"][0]["idToken"]["idToken"], "P");
        assert_eq!(v["list"][1], "abcd");
        assert_eq!(v["note"], "xabc");
        assert!(!mentions(&v, "abc"));
        assert!(!replace_in_json(&mut v, "abc", "P"));
    }
}
