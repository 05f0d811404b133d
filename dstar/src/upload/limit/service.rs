//! The service of [`BodyLimit`]: refuses a body that declares more than the limit, and sets the
//! limit for the route's extractors; with `BodyLimit`'s `Layer` impl, which wraps a route in it.

use super::drain::drain_in_background;
use super::{BodyLimit, UploadLimit};
use crate::signals::SignalsConfig;
use axum::extract::{DefaultBodyLimit, Request};
use axum::response::Response;
use futures_util::future::{Either, Ready, ready};
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

impl<S> Layer<S> for BodyLimit {
    type Service = BodyLimitService<<DefaultBodyLimit as Layer<S>>::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimitService {
            inner: DefaultBodyLimit::max(self.limit).layer(inner),
            limit: *self,
        }
    }
}

/// The service of [`BodyLimit`].
#[derive(Debug, Clone)]
pub struct BodyLimitService<S> {
    inner: S,
    limit: BodyLimit,
}

impl<S> Service<Request> for BodyLimitService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let limit = self.limit.limit;
        if let Some(declared) = crate::signals::read::declared_length(req.headers(), req.body())
            .filter(|len| *len > limit as u64)
        {
            drain_in_background(std::mem::take(req.body_mut()), declared, limit as u64);
            return Either::Left(ready(Ok(self.limit.refusal())));
        }
        let extensions = req.extensions_mut();
        extensions.insert(SignalsConfig::default().limit(limit));
        extensions.insert(UploadLimit(limit));
        Either::Right(self.inner.call(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    #[tokio::test]
    async fn refuses_a_declared_length_and_sets_the_signals_limit() {
        let app = axum::Router::new().route(
            "/x",
            axum::routing::post(|crate::Signals(s): crate::Signals| async move {
                format!("{} signals", s.len())
            })
            .layer(BodyLimit::event(512_000)),
        );
        // as from hyper, whose bodies carry their length; this one never ends
        let pending = futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
        let big = Request::post("/x")
            .header("content-length", "512001")
            .body(Body::from_stream(pending))
            .unwrap();
        let res = app.clone().oneshot(big).await.unwrap();
        assert_eq!(res.status(), 413);
        let body = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(&body[..], b"too large: this event takes at most 512 KB");
        // a body with no length (chunked) is cut by the signals reader at the same limit
        let chunks = futures_util::stream::iter([
            Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 400_000])),
            Ok(bytes::Bytes::from(vec![b' '; 400_000])),
        ]);
        let chunked = Request::post("/x").body(Body::from_stream(chunks)).unwrap();
        assert_eq!(app.clone().oneshot(chunked).await.unwrap().status(), 413);
        // under the limit
        let ok = Request::post("/x").body(Body::from(r#"{"a":1}"#)).unwrap();
        assert_eq!(app.oneshot(ok).await.unwrap().status(), 200);
    }

    #[tokio::test]
    async fn raises_the_signals_default_for_its_route() {
        let app = axum::Router::new().route(
            "/x",
            axum::routing::post(|crate::Signals(s): crate::Signals| async move {
                s["pad"].as_str().map_or(0, str::len).to_string()
            })
            .layer(BodyLimit::event(4_000_000)),
        );
        let pad = "a".repeat(1_500_000);
        let req = Request::post("/x")
            .body(Body::from(format!(r#"{{"pad":"{pad}"}}"#)))
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), 200);
    }
}
