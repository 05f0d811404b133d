//! Long-lived page streams: the loop `#[dstar::page]` owns, message sources, [`PubSub`], per-tab
//! stream deduplication ([`StreamRegistry`]), shutdown and live-stream statistics.
//!
//! A page declares how to subscribe and how to turn each message into patches:
//!
//! ```ignore
//! async fn subscribe(State(app): State<App>) -> Subscription<Tick> { app.pubsub.subscribe("ticker") }
//! async fn on_message(sse: &mut Sse, tick: Tick) { sse.patch_signals(json!({ "tick": tick.0 })); }
//! ```
//!
//! The loop waits for a message, a liveness tick (`idle_check`, default 30 s), a takeover by a
//! newer stream of the same tab, or shutdown. Nothing runs in the background: the loop is the
//! response body's future, so a client that goes away drops it, with its subscription.

mod pubsub;
mod registry;
mod run;
mod tab;

pub use crate::sse::{shutdown, shutdown_signal};
#[cfg(feature = "redis")]
pub use pubsub::redis::{PUBLISH_TIMEOUT as REDIS_PUBLISH_TIMEOUT, RedisBackend};
pub use pubsub::{
    Changes, Message, PubSub, PubSubBackend, PublishError, PublishFuture, Published, Subscription,
};
#[cfg(feature = "redis")]
pub(crate) use registry::set_announce;
pub use registry::{Claim, StreamRegistry};
pub(crate) use run::{Batch, next_stream_number, run_batches};
pub use run::{
    PageStream, Reconnect, build_id, dedup_scope, live_reload, previous_stream, run, stream_id,
};
pub(crate) use tab::read_tab;
pub use tab::{TAB_HEADER, read_tab_id, start_stream, valid_tab_id};

use crate::sse::Sse;
use axum::response::IntoResponse;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Claims the per-tab slot of a page stream (numbered `number`), unless the stream this client
/// last had lost its slot to another live tab with the same id: then the page is told to draw a
/// new tab id and reload, instead of evicting the other tab, which would evict it back, forever.
#[allow(clippy::result_large_err)]
pub(crate) fn claim_page_stream(
    scope: Option<String>,
    tab: Option<String>,
    previous: Option<u64>,
    number: u64,
) -> Result<Option<Claim>, axum::response::Response> {
    let (Some(scope), Some(tab)) = (scope, tab) else {
        return Ok(None);
    };
    let registry = StreamRegistry::global();
    if previous.is_some_and(|last| registry.superseded(&scope, &tab, last)) {
        tracing::debug!("dstar: two live tabs share a tab id; the older one draws a new one");
        let mut sse = Sse::new();
        let _ = sse.send(crate::scripts::ExecuteScript::new(
            "sessionStorage.removeItem('_ds_tab'); location.reload()",
        ));
        return Err(sse.into_response());
    }
    Ok(Some(registry.claim_as(&scope, &tab, number)))
}

/// The liveness check interval when a page sets none.
pub const DEFAULT_IDLE_CHECK: Duration = Duration::from_secs(30);

/// Where a stream's messages come from: a [`Subscription`], or a tokio `broadcast`/`mpsc`
/// receiver.
///
/// ```
/// use dstar::stream::Source;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(4);
/// tx.send(7).await.unwrap();
/// assert_eq!(rx.recv_message().await, Some(7));
/// # });
/// ```
pub trait Source: Send + 'static {
    /// The message type.
    type Message: Send + 'static;
    /// The next message, or `None` when the source is closed.
    fn recv_message(&mut self) -> impl Future<Output = Option<Self::Message>> + Send;

    /// Whether something this source will not deliver (it came before the source existed) may
    /// have been sent since `since`, the render time of the page whose stream this is. A page
    /// stream's first connect asks this after subscribing, and renders the page again when it is
    /// true, so a message published while the browser was loading the page is not missed.
    /// [`PubSub`] subscriptions answer from the messages they know of; the default, for other
    /// sources, is `false` (no render). Return `true` when you cannot tell.
    ///
    /// ```
    /// use dstar::stream::Source;
    /// let (_tx, rx) = tokio::sync::mpsc::channel::<u32>(4);
    /// assert!(!rx.missed_since(std::time::SystemTime::now()));
    /// ```
    fn missed_since(&self, since: std::time::SystemTime) -> bool {
        let _ = since;
        false
    }

    /// The next message, or word that messages meant for this source were lost: what the page
    /// stream loop waits on. On [`Delivery::Missed`] a page's stream ends ([`EndReason::Missed`])
    /// so the page reconnects and its stream starts with a fresh render, instead of showing a
    /// state that skipped some changes (a hand-written stream that does not catch up skips the
    /// loss, see [`PageStream::catch_up`]).
    ///
    /// A `broadcast` receiver that lags reports it; so does a [`Subscription`] that lags, or
    /// whose Redis connection dropped (what was published meanwhile never reached this node).
    /// The default, for other sources, reports none: it is [`recv_message`](Source::recv_message)
    /// with [`Delivery::Closed`] for `None`.
    ///
    /// ```
    /// use dstar::stream::{Delivery, Source};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = tokio::sync::broadcast::channel::<u32>(1);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap(); // 1 is pushed out before the receiver saw it
    /// assert_eq!(rx.recv_delivery().await, Delivery::Missed);
    /// assert_eq!(rx.recv_delivery().await, Delivery::Message(2));
    /// drop(tx);
    /// assert_eq!(rx.recv_delivery().await, Delivery::Closed);
    /// # });
    /// ```
    fn recv_delivery(&mut self) -> impl Future<Output = Delivery<Self::Message>> + Send {
        let next = self.recv_message();
        async move {
            match next.await {
                Some(message) => Delivery::Message(message),
                None => Delivery::Closed,
            }
        }
    }
}

/// The next message of a source that reports losses, skipping them: `recv_message` for the
/// sources whose `recv_delivery` is their own.
async fn skipping_losses<S: Source>(source: &mut S) -> Option<S::Message> {
    loop {
        match source.recv_delivery().await {
            Delivery::Message(m) => return Some(m),
            Delivery::Missed => {}
            Delivery::Closed => return None,
        }
    }
}

/// What a [`Source`] hands the stream loop next ([`Source::recv_delivery`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery<M> {
    /// A message.
    Message(M),
    /// Messages meant for this source were lost: it fell too far behind (a `broadcast` receiver
    /// that lagged), or its backend was cut off for a while.
    Missed,
    /// The source is closed: no message will come.
    Closed,
}

impl<M: Clone + Send + 'static> Source for broadcast::Receiver<M> {
    type Message = M;

    /// The next message; one that lagged skips the oldest messages (logged at debug level).
    async fn recv_message(&mut self) -> Option<M> {
        skipping_losses(self).await
    }

    async fn recv_delivery(&mut self) -> Delivery<M> {
        match self.recv().await {
            Ok(m) => Delivery::Message(m),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::debug!(
                    skipped = n,
                    "dstar stream lagged: skipped the oldest messages"
                );
                Delivery::Missed
            }
            Err(broadcast::error::RecvError::Closed) => Delivery::Closed,
        }
    }
}

impl<M: Send + 'static> Source for mpsc::Receiver<M> {
    type Message = M;
    async fn recv_message(&mut self) -> Option<M> {
        self.recv().await
    }
}

impl<M: Send + 'static> Source for mpsc::UnboundedReceiver<M> {
    type Message = M;
    async fn recv_message(&mut self) -> Option<M> {
        self.recv().await
    }
}

/// What the loop woke up for.
#[derive(Debug)]
pub(crate) enum Next<M> {
    Message(M),
    Idle,
    TakenOver,
    Shutdown,
    SourceClosed,
    Missed,
}

pin_project_lite::pin_project! {
    /// The loop's long-lived state besides its source: one liveness timer, kept across wake-ups.
    ///
    /// Waiting costs no lock per wake-up beyond the source's own: shutdown is a process-wide flag
    /// (the response body wakes the task for it, see [`crate::sse::shutdown`]) and a takeover is a
    /// flag on the [`Claim`], so thousands of streams woken by one broadcast do not each register
    /// with a shared channel again. Run it inside [`run`]'s body, which provides the shutdown
    /// wake-up.
    pub(crate) struct StreamLoop {
        idle_check: Duration,
        // inline, not boxed: the loop lives in the response body's one allocation
        #[pin]
        sleep: tokio::time::Sleep,
        // a write went out since the timer was last armed
        active: bool,
        // messages handed out since the claim was last read
        unchecked: u8,
        // the waker the claim holds: registered again only when the loop runs with another one
        // (the response body always drives it with the same), so a wake-up costs the claim one
        // atomic load, not a register
        claim_waker: Option<std::task::Waker>,
    }
}

impl StreamLoop {
    pub(crate) fn new(idle_check: Duration) -> Self {
        StreamLoop {
            idle_check,
            sleep: tokio::time::sleep(idle_check),
            active: false,
            unchecked: 0,
            claim_waker: None,
        }
    }

    /// Records that a write went out: it checked the connection as the liveness tick would, so
    /// the tick waits for a whole period without one. A message that wrote nothing (not for
    /// this page) does not count: a stream fed only those still checks its client.
    pub(crate) fn wrote(self: Pin<&mut Self>) {
        *self.project().active = true;
    }

    /// Waits for the next thing the loop must handle, in this order: shutdown, a message from
    /// `source`, a takeover, the liveness tick. While messages flow, the takeover is read every
    /// 16 messages (so an old stream may send a few more to the tab it lost);
    /// when none is waiting, at once. The tick fires after a whole `idle_check` period without a
    /// write ([`wrote`](StreamLoop::wrote); so between one and two periods after the last one);
    /// the timer is only re-armed when it fires. Pass the same `claim` on every call: the waker it holds is registered
    /// again only when the loop's waker changes.
    ///
    /// The source is borrowed, not owned, so the loop's future holds it once (a future keeps
    /// what it captures apart from its locals, so one moved in here would be held twice, per open
    /// stream).
    pub(crate) fn next<'a, S: Source>(
        self: Pin<&'a mut Self>,
        source: &'a mut S,
        claim: Option<&'a Claim>,
    ) -> impl Future<Output = Next<S::Message>> + Send + 'a {
        Waiting {
            state: self,
            message: source.recv_delivery(),
            claim,
        }
    }
}

pin_project_lite::pin_project! {
    /// [`StreamLoop::next`]'s future: the source's wait and what the loop checks around it, with
    /// nothing held twice.
    struct Waiting<'a, R> {
        state: Pin<&'a mut StreamLoop>,
        #[pin]
        message: R,
        claim: Option<&'a Claim>,
    }
}

impl<M, R: Future<Output = Delivery<M>>> Future for Waiting<'_, R> {
    type Output = Next<M>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Next<M>> {
        let this = self.project();
        let claim = *this.claim;
        let state = this.state.as_mut().project();
        if crate::sse::lifecycle::is_shutting_down() {
            return Poll::Ready(Next::Shutdown);
        }
        if let Poll::Ready(delivery) = this.message.poll(cx) {
            let m = match delivery {
                Delivery::Message(m) => m,
                Delivery::Missed => return Poll::Ready(Next::Missed),
                Delivery::Closed => return Poll::Ready(Next::SourceClosed),
            };
            // a broadcast wakes thousands of streams: the claim (a cold cache line of its own per
            // stream) is read while messages flow only every so often
            *state.unchecked += 1;
            if *state.unchecked >= CLAIM_CHECK_EVERY {
                *state.unchecked = 0;
                if claim.is_some_and(Claim::is_taken_over) {
                    return Poll::Ready(Next::TakenOver);
                }
            }
            return Poll::Ready(Next::Message(m));
        }
        // nothing to send: the claim (woken by a takeover), then the tick
        if let Some(claim) = claim {
            *state.unchecked = 0;
            if claim.is_taken_over() {
                return Poll::Ready(Next::TakenOver);
            }
            if !state
                .claim_waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                if claim.poll_taken_over(cx).is_ready() {
                    return Poll::Ready(Next::TakenOver);
                }
                *state.claim_waker = Some(cx.waker().clone());
            }
        }
        let mut sleep = state.sleep;
        while sleep.as_mut().poll(cx).is_ready() {
            sleep
                .as_mut()
                .reset(tokio::time::Instant::now() + *state.idle_check);
            // a write went out in that period: the connection was checked by it
            if !std::mem::take(state.active) {
                return Poll::Ready(Next::Idle);
            }
        }
        Poll::Pending
    }
}

/// While messages keep a stream busy, it reads its claim once per this many messages (and
/// whenever it waits).
const CLAIM_CHECK_EVERY: u8 = 16;

/// Why a stream ended, as the page's `on_disconnect` hook sees it. More reasons may come: match
/// with a `_` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The client went away: hyper dropped the response body, because the connection closed or a
    /// write to it (an event, or the liveness check) failed.
    ClientGone,
    /// Not reported any more: a failed write makes hyper drop the response body, which is
    /// [`ClientGone`](EndReason::ClientGone).
    #[deprecated(note = "no stream ends with it: a failed write is reported as `ClientGone`")]
    WriteFailed,
    /// A newer stream of the same tab took over.
    Takeover,
    /// The server is shutting down.
    Shutdown,
    /// The message source closed.
    SourceClosed,
    /// The message source lost messages meant for this stream ([`Delivery::Missed`]): it fell
    /// too far behind (a slow client), or the Redis connection dropped for a while. The stream
    /// ends cleanly; a page's client reconnects about a second later (its `connect()` retries
    /// always) and the new stream starts with a fresh render, so the page shows every change.
    /// Only streams that catch up end so ([`PageStream::catch_up`]; every `#[dstar::page]`
    /// stream): others skip the loss.
    Missed,
    /// The stream's own code ended it ([`Sse::end_stream`](crate::Sse::end_stream)): a live
    /// page whose render refused (its user signed out, the item was deleted) sends the redirect
    /// or reload, then ends, so the tab gets no more data. Also a panic in the stream's message
    /// handler (logged with its location): the stream ends, its connection serves on.
    Closed,
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndReason::ClientGone => "client gone",
            #[allow(deprecated)]
            EndReason::WriteFailed => "write failed",
            EndReason::Takeover => "taken over by a newer stream of the same tab",
            EndReason::Shutdown => "server shutdown",
            EndReason::SourceClosed => "message source closed",
            EndReason::Missed => "messages were lost; the page catches up when it reconnects",
            EndReason::Closed => "ended by the page (its render refused)",
        })
    }
}

type Hook = Box<dyn FnOnce(EndReason) + Send>;

/// Runs the disconnect hook exactly once, when the loop ends for any reason, including when the
/// response body is dropped mid-`.await`: then the reason is [`EndReason::ClientGone`], or
/// [`EndReason::Shutdown`] once the server is shutting down (a stream whose message handler was
/// still running when shutdown came is dropped by it).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use dstar::stream::{EndGuard, EndReason};
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let s = seen.clone();
/// let guard = EndGuard::new(move |r| s.lock().unwrap().push(r));
/// guard.set(EndReason::Takeover);
/// drop(guard);
/// assert_eq!(*seen.lock().unwrap(), [EndReason::Takeover]);
/// ```
pub struct EndGuard {
    // `None` until `set`: then the drop tells a client gone from a stream shutdown dropped
    reason: Mutex<Option<EndReason>>,
    hook: Option<Hook>,
}

impl EndGuard {
    /// Calls `hook` with the reason when dropped.
    pub fn new(hook: impl FnOnce(EndReason) + Send + 'static) -> Self {
        EndGuard {
            reason: Mutex::new(None),
            hook: Some(Box::new(hook)),
        }
    }

    /// A guard without a hook.
    ///
    /// ```
    /// drop(dstar::stream::EndGuard::none());
    /// ```
    pub fn none() -> Self {
        EndGuard {
            reason: Mutex::new(None),
            hook: None,
        }
    }

    /// Records why the loop is ending.
    ///
    /// ```
    /// dstar::stream::EndGuard::none().set(dstar::stream::EndReason::Shutdown);
    /// ```
    pub fn set(&self, reason: EndReason) {
        *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
    }
}

impl fmt::Debug for EndGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndGuard").finish_non_exhaustive()
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        let set = *self.reason.lock().unwrap_or_else(|e| e.into_inner());
        let reason = set.unwrap_or(if crate::sse::lifecycle::is_shutting_down() {
            EndReason::Shutdown
        } else {
            EndReason::ClientGone
        });
        tracing::debug!(%reason, "dstar stream ended");
        if let Some(hook) = self.hook.take() {
            hook(reason);
        }
    }
}

/// The result of a page's `on_message`: `()` (handled), `bool` (`false`: not for this page,
/// logged at debug level), or `Result<(), E: Display>` (an error: logged, and shown in the browser
/// console in debug builds). The loop goes on in every case.
pub trait MessageOutcome {
    /// Reports the outcome into `sse`.
    fn report(self, page: &str, sse: &mut Sse);
}

impl MessageOutcome for () {
    fn report(self, _page: &str, _sse: &mut Sse) {}
}

impl MessageOutcome for bool {
    fn report(self, page: &str, _sse: &mut Sse) {
        if !self {
            tracing::debug!(page, "dstar stream: unhandled message");
        }
    }
}

impl<E: fmt::Display> MessageOutcome for Result<(), E> {
    fn report(self, page: &str, sse: &mut Sse) {
        if let Err(e) = self {
            sse.report_error(&format_args!("{page}/on_message: {e}"));
        }
    }
}

/// Counts of live streams and deduplication registry entries, to see leaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StreamStats {
    /// Open long-lived SSE responses.
    pub streams: usize,
    /// Entries in the global [`StreamRegistry`].
    pub registry: usize,
}

/// The current counts.
///
/// ```
/// let stats = dstar::stream::stats();
/// println!("{} live streams", stats.streams);
/// ```
pub fn stats() -> StreamStats {
    StreamStats {
        streams: crate::sse::live_streams(),
        registry: StreamRegistry::global().len(),
    }
}

/// `GET /_dstar/stats` answering [`stats`] as JSON, e.g. `{"streams":3,"registry":2}`, to
/// requests with `Authorization: Bearer <token>`; others get a `401`. Opt-in: merge it into your
/// router (or call `App::with_stats`). Fails on a token shorter than 16 bytes.
///
/// ```
/// let router: axum::Router = dstar::stream::stats_route("a long random stats token").unwrap();
/// assert!(dstar::stream::stats_route::<()>("short").is_err());
/// ```
pub fn stats_route<S: Clone + Send + Sync + 'static>(
    token: &str,
) -> Result<axum::Router<S>, String> {
    use subtle::ConstantTimeEq;
    if token.len() < 16 {
        return Err("the stats token must be at least 16 bytes".to_owned());
    }
    let expected: std::sync::Arc<[u8]> = format!("Bearer {token}").into_bytes().into();
    let handler = move |headers: axum::http::HeaderMap| {
        let expected = expected.clone();
        async move {
            let given = headers
                .get(axum::http::header::AUTHORIZATION)
                .map_or(&[][..], |v| v.as_bytes());
            if bool::from(given.ct_eq(&expected)) {
                axum::Json(stats()).into_response()
            } else {
                crate::error::refusal(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "stats token missing or wrong",
                    "stats need `Authorization: Bearer <token>` (the token given to App::with_stats)",
                )
            }
        }
    };
    Ok(axum::Router::new().route(STATS_PATH, axum::routing::get(handler)))
}

/// Where [`stats_route`] answers.
pub const STATS_PATH: &str = "/_dstar/stats";

#[cfg(test)]
mod tests {
    use tower::ServiceExt;

    #[test]
    fn a_release_stats_refusal_names_no_api() {
        let router: axum::Router = super::stats_route("a long random stats token").unwrap();
        let req = axum::http::Request::get(super::STATS_PATH)
            .header("authorization", "Bearer <script>")
            .body(axum::body::Body::empty())
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let refused = crate::error::quietly(|| runtime.block_on(router.oneshot(req)).unwrap());
        crate::error::assert_quiet(refused, 401, "stats token missing or wrong");
    }
}
