//! CSRF protection that works with Datastar, as a tower layer.
//!
//! Datastar sends no CSRF header of its own, so the token travels as a signal: the default layout
//! puts `data-signals:csrf` on `<body>`, and every action (page events, stream connects,
//! component events, verb helpers) sends it in its signals. The layer checks unsafe methods
//! (everything but GET, HEAD, OPTIONS and TRACE):
//!
//! - **tokens**: a per-session secret lives in an HMAC-signed, HttpOnly, SameSite=Lax cookie;
//!   pages get a token masked afresh per render; the layer accepts it from the `csrf` signal of a
//!   JSON body, an `x-csrf-token` header or a `_csrf_token` form field. The body is handed on
//!   whole, so extractors still read it.
//! - **token-less** (Fetch Metadata): `Sec-Fetch-Site` must be `same-origin` or `none`; without
//!   it, an `Origin` must match `Host`. A list of trusted origins passes too. Requests with
//!   neither header (not from a browser) pass, as with Go 1.25's `CrossOriginProtection`.
//!
//! Both can run together. A refused request gets a `403` saying why.
//!
//! ```
//! use dstar::csrf::Csrf;
//! let app: axum::Router = dstar::App::empty()
//!     .build()
//!     .layer(Csrf::new(b"a secret key of at least 32 bytes!!").layer());
//! ```

use crate::signals::DEFAULT_SIGNALS_LIMIT;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

const SECRET_LEN: usize = 32;
/// The session cookie's name.
pub const COOKIE_NAME: &str = "dstar_csrf";
/// The header a token may come in.
pub const HEADER_NAME: &str = "x-csrf-token";
/// The form field a token may come in.
pub const FORM_FIELD: &str = "_csrf_token";
/// The signal a token comes in (set on `<body>` by the default layout).
pub const SIGNAL: &str = "csrf";

/// Settings of the CSRF layer. Cheap to clone.
///
/// ```
/// use dstar::csrf::Csrf;
/// // tokens and Fetch Metadata together, with one trusted partner origin
/// let csrf = Csrf::new(b"a secret key of at least 32 bytes!!")
///     .fetch_metadata(true)
///     .trusted_origin("https://partner.example");
/// ```
#[derive(Clone)]
pub struct Csrf {
    inner: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    key: [u8; 32],
    tokens: bool,
    fetch_metadata: bool,
    trusted: Vec<String>,
    secure_cookie: bool,
}

impl fmt::Debug for Csrf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Csrf")
            .field("tokens", &self.inner.tokens)
            .field("fetch_metadata", &self.inner.fetch_metadata)
            .field("trusted", &self.inner.trusted)
            .finish_non_exhaustive()
    }
}

impl Csrf {
    /// Token protection with a server key (keep it secret and stable across restarts, e.g. from
    /// an environment variable). The key is hashed to 32 bytes.
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::new(b"a secret key of at least 32 bytes!!");
    /// ```
    pub fn new(key: impl AsRef<[u8]>) -> Self {
        let key: [u8; 32] = Sha256::digest(key.as_ref()).into();
        Csrf {
            inner: Arc::new(Config {
                key,
                tokens: true,
                fetch_metadata: false,
                trusted: Vec::new(),
                secure_cookie: false,
            }),
        }
    }

    /// Token protection with a random key: sessions do not survive a restart (fine in
    /// development). Prefer [`Csrf::new`] in production.
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::random();
    /// ```
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Csrf::new(key)
    }

    /// Token protection keyed by `DSTAR_CSRF_KEY` when it is set, else a random key (with a
    /// warning: sessions then end at restart).
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::from_env();
    /// ```
    pub fn from_env() -> Self {
        match std::env::var("DSTAR_CSRF_KEY") {
            Ok(key) if key.len() >= 32 => Csrf::new(key),
            Ok(_) => {
                tracing::warn!("DSTAR_CSRF_KEY is shorter than 32 bytes; using a random key");
                Csrf::random()
            }
            Err(_) => {
                tracing::warn!(
                    "DSTAR_CSRF_KEY is not set; using a random CSRF key (sessions end at restart)"
                );
                Csrf::random()
            }
        }
    }

    /// Token-less protection by Fetch Metadata and `Origin` alone.
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::fetch_metadata_only();
    /// ```
    pub fn fetch_metadata_only() -> Self {
        let mut csrf = Csrf::random();
        let config = csrf.config_mut();
        config.tokens = false;
        config.fetch_metadata = true;
        csrf
    }

    /// Also (or no longer) check Fetch Metadata and `Origin`.
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::random().fetch_metadata(true);
    /// ```
    pub fn fetch_metadata(mut self, on: bool) -> Self {
        self.config_mut().fetch_metadata = on;
        self
    }

    /// An origin (`https://partner.example`) whose cross-site requests are allowed.
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::fetch_metadata_only().trusted_origin("https://app.example");
    /// ```
    pub fn trusted_origin(mut self, origin: &str) -> Self {
        self.config_mut()
            .trusted
            .push(origin.trim_end_matches('/').to_ascii_lowercase());
        self
    }

    /// Mark the session cookie `Secure` (serve over HTTPS).
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::random().secure_cookie(true);
    /// ```
    pub fn secure_cookie(mut self, on: bool) -> Self {
        self.config_mut().secure_cookie = on;
        self
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.inner)
    }

    /// The tower layer.
    ///
    /// ```
    /// let router: axum::Router = axum::Router::new().layer(dstar::csrf::Csrf::random().layer());
    /// ```
    pub fn layer(self) -> CsrfLayer {
        CsrfLayer { csrf: self }
    }

    fn sign(&self, secret: &[u8]) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&self.inner.key).expect("any key length");
        mac.update(secret);
        mac.finalize().into_bytes().to_vec()
    }

    /// The session secret from the cookie, if present and correctly signed.
    fn session(&self, headers: &HeaderMap) -> Option<[u8; SECRET_LEN]> {
        for value in headers.get_all(header::COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            for pair in text.split(';') {
                let Some((name, value)) = pair.trim().split_once('=') else {
                    continue;
                };
                if name != COOKIE_NAME {
                    continue;
                }
                let (secret, tag) = value.split_once('.')?;
                let secret = hex_decode(secret)?;
                let tag = hex_decode(tag)?;
                let mut mac = HmacSha256::new_from_slice(&self.inner.key).expect("any key length");
                mac.update(&secret);
                mac.verify_slice(&tag).ok()?;
                return secret.try_into().ok();
            }
        }
        None
    }

    fn cookie(&self, secret: &[u8]) -> HeaderValue {
        let value = format!(
            "{COOKIE_NAME}={}.{}; Path=/; HttpOnly; SameSite=Lax{}",
            hex(secret),
            hex(&self.sign(secret)),
            if self.inner.secure_cookie {
                "; Secure"
            } else {
                ""
            }
        );
        HeaderValue::from_str(&value).expect("hex is a valid header value")
    }
}

/// The per-request token source, in the request extensions for handlers and layouts.
#[derive(Clone)]
pub struct CsrfToken {
    secret: [u8; SECRET_LEN],
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(..)")
    }
}

impl CsrfToken {
    /// A freshly masked token for this session (different on every call, all valid).
    ///
    /// ```
    /// # fn f(token: dstar::csrf::CsrfToken) {
    /// let html = format!(r#"<input type="hidden" name="_csrf_token" value="{}">"#, token.masked());
    /// # }
    /// ```
    pub fn masked(&self) -> String {
        let mut mask = [0u8; SECRET_LEN];
        rand::rng().fill_bytes(&mut mask);
        let mut out = Vec::with_capacity(2 * SECRET_LEN);
        out.extend_from_slice(&mask);
        out.extend(mask.iter().zip(&self.secret).map(|(m, s)| m ^ s));
        hex(&out)
    }

    fn verify(&self, token: &str) -> bool {
        let Some(bytes) = hex_decode(token.trim()) else {
            return false;
        };
        if bytes.len() != 2 * SECRET_LEN {
            return false;
        }
        let (mask, masked) = bytes.split_at(SECRET_LEN);
        let secret: Vec<u8> = mask.iter().zip(masked).map(|(m, x)| m ^ x).collect();
        secret.ct_eq(&self.secret).into()
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CsrfToken {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "CsrfToken needs the dstar::csrf::Csrf layer",
        ))
    }
}

/// A masked token for the current request, if the CSRF layer runs (used by the default layout).
///
/// ```
/// let parts = axum::http::Request::new(()).into_parts().0;
/// assert_eq!(dstar::csrf::token_for(&parts.extensions), None);
/// ```
pub fn token_for(extensions: &axum::http::Extensions) -> Option<String> {
    extensions.get::<CsrfToken>().map(CsrfToken::masked)
}

/// The tower layer of [`Csrf`].
#[derive(Clone, Debug)]
pub struct CsrfLayer {
    csrf: Csrf,
}

impl<S> tower_layer::Layer<S> for CsrfLayer {
    type Service = CsrfService<S>;
    fn layer(&self, inner: S) -> CsrfService<S> {
        CsrfService {
            inner,
            csrf: self.csrf.clone(),
        }
    }
}

/// The service of [`CsrfLayer`].
#[derive(Clone, Debug)]
pub struct CsrfService<S> {
    inner: S,
    csrf: Csrf,
}

impl<S> tower_service::Service<Request> for CsrfService<S>
where
    S: tower_service::Service<Request, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let csrf = self.csrf.clone();
        Box::pin(async move {
            let (req, new_secret) = match csrf.check(req).await {
                Ok(v) => v,
                Err(refusal) => return Ok(refusal),
            };
            let mut response = inner.call(req).await?;
            if let Some(secret) = new_secret {
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, csrf.cookie(&secret));
            }
            Ok(response)
        })
    }
}

fn refuse(reason: impl fmt::Display) -> Response {
    (
        StatusCode::FORBIDDEN,
        format!("CSRF check failed: {reason}"),
    )
        .into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

impl Csrf {
    /// Checks a request; on success returns it (body intact) and a new session secret to set.
    #[allow(clippy::result_large_err)]
    async fn check(&self, req: Request) -> Result<(Request, Option<[u8; SECRET_LEN]>), Response> {
        let (mut parts, body) = req.into_parts();
        let existing = self.session(&parts.headers);
        let (secret, fresh) = match existing {
            Some(secret) => (secret, None),
            None => {
                let mut secret = [0u8; SECRET_LEN];
                rand::rng().fill_bytes(&mut secret);
                (secret, Some(secret))
            }
        };
        parts.extensions.insert(CsrfToken { secret });
        if is_safe(&parts.method) {
            return Ok((Request::from_parts(parts, body), fresh));
        }
        if self.inner.fetch_metadata {
            self.check_origin(&parts.headers)?;
        }
        if !self.inner.tokens {
            return Ok((Request::from_parts(parts, body), fresh));
        }
        if existing.is_none() {
            return Err(refuse(
                "no CSRF session: load a page first (the session cookie is missing or was tampered with)",
            ));
        }
        let token_source = CsrfToken { secret };
        // the header needs no body
        if let Some(token) = parts.headers.get(HEADER_NAME).and_then(|v| v.to_str().ok()) {
            return if token_source.verify(token) {
                Ok((Request::from_parts(parts, body), fresh))
            } else {
                Err(refuse(stale_or_wrong()))
            };
        }
        let limit = parts
            .extensions
            .get::<crate::signals::SignalsConfig>()
            .map_or(DEFAULT_SIGNALS_LIMIT, |c| c.max_bytes());
        let bytes = crate::signals::read::read_body(body, limit)
            .await
            .map_err(IntoResponse::into_response)?;
        let token = find_body_token(&parts.headers, &bytes);
        let req = Request::from_parts(parts, Body::from(bytes));
        match token {
            Some(token) if token_source.verify(&token) => Ok((req, fresh)),
            Some(_) => Err(refuse(stale_or_wrong())),
            None => Err(refuse(format!(
                "missing token: send the `{SIGNAL}` signal (the default layout sets it), an `{HEADER_NAME}` header or a `{FORM_FIELD}` form field"
            ))),
        }
    }

    #[allow(clippy::result_large_err)]
    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Response> {
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(|o| o.trim_end_matches('/').to_ascii_lowercase());
        if origin
            .as_deref()
            .is_some_and(|o| self.inner.trusted.iter().any(|t| t == o))
        {
            return Ok(());
        }
        if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            return match site {
                "same-origin" | "none" => Ok(()),
                other => Err(refuse(format!(
                    "cross-origin request refused (Sec-Fetch-Site: {other})"
                ))),
            };
        }
        let Some(origin) = origin else {
            // neither header: not a browser request
            return Ok(());
        };
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let origin_host = origin.split_once("://").map_or(origin.as_str(), |(_, h)| h);
        if !host.is_empty() && origin_host == host {
            Ok(())
        } else {
            Err(refuse(format!(
                "request from the foreign origin {origin} refused"
            )))
        }
    }
}

fn stale_or_wrong() -> &'static str {
    "the token does not match this session (wrong, stale or from another session): reload the page"
}

/// The token in a body: the `csrf` signal of a JSON body, or the `_csrf_token` form field.
fn find_body_token(headers: &HeaderMap, bytes: &[u8]) -> Option<String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_field(bytes, FORM_FIELD);
    }
    #[derive(serde::Deserialize)]
    struct Signals {
        csrf: Option<String>,
    }
    serde_json::from_slice::<Signals>(bytes).ok()?.csrf
}

fn form_field(bytes: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    for pair in text.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == name {
            let decoded = crate::signals::read::query_param(&format!("x={v}"), "x").ok()??;
            return String::from_utf8(decoded).ok();
        }
    }
    None
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
