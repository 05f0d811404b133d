use crate::error::Error;
use crate::sse::{DatastarEvent, EventMeta, EventType, EventWriter};
use bytes::{BufMut, BytesMut};
use serde::Serialize;

/// Raw JSON text for [`PatchSignals::raw`], sent verbatim (split into one data line per line).
///
/// ```
/// let event = dstar::signals::PatchSignals::raw("{\"a\":1}");
/// assert!(dstar::sse::format_event(&event).is_ok());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RawJson<'a>(pub &'a str);

/// A `datastar-patch-signals` event: an RFC 7386 merge patch of the browser's signals.
///
/// ```
/// use dstar::signals::PatchSignals;
/// use dstar::sse::EventOptions as _;
/// let event = PatchSignals::new(serde_json::json!({ "count": 42 }))
///     .only_if_missing(true)
///     .id("e1");
/// let bytes = dstar::sse::format_event(&event).unwrap();
/// assert_eq!(
///     std::str::from_utf8(&bytes).unwrap(),
///     "event: datastar-patch-signals\nid: e1\ndata: onlyIfMissing true\ndata: signals {\"count\":42}\n\n"
/// );
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct PatchSignals<T> {
    signals: T,
    only_if_missing: bool,
    meta: EventMeta,
}

impl<T: Serialize> PatchSignals<T> {
    /// Patch with any `Serialize` value that serializes to a JSON object.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Count { count: i64 }
    /// let event = dstar::signals::PatchSignals::new(Count { count: 1 });
    /// assert!(dstar::sse::format_event(&event).is_ok());
    /// ```
    pub fn new(signals: T) -> Self {
        PatchSignals {
            signals,
            only_if_missing: false,
            meta: EventMeta::default(),
        }
    }
}

impl<'a> PatchSignals<RawJson<'a>> {
    /// Patch with JSON text, sent as it is. Line breaks become separate data lines.
    ///
    /// ```
    /// let event = dstar::signals::PatchSignals::raw("{\"a\":\n1}");
    /// let bytes = dstar::sse::format_event(&event).unwrap();
    /// assert!(bytes.ends_with(b"data: signals {\"a\":\ndata: signals 1}\n\n"));
    /// ```
    pub fn raw(json: &'a str) -> Self {
        PatchSignals {
            signals: RawJson(json),
            only_if_missing: false,
            meta: EventMeta::default(),
        }
    }
}

impl<T> PatchSignals<T> {
    /// Only set signals the browser does not have yet (default `false`).
    ///
    /// ```
    /// let e = dstar::signals::PatchSignals::new(serde_json::json!({"theme": "dark"})).only_if_missing(true);
    /// assert!(dstar::sse::format_event(&e).unwrap().windows(20).any(|w| w == b"onlyIfMissing true\nd"));
    /// ```
    pub fn only_if_missing(mut self, yes: bool) -> Self {
        self.only_if_missing = yes;
        self
    }

    fn begin<'b>(&self, out: &'b mut BytesMut, hint: usize) -> EventWriter<'b> {
        let mut w = EventWriter::begin(out, EventType::PatchSignals, &self.meta, hint);
        if self.only_if_missing {
            w.single("onlyIfMissing", "true");
        }
        w
    }
}

impl<T: Serialize> DatastarEvent for PatchSignals<T> {
    fn write_to(&self, out: &mut BytesMut) -> Result<(), Error> {
        let mark = out.len();
        let mut w = self.begin(out, 128);
        let buf = w.line_prefix("signals");
        let json_start = buf.len();
        // Compact JSON escapes every control character, so it is one line, except where a
        // `serde_json::value::RawValue` inside keeps line breaks of its own: those would end the
        // data line early and let the rest be read as fields of its own, so they are re-split.
        let result = serde_json::to_writer((&mut *buf).writer(), &self.signals);
        let first = buf.get(json_start).copied();
        let broken = result.is_ok() && crate::sse::format::has_line_break(&buf[json_start..]);
        if broken && first == Some(b'{') {
            let json = String::from_utf8(buf[json_start..].to_vec())
                .map_err(|e| Error::Serialize(e.to_string()))?;
            out.truncate(mark);
            let mut w = self.begin(out, json.len());
            w.multi("signals", &json);
            w.finish();
            return Ok(());
        }
        match result {
            Err(e) => {
                out.truncate(mark);
                return Err(Error::Serialize(e.to_string()));
            }
            Ok(()) if first != Some(b'{') => {
                out.truncate(mark);
                return Err(Error::SignalsNotObject);
            }
            Ok(()) => {}
        }
        w.end_line();
        w.finish();
        Ok(())
    }
}

impl DatastarEvent for PatchSignals<RawJson<'_>> {
    fn write_to(&self, out: &mut BytesMut) -> Result<(), Error> {
        if !self.signals.0.trim_start().starts_with('{') {
            return Err(Error::SignalsNotObject);
        }
        let mut w = self.begin(out, self.signals.0.len());
        w.multi("signals", self.signals.0);
        w.finish();
        Ok(())
    }
}

impl<T> crate::sse::EventOptions for PatchSignals<T> {
    fn meta_mut(&mut self) -> &mut crate::sse::EventMeta {
        &mut self.meta
    }
}
