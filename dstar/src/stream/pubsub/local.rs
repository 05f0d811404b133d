//! The in-process backend: one `broadcast` channel per topic.

use super::*;

/// The in-process backend: one bounded broadcast channel per topic.
pub(super) struct Local {
    pub(super) topics: Mutex<HashMap<String, broadcast::Sender<Published>>>,
    pub(super) capacity: usize,
    pub(super) published: Mutex<PublishTimes>,
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
    pub(super) fn publish_now(
        &self,
        topic: &str,
        message: Published,
    ) -> Result<usize, PublishError> {
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
