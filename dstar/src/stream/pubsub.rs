use super::{Delivery, Source};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// A message that can go through [`PubSub`]. The serde bounds let a network backend (such as
/// Redis) carry the same types without any change to page code.
pub trait Message: Clone + Send + Sync + Serialize + DeserializeOwned + 'static {}
impl<T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static> Message for T {}

/// A published message as backends carry it: the value itself for in-process delivery, and its
/// JSON for backends that cross process boundaries.
#[derive(Clone)]
pub struct Published {
    value: Option<Arc<dyn Any + Send + Sync>>,
    json: Option<Arc<[u8]>>,
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

    fn decode<M: Message>(&self) -> Option<M> {
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
    last: HashMap<Box<str>, SystemTime>,
    /// Since when every message of this process is recorded.
    since: SystemTime,
    /// The map's size after the last pruning: pruned again when it doubles.
    pruned_at: usize,
    /// The latest time recorded: a clock now behind it stepped back, and cannot tell.
    latest: SystemTime,
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

/// The in-process backend: one bounded broadcast channel per topic.
struct Local {
    topics: Mutex<HashMap<String, broadcast::Sender<Published>>>,
    capacity: usize,
    published: Mutex<PublishTimes>,
}

impl PubSubBackend for Local {
    fn needs_json(&self) -> bool {
        false
    }

    fn publish<'a>(&'a self, topic: &'a str, message: Published) -> PublishFuture<'a> {
        let result = self.publish_now(topic, message);
        Box::pin(std::future::ready(result))
    }

    fn subscribe(&self, topic: &str) -> broadcast::Receiver<Published> {
        self.receiver(topic)
    }

    fn unsubscribed(&self, topic: &str) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        forget_if_unused(&mut topics, topic);
    }

    fn topic_count(&self) -> usize {
        self.topics.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn published_since(&self, topic: &str, since: SystemTime) -> Option<bool> {
        let published = self.published.lock().unwrap_or_else(|e| e.into_inner());
        // one process, one clock: no skew
        published.since(topic, since, Duration::ZERO, SystemTime::now())
    }
}

impl Local {
    fn publish_now(&self, topic: &str, message: Published) -> Result<usize, PublishError> {
        // every publish, with subscribers or not: a page rendered before its stream subscribed
        // must learn that it is stale
        self.published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(topic, SystemTime::now());
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sender) = topics.get(topic) else {
            return Ok(0);
        };
        match sender.send(message) {
            Ok(n) => Ok(n),
            Err(_) => {
                // nobody listens any more: forget the topic so the map does not grow
                topics.remove(topic);
                Ok(0)
            }
        }
    }

    fn receiver(&self, topic: &str) -> broadcast::Receiver<Published> {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe()
    }
}

/// Publish/subscribe on named topics with typed messages. Cloning is cheap (one `Arc`).
///
/// **Lagging subscribers never block publishers.** Each topic keeps the last `capacity` messages
/// (256 by default); a subscriber that falls further behind loses the oldest ones it has not
/// read. A page stream then ends, so its page reconnects and catches up with a fresh render
/// ([`Source::recv_delivery`]); [`recv_message`](Source::recv_message) logs how many it skipped
/// (at debug level) and goes on with the oldest one still kept.
///
/// ```
/// use dstar::stream::{PubSub, Source};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let pubsub = PubSub::new();
/// let mut ticks = pubsub.subscribe::<u64>("ticker");
/// pubsub.publish("ticker", 42u64).await.unwrap();
/// assert_eq!(ticks.recv_message().await, Some(42));
/// # });
/// ```
#[derive(Clone)]
pub struct PubSub {
    backend: Arc<dyn PubSubBackend>,
}

impl Default for PubSub {
    fn default() -> Self {
        PubSub::new()
    }
}

impl fmt::Debug for PubSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PubSub").finish_non_exhaustive()
    }
}

impl PubSub {
    /// The in-process pub/sub, keeping 256 messages per topic for slow subscribers.
    ///
    /// ```
    /// let pubsub = dstar::stream::PubSub::new();
    /// ```
    pub fn new() -> Self {
        PubSub::with_capacity(256)
    }

    /// The in-process pub/sub keeping `capacity` messages per topic.
    ///
    /// ```
    /// let pubsub = dstar::stream::PubSub::with_capacity(1024);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        PubSub::with_backend(Local {
            topics: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            published: Mutex::new(PublishTimes::new()),
        })
    }

    /// A pub/sub over Redis (cargo feature `redis`): every process connected to the same Redis
    /// shares topics, and per-tab stream deduplication holds across them. Call it inside a tokio
    /// runtime.
    ///
    /// Cross-node claim notices are signed with [`AppKey::from_env`](crate::secret::AppKey::from_env):
    /// give every node the same `DSTAR_SECRET`.
    #[cfg(feature = "redis")]
    pub fn redis(url: &str) -> Result<Self, PublishError> {
        Ok(PubSub::with_backend(super::RedisBackend::new(url)?))
    }

    /// [`redis`](PubSub::redis) with the key that signs cross-node claim notices.
    #[cfg(feature = "redis")]
    pub fn redis_with_key(url: &str, key: crate::secret::AppKey) -> Result<Self, PublishError> {
        Ok(PubSub::with_backend(super::RedisBackend::with_key(
            url, key,
        )?))
    }

    /// Redis when `DSTAR_REDIS_URL` is set (and the `redis` feature is on), else in-process.
    /// Call it inside a tokio runtime.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let pubsub = dstar::stream::PubSub::from_env();
    /// # });
    /// ```
    pub fn from_env() -> Self {
        match std::env::var("DSTAR_REDIS_URL") {
            #[cfg(feature = "redis")]
            Ok(url) => match PubSub::redis(&url) {
                Ok(pubsub) => pubsub,
                Err(e) => {
                    crate::error::config_warning(&format!(
                        "DSTAR_REDIS_URL is unusable ({e}); using the in-process PubSub, so this process shares no topics with others"
                    ));
                    PubSub::new()
                }
            },
            #[cfg(not(feature = "redis"))]
            Ok(_) => {
                crate::error::config_warning(
                    "DSTAR_REDIS_URL is set but dstar was built without the `redis` feature; using the in-process PubSub",
                );
                PubSub::new()
            }
            Err(_) => PubSub::new(),
        }
    }

    /// A pub/sub over another backend.
    pub fn with_backend(backend: impl PubSubBackend) -> Self {
        PubSub {
            backend: Arc::new(backend),
        }
    }

    /// Sends `message` to every subscriber of `topic`. Returns how many subscribers got it.
    /// Never waits for subscribers; a network backend returns an error instead of hanging when
    /// it is unreachable. In-process, it completes at once.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let pubsub = dstar::stream::PubSub::new();
    /// assert_eq!(pubsub.publish("nobody-listens", "hi".to_owned()).await, Ok(0));
    /// # });
    /// ```
    pub async fn publish<M: Message>(
        &self,
        topic: &str,
        message: M,
    ) -> Result<usize, PublishError> {
        let json = if self.backend.needs_json() {
            let bytes = serde_json::to_vec(&message).map_err(|e| PublishError(e.to_string()))?;
            Some(bytes.into())
        } else {
            None
        };
        let published = Published {
            value: if json.is_some() {
                None
            } else {
                Some(Arc::new(message))
            },
            json,
        };
        self.backend.publish(topic, published).await
    }

    /// Subscribes to `topic`. Messages of another type on the same topic are skipped (logged at
    /// debug level).
    ///
    /// ```
    /// let sub: dstar::stream::Subscription<String> = dstar::stream::PubSub::new().subscribe("chat");
    /// ```
    pub fn subscribe<M: Message>(&self, topic: &str) -> Subscription<M> {
        Subscription {
            raw: self.raw(topic),
            _message: PhantomData,
        }
    }

    fn raw(&self, topic: &str) -> RawSubscription {
        RawSubscription {
            rx: Some(self.backend.subscribe(topic)),
            topic: TopicName::new(topic),
            backend: self.backend.clone(),
        }
    }

    /// "Something changed" on any of `topics`, whatever the messages are: the source of a `live`
    /// page. A burst is coalesced: after the first message it waits `frame`, then takes every
    /// message that arrived meanwhile, and yields once. So a page renders at most once per frame,
    /// and the render after the last message of a burst sees the final state.
    ///
    /// ```
    /// use dstar::stream::{PubSub, Source};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let pubsub = PubSub::new();
    /// let mut changes = pubsub.changes(&["scores"], std::time::Duration::from_millis(16));
    /// for n in 0..100u32 { pubsub.publish("scores", n).await.unwrap(); }
    /// assert_eq!(changes.recv_message().await, Some(())); // one change for the whole burst
    /// assert_eq!(changes.pending(), 0);
    /// # });
    /// ```
    pub fn changes(&self, topics: &[&str], frame: std::time::Duration) -> Changes {
        Changes {
            subs: topics.iter().map(|t| self.raw(t)).collect(),
            frame,
            since: None,
        }
    }

    /// Whether a message may have been published on any of `topics` since `since` (see
    /// [`Source::missed_since`]): a live page's shared render asks it for each stream that joins.
    pub(crate) fn missed_since(&self, topics: &[&str], since: SystemTime) -> bool {
        topics
            .iter()
            .any(|topic| self.backend.published_since(topic, since) != Some(false))
    }

    /// How many topics have live subscribers now (a topic is forgotten, in Redis too, when its
    /// last subscription is dropped).
    ///
    /// ```
    /// let pubsub = dstar::stream::PubSub::new();
    /// let sub = pubsub.subscribe::<String>("chat");
    /// assert_eq!(pubsub.topic_count(), 1);
    /// drop(sub);
    /// assert_eq!(pubsub.topic_count(), 0);
    /// ```
    pub fn topic_count(&self) -> usize {
        self.backend.topic_count()
    }
}

/// One topic's receiver; dropping it unsubscribes, and the topic is forgotten when it was the
/// last one.
struct RawSubscription {
    /// `None` only while dropping.
    rx: Option<broadcast::Receiver<Published>>,
    topic: TopicName,
    backend: Arc<dyn PubSubBackend>,
}

/// A subscription's topic: inline when it is short, as topic names are, so a subscription (one per
/// open stream) allocates nothing for it.
enum TopicName {
    Inline {
        len: u8,
        bytes: [u8; TopicName::INLINE],
    },
    Long(Box<str>),
}

impl TopicName {
    /// As long as a `String` is wide, less the length byte.
    const INLINE: usize = 22;

    fn new(topic: &str) -> Self {
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

    fn as_str(&self) -> &str {
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
    fn missed_since(&self, since: SystemTime) -> bool {
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
    raw: RawSubscription,
    _message: PhantomData<fn() -> M>,
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
        super::skipping_losses(self).await
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

/// Changes on one or more topics, coalesced per frame: see [`PubSub::changes`].
pub struct Changes {
    subs: Vec<RawSubscription>,
    frame: std::time::Duration,
    /// When the first message of the current burst arrived. Kept here, not in the future, so a
    /// wait the stream loop interrupts (a liveness check) resumes instead of losing the burst.
    since: Option<tokio::time::Instant>,
}

impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let topics: Vec<&str> = self.subs.iter().map(|s| s.topic.as_str()).collect();
        f.debug_struct("Changes")
            .field("topics", &topics)
            .field("frame", &self.frame)
            .finish()
    }
}

impl Changes {
    /// How many messages wait, on all topics (a lagging receiver counts as one).
    ///
    /// ```
    /// let pubsub = dstar::stream::PubSub::new();
    /// let changes = pubsub.changes(&["a"], std::time::Duration::ZERO);
    /// assert_eq!(changes.pending(), 0);
    /// ```
    pub fn pending(&self) -> usize {
        self.subs
            .iter()
            .filter_map(|s| s.rx.as_ref())
            .map(broadcast::Receiver::len)
            .sum()
    }

    /// Takes every waiting message; true when the topics are all closed.
    fn drain(&mut self) -> bool {
        let mut open = false;
        for rx in self.subs.iter_mut().filter_map(|s| s.rx.as_mut()) {
            loop {
                match rx.try_recv() {
                    Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                    Err(broadcast::error::TryRecvError::Empty) => {
                        open = true;
                        break;
                    }
                    Err(broadcast::error::TryRecvError::Closed) => break,
                }
            }
        }
        !open
    }
}

impl Source for Changes {
    type Message = ();

    async fn recv_message(&mut self) -> Option<()> {
        if self.subs.is_empty() {
            return std::future::pending().await;
        }
        let since = match self.since {
            Some(since) => since,
            None => {
                // the first message of a burst, on any topic
                let arrived = loop {
                    let waits = self
                        .subs
                        .iter_mut()
                        .filter_map(|s| s.rx.as_mut())
                        .map(|rx| Box::pin(rx.recv()));
                    let waits: Vec<_> = waits.collect();
                    if waits.is_empty() {
                        break false;
                    }
                    let (got, at, _) = futures_util::future::select_all(waits).await;
                    match got {
                        Err(broadcast::error::RecvError::Closed) => {
                            // that topic is gone: wait on the others
                            let mut open = self.subs.iter_mut().filter(|s| s.rx.is_some());
                            if let Some(sub) = open.nth(at) {
                                sub.rx = None;
                            }
                        }
                        _ => break true,
                    }
                };
                if !arrived {
                    return None;
                }
                let now = tokio::time::Instant::now();
                self.since = Some(now);
                now
            }
        };
        tokio::time::sleep_until(since + self.frame).await;
        self.since = None;
        // everything that came during the frame is in this one change
        let closed = self.drain();
        if closed { None } else { Some(()) }
    }

    fn missed_since(&self, since: SystemTime) -> bool {
        self.subs.iter().any(|sub| sub.missed_since(since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend with one channel for every topic, so the test can speak as the backend.
    struct OneChannel(broadcast::Sender<Published>);

    impl PubSubBackend for OneChannel {
        fn needs_json(&self) -> bool {
            false
        }
        fn publish<'a>(&'a self, _: &'a str, message: Published) -> PublishFuture<'a> {
            let n = self.0.send(message).unwrap_or(0);
            Box::pin(async move { Ok(n) })
        }
        fn subscribe(&self, _: &str) -> broadcast::Receiver<Published> {
            self.0.subscribe()
        }
    }

    #[tokio::test]
    async fn a_subscription_reports_lost_messages_to_the_loop_and_skips_them_otherwise() {
        let (channel, _) = broadcast::channel(2);
        let pubsub = PubSub::with_backend(OneChannel(channel.clone()));
        let mut sub = pubsub.subscribe::<u32>("t");
        for n in 1..=3u32 {
            pubsub.publish("t", n).await.unwrap();
        }
        // 1 was pushed out before the subscriber saw it
        assert_eq!(sub.recv_delivery().await, Delivery::Missed);
        assert_eq!(sub.recv_delivery().await, Delivery::Message(2));
        assert_eq!(sub.recv_delivery().await, Delivery::Message(3));
        // a backend that was cut off says so through the topic
        channel.send(Published::missed()).unwrap();
        assert_eq!(sub.recv_delivery().await, Delivery::Missed);
        // `recv_message` (code that reads a subscription itself) skips losses
        channel.send(Published::missed()).unwrap();
        pubsub.publish("t", 4u32).await.unwrap();
        assert_eq!(sub.recv_message().await, Some(4));
        // a live page's changes count a loss as a change
        let mut changes = pubsub.changes(&["t"], Duration::ZERO);
        channel.send(Published::missed()).unwrap();
        assert_eq!(changes.recv_message().await, Some(()));
    }

    #[tokio::test]
    async fn a_subscription_knows_whether_its_topic_had_a_message_since_a_render() {
        let pubsub = PubSub::new();
        let rendered = SystemTime::now();
        // published before anyone subscribed (the page's stream is not open yet)
        pubsub.publish("scores", 1u32).await.unwrap();
        let scores = pubsub.subscribe::<u32>("scores");
        assert!(scores.missed_since(rendered));
        let quiet = pubsub.subscribe::<u32>("quiet");
        assert!(!quiet.missed_since(rendered));
        // one of a live page's topics is enough
        assert!(
            pubsub
                .changes(&["quiet", "scores"], Duration::ZERO)
                .missed_since(rendered)
        );
        // a render older than this pub/sub (another process, before a restart) cannot tell
        let before = rendered - Duration::from_secs(1);
        assert!(quiet.missed_since(before));
    }

    #[test]
    fn publish_times_are_forgotten_after_a_while() {
        let start = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut times = PublishTimes {
            last: HashMap::new(),
            since: start,
            pruned_at: 0,
            latest: UNIX_EPOCH,
        };
        for n in 0..1023 {
            times.record(&format!("old-{n}"), start);
        }
        let later = start + PUBLISH_MEMORY + Duration::from_secs(1);
        times.record("new", later);
        assert_eq!(times.last.len(), 1, "the old topics are pruned");
        let render = later - Duration::from_secs(10);
        let skew = Duration::ZERO;
        assert_eq!(times.since("new", render, skew, later), Some(true));
        assert_eq!(times.since("old-1", render, skew, later), Some(false));
        // a render older than the memory cannot be answered
        assert_eq!(times.since("new", start, skew, later), None);
        // a render on a node whose clock runs ahead: a message just before it counts
        let ahead = later + Duration::from_secs(1);
        assert_eq!(times.since("new", ahead, skew, later), Some(false));
        assert_eq!(times.since("new", ahead, CLOCK_SKEW, later), Some(true));
        // a clock that stepped back since the last record cannot tell
        assert_eq!(
            times.since("new", render, skew, later - Duration::from_secs(1)),
            None
        );
    }

    #[test]
    fn topic_names_read_back_whole_short_or_long() {
        for topic in [
            "",
            "ticks",
            "é-22-bytes-with-utf-8",
            &"x".repeat(23),
            "room/ünïcode/42",
        ] {
            let name = TopicName::new(topic);
            assert_eq!(name.as_str(), topic);
            assert_eq!(
                matches!(name, TopicName::Inline { .. }),
                topic.len() <= TopicName::INLINE
            );
        }
    }
}
