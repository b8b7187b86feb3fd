//! TLS for `https://` webhook receivers: rustls with the system's trusted roots (the
//! `ca-certificates` bundle, or `SSL_CERT_FILE`/`SSL_CERT_DIR`) and, optionally, the roots of one
//! more PEM file (`WEBHOOK_CA_FILE`) for a receiver whose certificate a private CA signed.
//! Personal data in events is then encrypted on the wire without relying on a service mesh.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The client's TLS settings: trusted roots, TLS 1.2 and 1.3 with rustls's safe defaults, and
/// HTTP/1.1 (each delivery is one POST on a kept-alive connection).
pub fn client_config(extra_ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    let (trusted, _) = roots.add_parsable_certificates(system.certs);
    if !system.errors.is_empty() {
        // A certificate store that cannot be read in part still trusts what could be.
        tracing::warn!(
            errors = system.errors.len(),
            trusted,
            "some of the system's trusted certificates could not be read"
        );
    }
    if let Some(file) = extra_ca_file {
        let added = add_pem_file(&mut roots, file)?;
        tracing::info!(file = %file.display(), added, "webhook CA certificates added");
    }
    if roots.is_empty() {
        return Err(
            "https:// webhook URLs need trusted roots: install the system's CA certificates or \
             set WEBHOOK_CA_FILE"
                .into(),
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS: {err}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Adds every certificate of the PEM file `file` to `roots`; a file without one is an error, so
/// that a wrong path or format fails at start-up rather than at the first delivery.
fn add_pem_file(roots: &mut RootCertStore, file: &Path) -> Result<usize, String> {
    let unreadable =
        |err: rustls_pki_types::pem::Error| format!("WEBHOOK_CA_FILE '{}': {err}", file.display());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
        .map_err(unreadable)?
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    if certs.is_empty() {
        return Err(format!(
            "WEBHOOK_CA_FILE '{}' holds no PEM certificate",
            file.display()
        ));
    }
    let (added, ignored) = roots.add_parsable_certificates(certs);
    if ignored > 0 {
        return Err(format!(
            "WEBHOOK_CA_FILE '{}': {ignored} certificate(s) could not be used as a root",
            file.display()
        ));
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_ca_file_is_read_or_refused_with_its_name() {
        let ca = rcgen::CertificateParams::new(Vec::<String>::new())
            .unwrap()
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap();
        let mut good = tempfile::NamedTempFile::new().unwrap();
        good.write_all(ca.pem().as_bytes()).unwrap();
        assert!(client_config(Some(good.path())).is_ok());

        let mut empty = tempfile::NamedTempFile::new().unwrap();
        empty.write_all(b"not a certificate\n").unwrap();
        let refused = client_config(Some(empty.path())).unwrap_err();
        assert!(refused.contains("holds no PEM certificate"), "{refused}");

        let missing = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
    }
}
