//! How a page stream ends: the reason, and the guard that runs the page's `on_disconnect` once.

use std::fmt;
use std::sync::Mutex;

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
    /// The message source lost messages meant for this stream ([`Delivery::Missed`](crate::stream::Delivery::Missed)): it fell
    /// too far behind (a slow client), or the Redis connection dropped for a while. The stream
    /// ends cleanly; a page's client reconnects about a second later (its `connect()` retries
    /// always) and the new stream starts with a fresh render, so the page shows every change.
    /// Only streams that catch up end so ([`PageStream::catch_up`](crate::stream::PageStream::catch_up); every `#[dstar::page]`
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
