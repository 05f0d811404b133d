//! Where a page stream's messages come from: the [`Source`] trait, what a wait for one gives
//! ([`Delivery`]), and its implementations for tokio's channels.

use futures_util::FutureExt as _;
use std::future::Future;
use tokio::sync::{broadcast, mpsc};

/// Where a stream's messages come from: a [`Subscription`](crate::stream::Subscription), or a tokio `broadcast`/`mpsc`
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
    /// [`PubSub`](crate::stream::PubSub) subscriptions answer from the messages they know of; the default, for other
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
    /// stream loop waits on. On [`Delivery::Missed`] a page's stream ends ([`EndReason::Missed`](crate::stream::EndReason::Missed))
    /// so the page reconnects and its stream starts with a fresh render, instead of showing a
    /// state that skipped some changes (a hand-written stream that does not catch up skips the
    /// loss, see [`PageStream::catch_up`](crate::stream::PageStream::catch_up)).
    ///
    /// A `broadcast` receiver that lags reports it; so does a [`Subscription`](crate::stream::Subscription) that lags, or
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
        // a map, not an `async` block: the block would keep the wait twice (as what it captured
        // and as what it awaits), in every open stream's future
        self.recv_message().map(|next| match next {
            Some(message) => Delivery::Message(message),
            None => Delivery::Closed,
        })
    }
}

/// The next message of a source that reports losses, skipping them: `recv_message` for the
/// sources whose `recv_delivery` is their own.
pub(crate) async fn skipping_losses<S: Source>(source: &mut S) -> Option<S::Message> {
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
