//! CDR verdicts: a unicharge extension module (not in OCPI 2.2.1 / 2.3.0) for the OCPI 3.0
//! business use case B5.2 (the MSP receives all CDRs for invoicing, and accepts or disputes
//! each, with a reason).
//!
//! `PUT {cpo endpoint}/{cdr_id}` with a [`CdrVerdict`]: the MSP says whether it accepts the CDR
//! for invoicing or disputes it and why. PUT replaces: a dispute may later be withdrawn by an
//! ACCEPTED verdict. The CPO keeps the latest verdict per CDR and shows disputes to its
//! operator, who corrects with a credit CDR where the dispute holds. Published as
//! [`MODULE_ID`] in version details by the CPO role; plain partners never see it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The module identifier in version details.
pub const MODULE_ID: &str = "x-unicharge-cdrverdicts";

/// The MSP's verdict on one CDR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrVerdict {
    pub result: CdrVerdictType,
    /// Why (required for DISPUTED): what the MSP finds wrong, for the CPO's operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub last_updated: DateTime<Utc>,
}

ocpi_enum! {
    /// Accept the CDR for invoicing, or dispute it.
    CdrVerdictType {
        Accepted => "ACCEPTED",
        Disputed => "DISPUTED",
    }
}

/// The longest reason kept (characters).
pub const MAX_REASON: usize = 512;

impl CdrVerdict {
    /// A DISPUTED verdict needs a reason; no reason is longer than [`MAX_REASON`].
    pub fn check(&self) -> Result<(), &'static str> {
        let reason = self.reason.as_deref().map(str::trim).unwrap_or("");
        if self.result == CdrVerdictType::Disputed && reason.is_empty() {
            return Err("a DISPUTED verdict needs a reason");
        }
        if reason.chars().count() > MAX_REASON {
            return Err("the reason is longer than 512 characters");
        }
        Ok(())
    }
}
