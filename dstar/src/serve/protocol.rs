//! Which HTTP a connection speaks, told before hyper reads a byte, and hyper's connection for it.
//!
//! hyper-util's "auto" connection reads the first bytes itself to tell HTTP/1.1 from HTTP/2's
//! preface, then hands them back to hyper through a wrapper. That cost every connection 5 to
//! 6 KB resident for as long as it was open: a hand-written hyper server held 17.1 KB per open
//! event stream with the auto connection and 12.2 KB with hyper's HTTP/1 one; dstar's
//! leaderboard went from 20.9 to 14.7 KB per viewer (60 MB at 10,000 viewers). Here the protocol
//! comes from TLS's ALPN, or from a peek at the socket (which leaves the bytes where they are),
//! and the connection is hyper's own HTTP/1 or HTTP/2 one. The HTTP/2 one is boxed: inline, its
//! larger state sized every HTTP/1 connection's task too (about 0.9 KB more per open stream).

use super::limits::Limits;
use hyper::body::{Body, Incoming};
use hyper::rt::{Read, Write};
use hyper::server::conn::{http1, http2};
use hyper::service::HttpService;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;

/// What a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    Http1,
    Http2,
}

/// The client sent no byte before the header-read deadline.
#[derive(Debug)]
pub(crate) struct SentNothing;

/// What an HTTP/2 client sends first (prior knowledge, without TLS).
pub(crate) const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Tells the protocol from the first bytes a plain TCP client sent, without taking them off the
/// socket: HTTP/2 when they are its whole preface, else HTTP/1.1. Until the bytes so far could
/// still be either (`P`, `PRI * HT`…), it peeks again after a pause that doubles (a peek returns
/// at once while bytes wait unread), so a client that stops there costs a few dozen wake-ups
/// before its deadline, not a busy loop. A client that sent nothing by `deadline` is
/// [`SentNothing`]; one that closed (or failed) is left to HTTP/1.1, which ends it.
pub(crate) async fn peek_protocol(
    tcp: &TcpStream,
    deadline: tokio::time::Instant,
) -> Result<Protocol, SentNothing> {
    let mut first = [0u8; H2_PREFACE.len()];
    let mut pause = FIRST_PAUSE;
    loop {
        let n = match tokio::time::timeout_at(deadline, tcp.peek(&mut first)).await {
            Err(_) => return Err(SentNothing),
            Ok(Ok(n)) => n,
            Ok(Err(_)) => 0,
        };
        if n == 0 || first[..n] != H2_PREFACE[..n] {
            return Ok(Protocol::Http1);
        }
        if n == H2_PREFACE.len() {
            return Ok(Protocol::Http2);
        }
        if tokio::time::Instant::now() + pause > deadline {
            return Err(SentNothing);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// The first pause before peeking again at a client whose bytes could still be either.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
/// The longest pause between two peeks.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The HTTP/2 receive window of a connection: the request data hyper buffers for it before any
/// handler reads it. Datastar's requests are small; an upload over a 100 ms link still moves at
/// 2.5 MB/s per connection.
const H2_CONNECTION_WINDOW: u32 = 256 << 10;
/// The HTTP/2 receive window of one request.
const H2_STREAM_WINDOW: u32 = 128 << 10;

/// hyper's HTTP/1 and HTTP/2 connection builders, set up once per server.
pub(crate) struct Builders {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
}

impl Builders {
    pub(crate) fn new(limits: &Limits) -> Self {
        let mut http1 = http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout);
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            // dead HTTP/2 peers are noticed and dropped
            .keep_alive_interval(Some(Duration::from_secs(20)))
            .keep_alive_timeout(Duration::from_secs(20))
            // what a client may send that no handler has read yet, buffered by hyper: per
            // connection (hyper's default is 1 MiB) and per request
            .initial_connection_window_size(H2_CONNECTION_WINDOW)
            .initial_stream_window_size(H2_STREAM_WINDOW)
            .enable_connect_protocol();
        Builders { http1, http2 }
    }

    /// Serves `service` on `io` in `protocol` (HTTP/1.1 with upgrades, or HTTP/2).
    pub(crate) fn serve<I: Io, S: Service>(
        &self,
        protocol: Protocol,
        io: I,
        service: S,
    ) -> Served<I, S> {
        match protocol {
            Protocol::Http1 => Served::Http1 {
                conn: self.http1.serve_connection(io, service).with_upgrades(),
            },
            Protocol::Http2 => Served::Http2 {
                conn: Box::pin(self.http2.serve_connection(io, service)),
            },
        }
    }
}

type BoxError = Box<dyn StdError + Send + Sync>;

/// A connection's socket, as hyper serves it in either protocol.
pub(crate) trait Io: Read + Write + Unpin + Send + 'static {}
impl<I: Read + Write + Unpin + Send + 'static> Io for I {}

/// A service hyper can serve in either protocol: the bounds of its HTTP/1 and HTTP/2
/// connections, named once.
pub(crate) trait Service:
    HttpService<
        Incoming,
        Error: Into<BoxError>,
        Future: Send + 'static,
        ResBody: Body<Data: Send, Error: Into<BoxError>> + Send + 'static,
    >
{
}

impl<S> Service for S where
    S: HttpService<
            Incoming,
            Error: Into<BoxError>,
            Future: Send + 'static,
            ResBody: Body<Data: Send, Error: Into<BoxError>> + Send + 'static,
        >
{
}

pin_project_lite::pin_project! {
    /// One connection, in the protocol it speaks.
    #[project = ServedProj]
    pub(crate) enum Served<I, S>
    where
        S: HttpService<Incoming>,
    {
        Http1 { #[pin] conn: http1::UpgradeableConnection<I, S> },
        // boxed: an HTTP/2 connection's state is larger, and inline every HTTP/1 connection
        // task (the usual kind) would carry its size
        Http2 { conn: Pin<Box<http2::Connection<I, S, TokioExecutor>>> },
    }
}

impl<I: Io, S: Service> Served<I, S> {
    /// Stops taking requests (HTTP/1.1: after the one in flight; HTTP/2: `GOAWAY`) and lets the
    /// ones in flight finish.
    pub(crate) fn graceful_shutdown(self: Pin<&mut Self>) {
        match self.project() {
            ServedProj::Http1 { conn } => conn.graceful_shutdown(),
            ServedProj::Http2 { conn } => conn.as_mut().graceful_shutdown(),
        }
    }
}

impl<I: Io, S: Service> Future for Served<I, S> {
    type Output = Result<(), hyper::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ServedProj::Http1 { conn } => conn.poll(cx),
            ServedProj::Http2 { conn } => conn.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;
    use tokio::net::TcpListener;

    /// A connected pair on loopback: (client, server side).
    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (client, server)
    }

    fn in_a_second() -> tokio::time::Instant {
        tokio::time::Instant::now() + Duration::from_secs(1)
    }

    #[tokio::test]
    async fn http1_is_told_from_its_first_bytes_and_they_stay_on_the_socket() {
        let (mut client, server) = pair().await;
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let told = peek_protocol(&server, in_a_second()).await;
        assert!(matches!(told, Ok(Protocol::Http1)));
        let mut unread = [0u8; 16];
        server.peek(&mut unread).await.unwrap();
        assert_eq!(&unread, b"GET / HTTP/1.1\r\n");
    }

    #[tokio::test]
    async fn an_http2_preface_in_pieces_is_waited_for() {
        let (mut client, server) = pair().await;
        client.write_all(&H2_PREFACE[..10]).await.unwrap();
        let rest = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            client.write_all(&H2_PREFACE[10..]).await.unwrap();
            client
        });
        let told = peek_protocol(&server, in_a_second()).await;
        assert!(matches!(told, Ok(Protocol::Http2)));
        drop(rest.await.unwrap());
    }

    #[tokio::test]
    async fn a_client_that_sends_nothing_or_half_a_preface_is_dropped_at_the_deadline() {
        let (_silent, server) = pair().await;
        let soon = tokio::time::Instant::now() + Duration::from_millis(50);
        assert!(matches!(
            peek_protocol(&server, soon).await,
            Err(SentNothing)
        ));
        let (mut client, server) = pair().await;
        client.write_all(b"PRI * HT").await.unwrap();
        let soon = tokio::time::Instant::now() + Duration::from_millis(50);
        assert!(matches!(
            peek_protocol(&server, soon).await,
            Err(SentNothing)
        ));
    }

    #[tokio::test]
    async fn a_client_that_closed_is_left_to_http1() {
        let (client, server) = pair().await;
        drop(client);
        assert!(matches!(
            peek_protocol(&server, in_a_second()).await,
            Ok(Protocol::Http1)
        ));
    }
}
