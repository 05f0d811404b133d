//! A subscription to one topic, and the topic name it keeps inline.

use super::*;

/// One topic's receiver; dropping it unsubscribes, and the topic is forgotten when it was the
/// last one.
pub(super) struct RawSubscription {
    /// `None` only while dropping.
    pub(super) rx: Option<broadcast::Receiver<Published>>,
    pub(super) topic: TopicName,
    pub(super) backend: Arc<dyn PubSubBackend>,
}

/// A subscription's topic: inline when it is short, as topic names are, so a subscription (one per
/// open stream) allocates nothing for it.
pub(super) enum TopicName {
    Inline {
        len: u8,
        bytes: [u8; TopicName::INLINE],
    },
    Long(Box<str>),
}

impl TopicName {
    /// As long as a `String` is wide, less the length byte.
    pub(super) const INLINE: usize = 22;

    pub(super) fn new(topic: &str) -> Self {
        if topic.len() > Self::INLINE {
            return TopicName::Long(topic.into());
        }
        let mut bytes = [0; Self::INLINE];
        bytes[..topic.len()].copy_from_slice(topic.as_bytes());
        TopicName::Inline {
            len: topic.len() as u8,
            bytes,
        }
    }

    pub(super) fn as_str(&self) -> &str {
        match self {
            // copied whole from a `str`: always UTF-8
            TopicName::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            TopicName::Long(topic) => topic,
        }
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl RawSubscription {
    pub(super) fn missed_since(&self, since: SystemTime) -> bool {
        self.backend.published_since(self.topic.as_str(), since) != Some(false)
    }
}

impl Drop for RawSubscription {
    fn drop(&mut self) {
        // the receiver goes first, so the backend sees the true count
        drop(self.rx.take());
        self.backend.unsubscribed(self.topic.as_str());
    }
}

/// A subscription to one topic; a [`Source`] for page streams. Dropping it unsubscribes, and the
/// topic is forgotten when it was the last one.
pub struct Subscription<M> {
    pub(super) raw: RawSubscription,
    pub(super) _message: PhantomData<fn() -> M>,
}

impl<M> fmt::Debug for Subscription<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.raw.topic)
            .finish()
    }
}

impl<M: Message> Source for Subscription<M> {
    type Message = M;

    /// The next message of this topic's type; those of another type are skipped, and so are
    /// losses (logged at debug level). A page stream waits on
    /// [`recv_delivery`](Source::recv_delivery) instead, which reports losses.
    async fn recv_message(&mut self) -> Option<M> {
        crate::stream::skipping_losses(self).await
    }

    async fn recv_delivery(&mut self) -> Delivery<M> {
        let topic = &self.raw.topic;
        let Some(rx) = self.raw.rx.as_mut() else {
            return Delivery::Closed;
        };
        loop {
            match rx.recv().await {
                Ok(published) if published.is_missed() => {
                    tracing::debug!(
                        topic = %crate::error::Escaped(topic),
                        "dstar pubsub: the backend lost messages of this topic"
                    );
                    return Delivery::Missed;
                }
                Ok(published) => match published.decode::<M>() {
                    Some(m) => return Delivery::Message(m),
                    None => tracing::debug!(
                        topic = %crate::error::Escaped(topic),
                        expected = std::any::type_name::<M>(),
                        "dstar pubsub: skipped a message of another type"
                    ),
                },
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!(
                        topic = %crate::error::Escaped(topic),
                        skipped = n,
                        "dstar pubsub: slow subscriber skipped the oldest messages"
                    );
                    return Delivery::Missed;
                }
                Err(broadcast::error::RecvError::Closed) => return Delivery::Closed,
            }
        }
    }

    fn missed_since(&self, since: SystemTime) -> bool {
        self.raw.missed_since(since)
    }
}
