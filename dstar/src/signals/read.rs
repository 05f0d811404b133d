use axum::extract::{FromRequest, Request};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::FutureExt as _;
use http_body::Body as _;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::fmt;
use std::future::Future;

/// The default largest signals payload: 1 MiB.
///
/// ```
/// assert_eq!(dstar::signals::DEFAULT_SIGNALS_LIMIT, 1024 * 1024);
/// ```
pub const DEFAULT_SIGNALS_LIMIT: usize = 1 << 20;

/// Settings for reading signals. Add it as a request extension to change the limit.
///
/// ```
/// use dstar::signals::SignalsConfig;
/// let app: axum::Router = axum::Router::new()
///     .layer(axum::Extension(SignalsConfig::default().limit(64 * 1024)));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SignalsConfig {
    limit: usize,
}

impl Default for SignalsConfig {
    fn default() -> Self {
        SignalsConfig {
            limit: DEFAULT_SIGNALS_LIMIT,
        }
    }
}

impl SignalsConfig {
    /// The largest accepted payload in bytes; bigger ones get a 413.
    ///
    /// ```
    /// assert_eq!(dstar::signals::SignalsConfig::default().limit(10).max_bytes(), 10);
    /// ```
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// The configured limit.
    ///
    /// ```
    /// assert_eq!(dstar::signals::SignalsConfig::default().max_bytes(), 1 << 20);
    /// ```
    pub fn max_bytes(&self) -> usize {
        self.limit
    }

    /// The limit a request's extensions set ([`DEFAULT_SIGNALS_LIMIT`] without this config).
    pub(crate) fn limit_of(extensions: &axum::http::Extensions) -> usize {
        extensions
            .get::<SignalsConfig>()
            .map_or(DEFAULT_SIGNALS_LIMIT, SignalsConfig::max_bytes)
    }
}

/// The axum extractor for Datastar signals, typed (`Signals<MyStruct>`) or untyped (`Signals`,
/// a JSON object map).
///
/// - `GET`, `HEAD` and `DELETE` read the `datastar` query parameter (missing means `{}`);
/// - every other method (`POST`, `PUT`, `PATCH`, Datastar 1.0.4's `QUERY`) reads the JSON body
///   (empty means `{}`).
///
/// Bad input is a [`SignalsRejection`]: `400` with a message naming the field
/// (`signals.count: invalid type: string "x", expected i64`), or `413` past the limit
/// ([`SignalsConfig`], 1 MiB by default). Never a 500.
///
/// ```
/// use dstar::prelude::*;
///
/// #[derive(serde::Deserialize)]
/// struct Counter { count: i64 }
///
/// async fn typed(Signals(s): Signals<Counter>) -> String { s.count.to_string() }
/// async fn untyped(Signals(map): Signals) -> String { format!("{} signals", map.len()) }
///
/// let app: axum::Router = axum::Router::new()
///     .route("/typed", axum::routing::post(typed))
///     .route("/untyped", axum::routing::get(untyped));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Signals<T = Map<String, Value>>(pub T);

impl<T, S> FromRequest<S> for Signals<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = SignalsRejection;

    fn from_request(
        req: Request,
        _state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        // mapped, not awaited in an `async` block, which would hold the future twice
        read_signals(req).map(|r| r.map(Signals))
    }
}

/// Reads signals from a request by the rules of [`Signals`], as a plain function.
///
/// The headers are checked before the returned future runs, so it holds the body only: a
/// handler's future that awaits it stays small (it is allocated once per request).
///
/// ```
/// # tokio_test_block(async {
/// let req = axum::http::Request::post("/x")
///     .body(axum::body::Body::from(r#"{"count":41}"#))
///     .unwrap();
/// let v: serde_json::Value = dstar::signals::read_signals(req).await.unwrap();
/// assert_eq!(v["count"], 41);
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub fn read_signals<T: DeserializeOwned>(
    req: Request,
) -> impl Future<Output = Result<T, SignalsRejection>> {
    let (parts, body) = req.into_parts();
    let source = SignalsSource::of(&parts, body);
    async move {
        match source {
            SignalsSource::Query(bytes) => parse(&bytes),
            SignalsSource::Refused(rejection) => Err(rejection),
            // an empty body means `{}`
            SignalsSource::Body(body, limit) => parse_signals(&read_body(body, limit).await?),
        }
    }
}

/// Where a request's signals are, decided from its head alone.
enum SignalsSource {
    /// The `datastar` query parameter (`{}` when it is missing).
    Query(Bytes),
    /// In the body, up to this many bytes.
    Body(axum::body::Body, usize),
    /// Refused by the head: too large, an empty query parameter, or not JSON.
    Refused(SignalsRejection),
}

impl SignalsSource {
    fn of(parts: &axum::http::request::Parts, body: axum::body::Body) -> SignalsSource {
        let limit = SignalsConfig::limit_of(&parts.extensions);
        if reads_query(&parts.method) {
            return match query_param(parts.uri.query().unwrap_or(""), "datastar") {
                None => SignalsSource::Query(Bytes::from_static(b"{}")),
                Some(bytes) if bytes.is_empty() => {
                    SignalsSource::Refused(SignalsRejection::Malformed(
                        "the `datastar` query parameter is empty; expected a JSON object".into(),
                    ))
                }
                Some(bytes) if bytes.len() > limit => {
                    SignalsSource::Refused(SignalsRejection::TooLarge { limit })
                }
                Some(bytes) => SignalsSource::Query(Bytes::from(bytes)),
            };
        }
        // too long a body is refused before any of it is read; a chunked one is counted as it
        // arrives
        if declared_length(&parts.headers, &body).is_some_and(|len| len > limit as u64) {
            return SignalsSource::Refused(SignalsRejection::TooLarge { limit });
        }
        match check_content_type(&parts.headers) {
            Ok(()) => SignalsSource::Body(body, limit),
            Err(rejection) => SignalsSource::Refused(rejection),
        }
    }
}

/// The error a body past its deadline ends with; the signals reader answers it with a
/// `408`. Defined here, next to its reader; the server's body deadline raises it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimedOut;

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

/// The error a body ends with when the bodies being read would hold more than the server's
/// budget; the signals reader answers it with a `503`. The server's body budget raises it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyOverBudget;

impl fmt::Display for BodyOverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the server is reading too many request bodies at once (its body budget); try again",
        )
    }
}

impl std::error::Error for BodyOverBudget {}

/// Whether `error` (or what caused it) is an `E`.
fn caused_by<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<E>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Whether `error` (or what caused it) is a body deadline.
pub(crate) fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    caused_by::<BodyTimedOut>(error)
}

/// Reads the body up to `limit` bytes. A body that arrives in one frame (the common case for small
/// JSON) is used as it is, without copying. Under `dstar::serve` a body has
/// [`Server::body_read_timeout`](crate::Server::body_read_timeout) to arrive; past it this is a
/// `408`.
pub(crate) fn read_body(
    body: axum::body::Body,
    limit: usize,
) -> impl Future<Output = Result<Bytes, SignalsRejection>> + Send {
    // frame by frame, into the first frame's bytes or, past it, one buffer: no collector (it
    // carries room for trailers), and the future holds the limited body only once
    let mut body = Limited::new(body, limit);
    async move {
        let mut first: Option<Bytes> = None;
        let mut more: Option<BytesMut> = None;
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(frame) => frame,
                Err(e) if e.is::<LengthLimitError>() => {
                    return Err(SignalsRejection::TooLarge { limit });
                }
                Err(e) if is_body_timeout(&*e) => return Err(SignalsRejection::TimedOut),
                Err(e) if caused_by::<BodyOverBudget>(&*e) => return Err(SignalsRejection::Busy),
                Err(e) => {
                    return Err(SignalsRejection::Malformed(format!(
                        "could not read the request body: {e}"
                    )));
                }
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            // the first frame as it is (the common case: no copy); past it, one buffer
            match (first.as_ref(), more.as_mut()) {
                (None, _) => first = Some(data),
                (Some(_), Some(all)) => all.extend_from_slice(&data),
                (Some(head), None) => {
                    let mut all = BytesMut::with_capacity(head.len() + data.len());
                    all.extend_from_slice(head);
                    all.extend_from_slice(&data);
                    more = Some(all);
                }
            }
            if body.is_end_stream() {
                break;
            }
        }
        Ok(match more {
            Some(all) => all.freeze(),
            None => first.unwrap_or_default(),
        })
    }
}

/// The body length a request declares, to refuse it before reading. hyper's body carries its
/// `Content-Length` as its size hint, so no header is parsed again; a body with no bound of its
/// own size (a stream some layer built) is judged by the header.
pub(crate) fn declared_length(
    headers: &axum::http::HeaderMap,
    body: &axum::body::Body,
) -> Option<u64> {
    if let Some(len) = body.size_hint().exact() {
        return Some(len);
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Signals come as JSON. A body marked as anything else is refused with a `415`: a form (Datastar's
/// `contentType: 'form'` sends the form's fields, not signals: read them with axum's `Form`), and
/// `text/plain`, which is what a cross-site HTML form can send without a CORS preflight. No
/// `Content-Type` at all is read as JSON, for non-browser clients.
fn check_content_type(headers: &axum::http::HeaderMap) -> Result<(), SignalsRejection> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    // what Datastar sends, checked without allocating
    if value.as_bytes().eq_ignore_ascii_case(b"application/json") {
        return Ok(());
    }
    let text = value.to_str().unwrap_or("").to_ascii_lowercase();
    let essence = text.split(';').next().unwrap_or("").trim();
    if essence == "application/json" || essence.ends_with("+json") {
        return Ok(());
    }
    let hint = if essence == "application/x-www-form-urlencoded" || essence == "multipart/form-data"
    {
        "; a form sent with contentType: 'form' carries its fields, not signals: read it with axum's `Form` extractor"
    } else {
        ""
    };
    Err(SignalsRejection::UnsupportedMediaType(format!(
        "signals are JSON: expected `Content-Type: application/json`, got `{essence}`{hint}"
    )))
}

pub(crate) fn reads_query(method: &Method) -> bool {
    *method == Method::GET || *method == Method::HEAD || *method == Method::DELETE
}

/// Finds `name` in a query string and decodes it as `application/x-www-form-urlencoded` (what the
/// Datastar client's `URLSearchParams` produces): `+` is a space and `%XX` a byte; a malformed
/// escape is kept as it is, as the URL standard and browsers do. The value stays raw bytes, not
/// `form_urlencoded::parse`'s lossy string, so invalid UTF-8 is reported rather than replaced.
pub(crate) fn query_param(query: &str, name: &str) -> Option<Vec<u8>> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| {
            let value = value.replace('+', " ");
            percent_encoding::percent_decode_str(&value).collect()
        })
    })
}

/// The deepest nesting of objects and arrays accepted (serde_json's own recursion limit).
const MAX_DEPTH: usize = 128;

/// Parses signals from JSON bytes by the rules of [`Signals`]: empty (or all whitespace) means
/// `{}`; bad input is a [`SignalsRejection`] naming the problem. For signals that arrive some other
/// way than an HTTP request.
///
/// ```
/// let v: serde_json::Value = dstar::signals::parse_signals(br#"{"a":1}"#).unwrap();
/// assert_eq!(v["a"], 1);
/// assert!(dstar::signals::parse_signals::<serde_json::Value>(b"[1]").is_ok());
/// assert!(dstar::signals::parse_signals::<serde_json::Map<String, serde_json::Value>>(b"[1]").is_err());
/// ```
pub fn parse_signals<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SignalsRejection> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return parse(b"{}");
    }
    parse(bytes)
}

/// Reads signals from a query string's `datastar` parameter, as [`Signals`] does for GET and
/// DELETE: missing means `{}`, empty or malformed is a 400.
///
/// ```
/// let v: serde_json::Value = dstar::signals::signals_from_query("x=1&datastar=%7B%22a%22%3A1%7D").unwrap();
/// assert_eq!(v["a"], 1);
/// ```
pub fn signals_from_query<T: DeserializeOwned>(query: &str) -> Result<T, SignalsRejection> {
    match query_param(query, "datastar") {
        None => parse(b"{}"),
        Some(bytes) if bytes.is_empty() => Err(SignalsRejection::Malformed(
            "the `datastar` query parameter is empty; expected a JSON object".into(),
        )),
        Some(bytes) => parse(&bytes),
    }
}

/// Refuses JSON nested deeper than [`MAX_DEPTH`] before any parsing, also where a typed struct
/// would skip the deep part: a linear scan that steps over string contents.
fn check_depth(bytes: &[u8]) -> Result<(), SignalsRejection> {
    if bytes.len() <= MAX_DEPTH {
        return Ok(()); // too short to open more than MAX_DEPTH brackets
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(SignalsRejection::Malformed(format!(
                        "signals: nested deeper than {MAX_DEPTH} levels (recursion limit exceeded)"
                    )));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SignalsRejection> {
    check_depth(bytes)?;
    // The fast path; errors are rare, so only they pay for tracking the field path.
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(_) => parse_with_path(bytes),
    }
}

fn parse_with_path<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SignalsRejection> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = describe(&inner);
        // a field path only means something for data errors, not for broken syntax
        let at = if path == "." || path.is_empty() || !inner.is_data() {
            "signals".to_owned()
        } else {
            format!("signals.{path}")
        };
        SignalsRejection::Malformed(format!("{at}: {message}"))
    })?;
    de.end()
        .map_err(|e| SignalsRejection::Malformed(format!("signals: {}", describe(&e))))?;
    Ok(value)
}

/// serde_json's message; the position is kept only for syntax errors, where it helps.
fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if e.is_data() {
        if let Some(at) = text.rfind(" at line ") {
            return text[..at].to_owned();
        }
    }
    text
}

/// Why signals could not be read. Its response is plain text with the status of
/// [`status`](SignalsRejection::status): the whole reason in debug builds; in release builds
/// only its class (`400 bad request: invalid signals`), nothing of the request.
///
/// ```
/// use axum::response::IntoResponse;
/// let r = dstar::signals::SignalsRejection::TooLarge { limit: 10 }.into_response();
/// assert_eq!(r.status(), 413);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignalsRejection {
    /// Not valid JSON, not an object, invalid UTF-8 or the wrong types: `400 Bad Request`.
    Malformed(String),
    /// Bigger than the limit: `413 Payload Too Large`.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A body that is not JSON (`text/plain`, a form): `415 Unsupported Media Type`.
    UnsupportedMediaType(String),
    /// The body did not arrive within the server's body deadline (under `dstar::serve`, see
    /// [`Server::body_read_timeout`](crate::Server::body_read_timeout)): `408 Request Timeout`.
    TimedOut,
    /// The server is reading too many bodies at once to take this one (under `dstar::serve`, see
    /// [`Server::body_budget`](crate::Server::body_budget)): `503 Service Unavailable`, with
    /// `Retry-After: 1`.
    Busy,
}

impl SignalsRejection {
    /// The status this rejection answers with.
    ///
    /// ```
    /// let r = dstar::signals::SignalsRejection::Malformed("x".into());
    /// assert_eq!(r.status(), axum::http::StatusCode::BAD_REQUEST);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            SignalsRejection::Malformed(_) => StatusCode::BAD_REQUEST,
            SignalsRejection::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            SignalsRejection::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            SignalsRejection::TimedOut => StatusCode::REQUEST_TIMEOUT,
            SignalsRejection::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl fmt::Display for SignalsRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignalsRejection::Malformed(m) => write!(f, "invalid signals: {m}"),
            SignalsRejection::TooLarge { limit } => {
                write!(f, "signals payload too large: the limit is {limit} bytes")
            }
            SignalsRejection::UnsupportedMediaType(m) => f.write_str(m),
            SignalsRejection::TimedOut => f.write_str("the request body did not arrive in time"),
            SignalsRejection::Busy => BodyOverBudget.fmt(f),
        }
    }
}

impl std::error::Error for SignalsRejection {}

impl SignalsRejection {
    /// The one-line class a release build answers with, naming nothing of the request.
    fn class(&self) -> &'static str {
        match self {
            SignalsRejection::Malformed(_) => "invalid signals",
            SignalsRejection::TooLarge { .. } => "too large",
            SignalsRejection::UnsupportedMediaType(_) => "signals must be JSON",
            SignalsRejection::TimedOut => "the body did not arrive in time",
            SignalsRejection::Busy => "busy",
        }
    }
}

impl IntoResponse for SignalsRejection {
    fn into_response(self) -> Response {
        let mut response = crate::error::refusal(self.status(), self.class(), &self);
        if self == SignalsRejection::Busy {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{assert_quiet, quietly};

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    enum Mode {
        Light,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Prefs {
        mode: Mode,
    }

    #[test]
    fn release_bodies_quote_nothing_of_the_signals() {
        let rejection = parse::<Prefs>(br#"{"mode":"<script>alert(1)</script>"}"#).unwrap_err();
        assert!(rejection.to_string().contains("<script>"), "{rejection}");
        if cfg!(debug_assertions) {
            assert!(
                quiet_body_of(rejection.clone()).contains("<script>"),
                "debug keeps the detail"
            );
        }
        quietly(|| {
            assert_quiet(rejection.into_response(), 400, "invalid signals");
            assert_quiet(
                SignalsRejection::TooLarge { limit: 10 }.into_response(),
                413,
                "too large",
            );
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, "text/<script>".parse().unwrap());
            let refused = check_content_type(&headers).unwrap_err();
            assert_quiet(refused.into_response(), 415, "signals must be JSON");
            let busy = SignalsRejection::Busy.into_response();
            assert_eq!(busy.headers()[header::RETRY_AFTER], "1");
        });
    }

    fn quiet_body_of(rejection: SignalsRejection) -> String {
        crate::error::quiet_body(rejection.into_response()).1
    }
}
