//! Local certificate authority and certificate generation for the OCPP wss listener.
//!
//! OCPP 2.0.1 security profiles 2 and 3 need a CSMS server certificate (A00.FR.307 / A00.FR.410),
//! and A00.FR.318 asks the CSMS to support both ECDSA and static-RSA TLS 1.2 cipher suites, which
//! "will have to provide 2 different certificates". Profile 3 additionally needs client
//! certificates for the stations (A00.FR.401/402) and, later, signing of station CSRs
//! (A02/A03, SignCertificate).
//!
//! For development and small deployments this module creates a self-contained PKI on first
//! start ([`load_or_create`]): a local ECDSA root CA plus an RSA-2048 and an ECDSA P-256 server
//! certificate signed by it. Operators with their own PKI simply point the TLS settings at their
//! own files instead.
//!
//! Certificate properties follow A00.FR.5xx: keys of at least RSA 2048 / EC 224 bits
//! (A00.FR.502/503), PEM encoding (A00.FR.507), a serial number in every certificate
//! (A00.FR.508) and the server's FQDN as the CN of the CSMS certificate (A00.FR.510).

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use openssl::asn1::{Asn1Integer, Asn1Time, Asn1TimeRef};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKey, PKeyRef, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Name, X509NameRef, X509Ref, X509Req, X509};

/// Common name of the CA created by [`load_or_create`].
pub const LOCAL_CA_COMMON_NAME: &str = "unicharge local CA";
/// Validity of the CA created by [`load_or_create`] (about ten years): stations install it as
/// their CSMS root certificate, so replacing it means touching every station.
pub const LOCAL_CA_DAYS: u32 = 3650;
/// Validity of the server certificates created by [`load_or_create`]. When they expire, delete
/// the pair and it is reissued from the same CA on the next start.
pub const SERVER_CERT_DAYS: u32 = 825;

/// Minimum RSA modulus size (A00.FR.502).
pub const MIN_RSA_BITS: u32 = 2048;
/// Minimum elliptic-curve key size (A00.FR.503).
pub const MIN_EC_BITS: u32 = 224;

/// Certificates are backdated by this much so that stations whose clock runs somewhat behind do
/// not reject a freshly generated certificate as "not yet valid".
const BACKDATE_SECS: i64 = 24 * 60 * 60;
const SECS_PER_DAY: i64 = 24 * 60 * 60;

/// Everything that can go wrong in this module. Messages name the file involved and the fix.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "cannot write {}: {source}; check that the directory is writable by the CSMS user",
        path.display()
    )]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{} is not a PEM X.509 certificate file ({source}); it must contain \
         `-----BEGIN CERTIFICATE-----` blocks (leaf first). Replace it, or delete it (and its key) \
         to have a new one generated",
        path.display()
    )]
    InvalidCertificateFile {
        path: PathBuf,
        #[source]
        source: ErrorStack,
    },
    #[error(
        "{} contains no certificate; it must contain `-----BEGIN CERTIFICATE-----` blocks \
         (leaf first)",
        path.display()
    )]
    EmptyCertificateFile { path: PathBuf },
    #[error(
        "{} is not an unencrypted PEM private key ({source}); expected `-----BEGIN PRIVATE KEY-----` \
         (PKCS#8) or a traditional RSA/EC PEM key. Replace it, or delete it (and its certificate) \
         to have a new pair generated",
        path.display()
    )]
    InvalidKeyFile {
        path: PathBuf,
        #[source]
        source: ErrorStack,
    },
    #[error(
        "private key {} does not belong to certificate {}; configure the matching pair, or delete \
         both files to have a new pair generated",
        key.display(),
        cert.display()
    )]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error(
        "incomplete PKI directory: {} exists but {} is missing; restore the missing file, or \
         delete {} as well to have both regenerated",
        present.display(),
        missing.display(),
        present.display()
    )]
    IncompletePair { present: PathBuf, missing: PathBuf },
    #[error(
        "server certificate files {} and {} exist but the CA ({}) that would sign them does not; \
         restore the CA files or delete the server files to have a complete new PKI generated",
        cert.display(),
        key.display(),
        ca.display()
    )]
    MissingCa {
        cert: PathBuf,
        key: PathBuf,
        ca: PathBuf,
    },
    #[error("certificate {} expired on {not_after}; {hint}", path.display())]
    Expired {
        path: PathBuf,
        not_after: String,
        hint: String,
    },
    #[error(
        "no server name given for the CSMS certificate; configure at least one host name or IP \
         address that the charging stations use to reach the CSMS (A00.FR.510)"
    )]
    NoServerNames,
    #[error("invalid certificate validity: {0}")]
    InvalidValidity(String),
    #[error("CSR is not a PEM PKCS#10 certificate signing request: {0}")]
    MalformedCsr(#[source] ErrorStack),
    #[error("CSR signature does not verify with the CSR's own public key")]
    CsrBadSignature,
    #[error(
        "CSR key is too weak: {algorithm} {bits} bits; at least RSA {MIN_RSA_BITS} or \
         EC {MIN_EC_BITS} bits are required (A00.FR.502/503)"
    )]
    WeakKey { algorithm: &'static str, bits: u32 },
    #[error("CSR key type {0} is not supported; use RSA or EC keys")]
    UnsupportedKey(String),
    #[error("OpenSSL failed while {what}: {source}")]
    OpenSsl {
        what: &'static str,
        #[source]
        source: ErrorStack,
    },
}

pub type Result<T, E = PkiError> = std::result::Result<T, E>;

/// Attaches a short description of the operation to an OpenSSL error.
trait OsslContext<T> {
    fn ctx(self, what: &'static str) -> Result<T>;
}

impl<T> OsslContext<T> for Result<T, ErrorStack> {
    fn ctx(self, what: &'static str) -> Result<T> {
        self.map_err(|source| PkiError::OpenSsl { what, source })
    }
}

/// A certificate authority: its certificate and signing key.
pub struct CaMaterial {
    pub cert: X509,
    pub key: PKey<Private>,
}

impl std::fmt::Debug for CaMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("CaMaterial")
            .field("subject", &common_name(self.cert.subject_name()))
            .finish_non_exhaustive()
    }
}

/// Key algorithm of a generated certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA 2048 bits: for the static-RSA suites TLS_RSA_WITH_AES_*_GCM_* (A00.FR.318, A00.FR.502).
    Rsa2048,
    /// ECDSA on NIST P-256: for the TLS_ECDHE_ECDSA_* suites (A00.FR.318, A00.FR.503).
    EcP256,
}

impl KeyKind {
    /// Generates a fresh private key of this kind.
    pub fn generate(self) -> Result<PKey<Private>> {
        match self {
            KeyKind::Rsa2048 => Rsa::generate(2048)
                .and_then(PKey::from_rsa)
                .ctx("generating an RSA-2048 key"),
            KeyKind::EcP256 => EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)
                .and_then(|group| EcKey::generate(&group))
                .and_then(PKey::from_ec_key)
                .ctx("generating an EC P-256 key"),
        }
    }
}

/// Creates a self-signed CA certificate with a new ECDSA P-256 key, signed with ECDSA-SHA256.
///
/// Extensions: basicConstraints CA:true (critical), keyUsage keyCertSign+cRLSign (critical),
/// subjectKeyIdentifier. The serial is a random positive 128-bit number (A00.FR.508).
pub fn generate_ca(common_name: &str, days: u32) -> Result<CaMaterial> {
    if days == 0 {
        return Err(PkiError::InvalidValidity(
            "a CA needs at least one day".into(),
        ));
    }
    let key = KeyKind::EcP256.generate()?;
    let name = name_with_cn(common_name)?;
    let not_before = unix_time_from_now(-BACKDATE_SECS)?;
    let not_after = unix_time_from_now(i64::from(days) * SECS_PER_DAY)?;

    let mut builder = base_builder(&name, &name, &key, &not_before, &not_after)?;
    let basic = BasicConstraints::new()
        .critical()
        .ca()
        .build()
        .ctx("building basicConstraints")?;
    let usage = KeyUsage::new()
        .critical()
        .key_cert_sign()
        .crl_sign()
        .build()
        .ctx("building keyUsage")?;
    let ski = SubjectKeyIdentifier::new()
        .build(&builder.x509v3_context(None, None))
        .ctx("building subjectKeyIdentifier")?;
    for ext in [basic, usage, ski] {
        builder.append_extension(ext).ctx("adding a CA extension")?;
    }
    builder
        .sign(&key, MessageDigest::sha256())
        .ctx("self-signing the CA certificate")?;
    Ok(CaMaterial {
        cert: builder.build(),
        key,
    })
}

/// Issues a CSMS server certificate (A00.FR.307): CN = `common_name` (the FQDN, A00.FR.510),
/// subjectAltName with the given DNS names and IP addresses, extendedKeyUsage serverAuth.
///
/// RSA certificates get keyUsage digitalSignature+keyEncipherment (keyEncipherment is what the
/// static-RSA key exchange of TLS_RSA_* uses); EC certificates get digitalSignature.
pub fn issue_server_certificate(
    ca: &CaMaterial,
    key_kind: KeyKind,
    common_name: &str,
    subject_alt_dns: &[String],
    subject_alt_ip: &[IpAddr],
    days: u32,
) -> Result<(X509, PKey<Private>)> {
    if days == 0 {
        return Err(PkiError::InvalidValidity(
            "a server certificate needs at least one day".into(),
        ));
    }
    let key = key_kind.generate()?;
    let name = name_with_cn(common_name)?;
    let not_before = unix_time_from_now(-BACKDATE_SECS)?;
    let not_after = unix_time_from_now(i64::from(days) * SECS_PER_DAY)?;
    let mut builder = leaf_builder(ca, &name, &key, &not_before, &not_after)?;

    let eku = ExtendedKeyUsage::new()
        .server_auth()
        .build()
        .ctx("building extendedKeyUsage")?;
    builder
        .append_extension(eku)
        .ctx("adding extendedKeyUsage")?;
    if !subject_alt_dns.is_empty() || !subject_alt_ip.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for dns in subject_alt_dns {
            san.dns(dns);
        }
        for ip in subject_alt_ip {
            san.ip(&ip.to_string());
        }
        let san = san
            .build(&builder.x509v3_context(Some(&ca.cert), None))
            .ctx("building subjectAltName")?;
        builder.append_extension(san).ctx("adding subjectAltName")?;
    }
    builder
        .sign(&ca.key, MessageDigest::sha256())
        .ctx("signing the server certificate")?;
    Ok((builder.build(), key))
}

/// Issues a charging-station client certificate for security profile 3 (A00.FR.401/402):
/// CN = `common_name` (the station's identity / serial number, A00.FR.405), extendedKeyUsage
/// clientAuth.
///
/// Validity runs from now + `not_before_days_offset` days for `days` days (an offset of 0 starts
/// a day early, as the CA does, against clock skew). A negative offset with
/// `days` smaller than its magnitude creates an already expired certificate (OCTT TC_A_08 uses
/// one); that is deliberate.
pub fn issue_client_certificate(
    ca: &CaMaterial,
    key_kind: KeyKind,
    common_name: &str,
    not_before_days_offset: i64,
    days: i64,
) -> Result<(X509, PKey<Private>)> {
    if days <= 0 {
        return Err(PkiError::InvalidValidity(format!(
            "a client certificate needs a positive number of days, got {days}"
        )));
    }
    // "Valid from now" is backdated like every certificate we issue: a verifier whose clock
    // is a little behind (or a clock stepped back by NTP) must not see "not yet valid".
    let backdate = if not_before_days_offset == 0 {
        BACKDATE_SECS
    } else {
        0
    };
    let start = not_before_days_offset
        .checked_mul(SECS_PER_DAY)
        .map(|s| s - backdate)
        .ok_or_else(|| PkiError::InvalidValidity("not-before offset out of range".into()))?;
    let end = days
        .checked_mul(SECS_PER_DAY)
        .and_then(|d| d.checked_add(start))
        .ok_or_else(|| PkiError::InvalidValidity("validity out of range".into()))?;
    let key = key_kind.generate()?;
    let name = name_with_cn(common_name)?;
    let not_before = unix_time_from_now(start)?;
    let not_after = unix_time_from_now(end)?;
    let mut builder = leaf_builder(ca, &name, &key, &not_before, &not_after)?;
    let eku = ExtendedKeyUsage::new()
        .client_auth()
        .build()
        .ctx("building extendedKeyUsage")?;
    builder
        .append_extension(eku)
        .ctx("adding extendedKeyUsage")?;
    builder
        .sign(&ca.key, MessageDigest::sha256())
        .ctx("signing the client certificate")?;
    Ok((builder.build(), key))
}

/// Signs a PKCS#10 CSR (PEM) as a charging-station client certificate (SignCertificate, A02/A03).
///
/// Checks, in order: the PEM parses ([`PkiError::MalformedCsr`]), the CSR is signed by its own
/// key, i.e. the requester holds the private key ([`PkiError::CsrBadSignature`]), and the key is
/// RSA >= 2048 or EC >= 224 bits ([`PkiError::WeakKey`], A00.FR.502/503).
///
/// Only the subject is copied from the CSR; requested extensions are ignored and replaced by
/// basicConstraints CA:false, keyUsage, extendedKeyUsage clientAuth and key identifiers. The
/// caller must still check that the subject's CN is the requesting station's identity
/// (A00.FR.405), e.g. with [`common_name`].
pub fn sign_csr(ca: &CaMaterial, csr_pem: &[u8], days: u32) -> Result<X509> {
    if days == 0 {
        return Err(PkiError::InvalidValidity(
            "a certificate needs at least one day".into(),
        ));
    }
    let req = X509Req::from_pem(csr_pem).map_err(PkiError::MalformedCsr)?;
    let public = req.public_key().map_err(PkiError::MalformedCsr)?;
    match req.verify(&public) {
        Ok(true) => {}
        Ok(false) | Err(_) => return Err(PkiError::CsrBadSignature),
    }
    check_key_strength(&public)?;

    let not_before = unix_time_from_now(-BACKDATE_SECS)?;
    let not_after = unix_time_from_now(i64::from(days) * SECS_PER_DAY)?;
    let mut builder = leaf_builder(ca, req.subject_name(), &public, &not_before, &not_after)?;
    let eku = ExtendedKeyUsage::new()
        .client_auth()
        .build()
        .ctx("building extendedKeyUsage")?;
    builder
        .append_extension(eku)
        .ctx("adding extendedKeyUsage")?;
    builder
        .sign(&ca.key, MessageDigest::sha256())
        .ctx("signing the certificate")?;
    Ok(builder.build())
}

/// Rejects keys below A00.FR.502/503: RSA < 2048 bits, EC < 224 bits, and other key types.
pub fn check_key_strength<T: HasPublic>(key: &PKeyRef<T>) -> Result<()> {
    let (algorithm, min) = match key.id() {
        Id::RSA => ("RSA", MIN_RSA_BITS),
        Id::EC => ("EC", MIN_EC_BITS),
        other => return Err(PkiError::UnsupportedKey(format!("{other:?}"))),
    };
    let bits = key.bits();
    if bits < min {
        return Err(PkiError::WeakKey { algorithm, bits });
    }
    Ok(())
}

/// The subject's commonName, if there is exactly one, non-empty, convertible to UTF-8 and
/// without NUL characters.
///
/// Several CN entries are treated as "no CN": the CN is used as the station identity
/// (A00.FR.405) and must not be ambiguous.
pub fn common_name(name: &X509NameRef) -> Option<String> {
    let mut entries = name.entries_by_nid(Nid::COMMONNAME);
    let first = entries.next()?;
    if entries.next().is_some() {
        return None;
    }
    let cn = first.data().to_string().ok()?;
    // Interior NULs or unconvertible bytes (replaced by U+FFFD) could make two different
    // certificates look like the same station.
    if cn.is_empty() || cn.contains(['\0', '\u{FFFD}']) {
        return None;
    }
    Some(cn)
}

// ---------------------------------------------------------------------------------------------
// PEM helpers (A00.FR.507: certificates are stored and transmitted as PEM).

/// PEM encoding of a certificate.
pub fn certificate_to_pem(cert: &X509Ref) -> Result<Vec<u8>> {
    cert.to_pem().ctx("encoding a certificate as PEM")
}

/// Unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) of a private key.
pub fn private_key_to_pem(key: &PKeyRef<Private>) -> Result<Vec<u8>> {
    key.private_key_to_pem_pkcs8()
        .ctx("encoding a private key as PEM")
}

/// Reads every certificate of a PEM file (a chain: leaf first). Fails on an empty file.
pub fn read_certificates(path: &Path) -> Result<Vec<X509>> {
    let pem = read_file(path)?;
    let certs = X509::stack_from_pem(&pem).map_err(|source| PkiError::InvalidCertificateFile {
        path: path.to_owned(),
        source,
    })?;
    if certs.is_empty() {
        return Err(PkiError::EmptyCertificateFile {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// Reads the first certificate of a PEM file.
pub fn read_certificate(path: &Path) -> Result<X509> {
    let mut certs = read_certificates(path)?;
    Ok(certs.swap_remove(0))
}

/// Reads an unencrypted PEM private key (PKCS#8 or traditional RSA/EC).
pub fn read_private_key(path: &Path) -> Result<PKey<Private>> {
    let pem = read_file(path)?;
    PKey::private_key_from_pem(&pem).map_err(|source| PkiError::InvalidKeyFile {
        path: path.to_owned(),
        source,
    })
}

/// Loads a CA from its certificate and key files and checks that they belong together.
pub fn load_ca(cert_path: &Path, key_path: &Path) -> Result<CaMaterial> {
    let cert = read_certificate(cert_path)?;
    let key = read_private_key(key_path)?;
    ensure_key_matches(&cert, &key, cert_path, key_path)?;
    Ok(CaMaterial { cert, key })
}

/// Checks that `key` is the private key of `cert`; the error names both files.
pub fn ensure_key_matches(
    cert: &X509Ref,
    key: &PKeyRef<Private>,
    cert_path: &Path,
    key_path: &Path,
) -> Result<()> {
    let public = cert
        .public_key()
        .ctx("reading a certificate's public key")?;
    if public.public_eq(key) {
        Ok(())
    } else {
        Err(PkiError::KeyMismatch {
            cert: cert_path.to_owned(),
            key: key_path.to_owned(),
        })
    }
}

/// Writes a PEM file atomically (temporary file + rename). With `private`, the file is created
/// with mode 0600 on unix so that only the CSMS user can read the key.
pub fn write_pem(path: &Path, pem: &[u8], private: bool) -> Result<()> {
    let write_err = |source| PkiError::Write {
        path: path.to_owned(),
        source,
    };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(write_err(e)),
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = options.open(&tmp).and_then(|mut file| {
        file.write_all(pem)?;
        file.sync_all()
    });
    if let Err(e) = result.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(write_err(e));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The on-disk local PKI.

/// File names of the local PKI inside its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiPaths {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_rsa_cert: PathBuf,
    pub server_rsa_key: PathBuf,
    pub server_ecdsa_cert: PathBuf,
    pub server_ecdsa_key: PathBuf,
}

impl PkiPaths {
    /// The standard file names inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            ca_cert: dir.join("ca.pem"),
            ca_key: dir.join("ca.key.pem"),
            server_rsa_cert: dir.join("server-rsa.pem"),
            server_rsa_key: dir.join("server-rsa.key.pem"),
            server_ecdsa_cert: dir.join("server-ecdsa.pem"),
            server_ecdsa_key: dir.join("server-ecdsa.key.pem"),
        }
    }

    /// The (certificate, key) pairs of the server certificates, RSA first.
    pub fn server_pairs(&self) -> Vec<(PathBuf, PathBuf)> {
        vec![
            (self.server_rsa_cert.clone(), self.server_rsa_key.clone()),
            (
                self.server_ecdsa_cert.clone(),
                self.server_ecdsa_key.clone(),
            ),
        ]
    }
}

/// Uses the local PKI in `dir`, creating whatever is missing.
///
/// * CA (`ca.pem`, `ca.key.pem`): loaded if both exist, else a new [`LOCAL_CA_COMMON_NAME`] CA
///   is generated. A CA whose certificate or key is missing alone is an error (never silently
///   replace the root the stations trust).
/// * Server certificates (`server-rsa.pem` + key, `server-ecdsa.pem` + key): each pair is kept
///   if both files exist, else issued from the CA for `server_names` (CN = first name; names
///   that parse as IP addresses become IP SANs, the others DNS SANs). Existing certificates are
///   not re-checked against `server_names`: delete a pair to reissue it for new names.
/// * Expired certificates are reported as errors with the fix.
///
/// Returns `created = true` when any file was written, so that the caller can print the paths
/// (the CA must be installed on the stations as the CSMS root certificate).
pub fn load_or_create(dir: &Path, server_names: &[String]) -> Result<(PkiPaths, bool)> {
    let first_name = server_names.first().ok_or(PkiError::NoServerNames)?;
    let paths = PkiPaths::in_dir(dir);
    fs::create_dir_all(dir).map_err(|source| PkiError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut created = false;

    let ca = match pair_state(&paths.ca_cert, &paths.ca_key)? {
        PairState::Present => {
            let ca = load_ca(&paths.ca_cert, &paths.ca_key)?;
            ensure_not_expired(
                &ca.cert,
                &paths.ca_cert,
                format!(
                    "delete {} and {} (and the server certificates) to have a new CA generated, \
                     then install the new CA on every station",
                    paths.ca_cert.display(),
                    paths.ca_key.display()
                ),
            )?;
            ca
        }
        PairState::Absent => {
            for (cert, key) in paths.server_pairs() {
                if cert.exists() || key.exists() {
                    return Err(PkiError::MissingCa {
                        cert,
                        key,
                        ca: paths.ca_cert.clone(),
                    });
                }
            }
            let ca = generate_ca(LOCAL_CA_COMMON_NAME, LOCAL_CA_DAYS)?;
            write_pem(&paths.ca_key, &private_key_to_pem(&ca.key)?, true)?;
            write_pem(&paths.ca_cert, &certificate_to_pem(&ca.cert)?, false)?;
            created = true;
            ca
        }
    };

    let mut dns = Vec::new();
    let mut ips = Vec::new();
    let mut seen = HashSet::new();
    for name in server_names {
        let name = name.trim();
        if name.is_empty() || !seen.insert(name.to_owned()) {
            continue;
        }
        match name.parse::<IpAddr>() {
            Ok(ip) => ips.push(ip),
            Err(_) => dns.push(name.to_owned()),
        }
    }

    for (kind, cert_path, key_path) in [
        (
            KeyKind::Rsa2048,
            &paths.server_rsa_cert,
            &paths.server_rsa_key,
        ),
        (
            KeyKind::EcP256,
            &paths.server_ecdsa_cert,
            &paths.server_ecdsa_key,
        ),
    ] {
        match pair_state(cert_path, key_path)? {
            PairState::Present => {
                let cert = read_certificate(cert_path)?;
                ensure_not_expired(
                    &cert,
                    cert_path,
                    format!(
                        "delete {} and {} to have the pair reissued from {} on the next start",
                        cert_path.display(),
                        key_path.display(),
                        paths.ca_cert.display()
                    ),
                )?;
            }
            PairState::Absent => {
                let (cert, key) = issue_server_certificate(
                    &ca,
                    kind,
                    first_name.trim(),
                    &dns,
                    &ips,
                    SERVER_CERT_DAYS,
                )?;
                write_pem(key_path, &private_key_to_pem(&key)?, true)?;
                write_pem(cert_path, &certificate_to_pem(&cert)?, false)?;
                created = true;
            }
        }
    }
    Ok((paths, created))
}

enum PairState {
    Present,
    Absent,
}

fn pair_state(cert: &Path, key: &Path) -> Result<PairState> {
    match (cert.exists(), key.exists()) {
        (true, true) => Ok(PairState::Present),
        (false, false) => Ok(PairState::Absent),
        (true, false) => Err(PkiError::IncompletePair {
            present: cert.to_owned(),
            missing: key.to_owned(),
        }),
        (false, true) => Err(PkiError::IncompletePair {
            present: key.to_owned(),
            missing: cert.to_owned(),
        }),
    }
}

fn ensure_not_expired(cert: &X509Ref, path: &Path, hint: String) -> Result<()> {
    let now = Asn1Time::days_from_now(0).ctx("reading the clock")?;
    if cert.not_after() < now {
        return Err(PkiError::Expired {
            path: path.to_owned(),
            not_after: cert.not_after().to_string(),
            hint,
        });
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|source| PkiError::Read {
        path: path.to_owned(),
        source,
    })
}

fn name_with_cn(common_name: &str) -> Result<X509Name> {
    let mut name = X509Name::builder().ctx("building a subject name")?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)
        .ctx("setting the subject commonName")?;
    Ok(name.build())
}

/// Now + `offset_secs` as an ASN.1 time.
fn unix_time_from_now(offset_secs: i64) -> Result<Asn1Time> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let at = now
        .checked_add(offset_secs)
        .ok_or_else(|| PkiError::InvalidValidity("time out of range".into()))?;
    Asn1Time::from_unix(at).ctx("building a certificate time")
}

/// Random positive serial number of up to 128 bits (A00.FR.508: every certificate has one;
/// random serials keep certificates from the same CA distinguishable).
fn random_serial() -> Result<Asn1Integer> {
    let mut bn = BigNum::new().ctx("allocating a serial number")?;
    loop {
        bn.rand(128, MsbOption::MAYBE_ZERO, false)
            .ctx("generating a serial number")?;
        if bn.num_bits() > 0 {
            break;
        }
    }
    bn.to_asn1_integer().ctx("encoding a serial number")
}

/// Version 3, random serial, names, key and validity.
fn base_builder<T: HasPublic>(
    subject: &X509NameRef,
    issuer: &X509NameRef,
    key: &PKeyRef<T>,
    not_before: &Asn1TimeRef,
    not_after: &Asn1TimeRef,
) -> Result<X509Builder> {
    let mut builder = X509Builder::new().ctx("creating a certificate")?;
    builder.set_version(2).ctx("setting the version")?;
    let serial = random_serial()?;
    builder
        .set_serial_number(&serial)
        .ctx("setting the serial number")?;
    builder
        .set_subject_name(subject)
        .ctx("setting the subject")?;
    builder.set_issuer_name(issuer).ctx("setting the issuer")?;
    builder.set_pubkey(key).ctx("setting the public key")?;
    builder
        .set_not_before(not_before)
        .ctx("setting notBefore")?;
    builder.set_not_after(not_after).ctx("setting notAfter")?;
    Ok(builder)
}

/// An end-entity certificate issued by `ca`: basicConstraints CA:false, keyUsage suited to the
/// key type, subject and authority key identifiers. Callers add the extendedKeyUsage and sign.
fn leaf_builder<T: HasPublic>(
    ca: &CaMaterial,
    subject: &X509NameRef,
    key: &PKeyRef<T>,
    not_before: &Asn1TimeRef,
    not_after: &Asn1TimeRef,
) -> Result<X509Builder> {
    let mut builder = base_builder(subject, ca.cert.subject_name(), key, not_before, not_after)?;
    let basic = BasicConstraints::new()
        .critical()
        .build()
        .ctx("building basicConstraints")?;
    let mut usage = KeyUsage::new();
    usage.critical().digital_signature();
    if key.id() == Id::RSA {
        // TLS_RSA_* key exchange encrypts the premaster secret to the certificate's key.
        usage.key_encipherment();
    }
    let usage = usage.build().ctx("building keyUsage")?;
    let ctx = builder.x509v3_context(Some(&ca.cert), None);
    let ski = SubjectKeyIdentifier::new()
        .build(&ctx)
        .ctx("building subjectKeyIdentifier")?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(false)
        .build(&ctx)
        .ctx("building authorityKeyIdentifier")?;
    for ext in [basic, usage, ski, aki] {
        builder
            .append_extension(ext)
            .ctx("adding a certificate extension")?;
    }
    Ok(builder)
}
