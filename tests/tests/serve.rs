//! `dstar::serve`: HTTP/2 over TLS (a dev certificate generated in-process, or PEM files), h2c
//! prior knowledge on plain TCP, and a graceful shutdown that completes in-flight responses and
//! ends open streams cleanly. Everything on 127.0.0.1.

use bytes::Bytes;
use dstar::Tls;
use dstar::prelude::*;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

#[derive(Default)]
struct Hello;

#[dstar::page("/hello", title = "Hello")]
impl Hello {
    fn render(&self) -> Markup {
        html! { p { "hello" } }
    }

    /// A slow event, to prove in-flight responses complete during shutdown: it says it started,
    /// and finishes only once the test has asked the server to shut down.
    #[event]
    async fn slow(sse: &mut Sse) {
        SLOW_STARTED.notify_one();
        let _ = tokio::time::timeout(Duration::from_secs(10), SLOW_RELEASED.notified()).await;
        sse.patch_signals(json!({ "done": true }));
    }
}

/// Told when the slow event starts, and tells it to finish (a permit is kept if nobody waits
/// yet). Only the shutdown test sends the event, alone in its process.
static SLOW_STARTED: tokio::sync::Notify = tokio::sync::Notify::const_new();
static SLOW_RELEASED: tokio::sync::Notify = tokio::sync::Notify::const_new();

fn router() -> dstar::axum::Router {
    let stream = dstar::axum::routing::post(|| async {
        dstar::sse::stream(|sse| async move {
            let _ = sse.patch_signals(json!({ "open": true })).await;
            std::future::pending::<()>().await;
        })
    });
    dstar::App::empty()
        .page::<Hello>()
        .build()
        .route("/stream", stream)
}

/// Starts a server on a free port; returns its address, a shutdown trigger and its task.
async fn start(tls: Option<Tls>) -> dstar_tests::Served {
    dstar_tests::serve_on_loopback(router(), |server| match tls {
        Some(tls) => server.tls(tls),
        None => server,
    })
    .await
}

/// Accepts any certificate: the dev certificate is self-signed and generated at start.
#[derive(Debug)]
struct AcceptAny;

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, tokio_rustls::rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        tokio_rustls::rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn client_config(roots: Option<RootCertStore>) -> ClientConfig {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap();
    let mut config = match roots {
        Some(roots) => builder.with_root_certificates(roots).with_no_client_auth(),
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny))
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// GET over HTTP/2 on `io`; returns the status, the version and the body.
async fn h2_get<IO>(io: IO, path: &str) -> (u16, hyper::Version, String)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::get(format!("https://localhost{path}"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = send.send_request(req).await.unwrap();
    let (status, version) = (res.status().as_u16(), res.version());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, version, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn dev_tls_serves_http2_with_alpn_h2() {
    let (addr, stop, task) = start(Some(Tls::Dev)).await;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(None)));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (status, version, body) = h2_get(tls, "/hello").await;
    assert_eq!((status, version), (200, hyper::Version::HTTP_2));
    assert!(body.contains("<title>Hello</title>"), "{body}");
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn pem_certificates_are_used() {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let dir = std::env::temp_dir().join(format!("dstar-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    let (addr, stop, task) = start(Some(Tls::Pem { cert, key })).await;
    let mut roots = RootCertStore::empty();
    roots.add(generated.cert.der().clone()).unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(Some(roots))));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let (status, version, _) = h2_get(tls, "/hello").await;
    assert_eq!((status, version), (200, hyper::Version::HTTP_2));
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn plain_tcp_speaks_h2c_with_prior_knowledge_and_http1() {
    let (addr, stop, task) = start(None).await;
    let (status, version, body) = h2_get(TcpStream::connect(addr).await.unwrap(), "/hello").await;
    assert_eq!((status, version), (200, hyper::Version::HTTP_2));
    assert!(body.contains("<p>hello</p>"));
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /hello HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await.unwrap();
    assert!(out.starts_with(b"HTTP/1.1 200"));
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_completes_in_flight_events_and_ends_streams_cleanly() {
    // shutdown ends every stream of the process: run in a child so other tests are not touched
    if !dstar_tests::in_child(
        "shutdown_completes_in_flight_events_and_ends_streams_cleanly",
        "DSTAR_TEST_SERVE_CHILD",
        "1".as_ref(),
    ) {
        return;
    }
    let (addr, stop, task) = start(None).await;
    // an open stream
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /stream HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("\"open\":true") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    // an event in flight
    let slow = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"POST /hello/_event/slow HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}")
            .await
            .unwrap();
        let mut out = Vec::new();
        tcp.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    });
    // the event is in flight: its handler runs, and waits
    tokio::time::timeout(Duration::from_secs(10), SLOW_STARTED.notified())
        .await
        .expect("the slow event started");
    stop.send(()).unwrap();
    // the stream ends cleanly (the chunked body's terminator): the server is shutting down
    while !String::from_utf8_lossy(&seen).contains("0\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "the stream was cut instead of ended");
        seen.extend_from_slice(&buf[..n]);
    }
    // the event, still in flight during the shutdown, completes
    assert!(
        !slow.is_finished(),
        "the slow event finished before the shutdown"
    );
    SLOW_RELEASED.notify_one();
    let response = tokio::time::timeout(Duration::from_secs(5), slow)
        .await
        .unwrap()
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("signals {\"done\":true}"), "{response}");
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// `Server::from_routes` (the "Without dispatch" way to serve) has the same cross-origin
/// protection as an `App`, unless the code turns it off.
#[tokio::test]
async fn a_server_from_routes_refuses_a_cross_site_post_by_default() {
    async fn wipe() -> &'static str {
        "wiped"
    }
    for (off, expected) in [(false, 403), (true, 200)] {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = dstar::Server::from_routes(dstar::routes! { "/wipe" => post(wipe) })
            .cross_origin_protection(!off)
            .logging(false)
            .default_addr("127.0.0.1:0")
            .shutdown_on(async {
                let _ = rx.await;
            });
        let bound = server.bind().await.unwrap();
        let addr = bound.local_addr();
        let task = tokio::spawn(bound.run());
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        conn.write_all(
            format!(
                "POST /wipe HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://evil.example\r\nSec-Fetch-Site: cross-site\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).await.unwrap();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {expected}")),
            "{answer}"
        );
        let _ = tx.send(());
        let _ = task.await;
    }
}
