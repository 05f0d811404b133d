//! [`PubSub`]: in-process or across nodes (Redis), the handle pages publish and subscribe with.
//!
//! Files: the handle here; the backend trait and what it carries in `backend.rs`; the in-process
//! backend in `local.rs`, the Redis one in `redis.rs`; a subscription in `subscription.rs`; a live
//! page's coalesced changes in `changes.rs`.

mod backend;
mod changes;
mod local;
#[cfg(feature = "redis")]
pub(crate) mod redis;
mod subscription;

#[cfg(any(feature = "redis", test))]
use backend::CLOCK_SKEW;
pub use backend::{PubSubBackend, PublishError, PublishFuture, Published};
use backend::{PublishTimes, forget_if_unused};
pub use changes::Changes;
use local::Local;
pub use subscription::Subscription;
use subscription::{RawSubscription, TopicName};

use crate::stream::{Delivery, Source};
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
    /// page. The first message after a quiet frame is a change at once (a lone change costs no
    /// wait); messages that come within `frame` of the last change are coalesced into one more
    /// change at the end of that frame. So a page renders at most once per frame, and the render
    /// after the last message of a burst sees the final state.
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
            due: None,
            last: None,
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

#[cfg(test)]
mod tests {
    use super::backend::PUBLISH_MEMORY;
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
