//! Uploads: files from Datastar's file binding or from a multipart form, judged by what they
//! hold, under a per-event size limit.
//!
//! - **In signals.** `<input type="file" data-bind:avatar>` makes the `avatar` signal an array
//!   of `{name, contents, mime}` (base64 contents) that every action sends: put
//!   `avatar: Vec<`[`UploadedFile`]`>` in your `Signals<T>` struct.
//! - **In a form.** `@post(url, {contentType: 'form'})` on a `<form enctype="multipart/form-data">`
//!   sends the form as it is: read it with the [`Multipart`] extractor.
//! - **Judged by content.** [`UploadedFile::sniffed_mime`] reads the file's magic bytes; the
//!   declared mime type is the browser's guess from the file name. [`Accept`] says what may come
//!   in (`Accept::images()`: PNG, JPEG, GIF, WebP; never SVG) and how big; [`UploadedFile::check`]
//!   gives an [`UploadError`] worded for the user.
//! - **Bounded.** Signals are at most 1 MiB unless the event says otherwise: base64 makes a file
//!   a third bigger, so give upload events `#[event(limit = "4MB")]` (`"512KB"`, `"1MiB"`, or a
//!   byte count). A body that declares more is refused with a `413` before it is read
//!   ([`BodyLimit`]).
//!
//! ```standalone_crate
//! use dstar::prelude::*;
//! use dstar::upload::{Accept, UploadedFile};
//!
//! #[derive(serde::Deserialize)]
//! struct Profile {
//!     #[serde(default)]
//!     avatar: Vec<UploadedFile>,
//! }
//!
//! #[derive(Default)]
//! struct Settings;
//!
//! #[dstar::page("/settings")]
//! impl Settings {
//!     fn render(&self) -> Markup {
//!         html! {
//!             div data-signals:avatar="[]" {
//!                 input type="file" accept="image/*" data-bind:avatar;
//!                 button data-on:click=(event("save_avatar")) { "Save" }
//!                 p #result {}
//!             }
//!         }
//!     }
//!
//!     #[event(limit = "4MB")]
//!     async fn save_avatar(sse: &mut Sse, Signals(p): Signals<Profile>) {
//!         let message = match p.avatar.first().map(|f| f.check(&Accept::images().max_bytes(2_000_000))) {
//!             None => "pick a file first".to_owned(),
//!             Some(Ok(())) => "saved".to_owned(),
//!             Some(Err(why)) => why.to_string(),
//!         };
//!         sse.patch_elements(html! { p #result { (message) } });
//!     }
//! }
//! # fn main() { let _ = dstar::App::empty().page::<Settings>().build(); }
//! ```
//!
//! Files: [`UploadedFile`] in `file.rs`, what it holds in `sniff.rs`, the [`Accept`] policy in
//! `accept.rs`, its [`UploadError`] in `error.rs`; the [`Multipart`] extractor in `multipart.rs`
//! and its rejection in `rejection.rs`; the [`BodyLimit`] layer in `limit/`; byte counts for people
//! in `size.rs`.

mod accept;
mod error;
mod file;
mod limit;
mod multipart;
mod rejection;
mod size;
mod sniff;

pub use accept::Accept;
pub use error::{UploadError, UploadErrorKind};
pub use file::UploadedFile;
pub use limit::{BodyLimit, BodyLimitService};
pub use multipart::Multipart;
pub use rejection::MultipartRejection;
pub(crate) use size::human_size;
