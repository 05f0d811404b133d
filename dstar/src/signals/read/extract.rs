//! [`Signals`]: the extractor, and where a request's signals are (the query or the body), decided
//! from its head alone.

use super::body::{declared_length, read_body};
use super::config::SignalsConfig;
use super::parse::{parse, parse_signals};
use super::query::{query_param, reads_query};
use super::rejection::SignalsRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use bytes::Bytes;
use futures_util::FutureExt as _;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::future::Future;

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

/// Signals come as JSON. A body marked as anything else is refused with a `415`: a form (Datastar's
/// `contentType: 'form'` sends the form's fields, not signals: read them with axum's `Form`), and
/// `text/plain`, which is what a cross-site HTML form can send without a CORS preflight. No
/// `Content-Type` at all is read as JSON, for non-browser clients.
pub(super) fn check_content_type(headers: &axum::http::HeaderMap) -> Result<(), SignalsRejection> {
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
