//! The accept loop shared by plain TCP and TLS: a connection cap, a header-read deadline, an idle
//! deadline, back-off on accept errors, and a graceful shutdown with a hard deadline.

use super::activity::{Activity, Tracked, Verdict};
use super::limits::Limits;
use super::line_ends::StrictLineEnds;
use super::protocol::{Builders, Protocol, SentNothing, peek_protocol};
use super::request_body::{BodyBudget, Client, ServedBody};
use super::slow_start::FirstBytes;
use super::woken::WokenOnly;
use super::write_stall::WriteStall;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::headers::ServedOverTls;

/// How an accepted TCP connection becomes a byte stream: as it is, or through a TLS handshake.
pub(crate) trait Handshake: Clone + Send + Sync + 'static {
    /// The stream after the handshake.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Runs the handshake; `None` drops the connection (the reason is logged).
    fn handshake(&self, tcp: TcpStream) -> impl Future<Output = Option<Self::Io>> + Send;
    /// Whether requests on these connections came over TLS.
    fn is_tls(&self) -> bool;
    /// Which HTTP the connection speaks, told without reading from it: TLS's ALPN, or a peek at
    /// plain TCP's first bytes. Waits at most until `deadline` for them; a client that sent
    /// nothing by then ([`SentNothing`]) is dropped, as hyper's header-read deadline would.
    fn protocol(
        io: &Self::Io,
        deadline: tokio::time::Instant,
    ) -> impl Future<Output = Result<Protocol, SentNothing>> + Send;
}

/// Plain TCP: no handshake.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plain;

impl Handshake for Plain {
    type Io = TcpStream;
    async fn handshake(&self, tcp: TcpStream) -> Option<TcpStream> {
        Some(tcp)
    }
    fn is_tls(&self) -> bool {
        false
    }
    async fn protocol(
        tcp: &TcpStream,
        deadline: tokio::time::Instant,
    ) -> Result<Protocol, SentNothing> {
        peek_protocol(tcp, deadline).await
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains: open streams end
/// (`sse::shutdown`), in-flight responses complete, and whatever is still open after
/// `limits.shutdown_timeout` is closed.
pub(crate) async fn serve<H: Handshake>(
    listener: TcpListener,
    router: Router,
    handshake: H,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let (phase, phases) = watch::channel(Phase::Serving);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let body_budget = Arc::new(BodyBudget::new(limits.body_budget));
    let builders = Arc::new(Builders::new(&limits));
    let mut backoff = AcceptBackoff::default();
    let mut full_logged = false;
    tokio::pin!(shutdown);
    loop {
        // Past the cap, stop accepting: new connections wait in the kernel's backlog.
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                full_logged = false;
                permit
            }
            Err(_) => {
                if !full_logged {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "dstar: connection cap reached; new connections wait until one closes"
                    );
                    full_logged = true;
                }
                tokio::select! {
                    permit = permits.clone().acquire_owned() => permit.expect("never closed"),
                    _ = &mut shutdown => break,
                }
            }
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => {
                    backoff.reset();
                    conn
                }
                Err(e) => {
                    backoff.wait(&e).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        tune(&tcp, &limits);
        let handshake = handshake.clone();
        let router = router.clone();
        let builders = builders.clone();
        let mut phase = phases.clone();
        let idle_timeout = limits.idle_timeout;
        let header_timeout = limits.header_read_timeout;
        let body_timeout = limits.body_read_timeout;
        let body_budget = body_budget.clone();
        // a public peer is the client; a private one is most likely a proxy, which names the
        // client it serves in each request
        let client = Client::of(peer);
        let write_stall_timeout = limits.write_stall_timeout;
        tokio::spawn(async move {
            // a handshake still running when the server shuts down is dropped, not waited for
            let opened = tokio::select! {
                opened = async {
                    let io = handshake.handshake(tcp).await?;
                    // the first bytes are due by the header-read deadline, from the handshake on
                    let first_bytes_by = tokio::time::Instant::now() + header_timeout;
                    match H::protocol(&io, first_bytes_by).await {
                        Ok(protocol) => Some((io, protocol, first_bytes_by)),
                        Err(SentNothing) => {
                            tracing::debug!(%peer, "dstar: the client sent no request in time");
                            None
                        }
                    }
                } => opened,
                _ = phase.wait_for(|p| *p != Phase::Serving) => None,
            };
            let Some((io, protocol, first_bytes_by)) = opened else {
                return;
            };
            let tls = handshake.is_tls();
            let service = tower::util::MapRequest::new(router, move |req: Request<Incoming>| {
                let budget = body_budget.clone();
                let client = client.or_else(|| Client::forwarded(req.headers()));
                let mut req = req.map(|body| {
                    axum::body::Body::new(ServedBody::new(body, body_timeout, budget, client))
                });
                req.extensions_mut().insert(ConnectInfo(peer));
                if tls {
                    req.extensions_mut().insert(ServedOverTls);
                }
                req
            });
            // the place under the cap goes with the byte stream: an upgraded connection keeps it
            let activity = Arc::new(Activity::holding(permit));
            let io = TokioIo::new(
                WriteStall::new(
                    FirstBytes::new(
                        StrictLineEnds::new(io),
                        first_bytes_by.saturating_duration_since(tokio::time::Instant::now()),
                    ),
                    write_stall_timeout,
                )
                .reporting_to(activity.clone()),
            );
            let service = TowerToHyperService::new(Tracked::new(service, activity.clone()));
            let connection = builders.serve(protocol, io, service);
            tokio::pin!(connection);
            // polled only when their own wakers fire, not on every wake of the connection (every
            // frame a stream writes): see `woken`
            let watchdog = WokenOnly::new(super::activity::watchdog(
                &activity,
                idle_timeout,
                write_stall_timeout,
            ));
            tokio::pin!(watchdog);
            let mut closing = false;
            // an idle connection told to close gets this long to do so: an HTTP/2 client could
            // leave the graceful GOAWAY's ping unanswered and keep the connection for ever
            let mut grace: Option<tokio::time::Instant> = None;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, error = %e, "dstar: connection ended with an error");
                        }
                        break;
                    }
                    verdict = &mut watchdog, if !closing => match verdict {
                        Verdict::Idle => {
                            tracing::debug!(%peer, ?idle_timeout, "dstar: closing an idle connection");
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                            grace = Some(tokio::time::Instant::now() + IDLE_CLOSE_GRACE);
                        }
                        Verdict::Stalled => {
                            tracing::debug!(
                                %peer,
                                timeout = ?write_stall_timeout,
                                "dstar: an HTTP/2 response's client gave no flow-control credit and took no data within the write deadline; closing its connection"
                            );
                            break;
                        }
                    },
                    // (the expression is built even when the branch is off, hence the default)
                    () = tokio::time::sleep_until(grace.unwrap_or_else(tokio::time::Instant::now)), if grace.is_some() => {
                        tracing::debug!(%peer, "dstar: an idle connection did not close when told to; dropping it");
                        break;
                    }
                    changed = WokenOnly::new(phase.changed()) => {
                        let now = changed.map_or(Phase::Stopped, |()| *phase.borrow_and_update());
                        if now == Phase::Stopped {
                            tracing::debug!(%peer, "dstar: connection closed at the shutdown deadline");
                            break;
                        }
                        if !closing {
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    crate::sse::shutdown();
    let open = permits_in_use(&permits, limits.max_connections);
    if open > 0 {
        tracing::info!(
            open,
            deadline = ?limits.shutdown_timeout,
            "dstar: shutting down; waiting for open connections"
        );
    }
    let _ = phase.send(Phase::Draining);
    let all_closed = permits.acquire_many(limits.max_connections as u32);
    if tokio::time::timeout(limits.shutdown_timeout, all_closed)
        .await
        .is_err()
    {
        tracing::warn!(
            open = permits_in_use(&permits, limits.max_connections),
            deadline = ?limits.shutdown_timeout,
            "dstar: shutdown deadline passed; closing the connections still open"
        );
        let _ = phase.send(Phase::Stopped);
        // let the connection tasks see it and drop their sockets
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            permits.acquire_many(limits.max_connections as u32),
        )
        .await;
    }
    Ok(())
}

/// How long an idle connection told to close may take to do so before it is dropped.
const IDLE_CLOSE_GRACE: Duration = Duration::from_secs(10);

/// Where the server is in its life, as each connection task sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Shutting down: finish what is in flight, take no new request (HTTP/2 `GOAWAY`).
    Draining,
    /// The shutdown deadline passed: close now.
    Stopped,
}

/// Socket options for an accepted connection: no Nagle delay (events go out as they are written),
/// and, where the OS has it, `TCP_USER_TIMEOUT` at the write-stall deadline. A peer that vanished
/// without a FIN (a laptop closed, a phone out of range) leaves a stream's liveness check sitting
/// in the kernel's send buffer, where the write-stall deadline cannot see it; the kernel would
/// retransmit for about 15 minutes before giving up. With the option, unacknowledged data older
/// than the deadline closes the connection, and the stream ends as `ClientGone`.
fn tune(tcp: &TcpStream, limits: &Limits) {
    let _ = tcp.set_nodelay(true);
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
    // never below 30 s: a short write-stall deadline must not make the kernel give up on a
    // healthy connection after a few retransmissions on a lossy link
    let user_timeout = limits.write_stall_timeout.max(Duration::from_secs(30));
    if let Err(error) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(user_timeout)) {
        tracing::debug!(%error, "dstar: cannot set TCP_USER_TIMEOUT");
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "fuchsia")))]
    let _ = limits;
}

fn permits_in_use(permits: &Semaphore, max: usize) -> usize {
    max.saturating_sub(permits.available_permits())
}

/// Back-off after accept errors: a process out of file descriptors (`EMFILE`) would otherwise
/// spin on `accept`. Errors about one connection (reset, aborted) are skipped at once.
#[derive(Debug, Default)]
struct AcceptBackoff {
    delay: Option<Duration>,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    fn reset(&mut self) {
        self.delay = None;
    }

    async fn wait(&mut self, error: &io::Error) {
        if is_connection_error(error) {
            tracing::debug!(%error, "dstar: accept failed for one connection");
            return;
        }
        let delay = self.delay.map_or(Self::FIRST, |d| (d * 2).min(Self::MAX));
        if self.delay.is_none() {
            tracing::error!(%error, "dstar: accept failed; backing off (out of file descriptors?)");
        }
        self.delay = Some(delay);
        tokio::time::sleep(delay).await;
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn accepted_sockets_give_up_on_unacknowledged_data_at_the_write_stall_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (accepted, _client) = tokio::join!(listener.accept(), client);
        let (tcp, _) = accepted.unwrap();
        let limits = Limits {
            write_stall_timeout: Duration::from_secs(42),
            ..Limits::default()
        };
        tune(&tcp, &limits);
        let socket = socket2::SockRef::from(&tcp);
        assert_eq!(
            socket.tcp_user_timeout().unwrap(),
            Some(Duration::from_secs(42))
        );
        // a short write-stall deadline does not make the kernel give up that soon
        let short = Limits {
            write_stall_timeout: Duration::from_secs(2),
            ..Limits::default()
        };
        tune(&tcp, &short);
        assert_eq!(
            socket.tcp_user_timeout().unwrap(),
            Some(Duration::from_secs(30))
        );
        assert!(socket.tcp_nodelay().unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn accept_errors_back_off_doubling_to_a_second() {
        let mut backoff = AcceptBackoff::default();
        let emfile = io::Error::from_raw_os_error(24);
        let mut delays = Vec::new();
        for _ in 0..10 {
            let start = tokio::time::Instant::now();
            backoff.wait(&emfile).await;
            delays.push(start.elapsed().as_millis());
        }
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        let start = tokio::time::Instant::now();
        backoff
            .wait(&io::Error::from(io::ErrorKind::ConnectionReset))
            .await;
        assert_eq!(
            start.elapsed().as_millis(),
            0,
            "per-connection errors do not wait"
        );
        backoff.reset();
        let start = tokio::time::Instant::now();
        backoff.wait(&emfile).await;
        assert_eq!(start.elapsed().as_millis(), 5);
    }
}
