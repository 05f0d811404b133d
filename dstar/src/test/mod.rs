//! Test helpers for apps built on dstar (cargo feature `test`).
//!
//! Enable them in your dev-dependencies: `dstar = { version = "…", features = ["test"] }`.

mod parse;

pub use parse::{SseEvent, parse_events};
