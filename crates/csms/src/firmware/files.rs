//! Firmware files unicharge serves itself (L01 with a location of its own).
//!
//! A file is stored once, content-addressed by its SHA-256 (`<files_dir>/firmware/<sha256>`,
//! with a `.json` of its metadata written next to it), with its MD5 (what PublishFirmware
//! carries) and — when a firmware-signing key is configured — its signature (SHA-256 with the
//! key, Base64), which secure updates send as `firmware.signature`.
//!
//! A station downloads it from a per-request URL: `<public base>/files/firmware/<sha256>/
//! <station>/<requestId>/<token>`, where the token is an HMAC of the other parts under a key
//! kept in `<files_dir>/transfer.key`. Only the station the update was sent to, for that
//! request, gets a working URL; no table of tokens is needed, and tokens survive restarts.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine;
use chrono::{DateTime, Utc};
use openssl::hash::{hash, MessageDigest};
use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde::{Deserialize, Serialize};

use crate::request::OpError;

/// A firmware file kept by unicharge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirmwareFile {
    /// Hex SHA-256 of the content: the file's id.
    pub sha256: String,
    /// Hex MD5 (PublishFirmware's checksum).
    pub md5: String,
    pub size: u64,
    /// The name the operator gave it.
    pub name: String,
    /// Base64 signature with the configured firmware-signing key, if one is configured.
    pub signature: Option<String>,
    pub stored_at: DateTime<Utc>,
}

/// Where files live, the token key and the URL stations reach them under.
pub struct Files {
    dir: PathBuf,
    key: Vec<u8>,
    public_base: OnceLock<String>,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> OpError {
    OpError::Store(format!("{what} {}: {e}", path.display()))
}

fn hex_ok(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Files {
    /// Open (creating) `dir` and its token key.
    pub fn open(dir: &Path) -> anyhow::Result<Files> {
        std::fs::create_dir_all(dir.join("firmware"))?;
        let key_path = dir.join("transfer.key");
        let key = match std::fs::read(&key_path) {
            Ok(k) if k.len() >= 32 => k,
            _ => {
                let mut k = vec![0u8; 32];
                openssl::rand::rand_bytes(&mut k)?;
                std::fs::write(&key_path, &k)?;
                k
            }
        };
        Ok(Files {
            dir: dir.to_path_buf(),
            key,
            public_base: OnceLock::new(),
        })
    }

    /// The base URL stations reach the HTTP server under (`http://host:port`); set once.
    pub fn set_public_base(&self, base: String) {
        let _ = self.public_base.set(base.trim_end_matches('/').to_string());
    }

    pub fn public_base(&self) -> Result<&str, OpError> {
        self.public_base.get().map(String::as_str).ok_or_else(|| {
            OpError::refused(
                "files_not_served",
                "unicharge serves files over its HTTP listener: enable [http] listen (and set \
                 csms.files_public_url to the address stations reach it under)",
            )
        })
    }

    pub(crate) fn token(&self, parts: &[&str]) -> String {
        let key = PKey::hmac(&self.key).expect("an HMAC key");
        let mut signer = Signer::new(MessageDigest::sha256(), &key).expect("an HMAC signer");
        signer
            .update(parts.join("\n").as_bytes())
            .expect("HMAC update");
        let mac = signer.sign_to_vec().expect("HMAC");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac[..18])
    }

    /// Constant-time check of a token.
    pub fn check_token(&self, parts: &[&str], token: &str) -> bool {
        let expected = self.token(parts);
        expected.len() == token.len() && openssl::memcmp::eq(expected.as_bytes(), token.as_bytes())
    }

    /// Store `content` as a firmware file named `name`, signed with `signing_key` (PEM) if
    /// given. Durable (fsynced) before it returns.
    pub fn put_firmware(
        &self,
        name: &str,
        content: &[u8],
        signing_key: Option<&Path>,
    ) -> Result<FirmwareFile, OpError> {
        let sha256 = hex::encode(hash(MessageDigest::sha256(), content).map_err(crypto)?);
        let md5 = hex::encode(hash(MessageDigest::md5(), content).map_err(crypto)?);
        let signature = match signing_key {
            Some(path) => Some(sign(path, content)?),
            None => None,
        };
        let file = FirmwareFile {
            sha256: sha256.clone(),
            md5,
            size: content.len() as u64,
            name: name.to_string(),
            signature,
            stored_at: Utc::now(),
        };
        let path = self.firmware_path(&sha256);
        write_durably(&path, content)?;
        let meta = serde_json::to_vec(&file).map_err(|e| OpError::Store(e.to_string()))?;
        write_durably(&path.with_extension("json"), &meta)?;
        Ok(file)
    }

    /// The files directory (firmware, uploaded logs, the token key).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn firmware_path(&self, sha256: &str) -> PathBuf {
        self.dir.join("firmware").join(sha256)
    }

    /// A stored firmware file and where its content is.
    pub fn firmware(&self, sha256: &str) -> Result<Option<(FirmwareFile, PathBuf)>, OpError> {
        if !hex_ok(sha256) {
            return Ok(None);
        }
        let path = self.firmware_path(&sha256.to_ascii_lowercase());
        let meta = match std::fs::read(path.with_extension("json")) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("cannot read", &path, e)),
        };
        let file = serde_json::from_slice(&meta).map_err(|e| OpError::Store(e.to_string()))?;
        Ok(Some((file, path)))
    }

    /// Every stored firmware file, newest first.
    pub fn firmware_files(&self) -> Result<Vec<FirmwareFile>, OpError> {
        let dir = self.dir.join("firmware");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| io("cannot list", &dir, e))? {
            let path = entry.map_err(|e| io("cannot list", &dir, e))?.path();
            if path.extension().is_some_and(|x| x == "json") {
                if let Ok(meta) = std::fs::read(&path) {
                    if let Ok(f) = serde_json::from_slice::<FirmwareFile>(&meta) {
                        files.push(f);
                    }
                }
            }
        }
        files.sort_by_key(|f| std::cmp::Reverse(f.stored_at));
        Ok(files)
    }

    /// The URL `station` downloads `sha256` from for update `request_id`.
    pub fn firmware_url(
        &self,
        sha256: &str,
        station: &str,
        request_id: i64,
    ) -> Result<String, OpError> {
        let base = self.public_base()?;
        let id = request_id.to_string();
        let token = self.token(&["firmware", sha256, station, &id]);
        Ok(format!(
            "{base}/files/firmware/{sha256}/{station}/{request_id}/{token}"
        ))
    }

    /// Whether a download URL's token is the one issued for these parts.
    pub fn firmware_token_ok(
        &self,
        sha256: &str,
        station: &str,
        request_id: i64,
        token: &str,
    ) -> bool {
        let id = request_id.to_string();
        self.check_token(&["firmware", sha256, station, &id], token)
    }
}

fn crypto(e: openssl::error::ErrorStack) -> OpError {
    OpError::Store(format!("crypto: {e}"))
}

/// Base64 signature of `content` with the PEM private key at `path` (SHA-256; ECDSA or RSA
/// PKCS#1 v1.5 as the key's type says).
pub fn sign(path: &Path, content: &[u8]) -> Result<String, OpError> {
    let pem = std::fs::read(path).map_err(|e| {
        OpError::refused(
            "firmware_signing_key_unreadable",
            format!(
                "the firmware-signing key {} cannot be read ({e}); fix csms.firmware_signing_key",
                path.display()
            ),
        )
    })?;
    let key = PKey::private_key_from_pem(&pem).map_err(|e| {
        OpError::refused(
            "firmware_signing_key_invalid",
            format!(
                "{} is not a PEM private key ({e}); fix csms.firmware_signing_key",
                path.display()
            ),
        )
    })?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key).map_err(crypto)?;
    signer.update(content).map_err(crypto)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().map_err(crypto)?))
}

fn write_durably(path: &Path, content: &[u8]) -> Result<(), OpError> {
    let tmp = path.with_extension("part");
    let mut f = std::fs::File::create(&tmp).map_err(|e| io("cannot create", &tmp, e))?;
    f.write_all(content)
        .and_then(|_| f.sync_all())
        .map_err(|e| io("cannot write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("cannot rename", &tmp, e))
}
