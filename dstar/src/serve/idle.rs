//! Closing connections that carry no request.
//!
//! hyper closes an idle HTTP/1.1 keep-alive connection when its next header does not come within
//! the header deadline, but its HTTP/2 server has no idle deadline at all: it pings, any client
//! stack answers, and a connection with no stream open stays for ever. Enough of them use up the
//! connection cap. Every connection therefore counts its requests in flight ([`Tracked`]: from the
//! call until hyper drops the response body), and [`idle`] resolves once none has been in flight
//! for the whole deadline; the connection is then shut down gracefully (`GOAWAY` on HTTP/2).
//!
//! An open stream is a request in flight, so a page stream's connection is never idle.

use axum::http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::sync::Notify;

/// The requests in flight on one connection.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    in_flight: AtomicUsize,
    /// Told when the count leaves or reaches zero.
    changed: Notify,
}

impl Activity {
    fn start(self: &Arc<Self>) -> InFlight {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) == 0 {
            self.changed.notify_waiters();
        }
        InFlight(self.clone())
    }
}

/// One request in flight; dropping it ends the request.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.changed.notify_waiters();
        }
    }
}

/// Resolves once the connection has had no request in flight for `timeout`.
pub(crate) async fn idle(activity: &Activity, timeout: Duration) {
    loop {
        let changed = activity.changed.notified();
        tokio::pin!(changed);
        // registered before the count is read, so a change in between is not missed
        changed.as_mut().enable();
        if activity.in_flight.load(Ordering::Acquire) > 0 {
            changed.await;
            continue;
        }
        // boxed: the timer exists only while the connection is idle, not in every open stream's
        // connection task
        let deadline = Box::pin(tokio::time::sleep(timeout));
        tokio::select! {
            () = deadline => return,
            () = changed => {}
        }
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
        TrackedFuture {
            in_flight: Some(self.activity.start()),
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
        Poll::Ready(Ok(response.map(|body| TrackedBody {
            body,
            _in_flight: in_flight,
        })))
    }
}

pin_project! {
    /// A response body that ends its request when hyper drops it.
    pub(crate) struct TrackedBody<B> {
        #[pin]
        body: B,
        _in_flight: Option<InFlight>,
    }
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
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
        // a request that comes and goes inside the deadline starts it again
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(activity.start());
        let ended = ends.await.unwrap();
        assert_eq!(ended - start, Duration::from_secs(190));
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_never_asks_is_idle_after_the_deadline() {
        let activity = Activity::default();
        let start = Instant::now();
        idle(&activity, Duration::from_secs(5)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
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
