//! Process-wide stream lifecycle: shutdown and the live-stream count.
//!
//! Every open stream can be woken by [`shutdown`]: a page stream through its liveness clock
//! ([`super::clock`]), a live page's viewers through their key's shared render, any other stream
//! through its response body, which is in a sharded set. [`shutdown`] raises one flag and wakes
//! each of them once; a stream checks the flag whenever it runs. So a stream pays nothing per
//! message for watching shutdown: no shared channel to register with on every wake-up (which, at
//! thousands of streams woken by one broadcast, all contend on one lock).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, Weak};
use tokio::sync::watch;

static SHUTDOWN: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// Ends every open stream of the process cleanly (`dstar::serve` calls it on SIGINT/SIGTERM).
///
/// ```no_run
/// dstar::sse::shutdown();
/// ```
pub fn shutdown() {
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
    SHUTDOWN.send_replace(true);
    // the page streams, through their clocks; then the rest
    super::clock::wake_all_clocks();
    for shard in &OPEN.shards {
        // wake outside the lock: a woken body may end at once and leave the set
        let parked: Vec<_> = lock(shard).values().filter_map(Weak::upgrade).collect();
        for body in parked {
            body.wake_for_shutdown();
        }
    }
}

/// True once [`shutdown`] has been called.
pub(crate) fn is_shutting_down() -> bool {
    SHUTTING_DOWN.load(Ordering::SeqCst)
}

/// Resolves when [`shutdown`] has been called.
///
/// ```
/// # async fn f() {
/// tokio::select! {
///     _ = dstar::sse::shutdown_signal() => { /* finish up */ }
///     _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
/// }
/// # }
/// ```
pub async fn shutdown_signal() {
    if is_shutting_down() {
        return;
    }
    let mut rx = SHUTDOWN.subscribe();
    let _ = rx.wait_for(|down| *down).await;
}

static LIVE_STREAMS: AtomicUsize = AtomicUsize::new(0);

/// How many long-lived SSE responses ([`stream`](super::stream)) are open in this process.
///
/// ```
/// println!("{} open streams", dstar::sse::live_streams());
/// ```
pub fn live_streams() -> usize {
    LIVE_STREAMS.load(Ordering::SeqCst)
}

/// What [`shutdown`] must wake: a response body, or a live page's shared render (all its viewers).
pub(crate) trait Parked: Send + Sync {
    /// Wakes the tasks polling the streams, which then see [`is_shutting_down`].
    fn wake_for_shutdown(&self);
}

const SHARDS: usize = 16;

/// What [`shutdown`] wakes through [`Parked`], by id: a stream's body (it knows its task's waker),
/// or a live page's shared render (it knows its viewers').
type Shard = Mutex<HashMap<u64, Weak<dyn Parked>>>;

struct OpenSet {
    shards: [Shard; SHARDS],
    next_id: AtomicU64,
}

static OPEN: LazyLock<OpenSet> = LazyLock::new(|| OpenSet {
    shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
    next_id: AtomicU64::new(0),
});

fn lock(shard: &Shard) -> std::sync::MutexGuard<'_, HashMap<u64, Weak<dyn Parked>>> {
    shard.lock().unwrap_or_else(|e| e.into_inner())
}

/// One open stream, counted in [`live_streams`] until dropped. A stream that [`shutdown`]
/// reaches some other way (a page stream through its liveness clock, a live page's viewer through
/// its shared render) holds only this.
#[derive(Debug)]
pub(crate) struct Counted(());

impl Counted {
    pub(crate) fn new() -> Self {
        LIVE_STREAMS.fetch_add(1, Ordering::SeqCst);
        Counted(())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        LIVE_STREAMS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An entry in the set [`shutdown`] wakes, until dropped.
pub(crate) struct Reachable {
    id: u64,
}

impl Reachable {
    /// Something [`shutdown`] wakes through [`Parked`]: a stream's body, or a live page's shared
    /// render, which wakes every viewer of its key.
    pub(crate) fn new(body: Weak<dyn Parked>) -> Self {
        let id = OPEN.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&OPEN.shards[id as usize % SHARDS]).insert(id, body);
        Reachable { id }
    }
}

impl Drop for Reachable {
    fn drop(&mut self) {
        lock(&OPEN.shards[self.id as usize % SHARDS]).remove(&self.id);
    }
}

/// One open stream: counted, and reachable by [`shutdown`], until dropped.
pub(crate) struct StreamCount {
    _reachable: Reachable,
    _counted: Counted,
}

impl StreamCount {
    /// A stream whose body [`shutdown`] wakes through [`Parked`].
    pub(crate) fn new(body: Weak<dyn Parked>) -> Self {
        StreamCount {
            _reachable: Reachable::new(body),
            _counted: Counted::new(),
        }
    }
}
