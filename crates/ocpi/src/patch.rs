//! PATCH bodies: a partial object whose top-level fields replace those of the stored object.
//! OCPI requires `last_updated` in every PATCH ("2001" when it is missing); the result must
//! still be a valid object, so the merge is checked by deserializing it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::transport::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("a PATCH body must be a JSON object")]
    NotAnObject,
    #[error("a PATCH body must contain last_updated")]
    MissingLastUpdated,
    #[error("the patched object is not valid: {0}")]
    Invalid(serde_json::Error),
}

impl PatchError {
    /// Every PATCH error is "invalid or missing parameters".
    pub fn status_code(&self) -> StatusCode {
        StatusCode::INVALID_OR_MISSING_PARAMETERS
    }
}

/// Applies `patch` to `object` and returns the patched object.
pub fn apply<T: Serialize + DeserializeOwned>(object: &T, patch: &Value) -> Result<T, PatchError> {
    let fields = patch.as_object().ok_or(PatchError::NotAnObject)?;
    if !fields.contains_key("last_updated") {
        return Err(PatchError::MissingLastUpdated);
    }
    let mut merged = serde_json::to_value(object).map_err(PatchError::Invalid)?;
    let target = merged.as_object_mut().ok_or(PatchError::NotAnObject)?;
    for (key, value) in fields {
        if value.is_null() {
            target.remove(key);
        } else {
            target.insert(key.clone(), value.clone());
        }
    }
    serde_json::from_value(merged).map_err(PatchError::Invalid)
}
