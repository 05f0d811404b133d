//! How a failed CSRF check is answered: a `403` (or `413`/`415`) with a one-line reason, or, for
//! a Datastar request whose token went stale, an event stream that reloads the page.

use crate::csrf::HEADER_NAME;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt;

/// The header a Datastar request refused by the CSRF check carries on its `200` reload answer
/// (`x-dstar-refused: csrf`), so monitoring can count refusals that are not `403`s.
pub(crate) const REFUSED_HEADER: &str = "x-dstar-refused";

/// The answer to a Datastar request whose token went stale: a `200` event stream that reloads the
/// page (so it gets a fresh token), at most once per 10 s per tab, so a browser that refuses the
/// cookie does not reload in a loop (it logs the reason to the console instead). A `200`, as
/// Datastar runs only the scripts of those; logged at info level and marked with
/// [`REFUSED_HEADER`], as it is a refusal all the same (or an attack).
pub(super) fn reload_page(reason: &str) -> Response {
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
pub(super) fn refuse(
    status: StatusCode,
    class: &'static str,
    reason: impl fmt::Display,
) -> Response {
    crate::error::refusal(status, class, format_args!("CSRF check failed: {reason}"))
}

/// The release class of a missing or wrong token.
pub(super) const BAD_TOKEN: &str = "CSRF token missing or wrong";
/// The release class of a missing, forged or ambiguous session cookie.
pub(super) const BAD_SESSION: &str = "CSRF session missing or invalid";

/// A body too large to search for its token: a `413` that says so, not a CSRF failure (no token
/// was looked at). With the token in the `x-csrf-token` header (the default layout's script sends
/// it) the body is not read here, and the route's own limit (`#[event(limit = "…")]`) applies.
pub(super) fn body_too_large(limit: usize) -> Response {
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

/// The reason a token that does not match its session is refused.
pub(super) const STALE_OR_WRONG: &str =
    "the token does not match this session (wrong, stale or from another session): reload the page";

#[cfg(test)]
mod tests {
    use super::*;

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
}
