//! Alternatives this crate deliberately does not model. They are uninhabited: no value can be
//! built, and decoding one stops with an error that names the element, so a report carrying
//! them is rejected cleanly instead of being misread (PER has no length to skip them by).

use rasn::prelude::*;

/// `ListOfDsrcUsageData` entries (ISO 14906 / 12813 / 13141 attribute lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsrcUsageDataUnsupported {}

/// `MessageAuthenticator.signature` (`MessageAuthenticatorEfc`: X.509 names and certificates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureUnsupported {}

macro_rules! unsupported {
    ($ty:ty, $what:literal) => {
        impl AsnType for $ty {
            const TAG: Tag = Tag::SEQUENCE;
        }
        impl Decode for $ty {
            fn decode_with_tag_and_constraints<D: Decoder>(
                decoder: &mut D,
                _tag: Tag,
                _constraints: &Constraints,
            ) -> Result<Self, D::Error> {
                Err(<D::Error as rasn::de::Error>::custom(
                    concat!($what, " is not supported by this back end"),
                    decoder.codec(),
                ))
            }
        }
        impl Encode for $ty {
            fn encode_with_tag_and_constraints<'b, E: Encoder<'b>>(
                &self,
                _encoder: &mut E,
                _tag: Tag,
                _constraints: &Constraints,
                _identifier: Identifier,
            ) -> Result<(), E::Error> {
                match *self {}
            }
        }
    };
}

unsupported!(
    DsrcUsageDataUnsupported,
    "listOfDsrcUsageData (ISO 14906 attribute lists)"
);
unsupported!(
    SignatureUnsupported,
    "messageAuthenticator.signature (X.509 MessageAuthenticatorEfc)"
);
