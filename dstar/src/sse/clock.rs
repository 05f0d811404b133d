//! The liveness clock of page streams: one beat per idle-check period for every stream with that
//! period, and the waker [`shutdown`](super::shutdown) wakes.
//!
//! A page stream checks its client when a whole period went by without a write (a comment, whose
//! write fails if the client is gone). With a timer of its own, every open stream would hold a
//! tokio `Sleep` (112 bytes), and an entry in the shutdown set besides. Here a stream holds a seat
//! at its period's [`Clock`]: a slot for its task's waker, which each beat and shutdown wake, and
//! the number of the beat it saw last. One thread beats every clock; it sleeps between beats,
//! and streams of any runtime share it.

use super::wakers::WakerSlots;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

/// The streams that check their clients every `period`.
pub(crate) struct Clock {
    period: Duration,
    /// Beats so far.
    beats: AtomicU64,
    /// Each seated stream's waker, in shards so that seating and leaving rarely wait.
    shards: [Mutex<WakerSlots>; SHARDS],
    next_shard: AtomicUsize,
}

const SHARDS: usize = 16;

/// Every clock made so far (one per period in use: a handful), and whether the thread that beats
/// them must look at the list again.
struct Clocks {
    list: Mutex<(Vec<&'static Clock>, bool)>,
    changed: Condvar,
}

static CLOCKS: LazyLock<Clocks> = LazyLock::new(|| Clocks {
    list: Mutex::new((Vec::new(), false)),
    changed: Condvar::new(),
});

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The longest period a clock beats with: a stream whose `idle_check` is longer (`Duration::MAX`,
/// say) checks its client once a year.
const LONGEST: Duration = Duration::from_secs(365 * 24 * 3600);

/// The liveness period an `idle_check` stands for: between a millisecond and a year (so that
/// adding it to an instant never overflows).
pub(crate) fn period(idle_check: Duration) -> Duration {
    idle_check.clamp(Duration::from_millis(1), LONGEST)
}

/// The clock of `period` (see [`period`]), made on first use; the thread that beats the clocks
/// starts with the first one. Clocks live as long as the process, one per period in use: pages
/// name a handful (`idle_check`), not one per stream.
pub(crate) fn clock(period: Duration) -> &'static Clock {
    let period = self::period(period);
    let mut clocks = lock(&CLOCKS.list);
    if let Some(found) = clocks.0.iter().find(|c| c.period == period) {
        return found;
    }
    // a clock lives as long as the process: there is one per period a page uses
    let made: &'static Clock = Box::leak(Box::new(Clock {
        period,
        beats: AtomicU64::new(0),
        shards: std::array::from_fn(|_| Mutex::new(WakerSlots::default())),
        next_shard: AtomicUsize::new(0),
    }));
    if clocks.0.is_empty() {
        let started = std::thread::Builder::new()
            .name("dstar-liveness".into())
            .spawn(beat_forever);
        if let Err(e) = started {
            tracing::error!(error = %e, "dstar: the liveness thread did not start; idle streams will not check their clients");
        }
    }
    clocks.0.push(made);
    clocks.1 = true;
    CLOCKS.changed.notify_one();
    made
}

/// A clock no thread beats: a test beats it by hand ([`Clock::beat_now`]).
#[cfg(test)]
pub(crate) fn by_hand(period: Duration) -> &'static Clock {
    Box::leak(Box::new(Clock {
        period,
        beats: AtomicU64::new(0),
        shards: std::array::from_fn(|_| Mutex::new(WakerSlots::default())),
        next_shard: AtomicUsize::new(0),
    }))
}

#[cfg(test)]
impl Clock {
    /// One beat, now.
    pub(crate) fn beat_now(&self) {
        self.beat();
    }
}

/// Wakes every stream seated at any clock (shutdown).
pub(crate) fn wake_all_clocks() {
    let clocks = lock(&CLOCKS.list).0.clone();
    for clock in clocks {
        clock.wake_all();
    }
}

/// The thread: beats each clock once per its period, for the life of the process.
fn beat_forever() {
    let mut due: Vec<(&'static Clock, Instant)> = Vec::new();
    let mut clocks = lock(&CLOCKS.list);
    loop {
        if std::mem::take(&mut clocks.1) {
            let now = Instant::now();
            for clock in &clocks.0 {
                if !due.iter().any(|(c, _)| std::ptr::eq(*c, *clock)) {
                    due.push((clock, now + clock.period));
                }
            }
        }
        let now = Instant::now();
        let next = due.iter().map(|(_, at)| *at).min();
        match next {
            Some(at) if at <= now => {
                drop(clocks);
                for (clock, at) in &mut due {
                    if *at <= now {
                        clock.beat();
                        // a beat that came late (a busy machine) is not made up for: the next
                        // one is a whole period away at least
                        let next = *at + clock.period;
                        *at = if next > now { next } else { now + clock.period };
                    }
                }
                clocks = lock(&CLOCKS.list);
            }
            Some(at) => {
                clocks = CLOCKS
                    .changed
                    .wait_timeout(clocks, at - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            None => {
                clocks = CLOCKS
                    .changed
                    .wait(clocks)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

impl Clock {
    /// Beats so far: a stream that sees a new number checks its client, unless it wrote since the
    /// beat before.
    pub(crate) fn beats(&self) -> u64 {
        self.beats.load(Ordering::Acquire)
    }

    fn beat(&self) {
        self.beats.fetch_add(1, Ordering::Release);
        self.wake_all();
    }

    fn wake_all(&self) {
        for shard in &self.shards {
            lock(shard).wake_all();
        }
    }

    /// A seat for one stream, until dropped.
    pub(crate) fn seat(&'static self) -> Seat {
        let shard = self.next_shard.fetch_add(1, Ordering::Relaxed) % SHARDS;
        let slot = lock(&self.shards[shard]).take();
        Seat {
            clock: self,
            shard: shard as u32,
            slot,
        }
    }
}

/// A stream's place at a [`Clock`]: its waker is woken on each beat and at shutdown.
pub(crate) struct Seat {
    clock: &'static Clock,
    shard: u32,
    slot: u32,
}

impl Seat {
    /// Wakes `waker` from now on. Call it when the stream's waker changed, not on every wait: it
    /// takes a lock.
    pub(crate) fn park(&self, waker: &Waker) {
        lock(&self.clock.shards[self.shard as usize]).set(self.slot, waker);
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        lock(&self.clock.shards[self.shard as usize]).release(self.slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::wakers::Count;

    #[test]
    fn a_clock_beats_once_per_period_and_wakes_its_seats() {
        let clock = clock(Duration::from_millis(7));
        assert!(std::ptr::eq(clock, super::clock(Duration::from_millis(7))));
        let seat = clock.seat();
        let (waker, woken) = Count::waker();
        seat.park(&waker);
        let start = clock.beats();
        let deadline = Instant::now() + Duration::from_secs(10);
        while clock.beats() < start + 3 {
            assert!(Instant::now() < deadline, "the clock beats");
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(woken.get() >= 2);
        // a seat that leaves gives its slot back: no beat wakes it any more
        drop(seat);
        let after = woken.get();
        clock.beat();
        assert_eq!(woken.get(), after);
    }

    #[test]
    fn a_period_too_long_for_the_clock_is_a_year() {
        let clock = clock(Duration::MAX);
        assert_eq!(clock.period, LONGEST);
    }
}
