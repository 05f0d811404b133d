//! [`StreamResponse`]: the `200 text/event-stream` answer around a long-lived body.

use crate::sse::sse_headers;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::Body;
use std::fmt;

/// The response [`stream`](super::stream) returns: `200 text/event-stream` with
/// `X-Accel-Buffering: no`.
///
/// ```
/// use axum::response::IntoResponse;
/// let response = dstar::sse::stream(|_sse| async {}).into_response();
/// assert_eq!(response.headers()["x-accel-buffering"], "no");
/// ```
#[must_use]
pub struct StreamResponse {
    body: axum::body::Body,
}

impl StreamResponse {
    /// The response around a long-lived body.
    pub(crate) fn from_body<B>(body: B) -> Self
    where
        B: Body<Data = Bytes, Error = std::convert::Infallible> + Send + 'static,
    {
        StreamResponse {
            body: axum::body::Body::new(body),
        }
    }
}

impl fmt::Debug for StreamResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamResponse").finish_non_exhaustive()
    }
}

/// Tells nginx not to buffer the stream. A constant: a name given as a string would be copied into
/// a new allocation on every stream.
const X_ACCEL_BUFFERING: axum::http::HeaderName =
    axum::http::HeaderName::from_static("x-accel-buffering");

impl IntoResponse for StreamResponse {
    fn into_response(self) -> Response {
        let mut response = self.body.into_response();
        sse_headers(&mut response);
        response
            .headers_mut()
            .insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
        response
    }
}
