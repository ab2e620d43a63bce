//! How the back end names OBEs and contracts in its tables and logs.

use unicharge_efc::{ChargeReport, EfcContextMark, ObeId};

/// `<manufacturerId>:<equipmentObuId hex>`: the OBE's identity (TP/CR/FE/BV/07: fixed).
pub fn obe_key(id: &ObeId) -> String {
    format!(
        "{}:{}",
        id.manufacturer_id,
        hex::encode(&id.equipment_obu_id)
    )
}

/// `<country>-<provider>-<typeOfContract hex>-<contextVersion>`: the service provider contract
/// (mileage is tracked per contract, TP/CR/FE/BV/05).
pub fn contract_key(mark: &EfcContextMark) -> String {
    format!(
        "{}-{}-{}-{}",
        mark.contract_provider.country_code.to_u16(),
        mark.contract_provider.provider_identifier,
        hex::encode(&mark.type_of_contract),
        mark.context_version.value().unwrap_or(-1)
    )
}

/// The key a report is tracked under: its OBE, or its contract when it names no OBE.
pub fn report_obe_key(report: &ChargeReport) -> String {
    match &report.obe_id {
        Some(id) => obe_key(id),
        None => format!(
            "contract:{}",
            contract_key(&report.service_provider_contract)
        ),
    }
}
