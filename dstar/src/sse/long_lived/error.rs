//! What a long-lived stream's writes fail with: [`Disconnected`], and [`SendError`] for an event
//! that may also be invalid.

use crate::error::Error;
use std::fmt;

/// The client is gone: the response body was dropped, so nothing more can be sent.
///
/// ```
/// # async fn f(sse: dstar::sse::SseStream) {
/// if let Err(dstar::sse::Disconnected) = sse.check_connection().await {
///     // clean up
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected;

impl fmt::Display for Disconnected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the SSE client disconnected")
    }
}

impl std::error::Error for Disconnected {}

/// Why [`SseStream::send`](super::SseStream::send) failed.
///
/// ```
/// # async fn f(sse: dstar::sse::SseStream) {
/// use dstar::sse::SendError;
/// match sse.send(dstar::elements::PatchElements::new("<li>x</li>")).await {
///     Ok(()) => {}
///     Err(SendError::Invalid(e)) => eprintln!("bug: {e}"),
///     Err(SendError::Disconnected) => return,
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The event was invalid; nothing was sent.
    Invalid(Error),
    /// The client is gone.
    Disconnected,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Invalid(e) => e.fmt(f),
            SendError::Disconnected => Disconnected.fmt(f),
        }
    }
}

impl std::error::Error for SendError {}

impl From<Disconnected> for SendError {
    fn from(_: Disconnected) -> Self {
        SendError::Disconnected
    }
}
