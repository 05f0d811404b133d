//! "Something changed" on a live page's topics, coalesced per frame.

use super::*;

/// Changes on one or more topics, coalesced per frame: see [`PubSub::changes`].
pub struct Changes {
    pub(super) subs: Vec<RawSubscription>,
    pub(super) frame: std::time::Duration,
    /// When the current burst's change is due: at once for the first message after a quiet
    /// frame, else a frame after the last change. Kept here, not in the future, so a wait the
    /// stream loop interrupts (a liveness check) resumes instead of losing the burst.
    pub(super) due: Option<tokio::time::Instant>,
    /// When the last change was yielded.
    pub(super) last: Option<tokio::time::Instant>,
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
        let due = match self.due {
            Some(due) => due,
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
                // at once after a quiet frame (no latency for a lone change); else at the end
                // of the frame that began with the last change (at most one per frame)
                let now = tokio::time::Instant::now();
                let due = self.last.map_or(now, |last| (last + self.frame).max(now));
                self.due = Some(due);
                due
            }
        };
        if due > tokio::time::Instant::now() {
            tokio::time::sleep_until(due).await;
        }
        self.due = None;
        self.last = Some(tokio::time::Instant::now());
        // everything that came meanwhile is in this one change
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
    use tokio::time::{Duration, Instant};

    // tokio's clock is paused: the times below are the schedule, not a measurement
    #[tokio::test(start_paused = true)]
    async fn a_lone_change_comes_at_once_and_a_burst_at_the_end_of_the_frame() {
        let pubsub = PubSub::new();
        let frame = Duration::from_millis(16);
        let mut changes = pubsub.changes(&["t"], frame);
        let start = Instant::now();
        pubsub.publish("t", 1u8).await.unwrap();
        assert_eq!(changes.recv_message().await, Some(()));
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "a lone change waits for nothing"
        );
        // a burst right after it: one change, a frame after the first
        for n in 0..10u8 {
            pubsub.publish("t", n).await.unwrap();
        }
        assert_eq!(changes.recv_message().await, Some(()));
        assert_eq!(start.elapsed(), frame, "at most one change per frame");
        assert_eq!(changes.pending(), 0, "the burst is one change");
        // after a quiet frame, at once again
        tokio::time::sleep(frame * 3).await;
        let quiet = Instant::now();
        pubsub.publish("t", 2u8).await.unwrap();
        assert_eq!(changes.recv_message().await, Some(()));
        assert_eq!(quiet.elapsed(), Duration::ZERO);
    }
}
