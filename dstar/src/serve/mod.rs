//! Serving an app: the address from `DSTAR_ADDR`, a route listing at start-up, HTTP/1.1 and
//! HTTP/2 (h2c prior knowledge) on one port, HTTPS with HTTP/2 through rustls with the `tls`
//! feature (`DSTAR_TLS=dev` or `DSTAR_TLS_CERT`/`DSTAR_TLS_KEY`), and a graceful shutdown on
//! SIGINT and SIGTERM: in-flight responses complete, open streams end cleanly.

mod activity;
mod connections;
mod limits;
mod line_ends;
mod protocol;
mod request_body;
mod slow_start;
#[cfg(feature = "tls")]
mod tls;
mod woken;
mod write_stall;
use crate::hosts::{self, HostCheckLayer};
use crate::routes::Routes;
pub use request_body::{BODY_BUDGET, BODY_READ_TIMEOUT};
#[cfg(feature = "tls")]
pub use tls::Tls;

use crate::app::App;
use crate::event::RouteInfo;
use axum::Router;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

/// The address used when `DSTAR_ADDR` is not set.
///
/// ```
/// assert_eq!(dstar::DEFAULT_ADDR, "127.0.0.1:3000");
/// ```
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A configured server. [`serve`] is the one-line form for an [`App`]; a hand-written router
/// lists its own routes with [`routes!`](crate::routes!).
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let routes = dstar::routes! { "/health" => get(|| async { "ok" }) };
/// dstar::Server::from_routes(routes)
///     .default_addr("127.0.0.1:8080")
///     .run()
///     .await
/// # }
/// ```
#[must_use]
pub struct Server {
    router: Routed,
    routes: Vec<RouteInfo>,
    notes: Vec<String>,
    default_addr: String,
    shutdown: Option<Shutdown>,
    limits: limits::Limits,
    logging: bool,
    /// For a router built elsewhere: whether the server adds cross-origin protection (an `App`
    /// has its own).
    cross_origin: bool,
    /// The host names served besides loopback ones (see [`Server::allowed_hosts`]).
    allowed_hosts: Vec<String>,
    #[cfg(feature = "tls")]
    tls: Option<Tls>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("routes", &self.routes)
            .field("default_addr", &self.default_addr)
            .finish_non_exhaustive()
    }
}

/// What a server serves: an [`App`], built once logging is set up (so its layers can see what is
/// logged), or a router built elsewhere.
enum Routed {
    App(Box<App>),
    Router(Router),
}

impl Routed {
    /// The router to serve. A router built elsewhere gets what an `App` has on its own: the
    /// cross-origin check (unless `cross_origin` is off) and, when they are logged, request spans.
    fn into_router(self, cross_origin: bool, hosts: HostCheckLayer) -> io::Result<Router> {
        match self {
            Routed::App(app) => app
                .with_host_check(hosts)
                .try_build()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("dstar: {e}"))),
            Routed::Router(mut router) => {
                let cross_origin = if cross_origin {
                    Some(
                        crate::csrf::CrossOrigin::new()
                            .layer()
                            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
                    )
                } else {
                    None
                };
                // one layer, so a request pays for one boxed route, not one per check
                router = router.layer(
                    tower::ServiceBuilder::new()
                        .layer(crate::headers::catch_panic())
                        .layer(crate::headers::SecurityHeaders::default().layer())
                        .layer(hosts)
                        .option_layer(cross_origin),
                );
                if crate::app::request_spans_logged() {
                    router = router.layer(tower_http::trace::TraceLayer::new_for_http());
                }
                Ok(router)
            }
        }
    }
}

impl Server {
    /// Serves every page of `app`.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty());
    /// ```
    pub fn new(app: App) -> Self {
        let routes = app.routes();
        let notes = app.startup_notes();
        let mut server = Server::from_router(Router::new(), routes);
        server.allowed_hosts = app.allowed_host_list().to_vec();
        server.router = Routed::App(Box::new(app));
        server.notes = notes;
        server
    }

    /// Serves routes built with [`routes!`](crate::routes!): the listing comes with them.
    ///
    /// ```
    /// let server = dstar::Server::from_routes(dstar::routes! {
    ///     "/" => get(|| async { "hello" }),
    /// });
    /// ```
    pub fn from_routes(routes: Routes) -> Self {
        let (router, listing) = routes.into_parts();
        Server::from_router(router, listing)
    }

    /// Serves any router; `routes` is what the start-up listing prints. A router built with
    /// [`routes!`](crate::routes!) lists itself: see [`from_routes`](Server::from_routes).
    ///
    /// ```
    /// let server = dstar::Server::from_router(axum::Router::new(), Vec::new());
    /// ```
    pub fn from_router(router: Router, routes: Vec<RouteInfo>) -> Self {
        Server {
            router: Routed::Router(router),
            routes,
            notes: Vec::new(),
            default_addr: DEFAULT_ADDR.to_owned(),
            shutdown: None,
            limits: limits::Limits::default(),
            logging: true,
            cross_origin: true,
            allowed_hosts: Vec::new(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// The host names this server answers (`app.example`, `*.tenants.example`, or `*` for any),
    /// besides those in `DSTAR_ALLOWED_HOSTS` (comma-separated). A server bound to a loopback
    /// address answers loopback names (`localhost`, `127.0.0.1`, `[::1]`, any port) and these;
    /// one bound to a public address answers these, or any host when none is given (with a
    /// start-up warning). A request for another host gets a `400` (`bad request: unknown host`)
    /// and a log line that says how to allow it, so a web page cannot reach a local server
    /// through DNS rebinding. A request with no or several `Host` headers gets a `400` too.
    /// An [`App`] is configured with [`App::allowed_hosts`].
    ///
    /// ```
    /// let server = dstar::Server::from_routes(dstar::routes! { "/" => get(|| async { "hi" }) })
    ///     .allowed_hosts(["notes.example", "*.notes.example"]);
    /// ```
    pub fn allowed_hosts<I, H>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = H>,
        H: Into<String>,
    {
        self.allowed_hosts.extend(hosts.into_iter().map(Into::into));
        self
    }

    /// Whether a router served with [`from_routes`](Server::from_routes) or
    /// [`from_router`](Server::from_router) gets dstar's cross-origin protection (on by default,
    /// as on every route of an [`App`]): an unsafe request that a browser marks as cross-site is
    /// refused with a `403` (see [`CrossOrigin`](crate::csrf::CrossOrigin)). Turn it off only when
    /// something in front does the same check; the start-up listing then says it is off. An
    /// [`App`] is configured with [`App::cross_origin_protection`] instead.
    ///
    /// ```
    /// let server = dstar::Server::from_routes(dstar::routes! { "/" => get(|| async { "hi" }) })
    ///     .cross_origin_protection(false);
    /// ```
    pub fn cross_origin_protection(mut self, on: bool) -> Self {
        self.cross_origin = on;
        self
    }

    /// Whether [`run`](Server::run) installs a default `tracing` subscriber when the program has
    /// none: a `fmt` subscriber on stderr honouring `RUST_LOG` (default `info`). On by default,
    /// so handler errors, refused requests (`RUST_LOG=dstar=debug`) and warnings are seen; a
    /// program that sets its own subscriber keeps it.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty()).logging(false);
    /// ```
    pub fn logging(mut self, on: bool) -> Self {
        self.logging = on;
        self
    }

    /// The most connections served at once (default 25,000, lowered to fit the process's
    /// open-file limit when that is lower, or `DSTAR_MAX_CONNECTIONS`; a cap asked for above the
    /// limit is kept, with a start-up warning). Past it,
    /// new connections wait in the listen backlog until one closes; nothing is dropped. A
    /// connection upgraded by a handler (a WebSocket route) keeps its place until it closes, and
    /// a shutdown waits for it up to its deadline, as for any other.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty()).max_connections(10_000);
    /// ```
    pub fn max_connections(mut self, max: usize) -> Self {
        self.limits.max_connections = max.clamp(1, limits::MAX_CONNECTIONS_CAP);
        self.limits.max_connections_asked = true;
        self
    }

    /// How long a client may take to send a request header (default 30 s, at most a day). An
    /// HTTP/1.1 client that trickles its header (slowloris), or any client that connects and
    /// sends nothing, is cut off after it; request bodies have their own deadline
    /// ([`body_read_timeout`](Server::body_read_timeout)). HTTP/2 connections are pinged
    /// every 20 s and dropped when the peer stops answering.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty())
    ///     .header_read_timeout(std::time::Duration::from_secs(10));
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read_timeout =
            timeout.clamp(Duration::from_millis(1), limits::LONGEST_TIMEOUT);
        self
    }

    /// How long a request body may take to arrive in full, from the handler's first read
    /// (default [`BODY_READ_TIMEOUT`](crate::BODY_READ_TIMEOUT), 30 s). A client that trickles
    /// its body gets a `408` from the signals reader instead of holding its connection.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty())
    ///     .body_read_timeout(std::time::Duration::from_secs(120)); // slow uploads
    /// ```
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.body_read_timeout =
            timeout.clamp(Duration::from_millis(1), limits::LONGEST_TIMEOUT);
        self
    }

    /// What the request bodies being read may hold in all (default
    /// [`BODY_BUDGET`](crate::BODY_BUDGET), 64 MiB). Every body is bounded on its own (the
    /// signals limit, axum's `DefaultBodyLimit`), but many clients sending large bodies slowly,
    /// each on up to 200 HTTP/2 streams per connection, would otherwise hold that many buffers at
    /// once. The bytes a body has handed its handler count until the body is dropped, up to
    /// 2 MiB per body (axum's default limit: a handler that streams a larger upload to a file
    /// does not hold it). One public address (an IPv6 /64) may hold an eighth of the budget, so
    /// one client cannot shut out the others. A request from a loopback or private peer (a
    /// reverse proxy in front) counts for the last address of its `X-Forwarded-For` (the one the
    /// proxy appended); without one, it shares the budget only. A body that would pass either
    /// fails, and dstar's readers
    /// (signals, the stream's tab id, the CSRF token) answer it with `503 Service Unavailable`
    /// and `Retry-After: 1` (axum's own extractors answer a failed body with a `400`). A warning
    /// is logged, at most every 10 s.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty()).body_budget(256 << 20); // 256 MiB
    /// ```
    pub fn body_budget(mut self, bytes: usize) -> Self {
        self.limits.body_budget = bytes;
        self
    }

    /// How long a client may take no bytes at all while the server has some to send (default
    /// 60 s, at most a day). A client that stops reading (or a stalled proxy in front of it)
    /// would otherwise hold its connection, and an open page stream with it, for as long as it
    /// answers TCP window probes: after this deadline the connection is closed and the stream
    /// ends as [`ClientGone`](crate::stream::EndReason::ClientGone). A slow reader that keeps
    /// taking bytes is not cut off. On HTTP/2 it also bounds how long a response's frame may wait
    /// for its client's flow-control credit while the connection sends no data at all (a client
    /// can shut one stream's window and still answer pings). On Linux it is also each socket's `TCP_USER_TIMEOUT`: a
    /// client that vanished without closing its connection (its liveness checks sit
    /// unacknowledged in the kernel's buffer) is dropped after it, not after the kernel's
    /// retransmissions give up, about 15 minutes later.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty())
    ///     .write_stall_timeout(std::time::Duration::from_secs(120));
    /// ```
    pub fn write_stall_timeout(mut self, timeout: Duration) -> Self {
        self.limits.write_stall_timeout =
            timeout.clamp(Duration::from_millis(1), limits::LONGEST_TIMEOUT);
        self
    }

    /// How long a connection may carry no request before it is closed (default 60 s, at least a
    /// second, at most a day; it is looked at every half deadline, so an idle connection goes after one to one
    /// and a half times it). A connection told to close that has not within 10 s more is
    /// dropped. An open stream is a request in flight, so a page stream's connection is never idle.
    /// hyper's HTTP/2 server has no idle deadline of its own: without this, a client could open
    /// HTTP/2 connections, answer the pings and send nothing, until they filled
    /// [`max_connections`](Server::max_connections). An idle HTTP/2 connection gets a `GOAWAY`
    /// and closes; an idle HTTP/1.1 keep-alive connection closes at this deadline or at the
    /// [`header_read_timeout`](Server::header_read_timeout), whichever comes first.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty())
    ///     .idle_timeout(std::time::Duration::from_secs(300));
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.idle_timeout = timeout.clamp(Duration::from_secs(1), limits::LONGEST_TIMEOUT);
        self
    }

    /// How long a graceful shutdown waits for in-flight responses (default 10 s). Open streams
    /// end at once; whatever is still open at the deadline is closed.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty())
    ///     .shutdown_timeout(std::time::Duration::from_secs(5));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.limits.shutdown_timeout = timeout.min(limits::LONGEST_TIMEOUT);
        self
    }

    /// The address when `DSTAR_ADDR` is unset (default `127.0.0.1:3000`).
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty()).default_addr("127.0.0.1:7331");
    /// ```
    pub fn default_addr(mut self, addr: &str) -> Self {
        addr.clone_into(&mut self.default_addr);
        self
    }

    /// Stops when `signal` resolves instead of on SIGINT/SIGTERM.
    ///
    /// ```
    /// let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    /// let server = dstar::Server::new(dstar::App::empty()).shutdown_on(async { let _ = rx.await; });
    /// ```
    pub fn shutdown_on(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Serves HTTPS with HTTP/2 (ALPN `h2`, falling back to HTTP/1.1), overriding
    /// `DSTAR_TLS`/`DSTAR_TLS_CERT`/`DSTAR_TLS_KEY`.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty()).tls(dstar::Tls::Dev);
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Binds the listener (so its address is known, e.g. with port 0) without serving yet.
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// let bound = dstar::Server::new(dstar::App::new()).default_addr("127.0.0.1:0").bind().await?;
    /// println!("on {}", bound.local_addr());
    /// bound.run().await
    /// # }
    /// ```
    pub async fn bind(self) -> io::Result<Bound> {
        let addr = std::env::var("DSTAR_ADDR").unwrap_or_else(|_| self.default_addr.clone());
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot listen on {addr}: {e} (set DSTAR_ADDR)"),
            )
        })?;
        let local_addr = listener.local_addr()?;
        Ok(Bound {
            server: self,
            listener,
            local_addr,
        })
    }

    /// Binds, prints the address and the routes, and serves until SIGINT or SIGTERM (or the
    /// [`shutdown_on`](Server::shutdown_on) signal). In-flight responses complete; open streams
    /// end cleanly.
    pub async fn run(self) -> io::Result<()> {
        self.bind().await?.run().await
    }
}

/// A server whose listener is bound: see [`Server::bind`].
#[derive(Debug)]
pub struct Bound {
    server: Server,
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
}

impl Bound {
    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Prints the address and the routes, and serves until the shutdown signal.
    pub async fn run(self) -> io::Result<()> {
        let Bound {
            mut server,
            listener,
            local_addr,
        } = self;
        let signal = server
            .shutdown
            .take()
            .unwrap_or_else(|| Box::pin(shutdown_signal()));
        let mut limits = server.limits;
        if server.logging {
            install_logging();
        }
        // built now, once logging is set up: the app's layers see what is logged
        let routed = std::mem::replace(&mut server.router, Routed::Router(Router::new()));
        if matches!(routed, Routed::Router(_)) && !server.cross_origin {
            server.notes.push("cross-origin protection OFF".to_owned());
        }
        let mut configured = std::mem::take(&mut server.allowed_hosts);
        configured.extend(std::env::var("DSTAR_ALLOWED_HOSTS").ok());
        let (allowed, host_note) = hosts::AllowedHosts::new(&configured, local_addr);
        if let Some(note) = host_note {
            tracing::warn!("dstar: {note}");
            server.notes.push(note);
        }
        let host_check = HostCheckLayer(std::sync::Arc::new(allowed));
        let router = routed.into_router(server.cross_origin, host_check)?;
        if let Some((note, warn)) = limits::fit_to_file_limit(&mut limits) {
            if warn {
                tracing::warn!("dstar: {note}");
            } else {
                tracing::info!("dstar: {note}");
            }
            server.notes.push(note);
        }
        #[cfg(feature = "tls")]
        {
            let tls = match server.tls.take() {
                Some(tls) => Some(tls),
                None => Tls::from_env()?,
            };
            if let Some(tls) = tls {
                let handshake = tls.handshake()?;
                println!("dstar listening on https://{local_addr} (HTTP/2 and HTTP/1.1)");
                print_routes(&server.routes, &server.notes);
                return connections::serve(listener, router, handshake, limits, signal).await;
            }
        }
        #[cfg(not(feature = "tls"))]
        if std::env::var_os("DSTAR_TLS").is_some() || std::env::var_os("DSTAR_TLS_CERT").is_some() {
            tracing::warn!(
                "DSTAR_TLS is set but dstar was built without the `tls` feature; serving plain HTTP"
            );
        }
        println!("dstar listening on http://{local_addr}");
        print_routes(&server.routes, &server.notes);
        connections::serve(listener, router, connections::Plain, limits, signal).await
    }
}

/// A `fmt` subscriber on stderr with `RUST_LOG` (default `info`), unless one is set already;
/// colours only on a terminal, so a log file or journald gets plain text.
fn install_logging() {
    use std::io::IsTerminal;
    if tracing::dispatcher::has_been_set() {
        return;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

fn print_routes(routes: &[RouteInfo], notes: &[String]) {
    for route in routes {
        println!("  {:<6} {}", route.method, route.path);
    }
    for note in notes {
        println!("  note: {note}");
    }
}

/// Serves every page of `app` on `DSTAR_ADDR` (default `127.0.0.1:3000`), printing the routes.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     dstar::serve(dstar::App::new()).await
/// }
/// ```
pub async fn serve(app: App) -> io::Result<()> {
    Server::new(app).run().await
}

async fn shutdown_signal() {
    // a handler that cannot be installed is no signal: serve on, and say so (an `Err` taken for
    // Ctrl-C would drain the server as soon as it started)
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "dstar: cannot listen for Ctrl-C; serving on without it");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "dstar: cannot listen for SIGTERM; serving on without it");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
