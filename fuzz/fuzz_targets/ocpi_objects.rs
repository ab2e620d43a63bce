//! OCPI: every parser a partner's bytes reach in `unicharge-ocpi`. The first byte picks the
//! parser, the rest is the input (a request body, a header value or a query string).
//!
//! Checked beyond "never panics":
//! - an object that reads writes back to JSON that reads again to the same object, and that
//!   second writing is identical to the first (the wire form is a fixed point);
//! - a token header that parses has at least one candidate and matches its own raw text;
//! - a page never covers objects beyond the total, and a next link only exists when objects
//!   remain;
//! - a PATCH that applies still carries the patch's `last_updated`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use unicharge_ocpi::cdrs::Cdr;
use unicharge_ocpi::commands::{Command, CommandType};
use unicharge_ocpi::credentials::Credentials;
use unicharge_ocpi::driver_messages::{DriverMessage, DriverMessageRequest};
use unicharge_ocpi::locations::Location;
use unicharge_ocpi::session_limits::{SessionLimits, SessionLimitsState};
use unicharge_ocpi::sessions::Session;
use unicharge_ocpi::tariffs::Tariff;
use unicharge_ocpi::tokens::{AuthorizationInfo, Token};
use unicharge_ocpi::transport::{next_link, ListQuery, ReceivedToken, Response};
use unicharge_ocpi::versions::{VersionDetails, VersionInfo};

fn object<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(body: &[u8]) {
    let Ok(first) = serde_json::from_slice::<T>(body) else {
        return;
    };
    let written = serde_json::to_vec(&first).expect("a read object writes");
    let second: T = serde_json::from_slice(&written).expect("what we write reads back");
    assert_eq!(second, first, "read(write(x)) != x");
    assert_eq!(
        serde_json::to_vec(&second).unwrap(),
        written,
        "writing is not a fixed point"
    );
}

/// The signed-payloads extension (B8.5, ADR 0051): a header value from a partner is checked
/// against a body; only our key's own signature of that very body may verify, and a JWK that
/// reads is named by its thumbprint (its own kid, when it gives one, is that thumbprint).
fn signature(header: &str, body: &[u8]) {
    use unicharge_ocpi::signing::{unknown_kids, verify, Binding, Jwk, SigningKey};
    static KEY: std::sync::OnceLock<SigningKey> = std::sync::OnceLock::new();
    let key = KEY.get_or_init(|| {
        SigningKey::from_pkcs8(&SigningKey::generate_pkcs8().unwrap()).unwrap()
    });
    let public = key.jwk().public_key().unwrap();
    let keys = std::slice::from_ref(&public);
    let at = [Binding::new("PUT", "/NL/CPO/LOC1")];
    if let Ok(kid) = verify(Some(header), body, keys, &at) {
        assert_eq!(kid, public.kid);
    }
    let _ = unknown_kids(Some(header), keys);
    let ours = key.sign(body, &at[0]);
    assert!(verify(Some(&ours), body, keys, &at).is_ok());
    let mut altered = body.to_vec();
    altered.push(b' ');
    assert!(verify(Some(&ours), &altered, keys, &at).is_err());
    let elsewhere = [Binding::new("PUT", "/NL/CPO/LOC2")];
    assert!(verify(Some(&ours), body, keys, &elsewhere).is_err());
    if let Ok(jwk) = serde_json::from_str::<Jwk>(header) {
        if let Ok(k) = jwk.public_key() {
            // The kid is optional (RFC 7517); when given it is the thumbprint.
            assert!(jwk.kid.is_empty() || k.kid == jwk.kid);
            assert_eq!(k.kid, unicharge_ocpi::signing::thumbprint(&k.x()));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = std::str::from_utf8(rest).ok();
    match selector % 12 {
        0 => object::<Location>(rest),
        1 => object::<Cdr>(rest),
        2 => object::<Tariff>(rest),
        3 => object::<Session>(rest),
        4 => object::<Token>(rest),
        5 => object::<Credentials>(rest),
        6 => object::<AuthorizationInfo>(rest),
        7 => object::<Response<Vec<VersionInfo>>>(rest),
        8 => object::<VersionDetails>(rest),
        9 => {
            for command in [
                "START_SESSION",
                "STOP_SESSION",
                "RESERVE_NOW",
                "CANCEL_RESERVATION",
                "UNLOCK_CONNECTOR",
            ] {
                let kind: CommandType = command.parse().unwrap();
                if let Ok(parsed) = Command::from_body(&kind, rest) {
                    assert_eq!(parsed.command_type(), kind);
                }
            }
            // The driver-messages extension (ADR 0042) rides on the command pattern.
            object::<DriverMessageRequest>(rest);
            object::<DriverMessage>(rest);
            // The session-limits extension (ADR 0045): read, checked, compared.
            object::<SessionLimitsState>(rest);
            if let Ok(limits) = serde_json::from_slice::<SessionLimits>(rest) {
                let _ = limits.check();
                let d = limits.max_cost.unwrap_or_default();
                let _ = limits.reached(Some(d), d, limits.max_duration.unwrap_or_default());
                object::<SessionLimits>(rest);
            }
        }
        10 => {
            let Some(text) = text else { return };
            if let Ok(token) = ReceivedToken::from_header(Some(text)) {
                assert!(token.candidates().count() >= 1);
                assert!(token.matches(&token.raw.clone()));
            }
            let _ = next_link(text);
            signature(text, rest);
        }
        _ => {
            let Some(text) = text else { return };
            let pairs = text
                .split('&')
                .map(|pair| pair.split_once('=').unwrap_or((pair, "")));
            if let Ok(query) = ListQuery::from_pairs(pairs) {
                for total in [0u64, 1, 99, u64::MAX] {
                    let page = query.page(100);
                    let range = page.range(total);
                    assert!(range.start <= range.end && range.end <= total);
                    assert!(range.end - range.start <= 100);
                    let headers = page.headers("https://x/cdrs", &query, total);
                    let has_link = headers.iter().any(|(name, _)| *name == "Link");
                    assert_eq!(has_link, page.next_offset(total).is_some());
                    if let Some(next) = page.next_offset(total) {
                        assert!(next < total);
                    }
                }
            }
        }
    }
});
