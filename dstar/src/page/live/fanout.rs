//! How a key's shared render reaches its viewers: the latest frame with its number, and one waker
//! per viewer, woken once per frame, per liveness ping, when the render ends and at shutdown.
//!
//! A viewer holds its slot and the numbers of the frame and the ping it saw last ([`Watcher`]),
//! some 32 bytes. A tokio `watch` receiver would hold a waiter inside every viewer's pending
//! `changed()` future (some 150 bytes), and a per-viewer timer for liveness another 112: each is
//! multiplied by every open tab, so the hub keeps them once for all.

use super::hub::Frame;
use crate::sse::lifecycle::Parked;
use crate::sse::wakers::WakerSlots;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::task::Waker;
use tokio::sync::Notify;

/// One key's frames and the viewers waiting for them.
pub(crate) struct Fanout {
    /// The latest frame and its number (0: the hub's first value, [`Frame::Nothing`]).
    latest: RwLock<(u64, Frame)>,
    /// The latest frame's number, read without the lock: nothing new is one atomic load.
    number: AtomicU64,
    /// Liveness pings sent so far.
    pings: AtomicU64,
    /// The render ended (its topics closed): every viewer ends.
    closed: AtomicBool,
    /// Each viewer's waker, by slot.
    waiters: Mutex<WakerSlots>,
    /// Viewers that hold a slot.
    viewers: AtomicUsize,
    /// The last viewer left.
    left: Notify,
}

/// What a viewer has to send next.
#[derive(Debug)]
pub(crate) enum Update {
    /// A frame it has not sent yet: the latest one (a slow reader skips those it missed).
    Frame(Frame),
    /// A liveness ping: no frame went out for a whole idle-check period.
    Ping,
    /// The shared render ended.
    Closed,
}

impl Fanout {
    pub(crate) fn new() -> Self {
        Fanout {
            latest: RwLock::new((0, Frame::Nothing)),
            number: AtomicU64::new(0),
            pings: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            waiters: Mutex::new(WakerSlots::default()),
            viewers: AtomicUsize::new(0),
            left: Notify::new(),
        }
    }

    /// A new viewer: the frames from now on.
    pub(crate) fn watch(self: &Arc<Self>) -> Watcher {
        self.viewers.fetch_add(1, Ordering::SeqCst);
        let slot = lock(&self.waiters).take();
        Watcher {
            fanout: self.clone(),
            slot,
            seen: self.number.load(Ordering::Acquire),
            pinged: self.pings.load(Ordering::Acquire),
        }
    }

    /// How many viewers watch.
    pub(crate) fn viewers(&self) -> usize {
        self.viewers.load(Ordering::SeqCst)
    }

    /// Resolves once no viewer watches (at once if none does).
    pub(crate) async fn all_left(&self) {
        // `notify_one` keeps a permit when nobody waits, so a viewer that leaves between the
        // check and the wait is not missed
        while self.viewers() > 0 {
            self.left.notified().await;
        }
    }

    /// Whether no frame was sent yet.
    pub(crate) fn is_empty(&self) -> bool {
        matches!(read(&self.latest).1, Frame::Nothing)
    }

    /// Makes `frame` the latest and wakes every viewer.
    pub(crate) fn send(&self, frame: Frame) {
        {
            let mut latest = self.latest.write().unwrap_or_else(PoisonError::into_inner);
            latest.0 += 1;
            latest.1 = frame;
            self.number.store(latest.0, Ordering::Release);
        }
        self.wake_all();
    }

    /// Asks every viewer to check its client with a liveness ping.
    pub(crate) fn ping(&self) {
        self.pings.fetch_add(1, Ordering::Release);
        self.wake_all();
    }

    /// Ends every viewer's stream: the shared render ended.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake_all();
    }

    fn wake_all(&self) {
        lock(&self.waiters).wake_all();
    }
}

impl Parked for Fanout {
    fn wake_for_shutdown(&self) {
        self.wake_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// A viewer's place at a [`Fanout`]: its slot, and what it has seen.
pub(crate) struct Watcher {
    fanout: Arc<Fanout>,
    slot: u32,
    /// The number of the frame it took last.
    seen: u64,
    /// The pings it answered.
    pinged: u64,
}

impl Watcher {
    /// The next thing to send, if any, without waiting: a frame newer than the last one taken,
    /// the end of the render, or a ping. Call [`register`](Watcher::register) before waiting.
    pub(crate) fn next(&mut self) -> Option<Update> {
        if self.fanout.number.load(Ordering::Acquire) != self.seen {
            let (number, frame) = {
                // a read lock: the viewers woken by one frame read it side by side
                let latest = read(&self.fanout.latest);
                (latest.0, latest.1.clone())
            };
            if number != self.seen {
                self.seen = number;
                return Some(Update::Frame(frame));
            }
        }
        if self.fanout.closed.load(Ordering::Acquire) {
            return Some(Update::Closed);
        }
        let pings = self.fanout.pings.load(Ordering::Acquire);
        if pings != self.pinged {
            self.pinged = pings;
            return Some(Update::Ping);
        }
        None
    }

    /// Wakes `waker` on every frame, ping and end from now on. Once per waker: a viewer whose task
    /// keeps its waker registers once; call [`next`](Watcher::next) again after it.
    pub(crate) fn register(&self, waker: &Waker) {
        lock(&self.fanout.waiters).set(self.slot, waker);
    }

    /// Takes the latest frame again on the next [`next`](Watcher::next): a stream that catches
    /// up sends the shared render it joined.
    pub(crate) fn mark_changed(&mut self) {
        // no frame has this number: frames count up from 0
        self.seen = u64::MAX;
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        lock(&self.fanout.waiters).release(self.slot);
        if self.fanout.viewers.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.fanout.left.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::wakers::Count;
    use bytes::Bytes;

    fn patch(text: &'static str) -> Frame {
        Frame::Patch(Bytes::from_static(text.as_bytes()))
    }

    fn bytes(update: Option<Update>) -> Option<Bytes> {
        match update {
            Some(Update::Frame(Frame::Patch(bytes))) => Some(bytes),
            _ => None,
        }
    }

    #[test]
    fn a_viewer_takes_the_latest_frame_once_and_skips_the_ones_it_missed() {
        let fanout = Arc::new(Fanout::new());
        let mut watcher = fanout.watch();
        assert!(watcher.next().is_none());
        fanout.send(patch("1"));
        fanout.send(patch("2"));
        assert_eq!(bytes(watcher.next()).as_deref(), Some(&b"2"[..]));
        assert!(watcher.next().is_none());
    }

    #[test]
    fn registered_viewers_are_woken_by_frames_pings_and_the_end() {
        let fanout = Arc::new(Fanout::new());
        let mut watcher = fanout.watch();
        let (waker, woken) = Count::waker();
        watcher.register(&waker);
        fanout.send(patch("1"));
        fanout.ping();
        assert_eq!(woken.get(), 2);
        assert!(matches!(watcher.next(), Some(Update::Frame(_))));
        assert!(matches!(watcher.next(), Some(Update::Ping)));
        assert!(watcher.next().is_none());
        fanout.close();
        assert_eq!(woken.get(), 3);
        assert!(matches!(watcher.next(), Some(Update::Closed)));
    }

    #[test]
    fn a_catch_up_takes_the_frame_sent_before_it_joined() {
        let fanout = Arc::new(Fanout::new());
        fanout.send(patch("before"));
        let mut watcher = fanout.watch();
        assert!(watcher.next().is_none());
        watcher.mark_changed();
        assert_eq!(bytes(watcher.next()).as_deref(), Some(&b"before"[..]));
    }

    #[tokio::test]
    async fn slots_are_reused_and_the_last_viewer_leaving_is_told() {
        let fanout = Arc::new(Fanout::new());
        let (a, b) = (fanout.watch(), fanout.watch());
        drop(a);
        let c = fanout.watch();
        assert_eq!(lock(&fanout.waiters).slots(), 2);
        assert_eq!(fanout.viewers(), 2);
        drop((b, c));
        tokio::time::timeout(std::time::Duration::from_secs(5), fanout.all_left())
            .await
            .expect("told");
    }
}
