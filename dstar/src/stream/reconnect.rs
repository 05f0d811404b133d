//! What a reconnecting page stream says about its last connection: the stream ids this process
//! hands out (`ds1.{build}.{boot}.{n}`), the build they name, and live reload.

use axum::http::HeaderMap;
use std::sync::OnceLock;

/// What a stream request says about an earlier connection of the same page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconnect {
    /// No `Last-Event-ID`: the stream of a page just rendered. It sends a catch-up render only
    /// when its source may have missed a message since the page's render (the page's
    /// [`RENDERED_HEADER`](crate::page::RENDERED_HEADER) and [`Source::missed_since`](crate::stream::Source::missed_since)).
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
