//! Types that ISO 17575-1 imports from ISO 14906 (EfcDsrcApplication v5, EfcDsrcGeneric v5)
//! and ISO 14816 (AVIAEINumberingAndDataStructures).
//!
//! Only the types a charge report reaches are written here. Names follow the standard
//! (Rust case); comments carry the ASN.1 definition's intent, not its text.

use rasn::prelude::*;

/// `Int1 ::= INTEGER(0..255)`.
pub type Int1 = u8;
/// `Int2 ::= INTEGER(0..65535)`.
pub type Int2 = u16;
/// `Int4 ::= INTEGER(0..4294967295)`; the charge report counter and distances use it.
pub type Int4 = u32;

/// ISO 14816 `CountryCode`: a 10-bit BIT STRING (ISO 3166-1 numeric, encoded per ISO 14816).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq, Hash)]
#[rasn(delegate, size(10))]
pub struct CountryCode(pub BitString);

impl CountryCode {
    /// Builds the 10-bit code from its numeric value (only the low 10 bits are kept).
    pub fn from_u16(value: u16) -> Self {
        let mut bits = BitString::with_capacity(10);
        for i in (0..10).rev() {
            bits.push((value >> i) & 1 == 1);
        }
        CountryCode(bits)
    }

    /// The numeric value of the 10 bits.
    pub fn to_u16(&self) -> u16 {
        self.0
            .iter()
            .fold(0u16, |acc, b| (acc << 1) | u16::from(*b))
    }
}

/// ISO 14816 `IssuerIdentifier ::= INTEGER(0..16383)`.
pub type IssuerIdentifier = u16;

/// ISO 14906 `Provider`: who issued a contract or runs a toll context.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq, Hash)]
#[rasn(automatic_tags)]
pub struct Provider {
    pub country_code: CountryCode,
    #[rasn(value("0..=16383"))]
    pub provider_identifier: IssuerIdentifier,
}

/// ISO 14906 `EFC-ContextMark`: identifies a service provider contract (the key the back end
/// tracks mileage by).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq, Hash)]
#[rasn(automatic_tags)]
pub struct EfcContextMark {
    pub contract_provider: Provider,
    #[rasn(size(2))]
    pub type_of_contract: OctetString,
    pub context_version: ContextVersion,
}

/// `contextVersion INTEGER(0..127,...)`: an extensible constraint, so PER spends one bit on
/// "inside the root range" before the 7-bit value.
///
/// Held as an `Integer`: rasn 0.30 drops the extension bit when the Rust type is a primitive
/// (`u8`) — see ADR 0014; the asn1tools vectors catch it.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq, Hash)]
#[rasn(delegate, value("0..=127", extensible))]
pub struct ContextVersion(pub Integer);

impl ContextVersion {
    /// A version inside the root range 0..=127.
    pub fn new(version: u8) -> Self {
        ContextVersion(Integer::from(i64::from(version.min(127))))
    }

    /// The version as a number (values outside `i64` only arise from extension encodings).
    pub fn value(&self) -> Option<i64> {
        i64::try_from(&self.0).ok()
    }
}

/// ISO 14906 `PayUnit ::= OCTET STRING (SIZE(2))` (currency or token unit).
pub type PayUnit = OctetString;

/// ISO 14906 `PaymentFee`. The amount is an `Int2`, so it cannot be negative (see the crate
/// docs on the negative-limit TPs).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct PaymentFee {
    pub payment_fee_amount: Int2,
    #[rasn(size(2))]
    pub payment_fee_unit: PayUnit,
}

/// ISO 14906 `DateCompact`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct DateCompact {
    #[rasn(value("1990..=2117"))]
    pub year: u16,
    #[rasn(value("0..=12"))]
    pub month: u8,
    #[rasn(value("0..=31"))]
    pub day: u8,
}

/// ISO 14906 `PaymentMeans`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct PaymentMeans {
    #[rasn(size(10))]
    pub personal_account_number: OctetString,
    pub payment_means_expiry_date: DateCompact,
    /// Spelled `pamentMeansUsageControl` in ISO 14906 (sic); only the position matters in PER.
    #[rasn(size(2))]
    pub pament_means_usage_control: OctetString,
}

/// ISO 14906 `EquipmentOBUId ::= OCTET STRING`.
pub type EquipmentObuId = OctetString;

/// ISO 14906 `SetMMIRq`: what the OBE shows the driver (`obeStatusForDriver`).
/// An `INTEGER (0..255)` with named values; see [`set_mmi`].
pub type SetMmiRq = u8;

/// Named values of `SetMMIRq`.
pub mod set_mmi {
    /// Operation / transaction completed.
    pub const OK: u8 = 0;
    /// Operation / transaction not completed.
    pub const NOK: u8 = 1;
    /// Driver should contact the operator (e.g. low balance).
    pub const CONTACT_OPERATOR: u8 = 2;
    /// Version 1 (2010) `nokInLocalContext`; not named in version 2 but still in range.
    pub const NOK_IN_LOCAL_CONTEXT_V1: u8 = 3;
    /// No signalling.
    pub const NO_SIGNALLING: u8 = 255;
}

/// ISO 14906 `LPN.alphabetIndicator` (6 bits in PER, values start at 1).
#[derive(AsnType, Decode, Encode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(enumerated)]
#[allow(missing_docs)]
pub enum AlphabetIndicator {
    LatinAlphabetNo1 = 1,
    LatinAlphabetNo2 = 2,
    LatinAlphabetNo3 = 3,
    LatinAlphabetNo4 = 4,
    LatinCyrillicAlphabet = 5,
    LatinArabicAlphabet = 6,
    LatinGreekAlphabet = 7,
    LatinHebrewAlphabet = 8,
    LatinAlphabetNo5 = 9,
    LatinAlphabetNo6 = 10,
    TwoOctetBmp = 11,
    FourOctetCanonical = 12,
    ReservedForUse1 = 13,
    ReservedForUse2 = 14,
    ReservedForUse3 = 15,
    ReservedForUse4 = 16,
    ReservedForUse5 = 17,
    ReservedForUse6 = 18,
    ReservedForUse7 = 19,
    ReservedForUse8 = 20,
    ReservedForUse9 = 21,
    ReservedForUse10 = 22,
    ReservedForUse11 = 23,
    ReservedForUse12 = 24,
    ReservedForUse13 = 25,
    ReservedForUse14 = 26,
    ReservedForUse15 = 27,
    ReservedForUse16 = 28,
    ReservedForUse17 = 29,
    ReservedForUse18 = 30,
    ReservedForUse19 = 31,
    ReservedForUse20 = 32,
    ReservedForUse21 = 33,
}

/// ISO 14906 `LPN` (`VehicleLicencePlateNumber`).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct Lpn {
    pub country_code: CountryCode,
    pub alphabet_indicator: AlphabetIndicator,
    pub licence_plate_number: OctetString,
}

/// `VehicleLicencePlateNumber ::= LPN`.
pub type VehicleLicencePlateNumber = Lpn;

/// ISO 14906 tyre type inside `VehicleAxles`.
#[derive(AsnType, Decode, Encode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(enumerated)]
#[allow(missing_docs)]
pub enum TyreType {
    NotSpecified = 0,
    SingleTyre = 1,
    DualTyres = 2,
    ReservedForUse = 3,
}

/// Trailer and tractor axle counts (0..7 each).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct NumberOfAxles {
    #[rasn(value("0..=7"))]
    pub trailer_axles: u8,
    #[rasn(value("0..=7"))]
    pub tractor_axles: u8,
}

/// `VehicleAxles.vehicleAxlesNumber`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct VehicleAxlesNumber {
    pub tyre_type: TyreType,
    pub number_of_axles: NumberOfAxles,
}

/// ISO 14906 `VehicleAxles`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct VehicleAxles {
    pub vehicle_first_axle_height: Int1,
    pub vehicle_axles_number: VehicleAxlesNumber,
}

/// ISO 14906 `VehicleClass ::= Int1`.
pub type VehicleClass = Int1;

/// ISO 14906 `VehicleDimensions`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct VehicleDimensions {
    pub vehicle_length_overall: Int1,
    /// `vehicleHeigthOverall` in the standard (sic).
    pub vehicle_heigth_overall: Int1,
    pub vehicle_width_overall: Int1,
}

/// ISO 14906 `EuroValue` (4 bits).
#[derive(AsnType, Decode, Encode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(enumerated)]
#[allow(missing_docs)]
pub enum EuroValue {
    NoEntry = 0,
    Euro1 = 1,
    Euro2 = 2,
    Euro3 = 3,
    Euro4 = 4,
    Euro5 = 5,
    Euro6 = 6,
    ReservedForUse1 = 7,
    ReservedForUse2 = 8,
    ReservedForUse3 = 9,
    ReservedForUse4 = 10,
    ReservedForUse5 = 11,
    ReservedForUse6 = 12,
    ReservedForUse7 = 13,
    ReservedForUse8 = 14,
    Eev = 15,
}

/// ISO 14906 `CopValue` (CO2 class).
#[derive(AsnType, Decode, Encode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(enumerated)]
#[allow(missing_docs)]
pub enum CopValue {
    NoEntry = 0,
    Co2class1 = 1,
    Co2class2 = 2,
    Co2class3 = 3,
    Co2class4 = 4,
    Co2class5 = 5,
    Co2class6 = 6,
    Co2class7 = 7,
    ReservedforUse = 8,
}

/// ISO 14906 `EnvironmentalCharacteristics`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct EnvironmentalCharacteristics {
    pub euro_value: EuroValue,
    pub cop_value: CopValue,
}

/// ISO 14906 `VehicleSpecificCharacteristics`. The three INTEGER (0..255) fields carry named
/// values in the standard (engine, shape, future characteristics); they are kept numeric.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct VehicleSpecificCharacteristics {
    pub environmental_characteristics: EnvironmentalCharacteristics,
    pub engine_characteristics: u8,
    pub descriptive_characteristics: u8,
    pub future_characteristics: u8,
}

/// ISO 14906 `VehicleWeightLaden ::= Int2`.
pub type VehicleWeightLaden = Int2;

/// ISO 14906 `VehicleWeightLimits`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct VehicleWeightLimits {
    pub vehicle_max_laden_weight: Int2,
    pub vehicle_train_maximum_weight: Int2,
    pub vehicle_weight_unladen: Int2,
}

/// ISO 14906 `TrailerDetails`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct TrailerDetails {
    /// 0 notPresent, 1 trailer, 2 semitrailer; range 0..31.
    #[rasn(value("0..=31"))]
    pub trailer_type: u8,
    #[rasn(value("0..=7"))]
    pub trailer_axles: u8,
}

/// ISO 14906 `TrailerCharacteristics`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct TrailerCharacteristics {
    pub trailer_details: TrailerDetails,
    pub trailer_max_laden_weight: Int2,
    pub trailer_weight_unladen: Int2,
}

/// ISO 14906 (EfcDsrcGeneric) `Time ::= INTEGER(0..4294967295)`: UNIX seconds.
pub type DsrcTime = u32;
