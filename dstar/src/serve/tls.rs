//! HTTPS with HTTP/2 through rustls (cargo feature `tls`), without OpenSSL.

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the TLS certificate comes from.
#[derive(Debug, Clone)]
pub enum Tls {
    /// A self-signed certificate for `localhost` and `127.0.0.1`, generated in-process at start
    /// (`DSTAR_TLS=dev`). Browsers warn once; accept it for development.
    Dev,
    /// PEM files: the certificate chain and the private key (`DSTAR_TLS_CERT`, `DSTAR_TLS_KEY`).
    Pem {
        /// The certificate chain.
        cert: PathBuf,
        /// The private key.
        key: PathBuf,
    },
    /// A ready rustls configuration (its ALPN list is replaced by `h2`, `http/1.1`).
    Config(Arc<ServerConfig>),
}

impl Tls {
    /// `DSTAR_TLS=dev`, or `DSTAR_TLS_CERT` with `DSTAR_TLS_KEY`; `None` when none is set. A
    /// half-made setting is an error, not plain HTTP: a certificate without its key (or the
    /// reverse), or `DSTAR_TLS` with a value other than `dev`. `dstar::serve` fails to start
    /// with it.
    ///
    /// ```
    /// let tls = dstar::Tls::from_env();
    /// ```
    pub fn from_env() -> io::Result<Option<Tls>> {
        // set but empty (a templated env file) is unset
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        Tls::from_vars(
            var("DSTAR_TLS"),
            var("DSTAR_TLS_CERT"),
            var("DSTAR_TLS_KEY"),
        )
    }

    fn from_vars(
        mode: Option<OsString>,
        cert: Option<OsString>,
        key: Option<OsString>,
    ) -> io::Result<Option<Tls>> {
        let bad = |message: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        match (mode, cert, key) {
            (Some(mode), _, _) if mode != "dev" => bad(
                "DSTAR_TLS accepts only `dev` (a self-signed development certificate); for real certificates set DSTAR_TLS_CERT and DSTAR_TLS_KEY",
            ),
            (Some(_), None, None) => Ok(Some(Tls::Dev)),
            (Some(_), _, _) => {
                bad("DSTAR_TLS=dev and DSTAR_TLS_CERT/DSTAR_TLS_KEY are both set: choose one")
            }
            (None, Some(cert), Some(key)) => Ok(Some(Tls::Pem {
                cert: cert.into(),
                key: key.into(),
            })),
            (None, Some(_), None) => bad(
                "DSTAR_TLS_CERT is set but DSTAR_TLS_KEY is not: set both, or neither for plain HTTP",
            ),
            (None, None, Some(_)) => bad(
                "DSTAR_TLS_KEY is set but DSTAR_TLS_CERT is not: set both, or neither for plain HTTP",
            ),
            (None, None, None) => Ok(None),
        }
    }

    pub(crate) fn handshake(&self) -> io::Result<TlsHandshake> {
        if matches!(self, Tls::Dev) {
            if let Some(warning) = dev_certificate_warning(!cfg!(debug_assertions)) {
                tracing::warn!("{warning}");
                eprintln!("dstar: WARNING: {warning}");
            }
        }
        Ok(TlsHandshake {
            acceptor: TlsAcceptor::from(self.config()?),
        })
    }

    pub(crate) fn config(&self) -> io::Result<Arc<ServerConfig>> {
        let bad =
            |e: &dyn std::fmt::Display| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
        let (certs, key): (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) = match self {
            Tls::Config(config) => {
                let mut config = (**config).clone();
                config.alpn_protocols = alpn();
                return Ok(Arc::new(config));
            }
            Tls::Dev => {
                let generated = rcgen::generate_simple_self_signed(vec![
                    "localhost".into(),
                    "127.0.0.1".into(),
                ])
                .map_err(|e| bad(&e))?;
                let key = PrivateKeyDer::try_from(generated.signing_key.serialize_der())
                    .map_err(|e| bad(&e))?;
                (vec![generated.cert.der().clone()], key)
            }
            Tls::Pem { cert, key } => {
                let certs = CertificateDer::pem_file_iter(cert)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| bad(&format_args!("DSTAR_TLS_CERT {}: {e}", cert.display())))?;
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| bad(&format_args!("DSTAR_TLS_KEY {}: {e}", key.display())))?;
                (certs, key)
            }
        };
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(&e))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| bad(&e))?;
        config.alpn_protocols = alpn();
        Ok(Arc::new(config))
    }
}

fn alpn() -> Vec<Vec<u8>> {
    vec![b"h2".to_vec(), b"http/1.1".to_vec()]
}

/// TLS on accepted connections, with a deadline on the handshake.
#[derive(Clone)]
pub(crate) struct TlsHandshake {
    acceptor: TlsAcceptor,
}

impl super::connections::Handshake for TlsHandshake {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;

    async fn handshake(&self, tcp: TcpStream) -> Option<Self::Io> {
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => Some(tls),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "dstar: TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!("dstar: TLS handshake timed out");
                None
            }
        }
    }

    fn is_tls(&self) -> bool {
        true
    }

    /// What ALPN chose; a client that offered none speaks HTTP/1.1 (HTTP/2 over TLS is
    /// negotiated with ALPN, RFC 9113 §3.3).
    async fn protocol(
        tls: &Self::Io,
        _deadline: tokio::time::Instant,
    ) -> Result<super::protocol::Protocol, super::protocol::SentNothing> {
        use super::protocol::Protocol;
        Ok(match tls.get_ref().1.alpn_protocol() {
            Some(b"h2") => Protocol::Http2,
            _ => Protocol::Http1,
        })
    }
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The warning a release build logs when it serves the self-signed development certificate.
pub(crate) fn dev_certificate_warning(release: bool) -> Option<&'static str> {
    release.then_some(
        "DSTAR_TLS=dev in a release build: serving a SELF-SIGNED DEVELOPMENT CERTIFICATE. \
         Browsers will warn and clients cannot verify this server. For production, set \
         DSTAR_TLS_CERT and DSTAR_TLS_KEY (or terminate TLS in a proxy).",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_made_tls_setting_is_an_error_not_plain_http() {
        let some = |v: &str| Some(OsString::from(v));
        let error = |r: io::Result<Option<Tls>>| r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(matches!(Tls::from_vars(None, None, None), Ok(None)));
        assert!(matches!(
            Tls::from_vars(some("dev"), None, None),
            Ok(Some(Tls::Dev))
        ));
        assert!(matches!(
            Tls::from_vars(None, some("c.pem"), some("k.pem")),
            Ok(Some(Tls::Pem { .. }))
        ));
        assert!(error(Tls::from_vars(None, some("c.pem"), None)).contains("DSTAR_TLS_KEY is not"));
        assert!(error(Tls::from_vars(None, None, some("k.pem"))).contains("DSTAR_TLS_CERT is not"));
        assert!(error(Tls::from_vars(some("1"), None, None)).contains("accepts only `dev`"));
        assert!(error(Tls::from_vars(some("dev"), some("c"), some("k"))).contains("choose one"));
    }

    #[test]
    fn a_release_build_warns_loudly_about_the_dev_certificate() {
        let warning = dev_certificate_warning(true).expect("release builds warn");
        assert!(warning.contains("SELF-SIGNED DEVELOPMENT CERTIFICATE"));
        assert!(warning.contains("DSTAR_TLS_CERT"));
        assert_eq!(dev_certificate_warning(false), None);
    }
}
