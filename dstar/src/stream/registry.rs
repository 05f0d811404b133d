use futures_util::task::AtomicWaker;
use std::collections::HashMap;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll};

/// (scope, tab) as a 128-bit hash: a fixed 16 bytes in the map and the [`Claim`], instead of a
/// string allocated per open stream. Its two halves are SipHash with the process's random key
/// (std's `RandomState`), each over its own domain byte and then the pair. Nobody outside the
/// process sees the key or the hashes, so nobody can aim two slots at each other, and by chance a
/// collision takes some 2^64 slots.
///
/// Two `u64` halves, not a `u128`: aligned to 8 bytes, a map entry (key and `Arc`) takes 24 bytes
/// instead of 32, in a table that is always partly empty.
type Key = [u64; 2];

fn key(scope: &str, tab: &str) -> Key {
    use std::hash::{BuildHasher, Hash, Hasher};
    static STATE: LazyLock<std::hash::RandomState> = LazyLock::new(std::hash::RandomState::new);
    let half = |domain: u8| {
        let mut hasher = STATE.build_hasher();
        domain.hash(&mut hasher);
        // a `str` hashes with an end marker, so no two (scope, tab) pairs feed the same bytes
        scope.hash(&mut hasher);
        tab.hash(&mut hasher);
        hasher.finish()
    };
    [half(0), half(1)]
}

/// Set once when a newer stream takes the slot; the holder's loop checks it without a lock.
#[derive(Debug, Default)]
struct TakeOver {
    taken: AtomicBool,
    waker: AtomicWaker,
    /// When the slot was claimed ([`claim_time`]): a notice from another node ends this stream
    /// only if its claim is newer, so a late or replayed notice cannot end a live stream.
    claimed_at: u64,
    /// The stream number of the holder, and of the stream it took the slot from (0: none).
    stream: u64,
    replaced: u64,
}

/// Microseconds since the Unix epoch, strictly increasing within the process. Nodes compare
/// their claims by it, so their clocks should agree to well under a reconnect interval (NTP).
pub(crate) fn claim_time() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

impl TakeOver {
    fn take_over(&self) {
        // stored: the old loop sees it even if it is not waiting right now
        self.taken.store(true, Ordering::SeqCst);
        self.waker.wake();
    }

    fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.taken.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.taken.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// One live stream per (scope key, tab): a new claim for the same key ends the previous stream's
/// loop at once. It is a map behind a mutex, not a process: without claims it costs nothing.
///
/// ```
/// use dstar::stream::StreamRegistry;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let registry = StreamRegistry::global();
/// let first = registry.claim("user-1", "tab-a");
/// let second = registry.claim("user-1", "tab-a"); // takes over
/// first.taken_over().await; // resolves at once
/// drop(first); // does not remove the newer entry
/// assert!(registry.len() >= 1);
/// drop(second);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct StreamRegistry {
    entries: Mutex<HashMap<Key, Arc<TakeOver>>>,
}

static GLOBAL: LazyLock<StreamRegistry> = LazyLock::new(StreamRegistry::default);

type Announce = Box<dyn Fn(&str, &str, u64) + Send + Sync>;
static ANNOUNCE: std::sync::OnceLock<Announce> = std::sync::OnceLock::new();

/// Installs the cross-node announcement of claims `(scope, tab, claimed_at)` (the Redis backend
/// does). The first one wins.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn set_announce(announce: impl Fn(&str, &str, u64) + Send + Sync + 'static) {
    let _ = ANNOUNCE.set(Box::new(announce));
}

impl StreamRegistry {
    /// The process-wide registry pages and [`start_stream`](super::start_stream) use.
    ///
    /// ```
    /// let n = dstar::stream::StreamRegistry::global().len();
    /// ```
    pub fn global() -> &'static StreamRegistry {
        &GLOBAL
    }

    /// Claims the slot for (`scope`, `tab`), telling the previous holder, if any, to stop.
    ///
    /// ```
    /// let claim = dstar::stream::StreamRegistry::global().claim("scope", "tab");
    /// ```
    pub fn claim(&'static self, scope: &str, tab: &str) -> Claim {
        self.claim_as(scope, tab, 0)
    }

    /// [`claim`](StreamRegistry::claim) by the page stream numbered `stream` (see
    /// [`superseded`](StreamRegistry::superseded)).
    ///
    /// ```
    /// let claim = dstar::stream::StreamRegistry::global().claim_as("claim-as-doc", "t", 7);
    /// ```
    pub fn claim_as(&'static self, scope: &str, tab: &str, stream: u64) -> Claim {
        let key = key(scope, tab);
        let claimed_at = claim_time();
        let mut entries = self.lock();
        let replaced = entries.get(&key).map_or(0, |old| old.stream);
        let flag = Arc::new(TakeOver {
            claimed_at,
            stream,
            replaced,
            ..TakeOver::default()
        });
        let previous = entries.insert(key, flag.clone());
        drop(entries);
        if let Some(old) = previous {
            old.take_over();
        }
        if let Some(announce) = ANNOUNCE.get() {
            // other nodes end their stream for this (scope, tab) too
            announce(scope, tab, claimed_at);
        }
        Claim {
            registry: self,
            key,
            flag,
        }
    }

    /// Ends the local stream holding (`scope`, `tab`), if any: a newer stream for the same tab
    /// opened on another node. Returns whether one was ended.
    ///
    /// ```
    /// let registry = dstar::stream::StreamRegistry::global();
    /// assert!(!registry.evict("nobody", "no-tab"));
    /// ```
    pub fn evict(&self, scope: &str, tab: &str) -> bool {
        self.evict_older_than(scope, tab, u64::MAX)
    }

    /// Ends the local stream holding (`scope`, `tab`) only if it was claimed before
    /// `claimed_at` (microseconds since the epoch): a notice that arrives late, out of order or
    /// replayed cannot end the stream that reconnected after it.
    ///
    /// ```
    /// let registry = dstar::stream::StreamRegistry::global();
    /// let claim = registry.claim("evict-doc", "t");
    /// assert!(!registry.evict_older_than("evict-doc", "t", 0)); // an older notice: kept
    /// assert!(registry.evict_older_than("evict-doc", "t", u64::MAX));
    /// # drop(claim);
    /// ```
    pub fn evict_older_than(&self, scope: &str, tab: &str, claimed_at: u64) -> bool {
        let mut entries = self.lock();
        let key = key(scope, tab);
        let older = entries
            .get(&key)
            .is_some_and(|flag| flag.claimed_at < claimed_at);
        if !older {
            return false;
        }
        let flag = entries.remove(&key).expect("checked above");
        drop(entries);
        flag.take_over();
        true
    }

    /// Whether the stream numbered `stream` lost its slot to another live stream of the same
    /// (scope, tab): two live tabs share a tab id. Its client must not take the slot back (they
    /// would evict each other forever); a new tab id ends the contest.
    ///
    /// ```
    /// let r = dstar::stream::StreamRegistry::global();
    /// let first = r.claim_as("superseded-doc", "t", 1);
    /// let second = r.claim_as("superseded-doc", "t", 2);
    /// assert!(r.superseded("superseded-doc", "t", 1));
    /// assert!(!r.superseded("superseded-doc", "t", 2));
    /// # drop((first, second));
    /// ```
    pub fn superseded(&self, scope: &str, tab: &str, stream: u64) -> bool {
        stream != 0
            && self.lock().get(&key(scope, tab)).is_some_and(|holder| {
                holder.replaced == stream && !holder.taken.load(Ordering::SeqCst)
            })
    }

    /// How many (scope, tab) slots are held.
    ///
    /// ```
    /// assert!(dstar::stream::StreamRegistry::global().len() < usize::MAX);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no slot is held.
    ///
    /// ```
    /// let _ = dstar::stream::StreamRegistry::global().is_empty();
    /// ```
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<TakeOver>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A held registry slot. Dropping it releases the slot, unless a newer claim already replaced it.
#[derive(Debug)]
pub struct Claim {
    registry: &'static StreamRegistry,
    key: Key,
    flag: Arc<TakeOver>,
}

impl Claim {
    /// Resolves when a newer stream of the same (scope, tab) has claimed the slot (at once if
    /// that already happened). One task waits on a claim: the stream that holds it. If several
    /// tasks wait on the same claim, only the one that polled last is woken.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let r = dstar::stream::StreamRegistry::global();
    /// let old = r.claim("doc", "t");
    /// let _new = r.claim("doc", "t");
    /// old.taken_over().await;
    /// # });
    /// ```
    pub async fn taken_over(&self) {
        poll_fn(|cx| self.poll_taken_over(cx)).await;
    }

    /// The poll form of [`taken_over`](Claim::taken_over): ready once a newer stream has the
    /// slot. Lock-free, so a loop can check it on every wake-up.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let r = dstar::stream::StreamRegistry::global();
    /// let claim = r.claim("poll-doc", "t");
    /// let pending = std::future::poll_fn(|cx| std::task::Poll::Ready(claim.poll_taken_over(cx).is_pending())).await;
    /// assert!(pending);
    /// # });
    /// ```
    pub fn poll_taken_over(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.flag.poll(cx)
    }

    /// Whether a newer stream has the slot by now: one atomic load, no waker registered. A loop
    /// that already registered its waker with [`poll_taken_over`](Claim::poll_taken_over) checks
    /// this on its later wake-ups (the takeover wakes the waker registered last).
    ///
    /// ```
    /// let r = dstar::stream::StreamRegistry::global();
    /// let old = r.claim("is-taken-doc", "t");
    /// assert!(!old.is_taken_over());
    /// let _new = r.claim("is-taken-doc", "t");
    /// assert!(old.is_taken_over());
    /// ```
    pub fn is_taken_over(&self) -> bool {
        self.flag.taken.load(Ordering::SeqCst)
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut entries = self.registry.lock();
        // only its own entry: a newer claim may hold the key by now
        if entries
            .get(&self.key)
            .is_some_and(|flag| Arc::ptr_eq(flag, &self.flag))
        {
            entries.remove(&self.key);
        }
    }
}

/// The scope a page stream is deduplicated in, per tab: the page's `stream_key` (the user, a
/// workspace) and the CSRF session when the token layer runs (else the app's session, with
/// [`App::sessions`](crate::App::sessions)). So a tab id that leaked cannot end
/// another user's stream: whoever sends it needs the same session cookie too. `None` (no
/// deduplication) for a page without `stream_key` when there is no session.
///
/// ```
/// let none = axum::http::Extensions::new();
/// assert_eq!(dstar::stream::dedup_scope("Chat", None, &none), None);
/// assert_eq!(dstar::stream::dedup_scope("Chat", Some("user-7".into()), &none).as_deref(), Some("user-7"));
/// ```
pub fn dedup_scope(
    page: &str,
    key: Option<String>,
    extensions: &axum::http::Extensions,
) -> Option<String> {
    let session =
        crate::csrf::session_id(extensions).or_else(|| crate::session::scope_of(extensions));
    match (key, session) {
        (Some(key), Some(session)) => Some(format!("{key}\u{1f}{session}")),
        (Some(key), None) => Some(key),
        (None, Some(session)) => Some(format!("{page}\u{1f}{session}")),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn keys_tell_scope_and_tab_apart() {
        assert_eq!(key("user-1", "tab"), key("user-1", "tab"));
        assert_ne!(key("user-1", "tab"), key("user-1", "tab2"));
        // the same bytes split differently are different slots
        assert_ne!(key("ab", "c"), key("a", "bc"));
        assert_ne!(key("", "abc"), key("abc", ""));
    }
}
