#![doc = include_str!("docs/crate.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod actions;
mod app;
pub mod component;
pub mod csrf;
pub mod elements;
mod error;
pub mod event;
pub mod page;
pub mod scripts;
pub mod secret;
mod serve;
pub mod signals;
pub mod sse;
pub mod stream;
#[cfg(feature = "test")]
pub mod test;

#[doc = include_str!("docs/component.md")]
pub use dstar_macros::component;
#[doc = include_str!("docs/page.md")]
pub use dstar_macros::page;

/// HTML templates in [maud](https://maud.lambda.xyz)'s syntax, returning a [`Markup`]. Only
/// `dstar` is needed in your `Cargo.toml`: this macro expands against dstar's re-export of maud.
///
/// Elements with `.class`, `#id` and attributes (`name="…"`, `name=(expr)`, `name=[option]`,
/// `name[toggle]`, `.class[toggle]`), void elements (`br;`), text, `(splices)` of anything that
/// is `Render` or `Display` (escaped), `@if`/`@else`, `@if let`, `@for`, `@while`, `@match` and
/// `@let`.
///
/// ```
/// use dstar::prelude::*;
/// let items = ["a", "<b>"];
/// let markup = html! {
///     ul #list.items {
///         @for item in &items { li { (item) } }
///     }
///     input type="checkbox" checked[true];
/// };
/// assert_eq!(
///     markup.into_string(),
///     r#"<ul class="items" id="list"><li>a</li><li>&lt;b&gt;</li></ul><input type="checkbox" checked>"#
/// );
/// ```
pub use dstar_macros::html;
pub use error::Error;

pub use app::App;
/// axum, re-exported so handlers can name extractors (`dstar::axum::extract::State`) without a
/// separate dependency. Adding axum yourself works just as well.
///
/// ```
/// use dstar::axum::extract::State;
/// async fn handler(State(name): State<String>) -> String { name }
/// let app: dstar::axum::Router = dstar::axum::Router::new()
///     .route("/", dstar::axum::routing::get(handler))
///     .with_state("dstar".to_owned());
/// ```
pub use axum;
#[cfg(feature = "tls")]
pub use serve::Tls;
pub use serve::{BODY_READ_TIMEOUT, Bound, DEFAULT_ADDR, Server, serve};

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
    pub use crate::actions::{delete, get, patch, post, put};
    pub use crate::elements::{Mode, Namespace, PatchElements};
    pub use crate::error::Error as DstarError;
    pub use crate::event::{Access, RequestHead};
    pub use crate::scripts::{ExecuteScript, LogLevel, Redirect};
    pub use crate::signals::{PatchSignals, RemoveSignals, Signals};
    pub use crate::sse::{DatastarEvent, Sse, SseStream};
    pub use crate::stream::{PubSub, Subscription};
    pub use dstar_macros::html;
    pub use maud::{DOCTYPE, Markup, PreEscaped, Render};
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
