//! The V2G sub-CA that signs the stations' SECC certificates (A02/A03 with `certificateType`
//! V2GCertificate): the certificate a station presents to the EV as TLS server of the
//! ISO 15118-2 link.
//!
//! ISO 15118-2's V2G PKI is V2G root → CPO sub-CA 1 → CPO sub-CA 2 → SECC leaf, all ECDSA on
//! secp256r1 with SHA-256 (ISO 15118-2 Annex F). The CSMS holds the last sub-CA's key: the
//! configured chain file lists that sub-CA first, then the sub-CAs above it (the root is not
//! sent; the EV has it). The leaf copies only the CSR's subject and key; its extensions are the
//! CSMS's: basicConstraints CA:false, keyUsage digitalSignature + keyAgreement (critical, the
//! ECDH(E) of the 15118 TLS handshake and the signatures of the SECC), extendedKeyUsage
//! serverAuth (the SECC is the TLS server), key identifiers.
//!
//! [`generate_test_pki`] makes a complete test V2G PKI (root and two sub-CAs) for benches and
//! tests; `unicharge pki v2g-test-ca` writes it to files. Nothing loads it unless configured.

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKey, PKeyRef, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Name, X509NameRef, X509Ref, X509Req, X509};

use crate::security::pki;

/// ISO 15118-2 Annex F: SECC certificates are short-lived (the RISE-V2G and EVerest test PKIs
/// use 60 days); renewing is cheap (A02 by TriggerMessage SignV2GCertificate).
pub const DEFAULT_SECC_DAYS: u32 = 60;
/// Longest subject attribute ISO 15118-2 allows in a certificate (X.520 upper bound 64).
const MAX_NAME_LEN: usize = 64;
/// Certificates are backdated by an hour: an EV's clock may run a little behind.
const BACKDATE_SECS: i64 = 3600;

/// Why a V2G sub-CA could not be loaded. Each message names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    #[error(
        "{} is readable by others (mode {mode:o}); the V2G sub-CA key must be 0600: \
         run `chmod 600 {}`",
        path.display(), path.display()
    )]
    KeyReadableByOthers { path: PathBuf, mode: u32 },
    #[error(
        "{} starts with a certificate that is not a CA (basicConstraints CA:true and keyUsage \
         keyCertSign needed); list the V2G sub-CA whose key signs first, then the sub-CAs above it",
        path.display()
    )]
    NotACa { path: PathBuf },
    #[error("{} holds an {found} key; ISO 15118-2 V2G CAs use ECDSA on secp256r1", path.display())]
    NotP256 { path: PathBuf, found: String },
}

/// Why a V2G CSR is refused. `reason_code` is what SignCertificateResponse.statusInfo carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrError {
    #[error("CSR is not a PEM PKCS#10 certificate signing request")]
    Malformed,
    #[error("CSR signature does not verify with the CSR's own public key")]
    BadSignature,
    #[error("CSR key is {0}; ISO 15118-2 SECC certificates use an EC key on secp256r1")]
    NotP256(String),
    #[error("CSR subject: {0}")]
    Subject(String),
    #[error(
        "CSR commonName {cn:?} is not this station's SECC id ({expected}); the station signs \
         only its own SECC certificate"
    )]
    NotThisStation { cn: String, expected: String },
}

impl CsrError {
    /// OCPP `statusInfo.reasonCode` (≤ 20 characters).
    pub fn reason_code(&self) -> &'static str {
        match self {
            CsrError::Malformed => "InvalidCSR",
            CsrError::BadSignature => "InvalidSignature",
            CsrError::NotP256(_) => "InvalidKey",
            CsrError::Subject(_) => "InvalidSubject",
            CsrError::NotThisStation { .. } => "InvalidCommonName",
        }
    }
}

/// The configured V2G sub-CA: its key, and the chain sent with every SECC certificate.
pub struct V2gSubCa {
    /// Sub-CA whose key signs first, then the sub-CAs above it (never the root).
    pub chain: Vec<X509>,
    key: PKey<Private>,
    /// Validity of the SECC certificates issued, in days.
    pub days: u32,
}

impl std::fmt::Debug for V2gSubCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V2gSubCa")
            .field("subject", &pki::common_name(self.chain[0].subject_name()))
            .field("days", &self.days)
            .finish_non_exhaustive()
    }
}

/// Refuses a key file others can read (unix): the sub-CA key signs certificates EVs trust.
fn check_key_mode(path: &Path) -> Result<(), LoadError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(path).map_err(|source| pki::PkiError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(LoadError::KeyReadableByOthers {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn is_ca(cert: &X509Ref) -> bool {
    // The openssl crate exposes keyUsage but not basicConstraints' cA flag; OpenSSL's text
    // form of the extensions shows it.
    let signs = cert
        .key_usage()
        .is_some_and(|k| k.contains(openssl::x509::X509KeyUsage::KEY_CERT_SIGN));
    let text = cert.to_text().unwrap_or_default();
    signs && String::from_utf8_lossy(&text).contains("CA:TRUE")
}

fn is_p256<T: HasPublic>(key: &PKeyRef<T>) -> Result<(), String> {
    if key.id() != Id::EC {
        return Err(format!("{:?}", key.id()));
    }
    let curve = key.ec_key().ok().and_then(|ec| ec.group().curve_name());
    if curve != Some(Nid::X9_62_PRIME256V1) {
        let name = curve
            .and_then(|n| n.short_name().ok())
            .unwrap_or("an unnamed curve");
        return Err(format!("EC on {name}"));
    }
    Ok(())
}

impl V2gSubCa {
    /// Loads the chain (PEM, signing sub-CA first) and its key (PEM, mode 0600).
    pub fn load(chain_path: &Path, key_path: &Path, days: u32) -> Result<Self, LoadError> {
        check_key_mode(key_path)?;
        let chain = pki::read_certificates(chain_path)?;
        let key = pki::read_private_key(key_path)?;
        pki::ensure_key_matches(&chain[0], &key, chain_path, key_path)?;
        if !is_ca(&chain[0]) {
            return Err(LoadError::NotACa {
                path: chain_path.to_owned(),
            });
        }
        is_p256(&key).map_err(|found| LoadError::NotP256 {
            path: key_path.to_owned(),
            found,
        })?;
        Ok(V2gSubCa {
            chain,
            key,
            days: days.max(1),
        })
    }

    /// From material in memory (tests, the test PKI).
    pub fn from_parts(chain: Vec<X509>, key: PKey<Private>, days: u32) -> Self {
        V2gSubCa {
            chain,
            key,
            days: days.max(1),
        }
    }

    /// Checks a SECC CSR and signs it. `secc_ids`: the commonNames this station may ask for
    /// (its `ISO15118Ctrlr.SeccId` if it reported one, else its station id).
    pub fn sign(&self, csr_pem: &str, secc_ids: &[String]) -> Result<X509, CsrError> {
        let req = X509Req::from_pem(csr_pem.as_bytes()).map_err(|_| CsrError::Malformed)?;
        let public = req.public_key().map_err(|_| CsrError::Malformed)?;
        if !req.verify(&public).unwrap_or(false) {
            return Err(CsrError::BadSignature);
        }
        is_p256(&public).map_err(CsrError::NotP256)?;
        let cn = check_subject(req.subject_name())?;
        if !secc_ids.iter().any(|id| id.eq_ignore_ascii_case(&cn)) {
            return Err(CsrError::NotThisStation {
                cn,
                expected: secc_ids.join(" or "),
            });
        }
        self.issue(req.subject_name(), &public)
            .map_err(|e| CsrError::Subject(format!("could not be signed: {e}")))
    }

    fn issue<T: HasPublic>(&self, subject: &X509NameRef, key: &PKeyRef<T>) -> Result<X509, String> {
        let issuer = &self.chain[0];
        let mut b = builder(subject, issuer.subject_name(), key, i64::from(self.days))?;
        let ctx = b.x509v3_context(Some(issuer), None);
        let exts = [
            BasicConstraints::new().critical().build(),
            KeyUsage::new()
                .critical()
                .digital_signature()
                .key_agreement()
                .build(),
            ExtendedKeyUsage::new().server_auth().build(),
            SubjectKeyIdentifier::new().build(&ctx),
            AuthorityKeyIdentifier::new().keyid(true).build(&ctx),
        ];
        for ext in exts {
            b.append_extension(ext.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        }
        b.sign(&self.key, MessageDigest::sha256())
            .map_err(|e| e.to_string())?;
        Ok(b.build())
    }

    /// The PEM sent in CertificateSignedRequest: the leaf, then the sub-CA chain.
    pub fn chain_pem(&self, leaf: &X509Ref) -> Result<String, String> {
        let mut pem = Vec::new();
        for cert in std::iter::once(leaf).chain(self.chain.iter().map(|c| &**c)) {
            pem.extend(cert.to_pem().map_err(|e| e.to_string())?);
        }
        String::from_utf8(pem).map_err(|e| e.to_string())
    }
}

/// The subject ISO 15118-2 asks of a SECC certificate: exactly one non-empty commonName (the
/// SECC id) and an organizationName (the CPO), each at most 64 printable characters.
fn check_subject(name: &X509NameRef) -> Result<String, CsrError> {
    let cn = pki::common_name(name)
        .ok_or_else(|| CsrError::Subject("exactly one non-empty commonName is needed".into()))?;
    let mut orgs = name.entries_by_nid(Nid::ORGANIZATIONNAME);
    let org = orgs
        .next()
        .and_then(|o| o.data().to_string().ok())
        .ok_or_else(|| CsrError::Subject("organizationName (the CPO) is missing".into()))?;
    if orgs.next().is_some() {
        return Err(CsrError::Subject("more than one organizationName".into()));
    }
    for (what, value) in [("commonName", &cn), ("organizationName", &org)] {
        if value.trim().is_empty()
            || value.chars().count() > MAX_NAME_LEN
            || value.chars().any(char::is_control)
        {
            return Err(CsrError::Subject(format!(
                "{what} must be 1 to {MAX_NAME_LEN} printable characters"
            )));
        }
    }
    Ok(cn)
}

fn random_serial() -> Result<openssl::asn1::Asn1Integer, String> {
    let mut bn = BigNum::new().map_err(|e| e.to_string())?;
    bn.rand(127, MsbOption::ONE, false)
        .map_err(|e| e.to_string())?;
    bn.to_asn1_integer().map_err(|e| e.to_string())
}

fn builder<T: HasPublic>(
    subject: &X509NameRef,
    issuer: &X509NameRef,
    key: &PKeyRef<T>,
    days: i64,
) -> Result<X509Builder, String> {
    let e = |e: openssl::error::ErrorStack| e.to_string();
    let now = chrono::Utc::now().timestamp();
    let mut b = X509Builder::new().map_err(e)?;
    b.set_version(2).map_err(e)?;
    let serial = random_serial()?;
    b.set_serial_number(&serial).map_err(e)?;
    b.set_subject_name(subject).map_err(e)?;
    b.set_issuer_name(issuer).map_err(e)?;
    b.set_pubkey(key).map_err(e)?;
    let not_before = Asn1Time::from_unix(now - BACKDATE_SECS).map_err(e)?;
    let not_after = Asn1Time::from_unix(now + days * 86_400).map_err(e)?;
    b.set_not_before(&not_before).map_err(e)?;
    b.set_not_after(&not_after).map_err(e)?;
    Ok(b)
}

/// A test V2G PKI (ISO 15118-2 shape): root, CPO sub-CA 1, CPO sub-CA 2, all P-256.
pub struct TestV2gPki {
    pub root: X509,
    /// Sub-CA 2 (signs SECC certificates), then sub-CA 1.
    pub sub_cas: Vec<X509>,
    /// Sub-CA 2's key.
    pub sub_ca_key: PKey<Private>,
}

fn p256() -> Result<PKey<Private>, String> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(|e| e.to_string())?;
    EcKey::generate(&group)
        .and_then(PKey::from_ec_key)
        .map_err(|e| e.to_string())
}

fn v2g_name(cn: &str, org: &str) -> Result<X509Name, String> {
    let mut n = X509Name::builder().map_err(|e| e.to_string())?;
    for (nid, v) in [
        (Nid::COMMONNAME, cn),
        (Nid::ORGANIZATIONNAME, org),
        (Nid::COUNTRYNAME, "DE"),
        (Nid::DOMAINCOMPONENT, "V2G"),
    ] {
        n.append_entry_by_nid(nid, v).map_err(|e| e.to_string())?;
    }
    Ok(n.build())
}

/// One CA certificate: `issuer` None makes it self-signed (the root).
fn ca_cert(
    name: &X509NameRef,
    key: &PKey<Private>,
    issuer: Option<(&X509Ref, &PKey<Private>)>,
    path_len: u32,
    days: i64,
) -> Result<X509, String> {
    let issuer_name = issuer.map_or(name, |(c, _)| c.subject_name());
    let mut b = builder(name, issuer_name, key, days)?;
    let ctx = b.x509v3_context(issuer.map(|(c, _)| c), None);
    let mut exts = vec![
        BasicConstraints::new()
            .critical()
            .ca()
            .pathlen(path_len)
            .build(),
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build(),
        SubjectKeyIdentifier::new().build(&ctx),
    ];
    if issuer.is_some() {
        exts.push(AuthorityKeyIdentifier::new().keyid(true).build(&ctx));
    }
    for ext in exts {
        b.append_extension(ext.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let signer = issuer.map_or(key, |(_, k)| k);
    b.sign(signer, MessageDigest::sha256())
        .map_err(|e| e.to_string())?;
    Ok(b.build())
}

/// Generates a test V2G PKI: root (40 years in ISO 15118-2; here `days`), sub-CA 1, sub-CA 2.
/// For tests and labs only: EVs trust no root made this way.
pub fn generate_test_pki(org: &str, days: u32) -> Result<TestV2gPki, String> {
    let days = i64::from(days.max(1));
    let root_key = p256()?;
    let root = ca_cert(
        &*v2g_name("unicharge TEST V2G Root CA", org)?,
        &root_key,
        None,
        2,
        days,
    )?;
    let sub1_key = p256()?;
    let sub1 = ca_cert(
        &*v2g_name("unicharge TEST CPO Sub-CA 1", org)?,
        &sub1_key,
        Some((&*root, &root_key)),
        1,
        days,
    )?;
    let sub2_key = p256()?;
    let sub2 = ca_cert(
        &*v2g_name("unicharge TEST CPO Sub-CA 2", org)?,
        &sub2_key,
        Some((&*sub1, &sub1_key)),
        0,
        days,
    )?;
    Ok(TestV2gPki {
        root,
        sub_cas: vec![sub2, sub1],
        sub_ca_key: sub2_key,
    })
}

/// Files written by [`write_test_pki`].
pub struct TestPkiFiles {
    pub root: PathBuf,
    pub sub_ca_chain: PathBuf,
    pub sub_ca_key: PathBuf,
}

/// Writes a test PKI to `dir`: `v2g-root.pem`, `v2g-sub-ca-chain.pem` (sub-CA 2, sub-CA 1),
/// `v2g-sub-ca.key.pem` (mode 0600). Existing files are not overwritten.
pub fn write_test_pki(dir: &Path, pki: &TestV2gPki) -> Result<TestPkiFiles, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let files = TestPkiFiles {
        root: dir.join("v2g-root.pem"),
        sub_ca_chain: dir.join("v2g-sub-ca-chain.pem"),
        sub_ca_key: dir.join("v2g-sub-ca.key.pem"),
    };
    for p in [&files.root, &files.sub_ca_chain, &files.sub_ca_key] {
        if p.exists() {
            return Err(format!(
                "{} exists; choose an empty directory (test PKIs are never overwritten)",
                p.display()
            ));
        }
    }
    let mut chain = Vec::new();
    for c in &pki.sub_cas {
        chain.extend(c.to_pem().map_err(|e| e.to_string())?);
    }
    let key = pki
        .sub_ca_key
        .private_key_to_pem_pkcs8()
        .map_err(|e| e.to_string())?;
    let root = pki.root.to_pem().map_err(|e| e.to_string())?;
    for (path, pem, private) in [
        (&files.root, &root, false),
        (&files.sub_ca_chain, &chain, false),
        (&files.sub_ca_key, &key, true),
    ] {
        pki::write_pem(path, pem, private).map_err(|e| e.to_string())?;
    }
    Ok(files)
}
