//! Stored OCPI objects edited as JSON text, field by field: a PATCH replaces the top-level
//! fields it names (null removes one), an EVSE or connector PUT replaces one element of a
//! nested list. Fields are kept as [`RawValue`]s, never as `serde_json::Value` numbers, so an
//! amount or kWh is written back exactly as the CPO sent it (ADR 0032).

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::reply::{bounded, Reply};

pub type Fields = BTreeMap<String, Box<RawValue>>;

/// A JSON object's fields; 2001 when it is not an object.
pub fn fields(text: &str, what: &str) -> Result<Fields, Reply> {
    serde_json::from_str(text).map_err(|e| {
        Reply::invalid(format!(
            "{what} must be a JSON object: {}",
            bounded(&e.to_string())
        ))
    })
}

pub fn text(fields: &Fields) -> Result<String, Reply> {
    serde_json::to_string(fields).map_err(Reply::server_error)
}

pub fn raw(text: String) -> Result<Box<RawValue>, Reply> {
    RawValue::from_string(text).map_err(Reply::server_error)
}

/// A string field, if it is one.
pub fn string(fields: &Fields, name: &str) -> Option<String> {
    serde_json::from_str(fields.get(name)?.get()).ok()
}

/// Apply a PATCH: every field it has replaces the stored one; `null` removes it. OCPI asks
/// for `last_updated` in every PATCH (2001 without it).
pub fn merge(object: &mut Fields, patch: &Fields) -> Result<(), Reply> {
    if !patch.contains_key("last_updated") {
        return Err(Reply::invalid("a PATCH must contain last_updated"));
    }
    for (name, value) in patch {
        if value.get() == "null" {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    Ok(())
}

/// The elements of a list field (absent: empty).
pub fn list(fields: &Fields, name: &str) -> Result<Vec<Fields>, Reply> {
    match fields.get(name) {
        None => Ok(Vec::new()),
        Some(v) if v.get() == "null" => Ok(Vec::new()),
        Some(v) => serde_json::from_str(v.get())
            .map_err(|_| Reply::invalid(format!("{name} must be a list of objects"))),
    }
}

pub fn set_list(fields: &mut Fields, name: &str, items: &[Fields]) -> Result<(), Reply> {
    let text = serde_json::to_string(items).map_err(Reply::server_error)?;
    fields.insert(name.to_string(), raw(text)?);
    Ok(())
}

/// Replace the element whose `key` field is `id`, or append it; returns whether it existed.
pub fn upsert(items: &mut Vec<Fields>, key: &str, id: &str, item: Fields) -> bool {
    match items
        .iter_mut()
        .find(|i| string(i, key).as_deref() == Some(id))
    {
        Some(slot) => {
            *slot = item;
            true
        }
        None => {
            items.push(item);
            false
        }
    }
}

/// The element whose `key` field is `id`.
pub fn find<'a>(items: &'a mut [Fields], key: &str, id: &str) -> Option<&'a mut Fields> {
    items
        .iter_mut()
        .find(|i| string(i, key).as_deref() == Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_amounts_as_sent_and_removes_nulls() {
        let mut object = fields(
            r#"{"id":"S1","kwh":12.345,"total_cost":{"excl_vat":7.10},"x":1,"last_updated":"a"}"#,
            "o",
        )
        .unwrap();
        let patch = fields(
            r#"{"kwh":0.30000000000000004,"x":null,"last_updated":"b"}"#,
            "p",
        )
        .unwrap();
        merge(&mut object, &patch).unwrap();
        let out = text(&object).unwrap();
        assert!(out.contains(r#""kwh":0.30000000000000004"#), "{out}");
        assert!(out.contains(r#""excl_vat":7.10"#), "{out}");
        assert!(!out.contains(r#""x""#), "{out}");
        let no_date = fields(r#"{"kwh":1}"#, "p").unwrap();
        assert!(merge(&mut object, &no_date).is_err());
    }
}
