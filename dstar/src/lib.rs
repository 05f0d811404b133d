#![doc = include_str!("docs/crate.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod actions;
mod app;
pub mod component;
pub mod csrf;
pub mod elements;
mod error;
pub mod event;
pub mod flash;
pub mod form;
pub mod headers;
mod hosts;
pub mod page;
pub mod presence;
mod routes;
pub mod scripts;
pub mod secret;
mod serve;
pub mod session;
pub mod signals;
pub mod sse;
pub mod stream;
#[cfg(feature = "test")]
pub mod test;
pub mod upload;

#[doc = include_str!("docs/guide.md")]
pub mod guide {
    #[doc = include_str!("docs/pages.md")]
    pub mod pages {}
    #[doc = include_str!("docs/streaming.md")]
    pub mod streaming {}
    #[doc = include_str!("docs/live_pages.md")]
    pub mod live_pages {}
    #[doc = include_str!("docs/compression.md")]
    pub mod compression {}
    #[doc = include_str!("docs/dedup.md")]
    pub mod dedup {}
    #[doc = include_str!("docs/connections.md")]
    pub mod connections {}
    #[doc = include_str!("docs/scale_out.md")]
    pub mod scale_out {}
    #[doc = include_str!("docs/real_apps.md")]
    pub mod real_apps {}
    #[doc = include_str!("docs/security.md")]
    pub mod security {}
    #[doc = include_str!("docs/logs.md")]
    pub mod logs {}
    #[doc = include_str!("docs/functional_core.md")]
    pub mod functional_core {}
    #[doc = include_str!("docs/testing.md")]
    pub mod testing {}
    #[doc = include_str!("docs/examples.md")]
    pub mod examples {}
    #[doc = include_str!("docs/dependencies.md")]
    pub mod dependencies {}
}

#[doc = include_str!("docs/component.md")]
pub use dstar_macros::component;
#[doc = include_str!("docs/page.md")]
pub use dstar_macros::page;

#[doc = include_str!("docs/html.md")]
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
pub use routes::Routes;
#[cfg(feature = "tls")]
pub use serve::Tls;
pub use serve::{BODY_BUDGET, BODY_READ_TIMEOUT, Bound, DEFAULT_ADDR, Server, serve};

/// A plain axum router that lists its own routes: `"path" => get(handler).post(other)`, one per
/// line, with axum's routing functions (`get`, `post`, `put`, `patch`, `delete`, `any`, …) written
/// without a path. Gives a [`Routes`] for [`Server::from_routes`], whose start-up listing then
/// shows every route with no list to repeat.
///
/// ```
/// async fn page() -> &'static str { "page" }
/// async fn increment() {}
///
/// let routes = dstar::routes! {
///     "/counter" => get(page),
///     "/counter/increment" => post(increment),
/// };
/// assert_eq!(routes.listing().len(), 2);
/// # let _ = dstar::Server::from_routes(routes);
/// ```
#[macro_export]
macro_rules! routes {
    ($($path:literal => $first:ident ( $($args:tt)* ) $(. $more:ident ( $($more_args:tt)* ))* ),* $(,)?) => {
        $crate::Routes::new()
            $(.route(
                $path,
                &[
                    $crate::__private::method_name(::core::stringify!($first))
                    $(, $crate::__private::method_name(::core::stringify!($more)))*
                ],
                $crate::axum::routing::$first($($args)*) $(.$more($($more_args)*))*,
            ))*
    };
}

/// An axum `Router` holding every `#[dstar::page]` and `#[dstar::component]` in the binary,
/// collected through `inventory` (no list to keep), with dstar's layers around them: compression,
/// cross-origin protection and request spans (see [`App`]).
///
/// - `dstar::app!()`: pages and components with no `state = T`;
/// - `dstar::app!(a, b, …)`: one value per state type the pages and components declare
///   (`state = Db` takes a `Db`); each is given to the ones that asked for its type. A declared
///   state with no value stops start-up with a message that names the page.
///
/// It is `App::new().state(a).state(b).build()`; use [`App`] directly for the rest
/// (`csrf`, `trust_origin`, `compression`, `layer`, `prefix`). Where link-time collection is
/// unavailable, list pages with [`App::empty().page::<P>()`](App::page).
///
/// ```
/// let router: axum::Router = dstar::app!();
/// ```
///
/// ```standalone_crate
/// use dstar::prelude::*;
/// use dstar::axum::extract::State;
///
/// #[derive(Clone)]
/// struct Db(&'static str);
///
/// #[derive(Default)]
/// struct Home;
///
/// #[dstar::page("/", state = Db)]
/// impl Home {
///     fn render(&self) -> Markup { html! { "home" } }
///     #[event] async fn ping(sse: &mut Sse, State(db): State<Db>) { sse.console_log(db.0); }
/// }
///
/// let router: axum::Router = dstar::app!(Db("main"));
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
/// Datastar actions come as the module (`actions::post("/x")`), so the prelude and axum's routing
/// functions can be glob-imported side by side:
///
/// ```
/// use axum::routing::*;
/// use dstar::prelude::*;
/// let app: axum::Router = axum::Router::new()
///     .route("/", get(|| async { html! { button data-on:click=(actions::post("/go")) { "Go" } } }))
///     .route("/go", post(|| async { Sse::new() }));
/// ```
///
/// ```
/// use dstar::prelude::*;
/// let markup: Markup = html! { p { "hi" } };
/// let value = json!({ "a": 1 });
/// # let _ = (markup, value);
/// ```
pub mod prelude {
    // the module, not its `get`/`post`/…: those would clash with axum's routing functions
    pub use crate::actions;
    pub use crate::elements::{Mode, Namespace, PatchElements};
    pub use crate::error::Error as DstarError;
    pub use crate::event::{Access, RequestHead, event};
    pub use crate::scripts::{ExecuteScript, LogLevel, Redirect};
    pub use crate::signals::{PatchSignals, RemoveSignals, Signals};
    pub use crate::sse::{DatastarEvent, EventOptions, Sse, SseStream};
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

    // what the generated code calls: one place, out of the documented API
    pub use crate::component::generated::{ComponentEntry, component_action_encoded, has_event};
    pub use crate::component::routes::{UrlArgs, build_component, event_route, url_arg};
    pub use crate::event::dispatch_base::{
        BaseHandler, WithBase, handle_with, render_with, with_base,
    };
    pub use crate::event::generated::{States, finish_event};
    pub use crate::page::document::Document;
    pub use crate::page::generated::{PageEntry, build_page, no_stream, unknown_event};
    pub use crate::page::mount::mount_failed;
    pub use crate::page::stream::{StreamOpen, ViewTemplate, live_renderer, stream_refused};
    pub use crate::routes::method_name;

    /// A live page's shared render.
    pub mod live {
        pub use crate::page::live::{
            KnownScope, Probe, SharedLive, StreamParts, View, ViewerScope, shared_stream,
        };
    }
}

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
