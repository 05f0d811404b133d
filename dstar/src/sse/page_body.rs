//! The page stream's response body: the loop future itself, handing each batch straight to hyper.
//!
//! [`stream`](super::stream) gives your future a cloneable [`SseStream`](super::SseStream), so it
//! needs a queue between the writers and the body, shared behind an `Arc`. A page stream's loop is
//! its only writer, so it needs none: the body polls the loop, and the loop hands its batch to the
//! body as the frame of that very poll. Per open stream that is one allocation (the body, with the
//! loop inside it) and no lock per message.
//!
//! The rest is as for [`stream`](super::stream): hyper polls the body when the socket can take
//! more bytes (so a slow reader holds the loop at its hand-over, and a broadcast source skips
//! messages instead of queueing them), and when the client goes away hyper drops the body, which
//! drops the loop at its current `.await`.

use super::clock::Seat;
use super::lifecycle::{Counted, is_shutting_down};
use bytes::Bytes;
use http_body::{Body, Frame};
use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

thread_local! {
    /// The batch the loop being polled on this thread handed over during this poll.
    static HANDED: Cell<Option<Bytes>> = const { Cell::new(None) };
}

/// The loop's side of the hand-over. It exists only inside the future given to [`page_body`], and
/// [`send`](Frames::send) works only there: the batch goes to whichever body is polling on this
/// thread, which is the one running this future.
#[derive(Debug)]
pub(crate) struct Frames(());

impl Frames {
    /// Hands `bytes` to the body as its next frame; resolves when hyper asks for the one after.
    /// The future borrows the `Frames`, so it stays inside the loop that the body polls.
    pub(crate) fn send(&self, bytes: Bytes) -> impl Future<Output = ()> + Send + '_ {
        let mut bytes = Some(bytes);
        poll_fn(move |_| match bytes.take() {
            Some(bytes) => {
                HANDED.set(Some(bytes));
                // no waker: the body returns the frame from this very poll, and hyper polls the
                // body again for the next one
                Poll::Pending
            }
            None => Poll::Ready(()),
        })
    }
}

pin_project_lite::pin_project! {
    /// The body: an optional first frame, then what the loop hands over, until it ends.
    pub(crate) struct Driven<F> {
        first: Option<Bytes>,
        #[pin]
        driver: Option<F>,
        // the waker the clock (liveness, shutdown) wakes, kept here to register it again only
        // when it changes
        parked: Option<Waker>,
        // released when the body ends or is dropped, whichever comes first
        seat: Option<Seat>,
        counted: Option<Counted>,
    }
}

/// A body that sends `first` at once, then runs the future `f` builds, sending each batch it hands
/// to [`Frames::send`] as one frame. The task polling it is woken at each beat of `seat`'s clock
/// (the loop's liveness check) and at shutdown.
pub(crate) fn page_body<F, Fut>(first: Bytes, seat: Seat, f: F) -> Driven<Fut>
where
    F: FnOnce(Frames) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    Driven {
        first: (!first.is_empty()).then_some(first),
        driver: Some(f(Frames(()))),
        parked: None,
        seat: Some(seat),
        counted: Some(Counted::new()),
    }
}

impl<F: Future<Output = ()>> Body for Driven<F> {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let mut this = self.project();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        // read before the loop runs: a page loop watches shutdown itself and ends on its own
        // terms in this very poll; one stuck elsewhere (in a message handler) is dropped
        let shutting_down = is_shutting_down();
        let mut handed = None;
        if let Some(driver) = this.driver.as_mut().as_pin_mut() {
            // a body polled from inside another's loop (not something dstar does) keeps its own
            let outer = HANDED.take();
            // set only between a `send` and the end of the poll it ran in
            debug_assert!(
                outer.is_none(),
                "a batch was handed over outside a body's poll"
            );
            let done = driver.poll(cx).is_ready();
            handed = HANDED.replace(outer);
            if done || (shutting_down && handed.is_none()) {
                this.driver.set(None);
            }
        }
        if let Some(bytes) = handed {
            return Poll::Ready(Some(Ok(Frame::data(bytes))));
        }
        if this.driver.is_none() {
            *this.seat = None;
            *this.counted = None;
            return Poll::Ready(None);
        }
        if let Some(seat) = this.seat.as_ref() {
            if !this
                .parked
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                seat.park(cx.waker());
                *this.parked = Some(cx.waker().clone());
            }
        }
        if is_shutting_down() {
            // shutdown began after the loop ran: run it again so it sees the flag (`shutdown`
            // raises the flag before it wakes, so it is either seen here or wakes us)
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn seat() -> Seat {
        crate::sse::clock::clock(std::time::Duration::from_secs(30)).seat()
    }

    #[tokio::test]
    async fn frames_arrive_in_order_and_the_body_ends_with_the_loop() {
        let body = page_body(Bytes::from_static(b"first"), seat(), |frames| async move {
            for n in 0..3u8 {
                frames.send(Bytes::from(vec![b'0' + n])).await;
                tokio::task::yield_now().await;
            }
        });
        let mut body = std::pin::pin!(body);
        let mut seen = Vec::new();
        while let Some(frame) = body.frame().await {
            seen.push(frame.unwrap().into_data().unwrap());
        }
        assert_eq!(seen, ["first", "0", "1", "2"]);
    }

    #[tokio::test]
    async fn a_body_polled_inside_another_loop_keeps_its_own_frames() {
        let inner = page_body(Bytes::new(), seat(), |frames| async move {
            for n in 0..3u8 {
                frames.send(Bytes::from(vec![b'a' + n])).await;
            }
        });
        let outer = page_body(Bytes::new(), seat(), move |frames| async move {
            let mut inner = std::pin::pin!(inner);
            while let Some(frame) = inner.frame().await {
                let bytes = frame.unwrap().into_data().unwrap();
                frames.send([b"outer:", &bytes[..]].concat().into()).await;
            }
        });
        let mut outer = std::pin::pin!(outer);
        let mut seen = Vec::new();
        while let Some(frame) = outer.frame().await {
            seen.push(frame.unwrap().into_data().unwrap());
        }
        assert_eq!(seen, ["outer:a", "outer:b", "outer:c"]);
    }

    #[tokio::test]
    async fn dropping_the_body_drops_the_loop() {
        struct Flag(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Flag(dropped.clone());
        let body = page_body(Bytes::new(), seat(), move |frames| async move {
            let _flag = flag;
            frames.send(Bytes::from_static(b"x")).await;
            std::future::pending::<()>().await;
        });
        let mut body = Box::pin(body);
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "x");
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(body.as_mut().poll_frame(&mut cx).is_pending());
        assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
        drop(body);
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
    }
}
