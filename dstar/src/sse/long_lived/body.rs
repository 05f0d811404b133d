//! The body of a long-lived response: it sends what the writers queued, and polls the writer's
//! future itself (no spawned task) when something it waits on fired.

use super::queue::Shared;
use crate::sse::lifecycle::{StreamCount, is_shutting_down};
use bytes::Bytes;
use futures_util::task::AtomicWaker;
use http_body::{Body, Frame};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

pub(super) type Driver = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The waker the driver runs with: it marks the driver as due and wakes the body's task. So the
/// body runs the driver only when something the driver waits on fired, not again after every
/// frame hyper takes (a needless poll re-registers with the driver's sources, e.g. a broadcast
/// channel's shared lock, once per stream per message).
pub(super) struct DriverWake {
    pub(super) due: AtomicBool,
    pub(super) task: AtomicWaker,
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

pub(super) struct StreamBody {
    pub(super) driver: Option<Driver>,
    pub(super) driver_waker: Waker,
    pub(super) wake: Arc<DriverWake>,
    pub(super) shared: Arc<Shared>,
    /// Released when the body ends or is dropped, whichever comes first.
    pub(super) count: Option<StreamCount>,
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
