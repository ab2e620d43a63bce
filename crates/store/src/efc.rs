//! Records of ISO 17575-1 road-usage charging (the EFC back end). The ADUs themselves are kept
//! as the frames received and answered (UPER bytes), so a report can be re-read with the codec
//! and a retransmission answered byte for byte.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An on-board unit the back end knows, with its MAC key (if reports must be authenticated)
/// and the on-board account the operator manages for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfcObe {
    /// `<manufacturerId>:<equipmentObuId as hex>`.
    pub obe_key: String,
    /// HMAC-SHA-256 key (hex in JSON) for `Authenticated*` ADUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_key_hex: Option<String>,
    /// Plain (unauthenticated) reports from this OBE are refused.
    #[serde(default)]
    pub require_auth: bool,
    /// Free text for the operator.
    #[serde(default)]
    pub label: String,
    pub created_at: DateTime<Utc>,
}

/// One received charge report and the answer it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfcReportRecord {
    /// Set by the store on insert (0 before).
    #[serde(default)]
    pub id: i64,
    pub obe_key: String,
    pub contract_key: String,
    pub counter: Option<u32>,
    pub mileage: Option<u32>,
    pub mileage_unit: Option<u8>,
    pub account_status: Option<u8>,
    pub time_of_report: Option<DateTime<Utc>>,
    /// How many counter values were skipped before this report (gap recorded, not refused).
    pub counter_gap: Option<u32>,
    /// Rule violations found (TP/CR ids and a reason each).
    pub violations: Vec<String>,
    pub request: Vec<u8>,
    pub response: Vec<u8>,
    pub received_at: DateTime<Utc>,
    /// The usage statements of the report, stored as charge records.
    #[serde(default)]
    pub charge_records: Vec<EfcChargeRecord>,
    /// A queued update this answer delivered and that is now done.
    #[serde(default)]
    pub completed_update: Option<i64>,
}

/// What one usage statement charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfcChargeRecord {
    pub usage_statement_id: Option<u16>,
    pub fee_excl_vat: Option<u16>,
    pub vat: Option<u16>,
    /// `paymentFeeUnit` as hex.
    pub fee_unit: Option<String>,
    pub period_begin: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub distance: Option<u32>,
    pub distance_unit: Option<u8>,
    pub charge_objects: Vec<u32>,
    pub no_usage: bool,
    /// `numberOfDetectedEvents` of the single-tariff-class session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
    /// For an `authenticatedUsageStatement`: whether its own MAC verified (its content is
    /// recorded only if it did). `None` for a plain usage statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated: Option<bool>,
}

/// An answer the operator queued for an OBE: delivered with its next charge report response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfcQueuedUpdate {
    #[serde(default)]
    pub id: i64,
    pub obe_key: String,
    /// `obeStatusForDriver` (ISO 14906 SetMMIRq) to send, if any.
    pub obe_status_for_driver: Option<u8>,
    /// `accountUpdate` as its UPER encoding (hex), if any.
    pub account_update_hex: Option<String>,
    /// Keep sending it with every response until the OBE reports accountStatus ok (0)
    /// (the loop of TP/BEF/FE/BV/26–31); otherwise delivered once.
    #[serde(default)]
    pub until_account_ok: bool,
    pub created_at: DateTime<Utc>,
}

/// A contract (EFC context mark) and the core-ledger accounts its charge reports debit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfcContract {
    /// `<country>-<provider>-<typeOfContract hex>-<contextVersion>`, as the reports are filed.
    pub contract_key: String,
    /// The ledger accounts of the contract; each is debited with the usage in its unit.
    #[serde(default)]
    pub accounts: Vec<EfcAccountLink>,
    #[serde(default)]
    pub label: String,
    pub created_at: DateTime<Utc>,
}

/// How a contract uses one ledger account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfcAccountLink {
    /// The ledger account id.
    pub account: String,
    /// Below this much available (in the account's unit) the driver is told the account is low.
    #[serde(default)]
    pub low_below: rust_decimal::Decimal,
    /// Decimal places of `paymentFeeAmount` for a money account: 2 means the fee counts cents
    /// of the account's currency.
    #[serde(default = "two")]
    pub fee_decimals: u32,
    /// `paymentFeeUnit` (hex, 2 octets) put in a credit limit sent to the OBE.
    #[serde(default = "euro")]
    pub pay_unit_hex: String,
    /// Keep the OBE's on-board account in step: when the status the OBE reports differs from the
    /// one the ledger gives, answer `setAccount` with what the ledger has available.
    #[serde(default = "yes")]
    pub sync_obe: bool,
}

impl EfcAccountLink {
    /// A link to `account` with the same defaults a JSON body without the other fields gets.
    pub fn new(account: impl Into<String>) -> Self {
        EfcAccountLink {
            account: account.into(),
            low_below: rust_decimal::Decimal::ZERO,
            fee_decimals: two(),
            pay_unit_hex: euro(),
            sync_obe: yes(),
        }
    }
}

fn two() -> u32 {
    2
}

fn euro() -> String {
    "03d2".into()
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod account_link_tests {
    use super::EfcAccountLink;

    #[test]
    fn new_gives_the_defaults_of_a_body_with_only_the_account() {
        let from_body: EfcAccountLink =
            serde_json::from_value(serde_json::json!({"account": "acc-1"})).unwrap();
        assert_eq!(EfcAccountLink::new("acc-1"), from_body);
    }
}
