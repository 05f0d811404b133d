//! The page layer: what `#[dstar::page]` expands to, built only from the functional core.
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

// `Result<_, Response>` is the axum idiom for "or answer with this": boxing it would only cost.
#![allow(clippy::result_large_err)]

mod app;
mod args;
mod client;
mod layout;

pub use app::{App, PageRegistration, Registered, RouteInfo, States, build_page, state_for};
pub use args::{BodyArg, PartsArg, RequestHead};
pub use client::{
    CLIENT_PATH, DEFAULT_CLIENT_INTEGRITY, DEFAULT_CLIENT_SRC, client_integrity,
    client_script_route, client_src,
};
pub use layout::{Layout, PageContext, csrf_signal, default_layout, tab_id_signal};

use crate::Sse;
use crate::actions::{Action, Verb};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
    type Event: PageEvent;
    /// The type's name, e.g. `"Counter"`.
    const NAME: &'static str;
    /// The path the page is served at, e.g. `"/counter"`.
    const PATH: &'static str;
    /// The page's routes: `GET {path}` and one route per event.
    fn routes() -> Router<Self::State>;
}

/// Implemented by the generated event enums.
///
/// ```standalone_crate
/// #[derive(Default)]
/// struct Home;
/// #[dstar::page("/home")]
/// impl Home {
///     fn render(&self) -> maud::Markup { maud::html! { "home" } }
///     #[event] async fn ping() {}
/// }
/// use dstar::page::PageEvent;
/// assert_eq!(HomeEvent::ALL, [HomeEvent::Ping]);
/// assert_eq!(HomeEvent::Ping.name(), "ping");
/// ```
pub trait PageEvent: Copy + fmt::Display + fmt::Debug + Send + Sync + 'static {
    /// Every event, in declaration order.
    const ALL: &'static [Self];
    /// The wire name (the URL segment).
    fn name(self) -> &'static str;
    /// The HTTP method the event's route accepts.
    fn verb(self) -> Verb;
}

/// What is being authorized: an event or (with streams) the page's stream.
///
/// ```
/// use dstar::page::Access;
/// #[derive(Clone, Copy, Debug, PartialEq)] enum Ev { Delete }
/// let refuse = |a: Access<Ev>| a == Access::Event(Ev::Delete);
/// assert!(refuse(Access::Event(Ev::Delete)));
/// assert!(!refuse(Access::Stream));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access<E> {
    /// `{path}/_event/{name}`.
    Event(E),
    /// `POST {path}`, the page's stream.
    Stream,
}

/// The action for a page event: `@post(<current path> + '/_event/<name>')`, resolved in the browser
/// so path parameters need no server-side plumbing. Chain `.with_search()` or `.options(…)`.
///
/// ```
/// # #[derive(Debug, Clone, Copy)] enum E { Go }
/// # impl std::fmt::Display for E { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { f.write_str("go") } }
/// # impl dstar::page::PageEvent for E { const ALL: &'static [Self] = &[E::Go];
/// #   fn name(self) -> &'static str { "go" } fn verb(self) -> dstar::actions::Verb { dstar::actions::Verb::Post } }
/// assert_eq!(
///     dstar::page::event_action(E::Go).to_string(),
///     "@post(location.pathname.replace(/^\\/+/, '/').replace(/\\/+$/, '') + '/_event/go')"
/// );
/// ```
pub fn event_action<E: PageEvent>(event: E) -> Action {
    Action::page_event(event.verb(), event.name())
}

/// The options of [`connect_action`]: reconnect after *any* end the user did not ask for (a clean
/// close at a restart or deploy, an error, a network drop), forever, first after 0.5–1.5 s (a
/// random start per tab, so tabs do not stampede a new process), doubling up to 10 s.
pub const CONNECT_OPTIONS: &str = "{retry: 'always', retryInterval: 500 + Math.floor(Math.random() * 1000), retryScaler: 2, retryMaxWait: 10000, retryMaxCount: Infinity}";

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

/// `404` for `POST {path}` on a page without a stream.
#[doc(hidden)]
pub async fn no_stream<P: Page>() -> Response {
    let message = format!(
        "page `{}` has no stream: POST {} opens a stream only on pages with `subscribe` and `on_message`",
        P::NAME,
        P::PATH
    );
    (StatusCode::NOT_FOUND, message).into_response()
}

/// The result of an event handler: `()` or `Result<(), E>` where `E: Display`.
///
/// ```
/// use dstar::page::EventOutcome;
/// assert_eq!(().into_error(), None);
/// assert_eq!(Err::<(), _>("db down").into_error().as_deref(), Some("db down"));
/// ```
pub trait EventOutcome {
    /// `Err` with the error's text.
    fn into_error(self) -> Option<String>;
}

impl EventOutcome for () {
    fn into_error(self) -> Option<String> {
        None
    }
}

impl<E: fmt::Display> EventOutcome for Result<(), E> {
    fn into_error(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}

/// Turns a handler's events and outcome into the response. An error keeps the events written
/// before it, is logged, and in debug builds is also sent to the browser as `console.error`.
#[doc(hidden)]
pub fn finish_event(mut sse: Sse, page: &str, event: &str, outcome: impl EventOutcome) -> Response {
    if let Some(error) = outcome.into_error() {
        tracing::error!(page, event, %error, "dstar event handler failed");
        sse.report_error(&format_args!("{page}/{event}: {error}"));
    }
    sse.into_response()
}

/// The result of `mount`: the page, or a response to send instead (a redirect, a 404, …).
///
/// `Err(E)` answers with `E`'s own response and status. A plain-text error (`String` or
/// `&str`) is a failure, not an answer: it is logged and becomes a `500`, whose body shows the
/// text only in debug builds. So is any error whose response would claim success (2xx).
///
/// ```
/// use dstar::page::MountOutcome;
/// let found: Result<u8, axum::http::StatusCode> = Ok(1);
/// assert_eq!(found.into_page().ok(), Some(1));
/// let gone: Result<u8, _> = Err(axum::http::StatusCode::GONE);
/// assert_eq!(gone.into_page().unwrap_err().status(), 410);
/// let failed: Result<u8, String> = Err("db down".into());
/// assert_eq!(failed.into_page().unwrap_err().status(), 500);
/// ```
pub trait MountOutcome<P> {
    /// The page or the response.
    fn into_page(self) -> Result<P, Response>;
}

impl<P, E: IntoResponse + 'static> MountOutcome<P> for Result<P, E> {
    fn into_page(self) -> Result<P, Response> {
        self.map_err(|e| mount_error(std::any::type_name::<P>(), e))
    }
}

fn mount_error<E: IntoResponse + 'static>(page: &str, error: E) -> Response {
    let any = &error as &dyn std::any::Any;
    let text = any
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| any.downcast_ref::<&'static str>().copied());
    if let Some(text) = text {
        tracing::error!(page, error = text, "dstar: mount failed");
        return internal_error(text, cfg!(debug_assertions));
    }
    let response = error.into_response();
    let status = response.status();
    if status.is_success() {
        tracing::error!(
            page,
            status = status.as_u16(),
            "dstar: mount returned an error whose response says success; answering 500"
        );
        return internal_error("mount returned an error", cfg!(debug_assertions));
    }
    if status.is_server_error() {
        tracing::error!(page, status = status.as_u16(), "dstar: mount failed");
    } else {
        tracing::debug!(
            page,
            status = status.as_u16(),
            "dstar: mount answered instead of rendering"
        );
    }
    response
}

/// A `500` for a failure: the error's text in debug builds, nothing internal in release builds.
fn internal_error(text: &str, debug: bool) -> Response {
    let body = if debug {
        format!("internal server error: {text}")
    } else {
        "internal server error".to_owned()
    };
    (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
}

/// The result of `authorize`: `Ok(())`, or any response to refuse with (e.g. a 403).
///
/// ```
/// use dstar::page::AuthorizeOutcome;
/// assert!(true.into_result().is_ok());
/// assert_eq!(false.into_result().unwrap_err().status(), 403);
/// ```
pub trait AuthorizeOutcome {
    /// `Err` to refuse.
    fn into_result(self) -> Result<(), Response>;
}

impl<E: IntoResponse> AuthorizeOutcome for Result<(), E> {
    fn into_result(self) -> Result<(), Response> {
        self.map_err(IntoResponse::into_response)
    }
}

impl AuthorizeOutcome for bool {
    fn into_result(self) -> Result<(), Response> {
        if self {
            Ok(())
        } else {
            Err((StatusCode::FORBIDDEN, "forbidden").into_response())
        }
    }
}

/// `404` for an event name the page does not have, listing the ones it has.
#[doc(hidden)]
pub async fn unknown_event<P: Page>(uri: axum::http::Uri) -> Response {
    let name = uri.path().rsplit("/_event/").next().unwrap_or("");
    let known: Vec<&str> = P::Event::ALL.iter().map(|e| e.name()).collect();
    tracing::debug!(page = P::NAME, event = name, "dstar: unknown event (404)");
    let message = format!(
        "unknown event `{name}` on page `{}`; events here: {}",
        P::NAME,
        if known.is_empty() {
            "(none)".to_owned()
        } else {
            known.join(", ")
        }
    );
    (StatusCode::NOT_FOUND, message).into_response()
}

/// `500` for a component whose declared state the app was not given (a start-up mistake that
/// `App::try_build` reports first).
#[doc(hidden)]
pub fn missing_state(message: String) -> Response {
    tracing::error!(%message, "dstar component state missing");
    (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
}

/// `404` for an event a component's dispatcher does not know (the dispatch route checks first).
#[doc(hidden)]
pub fn unknown_component_event(component: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("unknown event on component `{component}`"),
    )
        .into_response()
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

/// A new page stream's number (its id's last part).
#[doc(hidden)]
pub fn next_stream_number() -> u64 {
    crate::stream::next_stream_number()
}

/// The GET request of the page a stream belongs to (the same URI, headers and extensions), kept
/// by the stream so the page's own `mount` can render it again: for the catch-up, and for every
/// change of a live page.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct ViewTemplate {
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    extensions: axum::http::Extensions,
}

impl ViewTemplate {
    #[doc(hidden)]
    pub fn new(parts: &axum::http::request::Parts) -> Self {
        let mut headers = parts.headers.clone();
        // what made it a stream request, not a page request
        for name in [
            "content-length",
            "content-type",
            "transfer-encoding",
            "last-event-id",
            "datastar-request",
            "accept",
            crate::csrf::HEADER_NAME,
            crate::stream::TAB_HEADER,
        ] {
            headers.remove(name);
        }
        ViewTemplate {
            uri: parts.uri.clone(),
            headers,
            extensions: parts.extensions.clone(),
        }
    }

    #[doc(hidden)]
    pub fn request(&self) -> axum::extract::Request {
        let mut req = axum::extract::Request::new(axum::body::Body::empty());
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
        *req.extensions_mut() = self.extensions.clone();
        req
    }
}

/// A live page's update: its root morphed with a fresh render, or a reload when `mount` now
/// refuses (the page then shows why).
#[doc(hidden)]
pub fn live_update(view: Result<maud::Markup, Response>) -> Sse {
    let mut sse = Sse::new();
    match view {
        Ok(markup) => {
            sse.patch_elements(page_root(markup));
        }
        Err(refusal) if refusal.status().is_server_error() => {
            tracing::warn!(
                status = refusal.status().as_u16(),
                "dstar: a live page's render failed; the page keeps its last render"
            );
        }
        Err(refusal) => {
            tracing::debug!(
                status = refusal.status().as_u16(),
                "dstar: a live page refused its render; reloading it"
            );
            let _ = sse.send(crate::scripts::ExecuteScript::new("location.reload()"));
        }
    }
    sse
}

/// The first events of a page stream: its id (sent back as `Last-Event-ID` on a reconnect) and,
/// on a reconnect, a fresh render of the page root, so nothing published while the tab was away
/// is missing; or, after a rebuild with live reload on, a reload. A `mount` that now refuses (the
/// item was deleted, the session ended) reloads the page too, which then shows why.
#[doc(hidden)]
pub fn stream_start(
    reconnect: crate::stream::Reconnect,
    number: u64,
    view: Option<Result<maud::Markup, Response>>,
) -> Sse {
    let mut sse = Sse::new();
    sse.event_id(&format!("{}.{number}", crate::stream::stream_id()));
    if reconnect.reloads() {
        tracing::debug!("dstar: a new build is serving; reloading the page");
        let _ = sse.send(crate::scripts::ExecuteScript::new("location.reload()"));
        return sse;
    }
    match view {
        Some(Ok(markup)) => {
            sse.patch_elements(page_root(markup));
        }
        Some(Err(refusal)) if refusal.status().is_server_error() => {
            // a passing failure (the database blinked): keep the page as it is and stream on
            tracing::warn!(
                status = refusal.status().as_u16(),
                "dstar: the page's catch-up render failed; streaming without it"
            );
        }
        Some(Err(refusal)) => {
            tracing::debug!(
                status = refusal.status().as_u16(),
                "dstar: the page refused its catch-up render; reloading it"
            );
            let _ = sse.send(crate::scripts::ExecuteScript::new("location.reload()"));
        }
        None => {}
    }
    sse
}

/// Renders the page document with the page's layout.
#[doc(hidden)]
pub fn render_document(
    layout: Layout,
    title: &str,
    body: maud::Markup,
    csrf: Option<String>,
) -> Response {
    let ctx = PageContext {
        title,
        client_src: client_src(),
        client_integrity: client_integrity(),
        csrf: csrf.as_deref(),
    };
    let mut response = layout(&ctx, page_root(body)).into_response();
    // a page holds a per-session CSRF token: no shared cache may keep it
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-cache"),
    );
    response
}

/// `FromStr` error of the generated event enums: the name is not one of the page's events.
///
/// ```
/// let e = dstar::page::UnknownEvent::new("Counter", "incremnt");
/// assert_eq!(e.to_string(), "unknown event `incremnt` on page `Counter`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEvent {
    page: &'static str,
    name: String,
}

impl UnknownEvent {
    /// An unknown `name` on `page`.
    ///
    /// ```
    /// let e = dstar::page::UnknownEvent::new("Counter", "x");
    /// assert!(e.to_string().contains("`x`"));
    /// ```
    pub fn new(page: &'static str, name: &str) -> Self {
        UnknownEvent {
            page,
            name: name.to_owned(),
        }
    }
}

impl fmt::Display for UnknownEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown event `{}` on page `{}`", self.name, self.page)
    }
}

impl std::error::Error for UnknownEvent {}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> String {
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_text_error_does_not_echo_internals_in_release_builds() {
        let release = internal_error("password=hunter2 at db:5432", false);
        assert_eq!(release.status(), 500);
        assert_eq!(body(release).await, "internal server error");
        let debug = internal_error("db down", true);
        assert_eq!(body(debug).await, "internal server error: db down");
    }
}
