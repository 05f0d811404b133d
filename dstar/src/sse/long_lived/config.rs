//! [`StreamConfig`]: the settings of a long-lived stream (its buffer, and so its slow-reader
//! policy).

/// Settings of a long-lived stream.
///
/// ```
/// let config = dstar::sse::StreamConfig::default().buffer(8);
/// assert_eq!(config.buffer_len(), 8);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StreamConfig {
    pub(super) buffer: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig { buffer: 16 }
    }
}

impl StreamConfig {
    /// How many written-but-unsent writes a stream holds (default 16).
    ///
    /// **Slow-reader policy: wait for capacity.** When the client reads slower than the server
    /// writes, the buffer fills and the next [`SseStream::send`](super::SseStream::send) waits
    /// until the client has taken a write. Memory per stream is therefore bounded by `buffer`
    /// writes plus the socket buffers; a stream fed by a broadcast (such as dstar's PubSub) skips
    /// messages instead of blocking the publisher.
    ///
    /// ```
    /// let config = dstar::sse::StreamConfig::default().buffer(64);
    /// assert_eq!(config.buffer_len(), 64);
    /// ```
    pub fn buffer(mut self, writes: usize) -> Self {
        self.buffer = writes.max(1);
        self
    }

    /// The configured buffer length.
    ///
    /// ```
    /// assert_eq!(dstar::sse::StreamConfig::default().buffer_len(), 16);
    /// ```
    pub fn buffer_len(&self) -> usize {
        self.buffer
    }
}
