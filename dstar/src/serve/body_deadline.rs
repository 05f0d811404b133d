//! A deadline on reading a request body, from the first time the handler waits for it: a client
//! that trickles its body (a byte every few seconds) cannot hold its connection and a handler's
//! buffer forever. It lives in the server, whose runtime has timers, so extractors need none.
//!
//! A body that has already arrived when the handler reads it (a small JSON body sent with its
//! headers, the common case) never arms a timer.

use crate::signals::read::BodyTimedOut;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::future::Future;
use std::pin::Pin;
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

pub(crate) struct DeadlineBody {
    inner: Incoming,
    timeout: Duration,
    /// Set the first time a read has to wait (so `Expect: 100-continue`, which hyper answers at the
    /// first read, starts the clock only when the handler wants the body); `None` again once the
    /// body ended.
    deadline: Option<Pin<Box<Sleep>>>,
    ended: bool,
}

impl DeadlineBody {
    pub(crate) fn new(inner: Incoming, timeout: Duration) -> Self {
        DeadlineBody {
            inner,
            timeout,
            deadline: None,
            ended: false,
        }
    }
}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.deadline = None;
                this.ended = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => Poll::Ready(Some(frame.map_err(Into::into))),
            Poll::Pending => {
                if this.ended {
                    return Poll::Pending;
                }
                let timeout = this.timeout;
                let deadline = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                let expired = deadline.as_mut().poll(cx).is_ready();
                if expired {
                    this.deadline = None;
                    this.ended = true;
                    Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
