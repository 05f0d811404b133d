//! Live pages (`live = "topic"`): one render per change for everyone who sees the same thing.
//!
//! What a live page's render depends on is read from `mount`'s extractors, by their types
//! ([`RenderScope`], decided when the page compiles): a `mount` that reads only `State` renders
//! the same for every viewer, one that reads the URI (`Path`, `Query`) renders the same per URI,
//! and one that reads anything else (cookies, headers, the session, `CurrentUser`) renders per
//! viewer. A page can also name the key itself (`fn render_key(…) -> impl Display`), where the
//! types cannot tell (a user's team, say).
//!
//! Viewers of one key share a [`hub`]: a task that listens to the page's topics, runs `mount`
//! and `render` once per frame, formats the SSE event once, and hands the same bytes to every
//! stream of the key ([`fanout`]: a slow reader skips to the latest frame). Each stream runs its
//! viewer's `authorize` before it sends a frame ([`viewer`]). A page rendered per
//! viewer keeps today's loop: its own subscription and its own render
//! ([`live_renderer`](super::live_renderer)).
//!
//! Files: the scope and its type probes in `scope.rs`, the shared render in `hub.rs`, how its
//! frames reach the viewers in `fanout.rs`, a viewer's stream in `viewer.rs`.

mod fanout;
mod hub;
mod scope;
mod viewer;

pub use hub::LiveHubs;
pub use hub::View;
pub use scope::RenderScope;
pub use scope::{KnownScope, Probe, ViewerScope};
pub use viewer::{SharedLive, StreamParts, shared_stream};
