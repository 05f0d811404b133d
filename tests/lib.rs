//! Integration tests for dstar live in `tests/tests/`; this library holds their shared helpers.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use tower::ServiceExt;

/// Sends one request through a router and returns the response with its whole body.
pub async fn send(app: Router, req: Request<Body>) -> (Response<()>, bytes::Bytes) {
    let response = app.oneshot(req).await.expect("router is infallible");
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body)
        .await
        .expect("body")
        .to_bytes();
    (Response::from_parts(parts, ()), bytes)
}
