//! OCPI ChargingProfiles: every body a partner's bytes reach in the module (the CPO's PUT
//! SetChargingProfile; the eMSP's results at its response_url and the CPO's ActiveChargingProfile
//! PUT). The first byte picks the type, the rest is the body.
//!
//! Checked beyond "never panics": an object that reads writes back to JSON that reads again to
//! the same object, and that second writing is identical to the first (limits stay exact).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use unicharge_ocpi::charging_profiles::{
    ActiveChargingProfile, ActiveChargingProfileResult, ChargingProfileResponse,
    ChargingProfileResult, ClearProfileResult, SetChargingProfile,
};

fn object<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(body: &[u8]) {
    let Ok(first) = serde_json::from_slice::<T>(body) else {
        return;
    };
    let written = serde_json::to_vec(&first).expect("a read object writes");
    let second: T = serde_json::from_slice(&written).expect("what we write reads back");
    assert_eq!(second, first, "read(write(x)) != x");
    assert_eq!(
        serde_json::to_vec(&second).unwrap(),
        written,
        "writing is not a fixed point"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 6 {
        0 => object::<SetChargingProfile>(rest),
        1 => object::<ActiveChargingProfile>(rest),
        2 => object::<ActiveChargingProfileResult>(rest),
        3 => object::<ChargingProfileResult>(rest),
        4 => object::<ClearProfileResult>(rest),
        _ => object::<ChargingProfileResponse>(rest),
    }
});
