//! What `mount` may return: the page, or a response to answer with instead.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The result of `mount`: the page, or a response to send instead (a redirect, a 404, …).
///
/// `Err(E)` answers with `E`'s own response and status. A plain-text error (`String` or
/// `&str`) is a failure, not an answer: it is logged and becomes a `500`, whose body shows the
/// text only in debug builds. So is any error whose response would claim success (2xx).
///
/// ```
/// use dstar::page::MountOutcome;
/// let found: Result<u8, axum::http::StatusCode> = Ok(1);
/// assert_eq!(found.into_page().ok(), Some(1));
/// let gone: Result<u8, _> = Err(axum::http::StatusCode::GONE);
/// assert_eq!(gone.into_page().unwrap_err().status(), 410);
/// let failed: Result<u8, String> = Err("db down".into());
/// assert_eq!(failed.into_page().unwrap_err().status(), 500);
/// ```
#[diagnostic::on_unimplemented(
    message = "`mount` cannot return `{Self}`",
    label = "`mount` returns `Self`, or `Result<Self, E>` where `E: IntoResponse`"
)]
pub trait MountOutcome<P> {
    /// The page or the response.
    fn into_page(self) -> Result<P, Response>;
}

/// The error type of a `mount` that returns `Result<Self, E>`: any response.
#[diagnostic::on_unimplemented(
    message = "`mount` cannot fail with `{Self}`: its error must be a response (`IntoResponse`)",
    label = "not `IntoResponse`",
    note = "`mount` returns `Self`, or `Result<Self, E>` where `E: IntoResponse` (a redirect, a status, `(StatusCode, String)`)",
    note = "map other errors to text: `.map_err(|e| e.to_string())` is a logged 500 whose body shows the text only in debug builds"
)]
pub trait MountError: IntoResponse + 'static {}

impl<E: IntoResponse + 'static> MountError for E {}

impl<P, E: MountError> MountOutcome<P> for Result<P, E> {
    fn into_page(self) -> Result<P, Response> {
        self.map_err(mount_failed::<P, E>)
    }
}

/// The response for `mount`'s error (see [`MountOutcome`]); generated code calls it at the
/// error type the user wrote, so a type that is no response is reported there.
pub fn mount_failed<P, E: MountError>(error: E) -> Response {
    mount_error(std::any::type_name::<P>(), error)
}

fn mount_error<E: IntoResponse + 'static>(page: &str, error: E) -> Response {
    let any = &error as &dyn std::any::Any;
    let text = any
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| any.downcast_ref::<&'static str>().copied());
    if let Some(text) = text {
        tracing::error!(page, error = %crate::error::Escaped(text), "dstar: mount failed");
        return internal_error(text, cfg!(debug_assertions));
    }
    let response = error.into_response();
    let status = response.status();
    if status.is_success() {
        tracing::error!(
            page,
            status = status.as_u16(),
            "dstar: mount returned an error whose response says success; answering 500"
        );
        return internal_error("mount returned an error", cfg!(debug_assertions));
    }
    if status.is_server_error() {
        tracing::error!(page, status = status.as_u16(), "dstar: mount failed");
    } else {
        tracing::debug!(
            page,
            status = status.as_u16(),
            "dstar: mount answered instead of rendering"
        );
    }
    response
}

/// A `500` for a failure: the error's text in debug builds, nothing internal in release builds.
fn internal_error(text: &str, debug: bool) -> Response {
    let body = if debug {
        format!("internal server error: {text}")
    } else {
        "internal server error".to_owned()
    };
    (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> String {
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_text_error_does_not_echo_internals_in_release_builds() {
        let release = internal_error("password=hunter2 at db:5432", false);
        assert_eq!(release.status(), 500);
        assert_eq!(body(release).await, "internal server error");
        let debug = internal_error("db down", true);
        assert_eq!(body(debug).await, "internal server error: db down");
    }
}
