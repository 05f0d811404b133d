//! [`IntoEvents`]: what [`SseStream::send`](super::SseStream::send) takes, one event or a whole
//! batch.

use crate::error::Error;
use crate::sse::{DatastarEvent, Sse};
use bytes::{Bytes, BytesMut};

/// Things [`SseStream::send`](super::SseStream::send) accepts: a single event, or a whole [`Sse`]
/// batch.
///
/// ```
/// # async fn f(sse: dstar::sse::SseStream) -> Result<(), dstar::sse::SendError> {
/// let mut batch = dstar::Sse::new();
/// batch.patch_signals(serde_json::json!({"a": 1})).remove_elements("#old");
/// sse.send(batch).await?; // both events in one write
/// # Ok(()) }
/// ```
pub trait IntoEvents {
    /// The formatted bytes.
    fn into_events(self) -> Result<Bytes, Error>;
}

impl IntoEvents for Sse {
    fn into_events(self) -> Result<Bytes, Error> {
        Ok(self.into_bytes())
    }
}

impl<E: DatastarEvent> IntoEvents for E {
    fn into_events(self) -> Result<Bytes, Error> {
        let mut out = BytesMut::new();
        self.write_to(&mut out)?;
        Ok(out.freeze())
    }
}
