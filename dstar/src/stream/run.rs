//! The page stream loop as a library function: `#[dstar::page]` expands to a call of [`run`], so
//! the generated code stays a few lines, and reconnects, catch-up and live reload live here.

use super::{Claim, EndGuard, EndReason, Next, Source, StreamLoop};
use crate::sse::{Sse, StreamResponse};
use axum::http::HeaderMap;
use bytes::Bytes;
use futures_util::FutureExt as _;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

/// Everything a page stream needs besides its message handler.
#[derive(Debug)]
pub struct PageStream<S> {
    /// Where the messages come from.
    pub source: S,
    /// How often an idle stream checks that its client is still there.
    pub idle_check: Duration,
    /// The per-tab slot this stream holds, if deduplicated.
    pub claim: Option<Claim>,
    /// Runs the disconnect hook once, however the stream ends.
    pub guard: EndGuard,
    /// Sent before the first message: the stream's id and, on a reconnect, the catch-up.
    pub first: Sse,
    /// Whether the client reconnects after any end and catches up (a page's `connect()`, with
    /// `retry: 'always'`, against a stream that renders the page first on a reconnect). Then a
    /// source that lost messages ([`Delivery::Missed`](super::Delivery)) ends the stream
    /// ([`EndReason::Missed`]) so the page is rendered afresh; otherwise the loss is logged and
    /// skipped, and the stream goes on. `#[dstar::page]` streams set it.
    pub catch_up: bool,
}

/// Runs a page stream: sends `first`, then turns each message into events with `on_message`
/// until the client goes, a newer stream of the same tab takes over, the source closes, the
/// server shuts down, or (with [`catch_up`](PageStream::catch_up)) the source lost messages. The
/// claim is released before the disconnect hook runs.
///
/// ```
/// use dstar::prelude::*;
/// use dstar::stream::{EndGuard, PageStream};
/// async fn feed(State(pubsub): State<PubSub>) -> impl axum::response::IntoResponse {
///     let source = pubsub.subscribe::<u64>("ticks");
///     let stream = PageStream {
///         source,
///         idle_check: std::time::Duration::from_secs(30),
///         claim: None,
///         guard: EndGuard::none(),
///         first: Sse::new(),
///         catch_up: false, // a lost message is skipped: this client has no catch-up
///     };
///     dstar::stream::run(stream, |tick: u64| async move {
///         let mut sse = Sse::new();
///         sse.patch_signals(json!({ "tick": tick }));
///         sse
///     })
/// }
/// # use dstar::axum::extract::State;
/// let app: axum::Router = axum::Router::new()
///     .route("/ticks", axum::routing::post(feed))
///     .with_state(PubSub::new());
/// ```
pub fn run<S, F, Fut>(stream: PageStream<S>, on_message: F) -> StreamResponse
where
    S: Source,
    F: FnMut(S::Message) -> Fut + Send + 'static,
    Fut: Future<Output = Sse> + Send,
{
    run_batches(stream, on_message)
}

/// What a message becomes on a page stream: the bytes to send, and whether the stream ends after
/// them. An [`Sse`] batch, or a live page's shared frame (the same bytes for every viewer).
pub(crate) trait Batch: Send {
    /// Whether the stream ends after this batch.
    fn ends_stream(&self) -> bool;
    /// The bytes to send (none: nothing is sent).
    fn into_bytes(self) -> Bytes;
}

impl Batch for Sse {
    fn ends_stream(&self) -> bool {
        Sse::ends_stream(self)
    }
    fn into_bytes(self) -> Bytes {
        Sse::into_bytes(self)
    }
}

/// [`run`] for any [`Batch`].
pub(crate) fn run_batches<S, F, Fut, B>(stream: PageStream<S>, mut on_message: F) -> StreamResponse
where
    S: Source,
    F: FnMut(S::Message) -> Fut + Send + 'static,
    Fut: Future<Output = B> + Send,
    B: Batch,
{
    // taken apart out here, so the future holds each part once (a future keeps what it captures
    // apart from its locals: destructuring inside would hold the stream twice, per open stream)
    let PageStream {
        mut source,
        idle_check,
        claim,
        guard,
        first,
        catch_up,
    } = stream;
    // fields drop in their order: the claim is released before the disconnect hook (the guard)
    // runs, also when the client goes and the future is dropped at an `.await`
    let end = Ending { claim, guard };
    // a catch-up that refused (the viewer signed out) sends its redirect and ends the stream
    let ends_first = first.ends_stream();
    // the loop is the response body itself: it hands each batch straight to hyper (no queue and
    // no lock between them), and is dropped with the body when the client goes
    let body = crate::sse::page_body(first.into_bytes(), move |frames| async move {
        tracing::debug!("dstar stream opened");
        if ends_first {
            end.guard.set(EndReason::Closed);
            drop(end);
            return;
        }
        let events = StreamLoop::new(idle_check);
        let mut events = std::pin::pin!(events);
        let reason = loop {
            // bound first, not matched in place: a scrutinee would be held across the arms'
            // awaits, in every open stream's future
            let next = events.as_mut().next(&mut source, end.claim.as_ref()).await;
            match next {
                Next::Message(message) => {
                    // a panic in the page's code (`on_message`, a live render) ends this stream,
                    // logged with its location, not the connection it shares with others
                    let batch = match std::panic::AssertUnwindSafe(on_message(message))
                        .catch_unwind()
                        .await
                    {
                        Ok(batch) => batch,
                        Err(panic) => {
                            crate::headers::log_panic(
                                panic.as_ref(),
                                "a page stream's message handler panicked; the stream ends",
                            );
                            break EndReason::Closed;
                        }
                    };
                    let ends = batch.ends_stream();
                    let bytes = batch.into_bytes();
                    if !bytes.is_empty() {
                        frames.send(bytes).await;
                        events.as_mut().wrote();
                    }
                    if ends {
                        break EndReason::Closed;
                    }
                }
                // a liveness check: an SSE comment, which the client ignores; if the client is
                // gone, the write fails and hyper drops the body with this loop (`ClientGone`)
                Next::Idle => frames.send(Bytes::from_static(b": \n\n")).await,
                Next::TakenOver => break EndReason::Takeover,
                Next::Shutdown => break EndReason::Shutdown,
                Next::SourceClosed => break EndReason::SourceClosed,
                Next::Missed if catch_up => break EndReason::Missed,
                Next::Missed => {
                    tracing::debug!("dstar stream: its source lost messages; skipped");
                }
            }
        };
        end.guard.set(reason);
        drop(end);
    });
    StreamResponse::from_body(body)
}

/// What a page stream releases when it ends, in this order.
struct Ending {
    claim: Option<Claim>,
    guard: EndGuard,
}

/// The scope a page stream is deduplicated in, per tab: the page's `stream_key` (the user, a
/// workspace) and the CSRF session when the token layer runs (else the app's session, with
/// [`App::sessions`](crate::App::sessions)). So a tab id that leaked cannot end
/// another user's stream: whoever sends it needs the same session cookie too. `None` (no
/// deduplication) for a page without `stream_key` when there is no session.
///
/// ```
/// let none = axum::http::Extensions::new();
/// assert_eq!(dstar::stream::dedup_scope("Chat", None, &none), None);
/// assert_eq!(dstar::stream::dedup_scope("Chat", Some("user-7".into()), &none).as_deref(), Some("user-7"));
/// ```
pub fn dedup_scope(
    page: &str,
    key: Option<String>,
    extensions: &axum::http::Extensions,
) -> Option<String> {
    let session =
        crate::csrf::session_id(extensions).or_else(|| crate::session::scope_of(extensions));
    match (key, session) {
        (Some(key), Some(session)) => Some(format!("{key}\u{1f}{session}")),
        (Some(key), None) => Some(key),
        (None, Some(session)) => Some(format!("{page}\u{1f}{session}")),
        (None, None) => None,
    }
}

/// What a stream request says about an earlier connection of the same page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconnect {
    /// No `Last-Event-ID`: the stream of a page just rendered. It sends a catch-up render only
    /// when its source may have missed a message since the page's render (the page's
    /// [`RENDERED_HEADER`](crate::page::RENDERED_HEADER) and [`Source::missed_since`]).
    First,
    /// A reconnect to a process of the same build (a network drop, a restart, another node).
    SameBuild,
    /// A reconnect to a process of another build (a deploy, or `cargo run` after an edit).
    NewBuild,
}

impl Reconnect {
    /// Reads `Last-Event-ID`, which the client sends back from the stream's first event.
    ///
    /// ```
    /// use dstar::stream::Reconnect;
    /// let mut headers = axum::http::HeaderMap::new();
    /// assert_eq!(Reconnect::from_headers(&headers), Reconnect::First);
    /// headers.insert("last-event-id", dstar::stream::stream_id().parse().unwrap());
    /// assert_eq!(Reconnect::from_headers(&headers), Reconnect::SameBuild);
    /// headers.insert("last-event-id", "ds1.other-build.x.1".parse().unwrap());
    /// assert_eq!(Reconnect::from_headers(&headers), Reconnect::NewBuild);
    /// ```
    pub fn from_headers(headers: &HeaderMap) -> Reconnect {
        let Some(last) = headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
        else {
            return Reconnect::First;
        };
        let build = last
            .strip_prefix("ds1.")
            .and_then(|rest| rest.split('.').next());
        if build == Some(build_id()) {
            Reconnect::SameBuild
        } else {
            Reconnect::NewBuild
        }
    }

    /// Whether the page reloads instead: a new build, with live reload on.
    ///
    /// ```
    /// assert!(!dstar::stream::Reconnect::SameBuild.reloads());
    /// ```
    pub fn reloads(self) -> bool {
        self == Reconnect::NewBuild && live_reload()
    }

    /// Whether the stream must send a fresh render first (anything may have been published
    /// while the tab was away).
    ///
    /// ```
    /// assert!(!dstar::stream::Reconnect::First.catches_up());
    /// assert!(dstar::stream::Reconnect::SameBuild.catches_up());
    /// ```
    pub fn catches_up(self) -> bool {
        self != Reconnect::First && !self.reloads()
    }
}

/// A fresh number for a page stream (never 0): its id is `{stream_id()}.{number}`.
pub(crate) fn next_stream_number() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The number of the stream a reconnecting client last had, from its `Last-Event-ID`, when that
/// stream was served by this process.
///
/// ```
/// let mut headers = axum::http::HeaderMap::new();
/// let id = format!("{}.42", dstar::stream::stream_id());
/// headers.insert("last-event-id", id.parse().unwrap());
/// assert_eq!(dstar::stream::previous_stream(&headers), Some(42));
/// ```
pub fn previous_stream(headers: &HeaderMap) -> Option<u64> {
    let last = headers.get("last-event-id")?.to_str().ok()?;
    let (process, number) = last.rsplit_once('.')?;
    (process == stream_id()).then(|| number.parse().ok())?
}

/// The process part of the id every page stream sends first (`ds1.{build}.{boot}`, then
/// `.{n}`, the stream's number): the client sends it back as
/// `Last-Event-ID` when it reconnects, which tells the stream to catch up (and, with live reload,
/// whether the build changed). `boot` is drawn once per process.
///
/// ```
/// assert!(dstar::stream::stream_id().starts_with("ds1."));
/// ```
pub fn stream_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        use rand::RngCore;
        format!("ds1.{}.{:08x}", build_id(), rand::rng().next_u32())
    })
}

/// What identifies this build: `DSTAR_BUILD_ID` (a release's git hash, say), else a hash of the
/// executable's size and modification time, which changes with every rebuild.
///
/// ```
/// assert!(!dstar::stream::build_id().is_empty());
/// ```
pub fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        if let Ok(id) = std::env::var("DSTAR_BUILD_ID") {
            let clean: String = id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .take(64)
                .collect();
            if !clean.is_empty() {
                return clean;
            }
        }
        let stamp = std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|m| {
                let modified = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("{}:{modified}", m.len())
            })
            .unwrap_or_default();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(stamp.as_bytes());
        hex::encode(&digest[..6])
    })
}

/// Whether pages reload themselves when their stream reconnects to a new build: on in debug
/// builds unless `DSTAR_LIVE_RELOAD=0`, off in release builds unless `DSTAR_LIVE_RELOAD=1`.
///
/// ```
/// let _ = dstar::stream::live_reload();
/// ```
pub fn live_reload() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| match std::env::var("DSTAR_LIVE_RELOAD").as_deref() {
        Ok("0") => false,
        Ok("1") => true,
        _ => cfg!(debug_assertions),
    })
}
