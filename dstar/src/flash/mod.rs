//! One-time messages across a redirect ("Welcome back", "Note deleted"), as Phoenix's
//! `put_flash` and Rails' `flash`.
//!
//! An event or a plain route sets one with the [`Flash`] extractor before it redirects; the next
//! page load shows it, and only that one. The message travels in a cookie signed with the app's
//! key ([`App::key`](crate::App::key)), so a forged or altered cookie is ignored. It lasts at
//! most five minutes.
//!
//! **It survives live re-renders.** The page that shows the message carries it (signed) for its
//! stream, so every re-render of a live page shows it too, until the next page load.
//!
//! ```standalone_crate
//! use dstar::prelude::*;
//! use dstar::flash::Flash;
//!
//! struct Notes { flash: Flash }
//!
//! #[dstar::page("/notes")]
//! impl Notes {
//!     async fn mount(flash: Flash) -> Self {
//!         Notes { flash }
//!     }
//!     fn render(&self) -> Markup {
//!         // `<div class="flash flash-success" role="status">Signed in</div>`, or nothing
//!         html! { (self.flash) ul #notes {} }
//!     }
//!     #[event]
//!     async fn sign_in(sse: &mut Sse, flash: Flash) -> Result<(), dstar::Error> {
//!         flash.success("Signed in");
//!         sse.redirect("/notes")?;
//!         Ok(())
//!     }
//! }
//! let router: axum::Router = dstar::App::empty().page::<Notes>().build();
//! ```
//!
//! Files: what a message is in `message.rs`; the [`Flash`] extractor in `extractor.rs`; what the
//! layer leaves in a request in `state.rs`; how a message is signed in `key.rs`; the flash cookie
//! in `cookie.rs`; the tower layer, its service and its future in `layer.rs`, `service.rs` and
//! `future.rs`.

mod cookie;
mod extractor;
mod future;
mod key;
mod layer;
mod message;
mod service;
mod state;

pub use extractor::Flash;
pub(crate) use key::FlashKey;
pub(crate) use layer::FlashLayer;
pub use message::{Level, Message};
pub(crate) use state::page_value;

/// The flash cookie's name.
///
/// ```
/// assert_eq!(dstar::flash::COOKIE_NAME, "dstar_flash");
/// ```
pub const COOKIE_NAME: &str = "dstar_flash";

/// The header a page's stream carries its flash in (from `<body data-ds-flash>`), so live
/// re-renders show it too.
///
/// ```
/// assert_eq!(dstar::flash::HEADER_NAME, "x-dstar-flash");
/// ```
pub const HEADER_NAME: &str = "x-dstar-flash";
