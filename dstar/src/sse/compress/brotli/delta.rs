//! dstar's own brotli writer for event streams: each event becomes one brotli meta-block of
//! copies from what the stream sent before, plus the bytes that changed.
//!
//! A fat-morph page sends its whole view again on every change, so nearly every byte of an event
//! is in the last one. A general encoder finds that out the hard way: the reference library, at
//! the qualities that look past a flush, stores every position of every match into a hash table of
//! 256–512 KiB per stream, and with hundreds of streams each update finds its table cold (about
//! 2.5× the CPU of sending the update uncompressed, and 0.6 MB per stream). This writer keeps only
//! the stream's last events as they were sent (at least its largest event's worth, or 8 KiB),
//! lays them end to end with the new one in a buffer of the thread's, indexes them sparsely into
//! a small table shared by every stream on the thread, and looks for long matches: a re-render is
//! found as a few long copies. Streams sent the same render keep one copy of it, and streams in
//! step (the same renders so far) compute an update once.
//!
//! The output is plain brotli (RFC 7932) that any decoder reads: one literal, one command and one
//! distance prefix code per meta-block, no context modelling, no built-in dictionary. The writer
//! tracks the decoder's last distance (it wrote every command the decoder has seen), so a copy
//! at the same distance as the last one costs no distance bits. After each event, an empty
//! metadata block ends the byte, so the event decodes as soon as it arrives.

use super::bits::{
    BitWriter, COMMANDS, Command, DISTANCES, FIRST_LAST_DISTANCE, LITERALS, PrefixCode,
};
use super::matcher::{Found, find};
use super::share::{MAX_SHARED_EVENT, MIN_SHARED, Step, shared};
use bytes::Bytes;
use std::cell::RefCell;
use std::collections::VecDeque;

/// The least history kept, so small events still find the ones before them.
const MIN_HISTORY: usize = 8 << 10;
/// The most events kept as history (a stream of tiny events would keep thousands).
const MAX_EVENTS: usize = 64;
/// A thread's scratch buffer past this size is given back when an event uses under a quarter of
/// it.
const MAX_SCRATCH: usize = 1 << 20;
/// The most one meta-block holds (brotli allows 16 MiB); a bigger event is written as several.
const MAX_META_BLOCK: usize = 1 << 22;

/// One stream's brotli writer.
#[derive(Debug)]
pub(in crate::sse::compress) struct DeltaBrotli {
    /// The stream's last bytes, uncompressed: what the next event may copy from.
    history: VecDeque<Bytes>,
    /// Their total length.
    history_len: usize,
    /// The largest event so far: the history keeps at least that much.
    largest: usize,
    /// The last event's length: where the next one is first looked for.
    last_len: usize,
    /// The decoder's last distance: a copy at it costs no distance bits.
    last_distance: u32,
    /// The window (2^lgwin bytes): no copy reaches further back than it, less 16.
    lgwin: u32,
    /// Whether the stream header (the window size) is written.
    started: bool,
}

thread_local! {
    /// Where the history and the new event are laid end to end for the matcher: one buffer per
    /// thread, warm in its cache, instead of a copy of the history per stream.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Whether an event is kept once for every stream that sends it (see `share.rs`).
fn shareable(event: &Bytes) -> bool {
    (MIN_SHARED..=MAX_SHARED_EVENT).contains(&event.len())
}

impl DeltaBrotli {
    /// A writer with a window of 2^`lgwin` bytes (10–24).
    pub(in crate::sse::compress) fn new(lgwin: u32) -> Self {
        DeltaBrotli {
            history: VecDeque::new(),
            history_len: 0,
            largest: 0,
            last_len: 0,
            last_distance: FIRST_LAST_DISTANCE,
            lgwin: lgwin.clamp(10, 24),
            started: false,
        }
    }

    fn max_distance(&self) -> usize {
        (1 << self.lgwin) - 16
    }

    /// Compresses one event (or batch of events): what it returns ends on a byte boundary and
    /// decodes to all of `frame`. The frame is kept (not copied) as history for the next ones.
    pub(in crate::sse::compress) fn encode(&mut self, frame: Bytes) -> Vec<u8> {
        if frame.is_empty() {
            return Vec::new();
        }
        let frame = shared(frame);
        // streams in step (the same shared events so far, the same new one) write the same
        // bytes: the first computes them, the others take them
        let step = self.step(&frame);
        let out = match step.as_ref().and_then(Step::recall) {
            Some((out, last_distance)) => {
                self.last_distance = last_distance;
                self.last_len = frame.len();
                out
            }
            None => {
                let fresh = self.fresh(&frame);
                let out = self.compress(&frame, fresh);
                if let Some(step) = step {
                    let history = if fresh {
                        &VecDeque::new()
                    } else {
                        &self.history
                    };
                    step.remember(history, &frame, &out, self.last_distance);
                }
                out
            }
        };
        self.largest = self.largest.max(frame.len());
        self.history_len += frame.len();
        self.history.push_back(frame);
        // the fewest recent events that still hold `keep` bytes, within the window
        let keep = self.largest.max(MIN_HISTORY).min(self.max_distance());
        while let Some(oldest) = self.history.front() {
            let without = self.history_len - oldest.len();
            if without >= keep || self.history.len() > MAX_EVENTS {
                self.history_len = without;
                self.history.pop_front();
            } else {
                break;
            }
        }
        out
    }

    /// What this encode depends on, when it can be shared: the stream has started (so its output
    /// starts on a byte), and its history and the new event are all shared events (the same
    /// allocation is the same bytes).
    ///
    /// A stream's first shared event after events of its own (a page stream's first event is its
    /// id) is compressed [fresh](DeltaBrotli::fresh), so it is a step too: ten thousand streams
    /// that open and get the same first render compute it once, not once each.
    fn step(&self, frame: &Bytes) -> Option<Step> {
        if !self.started || !shareable(frame) {
            return None;
        }
        let fresh = self.fresh(frame);
        if !fresh && !self.history.iter().all(shareable) {
            return None;
        }
        let history = self.history.iter().filter(|_| !fresh);
        let events = history
            .chain([frame])
            .map(|b| (b.as_ptr() as usize, b.len()))
            .collect();
        Some(Step {
            events,
            last_len: if fresh { 0 } else { self.last_len },
            last_distance: self.last_distance,
            lgwin: self.lgwin,
        })
    }

    /// Whether `frame` is compressed without the history: a shared event whose stream holds no
    /// shared event yet, only small events of its own (its id), which a render has nothing in
    /// common with. Then the output depends on nothing of the stream but its last distance, and
    /// streams in that state write the same bytes. The decoder still holds those events: leaving
    /// a prefix of the window unused is always valid.
    fn fresh(&self, frame: &Bytes) -> bool {
        self.started && shareable(frame) && !self.history.iter().any(shareable)
    }

    /// Compresses `frame` after the history, or on its own when `fresh`.
    fn compress(&mut self, frame: &[u8], fresh: bool) -> Vec<u8> {
        // an update of a re-rendered page takes a few dozen bytes
        let mut w = BitWriter::with_capacity(256);
        self.start(&mut w);
        let max_distance = self.max_distance();
        if fresh {
            // as a stream in step would: no history, and no guess from the last event's length
            self.last_len = 0;
        }
        SCRATCH.with(|scratch| {
            let mut buf = scratch.borrow_mut();
            buf.clear();
            // only the history within the window: nothing further back can be copied from
            let mut skip = self.history_len.saturating_sub(max_distance);
            for past in self.history.iter().filter(|_| !fresh) {
                let cut = skip.min(past.len());
                buf.extend_from_slice(&past[cut..]);
                skip -= cut;
            }
            let mut from = buf.len();
            buf.extend_from_slice(frame);
            while from < buf.len() {
                let end = (from + MAX_META_BLOCK).min(buf.len());
                // each meta-block sees its window and itself: at most 16 MiB + 4 MiB, so
                // positions fit the match table's u32s
                let window = from.saturating_sub(max_distance);
                meta_block(
                    &buf[window..end],
                    from - window,
                    max_distance,
                    self.last_len,
                    &mut self.last_distance,
                    &mut w,
                );
                self.last_len = end - from;
                from = end;
            }
            // given back after an event far bigger than the usual ones, not after each big one
            if buf.capacity() > MAX_SCRATCH && buf.len() < buf.capacity() / 4 {
                *buf = Vec::new();
            }
        });
        // an empty metadata block (ISLAST 0, MNIBBLES 3, reserved 0, MSKIPBYTES 0) whose end
        // pads to the byte: the event is decodable now, without waiting for the next one
        if !w.is_aligned() {
            w.write(6, 0b00_0110);
            w.align();
        }
        w.take()
    }

    /// The end of the stream: a last, empty meta-block.
    pub(in crate::sse::compress) fn finish(&mut self) -> Vec<u8> {
        let mut w = BitWriter::default();
        self.start(&mut w);
        w.write(2, 0b11); // ISLAST, ISLASTEMPTY
        w.align();
        self.history = VecDeque::new();
        self.history_len = 0;
        w.take()
    }

    /// The stream header: the window size (WBITS), once.
    fn start(&mut self, w: &mut BitWriter) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        match self.lgwin {
            16 => w.write(1, 0),
            17 => w.write(7, 1),
            l if l > 17 => w.write(4, u64::from(((l - 17) << 1) | 1)),
            l => w.write(7, u64::from(((l - 8) << 4) | 1)),
        }
    }
}

/// Writes `buf[from..]` as one compressed meta-block, copying from what precedes it.
///
/// `guess` is where the first copy is looked for (the last event's length); `last_distance` is
/// the decoder's last distance, which the commands use and update.
fn meta_block(
    buf: &[u8],
    from: usize,
    max_distance: usize,
    guess: usize,
    last_distance: &mut u32,
    w: &mut BitWriter,
) {
    let (found, tail) = find(buf, from, max_distance, guess);
    // the last literals, if any: an insert with no copy (the meta-block ends after them)
    let last = (tail < buf.len()).then(|| Found {
        literals: buf.len() - tail,
        len: 0,
        distance: 0,
    });

    // the commands, and the counts their prefix codes are built from
    let mut commands = Vec::with_capacity(found.len() + 1);
    let mut literal_counts = [0u32; LITERALS.0];
    let mut command_counts = [0u32; COMMANDS.0];
    let mut distance_counts = [0u32; DISTANCES.0];
    let mut at = from;
    for f in found.iter().chain(&last) {
        let command = Command::new(
            f.literals as u32,
            f.len as u32,
            f.distance as u32,
            last_distance,
        );
        for &b in &buf[at..at + f.literals] {
            literal_counts[usize::from(b)] += 1;
        }
        command_counts[usize::from(command.symbol)] += 1;
        if let Some((symbol, _, _)) = command.distance {
            distance_counts[usize::from(symbol)] += 1;
        }
        commands.push(command);
        at += f.literals + f.len;
    }
    // a prefix code needs one symbol at least, used or not
    if literal_counts.iter().all(|&c| c == 0) {
        literal_counts[0] = 1;
    }
    if distance_counts.iter().all(|&c| c == 0) {
        distance_counts[16] = 1;
    }

    // the header: not last, the length, compressed, one block type of each kind, no postfix
    // bits or direct distance codes, one context mode, one literal and one distance tree
    let len = buf.len() - from;
    let bits = usize::BITS - (len - 1).max(1).leading_zeros();
    let nibbles = bits.div_ceil(4).max(4);
    w.write(1, 0);
    w.write(2, u64::from(nibbles - 4));
    w.write(nibbles * 4, (len - 1) as u64);
    w.write(1, 0);
    w.write(3, 0);
    w.write(6, 0);
    w.write(2, 0);
    w.write(2, 0);
    let literal_code = PrefixCode::build_and_store(&literal_counts, LITERALS.1, w);
    let command_code = PrefixCode::build_and_store(&command_counts, COMMANDS.1, w);
    let distance_code = PrefixCode::build_and_store(&distance_counts, DISTANCES.1, w);

    let mut at = from;
    for command in &commands {
        command_code.write(usize::from(command.symbol), w);
        w.write(command.extra.0, command.extra.1);
        for &b in &buf[at..at + command.insert as usize] {
            literal_code.write(usize::from(b), w);
        }
        if let Some((symbol, n, extra)) = command.distance {
            distance_code.write(usize::from(symbol), w);
            w.write(n, u64::from(extra));
        }
        at += (command.insert + command.copy) as usize;
    }
    debug_assert_eq!(at, buf.len());
}

#[cfg(test)]
mod tests {
    use super::super::crosscheck::assert_same;
    use super::*;
    use proptest::prelude::*;

    /// Decodes a whole stream (which decodes to `expected` bytes) with the cross-check's Rust
    /// decoder; whether it ended.
    fn decode(stream: &[u8], expected: usize) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let ended = super::super::crosscheck::RustDecoder::new().feed(stream, expected, &mut out);
        (out, ended)
    }

    /// Encodes `events` one by one, checking that each one decodes as soon as it is written.
    fn roundtrip(lgwin: u32, events: &[Vec<u8>]) -> Vec<usize> {
        let mut encoder = DeltaBrotli::new(lgwin);
        let mut stream = Vec::new();
        let mut sent = Vec::new();
        let mut sizes = Vec::new();
        for event in events {
            let out = encoder.encode(Bytes::copy_from_slice(event));
            sizes.push(out.len());
            stream.extend_from_slice(&out);
            sent.extend_from_slice(event);
            // an unfinished stream: the decoder must have produced everything so far
            let (partial, ended) = decode(&stream, sent.len());
            assert!(!ended);
            assert_same(&partial, &sent, "an event did not decode when it was sent");
        }
        stream.extend_from_slice(&encoder.finish());
        let (all, ended) = decode(&stream, sent.len());
        assert!(ended, "the finished stream ends");
        assert_same(&all, &sent, "the finished stream");
        sizes
    }

    /// A leaderboard-like table: every render is the whole table, one score changed.
    fn table(scores: &[u32]) -> Vec<u8> {
        let mut html = String::from(
            "event: datastar-patch-elements\ndata: elements <table id=\"board\"><tbody>",
        );
        for (i, s) in scores.iter().enumerate() {
            html.push_str(&format!(
                "<tr><td class=\"name\">player-{i}</td><td class=\"score\">{s}</td></tr>"
            ));
        }
        html.push_str("</tbody></table>\n\n");
        html.into_bytes()
    }

    #[test]
    fn a_rerendered_table_costs_a_few_dozen_bytes() {
        let mut scores: Vec<u32> = (0..100).map(|i| 1000 + i * 7).collect();
        let mut events = vec![table(&scores)];
        for k in 0..50 {
            scores[(k * 37) % 100] += 13 + k as u32;
            events.push(table(&scores));
        }
        let sizes = roundtrip(17, &events);
        let identity = events[1].len();
        let worst = sizes[1..].iter().max().copied().unwrap();
        assert!(
            worst * 100 <= identity,
            "{worst} bytes for a {identity}-byte re-render"
        );
    }

    #[test]
    fn two_streams_sent_the_same_events_send_the_same_bytes() {
        let event = table(&[1000; 100]);
        let (mut a, mut b) = (DeltaBrotli::new(17), DeltaBrotli::new(17));
        assert_eq!(
            a.encode(Bytes::copy_from_slice(&event)),
            b.encode(Bytes::copy_from_slice(&event))
        );
    }

    #[test]
    fn streams_in_step_and_out_of_step_all_decode() {
        let e = |k: u32| Bytes::from(table(&[1000 + k; 100]));
        // A and B in step, C diverging in the middle, D joining late
        let plans: [&[u32]; 4] = [&[1, 2, 3, 4], &[1, 2, 3, 4], &[1, 9, 3, 4], &[3, 4]];
        let mut streams: Vec<(DeltaBrotli, Vec<u8>, Vec<u8>)> = plans
            .iter()
            .map(|_| (DeltaBrotli::new(17), Vec::new(), Vec::new()))
            .collect();
        let mut outputs = vec![Vec::new(); plans.len()];
        for round in 0..4 {
            // interleaved, as a broadcast reaches each stream in turn
            for (i, plan) in plans.iter().enumerate() {
                let Some(&k) = plan.get(round) else { continue };
                let (encoder, wire, sent) = &mut streams[i];
                let out = encoder.encode(e(k));
                outputs[i].push(out.clone());
                wire.extend_from_slice(&out);
                sent.extend_from_slice(&e(k));
                let (decoded, _) = decode(wire, sent.len());
                assert_same(&decoded, sent, &format!("stream {i}, round {round}"));
            }
        }
        assert_eq!(
            outputs[0], outputs[1],
            "streams in step write the same bytes"
        );
        for (encoder, wire, sent) in &mut streams {
            wire.extend_from_slice(&encoder.finish());
            let (decoded, ended) = decode(wire, sent.len());
            assert!(ended);
            assert_same(&decoded, sent, "finished");
        }
    }

    #[test]
    fn streams_that_open_with_ids_of_their_own_share_their_first_render() {
        // a page stream's first event is its id, different per stream (and in length)
        let render = Bytes::from(table(&[1000; 100]));
        let ids = [
            "id: ds1.a.b.7\n\n",
            "id: ds1.a.b.42\n\n",
            "id: ds1.a.b.10000\n\n",
        ];
        let mut outputs = Vec::new();
        for id in ids {
            let mut encoder = DeltaBrotli::new(17);
            let mut wire = encoder.encode(Bytes::from_static(id.as_bytes()));
            let first = encoder.encode(render.clone());
            wire.extend_from_slice(&first);
            let sent = [id.as_bytes(), &render[..]].concat();
            let (decoded, _) = decode(&wire, sent.len());
            assert_same(&decoded, &sent, id);
            outputs.push(first);
        }
        assert!(
            outputs.windows(2).all(|w| w[0] == w[1]),
            "the first render is one step for every stream"
        );
    }

    #[test]
    fn edge_cases_decode() {
        roundtrip(17, &[b"a".to_vec()]);
        roundtrip(16, &[b"ab".to_vec(), b"ab".to_vec(), b"abc".to_vec()]);
        roundtrip(10, &[vec![7u8; 5000], vec![7u8; 3000]]);
        roundtrip(24, &[(0..=255u8).cycle().take(100_000).collect()]);
        // a run longer than one copy command can say
        roundtrip(22, &[vec![0u8; 3_000_000]]);
        // a stream that ends before its first event
        let mut encoder = DeltaBrotli::new(17);
        assert_eq!(decode(&encoder.finish(), 0), (Vec::new(), true));
    }

    #[test]
    fn a_small_window_never_copies_from_beyond_it() {
        // lgwin 10: copies reach at most 1008 bytes back, so the repeat 2000 bytes back is not one
        let unit: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
        roundtrip(10, &[unit.clone(), unit.clone(), unit]);
    }

    /// The leaderboard example's shape: ranked rows, re-sorted when a score rises.
    fn board(scores: &[u64]) -> Vec<u8> {
        let mut ranking: Vec<usize> = (0..scores.len()).collect();
        ranking.sort_by(|a, b| scores[*b].cmp(&scores[*a]).then(a.cmp(b)));
        let mut html = String::from(
            "event: datastar-patch-elements\ndata: elements <main id=\"leaderboard\"><table><tbody>",
        );
        for (rank, id) in ranking.iter().enumerate() {
            html.push_str(&format!(
                "<tr id=\"player-{id}\"><td class=\"rank\">{}</td><td class=\"name\">Name{} {}</td><td class=\"score\">{}</td></tr>",
                rank + 1,
                id % 10,
                id / 10 + 1,
                scores[*id]
            ));
        }
        html.push_str("</tbody></table></main>\n\n");
        html.into_bytes()
    }

    #[test]
    fn a_re_ranked_leaderboard_costs_under_one_percent() {
        let mut scores: Vec<u64> = (0..100).map(|id| 1000 - id * 7).collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut events = vec![board(&scores)];
        for _ in 0..60 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            scores[(seed % 100) as usize] += 10;
            events.push(board(&scores));
        }
        let mut sizes = roundtrip(17, &events)[1..].to_vec();
        sizes.sort_unstable();
        let median = sizes[sizes.len() / 2];
        let identity = events[1].len();
        assert!(
            median * 100 <= identity,
            "median {median} bytes for a {identity}-byte re-render"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_events_decode(
            lgwin in 10u32..=24,
            events in proptest::collection::vec(
                proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..3000),
                1..8,
            ),
        ) {
            roundtrip(lgwin, &events);
        }
    }
}
