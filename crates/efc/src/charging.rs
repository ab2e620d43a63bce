//! ISO 17575-1:2016 `EfcAutonomousCharging` version 2: the charge report an OBE's front end
//! sends, the response the back end returns, and everything they contain.
//!
//! Written by hand from the module text (see `docs/adr/0014-efc-adus-with-rasn.md`): rasn's
//! derives give the UPER codec, this file gives the shapes. Field order is the standard's
//! order, because PER has no tags on the wire and the order *is* the format.

use crate::ccc::{
    ActiveContexts, CommunicationStatus, DistanceRecordingStatus, GnssStatus, ObeStatusHistory,
    VehicleAxlesHistory,
};
use crate::dsrc::{
    EfcContextMark, EquipmentObuId, Int2, Int4, PaymentFee, PaymentMeans, Provider, SetMmiRq,
    TrailerCharacteristics, VehicleAxles, VehicleClass, VehicleDimensions,
    VehicleLicencePlateNumber, VehicleSpecificCharacteristics, VehicleWeightLaden,
    VehicleWeightLimits,
};
use crate::unsupported::{DsrcUsageDataUnsupported, SignatureUnsupported};
use rasn::prelude::*;

/// ISO 17575-3 class identifiers used inside a tariff class description.
pub type TariffClassId = Int4;
/// ISO 17575-3 `LocalVehicleClassId ::= Int2`.
pub type LocalVehicleClassId = Int2;
/// ISO 17575-3 `TimeClassId ::= Int2`.
pub type TimeClassId = Int2;
/// ISO 17575-3 `LocationClassId ::= Int4`.
pub type LocationClassId = Int4;
/// ISO 17575-3 `UserClassId ::= Int1`.
pub type UserClassId = u8;

// ---------------------------------------------------------------------------------------------
// Top level
// ---------------------------------------------------------------------------------------------

/// `AuthenticatedChargeReport`: the UPER bytes of a [`ChargeReport`] (as a BIT STRING) and an
/// authenticator computed over exactly those bytes.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct AuthenticatedChargeReport {
    pub charge_report_per: BitString,
    pub message_authenticator: MessageAuthenticator,
}

/// `AuthenticatedChargeReportResponse`: the back end's signed answer.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct AuthenticatedChargeReportResponse {
    pub charge_report_response_per: BitString,
    pub message_authenticator: MessageAuthenticator,
}

/// One entry of `ChargeReport.usageStatementList` (an anonymous CHOICE in the module).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(choice, automatic_tags)]
#[allow(clippy::large_enum_variant)] // the plain statement is the common case; no extra box
pub enum UsageStatementEntry {
    UsageStatement(UsageStatement),
    AuthenticatedUsageStatement(AuthenticatedUsageStatement),
}

/// `ChargeReport`: what the front end reports for one service provider contract.
/// v1 (2010) names in brackets: `tollContext` (`tollCharger`), `sumVatForThisSession`
/// (`vatForThisSession`), `chargeReportCounter` (`transactionCounter`).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct ChargeReport {
    /// `AidIdentifier`: 0 = iso17575-1-2016.
    pub protocol_version: u8,
    pub obe_id: Option<ObeId>,
    #[rasn(identifier = "vehicleLPNr")]
    pub vehicle_lp_nr: Option<VehicleLicencePlateNumber>,
    pub payment_means: Option<PaymentMeans>,
    pub service_provider_contract: EfcContextMark,
    pub toll_context: Option<Provider>,
    pub charge_report_final_recipient: Option<Provider>,
    pub time_of_report: Option<GeneralizedTime>,
    pub report_period: Option<Period>,
    pub version_info: Option<VersionId>,
    pub usage_statement_list: SequenceOf<UsageStatementEntry>,
    pub sum_vat_for_this_session: Option<PaymentFee>,
    pub account_status: Option<u8>,
    pub charge_report_counter: Option<Int4>,
    pub mileage: Option<Distance>,
    pub list_of_ccc_attributes: Option<SequenceOf<CccAttributes>>,
}

impl ChargeReport {
    /// A report with the mandatory fields set and every optional one absent.
    pub fn new(service_provider_contract: EfcContextMark) -> Self {
        ChargeReport {
            protocol_version: crate::AID_ISO17575_1_2016,
            obe_id: None,
            vehicle_lp_nr: None,
            payment_means: None,
            service_provider_contract,
            toll_context: None,
            charge_report_final_recipient: None,
            time_of_report: None,
            report_period: None,
            version_info: None,
            usage_statement_list: Vec::new(),
            sum_vat_for_this_session: None,
            account_status: None,
            charge_report_counter: None,
            mileage: None,
            list_of_ccc_attributes: None,
        }
    }
}

/// `ChargeReportResponse`: the back end's answer. `chargeReportRespSender` was
/// `reportRecipientId` in v1.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct ChargeReportResponse {
    pub charge_report_resp_sender: Option<Provider>,
    pub data_received: Option<DataReceived>,
    pub versions_response: Option<VersionId>,
    /// ISO 14906 `SetMMIRq`: see [`crate::dsrc::set_mmi`].
    pub obe_status_for_driver: Option<SetMmiRq>,
    pub account_update: Option<AccountUpdate>,
}

// ---------------------------------------------------------------------------------------------
// Other data elements, in the module's (alphabetical) order
// ---------------------------------------------------------------------------------------------

/// Named values of `AccountStatus ::= INTEGER (0..255)`.
pub mod account_status {
    pub const OK: u8 = 0;
    pub const LOW: u8 = 1;
    pub const EMPTY: u8 = 2;
    pub const NEGATIVE: u8 = 3;
}

/// `AccountUpdate`: how the back end changes the OBE's on-board account.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(choice, automatic_tags)]
pub enum AccountUpdate {
    ReloadAccount(ReloadAccount),
    SetAccount(NewAccountLimit),
    AddToAccount(AddToAccount),
    AuthenticatedReloadAccount(AuthenticatedReloadAccount),
    AuthenticatedSetAccount(AuthenticatedNewAccountLimit),
    AuthenticatedAddToAccount(AuthenticatedAddToAccount),
}

/// `AddToAccount`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct AddToAccount {
    pub add_credit: Option<PaymentFee>,
    pub add_distance: Option<Distance>,
    pub add_time: Option<GeneralizedTime>,
    pub add_duration: Option<Duration>,
    /// Unconstrained INTEGER.
    pub add_events: Option<Integer>,
}

/// `AggregatedFee`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct AggregatedFee {
    pub time_period_covered: Period,
    pub fee_excl_vat: PaymentFee,
    pub sum_vat: Option<PaymentFee>,
}

/// `AggregatedSingleTariffClassSession` (the seed also spells it
/// "aggregatedSingleClassTariffSession").
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct AggregatedSingleTariffClassSession {
    pub time_period_covered: Option<Period>,
    pub current_tariff_class: Option<TariffClassDescription>,
    pub vehicle_description: Option<VehicleDescription>,
    pub total_distance_covered: Option<Distance>,
    pub number_of_detected_events: Option<Integer>,
    pub obe_status: Option<SetMmiRq>,
    pub fee_excl_vat: Option<PaymentFee>,
    pub sum_vat: Option<PaymentFee>,
}

/// `Altitude`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct Altitude {
    #[rasn(value("-65536..=65535"))]
    pub altitude: i32,
    #[rasn(default = "dis_unit_metres")]
    pub alt_unit: u8,
}

fn dis_unit_metres() -> u8 {
    dis_unit::METRES
}

/// `AuthenticatedAddToAccount`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct AuthenticatedAddToAccount {
    pub add_account_per: BitString,
    pub message_authenticator: MessageAuthenticator,
}

/// `AuthenticatedNewAccountLimit`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct AuthenticatedNewAccountLimit {
    pub new_account_per: BitString,
    pub message_authenticator: MessageAuthenticator,
}

/// `AuthenticatedReloadAccount`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct AuthenticatedReloadAccount {
    pub reload_account_per: BitString,
    pub message_authenticator: MessageAuthenticator,
}

/// `AuthenticatedUsageStatement`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct AuthenticatedUsageStatement {
    pub usage_statement_per: BitString,
    pub message_authenticator: MessageAuthenticator,
}

/// `CccAttributes`: compliance-check data the OBE attaches (ISO 12813 types).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
pub struct CccAttributes {
    pub time_of_ccc_record: Option<GeneralizedTime>,
    pub axles_history: Option<VehicleAxlesHistory>,
    pub comm_status: Option<CommunicationStatus>,
    pub gnss_status: Option<GnssStatus>,
    pub dist_rec_status: Option<DistanceRecordingStatus>,
    pub active_contexts: Option<ActiveContexts>,
    pub obe_history: Option<ObeStatusHistory>,
}

/// `ChargeObjectId`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct ChargeObjectId {
    pub charge_report_final_recipient: Option<Provider>,
    pub charge_object_designation: Int4,
}

/// `DataReceived`: the back end echoes one of these to say which report it got.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(choice, automatic_tags)]
pub enum DataReceived {
    TimeOfReport(GeneralizedTime),
    Mileage(Distance),
    ChargeReportCounter(Int4),
}

/// `DetectedChargeObject`: one charge object (road segment, cordon, …) the OBE detected.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct DetectedChargeObject {
    pub charge_object_id: ChargeObjectId,
    pub sub_object_number: Option<Int4>,
    pub time_when_used: Option<GeneralizedTime>,
    pub mileage_when_used: Option<Distance>,
    pub current_tariff_class: Option<TariffClassDescription>,
    pub vehicle_description: Option<VehicleDescription>,
    pub obe_status: Option<SetMmiRq>,
    pub fee_excl_vat: Option<PaymentFee>,
    pub sum_vat: Option<PaymentFee>,
    /// `DetectionMode`: 0 measured, 1 inferred, 2 lac.
    pub charge_obj_detection_mode: Option<u8>,
}

/// `Distance`. `dist` is `Int4` in v2 (`Int3` in v1: the seed's 16777215 roll-over).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct Distance {
    pub dist: Int4,
    /// `DisUnit`, DEFAULT kilometres (0): omitted on the wire when it is the default.
    #[rasn(default)]
    pub dis_unit: u8,
}

/// Named values of `DisUnit ::= INTEGER (0..255)`.
pub mod dis_unit {
    pub const KILOMETRES: u8 = 0;
    pub const MILES: u8 = 1;
    pub const METRES: u8 = 2;
    pub const YARDS: u8 = 3;
    pub const FEET: u8 = 4;
    pub const DECIMETRES: u8 = 5;
    pub const QUARTERMETRES: u8 = 6;
}

/// `Duration`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct Duration {
    pub dur: Int4,
    /// `DurUnit`, DEFAULT seconds (0): 0 s, 1 min, 2 h, 3 days, 4 months.
    #[rasn(default)]
    pub dur_unit: u8,
}

/// `ListOfDsrcUsageData ::= SEQUENCE OF CHOICE { data14906, data12813, data13141, ... }`.
/// The alternatives carry ISO 14906 `AttributeList{}` containers, which this crate does not
/// model (see the ADR): decoding one fails with an error naming `listOfDsrcUsageData`.
pub type ListOfDsrcUsageData = SequenceOf<DsrcUsageDataUnsupported>;

/// `ListOfRawUsageData`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct ListOfRawUsageData {
    pub raw_data_list: SequenceOf<MeasuredRawData>,
    pub current_tariff_class: Option<TariffClassDescription>,
    pub vehicle_description: Option<VehicleDescription>,
}

/// `AlgorithmIdentifier{{...}}` (ITU-T X.509): an object identifier and an open-type
/// parameter, which PER carries as length-prefixed octets (kept as raw bytes here).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct AlgorithmIdentifier {
    pub algorithm: ObjectIdentifier,
    pub parameters: Option<Any>,
}

impl AlgorithmIdentifier {
    /// An identifier without parameters.
    pub fn new(algorithm: ObjectIdentifier) -> Self {
        AlgorithmIdentifier {
            algorithm,
            parameters: None,
        }
    }
}

/// `MacMessageAuthenticator`: a MAC over the PER bytes, with the key named by
/// `masterKeyRef` and `keyDerivationID`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct MacMessageAuthenticator {
    pub algorithm_identifier: AlgorithmIdentifier,
    /// Unconstrained INTEGER in the module.
    pub master_key_ref: Integer,
    pub key_derivation_id: OctetString,
    pub authenticator: BitString,
}

/// `MeasuredRawData`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct MeasuredRawData {
    pub measured_position: Option<Position>,
    pub time_when_measured: Option<GeneralizedTime>,
    pub nmea_data: Option<NmeaData>,
    pub additional_gnss_data: Option<OctetString>,
}

/// `MessageAuthenticator`. Only the MAC alternative is modelled; `signature` carries X.509
/// certificates and names (see the ADR) and decodes to an error naming it.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(choice)]
pub enum MessageAuthenticator {
    #[rasn(tag(context, 0))]
    Mac(MacMessageAuthenticator),
    #[rasn(tag(context, 1))]
    Signature(SignatureUnsupported),
}

/// `NewAccountLimit` (the `setAccount` alternative of [`AccountUpdate`]).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct NewAccountLimit {
    pub new_credit_limit: Option<PaymentFee>,
    pub new_distance_limit: Option<Distance>,
    pub new_time_limit: Option<GeneralizedTime>,
    pub new_duration_limit: Option<Duration>,
    /// Unconstrained INTEGER: the only limit that can be negative in v2.
    pub new_event_limit: Option<Integer>,
}

/// `NmeaData`: raw NMEA sentence fields. Single-value constraints such as `("A"|"V")` are not
/// PER-visible, so only sizes and the altitude's permitted alphabet shape the encoding.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct NmeaData {
    #[rasn(size(9))]
    pub time: Option<NumericString>,
    pub status: Option<PrintableString>,
    #[rasn(size(8))]
    pub latitude: Option<NumericString>,
    pub lat_ns: Option<PrintableString>,
    #[rasn(size(9))]
    pub longitude: Option<NumericString>,
    pub long_ew: Option<PrintableString>,
    #[rasn(size(3))]
    pub speed: Option<NumericString>,
    #[rasn(size(3))]
    pub heading: Option<NumericString>,
    #[rasn(size(6))]
    pub date: Option<NumericString>,
    pub signal_integrity: Option<PrintableString>,
    #[rasn(from("0..=9", "-"), size(5))]
    pub altitude: Option<PrintableString>,
    #[rasn(size(2))]
    pub used_satellites: Option<NumericString>,
    #[rasn(size(3))]
    pub hdop: Option<NumericString>,
}

/// `ObeId`: manufacturer and equipment id; fixed for an OBE (TP/CR/FE/BV/07).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq, Hash)]
#[rasn(automatic_tags)]
pub struct ObeId {
    pub manufacturer_id: Int2,
    pub equipment_obu_id: EquipmentObuId,
}

/// `Period`: begin must be before end (TP/CR/FE/BV/10–12).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct Period {
    pub begin_of_period: GeneralizedTime,
    pub end_of_period: GeneralizedTime,
}

/// `Position` (ISO 6709 longitude/latitude as 32-bit integers).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(automatic_tags)]
pub struct Position {
    pub longitude: i32,
    pub latitude: i32,
    pub altitude: Option<Altitude>,
}

/// `ReloadAccount`: each flag asks the OBE to reload that account by its predefined amount.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct ReloadAccount {
    pub reload_old_credit_amount: Option<bool>,
    pub reload_old_distance_limit: Option<bool>,
    pub reload_old_time_limit: Option<bool>,
    pub reload_old_duration_limit: Option<bool>,
    pub reload_old_event_limit: Option<bool>,
}

/// `TariffClassDescription`: the class ids a charge was computed with (TP/CR/FE/BV/13–15).
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
pub struct TariffClassDescription {
    pub tariff_class_id: Option<TariffClassId>,
    pub local_vehicle_class: Option<LocalVehicleClassId>,
    pub time_class: Option<TimeClassId>,
    pub location_class: Option<LocationClassId>,
    pub user_class: Option<UserClassId>,
}

/// `UsageStatement`: one block of charged usage; stored as a charge record.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct UsageStatement {
    pub usage_statement_id: Option<Int2>,
    pub toll_context: Option<Provider>,
    pub charge_report_final_recipient: Option<Provider>,
    pub aggregated_fee: Option<AggregatedFee>,
    pub sum_vat: Option<PaymentFee>,
    pub aggregated_single_tariff_class_session: Option<AggregatedSingleTariffClassSession>,
    pub list_of_charge_objects: Option<SequenceOf<DetectedChargeObject>>,
    pub list_of_dsrc_usage_data: Option<ListOfDsrcUsageData>,
    pub list_of_raw_usage_data: Option<ListOfRawUsageData>,
    pub no_usage: Option<bool>,
    pub additional_usage_information: Option<OctetString>,
}

/// `VehicleDescription`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct VehicleDescription {
    #[rasn(identifier = "vehicleLPNr")]
    pub vehicle_lp_nr: Option<VehicleLicencePlateNumber>,
    pub axles: Option<VehicleAxles>,
    pub class: Option<VehicleClass>,
    pub dimensions: Option<VehicleDimensions>,
    pub specific_characteristics: Option<VehicleSpecificCharacteristics>,
    pub laden_weight: Option<VehicleWeightLaden>,
    pub weight_limits: Option<VehicleWeightLimits>,
    pub trailer_characteristics: Option<TrailerCharacteristics>,
}

/// One `extendedVersionId` entry.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct ExtendedVersion {
    pub version_name: Utf8String,
    pub value: Utf8String,
}

/// `VersionId`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
pub enum VersionId {
    BasicVersionId(OctetString),
    ExtendedVersionId(SequenceOf<ExtendedVersion>),
}
