//! What each connection's requests are doing, for two deadlines hyper does not have.
//!
//! - **Idle connections.** hyper closes an idle HTTP/1.1 keep-alive connection when its next
//!   header does not come within the header deadline, but its HTTP/2 server has no idle deadline
//!   at all: it pings, any client stack answers, and a connection with no stream open stays for
//!   ever. Enough of them use up the connection cap. Every connection therefore counts its
//!   requests in flight ([`Tracked`]: from the call until hyper drops the response body), and
//!   the [`watchdog`] resolves once none has been in flight for the whole deadline; the
//!   connection is then shut down gracefully (`GOAWAY` on HTTP/2). An open stream is a request in flight, so a
//!   page stream's connection is never idle.
//! - **Parked HTTP/2 streams.** An HTTP/2 client can leave one stream's flow-control window shut
//!   (never sending `WINDOW_UPDATE`) while it answers pings. hyper then holds that stream's
//!   frame waiting for credit and never polls the body again, so a page stream could not see its
//!   takeover, its liveness check or the shutdown, and the connection's writes (pings) still go
//!   through, so the write-stall deadline does not fire either. The same holds for any HTTP/2
//!   response's frame. Every HTTP/2 response body records when it handed hyper a frame that
//!   hyper has not sent on (it comes back for the next one, or drops the body once the last is
//!   sent), and the connection records when it last wrote a payload ([`Activity::wrote`]). A
//!   frame held for the write-stall deadline while the connection wrote no payload closes the
//!   connection ([`watchdog`]), as a stalled write does on HTTP/1.1; a slow client still taking
//!   data is not cut off, however long one big frame takes.

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

/// The requests in flight on one connection, its HTTP/2 streams' frames held by hyper, and its
/// place under the connection cap.
#[derive(Debug)]
pub(crate) struct Activity {
    /// The connection's place under `Server::max_connections`, given back when the last holder
    /// of this goes: the connection's task, and its byte stream ([`WriteStall`] reports here).
    /// A connection handed to an upgrade (a WebSocket route) leaves hyper and that task, but its
    /// stream goes on in the handler's task and keeps the place until it closes; so upgraded
    /// connections count against the cap, and a shutdown waits for them like any other.
    ///
    /// [`WriteStall`]: super::write_stall::WriteStall
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
    in_flight: AtomicUsize,
    /// How many requests have ended (wrapping): the idle check sees whether any came and went.
    ended: AtomicUsize,
    /// Set while the [`watchdog`] waits, with no timer, for a long request (a stream) to end.
    waiting: AtomicBool,
    /// Told when the last request in flight ends while `waiting` is set, and when a stream is
    /// first watched.
    changed: Notify,
    /// The HTTP/2 response bodies of this connection that have handed hyper a frame.
    watched: Mutex<Vec<Weak<HeldFrame>>>,
    /// [`Activity::now`] when the watchdog last saw that the connection had written a payload (a
    /// write of at least [`PROGRESS_BYTES`]): while it does, a held frame is waiting its turn,
    /// not stalled.
    progress: AtomicU64,
    /// Set by every payload write, taken by the watchdog's look: a write costs one store, and no
    /// clock read (an HTTP/1.1 connection, which is never looked at so, pays nothing more).
    wrote_payload: AtomicBool,
    /// What [`HeldFrame`] times are measured from.
    epoch: Instant,
}

/// The smallest write that counts as the client taking data: larger than the control frames
/// (a PING is 17 bytes, a WINDOW_UPDATE 13) a client that gives no credit still gets.
pub(crate) const PROGRESS_BYTES: usize = 256;

impl Default for Activity {
    fn default() -> Self {
        Activity {
            _slot: None,
            in_flight: AtomicUsize::new(0),
            ended: AtomicUsize::new(0),
            waiting: AtomicBool::new(false),
            changed: Notify::new(),
            watched: Mutex::new(Vec::new()),
            progress: AtomicU64::new(0),
            wrote_payload: AtomicBool::new(false),
            epoch: Instant::now(),
        }
    }
}

impl Activity {
    /// The activity of a connection that holds `slot` under the connection cap.
    pub(crate) fn holding(slot: tokio::sync::OwnedSemaphorePermit) -> Self {
        Activity {
            _slot: Some(slot),
            ..Activity::default()
        }
    }

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
        self.changed.notify_waiters();
    }

    /// The connection wrote `bytes` to its client.
    pub(crate) fn wrote(&self, bytes: usize) {
        if bytes >= PROGRESS_BYTES {
            self.wrote_payload.store(true, Ordering::Relaxed);
        }
    }

    /// Whether a watched stream's frame has been held for `timeout` while the connection wrote
    /// no payload, and whether any stream is watched at all.
    fn held_too_long(&self, timeout: Duration) -> (bool, bool) {
        let now = self.now();
        // a payload written since the last look is progress now (a look comes four times per
        // deadline while a frame is watched, so this is late by a quarter deadline at most)
        if self.wrote_payload.swap(false, Ordering::Relaxed) {
            self.progress.store(now, Ordering::Relaxed);
        }
        let limit = timeout.as_millis() as u64;
        let moving = now.saturating_sub(self.progress.load(Ordering::Relaxed)) < limit;
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        watched.retain(|w| w.strong_count() > 0);
        let stalled = !moving
            && watched.iter().filter_map(Weak::upgrade).any(|held| {
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
        // SeqCst with the watchdog's store of `waiting` and its load of the count: either it
        // sees the count at zero, or this sees `waiting` and wakes it
        if activity.in_flight.fetch_sub(1, Ordering::SeqCst) == 1
            && activity.waiting.load(Ordering::SeqCst)
        {
            activity.changed.notify_waiters();
        }
    }
}

/// When an HTTP/2 response body handed hyper its last frame, while hyper has not sent it on.
#[derive(Debug, Default)]
struct HeldFrame {
    /// [`Activity::now`] at the hand-over; 0 once hyper polls again.
    since: AtomicU64,
}

/// Why the [`watchdog`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No request in flight for the idle deadline: shut the connection down gracefully.
    Idle,
    /// An HTTP/2 response's frame has waited for its client's credit for the stall deadline,
    /// and the connection wrote no payload meanwhile: drop the connection.
    Stalled,
}

/// Watches one connection; resolves when it is idle or one of its streams is stalled.
///
/// - **Idle:** with no request in flight it looks a second after the start, then every half idle
///   deadline; a look that finds no request in flight and none ended since the deadline began
///   ends it (after one to one and a half deadlines). Requests never wake it, so a short one
///   costs a few atomic operations.
/// - **Busy:** a request still in flight at a look (a stream) drops the timer and waits for the
///   last request to end; while an HTTP/2 response is watched it also looks at the held frames
///   four times per stall deadline.
pub(crate) async fn watchdog(activity: &Activity, idle: Duration, stall: Duration) -> Verdict {
    // the first look comes soon, so a stream's connection lets go of its timer within a second
    let mut look = idle.min(Duration::from_secs(2)) / 2;
    let mut seen = activity.ended.load(Ordering::Relaxed);
    // since when nothing has happened, as far as the looks tell
    let mut quiet_since = Instant::now();
    // boxed and kept only while it runs: none while a plain stream is open
    let mut timer: Option<Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        if activity.in_flight.load(Ordering::SeqCst) > 0 {
            let (stalled, watching) = activity.held_too_long(stall);
            if stalled {
                return Verdict::Stalled;
            }
            // wait for the last request to end, or a stream to be watched; while one is, look at
            // the held frames four times per stall deadline meanwhile
            let changed = activity.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            activity.waiting.store(true, Ordering::SeqCst);
            if watching {
                tokio::select! {
                    () = sleep(&mut timer, stall / 4) => {}
                    () = changed => {}
                }
            } else {
                timer = None;
                if activity.in_flight.load(Ordering::SeqCst) > 0 && !activity.held_too_long(stall).1
                {
                    changed.await;
                }
            }
            activity.waiting.store(false, Ordering::SeqCst);
            seen = activity.ended.load(Ordering::Relaxed);
            quiet_since = Instant::now();
            continue;
        }
        // a stream watched meanwhile (its first frame) ends the look early, so the stall
        // deadline counts from then, not from the next look
        let changed = activity.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        tokio::select! {
            () = sleep(&mut timer, look) => {}
            () = changed => continue,
        }
        look = idle / 2;
        if activity.in_flight.load(Ordering::SeqCst) > 0 {
            continue;
        }
        let ended = activity.ended.load(Ordering::Relaxed);
        if ended != seen {
            seen = ended;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= idle {
            return Verdict::Idle;
        }
    }
}

/// Sleeps `period` on `timer`, made the first time and reset after.
async fn sleep(timer: &mut Option<Pin<Box<tokio::time::Sleep>>>, period: Duration) {
    let deadline = Instant::now() + period;
    let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    timer.as_mut().reset(deadline);
    timer.as_mut().await;
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
        let in_flight = this.in_flight.take().expect("polled after completion");
        let watch = if *this.http2 {
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

pin_project! {
    /// A response body that ends its request when hyper drops it, and on HTTP/2 records when
    /// hyper holds one of its frames.
    pub(crate) struct TrackedBody<B> {
        #[pin]
        body: B,
        watch: Watch,
        in_flight: InFlight,
    }
}

/// Whether a body's held frames are watched.
#[derive(Debug)]
enum Watch {
    /// HTTP/1.1: a client that takes no bytes stalls the connection's writes, which the
    /// write-stall deadline sees.
    Never,
    /// An HTTP/2 response that has not handed over a frame yet.
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
        if matches!(this.watch, Watch::Never) {
            return Poll::Ready(frame);
        }
        // every data frame, the last one too: hyper holds that one as long as any when the
        // client gives no credit (the body is dropped once it is sent)
        if matches!(&frame, Some(Ok(f)) if f.is_data()) {
            let activity = &this.in_flight.0;
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
                assert_eq!(watchdog(&activity, timeout, timeout).await, Verdict::Idle);
                Instant::now()
            }
        });
        tokio::time::sleep(Duration::from_secs(100)).await;
        assert!(!ends.is_finished(), "a request in flight keeps it busy");
        drop(request);
        // looks 1 s after the end, then every 30 s (101, 131, 161, 191): a request that comes
        // and goes at 120 is seen at the 131 look, and 60 quiet seconds count from there
        tokio::time::sleep(Duration::from_secs(20)).await;
        drop(activity.start());
        let ended = ends.await.unwrap();
        assert_eq!(ended - start, Duration::from_secs(191));
        assert!(!activity.waiting.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_never_asks_is_idle_after_the_deadline() {
        let activity = Activity::default();
        let start = Instant::now();
        let verdict = watchdog(&activity, Duration::from_secs(5), Duration::from_secs(5)).await;
        assert_eq!(verdict, Verdict::Idle);
        // looks at 1 s, 3.5 s and 6 s: idle at the first look 5 s after the start
        assert_eq!(start.elapsed(), Duration::from_secs(6));
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
        let busy = activity.start();
        assert_eq!(
            watchdog(&activity, Duration::from_secs(3600), timeout).await,
            Verdict::Stalled
        );
        let waited = start.elapsed();
        drop(busy);
        assert!(
            waited >= timeout && waited <= timeout + timeout / 4,
            "{waited:?}"
        );
        // a frame held while the connection still writes payloads (other streams, or the
        // bytes queued ahead of it) is waiting its turn, not stalled
        held.since.store(activity.now(), Ordering::Release);
        tokio::time::sleep(timeout * 2).await;
        activity.wrote(PROGRESS_BYTES);
        assert_eq!(activity.held_too_long(timeout), (false, true));
        activity.wrote(PROGRESS_BYTES - 1);
        tokio::time::sleep(timeout).await;
        assert_eq!(
            activity.held_too_long(timeout),
            (true, true),
            "control frames are no progress"
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
