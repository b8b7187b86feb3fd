//! Admin-API JWT validation with real keys: the fixtures are test-only Ed25519 and RSA keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use webwork_scim_tenancy::{JwtError, JwtVerifier, Role};

const ED_PRIVATE: &str = include_str!("fixtures/jwt-ed25519-private.pem");
const ED_PUBLIC: &str = include_str!("fixtures/jwt-ed25519-public.pem");
const OTHER_ED_PRIVATE: &str = include_str!("fixtures/jwt-other-ed25519-private.pem");
const RSA_PRIVATE: &str = include_str!("fixtures/jwt-rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("fixtures/jwt-rsa-public.pem");
const SECRET: &str = "a-development-secret-of-32-bytes!!";

fn verifier(allow_hs256: bool) -> JwtVerifier {
    let mut keys = vec![
        json!({"kid": "ed", "alg": "EdDSA", "public_key": ED_PUBLIC}),
        json!({"kid": "rsa", "alg": "RS256", "public_key": RSA_PUBLIC}),
    ];
    if allow_hs256 {
        keys.push(json!({"kid": "dev", "alg": "HS256", "secret": SECRET}));
    }
    JwtVerifier::from_json(
        &Value::Array(keys).to_string(),
        "webwork",
        "webwork-scim-admin",
        30,
        allow_hs256,
    )
    .unwrap()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn claims() -> Value {
    json!({"sub": "user-1", "ws": "acme-1234", "role": "admin", "iss": "webwork",
           "aud": "webwork-scim-admin", "exp": now() + 300, "nbf": now() - 10})
}

fn sign(kid: &str, alg: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    encode(&header, claims, key).unwrap()
}

fn ed(claims: &Value) -> String {
    sign(
        "ed",
        Algorithm::EdDSA,
        &EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).unwrap(),
        claims,
    )
}

#[test]
fn valid_eddsa_and_rs256_tokens_verify() {
    let v = verifier(false);
    let admin = v.verify(&ed(&claims())).unwrap();
    assert_eq!(
        (
            admin.subject.as_str(),
            admin.workspace.as_deref(),
            admin.role
        ),
        ("user-1", Some("acme-1234"), Role::Admin)
    );
    let mut platform = claims();
    platform["role"] = json!("platform");
    let rsa = sign(
        "rsa",
        Algorithm::RS256,
        &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
        &platform,
    );
    assert_eq!(v.verify(&rsa).unwrap().role, Role::Platform);
}

#[test]
fn expired_premature_wrong_issuer_or_audience_are_refused() {
    let v = verifier(false);
    for (field, value) in [
        ("exp", json!(now() - 120)),
        ("nbf", json!(now() + 120)),
        ("iss", json!("someone-else")),
        ("aud", json!("webwork-internal")),
        ("role", json!("superuser")),
    ] {
        let mut c = claims();
        c[field] = value;
        assert!(v.verify(&ed(&c)).is_err(), "{field}");
    }
    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert!(v.verify(&ed(&no_exp)).is_err());
}

#[test]
fn leeway_tolerates_small_clock_skew() {
    let v = verifier(false);
    let mut c = claims();
    c["exp"] = json!(now() - 10);
    assert!(v.verify(&ed(&c)).is_ok());
}

#[test]
fn wrong_signatures_unknown_kids_and_algorithm_confusion_are_refused() {
    let v = verifier(true);
    let forged = sign(
        "ed",
        Algorithm::EdDSA,
        &EncodingKey::from_ed_pem(OTHER_ED_PRIVATE.as_bytes()).unwrap(),
        &claims(),
    );
    assert!(matches!(v.verify(&forged), Err(JwtError::Invalid(_))));
    let unknown = sign(
        "nope",
        Algorithm::EdDSA,
        &EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).unwrap(),
        &claims(),
    );
    assert_eq!(v.verify(&unknown), Err(JwtError::UnknownKey));
    // The RSA public key used as an HMAC secret under the RSA key's kid.
    let confused = sign(
        "rsa",
        Algorithm::HS256,
        &EncodingKey::from_secret(RSA_PUBLIC.as_bytes()).unwrap(),
        &claims(),
    );
    assert!(v.verify(&confused).is_err());
    // An HS256 token under an EdDSA kid.
    let swapped = sign(
        "ed",
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        &claims(),
    );
    assert!(v.verify(&swapped).is_err());
    assert_eq!(v.verify("not.a.jwt"), Err(JwtError::Malformed));
    let unsigned = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","kid":"ed"}"#),
        b64(&claims().to_string())
    );
    assert!(v.verify(&unsigned).is_err());
}

#[test]
fn hs256_only_when_explicitly_allowed() {
    let dev_key = json!([{"kid": "dev", "alg": "HS256", "secret": SECRET}]).to_string();
    assert!(JwtVerifier::from_json(&dev_key, "webwork", "webwork-scim-admin", 30, false).is_err());
    let v = verifier(true);
    let token = sign(
        "dev",
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        &claims(),
    );
    assert!(v.verify(&token).is_ok());
    let short = json!([{"kid": "dev", "alg": "HS256", "secret": "short"}]).to_string();
    assert!(JwtVerifier::from_json(&short, "webwork", "webwork-scim-admin", 30, true).is_err());
}

#[test]
fn bad_configuration_is_refused() {
    for keys in [
        "not json",
        r#"[{"kid": "a", "alg": "EdDSA", "public_key": "garbage"}]"#,
        r#"[{"kid": "a", "alg": "none"}]"#,
        r#"[{"kid": "a", "alg": "EdDSA", "public_key": "x", "extra": 1}]"#,
    ] {
        assert!(
            JwtVerifier::from_json(keys, "i", "a", 0, false).is_err(),
            "{keys}"
        );
    }
    let twice = json!([{"kid": "ed", "alg": "EdDSA", "public_key": ED_PUBLIC}, {"kid": "ed", "alg": "EdDSA", "public_key": ED_PUBLIC}]).to_string();
    assert!(JwtVerifier::from_json(&twice, "i", "a", 0, false).is_err());
}

fn b64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}
