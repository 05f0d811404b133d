//! The backend trait a [`PubSub`] runs on, what it carries, and when each topic last had a
//! message (for a page that went stale while it loaded).

use super::*;

/// A published message as backends carry it: the value itself for in-process delivery, and its
/// JSON for backends that cross process boundaries.
#[derive(Clone)]
pub struct Published {
    pub(super) value: Option<Arc<dyn Any + Send + Sync>>,
    pub(super) json: Option<Arc<[u8]>>,
}

impl Published {
    /// A message received from the network, as JSON.
    ///
    /// ```
    /// let p = dstar::stream::Published::from_json(br#"{"n":1}"#.to_vec());
    /// assert_eq!(p.json(), Some(&br#"{"n":1}"#[..]));
    /// ```
    pub fn from_json(json: Vec<u8>) -> Self {
        Published {
            value: None,
            json: Some(json.into()),
        }
    }

    /// Word that messages were lost, sent by a backend to a topic's local subscribers after it
    /// was cut off (a Redis connection that dropped): what was published meanwhile never
    /// reached them. A [`Subscription`] reports it as [`Delivery::Missed`](super::Delivery), so
    /// its page stream ends and the page catches up when it reconnects; [`Changes`] counts it
    /// as a change.
    ///
    /// ```
    /// let p = dstar::stream::Published::missed();
    /// assert!(p.is_missed());
    /// assert!(!dstar::stream::Published::from_json(b"1".to_vec()).is_missed());
    /// ```
    pub fn missed() -> Self {
        Published {
            value: None,
            json: None,
        }
    }

    /// Whether this is [`Published::missed`] rather than a message.
    pub fn is_missed(&self) -> bool {
        self.value.is_none() && self.json.is_none()
    }

    /// The JSON form, when there is one.
    pub fn json(&self) -> Option<&[u8]> {
        self.json.as_deref()
    }

    pub(super) fn decode<M: Message>(&self) -> Option<M> {
        if let Some(value) = &self.value {
            return value.downcast_ref::<M>().cloned();
        }
        serde_json::from_slice(self.json.as_deref()?).ok()
    }
}

impl fmt::Debug for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Published").finish_non_exhaustive()
    }
}

/// Publishing failed (a network backend is unreachable, say). The in-process backend never fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishError(pub String);

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "publish failed: {}", self.0)
    }
}

impl std::error::Error for PublishError {}

/// What [`PubSubBackend::publish`] returns.
pub type PublishFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<usize, PublishError>> + Send + 'a>>;

/// Where [`PubSub`] sends and receives. The in-process backend is the default; a backend for
/// another transport implements this trait and is passed to [`PubSub::with_backend`].
///
/// A backend that was cut off from its transport for a while (a dropped connection) sends
/// [`Published::missed`] to the receivers of every topic it holds once it is back: their page
/// streams end, and their pages reconnect and catch up with a fresh render.
pub trait PubSubBackend: Send + Sync + 'static {
    /// Whether messages must be serialized to JSON for this backend.
    fn needs_json(&self) -> bool;
    /// Delivers to every subscriber of `topic`; returns how many subscribers got it, as far as
    /// the backend knows. Must not wait longer than a short timeout.
    fn publish<'a>(&'a self, topic: &'a str, message: Published) -> PublishFuture<'a>;
    /// A receiver for `topic`.
    fn subscribe(&self, topic: &str) -> broadcast::Receiver<Published>;
    /// A receiver of `topic` was dropped: forget the topic when it has no receiver left, so
    /// memory stays bounded by the live subscriptions. The default keeps everything.
    fn unsubscribed(&self, topic: &str) {
        let _ = topic;
    }
    /// How many topics the backend holds now.
    fn topic_count(&self) -> usize {
        0
    }
    /// Whether a message on `topic` may have been published at or after `since`, a page's render
    /// time (possibly on another node): `Some(false)` only when the backend is sure none was.
    /// A page stream's first connect asks this (after subscribing) to decide whether the page
    /// it belongs to is already stale and must be rendered again. The default, `None`, means
    /// "cannot tell", so such a stream always sends that render.
    fn published_since(&self, topic: &str, since: SystemTime) -> Option<bool> {
        let _ = (topic, since);
        None
    }
}

/// How far apart two nodes' clocks may be while a render time from one is compared with message
/// times on another.
#[cfg_attr(not(any(feature = "redis", test)), allow(dead_code))]
pub(crate) const CLOCK_SKEW: Duration = Duration::from_secs(2);
/// How long publish times are remembered: a page whose stream opens later than this after its
/// render is always rendered again.
pub(crate) const PUBLISH_MEMORY: Duration = Duration::from_secs(600);

/// When each topic last had a message, for [`PubSubBackend::published_since`]: forgotten after
/// [`PUBLISH_MEMORY`], so it holds only the topics of the last few minutes.
#[derive(Debug)]
pub(crate) struct PublishTimes {
    pub(super) last: HashMap<Box<str>, SystemTime>,
    /// Since when every message of this process is recorded.
    pub(super) since: SystemTime,
    /// The map's size after the last pruning: pruned again when it doubles.
    pub(super) pruned_at: usize,
    /// The latest time recorded: a clock now behind it stepped back, and cannot tell.
    pub(super) latest: SystemTime,
}

/// The most topics [`PublishTimes`] remembers: past it (that many distinct topics within
/// [`PUBLISH_MEMORY`]) it forgets them all and answers "cannot tell" for older renders.
const MAX_REMEMBERED_TOPICS: usize = 100_000;

impl PublishTimes {
    pub(crate) fn new() -> Self {
        PublishTimes {
            last: HashMap::new(),
            since: SystemTime::now(),
            pruned_at: 0,
            latest: UNIX_EPOCH,
        }
    }

    pub(crate) fn record(&mut self, topic: &str, at: SystemTime) {
        self.latest = self.latest.max(at);
        match self.last.get_mut(topic) {
            Some(last) => *last = at,
            None => {
                self.last.insert(topic.into(), at);
                if self.last.len() >= (self.pruned_at * 2).max(1024) {
                    let horizon = at.checked_sub(PUBLISH_MEMORY).unwrap_or(UNIX_EPOCH);
                    self.last.retain(|_, last| *last >= horizon);
                    if self.last.len() > MAX_REMEMBERED_TOPICS {
                        // too many topics to remember: start afresh, vouching for nothing before
                        self.last = HashMap::new();
                        self.since = at;
                    }
                    self.pruned_at = self.last.len();
                }
            }
        }
    }

    /// Whether a message on `topic` came at or after `since` less `skew` (how far the clock
    /// `since` was read from may be ahead of this one): `None` when `since` is older than what
    /// is remembered.
    pub(crate) fn since(
        &self,
        topic: &str,
        since: SystemTime,
        skew: Duration,
        now: SystemTime,
    ) -> Option<bool> {
        let since = since.checked_sub(skew).unwrap_or(UNIX_EPOCH);
        let remembered = now.checked_sub(PUBLISH_MEMORY).unwrap_or(UNIX_EPOCH);
        if since < self.since || since < remembered || now < self.latest {
            return None;
        }
        Some(self.last.get(topic).is_some_and(|last| *last >= since))
    }
}

/// Removes `topic` from `topics` when its last receiver is gone; true when it did. Called under
/// the same lock as `subscribe`, so a subscriber arriving at the same time is never orphaned.
pub(crate) fn forget_if_unused(
    topics: &mut HashMap<String, broadcast::Sender<Published>>,
    topic: &str,
) -> bool {
    let unused = topics
        .get(topic)
        .is_some_and(|sender| sender.receiver_count() == 0);
    if unused {
        topics.remove(topic);
    }
    unused
}
