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
//! - brotli streams are written by dstar's own delta writer ([`brotli`]): a fat-morph event
//!   is nearly all copies of the last one, and a general encoder pays for that in CPU and memory
//!   per stream. [`StreamBrotli::Library`] picks the reference library instead;
//! - brotli answers in one go are Google's reference library through `brotlic`. The pure-Rust
//!   `brotli` port compresses worse once its ring buffer has wrapped: on the leaderboard's
//!   re-renders at quality 4, from about 50 bytes per update to 100–900 after 45 updates, while
//!   the reference library stays at about 45 bytes for as long as the stream lasts;
//! - zstd is the `zstd` crate (the reference library too), gzip is `flate2`.
//!
//! The layout follows tower-http's compression module:
//! - [`config`]: the [`Compression`] builder and its defaults, and [`StreamBrotli`];
//! - [`negotiate`]: `Accept-Encoding` read into an [`Encoding`];
//! - [`layer`], [`service`], [`future`]: the tower layer, its service, the service's future;
//! - [`predicate`]: which answers are compressed, and how (in one go, or as a stream);
//! - [`response`]: an answer rewritten for its encoding (headers, and the body in one go or
//!   wrapped);
//! - [`slot`]: the places of [`Compression::max_streams`];
//! - [`body`]: a streaming body compressed frame by frame;
//! - [`encoders`]: the encoders behind one interface, and their settings;
//! - [`brotli`]: dstar's own brotli writer for event streams.

mod body;
mod brotli;
mod config;
mod encoders;
mod future;
mod layer;
mod negotiate;
mod predicate;
mod response;
mod service;
mod slot;

pub use config::{Compression, StreamBrotli};
pub use future::CompressionFuture;
pub use layer::CompressionLayer;
pub use negotiate::Encoding;
pub use service::CompressionService;
