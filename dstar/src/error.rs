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
        tracing::error!(error = %Escaped(&self), "dstar: request failed");
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

/// Whether a refusal's body carries its detail: in debug builds only (and never in a unit test
/// that asked for release bodies with [`quietly`]).
pub(crate) fn verbose() -> bool {
    #[cfg(test)]
    if QUIET.with(std::cell::Cell::get) {
        return false;
    }
    cfg!(debug_assertions)
}

#[cfg(test)]
thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with release bodies on this thread (unit tests only).
#[cfg(test)]
pub(crate) fn quietly<R>(f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            QUIET.with(|q| q.set(false));
        }
    }
    QUIET.with(|q| q.set(true));
    let _reset = Reset;
    f()
}

/// The body of a refusal dstar writes. Verbose (debug builds): `detail`, as helpful as it can be.
/// Quiet (release builds): the status and the problem's class in one line, e.g.
/// `400 bad request: invalid signals`, with nothing of the request and nothing internal.
pub(crate) fn refusal_body(
    status: axum::http::StatusCode,
    class: &'static str,
    detail: &str,
    verbose: bool,
) -> String {
    if verbose {
        return detail.to_owned();
    }
    let phrase = status.canonical_reason().unwrap_or("error");
    format!(
        "{} {}: {class}",
        status.as_u16(),
        phrase.to_ascii_lowercase()
    )
}

/// A refusal: logged at debug level with its whole `detail` (control characters escaped), and
/// answered with [`refusal_body`]: the detail in debug builds, only `class` in release builds.
pub(crate) fn refusal(
    status: axum::http::StatusCode,
    class: &'static str,
    detail: impl fmt::Display,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let detail = detail.to_string();
    tracing::debug!(status = status.as_u16(), reason = %Escaped(&detail), "dstar: request refused");
    (status, refusal_body(status, class, &detail, verbose())).into_response()
}

/// Text from a request, fit for a log line: control characters (newlines above all), line and
/// paragraph separators and bidirectional overrides are escaped (`\n`, `\u{1b}`), so a value
/// cannot end the line and forge another; everything else is written as it is.
pub(crate) struct Escaped<T>(pub(crate) T);

impl<T: fmt::Display> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Out<'a, 'b>(&'a mut fmt::Formatter<'b>);
        impl fmt::Write for Out<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let mut rest = s;
                while let Some(at) = rest.find(needs_escape) {
                    self.0.write_str(&rest[..at])?;
                    let c = rest[at..].chars().next().unwrap_or_default();
                    match c {
                        '\n' => self.0.write_str("\\n")?,
                        '\r' => self.0.write_str("\\r")?,
                        '\t' => self.0.write_str("\\t")?,
                        c => write!(self.0, "\\u{{{:x}}}", c as u32)?,
                    }
                    rest = &rest[at + c.len_utf8()..];
                }
                self.0.write_str(rest)
            }
        }
        fmt::Write::write_fmt(&mut Out(f), format_args!("{}", self.0))
    }
}

impl<T: fmt::Display> fmt::Debug for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Test helpers for release bodies: `quiet_body` reads a refusal's status and body.
#[cfg(test)]
pub(crate) fn quiet_body(response: axum::response::Response) -> (u16, String) {
    use futures_util::FutureExt as _;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .now_or_never()
        .expect("a refusal's body is ready at once")
        .expect("a refusal's body reads");
    (status, String::from_utf8(bytes.to_vec()).expect("UTF-8"))
}

/// Asserts a release body: exactly `{status} {reason phrase}: {class}`, one line, with none of
/// the request's input (`<script>`), no lists and no Rust paths.
#[cfg(test)]
#[track_caller]
pub(crate) fn assert_quiet(response: axum::response::Response, status: u16, class: &str) {
    let (got, body) = quiet_body(response);
    assert_eq!(got, status, "{body}");
    let phrase = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
        .to_ascii_lowercase();
    assert_eq!(body, format!("{status} {phrase}: {class}"));
    for leak in ["<script>", "::", "events here", "`", "\n"] {
        assert!(!body.contains(leak), "{leak:?} in a release body: {body}");
    }
}

/// A log writer that keeps what it is given.
#[cfg(test)]
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `f` logs through tracing-subscriber's fmt layer (`dstar::serve`'s), at debug level.
#[cfg(test)]
pub(crate) fn logs_of(f: impl FnOnce()) -> String {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // a callsite first reached on another test's thread, with no subscriber there, may have
        // cached "nobody listens": ask again now that this thread has one
        tracing::callsite::rebuild_interest_cache();
        f()
    });
    let bytes = out.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn refusal_bodies_are_detailed_in_debug_and_one_class_line_in_release() {
        let detail = "bad argument `id` = `<script>alert(1)</script>` for `toggle`: invalid digit (expected u32)";
        let status = StatusCode::BAD_REQUEST;
        assert_eq!(refusal_body(status, "bad argument", detail, true), detail);
        assert_eq!(
            refusal_body(status, "bad argument", detail, false),
            "400 bad request: bad argument"
        );
        assert_eq!(
            refusal_body(StatusCode::PAYLOAD_TOO_LARGE, "too large", "x", false),
            "413 payload too large: too large"
        );
        assert_eq!(verbose(), cfg!(debug_assertions));
        let response = quietly(|| refusal(status, "bad argument", detail));
        assert!(verbose() == cfg!(debug_assertions), "quietly resets");
        assert_quiet(response, 400, "bad argument");
    }

    #[test]
    fn escaped_text_stays_on_one_line() {
        let forged =
            "unknown variant `x\nERROR dstar::session: forged`\r\u{1b}[31m\u{2028}\u{202e}";
        let text = Escaped(forged).to_string();
        assert_eq!(
            text,
            "unknown variant `x\\nERROR dstar::session: forged`\\r\\u{1b}[31m\\u{2028}\\u{202e}"
        );
        assert!(!text.chars().any(needs_escape), "{text}");
        // readable text is left alone
        assert_eq!(
            Escaped("café «ok» 日本 \\n").to_string(),
            "café «ok» 日本 \\n"
        );
        assert_eq!(format!("{:?}", Escaped("a\nb")), "a\\nb");
    }

    #[test]
    fn a_refusal_reason_with_a_newline_logs_as_one_line() {
        let logs = logs_of(|| {
            let _ = refusal(
                StatusCode::BAD_REQUEST,
                "invalid signals",
                "invalid signals: signals.mode: unknown variant `x\nERROR dstar::session: forged`",
            );
        });
        assert_eq!(logs.lines().count(), 1, "{logs}");
        assert!(logs.contains("DEBUG"), "{logs}");
        assert!(
            logs.contains("`x\\nERROR dstar::session: forged`"),
            "{logs}"
        );
    }
}
