//! The places of [`Compression::max_streams`](super::Compression::max_streams): a compressed
//! stream takes one when it starts and gives it back when it ends or its client goes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One of the [`Compression::max_streams`](super::Compression::max_streams) places, held by a
/// compressed stream until it ends.
pub(super) struct StreamSlot(Arc<AtomicUsize>);

impl StreamSlot {
    pub(super) fn take(streams: &Arc<AtomicUsize>, max: usize) -> Option<StreamSlot> {
        streams
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| StreamSlot(streams.clone()))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
