//! [`SignalsRejection`]: why signals could not be read, and its one-line answer.

use super::body_error::BodyOverBudget;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::fmt;

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
    use super::super::extract::check_content_type;
    use super::super::parse::parse;
    use super::*;
    use crate::error::{assert_quiet, quietly};
    use axum::http::header;

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
