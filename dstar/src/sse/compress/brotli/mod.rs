//! dstar's own brotli writer for event streams
//! ([`StreamBrotli::Delta`](super::StreamBrotli::Delta)): each event is written as copies from the
//! events the stream sent before it, plus the bytes that changed. The output is plain brotli
//! (RFC 7932) that any decoder reads; what follows is which parts of the format it uses, and why.
//!
//! - [`delta`]: one stream's writer, what it keeps and what each event becomes;
//! - [`matcher`]: the copies and literals that make an event out of the ones before it;
//! - [`bits`]: the bit level (prefix codes, command and distance codes);
//! - [`share`]: what streams sent the same events share.
//!
//! **The window.** `lgwin` is 10–24 (a window of 2^lgwin bytes: the second number of
//! [`Compression::brotli`](super::Compression::brotli)), written once as the stream header's WBITS,
//! before the first event (or, for a stream with none, before its end). No copy reaches further
//! back than brotli allows in that window, 2^lgwin − 16 bytes, so no distance is ever read as a
//! reference into the built-in dictionary. The writer keeps the stream's last events as they were
//! sent, not a ring buffer: the fewest recent ones that add up to its largest event so far or
//! 8 KiB, whichever is more, but no more than the window reaches, and never more than 64 events;
//! the newest one is always kept, even when it is bigger than the window (only its last
//! 2^lgwin − 16 bytes can be copied from).
//!
//! **Meta-blocks.** Each event is one compressed meta-block (several of at most 4 MiB each for a
//! bigger event), never the last one: its length with the fewest nibbles brotli allows, one block
//! type of each kind (no block switches), no postfix bits and no direct distance codes, one literal
//! context mode with one literal and one distance tree (no context maps, so no context modelling),
//! then a literal, a command and a distance prefix code built from that meta-block's own counts
//! (Huffman codes of at most 15 bits, in brotli's simple form for up to four symbols, else in the
//! complex form with run-length coded lengths). No uncompressed meta-blocks, no built-in
//! dictionary. When an event's bits do not end on a byte, an empty metadata block (MSKIPBYTES 0)
//! pads them to the byte: the event then decodes as soon as it arrives, with no bits held back for
//! the next one. The stream ends with an empty last meta-block (ISLAST, ISLASTEMPTY).
//!
//! **The delta against earlier events.** The events kept (as far as the window reaches) and the new
//! one are laid end to end in a buffer of the thread's, and the matcher makes the new bytes out of
//! copies from anywhere before them, the new event's own earlier bytes included. At each position
//! it tries the last copy's distance first (at the start of an event, the last event's length: a
//! re-render sits exactly one event back), then a table of 2^14 four-byte hashes shared by every
//! stream on the thread (the history indexed every 8th byte, and only once the last distance
//! misses; the new bytes at the positions the matcher stops at; entries of earlier calls are
//! recognised as stale, so the table is not cleared between calls). A short copy gives way to a
//! better one starting up to 16 bytes on, scored by how far its distance keeps matching past small
//! changes; after a long copy stops, the same distance (or one up to 8 bytes off) is looked for up
//! to 16 bytes past it, so a changed value in a re-render costs a few literals and one more copy.
//! The writer tracks the decoder's last distance (it wrote every command the decoder has seen; it
//! starts at 4): a copy at that distance costs no distance bits, through the insert-and-copy
//! symbols that imply it (0–127) when its lengths are short enough, else distance symbol 0. Any
//! other distance is written out with symbols 16–63 and becomes the last one; the three older
//! entries of brotli's ring of distances are never used.
//!
//! **Streams in step.** A live page sends the same render to every open stream. Events of 1–256 KiB
//! are interned by content (a process-wide table of at most 4 MiB, emptied when full), so those
//! streams keep one copy of each render. Once a stream has started (so its next output starts on a
//! byte), an update whose kept events and new event are all interned depends only on those events
//! (by address and length), the last event's length, the decoder's last distance and the window:
//! the first stream to write it remembers the bytes and the last distance after them (a
//! process-wide table of 256 steps, holding the events so that no other allocation can take their
//! addresses), and the streams in step with it take them instead of compressing the update again.
//! Streams out of step, or with events outside that range, compress their own.

mod bits;
mod delta;
mod matcher;
mod share;

#[cfg(test)]
mod crosscheck;

pub(super) use delta::DeltaBrotli;

#[cfg(feature = "fuzzing")]
impl super::StreamBrotli {
    /// Not public API: a stream of [`StreamBrotli::Delta`](super::StreamBrotli::Delta) with a
    /// window of 2^`lgwin` bytes (10–24), for dstar's fuzz targets (`fuzz/`, with the `fuzzing`
    /// feature). `Some(event)` compresses an event (the bytes to send, which end on a byte and
    /// decode to all of it); `None` ends the stream.
    #[doc(hidden)]
    pub fn __fuzz_writer(lgwin: u32) -> impl FnMut(Option<&[u8]>) -> Vec<u8> + Send {
        let mut writer = DeltaBrotli::new(lgwin);
        move |event| match event {
            Some(event) => writer.encode(bytes::Bytes::copy_from_slice(event)),
            None => writer.finish(),
        }
    }
}
