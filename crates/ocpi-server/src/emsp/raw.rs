//! [`unicharge_ocpi::raw`] (stored objects edited as JSON text, amounts kept as sent) with
//! the OCPI answers its failures get here: 2001 for a body that is not an object, a PATCH
//! without `last_updated`, a list field that is not a list of objects.

use serde_json::value::RawValue;
pub use unicharge_ocpi::raw::{find, string, upsert, Fields};

use crate::reply::Reply;

/// A JSON object's fields; 2001 when it is not an object.
pub fn fields(text: &str, what: &str) -> Result<Fields, Reply> {
    unicharge_ocpi::raw::fields(text)
        .map_err(|_| Reply::invalid(format!("{what} must be a JSON object")))
}

pub fn text(fields: &Fields) -> Result<String, Reply> {
    Ok(unicharge_ocpi::raw::text(fields))
}

pub fn raw(text: String) -> Result<Box<RawValue>, Reply> {
    RawValue::from_string(text).map_err(Reply::server_error)
}

/// Apply a PATCH (2001 without `last_updated`).
pub fn merge(object: &mut Fields, patch: &Fields) -> Result<(), Reply> {
    unicharge_ocpi::raw::merge(object, patch).map_err(|e| Reply::invalid(e.to_string()))
}

/// The elements of a list field (absent: empty).
pub fn list(fields: &Fields, name: &str) -> Result<Vec<Fields>, Reply> {
    unicharge_ocpi::raw::list(fields, name)
        .ok_or_else(|| Reply::invalid(format!("{name} must be a list of objects")))
}

pub fn set_list(fields: &mut Fields, name: &str, items: &[Fields]) -> Result<(), Reply> {
    unicharge_ocpi::raw::set_list(fields, name, items);
    Ok(())
}
