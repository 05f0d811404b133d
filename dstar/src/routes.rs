//! [`Routes`]: a plain axum router that knows its routes, so the start-up listing prints them
//! without a second list to keep in step.

use crate::event::RouteInfo;
use axum::Router;
use axum::routing::MethodRouter;

/// An axum [`Router`] and the listing of its routes, built together by [`routes!`](crate::routes!)
/// (or [`route`](Routes::route)), for [`Server::from_routes`](crate::Server::from_routes).
///
/// ```
/// use axum::routing::{get, post};
/// async fn page() -> &'static str { "page" }
/// async fn save() {}
///
/// let routes = dstar::routes! {
///     "/" => get(page),
///     "/save" => post(save).delete(save),
/// };
/// let listed: Vec<String> = routes.listing().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
/// assert_eq!(listed, ["GET /", "POST /save", "DELETE /save"]);
/// let server = dstar::Server::from_routes(routes);
/// ```
#[derive(Debug)]
pub struct Routes<S = ()> {
    router: Router<S>,
    listing: Vec<RouteInfo>,
    /// False for a bare `Router` turned into `Routes`: its routes are served but not listed.
    listed: bool,
}

/// A bare router, served as it is; its routes are not in the listing (axum cannot list them).
///
/// ```
/// let routes: dstar::Routes = axum::Router::new().into();
/// assert!(routes.listing().is_empty());
/// ```
impl<S> From<Router<S>> for Routes<S> {
    fn from(router: Router<S>) -> Self {
        Routes {
            router,
            listing: Vec::new(),
            listed: false,
        }
    }
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Routes::new()
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// No routes.
    pub fn new() -> Self {
        Routes {
            router: Router::new(),
            listing: Vec::new(),
            listed: true,
        }
    }

    /// Adds `method_router` at `path`, listed under `methods` (`["GET", "POST"]`).
    /// [`routes!`](crate::routes!) fills `methods` in from the code.
    ///
    /// ```
    /// let routes = dstar::Routes::<()>::new()
    ///     .route("/", &["GET"], axum::routing::get(|| async { "hi" }));
    /// assert_eq!(routes.listing()[0].path, "/");
    /// ```
    pub fn route(
        mut self,
        path: &'static str,
        methods: &[&'static str],
        method_router: MethodRouter<S>,
    ) -> Self {
        self.router = self.router.route(path, method_router);
        self.listing
            .extend(methods.iter().map(|&method| RouteInfo { method, path }));
        self
    }

    /// A router built elsewhere, with its listing (an [`App`](crate::App)'s
    /// [`routes`](crate::App::routes), say).
    pub fn from_router(router: Router<S>, listing: Vec<RouteInfo>) -> Self {
        Routes {
            router,
            listing,
            listed: true,
        }
    }

    /// Whether [`listing`](Routes::listing) holds every route (false for a bare `Router`).
    pub(crate) fn is_listed(&self) -> bool {
        self.listed
    }

    /// Adds another set of routes.
    pub fn merge(mut self, other: Routes<S>) -> Self {
        self.router = self.router.merge(other.router);
        self.listing.extend(other.listing);
        self.listed &= other.listed;
        self
    }

    /// Provides the router's state, as [`Router::with_state`] does.
    pub fn with_state<S2>(self, state: S) -> Routes<S2> {
        Routes {
            router: self.router.with_state(state),
            listing: self.listing,
            listed: self.listed,
        }
    }

    /// Changes the router (adds a layer, a fallback, …); the listing stays.
    ///
    /// ```
    /// let routes: dstar::Routes = dstar::routes! { "/" => get(|| async { "hi" }) }
    ///     .map_router(|r| r.layer(axum::Extension(1u8)));
    /// ```
    pub fn map_router<S2>(self, change: impl FnOnce(Router<S>) -> Router<S2>) -> Routes<S2> {
        Routes {
            router: change(self.router),
            listing: self.listing,
            listed: self.listed,
        }
    }

    /// The routes, for a listing.
    pub fn listing(&self) -> &[RouteInfo] {
        &self.listing
    }

    /// The router and the listing.
    pub fn into_parts(self) -> (Router<S>, Vec<RouteInfo>) {
        (self.router, self.listing)
    }
}

/// `"METHOD"` for a routing function's name (`post` → `"POST"`), for [`routes!`](crate::routes!).
pub const fn method_name(routing_fn: &str) -> &'static str {
    match routing_fn.as_bytes() {
        b"get" => "GET",
        b"post" => "POST",
        b"put" => "PUT",
        b"patch" => "PATCH",
        b"delete" => "DELETE",
        b"head" => "HEAD",
        b"options" => "OPTIONS",
        b"trace" => "TRACE",
        b"connect" => "CONNECT",
        b"any" => "ANY",
        _ => "?",
    }
}
