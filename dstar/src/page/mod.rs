//! The page layer: what `#[dstar::page]` expands to, built only from the functional core and the
//! [`event`](crate::event) core it shares with components.
//!
//! A page is one impl block:
//!
//! - `mount` (optional) takes axum extractors and returns `Self`, or `Result<Self, impl
//!   IntoResponse>` to answer with a redirect or a 404 instead of rendering;
//! - `render(&self) -> Markup` is wrapped in the [layout](Layout);
//! - every `#[event] fn` becomes `POST {path}/_event/{name}`: it takes `&mut Sse` and axum
//!   extractors, and returns `()` or `Result<(), E: Display>`;
//! - `authorize` (optional) runs before every event and may refuse with any response.
//!
//! Inside the impl block `event("name")` is checked at compile time and becomes the browser-side
//! action. See the crate README for a whole page.
//!
//! Files: [`Page`] and its registration here; the document (layout, client script) in
//! `document.rs`, `layout.rs` and `client_script.rs` (serving the Datastar file); what `mount` returns in `mount.rs`; the page side of
//! a page stream in `stream.rs`.

// `Result<_, Response>` is the axum idiom for "or answer with this": boxing it would only cost.
#![allow(clippy::result_large_err)]

mod client_script;
pub(crate) mod document;
pub(crate) mod generated;
mod glue;
mod layout;
pub(crate) mod live;
pub(crate) mod mount;
pub(crate) mod stream;

pub use client_script::{
    CLIENT_PATH, DEFAULT_CLIENT_INTEGRITY, DEFAULT_CLIENT_SRC, client_integrity,
    client_script_route, client_src,
};
pub use glue::{glue_script, glue_script_with_nonce};
pub use layout::{Layout, PageContext, csrf_signal, default_layout, tab_id_signal};
pub use live::{LiveHubs, RenderScope};
pub use mount::{MountError, MountOutcome};
pub(crate) use stream::{StreamOpen, ViewTemplate, live_update, stream_refused};

use crate::actions::{Action, Verb};
use crate::event::{DispatchBase, Event, RouteInfo, States};
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use std::fmt;

/// Implemented by `#[dstar::page]` for each page type.
///
/// ```standalone_crate
/// #[derive(Default)]
/// struct Home;
/// #[dstar::page("/home")]
/// impl Home {
///     fn render(&self) -> maud::Markup { maud::html! { "home" } }
/// }
/// use dstar::page::Page;
/// assert_eq!((Home::NAME, Home::PATH), ("Home", "/home"));
/// let router: axum::Router = Home::routes();
/// ```
pub trait Page: Sized + Send + 'static {
    /// The router state the page's extractors need (`()` unless `state = T` is given).
    type State: Clone + Send + Sync + 'static;
    /// The generated event enum, e.g. `CounterEvent`.
    type Event: Event;
    /// The type's name, e.g. `"Counter"`.
    const NAME: &'static str;
    /// The path the page is served at, e.g. `"/counter"`.
    const PATH: &'static str;
    /// The page's routes: `GET {path}`, `POST {path}` (its stream) and one route per event,
    /// with component events at the default dispatch base, `/ds`.
    fn routes() -> Router<Self::State> {
        Self::routes_under(&DispatchBase::default())
    }

    /// [`routes`](Page::routes) for an app whose component events go to `base`.
    #[doc(hidden)]
    fn routes_under(base: &DispatchBase) -> Router<Self::State>;
}

/// A page as `#[dstar::page]` registers it: its name, its routes for listings, and how to build
/// its router.
///
/// ```
/// for page in dstar::App::new().routes() {
///     println!("{} {}", page.method, page.path);
/// }
/// ```
pub struct PageRegistration {
    /// The type name.
    pub name: &'static str,
    /// Its routes.
    pub routes: &'static [RouteInfo],
    build: BuildRouter,
}

/// Builds a page's router, given the app's states and dispatch base.
type BuildRouter = fn(&States, &DispatchBase) -> Result<Router, String>;

impl PageRegistration {
    #[doc(hidden)]
    pub const fn new(name: &'static str, routes: &'static [RouteInfo], build: BuildRouter) -> Self {
        PageRegistration {
            name,
            routes,
            build,
        }
    }

    /// The page's router, given the app's states and dispatch base.
    pub(crate) fn build(&self, states: &States, base: &DispatchBase) -> Result<Router, String> {
        (self.build)(states, base)
    }
}

impl fmt::Debug for PageRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageRegistration")
            .field("name", &self.name)
            .field("routes", &self.routes)
            .finish()
    }
}

/// Implemented by `#[dstar::page]`: the page's one static registration.
///
/// ```standalone_crate
/// #[derive(Default)]
/// struct Home;
/// #[dstar::page("/")]
/// impl Home {
///     fn render(&self) -> maud::Markup { maud::html! { "home" } }
/// }
/// use dstar::page::Registered;
/// assert_eq!(Home::registration().name, "Home");
/// ```
pub trait Registered {
    /// The registration.
    fn registration() -> &'static PageRegistration;
}

/// The action for a page event: `@post(<current path> + '/_event/<name>')`, resolved in the browser
/// so path parameters need no server-side plumbing. Chain `.with_search()` or `.options(…)`.
///
/// ```
/// # #[derive(Debug, Clone, Copy)] enum E { Go }
/// # impl std::fmt::Display for E { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { f.write_str("go") } }
/// # impl dstar::event::Event for E { const ALL: &'static [Self] = &[E::Go];
/// #   fn name(self) -> &'static str { "go" } fn verb(self) -> dstar::actions::Verb { dstar::actions::Verb::Post } }
/// assert_eq!(
///     dstar::page::event_action(E::Go).to_string(),
///     "@post(location.pathname.replace(/^\\/+/, '/').replace(/\\/+$/, '') + '/_event/go')"
/// );
/// ```
pub fn event_action<E: Event>(event: E) -> Action {
    Action::page_event(event.verb(), event.name())
}

/// The options of [`connect_action`]: reconnect after *any* end the user did not ask for (a clean
/// close at a restart or deploy, an error, a network drop), forever, first after 0.5–1.5 s (a
/// random start per tab, so tabs do not stampede a new process), doubling up to 10 s. The
/// [`RENDERED_HEADER`] carries the page's render time (`<body data-ds-rendered>`), and
/// [`flash::HEADER_NAME`](crate::flash::HEADER_NAME) the flash message the page shows.
pub const CONNECT_OPTIONS: &str = "{retry: 'always', retryInterval: 500 + Math.floor(Math.random() * 1000), retryScaler: 2, retryMaxWait: 10000, retryMaxCount: Infinity, headers: {'x-dstar-rendered': document.body.dataset.dsRendered || '', 'x-dstar-flash': document.body.dataset.dsFlash || ''}}";

/// The header a page stream's first connect carries its page's render time in (milliseconds
/// since the Unix epoch, from `<body data-ds-rendered>`, which [`PageContext::body`] writes).
/// When a message on the stream's topics came after it (the page went stale while the browser
/// loaded it), the stream starts with a fresh render of the page, as a reconnect does.
pub const RENDERED_HEADER: &str = "x-dstar-rendered";

/// The action for the page's stream: `@post(<current path>, {retry: 'always', …})` (see
/// [`CONNECT_OPTIONS`]). GET renders the page, POST to the same path opens its stream. On a
/// reconnect the stream first sends a fresh render of the page, so nothing is missed.
///
/// ```
/// let action = dstar::page::connect_action().to_string();
/// assert!(action.starts_with("@post(location.pathname"));
/// assert!(action.contains("retry: 'always'"));
/// assert!(action.contains("location.search"), "the catch-up renders the page with its query");
/// ```
pub fn connect_action() -> Action {
    // with the query: the catch-up renders the page the tab shows, `/search?q=x` included
    Action::current_path(Verb::Post)
        .with_search()
        .options(CONNECT_OPTIONS)
}

fn no_stream_refusal(page: &str, path: &str) -> Response {
    let message = format!(
        "page `{page}` has no stream: POST {path} opens a stream only on pages with `subscribe` and `on_message`, or `live`"
    );
    crate::error::refusal(StatusCode::NOT_FOUND, "no stream", message)
}

/// The `404` of [`unknown_event`]: the name and the page's events in debug builds, only
/// `unknown event` in release builds (logged either way, the name escaped).
fn unknown_event_refusal(page: &str, path: &str, known: &[&str]) -> Response {
    let name = path.rsplit("/_event/").next().unwrap_or("");
    let message = format!(
        "unknown event `{name}` on page `{page}`; events here: {}",
        if known.is_empty() {
            "(none)".to_owned()
        } else {
            known.join(", ")
        }
    );
    crate::error::refusal(StatusCode::NOT_FOUND, "unknown event", message)
}

/// The id of the element that holds a page's `render` output inside the layout. A stream's
/// catch-up morphs it, and nothing of the layout.
///
/// ```
/// assert_eq!(dstar::page::PAGE_ROOT_ID, "ds-page");
/// ```
pub const PAGE_ROOT_ID: &str = "ds-page";

/// A page's `render` output in its root element (`display: contents`, so it adds no box).
///
/// ```
/// let root = dstar::page::page_root(maud::html! { p { "hi" } });
/// assert_eq!(root.into_string(), r#"<div id="ds-page" style="display:contents"><p>hi</p></div>"#);
/// ```
pub fn page_root(body: maud::Markup) -> maud::Markup {
    maud::html! { div id=(PAGE_ROOT_ID) style="display:contents" { (body) } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{assert_quiet, quietly};

    #[test]
    fn release_bodies_name_no_event_and_no_page() {
        let path = "/counter/_event/<script>alert(1)</script>";
        if cfg!(debug_assertions) {
            let (_, body) = crate::error::quiet_body(unknown_event_refusal(
                "Counter",
                path,
                &["increment", "reset"],
            ));
            assert!(body.contains("events here: increment, reset"), "{body}");
        }
        quietly(|| {
            let refused = unknown_event_refusal("app::Counter", path, &["increment", "reset"]);
            assert_quiet(refused, 404, "unknown event");
            assert_quiet(
                no_stream_refusal("app::Counter", "/counter"),
                404,
                "no stream",
            );
        });
    }
}
