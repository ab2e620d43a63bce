//! The ADU kinds our transports carry. UPER is not self-describing, so each frame starts with
//! one octet saying which type follows (documented in `docs/efc-transport.md`).

use crate::charging::{
    AuthenticatedChargeReport, AuthenticatedChargeReportResponse, ChargeReport,
    ChargeReportResponse,
};
use crate::AduError;

/// First octet of a frame: which ADU follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum AduKind {
    /// `ChargeReport` (front end → back end).
    ChargeReport = 0x01,
    /// `AuthenticatedChargeReport`.
    AuthenticatedChargeReport = 0x02,
    /// `ChargeReportResponse` (back end → front end).
    ChargeReportResponse = 0x81,
    /// `AuthenticatedChargeReportResponse`.
    AuthenticatedChargeReportResponse = 0x82,
    /// Not an ISO 17575 ADU: the back end could not process the frame; UTF-8 reason follows.
    Error = 0xFF,
}

impl AduKind {
    /// The kind for an octet, if known.
    pub fn from_octet(octet: u8) -> Option<Self> {
        Some(match octet {
            0x01 => AduKind::ChargeReport,
            0x02 => AduKind::AuthenticatedChargeReport,
            0x81 => AduKind::ChargeReportResponse,
            0x82 => AduKind::AuthenticatedChargeReportResponse,
            0xFF => AduKind::Error,
            _ => return None,
        })
    }
}

/// A decoded frame.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // one value per frame, moved once
pub enum Adu {
    ChargeReport(ChargeReport),
    AuthenticatedChargeReport(AuthenticatedChargeReport),
    ChargeReportResponse(ChargeReportResponse),
    AuthenticatedChargeReportResponse(AuthenticatedChargeReportResponse),
    /// The peer's error answer (reason text).
    Error(String),
}

impl Adu {
    /// Decodes `kind octet + UPER bytes`.
    pub fn from_frame(frame: &[u8]) -> Result<Adu, AduError> {
        let Some((&first, body)) = frame.split_first() else {
            return Err(AduError::Decode {
                field: "aduKind".into(),
                detail: "empty frame".into(),
            });
        };
        let kind = AduKind::from_octet(first).ok_or_else(|| AduError::Decode {
            field: "aduKind".into(),
            detail: format!("unknown ADU kind 0x{first:02x}"),
        })?;
        Ok(match kind {
            AduKind::ChargeReport => Adu::ChargeReport(crate::decode(body)?),
            AduKind::AuthenticatedChargeReport => {
                Adu::AuthenticatedChargeReport(crate::decode(body)?)
            }
            AduKind::ChargeReportResponse => Adu::ChargeReportResponse(crate::decode(body)?),
            AduKind::AuthenticatedChargeReportResponse => {
                Adu::AuthenticatedChargeReportResponse(crate::decode(body)?)
            }
            AduKind::Error => Adu::Error(String::from_utf8_lossy(body).into_owned()),
        })
    }

    /// Encodes as `kind octet + UPER bytes`.
    pub fn to_frame(&self) -> Result<Vec<u8>, AduError> {
        let (kind, body) = match self {
            Adu::ChargeReport(v) => (AduKind::ChargeReport, crate::encode(v)?),
            Adu::AuthenticatedChargeReport(v) => {
                (AduKind::AuthenticatedChargeReport, crate::encode(v)?)
            }
            Adu::ChargeReportResponse(v) => (AduKind::ChargeReportResponse, crate::encode(v)?),
            Adu::AuthenticatedChargeReportResponse(v) => (
                AduKind::AuthenticatedChargeReportResponse,
                crate::encode(v)?,
            ),
            Adu::Error(text) => (AduKind::Error, text.as_bytes().to_vec()),
        };
        let mut frame = Vec::with_capacity(body.len() + 1);
        frame.push(kind as u8);
        frame.extend_from_slice(&body);
        Ok(frame)
    }
}
