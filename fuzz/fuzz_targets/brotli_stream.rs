//! dstar's brotli stream writer (`StreamBrotli::Delta`), read back by two independent decoders:
//! Google's reference C decoder (through `brotlic`) and the pure-Rust `brotli-decompressor`.
//! Arbitrary events (new bytes, repeats, near repeats, events grown past the window) go down up to
//! three streams at any window, some sent to all of them at once as a broadcast is (so the
//! streams share events and, in step, their output). After every event both decoders must have
//! given back exactly the bytes sent on that stream so far; after the end, both must have ended.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

/// The most bytes one event may grow to, and all events of one input together.
const MAX_EVENT: usize = 1 << 20;
const MAX_TOTAL: usize = 4 << 20;

#[derive(Debug, Arbitrary)]
struct Input {
    /// The window, 10 + this modulo 15 (brotli's 10–24).
    lgwin: u8,
    /// How many streams, 1 + this modulo 3.
    streams: u8,
    ops: Vec<Op>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    /// An event to one stream.
    Send { stream: u8, event: Event },
    /// The same event to every stream, one after the other.
    Broadcast(Event),
}

#[derive(Debug, Arbitrary)]
enum Event {
    /// New bytes.
    Bytes(Vec<u8>),
    /// An earlier event again (of any stream).
    Repeat(u8),
    /// An earlier event with `remove` bytes at `at` replaced by `insert`.
    Edit {
        of: u8,
        at: u16,
        remove: u8,
        insert: Vec<u8>,
    },
    /// An earlier event `times` over, each copy followed by its number.
    Grow { of: u8, times: u8 },
}

impl Event {
    fn make(&self, earlier: &[Vec<u8>]) -> Vec<u8> {
        let pick = |i: u8| {
            if earlier.is_empty() {
                &[][..]
            } else {
                &earlier[usize::from(i) % earlier.len()][..]
            }
        };
        let mut event = match self {
            Event::Bytes(bytes) => bytes.clone(),
            Event::Repeat(of) => pick(*of).to_vec(),
            Event::Edit {
                of,
                at,
                remove,
                insert,
            } => {
                let mut event = pick(*of).to_vec();
                let at = usize::from(*at) % (event.len() + 1);
                let end = (at + usize::from(*remove)).min(event.len());
                event.splice(at..end, insert.iter().copied());
                event
            }
            Event::Grow { of, times } => {
                let of = pick(*of);
                let mut event = Vec::new();
                for k in 0..usize::from(*times) {
                    if event.len() >= MAX_EVENT {
                        break;
                    }
                    event.extend_from_slice(of);
                    event.extend_from_slice(k.to_string().as_bytes());
                }
                event
            }
        };
        event.truncate(MAX_EVENT);
        event
    }
}

/// Google's reference decoder, fed one event's output at a time.
struct CDecoder(brotlic::BrotliDecoder);

impl CDecoder {
    /// Decodes `input` into `out`; whether the stream has ended.
    fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> bool {
        use brotlic::decode::DecoderInfo;
        let mut buf = vec![0u8; 4096];
        loop {
            let result = match self.0.decompress(input, &mut buf) {
                Ok(result) => result,
                Err(e) => panic!("the C decoder refused the stream: {e:?} ({e})"),
            };
            input = &input[result.bytes_read..];
            out.extend_from_slice(&buf[..result.bytes_written]);
            match result.info {
                DecoderInfo::NeedsMoreOutput => continue,
                // output still held from a full buffer: handed over when called again
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

type RustState = brotli_decompressor::BrotliState<
    brotli_decompressor::StandardAlloc,
    brotli_decompressor::StandardAlloc,
    brotli_decompressor::StandardAlloc,
>;

/// `brotli-decompressor`, fed one event's output at a time.
struct RustDecoder(Box<RustState>);

impl RustDecoder {
    /// Decodes `input` (which decodes to `expected` bytes) into `out`; whether the stream has
    /// ended.
    fn feed(&mut self, input: &[u8], expected: usize, out: &mut Vec<u8>) -> bool {
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

/// One stream: dstar's writer, both decoders, what was sent and what each decoder gave back.
struct Stream {
    /// `Some(event)` compresses an event, `None` ends the stream.
    writer: Box<dyn FnMut(Option<&[u8]>) -> Vec<u8>>,
    c: CDecoder,
    rust: RustDecoder,
    sent: Vec<u8>,
    from_c: Vec<u8>,
    from_rust: Vec<u8>,
}

impl Stream {
    fn new(lgwin: u32) -> Self {
        let alloc = brotli_decompressor::StandardAlloc::default;
        Stream {
            writer: Box::new(dstar::sse::StreamBrotli::__fuzz_writer(lgwin)),
            c: CDecoder(brotlic::BrotliDecoder::new()),
            rust: RustDecoder(Box::new(RustState::new(alloc(), alloc(), alloc()))),
            sent: Vec::new(),
            from_c: Vec::new(),
            from_rust: Vec::new(),
        }
    }

    fn send(&mut self, event: &[u8]) {
        let out = (self.writer)(Some(event));
        self.sent.extend_from_slice(event);
        assert!(!self.c.feed(&out, &mut self.from_c), "ended early (C)");
        assert!(
            !self.rust.feed(&out, event.len(), &mut self.from_rust),
            "ended early (Rust)"
        );
        same(&self.from_c, &self.sent, "C decoder, after an event");
        same(&self.from_rust, &self.sent, "Rust decoder, after an event");
    }

    fn finish(mut self) {
        let out = (self.writer)(None);
        assert!(self.c.feed(&out, &mut self.from_c), "no end (C)");
        assert!(
            self.rust.feed(&out, 0, &mut self.from_rust),
            "no end (Rust)"
        );
        same(&self.from_c, &self.sent, "C decoder, at the end");
        same(&self.from_rust, &self.sent, "Rust decoder, at the end");
    }
}

/// Where two byte strings part (not the whole of them, which can be megabytes).
fn same(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
        panic!(
            "{what}: {} bytes decoded, {} expected, first difference at {at}",
            got.len(),
            want.len()
        );
    }
}

fuzz_target!(|input: Input| {
    let lgwin = 10 + u32::from(input.lgwin) % 15;
    let mut streams: Vec<Stream> = (0..1 + input.streams % 3)
        .map(|_| Stream::new(lgwin))
        .collect();
    let mut earlier: Vec<Vec<u8>> = Vec::new();
    let mut total = 0;
    for op in &input.ops {
        let (targets, event) = match op {
            Op::Send { stream, event } => {
                let i = usize::from(*stream) % streams.len();
                (i..i + 1, event)
            }
            Op::Broadcast(event) => (0..streams.len(), event),
        };
        let event = event.make(&earlier);
        total += event.len() * targets.len();
        if total > MAX_TOTAL {
            break;
        }
        for stream in &mut streams[targets] {
            stream.send(&event);
        }
        earlier.push(event);
    }
    for stream in streams {
        stream.finish();
    }
});
