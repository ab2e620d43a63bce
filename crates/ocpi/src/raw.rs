//! Stored OCPI objects edited as JSON text, field by field (the eMSP's Receivers keep what CPOs
//! push as text, ADR 0039): a PATCH replaces the top-level fields it names (`null` removes
//! one), an EVSE or connector PUT replaces one element of a nested list. Fields are kept as
//! [`RawValue`]s, never as `serde_json::Value` numbers, so an amount or kWh is written back
//! exactly as the CPO sent it (ADR 0032).

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::patch::PatchError;

/// The top-level fields of a JSON object, each as its JSON text.
pub type Fields = BTreeMap<String, Box<RawValue>>;

/// A JSON object's fields.
pub fn fields(text: &str) -> Result<Fields, PatchError> {
    serde_json::from_str(text).map_err(|_| PatchError::NotAnObject)
}

pub fn text(fields: &Fields) -> String {
    serde_json::to_string(fields).expect("raw JSON fields always write")
}

/// A string field, if it is one.
pub fn string(fields: &Fields, name: &str) -> Option<String> {
    serde_json::from_str(fields.get(name)?.get()).ok()
}

/// Apply a PATCH: every field it has replaces the stored one; `null` removes it. OCPI asks for
/// `last_updated` in every PATCH.
pub fn merge(object: &mut Fields, patch: &Fields) -> Result<(), PatchError> {
    if !patch.contains_key("last_updated") {
        return Err(PatchError::MissingLastUpdated);
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

/// The elements of a list field (absent or null: empty); `None` when it is not a list of
/// objects.
pub fn list(fields: &Fields, name: &str) -> Option<Vec<Fields>> {
    match fields.get(name) {
        None => Some(Vec::new()),
        Some(v) if v.get() == "null" => Some(Vec::new()),
        Some(v) => serde_json::from_str(v.get()).ok(),
    }
}

/// Write a list field.
pub fn set_list(fields: &mut Fields, name: &str, items: &[Fields]) {
    let text = serde_json::to_string(items).expect("raw JSON fields always write");
    let raw = RawValue::from_string(text).expect("a written list is JSON");
    fields.insert(name.to_string(), raw);
}

/// Replace the element whose `key` field is `id`, or append it; returns whether it existed.
pub fn upsert(items: &mut Vec<Fields>, key: &str, id: &str, item: Fields) -> bool {
    match find(items, key, id) {
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
        )
        .unwrap();
        let patch = fields(r#"{"kwh":0.30000000000000004,"x":null,"last_updated":"b"}"#).unwrap();
        merge(&mut object, &patch).unwrap();
        let out = text(&object);
        assert!(out.contains(r#""kwh":0.30000000000000004"#), "{out}");
        assert!(out.contains(r#""excl_vat":7.10"#), "{out}");
        assert!(!out.contains(r#""x""#), "{out}");
        let no_date = fields(r#"{"kwh":1}"#).unwrap();
        assert!(merge(&mut object, &no_date).is_err());
    }

    #[test]
    fn upsert_replaces_by_key_or_appends() {
        let mut items = vec![
            fields(r#"{"uid":"A","n":1}"#).unwrap(),
            fields(r#"{"uid":"B","n":2}"#).unwrap(),
        ];
        assert!(upsert(
            &mut items,
            "uid",
            "B",
            fields(r#"{"uid":"B","n":3}"#).unwrap()
        ));
        assert!(!upsert(
            &mut items,
            "uid",
            "C",
            fields(r#"{"uid":"C"}"#).unwrap()
        ));
        let mut outer = Fields::new();
        set_list(&mut outer, "evses", &items);
        assert_eq!(
            text(&outer),
            r#"{"evses":[{"n":1,"uid":"A"},{"n":3,"uid":"B"},{"uid":"C"}]}"#
        );
        assert_eq!(list(&outer, "evses").unwrap().len(), 3);
        assert!(list(&fields(r#"{"evses":5}"#).unwrap(), "evses").is_none());
    }
}
