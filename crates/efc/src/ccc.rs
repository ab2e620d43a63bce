//! Types from ISO 12813 (EfcCcc v2) that `CccAttributes` of a charge report carries.

use crate::dsrc::{DsrcTime, Provider, VehicleAxles};
use rasn::prelude::*;

/// `VehicleAxlesHistory`: when the axle declaration last changed and what it was before.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct VehicleAxlesHistory {
    pub time_when_changed: DsrcTime,
    pub previous_vehicle_axles: VehicleAxles,
}

/// `CommunicationStatus`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct CommunicationStatus {
    pub time_of_last_transmission: DsrcTime,
    pub pending_since: DsrcTime,
}

/// `CurrentHDOP`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct CurrentHdop {
    pub h_dop: u8,
    pub number_of_used_satellites: u8,
}

/// `LastLAC`: the last localisation augmentation communication.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct LastLac {
    pub time_of_lac: DsrcTime,
    pub lac_operator: Provider,
    pub rse_id: u16,
}

/// `GnssStatus`. Longitude/latitude are `INT4Signed`, altitude `INT2Signed`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct GnssStatus {
    pub last_gnss_fix_lon: i32,
    pub last_gnss_fix_lat: i32,
    pub last_gnss_fix_alt: i16,
    pub last_gnss_fix_time: DsrcTime,
    pub current_hdop: CurrentHdop,
    pub last_lac: LastLac,
}

/// `DistanceRecordingStatus`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct DistanceRecordingStatus {
    /// 1 notPresent, 2 presentAndActive, 3 presentAndInactive, 4 reserved.
    pub dist_recording_status: u8,
    /// Metres, modulo the type's maximum.
    pub accumulated_travelled_distance: u32,
    pub deviation_from_gnss: i8,
}

/// One entry of `ActiveContexts`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct ActiveContext {
    pub toll_context: Provider,
    pub context_version: u8,
}

/// `ActiveContexts ::= SEQUENCE OF SEQUENCE { tollContext, contextVersion }`.
pub type ActiveContexts = SequenceOf<ActiveContext>;

/// `OBEStatusHistory`.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct ObeStatusHistory {
    /// 0 noGo, 1 go, 2 noGoContractual, 3 noGoUserSwitchedOff.
    pub status_indicator: u8,
    pub time_when_changed: DsrcTime,
    /// `timeWhenActived` in the standard (sic).
    pub time_when_actived: DsrcTime,
    pub time_when_obe_powered: DsrcTime,
}
