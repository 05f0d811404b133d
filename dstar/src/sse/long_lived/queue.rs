//! The bounded queue between a stream's writers and its body, with the wakers of both sides.

use crate::sse::lifecycle::Parked;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::Waker;

/// The bounded queue between the writers and the body: a few words until it is used, instead of a
/// channel's preallocated block (this is per open stream, so it matters at thousands of streams).
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    pub(super) capacity: usize,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) queue: Writes,
    pub(super) senders: usize,
    pub(super) closed: bool,
    pub(super) rx_waker: Option<Waker>,
    pub(super) tx_wakers: Vec<Waker>,
}

/// The writes waiting for the body, oldest first. The oldest sits in a slot of its own, so a
/// stream whose client keeps up (one write waiting at a time, the usual case) never allocates the
/// overflow queue: it would stay allocated, empty, for as long as the stream is open.
#[derive(Debug, Default)]
pub(super) struct Writes {
    next: Option<Bytes>,
    more: VecDeque<Bytes>,
}

impl Writes {
    pub(super) fn len(&self) -> usize {
        usize::from(self.next.is_some()) + self.more.len()
    }

    pub(super) fn push_back(&mut self, bytes: Bytes) {
        if self.next.is_none() {
            self.next = Some(bytes);
        } else {
            self.more.push_back(bytes);
        }
    }

    pub(super) fn pop_front(&mut self) -> Option<Bytes> {
        let bytes = self.next.take()?;
        self.next = self.more.pop_front();
        Some(bytes)
    }

    pub(super) fn clear(&mut self) {
        self.next = None;
        self.more = VecDeque::new();
    }
}

impl Parked for Shared {
    fn wake_for_shutdown(&self) {
        if let Some(w) = self.lock().rx_waker.take() {
            w.wake();
        }
    }
}

impl Shared {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::Writes;
    use bytes::Bytes;

    #[test]
    fn writes_leave_in_the_order_they_came() {
        let mut writes = Writes::default();
        assert_eq!(writes.pop_front(), None);
        for n in 0..3u8 {
            writes.push_back(Bytes::from(vec![n]));
        }
        assert_eq!(writes.len(), 3);
        assert_eq!(writes.pop_front().as_deref(), Some(&[0u8][..]));
        writes.push_back(Bytes::from_static(b"\x03"));
        let rest: Vec<u8> = std::iter::from_fn(|| writes.pop_front())
            .map(|b| b[0])
            .collect();
        assert_eq!(rest, [1, 2, 3]);
        assert_eq!(writes.len(), 0);
    }

    #[test]
    fn a_stream_that_keeps_up_never_allocates_the_overflow() {
        let mut writes = Writes::default();
        for _ in 0..100 {
            writes.push_back(Bytes::from_static(b"x"));
            assert!(writes.pop_front().is_some());
        }
        assert_eq!(writes.more.capacity(), 0);
    }
}
