//! Server-sent event responses: the one-shot [`Sse`] buffer and the long-lived [`SseStream`].
//!
//! Both write the same bytes. Pick by lifetime:
//! - an event handler that answers once builds an [`Sse`] and returns it: the whole body is sent at
//!   once, with no task and no channel;
//! - a stream that lives as long as the page uses [`stream`], which hands a [`SseStream`] to your
//!   future and flushes each event as it is written.
//!
//! A long-lived stream spawns no task. The response body owns your future and a bounded buffer;
//! hyper polls the body when the socket can take more bytes, and polling the body polls your
//! future. So each event is flushed as soon as it is written; when the client goes away hyper drops
//! the body, which drops your future at its current `.await` (subscriptions and other state are
//! released by `Drop`, nothing leaks); and a slow reader applies back-pressure
//! (see [`StreamConfig::buffer`]). Every stream ends cleanly on [`shutdown`], which
//! `dstar::serve` calls on SIGINT and SIGTERM.

pub(crate) mod clock;
mod compress;
pub(crate) mod format;
pub(crate) mod lifecycle;
mod long_lived;
mod page_body;
pub(crate) mod wakers;

pub use compress::{
    Compression, CompressionFuture, CompressionLayer, CompressionService, Encoding, StreamBrotli,
};
pub use format::{EventMeta, EventOptions, EventType};
pub use lifecycle::{live_streams, shutdown, shutdown_signal};
pub use long_lived::{
    Disconnected, IntoEvents, SendError, SseStream, StreamConfig, StreamResponse, stream,
    stream_with,
};

pub(crate) use format::EventWriter;
pub(crate) use page_body::page_body;

use crate::error::Error;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};

/// Anything that can be written as one or more Datastar SSE events.
///
/// Implemented by the event builders ([`PatchElements`](crate::elements::PatchElements),
/// [`PatchSignals`](crate::signals::PatchSignals), [`ExecuteScript`](crate::scripts::ExecuteScript),
/// [`RemoveSignals`](crate::signals::RemoveSignals), [`Redirect`](crate::scripts::Redirect), …).
///
/// ```
/// use dstar::sse::DatastarEvent;
/// use dstar::elements::PatchElements;
///
/// let mut buf = bytes::BytesMut::new();
/// PatchElements::new("<p id=\"a\">hi</p>").write_to(&mut buf).unwrap();
/// assert_eq!(&buf[..], b"event: datastar-patch-elements\ndata: elements <p id=\"a\">hi</p>\n\n");
/// ```
pub trait DatastarEvent {
    /// Appends the event's bytes to `out`. On error nothing is appended.
    fn write_to(&self, out: &mut BytesMut) -> Result<(), Error>;
}

impl<E: DatastarEvent + ?Sized> DatastarEvent for &E {
    fn write_to(&self, out: &mut BytesMut) -> Result<(), Error> {
        (**self).write_to(out)
    }
}

/// Formats one event into a fresh buffer.
///
/// ```
/// use dstar::signals::PatchSignals;
/// let bytes = dstar::sse::format_event(&PatchSignals::new(serde_json::json!({"n": 1}))).unwrap();
/// assert_eq!(&bytes[..], b"event: datastar-patch-signals\ndata: signals {\"n\":1}\n\n");
/// ```
pub fn format_event(event: &impl DatastarEvent) -> Result<Bytes, Error> {
    let mut out = BytesMut::new();
    event.write_to(&mut out)?;
    Ok(out.freeze())
}

/// A batch of events sent as one `text/event-stream` response (the one-shot shape).
///
/// Build it in a handler and return it. The body is the formatted events, sent whole: no task,
/// no channel. Every method appends one event; the builder methods that can fail return a
/// [`Result`] and append nothing on error.
///
/// ```
/// use dstar::prelude::*;
///
/// async fn increment(Signals(s): Signals<serde_json::Value>) -> Sse {
///     let count = s["count"].as_i64().unwrap_or(0) + 1;
///     let mut sse = Sse::new();
///     sse.patch_signals(json!({ "count": count }))
///         .patch_elements(html! { span #history { "Last: +1 → " (count) } });
///     sse
/// }
/// let app: axum::Router = axum::Router::new().route("/increment", axum::routing::post(increment));
/// ```
#[must_use]
#[derive(Debug, Default, Clone)]
pub struct Sse {
    buf: BytesMut,
    /// Set by [`Sse::end_stream`]: a page stream ends after sending this batch.
    ends_stream: bool,
}

impl Sse {
    /// An empty batch.
    ///
    /// ```
    /// assert!(dstar::Sse::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Sse {
            buf: BytesMut::new(),
            ends_stream: false,
        }
    }

    /// An empty batch with room for `bytes` bytes.
    ///
    /// ```
    /// let sse = dstar::Sse::with_capacity(4096);
    /// assert!(sse.is_empty());
    /// ```
    pub fn with_capacity(bytes: usize) -> Self {
        Sse {
            buf: BytesMut::with_capacity(bytes),
            ends_stream: false,
        }
    }

    /// Appends any event. Returns an error, and appends nothing, when the event is invalid.
    ///
    /// ```
    /// use dstar::elements::{Mode, PatchElements};
    /// let mut sse = dstar::Sse::new();
    /// sse.send(PatchElements::new("<li>new</li>").selector("#items").mode(Mode::Append))?;
    /// assert!(sse.send(PatchElements::new("<li>x</li>").mode(Mode::Append)).is_err());
    /// # Ok::<(), dstar::Error>(())
    /// ```
    pub fn send(&mut self, event: impl DatastarEvent) -> Result<&mut Self, Error> {
        event.write_to(&mut self.buf)?;
        Ok(self)
    }

    /// Appends an SSE comment line (`: text`), which the client ignores.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.comment("ping");
    /// assert_eq!(&sse.as_bytes()[..], b": ping\n\n");
    /// ```
    pub fn comment(&mut self, text: &str) -> &mut Self {
        format::comment(&mut self.buf, text);
        self
    }

    /// Appends an event that cannot fail, or reports the failure: logged with `tracing::error!`
    /// and, in debug builds, sent to the browser as `console.error` so it shows in DevTools.
    pub(crate) fn send_or_report(&mut self, event: impl DatastarEvent) -> &mut Self {
        if let Err(e) = event.write_to(&mut self.buf) {
            self.report_error(&e);
        }
        self
    }

    /// An event with only an `id:` field. It dispatches nothing, but the client keeps the id and
    /// sends it back as `Last-Event-ID` when it reconnects. Line breaks and NUL (which would end
    /// the field or make the client ignore it) are dropped.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.event_id("v1\n2");
    /// assert_eq!(sse.as_bytes(), b"id: v12\n\n");
    /// ```
    pub fn event_id(&mut self, id: &str) -> &mut Self {
        self.buf.reserve(id.len() + 6);
        self.buf.extend_from_slice(b"id: ");
        for part in id.split(['\r', '\n', '\0']) {
            self.buf.extend_from_slice(part.as_bytes());
        }
        self.buf.extend_from_slice(b"\n\n");
        self
    }

    /// `id: {stream}.{number}`: a page stream's id, written without building the string first
    /// (`stream` is dstar's own, one line).
    pub(crate) fn stream_event_id(&mut self, stream: &str, number: u64) -> &mut Self {
        use std::fmt::Write as _;
        self.buf.reserve(stream.len() + 28);
        self.buf.extend_from_slice(b"id: ");
        self.buf.extend_from_slice(stream.as_bytes());
        let _ = write!(self.buf, ".{number}\n\n");
        self
    }

    /// In a page stream's message handler ([`crate::stream::run`], a page's `on_message`, a live
    /// page's render): send this batch, then end the stream
    /// ([`EndReason::Closed`](crate::stream::EndReason::Closed)). A live page does it when its
    /// render refuses (its user signed out), after the redirect, so the tab gets no more data.
    /// A one-shot response ignores it.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.redirect("/signin")?.end_stream();
    /// assert!(sse.ends_stream());
    /// # Ok::<(), dstar::Error>(())
    /// ```
    pub fn end_stream(&mut self) -> &mut Self {
        self.ends_stream = true;
        self
    }

    /// Whether [`end_stream`](Sse::end_stream) was called.
    ///
    /// ```
    /// assert!(!dstar::Sse::new().ends_stream());
    /// ```
    pub fn ends_stream(&self) -> bool {
        self.ends_stream
    }

    /// True when no event has been written.
    ///
    /// ```
    /// assert!(dstar::Sse::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes written so far.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.remove_elements("#flash");
    /// assert!(sse.as_bytes().starts_with(b"event: datastar-patch-elements\n"));
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Takes the bytes written so far, leaving the batch empty (used by stream loops).
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.comment("x");
    /// assert_eq!(&sse.take()[..], b": x\n\n");
    /// assert!(sse.is_empty());
    /// ```
    pub fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    /// The formatted events.
    ///
    /// ```
    /// let mut sse = dstar::Sse::new();
    /// sse.comment("x");
    /// assert_eq!(&sse.into_bytes()[..], b": x\n\n");
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.buf.freeze()
    }
}

/// `Content-Type: text/event-stream`, `Cache-Control: no-cache` (as the Datastar SDK ADR asks:
/// clients and proxies must not answer from a cache; event streams answer POSTs or carry
/// `datastar` query signals, so no shared cache keeps them) and `Connection: keep-alive`.
///
/// hyper drops the `Connection` header on HTTP/2, where it is not allowed, so it is only sent on
/// HTTP/1.1 as the protocol asks.
pub(crate) fn sse_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
}

impl IntoResponse for Sse {
    fn into_response(self) -> Response {
        let mut response = axum::body::Body::from(self.buf.freeze()).into_response();
        sse_headers(&mut response);
        response
    }
}
