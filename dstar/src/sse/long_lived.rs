//! The long-lived SSE response: a body that drives the writer's future itself.
//!
//! There is no spawned task. The response body owns your future and a bounded buffer; hyper polls
//! the body when the socket can take more bytes, and polling the body polls your future. So:
//! - each event is flushed as soon as it is written (hyper writes every frame it gets);
//! - when the client goes away hyper drops the body, which drops your future at its current
//!   `.await`: subscriptions and other state are released by `Drop`, nothing leaks;
//! - a slow reader applies back-pressure: see [`StreamConfig::buffer`].

use super::lifecycle::{Parked, StreamCount, is_shutting_down};
use super::{DatastarEvent, Sse, sse_headers};
use crate::error::Error;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::task::AtomicWaker;
use http_body::{Body, Frame};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// The client is gone: the response body was dropped, so nothing more can be sent.
///
/// ```
/// # async fn f(sse: dstar::sse::SseStream) {
/// if let Err(dstar::sse::Disconnected) = sse.check_connection().await {
///     // clean up
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected;

impl fmt::Display for Disconnected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the SSE client disconnected")
    }
}

impl std::error::Error for Disconnected {}

/// Settings of a long-lived stream.
///
/// ```
/// let config = dstar::sse::StreamConfig::default().buffer(8);
/// assert_eq!(config.buffer_len(), 8);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StreamConfig {
    buffer: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig { buffer: 16 }
    }
}

impl StreamConfig {
    /// How many written-but-unsent writes a stream holds (default 16).
    ///
    /// **Slow-reader policy: wait for capacity.** When the client reads slower than the server
    /// writes, the buffer fills and the next [`SseStream::send`] waits until the client has taken
    /// a write. Memory per stream is therefore bounded by `buffer` writes plus the socket buffers;
    /// a stream fed by a broadcast (such as dstar's PubSub) skips messages instead of blocking
    /// the publisher.
    ///
    /// ```
    /// let config = dstar::sse::StreamConfig::default().buffer(64);
    /// assert_eq!(config.buffer_len(), 64);
    /// ```
    pub fn buffer(mut self, writes: usize) -> Self {
        self.buffer = writes.max(1);
        self
    }

    /// The configured buffer length.
    ///
    /// ```
    /// assert_eq!(dstar::sse::StreamConfig::default().buffer_len(), 16);
    /// ```
    pub fn buffer_len(&self) -> usize {
        self.buffer
    }
}

/// The writing end of a long-lived SSE response.
///
/// Cloneable: clones write to the same response (e.g. from a task you spawn yourself). Every
/// method fails with [`Disconnected`] once the client is gone.
///
/// ```
/// use dstar::prelude::*;
/// use std::time::Duration;
///
/// async fn ticker() -> impl axum::response::IntoResponse {
///     dstar::sse::stream(|sse| async move {
///         for tick in 0.. {
///             if sse.patch_signals(json!({ "tick": tick })).await.is_err() {
///                 break; // client gone
///             }
///             tokio::time::sleep(Duration::from_secs(1)).await;
///         }
///     })
/// }
/// let app: axum::Router = axum::Router::new().route("/ticker", axum::routing::post(ticker));
/// ```
#[derive(Debug)]
pub struct SseStream {
    shared: Arc<Shared>,
}

impl Clone for SseStream {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        SseStream {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for SseStream {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        if state.senders == 0 {
            if let Some(w) = state.rx_waker.take() {
                w.wake();
            }
        }
    }
}

/// The bounded queue between the writers and the body: a few words until it is used, instead of a
/// channel's preallocated block (this is per open stream, so it matters at thousands of streams).
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct State {
    queue: Writes,
    senders: usize,
    closed: bool,
    rx_waker: Option<Waker>,
    tx_wakers: Vec<Waker>,
}

/// The writes waiting for the body, oldest first. The oldest sits in a slot of its own, so a
/// stream whose client keeps up (one write waiting at a time, the usual case) never allocates the
/// overflow queue: it would stay allocated, empty, for as long as the stream is open.
#[derive(Debug, Default)]
struct Writes {
    next: Option<Bytes>,
    more: VecDeque<Bytes>,
}

impl Writes {
    fn len(&self) -> usize {
        usize::from(self.next.is_some()) + self.more.len()
    }

    fn push_back(&mut self, bytes: Bytes) {
        if self.next.is_none() {
            self.next = Some(bytes);
        } else {
            self.more.push_back(bytes);
        }
    }

    fn pop_front(&mut self) -> Option<Bytes> {
        let bytes = self.next.take()?;
        self.next = self.more.pop_front();
        Some(bytes)
    }

    fn clear(&mut self) {
        self.next = None;
        self.more = VecDeque::new();
    }
}

impl Parked for Shared {
    fn wake_for_shutdown(&self) {
        if let Some(w) = self.lock().rx_waker.take() {
            w.wake();
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Adds `waker` to the ones woken when the buffer has room, unless it would wake the same task as one
/// already there.
fn register_waker(wakers: &mut Vec<Waker>, waker: &Waker) {
    if !wakers.iter().any(|w| w.will_wake(waker)) {
        wakers.push(waker.clone());
    }
}

impl SseStream {
    /// Sends one event, or a whole [`Sse`] batch, and flushes it.
    ///
    /// Waits while the buffer is full (see [`StreamConfig::buffer`]). An invalid event is an
    /// [`SendError::Invalid`] and sends nothing.
    ///
    /// ```
    /// # async fn f(sse: dstar::sse::SseStream) -> Result<(), dstar::sse::SendError> {
    /// use dstar::elements::PatchElements;
    /// sse.send(PatchElements::new("<p id=\"status\">online</p>")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, events: impl IntoEvents) -> Result<(), SendError> {
        let bytes = events.into_events().map_err(SendError::Invalid)?;
        self.send_bytes(bytes)
            .await
            .map_err(|_| SendError::Disconnected)
    }

    async fn send_bytes(&self, bytes: Bytes) -> Result<(), Disconnected> {
        let mut bytes = Some(bytes);
        std::future::poll_fn(|cx| {
            let mut state = self.shared.lock();
            if state.closed {
                return Poll::Ready(Err(Disconnected));
            }
            if state.queue.len() < self.shared.capacity {
                state
                    .queue
                    .push_back(bytes.take().expect("polled after completion"));
                if let Some(w) = state.rx_waker.take() {
                    w.wake();
                }
                return Poll::Ready(Ok(()));
            }
            register_waker(&mut state.tx_wakers, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Sends a patch-signals event (see [`Sse::patch_signals`]).
    ///
    /// ```
    /// # async fn f(sse: dstar::sse::SseStream) -> Result<(), dstar::sse::Disconnected> {
    /// sse.patch_signals(serde_json::json!({ "online": true })).await?;
    /// # Ok(()) }
    /// ```
    pub async fn patch_signals(&self, signals: impl serde::Serialize) -> Result<(), Disconnected> {
        let mut sse = Sse::new();
        sse.patch_signals(signals);
        self.send_bytes(sse.into_bytes()).await
    }

    /// Sends a patch-elements event (see [`Sse::patch_elements`]).
    ///
    /// ```
    /// # async fn f(sse: dstar::sse::SseStream) -> Result<(), dstar::sse::Disconnected> {
    /// sse.patch_elements(maud::html! { p #clock { "12:00" } }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn patch_elements(
        &self,
        html: impl crate::elements::Html,
    ) -> Result<(), Disconnected> {
        let mut sse = Sse::new();
        sse.patch_elements(html);
        self.send_bytes(sse.into_bytes()).await
    }

    /// Liveness check: writes an SSE comment (`: \n\n`), which the client ignores.
    ///
    /// Returns [`Disconnected`] when the client is gone. A write into a connection whose peer
    /// vanished fails at the socket, hyper then drops the body, and this (or the next) call
    /// reports it.
    ///
    /// ```
    /// # async fn f(sse: dstar::sse::SseStream) {
    /// if sse.check_connection().await.is_err() {
    ///     return; // clean up
    /// }
    /// # }
    /// ```
    pub async fn check_connection(&self) -> Result<(), Disconnected> {
        if self.is_closed() {
            return Err(Disconnected);
        }
        self.send_bytes(Bytes::from_static(b": \n\n")).await
    }

    /// True once the client is gone.
    ///
    /// ```
    /// # fn f(sse: dstar::sse::SseStream) {
    /// if sse.is_closed() { /* stop work */ }
    /// # }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Resolves when the client disconnects: race it against your own waits with `tokio::select!`.
    ///
    /// ```
    /// # async fn f(sse: dstar::sse::SseStream) {
    /// tokio::select! {
    ///     _ = sse.closed() => { /* client gone */ }
    ///     _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
    /// }
    /// # }
    /// ```
    pub async fn closed(&self) {
        std::future::poll_fn(|cx| {
            let mut state = self.shared.lock();
            if state.closed {
                return Poll::Ready(());
            }
            register_waker(&mut state.tx_wakers, cx.waker());
            Poll::Pending
        })
        .await
    }
}

/// Why [`SseStream::send`] failed.
///
/// ```
/// # async fn f(sse: dstar::sse::SseStream) {
/// use dstar::sse::SendError;
/// match sse.send(dstar::elements::PatchElements::new("<li>x</li>")).await {
///     Ok(()) => {}
///     Err(SendError::Invalid(e)) => eprintln!("bug: {e}"),
///     Err(SendError::Disconnected) => return,
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The event was invalid; nothing was sent.
    Invalid(Error),
    /// The client is gone.
    Disconnected,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Invalid(e) => e.fmt(f),
            SendError::Disconnected => Disconnected.fmt(f),
        }
    }
}

impl std::error::Error for SendError {}

impl From<Disconnected> for SendError {
    fn from(_: Disconnected) -> Self {
        SendError::Disconnected
    }
}

/// Things [`SseStream::send`] accepts: a single event, or a whole [`Sse`] batch.
///
/// ```
/// # async fn f(sse: dstar::sse::SseStream) -> Result<(), dstar::sse::SendError> {
/// let mut batch = dstar::Sse::new();
/// batch.patch_signals(serde_json::json!({"a": 1})).remove_elements("#old");
/// sse.send(batch).await?; // both events in one write
/// # Ok(()) }
/// ```
pub trait IntoEvents {
    /// The formatted bytes.
    fn into_events(self) -> Result<Bytes, Error>;
}

impl IntoEvents for Sse {
    fn into_events(self) -> Result<Bytes, Error> {
        Ok(self.into_bytes())
    }
}

impl<E: DatastarEvent> IntoEvents for E {
    fn into_events(self) -> Result<Bytes, Error> {
        let mut out = BytesMut::new();
        self.write_to(&mut out)?;
        Ok(out.freeze())
    }
}

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

type Driver = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The response [`stream`] returns: `200 text/event-stream` with `X-Accel-Buffering: no`.
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

/// The waker the driver runs with: it marks the driver as due and wakes the body's task. So the
/// body runs the driver only when something the driver waits on fired, not again after every
/// frame hyper takes (a needless poll re-registers with the driver's sources, e.g. a broadcast
/// channel's shared lock, once per stream per message).
struct DriverWake {
    due: AtomicBool,
    task: AtomicWaker,
}

impl Wake for DriverWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.due.store(true, Ordering::SeqCst);
        self.task.wake();
    }
}

struct StreamBody {
    driver: Option<Driver>,
    driver_waker: Waker,
    wake: Arc<DriverWake>,
    shared: Arc<Shared>,
    /// Released when the body ends or is dropped, whichever comes first.
    count: Option<StreamCount>,
}

impl StreamBody {
    /// Takes the next queued write, and forgets the parked waker: the driver is about to be
    /// polled by this very task, so its own writes must not schedule a second, useless poll.
    /// (Writes from other tasks are still seen: the queue is checked again, and the waker
    /// registered, under one lock after the driver ran.)
    fn take(&self) -> Option<Bytes> {
        let mut state = self.shared.lock();
        state.rx_waker = None;
        let bytes = state.queue.pop_front()?;
        for w in state.tx_wakers.drain(..) {
            w.wake();
        }
        Some(bytes)
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        // the client is gone: writers fail from now on, and waiting ones wake up to see it
        let mut state = self.shared.lock();
        state.closed = true;
        state.queue.clear();
        for w in state.tx_wakers.drain(..) {
            w.wake();
        }
    }
}

impl Body for StreamBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        // Already-written events go out first, so a finished driver still flushes its tail.
        if let Some(bytes) = this.take() {
            return Poll::Ready(Some(Ok(Frame::data(bytes))));
        }
        // Read before the driver runs: a loop that watches shutdown itself (a page stream does)
        // sees it in this very poll and ends on its own terms; any other driver is then dropped.
        let shutting_down = is_shutting_down();
        if let Some(driver) = this.driver.as_mut() {
            this.wake.task.register(cx.waker());
            if this.wake.due.swap(false, Ordering::SeqCst) || shutting_down {
                let mut driver_cx = Context::from_waker(&this.driver_waker);
                if driver.as_mut().poll(&mut driver_cx).is_ready() || shutting_down {
                    this.driver = None;
                }
            }
        }
        let mut state = this.shared.lock();
        if let Some(bytes) = state.queue.pop_front() {
            for w in state.tx_wakers.drain(..) {
                w.wake();
            }
            return Poll::Ready(Some(Ok(Frame::data(bytes))));
        }
        // A clone of the writer kept elsewhere (a task of the user's) must not hold a shutting-down
        // server open: once the driver is gone and the queue is drained, the response ends.
        if state.senders == 0 || (shutting_down && this.driver.is_none()) {
            drop(state);
            this.count = None;
            return Poll::Ready(None);
        }
        // The driver waits, or a clone of the writer lives elsewhere: wait for a write.
        state.rx_waker = Some(cx.waker().clone());
        if is_shutting_down() && this.driver.is_some() {
            // shutdown began after the driver ran: run it again so it sees the flag
            // (`shutdown` wakes under this lock, so the flag is either seen here or wakes us)
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::Writes;
    use bytes::Bytes;

    #[test]
    fn writes_leave_in_the_order_they_came() {
        let mut writes = Writes::default();
        assert_eq!(writes.pop_front(), None);
        for n in 0..3u8 {
            writes.push_back(Bytes::from(vec![n]));
        }
        assert_eq!(writes.len(), 3);
        assert_eq!(writes.pop_front().as_deref(), Some(&[0u8][..]));
        writes.push_back(Bytes::from_static(b"\x03"));
        let rest: Vec<u8> = std::iter::from_fn(|| writes.pop_front())
            .map(|b| b[0])
            .collect();
        assert_eq!(rest, [1, 2, 3]);
        assert_eq!(writes.len(), 0);
    }

    #[test]
    fn a_stream_that_keeps_up_never_allocates_the_overflow() {
        let mut writes = Writes::default();
        for _ in 0..100 {
            writes.push_back(Bytes::from_static(b"x"));
            assert!(writes.pop_front().is_some());
        }
        assert_eq!(writes.more.capacity(), 0);
    }
}
