//! The bit level of a brotli stream (RFC 7932): a bit writer, prefix codes (built from symbol
//! counts, stored in the simple or the complex form), and the length and distance codes of a
//! command. [`super::delta`] decides what to say; this module only says it.

/// Bits written least significant first, as brotli reads them.
#[derive(Debug, Default)]
pub(super) struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    /// A writer whose buffer starts with room for `bytes`.
    pub(super) fn with_capacity(bytes: usize) -> Self {
        BitWriter {
            out: Vec::with_capacity(bytes),
            ..BitWriter::default()
        }
    }

    /// Writes the low `n` bits of `value` (`n` ≤ 56: a command's insert and copy extra bits
    /// together are up to 48).
    pub(super) fn write(&mut self, n: u32, value: u64) {
        debug_assert!(n <= 56 && value >> n == 0);
        self.acc |= value << self.bits;
        self.bits += n;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    /// Whether the next bit starts a byte.
    pub(super) fn is_aligned(&self) -> bool {
        self.bits == 0
    }

    /// Pads the current byte with zero bits.
    pub(super) fn align(&mut self) {
        if self.bits > 0 {
            self.out.push(self.acc as u8);
            self.acc = 0;
            self.bits = 0;
        }
    }

    /// The whole bytes written so far (call [`BitWriter::align`] first to include the last).
    pub(super) fn take(&mut self) -> Vec<u8> {
        debug_assert!(self.is_aligned());
        std::mem::take(&mut self.out)
    }
}

/// A prefix code over an alphabet: each symbol's code length and its bits, ready to write
/// (brotli reads a code from its most significant bit, so the bits are stored reversed).
#[derive(Debug)]
pub(super) struct PrefixCode<const N: usize> {
    lengths: [u8; N],
    codes: [u16; N],
}

impl<const N: usize> PrefixCode<N> {
    /// Builds the code for `counts` and stores its description in `w`. `alphabet_bits` is the
    /// width of a symbol in the simple form (8 for literals, 10 for insert-and-copy lengths, 6 for
    /// distances). At least one count must be non-zero.
    pub(super) fn build_and_store(
        counts: &[u32; N],
        alphabet_bits: u32,
        w: &mut BitWriter,
    ) -> Self {
        // the used symbols, in order (on the stack: this runs three times per event)
        let mut used = [0u16; N];
        let mut n = 0;
        for (s, &c) in counts.iter().enumerate() {
            if c > 0 {
                used[n] = s as u16;
                n += 1;
            }
        }
        let used = &used[..n];
        debug_assert!(!used.is_empty());
        let mut lengths = [0u8; N];
        if used.len() <= 4 {
            // the simple form: up to four symbols, with lengths fixed by their number
            let mut by_count = [0u16; 4];
            by_count[..n].copy_from_slice(used);
            by_count[..n].sort_by_key(|&s| std::cmp::Reverse(counts[usize::from(s)]));
            let fixed: &[u8] = match n {
                1 => &[0],
                2 => &[1, 1],
                3 => &[1, 2, 2],
                _ => &[2, 2, 2, 2],
            };
            for (&s, &len) in by_count[..n].iter().zip(fixed) {
                lengths[usize::from(s)] = len;
            }
            w.write(2, 1); // HSKIP 1: the simple form
            w.write(2, n as u64 - 1); // NSYM - 1
            for &s in &by_count[..n] {
                w.write(alphabet_bits, u64::from(s));
            }
            if n == 4 {
                w.write(1, 0); // tree-select: lengths 2, 2, 2, 2
            }
        } else {
            huffman_lengths(counts, 15, &mut lengths);
            store_complex(&lengths, w);
        }
        let mut codes = [0u16; N];
        canonical_codes(&lengths, used.iter().map(|&s| usize::from(s)), &mut codes);
        PrefixCode { lengths, codes }
    }

    /// Writes `symbol`'s code.
    pub(super) fn write(&self, symbol: usize, w: &mut BitWriter) {
        w.write(
            u32::from(self.lengths[symbol]),
            u64::from(self.codes[symbol]),
        );
    }
}

/// Code lengths of an optimal prefix code for `counts`, none longer than `limit`. The code is
/// complete (its lengths fill the Kraft sum exactly), as brotli requires. Too-long codes are
/// avoided the way brotli's own encoder does: by raising the smallest counts and trying again.
fn huffman_lengths(counts: &[u32], limit: u8, lengths: &mut [u8]) {
    let used: Vec<usize> = (0..counts.len()).filter(|&s| counts[s] > 0).collect();
    lengths.iter_mut().for_each(|l| *l = 0);
    if used.len() == 1 {
        lengths[used[0]] = 1;
        return;
    }
    let mut floor = 1u64;
    loop {
        // leaves sorted by weight, then the two-queue construction: parents[i] is node i's parent
        let mut leaves: Vec<(u64, usize)> = used
            .iter()
            .map(|&s| (u64::from(counts[s]).max(floor), s))
            .collect();
        leaves.sort_unstable();
        let n = leaves.len();
        let mut weight: Vec<u64> = leaves.iter().map(|&(w, _)| w).collect();
        let mut parent = vec![usize::MAX; 2 * n - 1];
        let (mut next_leaf, mut next_inner) = (0, n);
        let pick = |weight: &Vec<u64>, next_leaf: &mut usize, next_inner: &mut usize| {
            let inner_ready = *next_inner < weight.len();
            if *next_leaf < n && (!inner_ready || weight[*next_leaf] <= weight[*next_inner]) {
                *next_leaf += 1;
                *next_leaf - 1
            } else {
                *next_inner += 1;
                *next_inner - 1
            }
        };
        for _ in 0..n - 1 {
            let a = pick(&weight, &mut next_leaf, &mut next_inner);
            let b = pick(&weight, &mut next_leaf, &mut next_inner);
            let node = weight.len();
            weight.push(weight[a] + weight[b]);
            parent[a] = node;
            parent[b] = node;
        }
        // depths from the root down: parents always come after their children
        let mut depth = vec![0u8; 2 * n - 1];
        for i in (0..2 * n - 2).rev() {
            depth[i] = depth[parent[i]] + 1;
        }
        if depth[..n].iter().all(|&d| d <= limit) {
            for (i, &(_, s)) in leaves.iter().enumerate() {
                lengths[s] = depth[i];
            }
            return;
        }
        floor *= 2;
    }
}

/// Canonical codes for `lengths` (shorter codes first, then by symbol), bit-reversed for
/// [`BitWriter`], into `codes` for the `used` symbols (in increasing order; the others have
/// length 0).
fn canonical_codes(lengths: &[u8], used: impl Iterator<Item = usize> + Clone, codes: &mut [u16]) {
    let mut count = [0u16; 16];
    for s in used.clone() {
        count[usize::from(lengths[s])] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for len in 1..16 {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
    }
    for s in used {
        let l = lengths[s];
        if l > 0 {
            codes[s] = next[usize::from(l)].reverse_bits() >> (16 - u32::from(l));
            next[usize::from(l)] += 1;
        }
    }
}

/// The order in which the code-length code's own lengths are stored.
const CODE_LENGTH_ORDER: [usize; 18] =
    [1, 2, 3, 4, 0, 5, 17, 6, 16, 7, 8, 9, 10, 11, 12, 13, 14, 15];
/// The fixed code for those lengths (0–5), as (bits, length) written least significant first.
const CODE_LENGTH_LENGTH_CODE: [(u64, u32); 6] = [(0, 2), (7, 4), (3, 3), (2, 2), (1, 2), (15, 4)];
/// Code-length symbols 16 (repeat the last non-zero length) and 17 (repeat zero).
const REPEAT_LAST: u8 = 16;
const REPEAT_ZERO: u8 = 17;

/// Stores code `lengths` in the complex form: the lengths run-length coded with symbols 0–17,
/// those symbols coded with a prefix code of their own, whose lengths are stored first.
fn store_complex(lengths: &[u8], w: &mut BitWriter) {
    // the lengths after the last used symbol are implied (the decoder stops when the code is full)
    let end = lengths.iter().rposition(|&l| l > 0).map_or(0, |i| i + 1);
    let mut rle: Vec<(u8, u8)> = Vec::new(); // (symbol, extra bits' value)
    let mut last_nonzero = 8u8; // the decoder's starting value for symbol 16
    let mut i = 0;
    while i < end {
        let value = lengths[i];
        let run = lengths[i..end].iter().take_while(|&&l| l == value).count();
        if value == 0 {
            push_zeros(run, &mut rle);
        } else {
            push_repeats(value, last_nonzero, run, &mut rle);
            last_nonzero = value;
        }
        i += run;
    }

    let mut counts = [0u32; 18];
    for &(symbol, _) in &rle {
        counts[usize::from(symbol)] += 1;
    }
    let mut depths = [0u8; 18];
    huffman_lengths(&counts, 5, &mut depths);
    let distinct = counts.iter().filter(|&&c| c > 0).count();
    // trailing zeros of the code-length code are left out, unless it has one symbol (then all 18
    // are stored, and the symbol costs no bits at all)
    let stored = if distinct > 1 {
        CODE_LENGTH_ORDER
            .iter()
            .rposition(|&s| depths[s] > 0)
            .map_or(0, |i| i + 1)
    } else {
        18
    };
    let skip = if depths[CODE_LENGTH_ORDER[0]] == 0 && depths[CODE_LENGTH_ORDER[1]] == 0 {
        if depths[CODE_LENGTH_ORDER[2]] == 0 {
            3
        } else {
            2
        }
    } else {
        0
    };
    w.write(2, skip as u64); // HSKIP
    for &s in &CODE_LENGTH_ORDER[skip..stored] {
        let (bits, n) = CODE_LENGTH_LENGTH_CODE[usize::from(depths[s])];
        w.write(n, bits);
    }
    if distinct == 1 {
        depths.iter_mut().for_each(|d| *d = 0);
    }
    let mut codes = [0u16; 18];
    canonical_codes(&depths, 0..18, &mut codes);
    for &(symbol, extra) in &rle {
        let s = usize::from(symbol);
        w.write(u32::from(depths[s]), u64::from(codes[s]));
        match symbol {
            REPEAT_LAST => w.write(2, u64::from(extra)),
            REPEAT_ZERO => w.write(3, u64::from(extra)),
            _ => {}
        }
    }
}

/// `run` zero lengths: as zeros when short, else as a chain of 17s (a 17 right after a 17 scales
/// the previous repeat count by 8 and adds its own 3–10).
fn push_zeros(mut run: usize, rle: &mut Vec<(u8, u8)>) {
    if run == 11 {
        rle.push((0, 0));
        run -= 1;
    }
    if run < 3 {
        rle.extend(std::iter::repeat_n((0, 0), run));
        return;
    }
    push_chain(REPEAT_ZERO, 3, run - 3, rle);
}

/// `run` lengths of `value`: the first written out when it is not already the last non-zero
/// length, the rest as a chain of 16s (each scales the previous repeat count by 4) when long.
fn push_repeats(value: u8, last_nonzero: u8, mut run: usize, rle: &mut Vec<(u8, u8)>) {
    if value != last_nonzero {
        rle.push((value, 0));
        run -= 1;
    }
    if run == 7 {
        rle.push((value, 0));
        run -= 1;
    }
    if run < 3 {
        rle.extend(std::iter::repeat_n((value, 0), run));
        return;
    }
    push_chain(REPEAT_LAST, 2, run - 3, rle);
}

/// A chain of `symbol` codes with `bits` extra bits each, repeating `rest` + 3 times in all.
fn push_chain(symbol: u8, bits: u32, mut rest: usize, rle: &mut Vec<(u8, u8)>) {
    let start = rle.len();
    let mask = (1 << bits) - 1;
    loop {
        rle.push((symbol, (rest & mask) as u8));
        rest >>= bits;
        if rest == 0 {
            break;
        }
        rest -= 1;
    }
    rle[start..].reverse();
}

/// Insert lengths: (first length, extra bits) of codes 0–23.
const INSERT: [(u32, u32); 24] = [
    (0, 0),
    (1, 0),
    (2, 0),
    (3, 0),
    (4, 0),
    (5, 0),
    (6, 1),
    (8, 1),
    (10, 2),
    (14, 2),
    (18, 3),
    (26, 3),
    (34, 4),
    (50, 4),
    (66, 5),
    (98, 5),
    (130, 6),
    (194, 7),
    (322, 8),
    (578, 9),
    (1090, 10),
    (2114, 12),
    (6210, 14),
    (22594, 24),
];

/// Copy lengths: (first length, extra bits) of codes 0–23.
const COPY: [(u32, u32); 24] = [
    (2, 0),
    (3, 0),
    (4, 0),
    (5, 0),
    (6, 0),
    (7, 0),
    (8, 0),
    (9, 0),
    (10, 1),
    (12, 1),
    (14, 2),
    (18, 2),
    (22, 3),
    (30, 3),
    (38, 4),
    (54, 4),
    (70, 5),
    (102, 5),
    (134, 6),
    (198, 7),
    (326, 8),
    (582, 9),
    (1094, 10),
    (2118, 24),
];

/// The longest copy one command can make (copy code 23 with all its extra bits).
pub(super) const MAX_COPY: usize = 2118 + (1 << 24) - 1;

/// The code of `len` in `table`, and its extra bits: (code, extra bit count, extra value).
fn length_code(table: &[(u32, u32); 24], len: u32) -> (usize, u32, u32) {
    let code = table.partition_point(|&(base, _)| base <= len) - 1;
    let (base, bits) = table[code];
    (code, bits, len - base)
}

/// One command, ready to write: its insert-and-copy symbol and the extra bits that follow it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Command {
    /// The insert-and-copy length symbol (0–703).
    pub(super) symbol: u16,
    /// Insert then copy extra bits: (count, value), written as one field.
    pub(super) extra: (u32, u64),
    /// The distance symbol (0 for the last distance, else 16–63) and its extra bits, when the
    /// command copies and its symbol does not imply the last distance.
    pub(super) distance: Option<(u16, u32, u32)>,
    /// How many literals follow the lengths.
    pub(super) insert: u32,
    /// How many bytes the copy makes (0 for none).
    pub(super) copy: u32,
}

/// The decoder's last distance at the start of a stream (RFC 7932 section 4: the ring of last
/// distances starts as 16, 15, 11, 4).
pub(super) const FIRST_LAST_DISTANCE: u32 = 4;

impl Command {
    /// A command inserting `insert` literals, then copying `copy` bytes (0 for none, else ≥ 2)
    /// from `distance` bytes back, when the decoder's last distance is `*last`, which it updates.
    ///
    /// A copy at the last distance costs no distance bits: it uses the symbols whose distance is
    /// implied when its lengths are small enough, else distance symbol 0. Any other distance is
    /// written out, and becomes the last one.
    pub(super) fn new(insert: u32, copy: u32, distance: u32, last: &mut u32) -> Self {
        let (inscode, insbits, insextra) = length_code(&INSERT, insert);
        // an insert-only command (the last of a meta-block) still names a copy code: the decoder
        // stops after the literals, and never reads it
        let (copycode, copybits, copyextra) = length_code(&COPY, copy.max(2));
        let extra = (
            insbits + copybits,
            u64::from(insextra) | (u64::from(copyextra) << insbits),
        );
        let repeat = copy > 0 && distance == *last;
        let (symbol, distance) = if repeat && inscode < 8 && copycode < 16 {
            // cells 0–127: the last distance, implied
            let bits = ((inscode << 3) | (copycode & 7)) as u16;
            (if copycode < 8 { bits } else { bits | 64 }, None)
        } else if repeat {
            (combine(inscode, copycode), Some((0, 0, 0)))
        } else if copy > 0 {
            *last = distance;
            (combine(inscode, copycode), Some(distance_code(distance)))
        } else {
            (combine(inscode, copycode), None)
        };
        Command {
            symbol,
            extra,
            distance,
            insert,
            copy,
        }
    }
}

/// The insert-and-copy symbol of an insert code and a copy code, in the cells whose distance is
/// written out (symbols 128 and up): RFC 7932 section 5.
fn combine(inscode: usize, copycode: usize) -> u16 {
    // cell bases by (insert code / 8, copy code / 8)
    const CELL: [[u16; 3]; 3] = [[128, 192, 384], [256, 320, 512], [448, 576, 640]];
    CELL[inscode >> 3][copycode >> 3] + (((inscode & 7) << 3) | (copycode & 7)) as u16
}

/// The distance symbol of `distance` (≥ 1) with no postfix bits and no direct codes, and its extra
/// bits: (symbol, extra bit count, extra value).
fn distance_code(distance: u32) -> (u16, u32, u32) {
    let d = distance + 3;
    let bucket = 31 - d.leading_zeros() - 1;
    let prefix = (d >> bucket) & 1;
    let offset = (2 + prefix) << bucket;
    let symbol = 16 + 2 * (bucket - 1) + prefix;
    (symbol as u16, bucket, d - offset)
}

/// The number of symbols in each alphabet, and their width in the simple form of a code.
pub(super) const LITERALS: (usize, u32) = (256, 8);
pub(super) const COMMANDS: (usize, u32) = (704, 10);
pub(super) const DISTANCES: (usize, u32) = (64, 6);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_codes_match_the_spec() {
        // RFC 7932 section 4: with no postfix bits and no direct codes, symbol 16 covers 1–2,
        // 17 covers 3–4, 18 covers 5–8, 19 covers 9–12
        assert_eq!(distance_code(1), (16, 1, 0));
        assert_eq!(distance_code(2), (16, 1, 1));
        assert_eq!(distance_code(3), (17, 1, 0));
        assert_eq!(distance_code(5), (18, 2, 0));
        assert_eq!(distance_code(8), (18, 2, 3));
        assert_eq!(distance_code(9), (19, 2, 0));
        // the largest distance of a 16 MiB window still fits the 64-symbol alphabet
        assert!(distance_code((1 << 24) - 16).0 < 64);
    }

    #[test]
    fn length_codes_cover_their_ranges() {
        assert_eq!(length_code(&INSERT, 0), (0, 0, 0));
        assert_eq!(length_code(&INSERT, 7), (6, 1, 1));
        assert_eq!(length_code(&INSERT, 22594), (23, 24, 0));
        assert_eq!(length_code(&COPY, 2), (0, 0, 0));
        assert_eq!(length_code(&COPY, 11), (8, 1, 1));
        assert_eq!(length_code(&COPY, 2118), (23, 24, 0));
        // the cells of RFC 7932 section 5
        assert_eq!(combine(0, 0), 128);
        assert_eq!(combine(8, 16), 512);
        assert_eq!(combine(23, 23), 703);
        assert_eq!(combine(16, 0), 448);
    }

    #[test]
    fn huffman_lengths_are_complete_and_limited() {
        // Fibonacci counts make the deepest unlimited tree
        let mut counts = vec![1u32, 1];
        while counts.len() < 30 {
            let n = counts.len();
            counts.push(counts[n - 1] + counts[n - 2]);
        }
        for limit in [5u8, 15] {
            let mut lengths = vec![0u8; counts.len()];
            huffman_lengths(&counts, limit, &mut lengths);
            assert!(lengths.iter().all(|&l| (1..=limit).contains(&l)));
            let kraft: u64 = lengths.iter().map(|&l| 1u64 << (15 - l)).sum();
            assert_eq!(kraft, 1 << 15);
        }
    }

    #[test]
    fn repeat_chains_expand_to_their_run() {
        // replays the decoder's rule: a repeat right after one of the same kind replaces it with
        // (previous - 2) << bits, plus 3 and its own extra bits
        fn expand(rle: &[(u8, u8)]) -> usize {
            let (mut total, mut repeat) = (0usize, 0usize);
            for &(symbol, extra) in rle {
                let bits = if symbol == REPEAT_ZERO { 3 } else { 2 };
                if symbol < 16 {
                    total += 1;
                    repeat = 0;
                    continue;
                }
                let old = repeat;
                if repeat > 0 {
                    repeat = (repeat - 2) << bits;
                }
                repeat += usize::from(extra) + 3;
                total += repeat - old;
            }
            total
        }
        for run in 1..2000 {
            let mut rle = Vec::new();
            push_zeros(run, &mut rle);
            assert_eq!(expand(&rle), run, "zeros {run}");
            let mut rle = Vec::new();
            push_repeats(5, 5, run, &mut rle);
            assert_eq!(expand(&rle), run, "fives {run}");
        }
    }
}
