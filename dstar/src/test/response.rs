//! [`TestResponse`]: a whole response, its body read.

use super::{SseEvent, parse_events};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;

/// A whole response.
#[derive(Debug, Clone)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl TestResponse {
    /// The body as text (lossy UTF-8).
    ///
    /// ```
    /// let r = dstar::test::TestResponse { status: axum::http::StatusCode::OK, headers: Default::default(), body: "hi".into() };
    /// assert_eq!(r.text(), "hi");
    /// ```
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as SSE events.
    ///
    /// ```
    /// let body = bytes::Bytes::from_static(b"event: datastar-patch-signals\ndata: signals {}\n\n");
    /// let r = dstar::test::TestResponse { status: axum::http::StatusCode::OK, headers: Default::default(), body };
    /// assert_eq!(r.events().len(), 1);
    /// ```
    pub fn events(&self) -> Vec<SseEvent> {
        parse_events(&self.body)
    }

    /// Asserts the status, showing the body on failure.
    ///
    /// ```
    /// let r = dstar::test::TestResponse { status: axum::http::StatusCode::OK, headers: Default::default(), body: "".into() };
    /// r.assert_status(200);
    /// ```
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected status {status}, got {}; body: {}",
            self.status,
            self.text()
        );
        self
    }
}
