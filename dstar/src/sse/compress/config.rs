//! The [`Compression`] builder: which encodings are offered, at which settings, and how many
//! streams are compressed at once; and [`StreamBrotli`], who writes brotli streams.

/// How event streams are compressed. [`App`](crate::App) compresses with the default; tune it
/// or turn it off with `App::compression`.
///
/// ```
/// use dstar::sse::Compression;
/// // brotli with a 1 MiB window (quality 5 for answers in one go); no zstd
/// let c = Compression::default().brotli(5, 20).zstd(None);
/// let off = Compression::off();
/// ```
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    pub(super) brotli: Option<(u32, u32)>,
    pub(super) stream_brotli: StreamBrotli,
    pub(super) zstd: Option<i32>,
    pub(super) gzip: Option<u32>,
    pub(super) max_streams: usize,
}

/// How many event streams are compressed at once, by default.
const MAX_STREAMS: usize = 1024;

/// brotli's default quality and window. The quality is the reference library's, for answers in
/// one go and for [`StreamBrotli::Library`] streams: qualities 2–4 find a re-render in the window
/// as one long match (0 and 1 do not look past the last flush); 3 is within a few bytes of 4 per
/// update at less CPU (`cargo bench -p dstar --bench compression`). The window bounds both
/// writers: 128 KiB holds the last render of a page up to about 120 KB.
pub(super) const BROTLI: (u32, u32) = (3, 17);
/// zstd's default level, and its window as a power of two (the same 128 KiB: the library's own
/// default of 2 MiB would be held by every open stream). The window is fixed: a page bigger than
/// 128 KiB re-rendered whole compresses as a page on its own with zstd; brotli's window can be
/// raised (`Compression::brotli`).
pub(super) const ZSTD: i32 = 3;
pub(super) const ZSTD_WINDOW_LOG: u32 = 17;
/// zstd's match-finder tables as powers of two (level 1's size). A re-render is found all the
/// same (the leaderboard: 62 bytes per update either way), and a stream holds about 0.3 MB instead
/// of 1 MB with level 3's own tables (`live-bench`).
pub(super) const ZSTD_TABLE_LOG: u32 = 14;

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
    /// but no more than the window reaches back (1,008 bytes at lgwin 10), and the newest,
    /// which is always kept. Streams sent the same
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
    /// keeps its last events as they were sent (its largest one's worth, or 8 KiB, as far as the
    /// window reaches) and nothing else; a re-rendered page costs a few dozen bytes and a fraction of the library's CPU. Events that
    /// repeat nothing of the recent ones compress less than with the library (no context
    /// modelling, no built-in dictionary).
    #[default]
    Delta,
    /// Google's reference library at [`Compression::brotli`]'s quality and window: the best ratio
    /// on streams of varied text, for about 0.6 MB and a cold hash table per open stream.
    Library,
}
