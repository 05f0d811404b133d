//! The one background task of a `Presence`: publishing, heartbeats and expiry.

use super::*;

/// The task of one `Presence`: publishes what its node has to say, reads the internal topic,
/// heartbeats and expires. Ends once every handle is dropped, after publishing what is left.
pub(super) async fn run(
    core: Arc<Mutex<Core>>,
    pubsub: PubSub,
    mut wake: mpsc::Receiver<()>,
    mut doorbell: Changes,
    every: Duration,
) {
    let mut heartbeat = tokio::time::interval_at(Instant::now() + every, every);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut resync = tokio::time::interval(every.min(RESYNC));
    resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut doorbell_open = true;
    let mut failing = false;
    loop {
        flush(&core, &pubsub, &mut failing).await;
        let syncing = lock(&core).syncing;
        tokio::select! {
            woke = wake.recv() => {
                if woke.is_none() {
                    flush(&core, &pubsub, &mut failing).await;
                    return;
                }
            }
            rang = doorbell.recv_message(), if doorbell_open => {
                doorbell_open = rang.is_some();
                lock(&core).drain(Instant::now());
            }
            _ = heartbeat.tick() => {
                let now = Instant::now();
                let mut core = lock(&core);
                core.drain(now);
                core.expire(now);
                core.out.snapshots = true;
            }
            _ = resync.tick(), if syncing => lock(&core).out.sync = true,
        }
    }
}

/// Publishes everything waiting; on the first failure, puts the rest back for the next wake-up
/// (a heartbeat at the latest).
pub(super) async fn flush(core: &Mutex<Core>, pubsub: &PubSub, failing: &mut bool) {
    loop {
        let batch = lock(core).take();
        if batch.is_empty() {
            return;
        }
        let mut batch = batch.into_iter();
        while let Some(out) = batch.next() {
            let sent = match &out {
                Out::Wire(wire) => pubsub.publish(CHANNEL, wire.clone()).await,
                Out::Notice(topic) => pubsub.publish(topic, ()).await,
            };
            // read what came meanwhile, so the internal topic's subscription keeps up
            lock(core).drain(Instant::now());
            match sent {
                Ok(_) => *failing = false,
                Err(e) => {
                    if std::mem::replace(failing, true) {
                        tracing::debug!(error = %e, "dstar presence: publishing still fails");
                    } else {
                        tracing::warn!(error = %e, "dstar presence: publishing failed; retrying at the next heartbeat");
                    }
                    lock(core).put_back(std::iter::once(out).chain(batch));
                    return;
                }
            }
        }
    }
}
