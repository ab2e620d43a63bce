//! What the operator API shows of the eMSP role: the objects each CPO partner pushed to us,
//! with the figures an operator checks (session kWh and status; CDR energy and total cost,
//! before and after taxes) next to the OCPI object exactly as it arrived. Amounts are decimal
//! strings, as everywhere in the operator API.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use unicharge_ocpi::cdrs::Cdr;
use unicharge_ocpi::driver_messages::DriverMessage;
use unicharge_ocpi::sessions::Session;
use unicharge_ocpi::types::Price;
use unicharge_store::ocpi::ReceivedRow;

use super::{CDRS, CHARGING_PROFILES, DRIVER_MESSAGES, LOCATIONS, SESSIONS, TARIFFS};
use crate::operator::OperatorError;
use crate::Ocpi;

/// A price as the operator API writes money.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostView {
    pub excl_vat: Option<String>,
    pub incl_vat: Option<String>,
}

impl From<&Price> for CostView {
    fn from(p: &Price) -> Self {
        CostView {
            excl_vat: p.before_taxes().map(|d| d.to_string()),
            incl_vat: p.after_taxes().map(|d| d.to_string()),
        }
    }
}

/// One object a CPO partner pushed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedView {
    pub partner_id: i64,
    /// The CPO party that owns it, `CC*PID`.
    pub party: String,
    pub id: String,
    pub last_updated: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// Sessions: `ACTIVE`, `COMPLETED`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Sessions: kWh so far; CDRs: total energy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kwh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_cost: Option<CostView>,
    /// Sessions and CDRs: the session it belongs to (a CDR) or its own id (a session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The OCPI object as the partner sent it (OCPI spelling).
    pub object: Box<RawValue>,
}

fn view(row: ReceivedRow) -> Option<ReceivedView> {
    let mut v = ReceivedView {
        partner_id: row.partner_id,
        party: format!("{}*{}", row.party.country_code, row.party.party_id),
        id: row.id.clone(),
        last_updated: row.last_updated,
        received_at: row.received_at,
        status: None,
        kwh: None,
        currency: None,
        total_cost: None,
        session_id: None,
        object: RawValue::from_string(row.data.clone()).ok()?,
    };
    match row.module.as_str() {
        SESSIONS => {
            if let Ok(s) = serde_json::from_str::<Session>(&row.data) {
                v.status = Some(s.status.as_str().to_string());
                v.kwh = Some(s.kwh.to_string());
                v.currency = Some(s.currency);
                v.total_cost = s.total_cost.as_ref().map(CostView::from);
                v.session_id = Some(s.id);
            }
        }
        CDRS => {
            if let Ok(c) = serde_json::from_str::<Cdr>(&row.data) {
                v.kwh = Some(c.total_energy.to_string());
                v.currency = Some(c.currency);
                v.total_cost = Some(CostView::from(&c.total_cost));
                v.session_id = c.session_id;
            }
        }
        DRIVER_MESSAGES => {
            if let Ok(m) = serde_json::from_str::<DriverMessage>(&row.data) {
                v.session_id = Some(m.session_id);
            }
        }
        _ => {}
    }
    Some(v)
}

/// What partner `partner_id` pushed of `module` (`locations`, `tariffs`, `sessions`, `cdrs`,
/// `drivermessages`),
/// in arrival order.
pub async fn received(
    ocpi: &Ocpi,
    partner_id: i64,
    module: &str,
) -> Result<Vec<ReceivedView>, OperatorError> {
    if ![
        LOCATIONS,
        TARIFFS,
        SESSIONS,
        CDRS,
        CHARGING_PROFILES,
        DRIVER_MESSAGES,
    ]
    .contains(&module)
    {
        return Err(OperatorError::NotFound(format!(
            "{module:?} (use locations, tariffs, sessions, cdrs, chargingprofiles or \
             drivermessages)"
        )));
    }
    let store = ocpi.ocpi_store();
    if store.ocpi_partner(partner_id).await?.is_none() {
        return Err(OperatorError::NotFound(format!(
            "OCPI partner {partner_id}"
        )));
    }
    Ok(store
        .ocpi_received_list(Some(partner_id), module)
        .await?
        .into_iter()
        .filter_map(view)
        .collect())
}
