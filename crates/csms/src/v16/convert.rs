//! The pieces 1.6 and 2.0.1 share under other names: idTag ↔ idToken, idTagInfo ↔ idTokenInfo,
//! connector ↔ EVSE, and meter samples. Everything here is a pure function of typed messages.
//!
//! Readings taken (ADR 0036):
//! - **Connector N ↔ EVSE N, connector 1.** A 1.6 charge point numbers its connectors 1..n and
//!   each can charge on its own, which is what a 2.0.1 EVSE is; 1.6 connector 0 is the charge
//!   point itself, 2.0.1 EVSE 0.
//! - **idTag → idToken type.** 1.6 sends only the value. The token store keys tokens by (value,
//!   type); the idTag is looked up as each type in [`ID_TAG_TYPES`] order (RFID first, as 1.6
//!   idTags mostly are) and an unknown one is recorded as ISO14443.
//! - **Status.** 2.0.1 AuthorizationStatus values 1.6 lacks (Unknown, NoCredit, NotAt…,
//!   NotAllowedTypeEVSE) become `Invalid`, the 1.6 answer for "not allowed to charge".

use std::str::FromStr;

use rust_decimal::Decimal;
use unicharge_ocpp::v16;
use unicharge_ocpp::v201::{
    AuthorizationStatusEnumType, EvseType, IdTokenEnumType, IdTokenInfoType, IdTokenType,
    LocationEnumType, MeasurandEnumType, MeterValueType, PhaseEnumType, ReadingContextEnumType,
    SampledValueType, UnitOfMeasureType,
};

use crate::dispatch::{internal, CallRefusal, StationContext};

/// Token types a 1.6 idTag is looked up as, in this order.
pub const ID_TAG_TYPES: [IdTokenEnumType; 6] = [
    IdTokenEnumType::Iso14443,
    IdTokenEnumType::Iso15693,
    IdTokenEnumType::Central,
    IdTokenEnumType::EMaid,
    IdTokenEnumType::KeyCode,
    IdTokenEnumType::Local,
];

/// The 2.0.1 idToken a 1.6 idTag stands for: the type under which the token store knows it.
pub async fn id_token(ctx: &StationContext, id_tag: &str) -> Result<IdTokenType, CallRefusal> {
    let mut kind = ID_TAG_TYPES[0];
    for candidate in ID_TAG_TYPES {
        let found = ctx
            .store
            .find_token(id_tag, candidate.as_str())
            .await
            .map_err(internal)?;
        if found.is_some() {
            kind = candidate;
            break;
        }
    }
    Ok(IdTokenType {
        custom_data: None,
        additional_info: None,
        id_token: id_tag.to_string(),
        r#type: kind,
    })
}

/// 2.0.1 `idTokenInfo` → 1.6 `idTagInfo`: the group becomes `parentIdTag`, the cache expiry
/// `expiryDate`.
pub fn id_tag_info(info: &IdTokenInfoType) -> v16::IdTagInfo {
    use AuthorizationStatusEnumType as S;
    let status = match info.status {
        S::Accepted => v16::AuthorizationStatus::Accepted,
        S::Blocked => v16::AuthorizationStatus::Blocked,
        S::Expired => v16::AuthorizationStatus::Expired,
        S::ConcurrentTx => v16::AuthorizationStatus::ConcurrentTx,
        S::Invalid
        | S::NoCredit
        | S::NotAllowedTypeEvse
        | S::NotAtThisLocation
        | S::NotAtThisTime
        | S::Unknown => v16::AuthorizationStatus::Invalid,
    };
    v16::IdTagInfo {
        expiry_date: info.cache_expiry_date_time,
        // CiString20: a longer group id cannot be sent as a 1.6 parentIdTag.
        parent_id_tag: info
            .group_id_token
            .as_ref()
            .map(|g| g.id_token.clone())
            .filter(|g| g.chars().count() <= 20),
        status,
    }
}

/// The EVSE of a 1.6 connector (see the module docs).
pub fn evse(connector_id: i64) -> EvseType {
    EvseType {
        custom_data: None,
        id: connector_id,
        connector_id: (connector_id > 0).then_some(1),
    }
}

/// One 1.6 sample, whatever message carried it (MeterValues and StopTransaction type the
/// same fields separately because of the "Celcius" spelling).
pub struct Sample<'a> {
    pub value: &'a str,
    pub context: Option<&'static str>,
    pub measurand: Option<&'static str>,
    pub phase: Option<&'static str>,
    pub location: Option<&'static str>,
    pub unit: Option<&'static str>,
    pub signed: bool,
}

impl<'a> From<&'a v16::SampledValue> for Sample<'a> {
    fn from(s: &'a v16::SampledValue) -> Self {
        Sample {
            value: &s.value,
            context: s.context.map(|c| c.as_str()),
            measurand: s.measurand.map(|m| m.as_str()),
            phase: s.phase.map(|p| p.as_str()),
            location: s.location.map(|l| l.as_str()),
            unit: s.unit.map(|u| u.as_str()),
            signed: s.format == Some(v16::ValueFormat::SignedData),
        }
    }
}

impl<'a> From<&'a v16::TransactionDataSampledValue> for Sample<'a> {
    fn from(s: &'a v16::TransactionDataSampledValue) -> Self {
        Sample {
            value: &s.value,
            context: s.context.map(|c| c.as_str()),
            measurand: s.measurand.map(|m| m.as_str()),
            phase: s.phase.map(|p| p.as_str()),
            location: s.location.map(|l| l.as_str()),
            unit: s.unit.map(|u| u.as_str()),
            signed: s.format == Some(v16::ValueFormat::SignedData),
        }
    }
}

/// A 1.6 sample as a 2.0.1 one, or `None` when 2.0.1 cannot carry it: a signed (opaque)
/// value, a value that is not a number, or a measurand 2.0.1 does not have (RPM,
/// Temperature). Those are logged at DEBUG by the caller and not billed.
pub fn sampled_value(s: &Sample<'_>) -> Option<SampledValueType> {
    if s.signed {
        return None;
    }
    let value = Decimal::from_str(s.value.trim()).ok()?;
    let measurand = match s.measurand {
        Some(name) => Some(by_name(&MeasurandEnumType::ALL, name, |m| m.as_str())?),
        None => None,
    };
    // "Celcius" (StopTransaction's schema spelling) is the Celsius of 2.0.1's unit list.
    let unit = s.unit.map(|u| if u == "Celcius" { "Celsius" } else { u });
    Some(SampledValueType {
        custom_data: None,
        value,
        context: s
            .context
            .and_then(|c| by_name(&ReadingContextEnumType::ALL, c, |x| x.as_str())),
        measurand,
        phase: s
            .phase
            .and_then(|p| by_name(&PhaseEnumType::ALL, p, |x| x.as_str())),
        location: s
            .location
            .and_then(|l| by_name(&LocationEnumType::ALL, l, |x| x.as_str())),
        signed_meter_value: None,
        unit_of_measure: unit.map(|u| UnitOfMeasureType {
            custom_data: None,
            unit: Some(u.to_string()),
            multiplier: None,
        }),
    })
}

/// The 2.0.1 meter value of a 1.6 one (`None` when no sample survives).
pub fn meter_value<'a>(
    timestamp: chrono::DateTime<chrono::Utc>,
    samples: impl Iterator<Item = Sample<'a>>,
) -> Option<MeterValueType> {
    let sampled_value: Vec<_> = samples.filter_map(|s| sampled_value(&s)).collect();
    (!sampled_value.is_empty()).then_some(MeterValueType {
        custom_data: None,
        sampled_value,
        timestamp,
    })
}

/// A meter register reading 1.6 sends as a plain integer (meterStart, meterStop): Wh of
/// Energy.Active.Import.Register, the register 2.0.1 bills from.
pub fn register_reading(
    wh: i64,
    timestamp: chrono::DateTime<chrono::Utc>,
    context: ReadingContextEnumType,
) -> MeterValueType {
    MeterValueType {
        custom_data: None,
        sampled_value: vec![SampledValueType {
            custom_data: None,
            value: Decimal::from(wh),
            context: Some(context),
            measurand: Some(MeasurandEnumType::EnergyActiveImportRegister),
            phase: None,
            location: None,
            signed_meter_value: None,
            unit_of_measure: None,
        }],
        timestamp,
    }
}

/// The value of `all` whose wire name is `name`: the two versions share most enumerations
/// value for value under different Rust types.
pub fn by_name<T: Copy>(all: &[T], name: &str, as_str: impl Fn(&T) -> &'static str) -> Option<T> {
    all.iter().copied().find(|v| as_str(v) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_keep_their_meaning_and_2_0_1_less_ones_are_dropped() {
        let energy = v16::SampledValue {
            value: "0012345".into(),
            context: Some(v16::ReadingContext::SamplePeriodic),
            format: None,
            measurand: Some(v16::Measurand::EnergyActiveImportRegister),
            phase: None,
            location: Some(v16::Location::Outlet),
            unit: Some(v16::UnitOfMeasure::KWh),
        };
        let converted = sampled_value(&Sample::from(&energy)).unwrap();
        assert_eq!(converted.value, Decimal::from(12345));
        assert_eq!(
            converted.measurand,
            Some(MeasurandEnumType::EnergyActiveImportRegister)
        );
        assert_eq!(
            converted.context,
            Some(ReadingContextEnumType::SamplePeriodic)
        );
        assert_eq!(converted.location, Some(LocationEnumType::Outlet));
        assert_eq!(
            converted.unit_of_measure.unwrap().unit.as_deref(),
            Some("kWh")
        );
        let rpm = v16::SampledValue {
            measurand: Some(v16::Measurand::Rpm),
            ..energy.clone()
        };
        assert!(sampled_value(&Sample::from(&rpm)).is_none());
        let signed = v16::SampledValue {
            format: Some(v16::ValueFormat::SignedData),
            ..energy
        };
        assert!(sampled_value(&Sample::from(&signed)).is_none());
    }

    #[test]
    fn statuses_1_6_lacks_become_invalid_and_the_group_is_the_parent() {
        let info = IdTokenInfoType {
            custom_data: None,
            status: AuthorizationStatusEnumType::NoCredit,
            cache_expiry_date_time: None,
            charging_priority: None,
            language1: None,
            evse_id: None,
            group_id_token: Some(IdTokenType {
                custom_data: None,
                additional_info: None,
                id_token: "FLEET-7".into(),
                r#type: IdTokenEnumType::Central,
            }),
            language2: None,
            personal_message: None,
        };
        let tag = id_tag_info(&info);
        assert_eq!(tag.status, v16::AuthorizationStatus::Invalid);
        assert_eq!(tag.parent_id_tag.as_deref(), Some("FLEET-7"));
    }
}
