//! The one error type of the functional core.

use std::fmt;

/// Why an event could not be built. Nothing is written to the response when this is returned.
///
/// ```
/// let mut sse = dstar::Sse::new();
/// let err = sse.remove_signals("user..name").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid signal path `user..name`: it contains an empty segment (`..`)"
/// );
/// assert!(sse.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A `remove_signals` path was empty or had a leading, trailing or doubled dot.
    InvalidSignalPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Signals did not serialize to a JSON object (a merge patch must be an object).
    SignalsNotObject,
    /// Signals failed to serialize.
    Serialize(String),
    /// The element patch mode needs a selector (the 1.0.x client throws without one).
    MissingSelector {
        /// The mode that was asked for.
        mode: &'static str,
    },
    /// A script attribute name that is not `[A-Za-z0-9_:.-]+`.
    InvalidAttributeName(String),
    /// A redirect target that is not allowed.
    UnsafeRedirect {
        /// The URL as given.
        url: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// An event name that cannot be put in a URL (`""`, `.` or `..`).
    InvalidEventName(String),
    /// The session store failed to load or save a session (see [`crate::session`]), or the app
    /// runs without sessions.
    Session(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSignalPath { path, reason } => {
                write!(f, "invalid signal path `{path}`: {reason}")
            }
            Error::SignalsNotObject => f.write_str(
                "signals must serialize to a JSON object (a merge patch), e.g. `json!({\"count\": 1})`",
            ),
            Error::Serialize(e) => write!(f, "signals could not be serialized: {e}"),
            Error::MissingSelector { mode } => write!(
                f,
                "patch mode `{mode}` needs a selector: only `outer` and `replace` can target elements by id"
            ),
            Error::InvalidAttributeName(name) => write!(
                f,
                "invalid script attribute name `{name}`: use only ASCII letters, digits, `_`, `:`, `.` and `-`"
            ),
            Error::UnsafeRedirect { url, reason } => {
                write!(f, "refused redirect to `{}`: {reason}", url.escape_debug())
            }
            Error::InvalidEventName(name) => write!(
                f,
                "invalid event name `{name}`: it must not be empty, `.` or `..`"
            ),
            Error::Session(e) => write!(f, "session: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// A `500 Internal Server Error`, logged: these errors are the server's (a session store that
/// failed, an event that could not be built), never the client's. The body names the error in
/// debug builds only.
///
/// ```
/// use axum::response::IntoResponse;
/// let response = dstar::Error::Session("store down".into()).into_response();
/// assert_eq!(response.status(), 500);
/// ```
impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        tracing::error!(error = %self, "dstar: request failed");
        let body = if cfg!(debug_assertions) {
            format!("internal server error: {self}")
        } else {
            "internal server error".to_owned()
        };
        (axum::http::StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
    }
}

/// A configuration problem found at start-up (a bad environment variable, an unusable key file).
/// These are often found before `dstar::serve` installs its log subscriber, where a `tracing`
/// event alone would be lost: with no subscriber yet, it is printed to stderr too.
pub(crate) fn config_warning(message: &str) {
    tracing::warn!("{message}");
    if !tracing::dispatcher::has_been_set() {
        eprintln!("dstar: WARNING: {message}");
    }
}
