//! [`MultipartRejection`]: why a multipart body could not be read, and its one-line answer.

use crate::signals::read::{BodyOverBudget, BodyTimedOut};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt;

/// Why a multipart body could not be read: a `413` past the limit, a `400` for a malformed body,
/// a `415` for a body that is not multipart, a `408` or `503` under the server's body deadline
/// and budget. Its response is the status with a one-line reason (in release builds only its
/// class, `413 payload too large: too large`, nothing of the request).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let req = axum::http::Request::post("/")
///     .header("content-type", "application/json")
///     .body(axum::body::Body::from("{}"))
///     .unwrap();
/// let err = dstar::upload::Multipart::read(req).await.unwrap_err();
/// assert_eq!(err.status(), 415);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartRejection {
    status: StatusCode,
    reason: String,
}

impl MultipartRejection {
    pub(super) fn new(status: StatusCode, reason: String) -> Self {
        MultipartRejection { status, reason }
    }

    /// From a body error: the limit, the server's deadline and budget are told apart from a
    /// malformed body; a failure that axum would answer with a `500` (the connection broke) is a
    /// `400`.
    pub(super) fn from_error(
        error: &axum::extract::multipart::MultipartError,
        limit: Option<usize>,
    ) -> Self {
        let chain = || std::iter::successors(Some(error as &dyn std::error::Error), |e| e.source());
        if chain().any(|e| e.is::<BodyTimedOut>()) {
            return MultipartRejection::new(StatusCode::REQUEST_TIMEOUT, BodyTimedOut.to_string());
        }
        if chain().any(|e| e.is::<BodyOverBudget>()) {
            return MultipartRejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                BodyOverBudget.to_string(),
            );
        }
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let reason = match limit {
                Some(limit) => format!(
                    "too large: this event takes at most {}",
                    super::size::human_size(limit as u64)
                ),
                None => "too large: the form is over this request's body limit".to_owned(),
            };
            return MultipartRejection::new(StatusCode::PAYLOAD_TOO_LARGE, reason);
        }
        let status = if error.status().is_client_error() {
            error.status()
        } else {
            StatusCode::BAD_REQUEST
        };
        MultipartRejection::new(
            status,
            format!("could not read the multipart form: {}", error.body_text()),
        )
    }

    /// The status it answers with.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let req = axum::http::Request::post("/")
    ///     .header("content-type", "multipart/form-data; boundary=X")
    ///     .body(axum::body::Body::from("--X\r\nbroken"))
    ///     .unwrap();
    /// let err = dstar::upload::Multipart::read(req).await.unwrap_err();
    /// assert_eq!(err.status(), 400);
    /// # });
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl fmt::Display for MultipartRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for MultipartRejection {}

impl MultipartRejection {
    /// The one-line class a release build answers with, naming nothing of the request.
    fn class(&self) -> &'static str {
        match self.status {
            StatusCode::PAYLOAD_TOO_LARGE => "too large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "not a multipart form",
            StatusCode::REQUEST_TIMEOUT => "the body did not arrive in time",
            StatusCode::SERVICE_UNAVAILABLE => "busy",
            _ => "invalid multipart form",
        }
    }
}

impl IntoResponse for MultipartRejection {
    fn into_response(self) -> Response {
        let mut response = crate::error::refusal(self.status, self.class(), &self.reason);
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
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
    use crate::upload::Multipart;
    use axum::extract::Request;

    fn refusal_of(content_type: &str, body: &'static [u8]) -> Response {
        let req = Request::post("/")
            .header(header::CONTENT_TYPE, content_type)
            .body(axum::body::Body::from(body))
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let rejection = runtime.block_on(Multipart::read(req)).unwrap_err();
        quietly(|| rejection.into_response())
    }

    #[test]
    fn release_bodies_quote_nothing_of_the_form() {
        assert_quiet(
            refusal_of("text/<script>", b""),
            415,
            "not a multipart form",
        );
        let field =
            b"--X\r\ncontent-disposition: form-data; name=\"<script>\"\r\n\r\n\xff\r\n--X--\r\n";
        let refused = refusal_of("multipart/form-data; boundary=X", field);
        assert_quiet(refused, 400, "invalid multipart form");
        let broken = refusal_of("multipart/form-data; boundary=X", b"--X\r\n<script>");
        assert_quiet(broken, 400, "invalid multipart form");
        let busy = quietly(|| {
            MultipartRejection::new(StatusCode::SERVICE_UNAVAILABLE, "x".into()).into_response()
        });
        assert_eq!(busy.headers()[header::RETRY_AFTER], "1");
    }
}
