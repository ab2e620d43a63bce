//! OCPI eMSP Receivers (ADR 0039): the edits of stored objects kept as JSON text
//! (`unicharge_ocpi::raw`) on a partner's bytes. The input is two JSON texts, the stored
//! object and the PATCH (or pushed element), split at the first 0xFF byte.
//!
//! Checked beyond "never panics":
//! - a merged object writes back to JSON that reads again as an object;
//! - every non-null field of the PATCH is in the result with the PATCH's exact text (amounts
//!   are never re-encoded), every null field is gone, every other field is untouched;
//! - a PATCH without `last_updated` changes nothing;
//! - an upsert into a list field leaves exactly one element with that key, with the item's
//!   text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unicharge_ocpi::raw;

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&b| b == 0xFF) else {
        return;
    };
    let (Ok(stored), Ok(patch)) = (
        std::str::from_utf8(&data[..split]),
        std::str::from_utf8(&data[split + 1..]),
    ) else {
        return;
    };
    let (Ok(original), Ok(patch)) = (raw::fields(stored), raw::fields(patch)) else {
        return;
    };
    let mut object = original.clone();
    match raw::merge(&mut object, &patch) {
        Err(_) => {
            assert!(!patch.contains_key("last_updated"));
            assert_eq!(
                raw::text(&object),
                raw::text(&original),
                "a refused PATCH changes nothing"
            );
        }
        Ok(()) => {
            let written = raw::text(&object);
            let again = raw::fields(&written).expect("a merged object reads back");
            for (name, value) in &patch {
                if value.get() == "null" {
                    assert!(!again.contains_key(name), "{name} was not removed");
                } else {
                    assert_eq!(again[name].get(), value.get(), "{name} re-encoded");
                }
            }
            for (name, value) in &original {
                if !patch.contains_key(name) {
                    assert_eq!(again[name].get(), value.get(), "{name} touched");
                }
            }
        }
    }
    // The PATCH as a pushed EVSE, upserted into the stored object's `evses` by `uid`.
    if let (Some(mut evses), Some(uid)) =
        (raw::list(&original, "evses"), raw::string(&patch, "uid"))
    {
        raw::upsert(&mut evses, "uid", &uid, patch.clone());
        let mut location = original.clone();
        raw::set_list(&mut location, "evses", &evses);
        let back = raw::fields(&raw::text(&location)).expect("reads back");
        let evses = raw::list(&back, "evses").expect("still a list of objects");
        let same: Vec<_> = evses
            .iter()
            .filter(|e| raw::string(e, "uid").as_deref() == Some(uid.as_str()))
            .collect();
        assert!(!same.is_empty());
        assert_eq!(
            raw::text(same[0]),
            raw::text(&patch),
            "the pushed EVSE, as sent"
        );
    }
});
