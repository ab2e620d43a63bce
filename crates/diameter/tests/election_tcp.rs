//! RFC 6733 §5.6.4 election over real TCP: two nodes dial each other at the same moment, their
//! CERs cross, and exactly one connection survives — the one the node with the lower
//! Origin-Host opened (the higher one wins, answers the incoming CER and drops its own outgoing
//! connection; the lower one loses and closes the incoming connection without a CEA).
//!
//! The crossing is made deterministic by a proxy in front of each node's listener that holds
//! the first frame (the CER) of its connection until both CERs are in flight, so both nodes
//! are dialling when the other's CER reaches them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Barrier;
use unicharge_diameter::peer::{
    connect_to, serve, DuplicateCache, PeerConfig, PeerHandle, PeerTable, RequestHandler, Shared,
};
use unicharge_diameter::rf::cdf::BoxFuture;
use unicharge_diameter::{
    cmd, frame_length, result_code, testing, Avp, Message, DEFAULT_MAX_MESSAGE_LEN,
};

const LOW: &str = "aaa.node.example";
const HIGH: &str = "zzz.node.example";
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// Answers every request 2001, naming the node that answered.
struct Answerer(&'static str);

impl RequestHandler for Answerer {
    fn handle(&self, request: Message, _peer: PeerHandle) -> BoxFuture<'_, Option<Message>> {
        Box::pin(async move {
            Some(
                Message::answer_to(&request)
                    .with(Avp::u32("Result-Code", result_code::DIAMETER_SUCCESS))
                    .with(Avp::identity("Origin-Host", self.0))
                    .with(Avp::identity("Origin-Realm", "node.example")),
            )
        })
    }
}

struct Node {
    shared: Shared,
    table: Arc<PeerTable>,
    listen: SocketAddr,
}

async fn node(host: &'static str) -> Node {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listen = listener.local_addr().unwrap();
    let mut config = PeerConfig::cdf(host, "node.example");
    config.watchdog_interval = Duration::from_secs(30);
    let table = Arc::new(PeerTable::default());
    let shared = Shared {
        config,
        handler: Arc::new(Answerer(host)),
        table: table.clone(),
        duplicates: Arc::new(DuplicateCache::default()),
    };
    tokio::spawn(serve(listener, shared.clone()));
    Node {
        shared,
        table,
        listen,
    }
}

/// A proxy to `upstream` that forwards the first frame of its (single) connection only once
/// `crossing` is passed by both proxies, then pipes both ways. `open` counts its connections
/// still piping.
struct Crossing {
    addr: SocketAddr,
    open: Arc<AtomicUsize>,
}

async fn crossing(upstream: SocketAddr, barrier: Arc<Barrier>) -> Crossing {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let open = Arc::new(AtomicUsize::new(0));
    let count = open.clone();
    tokio::spawn(async move {
        let (mut client, _) = listener.accept().await.unwrap();
        let mut server = TcpStream::connect(upstream).await.unwrap();
        count.fetch_add(1, Ordering::SeqCst);
        // Read exactly one Diameter frame: the 20-octet header gives its length.
        let mut header = [0u8; 20];
        client.read_exact(&mut header).await.unwrap();
        let len = frame_length(&header, DEFAULT_MAX_MESSAGE_LEN)
            .expect("a Diameter header")
            .expect("length known");
        let mut frame = header.to_vec();
        frame.resize(len, 0);
        client.read_exact(&mut frame[20..]).await.unwrap();
        let cer = Message::decode(&frame).unwrap();
        assert_eq!(cer.header.command_code, cmd::CAPABILITIES_EXCHANGE);
        barrier.wait().await;
        server.write_all(&frame).await.unwrap();
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        count.fetch_sub(1, Ordering::SeqCst);
    });
    Crossing { addr, open }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn request_from(host: &str) -> Message {
    let mut acr = testing::typical_acr(1, 0);
    acr.avps.retain(|a| a.name() != "Origin-Host");
    acr.avps.push(Avp::identity("Origin-Host", host));
    acr
}

#[tokio::test]
async fn crossing_cers_keep_exactly_the_connection_the_lower_host_opened() {
    let low = node(LOW).await;
    let high = node(HIGH).await;
    let barrier = Arc::new(Barrier::new(2));
    let to_high = crossing(high.listen, barrier.clone()).await;
    let to_low = crossing(low.listen, barrier).await;

    // Both dial at once; each names the host it expects, which is what lets the responder
    // sides see the crossing and hold the election.
    let (from_low, from_high) = tokio::join!(
        connect_to(to_high.addr, HIGH, low.shared.clone()),
        connect_to(to_low.addr, LOW, high.shared.clone()),
    );

    // The lower host keeps its own outgoing connection: its CER was answered by the winner.
    let low_to_high = from_low.expect("the lower host's connection is the one kept");
    assert_eq!(low_to_high.origin_host(), HIGH);
    // The higher host won the election and dropped its own outgoing connection.
    let Err(err) = from_high else {
        panic!("the higher host's own connection must be dropped");
    };
    assert!(err.contains("election") || err.contains("closed"), "{err}");

    // Exactly one connection is left: the one through the proxy in front of the higher host.
    eventually("the connection the higher host opened closes", || {
        to_low.open.load(Ordering::SeqCst) == 0
    })
    .await;
    assert_eq!(to_high.open.load(Ordering::SeqCst), 1);

    // Both tables name the other node, over that one connection, and requests pass both ways.
    eventually("the higher host registers the lower one", || {
        high.table.get(LOW).is_some()
    })
    .await;
    assert_eq!(low.table.hosts(), vec![HIGH.to_owned()]);
    assert_eq!(high.table.hosts(), vec![LOW.to_owned()]);

    let a = low_to_high
        .request(request_from(LOW), ANSWER_WAIT)
        .await
        .expect("the lower host's request is answered");
    assert_eq!(a.result_code(), Some(result_code::DIAMETER_SUCCESS));
    assert_eq!(a.avp("Origin-Host").and_then(Avp::as_str), Some(HIGH));

    let high_to_low = high.table.get(LOW).unwrap();
    let a = high_to_low
        .request(request_from(HIGH), ANSWER_WAIT)
        .await
        .expect("the higher host reaches the lower one over the kept connection");
    assert_eq!(a.result_code(), Some(result_code::DIAMETER_SUCCESS));
    assert_eq!(a.avp("Origin-Host").and_then(Avp::as_str), Some(LOW));
    assert_eq!(
        to_high.open.load(Ordering::SeqCst),
        1,
        "still one connection"
    );
    assert_eq!(to_low.open.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn without_a_crossing_there_is_no_election_and_the_connection_opens() {
    // The control: one side dials alone; it must not be mistaken for an election.
    let low = node(LOW).await;
    let high = node(HIGH).await;
    let handle = connect_to(high.listen, HIGH, low.shared.clone())
        .await
        .expect("a plain dial opens");
    let a = handle
        .request(request_from(LOW), ANSWER_WAIT)
        .await
        .unwrap();
    assert_eq!(a.result_code(), Some(result_code::DIAMETER_SUCCESS));
    eventually("the higher host registers the lower one", || {
        high.table.get(LOW).is_some()
    })
    .await;
    assert!(!low.table.is_dialling(HIGH), "the dial is finished");
}
