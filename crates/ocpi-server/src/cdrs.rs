//! CDRs module, Sender (CPO): the charge records of ended sessions (see [`crate::sessions`]),
//! with the cost the core rated: total and per component (energy, time, parking, fixed),
//! exact decimals. CDR ids are derived like session ids.
//!
//! `GET {cdrs}/{cdr_id}` answers one CDR (a unicharge addition, as for sessions).

use axum::extract::{Path, Query, State};
use unicharge_core::charge_record::ChargeRecord;
use unicharge_ocpi::cdrs::{Cdr, CdrLocation};
use unicharge_ocpi::sessions::{CdrDimension, CdrDimensionType, ChargingPeriod};
use unicharge_ocpi::transport::StatusCode;
use unicharge_ocpi::types::Price;
use unicharge_ocpi::Version;

use crate::auth::{Caller, Registered};
use crate::locations::{self, evse_uid};
use crate::reply::{self, Answer, Reply};
use crate::scope;
use crate::sessions::{
    self, auth_method, cdr_token, component, derived_id, hours, kwh, price, Roamed,
};
use crate::Ocpi;

pub fn build(ocpi: &Ocpi, r: &Roamed, rec: &ChargeRecord, version: &Version) -> Cdr {
    let evse = evse_uid(&r.station, rec.evse_id.or(r.tx.evse_id).unwrap_or(1));
    let connector_id = rec
        .connector_id
        .or(r.tx.connector_id)
        .unwrap_or(1)
        .to_string();
    let currency = rec
        .cost
        .as_ref()
        .map_or_else(|| ocpi.settings().currency.clone(), |c| c.currency.clone());
    let zero = Price {
        excl_vat: Some(rust_decimal::Decimal::ZERO),
        incl_vat: Some(rust_decimal::Decimal::ZERO),
        ..Default::default()
    }
    .for_version(version);
    let mut dimensions = vec![
        CdrDimension {
            kind: CdrDimensionType::Energy,
            volume: kwh(rec.usage.energy_wh),
        },
        CdrDimension {
            kind: CdrDimensionType::Time,
            volume: hours(rec.usage.charging_seconds),
        },
    ];
    if rec.usage.idle_seconds > 0 {
        dimensions.push(CdrDimension {
            kind: CdrDimensionType::ParkingTime,
            volume: hours(rec.usage.idle_seconds),
        });
    }
    let total_seconds = (rec.ended_at - rec.started_at).num_seconds().max(0);
    Cdr {
        country_code: r.location.party.country_code.clone(),
        party_id: r.location.party.party_id.clone(),
        id: derived_id("cdr", &r.station, &rec.transaction_id),
        start_date_time: rec.started_at,
        end_date_time: rec.ended_at,
        session_id: Some(sessions::session_id(&r.station, &rec.transaction_id)),
        cdr_token: cdr_token(&r.token),
        auth_method: auth_method(&r.tx),
        authorization_reference: None,
        cdr_location: CdrLocation {
            id: r.location.id.clone(),
            name: r.data.name.clone(),
            address: r.data.address.clone(),
            city: r.data.city.clone(),
            postal_code: r.data.postal_code.clone(),
            state: r.data.state.clone(),
            country: r.data.country.clone(),
            coordinates: r.data.coordinates.clone(),
            evse_uid: evse.clone(),
            evse_id: evse,
            connector_id,
            connector_standard: r.data.connector.standard.clone(),
            connector_format: r.data.connector.format.clone(),
            connector_power_type: r.data.connector.power_type.clone(),
        },
        meter_id: None,
        currency,
        tariffs: None,
        charging_periods: vec![ChargingPeriod {
            start_date_time: rec.started_at,
            dimensions,
            tariff_id: rec.tariff_id.clone(),
        }],
        signed_data: None,
        total_cost: rec.cost.as_ref().map_or(zero, |c| price(c, version)),
        total_fixed_cost: rec.cost.as_ref().map(|c| component(c.session_fee, version)),
        total_energy: kwh(rec.usage.energy_wh),
        total_energy_cost: rec.cost.as_ref().map(|c| component(c.energy, version)),
        total_time: hours(total_seconds),
        total_time_cost: rec
            .cost
            .as_ref()
            .map(|c| component(c.charging_time, version)),
        total_parking_time: Some(hours(rec.usage.idle_seconds)),
        total_parking_cost: rec.cost.as_ref().map(|c| component(c.idle_time, version)),
        total_reservation_cost: None,
        remark: None,
        invoice_reference_id: None,
        credit: None,
        credit_reference_id: None,
        home_charging_compensation: None,
        last_updated: rec.created_at,
    }
}

/// The caller's CDRs.
pub(crate) async fn visible(
    ocpi: &Ocpi,
    caller: &Caller,
    version: &Version,
) -> Result<Vec<Cdr>, Reply> {
    let parties = scope::visible_parties(caller)?;
    let mut out = Vec::new();
    for r in sessions::visible(ocpi, caller, &parties).await? {
        if let Some(rec) = sessions::charge_record(ocpi, &r).await? {
            let mut cdr = build(ocpi, &r, &rec, version);
            let session_id = sessions::session_id(&r.station, &r.tx.transaction_id);
            cdr.remark = crate::session_limits::remark(ocpi, caller.partner.id, &session_id).await;
            out.push(cdr);
        }
    }
    Ok(out)
}

pub async fn list(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path(version): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let version = scope::version(&version)?;
    let query = locations::list_query(&pairs)?;
    let items = visible(&ocpi, &caller, &version)
        .await?
        .into_iter()
        .map(|c| (c.last_updated, c.id.clone(), c))
        .collect();
    let endpoint = format!("{}/{}/cpo/cdrs", ocpi.base_url(), version.as_str());
    Ok(locations::page(
        items,
        &query,
        ocpi.settings().max_page,
        &endpoint,
    ))
}

pub async fn one(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path((version, id)): Path<(String, String)>,
) -> Answer {
    let version = scope::version(&version)?;
    visible(&ocpi, &caller, &version)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| Reply::ok(&c))
        .ok_or_else(|| {
            Reply::not_found_object(
                StatusCode::CLIENT_ERROR,
                format!("no CDR {}", reply::bounded(&id)),
            )
        })
}
