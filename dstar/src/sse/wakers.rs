//! A slab of wakers: one slot per waiting stream, all woken at once (a live page's frame, a beat
//! of a liveness clock, shutdown). A stream keeps its slot's number, and sets its waker there
//! only when its task's waker changes; a freed slot is taken by the next stream.

use std::task::Waker;

#[derive(Default)]
pub(crate) struct WakerSlots {
    wakers: Vec<Option<Waker>>,
    free: Vec<u32>,
}

impl WakerSlots {
    /// A slot, empty until [`set`](WakerSlots::set).
    pub(crate) fn take(&mut self) -> u32 {
        self.free.pop().unwrap_or_else(|| {
            self.wakers.push(None);
            (self.wakers.len() - 1) as u32
        })
    }

    /// Wakes `waker` from now on, in `slot`'s place.
    pub(crate) fn set(&mut self, slot: u32, waker: &Waker) {
        self.wakers[slot as usize] = Some(waker.clone());
    }

    /// Gives `slot` back, dropping its waker.
    pub(crate) fn release(&mut self, slot: u32) {
        self.wakers[slot as usize] = None;
        self.free.push(slot);
    }

    /// Wakes every waker set.
    pub(crate) fn wake_all(&self) {
        for waker in self.wakers.iter().flatten() {
            waker.wake_by_ref();
        }
    }

    /// How many slots were ever made (taken or free).
    #[cfg(test)]
    pub(crate) fn slots(&self) -> usize {
        self.wakers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Count(AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn set_slots_are_woken_and_released_ones_reused() {
        let mut slots = WakerSlots::default();
        let (a, b) = (slots.take(), slots.take());
        let woken = Arc::new(Count(AtomicUsize::new(0)));
        slots.set(a, &Waker::from(woken.clone()));
        slots.wake_all();
        assert_eq!(
            woken.0.load(Ordering::SeqCst),
            1,
            "only the slot with a waker"
        );
        slots.release(a);
        slots.wake_all();
        assert_eq!(
            woken.0.load(Ordering::SeqCst),
            1,
            "a released slot is not woken"
        );
        assert_eq!(slots.take(), a);
        assert_ne!(a, b);
        assert_eq!(slots.slots(), 2);
    }
}
