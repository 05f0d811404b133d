#![doc = include_str!("docs/crate.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod actions;
pub mod elements;
mod error;
pub mod page;
pub mod scripts;
mod serve;
pub mod signals;
pub mod sse;
#[cfg(feature = "test")]
pub mod test;

pub use dstar_macros::page;
pub use error::Error;
pub use page::App;
pub use serve::{DEFAULT_ADDR, Server, serve};

/// An axum `Router` holding every `#[dstar::page]` in the binary (collected through
/// `inventory`, no list to keep). `dstar::app!(state)` provides a router state for pages declared
/// with `state = T`. Where link-time collection is unavailable, list pages with
/// [`App::empty().page::<P>()`](App::page).
///
/// ```
/// let router: axum::Router = dstar::app!();
/// ```
#[macro_export]
macro_rules! app {
    () => {
        $crate::App::new().build()
    };
    ($($state:expr),+ $(,)?) => {
        $crate::App::new()$(.state($state))+.build()
    };
}
pub use signals::Signals;
pub use sse::{Sse, SseStream};

/// Everything a handler usually needs: `use dstar::prelude::*;`.
///
/// ```
/// use dstar::prelude::*;
/// let markup: Markup = html! { p { "hi" } };
/// let value = json!({ "a": 1 });
/// # let _ = (markup, value);
/// ```
pub mod prelude {
    pub use crate::Error as DstarError;
    pub use crate::actions::{delete, get, patch, post, put};
    pub use crate::elements::{Mode, Namespace, PatchElements};
    pub use crate::page::Access;
    pub use crate::scripts::{ExecuteScript, LogLevel, Redirect};
    pub use crate::signals::{PatchSignals, RemoveSignals, Signals};
    pub use crate::sse::{DatastarEvent, Sse, SseStream};
    pub use maud::{DOCTYPE, Markup, PreEscaped, Render, html};
    pub use serde_json::json;
}

pub use maud::{DOCTYPE, Markup, PreEscaped, Render};
pub use serde_json::json;

/// Not public API: the paths generated code uses, so user crates need no other dependency.
#[doc(hidden)]
pub mod __private {
    pub use ::axum;
    pub use ::core;
    pub use ::inventory;
    pub use ::maud;
    pub use ::serde;
    pub use ::serde_json;
    pub use ::std;
    pub use ::tokio;
}

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
