//! The long-lived SSE response: a body that drives the writer's future itself.
//!
//! There is no spawned task. The response body owns your future and a bounded buffer; hyper polls
//! the body when the socket can take more bytes, and polling the body polls your future. So:
//! - each event is flushed as soon as it is written (hyper writes every frame it gets);
//! - when the client goes away hyper drops the body, which drops your future at its current
//!   `.await`: subscriptions and other state are released by `Drop`, nothing leaks;
//! - a slow reader applies back-pressure: see [`StreamConfig::buffer`].
//!
//! Files: the entry points ([`stream`], [`stream_with`]) here; the writing end ([`SseStream`]) in
//! `writer.rs`; the bounded queue between the writers and the body in `queue.rs`; the body that
//! drives the writer's future in `body.rs`; the response in `response.rs`; the settings in
//! `config.rs`; what `send` takes in `into_events.rs`; its errors in `error.rs`.

mod body;
mod config;
mod error;
mod into_events;
mod queue;
mod response;
mod writer;

pub use config::StreamConfig;
pub use error::{Disconnected, SendError};
pub use into_events::IntoEvents;
pub use response::StreamResponse;
pub use writer::SseStream;

use super::lifecycle::{Parked, StreamCount};
use body::{DriverWake, StreamBody};
use futures_util::task::AtomicWaker;
use queue::{Shared, State};
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::task::Waker;

/// Starts a long-lived SSE response driven by `f` (the default [`StreamConfig`]).
///
/// The response is returned at once; `f`'s future runs as the client reads the body and is dropped
/// when the client goes away. See [`crate::sse`].
///
/// ```
/// use dstar::prelude::*;
/// async fn clock() -> impl axum::response::IntoResponse {
///     dstar::sse::stream(|sse| async move {
///         let _ = sse.patch_signals(json!({ "time": "12:00" })).await;
///     })
/// }
/// ```
pub fn stream<F, Fut>(f: F) -> StreamResponse
where
    F: FnOnce(SseStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    stream_with(StreamConfig::default(), f)
}

/// [`stream`] with explicit settings.
///
/// ```
/// use dstar::sse::{stream_with, StreamConfig};
/// let response = stream_with(StreamConfig::default().buffer(4), |sse| async move {
///     let _ = sse.check_connection().await;
/// });
/// ```
pub fn stream_with<F, Fut>(config: StreamConfig, f: F) -> StreamResponse
where
    F: FnOnce(SseStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            senders: 1,
            ..State::default()
        }),
        capacity: config.buffer,
    });
    let fut = f(SseStream {
        shared: shared.clone(),
    });
    let parked: Arc<dyn Parked> = shared.clone();
    let wake = Arc::new(DriverWake {
        due: AtomicBool::new(true),
        task: AtomicWaker::new(),
    });
    StreamResponse::from_body(StreamBody {
        driver: Some(Box::pin(fut)),
        driver_waker: Waker::from(wake.clone()),
        wake,
        count: Some(StreamCount::new(Arc::downgrade(&parked))),
        shared,
    })
}
