//! A route's body limit, enforced before the body is read.
//!
//! Files: the [`BodyLimit`] settings and their refusal here; the service that enforces them (and
//! `BodyLimit`'s `Layer` impl) in `service.rs`; how a refused body is drained in `drain.rs`.

mod drain;
mod service;

pub use service::BodyLimitService;

use axum::http::StatusCode;
use axum::response::Response;

/// The limit a [`BodyLimit`] set, for the extractors' messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UploadLimit(pub(crate) usize);

/// A route layer that bounds its request bodies: what `#[event(limit = "4MB")]` puts on the
/// event's route.
///
/// - A body that declares more (`Content-Length`) gets a `413` at once, before a byte of it is
///   read: `too large: this event takes at most 4 MB`. A body up to four times the limit (16 MiB
///   at most) is then read and thrown away for at most 5 s while the refusal goes out, so a
///   browser still sending it reads the `413` instead of a reset connection.
/// - [`Signals`](crate::Signals), [`Multipart`](super::Multipart) and axum's own extractors
///   (`Json`, `Form`, `Bytes`, `axum::extract::Multipart`) read at most that much, also from a
///   chunked body, instead of their defaults (1 MiB for signals, 2 MiB for axum): it sets
///   [`SignalsConfig`](crate::signals::SignalsConfig) and axum's `DefaultBodyLimit` for the route.
///
/// ```
/// use dstar::upload::BodyLimit;
/// async fn upload(form: dstar::upload::Multipart) -> String { format!("{} files", form.files().count()) }
/// let app: axum::Router = axum::Router::new().route(
///     "/upload",
///     axum::routing::post(upload).layer(BodyLimit::new(8_000_000)),
/// );
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    pub(super) limit: usize,
    noun: &'static str,
}

impl BodyLimit {
    /// At most `bytes` per request body.
    ///
    /// ```
    /// assert_eq!(dstar::upload::BodyLimit::new(4096).max_bytes(), 4096);
    /// ```
    pub fn new(bytes: usize) -> Self {
        BodyLimit {
            limit: bytes,
            noun: "request",
        }
    }

    /// At most `bytes` per request body of an event (its refusal says "this event"): what
    /// `#[event(limit = "…")]` generates.
    ///
    /// ```
    /// assert_eq!(dstar::upload::BodyLimit::event(4_000_000).max_bytes(), 4_000_000);
    /// ```
    pub fn event(bytes: usize) -> Self {
        BodyLimit {
            limit: bytes,
            noun: "event",
        }
    }

    /// The limit in bytes.
    ///
    /// ```
    /// assert_eq!(dstar::upload::BodyLimit::new(1).max_bytes(), 1);
    /// ```
    pub fn max_bytes(&self) -> usize {
        self.limit
    }

    /// The `413` for a body over the limit.
    pub(super) fn refusal(&self) -> Response {
        let reason = format!(
            "too large: this {} takes at most {}",
            self.noun,
            crate::upload::human_size(self.limit as u64)
        );
        crate::error::refusal(StatusCode::PAYLOAD_TOO_LARGE, "too large", reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_body_says_too_large() {
        let refused = crate::error::quietly(|| BodyLimit::event(512_000).refusal());
        crate::error::assert_quiet(refused, 413, "too large");
    }
}
