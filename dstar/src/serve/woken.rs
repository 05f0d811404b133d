//! A future polled only when it was woken itself.
//!
//! A connection's task polls hyper's connection and, beside it, its watchdog and the server's
//! shutdown phase. Every frame a stream writes wakes that task, and `select!` would then poll
//! all three: the watchdog's and the phase's `Notified` each take their mutex on every poll. A
//! stream of ten thousand viewers pays that on every frame. Wrapped in [`WokenOnly`], the two
//! are polled only when their own wakers fired: a wake of the connection costs one atomic swap.

use futures_util::task::AtomicWaker;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

pin_project! {
    /// `inner`, polled on its first poll and then only after it woke its task.
    pub(crate) struct WokenOnly<F> {
        #[pin]
        inner: F,
        flag: Arc<Flag>,
        polled: bool,
    }
}

/// The waker `inner` is given: it marks the flag, then wakes the task.
#[derive(Default)]
struct Flag {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl<F> WokenOnly<F> {
    pub(crate) fn new(inner: F) -> Self {
        WokenOnly {
            inner,
            flag: Arc::default(),
            polled: false,
        }
    }
}

impl<F: Future> Future for WokenOnly<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        // registered first: a wake from here on reaches the task
        this.flag.task.register(cx.waker());
        if *this.polled && !this.flag.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        *this.polled = true;
        let waker = Waker::from(this.flag.clone());
        this.inner.poll(&mut Context::from_waker(&waker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts its polls; ready once `ready` is set, waking through the waker it was last given.
    struct Counted {
        polls: Arc<AtomicUsize>,
        ready: Arc<AtomicBool>,
        waker: Arc<std::sync::Mutex<Option<Waker>>>,
    }

    impl Future for Counted {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            if self.ready.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    #[test]
    fn the_inner_future_is_polled_only_when_it_woke() {
        let (polls, ready) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let inner_waker = Arc::new(std::sync::Mutex::new(None::<Waker>));
        let mut wrapped = Box::pin(WokenOnly::new(Counted {
            polls: polls.clone(),
            ready: ready.clone(),
            waker: inner_waker.clone(),
        }));
        let task = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&task);
        assert!(wrapped.as_mut().poll(&mut cx).is_pending());
        assert_eq!(
            polls.load(Ordering::SeqCst),
            1,
            "the first poll goes through"
        );
        // the task woke for something else (a write of the connection): not polled
        for _ in 0..10 {
            assert!(wrapped.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        // its own wake: polled, and ready
        ready.store(true, Ordering::SeqCst);
        inner_waker.lock().unwrap().take().unwrap().wake();
        assert!(wrapped.as_mut().poll(&mut cx).is_ready());
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    }
}
