//! Plain axum routes served next to the pages ([`App::route`], [`App::merge`], [`App::nest`]),
//! under the same layers, and their lines in the start-up listing.

use super::App;
use crate::event::RouteInfo;
use crate::routes::Routes;
use axum::Router;
use axum::routing::MethodRouter;

/// Plain routes added with [`App::route`], [`App::merge`] or [`App::nest`], and their listing.
pub(super) struct PlainRoutes {
    pub(super) listing: Vec<RouteInfo>,
    /// Whether the listing is complete (a merged bare `Router` does not list itself).
    pub(super) listed: bool,
    pub(super) router: Router,
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

impl App {
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
}
