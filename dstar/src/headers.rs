//! Security headers on every answer, an opt-in Content Security Policy that works with the
//! default layout, and a panic catcher that turns a panicking handler into a logged `500`.
//!
//! [`App`](crate::App) sends these by default (change them with
//! [`App::security_headers`](crate::App::security_headers)); `dstar::serve` adds the defaults to a
//! router of your own too:
//!
//! | header | default | why |
//! |---|---|---|
//! | `X-Content-Type-Options` | `nosniff` | a file served as an image is never run as a script |
//! | `X-Frame-Options` | `SAMEORIGIN` | no other site frames your pages (clickjacking) |
//! | `Referrer-Policy` | `strict-origin-when-cross-origin` | other sites see your origin, never your paths |
//! | `Content-Security-Policy` | off; [`strict_csp`](SecurityHeaders::strict_csp) | see below |
//!
//! A header the handler set itself is left alone. An event stream (`text/event-stream`) gets
//! `nosniff` only: `fetch` reads it, nothing frames or navigates to it, so the frame and referrer
//! policies would do nothing there, and hyper keeps each connection's response header map for as
//! long as the connection lives (with these two, 650 bytes more per open stream).
//!
//! **Content Security Policy with Datastar.** Datastar evaluates the expressions in `data-*`
//! attributes by compiling them with `Function`, so a policy must allow `'unsafe-eval'`; without
//! it nothing on the page reacts. What a policy still buys is control over which *scripts* run:
//! [`strict_csp`](SecurityHeaders::strict_csp) sends, on every page,
//! `script-src 'nonce-…' 'strict-dynamic' 'unsafe-eval'; object-src 'none'; base-uri 'none';
//! frame-ancestors 'self'` with a fresh nonce per page, which the default layout (and any layout
//! that uses [`PageContext::client_script`](crate::page::PageContext::client_script)) puts on
//! the Datastar client and dstar's own inline script. An injected `<script>` (no nonce) or
//! `<script src="https://evil.example">` does not run; scripts that Datastar itself inserts (an
//! event's `execute_script`, `redirect`, `console_log`) do, through `'strict-dynamic'`. It sets
//! no `style-src`, so inline styles keep working.
//!
//! ```
//! use dstar::headers::SecurityHeaders;
//! let app = dstar::App::new().security_headers(
//!     SecurityHeaders::default()
//!         .frame_options(Some("DENY"))
//!         .referrer_policy(Some("no-referrer"))
//!         .strict_csp(true),
//! );
//! ```

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::task::{Context, Poll};

/// A request extension present on requests that arrived over TLS through `dstar::serve`, so
/// layers (the CSRF cookie, dstar's `Secure` cookies) can tell without trusting a header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServedOverTls;

/// Which security headers every answer carries (see the [module docs](self)).
///
/// ```
/// let headers = dstar::headers::SecurityHeaders::default();
/// assert_eq!(headers.frame_options_value(), Some("SAMEORIGIN"));
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    nosniff: bool,
    frame_options: Option<&'static str>,
    referrer_policy: Option<&'static str>,
    strict_csp: bool,
}

impl Default for SecurityHeaders {
    /// `nosniff`, `SAMEORIGIN`, `strict-origin-when-cross-origin`; a strict CSP when
    /// `DSTAR_CSP=strict`.
    fn default() -> Self {
        SecurityHeaders {
            nosniff: true,
            frame_options: Some("SAMEORIGIN"),
            referrer_policy: Some("strict-origin-when-cross-origin"),
            strict_csp: std::env::var("DSTAR_CSP").is_ok_and(|v| v == "strict"),
        }
    }
}

impl SecurityHeaders {
    /// No headers at all (say, when a proxy in front sets them).
    ///
    /// ```
    /// let none = dstar::headers::SecurityHeaders::none();
    /// assert_eq!(none.frame_options_value(), None);
    /// ```
    pub fn none() -> Self {
        SecurityHeaders {
            nosniff: false,
            frame_options: None,
            referrer_policy: None,
            strict_csp: false,
        }
    }

    /// `X-Content-Type-Options: nosniff` (default on).
    ///
    /// ```
    /// let h = dstar::headers::SecurityHeaders::default().nosniff(false);
    /// ```
    pub fn nosniff(mut self, on: bool) -> Self {
        self.nosniff = on;
        self
    }

    /// `X-Frame-Options` (default `SAMEORIGIN`; `DENY`, or `None` to let any site frame you).
    ///
    /// ```
    /// let h = dstar::headers::SecurityHeaders::default().frame_options(Some("DENY"));
    /// ```
    pub fn frame_options(mut self, value: Option<&'static str>) -> Self {
        self.frame_options = value;
        self
    }

    /// `Referrer-Policy` (default `strict-origin-when-cross-origin`).
    ///
    /// ```
    /// let h = dstar::headers::SecurityHeaders::default().referrer_policy(Some("no-referrer"));
    /// ```
    pub fn referrer_policy(mut self, value: Option<&'static str>) -> Self {
        self.referrer_policy = value;
        self
    }

    /// The strict, nonce-based Content Security Policy on every page (see the
    /// [module docs](self)); off by default, on with `DSTAR_CSP=strict` too.
    ///
    /// ```
    /// let h = dstar::headers::SecurityHeaders::default().strict_csp(true);
    /// ```
    pub fn strict_csp(mut self, on: bool) -> Self {
        self.strict_csp = on;
        self
    }

    /// The `X-Frame-Options` value sent, if any.
    pub fn frame_options_value(&self) -> Option<&'static str> {
        self.frame_options
    }

    /// The tower layer.
    ///
    /// ```
    /// let router: axum::Router = axum::Router::new()
    ///     .layer(dstar::headers::SecurityHeaders::default().layer());
    /// ```
    pub fn layer(&self) -> SecurityHeadersLayer {
        SecurityHeadersLayer(Arc::new(self.clone()))
    }
}

/// The nonce of this page's scripts under [`SecurityHeaders::strict_csp`], in the request's
/// extensions for layouts ([`PageContext::nonce`](crate::page::PageContext::nonce)).
///
/// ```
/// let parts = axum::http::Request::new(()).into_parts().0;
/// assert!(parts.extensions.get::<dstar::headers::CspNonce>().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct CspNonce(pub Arc<str>);

/// The layer of [`SecurityHeaders`].
#[derive(Debug, Clone)]
pub struct SecurityHeadersLayer(Arc<SecurityHeaders>);

impl<S> tower_layer::Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeadersService<S>;
    fn layer(&self, inner: S) -> SecurityHeadersService<S> {
        SecurityHeadersService {
            inner,
            config: self.0.clone(),
        }
    }
}

/// The service of [`SecurityHeadersLayer`].
#[derive(Debug, Clone)]
pub struct SecurityHeadersService<S> {
    inner: S,
    config: Arc<SecurityHeaders>,
}

pin_project_lite::pin_project! {
    /// The future of [`SecurityHeadersService`].
    pub struct SecurityHeadersFuture<F> {
        #[pin]
        inner: F,
        config: Arc<SecurityHeaders>,
        nonce: Option<Arc<str>>,
    }
}

impl<S> tower_service::Service<Request> for SecurityHeadersService<S>
where
    S: tower_service::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = SecurityHeadersFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let nonce = self.config.strict_csp.then(|| {
            use rand::RngCore;
            let mut bytes = [0u8; 18];
            rand::rng().fill_bytes(&mut bytes);
            let nonce: Arc<str> = hex::encode(bytes).into();
            req.extensions_mut().insert(CspNonce(nonce.clone()));
            nonce
        });
        SecurityHeadersFuture {
            inner: self.inner.call(req),
            config: self.config.clone(),
            nonce,
        }
    }
}

impl<F, E> Future for SecurityHeadersFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        let headers = response.headers_mut();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let is_page = content_type.starts_with("text/html");
        // read by `fetch`, never framed or navigated: the document headers do nothing on it,
        // and hyper keeps a connection's response header map for as long as the stream is open
        let is_event_stream = content_type.starts_with("text/event-stream");
        let mut set = |name: HeaderName, value: &'static str| {
            if !headers.contains_key(&name) {
                headers.insert(name, HeaderValue::from_static(value));
            }
        };
        if this.config.nosniff {
            set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        }
        if let Some(value) = this.config.frame_options.filter(|_| !is_event_stream) {
            set(header::X_FRAME_OPTIONS, value);
        }
        if let Some(value) = this.config.referrer_policy.filter(|_| !is_event_stream) {
            set(header::REFERRER_POLICY, value);
        }
        if let Some(nonce) = this.nonce.as_ref().filter(|_| is_page) {
            if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
                let policy = format!(
                    "script-src 'nonce-{nonce}' 'strict-dynamic' 'unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
                );
                if let Ok(value) = HeaderValue::from_str(&policy) {
                    headers.insert(header::CONTENT_SECURITY_POLICY, value);
                }
            }
        }
        Poll::Ready(Ok(response))
    }
}

thread_local! {
    /// Where the last panic on this thread happened: the panic hook writes it, the catcher reads
    /// it (a handler's future is polled, and unwinds, on one thread).
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps where a panic happened for the catcher's log line; the hook before it still runs.
fn record_panic_locations() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info.location().map(|l| l.to_string());
            LAST_PANIC.with(|last| *last.borrow_mut() = location);
            previous(info);
        }));
    });
}

/// A layer that answers a panicking handler (or page render) with a `500` and logs it with
/// tracing, with where it happened; the connection, and the server, live on. [`App`](crate::App)
/// and `dstar::serve` put it on every route. (A panic in a page stream's `on_message` or a live
/// page's re-render, after the answer began, ends that stream, logged the same way.) Unlike
/// tower-http's `CatchPanicLayer` it leaves the response body as it is: no box per answer.
///
/// ```
/// let router: axum::Router = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "ok" }))
///     .layer(dstar::headers::catch_panic());
/// ```
pub fn catch_panic() -> CatchPanicLayer {
    record_panic_locations();
    CatchPanicLayer
}

/// The layer of [`catch_panic`].
#[derive(Debug, Clone, Copy)]
pub struct CatchPanicLayer;

impl<S> tower_layer::Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;
    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic { inner }
    }
}

/// The service of [`catch_panic`].
#[derive(Debug, Clone)]
pub struct CatchPanic<S> {
    inner: S,
}

impl<S> tower_service::Service<Request> for CatchPanic<S>
where
    S: tower_service::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = CatchPanicFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let inner = &mut self.inner;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.call(req))) {
            Ok(future) => CatchPanicFuture {
                inner: Some(future),
            },
            Err(panic) => {
                log_panic(panic.as_ref(), "a handler panicked; answered 500");
                CatchPanicFuture { inner: None }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`CatchPanic`]: the inner future, or a `500` when it panicked.
    pub struct CatchPanicFuture<F> {
        #[pin]
        inner: Option<F>,
    }
}

impl<F, E> Future for CatchPanicFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.project().inner;
        let Some(future) = inner.as_mut().as_pin_mut() else {
            return Poll::Ready(Ok(panic_answer()));
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                inner.set(None);
                log_panic(panic.as_ref(), "a handler panicked; answered 500");
                Poll::Ready(Ok(panic_answer()))
            }
        }
    }
}

/// A `500` whose body names nothing internal.
fn panic_answer() -> Response {
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal server error",
    )
        .into_response()
}

/// Logs a caught panic with its message and where it happened (see [`record_panic_locations`]).
pub(crate) fn log_panic(panic: &(dyn std::any::Any + Send), what: &str) {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    let location = LAST_PANIC.with(|last| last.borrow_mut().take());
    tracing::error!(
        panic = %message.escape_debug(),
        location = location.as_deref().unwrap_or("unknown"),
        "dstar: {what}"
    );
}
