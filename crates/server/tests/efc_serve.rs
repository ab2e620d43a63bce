//! `unicharge serve` runs the ISO 17575-1 back end: a front end reaches it over both bearers and
//! its report is in the same store as everything else.

mod common;

use unicharge_sim::efc::{Bearer, Client, FrontEnd};

#[tokio::test]
async fn efc_back_end_answers_over_tcp_and_http_from_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::test_settings(dir.path());
    settings.csms.wss_listen = None;
    settings.http.listen = Some("127.0.0.1:0".parse().unwrap());
    let server = unicharge_server::start(settings).await.unwrap();
    let tcp = server
        .efc_listeners
        .tcp_addr
        .expect("EFC TCP listener on by default");
    let http = server
        .efc_listeners
        .http_addr
        .expect("EFC HTTP listener on by default");

    let mut fe = FrontEnd::new(5, b"SERVE-1", 3);
    let mut c = Client::connect(&Bearer::Tcp(tcp)).await.unwrap();
    let (r1, crr1) = fe.report(&mut c, chrono::Utc::now()).await.unwrap();
    assert_eq!(crr1.obe_status_for_driver, Some(0));
    let mut h = Client::connect(&Bearer::Http(format!("http://{http}")))
        .await
        .unwrap();
    let (r2, crr2) = fe.report(&mut h, chrono::Utc::now()).await.unwrap();
    assert_eq!(crr2.obe_status_for_driver, Some(0));

    let stored = server
        .store
        .efc_reports(Some(&fe.obe_key()), 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].counter, r1.charge_report_counter);
    assert_eq!(stored[0].counter, r2.charge_report_counter);
    assert_eq!(stored[0].charge_records.len(), 1);

    // The operator API lists them, newest first, frames as hex.
    let admin = server
        .initial_admin_key
        .clone()
        .expect("admin key on first start");
    let url = format!(
        "http://{}/api/v1/efc/reports?obeKey={}",
        server.http_addr.unwrap(),
        fe.obe_key()
    );
    let body: serde_json::Value = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reports = body["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(
        reports[0]["counter"],
        serde_json::json!(r2.charge_report_counter.unwrap())
    );
    assert_eq!(
        reports[0]["request"].as_str().unwrap(),
        hex_of(&fe.frame(&r2))
    );
    server.shutdown().await;
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
