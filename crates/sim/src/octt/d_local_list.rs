//! (scenarios being written)

use std::sync::Arc;

use super::operator::Operator;
use super::{ScenarioFuture, Target};

/// The scenario for a case id of this block, if the simulator has one.
pub(crate) fn scenario<'a>(
    id: &str,
    target: &'a Target,
    op: Option<Arc<dyn Operator>>,
) -> Option<ScenarioFuture<'a>> {
    let _ = (target, op);
    match id {
        _ => None,
    }
}
