//! The peer state machine without I/O: CER/CEA, allow-list, application intersection,
//! watchdog (RFC 3539), DPR/DPA, hop-by-hop matching. Time is a plain `Instant` we move.

use std::time::{Duration, Instant};

use unicharge_diameter::peer::{
    AllowedPeer, Output, Peer, PeerConfig, PeerState, Role, WatchdogState,
};
use unicharge_diameter::{app, cmd, result_code, Avp, Message};

fn cer(host: &str, realm: &str, acct: &[u32], auth: &[u32]) -> Vec<u8> {
    let mut m = Message::request(cmd::CAPABILITIES_EXCHANGE, app::COMMON, 77, 78)
        .with(Avp::identity("Origin-Host", host))
        .with(Avp::identity("Origin-Realm", realm))
        .with(Avp::address(
            "Host-IP-Address",
            std::net::IpAddr::from([10, 0, 0, 1]),
        ))
        .with(Avp::u32("Vendor-Id", 10415))
        .with(Avp::utf8("Product-Name", "tester"));
    for a in acct {
        m.push(Avp::u32("Acct-Application-Id", *a));
    }
    for a in auth {
        m.push(Avp::grouped(
            "Vendor-Specific-Application-Id",
            vec![
                Avp::u32("Vendor-Id", 10415),
                Avp::u32("Auth-Application-Id", *a),
            ],
        ));
    }
    m.encode()
}

fn sent(outs: &[Output]) -> Vec<Message> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send(b) => Some(Message::decode(b).unwrap()),
            _ => None,
        })
        .collect()
}

fn config() -> PeerConfig {
    let mut c = PeerConfig::cdf("cdf.operator.net", "operator.net");
    c.watchdog_interval = Duration::from_secs(30);
    c
}

fn open_responder(now: Instant) -> Peer {
    let mut p = Peer::new(config(), Role::Responder, now);
    let outs = p.on_frame(&cer("ctf.example.net", "example.net", &[3], &[]), now);
    assert_eq!(p.state(), PeerState::Open, "{outs:?}");
    p
}

#[test]
fn cer_with_common_application_opens_and_cea_carries_capabilities() {
    let now = Instant::now();
    let mut p = Peer::new(config(), Role::Responder, now);
    let outs = p.on_frame(&cer("ctf.example.net", "example.net", &[3], &[]), now);
    let cea = &sent(&outs)[0];
    assert!(!cea.is_request());
    assert_eq!((cea.header.hop_by_hop, cea.header.end_to_end), (77, 78));
    assert_eq!(cea.result_code(), Some(2001));
    assert_eq!(cea.origin_host(), Some("cdf.operator.net"));
    assert_eq!(cea.u32("Acct-Application-Id"), Some(3));
    assert_eq!(cea.u32("Supported-Vendor-Id"), Some(10415));
    assert!(cea.avp("Host-IP-Address").is_some() && cea.avp("Product-Name").is_some());
    assert!(outs.contains(&Output::Opened {
        origin_host: "ctf.example.net".into(),
        applications: vec![3]
    }));
}

#[test]
fn cer_without_common_application_is_5010_and_closes() {
    let now = Instant::now();
    let mut p = Peer::new(config(), Role::Responder, now);
    let outs = p.on_frame(&cer("ocs.example.net", "example.net", &[], &[4]), now);
    assert_eq!(
        sent(&outs)[0].result_code(),
        Some(result_code::DIAMETER_NO_COMMON_APPLICATION)
    );
    assert!(matches!(outs.last(), Some(Output::Close(_))));
    assert_eq!(p.state(), PeerState::Closed);
}

#[test]
fn relay_application_matches_everything() {
    let now = Instant::now();
    let mut p = Peer::new(config(), Role::Responder, now);
    p.on_frame(
        &cer("dra.example.net", "example.net", &[app::RELAY], &[]),
        now,
    );
    assert_eq!(p.state(), PeerState::Open);
}

#[test]
fn unknown_peer_is_3010_and_closes() {
    let now = Instant::now();
    let mut c = config();
    c.allowed_peers = vec![AllowedPeer {
        origin_host: Some("ctf.example.net".into()),
        origin_realm: None,
    }];
    let mut p = Peer::new(c.clone(), Role::Responder, now);
    let outs = p.on_frame(&cer("intruder.example.org", "example.org", &[3], &[]), now);
    let a = &sent(&outs)[0];
    assert_eq!(a.result_code(), Some(result_code::DIAMETER_UNKNOWN_PEER));
    assert!(a.header.flags.error());
    assert!(matches!(outs.last(), Some(Output::Close(_))));
    let mut p = Peer::new(c, Role::Responder, now);
    p.on_frame(&cer("CTF.example.net", "example.net", &[3], &[]), now);
    assert_eq!(p.state(), PeerState::Open, "host match is case-insensitive");
}

#[test]
fn request_before_cer_closes_and_unnegotiated_application_is_3007() {
    let now = Instant::now();
    let mut p = Peer::new(config(), Role::Responder, now);
    let acr = unicharge_diameter::testing::typical_acr(1, 0).encode();
    let outs = p.on_frame(&acr, now);
    assert!(matches!(outs[..], [Output::Close(_)]));
    let mut p = open_responder(now);
    let mut ccr = unicharge_diameter::testing::vector_messages()
        .into_iter()
        .find(|(n, _)| *n == "ccr_update")
        .unwrap()
        .1;
    ccr.header.hop_by_hop = 5;
    let outs = p.on_frame(&ccr.encode(), now);
    let a = &sent(&outs)[0];
    assert_eq!(
        a.result_code(),
        Some(result_code::DIAMETER_APPLICATION_UNSUPPORTED)
    );
    assert!(a.header.flags.error());
    assert_eq!(a.header.hop_by_hop, 5);
    let outs = p.on_frame(&acr, now);
    assert!(matches!(&outs[..], [Output::Request(m)] if m.header.command_code == cmd::ACCOUNTING));
}

#[test]
fn malformed_request_is_answered_and_connection_stays_open() {
    let now = Instant::now();
    let mut p = open_responder(now);
    let mut acr = unicharge_diameter::testing::typical_acr(1, 0);
    acr.push(Avp::new(
        9999,
        0,
        unicharge_diameter::Value::Unknown(vec![1]),
    ));
    acr.avps.last_mut().unwrap().flags = unicharge_diameter::AvpFlags(0x40);
    let outs = p.on_frame(&acr.encode(), now);
    let a = &sent(&outs)[0];
    assert_eq!(a.result_code(), Some(5001));
    assert_eq!(a.session_id(), acr.session_id());
    assert_eq!(
        a.avp("Failed-AVP").unwrap().children().unwrap()[0].code,
        9999
    );
    assert_eq!(p.state(), PeerState::Open);
}

#[test]
fn dwr_is_answered_and_watchdog_goes_suspect_then_down() {
    let t0 = Instant::now();
    let mut p = open_responder(t0);
    let dwr = Message::request(cmd::DEVICE_WATCHDOG, 0, 9, 9)
        .with(Avp::identity("Origin-Host", "ctf.example.net"))
        .with(Avp::identity("Origin-Realm", "example.net"));
    let a = &sent(&p.on_frame(&dwr.encode(), t0))[0];
    assert_eq!(
        (a.header.command_code, a.result_code(), a.header.hop_by_hop),
        (280, Some(2001), 9)
    );

    let tw = Duration::from_secs(30);
    assert_eq!(p.next_timeout(), Some(t0 + tw));
    assert!(
        p.on_timeout(t0 + tw - Duration::from_millis(1)).is_empty(),
        "not before Tw"
    );
    let ours = sent(&p.on_timeout(t0 + tw));
    assert_eq!(ours[0].header.command_code, cmd::DEVICE_WATCHDOG);
    assert!(ours[0].is_request());
    // Answered: stays OKAY.
    let dwa = Message::answer_to(&ours[0])
        .with(Avp::u32("Result-Code", 2001))
        .with(Avp::identity("Origin-Host", "ctf.example.net"))
        .with(Avp::identity("Origin-Realm", "example.net"));
    p.on_frame(&dwa.encode(), t0 + tw);
    assert_eq!(p.watchdog(), WatchdogState::Okay);
    // Next DWR unanswered: SUSPECT (failover) after Tw, DOWN (close) after another Tw.
    let t1 = t0 + tw * 2;
    assert_eq!(sent(&p.on_timeout(t1)).len(), 1);
    assert_eq!(p.on_timeout(t1 + tw), vec![Output::Failover]);
    assert_eq!(p.watchdog(), WatchdogState::Suspect);
    assert!(matches!(p.on_timeout(t1 + tw * 2)[..], [Output::Close(_)]));
    assert_eq!(p.state(), PeerState::Closed);
}

#[test]
fn initiator_cer_cea_and_answer_matching_by_hop_by_hop() {
    let t0 = Instant::now();
    let mut c = config();
    c.origin_host = "ctf.example.net".into();
    let mut p = Peer::new(c, Role::Initiator, t0);
    let cer = &sent(&p.start())[0];
    assert_eq!(cer.header.command_code, cmd::CAPABILITIES_EXCHANGE);
    assert!(!cer.header.flags.proxiable(), "CER is not proxiable");
    // A CDF answers.
    let mut server = Peer::new(config(), Role::Responder, t0);
    let cea = sent(&server.on_frame(&cer.encode(), t0)).remove(0);
    let outs = p.on_frame(&cea.encode(), t0);
    assert!(
        matches!(&outs[..], [Output::Opened { origin_host, .. }] if origin_host == "cdf.operator.net")
    );

    let (hbh, bytes) = p
        .send_request(unicharge_diameter::testing::typical_acr(1, 0))
        .unwrap();
    let acr = Message::decode(&bytes).unwrap();
    assert_eq!(acr.header.hop_by_hop, hbh);
    let mut aca = Message::answer_to(&acr).with(Avp::u32("Result-Code", 2001));
    // An answer with an unknown hop-by-hop id is discarded.
    aca.header.hop_by_hop = hbh.wrapping_add(1000);
    assert!(p.on_frame(&aca.encode(), t0).is_empty());
    aca.header.hop_by_hop = hbh;
    assert!(
        matches!(&p.on_frame(&aca.encode(), t0)[..], [Output::Answer(m)] if m.result_code() == Some(2001))
    );
    // Only once.
    assert!(p.on_frame(&aca.encode(), t0).is_empty());
}

#[test]
fn dpr_dpa_both_ways() {
    let t0 = Instant::now();
    let mut p = open_responder(t0);
    let dpr = Message::request(cmd::DISCONNECT_PEER, 0, 3, 3)
        .with(Avp::identity("Origin-Host", "ctf.example.net"))
        .with(Avp::identity("Origin-Realm", "example.net"))
        .with(Avp::enumerated("Disconnect-Cause", 0));
    let outs = p.on_frame(&dpr.encode(), t0);
    assert_eq!(sent(&outs)[0].result_code(), Some(2001));
    assert!(matches!(outs.last(), Some(Output::Close(_))));

    let mut p = open_responder(t0);
    let ours = sent(&p.disconnect(2)).remove(0);
    assert_eq!(ours.i32("Disconnect-Cause"), Some(2));
    assert_eq!(p.state(), PeerState::Closing);
    let dpa = Message::answer_to(&ours).with(Avp::u32("Result-Code", 2001));
    assert!(matches!(
        p.on_frame(&dpa.encode(), t0)[..],
        [Output::Close(_)]
    ));
}

/// RFC 6733 §5.6.4: the greater Origin-Host (as octets) wins.
#[test]
fn election_is_won_by_the_greater_origin_host() {
    use unicharge_diameter::peer::wins_election;
    assert!(wins_election("ctf.example.net", "cdf.operator.net"));
    assert!(!wins_election("cdf.operator.net", "ctf.example.net"));
    assert!(!wins_election("same.host", "same.host"), "a tie is no win");
    assert!(wins_election("b", "aaaa"), "octet order, not length");
}

/// A CER from a host we are dialling ourselves, and we win: CEA, open, and the driver is told
/// to drop our own outgoing connection.
#[test]
fn election_won_answers_the_cer_and_drops_our_outgoing_connection() {
    let now = Instant::now();
    let dialling: unicharge_diameter::peer::Dialling =
        std::sync::Arc::new(|h: &str| h == "ca.example.net");
    // Local "cdf.operator.net" > "ca.example.net".
    let mut p = Peer::new(config(), Role::Responder, now).with_dialling(dialling);
    let outs = p.on_frame(&cer("ca.example.net", "example.net", &[3], &[]), now);
    assert_eq!(p.state(), PeerState::Open);
    assert_eq!(sent(&outs)[0].result_code(), Some(2001));
    assert!(outs.contains(&Output::ElectionWon {
        origin_host: "ca.example.net".into()
    }));
}

/// The same, and we lose (the peer's Origin-Host is greater): no CEA, the incoming connection
/// closes, our outgoing one stays.
#[test]
fn election_lost_closes_the_incoming_connection_without_a_cea() {
    let now = Instant::now();
    let dialling: unicharge_diameter::peer::Dialling =
        std::sync::Arc::new(|h: &str| h == "zz.example.net");
    let mut p = Peer::new(config(), Role::Responder, now).with_dialling(dialling);
    let outs = p.on_frame(&cer("zz.example.net", "example.net", &[3], &[]), now);
    assert!(sent(&outs).is_empty(), "no CEA: {outs:?}");
    assert!(matches!(outs.last(), Some(Output::Close(_))));
    assert_eq!(p.state(), PeerState::Closed);
    // A host we are not dialling: no election, an ordinary CEA.
    let mut q = Peer::new(config(), Role::Responder, now)
        .with_dialling(std::sync::Arc::new(|h: &str| h == "zz.example.net"));
    let outs = q.on_frame(&cer("other.example.net", "example.net", &[3], &[]), now);
    assert_eq!(q.state(), PeerState::Open);
    assert!(!outs.iter().any(|o| matches!(o, Output::ElectionWon { .. })));
}
