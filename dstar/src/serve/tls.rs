//! HTTPS with HTTP/2 through rustls (cargo feature `tls`), without OpenSSL.

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
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
    /// `DSTAR_TLS=dev`, or `DSTAR_TLS_CERT` with `DSTAR_TLS_KEY`; `None` when neither is set.
    ///
    /// ```
    /// let tls = dstar::Tls::from_env();
    /// ```
    pub fn from_env() -> Option<Tls> {
        if std::env::var("DSTAR_TLS").is_ok_and(|v| v == "dev") {
            return Some(Tls::Dev);
        }
        match (
            std::env::var_os("DSTAR_TLS_CERT"),
            std::env::var_os("DSTAR_TLS_KEY"),
        ) {
            (Some(cert), Some(key)) => Some(Tls::Pem {
                cert: cert.into(),
                key: key.into(),
            }),
            _ => None,
        }
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

/// Accepts TLS connections and serves each with HTTP/2 or HTTP/1.1 (by ALPN) until `shutdown`,
/// then lets open connections finish (streams end through `sse::shutdown`).
pub(crate) async fn serve_tls(
    listener: TcpListener,
    router: Router,
    config: Arc<ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (tcp, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::debug!(error = %e, "dstar: accept failed");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "dstar: TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(error = %e, "dstar: connection ended with an error");
            }
        });
    }
    crate::sse::shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    Ok(())
}
