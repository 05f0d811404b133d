//! Test helpers for apps built on dstar (cargo feature `test`).
//!
//! ```toml
//! [dev-dependencies]
//! dstar = { path = "../dstar/dstar", features = ["test"] }   # or git = "…", as in the README
//! ```
//!
//! - [`parse_events`]: an SSE body into events, by the SSE spec's line rules;
//! - [`patched_signals`] and [`assert_patched_signals`]: the signals a response leaves behind;
//! - [`assert_patched_element`]: find an element patch and check its mode and content;
//! - [`TestClient`]: drive any `Router` without a network, with cookies, CSRF tokens and streams;
//! - [`TestPage`]: drive a page as a browser with Datastar would (click, fill, press), without a
//!   browser, and read its DOM and signals.
//!
//! Failure messages are written for a person reading a red test: they show what was expected, what
//! was sent, and where they differ.
//!
//! Files: SSE parsing in `parse.rs`; signals and element patches in `signals.rs` and
//! `elements.rs`; [`TestClient`] in `client.rs`, with its [`TestResponse`] and [`TestStream`] in
//! `response.rs` and `stream.rs`; [`TestPage`] in `page/`, with the DOM it patches in `dom.rs` and
//! the handlers it runs in `expr.rs`.

mod client;
mod dom;
mod elements;
mod expr;
mod page;
mod parse;
mod response;
mod signals;
mod stream;

pub use client::TestClient;
pub use elements::{ElementPatch, assert_patched_element, element_patches};
pub use page::TestPage;
pub use parse::{SseEvent, parse_events};
pub use response::TestResponse;
pub use signals::{assert_patched_signals, patched_signals};
pub use stream::TestStream;
