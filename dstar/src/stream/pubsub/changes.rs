//! "Something changed" on a live page's topics, coalesced per frame.

use super::*;

/// Changes on one or more topics, coalesced per frame: see [`PubSub::changes`].
pub struct Changes {
    pub(super) subs: Vec<RawSubscription>,
    pub(super) frame: std::time::Duration,
    /// When the first message of the current burst arrived. Kept here, not in the future, so a
    /// wait the stream loop interrupts (a liveness check) resumes instead of losing the burst.
    pub(super) since: Option<tokio::time::Instant>,
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
