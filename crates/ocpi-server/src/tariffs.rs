//! Tariffs module, Sender (CPO), OCPI 2.2.1 §11: the core tariffs that price sessions (the same
//! ones, so what a partner is shown is what the CDR charges), as OCPI Tariffs of each of our
//! parties the partner is registered with. `GET {tariffs}` pages them; a created, changed or
//! deleted tariff is pushed (PUT / DELETE) to every partner's Tariffs Receiver through the
//! outbox (ADR 0038). Their `type` is REGULAR for roaming partners and AD_HOC_PAYMENT for
//! NSPs / NAPs (B2.2 / B2.3, ADR 0049): the same prices, which every session at the station pays.
//!
//! Mapping (core prices exclude VAT; amounts exact, ADR 0032): price per kWh → ENERGY (per
//! kWh, step 1 Wh); per charging minute → TIME (×60 per hour, step 1 s); per idle minute →
//! PARKING_TIME (×60 per hour, step 1 s); session fee → FLAT; each component carries the VAT
//! percentage. Rating prorates per second and rounds once on the total, so step 1 is what the
//! CDR does. Validity → start / end_date_time; driver texts → tariff_alt_text. 2.3.0 adds
//! `tax_included: NO`.
//!
//! A core tariff has no change time, so `last_updated` is when its fingerprint (SHA-256 of its
//! JSON) was first seen to differ (migration 0062): stable across restarts, moved by any change.

use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use unicharge_core::tariff::Tariff as CoreTariff;
use unicharge_ocpi::tariffs::{
    PriceComponent, TariffDimensionType, TariffElement, TariffType, TaxIncluded,
};
use unicharge_ocpi::types::DisplayText;
use unicharge_ocpi::Version;
use unicharge_store::ocpi::Party;

use crate::auth::Registered;
use crate::push::{self, Push};
use crate::reply::{Answer, Reply};
use crate::{locations, scope, Ocpi};

pub use unicharge_ocpi::tariffs::Tariff;

fn component(kind: TariffDimensionType, price: Decimal, vat: Decimal) -> PriceComponent {
    PriceComponent {
        kind,
        price: price.normalize(),
        vat: Some(vat.normalize()),
        step_size: 1,
    }
}

/// A core tariff as the OCPI Tariff of `party`, in `version`.
pub fn to_ocpi(
    t: &CoreTariff,
    party: &Party,
    last_updated: DateTime<Utc>,
    version: &Version,
) -> Tariff {
    let sixty = Decimal::from(60);
    let vat = t.vat_percent;
    let mut components = Vec::new();
    for (kind, price) in [
        (TariffDimensionType::Energy, t.price_per_kwh),
        (
            TariffDimensionType::Time,
            t.price_per_charging_minute * sixty,
        ),
        (
            TariffDimensionType::ParkingTime,
            t.price_per_idle_minute * sixty,
        ),
        (TariffDimensionType::Flat, t.session_fee),
    ] {
        if !price.is_zero() {
            components.push(component(kind, price, vat));
        }
    }
    if components.is_empty() {
        // Free charging: OCPI needs at least one component to say so.
        components.push(component(TariffDimensionType::Energy, Decimal::ZERO, vat));
    }
    let alt_text: Vec<DisplayText> = t
        .display_text
        .iter()
        .map(|d| DisplayText {
            language: d.language.clone(),
            text: d.text.clone(),
        })
        .collect();
    Tariff {
        country_code: party.country_code.clone(),
        party_id: party.party_id.clone(),
        id: t.id.clone(),
        currency: t.currency.clone(),
        kind: Some(TariffType::Regular),
        tariff_alt_text: (!alt_text.is_empty()).then_some(alt_text),
        tariff_alt_url: None,
        min_price: None,
        max_price: None,
        preauthorize_amount: None,
        elements: vec![TariffElement {
            price_components: components,
            restrictions: None,
        }],
        tax_included: version.prices_with_taxes().then_some(TaxIncluded::No),
        start_date_time: t.valid_from,
        end_date_time: t.valid_to,
        energy_mix: None,
        last_updated,
    }
}

fn fingerprint(t: &CoreTariff) -> Result<String, Reply> {
    let text = serde_json::to_string(t).map_err(Reply::server_error)?;
    Ok(hex::encode(Sha256::digest(text)))
}

/// Every core tariff with its `last_updated`. Tariffs that changed since last seen are pushed
/// (PUT) to the partners, tariffs that disappeared are deleted at them.
pub async fn sync(ocpi: &Ocpi) -> Result<Vec<(CoreTariff, DateTime<Utc>)>, Reply> {
    let store = ocpi.ocpi_store();
    let tariffs = ocpi.store().tariffs().await.map_err(Reply::server_error)?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(tariffs.len());
    let mut changed = Vec::new();
    for t in tariffs {
        let (at, is_new) = store
            .ocpi_tariff_version(&t.id, &fingerprint(&t)?, now)
            .await
            .map_err(Reply::server_error)?;
        if is_new {
            changed.push((t.clone(), at));
        }
        out.push((t, at));
    }
    let mut gone = Vec::new();
    for id in store.ocpi_tariff_ids().await.map_err(Reply::server_error)? {
        if !out.iter().any(|(t, _)| t.id == id) {
            store
                .forget_ocpi_tariff(&id)
                .await
                .map_err(Reply::server_error)?;
            gone.push(id);
        }
    }
    if !changed.is_empty() || !gone.is_empty() {
        push_changes(ocpi, &changed, &gone).await?;
    }
    Ok(out)
}

async fn push_changes(
    ocpi: &Ocpi,
    changed: &[(CoreTariff, DateTime<Utc>)],
    gone: &[String],
) -> Result<(), Reply> {
    for party in ocpi
        .settings()
        .parties_with_role(&unicharge_ocpi::types::Role::Cpo)
    {
        for partner in push::partners_of(ocpi, &party).await? {
            let kind = crate::access::Access::of(&partner).tariff_type();
            let version = crate::credentials::outgoing(ocpi, &partner)
                .map(|(_, v)| v)
                .unwrap_or(Version::V2_2_1);
            let to = push::partner_party(&partner);
            for (t, at) in changed {
                let mut tariff = to_ocpi(t, &party, *at, &version);
                tariff.kind = Some(kind.clone());
                let path = format!("/{}/{}/{}", party.country_code, party.party_id, t.id);
                let push = Push {
                    module: "tariffs",
                    key: format!("tariff:{path}"),
                    method: "PUT",
                    path,
                    body: Some(push::json(&tariff)?),
                    from: party.clone(),
                    to: to.clone(),
                };
                push::enqueue(ocpi, &partner, push).await?;
            }
            for id in gone {
                let path = format!("/{}/{}/{id}", party.country_code, party.party_id);
                let push = Push {
                    module: "tariffs",
                    key: format!("tariff:{path}"),
                    method: "DELETE",
                    path,
                    body: None,
                    from: party.clone(),
                    to: to.clone(),
                };
                push::enqueue(ocpi, &partner, push).await?;
            }
        }
    }
    Ok(())
}

/// Run [`sync`] after the operator changed tariffs; failures are logged (the next GET or
/// change runs it again).
pub async fn changed(ocpi: &Ocpi) {
    if let Err(e) = sync(ocpi).await {
        tracing::warn!(error = %e.body, "OCPI tariffs: cannot record or push the change");
    }
}

/// `GET {tariffs}`: the tariffs of the parties the caller sees, paged, with date filters.
pub async fn list(
    State(ocpi): State<Ocpi>,
    Registered(caller): Registered,
    Path(version): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let version = scope::version(&version)?;
    let query = locations::list_query(&pairs)?;
    let parties = scope::visible_parties(&caller)?;
    let tariffs = sync(&ocpi).await?;
    let mut items = Vec::new();
    let cpo = ocpi
        .settings()
        .parties_with_role(&unicharge_ocpi::types::Role::Cpo);
    let kind = crate::access::Access::of(&caller.partner).tariff_type();
    for party in parties.iter().filter(|p| cpo.contains(p)) {
        for (t, at) in &tariffs {
            let mut tariff = to_ocpi(t, party, *at, &version);
            tariff.kind = Some(kind.clone());
            let key = format!("{}/{}/{}", party.country_code, party.party_id, t.id);
            items.push((*at, key, tariff));
        }
    }
    let endpoint = format!("{}/{}/cpo/tariffs", ocpi.base_url(), version.as_str());
    Ok(locations::page(
        items,
        &query,
        ocpi.settings().max_page,
        &endpoint,
    ))
}
