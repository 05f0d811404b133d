//! The Redis backend (cargo feature `redis`): PubSub across processes and cross-node stream
//! deduplication, over one subscription connection per process.
//!
//! **During an outage** streams stay open and the local deduplication keeps working; what is lost
//! is what was broadcast while Redis was unreachable (publishing fails with an error the caller
//! sees, after at most [`PUBLISH_TIMEOUT`]), and claims made on other nodes meanwhile. The
//! subscriber reconnects with backoff (100 ms doubling to 5 s) and resubscribes every topic.

use super::{
    CLOCK_SKEW, PubSubBackend, PublishError, PublishFuture, PublishTimes, Published,
    forget_if_unused,
};
use crate::secret::{AppKey, KeySource};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc};

/// The longest a publish waits for Redis before it fails.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);
const TOPIC_PREFIX: &str = "dstar:t:";
const REGISTRY_CHANNEL: &str = "dstar:registry";

struct Inner {
    client: redis::Client,
    node: String,
    capacity: usize,
    topics: Mutex<HashMap<String, broadcast::Sender<Published>>>,
    /// Asks the subscriber task to (un)subscribe, in order.
    requests: mpsc::UnboundedSender<Request>,
    /// One multiplexed connection, cloned by every publish: publishes are pipelined on it, not
    /// queued behind a lock. The lock is held only to clone or replace it.
    /// The publishing connection, numbered so a publish that gives up on the connection it used
    /// does not throw away a newer one another publish just made.
    publisher: Mutex<Option<(u64, redis::aio::MultiplexedConnection)>>,
    connections_made: std::sync::atomic::AtomicU64,
    /// Held while (re)connecting, so a burst of publishes opens one connection, not one each.
    connecting: tokio::sync::Mutex<()>,
    /// Signs and checks claim notices.
    key: AppKey,
    /// What this node has heard, for `published_since`.
    heard: Mutex<Heard>,
}

/// Which topics this node has been subscribed to without a break, since when, and when each
/// last had a message. Only a topic subscribed since before a page's render can say that
/// nothing was published since: messages before the subscription never reached this node.
struct Heard {
    /// When Redis acknowledged the topic's subscription on the current connection.
    subscribed: HashMap<String, SystemTime>,
    messages: PublishTimes,
}

enum Request {
    Subscribe(String),
    Unsubscribe(String),
}

/// [`PubSub`](crate::stream::PubSub) over Redis. Build it with [`PubSub::redis`](crate::stream::PubSub::redis)
/// or [`PubSub::from_env`](crate::stream::PubSub::from_env) inside a tokio runtime.
#[derive(Clone)]
pub struct RedisBackend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("node", &self.inner.node)
            .finish_non_exhaustive()
    }
}

/// "A stream for (scope, tab) was claimed on `node` at `at`", signed with the app key, so a
/// notice forged by anyone who can publish on Redis (without the key) ends nothing, and `at`
/// keeps a late or replayed notice from ending a newer stream.
#[derive(serde::Serialize, serde::Deserialize)]
struct ClaimNotice {
    node: String,
    scope: String,
    tab: String,
    at: u64,
    mac: String,
}

impl ClaimNotice {
    fn signed(key: &AppKey, node: &str, scope: &str, tab: &str, at: u64) -> ClaimNotice {
        let mac = hex::encode(Self::mac(key, node, scope, tab, at).finalize().into_bytes());
        ClaimNotice {
            node: node.to_owned(),
            scope: scope.to_owned(),
            tab: tab.to_owned(),
            at,
            mac,
        }
    }

    fn mac(key: &AppKey, node: &str, scope: &str, tab: &str, at: u64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.bytes()).expect("any key length");
        // lengths first: no two different notices sign the same bytes
        for part in [node.as_bytes(), scope.as_bytes(), tab.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.update(&at.to_be_bytes());
        mac
    }

    fn verify(&self, key: &AppKey) -> bool {
        let Ok(tag) = hex::decode(&self.mac) else {
            return false;
        };
        Self::mac(key, &self.node, &self.scope, &self.tab, self.at)
            .verify_slice(&tag)
            .is_ok()
    }
}

impl RedisBackend {
    /// Connects lazily to `url` (`redis://127.0.0.1:6379`) and starts the one subscriber task of
    /// this backend. Also installs cross-node deduplication for the global registry, its notices
    /// signed with [`AppKey::from_env`] (every node needs the same `DSTAR_SECRET`).
    pub fn new(url: &str) -> Result<Self, PublishError> {
        let key = AppKey::from_env();
        if !matches!(key.source(), KeySource::Env(_) | KeySource::Given) {
            tracing::warn!(
                "dstar: Redis claim notices are signed with the app key, which comes {}; set the same DSTAR_SECRET on every node, or their notices are refused",
                key.source()
            );
        }
        RedisBackend::with_key(url, key)
    }

    /// [`new`](RedisBackend::new) with the key that signs and checks claim notices.
    pub fn with_key(url: &str, key: AppKey) -> Result<Self, PublishError> {
        let client =
            redis::Client::open(url).map_err(|e| PublishError(format!("bad Redis URL: {e}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let node = {
            use rand::RngCore;
            let mut id = [0u8; 8];
            rand::rng().fill_bytes(&mut id);
            id.iter().map(|b| format!("{b:02x}")).collect()
        };
        let backend = RedisBackend {
            inner: Arc::new(Inner {
                client,
                node,
                capacity: 256,
                topics: Mutex::new(HashMap::new()),
                requests: tx,
                publisher: Mutex::new(None),
                connections_made: std::sync::atomic::AtomicU64::new(0),
                connecting: tokio::sync::Mutex::new(()),
                key,
                heard: Mutex::new(Heard {
                    subscribed: HashMap::new(),
                    messages: PublishTimes::new(),
                }),
            }),
        };
        tokio::spawn(subscriber(Arc::downgrade(&backend.inner), rx));
        let announcer = backend.clone();
        crate::stream::set_announce(move |scope, tab, at| {
            let inner = &announcer.inner;
            let notice = ClaimNotice::signed(&inner.key, &inner.node, scope, tab, at);
            let backend = announcer.clone();
            tokio::spawn(async move {
                let json = serde_json::to_vec(&notice).unwrap_or_default();
                if let Err(e) = backend.send(REGISTRY_CHANNEL, json).await {
                    tracing::warn!(error = %e, "dstar: could not announce a stream claim to other nodes");
                }
            });
        });
        Ok(backend)
    }

    fn publisher(&self) -> Option<(u64, redis::aio::MultiplexedConnection)> {
        self.inner
            .publisher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn connection(&self) -> redis::RedisResult<(u64, redis::aio::MultiplexedConnection)> {
        if let Some(conn) = self.publisher() {
            return Ok(conn);
        }
        let _connecting = self.inner.connecting.lock().await;
        if let Some(conn) = self.publisher() {
            return Ok(conn); // another publish connected while this one waited
        }
        let conn = self.inner.client.get_multiplexed_async_connection().await?;
        let number = self
            .inner
            .connections_made
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *self
            .inner
            .publisher
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some((number, conn.clone()));
        Ok((number, conn))
    }

    async fn send(&self, channel: &str, payload: Vec<u8>) -> Result<usize, PublishError> {
        let used = std::sync::atomic::AtomicU64::new(u64::MAX);
        let attempt = async {
            let (number, mut conn) = self.connection().await?;
            used.store(number, std::sync::atomic::Ordering::Relaxed);
            let result: redis::RedisResult<usize> = redis::cmd("PUBLISH")
                .arg(channel)
                .arg(payload)
                .query_async(&mut conn)
                .await;
            if result
                .as_ref()
                .is_err_and(|e| e.is_io_error() || e.is_connection_dropped())
            {
                self.inner.forget_publisher(Some(number)); // connect again next time
            }
            result
        };
        match tokio::time::timeout(PUBLISH_TIMEOUT, attempt).await {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(e)) => Err(PublishError(format!("Redis: {e}"))),
            Err(_) => {
                // a connection that went silent reports no error: without this, every publish
                // would wait on it until the kernel gives up on it (many minutes)
                let number = used.load(std::sync::atomic::Ordering::Relaxed);
                if number != u64::MAX {
                    self.inner.forget_publisher(Some(number));
                }
                Err(PublishError(format!(
                    "Redis did not answer within {PUBLISH_TIMEOUT:?}"
                )))
            }
        }
    }
}

impl PubSubBackend for RedisBackend {
    fn needs_json(&self) -> bool {
        true
    }

    fn publish<'a>(&'a self, topic: &'a str, message: Published) -> PublishFuture<'a> {
        Box::pin(async move {
            let json = message.json().unwrap_or_default().to_vec();
            self.send(&format!("{TOPIC_PREFIX}{topic}"), json).await
        })
    }

    fn subscribe(&self, topic: &str) -> broadcast::Receiver<Published> {
        let mut topics = self.inner.topics.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = topics.get(topic) {
            return sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(self.inner.capacity);
        topics.insert(topic.to_owned(), sender);
        // sent under the lock, so requests for one topic reach the subscriber in order
        let _ = self
            .inner
            .requests
            .send(Request::Subscribe(topic.to_owned()));
        receiver
    }

    fn unsubscribed(&self, topic: &str) {
        let mut topics = self.inner.topics.lock().unwrap_or_else(|e| e.into_inner());
        if forget_if_unused(&mut topics, topic) {
            let _ = self
                .inner
                .requests
                .send(Request::Unsubscribe(topic.to_owned()));
        }
    }

    fn topic_count(&self) -> usize {
        self.inner
            .topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    fn published_since(&self, topic: &str, since: SystemTime) -> Option<bool> {
        let heard = self.inner.heard.lock().unwrap_or_else(|e| e.into_inner());
        let subscribed = *heard.subscribed.get(topic)?;
        let before = since.checked_sub(CLOCK_SKEW)?;
        if subscribed > before {
            // subscribed after the render: what came in between never reached this node
            return None;
        }
        heard
            .messages
            .since(topic, since, CLOCK_SKEW, SystemTime::now())
    }
}

impl Inner {
    fn heard(&self) -> std::sync::MutexGuard<'_, Heard> {
        self.heard.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops the publishing connection (only if it is still the one numbered `number`, when
    /// given), so the next publish makes a new one.
    fn forget_publisher(&self, number: Option<u64>) {
        let mut publisher = self.publisher.lock().unwrap_or_else(|e| e.into_inner());
        if number.is_none() || publisher.as_ref().map(|(n, _)| *n) == number {
            *publisher = None;
        }
    }
}

/// How long the subscriber waits for Redis to accept its connection, its subscriptions or a
/// `PING` before it takes the connection for lost and makes a new one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the subscriber waits without a message before it pings Redis. A connection that
/// went half-open (a Redis host that vanished, a NAT or proxy that forgot the flow) delivers
/// nothing and reports no error: without the ping, this node would stop hearing every topic,
/// silently. With it, such a connection is replaced within `HEALTH_CHECK + CONNECT_TIMEOUT`.
const HEALTH_CHECK: Duration = Duration::from_secs(10);

/// Waits `backoff` (then doubles it, up to 5 s) before the next connection. The requests queued
/// so far are dropped: the next connection subscribes to every topic in the map, which already
/// holds them (they are sent under its lock), so an outage does not grow the queue.
async fn back_off(
    inner: &std::sync::Weak<Inner>,
    requests: &mut mpsc::UnboundedReceiver<Request>,
    backoff: &mut Duration,
) {
    if let Some(backend) = inner.upgrade() {
        let _topics = backend.topics.lock().unwrap_or_else(|e| e.into_inner());
        while requests.try_recv().is_ok() {}
    }
    tokio::time::sleep(*backoff).await;
    *backoff = (*backoff * 2).min(Duration::from_secs(5));
}

/// The one subscription connection: subscribes to every topic asked for, delivers messages to
/// local subscribers, ends other nodes' claims, and reconnects with backoff.
///
/// Whenever a connection is made, the topics subscribed to before it (while there was none) may
/// have missed messages: each gets [`Published::missed`], which ends its page streams so their
/// pages reconnect and catch up with a fresh render.
async fn subscriber(inner: std::sync::Weak<Inner>, mut requests: mpsc::UnboundedReceiver<Request>) {
    let mut backoff = Duration::from_millis(100);
    // since when no connection has been up (after one was lost), for the logs
    let mut outage: Option<std::time::Instant> = None;
    loop {
        let Some(backend) = inner.upgrade() else {
            return;
        };
        let client = backend.client.clone();
        drop(backend);
        let connected = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await;
        let pubsub = match connected {
            Ok(Ok(p)) => p,
            failed => {
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {CONNECT_TIMEOUT:?}"),
                };
                if outage.is_some() {
                    tracing::debug!(%error, ?backoff, "dstar: Redis subscriber cannot connect; retrying");
                } else {
                    tracing::warn!(%error, "dstar: Redis subscriber cannot connect; retrying with backoff (this node hears no broadcasts until it does)");
                    outage = Some(std::time::Instant::now());
                }
                back_off(&inner, &mut requests, &mut backoff).await;
                continue;
            }
        };
        let (mut sink, mut stream) = pubsub.split();
        // resubscribe everything known so far
        let mut channels = vec![REGISTRY_CHANNEL.to_owned()];
        if let Some(backend) = inner.upgrade() {
            let topics = backend.topics.lock().unwrap_or_else(|e| e.into_inner());
            // requests are sent under this lock: those queued so far are in the map already
            while requests.try_recv().is_ok() {}
            channels.extend(topics.keys().map(|t| format!("{TOPIC_PREFIX}{t}")));
        }
        if !answered(sink.subscribe(&channels)).await {
            tracing::debug!(
                ?backoff,
                "dstar: Redis subscriber cannot subscribe; reconnecting"
            );
            back_off(&inner, &mut requests, &mut backoff).await;
            continue;
        }
        backoff = Duration::from_millis(100);
        let Some(backend) = inner.upgrade() else {
            return;
        };
        let caught_up = connected_again(&backend, &channels);
        drop(backend);
        match outage.take() {
            Some(since) => tracing::info!(
                after = ?since.elapsed(),
                topics = caught_up,
                "dstar: Redis subscriber connected again; the streams of topics that may have missed messages end, so their pages reconnect and catch up"
            ),
            None => tracing::debug!(
                channels = channels.len(),
                "dstar: Redis subscriber connected"
            ),
        }
        let mut health =
            tokio::time::interval_at(tokio::time::Instant::now() + HEALTH_CHECK, HEALTH_CHECK);
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let lost = loop {
            tokio::select! {
                request = requests.recv() => match request {
                    Some(Request::Subscribe(topic)) => {
                        let channel = format!("{TOPIC_PREFIX}{topic}");
                        if !answered(sink.subscribe(channel)).await {
                            // the topic is in the map: it is subscribed again on the next connection
                            break "a SUBSCRIBE failed or got no answer";
                        }
                        let Some(backend) = inner.upgrade() else { return };
                        backend.heard().subscribed.insert(topic, SystemTime::now());
                    }
                    Some(Request::Unsubscribe(topic)) => {
                        if let Some(backend) = inner.upgrade() {
                            backend.heard().subscribed.remove(&topic);
                        }
                        let channel = format!("{TOPIC_PREFIX}{topic}");
                        if !answered(sink.unsubscribe(channel)).await {
                            // the topic left the map: it is not subscribed again
                            break "an UNSUBSCRIBE failed or got no answer";
                        }
                    }
                    None => return,
                },
                message = stream.next() => {
                    let Some(message) = message else { break "Redis closed the connection" };
                    // a message shows the connection is alive: ping only after a quiet period
                    health.reset();
                    let Some(backend) = inner.upgrade() else { return };
                    deliver(&backend, message.get_channel_name(), message.get_payload_bytes());
                }
                _ = health.tick() => {
                    if !answered(sink.ping::<redis::Value>()).await {
                        break "a PING failed or got no answer";
                    }
                }
            }
        };
        tracing::warn!(
            reason = lost,
            "dstar: Redis subscriber lost its connection; reconnecting (streams on this node catch up once it is back)"
        );
        outage = Some(std::time::Instant::now());
        if let Some(backend) = inner.upgrade() {
            // what is published until the next connection is lost to this node
            backend.heard().subscribed.clear();
            // the publishing connection goes to the same Redis: most likely it is gone too (a
            // restart), and a publish on it would fail rather than connect again
            backend.forget_publisher(None);
        }
    }
}

/// Whether Redis answered `command` without an error within [`CONNECT_TIMEOUT`].
async fn answered<T>(command: impl std::future::Future<Output = redis::RedisResult<T>>) -> bool {
    matches!(
        tokio::time::timeout(CONNECT_TIMEOUT, command).await,
        Ok(Ok(_))
    )
}

/// A connection was made and `channels` subscribed: the topics heard from now on are recorded,
/// and every local subscriber of those topics is told it may have missed messages (they were
/// subscribed while no connection was up). Returns how many topics were told.
fn connected_again(backend: &Inner, channels: &[String]) -> usize {
    let now = SystemTime::now();
    let topics: Vec<&str> = channels
        .iter()
        .filter_map(|channel| channel.strip_prefix(TOPIC_PREFIX))
        .collect();
    {
        let mut heard = backend.heard();
        heard.subscribed.clear();
        for topic in &topics {
            heard.subscribed.insert((*topic).to_owned(), now);
        }
    }
    let senders = backend.topics.lock().unwrap_or_else(|e| e.into_inner());
    topics
        .iter()
        .filter_map(|topic| senders.get(*topic))
        .filter(|sender| sender.send(Published::missed()).is_ok())
        .count()
}

fn deliver(backend: &Inner, channel: &str, payload: &[u8]) {
    if channel == REGISTRY_CHANNEL {
        match serde_json::from_slice::<ClaimNotice>(payload) {
            Ok(notice) if notice.node == backend.node => {}
            Ok(notice) if notice.verify(&backend.key) => {
                crate::stream::StreamRegistry::global().evict_older_than(
                    &notice.scope,
                    &notice.tab,
                    notice.at,
                );
            }
            _ => tracing::warn!(
                "dstar: refused a claim notice that is not signed with this node's app key (DSTAR_SECRET differs between nodes, or it is forged)"
            ),
        }
        return;
    }
    let Some(topic) = channel.strip_prefix(TOPIC_PREFIX) else {
        return;
    };
    backend.heard().messages.record(topic, SystemTime::now());
    let topics = backend.topics.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(sender) = topics.get(topic) {
        let _ = sender.send(Published::from_json(payload.to_vec()));
    }
}
