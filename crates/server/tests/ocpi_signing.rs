//! OCPI 3.0 business use case B8.5 of seed 003 ("As an OCPI Platform I want to be able to
//! validate received OCPI data has not been altered"), over real HTTP: the CPO instance and a
//! partner platform (the tests' peer) that publishes the `x-unicharge-signing` module (ADR
//! 0051). The peer signs with a key made here, and its signatures are written here with `ring`
//! directly (RFC 7515 detached JWS, RFC 8037 EdDSA), not with unicharge's own code, so both
//! sides are checked against the RFCs rather than against each other.

#[path = "common/mod.rs"]
mod common;
#[path = "ocpi_common/mod.rs"]
mod ocpi_common;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde_json::{json, Value};
use unicharge_ocpi_server::settings::PartySettings;

use common::TestCsms;
use ocpi_common::{Operator, Peer};

const HEADER: &str = "X-Unicharge-Signature";

/// An Ed25519 key with its JWK (kid = RFC 7638 thumbprint).
struct Key {
    pair: Ed25519KeyPair,
    x: String,
    kid: String,
}

impl Key {
    fn new() -> Key {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            canonical.as_bytes(),
        ));
        Key { pair, x, kid }
    }

    fn jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "x": self.x, "kid": self.kid, "alg": "EdDSA", "use": "sig"})
    }

    /// The detached compact JWS of `body`, bound to `htm` and `target` (the path and query
    /// after the module's endpoint URL).
    fn sign(&self, body: &[u8], htm: &str, target: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(
            json!({"alg": "EdDSA", "kid": self.kid, "htm": htm, "ocpi-target": target}).to_string(),
        );
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(body));
        let signature = self.pair.sign(input.as_bytes());
        format!("{header}..{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// The protected header of `jws` (detached) when it verifies over `body` with the JWK `jwk`
/// and names its kid.
fn verified(jws: &str, body: &[u8], jwk: &Value) -> Option<Value> {
    let parts: Vec<&str> = jws.split('.').collect();
    let [header, "", signature] = parts.as_slice() else {
        return None;
    };
    let protected: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    if protected["alg"] != "EdDSA" || protected["kid"] != jwk["kid"] {
        return None;
    }
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(body));
    UnparsedPublicKey::new(&ED25519, x)
        .verify(
            input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .ok()
        .map(|()| protected)
}

fn operator_of(csms: &TestCsms) -> Operator {
    Operator::new(
        csms.server.http_addr.unwrap(),
        csms.server.initial_admin_key.as_ref().unwrap(),
    )
}

/// PUT a token to the CPO's Tokens Receiver with exactly `body` and `signature` (if any).
async fn put_token(peer: &Peer, uid: &str, body: &[u8], signature: Option<&str>) -> (u16, Value) {
    send_token(peer, Method::PUT, uid, body, signature).await
}

/// The target a token's signature is bound to: what follows the Tokens endpoint.
fn token_target(uid: &str) -> String {
    format!("/NL/EMS/{uid}?type=RFID")
}

async fn send_token(
    peer: &Peer,
    method: Method,
    uid: &str,
    body: &[u8],
    signature: Option<&str>,
) -> (u16, Value) {
    let url = format!("{}{}", peer.endpoint("tokens"), token_target(uid));
    let mut request = peer
        .client
        .request(method, url)
        .header(
            "Authorization",
            format!(
                "Token {}",
                base64::engine::general_purpose::STANDARD.encode(&peer.token)
            ),
        )
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header(HEADER, signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn token(uid: &str, visual: &str) -> Vec<u8> {
    json!({
        "country_code": "NL", "party_id": "EMS", "uid": uid, "type": "RFID",
        "contract_id": "NL-EMS-C00000001-X", "visual_number": visual, "issuer": "Peer eMSP",
        "valid": true, "whitelist": "ALLOWED", "last_updated": "2026-12-07T10:00:00Z",
    })
    .to_string()
    .into_bytes()
}

/// The token as the CPO's Receiver holds it.
async fn stored_visual(peer: &Peer, uid: &str) -> Value {
    let (status, _, got) = peer
        .call(
            Method::GET,
            &format!("{}/NL/EMS/{uid}?type=RFID", peer.endpoint("tokens")),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    got["data"]["visual_number"].clone()
}

fn refused(status: u16, answer: &Value, why: &str) {
    assert_eq!(status, 400, "{why}: {answer}");
    assert_eq!(answer["status_code"], 2001, "{why}: {answer}");
}

/// B8.5 end to end. The partner publishes its key; the CPO fetches it after registration and
/// from then on:
/// * accepts a token PUT whose signature verifies with the partner's key;
/// * refuses (HTTP 400, OCPI 2001, nothing stored) the same signature over an altered body, a
///   body without a signature, and a body signed by a key it does not trust;
/// * accepts data enriched and signed by a hub once its operator trusts the hub's key for that
///   partner, and refuses it again when the trust is withdrawn;
/// * signs what it sends the partner — pushes and answers — verifiably with the key it
///   publishes.
#[tokio::test]
async fn b8_5_altered_or_untrusted_payloads_are_refused_and_signed_ones_verified() {
    let cpo = TestCsms::start_with(&[], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = Duration::from_millis(20);
        s.ocpi.push_retry_max = Duration::from_millis(100);
        s.ocpi.parties = vec![PartySettings::cpo("NL", "CPO", "Unicharge CPO")];
    })
    .await;
    let op = operator_of(&cpo);
    op.location("NL*CPO", "LOC1", &[]).await;
    let partner_key = Key::new();
    let mut peer = Peer::start("NL", "EMS").await;
    peer.publish_signing_key(partner_key.jwk());
    let (token_a, versions_url, partner_id) = op.partner("Signing eMSP", &["NL*CPO"]).await;
    peer.register(&versions_url, &token_a, "2.2.1").await;

    // The CPO fetched the partner's key and requires signatures from it.
    let keys_path = format!("/ocpi/partners/{partner_id}/signing-keys");
    let keys = op
        .until(&keys_path, |k| {
            k["keys"].as_array().is_some_and(|keys| {
                keys.iter()
                    .any(|key| key["kid"] == partner_key.kid.as_str())
            })
        })
        .await;
    assert_eq!(keys["partnerSigns"], true, "{keys:#}");
    assert_eq!(keys["signaturesRequired"], true, "{keys:#}");
    assert_eq!(keys["keys"][0]["source"], "PUBLISHED", "{keys:#}");
    assert_eq!(
        keys["keys"][0]["publicKey"],
        partner_key.x.as_str(),
        "{keys:#}"
    );

    // Signed by the partner: accepted and stored.
    let original = token("SIGNED01", "VIS-ORIGINAL");
    let signature = partner_key.sign(&original, "PUT", &token_target("SIGNED01"));
    let (status, answer) = put_token(&peer, "SIGNED01", &original, Some(&signature)).await;
    assert_eq!(
        (status, answer["status_code"].clone()),
        (200, json!(1000)),
        "{answer}"
    );
    assert_eq!(stored_visual(&peer, "SIGNED01").await, "VIS-ORIGINAL");

    // The same signature over an altered body: refused, the stored token unchanged.
    let altered = token("SIGNED01", "VIS-ALTERED");
    let (status, answer) = put_token(&peer, "SIGNED01", &altered, Some(&signature)).await;
    refused(status, &answer, "altered body");
    assert!(
        answer["status_message"]
            .as_str()
            .unwrap()
            .contains("altered"),
        "{answer}"
    );
    assert_eq!(stored_visual(&peer, "SIGNED01").await, "VIS-ORIGINAL");

    // A PATCH names no token in its body: its signature is bound to the token's path, so the
    // same signed PATCH sent to another token is refused, and taken where it was meant for.
    let other = token("SIGNED03", "VIS-3");
    let (status, _) = put_token(
        &peer,
        "SIGNED03",
        &other,
        Some(&partner_key.sign(&other, "PUT", &token_target("SIGNED03"))),
    )
    .await;
    assert_eq!(status, 200);
    let patch = br#"{"visual_number":"VIS-PATCHED","last_updated":"2026-12-07T11:00:00Z"}"#;
    let for_signed01 = partner_key.sign(patch, "PATCH", &token_target("SIGNED01"));
    let (status, answer) =
        send_token(&peer, Method::PATCH, "SIGNED03", patch, Some(&for_signed01)).await;
    refused(status, &answer, "a PATCH replayed to another token");
    assert!(
        answer["status_message"]
            .as_str()
            .unwrap()
            .contains("another request"),
        "{answer}"
    );
    assert_eq!(stored_visual(&peer, "SIGNED03").await, "VIS-3");
    let (status, answer) =
        send_token(&peer, Method::PATCH, "SIGNED01", patch, Some(&for_signed01)).await;
    assert_eq!(
        (status, answer["status_code"].clone()),
        (200, json!(1000)),
        "{answer}"
    );
    assert_eq!(stored_visual(&peer, "SIGNED01").await, "VIS-PATCHED");
    let original = token("SIGNED01", "VIS-ORIGINAL");
    let (status, _) = put_token(
        &peer,
        "SIGNED01",
        &original,
        Some(&partner_key.sign(&original, "PUT", &token_target("SIGNED01"))),
    )
    .await;
    assert_eq!(status, 200);

    // No signature from a partner that signs: refused.
    let (status, answer) = put_token(&peer, "SIGNED02", &token("SIGNED02", "V2"), None).await;
    refused(status, &answer, "no signature");
    let (status, _, _) = peer
        .call(
            Method::GET,
            &format!("{}/NL/EMS/SIGNED02?type=RFID", peer.endpoint("tokens")),
            None,
        )
        .await;
    assert_eq!(status, 404, "a refused token is not stored");

    // A hub enriches the token and signs the result: refused while its key is not trusted.
    let hub = Key::new();
    let enriched = token("SIGNED01", "VIS-ENRICHED-BY-HUB");
    let at = token_target("SIGNED01");
    let both = format!(
        "{}, {}",
        partner_key.sign(&original, "PUT", &at),
        hub.sign(&enriched, "PUT", &at)
    );
    let (status, answer) = put_token(&peer, "SIGNED01", &enriched, Some(&both)).await;
    refused(status, &answer, "hub not trusted");
    assert_eq!(stored_visual(&peer, "SIGNED01").await, "VIS-ORIGINAL");

    // The operator trusts the hub for this partner: the enriched token is accepted.
    let trusted = op
        .send(
            Method::POST,
            &keys_path,
            Some(json!({"publicKey": hub.x, "label": "Roaming hub"})),
        )
        .await;
    let hub_row = trusted["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == hub.kid.as_str())
        .unwrap_or_else(|| panic!("hub key listed: {trusted:#}"))
        .clone();
    assert_eq!(hub_row["source"], "TRUSTED");
    assert_eq!(hub_row["label"], "Roaming hub");
    let (status, answer) = put_token(&peer, "SIGNED01", &enriched, Some(&both)).await;
    assert_eq!(
        (status, answer["status_code"].clone()),
        (200, json!(1000)),
        "{answer}"
    );
    assert_eq!(
        stored_visual(&peer, "SIGNED01").await,
        "VIS-ENRICHED-BY-HUB"
    );

    // Trust withdrawn: the hub's signature no longer opens the door.
    op.client
        .delete(format!("{}{keys_path}/{}", op.base, hub.kid))
        .bearer_auth(&op.key)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let again = token("SIGNED01", "VIS-ENRICHED-AGAIN");
    let (status, answer) = put_token(
        &peer,
        "SIGNED01",
        &again,
        Some(&hub.sign(&again, "PUT", &token_target("SIGNED01"))),
    )
    .await;
    refused(status, &answer, "trust withdrawn");
    assert_eq!(
        stored_visual(&peer, "SIGNED01").await,
        "VIS-ENRICHED-BY-HUB"
    );

    // What the CPO sends is signed with the key it publishes: its key module, an answer, and
    // its pushes (the full view's location PUT).
    let (status, _, published) = peer
        .call(Method::GET, &peer.endpoint("x-unicharge-signing"), None)
        .await;
    assert_eq!(status, 200, "{published}");
    let cpo_jwk = published["data"][0].clone();
    assert_eq!(cpo_jwk["kty"], "OKP", "{cpo_jwk}");
    assert_eq!(cpo_jwk["crv"], "Ed25519", "{cpo_jwk}");
    assert_eq!(
        cpo_jwk, keys["ourKey"],
        "the operator API shows the published key"
    );
    let response = peer
        .client
        .get(format!("{}?limit=10", peer.endpoint("locations")))
        .header(
            "Authorization",
            format!(
                "Token {}",
                base64::engine::general_purpose::STANDARD.encode(&peer.token)
            ),
        )
        .send()
        .await
        .unwrap();
    let jws = response.headers()[HEADER].to_str().unwrap().to_string();
    let total = response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .to_string();
    let body = response.bytes().await.unwrap();
    let protected = verified(&jws, &body, &cpo_jwk).expect("the Sender's page verifies");
    assert_eq!(protected["htm"], "GET", "{protected}");
    assert_eq!(
        protected["ocpi-target"], "?limit=10",
        "bound to the request: {protected}"
    );
    assert_eq!(
        protected["ocpi-page"]["x-total-count"],
        total.as_str(),
        "{protected}"
    );
    let mut tampered = body.to_vec();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    assert!(
        verified(&jws, &tampered, &cpo_jwk).is_none(),
        "and one flipped bit does not"
    );
    let (_, push) = peer
        .next_push(|p| p.module == "locations" && p.method == "PUT")
        .await;
    let jws = push.header(HEADER).expect("pushes are signed");
    let protected = verified(jws, &push.raw, &cpo_jwk).expect("the push verifies");
    assert_eq!(protected["htm"], "PUT", "{protected}");
    assert_eq!(
        protected["ocpi-target"],
        push.path.as_str(),
        "bound to the object it is for: {protected}"
    );

    // Refusals are counted per partner in /metrics.
    assert_eq!(refusals(&cpo, partner_id).await, 5, "five payloads refused");
}

/// A man in the middle on the way to the CPO: forwards every call, and while `tamper` is set
/// changes the location pages the CPO's Locations Sender answers (the signature header kept).
struct Tamperer {
    base: String,
    target: std::sync::Arc<std::sync::Mutex<String>>,
    tamper: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Tamperer {
    async fn start() -> Tamperer {
        use axum::body::Bytes;
        use axum::extract::State;
        use axum::http::{HeaderMap, Method as AxMethod, Uri};
        type Shared = (
            std::sync::Arc<std::sync::Mutex<String>>,
            std::sync::Arc<std::sync::atomic::AtomicBool>,
            reqwest::Client,
        );
        async fn forward(
            State((target, tamper, client)): State<Shared>,
            method: AxMethod,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> axum::response::Response {
            let url = format!("{}{}", target.lock().unwrap(), uri);
            let mut request = client.request(method.clone(), url).body(body.to_vec());
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    request = request.header(name, value);
                }
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let mut out = axum::http::Response::builder().status(status.as_u16());
            for (name, value) in response.headers() {
                if name != "content-length" && name != "transfer-encoding" {
                    out = out.header(name, value);
                }
            }
            let mut bytes = response.bytes().await.unwrap().to_vec();
            let altering = tamper.load(std::sync::atomic::Ordering::SeqCst)
                && method == AxMethod::GET
                && uri.path().ends_with("/cpo/locations");
            if altering {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.contains("Site LOC1"), "a page with LOC1: {text}");
                bytes = text.replace("Site LOC1", "Site EVIL").into_bytes();
            }
            out.body(axum::body::Body::from(bytes)).unwrap()
        }
        let target = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let tamper = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let app = axum::Router::new().fallback(forward).with_state((
            target.clone(),
            tamper.clone(),
            reqwest::Client::new(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Tamperer {
            base: format!("http://{addr}"),
            target,
            tamper,
        }
    }
}

/// The payloads refused for their signature at `csms`, from `partner` (requests it sent, or
/// pages pulled from it).
async fn refusals(csms: &TestCsms, partner: i64) -> u64 {
    let metrics = csms.metrics().await;
    let name = format!("ocpi_signatures_refused_total{{partner=\"{partner}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&name))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// Ask for a full pull of the partner's Sender lists; returns when it was asked.
async fn full_pull(op: &Operator, partner: i64) -> chrono::DateTime<chrono::Utc> {
    let asked = chrono::Utc::now();
    let path = format!("/ocpi/partners/{partner}/sync");
    op.send(Method::POST, &path, Some(json!({"full": true})))
        .await;
    asked
}

/// When the locations pull last completed.
async fn locations_synced_at(op: &Operator, partner: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    let status = op
        .until(&format!("/ocpi/partners/{partner}/sync"), |s| {
            s["running"] == false
        })
        .await;
    status["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "locations")
        .and_then(|m| m["syncedAt"].as_str())
        .map(|t| t.parse().unwrap())
}

/// B8.5 on the eMSP side, two unicharge instances: the eMSP pulls the CPO's Sender pages
/// through a man in the middle. While it alters the location page, the eMSP refuses the page
/// (its signature no longer verifies with the CPO's published key): the pull does not complete
/// and the altered name is stored nowhere. Untouched, the same pull completes.
#[tokio::test]
async fn b8_5_emsp_refuses_a_pulled_page_altered_on_the_way() {
    let proxy = Tamperer::start().await;
    let public_url = format!("{}/ocpi", proxy.base);
    let cpo = TestCsms::start_with(&[], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = Duration::from_millis(5);
        s.ocpi.push_retry_max = Duration::from_millis(20);
        s.ocpi.public_url = Some(public_url);
        s.ocpi.parties = vec![PartySettings::cpo("NL", "CPO", "Unicharge CPO")];
    })
    .await;
    *proxy.target.lock().unwrap() = format!("http://{}", cpo.server.http_addr.unwrap());
    let emsp = TestCsms::start_with(&[], |s| {
        s.http.listen = Some("127.0.0.1:0".parse().unwrap());
        s.ocpi.push_retry_initial = Duration::from_millis(5);
        s.ocpi.push_retry_max = Duration::from_millis(20);
        s.ocpi.parties = vec![PartySettings::emsp("NL", "EMS", "Unicharge eMSP")];
    })
    .await;
    let (cpo_op, emsp_op) = (operator_of(&cpo), operator_of(&emsp));
    cpo_op.location("NL*CPO", "LOC1", &[]).await;
    let reg = ocpi_common::register_emsp(&cpo_op, &emsp_op).await;
    let cpo_at_emsp = reg.cpo_at_emsp;
    emsp_op
        .until(&format!("/ocpi/partners/{cpo_at_emsp}/signing-keys"), |k| {
            k["keys"].as_array().is_some_and(|keys| !keys.is_empty())
        })
        .await;
    let first = locations_synced_at(&emsp_op, cpo_at_emsp).await;
    let before = refusals(&emsp, cpo_at_emsp).await;

    // Altered on the way: refused, the pull never completes.
    proxy
        .tamper
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let asked = full_pull(&emsp_op, cpo_at_emsp).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while refusals(&emsp, cpo_at_emsp).await <= before {
        assert!(std::time::Instant::now() < deadline, "the page refused");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let after = locations_synced_at(&emsp_op, cpo_at_emsp).await;
    assert!(
        after.is_none_or(|t| t < asked) && after == first,
        "the tampered pull did not complete: {after:?} vs {first:?}"
    );
    let received = emsp_op
        .send(
            Method::GET,
            &format!("/ocpi/partners/{cpo_at_emsp}/received/locations"),
            None,
        )
        .await;
    assert!(
        !received.to_string().contains("Site EVIL"),
        "the altered name is stored nowhere: {received}"
    );

    // The same pull, untouched: completes.
    proxy
        .tamper
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let asked = full_pull(&emsp_op, cpo_at_emsp).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while locations_synced_at(&emsp_op, cpo_at_emsp)
        .await
        .is_none_or(|t| t < asked)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "untouched pull completes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
