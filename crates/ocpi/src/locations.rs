//! Locations module: Location, EVSE, Connector and their classes (2.2.1 field set, with the
//! 2.3.0 additions as optional fields marked "2.3.0").

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::tokens::TokenType;
use crate::types::DisplayText;

/// A place with one or more EVSEs, owned by the CPO party `country_code` / `party_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub country_code: String,
    pub party_id: String,
    pub id: String,
    /// May the location be shown publicly?
    pub publish: bool,
    /// When `publish` is false: who may see it anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_allowed_to: Option<Vec<PublishTokenType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub address: String,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country: String,
    pub coordinates: GeoLocation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_locations: Option<Vec<AdditionalGeoLocation>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_type: Option<ParkingType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evses: Option<Vec<Evse>>,
    /// 2.3.0: the parking places at the location, referred to by EVSEs' `parking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_places: Option<Vec<Parking>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directions: Option<Vec<DisplayText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<BusinessDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suboperator: Option<BusinessDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<BusinessDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilities: Option<Vec<Facility>>,
    /// IANA tz database name, e.g. "Europe/Oslo".
    pub time_zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_times: Option<Hours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_when_closed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_mix: Option<EnergyMix>,
    /// 2.3.0: a phone number for the driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_phone: Option<String>,
    #[serde(with = "crate::datetime")]
    pub last_updated: DateTime<Utc>,
}

/// One EVSE (a place where one vehicle charges at a time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evse {
    /// Unique within the CPO's platform, never reused.
    pub uid: String,
    /// The eMI3 EVSE ID, e.g. "BE*BEC*E041503001".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<String>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_schedule: Option<Vec<StatusSchedule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<Capability>>,
    pub connectors: Vec<Connector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<GeoLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directions: Option<Vec<DisplayText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_restrictions: Option<Vec<ParkingRestriction>>,
    /// 2.3.0: the parking places this EVSE serves (ids into the Location's `parking_places`).
    /// The 2.3.0 examples write plain ids, the object table an EVSEParking object: both read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking: Option<Vec<EvseParkingRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
    /// 2.3.0: eMSPs whose drivers are accepted here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_service_providers: Option<Vec<String>>,
    #[serde(with = "crate::datetime")]
    pub last_updated: DateTime<Utc>,
}

/// One connector of an EVSE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    pub id: String,
    pub standard: ConnectorType,
    pub format: ConnectorFormat,
    pub power_type: PowerType,
    pub max_voltage: u32,
    pub max_amperage: u32,
    /// W.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_electric_power: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_and_conditions: Option<String>,
    /// 2.3.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<ConnectorCapability>>,
    #[serde(with = "crate::datetime")]
    pub last_updated: DateTime<Utc>,
}

/// Latitude / longitude as decimal-degree strings (the spec keeps them strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoLocation {
    pub latitude: String,
    pub longitude: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdditionalGeoLocation {
    pub latitude: String,
    pub longitude: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<DisplayText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessDetails {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Image>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    pub category: ImageCategory,
    /// Image type, e.g. "gif", "jpeg", "png", "svg".
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// Who may see an unpublished location (any combination of the fields identifies tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishTokenType {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TokenType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visual_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusSchedule {
    #[serde(with = "crate::datetime")]
    pub period_begin: DateTime<Utc>,
    #[serde(
        with = "crate::datetime::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub period_end: Option<DateTime<Utc>>,
    pub status: Status,
}

/// Opening times. `twentyfourseven` true means no `regular_hours`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hours {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regular_hours: Option<Vec<RegularHours>>,
    pub twentyfourseven: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptional_openings: Option<Vec<ExceptionalPeriod>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptional_closings: Option<Vec<ExceptionalPeriod>>,
}

/// Regular opening on one weekday (1 = Monday ... 7 = Sunday), local time "HH:MM".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegularHours {
    pub weekday: u8,
    pub period_begin: String,
    pub period_end: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionalPeriod {
    #[serde(with = "crate::datetime")]
    pub period_begin: DateTime<Utc>,
    #[serde(with = "crate::datetime")]
    pub period_end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyMix {
    pub is_green_energy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_sources: Option<Vec<EnergySource>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environ_impact: Option<Vec<EnvironmentalImpact>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_product_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergySource {
    pub source: EnergySourceCategory,
    #[serde(with = "crate::number::exact")]
    pub percentage: Decimal,
}

/// Amount in g/kWh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentalImpact {
    pub category: EnvironmentalImpactCategory,
    #[serde(with = "crate::number::exact")]
    pub amount: Decimal,
}

/// 2.3.0: a parking place at a location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parking {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_reference: Option<String>,
    pub vehicle_types: Vec<VehicleType>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_vehicle_weight: Option<Decimal>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_vehicle_height: Option<Decimal>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_vehicle_length: Option<Decimal>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_vehicle_width: Option<Decimal>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parking_space_length: Option<Decimal>,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parking_space_width: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dangerous_goods_allowed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<ParkingDirection>,
    /// Can a vehicle stop, charge and drive on without reversing?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive_through: Option<bool>,
    pub restricted_to_type: bool,
    pub reservation_required: bool,
    /// Minutes.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub time_limit: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roofed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lighting: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refrigeration_outlet: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standards: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apds_reference: Option<String>,
}

/// 2.3.0: an EVSE's reference to a parking place. The object table defines EVSEParking
/// (`parking_id`, `evse_position`); the published 2.3.0 examples write the bare id. Both are
/// read and each is written back the way it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EvseParkingRef {
    Id(String),
    Parking(EvseParking),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvseParking {
    pub parking_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_position: Option<EvsePosition>,
}

ocpi_enum! {
    /// EVSE status.
    Status {
        Available => "AVAILABLE",
        Blocked => "BLOCKED",
        Charging => "CHARGING",
        Inoperative => "INOPERATIVE",
        OutOfOrder => "OUTOFORDER",
        Planned => "PLANNED",
        Removed => "REMOVED",
        Reserved => "RESERVED",
        Unknown => "UNKNOWN",
    }
}

ocpi_enum! {
    /// EVSE capabilities.
    Capability {
        ChargingProfileCapable => "CHARGING_PROFILE_CAPABLE",
        ChargingPreferencesCapable => "CHARGING_PREFERENCES_CAPABLE",
        ChipCardSupport => "CHIP_CARD_SUPPORT",
        ContactlessCardSupport => "CONTACTLESS_CARD_SUPPORT",
        CreditCardPayable => "CREDIT_CARD_PAYABLE",
        DebitCardPayable => "DEBIT_CARD_PAYABLE",
        PedTerminal => "PED_TERMINAL",
        RemoteStartStopCapable => "REMOTE_START_STOP_CAPABLE",
        Reservable => "RESERVABLE",
        RfidReader => "RFID_READER",
        StartSessionConnectorRequired => "START_SESSION_CONNECTOR_REQUIRED",
        TokenGroupCapable => "TOKEN_GROUP_CAPABLE",
        UnlockCapable => "UNLOCK_CAPABLE",
    }
}

ocpi_enum! {
    /// 2.3.0: connector capabilities.
    ConnectorCapability {
        Iso15118_2PlugAndCharge => "ISO_15118_2_PLUG_AND_CHARGE",
        Iso15118_20PlugAndCharge => "ISO_15118_20_PLUG_AND_CHARGE",
    }
}

ocpi_enum! {
    ConnectorFormat {
        Socket => "SOCKET",
        Cable => "CABLE",
    }
}

ocpi_enum! {
    /// Connector standard (MCS and SAE_J3400 are 2.3.0).
    ConnectorType {
        Chademo => "CHADEMO",
        Chaoji => "CHAOJI",
        DomesticA => "DOMESTIC_A",
        DomesticB => "DOMESTIC_B",
        DomesticC => "DOMESTIC_C",
        DomesticD => "DOMESTIC_D",
        DomesticE => "DOMESTIC_E",
        DomesticF => "DOMESTIC_F",
        DomesticG => "DOMESTIC_G",
        DomesticH => "DOMESTIC_H",
        DomesticI => "DOMESTIC_I",
        DomesticJ => "DOMESTIC_J",
        DomesticK => "DOMESTIC_K",
        DomesticL => "DOMESTIC_L",
        DomesticM => "DOMESTIC_M",
        DomesticN => "DOMESTIC_N",
        DomesticO => "DOMESTIC_O",
        GbtAc => "GBT_AC",
        GbtDc => "GBT_DC",
        Iec62196T1 => "IEC_62196_T1",
        Iec62196T1Combo => "IEC_62196_T1_COMBO",
        Iec62196T2 => "IEC_62196_T2",
        Iec62196T2Combo => "IEC_62196_T2_COMBO",
        Iec62196T3A => "IEC_62196_T3A",
        Iec62196T3C => "IEC_62196_T3C",
        Mcs => "MCS",
        Nema5_20 => "NEMA_5_20",
        Nema6_30 => "NEMA_6_30",
        Nema6_50 => "NEMA_6_50",
        Nema10_30 => "NEMA_10_30",
        Nema10_50 => "NEMA_10_50",
        Nema14_30 => "NEMA_14_30",
        Nema14_50 => "NEMA_14_50",
        PantographBottomUp => "PANTOGRAPH_BOTTOM_UP",
        PantographTopDown => "PANTOGRAPH_TOP_DOWN",
        SaeJ3400 => "SAE_J3400",
        TeslaR => "TESLA_R",
        TeslaS => "TESLA_S",
    }
}

ocpi_enum! {
    EnergySourceCategory {
        Nuclear => "NUCLEAR",
        GeneralFossil => "GENERAL_FOSSIL",
        Coal => "COAL",
        Gas => "GAS",
        GeneralGreen => "GENERAL_GREEN",
        Solar => "SOLAR",
        Wind => "WIND",
        Water => "WATER",
    }
}

ocpi_enum! {
    EnvironmentalImpactCategory {
        NuclearWaste => "NUCLEAR_WASTE",
        CarbonDioxide => "CARBON_DIOXIDE",
    }
}

ocpi_enum! {
    /// 2.3.0.
    EvsePosition {
        Left => "LEFT",
        Right => "RIGHT",
        Center => "CENTER",
    }
}

ocpi_enum! {
    Facility {
        Hotel => "HOTEL",
        Restaurant => "RESTAURANT",
        Cafe => "CAFE",
        Mall => "MALL",
        Supermarket => "SUPERMARKET",
        Sport => "SPORT",
        RecreationArea => "RECREATION_AREA",
        Nature => "NATURE",
        Museum => "MUSEUM",
        BikeSharing => "BIKE_SHARING",
        BusStop => "BUS_STOP",
        TaxiStand => "TAXI_STAND",
        TramStop => "TRAM_STOP",
        MetroStation => "METRO_STATION",
        TrainStation => "TRAIN_STATION",
        Airport => "AIRPORT",
        ParkingLot => "PARKING_LOT",
        CarpoolParking => "CARPOOL_PARKING",
        FuelStation => "FUEL_STATION",
        Wifi => "WIFI",
    }
}

ocpi_enum! {
    ImageCategory {
        Charger => "CHARGER",
        Entrance => "ENTRANCE",
        Location => "LOCATION",
        Network => "NETWORK",
        Operator => "OPERATOR",
        OtherImage => "OTHER",
        Owner => "OWNER",
    }
}

ocpi_enum! {
    /// 2.3.0.
    ParkingDirection {
        Parallel => "PARALLEL",
        Perpendicular => "PERPENDICULAR",
        Angle => "ANGLE",
    }
}

ocpi_enum! {
    /// EMPLOYEES, TAXIS and TENANTS are 2.3.0.
    ParkingRestriction {
        Customers => "CUSTOMERS",
        Disabled => "DISABLED",
        Employees => "EMPLOYEES",
        EvOnly => "EV_ONLY",
        Motorcycles => "MOTORCYCLES",
        Plugged => "PLUGGED",
        Taxis => "TAXIS",
        Tenants => "TENANTS",
    }
}

ocpi_enum! {
    ParkingType {
        AlongMotorway => "ALONG_MOTORWAY",
        ParkingGarage => "PARKING_GARAGE",
        ParkingLot => "PARKING_LOT",
        OnDriveway => "ON_DRIVEWAY",
        OnStreet => "ON_STREET",
        UndergroundGarage => "UNDERGROUND_GARAGE",
    }
}

ocpi_enum! {
    PowerType {
        Ac1Phase => "AC_1_PHASE",
        Ac2Phase => "AC_2_PHASE",
        Ac2PhaseSplit => "AC_2_PHASE_SPLIT",
        Ac3Phase => "AC_3_PHASE",
        Dc => "DC",
    }
}

ocpi_enum! {
    /// 2.3.0.
    VehicleType {
        Motorcycle => "MOTORCYCLE",
        PersonalVehicle => "PERSONAL_VEHICLE",
        PersonalVehicleWithTrailer => "PERSONAL_VEHICLE_WITH_TRAILER",
        Van => "VAN",
        SemiTractor => "SEMI_TRACTOR",
        Rigid => "RIGID",
        TruckWithTrailer => "TRUCK_WITH_TRAILER",
        Bus => "BUS",
        Disabled => "DISABLED",
    }
}
