use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::*;

fn key() -> SigningKey {
    SigningKey::from_pkcs8(&SigningKey::generate_pkcs8().unwrap()).unwrap()
}

fn put(target: &str) -> Binding {
    Binding::new("PUT", target)
}

#[test]
fn a_signed_body_verifies_and_an_altered_one_does_not() {
    let ours = key();
    let public = [ours.jwk().public_key().unwrap()];
    let body = br#"{"id":"LOC1","name":"Gent Zuid"}"#;
    let at = [put("/BE/CPO/LOC1")];
    let header = ours.sign(body, &at[0]);
    assert_eq!(
        verify(Some(&header), body, &public, &at),
        Ok(ours.kid().to_string())
    );
    let altered = br#"{"id":"LOC1","name":"Gent Noord"}"#;
    assert_eq!(
        verify(Some(&header), altered, &public, &at),
        Err(SignatureError::Altered(ours.kid().to_string()))
    );
    assert_eq!(
        verify(None, body, &public, &at),
        Err(SignatureError::Missing)
    );
    assert_eq!(
        verify(Some(&header), body, &[], &at),
        Err(SignatureError::UnknownKey(ours.kid().to_string()))
    );
    assert_eq!(
        unknown_kids(Some(&header), &[]),
        vec![ours.kid().to_string()]
    );
    assert!(unknown_kids(Some(&header), &public).is_empty());
}

#[test]
fn a_signature_is_bound_to_its_request() {
    let ours = key();
    let public = [ours.jwk().public_key().unwrap()];
    let body = br#"{"valid":false,"last_updated":"2026-12-07T10:00:00Z"}"#;
    let header = ours.sign(body, &Binding::new("PATCH", "/NL/EMS/TOKEN1?type=RFID"));
    let other_token = [Binding::new("PATCH", "/NL/EMS/TOKEN2?type=RFID")];
    assert_eq!(
        verify(Some(&header), body, &public, &other_token),
        Err(SignatureError::OtherRequest(ours.kid().to_string()))
    );
    let other_method = [Binding::new("PUT", "/NL/EMS/TOKEN1?type=RFID")];
    assert!(verify(Some(&header), body, &public, &other_method).is_err());
    // Either spelling of the target the receiver accepts.
    let either = [
        Binding::new("PATCH", "/ocpi/2.2.1/cpo/tokens/NL/EMS/TOKEN1?type=RFID"),
        Binding::new("PATCH", "/NL/EMS/TOKEN1?type=RFID"),
    ];
    assert!(verify(Some(&header), body, &public, &either).is_ok());
    // A page with its Link dropped is another answer.
    let page = PageHeaders {
        total: Some("120".into()),
        limit: Some("50".into()),
        link: Some("<https://cpo/ocpi/2.2.1/locations?offset=50>; rel=\"next\"".into()),
    };
    let signed = Binding::new("GET", "?limit=50").with_page(page.clone());
    let header = ours.sign(b"[]", &signed);
    assert!(verify(Some(&header), b"[]", &public, std::slice::from_ref(&signed)).is_ok());
    let cut = Binding::new("GET", "?limit=50").with_page(PageHeaders { link: None, ..page });
    assert!(verify(Some(&header), b"[]", &public, &[cut]).is_err());
}

#[test]
fn one_trusted_signature_among_several_is_enough() {
    let source = key();
    let hub = key();
    let body = b"{}";
    let at = [put("")];
    let both = format!(
        "{}, {}",
        source.sign(b"{\"before\":1}", &at[0]),
        hub.sign(body, &at[0])
    );
    let trusted = [hub.jwk().public_key().unwrap()];
    assert_eq!(
        verify(Some(&both), body, &trusted, &at),
        Ok(hub.kid().to_string())
    );
    // Only the source's key: its signature covers the body before the enrichment.
    let source_only = [source.jwk().public_key().unwrap()];
    assert_eq!(
        verify(Some(&both), body, &source_only, &at),
        Err(SignatureError::Altered(source.kid().to_string()))
    );
    // …and the hub's kid is reported as unknown, so its keys may be fetched again.
    assert_eq!(
        unknown_kids(Some(&both), &source_only),
        vec![hub.kid().to_string()]
    );
}

#[test]
fn targets_are_what_follows_the_endpoint() {
    let endpoint = "https://emsp.example.com/ocpi/2.2.1/emsp/tokens/";
    assert_eq!(
        target_after(
            endpoint,
            "https://emsp.example.com/ocpi/2.2.1/emsp/tokens/NL/EMS/T1?type=RFID"
        ),
        Some("/NL/EMS/T1?type=RFID".into())
    );
    assert_eq!(
        target_after(
            endpoint,
            "https://emsp.example.com/ocpi/2.2.1/emsp/tokens?limit=5"
        ),
        Some("?limit=5".into())
    );
    assert_eq!(
        target_after(
            endpoint,
            "https://emsp.example.com/ocpi/2.2.1/emsp/tokensX/1"
        ),
        None
    );
    assert_eq!(
        path_and_query("http://127.0.0.1:80/ocpi/2.2.1/cpo/tokens/NL?x=1"),
        "/ocpi/2.2.1/cpo/tokens/NL?x=1"
    );
    assert_eq!(path_and_query("http://host"), "");
}

const RFC_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const RFC_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

#[test]
fn the_kid_is_the_rfc_7638_thumbprint() {
    // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
    assert_eq!(
        thumbprint(RFC_X),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    let mut jwk = Jwk::of(&PublicKey::from_x(RFC_X).unwrap().bytes);
    assert_eq!(jwk.kid, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    jwk.kid = String::new();
    assert!(jwk.public_key().is_ok(), "kid is optional (RFC 7517)");
    jwk.kid = "someone-else".into();
    assert!(matches!(
        jwk.public_key(),
        Err(SignatureError::Malformed(_))
    ));
    let mut leaked = Jwk::of(&PublicKey::from_x(RFC_X).unwrap().bytes);
    leaked.d = Some(RFC_D.into());
    assert!(leaked.public_key().is_err(), "a JWK with its private part");
    let mut encryption = Jwk::of(&PublicKey::from_x(RFC_X).unwrap().bytes);
    encryption.use_ = Some("enc".into());
    assert!(encryption.public_key().is_err());
}

#[test]
fn rfc_8037_example_key_signs_the_rfc_example_signature() {
    // RFC 8037 appendix A.1 (the key, as a PKCS#8 v1 document around its seed `d`) and A.4
    // (the JWS of "Example of Ed25519 signing" with protected header {"alg":"EdDSA"}).
    let mut pkcs8 = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    pkcs8.extend(URL_SAFE_NO_PAD.decode(RFC_D).unwrap());
    let key = SigningKey::from_pkcs8(&pkcs8).unwrap();
    assert_eq!(key.jwk().x, RFC_X);
    let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    let signature = key.pair.sign(input.as_bytes());
    assert_eq!(
        URL_SAFE_NO_PAD.encode(signature.as_ref()),
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    );
    // Our own signature of a body with that key verifies through `verify`.
    let at = [put("/x")];
    let ours = key.sign(b"Example of Ed25519 signing", &at[0]);
    let public = [PublicKey::from_x(RFC_X).unwrap()];
    assert!(verify(Some(&ours), b"Example of Ed25519 signing", &public, &at).is_ok());
}

#[test]
fn bad_headers_are_malformed_not_panics() {
    let public = [key().jwk().public_key().unwrap()];
    let at = [put("")];
    for bad in [
        "x",
        "a.b.c",
        "..",
        "e30..AA",
        "eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ..AA",
    ] {
        let got = verify(Some(bad), b"{}", &public, &at);
        assert!(
            matches!(got, Err(SignatureError::Malformed(_))),
            "{bad}: {got:?}"
        );
    }
    let many = ["a..b"; MAX_SIGNATURES + 1].join(",");
    assert!(matches!(
        verify(Some(&many), b"{}", &public, &at),
        Err(SignatureError::Malformed(_))
    ));
}
