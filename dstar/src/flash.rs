//! One-time messages across a redirect ("Welcome back", "Note deleted"), as Phoenix's
//! `put_flash` and Rails' `flash`.
//!
//! An event or a plain route sets one with the [`Flash`] extractor before it redirects; the next
//! page load shows it, and only that one. The message travels in a cookie signed with the app's
//! key ([`App::key`](crate::App::key)), so a forged or altered cookie is ignored. It lasts at
//! most five minutes.
//!
//! **It survives live re-renders.** The page that shows the message carries it (signed) for its
//! stream, so every re-render of a live page shows it too, until the next page load.
//!
//! ```standalone_crate
//! use dstar::prelude::*;
//! use dstar::flash::Flash;
//!
//! struct Notes { flash: Flash }
//!
//! #[dstar::page("/notes")]
//! impl Notes {
//!     async fn mount(flash: Flash) -> Self {
//!         Notes { flash }
//!     }
//!     fn render(&self) -> Markup {
//!         // `<div class="flash flash-success" role="status">Signed in</div>`, or nothing
//!         html! { (self.flash) ul #notes {} }
//!     }
//!     #[event]
//!     async fn sign_in(sse: &mut Sse, flash: Flash) -> Result<(), dstar::Error> {
//!         flash.success("Signed in");
//!         sse.redirect("/notes")?;
//!         Ok(())
//!     }
//! }
//! let router: axum::Router = dstar::App::empty().page::<Notes>().build();
//! ```

use crate::secret::AppKey;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use maud::{Markup, Render, html};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

/// The flash cookie's name.
///
/// ```
/// assert_eq!(dstar::flash::COOKIE_NAME, "dstar_flash");
/// ```
pub const COOKIE_NAME: &str = "dstar_flash";

/// The header a page's stream carries its flash in (from `<body data-ds-flash>`), so live
/// re-renders show it too.
///
/// ```
/// assert_eq!(dstar::flash::HEADER_NAME, "x-dstar-flash");
/// ```
pub const HEADER_NAME: &str = "x-dstar-flash";

/// How long an unshown message waits for its page load.
const MAX_AGE_SECS: i64 = 300;
/// How long the page that shows a message shows it through its live re-renders.
const PAGE_MAX_AGE_SECS: i64 = 86_400;
/// Longer values are not read: a flash is a sentence, not a document.
const MAX_VALUE_LEN: usize = 2048;

/// How a message is meant: it becomes the `flash-{level}` class.
///
/// ```
/// assert_eq!(dstar::flash::Level::Success.as_str(), "success");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Neutral news.
    Info,
    /// Something worked.
    Success,
    /// Something needs attention.
    Warning,
    /// Something failed.
    Error,
}

impl Level {
    /// `"info"`, `"success"`, `"warning"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One message.
///
/// ```
/// let m = dstar::flash::Message { level: dstar::flash::Level::Info, text: "Saved".into() };
/// assert_eq!(m.text, "Saved");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// How it is meant.
    pub level: Level,
    /// The text (shown escaped).
    pub text: String,
}

/// The flash of this request: the message to show now ([`message`](Flash::message), rendered by
/// its [`Render`] impl), and the one to set for the next page load ([`set`](Flash::set)). An
/// extractor; it never fails.
///
/// ```
/// use dstar::flash::Flash;
/// async fn save(flash: Flash) -> axum::response::Redirect {
///     flash.success("Saved");
///     axum::response::Redirect::to("/notes")
/// }
/// let app: axum::Router = dstar::App::empty()
///     .route("/save", axum::routing::post(save))
///     .build();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Flash {
    shown: Option<Message>,
    next: Option<Arc<Mutex<Option<Message>>>>,
}

impl Flash {
    /// The message to show on this page, if any.
    ///
    /// ```
    /// assert!(dstar::flash::Flash::default().message().is_none());
    /// ```
    pub fn message(&self) -> Option<&Message> {
        self.shown.as_ref()
    }

    /// Sets the message for the next page load (replacing one set before in this request).
    /// Without the app's flash layer (a router not built by [`App`](crate::App)) it is dropped
    /// with a warning.
    ///
    /// ```
    /// # fn f(flash: dstar::flash::Flash) {
    /// flash.set(dstar::flash::Level::Warning, "Your session ends in 5 minutes");
    /// # }
    /// ```
    pub fn set(&self, level: Level, text: impl Into<String>) {
        let message = Message {
            level,
            text: text.into(),
        };
        match &self.next {
            Some(next) => *next.lock().unwrap_or_else(|e| e.into_inner()) = Some(message),
            None => tracing::warn!(
                "dstar: a flash message was set, but this router has no flash layer (build it with dstar::App)"
            ),
        }
    }

    /// [`set`](Flash::set) with [`Level::Info`].
    pub fn info(&self, text: impl Into<String>) {
        self.set(Level::Info, text);
    }

    /// [`set`](Flash::set) with [`Level::Success`].
    pub fn success(&self, text: impl Into<String>) {
        self.set(Level::Success, text);
    }

    /// [`set`](Flash::set) with [`Level::Warning`].
    pub fn warning(&self, text: impl Into<String>) {
        self.set(Level::Warning, text);
    }

    /// [`set`](Flash::set) with [`Level::Error`].
    pub fn error(&self, text: impl Into<String>) {
        self.set(Level::Error, text);
    }
}

/// `<div class="flash flash-{level}" role="status">{text}</div>`, or nothing.
///
/// ```
/// use maud::Render;
/// assert_eq!(dstar::flash::Flash::default().render().into_string(), "");
/// ```
impl Render for Flash {
    fn render(&self) -> Markup {
        html! {
            @if let Some(m) = &self.shown {
                div class={ "flash flash-" (m.level.as_str()) } role="status" { (m.text) }
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Flash {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(match parts.extensions.get::<FlashState>() {
            Some(state) => Flash {
                shown: state.shown.as_ref().map(|(m, _)| m.clone()),
                next: Some(state.next.clone()),
            },
            None => Flash::default(),
        })
    }
}

/// What the flash layer leaves in a request.
#[derive(Clone)]
struct FlashState {
    /// The message to show, and its signed value (for the page to hand its stream).
    shown: Option<(Message, String)>,
    next: Arc<Mutex<Option<Message>>>,
}

/// The signed flash a page hands its stream (`<body data-ds-flash>`), when the page shows one.
pub(crate) fn page_value(extensions: &axum::http::Extensions) -> Option<String> {
    let state = extensions.get::<FlashState>()?;
    state.shown.as_ref().map(|(_, signed)| signed.clone())
}

/// The key flash messages are signed with: given, or [`AppKey::from_env`] on first use (so an
/// app that never flashes writes no key file).
#[derive(Clone)]
pub(crate) struct FlashKey(Arc<OnceLock<AppKey>>);

impl FlashKey {
    pub(crate) fn new(key: Option<AppKey>) -> Self {
        let cell = OnceLock::new();
        if let Some(key) = key {
            let _ = cell.set(key);
        }
        FlashKey(Arc::new(cell))
    }

    fn mac(&self) -> Hmac<Sha256> {
        let key = self.0.get_or_init(AppKey::from_env);
        Hmac::<Sha256>::new_from_slice(key.bytes()).expect("any key length")
    }

    fn sign(&self, message: &Message) -> Option<String> {
        let json = serde_json::to_vec(&(message, unix_now())).ok()?;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let mut mac = self.mac();
        mac.update(b"dstar flash\0");
        mac.update(payload.as_bytes());
        let tag = hex::encode(mac.finalize().into_bytes());
        Some(format!("{payload}.{tag}"))
    }

    fn verify(&self, value: &str) -> Option<Message> {
        self.verify_within(value, MAX_AGE_SECS)
    }

    fn verify_within(&self, value: &str, max_age: i64) -> Option<Message> {
        if value.len() > MAX_VALUE_LEN {
            return None;
        }
        let (payload, tag) = value.split_once('.')?;
        let tag = hex::decode(tag).ok()?;
        let mut mac = self.mac();
        mac.update(b"dstar flash\0");
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag).ok()?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?;
        let (message, at): (Message, i64) = serde_json::from_slice(&json).ok()?;
        (unix_now() - at <= max_age).then_some(message)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .map(|c| c.value().to_owned())
}

fn set_cookie(value: &str, max_age: i64) -> Option<HeaderValue> {
    let cookie = cookie::Cookie::build((COOKIE_NAME, value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// Over HTTPS, dstar's own cookies (the session's and the flash's) are `Secure`, so a browser
/// never sends them over plain HTTP, where anyone on the network could read them (the CSRF
/// cookie takes its `__Host-` name on its own).
fn mark_secure(headers: &mut HeaderMap) {
    let ours = [
        format!("{}=", crate::session::COOKIE_NAME),
        format!("{COOKIE_NAME}="),
    ];
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if !cookies.iter().any(|c| {
        c.to_str()
            .is_ok_and(|c| ours.iter().any(|name| c.starts_with(name.as_str())))
    }) {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let secured = cookie.to_str().ok().filter(|c| {
            ours.iter().any(|name| c.starts_with(name.as_str()))
                && !c.to_ascii_lowercase().contains("; secure")
        });
        let value = secured
            .and_then(|c| HeaderValue::from_str(&format!("{c}; Secure")).ok())
            .unwrap_or(cookie);
        headers.append(header::SET_COOKIE, value);
    }
}

/// The flash layer, which [`App`](crate::App) puts on every route: reads the message to show
/// (from the cookie, or from the page's stream header), sets the next one, and clears the cookie
/// once a page showed it.
#[derive(Clone)]
pub(crate) struct FlashLayer {
    key: FlashKey,
}

impl FlashLayer {
    pub(crate) fn new(key: FlashKey) -> Self {
        FlashLayer { key }
    }
}

impl<S> tower_layer::Layer<S> for FlashLayer {
    type Service = FlashService<S>;
    fn layer(&self, inner: S) -> FlashService<S> {
        FlashService {
            inner,
            key: self.key.clone(),
        }
    }
}

/// The service of the flash layer.
#[derive(Clone)]
pub(crate) struct FlashService<S> {
    inner: S,
    key: FlashKey,
}

impl<S> tower_service::Service<Request> for FlashService<S>
where
    S: tower_service::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = FlashFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let key = &self.key;
        let from_cookie = cookie_value(req.headers());
        let from_header = req
            .headers()
            .get(HEADER_NAME)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty());
        let had_cookie = from_cookie.is_some();
        // the cookie first (a page load); else the header (a page's stream, for its
        // re-renders), whose copy lasts as long as a page stays open, a day
        let shown = from_cookie
            .as_deref()
            .and_then(|value| key.verify(value).map(|m| (m, value.to_owned())))
            .or_else(|| {
                from_header.and_then(|value| {
                    key.verify_within(value, PAGE_MAX_AGE_SECS)
                        .map(|m| (m, value.to_owned()))
                })
            });
        if had_cookie && shown.is_none() {
            tracing::debug!(
                "dstar: a flash cookie did not verify (forged, altered or expired); ignored"
            );
        }
        let next = Arc::new(Mutex::new(None));
        let shows_page = req.method() == axum::http::Method::GET
            && !req.headers().contains_key("datastar-request");
        let over_tls = req
            .extensions()
            .get::<crate::headers::ServedOverTls>()
            .is_some();
        req.extensions_mut().insert(FlashState {
            shown,
            next: next.clone(),
        });
        FlashFuture {
            inner: self.inner.call(req),
            key: self.key.clone(),
            next,
            clears: had_cookie && shows_page,
            over_tls,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of the flash layer: the inner answer, with the flash cookie set or cleared. Not
    /// boxed: every request of an [`App`](crate::App) goes through it.
    pub(crate) struct FlashFuture<F> {
        #[pin]
        inner: F,
        key: FlashKey,
        next: Arc<Mutex<Option<Message>>>,
        clears: bool,
        over_tls: bool,
    }
}

impl<F> Future for FlashFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(mut response) = std::task::ready!(this.inner.poll(cx));
        let next = this.next.lock().unwrap_or_else(|e| e.into_inner()).take();
        let is_page = response.status().is_success()
            && response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("text/html"));
        let cookie = match next {
            Some(message) => this
                .key
                .sign(&message)
                .and_then(|v| set_cookie(&v, MAX_AGE_SECS)),
            // shown (or unreadable): gone from the next page load
            None if *this.clears && is_page => set_cookie("", 0),
            None => None,
        };
        if let Some(cookie) = cookie {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        if *this.over_tls {
            mark_secure(response.headers_mut());
        }
        Poll::Ready(Ok(response))
    }
}

impl fmt::Debug for FlashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FlashKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_tls_our_cookies_are_secure_and_others_are_left_alone() {
        let mut headers = HeaderMap::new();
        for c in [
            "dstar_session=abc; HttpOnly; SameSite=Lax; Path=/",
            "dstar_flash=x.y; HttpOnly; Secure; Path=/",
            "theirs=1; Path=/",
        ] {
            headers.append(header::SET_COOKIE, HeaderValue::from_static(c));
        }
        mark_secure(&mut headers);
        let out: Vec<&str> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(
            out,
            [
                "dstar_session=abc; HttpOnly; SameSite=Lax; Path=/; Secure",
                "dstar_flash=x.y; HttpOnly; Secure; Path=/",
                "theirs=1; Path=/",
            ]
        );
    }

    #[test]
    fn a_signed_message_verifies_and_an_altered_one_does_not() {
        let key = FlashKey::new(Some(AppKey::new("k")));
        let m = Message {
            level: Level::Success,
            text: "Welcome <b>back</b>".into(),
        };
        let signed = key.sign(&m).unwrap();
        assert_eq!(key.verify(&signed), Some(m));
        let (payload, tag) = signed.split_once('.').unwrap();
        let forged = format!("{}A.{tag}", payload);
        assert_eq!(key.verify(&forged), None);
        let other = FlashKey::new(Some(AppKey::new("other")));
        assert_eq!(other.verify(&signed), None);
        assert_eq!(key.verify("garbage"), None);
    }
}
