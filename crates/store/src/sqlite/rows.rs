//! Row → record mapping for the pool's reads: the decoders are shared with the writer's
//! connection and the PostgreSQL store (`crate::columns`).

pub(crate) use crate::columns::{
    answer, api_key, command, connector, event, issued_certificate, report, report_part,
    security_event, transaction_event, variable,
};
