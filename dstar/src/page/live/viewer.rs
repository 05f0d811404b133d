//! A viewer's side of a shared live render: its stream joins the key's hub, runs the viewer's
//! `authorize` before each frame, and sends the frame's bytes as they are.

use super::hub::{Frame, HubSpec, LiveHubs, View};
use crate::page::{StreamOpen, ViewTemplate};
use crate::sse::Sse;
use crate::stream::{Batch, Claim, EndGuard, PageStream, PubSub, Source};
use axum::extract::Request;
use axum::response::{IntoResponse as _, Response};
use bytes::Bytes;
use futures_util::future::{Either, Ready, ready};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

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
    let body = viewer_body(joined.rx, first, parts, on_frame);
    crate::sse::StreamResponse::from_body(body).into_response()
}

/// A viewer's response body: its first events, then what `on_frame` makes of each frame.
fn viewer_body<F, Fut>(
    rx: watch::Receiver<Frame>,
    first: Sse,
    parts: StreamParts,
    on_frame: F,
) -> impl http_body::Body<Data = Bytes, Error = std::convert::Infallible> + Send + 'static
where
    F: FnMut(Frame) -> Fut + Send + 'static,
    Fut: Future<Output = LiveBatch> + Send,
{
    let stream = PageStream {
        source: SharedFrames { rx },
        idle_check: parts.idle_check,
        claim: parts.claim,
        guard: parts.guard,
        first,
        catch_up: true,
    };
    crate::stream::batches_body(stream, on_frame)
}

/// What a viewer's stream makes of a frame: the shared bytes as they are, unless this viewer
/// must be asked first (`authorize`) or must render for itself.
fn on_frame<S, V, A, AFut>(
    state: S,
    template: Option<Arc<ViewTemplate>>,
    view: V,
    authorize: Option<A>,
) -> impl FnMut(Frame) -> FrameFuture + Send + 'static
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
                return Either::Left(ready(LiveBatch::shared(bytes)));
            }
            (None, Frame::Refusal(bytes)) => {
                return Either::Left(ready(LiveBatch::ending(bytes)));
            }
            (_, Frame::Nothing) => return Either::Left(ready(LiveBatch::shared(Bytes::new()))),
            (_, frame) => frame,
        };
        // kept whenever this is reached: with `authorize`, or for a named key's own renders
        let Some(template) = template.clone() else {
            return Either::Left(ready(LiveBatch::shared(Bytes::new())));
        };
        let (state, view, authorize) = (state.clone(), view.clone(), authorize.clone());
        Either::Right(Box::pin(async move {
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
type FrameFuture = Either<Ready<LiveBatch>, Pin<Box<dyn Future<Output = LiveBatch> + Send>>>;

/// A frame as a stream sends it.
pub(crate) enum LiveBatch {
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

impl Batch for LiveBatch {
    fn ends_stream(&self) -> bool {
        match self {
            LiveBatch::Shared { ends, .. } => *ends,
            LiveBatch::Own(sse) => sse.ends_stream(),
        }
    }

    fn into_bytes(self) -> Bytes {
        match self {
            LiveBatch::Shared { bytes, .. } => bytes,
            LiveBatch::Own(sse) => sse.into_bytes(),
        }
    }
}

/// A viewer's frames: the latest one each time it asks (a slow reader skips the ones it missed).
struct SharedFrames {
    rx: watch::Receiver<Frame>,
}

impl Source for SharedFrames {
    type Message = Frame;

    async fn recv_message(&mut self) -> Option<Frame> {
        // an error: the hub ended (its topics closed), and so does this stream
        self.rx.changed().await.ok()?;
        Some(self.rx.borrow_and_update().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A viewer's stream is the one allocation a shared render costs per viewer: what it holds
    /// is multiplied by every open tab. (It was 912 bytes while `recv_delivery` kept its wait
    /// twice and the request template sat inline.)
    #[test]
    fn a_viewers_stream_stays_small() {
        let (_tx, rx) = watch::channel(Frame::Nothing);
        let parts = StreamParts {
            claim: None,
            guard: EndGuard::none(),
            idle_check: Duration::from_secs(30),
        };
        let view = |_: (), _: Request| async { Ok::<_, Response>(maud::html! {}) };
        type Authorize = fn((), Request) -> Ready<Result<(), Response>>;
        let authorize: Option<Authorize> = None;
        let body = viewer_body(rx, Sse::new(), parts, on_frame((), None, view, authorize));
        let size = std::mem::size_of_val(&body);
        assert!(size <= 600, "a viewer's stream holds {size} bytes");
    }
}
