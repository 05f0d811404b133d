//! A request body under the server's limits.
//!
//! - **A deadline** on reading it, from the first time the handler waits for it: a client that
//!   trickles its body (a byte every few seconds) cannot hold its connection and a handler's buffer
//!   forever. It lives in the server, whose runtime has timers, so extractors need none. A body
//!   that has already arrived when the handler reads it (a small JSON body sent with its headers,
//!   the common case) never arms a timer.
//! - **A budget** shared by every body being read: the bytes a body has handed its handler count
//!   against it until the body is dropped (a handler that buffers a body drops it once read).
//!   Each body is bounded on its own (the signals limit, axum's `DefaultBodyLimit`), but clients
//!   that open many connections, each with up to 200 HTTP/2 streams, and send large bodies slowly
//!   would otherwise hold that many buffers at once. A body that would take the total past the
//!   budget fails with [`BodyOverBudget`], which the signals reader answers with a `503`.

use crate::signals::read::{BodyOverBudget, BodyTimedOut};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// How long a request body may take to arrive in full, by default
/// ([`Server::body_read_timeout`](crate::Server::body_read_timeout)).
///
/// ```
/// assert_eq!(dstar::BODY_READ_TIMEOUT.as_secs(), 30);
/// ```
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What the request bodies being read may hold in all, by default
/// ([`Server::body_budget`](crate::Server::body_budget)): 64 MiB.
///
/// ```
/// assert_eq!(dstar::BODY_BUDGET, 64 << 20);
/// ```
pub const BODY_BUDGET: usize = 64 << 20;

/// The bytes every body being read holds, against a limit.
#[derive(Debug)]
pub(crate) struct BodyBudget {
    limit: usize,
    used: AtomicUsize,
    /// When a refusal was last logged (ms since the budget was made), so a flood of refusals
    /// logs one warning every few seconds, not one per request.
    warned_at: AtomicU64,
    made: std::time::Instant,
}

impl BodyBudget {
    pub(crate) fn new(limit: usize) -> Self {
        BodyBudget {
            limit,
            used: AtomicUsize::new(0),
            warned_at: AtomicU64::new(u64::MAX),
            made: std::time::Instant::now(),
        }
    }

    /// Takes `n` bytes, unless that would pass the limit.
    fn take(&self, n: usize) -> bool {
        let taken = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok();
        if !taken {
            self.warn();
        }
        taken
    }

    fn give_back(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    fn warn(&self) {
        const EVERY_MS: u64 = 10_000;
        let now = self.made.elapsed().as_millis() as u64;
        let last = self.warned_at.load(Ordering::Relaxed);
        if (last == u64::MAX || now.saturating_sub(last) >= EVERY_MS)
            && self
                .warned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                budget = self.limit,
                in_use = self.used.load(Ordering::Relaxed),
                "dstar: the request bodies being read hold the whole body budget; refusing more with 503 until some are done (Server::body_budget)"
            );
        }
    }

    #[cfg(test)]
    fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

pub(crate) struct ServedBody {
    inner: Incoming,
    timeout: Duration,
    /// Set the first time a read has to wait (so `Expect: 100-continue`, which hyper answers at the
    /// first read, starts the clock only when the handler wants the body); `None` again once the
    /// body ended.
    deadline: Option<Pin<Box<Sleep>>>,
    ended: bool,
    budget: Arc<BodyBudget>,
    /// What this body took from the budget: given back when it is dropped.
    held: usize,
}

impl ServedBody {
    pub(crate) fn new(inner: Incoming, timeout: Duration, budget: Arc<BodyBudget>) -> Self {
        ServedBody {
            inner,
            timeout,
            deadline: None,
            ended: false,
            budget,
            held: 0,
        }
    }

    fn end(&mut self) {
        self.deadline = None;
        self.ended = true;
    }
}

impl Drop for ServedBody {
    fn drop(&mut self) {
        if self.held > 0 {
            self.budget.give_back(self.held);
        }
    }
}

impl Body for ServedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.end();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                if len > 0 {
                    if !this.budget.take(len) {
                        this.end();
                        return Poll::Ready(Some(Err(Box::new(BodyOverBudget))));
                    }
                    this.held += len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Pending => {
                let timeout = this.timeout;
                let deadline = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if deadline.as_mut().poll(cx).is_ready() {
                    this.end();
                    Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_past_its_limit_and_takes_again_once_given_back() {
        let budget = BodyBudget::new(100);
        assert!(budget.take(60));
        assert!(budget.take(40));
        assert!(!budget.take(1));
        assert_eq!(budget.used(), 100);
        budget.give_back(60);
        assert!(budget.take(50));
        assert!(!budget.take(usize::MAX), "no overflow");
        assert_eq!(budget.used(), 90);
    }
}
