//! The tower [`Service`](tower_service::Service) of [`CompressionLayer`](super::CompressionLayer):
//! it picks the encoding from the request's `Accept-Encoding` and hands the inner service's
//! response future to a [`CompressionFuture`].

use super::config::Compression;
use super::future::CompressionFuture;
use axum::extract::Request;
use axum::http::header;
use axum::response::Response;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::task::{Context, Poll};

/// The service of [`CompressionLayer`](super::CompressionLayer).
#[derive(Debug, Clone)]
pub struct CompressionService<S> {
    inner: S,
    config: Compression,
    streams: Arc<AtomicUsize>,
}

impl<S> CompressionService<S> {
    /// `inner` behind `config`, counting its compressed streams in `streams`.
    pub(super) fn new(inner: S, config: Compression, streams: Arc<AtomicUsize>) -> Self {
        CompressionService {
            inner,
            config,
            streams,
        }
    }
}

impl<S> tower_service::Service<Request> for CompressionService<S>
where
    S: tower_service::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = CompressionFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let encoding = req
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|accept| self.config.choose(accept));
        CompressionFuture::new(
            self.inner.call(req),
            encoding,
            self.config,
            self.streams.clone(),
        )
    }
}
