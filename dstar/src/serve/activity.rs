//! What each connection's requests are doing, for two deadlines hyper does not have.
//!
//! - **Idle connections.** hyper closes an idle HTTP/1.1 keep-alive connection when its next
//!   header does not come within the header deadline, but its HTTP/2 server has no idle deadline
//!   at all: it pings, any client stack answers, and a connection with no stream open stays for
//!   ever. Enough of them use up the connection cap. Every connection therefore counts its
//!   requests in flight ([`Tracked`]: from the call until hyper drops the response body), and
//!   [`idle`] resolves once none has been in flight for the whole deadline; the connection is
//!   then shut down gracefully (`GOAWAY` on HTTP/2). An open stream is a request in flight, so a
//!   page stream's connection is never idle.
//! - **Parked HTTP/2 streams.** An HTTP/2 client can leave one stream's flow-control window shut
//!   (never sending `WINDOW_UPDATE`) while it answers pings. hyper then holds that stream's
//!   frame waiting for credit and never polls the body again, so a page stream could not see its
//!   takeover, its liveness check or the shutdown, and the connection's writes (pings) still go
//!   through, so the write-stall deadline does not fire either. An HTTP/2 event stream's body
//!   records when it handed hyper a frame and hyper has not come back for the next one
//!   ([`stalled`]); a frame held for the write-stall deadline closes the connection, as a
//!   stalled write does on HTTP/1.1.

use axum::http::{Request, Response, Version};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The requests in flight on one connection, and its HTTP/2 streams' frames held by hyper.
#[derive(Debug)]
pub(crate) struct Activity {
    in_flight: AtomicUsize,
    /// How many requests have ended (wrapping): the idle check sees whether any came and went.
    ended: AtomicUsize,
    /// Set while the idle check waits for a long request (a stream) to end.
    waiting: AtomicBool,
    /// Told when the last request in flight ends while `waiting` is set.
    last_ended: Notify,
    /// Told when a stream is first watched.
    watch_added: Notify,
    /// The streaming HTTP/2 bodies of this connection that have sent a frame.
    watched: Mutex<Vec<Weak<HeldFrame>>>,
    /// What [`HeldFrame`] times are measured from.
    epoch: Instant,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            in_flight: AtomicUsize::new(0),
            ended: AtomicUsize::new(0),
            waiting: AtomicBool::new(false),
            last_ended: Notify::new(),
            watch_added: Notify::new(),
            watched: Mutex::new(Vec::new()),
            epoch: Instant::now(),
        }
    }
}

impl Activity {
    /// A request begins: a few atomic operations, nothing else, so a busy keep-alive
    /// connection pays next to nothing for its idle deadline.
    fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Milliseconds since the connection began, plus one (0 means "no frame held").
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    fn watch(&self, held: &Arc<HeldFrame>) {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        watched.retain(|w| w.strong_count() > 0);
        watched.push(Arc::downgrade(held));
        drop(watched);
        self.watch_added.notify_waiters();
    }

    /// Whether a watched stream's frame has been held for `timeout`, and whether any stream is
    /// watched at all.
    fn held_too_long(&self, timeout: Duration) -> (bool, bool) {
        let now = self.now();
        let limit = timeout.as_millis() as u64;
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        watched.retain(|w| w.strong_count() > 0);
        let stalled = watched.iter().filter_map(Weak::upgrade).any(|held| {
            let since = held.since.load(Ordering::Acquire);
            since != 0 && now.saturating_sub(since) >= limit
        });
        (stalled, !watched.is_empty())
    }
}

/// One request in flight; dropping it ends the request.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        activity.ended.fetch_add(1, Ordering::Relaxed);
        // SeqCst with `idle`'s store of `waiting` and its load of the count: either it sees
        // the count at zero, or this sees `waiting` and wakes it
        if activity.in_flight.fetch_sub(1, Ordering::SeqCst) == 1
            && activity.waiting.load(Ordering::SeqCst)
        {
            activity.last_ended.notify_waiters();
        }
    }
}

/// When a streaming body handed hyper its last frame, while hyper has not asked for the next.
#[derive(Debug, Default)]
struct HeldFrame {
    /// [`Activity::now`] at the hand-over; 0 once hyper polls again.
    since: AtomicU64,
}

/// Resolves once the connection has had no request in flight for `timeout` (up to one and a half
/// times it). It looks every half deadline: no request in flight at two looks in a row and none
/// begun and ended between them is idle. Requests never wake it, so short ones cost a few atomic
/// operations; a request still in flight at a look (a stream) stops the timer until it ends.
pub(crate) async fn idle(activity: &Activity, timeout: Duration) {
    let period = timeout / 2;
    let mut seen = activity.ended.load(Ordering::Relaxed);
    let mut quiet = 0;
    loop {
        // boxed: only this timer, per connection, and none while a stream is open
        let mut timer = Box::pin(tokio::time::sleep(period));
        loop {
            timer.as_mut().await;
            if activity.in_flight.load(Ordering::SeqCst) > 0 {
                break;
            }
            let ended = activity.ended.load(Ordering::Relaxed);
            if ended == seen {
                quiet += 1;
                if quiet >= 2 {
                    return;
                }
            } else {
                seen = ended;
                quiet = 0;
            }
            timer.as_mut().reset(tokio::time::Instant::now() + period);
        }
        drop(timer);
        // a long request: wait for the last one in flight to end, with no timer
        let ended = activity.last_ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        activity.waiting.store(true, Ordering::SeqCst);
        if activity.in_flight.load(Ordering::SeqCst) > 0 {
            ended.await;
        }
        activity.waiting.store(false, Ordering::SeqCst);
        seen = activity.ended.load(Ordering::Relaxed);
        quiet = 0;
    }
}

/// Resolves once an HTTP/2 stream of the connection has had a frame held by hyper (its client
/// gives no flow-control credit) for `timeout`. Checks four times per deadline, and only while a
/// stream is watched.
pub(crate) async fn stalled(activity: &Activity, timeout: Duration) {
    loop {
        let added = activity.watch_added.notified();
        tokio::pin!(added);
        added.as_mut().enable();
        let (stalled, watching) = activity.held_too_long(timeout);
        if stalled {
            return;
        }
        if !watching {
            added.await;
            continue;
        }
        Box::pin(tokio::time::sleep(timeout / 4)).await;
    }
}

/// A service that counts its calls in flight in an [`Activity`].
#[derive(Debug, Clone)]
pub(crate) struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    pub(crate) fn new(inner: S, activity: Arc<Activity>) -> Self {
        Tracked { inner, activity }
    }
}

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for Tracked<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<TrackedBody<ResBody>>;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let http2 = req.version() == Version::HTTP_2;
        TrackedFuture {
            in_flight: Some(self.activity.start()),
            http2,
            inner: self.inner.call(req),
        }
    }
}

pin_project! {
    /// The response future; the request stays in flight with the body it returns.
    pub(crate) struct TrackedFuture<F> {
        #[pin]
        inner: F,
        in_flight: Option<InFlight>,
        http2: bool,
    }
}

impl<F, B, E> Future for TrackedFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<TrackedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let in_flight = this.in_flight.take();
        // event streams only: a download's big chunks may take a slow client longer than the
        // deadline while still moving
        let watch = if *this.http2 && is_event_stream(&response) {
            Watch::Unwatched
        } else {
            Watch::Never
        };
        Poll::Ready(Ok(response.map(|body| TrackedBody {
            body,
            watch,
            in_flight,
        })))
    }
}

fn is_event_stream<B>(response: &Response<B>) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
}

pin_project! {
    /// A response body that ends its request when hyper drops it, and on HTTP/2 records when
    /// hyper holds one of its frames.
    pub(crate) struct TrackedBody<B> {
        #[pin]
        body: B,
        watch: Watch,
        in_flight: Option<InFlight>,
    }
}

/// Whether a body's held frames are watched.
#[derive(Debug)]
enum Watch {
    /// HTTP/1.1 (a client that takes no bytes stalls the connection's writes, which the
    /// write-stall deadline sees), or a response that is no event stream.
    Never,
    /// An HTTP/2 event stream that has not handed over a frame yet.
    Unwatched,
    Watched(Arc<HeldFrame>),
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        if let Watch::Watched(held) = &*this.watch {
            // hyper came back for more: the last frame is on its way
            held.since.store(0, Ordering::Release);
        }
        let frame = ready!(this.body.as_mut().poll_frame(cx));
        if matches!(&frame, Some(Ok(f)) if f.is_data()) && !this.body.is_end_stream() {
            if let Some(activity) = this.in_flight.as_ref().map(|f| &f.0) {
                match &*this.watch {
                    Watch::Never => {}
                    Watch::Watched(held) => held.since.store(activity.now(), Ordering::Release),
                    Watch::Unwatched => {
                        let held = Arc::new(HeldFrame {
                            since: AtomicU64::new(activity.now()),
                        });
                        activity.watch(&held);
                        *this.watch = Watch::Watched(held);
                    }
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn idle_waits_for_the_last_request_then_the_whole_deadline() {
        let activity = Arc::new(Activity::default());
        let timeout = Duration::from_secs(60);
        let start = Instant::now();
        let request = activity.start();
        let ends = tokio::spawn({
            let activity = activity.clone();
            async move {
                idle(&activity, timeout).await;
                Instant::now()
            }
        });
        tokio::time::sleep(Duration::from_secs(100)).await;
        assert!(!ends.is_finished(), "a request in flight keeps it busy");
        drop(request);
        // looks every 30 s from the end (130, 160, 190): a request that comes and goes at 120
        // counts as activity at the 130 look, so two quiet looks more are needed
        tokio::time::sleep(Duration::from_secs(20)).await;
        drop(activity.start());
        let ended = ends.await.unwrap();
        assert_eq!(ended - start, Duration::from_secs(190));
        assert!(!activity.waiting.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_never_asks_is_idle_after_the_deadline() {
        let activity = Activity::default();
        let start = Instant::now();
        idle(&activity, Duration::from_secs(5)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_frame_held_for_the_deadline_is_a_stall_and_one_taken_is_not() {
        let activity = Arc::new(Activity::default());
        let timeout = Duration::from_secs(60);
        let held = Arc::new(HeldFrame::default());
        held.since.store(activity.now(), Ordering::Release);
        activity.watch(&held);
        // hyper takes the frame after 50 s, and holds the next one
        tokio::time::sleep(Duration::from_secs(50)).await;
        held.since.store(activity.now(), Ordering::Release);
        let start = Instant::now();
        stalled(&activity, timeout).await;
        let waited = start.elapsed();
        assert!(
            waited >= timeout && waited <= timeout + timeout / 4,
            "{waited:?}"
        );
        // a stream that is gone is no longer watched
        drop(held);
        assert_eq!(activity.held_too_long(timeout), (false, false));
    }

    #[tokio::test]
    async fn the_response_body_holds_the_request_in_flight() {
        use tower::{Service, ServiceExt};
        let activity = Arc::new(Activity::default());
        let inner = tower::service_fn(|_: Request<()>| async {
            Ok::<_, std::convert::Infallible>(Response::new(String::from("hi")))
        });
        let mut service = Tracked::new(inner, activity.clone());
        let future = service.ready().await.unwrap().call(Request::new(()));
        assert_eq!(activity.in_flight.load(Ordering::Acquire), 1);
        let response = future.await.unwrap();
        assert_eq!(activity.in_flight.load(Ordering::Acquire), 1);
        drop(response);
        assert_eq!(activity.in_flight.load(Ordering::Acquire), 0);
        // a call dropped before its response ends too
        drop(service.call(Request::new(())));
        assert_eq!(activity.in_flight.load(Ordering::Acquire), 0);
    }
}
