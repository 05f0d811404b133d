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

/// A waker that counts its wake-ups, for tests of what wakes whom.
#[cfg(test)]
pub(crate) struct Count(std::sync::atomic::AtomicUsize);

#[cfg(test)]
impl Count {
    /// A waker, and what it counts.
    pub(crate) fn waker() -> (Waker, std::sync::Arc<Count>) {
        let count = std::sync::Arc::new(Count(Default::default()));
        (Waker::from(count.clone()), count)
    }

    /// Wake-ups so far.
    pub(crate) fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
impl std::task::Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_slots_are_woken_and_released_ones_reused() {
        let mut slots = WakerSlots::default();
        let (a, b) = (slots.take(), slots.take());
        let (waker, woken) = Count::waker();
        slots.set(a, &waker);
        slots.wake_all();
        assert_eq!(woken.get(), 1, "only the slot with a waker");
        slots.release(a);
        slots.wake_all();
        assert_eq!(woken.get(), 1, "a released slot is not woken");
        assert_eq!(slots.take(), a);
        assert_ne!(a, b);
        assert_eq!(slots.slots(), 2);
    }
}
