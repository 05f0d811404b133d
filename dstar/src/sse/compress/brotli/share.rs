//! What streams share in [`super::delta`]: the events they keep (a live page sends the
//! same render to every stream), and the bytes of an update that streams in step would each
//! compute the same.

use bytes::Bytes;
use std::collections::VecDeque;

/// The events other streams keep, by content: a page re-rendered for every open stream makes the
/// same bytes each time, and one copy of them (warm in the cache, since every stream reads it on
/// the next update) serves all the streams' histories.
static SHARED: std::sync::Mutex<Option<SharedEvents>> = std::sync::Mutex::new(None);

/// At most this many bytes of events are shared (the table is emptied when it would hold more).
const MAX_SHARED: usize = 4 << 20;
/// Events shorter than this are kept as they are (not worth the lookup), and so are events
/// longer than `MAX_SHARED_EVENT` (one would crowd out the rest).
pub(super) const MIN_SHARED: usize = 1 << 10;
pub(super) const MAX_SHARED_EVENT: usize = 256 << 10;

#[derive(Default)]
struct SharedEvents {
    by_hash: std::collections::HashMap<u64, Bytes>,
    bytes: usize,
}

/// `frame`, or an identical event some stream already keeps.
///
/// A live page's shared render hands every stream the same allocation: when `frame` is the one
/// this thread was last handed back, it is returned as it is, with no hash and no compare (the
/// copy kept here holds the allocation, so its address names no other event meanwhile).
pub(super) fn shared(frame: Bytes) -> Bytes {
    thread_local! {
        static LAST: std::cell::RefCell<Option<Bytes>> = const { std::cell::RefCell::new(None) };
    }
    let same = LAST.with_borrow(|last| {
        last.as_ref()
            .is_some_and(|last| last.as_ptr() == frame.as_ptr() && last.len() == frame.len())
    });
    if same {
        return frame;
    }
    let kept = share_in(&SHARED, frame);
    if (MIN_SHARED..=MAX_SHARED_EVENT).contains(&kept.len()) {
        LAST.set(Some(kept.clone()));
    }
    kept
}

/// [`shared`] with the table given (the tests use their own). The lock is held for a map lookup
/// or insert only: the full compare, and dropping a cleared table, happen outside it.
fn share_in(table: &std::sync::Mutex<Option<SharedEvents>>, frame: Bytes) -> Bytes {
    if !(MIN_SHARED..=MAX_SHARED_EVENT).contains(&frame.len()) {
        return frame;
    }
    let key = content_hash(&frame);
    let lock = || {
        table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let kept = lock()
        .get_or_insert_with(SharedEvents::default)
        .by_hash
        .get(&key)
        .cloned();
    if let Some(kept) = kept {
        if kept == frame {
            return kept;
        }
    }
    let cleared = {
        let mut table = lock();
        let table = table.get_or_insert_with(SharedEvents::default);
        let cleared = (table.bytes + frame.len() > MAX_SHARED).then(|| {
            table.bytes = 0;
            std::mem::take(&mut table.by_hash)
        });
        table.bytes += frame.len();
        if let Some(old) = table.by_hash.insert(key, frame.clone()) {
            table.bytes -= old.len();
        }
        cleared
    };
    drop(cleared);
    frame
}

/// A fast hash of an event's bytes, eight at a time (equal events are compared in full).
fn content_hash(bytes: &[u8]) -> u64 {
    // an odd constant with well-spread bits (as in FxHash)
    const MIX: u64 = 0x517C_C1B7_2722_0A95;
    let mut h = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let v = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ v).wrapping_mul(MIX);
    }
    for &b in words.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(MIX);
    }
    h
}

/// One encode's inputs, for streams in step: the events the history and the new event are (by
/// allocation), and the stream's state that the output depends on.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct Step {
    pub(super) events: Vec<(usize, usize)>,
    pub(super) last_len: usize,
    pub(super) last_distance: u32,
    pub(super) lgwin: u32,
}

/// What a step wrote, with the events it names held, so that no other allocation can take their
/// addresses while the entry exists.
struct Written {
    _events: Vec<Bytes>,
    out: Vec<u8>,
    last_distance: u32,
}

/// The steps written lately, shared by all streams (cleared when it holds `MAX_STEPS`).
static WRITTEN: std::sync::Mutex<Option<std::collections::HashMap<Step, Written>>> =
    std::sync::Mutex::new(None);
const MAX_STEPS: usize = 256;

impl Step {
    /// The bytes another stream wrote for this step, and its last distance after them.
    pub(super) fn recall(&self) -> Option<(Vec<u8>, u32)> {
        let written = WRITTEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let hit = written.as_ref()?.get(self)?;
        Some((hit.out.clone(), hit.last_distance))
    }

    pub(super) fn remember(
        self,
        history: &VecDeque<Bytes>,
        frame: &Bytes,
        out: &[u8],
        last_distance: u32,
    ) {
        let events = history.iter().chain([frame]).cloned().collect();
        let entry = Written {
            _events: events,
            out: out.to_vec(),
            last_distance,
        };
        let cleared = {
            let mut written = WRITTEN
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let written = written.get_or_insert_with(Default::default);
            let cleared = (written.len() >= MAX_STEPS).then(|| std::mem::take(written));
            written.insert(self, entry);
            cleared
        };
        drop(cleared);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_sent_to_several_streams_are_kept_once() {
        // a table of the test's own: the process-wide one is shared with the other tests
        let table = std::sync::Mutex::new(None);
        let event = |n: u8| Bytes::from(vec![n; 4096]);
        let first = share_in(&table, event(1));
        let second = share_in(&table, event(1));
        assert_eq!(first.as_ptr(), second.as_ptr(), "two copies of one event");
        // a different event is its own; a small one is kept as it is
        let other = share_in(&table, event(2));
        assert_ne!(other.as_ptr(), first.as_ptr());
        let small = Bytes::from_static(b"event: datastar-patch-signals\ndata: signals {}\n\n");
        assert_eq!(share_in(&table, small.clone()).as_ptr(), small.as_ptr());
    }
}
