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

/// The SSE `id` and `retry` of an event builder, written once for every event type
/// ([`PatchElements`](crate::elements::PatchElements), [`PatchSignals`](crate::signals::PatchSignals),
/// [`RemoveSignals`](crate::signals::RemoveSignals), [`ExecuteScript`](crate::scripts::ExecuteScript)).
/// In the prelude.
///
/// ```
/// use dstar::prelude::*;
/// use std::time::Duration;
/// let e = PatchSignals::new(json!({})).id("42").retry(Duration::from_secs(2));
/// assert!(dstar::sse::format_event(&e).unwrap().starts_with(b"event: datastar-patch-signals\nid: 42\nretry: 2000\n"));
/// // line breaks and NUL (which would make the client ignore the id) are dropped from it
/// let e = PatchElements::new("<p id=a></p>").id("4\r\n2\0");
/// assert!(dstar::sse::format_event(&e).unwrap().starts_with(b"event: datastar-patch-elements\nid: 42\n"));
/// // the default retry (1000 ms) is not written
/// let e = ExecuteScript::new("1").retry(Duration::from_secs(1));
/// assert!(!dstar::sse::format_event(&e).unwrap().windows(6).any(|w| w == b"retry:"));
/// ```
pub trait EventOptions: Sized {
    /// The event's metadata, which [`id`](EventOptions::id) and [`retry`](EventOptions::retry)
    /// set.
    fn meta_mut(&mut self) -> &mut EventMeta;

    /// The SSE event id (`id:`), which the browser sends back as `Last-Event-ID` when it
    /// reconnects.
    #[must_use]
    fn id(mut self, id: impl Into<String>) -> Self {
        self.meta_mut().id = Some(id.into());
        self
    }

    /// The SSE retry duration (`retry:`, written only when not 1000 ms).
    #[must_use]
    fn retry(mut self, retry: Duration) -> Self {
        self.meta_mut().retry = Some(retry);
        self
    }
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
        if out.capacity() == 0 {
            // a fresh buffer: allocated at its size at once, not grown through `reserve`
            *out = BytesMut::with_capacity(size_hint + 256);
        } else {
            out.reserve(size_hint + 64);
        }
        out.put_slice(ty.header());
        if let Some(id) = &meta.id {
            out.put_slice(b"id: ");
            // a NUL makes the client ignore the whole id field (as `Sse::event_id` does, drop it)
            if id.contains('\0') {
                put_single_line(out, &id.replace('\0', ""));
            } else {
                put_single_line(out, id);
            }
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
        // the common case, one line of markup, needs no search for the breaks
        let split = has_line_break(bytes);
        let mut start = 0;
        loop {
            self.out.put_slice(b"data: ");
            self.out.put_slice(key.as_bytes());
            self.out.put_u8(b' ');
            let next = if split {
                memchr::memchr2(b'\n', b'\r', &bytes[start..])
            } else {
                None
            };
            match next {
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
    if !has_line_break(bytes) {
        out.put_slice(bytes);
        return;
    }
    let mut start = 0;
    while let Some(i) = memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
        out.put_slice(&bytes[start..start + i]);
        start += i + 1;
    }
    out.put_slice(&bytes[start..]);
}

/// Whether `bytes` holds a CR or an LF. Compares 16-byte blocks with no early exit inside a
/// block, which the compiler turns into vector compares: on the short values events carry (a line
/// of markup, compact JSON, an id) it is several times cheaper than setting up `memchr2`, which
/// then finds the breaks when there are some.
pub(crate) fn has_line_break(bytes: &[u8]) -> bool {
    fn block(block: &[u8; 16]) -> bool {
        block.iter().fold(0u8, |seen, &b| {
            seen | u8::from(b == b'\n') | u8::from(b == b'\r')
        }) != 0
    }
    let mut blocks = bytes.chunks_exact(16);
    let mut tail = [0u8; 16];
    let rest = blocks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    blocks.any(|b| {
        let mut whole = [0u8; 16];
        whole.copy_from_slice(b);
        block(&whole)
    }) || block(&tail)
}

/// Writes an SSE comment (`: text`), which clients ignore; used as a liveness probe.
pub(crate) fn comment(out: &mut BytesMut, text: &str) {
    out.put_slice(b": ");
    put_single_line(out, text);
    out.put_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_are_found_in_every_block_and_in_the_tail() {
        for len in [0, 1, 15, 16, 17, 31, 32, 45, 100] {
            let clean = "a".repeat(len);
            assert!(!has_line_break(clean.as_bytes()), "{len}");
            for at in 0..len {
                for brk in [b'\n', b'\r'] {
                    let mut bytes = clean.clone().into_bytes();
                    bytes[at] = brk;
                    assert!(has_line_break(&bytes), "{len} {at}");
                }
            }
        }
    }

    #[test]
    fn one_line_and_many_lines_are_written_alike() {
        let mut out = BytesMut::new();
        let mut w =
            EventWriter::begin(&mut out, EventType::PatchElements, &EventMeta::default(), 0);
        w.multi("elements", "<p>one line, longer than sixteen bytes</p>");
        w.multi("elements", "<p>\r\nin\rthree</p>");
        w.finish();
        assert_eq!(
            &out[..],
            b"event: datastar-patch-elements\n\
              data: elements <p>one line, longer than sixteen bytes</p>\n\
              data: elements <p>\n\
              data: elements in\n\
              data: elements three</p>\n\n"
        );
    }
}
