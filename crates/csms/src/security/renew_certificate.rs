//! A02 Update Charging Station Certificate by request of the CSMS: TriggerMessage
//! SignChargingStationCertificate. The station then sends a CSR ([`super::sign_certificate`]) and
//! the CSMS delivers the signed certificate ([`super::certificate_signed`]).

use unicharge_core::StationId;
use unicharge_ocpp::v201::{MessageTriggerEnumType, TriggerMessageRequest, TriggerMessageResponse};

use crate::request::{OpError, Requester};
use crate::Csms;

pub async fn renew_certificate(
    csms: &Csms,
    station: &StationId,
    by: &Requester,
) -> Result<TriggerMessageResponse, OpError> {
    csms.registered(station).await?;
    let request = TriggerMessageRequest {
        custom_data: None,
        evse: None,
        requested_message: MessageTriggerEnumType::SignChargingStationCertificate,
    };
    csms.request(station, &request, by).await
}
