//! The tower [`Layer`](tower_layer::Layer) of [`Compression`]: it holds the settings and the count
//! of compressed streams that all its services share.

use super::config::Compression;
use super::service::CompressionService;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// The tower layer of [`Compression`]. Its services share one count of the streams they are
/// compressing (see [`Compression::max_streams`]).
#[derive(Debug, Clone)]
pub struct CompressionLayer {
    config: Compression,
    streams: Arc<AtomicUsize>,
}

impl Compression {
    /// The layer that compresses the event streams of the routes it wraps.
    ///
    /// ```
    /// let app: axum::Router = axum::Router::new()
    ///     .layer(dstar::sse::Compression::default().layer());
    /// ```
    pub fn layer(self) -> CompressionLayer {
        CompressionLayer::new(self)
    }
}

impl CompressionLayer {
    /// The layer of `config`, with no stream compressed yet.
    pub(super) fn new(config: Compression) -> Self {
        CompressionLayer {
            config,
            streams: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl<S> tower_layer::Layer<S> for CompressionLayer {
    type Service = CompressionService<S>;
    fn layer(&self, inner: S) -> CompressionService<S> {
        CompressionService::new(inner, self.config, self.streams.clone())
    }
}
