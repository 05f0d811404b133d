//! The matcher of [`super::delta`]: the copies and literals that make a new event out of
//! what the stream sent before it, found through a small table shared by every stream on the
//! thread.

use super::bits::MAX_COPY;
use std::cell::RefCell;

/// The shortest copy worth a command.
const MIN_MATCH: usize = 4;
/// History is indexed at every `HISTORY_STEP`th position: a re-render's matches are hundreds of
/// bytes long, and a match is found as soon as it covers an indexed position.
const HISTORY_STEP: usize = 8;
/// The match table: 2^14 slots of 4 bytes, small enough to stay in a core's cache.
const TABLE_BITS: u32 = 14;

/// A copy found in the data: `literals` bytes to insert as they are, then `len` bytes to copy
/// from `distance` back.
pub(super) struct Found {
    pub(super) literals: usize,
    pub(super) len: usize,
    pub(super) distance: usize,
}

/// The slots of the match table, and the offset that makes positions of earlier calls stale
/// (so the table is never cleared: an entry below `base` is from another call).
struct Table {
    slots: Vec<u32>,
    base: u32,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table { slots: vec![0; 1 << TABLE_BITS], base: 1 });
}

/// A copy shorter than this is compared with those starting up to `LOOK_AHEAD` bytes on.
const GOOD_COPY: usize = 32;
const LOOK_AHEAD: usize = 16;
/// How many changes, of how many bytes, a candidate copy is followed past when copies are
/// compared.
const REACH_GAPS: usize = 4;
const REACH_GAP: usize = 4;
const REACH_HORIZON: usize = 256;
/// Only a copy at least this long is looked for again where it stops.
const RESUME_AFTER: usize = 64;
/// How far past a copy's end, and how far from its distance, it is looked for.
const RESUME_SKIP: usize = 16;
const RESUME_SHIFT: usize = 8;
/// How many bytes must match for the copy to count as resumed.
const RESUME_MATCH: usize = 16;

/// Where the copy at distance `last` that stopped at `pos` resumes: the fewest bytes on, then
/// the distance closest to `last`, as (bytes skipped, distance).
fn resume(buf: &[u8], pos: usize, last: usize, max_distance: usize) -> Option<(usize, usize)> {
    for skip in 0..=RESUME_SKIP {
        let at = pos + skip;
        if at + RESUME_MATCH > buf.len() {
            return None;
        }
        let shifts = (0..=RESUME_SHIFT).flat_map(|k| [last + k, last.wrapping_sub(k)]);
        for distance in shifts.skip(1) {
            if distance == 0 || distance > at || distance > max_distance {
                continue;
            }
            if buf[at - distance..at - distance + RESUME_MATCH] == buf[at..at + RESUME_MATCH] {
                return Some((skip, distance));
            }
        }
    }
    None
}

/// How many bytes from `a` equal those from `b` (`a` < `b`), reading no further than `limit`
/// for `b`. Eight bytes at a time.
fn common(buf: &[u8], a: usize, b: usize, limit: usize) -> usize {
    let mut n = 0;
    while b + n + 8 <= limit {
        let x = u64::from_le_bytes(buf[a + n..a + n + 8].try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(buf[b + n..b + n + 8].try_into().expect("8 bytes"));
        if x != y {
            return n + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while b + n < limit && buf[a + n] == buf[b + n] {
        n += 1;
    }
    n
}

/// How far `copy`'s distance goes on matching past its end, skipping up to `REACH_GAPS` changes
/// of up to `REACH_GAP` bytes each, looking no further than `REACH_HORIZON` bytes past the end
/// (candidates are compared near where they differ, not scanned to the end of the event).
fn reach(buf: &[u8], copy: &Copy, max_distance: usize) -> usize {
    let distance = copy.start - copy.source;
    let horizon = (copy.end + REACH_HORIZON).min(buf.len());
    let mut end = copy.end;
    'gaps: for _ in 0..REACH_GAPS {
        for gap in 1..=REACH_GAP {
            let at = end + gap;
            if at + MIN_MATCH > horizon || distance > max_distance {
                break 'gaps;
            }
            if same4(buf, at - distance, at) {
                let from = at + MIN_MATCH;
                end = from + common(buf, from - distance, from, horizon);
                continue 'gaps;
            }
        }
        break;
    }
    end
}

fn same4(buf: &[u8], a: usize, b: usize) -> bool {
    buf[a..a + MIN_MATCH] == buf[b..b + MIN_MATCH]
}

fn hash(bytes: &[u8]) -> usize {
    let v = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    (v.wrapping_mul(0x9E37_79B1) >> (32 - TABLE_BITS)) as usize
}

/// A copy of `buf[start..end]` from `source` (< `start`).
#[derive(Clone, Copy)]
struct Copy {
    start: usize,
    end: usize,
    source: usize,
}

impl Copy {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// One call's view of the match table.
struct Matcher<'a> {
    buf: &'a [u8],
    slots: &'a mut [u32],
    base: u32,
    max_distance: usize,
    /// Where the new bytes start; the history before it is indexed on the first lookup (a
    /// re-render found whole at the last distance never needs it).
    from: usize,
    indexed: bool,
}

impl Matcher<'_> {
    fn insert(&mut self, pos: usize) {
        self.slots[hash(&self.buf[pos..])] = self.base + pos as u32;
    }

    /// Indexes the history within reach, sparsely, under the new bytes already indexed.
    fn index_history(&mut self) {
        self.indexed = true;
        let newer = self.base + self.from as u32;
        let mut p = self.from.saturating_sub(self.max_distance);
        while p + MIN_MATCH <= self.from {
            let slot = &mut self.slots[hash(&self.buf[p..])];
            if *slot < newer {
                *slot = self.base + p as u32;
            }
            p += HISTORY_STEP;
        }
    }

    /// The indexed position with the same four bytes as `pos`, if it is usable.
    fn lookup(&mut self, pos: usize) -> Option<usize> {
        if !self.indexed {
            self.index_history();
        }
        let slot = self.slots[hash(&self.buf[pos..])];
        let candidate = slot.wrapping_sub(self.base) as usize;
        (slot >= self.base
            && candidate < pos
            && pos - candidate <= self.max_distance
            && same4(self.buf, candidate, pos))
        .then_some(candidate)
    }

    /// The copy through `pos` from `source` (whose four bytes match), as long as it goes both
    /// ways: back no further than `floor`, forward to the end.
    fn extend(&self, floor: usize, pos: usize, source: usize) -> Copy {
        let buf = self.buf;
        let (mut start, mut source) = (pos, source);
        while start > floor && source > 0 && buf[source - 1] == buf[start - 1] {
            start -= 1;
            source -= 1;
        }
        let longest = (buf.len() - start).min(MAX_COPY);
        // a meta-block (4 MiB at most) is far shorter than the longest copy
        debug_assert!(pos + MIN_MATCH <= start + longest);
        // start..pos matched going back, pos..pos + 4 was checked
        let checked = pos + MIN_MATCH - start;
        let end = pos + MIN_MATCH + common(buf, source + checked, pos + MIN_MATCH, start + longest);
        Copy { start, end, source }
    }
}

/// The copies and literals that make `buf[from..]` out of what precedes it, greedily with a
/// look ahead: at each position, the last copy's distance, else the last indexed position with
/// the same four bytes; a short copy gives way to a longer one starting up to [`LOOK_AHEAD`]
/// bytes on (extended back, it usually covers the short one's bytes too).
pub(super) fn find(
    buf: &[u8],
    from: usize,
    max_distance: usize,
    last: usize,
) -> (Vec<Found>, usize) {
    TABLE.with(|table| {
        let mut table = table.borrow_mut();
        // the offset for this call: positions are stored as base + position
        let span = u32::try_from(buf.len() + 1).unwrap_or(u32::MAX);
        if table.base.checked_add(span).is_none() {
            table.slots.iter_mut().for_each(|s| *s = 0);
            table.base = 1;
        }
        let base = table.base;
        table.base += span;
        let mut m = Matcher {
            buf,
            slots: &mut table.slots,
            base,
            max_distance,
            from,
            indexed: false,
        };

        let mut found = Vec::new();
        let mut literal_start = from;
        let mut pos = from;
        // the last copy's distance (at first the last event's length): a re-render copies its
        // last render at one distance, give or take what changed length
        let mut last = if last <= max_distance { last } else { 0 };
        while pos + MIN_MATCH <= buf.len() {
            let source = if last > 0 && last <= pos && same4(buf, pos - last, pos) {
                Some(pos - last)
            } else {
                m.lookup(pos)
            };
            m.insert(pos);
            let Some(source) = source else {
                // through data that does not repeat, faster and faster
                pos += 1 + ((pos - literal_start) >> 6);
                continue;
            };
            let mut copy = m.extend(literal_start, pos, source);
            if copy.len() < GOOD_COPY {
                // what covers the most, counting each byte left as a literal against it, and
                // following each copy's distance past small changes (a copy that goes on after
                // a changed value is worth more than one as long that stops there)
                let score = |c: &Copy| reach(buf, c, max_distance) - (c.start - literal_start);
                let ahead = (pos + LOOK_AHEAD).min(buf.len() - MIN_MATCH);
                let mut best = score(&copy);
                // consecutive positions mostly find the same distance again: one look each
                let mut seen = [copy.start - copy.source; LOOK_AHEAD + 1];
                let mut seen_len = 1;
                for p in pos + 1..=ahead {
                    let Some(source) = m.lookup(p) else { continue };
                    let distance = p - source;
                    if seen[..seen_len].contains(&distance) {
                        continue;
                    }
                    seen[seen_len] = distance;
                    seen_len += 1;
                    let other = m.extend(literal_start, p, source);
                    let points = score(&other);
                    if points > best {
                        (copy, best) = (other, points);
                    }
                }
            }
            found.push(Found {
                literals: copy.start - literal_start,
                len: copy.len(),
                distance: copy.start - copy.source,
            });
            last = copy.start - copy.source;
            // a few positions inside the copy, so what follows a repeated part can find it
            let mut q = copy.end.saturating_sub(16).max(pos + 1);
            while q < copy.end && q + MIN_MATCH <= buf.len() {
                m.insert(q);
                q += HISTORY_STEP;
            }
            literal_start = copy.end;
            pos = copy.end;
            // a long copy that stops is usually a changed value in a re-render: the copy goes on
            // a few bytes later, at the same distance or one shifted by the change in length.
            // Those bytes are cheaper as literals than as copies from wherever else they occur.
            if copy.len() >= RESUME_AFTER {
                if let Some((skip, distance)) = resume(buf, pos, last, max_distance) {
                    pos += skip;
                    last = distance;
                }
            }
        }
        (found, literal_start)
    })
}
