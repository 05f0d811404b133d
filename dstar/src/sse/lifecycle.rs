//! Process-wide stream lifecycle: shutdown and the live-stream count.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::watch;

pub(crate) static SHUTDOWN: LazyLock<watch::Sender<bool>> =
    LazyLock::new(|| watch::channel(false).0);
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// Ends every open stream of the process cleanly (`dstar::serve` calls it on SIGINT/SIGTERM).
///
/// ```no_run
/// dstar::sse::shutdown();
/// ```
pub fn shutdown() {
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
    SHUTDOWN.send_replace(true);
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
    if SHUTTING_DOWN.load(Ordering::SeqCst) {
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

/// Counts one open stream until dropped.
pub(crate) struct StreamCount;

impl StreamCount {
    pub(crate) fn new() -> Self {
        LIVE_STREAMS.fetch_add(1, Ordering::SeqCst);
        StreamCount
    }
}

impl Drop for StreamCount {
    fn drop(&mut self) {
        LIVE_STREAMS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A receiver of the shutdown flag, for loops that wait on it repeatedly.
pub(crate) fn shutdown_receiver() -> watch::Receiver<bool> {
    SHUTDOWN.subscribe()
}
