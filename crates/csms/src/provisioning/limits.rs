//! How many items a station takes in one GetVariablesRequest or SetVariablesRequest (B06.FR.05,
//! and B05 for SetVariables), and the splitting of a longer request into parts that fit.
//!
//! A station declares its limits in its device model: component `DeviceDataCtrlr`, variables
//! `ItemsPerMessage` and `BytesPerMessage`, each with variable instance `GetVariables` or
//! `SetVariables` (OCPP 2.0.1 Part 2, appendix "Controller components"). A station may answer a
//! request beyond them with CALLERROR OccurrenceConstraintViolation (too many items) or
//! FormatViolation (too many bytes), so the CSMS splits before it sends.
//!
//! Where the limits come from, in this order:
//!
//! 1. the stored device model (filled by NotifyReport — a station provisioned with a base report
//!    at first boot already told them —, and by GetVariables / SetVariables results);
//! 2. otherwise the station is asked, one small GetVariablesRequest per unknown variable (one
//!    item each, so even a station with ItemsPerMessage 1 can answer), and the answer is kept in
//!    the device model: a value, or — when the station refuses (UnknownVariable, …) — a row
//!    without a value, which means "the station declares no such limit" and stops the CSMS from
//!    asking again before every operation.
//!
//! A request of one item is never split, so it needs no limits and sends no probe.

use serde::Serialize;
use unicharge_core::StationId;
use unicharge_ocpp::frame::MAX_MESSAGE_ID_LEN;
use unicharge_ocpp::v201::{
    AttributeEnumType, ComponentType, GetVariableDataType, GetVariableStatusEnumType,
    GetVariablesRequest, OcppRequest, SetVariableDataType, SetVariablesRequest, VariableType,
};
use unicharge_ocpp::Frame;
use unicharge_store::{VariableRecord, Write};

use super::notify_report::variable_record;
use crate::request::{OpError, Requester};
use crate::Csms;

/// The controller component that declares the message limits.
pub const DEVICE_DATA_CTRLR: &str = "DeviceDataCtrlr";
/// Most items (getVariableData / setVariableData entries) the station takes in one request.
pub const ITEMS_PER_MESSAGE: &str = "ItemsPerMessage";
/// Most bytes of the whole OCPP-J message the station takes in one request.
pub const BYTES_PER_MESSAGE: &str = "BytesPerMessage";

/// A request made of a list of items that a station limits per message.
pub trait ItemsRequest: OcppRequest {
    type Item: Serialize;
    /// The instance of `DeviceDataCtrlr.ItemsPerMessage` / `BytesPerMessage` that limits this
    /// request: `GetVariables` or `SetVariables`.
    const LIMIT_INSTANCE: &'static str;
    fn with_items(items: Vec<Self::Item>) -> Self;
}

impl ItemsRequest for GetVariablesRequest {
    type Item = GetVariableDataType;
    const LIMIT_INSTANCE: &'static str = "GetVariables";
    fn with_items(items: Vec<GetVariableDataType>) -> Self {
        GetVariablesRequest {
            custom_data: None,
            get_variable_data: items,
        }
    }
}

impl ItemsRequest for SetVariablesRequest {
    type Item = SetVariableDataType;
    const LIMIT_INSTANCE: &'static str = "SetVariables";
    fn with_items(items: Vec<SetVariableDataType>) -> Self {
        SetVariablesRequest {
            custom_data: None,
            set_variable_data: items,
        }
    }
}

/// A station's limits for one kind of request; `None`: no limit declared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageLimits {
    pub items: Option<usize>,
    pub bytes: Option<usize>,
}

/// Split `items` greedily, in order, into parts that each fit `limits`: at most `items` entries,
/// and at most `bytes` bytes for the whole OCPP-J CALL frame (`[2,"<id>","<Action>",{…}]`)
/// counted with a message id of the longest allowed length (36 characters), so the part fits
/// whatever id it is sent with. An item that does not fit `bytes` even alone is a part of its
/// own: the station's answer to it is what the operator gets. There is always at least one part
/// (an empty request stays one request, which the schema check then refuses as before).
pub fn split<R: ItemsRequest>(items: Vec<R::Item>, limits: MessageLimits) -> Vec<Vec<R::Item>> {
    let overhead = frame_len::<R>(&[]);
    let mut parts = Vec::new();
    let mut part: Vec<R::Item> = Vec::new();
    let mut part_len = overhead;
    for item in items {
        let item_len = encoded_len(&item);
        let too_many = limits.items.is_some_and(|max| part.len() >= max);
        let too_big = limits
            .bytes
            .is_some_and(|max| part_len + 1 + item_len > max);
        if !part.is_empty() && (too_many || too_big) {
            parts.push(std::mem::take(&mut part));
            part_len = overhead;
        }
        // A comma separates this item from the one before it.
        part_len += item_len + usize::from(!part.is_empty());
        part.push(item);
    }
    if !part.is_empty() || parts.is_empty() {
        parts.push(part);
    }
    parts
}

/// The encoded size in bytes of the CALL frame of `R` carrying `items`, with a message id of
/// the longest allowed length.
pub fn frame_len<R: ItemsRequest>(items: &[R::Item]) -> usize {
    let overhead = Frame::Call {
        id: "x".repeat(MAX_MESSAGE_ID_LEN),
        action: R::ACTION.as_str().to_string(),
        payload: serde_json::to_value(R::with_items(Vec::new())).unwrap_or_default(),
    }
    .to_text()
    .len();
    let items_len: usize = items.iter().map(encoded_len).sum();
    overhead + items_len + items.len().saturating_sub(1)
}

/// Bytes of one item as JSON (UTF-8; serde_json leaves non-ASCII unescaped, as on the wire).
fn encoded_len<T: Serialize>(item: &T) -> usize {
    serde_json::to_string(item).map_or(0, |s| s.len())
}

/// The limits of `station` for requests `R` of `count` items: from the stored device model, or
/// asked of the station (and stored) when unknown; see the module documentation. The probe is
/// sent as [`Requester::Csms`]: the CSMS decided to ask, not whoever wanted the variables. A
/// probe that fails (not connected, timeout, CALLERROR) fails the operation with that error.
pub async fn message_limits<R: ItemsRequest>(
    csms: &Csms,
    station: &StationId,
    count: usize,
) -> Result<MessageLimits, OpError> {
    if count <= 1 {
        return Ok(MessageLimits::default());
    }
    if csms.connected_version(station) == Some(unicharge_ocpp::OcppVersion::V16) {
        // 1.6 has no DeviceDataCtrlr to ask: GetConfiguration takes any number of keys, and
        // ChangeConfiguration sets one key, so SetVariables goes one item per message.
        let one_at_a_time = R::LIMIT_INSTANCE == "SetVariables";
        return Ok(MessageLimits {
            items: one_at_a_time.then_some(1),
            bytes: None,
        });
    }
    let model = csms.store().device_model(station).await?;
    let mut limits = MessageLimits::default();
    for (variable, slot) in [
        (ITEMS_PER_MESSAGE, &mut limits.items),
        (BYTES_PER_MESSAGE, &mut limits.bytes),
    ] {
        let value = match model
            .iter()
            .find(|r| is_limit_record(r, variable, R::LIMIT_INSTANCE))
        {
            Some(record) => record.value.clone(),
            None => probe(csms, station, variable, R::LIMIT_INSTANCE).await?,
        };
        *slot = value
            .as_deref()
            .and_then(|v| parse_limit(station, variable, v));
    }
    Ok(limits)
}

/// Whether a stored device-model row is `DeviceDataCtrlr.<variable>[<instance>]`, Actual
/// (names compared case-insensitively, as OCPP 2.0.1 defines them; a NotifyReport keeps the
/// station's spelling).
fn is_limit_record(record: &VariableRecord, variable: &str, instance: &str) -> bool {
    record.component.eq_ignore_ascii_case(DEVICE_DATA_CTRLR)
        && record.component_instance.is_none()
        && record.evse_id.is_none()
        && record.variable.eq_ignore_ascii_case(variable)
        && record
            .variable_instance
            .as_deref()
            .is_some_and(|i| i.eq_ignore_ascii_case(instance))
        && record.attribute_type == AttributeEnumType::Actual.as_str()
}

/// A limit as the station states it: a positive integer. Anything else is no limit (and
/// logged: the station's device model is broken there).
fn parse_limit(station: &StationId, variable: &str, value: &str) -> Option<usize> {
    let parsed = value.trim().parse::<usize>().ok().filter(|n| *n > 0);
    if parsed.is_none() {
        tracing::warn!(station = %station, variable, value = %value.escape_debug(),
            "DeviceDataCtrlr limit is not a positive integer; not splitting by it");
    }
    parsed
}

/// Ask the station for `DeviceDataCtrlr.<variable>[<instance>]` in a GetVariablesRequest of its
/// own and keep the answer in the device model (a refusal as a row without a value). Returns
/// the value, if the station gave one.
async fn probe(
    csms: &Csms,
    station: &StationId,
    variable: &str,
    instance: &str,
) -> Result<Option<String>, OpError> {
    let component = ComponentType {
        custom_data: None,
        evse: None,
        instance: None,
        name: DEVICE_DATA_CTRLR.into(),
    };
    let variable = VariableType {
        custom_data: None,
        instance: Some(instance.into()),
        name: variable.into(),
    };
    let request = GetVariablesRequest::with_items(vec![GetVariableDataType {
        custom_data: None,
        attribute_type: None,
        component: component.clone(),
        variable: variable.clone(),
    }]);
    let answer = csms.request(station, &request, &Requester::Csms).await?;
    // Component and variable names are case-insensitive (OCPP 2.0.1 Part 2, ComponentType /
    // VariableType); a station may echo them in its own spelling.
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let Some(result) = answer.get_variable_result.into_iter().find(|r| {
        same(&r.component.name, &component.name)
            && same(&r.variable.name, &variable.name)
            && r.variable.instance.as_deref().map(str::to_ascii_lowercase)
                == variable.instance.as_deref().map(str::to_ascii_lowercase)
    }) else {
        // Nothing to learn from an answer about something else; ask again next time.
        tracing::warn!(station = %station, variable = %variable.name,
            "GetVariables answer does not contain the DeviceDataCtrlr limit asked for");
        return Ok(None);
    };
    let value = match result.attribute_status {
        GetVariableStatusEnumType::Accepted => result.attribute_value,
        _ => None,
    };
    csms.store()
        .write(vec![Write::Variable(variable_record(
            station,
            &component,
            &variable,
            AttributeEnumType::Actual,
            value.clone(),
            None,
            "GetVariables",
        ))])
        .await?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicharge_ocpp::v201::EvseType;

    fn get_item(variable: &str) -> GetVariableDataType {
        GetVariableDataType {
            custom_data: None,
            attribute_type: None,
            component: ComponentType {
                custom_data: None,
                evse: None,
                instance: None,
                name: "OCPPCommCtrlr".into(),
            },
            variable: VariableType {
                custom_data: None,
                instance: None,
                name: variable.into(),
            },
        }
    }

    fn set_item(variable: &str, value: &str) -> SetVariableDataType {
        SetVariableDataType {
            custom_data: None,
            attribute_type: None,
            attribute_value: value.into(),
            component: ComponentType {
                custom_data: None,
                evse: Some(EvseType {
                    custom_data: None,
                    id: 1,
                    connector_id: None,
                }),
                instance: None,
                name: "EVSE".into(),
            },
            variable: VariableType {
                custom_data: None,
                instance: None,
                name: variable.into(),
            },
        }
    }

    fn names(parts: &[Vec<GetVariableDataType>]) -> Vec<Vec<&str>> {
        parts
            .iter()
            .map(|p| p.iter().map(|i| i.variable.name.as_str()).collect())
            .collect()
    }

    /// The size the splitter counts is the size of the frame as it goes on the wire.
    #[test]
    fn frame_len_is_the_encoded_call_frame_with_a_36_character_id() {
        let items = vec![get_item("A"), get_item("Bé"), get_item("C")];
        let wire = Frame::Call {
            id: "0123456789abcdef0123456789abcdef0123".into(),
            action: "GetVariables".into(),
            payload: serde_json::to_value(GetVariablesRequest::with_items(items.clone())).unwrap(),
        }
        .to_text();
        assert_eq!(frame_len::<GetVariablesRequest>(&items), wire.len());
        let set = vec![set_item("A", "1"), set_item("B", "two")];
        let wire = Frame::Call {
            id: "0123456789abcdef0123456789abcdef0123".into(),
            action: "SetVariables".into(),
            payload: serde_json::to_value(SetVariablesRequest::with_items(set.clone())).unwrap(),
        }
        .to_text();
        assert_eq!(frame_len::<SetVariablesRequest>(&set), wire.len());
    }

    #[test]
    fn b06_fr_05_split_by_items_per_message_keeps_order() {
        let items = ["A", "B", "C", "D", "E"].map(get_item).to_vec();
        let parts = split::<GetVariablesRequest>(
            items,
            MessageLimits {
                items: Some(2),
                bytes: None,
            },
        );
        assert_eq!(
            names(&parts),
            vec![vec!["A", "B"], vec!["C", "D"], vec!["E"]]
        );
    }

    #[test]
    fn no_limits_is_one_part() {
        let items = ["A", "B", "C"].map(get_item).to_vec();
        let parts = split::<GetVariablesRequest>(items, MessageLimits::default());
        assert_eq!(names(&parts), vec![vec!["A", "B", "C"]]);
    }

    #[test]
    fn an_empty_request_stays_one_request() {
        let parts = split::<GetVariablesRequest>(Vec::new(), MessageLimits::default());
        assert_eq!(parts.len(), 1);
        assert!(parts[0].is_empty());
    }

    #[test]
    fn b06_fr_05_split_by_bytes_per_message_fills_each_part_to_the_limit() {
        let items = ["A", "B", "C", "D", "E"].map(get_item).to_vec();
        // Room for exactly two items per frame.
        let bytes = frame_len::<GetVariablesRequest>(&items[..2]);
        let limits = MessageLimits {
            items: None,
            bytes: Some(bytes),
        };
        let parts = split::<GetVariablesRequest>(items, limits);
        assert_eq!(
            names(&parts),
            vec![vec!["A", "B"], vec!["C", "D"], vec!["E"]]
        );
        for part in &parts {
            assert!(frame_len::<GetVariablesRequest>(part) <= bytes);
        }
        // One byte less: only one fits.
        let items = ["A", "B", "C"].map(get_item).to_vec();
        let parts = split::<GetVariablesRequest>(
            items,
            MessageLimits {
                items: None,
                bytes: Some(bytes - 1),
            },
        );
        assert_eq!(names(&parts), vec![vec!["A"], vec!["B"], vec!["C"]]);
    }

    #[test]
    fn the_smaller_of_both_limits_decides() {
        let items = ["A", "B", "C", "D"].map(get_item).to_vec();
        let three = frame_len::<GetVariablesRequest>(&items[..3]);
        let parts = split::<GetVariablesRequest>(
            items.clone(),
            MessageLimits {
                items: Some(2),
                bytes: Some(three),
            },
        );
        assert_eq!(names(&parts), vec![vec!["A", "B"], vec!["C", "D"]]);
        let parts = split::<GetVariablesRequest>(
            items,
            MessageLimits {
                items: Some(4),
                bytes: Some(three),
            },
        );
        assert_eq!(names(&parts), vec![vec!["A", "B", "C"], vec!["D"]]);
    }

    /// An item that does not fit BytesPerMessage even alone goes alone; its neighbours are not
    /// held back with it.
    #[test]
    fn b05_an_item_larger_than_bytes_per_message_is_sent_alone() {
        let small = set_item("A", "1");
        let bytes = frame_len::<SetVariablesRequest>(&[small.clone(), small.clone()]);
        let big = set_item("Big", &"x".repeat(bytes));
        let items = vec![small.clone(), big, small.clone(), small];
        let parts = split::<SetVariablesRequest>(
            items,
            MessageLimits {
                items: None,
                bytes: Some(bytes),
            },
        );
        let names: Vec<Vec<&str>> = parts
            .iter()
            .map(|p| p.iter().map(|i| i.variable.name.as_str()).collect())
            .collect();
        assert_eq!(names, vec![vec!["A"], vec!["Big"], vec!["A", "A"]]);
    }

    #[test]
    fn limits_are_positive_integers() {
        let station = StationId::new("CP001").unwrap();
        assert_eq!(parse_limit(&station, ITEMS_PER_MESSAGE, " 20 "), Some(20));
        assert_eq!(parse_limit(&station, ITEMS_PER_MESSAGE, "0"), None);
        assert_eq!(parse_limit(&station, ITEMS_PER_MESSAGE, "-1"), None);
        assert_eq!(parse_limit(&station, ITEMS_PER_MESSAGE, "many"), None);
    }
}
