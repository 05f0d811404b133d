//! A route's body limit, enforced before the body is read.

use crate::signals::SignalsConfig;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::future::{Either, Ready, ready};
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// The limit a [`BodyLimit`] set, for the extractors' messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UploadLimit(pub(crate) usize);

/// A route layer that bounds its request bodies: what `#[event(limit = "4MB")]` puts on the
/// event's route.
///
/// - A body that declares more (`Content-Length`) gets a `413` at once, before a byte of it is
///   read: `too large: this event takes at most 4 MB`. A body up to four times the limit (16 MiB
///   at most) is then read and thrown away for at most 5 s while the refusal goes out, so a
///   browser still sending it reads the `413` instead of a reset connection.
/// - [`Signals`](crate::Signals), [`Multipart`](super::Multipart) and axum's own extractors
///   (`Json`, `Form`, `Bytes`, `axum::extract::Multipart`) read at most that much, also from a
///   chunked body, instead of their defaults (1 MiB for signals, 2 MiB for axum): it sets
///   [`SignalsConfig`] and axum's `DefaultBodyLimit` for the route.
///
/// ```
/// use dstar::upload::BodyLimit;
/// async fn upload(form: dstar::upload::Multipart) -> String { format!("{} files", form.files().count()) }
/// let app: axum::Router = axum::Router::new().route(
///     "/upload",
///     axum::routing::post(upload).layer(BodyLimit::new(8_000_000)),
/// );
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    limit: usize,
    noun: &'static str,
}

impl BodyLimit {
    /// At most `bytes` per request body.
    ///
    /// ```
    /// assert_eq!(dstar::upload::BodyLimit::new(4096).max_bytes(), 4096);
    /// ```
    pub fn new(bytes: usize) -> Self {
        BodyLimit {
            limit: bytes,
            noun: "request",
        }
    }

    /// At most `bytes` per request body of an event (its refusal says "this event"): what
    /// `#[event(limit = "…")]` generates.
    ///
    /// ```
    /// assert_eq!(dstar::upload::BodyLimit::event(4_000_000).max_bytes(), 4_000_000);
    /// ```
    pub fn event(bytes: usize) -> Self {
        BodyLimit {
            limit: bytes,
            noun: "event",
        }
    }

    /// The limit in bytes.
    ///
    /// ```
    /// assert_eq!(dstar::upload::BodyLimit::new(1).max_bytes(), 1);
    /// ```
    pub fn max_bytes(&self) -> usize {
        self.limit
    }

    /// The `413` for a body over the limit.
    fn refusal(&self) -> Response {
        let reason = format!(
            "too large: this {} takes at most {}",
            self.noun,
            super::file::human_size(self.limit as u64)
        );
        crate::error::refusal(StatusCode::PAYLOAD_TOO_LARGE, "too large", reason)
    }
}

/// The most of a refused body read and thrown away, and for how long.
const DRAIN_BYTES: u64 = 16 << 20;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads a refused body and throws it away, at most [`DRAIN_BYTES`] for at most [`DRAIN_TIME`],
/// while the `413` goes out. Nothing of it is kept. A browser that is still sending its upload
/// when the refusal arrives reads the refusal only if the server goes on taking bytes: closing
/// the connection on unread data resets it, and the browser then reports a network error
/// instead of the `413`, so the page could not say "too large". Bodies declared larger than
/// [`DRAIN_BYTES`] or four times the limit are not read at all (their connection closes).
fn drain_in_background(body: axum::body::Body, declared: u64, limit: u64) {
    // a little over the limit is a user's honest mistake worth an answer; far over, it is not
    let most = DRAIN_BYTES.min(limit.saturating_mul(4));
    if declared > most || tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut body = std::pin::pin!(body);
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            let mut read = 0u64;
            while let Some(Ok(frame)) = http_body_util::BodyExt::frame(&mut body).await {
                read += frame.data_ref().map_or(0, |d| d.len() as u64);
                if read > most {
                    break;
                }
            }
        })
        .await;
    });
}

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

    #[test]
    fn a_release_body_says_too_large() {
        let refused = crate::error::quietly(|| BodyLimit::event(512_000).refusal());
        crate::error::assert_quiet(refused, 413, "too large");
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
