//! Webhooks over TLS: a receiver whose certificate a private CA signed gets every event when
//! that CA is trusted through `WEBHOOK_CA_FILE`, and none when it is not.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use webwork_scim_api::webhook_tls;

use crate::lifecycle::{LONG_LIFE, settings, start_worker};
use crate::receiver::Receiver;
use crate::support::*;

/// A private CA, and a receiver on 127.0.0.1 with a certificate it signed.
struct PrivateCa {
    pem: String,
    receiver: Receiver,
}

fn private_ca() -> PrivateCa {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    PrivateCa {
        pem: ca.pem(),
        receiver: Receiver::start_tls(tls),
    }
}

#[actix_web::test]
async fn events_reach_an_https_receiver_whose_ca_is_trusted() {
    let ca = private_ca();
    assert!(ca.receiver.url().starts_with("https://"));
    let mut ca_file = tempfile::NamedTempFile::new().unwrap();
    ca_file.write_all(ca.pem.as_bytes()).unwrap();

    let app = TestApp::start().await;
    let mut trusting = settings(&ca.receiver, LONG_LIFE);
    trusting.tls = Some(webhook_tls::client_config(Some(ca_file.path())).unwrap());
    let worker = start_worker(&app, trusting);
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    app.patch(&user(&ws, &id), &token, &patch_active(false))
        .await
        .expect(200);
    let arrived = ca
        .receiver
        .wait_until(Duration::from_secs(5), |r| r.types_for(&id).len() == 3)
        .await;
    worker.abort();
    assert!(arrived, "{:?}", ca.receiver.types_for(&id));
    assert_eq!(
        ca.receiver.types_for(&id),
        ["user.created", "user.password_set", "user.deactivated"]
    );
}

#[actix_web::test]
async fn an_https_receiver_signed_by_an_untrusted_ca_gets_nothing() {
    let ca = private_ca();
    let someone_else = private_ca();
    let mut other_file = tempfile::NamedTempFile::new().unwrap();
    other_file.write_all(someone_else.pem.as_bytes()).unwrap();
    let app = TestApp::start().await;
    let mut trusting_another = settings(&ca.receiver, LONG_LIFE);
    trusting_another.tls = Some(webhook_tls::client_config(Some(other_file.path())).unwrap());
    let worker = start_worker(&app, trusting_another);
    let (ws, token) = app.premium("Acme").await;
    app.create_user(&ws, &token, "jane@acme.com").await;
    let failures = &app.state.metrics.webhook_failures;
    eventually(Duration::from_secs(5), async || failures.get() >= 2).await;
    worker.abort();
    assert!(ca.receiver.deliveries().is_empty());
}
