//! [`App`]: the router holding every page and component in the binary, with dstar's layers
//! (compression, CSRF, cross-origin protection) around them. `dstar::app!()` and `dstar::serve`
//! build one.
//!
//! Files: the builder and its settings here; plain axum routes served next to the pages in
//! `plain.rs`; what the app serves, for the start-up listing, in `listing.rs`; the router built
//! under dstar's layers in `build.rs`.

mod build;
mod listing;
mod plain;

pub(crate) use build::request_spans_logged;
use plain::PlainRoutes;

use crate::component::generated::ComponentEntry;
use crate::component::{ComponentRegistration, RegisteredComponent};
use crate::csrf::Csrf;
use crate::event::States;
use crate::headers::SecurityHeaders;
use crate::page::generated::PageEntry;
use crate::page::{Page, PageRegistration, Registered};
use crate::secret::AppKey;
use crate::session::Sessions;
use crate::sse::Compression;
use axum::Router;
use std::fmt;

/// Builds the router for a set of pages: every page in the binary (`App::new()`, what
/// `dstar::app!()` uses), or the ones you list (`App::empty().page::<Counter>()`), for targets
/// where link-time collection is unavailable.
///
/// ```
/// let app = dstar::App::empty();
/// assert!(app.routes().is_empty());
/// let router: axum::Router = app.build();
/// ```
#[must_use]
pub struct App {
    pages: Vec<&'static PageRegistration>,
    components: Vec<&'static ComponentRegistration>,
    dispatch_base: String,
    prefix: String,
    states: States,
    stats_token: Option<String>,
    /// The origins trusted besides the app's own.
    trusted: Vec<String>,
    /// False when the user turned cross-origin protection off.
    cross_origin: bool,
    csrf: Option<Csrf>,
    compression: Compression,
    /// A tracing span per request (tower-http's `TraceLayer`).
    request_spans: bool,
    layers: Vec<RouterLayer>,
    /// Plain axum routes served next to the pages, under the same layers.
    plain: Vec<PlainRoutes>,
    sessions: Option<Sessions>,
    key: Option<AppKey>,
    allowed_hosts: Vec<String>,
    security_headers: SecurityHeaders,
    /// Set by `dstar::serve`, which knows the address: composed with dstar's other layers.
    host_check: Option<crate::hosts::HostCheckLayer>,
}

type RouterLayer = Box<dyn FnOnce(Router) -> Router + Send>;

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("pages", &self.pages)
            .field("components", &self.components)
            .field("dispatch_base", &self.dispatch_base)
            .field("prefix", &self.prefix)
            .field("states", &self.states)
            .field("stats", &self.stats_token.is_some())
            .field("cross_origin", &self.cross_origin)
            .field("trusted", &self.trusted)
            .field("csrf", &self.csrf)
            .field("compression", &self.compression)
            .field("request_spans", &self.request_spans)
            .field("layers", &self.layers.len())
            .field(
                "plain",
                &self
                    .plain
                    .iter()
                    .flat_map(|p| &p.listing)
                    .collect::<Vec<_>>(),
            )
            .field("sessions", &self.sessions)
            .field("key", &self.key)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("security_headers", &self.security_headers)
            .finish()
    }
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

impl App {
    /// Every `#[dstar::page]` and `#[dstar::component]` linked into the binary, collected through
    /// `inventory`.
    ///
    /// ```
    /// let router: axum::Router = dstar::App::new().build();
    /// ```
    pub fn new() -> Self {
        let mut pages: Vec<_> = inventory::iter::<PageEntry>()
            .map(PageEntry::registration)
            .collect();
        pages.sort_by_key(|p| (p.routes.first().map(|r| r.path), p.name));
        let mut components: Vec<_> = inventory::iter::<ComponentEntry>()
            .map(ComponentEntry::registration)
            .collect();
        components.sort_by_key(|c| c.path);
        App {
            pages,
            components,
            ..App::empty()
        }
    }

    /// No pages: add them with [`page`](App::page).
    ///
    /// ```
    /// assert!(dstar::App::empty().routes().is_empty());
    /// ```
    pub fn empty() -> Self {
        App {
            pages: Vec::new(),
            components: Vec::new(),
            dispatch_base: crate::actions::DEFAULT_DISPATCH_BASE.to_owned(),
            prefix: String::new(),
            states: States::default(),
            stats_token: std::env::var("DSTAR_STATS_TOKEN").ok(),
            trusted: Vec::new(),
            cross_origin: true,
            csrf: None,
            compression: Compression::default(),
            request_spans: true,
            layers: Vec::new(),
            plain: Vec::new(),
            sessions: None,
            key: None,
            allowed_hosts: Vec::new(),
            security_headers: SecurityHeaders::default(),
            host_check: None,
        }
    }

    /// The host names the app answers when served by [`serve`](crate::serve()), besides loopback
    /// names on a loopback address (see [`Server::allowed_hosts`](crate::Server::allowed_hosts)):
    /// `["notes.example", "*.notes.example"]`, or `["*"]` for any. `DSTAR_ALLOWED_HOSTS` adds
    /// more without a rebuild.
    ///
    /// ```
    /// let app = dstar::App::new().allowed_hosts(["notes.example"]);
    /// ```
    pub fn allowed_hosts<I, H>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = H>,
        H: Into<String>,
    {
        self.allowed_hosts.extend(hosts.into_iter().map(Into::into));
        self
    }

    pub(crate) fn allowed_host_list(&self) -> &[String] {
        &self.allowed_hosts
    }

    /// The server's host check, composed into dstar's own layers by [`try_build`](App::try_build).
    pub(crate) fn with_host_check(mut self, check: crate::hosts::HostCheckLayer) -> Self {
        self.host_check = Some(check);
        self
    }

    /// The security headers on every answer (see [`SecurityHeaders`]): `nosniff`, anti-framing
    /// and a referrer policy by default, and an opt-in Content Security Policy.
    ///
    /// ```
    /// use dstar::headers::SecurityHeaders;
    /// let app = dstar::App::new().security_headers(SecurityHeaders::default().strict_csp(true));
    /// ```
    pub fn security_headers(mut self, headers: SecurityHeaders) -> Self {
        self.security_headers = headers;
        self
    }

    /// The key the app signs with: flash messages (see [`crate::flash`]), and CSRF sessions when
    /// [`csrf`](App::csrf) is given none of its own. By default the CSRF key when tokens are on,
    /// else [`AppKey::from_env`] on first use (`DSTAR_SECRET`, or a key file made once), so a
    /// restart keeps what was signed.
    ///
    /// ```
    /// let app = dstar::App::empty().key(dstar::secret::AppKey::new(b"a secret key of at least 32 bytes!!"));
    /// ```
    pub fn key(mut self, key: AppKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Sessions on every route of the app (see [`crate::session`]): a
    /// [`Session`](crate::session::Session) in every request, and the signed-in user through
    /// [`CurrentUser`](crate::session::CurrentUser) and [`Auth`](crate::session::Auth), in
    /// `mount`, events, `authorize`, streams, live re-renders and plain routes.
    ///
    /// ```
    /// use dstar::session::{MemoryStore, Sessions};
    /// let app = dstar::App::new().sessions(Sessions::new(MemoryStore::default()));
    /// ```
    pub fn sessions(mut self, sessions: Sessions) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Adds one page explicitly.
    ///
    /// ```standalone_crate
    /// #[derive(Default)]
    /// struct Home;
    /// #[dstar::page("/")]
    /// impl Home {
    ///     fn render(&self) -> maud::Markup { maud::html! { "home" } }
    /// }
    /// let router: axum::Router = dstar::App::empty().page::<Home>().build();
    /// ```
    pub fn page<P: Page + Registered>(mut self) -> Self {
        let reg = P::registration();
        if !self.pages.iter().any(|p| std::ptr::eq(*p, reg)) {
            self.pages.push(reg);
        }
        self
    }

    /// Adds one component explicitly (its events are routed under the dispatch base).
    ///
    /// ```standalone_crate
    /// # use dstar::prelude::*;
    /// struct Badge;
    /// #[dstar::component]
    /// impl Badge {
    ///     pub fn view() -> Markup { html! { button data-on:click=(event("ping")) {} } }
    ///     #[event] async fn ping(sse: &mut Sse) { sse.console_log("pong"); }
    /// }
    /// let app = dstar::App::empty().component::<Badge>();
    /// assert_eq!(app.routes()[0].method, "POST");
    /// ```
    pub fn component<C: RegisteredComponent>(mut self) -> Self {
        let reg = C::registration();
        if !self.components.iter().any(|c| c.path == reg.path) {
            self.components.push(reg);
        }
        self
    }

    /// The path component events are routed under inside this router (default `/ds`).
    ///
    /// ```
    /// let app = dstar::App::empty().dispatch_base("/_components");
    /// ```
    pub fn dispatch_base(mut self, base: &str) -> Self {
        let base = base.trim_end_matches('/');
        self.dispatch_base = if base.starts_with('/') {
            base.to_owned()
        } else {
            format!("/{base}")
        };
        self
    }

    /// The path this app's router is mounted under (e.g. with `Router::nest("/admin", app)`), so
    /// the browser sends component events to `{prefix}{dispatch_base}`: the default layout writes
    /// that as `<body data-ds-base>`.
    ///
    /// ```
    /// let app = dstar::App::empty().prefix("/admin");
    /// let outer: axum::Router = axum::Router::new().nest("/admin", app.build());
    /// ```
    pub fn prefix(mut self, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        self.prefix = if prefix.is_empty() || prefix.starts_with('/') {
            prefix.to_owned()
        } else {
            format!("/{prefix}")
        };
        self
    }

    /// Provides a router state for the pages declared with `state = T`.
    ///
    /// ```
    /// #[derive(Clone)] struct Db;
    /// let app = dstar::App::empty().state(Db);
    /// ```
    pub fn state<S: Clone + Send + Sync + 'static>(mut self, state: S) -> Self {
        self.states.insert(state);
        self
    }

    /// Also serves `GET /_dstar/stats`: live streams and registry entries as JSON (see
    /// [`crate::stream::stats`]), to requests that send `Authorization: Bearer <token>`. Off by
    /// default, or on with the token in `DSTAR_STATS_TOKEN`; the token keeps the figures from
    /// anyone who can reach the app. A token shorter than 16 bytes fails
    /// [`try_build`](App::try_build).
    ///
    /// ```
    /// let app = dstar::App::empty().with_stats("a long random stats token");
    /// assert!(app.routes().iter().any(|r| r.path == "/_dstar/stats"));
    /// ```
    pub fn with_stats(mut self, token: impl Into<String>) -> Self {
        self.stats_token = Some(token.into());
        self
    }

    /// Also allow unsafe requests from `origin` (`https://admin.example`) when the browser marks
    /// them cross-site. Everything else cross-site is refused by default (see
    /// [`CrossOrigin`](crate::csrf::CrossOrigin)). An origin that is not `scheme://host[:port]`
    /// fails [`try_build`](App::try_build).
    ///
    /// ```
    /// let app = dstar::App::new().trust_origin("https://admin.example");
    /// ```
    pub fn trust_origin(mut self, origin: impl Into<String>) -> Self {
        self.trusted.push(origin.into());
        self
    }

    /// Turns the default cross-origin protection off (say, when a proxy in front does the same
    /// check). Not recommended: every unsafe route then accepts cross-site requests.
    ///
    /// ```
    /// let app = dstar::App::new().cross_origin_protection(false);
    /// ```
    pub fn cross_origin_protection(mut self, on: bool) -> Self {
        self.cross_origin = on;
        self
    }

    /// Adds CSRF token protection (see [`Csrf`]) to every route, and so a token to every page.
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// dstar::serve(dstar::App::new().csrf(dstar::csrf::Csrf::from_env())).await
    /// # }
    /// ```
    pub fn csrf(mut self, csrf: Csrf) -> Self {
        self.csrf = Some(csrf);
        self
    }

    /// How responses are compressed. On by default: long-lived event streams (page streams) with
    /// one encoder per stream flushed at every event (br, zstd or gzip, as the browser accepts;
    /// at most [`Compression::max_streams`] at once), and answers of a known length (full pages,
    /// an event's or a component's finished answer) in one go, unless they are under 512 bytes.
    /// `Compression::off()` turns it all off.
    ///
    /// ```
    /// use dstar::sse::Compression;
    /// let app = dstar::App::new().compression(Compression::default().brotli(5, 20));
    /// let plain = dstar::App::new().compression(Compression::off());
    /// ```
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Whether every request gets a tracing span, with its method, URI and version, and
    /// response and failure events (tower-http's [`TraceLayer`](tower_http::trace::TraceLayer)):
    /// on by default, when they are logged. Spans and responses log at `debug`, so
    /// `RUST_LOG=tower_http=debug` shows them; when the subscriber does not record them at the
    /// time the router is built (`dstar::serve` builds it after installing its subscriber), the
    /// layer is left out, as it would cost about as much as the page layer itself. Handler
    /// errors are logged by dstar either way. Turn it off when you add your own `TraceLayer`.
    ///
    /// ```
    /// let app = dstar::App::new().request_spans(false);
    /// ```
    pub fn request_spans(mut self, on: bool) -> Self {
        self.request_spans = on;
        self
    }

    /// Wraps the app's router in a tower layer (tracing, timeouts, compression, auth, …), outside
    /// dstar's own layers, so it sees every request, refused ones too. Layers added later wrap
    /// earlier ones, as with [`Router::layer`].
    ///
    /// ```
    /// use axum::http::{HeaderValue, header};
    /// let app = dstar::App::new()
    ///     .layer(axum::Extension("shared config"))
    ///     .layer(tower::util::MapResponseLayer::new(|mut res: axum::response::Response| {
    ///         res.headers_mut().insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    ///         res
    ///     }));
    /// ```
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower_layer::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower_service::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower_service::Service<axum::extract::Request>>::Response:
            axum::response::IntoResponse + 'static,
        <L::Service as tower_service::Service<axum::extract::Request>>::Error:
            Into<std::convert::Infallible> + 'static,
        <L::Service as tower_service::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.layers
            .push(Box::new(move |router: Router| router.layer(layer)));
        self
    }
}
