use super::{FORM_FIELD, HEADER_NAME, SIGNAL};
use crate::secret::AppKey;
use crate::signals::SignalsConfig;
use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

const SECRET_LEN: usize = 32;
/// The session cookie's name over plain HTTP.
pub const COOKIE_NAME: &str = "dstar_csrf";
/// The session cookie's name over HTTPS: the `__Host-` prefix makes browsers refuse it unless it
/// is `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain or a plain-HTTP response
/// cannot plant a session of its own.
pub const SECURE_COOKIE_NAME: &str = "__Host-dstar_csrf";

/// Token protection: a per-session secret in a signed cookie, and a token masked afresh for every
/// page render that every unsafe request must carry. Cheap to clone.
///
/// Turn it on with [`App::csrf`](crate::App::csrf); the default layout then sends the token with
/// every Datastar action.
///
/// ```
/// use dstar::csrf::Csrf;
/// // in production: Csrf::from_env() (DSTAR_SECRET, or a key file that survives restarts)
/// let app = dstar::App::empty().csrf(Csrf::new(b"a secret key of at least 32 bytes!!"));
/// ```
#[derive(Clone)]
pub struct Csrf {
    inner: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    key: AppKey,
    secure_cookie: bool,
}

impl fmt::Debug for Csrf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Csrf")
            .field("key", &self.inner.key)
            .field("secure_cookie", &self.inner.secure_cookie)
            .finish()
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
        Csrf::with_key(AppKey::new(key))
    }

    /// Token protection with an [`AppKey`].
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::with_key(dstar::secret::AppKey::random());
    /// ```
    pub fn with_key(key: AppKey) -> Self {
        Csrf {
            inner: Arc::new(Config {
                key,
                secure_cookie: false,
            }),
        }
    }

    /// Token protection with a random key: sessions end with the process (fine for tests).
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::random();
    /// ```
    pub fn random() -> Self {
        Csrf::with_key(AppKey::random())
    }

    /// Token protection keyed by [`AppKey::from_env`]: `DSTAR_SECRET` when set, else a key file
    /// generated once (`.dstar/secret`), so tokens survive a restart with no configuration.
    ///
    /// ```no_run
    /// let csrf = dstar::csrf::Csrf::from_env();
    /// ```
    pub fn from_env() -> Self {
        Csrf::with_key(AppKey::from_env())
    }

    /// The key, and where it came from.
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::new("k");
    /// assert_eq!(csrf.key().source(), &dstar::secret::KeySource::Given);
    /// ```
    pub fn key(&self) -> &AppKey {
        &self.inner.key
    }

    /// Always mark the session cookie `Secure` and use the `__Host-` name, e.g. behind a proxy
    /// that terminates TLS. (`dstar::serve` over TLS does it on its own.)
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

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(self.inner.key.bytes()).expect("any key length")
    }

    /// Whether this request gets the `__Host-` cookie: served over TLS, or configured so.
    fn is_secure(&self, parts: &Parts) -> bool {
        self.is_secure_extensions(&parts.extensions)
    }

    fn is_secure_extensions(&self, extensions: &axum::http::Extensions) -> bool {
        self.inner.secure_cookie || extensions.get::<crate::headers::ServedOverTls>().is_some()
    }

    /// The session secret from the cookie, if present and correctly signed. Malformed cookies,
    /// and ours with a bad signature, are skipped: the search goes on through every cookie. Two
    /// or more that verify are [`Existing::Several`]: one was planted (cookie tossing from a
    /// sibling subdomain or over plain HTTP, with a path or domain of its own), and which is
    /// the visitor's own cannot be told, so none is used.
    fn session(&self, headers: &HeaderMap, secure: bool) -> Existing {
        let name = if secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        };
        // byte by byte: one cookie of someone else's with a non-ASCII byte must not hide ours
        // borrowed when the header is valid UTF-8, as it nearly always is: no copy per request
        let lines: Vec<std::borrow::Cow<'_, str>> = headers
            .get_all(header::COOKIE)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()))
            .collect();
        let mut verified = lines
            .iter()
            .flat_map(|text| Cookie::split_parse(text.as_ref()))
            .filter_map(Result::ok)
            .filter(|cookie| cookie.name() == name)
            .filter_map(|cookie| self.verify_cookie(cookie.value()));
        match (verified.next(), verified.next()) {
            (None, _) => Existing::Missing,
            (Some(secret), None) => Existing::One(secret),
            (Some(_), Some(_)) => Existing::Several,
        }
    }

    /// Whether the request carries a cookie of ours that did not verify (a key that changed).
    fn has_stale_cookie(&self, headers: &HeaderMap, secure: bool) -> bool {
        let name = if secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        };
        headers.get_all(header::COOKIE).iter().any(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .split(';')
                .any(|pair| pair.trim_start().starts_with(&format!("{name}=")))
        })
    }

    fn verify_cookie(&self, value: &str) -> Option<[u8; SECRET_LEN]> {
        let (secret, tag) = value.split_once('.')?;
        let mut secret_bytes = [0u8; SECRET_LEN];
        hex::decode_to_slice(secret, &mut secret_bytes).ok()?;
        let tag = hex::decode(tag).ok()?;
        let mut mac = self.mac();
        mac.update(&secret_bytes);
        mac.verify_slice(&tag).ok()?;
        Some(secret_bytes)
    }

    fn cookie(&self, secret: &[u8], secure: bool) -> HeaderValue {
        let mut mac = self.mac();
        mac.update(secret);
        let value = format!(
            "{}.{}",
            hex::encode(secret),
            hex::encode(mac.finalize().into_bytes())
        );
        let name = if secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        };
        let cookie = Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            // not a browser-session cookie: a restored session must not mint one secret per tab
            .max_age(cookie::time::Duration::days(400))
            .build();
        HeaderValue::from_str(&cookie.to_string()).expect("hex is a valid header value")
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
        hex::encode(out)
    }

    /// A hidden form field with a freshly masked token, for a plain HTML form posted to a route
    /// of the app (a sign-out button, say): `<input type="hidden" name="_csrf_token" value="…">`.
    ///
    /// ```
    /// # fn f(token: dstar::csrf::CsrfToken) {
    /// use dstar::prelude::*;
    /// let form = html! { form method="post" action="/signout" { (token.field()) button { "Sign out" } } };
    /// # }
    /// ```
    pub fn field(&self) -> maud::Markup {
        maud::html! { input type="hidden" name=(super::FORM_FIELD) value=(self.masked()); }
    }

    fn verify(&self, token: &str) -> bool {
        let mut bytes = [0u8; 2 * SECRET_LEN];
        if hex::decode_to_slice(token.trim(), &mut bytes).is_err() {
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

/// Gives the visitor a new CSRF secret with this response: every token rendered before is
/// refused from then on. Do it whenever the visitor's privileges change, at sign-in and sign-out
/// ([`Auth`](crate::session::Auth) does it for you), so a token an attacker saw or planted
/// before sign-in is useless after it. A handler takes it as an extractor; without the
/// [`Csrf`] layer it does nothing.
///
/// ```
/// use dstar::csrf::CsrfRotation;
/// async fn sign_in(rotation: CsrfRotation) -> &'static str {
///     // … check the password, store the user …
///     rotation.rotate();
///     "welcome"
/// }
/// let app: axum::Router = axum::Router::new()
///     .route("/signin", axum::routing::post(sign_in))
///     .layer(dstar::csrf::Csrf::random().layer());
/// ```
#[derive(Clone, Debug, Default)]
pub struct CsrfRotation(Arc<std::sync::atomic::AtomicBool>);

impl CsrfRotation {
    /// Asks for a new secret with this request's response.
    pub fn rotate(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn is_requested(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The request's rotation handle (a detached one without the [`Csrf`] layer).
    pub(crate) fn of(extensions: &axum::http::Extensions) -> CsrfRotation {
        extensions
            .get::<CsrfRotation>()
            .cloned()
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CsrfRotation {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(CsrfRotation::of(&parts.extensions))
    }
}

/// A stable, non-secret handle of the current request's CSRF session, if the layer runs: a hash
/// of the session secret. Stream deduplication puts it in its scope, so a leaked tab id is useless
/// to anyone without the session cookie.
///
/// ```
/// let parts = axum::http::Request::new(()).into_parts().0;
/// assert_eq!(dstar::csrf::session_id(&parts.extensions), None);
/// ```
pub fn session_id(extensions: &axum::http::Extensions) -> Option<String> {
    use sha2::Digest;
    let token = extensions.get::<CsrfToken>()?;
    let digest = Sha256::new()
        .chain_update(b"dstar session id\0")
        .chain_update(token.secret)
        .finalize();
    Some(hex::encode(&digest[..12]))
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
            let (mut req, new_cookie) = match csrf.check(req).await {
                Ok(v) => v,
                Err(refusal) => return Ok(refusal),
            };
            let secure = csrf.is_secure_extensions(req.extensions());
            let rotation = CsrfRotation::default();
            req.extensions_mut().insert(rotation.clone());
            let mut response = inner.call(req).await?;
            let cookie = if rotation.is_requested() {
                // sign-in or sign-out: a new secret, so a token seen before is worth nothing
                let mut secret = [0u8; SECRET_LEN];
                rand::rng().fill_bytes(&mut secret);
                Some(csrf.cookie(&secret, secure))
            } else {
                new_cookie
            };
            if let Some(cookie) = cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        })
    }
}

/// The header a Datastar request refused by the CSRF check carries on its `200` reload answer
/// (`x-dstar-refused: csrf`), so monitoring can count refusals that are not `403`s.
pub(crate) const REFUSED_HEADER: &str = "x-dstar-refused";

/// The answer to a Datastar request whose token went stale: a `200` event stream that reloads the
/// page (so it gets a fresh token), at most once per 10 s per tab, so a browser that refuses the
/// cookie does not reload in a loop (it logs the reason to the console instead). A `200`, as
/// Datastar runs only the scripts of those; logged at info level and marked with
/// [`REFUSED_HEADER`], as it is a refusal all the same (or an attack).
fn reload_page(reason: &str) -> Response {
    tracing::info!(
        reason = %crate::error::Escaped(reason),
        "dstar: CSRF check failed on a Datastar request; telling the page to reload"
    );
    let message = crate::scripts::js_literal(&format!("dstar: CSRF check failed: {reason}"));
    let script = format!(
        "(() => {{ const k = '_ds_csrf_reload', t = Date.now(); \
         if (t - Number(sessionStorage.getItem(k) || 0) > 10000) {{ sessionStorage.setItem(k, t); location.reload(); }} \
         else {{ console.error({message}); }} }})()"
    );
    let mut sse = crate::sse::Sse::new();
    let _ = sse.send(crate::scripts::ExecuteScript::new(script));
    let mut response = sse.into_response();
    response
        .headers_mut()
        .insert(REFUSED_HEADER, HeaderValue::from_static("csrf"));
    response
}

/// A refusal: `CSRF check failed: {reason}` in debug builds, only `class` in release builds.
fn refuse(status: StatusCode, class: &'static str, reason: impl fmt::Display) -> Response {
    crate::error::refusal(status, class, format_args!("CSRF check failed: {reason}"))
}

/// The release class of a missing or wrong token.
const BAD_TOKEN: &str = "CSRF token missing or wrong";
/// The release class of a missing, forged or ambiguous session cookie.
const BAD_SESSION: &str = "CSRF session missing or invalid";

/// A body too large to search for its token: a `413` that says so, not a CSRF failure (no token
/// was looked at). With the token in the `x-csrf-token` header (the default layout's script sends
/// it) the body is not read here, and the route's own limit (`#[event(limit = "…")]`) applies.
fn body_too_large(limit: usize) -> Response {
    tracing::debug!(
        limit,
        "dstar: request refused: body too large (over the signals limit) to search for a CSRF token; send the token in the `{HEADER_NAME}` header to let the route's own limit apply"
    );
    let reason = format!(
        "too large: a request body may hold at most {}",
        crate::upload::human_size(limit as u64)
    );
    crate::error::refusal(StatusCode::PAYLOAD_TOO_LARGE, "too large", reason)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl Csrf {
    /// Checks a request; on success returns it (body intact) and a new session cookie to set.
    #[allow(clippy::result_large_err)]
    async fn check(&self, req: Request) -> Result<(Request, Option<HeaderValue>), Response> {
        let (mut parts, body) = req.into_parts();
        let secure = self.is_secure(&parts);
        let existing = self.session(&parts.headers, secure);
        let (secret, fresh) = match existing {
            Existing::One(secret) => (secret, None),
            // several: none is trusted, a safe request gets a new one (and an unsafe one a 403)
            Existing::Missing | Existing::Several => {
                let mut secret = [0u8; SECRET_LEN];
                rand::rng().fill_bytes(&mut secret);
                (secret, Some(self.cookie(&secret, secure)))
            }
        };
        parts.extensions.insert(CsrfToken { secret });
        if is_safe(&parts.method) {
            return Ok((Request::from_parts(parts, body), fresh));
        }
        // an open page whose token went stale (the key changed, another tab replaced the
        // session) is told to reload, once, instead of failing on every event and retry
        let from_datastar = parts.headers.contains_key("datastar-request");
        match existing {
            Existing::One(_) => {}
            Existing::Missing => {
                let reason = "no CSRF session: load a page first (the session cookie is missing or was tampered with)";
                if from_datastar && self.has_stale_cookie(&parts.headers, secure) {
                    return Err(reload_page(reason));
                }
                return Err(refuse(StatusCode::FORBIDDEN, BAD_SESSION, reason));
            }
            // not a reload: the planted cookie would still be there, and win again
            Existing::Several => {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    BAD_SESSION,
                    "several CSRF session cookies: one was planted by another site (cookie tossing); clear this site's cookies, and serve it over HTTPS only",
                ));
            }
        }
        let session = CsrfToken { secret };
        let checked = |token: Option<String>| match token {
            Some(token) if session.verify(&token) => Ok(()),
            Some(_) if from_datastar => Err(reload_page(STALE_OR_WRONG)),
            Some(_) => Err(refuse(StatusCode::FORBIDDEN, BAD_TOKEN, STALE_OR_WRONG)),
            None => Err(refuse(
                StatusCode::FORBIDDEN,
                BAD_TOKEN,
                format!(
                    "missing token: send the `{SIGNAL}` signal (the default layout sets it), an `{HEADER_NAME}` header or a `{FORM_FIELD}` form field"
                ),
            )),
        };
        // the header needs no body
        if let Some(token) = parts.headers.get(HEADER_NAME) {
            checked(token.to_str().ok().map(str::to_owned))?;
            return Ok((Request::from_parts(parts, body), fresh));
        }
        // GET and DELETE actions carry their signals, and so the token, in `?datastar=`
        if crate::signals::read::reads_query(&parts.method) {
            checked(query_token(parts.uri.query().unwrap_or("")))?;
            return Ok((Request::from_parts(parts, body), fresh));
        }
        let limit = SignalsConfig::limit_of(&parts.extensions);
        if crate::signals::read::declared_length(&parts.headers, &body)
            .is_some_and(|len| len > limit as u64)
        {
            return Err(body_too_large(limit));
        }
        let content_type = content_type(&parts.headers);
        if content_type.starts_with("multipart/") {
            return Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the CSRF token in a header",
                format!(
                    "a multipart body is not searched for the CSRF token: send it in the `{HEADER_NAME}` header (Datastar: `headers: {{'{HEADER_NAME}': ${SIGNAL}}}`)"
                ),
            ));
        }
        let bytes = crate::signals::read::read_body(body, limit)
            .await
            .map_err(|e| match e {
                crate::signals::SignalsRejection::TooLarge { limit } => body_too_large(limit),
                e => e.into_response(),
            })?;
        checked(find_body_token(&content_type, &bytes))?;
        Ok((Request::from_parts(parts, Body::from(bytes)), fresh))
    }
}

/// The session cookies of ours a request carries that verify.
#[derive(Clone, Copy)]
enum Existing {
    /// None (or none that verifies).
    Missing,
    /// Exactly one: the session.
    One([u8; SECRET_LEN]),
    /// Two or more: one of them was planted.
    Several,
}

const STALE_OR_WRONG: &str =
    "the token does not match this session (wrong, stale or from another session): reload the page";

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The `csrf` signal in a `datastar=` query parameter.
fn query_token(query: &str) -> Option<String> {
    let json = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "datastar")?
        .1;
    signal_token(json.as_bytes())
}

fn signal_token(json: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Signals {
        csrf: Option<String>,
    }
    serde_json::from_slice::<Signals>(json).ok()?.csrf
}

/// The token in a body: the `_csrf_token` field of a form, or the `csrf` signal of JSON.
fn find_body_token(content_type: &str, bytes: &[u8]) -> Option<String> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_urlencoded::parse(bytes)
            .find(|(name, _)| name == FORM_FIELD)
            .map(|(_, value)| value.into_owned());
    }
    signal_token(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{assert_quiet, quietly};
    use tower::{Layer, ServiceExt};

    fn service(
        csrf: &Csrf,
    ) -> impl tower_service::Service<Request, Response = Response, Error = Infallible> + Clone {
        let route = tower::service_fn(|_req: Request| async {
            Ok::<_, Infallible>(Response::new(Body::from("ran")))
        });
        csrf.clone().layer().layer(route)
    }

    fn cookie_of(csrf: &Csrf) -> String {
        let mut secret = [0u8; SECRET_LEN];
        rand::rng().fill_bytes(&mut secret);
        let cookie = csrf.cookie(&secret, false);
        cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_refused_datastar_request_logs_at_info_on_one_line() {
        let logs = crate::error::logs_of(|| {
            let response = reload_page("a reason\nERROR dstar::session: forged");
            assert_eq!(response.headers()[REFUSED_HEADER], "csrf");
        });
        assert_eq!(logs.lines().count(), 1, "{logs}");
        assert!(logs.contains(" INFO "), "{logs}");
        assert!(
            logs.contains("a reason\\nERROR dstar::session: forged"),
            "{logs}"
        );
    }

    #[test]
    fn release_bodies_name_the_check_and_nothing_of_the_request() {
        let csrf = Csrf::random();
        let cookie = cookie_of(&csrf);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let send =
            |req: Request| quietly(|| runtime.block_on(service(&csrf).oneshot(req)).unwrap());
        let post = || {
            Request::post("/save")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::COOKIE, &cookie)
        };
        let no_token = post().body(Body::from("{}")).unwrap();
        assert_quiet(send(no_token), 403, BAD_TOKEN);
        let wrong = post()
            .header(HEADER_NAME, "<script>alert(1)</script>")
            .body(Body::empty())
            .unwrap();
        assert_quiet(send(wrong), 403, BAD_TOKEN);
        let no_session = Request::post("/save")
            .header(HEADER_NAME, "<script>")
            .body(Body::empty())
            .unwrap();
        assert_quiet(send(no_session), 403, BAD_SESSION);
        let several = Request::post("/save")
            .header(header::COOKIE, format!("{cookie}; {}", cookie_of(&csrf)))
            .header(HEADER_NAME, "<script>")
            .body(Body::empty())
            .unwrap();
        assert_quiet(send(several), 403, BAD_SESSION);
        let multipart = Request::post("/save")
            .header(header::COOKIE, &cookie)
            .header(
                header::CONTENT_TYPE,
                "multipart/form-data; boundary=<script>",
            )
            .body(Body::empty())
            .unwrap();
        assert_quiet(send(multipart), 415, "send the CSRF token in a header");
        let big = post().body(Body::from(vec![b' '; (1 << 20) + 1])).unwrap();
        assert_quiet(send(big), 413, "too large");
    }
}
