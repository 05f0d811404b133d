//! The response future of [`CompressionService`](super::CompressionService): the inner service's
//! response, then either its event stream wrapped in an encoder or its whole page compressed.

use super::config::Compression;
use super::negotiate::Encoding;
use super::predicate::is_compressible_page;
use super::response::{compress_page, compress_stream};
use axum::http::header;
use axum::response::Response;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// The future of [`CompressionService`](super::CompressionService): the inner service's
    /// response, compressed. Not boxed, so a request pays for no allocation of its own here (a
    /// whole page compressed in one go is the exception: its body is read in a boxed future).
    ///
    /// ```
    /// use axum::{extract::Request, response::{IntoResponse, Response}};
    /// use tower::{Layer, Service};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let inner = tower::service_fn(|_req: Request| async {
    ///     Ok::<Response, std::convert::Infallible>("hello".into_response())
    /// });
    /// let mut service = dstar::sse::Compression::default().layer().layer(inner);
    /// let future: dstar::sse::CompressionFuture<_> = service.call(Request::new("".into()));
    /// assert_eq!(future.await.unwrap().status(), 200);
    /// # });
    /// ```
    pub struct CompressionFuture<F> {
        #[pin]
        state: ResponseState<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = ResponseStateProj]
    enum ResponseState<F> {
        Inner {
            #[pin]
            future: F,
            encoding: Option<Encoding>,
            config: Compression,
            streams: Arc<AtomicUsize>,
        },
        Page {
            future: Pin<Box<dyn Future<Output = Response> + Send>>,
        },
    }
}

impl<F> CompressionFuture<F> {
    /// The response of `future`, to be compressed with `encoding` (if any) by `config`.
    pub(super) fn new(
        future: F,
        encoding: Option<Encoding>,
        config: Compression,
        streams: Arc<AtomicUsize>,
    ) -> Self {
        CompressionFuture {
            state: ResponseState::Inner {
                future,
                encoding,
                config,
                streams,
            },
        }
    }
}

impl<F> fmt::Debug for CompressionFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressionFuture").finish_non_exhaustive()
    }
}

impl<F> Future for CompressionFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                ResponseStateProj::Inner {
                    future,
                    encoding,
                    config,
                    streams,
                } => {
                    let Ok(response) = std::task::ready!(future.poll(cx));
                    if let Some(encoding) = *encoding {
                        if is_compressible_page(&response)
                            && !response.headers().contains_key(header::CONTENT_ENCODING)
                        {
                            let config = *config;
                            let page = compress_page(response, encoding, config);
                            state.set(ResponseState::Page {
                                future: Box::pin(page),
                            });
                            continue;
                        }
                    }
                    return Poll::Ready(Ok(compress_stream(response, *encoding, config, streams)));
                }
                ResponseStateProj::Page { future } => return future.as_mut().poll(cx).map(Ok),
            }
        }
    }
}
