//! [`SseStream`]: the writing end of a long-lived response, cloneable, that waits while the
//! buffer is full and fails once the client is gone.

use super::error::{Disconnected, SendError};
use super::into_events::IntoEvents;
use super::queue::Shared;
use crate::sse::Sse;
use bytes::Bytes;
use std::sync::Arc;
use std::task::{Poll, Waker};

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
    pub(super) shared: Arc<Shared>,
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
    /// Waits while the buffer is full (see [`StreamConfig::buffer`](super::StreamConfig::buffer)).
    /// An invalid event is an [`SendError::Invalid`] and sends nothing.
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
