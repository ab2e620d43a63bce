//! OCPP CertificateHashDataType (the fields of an OCSP CertID, RFC 6960): hashes of the
//! issuer's DER name and of the issuer's public key (the subjectPublicKey BIT STRING contents,
//! without tag, length and unused-bits octet), and the serial number in hex.
//!
//! Comparisons ignore hex case and leading zeros of the serial: stations differ in both.

use openssl::hash::{hash, MessageDigest};
use openssl::x509::X509Ref;
use unicharge_ocpp::v201::{CertificateHashDataType, HashAlgorithmEnumType};

fn digest(algorithm: HashAlgorithmEnumType) -> MessageDigest {
    match algorithm {
        HashAlgorithmEnumType::Sha256 => MessageDigest::sha256(),
        HashAlgorithmEnumType::Sha384 => MessageDigest::sha384(),
        HashAlgorithmEnumType::Sha512 => MessageDigest::sha512(),
    }
}

/// The hash data of `cert`, issued by `issuer` (itself for a root), with `algorithm`.
pub fn hash_data(
    cert: &X509Ref,
    issuer: &X509Ref,
    algorithm: HashAlgorithmEnumType,
) -> Result<CertificateHashDataType, String> {
    let md = digest(algorithm);
    let name = cert.issuer_name().to_der().map_err(|e| e.to_string())?;
    let spki = issuer
        .public_key()
        .and_then(|k| k.public_key_to_der())
        .map_err(|e| e.to_string())?;
    let bits = spki_key_bits(&spki).ok_or("unreadable issuer public key")?;
    let serial = cert
        .serial_number()
        .to_bn()
        .and_then(|bn| bn.to_hex_str().map(|s| s.to_ascii_lowercase()))
        .map_err(|e| e.to_string())?;
    Ok(CertificateHashDataType {
        custom_data: None,
        hash_algorithm: algorithm,
        issuer_name_hash: hex::encode(hash(md, &name).map_err(|e| e.to_string())?),
        issuer_key_hash: hex::encode(hash(md, bits).map_err(|e| e.to_string())?),
        serial_number: serial,
    })
}

/// A serial number as compared: lower case, no leading zeros.
pub fn normal_serial(serial: &str) -> String {
    let s = serial.trim().trim_start_matches('0').to_ascii_lowercase();
    if s.is_empty() {
        "0".into()
    } else {
        s
    }
}

/// Whether two hash data name the same certificate (same algorithm).
pub fn same(a: &CertificateHashDataType, b: &CertificateHashDataType) -> bool {
    a.hash_algorithm == b.hash_algorithm
        && a.issuer_name_hash.eq_ignore_ascii_case(&b.issuer_name_hash)
        && a.issuer_key_hash.eq_ignore_ascii_case(&b.issuer_key_hash)
        && normal_serial(&a.serial_number) == normal_serial(&b.serial_number)
}

/// The subjectPublicKey BIT STRING contents of a DER SubjectPublicKeyInfo.
fn spki_key_bits(spki: &[u8]) -> Option<&[u8]> {
    let (tag, body, _) = der_tlv(spki)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, _algorithm, rest) = der_tlv(body)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, bits, _) = der_tlv(rest)?;
    if tag != 0x03 {
        return None;
    }
    match bits.split_first() {
        Some((0, key)) => Some(key),
        _ => None,
    }
}

/// One DER tag-length-value: (tag, value, what follows).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The hashes a certificate issued by `ca` carries in its hash data: of `ca`'s subject name
/// and of its public key. Lower-case hex.
pub fn issuer_hashes(
    ca: &X509Ref,
    algorithm: HashAlgorithmEnumType,
) -> Result<(String, String), String> {
    let md = digest(algorithm);
    let name = ca.subject_name().to_der().map_err(|e| e.to_string())?;
    let spki = ca
        .public_key()
        .and_then(|k| k.public_key_to_der())
        .map_err(|e| e.to_string())?;
    let bits = spki_key_bits(&spki).ok_or("unreadable public key")?;
    Ok((
        hex::encode(hash(md, &name).map_err(|e| e.to_string())?),
        hex::encode(hash(md, bits).map_err(|e| e.to_string())?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::pki::generate_ca;

    #[test]
    fn hash_data_of_a_root_and_comparison() {
        let ca = generate_ca("root", 10).unwrap();
        let h256 = hash_data(&ca.cert, &ca.cert, HashAlgorithmEnumType::Sha256).unwrap();
        assert_eq!(h256.issuer_name_hash.len(), 64);
        assert_eq!(h256.issuer_key_hash.len(), 64);
        let h512 = hash_data(&ca.cert, &ca.cert, HashAlgorithmEnumType::Sha512).unwrap();
        assert_eq!(h512.issuer_name_hash.len(), 128);
        assert!(!same(&h256, &h512));
        let mut upper = h256.clone();
        upper.issuer_key_hash = upper.issuer_key_hash.to_ascii_uppercase();
        upper.serial_number = format!("00{}", upper.serial_number.to_ascii_uppercase());
        assert!(same(&h256, &upper));
        let other = generate_ca("root", 10).unwrap();
        let h = hash_data(&other.cert, &other.cert, HashAlgorithmEnumType::Sha256).unwrap();
        assert!(!same(&h256, &h));
        assert!(der_tlv(&[0x30, 0x85, 1, 2, 3, 4, 5]).is_none());
    }
}
