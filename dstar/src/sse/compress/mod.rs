//! Compressed event streams: one encoder per response, so its window spans every event (the next
//! render of a page costs only what changed), flushed at every event boundary, so each event
//! reaches the browser at once.
//!
//! tower-http's `CompressionLayer` skips `text/event-stream`, and an encoder that only flushes at
//! the end would hold every event back. [`CompressionLayer`] compresses the event streams (br,
//! then zstd, then gzip, as the request's `Accept-Encoding` allows), and answers of a known length
//! (pages, scripts, JSON, an event handler's finished `Sse`) in one go; answers under 512 bytes go
//! out as they are. It is the only compression layer, on purpose: a second,
//! general one wrapped every streaming body too, at about 3 KB per open stream. The encoders are
//! used directly (each frame is already in memory, and a synchronous write-and-flush into a buffer
//! is all a frame needs, no async adapter in between):
//! - brotli streams are written by dstar's own delta writer ([`brotli_delta`]): a fat-morph event
//!   is nearly all copies of the last one, and a general encoder pays for that in CPU and memory
//!   per stream. [`StreamBrotli::Library`] picks the reference library instead;
//! - brotli answers in one go are Google's reference library through `brotlic`. The pure-Rust
//!   `brotli` port compresses worse once its ring buffer has wrapped: on the leaderboard's
//!   re-renders at quality 4, from about 50 bytes per update to 100–900 after 45 updates, while
//!   the reference library stays at about 45 bytes for as long as the stream lasts;
//! - zstd is the `zstd` crate (the reference library too), gzip is `flate2`.

mod brotli_bits;
mod brotli_delta;
mod brotli_match;
mod brotli_share;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

/// How event streams are compressed. [`App`](crate::App) compresses with the default; tune it
/// or turn it off with `App::compression`.
///
/// ```
/// use dstar::sse::Compression;
/// // brotli with a 1 MiB window (quality 5 for answers in one go); no zstd
/// let c = Compression::default().brotli(5, 20).zstd(None);
/// let off = Compression::off();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    brotli: Option<(u32, u32)>,
    stream_brotli: StreamBrotli,
    zstd: Option<i32>,
    gzip: Option<u32>,
    max_streams: usize,
}

/// How many event streams are compressed at once, by default.
const MAX_STREAMS: usize = 1024;

/// brotli's default quality and window. The quality is the reference library's, for answers in
/// one go and for [`StreamBrotli::Library`] streams: qualities 2–4 find a re-render in the window
/// as one long match (0 and 1 do not look past the last flush); 3 is within a few bytes of 4 per
/// update at less CPU (`cargo bench -p dstar --bench compression`). The window bounds both
/// writers: 128 KiB holds the last render of a page up to about 120 KB.
const BROTLI: (u32, u32) = (3, 17);
/// zstd's default level, and its window as a power of two (the same 128 KiB: the library's own
/// default of 2 MiB would be held by every open stream). The window is fixed: a page bigger than
/// 128 KiB re-rendered whole compresses as a page on its own with zstd; brotli's window can be
/// raised (`Compression::brotli`).
const ZSTD: i32 = 3;
const ZSTD_WINDOW_LOG: u32 = 17;
/// zstd's match-finder tables as powers of two (level 1's size). A re-render is found all the
/// same (the leaderboard: 62 bytes per update either way), and a stream holds about 0.3 MB instead
/// of 1 MB with level 3's own tables (`live-bench`).
const ZSTD_TABLE_LOG: u32 = 14;

impl Default for Compression {
    /// brotli with a 128 KiB window (streams by dstar's delta writer, answers in one go by the
    /// reference library at quality 3), zstd level 3 with a 128 KiB window, gzip level 6.
    /// A page re-rendered whole is then one long copy of its last render, so an update costs
    /// only what changed; a page bigger than the window compresses as a page on its own. For
    /// bigger pages, raise brotli's window (`brotli(3, 20)` is 1 MiB).
    fn default() -> Self {
        Compression {
            brotli: Some(BROTLI),
            stream_brotli: StreamBrotli::Delta,
            zstd: Some(ZSTD),
            gzip: Some(6),
            max_streams: MAX_STREAMS,
        }
    }
}

impl Compression {
    /// No compression: every stream goes out as it is.
    ///
    /// ```
    /// assert_eq!(dstar::sse::Compression::off().choose(&"br".parse().unwrap()), None);
    /// ```
    pub fn off() -> Self {
        Compression {
            brotli: None,
            stream_brotli: StreamBrotli::Delta,
            zstd: None,
            gzip: None,
            max_streams: MAX_STREAMS,
        }
    }

    /// brotli's quality (0–11) and window (`lgwin`, 10–24: a window of 2^lgwin bytes). The
    /// quality is the reference library's: answers compressed in one go, and streams with
    /// [`StreamBrotli::Library`]; streams by the delta writer (the default) have no quality. The
    /// window bounds how far back an event may copy from. A stream by the delta writer holds its
    /// last events: the fewest recent ones that add up to its largest event so far (or 8 KiB),
    /// about one window at most beyond the newest, which is always kept. Streams sent the same
    /// render share one copy of it. One by the library holds about twice the window plus the
    /// quality's hash tables (about 0.6 MB at quality 3 and 128 KiB).
    ///
    /// ```
    /// let c = dstar::sse::Compression::default().brotli(5, 20);
    /// ```
    pub fn brotli(mut self, quality: u32, lgwin: u32) -> Self {
        self.brotli = Some((quality.min(11), lgwin.clamp(10, 24)));
        self
    }

    /// Who writes brotli event streams: dstar's delta writer (the default) or the reference
    /// library. The window set with [`Compression::brotli`] bounds both.
    ///
    /// ```
    /// use dstar::sse::{Compression, StreamBrotli};
    /// let c = Compression::default().stream_brotli(StreamBrotli::Library);
    /// ```
    pub fn stream_brotli(mut self, writer: StreamBrotli) -> Self {
        self.stream_brotli = writer;
        self
    }

    /// Do not offer brotli: zstd (then gzip) is chosen instead. zstd sends a few bytes fewer per
    /// update than brotli's delta writer and, for pages rendered per user, costs less CPU; but it
    /// holds 0.3 MB per stream, and streams sent the same render do not share their work (see the
    /// README's live-bench figures).
    ///
    /// ```
    /// use dstar::sse::{Compression, Encoding};
    /// let c = Compression::default().without_brotli();
    /// assert_eq!(c.choose(&"br, zstd".parse().unwrap()), Some(Encoding::Zstd));
    /// ```
    pub fn without_brotli(mut self) -> Self {
        self.brotli = None;
        self
    }

    /// zstd's level (1–19), or `None` to not offer zstd.
    ///
    /// ```
    /// let c = dstar::sse::Compression::default().zstd(Some(1));
    /// ```
    pub fn zstd(mut self, level: Option<i32>) -> Self {
        self.zstd = level.map(|l| l.clamp(1, 19));
        self
    }

    /// gzip's level (1–9), or `None` to not offer gzip.
    ///
    /// ```
    /// let c = dstar::sse::Compression::default().gzip(None);
    /// ```
    pub fn gzip(mut self, level: Option<u32>) -> Self {
        self.gzip = level.map(|l| l.clamp(1, 9));
        self
    }

    /// At most this many event streams are compressed at once (1024 by default); a stream opened
    /// past it goes out uncompressed, which the client reads all the same. So memory stays bounded
    /// however many streams clients open: a compressed stream holds its encoder's state for as
    /// long as it is open. At the defaults that is about 0.3 MB with gzip or zstd, and with brotli
    /// the stream's last render or so (11 KB on the leaderboard, or +3.9 KB per stream there,
    /// since its streams are sent the same render and share it: `live-bench`), against 20–28 KB
    /// for the stream itself. The limit is shared by all clients: at worst it is reached
    /// and later streams go uncompressed, and the memory held is the limit times the per-stream
    /// figure (about 0.3 GB at 1024 if every client picks zstd). Answers of a known length (pages,
    /// an event's answer) are compressed in one go and keep nothing, so they do not count.
    ///
    /// ```
    /// // 4000 streams: up to about 1.2 GB of encoder state if every client picks zstd or gzip
    /// let c = dstar::sse::Compression::default().max_streams(4000);
    /// ```
    pub fn max_streams(mut self, streams: usize) -> Self {
        self.max_streams = streams;
        self
    }

    /// Whether anything is on.
    ///
    /// ```
    /// assert!(dstar::sse::Compression::default().is_on());
    /// ```
    pub fn is_on(&self) -> bool {
        self.brotli.is_some() || self.zstd.is_some() || self.gzip.is_some()
    }

    /// The encoding for an `Accept-Encoding` value: br, then zstd, then gzip, skipping what the
    /// client refuses (`;q=0`) and what is turned off.
    ///
    /// ```
    /// use dstar::sse::{Compression, Encoding};
    /// let c = Compression::default();
    /// assert_eq!(c.choose(&"gzip, deflate, br, zstd".parse().unwrap()), Some(Encoding::Brotli));
    /// assert_eq!(c.choose(&"gzip, br;q=0".parse().unwrap()), Some(Encoding::Gzip));
    /// assert_eq!(c.choose(&"identity".parse().unwrap()), None);
    /// assert_eq!(c.choose(&"*, br;q=0".parse().unwrap()), Some(Encoding::Zstd));
    /// assert_eq!(c.choose(&"GZip;q=0.5".parse().unwrap()), Some(Encoding::Gzip));
    /// assert_eq!(c.choose(&"BR;Q=0, gzip".parse().unwrap()), Some(Encoding::Gzip));
    /// assert_eq!(c.choose(&"br;q=0.000, zstd;q=0.001".parse().unwrap()), Some(Encoding::Zstd));
    /// assert_eq!(c.choose(&"br;q=2, gzip".parse().unwrap()), Some(Encoding::Gzip)); // malformed: ignored
    /// assert_eq!(c.choose(&"br;q=x".parse().unwrap()), None);
    /// assert_eq!(c.choose(&"*;q=0".parse().unwrap()), None);
    /// ```
    pub fn choose(&self, accept: &HeaderValue) -> Option<Encoding> {
        // read on every request a browser sends: one pass over the header, no allocation. Per
        // coding: `None` not named, `Some(accepted)` named (with q > 0 or not)
        let accept = accept.to_str().ok()?;
        let (mut br, mut zstd, mut gzip, mut star) = (None, None, None, false);
        for part in accept.split(',') {
            let (coding, params) = part.split_once(';').unwrap_or((part, ""));
            // RFC 9110 §12.4.2: `q` is case-insensitive, a qvalue is 0 to 1 with at most three
            // decimals, and q=0 means "not acceptable"; a member with a malformed q is ignored
            let q = params.split(';').find_map(|p| {
                let (name, value) = p.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| qvalue(value.trim()))
            });
            let accepted = match q {
                None => true,
                Some(Some(q)) => q > 0,
                Some(None) => continue,
            };
            let coding = coding.trim();
            // the first mention of a coding counts
            let slot = if coding.eq_ignore_ascii_case("br") {
                &mut br
            } else if coding.eq_ignore_ascii_case("zstd") {
                &mut zstd
            } else if coding.eq_ignore_ascii_case("gzip") {
                &mut gzip
            } else {
                star |= coding == "*" && accepted;
                continue;
            };
            slot.get_or_insert(accepted);
        }
        // a coding named explicitly wins over `*`, so `*, br;q=0` refuses br
        let accepts = |named: Option<bool>| named.unwrap_or(star);
        [
            (self.brotli.is_some() && accepts(br), Encoding::Brotli),
            (self.zstd.is_some() && accepts(zstd), Encoding::Zstd),
            (self.gzip.is_some() && accepts(gzip), Encoding::Gzip),
        ]
        .into_iter()
        .find_map(|(on, e)| on.then_some(e))
    }

    /// The layer that compresses the event streams of the routes it wraps.
    ///
    /// ```
    /// let app: axum::Router = axum::Router::new()
    ///     .layer(dstar::sse::Compression::default().layer());
    /// ```
    pub fn layer(self) -> CompressionLayer {
        CompressionLayer {
            config: self,
            streams: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Compresses a whole body in one go (a page, an event's finished answer). Nothing is kept
    /// afterwards, and the encoder is set up for the body's size: brotli's window fits the body
    /// and it knows the whole input at once, so it prepares only the part of its tables the body
    /// uses; zstd sizes its context to the body.
    fn one_shot(&self, encoding: Encoding, body: &[u8]) -> std::io::Result<Vec<u8>> {
        match encoding {
            Encoding::Brotli => {
                let (quality, lgwin) = self.brotli.unwrap_or(BROTLI);
                // the smallest window that holds the whole body (brotli's minimum is 10)
                let fits = usize::BITS - body.len().max(1).leading_zeros();
                let lgwin = lgwin.min(fits.max(10));
                let encoder = brotli_encoder(quality, lgwin, Some(body.len()))?;
                let mut writer = brotlic::CompressorWriter::with_encoder(encoder, Vec::new());
                // written, then finished: no flush in between, so brotli sees it all as one block
                writer.write_all(body)?;
                writer
                    .into_inner()
                    .map_err(brotlic::IntoInnerError::into_error)
            }
            Encoding::Zstd => zstd::bulk::compress(body, self.zstd.unwrap_or(ZSTD)),
            Encoding::Gzip => {
                let level = flate2::Compression::new(self.gzip.unwrap_or(6));
                let mut writer = flate2::write::GzEncoder::new(Vec::new(), level);
                writer.write_all(body)?;
                writer.finish()
            }
        }
    }

    /// A streaming encoder, or `None` when the library refuses its settings (the stream then
    /// goes out uncompressed: never labelled with a coding it is not in).
    fn encoder(&self, encoding: Encoding) -> Option<Box<dyn Encoder>> {
        let encoder: Box<dyn Encoder> = match encoding {
            Encoding::Brotli if self.stream_brotli == StreamBrotli::Delta => {
                let (_, lgwin) = self.brotli.unwrap_or(BROTLI);
                Box::new(brotli_delta::DeltaBrotli::new(lgwin))
            }
            Encoding::Brotli => {
                let (quality, lgwin) = self.brotli.unwrap_or(BROTLI);
                let encoder = brotli_encoder(quality, lgwin, None).ok()?;
                Box::new(Flushing(Some(brotlic::CompressorWriter::with_encoder(
                    encoder,
                    Vec::new(),
                ))))
            }
            Encoding::Zstd => {
                let mut encoder =
                    zstd::stream::write::Encoder::new(Vec::new(), self.zstd.unwrap_or(ZSTD))
                        .ok()?;
                encoder.window_log(ZSTD_WINDOW_LOG).ok()?;
                use zstd::stream::raw::CParameter;
                encoder
                    .set_parameter(CParameter::HashLog(ZSTD_TABLE_LOG))
                    .ok()?;
                encoder
                    .set_parameter(CParameter::ChainLog(ZSTD_TABLE_LOG))
                    .ok()?;
                Box::new(Flushing(Some(encoder)))
            }
            Encoding::Gzip => Box::new(Flushing(Some(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(self.gzip.unwrap_or(6)),
            )))),
        };
        Some(encoder)
    }
}

/// Who writes brotli event streams (answers in one go are always the reference library's).
///
/// ```
/// use dstar::sse::{Compression, StreamBrotli};
/// let c = Compression::default().stream_brotli(StreamBrotli::Library);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StreamBrotli {
    /// dstar's delta writer, the default: each event is written as copies from the stream's
    /// recent events plus the bytes that changed, which is what a fat-morph page sends. A stream
    /// keeps its last events as they were sent (at least its largest one, or 8 KiB) and nothing else; a
    /// re-rendered page costs a few dozen bytes and a fraction of the library's CPU. Events that
    /// repeat nothing of the recent ones compress less than with the library (no context
    /// modelling, no built-in dictionary).
    #[default]
    Delta,
    /// Google's reference library at [`Compression::brotli`]'s quality and window: the best ratio
    /// on streams of varied text, for about 0.6 MB and a cold hash table per open stream.
    Library,
}

/// A content coding dstar streams with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `br`
    Brotli,
    /// `zstd`
    Zstd,
    /// `gzip`
    Gzip,
}

impl Encoding {
    /// The `Content-Encoding` token.
    ///
    /// ```
    /// assert_eq!(dstar::sse::Encoding::Brotli.name(), "br");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
            Encoding::Gzip => "gzip",
        }
    }
}

/// A streaming encoder: compress a frame and flush, so the output decodes to everything so far.
trait Encoder: Send {
    fn encode(&mut self, frame: Bytes) -> std::io::Result<Vec<u8>>;
    fn finish(&mut self) -> std::io::Result<Vec<u8>>;
}

/// A compressing writer into a buffer: where its output collects, and how it ends its stream.
trait Compressor: Write + Send + Sized {
    fn output(&mut self) -> &mut Vec<u8>;
    fn end(self) -> std::io::Result<Vec<u8>>;
}

/// A brotli encoder with dstar's settings (`quality` and `lgwin` already in range), told the
/// body's `size` when it is known in advance.
fn brotli_encoder(
    quality: u32,
    lgwin: u32,
    size: Option<usize>,
) -> Result<brotlic::BrotliEncoder, std::io::Error> {
    let invalid = |e: brotlic::SetParameterError| std::io::Error::other(e.to_string());
    let mut options = brotlic::BrotliEncoderOptions::new();
    options
        .quality(brotlic::Quality::new(quality as u8).map_err(invalid)?)
        .window_size(brotlic::WindowSize::new(lgwin as u8).map_err(invalid)?);
    if let Some(size) = size {
        options.size_hint(u32::try_from(size).unwrap_or(u32::MAX));
    }
    options.build().map_err(invalid)
}

impl Compressor for brotlic::CompressorWriter<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn end(self) -> std::io::Result<Vec<u8>> {
        // into_inner writes brotli's last meta-block
        self.into_inner()
            .map_err(brotlic::IntoInnerError::into_error)
    }
}

impl Compressor for flate2::write::GzEncoder<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn end(self) -> std::io::Result<Vec<u8>> {
        self.finish()
    }
}

impl Compressor for zstd::stream::write::Encoder<'static, Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn end(self) -> std::io::Result<Vec<u8>> {
        self.finish()
    }
}

/// Any [`Compressor`] as an [`Encoder`]: write, flush, hand out what came out. `None` once ended.
struct Flushing<C>(Option<C>);

impl<C: Compressor> Encoder for Flushing<C> {
    fn encode(&mut self, frame: Bytes) -> std::io::Result<Vec<u8>> {
        let compressor = self.0.as_mut().ok_or(std::io::ErrorKind::BrokenPipe)?;
        compressor.write_all(&frame)?;
        compressor.flush()?;
        Ok(std::mem::take(compressor.output()))
    }

    fn finish(&mut self) -> std::io::Result<Vec<u8>> {
        self.0.take().map_or(Ok(Vec::new()), Compressor::end)
    }
}

impl Encoder for brotli_delta::DeltaBrotli {
    fn encode(&mut self, frame: Bytes) -> std::io::Result<Vec<u8>> {
        Ok(brotli_delta::DeltaBrotli::encode(self, frame))
    }

    fn finish(&mut self) -> std::io::Result<Vec<u8>> {
        Ok(brotli_delta::DeltaBrotli::finish(self))
    }
}

/// The tower layer of [`Compression`]. Its services share one count of the streams they are
/// compressing (see [`Compression::max_streams`]).
#[derive(Debug, Clone)]
pub struct CompressionLayer {
    config: Compression,
    streams: Arc<AtomicUsize>,
}

impl<S> tower_layer::Layer<S> for CompressionLayer {
    type Service = CompressionService<S>;
    fn layer(&self, inner: S) -> CompressionService<S> {
        CompressionService {
            inner,
            config: self.config,
            streams: self.streams.clone(),
        }
    }
}

/// The service of [`CompressionLayer`].
#[derive(Debug, Clone)]
pub struct CompressionService<S> {
    inner: S,
    config: Compression,
    streams: Arc<AtomicUsize>,
}

/// One of the [`Compression::max_streams`] places, held by a compressed stream until it ends.
struct StreamSlot(Arc<AtomicUsize>);

impl StreamSlot {
    fn take(streams: &Arc<AtomicUsize>, max: usize) -> Option<StreamSlot> {
        streams
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| StreamSlot(streams.clone()))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A qvalue in thousandths (RFC 9110 §12.4.2: `0`, `1`, `0.xxx` or `1.000`), or `None` when it
/// is malformed.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'))
        * 10u16.pow(3 - fraction.len() as u32);
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

impl<S> tower_service::Service<Request> for CompressionService<S>
where
    S: tower_service::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = CompressionFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let encoding = req
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|accept| self.config.choose(accept));
        CompressionFuture {
            state: ResponseState::Inner {
                future: self.inner.call(req),
                encoding,
                config: self.config,
                streams: self.streams.clone(),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`CompressionService`]: the inner service's response, compressed. Not
    /// boxed, so a request pays for no allocation of its own here (a whole page compressed in
    /// one go is the exception: its body is read in a boxed future).
    ///
    /// ```
    /// use axum::{extract::Request, response::{IntoResponse, Response}};
    /// use tower::{Layer, Service};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let inner = tower::service_fn(|_req: Request| async {
    ///     Ok::<Response, std::convert::Infallible>("hello".into_response())
    /// });
    /// let mut service = dstar::sse::Compression::default().layer().layer(inner);
    /// let future: dstar::sse::CompressionFuture<_> = service.call(Request::new("".into()));
    /// assert_eq!(future.await.unwrap().status(), 200);
    /// # });
    /// ```
    pub struct CompressionFuture<F> {
        #[pin]
        state: ResponseState<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = ResponseStateProj]
    enum ResponseState<F> {
        Inner {
            #[pin]
            future: F,
            encoding: Option<Encoding>,
            config: Compression,
            streams: Arc<AtomicUsize>,
        },
        Page {
            future: Pin<Box<dyn Future<Output = Response> + Send>>,
        },
    }
}

impl<F> fmt::Debug for CompressionFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressionFuture").finish_non_exhaustive()
    }
}

impl<F> Future for CompressionFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                ResponseStateProj::Inner {
                    future,
                    encoding,
                    config,
                    streams,
                } => {
                    let Ok(response) = std::task::ready!(future.poll(cx));
                    if let Some(encoding) = *encoding {
                        if is_compressible_page(&response)
                            && !response.headers().contains_key(header::CONTENT_ENCODING)
                        {
                            let config = *config;
                            let page = compress_page(response, encoding, config);
                            state.set(ResponseState::Page {
                                future: Box::pin(page),
                            });
                            continue;
                        }
                    }
                    return Poll::Ready(Ok(compress(response, *encoding, config, streams)));
                }
                ResponseStateProj::Page { future } => return future.as_mut().poll(cx).map(Ok),
            }
        }
    }
}

fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"))
}

/// A whole response worth compressing in one go: a `200` with text (a page, a script, an event's
/// finished answer) of a known, modest size, that does not forbid transforms.
fn is_compressible_page(response: &Response) -> bool {
    let headers = response.headers();
    if response.status() != axum::http::StatusCode::OK
        || headers.contains_key(header::CONTENT_RANGE)
        || headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|cc| cc.to_ascii_lowercase().contains("no-transform"))
    {
        return false;
    }
    let text = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            [
                // an event's finished answer (a long-lived stream has no known length)
                "text/event-stream",
                "text/html",
                "text/css",
                "text/javascript",
                "application/javascript",
                "application/json",
                "image/svg+xml",
            ]
            .iter()
            .any(|t| ct.starts_with(t))
        });
    // a whole body of a known length (a rendered page), not a stream
    let length = http_body::Body::size_hint(response.body()).exact();
    text && length.is_some_and(|len| (MIN_PAGE as u64..=MAX_PAGE as u64).contains(&len))
}

/// Smaller answers are not worth a compressor (a counter's event answer is about 130 bytes:
/// compressed, it saves a few bytes and costs more than the answer itself); bigger ones are not
/// buffered here.
const MIN_PAGE: usize = 512;
const MAX_PAGE: usize = 1 << 20;
/// Past this size a page is compressed on the blocking pool, not on a worker thread.
const BLOCKING_PAGE: usize = 64 << 10;

/// Compresses a whole page in one go (no per-stream state to keep).
async fn compress_page(response: Response, encoding: Encoding, config: Compression) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "dstar: could not read a page to compress it");
            return (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal server error",
            )
                .into_response();
        }
    };
    let page = bytes.clone();
    let compress = move || config.one_shot(encoding, &page);
    let compressed = if bytes.len() > BLOCKING_PAGE {
        tokio::task::spawn_blocking(compress)
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    } else {
        compress()
    };
    let headers = &mut parts.headers;
    add_vary(headers);
    match compressed {
        Ok(out) => {
            headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(encoding.name()),
            );
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(out.len()));
            // the bytes differ now: a strong validator of the identity body would lie
            if let Some(etag) = headers.get(header::ETAG).cloned() {
                if !etag.as_bytes().starts_with(b"W/") {
                    let mut weak = b"W/".to_vec();
                    weak.extend_from_slice(etag.as_bytes());
                    if let Ok(weak) = HeaderValue::from_bytes(&weak) {
                        headers.insert(header::ETAG, weak);
                    }
                }
            }
            Response::from_parts(parts, Body::from(out))
        }
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// Adds `Vary: accept-encoding` once (not again, and not next to `Vary: *`).
fn add_vary(headers: &mut HeaderMap) {
    let present = headers.get_all(header::VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || t.trim().eq_ignore_ascii_case("accept-encoding"))
        })
    });
    if !present {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

fn compress(
    mut response: Response,
    encoding: Option<Encoding>,
    config: &Compression,
    streams: &Arc<AtomicUsize>,
) -> Response {
    if !is_event_stream(response.headers()) {
        return response;
    }
    // the answer depends on Accept-Encoding, compressed or not
    add_vary(response.headers_mut());
    let Some(encoding) = encoding else {
        return response;
    };
    if response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    // a finished answer too small to be worth an encoder (bigger ones were compressed in one go)
    let length = http_body::Body::size_hint(response.body()).exact();
    if length.is_some_and(|len| len < MIN_PAGE as u64) {
        return response;
    }
    let Some(slot) = StreamSlot::take(streams, config.max_streams) else {
        tracing::debug!(
            max_streams = config.max_streams,
            "dstar: as many streams as Compression::max_streams are compressed already; this one goes out uncompressed"
        );
        return response;
    };
    let Some(encoder) = config.encoder(encoding) else {
        tracing::warn!(
            encoding = encoding.name(),
            "dstar: the encoder refused its settings; this stream goes out uncompressed"
        );
        return response;
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(encoding.name()),
    );
    headers.remove(header::CONTENT_LENGTH);
    response.map(|body| {
        Body::new(EncodedBody {
            inner: body,
            encoder: Some(encoder),
            _slot: slot,
        })
    })
}

/// A response body compressed frame by frame, each flushed.
struct EncodedBody {
    inner: Body,
    /// `None` once finished.
    encoder: Option<Box<dyn Encoder>>,
    /// Given back when the response ends or the client goes.
    _slot: StreamSlot,
}

impl fmt::Debug for EncodedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodedBody").finish_non_exhaustive()
    }
}

impl http_body::Body for EncodedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        loop {
            let Some(encoder) = this.encoder.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers: an event stream has none
                    };
                    match encoder.encode(data) {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Poll::Ready(Some(Ok(Frame::data(out.into())))),
                        Err(e) => return Poll::Ready(Some(Err(axum::Error::new(e)))),
                    }
                }
                Poll::Ready(None) => {
                    let mut encoder = this.encoder.take().expect("checked above");
                    return match encoder.finish() {
                        Ok(out) if out.is_empty() => Poll::Ready(None),
                        Ok(out) => Poll::Ready(Some(Ok(Frame::data(out.into())))),
                        Err(e) => Poll::Ready(Some(Err(axum::Error::new(e)))),
                    };
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.encoder.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
