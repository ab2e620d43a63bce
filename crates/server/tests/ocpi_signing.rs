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

    /// The detached compact JWS of `body`.
    fn sign(&self, body: &[u8]) -> String {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "kid": self.kid}).to_string());
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(body));
        let signature = self.pair.sign(input.as_bytes());
        format!("{header}..{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// Does `jws` (detached) verify over `body` with the JWK `jwk`, and name its kid?
fn verifies(jws: &str, body: &[u8], jwk: &Value) -> bool {
    let parts: Vec<&str> = jws.split('.').collect();
    let [header, "", signature] = parts.as_slice() else {
        return false;
    };
    let protected: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    if protected["alg"] != "EdDSA" || protected["kid"] != jwk["kid"] {
        return false;
    }
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(body));
    UnparsedPublicKey::new(&ED25519, x)
        .verify(
            input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .is_ok()
}

fn operator_of(csms: &TestCsms) -> Operator {
    Operator::new(
        csms.server.http_addr.unwrap(),
        csms.server.initial_admin_key.as_ref().unwrap(),
    )
}

/// PUT a token to the CPO's Tokens Receiver with exactly `body` and `signature` (if any).
async fn put_token(peer: &Peer, uid: &str, body: &[u8], signature: Option<&str>) -> (u16, Value) {
    let url = format!("{}/NL/EMS/{uid}?type=RFID", peer.endpoint("tokens"));
    let mut request = peer
        .client
        .put(url)
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
    let signature = partner_key.sign(&original);
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
    let both = format!("{}, {}", partner_key.sign(&original), hub.sign(&enriched));
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
    let (status, answer) = put_token(&peer, "SIGNED01", &again, Some(&hub.sign(&again))).await;
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
    let body = response.bytes().await.unwrap();
    assert!(
        verifies(&jws, &body, &cpo_jwk),
        "the Sender's page verifies"
    );
    let mut tampered = body.to_vec();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    assert!(
        !verifies(&jws, &tampered, &cpo_jwk),
        "and one flipped bit does not"
    );
    let (_, push) = peer
        .next_push(|p| p.module == "locations" && p.method == "PUT")
        .await;
    let jws = push.header(HEADER).expect("pushes are signed");
    assert!(
        verifies(jws, &push.raw, &cpo_jwk),
        "the push verifies: {push:?}"
    );

    // Refusals are counted per partner in /metrics.
    let metrics = reqwest::get(format!("http://{}/metrics", cpo.server.http_addr.unwrap()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "ocpi_signatures_refused_total{{partner=\"{partner_id}\"}}"
            ))
        })
        .unwrap_or_else(|| panic!("no refusal counter in {metrics}"));
    assert!(line.ends_with(" 4"), "four payloads refused: {line}");
}
