//! A viewer's side of a shared live render: its stream joins the key's hub, runs the viewer's
//! `authorize` before each frame, and sends the frame's bytes as they are.

use super::fanout::{Update, Watcher};
use super::hub::{Frame, HubSpec, LiveHubs, View};
use crate::page::{StreamOpen, ViewTemplate};
use crate::sse::Sse;
use crate::sse::lifecycle::Counted;
use crate::stream::{Claim, EndGuard, EndReason, PubSub};
use axum::extract::Request;
use axum::response::{IntoResponse as _, Response};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// What the generated stream handler of a shared live page hands over (see [`shared_stream`]).
pub struct SharedLive<S, V, A> {
    /// The page router's hubs.
    pub hubs: LiveHubs,
    /// The key viewers share a render under.
    pub key: String,
    /// Whether the page named the key (`render_key`).
    pub named_key: bool,
    /// Where the page listens.
    pub pubsub: PubSub,
    /// The page's `live` topics.
    pub topics: &'static [&'static str],
    /// How often the page may render.
    pub frame: Duration,
    /// The router state.
    pub state: S,
    /// The page's `mount` and `render`.
    pub view: V,
    /// The page's `authorize`, run for this viewer before each frame.
    pub authorize: Option<A>,
}

/// The stream's claim, guard and liveness interval, as the generated handler made them.
pub struct StreamParts {
    /// The tab's slot.
    pub claim: Option<Claim>,
    /// The disconnect hook.
    pub guard: EndGuard,
    /// How often an idle stream checks its client.
    pub idle_check: Duration,
}

/// A shared live page's stream: joins the key's render, sends its first events (the stream id,
/// and the viewer's own catch-up render when it reconnects or its page went stale), then each
/// shared frame the viewer may see.
pub async fn shared_stream<S, V, A, AFut>(
    mut open: StreamOpen,
    parts: StreamParts,
    live: SharedLive<S, V, A>,
) -> Response
where
    S: Clone + Send + Sync + 'static,
    V: View<S>,
    A: Fn(S, Request) -> AFut + Clone + Send + Sync + 'static,
    AFut: Future<Output = Result<(), Response>> + Send + 'static,
{
    let template = open.take_template();
    let mut joined = live.hubs.join(HubSpec {
        key: live.key,
        pubsub: &live.pubsub,
        topics: live.topics,
        frame: live.frame,
        state: &live.state,
        view: &live.view,
        template: &template,
        named_key: live.named_key,
        idle_check: parts.idle_check,
    });
    // a stream that must catch up takes the shared render (see `Joined::catch_up`); a first
    // connect asks the page's `PubSub` whether its topics had a message since the page's render
    if open.renders_first(|since| live.pubsub.missed_since(live.topics, since)) {
        joined.catch_up();
    }
    let first = open.first_events_shared();
    // the request is kept only to ask `authorize`, or to render for itself (a named key): a
    // stream of a shared page with neither sends the shared bytes and needs nothing of its own
    let template = (live.authorize.is_some() || live.named_key).then(|| Arc::new(template));
    let on_frame = on_frame(live.state, template, live.view, live.authorize);
    let body = viewer_body(joined.frames, first, parts, on_frame);
    crate::sse::StreamResponse::from_body(body).into_response()
}

/// A viewer's response body: its first events, then what `on_frame` makes of each frame.
fn viewer_body<F>(frames: Watcher, first: Sse, parts: StreamParts, on_frame: F) -> ViewerBody<F>
where
    F: FnMut(Frame) -> Step + Send + 'static,
{
    tracing::debug!("dstar stream opened");
    // a catch-up that refused (the viewer signed out) sends its redirect and ends the stream
    let phase = if first.ends_stream() {
        Phase::Ending(EndReason::Closed)
    } else {
        Phase::Open
    };
    let first = first.into_bytes();
    ViewerBody {
        first: (!first.is_empty()).then_some(first),
        frames,
        on_frame,
        own: None,
        waker: None,
        claim: parts.claim,
        guard: Some(parts.guard),
        phase,
        unchecked: 0,
        counted: Some(Counted::new()),
    }
}

/// What a viewer's stream makes of a frame: the shared bytes as they are, unless this viewer
/// must be asked first (`authorize`) or must render for itself.
fn on_frame<S, V, A, AFut>(
    state: S,
    template: Option<Arc<ViewTemplate>>,
    view: V,
    authorize: Option<A>,
) -> impl FnMut(Frame) -> Step + Send + 'static
where
    S: Clone + Send + Sync + 'static,
    V: View<S>,
    A: Fn(S, Request) -> AFut + Clone + Send + Sync + 'static,
    AFut: Future<Output = Result<(), Response>> + Send + 'static,
{
    move |frame: Frame| {
        let frame = match (&authorize, frame) {
            // no one to ask: the shared bytes, with no copy and no allocation
            (None, Frame::Patch(bytes)) => {
                return Step::Now(LiveBatch::shared(bytes));
            }
            (None, Frame::Refusal(bytes)) => return Step::Now(LiveBatch::ending(bytes)),
            (_, Frame::Nothing) => return Step::Now(LiveBatch::shared(Bytes::new())),
            (_, frame) => frame,
        };
        // kept whenever this is reached: with `authorize`, or for a named key's own renders
        let Some(template) = template.clone() else {
            return Step::Now(LiveBatch::shared(Bytes::new()));
        };
        let (state, view, authorize) = (state.clone(), view.clone(), authorize.clone());
        Step::Later(Box::pin(async move {
            if let Some(authorize) = authorize {
                // the session loaded afresh: a viewer who signed out gets the refusal, not the frame
                match authorize(state.clone(), template.fresh_request()).await {
                    Ok(()) => {}
                    // a passing failure (the session store blinked): skip this frame, stay
                    Err(failed) if failed.status().is_server_error() => {
                        tracing::warn!(
                            status = failed.status().as_u16(),
                            "dstar: a live page's authorize failed; this viewer skips a frame"
                        );
                        return LiveBatch::shared(Bytes::new());
                    }
                    Err(refusal) => return LiveBatch::Own(crate::page::stream_refused(&refusal)),
                }
            }
            match frame {
                Frame::Patch(bytes) => LiveBatch::shared(bytes),
                Frame::Refusal(bytes) => LiveBatch::ending(bytes),
                Frame::RenderYourself | Frame::Nothing => LiveBatch::Own(crate::page::live_update(
                    view(state, template.fresh_request()).await,
                )),
            }
        }))
    }
}

/// What a frame becomes: at once (the shared bytes), or after this viewer's `authorize` or its
/// own render.
enum Step {
    Now(LiveBatch),
    Later(OwnFuture),
}

type OwnFuture = Pin<Box<dyn Future<Output = LiveBatch> + Send>>;

/// A frame as a stream sends it.
enum LiveBatch {
    /// Bytes shared by every stream of the key.
    Shared { bytes: Bytes, ends: bool },
    /// This viewer's own events.
    Own(Sse),
}

impl LiveBatch {
    fn shared(bytes: Bytes) -> Self {
        LiveBatch::Shared { bytes, ends: false }
    }

    fn ending(bytes: Bytes) -> Self {
        LiveBatch::Shared { bytes, ends: true }
    }
}

impl LiveBatch {
    /// The bytes to send (none: nothing is sent), and whether the stream ends after them.
    fn into_sent(self) -> (Bytes, bool) {
        match self {
            LiveBatch::Shared { bytes, ends } => (bytes, ends),
            LiveBatch::Own(sse) => {
                let ends = sse.ends_stream();
                (sse.into_bytes(), ends)
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A viewer's stream, as its response body: hyper polls it when the socket takes more, and it
    /// hands over the latest frame (so a slow reader skips the ones it missed), the frame's
    /// own events (after `authorize`, or a render of its own), or a liveness ping. It waits on
    /// nothing of its own: the hub wakes it for frames, pings, the render's end and shutdown,
    /// and the claim for a takeover. One allocation per open stream, of some 200 bytes.
    struct ViewerBody<F> {
        first: Option<Bytes>,
        frames: Watcher,
        on_frame: F,
        // a frame this viewer must authorize or render for itself, under way
        own: Option<OwnFuture>,
        // the waker the hub and the claim hold: registered again only when the task's waker
        // changes
        waker: Option<Waker>,
        // before the guard: the claim is released before the disconnect hook runs
        claim: Option<Claim>,
        // dropped (so the hook runs) when the stream ends, or with the body
        guard: Option<EndGuard>,
        phase: Phase,
        // frames handed out since the claim was last read
        unchecked: u8,
        counted: Option<Counted>,
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Open,
    /// The last bytes went out; the stream ends on the next poll, for this reason.
    Ending(EndReason),
    Ended,
}

/// While frames keep a stream busy, it reads its claim once per this many frames (a broadcast
/// wakes thousands of streams, and each claim is a cold cache line), and whenever it waits.
const CLAIM_CHECK_EVERY: u8 = 16;

/// The liveness check: an SSE comment, which the client ignores; if the client is gone, the
/// write fails and hyper drops the body (`ClientGone`).
const PING: &[u8] = b": \n\n";

impl<F> http_body::Body for ViewerBody<F>
where
    F: FnMut(Frame) -> Step,
{
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(http_body::Frame::data(first))));
        }
        loop {
            let reason = match *this.phase {
                Phase::Ended => return Poll::Ready(None),
                Phase::Ending(reason) => reason,
                Phase::Open if crate::sse::lifecycle::is_shutting_down() => EndReason::Shutdown,
                Phase::Open => match next_bytes(
                    this.frames,
                    this.on_frame,
                    this.own,
                    this.claim.as_ref(),
                    this.unchecked,
                    cx,
                ) {
                    Poll::Ready(Ok((bytes, ends))) => {
                        if ends {
                            *this.phase = Phase::Ending(EndReason::Closed);
                        }
                        if bytes.is_empty() {
                            continue;
                        }
                        return Poll::Ready(Some(Ok(http_body::Frame::data(bytes))));
                    }
                    Poll::Ready(Err(reason)) => reason,
                    Poll::Pending => {
                        if this.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                            return Poll::Pending;
                        }
                        // wake this task from now on; then look again, for what came meanwhile
                        this.frames.register(cx.waker());
                        if let Some(claim) = this.claim.as_ref() {
                            let _ = claim.poll_taken_over(cx);
                        }
                        *this.waker = Some(cx.waker().clone());
                        continue;
                    }
                },
            };
            *this.phase = Phase::Ended;
            *this.claim = None;
            if let Some(guard) = this.guard.take() {
                guard.set(reason);
            }
            *this.counted = None;
            return Poll::Ready(None);
        }
    }
}

/// The next bytes to send and whether the stream ends after them, or why it ends now.
fn next_bytes<F: FnMut(Frame) -> Step>(
    frames: &mut Watcher,
    on_frame: &mut F,
    own: &mut Option<OwnFuture>,
    claim: Option<&Claim>,
    unchecked: &mut u8,
    cx: &mut Context<'_>,
) -> Poll<Result<(Bytes, bool), EndReason>> {
    loop {
        if let Some(future) = own.as_mut() {
            // a panic in the page's code (`authorize`, its render) ends this stream, logged
            // with its location, not the connection it shares with others
            let polled =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx)));
            return match polled {
                Ok(Poll::Pending) => Poll::Pending,
                Ok(Poll::Ready(batch)) => {
                    *own = None;
                    Poll::Ready(Ok(batch.into_sent()))
                }
                Err(panic) => {
                    *own = None;
                    crate::headers::log_panic(
                        panic.as_ref(),
                        "a live page's authorize or render panicked; the stream ends",
                    );
                    Poll::Ready(Err(EndReason::Closed))
                }
            };
        }
        match frames.next() {
            Some(Update::Frame(frame)) => {
                *unchecked += 1;
                if *unchecked >= CLAIM_CHECK_EVERY {
                    *unchecked = 0;
                    if claim.is_some_and(Claim::is_taken_over) {
                        return Poll::Ready(Err(EndReason::Takeover));
                    }
                }
                match on_frame(frame) {
                    Step::Now(batch) => return Poll::Ready(Ok(batch.into_sent())),
                    Step::Later(future) => *own = Some(future),
                }
            }
            Some(Update::Ping) => return Poll::Ready(Ok((Bytes::from_static(PING), false))),
            Some(Update::Closed) => return Poll::Ready(Err(EndReason::SourceClosed)),
            None => {
                *unchecked = 0;
                if claim.is_some_and(Claim::is_taken_over) {
                    return Poll::Ready(Err(EndReason::Takeover));
                }
                return Poll::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A viewer's stream is the one allocation a shared render costs per viewer: what it holds
    /// is multiplied by every open tab. (It was 912 bytes while `recv_delivery` kept its wait
    /// twice and the request template sat inline, and 576 while it ran the page stream loop
    /// with a `watch` receiver and a timer of its own.)
    #[test]
    fn a_viewers_stream_stays_small() {
        let fanout = Arc::new(super::super::fanout::Fanout::new());
        let parts = StreamParts {
            claim: None,
            guard: EndGuard::none(),
            idle_check: Duration::from_secs(30),
        };
        let view = |_: (), _: Request| async { Ok::<_, Response>(maud::html! {}) };
        type Authorize = fn((), Request) -> std::future::Ready<Result<(), Response>>;
        let authorize: Option<Authorize> = None;
        let on_frame = on_frame((), None, view, authorize);
        let body = viewer_body(fanout.watch(), Sse::new(), parts, on_frame);
        let size = std::mem::size_of_val(&body);
        assert!(size <= 256, "a viewer's stream holds {size} bytes");
    }
}
