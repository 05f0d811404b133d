//! The byte-level SSE writer every event goes through.
//!
//! Nothing here allocates per line: values are split on `\r\n`, `\n` and a lone `\r` with `memchr`
//! and copied straight into the output buffer.

use bytes::{BufMut, BytesMut};
use std::time::Duration;

/// The protocol's default retry: a `retry:` line is only written for other values.
pub(crate) const DEFAULT_RETRY_MS: u128 = 1000;

/// The two event types of Datastar v1.
///
/// ```
/// assert_eq!(dstar::sse::EventType::PatchElements.as_str(), "datastar-patch-elements");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `datastar-patch-elements`
    PatchElements,
    /// `datastar-patch-signals`
    PatchSignals,
}

impl EventType {
    /// The wire name written after `event: `.
    ///
    /// ```
    /// assert_eq!(dstar::sse::EventType::PatchSignals.as_str(), "datastar-patch-signals");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::PatchElements => "datastar-patch-elements",
            EventType::PatchSignals => "datastar-patch-signals",
        }
    }

    const fn header(self) -> &'static [u8] {
        match self {
            EventType::PatchElements => b"event: datastar-patch-elements\n",
            EventType::PatchSignals => b"event: datastar-patch-signals\n",
        }
    }
}

/// The SSE metadata shared by every event: an optional `id` and `retry`.
///
/// ```
/// let meta = dstar::sse::EventMeta { id: Some("1".into()), retry: None };
/// assert_eq!(meta.id.as_deref(), Some("1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventMeta {
    /// `id:` field, for replay on reconnect.
    pub id: Option<String>,
    /// `retry:` field; only written when it differs from the 1000 ms default.
    pub retry: Option<Duration>,
}

/// Writes one event into a buffer. Callers write the header, then data lines, then [`finish`].
///
/// [`finish`]: EventWriter::finish
pub(crate) struct EventWriter<'a> {
    out: &'a mut BytesMut,
}

impl<'a> EventWriter<'a> {
    pub(crate) fn begin(
        out: &'a mut BytesMut,
        ty: EventType,
        meta: &EventMeta,
        size_hint: usize,
    ) -> Self {
        // a batch's first event leaves room for a few small ones after it (an event handler
        // typically writes two or three), so they do not each grow the buffer again
        let slack = if out.capacity() == 0 { 256 } else { 64 };
        out.reserve(size_hint + slack);
        out.put_slice(ty.header());
        if let Some(id) = &meta.id {
            out.put_slice(b"id: ");
            put_single_line(out, id);
            out.put_u8(b'\n');
        }
        if let Some(retry) = meta.retry {
            let ms = retry.as_millis();
            if ms != DEFAULT_RETRY_MS {
                out.put_slice(b"retry: ");
                out.put_slice(ms.to_string().as_bytes());
                out.put_u8(b'\n');
            }
        }
        EventWriter { out }
    }

    /// `data: <key> <value>` where the value must stay on one line: line breaks are dropped.
    pub(crate) fn single(&mut self, key: &str, value: &str) {
        self.out.put_slice(b"data: ");
        self.out.put_slice(key.as_bytes());
        self.out.put_u8(b' ');
        put_single_line(self.out, value);
        self.out.put_u8(b'\n');
    }

    /// One `data: <key> <line>` per line of `value`, splitting on CRLF, LF and a lone CR.
    pub(crate) fn multi(&mut self, key: &str, value: &str) {
        let bytes = value.as_bytes();
        let mut start = 0;
        loop {
            self.out.put_slice(b"data: ");
            self.out.put_slice(key.as_bytes());
            self.out.put_u8(b' ');
            match memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
                None => {
                    self.out.put_slice(&bytes[start..]);
                    self.out.put_u8(b'\n');
                    return;
                }
                Some(i) => {
                    let end = start + i;
                    self.out.put_slice(&bytes[start..end]);
                    self.out.put_u8(b'\n');
                    start = if bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n') {
                        end + 2
                    } else {
                        end + 1
                    };
                }
            }
        }
    }

    /// Raw access for writers that stream a value that is known to hold no line breaks
    /// (compact JSON from serde_json escapes every control character).
    pub(crate) fn line_prefix(&mut self, key: &str) -> &mut BytesMut {
        self.out.put_slice(b"data: ");
        self.out.put_slice(key.as_bytes());
        self.out.put_u8(b' ');
        self.out
    }

    pub(crate) fn end_line(&mut self) {
        self.out.put_u8(b'\n');
    }

    pub(crate) fn finish(self) {
        self.out.put_u8(b'\n');
    }
}

/// Writes `value` with every CR and LF removed, so a single-line field can never be split.
fn put_single_line(out: &mut BytesMut, value: &str) {
    let bytes = value.as_bytes();
    let mut start = 0;
    while let Some(i) = memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
        out.put_slice(&bytes[start..start + i]);
        start += i + 1;
    }
    out.put_slice(&bytes[start..]);
}

/// Writes an SSE comment (`: text`), which clients ignore; used as a liveness probe.
pub(crate) fn comment(out: &mut BytesMut, text: &str) {
    out.put_slice(b": ");
    put_single_line(out, text);
    out.put_slice(b"\n\n");
}
