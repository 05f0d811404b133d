//! [`App`]: the router holding every page and component in the binary, with dstar's layers
//! (compression, CSRF, cross-origin protection) around them. `dstar::app!()` and `dstar::serve`
//! build one.

use crate::component::generated::ComponentEntry;
use crate::component::{ComponentRegistration, RegisteredComponent};
use crate::csrf::{CrossOrigin, Csrf};
use crate::event::{DispatchBase, RouteInfo, States};
use crate::flash::{FlashKey, FlashLayer};
use crate::headers::SecurityHeaders;
use crate::page::generated::PageEntry;
use crate::page::{Page, PageRegistration, Registered};
use crate::routes::Routes;
use crate::secret::AppKey;
use crate::session::Sessions;
use crate::sse::Compression;
use axum::Router;
use axum::routing::MethodRouter;
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

/// Plain routes added with [`App::route`], [`App::merge`] or [`App::nest`], and their listing.
struct PlainRoutes {
    listing: Vec<RouteInfo>,
    /// Whether the listing is complete (a merged bare `Router` does not list itself).
    listed: bool,
    router: Router,
}

impl PlainRoutes {
    fn new(routes: Routes, nest: Option<&str>) -> Self {
        let listed = routes.is_listed();
        let (router, listing) = routes.into_parts();
        match nest {
            Some(prefix) => PlainRoutes {
                listing: listing
                    .into_iter()
                    .map(|r| RouteInfo {
                        method: r.method,
                        path: leak(format!("{prefix}{}", r.path)),
                    })
                    .collect(),
                listed,
                router: Router::new().nest(prefix, router),
            },
            None => PlainRoutes {
                listing,
                listed,
                router,
            },
        }
    }
}

/// A path for the start-up listing, built once per app.
fn leak(path: String) -> &'static str {
    Box::leak(path.into_boxed_str())
}

/// The methods a `MethodRouter` answers, for the start-up listing, read from its `Debug` output
/// (axum has no accessor): a field that is not `None` is routed. `ANY` for `any(…)` or when the
/// output cannot be read.
fn methods_of<S>(method_router: &MethodRouter<S>) -> Vec<&'static str> {
    let debug = format!("{method_router:?}");
    if debug.contains("allow_header: Skip") {
        return vec!["ANY"];
    }
    let methods: Vec<&'static str> = [
        ("get", "GET"),
        ("head", "HEAD"),
        ("post", "POST"),
        ("put", "PUT"),
        ("patch", "PATCH"),
        ("delete", "DELETE"),
        ("options", "OPTIONS"),
        ("trace", "TRACE"),
        ("connect", "CONNECT"),
    ]
    .into_iter()
    .filter(|(field, _)| {
        debug.contains(&format!("{field}: ")) && !debug.contains(&format!("{field}: None"))
    })
    .map(|(_, method)| method)
    .collect();
    if methods.is_empty() {
        vec!["ANY"]
    } else {
        methods
    }
}

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

    /// The host names the app answers when served by [`serve`](crate::serve), besides loopback
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

    /// Serves a plain axum route next to the pages: `post(sign_out)`, a file download, a
    /// webhook. It gets every layer the pages get (cross-origin protection, CSRF tokens,
    /// sessions, flash, compression, request spans) and appears in the start-up listing. A
    /// handler that takes `State<S>` gets it as in axum: `post(handler).with_state(state)`.
    ///
    /// ```
    /// use axum::response::Redirect;
    /// async fn sign_out() -> Redirect { Redirect::to("/signin") }
    /// let app = dstar::App::empty().route("/signout", axum::routing::post(sign_out));
    /// assert_eq!(app.routes()[0].method, "POST");
    /// assert_eq!(app.routes()[0].path, "/signout");
    /// let router: axum::Router = app.build();
    /// ```
    pub fn route(mut self, path: &str, method_router: MethodRouter) -> Self {
        let path = leak(path.to_owned());
        let methods = methods_of(&method_router);
        let routes = Routes::new().route(path, &methods, method_router);
        self.plain.push(PlainRoutes::new(routes, None));
        self
    }

    /// Serves the routes of another router next to the pages, under the same layers as
    /// [`route`](App::route). [`dstar::routes!`](crate::routes!) gives one that lists its
    /// routes; a bare `axum::Router` is served as well, and the listing says it is there. Give
    /// a router with state its state first (`.with_state(state)`).
    ///
    /// ```
    /// let app = dstar::App::empty()
    ///     .merge(dstar::routes! { "/health" => get(|| async { "ok" }) })
    ///     .merge(axum::Router::new().route("/robots.txt", axum::routing::get(|| async { "" })));
    /// assert_eq!(app.routes()[0].path, "/health");
    /// ```
    pub fn merge(mut self, routes: impl Into<Routes>) -> Self {
        self.plain.push(PlainRoutes::new(routes.into(), None));
        self
    }

    /// Serves another router under `path` (`/api`), under the same layers as
    /// [`route`](App::route).
    ///
    /// ```
    /// let api = dstar::routes! { "/status" => get(|| async { "ok" }) };
    /// let app = dstar::App::empty().nest("/api", api);
    /// assert_eq!(app.routes()[0].path, "/api/status");
    /// ```
    pub fn nest(mut self, path: &str, routes: impl Into<Routes>) -> Self {
        let prefix = path.trim_end_matches('/');
        self.plain
            .push(PlainRoutes::new(routes.into(), Some(prefix)));
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
    /// [`CrossOrigin`]). An origin that is not `scheme://host[:port]` fails
    /// [`try_build`](App::try_build).
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

    /// Lines for the start-up listing: what a person deploying should know.
    pub(crate) fn startup_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(csrf) = &self.csrf {
            notes.push(format!("CSRF tokens on; key {}", csrf.key().source()));
        }
        if !self.cross_origin {
            notes.push("cross-origin protection OFF".to_owned());
        }
        if let Some(sessions) = &self.sessions {
            notes.push(format!("sessions on; sign-in at {}", sessions.sign_in()));
        }
        if self.plain.iter().any(|p| !p.listed) {
            notes.push("and the routes of a merged axum::Router (not listed)".to_owned());
        }
        notes
    }

    /// Every route, `(method, path)`, for start-up listings.
    ///
    /// ```
    /// for route in dstar::App::new().routes() {
    ///     println!("{:<6} {}", route.method, route.path);
    /// }
    /// ```
    pub fn routes(&self) -> Vec<RouteInfo> {
        let mut routes: Vec<RouteInfo> = self
            .pages
            .iter()
            .flat_map(|p| p.routes.iter().copied())
            .collect();
        for component in &self.components {
            routes.extend_from_slice(component.routes(&self.dispatch_base));
        }
        for plain in &self.plain {
            routes.extend_from_slice(&plain.listing);
        }
        if self.stats_token.is_some() {
            routes.push(RouteInfo {
                method: "GET",
                path: crate::stream::STATS_PATH,
            });
        }
        if std::env::var_os("DSTAR_CLIENT_FILE").is_some() {
            routes.push(RouteInfo {
                method: "GET",
                path: crate::page::CLIENT_PATH,
            });
        }
        routes
    }

    /// Builds the router. Fails, saying why, when a declared state is missing, a prefix or
    /// dispatch base is not a clean path, a trusted origin is malformed, or the stats token is
    /// shorter than 16 bytes.
    ///
    /// ```
    /// let router = dstar::App::new().try_build().expect("all states provided");
    /// ```
    pub fn try_build(self) -> Result<Router, String> {
        let mut router = crate::page::client_script_route();
        if let Some(token) = &self.stats_token {
            router = router.merge(crate::stream::stats_route(token)?);
        }
        // where component events go, prefix included: handed to every route, no per-request layer
        check_base_path("prefix", &self.prefix, true)?;
        check_base_path("dispatch_base", &self.dispatch_base, false)?;
        let base = DispatchBase::new(format!("{}{}", self.prefix, self.dispatch_base));
        for page in &self.pages {
            router = router.merge(page.build(&self.states, &base)?);
        }
        router = router.merge(crate::component::routes(
            &self.dispatch_base,
            &base,
            &self.states,
            &self.components,
        )?);
        for plain in self.plain {
            router = router.merge(plain.router);
        }
        if let Some(sessions) = &self.sessions {
            router = sessions.wrap(router);
        }
        let key = self
            .key
            .clone()
            .or_else(|| self.csrf.as_ref().map(|csrf| csrf.key().clone()));
        // dstar's own layers, composed into one, so a request pays for one boxed route, not one
        // per layer; inside out: compression, flash, tokens, the cheap header checks, the
        // security headers, and the panic catcher around it all
        let cross_origin = if self.cross_origin {
            let check = self
                .trusted
                .iter()
                .fold(CrossOrigin::new(), |check, origin| {
                    check.trust_origin(origin.clone())
                });
            Some(check.layer()?)
        } else {
            None
        };
        let layers = tower::ServiceBuilder::new()
            .layer(crate::headers::catch_panic())
            .layer(self.security_headers.layer())
            .option_layer(self.host_check)
            .option_layer(cross_origin)
            .option_layer(self.csrf.map(|csrf| csrf.layer()))
            .layer(FlashLayer::new(FlashKey::new(key)))
            .option_layer(self.compression.is_on().then(|| self.compression.layer()));
        router = router.layer(layers);
        // outside dstar's layers and inside the user's: refused requests get a span too. Only
        // when they are logged: the layer costs about as much as the page layer itself.
        if self.request_spans && request_spans_logged() {
            router = router.layer(tower_http::trace::TraceLayer::new_for_http());
        }
        for layer in self.layers {
            router = layer(router);
        }
        Ok(router)
    }

    /// Builds the router.
    ///
    /// # Panics
    ///
    /// At start-up, when a page declared with `state = T` was given no `T` (see
    /// [`try_build`](App::try_build)).
    ///
    /// ```
    /// let router: axum::Router = dstar::App::new().build();
    /// ```
    pub fn build(self) -> Router {
        match self.try_build() {
            Ok(router) => router,
            Err(e) => panic!("dstar: {e}"),
        }
    }
}

/// Whether tower-http's request spans and responses are logged (`RUST_LOG=tower_http=debug`):
/// the `TraceLayer` is added only then, as it costs about as much as the page layer itself.
pub(crate) fn request_spans_logged() -> bool {
    tracing::enabled!(target: "tower_http::trace::on_response", tracing::Level::DEBUG)
}

/// A prefix or dispatch base must be a clean absolute path: it becomes part of every component
/// action's URL, where `//host`, `..`, a query or a route pattern would send events elsewhere.
fn check_base_path(what: &str, path: &str, may_be_empty: bool) -> Result<(), String> {
    if path.is_empty() && may_be_empty {
        return Ok(());
    }
    let clean = path.len() > 1
        && path.starts_with('/')
        && !path.contains("//")
        && !path.ends_with('/')
        && !path
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "\\?#{}'\"<>".contains(c))
        && !path.split('/').any(|s| s == "." || s == "..");
    if clean {
        Ok(())
    } else {
        Err(format!(
            "`App::{what}` is {path:?}: use a clean absolute path such as \"/admin\" (not the root, no `//`, `..`, `?`, `#`, braces or quotes)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check_base_path;

    #[test]
    fn bases_that_would_send_events_elsewhere_are_refused() {
        for bad in [
            "/",
            "//evil.example",
            "/a/../b",
            "/a?x",
            "/{x}",
            "/a'b",
            "/a b",
        ] {
            assert!(
                check_base_path("dispatch_base", bad, false).is_err(),
                "{bad}"
            );
        }
        assert!(check_base_path("dispatch_base", "", false).is_err());
        assert!(check_base_path("prefix", "", true).is_ok());
        assert!(check_base_path("dispatch_base", "/ds", false).is_ok());
        assert!(check_base_path("prefix", "/admin/v2", true).is_ok());
    }
}
