//! The delta writer's output read by two independent decoders: Google's reference C decoder
//! (through `brotlic`, the library that `StreamBrotli::Library` already links) and the pure-Rust
//! `brotli-decompressor`. Each keeps its state across the whole stream and is fed one event's
//! bytes at a time, as a browser reads them: after every event both must have given back exactly
//! the bytes sent so far, and after the end both must have finished.

use super::DeltaBrotli;
use bytes::Bytes;
use proptest::prelude::*;

/// Google's reference decoder, fed one event's output at a time.
struct CDecoder(brotlic::BrotliDecoder);

impl CDecoder {
    fn new() -> Self {
        CDecoder(brotlic::BrotliDecoder::new())
    }

    /// Decodes `input` into `out`; whether the stream has ended.
    fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> bool {
        use brotlic::decode::DecoderInfo;
        // smaller than most events: the decoder is asked for more output, too
        let mut buf = vec![0u8; 4096];
        loop {
            let result = self
                .0
                .decompress(input, &mut buf)
                .unwrap_or_else(|e| panic!("the C decoder refused the stream: {e:?} ({e})"));
            input = &input[result.bytes_read..];
            out.extend_from_slice(&buf[..result.bytes_written]);
            match result.info {
                DecoderInfo::NeedsMoreOutput => continue,
                // it asks for input with output still held when the last call's buffer was full:
                // called again, with no input, it hands that over
                DecoderInfo::NeedsMoreInput if self.0.has_output() => continue,
                DecoderInfo::NeedsMoreInput => {
                    assert!(input.is_empty(), "the C decoder stopped short of the input");
                    return false;
                }
                DecoderInfo::Finished => {
                    assert!(input.is_empty(), "bytes after the end of the stream");
                    return true;
                }
            }
        }
    }
}

/// `brotli-decompressor`, fed one event's output at a time.
pub(super) struct RustDecoder(
    brotli_decompressor::BrotliState<
        brotli_decompressor::StandardAlloc,
        brotli_decompressor::StandardAlloc,
        brotli_decompressor::StandardAlloc,
    >,
);

impl RustDecoder {
    pub(super) fn new() -> Self {
        let alloc = brotli_decompressor::StandardAlloc::default;
        RustDecoder(brotli_decompressor::BrotliState::new(
            alloc(),
            alloc(),
            alloc(),
        ))
    }

    /// Decodes `input` (which decodes to `expected` bytes) into `out`; whether the stream has
    /// ended.
    pub(super) fn feed(&mut self, input: &[u8], expected: usize, out: &mut Vec<u8>) -> bool {
        use brotli_decompressor::{BrotliDecompressStream, BrotliResult};
        let (mut available_in, mut input_offset) = (input.len(), 0);
        // room for all of it: this decoder holds back what does not fit until the next input
        let mut buf = vec![0u8; expected + 1];
        loop {
            let (mut available_out, mut output_offset, mut total) = (buf.len(), 0, 0);
            let result = BrotliDecompressStream(
                &mut available_in,
                &mut input_offset,
                input,
                &mut available_out,
                &mut output_offset,
                &mut buf,
                &mut total,
                &mut self.0,
            );
            out.extend_from_slice(&buf[..output_offset]);
            match result {
                BrotliResult::NeedsMoreOutput => continue,
                BrotliResult::NeedsMoreInput => {
                    assert_eq!(available_in, 0, "brotli-decompressor stopped short");
                    return false;
                }
                BrotliResult::ResultSuccess => {
                    assert_eq!(available_in, 0, "bytes after the end of the stream");
                    return true;
                }
                BrotliResult::ResultFailure => panic!("brotli-decompressor refused the stream"),
            }
        }
    }
}

/// One stream: the writer, both decoders, and what was sent so far.
struct Stream {
    writer: DeltaBrotli,
    c: CDecoder,
    rust: RustDecoder,
    sent: Vec<u8>,
    from_c: Vec<u8>,
    from_rust: Vec<u8>,
}

impl Stream {
    fn new(lgwin: u32) -> Self {
        Stream {
            writer: DeltaBrotli::new(lgwin),
            c: CDecoder::new(),
            rust: RustDecoder::new(),
            sent: Vec::new(),
            from_c: Vec::new(),
            from_rust: Vec::new(),
        }
    }

    /// Sends `event`, and checks that both decoders give it back at once. Returns the output.
    fn send(&mut self, event: &Bytes) -> Vec<u8> {
        let out = self.writer.encode(event.clone());
        self.sent.extend_from_slice(event);
        assert!(
            !self.c.feed(&out, &mut self.from_c),
            "the stream ended early"
        );
        assert!(
            !self.rust.feed(&out, event.len(), &mut self.from_rust),
            "the stream ended early"
        );
        assert_same(&self.from_c, &self.sent, "C decoder, after an event");
        assert_same(&self.from_rust, &self.sent, "Rust decoder, after an event");
        out
    }

    /// Ends the stream, and checks that both decoders end with everything sent.
    fn finish(mut self) {
        let out = self.writer.finish();
        assert!(self.c.feed(&out, &mut self.from_c), "C decoder: no end");
        assert!(
            self.rust.feed(&out, 0, &mut self.from_rust),
            "Rust decoder: no end"
        );
        assert_same(&self.from_c, &self.sent, "C decoder, at the end");
        assert_same(&self.from_rust, &self.sent, "Rust decoder, at the end");
    }
}

/// Where two byte strings part, not the whole of them.
pub(super) fn assert_same(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
        panic!(
            "{what}: {} bytes decoded, {} expected, first difference at {at}",
            got.len(),
            want.len()
        );
    }
}

/// Sends `events` down one stream at window `lgwin`, cross-checking after each.
fn crosscheck(lgwin: u32, events: &[Bytes]) {
    let mut stream = Stream::new(lgwin);
    for event in events {
        stream.send(event);
    }
    stream.finish();
}

/// A table of `scores`, rendered whole as a Datastar event (a fat-morph page's update).
fn table(scores: &[u32]) -> Vec<u8> {
    let mut html =
        String::from("event: datastar-patch-elements\ndata: elements <table id=\"board\"><tbody>");
    for (i, s) in scores.iter().enumerate() {
        html.push_str(&format!(
            "<tr id=\"row-{i}\"><td class=\"name\">player-{i}</td><td class=\"score\">{s}</td></tr>"
        ));
    }
    html.push_str("</tbody></table>\n\n");
    html.into_bytes()
}

/// How one event of a generated stream is made.
#[derive(Debug, Clone)]
enum Plan {
    /// Nothing.
    Empty,
    /// Bytes of a small alphabet or any: runs, short repeats, binary.
    Bytes(Vec<u8>),
    /// Any text, in a `data:` line: multi-byte UTF-8.
    Text(String),
    /// An earlier event again (by index, modulo the events so far).
    Repeat(usize),
    /// An earlier event with a few bytes replaced: a near repeat.
    Edit {
        of: usize,
        at: usize,
        remove: usize,
        insert: Vec<u8>,
    },
    /// The table re-rendered with one cell changed (`rows` rows, kept from one such event to
    /// the next).
    Table {
        rows: usize,
        cell: usize,
        score: u32,
    },
    /// An earlier event `times` over with a marker between: bigger than the small windows.
    Grown { of: usize, times: usize },
}

fn plan() -> impl Strategy<Value = Plan> {
    let alphabet = prop_oneof![Just(b'a'), Just(b'b'), Just(b'<'), any::<u8>()];
    prop_oneof![
        1 => Just(Plan::Empty),
        3 => proptest::collection::vec(alphabet, 0..3000).prop_map(Plan::Bytes),
        2 => "\\PC{0,300}".prop_map(Plan::Text),
        2 => any::<usize>().prop_map(Plan::Repeat),
        3 => (any::<usize>(), any::<usize>(), 0usize..40, proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(of, at, remove, insert)| Plan::Edit { of, at, remove, insert }),
        4 => (1usize..120, any::<usize>(), any::<u32>())
            .prop_map(|(rows, cell, score)| Plan::Table { rows, cell, score }),
        1 => (any::<usize>(), 2usize..40).prop_map(|(of, times)| Plan::Grown { of, times }),
    ]
}

/// The events `plans` make, in order.
fn events(plans: &[Plan]) -> Vec<Bytes> {
    let mut events: Vec<Vec<u8>> = Vec::new();
    let mut scores: Vec<u32> = Vec::new();
    let earlier = |events: &Vec<Vec<u8>>, i: usize| {
        if events.is_empty() {
            Vec::new()
        } else {
            events[i % events.len()].clone()
        }
    };
    for plan in plans {
        let event = match plan {
            Plan::Empty => Vec::new(),
            Plan::Bytes(bytes) => bytes.clone(),
            Plan::Text(text) => {
                format!("event: datastar-patch-signals\ndata: signals {text}\n\n").into_bytes()
            }
            Plan::Repeat(of) => earlier(&events, *of),
            Plan::Edit {
                of,
                at,
                remove,
                insert,
            } => {
                let mut event = earlier(&events, *of);
                let at = at % (event.len() + 1);
                let end = (at + remove).min(event.len());
                event.splice(at..end, insert.iter().copied());
                event
            }
            Plan::Table { rows, cell, score } => {
                scores.resize(*rows, 1000);
                scores[cell % rows] = *score;
                table(&scores)
            }
            Plan::Grown { of, times } => {
                let event = earlier(&events, *of);
                let mut grown = Vec::with_capacity((event.len() + 8) * times);
                for k in 0..*times {
                    grown.extend_from_slice(&event);
                    grown.extend_from_slice(format!("<{k}>").as_bytes());
                }
                grown
            }
        };
        events.push(event);
    }
    events.into_iter().map(Bytes::from).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any stream of events, at any window, decodes event by event in both decoders.
    #[test]
    fn both_decoders_read_every_event(
        lgwin in 10u32..=24,
        plans in proptest::collection::vec(plan(), 1..16),
    ) {
        crosscheck(lgwin, &events(&plans));
    }

    /// Streams sent the same renders (in step, sharing their work), one that diverges for an
    /// event, and one that joins late, interleaved as a broadcast reaches them: every stream
    /// decodes in both decoders, and the streams in step send the same bytes.
    #[test]
    fn streams_in_step_decode_in_both_decoders(
        lgwin in prop_oneof![Just(10u32), Just(12), Just(16), Just(17), Just(20), Just(24)],
        rows in 10usize..150,
        changes in proptest::collection::vec((any::<usize>(), any::<u32>()), 2..10),
        diverge in any::<usize>(),
        join in any::<usize>(),
    ) {
        let mut scores = vec![1000u32; rows];
        let renders: Vec<Bytes> = changes
            .iter()
            .map(|&(cell, score)| {
                scores[cell % rows] = score;
                Bytes::from(table(&scores))
            })
            .collect();
        let diverge = diverge % renders.len();
        let join = join % renders.len();
        let mut streams: Vec<Stream> = (0..4).map(|_| Stream::new(lgwin)).collect();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (round, render) in renders.iter().enumerate() {
            a.push(streams[0].send(render));
            b.push(streams[1].send(render));
            if round == diverge {
                let mut other = render.to_vec();
                other.extend_from_slice(b"<!-- only this stream -->");
                streams[2].send(&Bytes::from(other));
            } else {
                streams[2].send(render);
            }
            if round >= join {
                streams[3].send(render);
            }
        }
        prop_assert_eq!(a, b, "streams in step write the same bytes");
        for stream in streams {
            stream.finish();
        }
    }
}

#[test]
fn edge_cases_decode_in_both_decoders() {
    // no event at all
    crosscheck(17, &[]);
    // empty events around others (an empty event writes nothing)
    crosscheck(
        16,
        &[
            Bytes::new(),
            Bytes::from_static(b"a"),
            Bytes::new(),
            Bytes::from_static(b"a"),
        ],
    );
    // every window, each event a near repeat of a table bigger than the small windows
    let mut scores = vec![1000u32; 200];
    let renders: Vec<Bytes> = (0..6)
        .map(|k| {
            scores[k * 31 % 200] += 7;
            Bytes::from(table(&scores))
        })
        .collect();
    for lgwin in 10..=24 {
        crosscheck(lgwin, &renders);
    }
}

#[test]
fn an_event_of_several_meta_blocks_decodes_in_both_decoders() {
    // over 4 MiB: written as two meta-blocks, the second copying from the first
    let row: Vec<u8> = (0..=255u8)
        .chain(b"<tr><td>row</td></tr>".iter().copied())
        .collect();
    let mut big = Vec::new();
    let mut k = 0u32;
    while big.len() < (4 << 20) + 50_000 {
        big.extend_from_slice(&row);
        big.extend_from_slice(k.to_string().as_bytes());
        k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
    }
    let mut again = big.clone();
    again[3 << 20] ^= 1;
    for lgwin in [18, 24] {
        crosscheck(
            lgwin,
            &[Bytes::from(big.clone()), Bytes::from(again.clone())],
        );
    }
}
