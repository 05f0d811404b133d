//! Process-wide stream lifecycle: shutdown and the live-stream count.
//!
//! Every open stream is in a sharded set, reachable through its response body or straight through
//! the waker of the task that polls it. [`shutdown`] raises one flag and wakes each of them once; a stream checks the flag whenever it runs. So a stream pays
//! nothing per message for watching shutdown: no shared channel to register with on every
//! wake-up (which, at thousands of streams woken by one broadcast, all contend on one lock).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, Weak};
use std::task::Waker;
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
    for shard in &OPEN.shards {
        // wake outside the lock: a woken body may end at once and leave the set
        let parked: Vec<_> = lock(shard).values().filter_map(Wake::live).collect();
        for stream in parked {
            match stream {
                Live::Body(body) => body.wake_for_shutdown(),
                Live::Task(task) => task.wake(),
            }
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

/// A response body that [`shutdown`] must wake.
pub(crate) trait Parked: Send + Sync {
    /// Wakes the task polling the body, which then sees [`is_shutting_down`].
    fn wake_for_shutdown(&self);
}

/// How [`shutdown`] reaches an open stream.
enum Wake {
    /// Through the body, which knows its task's waker.
    Body(Weak<dyn Parked>),
    /// Straight to the task polling the body, once it has waited ([`StreamCount::park`]).
    Task(Option<Waker>),
}

enum Live {
    Body(std::sync::Arc<dyn Parked>),
    Task(Waker),
}

impl Wake {
    fn live(&self) -> Option<Live> {
        match self {
            Wake::Body(body) => body.upgrade().map(Live::Body),
            Wake::Task(task) => task.clone().map(Live::Task),
        }
    }
}

const SHARDS: usize = 16;

type Shard = Mutex<HashMap<u64, Wake>>;

struct OpenSet {
    shards: [Shard; SHARDS],
    next_id: AtomicU64,
}

static OPEN: LazyLock<OpenSet> = LazyLock::new(|| OpenSet {
    shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
    next_id: AtomicU64::new(0),
});

fn lock(shard: &Shard) -> std::sync::MutexGuard<'_, HashMap<u64, Wake>> {
    shard.lock().unwrap_or_else(|e| e.into_inner())
}

/// One open stream, counted in [`live_streams`] until dropped. A stream that [`shutdown`]
/// reaches some other way (a live page's viewer, through its shared render) holds only this.
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
        Self::open(Wake::Body(body))
    }

    fn open(wake: Wake) -> Self {
        let id = OPEN.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&OPEN.shards[id as usize % SHARDS]).insert(id, wake);
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
    reachable: Reachable,
    _counted: Counted,
}

impl StreamCount {
    /// A stream whose body [`shutdown`] wakes through [`Parked`].
    pub(crate) fn new(body: Weak<dyn Parked>) -> Self {
        StreamCount {
            reachable: Reachable::new(body),
            _counted: Counted::new(),
        }
    }

    /// A stream whose body tells where it waits with [`park`](StreamCount::park).
    pub(crate) fn for_task() -> Self {
        StreamCount {
            reachable: Reachable::open(Wake::Task(None)),
            _counted: Counted::new(),
        }
    }

    /// Records the waker of the task that polls the body, for [`shutdown`] to wake. Call it when
    /// the waker changed, not on every wait: it takes a lock.
    pub(crate) fn park(&self, waker: &Waker) {
        let id = self.reachable.id;
        if let Some(Wake::Task(task)) = lock(&OPEN.shards[id as usize % SHARDS]).get_mut(&id) {
            *task = Some(waker.clone());
        }
    }
}
