//! N01 log uploads to unicharge itself, over real HTTP: a GetLog without a remoteLocation
//! carries an upload URL on unicharge's API port, bound to the station and requestId by a keyed
//! token and expiring; the simulated station uploads there (multipart/form-data, PUT, POST);
//! operators list and download the files byte for byte. Refusals: wrong token 403, expired
//! 403, no such GetLog 404, beyond `csms.log_upload_max_bytes` 413 (nothing kept).

#[path = "common/mod.rs"]
mod common;
#[path = "common/fleet.rs"]
mod fleet;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use unicharge_ocpp::v201::{GetLogRequest, GetLogResponse, LogStatusEnumType};
use unicharge_sim::device::{self, Behaviour, Counters, UploadStyle};
use unicharge_sim::Station;

use common::{StationSpec, TestCsms};
use fleet::{boot, eventually, sha256, Api};

const CP: &str = "CP001";
const MAX: u64 = 64 * 1024;

async fn start() -> (TestCsms, Api) {
    let csms = TestCsms::start_with(&[StationSpec::new(CP, 1)], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.csms.log_upload_max_bytes = MAX;
    })
    .await;
    let api = Api::new(&csms);
    (csms, api)
}

/// A log that would trip a careless multipart parser: binary, CRLFs and boundary look-alikes.
fn awkward_log(len: usize) -> Vec<u8> {
    let mut log = Vec::with_capacity(len);
    let mut x: u32 = 0x1234_5678;
    while log.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        match x % 97 {
            0 => log.extend_from_slice(b"\r\n--"),
            1 => log.extend_from_slice(b"\r\n--unicharge-sim-"),
            _ => log.push((x >> 16) as u8),
        }
    }
    log.truncate(len);
    log
}

/// The uploaded files of the station as the API lists them.
async fn log_files(api: &Api) -> Vec<Value> {
    api.get(&format!("stations/{CP}/log-files")).await["logFiles"]
        .as_array()
        .unwrap()
        .clone()
}

/// GetLog without remoteLocation through the API, answered by a hand-driven station (which
/// uploads nothing): the upload URL the station was given.
async fn requested_url(api: &Api, station: &mut Station) -> (i64, String) {
    let path = format!("stations/{CP}/logs");
    let post = api.post(&path, json!({"logType": "DiagnosticsLog"}));
    let answer = async {
        let (id, request) = station.expect_call::<GetLogRequest>().await.unwrap();
        station
            .respond::<GetLogRequest>(
                &id,
                &GetLogResponse {
                    custom_data: None,
                    status: LogStatusEnumType::Accepted,
                    status_info: None,
                    filename: Some("x.log".into()),
                },
            )
            .await
            .unwrap();
        request
    };
    let ((status, body), request) = tokio::join!(post, answer);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["remoteLocation"], request.log.remote_location);
    (request.request_id, request.log.remote_location)
}

#[tokio::test]
async fn log_uploaded_by_the_station_round_trips_byte_for_byte() {
    let (csms, api) = start().await;
    let mut station = boot(&csms, CP, "1.0").await;
    let content = awkward_log(40_000);
    let behaviour = Behaviour {
        log: content.clone(),
        log_name: "diag-2026.log".into(),
        upload: UploadStyle::Multipart,
        ..Behaviour::default()
    };
    let device =
        tokio::spawn(
            async move { device::serve(&mut station, &behaviour, &Counters::default()).await },
        );
    let (status, body) = api
        .post(
            &format!("stations/{CP}/logs"),
            json!({"logType": "DiagnosticsLog"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let request_id = body["requestId"].as_i64().unwrap();
    let location = body["remoteLocation"].as_str().unwrap();
    let base = &api.base;
    assert!(
        location.starts_with(&format!("{base}/files/logs/{CP}/{request_id}/")),
        "{location}"
    );
    // The station reports Uploaded once unicharge answered its upload 2xx.
    let api_ref = &api;
    let log = eventually(
        Duration::from_secs(10),
        "LogStatusNotification Uploaded",
        || async move {
            let log = api_ref
                .get(&format!("stations/{CP}/logs/{request_id}"))
                .await;
            (log["status"] == "Uploaded").then_some(log)
        },
    )
    .await;
    assert_eq!(log["complete"], true, "{log}");
    let files = log_files(&api).await;
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    assert_eq!(file["requestId"], request_id);
    assert_eq!(file["stationId"], CP);
    assert_eq!(file["filename"], "diag-2026.log");
    assert_eq!(file["size"], content.len());
    assert_eq!(file["sha256"], sha256(&content));
    let id = file["id"].as_i64().unwrap();
    assert_eq!(
        api.get(&format!("log-files/{id}")).await["sha256"],
        sha256(&content)
    );
    let (status, bytes) = api.bytes(&format!("log-files/{id}/content")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        bytes == content,
        "downloaded log differs from the uploaded one"
    );
    // Kept privately under the data directory.
    let dir = csms.dir.path().join(format!("data/files/logs/{CP}"));
    let kept: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(std::fs::read(&kept[0]).unwrap() == content);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "log file mode {mode:o}");
    }
    device.abort();
}

#[tokio::test]
async fn log_uploaded_as_put_and_post_bodies() {
    let (csms, api) = start().await;
    let mut station = boot(&csms, CP, "1.0").await;
    let http = reqwest::Client::new();
    let (_, url) = requested_url(&api, &mut station).await;
    let a = awkward_log(10_000);
    let b = awkward_log(7);
    let put = device::upload_log(&http, &url, "a", &a, UploadStyle::Put)
        .await
        .unwrap();
    assert_eq!(put, 201);
    // Some stations append the file name to the URL.
    let named = format!("{url}/station-b.log");
    let post = device::upload_log(&http, &named, "b", &b, UploadStyle::Post)
        .await
        .unwrap();
    assert_eq!(post, 201);
    let files = log_files(&api).await;
    assert_eq!(files.len(), 2, "{files:?}");
    // Newest first.
    assert_eq!(files[0]["sha256"], sha256(&b));
    assert_eq!(files[0]["filename"], "station-b.log");
    assert_eq!(files[1]["sha256"], sha256(&a));
    for (file, content) in [(&files[0], &b), (&files[1], &a)] {
        let id = file["id"].as_i64().unwrap();
        let (_, bytes) = api.bytes(&format!("log-files/{id}/content")).await;
        assert!(&bytes == content);
    }
}

#[tokio::test]
async fn log_upload_refused_with_a_wrong_or_expired_token_without_a_get_log_or_too_large() {
    let (csms, api) = start().await;
    let mut station = boot(&csms, CP, "1.0").await;
    let http = reqwest::Client::new();
    let (request_id, url) = requested_url(&api, &mut station).await;
    let small = b"fine".to_vec();
    // Wrong token: the last character changed.
    let mut wrong = url.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    let code = device::upload_log(&http, &wrong, "x", &small, UploadStyle::Put)
        .await
        .unwrap();
    assert_eq!(code, 403, "wrong token");
    // Another station's path with this token.
    let other = url.replacen(&format!("/{CP}/"), "/CP002/", 1);
    let code = device::upload_log(&http, &other, "x", &small, UploadStyle::Put)
        .await
        .unwrap();
    assert_eq!(code, 403, "token of another station");
    let files = csms.server.handle().files().unwrap();
    // Expired: a correctly keyed URL whose validity ended a second ago.
    let expired = unicharge_csms::diagnostics::log_upload::upload_url(
        files,
        CP,
        request_id,
        chrono::Utc::now() - chrono::Duration::seconds(1),
    )
    .unwrap();
    let code = device::upload_log(&http, &expired, "x", &small, UploadStyle::Put)
        .await
        .unwrap();
    assert_eq!(code, 403, "expired");
    // A correctly keyed URL for a requestId no GetLog was sent under.
    let unrequested = unicharge_csms::diagnostics::log_upload::upload_url(
        files,
        CP,
        request_id + 40,
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .unwrap();
    let code = device::upload_log(&http, &unrequested, "x", &small, UploadStyle::Put)
        .await
        .unwrap();
    assert_eq!(code, 404, "no GetLog");
    // Too large, as a body with Content-Length and as a multipart form.
    let big = awkward_log(MAX as usize + 1);
    for style in [UploadStyle::Put, UploadStyle::Multipart] {
        let code = device::upload_log(&http, &url, "big", &big, style)
            .await
            .unwrap();
        assert_eq!(code, 413, "{style:?} beyond the limit");
    }
    // Too large without a Content-Length (chunked): refused while streaming.
    assert_eq!(
        chunked_put(&url, &big).await,
        413,
        "chunked beyond the limit"
    );
    // Exactly at the limit is fine.
    let full = awkward_log(MAX as usize);
    let code = device::upload_log(&http, &url, "full", &full, UploadStyle::Multipart)
        .await
        .unwrap();
    assert_eq!(code, 201);
    let kept = log_files(&api).await;
    assert_eq!(kept.len(), 1, "only the accepted upload is kept: {kept:?}");
    assert_eq!(kept[0]["sha256"], sha256(&full));
    // No partial files left behind.
    let dir = csms.dir.path().join(format!("data/files/logs/{CP}"));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(!names[0].ends_with(".part"));
}

/// PUT `content` with `Transfer-Encoding: chunked` (no Content-Length) over a plain TCP
/// connection; the HTTP status answered.
async fn chunked_put(url: &str, content: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    for chunk in content.chunks(8192) {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if tcp.write_all(&frame).await.is_err() {
            break; // the server may answer and close before all is sent
        }
    }
    let _ = tcp.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}
