//! Functional block P, DataTransfer: vendor-specific messages, both directions.
//!
//! - P02, from a station: [`incoming`] routes a DataTransferRequest by `vendorId` and
//!   `messageId` to the [`DataTransferHandler`] registered for it in the CSMS's
//!   [`DataTransferHandlers`]. No handler for the vendorId: `UnknownVendorId` (P02.FR.06); a
//!   known vendor without a handler for the messageId: `UnknownMessageId` (P02.FR.07). These are
//!   statuses, never CALLERRORs: the message itself was fine.
//! - P01, to a station: [`data_transfer`], the typed operation the REST API and embedders call.
//!
//! Handlers are registered at run time ([`crate::Csms::data_transfer_handlers`]) by whatever
//! embeds the CSMS: a vendor integration is code, not configuration.

pub mod incoming;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use serde_json::Value;
use unicharge_core::StationId;
use unicharge_ocpp::v201::{DataTransferRequest, DataTransferResponse, DataTransferStatusEnumType};

use crate::request::{OpError, Requester};
use crate::Csms;

/// What a handler answers: `Accepted` or `Rejected` (the Unknown… statuses are the router's),
/// with optional data.
#[derive(Debug, Clone, PartialEq)]
pub struct DataTransferAnswer {
    pub accepted: bool,
    pub data: Option<Value>,
}

/// One vendor extension's handling of the messages a station sends it.
#[async_trait]
pub trait DataTransferHandler: Send + Sync {
    /// Answer one DataTransfer from `station`. `message_id` is `None` when the station sent
    /// none. Runs before the answer is sent; what it must keep it keeps before returning.
    async fn handle(
        &self,
        csms: &Csms,
        station: &StationId,
        message_id: Option<&str>,
        data: Option<&Value>,
    ) -> DataTransferAnswer;
}

/// A vendor's handlers: per messageId, and one for messages without a messageId (or any
/// messageId that has no handler of its own).
#[derive(Default, Clone)]
struct Vendor {
    by_message: HashMap<String, Arc<dyn DataTransferHandler>>,
    fallback: Option<Arc<dyn DataTransferHandler>>,
}

/// Where a DataTransfer goes.
pub enum Route {
    Handler(Arc<dyn DataTransferHandler>),
    UnknownVendorId,
    UnknownMessageId,
}

/// The registered handlers, by vendorId (compared exactly: OCPP gives no case rule, and vendor
/// ids are reversed DNS names by convention).
#[derive(Default)]
pub struct DataTransferHandlers {
    vendors: RwLock<HashMap<String, Vendor>>,
}

impl std::fmt::Debug for DataTransferHandlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let vendors: Vec<String> = self.read().keys().cloned().collect();
        f.debug_struct("DataTransferHandlers")
            .field("vendors", &vendors)
            .finish()
    }
}

impl DataTransferHandlers {
    /// Handle `vendor_id` messages with `message_id`; `None` handles the vendor's messages that
    /// have no messageId or none with a handler of its own. Replaces an earlier registration.
    pub fn register(
        &self,
        vendor_id: impl Into<String>,
        message_id: Option<&str>,
        handler: Arc<dyn DataTransferHandler>,
    ) {
        let mut vendors = self
            .vendors
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let vendor = vendors.entry(vendor_id.into()).or_default();
        match message_id {
            Some(id) => {
                vendor.by_message.insert(id.to_string(), handler);
            }
            None => vendor.fallback = Some(handler),
        }
    }

    /// Forget every handler of `vendor_id`. True if it had any.
    pub fn unregister_vendor(&self, vendor_id: &str) -> bool {
        self.vendors
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(vendor_id)
            .is_some()
    }

    /// P02.FR.06/07: the handler of a DataTransfer, or which Unknown… status it gets.
    pub fn route(&self, vendor_id: &str, message_id: Option<&str>) -> Route {
        let vendors = self.read();
        let Some(vendor) = vendors.get(vendor_id) else {
            return Route::UnknownVendorId;
        };
        let specific = message_id.and_then(|id| vendor.by_message.get(id));
        match specific.or(vendor.fallback.as_ref()) {
            Some(handler) => Route::Handler(handler.clone()),
            None => Route::UnknownMessageId,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Vendor>> {
        self.vendors
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// P01: send a vendor-specific message to a station and return its answer. The station's
/// UnknownVendorId / UnknownMessageId / Rejected are answers, not errors.
pub async fn data_transfer(
    csms: &Csms,
    station: &StationId,
    request: &DataTransferRequest,
    by: &Requester,
) -> Result<DataTransferResponse, OpError> {
    csms.registered(station).await?;
    let response = csms.request(station, request, by).await?;
    if response.status != DataTransferStatusEnumType::Accepted {
        tracing::info!(%station, vendor_id = %unicharge_ocpp::peer_text::Bounded(&request.vendor_id),
            status = response.status.as_str(), "DataTransfer not accepted by the station");
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(bool);

    #[async_trait]
    impl DataTransferHandler for Fixed {
        async fn handle(
            &self,
            _: &Csms,
            _: &StationId,
            _: Option<&str>,
            _: Option<&Value>,
        ) -> DataTransferAnswer {
            DataTransferAnswer {
                accepted: self.0,
                data: None,
            }
        }
    }

    fn kind(route: Route) -> &'static str {
        match route {
            Route::Handler(_) => "handler",
            Route::UnknownVendorId => "UnknownVendorId",
            Route::UnknownMessageId => "UnknownMessageId",
        }
    }

    #[test]
    fn routes_by_vendor_then_message() {
        let handlers = DataTransferHandlers::default();
        assert_eq!(
            kind(handlers.route("com.acme", Some("Ping"))),
            "UnknownVendorId"
        );
        handlers.register("com.acme", Some("Ping"), Arc::new(Fixed(true)));
        assert_eq!(kind(handlers.route("com.acme", Some("Ping"))), "handler");
        assert_eq!(
            kind(handlers.route("com.acme", Some("Pong"))),
            "UnknownMessageId"
        );
        assert_eq!(kind(handlers.route("com.acme", None)), "UnknownMessageId");
        assert_eq!(
            kind(handlers.route("COM.ACME", Some("Ping"))),
            "UnknownVendorId"
        );
        handlers.register("com.acme", None, Arc::new(Fixed(false)));
        assert_eq!(kind(handlers.route("com.acme", Some("Pong"))), "handler");
        assert_eq!(kind(handlers.route("com.acme", None)), "handler");
        assert!(handlers.unregister_vendor("com.acme"));
        assert_eq!(
            kind(handlers.route("com.acme", Some("Ping"))),
            "UnknownVendorId"
        );
    }
}
