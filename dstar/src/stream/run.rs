//! The page stream loop as a library function: `#[dstar::page]` expands to a call of [`run`], so
//! the generated code stays a few lines.

use super::{Claim, EndGuard, EndReason, Next, Source, StreamLoop};
use crate::sse::{Sse, StreamResponse};
use bytes::Bytes;
use futures_util::FutureExt as _;
use std::future::Future;
use std::time::Duration;

/// Everything a page stream needs besides its message handler.
#[derive(Debug)]
pub struct PageStream<S> {
    /// Where the messages come from.
    pub source: S,
    /// How often an idle stream checks that its client is still there.
    pub idle_check: Duration,
    /// The per-tab slot this stream holds, if deduplicated.
    pub claim: Option<Claim>,
    /// Runs the disconnect hook once, however the stream ends.
    pub guard: EndGuard,
    /// Sent before the first message: the stream's id and, on a reconnect, the catch-up.
    pub first: Sse,
    /// Whether the client reconnects after any end and catches up (a page's `connect()`, with
    /// `retry: 'always'`, against a stream that renders the page first on a reconnect). Then a
    /// source that lost messages ([`Delivery::Missed`](super::Delivery)) ends the stream
    /// ([`EndReason::Missed`]) so the page is rendered afresh; otherwise the loss is logged and
    /// skipped, and the stream goes on. `#[dstar::page]` streams set it.
    pub catch_up: bool,
}

/// Runs a page stream: sends `first`, then turns each message into events with `on_message`
/// until the client goes, a newer stream of the same tab takes over, the source closes, the
/// server shuts down, or (with [`catch_up`](PageStream::catch_up)) the source lost messages. The
/// claim is released before the disconnect hook runs.
///
/// ```
/// use dstar::prelude::*;
/// use dstar::stream::{EndGuard, PageStream};
/// async fn feed(State(pubsub): State<PubSub>) -> impl axum::response::IntoResponse {
///     let source = pubsub.subscribe::<u64>("ticks");
///     let stream = PageStream {
///         source,
///         idle_check: std::time::Duration::from_secs(30),
///         claim: None,
///         guard: EndGuard::none(),
///         first: Sse::new(),
///         catch_up: false, // a lost message is skipped: this client has no catch-up
///     };
///     dstar::stream::run(stream, |tick: u64| async move {
///         let mut sse = Sse::new();
///         sse.patch_signals(json!({ "tick": tick }));
///         sse
///     })
/// }
/// # use dstar::axum::extract::State;
/// let app: axum::Router = axum::Router::new()
///     .route("/ticks", axum::routing::post(feed))
///     .with_state(PubSub::new());
/// ```
pub fn run<S, F, Fut>(stream: PageStream<S>, on_message: F) -> StreamResponse
where
    S: Source,
    F: FnMut(S::Message) -> Fut + Send + 'static,
    Fut: Future<Output = Sse> + Send,
{
    StreamResponse::from_body(stream_body(stream, on_message))
}

/// The response body of [`run`]: the loop inside it, one allocation per open stream.
fn stream_body<S, F, Fut>(
    stream: PageStream<S>,
    mut on_message: F,
) -> impl http_body::Body<Data = Bytes, Error = std::convert::Infallible> + Send + 'static
where
    S: Source,
    F: FnMut(S::Message) -> Fut + Send + 'static,
    Fut: Future<Output = Sse> + Send,
{
    // taken apart out here, so the future holds each part once (a future keeps what it captures
    // apart from its locals: destructuring inside would hold the stream twice, per open stream)
    let PageStream {
        mut source,
        idle_check,
        claim,
        guard,
        first,
        catch_up,
    } = stream;
    // fields drop in their order: the claim is released before the disconnect hook (the guard)
    // runs, also when the client goes and the future is dropped at an `.await`
    let end = Ending { claim, guard };
    // a catch-up that refused (the viewer signed out) sends its redirect and ends the stream
    let ends_first = first.ends_stream();
    // the loop is the response body itself: it hands each batch straight to hyper (no queue and
    // no lock between them), and is dropped with the body when the client goes
    // the clock of the page's period wakes the stream for its liveness checks and at shutdown
    let clock = crate::sse::clock::clock(idle_check);
    crate::sse::page_body(first.into_bytes(), clock.seat(), move |frames| async move {
        tracing::debug!("dstar stream opened");
        if ends_first {
            end.guard.set(EndReason::Closed);
            drop(end);
            return;
        }
        let events = StreamLoop::new(clock);
        let mut events = std::pin::pin!(events);
        let reason = loop {
            // bound first, not matched in place: a scrutinee would be held across the arms'
            // awaits, in every open stream's future
            let next = events.as_mut().next(&mut source, end.claim.as_ref()).await;
            match next {
                Next::Message(message) => {
                    // a panic in the page's code (`on_message`, a live render) ends this stream,
                    // logged with its location, not the connection it shares with others
                    let batch = match std::panic::AssertUnwindSafe(on_message(message))
                        .catch_unwind()
                        .await
                    {
                        Ok(batch) => batch,
                        Err(panic) => {
                            crate::headers::log_panic(
                                panic.as_ref(),
                                "a page stream's message handler panicked; the stream ends",
                            );
                            break EndReason::Closed;
                        }
                    };
                    let ends = batch.ends_stream();
                    let bytes = batch.into_bytes();
                    if !bytes.is_empty() {
                        frames.send(bytes).await;
                        events.as_mut().wrote();
                    }
                    if ends {
                        break EndReason::Closed;
                    }
                }
                // a liveness check: an SSE comment, which the client ignores; if the client is
                // gone, the write fails and hyper drops the body with this loop (`ClientGone`)
                Next::Idle => frames.send(Bytes::from_static(b": \n\n")).await,
                Next::TakenOver => break EndReason::Takeover,
                Next::Shutdown => break EndReason::Shutdown,
                Next::SourceClosed => break EndReason::SourceClosed,
                Next::Missed if catch_up => break EndReason::Missed,
                Next::Missed => {
                    tracing::debug!("dstar stream: its source lost messages; skipped");
                }
            }
        };
        end.guard.set(reason);
        drop(end);
    })
}

/// What a page stream releases when it ends, in this order.
struct Ending {
    claim: Option<Claim>,
    guard: EndGuard,
}
