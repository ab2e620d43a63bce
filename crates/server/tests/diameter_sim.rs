//! `unicharge-sim diameter tps` and `diameter load` against `unicharge serve`'s CDF over real
//! TCP: every CTF-role TP the sim plays passes, and the load run's ACRs all end durable.

mod common;

use unicharge_sim::diameter::{load, tps, DiameterLoadArgs, DiameterTpsArgs};

#[tokio::test]
async fn the_sim_plays_the_ctf_tps_and_a_short_load_against_our_cdf() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::test_settings(dir.path());
    s.diameter.listen = Some("127.0.0.1:0".parse().unwrap());
    let server = unicharge_server::start(s).await.unwrap();
    let cdf = server.diameter.as_ref().unwrap().addr;
    let status = tps(DiameterTpsArgs {
        cdf,
        origin_host: "ctf.sim-tps.example".into(),
        origin_realm: "sim-tps.example".into(),
        destination_realm: "unicharge.localdomain".into(),
        msisdn: "491700000042".into(),
        tls: Default::default(),
    })
    .await;
    assert_eq!(status, 0, "every played TP passes");
    // MS_01, MS_02, TC_01 are EVENTs; TC_02..05 one START/INTERIM/STOP session.
    let sessions = server.store.accounting_sessions(None, 100).await.unwrap();
    assert_eq!(sessions.len(), 4);
    assert!(sessions.iter().all(|s| s.state == "CLOSED"));

    let status = load(DiameterLoadArgs {
        cdf,
        sessions: 20,
        rate: 10_000.0,
        interims: 1,
        origin_host: "ctf.sim-load.example".into(),
        origin_realm: "sim-load.example".into(),
        destination_realm: "unicharge.localdomain".into(),
        duration: None,
        tls: Default::default(),
    })
    .await;
    assert_eq!(status, 0, "no failed ACR");
    let closed = server
        .store
        .accounting_sessions(Some("CLOSED"), 1000)
        .await
        .unwrap();
    assert_eq!(
        closed.len(),
        24,
        "20 load sessions closed, each with 3 records"
    );
    assert!(closed
        .iter()
        .filter(|s| s.origin_host == "ctf.sim-load.example")
        .all(|s| s.records == 3));
    server.shutdown().await;
}
