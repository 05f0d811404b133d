//! Serving an app: the address from `DSTAR_ADDR`, a route listing at start-up, HTTP/1.1 and
//! HTTP/2 (h2c prior knowledge) on one port, and a graceful shutdown on SIGINT and SIGTERM.

use crate::page::{App, RouteInfo};
use axum::Router;
use std::io;

/// The address used when `DSTAR_ADDR` is not set.
///
/// ```
/// assert_eq!(dstar::DEFAULT_ADDR, "127.0.0.1:3000");
/// ```
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// A configured server. [`serve`] is the one-line form.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let router = axum::Router::new().route("/health", axum::routing::get(|| async { "ok" }));
/// dstar::Server::from_router(router, vec![dstar::page::RouteInfo { method: "GET", path: "/health" }])
///     .default_addr("127.0.0.1:8080")
///     .run()
///     .await
/// # }
/// ```
#[derive(Debug)]
pub struct Server {
    router: Router,
    routes: Vec<RouteInfo>,
    default_addr: String,
}

impl Server {
    /// Serves every page of `app`.
    ///
    /// ```
    /// let server = dstar::Server::new(dstar::App::empty());
    /// ```
    pub fn new(app: App) -> Self {
        let routes = app.routes();
        Server::from_router(app.build(), routes)
    }

    /// Serves any router; `routes` is what the start-up listing prints.
    ///
    /// ```
    /// let server = dstar::Server::from_router(axum::Router::new(), Vec::new());
    /// ```
    pub fn from_router(router: Router, routes: Vec<RouteInfo>) -> Self {
        Server {
            router,
            routes,
            default_addr: DEFAULT_ADDR.to_owned(),
        }
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

    /// Binds, prints the address and the routes, and serves until SIGINT or SIGTERM. In-flight
    /// responses complete; open streams end cleanly.
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// dstar::Server::new(dstar::App::new()).run().await
    /// # }
    /// ```
    pub async fn run(self) -> io::Result<()> {
        let addr = std::env::var("DSTAR_ADDR").unwrap_or(self.default_addr);
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot listen on {addr}: {e} (set DSTAR_ADDR)"),
            )
        })?;
        println!("dstar listening on http://{}", listener.local_addr()?);
        for route in &self.routes {
            println!("  {:<6} {}", route.method, route.path);
        }
        axum::serve(listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
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
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    // open streams end cleanly, so the graceful shutdown does not wait on them forever
    crate::sse::shutdown();
}
