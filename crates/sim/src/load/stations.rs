//! Which stations a run plays and how each connects: ids and Basic passwords (numbered ids with
//! one password, or a credentials CSV), the endpoint, and the security profile — through the
//! simulator's own [`Target::options`], so load stations connect exactly as the OCTT cases do.

use std::path::PathBuf;
use std::time::Duration;

use crate::octt::Target;
use crate::station::ConnectOptions;

/// One station's id and Basic password (profiles 1 and 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationCredentials {
    pub id: String,
    pub password: Option<String>,
}

/// `PREFIX0 … PREFIX{n-1}`, all with `password`.
pub fn numbered(prefix: &str, n: usize, password: Option<&str>) -> Vec<StationCredentials> {
    (0..n)
        .map(|i| StationCredentials {
            id: format!("{prefix}{i}"),
            password: password.map(str::to_string),
        })
        .collect()
}

/// The header a credentials file starts with.
pub const CSV_HEADER: &str = "station_id,password";

/// Why a credentials file was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("the first line must be `{CSV_HEADER}`, not {0:?}")]
    Header(String),
    #[error("line {0}: expected `station_id,password`")]
    Row(usize),
}

/// Parse a credentials file: the header `station_id,password`, then one station per line. The
/// password is everything after the first comma (station ids cannot hold one); a password in
/// double quotes is unquoted (`""` inside stands for `"`). Blank lines are skipped.
pub fn parse_csv(text: &str) -> Result<Vec<StationCredentials>, CredentialsError> {
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l.trim()).unwrap_or_default();
    if header != CSV_HEADER {
        return Err(CredentialsError::Header(header.chars().take(60).collect()));
    }
    let mut stations = Vec::new();
    for (n, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (id, password) = line.split_once(',').ok_or(CredentialsError::Row(n + 1))?;
        let id = id.trim();
        if id.is_empty() || password.is_empty() {
            return Err(CredentialsError::Row(n + 1));
        }
        let password = match password.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
            Some(quoted) => quoted.replace("\"\"", "\""),
            None => password.to_string(),
        };
        stations.push(StationCredentials {
            id: id.to_string(),
            password: Some(password),
        });
    }
    Ok(stations)
}

/// Where and how the stations connect.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `ws://host:port/ocpp` (profile 1).
    pub ws_url: Option<String>,
    /// `wss://host:port/ocpp` (profiles 2 and 3).
    pub wss_url: Option<String>,
    /// 1: ws + Basic, 2: wss + Basic, 3: wss + client certificate.
    pub profile: u8,
    /// CA of the CSMS's server certificate (wss); none: not verified.
    pub ca: Option<PathBuf>,
    /// Profile 3: folder with `<id>.pem` and `<id>.key.pem` per station, as
    /// `unicharge station issue-cert <id> --out DIR` writes them.
    pub cert_dir: Option<PathBuf>,
    /// Connect and answer timeout.
    pub timeout: Duration,
}

impl Endpoint {
    /// The OCTT target for this station (used for its connect options and BootNotification).
    pub fn target(&self, station: &StationCredentials) -> Target {
        let mut t = Target::new(station.id.clone());
        t.ws_url = self.ws_url.clone();
        t.wss_url = self.wss_url.clone();
        t.password = station.password.clone();
        t.security_profile = self.profile;
        t.ca = self.ca.clone();
        t.client_cert = self.cert_dir.as_ref().map(|dir| {
            (
                dir.join(format!("{}.pem", station.id)),
                dir.join(format!("{}.key.pem", station.id)),
            )
        });
        t.timeout = self.timeout;
        t
    }

    /// Connect options for this station at the endpoint's profile.
    pub fn options(&self, station: &StationCredentials) -> Result<ConnectOptions, String> {
        self.target(station)
            .options(self.profile)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credentials_file_gives_one_station_per_row() {
        let text =
            "station_id,password\nCP1,secret-one-0000000\r\n\nCP2,\"with,comma \"\"q\"\"\"\n";
        let stations = parse_csv(text).unwrap();
        assert_eq!(
            stations,
            [
                StationCredentials {
                    id: "CP1".into(),
                    password: Some("secret-one-0000000".into())
                },
                StationCredentials {
                    id: "CP2".into(),
                    password: Some("with,comma \"q\"".into())
                },
            ]
        );
    }

    #[test]
    fn a_file_without_the_header_or_with_a_bad_row_is_refused() {
        assert!(matches!(
            parse_csv("CP1,pw\n"),
            Err(CredentialsError::Header(_))
        ));
        assert_eq!(
            parse_csv("station_id,password\nCP1\n"),
            Err(CredentialsError::Row(2))
        );
    }

    #[test]
    fn profile_3_takes_the_certificate_named_after_the_station() {
        let endpoint = Endpoint {
            ws_url: None,
            wss_url: Some("wss://localhost:8443/ocpp".into()),
            profile: 3,
            ca: None,
            cert_dir: Some("/certs".into()),
            timeout: Duration::from_secs(1),
        };
        let station = StationCredentials {
            id: "CP7".into(),
            password: None,
        };
        let options = endpoint.options(&station).unwrap();
        assert_eq!(options.url, "wss://localhost:8443/ocpp/CP7");
        assert_eq!(
            options.tls.client_cert,
            Some(("/certs/CP7.pem".into(), "/certs/CP7.key.pem".into()))
        );
        assert!(options.basic.is_none());
    }
}
