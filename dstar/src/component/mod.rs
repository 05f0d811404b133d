//! Shared components: UI used on many pages, with its event handlers in the same impl block.
//! `#[dstar::component]` registers each one through `inventory`, and [`App`](crate::App) routes
//! every component event in the binary under one dispatch base:
//! `{base}/{module}/{event}[/{args…}]`.
//!
//! - `{base}` is `/ds` by default ([`App::dispatch_base`](crate::App::dispatch_base)); in the
//!   browser it is read from `<body data-ds-base>`, which the default layout sets, so apps mounted
//!   under a prefix work unchanged.
//! - `{module}` is the component's type path, encoded by
//!   [`encode_module`](crate::actions::encode_module).
//! - The registry is the allowlist: an unknown module or event is a 404, a wrong method a 405,
//!   and no name is ever resolved any other way. A bad event argument is a 400.
//! - `fn authorize(head: &RequestHead, access: Access<…Event>)` in the impl (optional, sync or
//!   async, `-> bool` or `-> Result<(), impl IntoResponse>`) runs before every event of the
//!   component, as a page's does: a component shared by several pages cannot bypass their checks.

// `Result<_, Response>` is the axum idiom for "or answer with this": boxing it would only cost.
#![allow(clippy::result_large_err)]

pub(crate) mod generated;
pub(crate) mod routes;

pub(crate) use routes::routes;
pub use routes::{ReadUrlArg, WriteUrlArg};

use crate::actions::{Action, Verb};
use crate::event::{Event, RouteInfo};
use axum::Router;
use generated::component_action_encoded;
use std::fmt;

/// Implemented by `#[dstar::component]`.
pub trait Component: Sized + 'static {
    /// The router state the component's extractors need (`()` unless `state = T` is given).
    type State: Clone + Send + Sync + 'static;
    /// The generated event enum.
    type Event: Event;
    /// The type path, e.g. `"todo::DetailDrawer"`.
    const PATH: &'static str;
    /// The wire names of its events.
    const EVENTS: &'static [&'static str];
    /// The wire names of its events that take no `#[arg]`s: the ones an action can name without
    /// values (`dstar::post!`).
    #[doc(hidden)]
    const EVENTS_WITHOUT_ARGS: &'static [&'static str];
    /// [`PATH`](Component::PATH) encoded for URLs, computed once.
    fn encoded_module() -> &'static str;
    /// One route per event under `prefix` (`{dispatch base}/{module}`); the handlers render
    /// component actions against `base`.
    fn routes(prefix: &str, base: &crate::event::DispatchBase) -> Router<Self::State>;
}

/// Shared body of `dstar::post!` and friends.
#[doc(hidden)]
#[macro_export]
macro_rules! __component_verb {
    ($verb:ident, $component:ty, $event:literal) => {{
        const _: () = ::core::assert!(
            $crate::__private::has_event(
                <$component as $crate::component::Component>::EVENTS_WITHOUT_ARGS,
                $event
            ),
            ::core::concat!(
                "unknown event `",
                $event,
                "` on this component, or one that takes `#[arg]`s ",
                "(their actions come from `event(\"",
                $event,
                "\", args…)` inside the component)"
            ),
        );
        $crate::__private::component_action_encoded(
            $crate::actions::Verb::$verb,
            <$component as $crate::component::Component>::encoded_module(),
            $event,
            &[],
        )
    }};
}

/// `@post(…)` for a component's event named by a string, checked at compile time: an unknown
/// name fails the build. `DrawerEvent::Close.action()` is the same with the typed variant (and the
/// event's own method); `dstar::actions::post("/url")` is a `@post` to any URL.
///
/// ```standalone_crate
/// # use dstar::prelude::*;
/// pub struct Drawer;
/// #[dstar::component]
/// impl Drawer {
///     pub fn view() -> Markup { html! {} }
///     #[event] async fn close(sse: &mut Sse) { sse.remove_elements("#drawer"); }
/// }
/// let action = dstar::post!(Drawer, "close");
/// assert!(action.to_string().ends_with("-Drawer/close')"));
/// ```
///
/// ```compile_fail
/// # use dstar::prelude::*;
/// # pub struct Drawer;
/// # #[dstar::component]
/// # impl Drawer { #[event] async fn close(sse: &mut Sse) {} }
/// let action = dstar::post!(Drawer, "clsoe"); // unknown event: does not compile
/// ```
#[macro_export]
macro_rules! post {
    ($component:ty, $event:literal) => {
        $crate::__component_verb!(Post, $component, $event)
    };
}
/// `@get(…)` for a component event by name, checked at compile time (see [`post!`](crate::post!)).
#[macro_export]
macro_rules! get {
    ($component:ty, $event:literal) => {
        $crate::__component_verb!(Get, $component, $event)
    };
}
/// `@put(…)` for a component event by name, checked at compile time (see [`post!`](crate::post!)).
#[macro_export]
macro_rules! put {
    ($component:ty, $event:literal) => {
        $crate::__component_verb!(Put, $component, $event)
    };
}
/// `@patch(…)` for a component event by name, checked at compile time (see [`post!`](crate::post!)).
#[macro_export]
macro_rules! patch {
    ($component:ty, $event:literal) => {
        $crate::__component_verb!(Patch, $component, $event)
    };
}
/// `@delete(…)` for a component event by name, checked at compile time (see [`post!`](crate::post!)).
#[macro_export]
macro_rules! delete {
    ($component:ty, $event:literal) => {
        $crate::__component_verb!(Delete, $component, $event)
    };
}

/// One event of a registered component, for routing and listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentEventInfo {
    /// The event's wire name.
    pub name: &'static str,
    /// `POST`, `GET`, ….
    pub method: &'static str,
    /// The names of its URL arguments, in order.
    pub args: &'static [&'static str],
}

/// A component as `#[dstar::component]` registers it.
pub struct ComponentRegistration {
    /// The type path.
    pub path: &'static str,
    /// Its events.
    pub events: &'static [ComponentEventInfo],
    build: BuildRouter,
}

/// Builds a component's router under a dispatch base, given the app's states.
type BuildRouter =
    fn(&crate::event::States, &str, &crate::event::DispatchBase) -> Result<Router, String>;

impl ComponentRegistration {
    #[doc(hidden)]
    pub const fn new(
        path: &'static str,
        events: &'static [ComponentEventInfo],
        build: BuildRouter,
    ) -> Self {
        ComponentRegistration {
            path,
            events,
            build,
        }
    }

    /// The URL-safe module name (see [`encode_module`](crate::actions::encode_module)).
    pub fn module(&self) -> String {
        crate::actions::encode_module(self.path)
    }

    /// The route listing under `base`. Interned: each (component, base) pair is built once per
    /// process, so listing routes repeatedly allocates nothing new.
    pub(crate) fn routes(&'static self, base: &str) -> &'static [RouteInfo] {
        type Key = (usize, String);
        static INTERNED: std::sync::LazyLock<
            std::sync::Mutex<std::collections::HashMap<Key, &'static [RouteInfo]>>,
        > = std::sync::LazyLock::new(Default::default);
        let key = (self as *const Self as usize, base.to_owned());
        let mut interned = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
        interned.entry(key).or_insert_with(|| {
            let module = self.module();
            let routes: Vec<RouteInfo> = self
                .events
                .iter()
                .map(|e| {
                    let mut path = format!("{base}/{module}/{}", e.name);
                    for arg in e.args {
                        path.push_str(&format!("/{{{arg}}}"));
                    }
                    RouteInfo {
                        method: e.method,
                        path: Box::leak(path.into_boxed_str()),
                    }
                })
                .collect();
            Box::leak(routes.into_boxed_slice())
        })
    }
}

impl fmt::Debug for ComponentRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentRegistration")
            .field("path", &self.path)
            .field("events", &self.events)
            .finish()
    }
}

/// Implemented by `#[dstar::component]`: the component's one static registration.
pub trait RegisteredComponent {
    /// The registration.
    fn registration() -> &'static ComponentRegistration;
}

/// The browser-side dispatch base: `<body data-ds-base>` when it is a clean absolute path,
/// else `/ds`, with trailing slashes trimmed. It refuses `//…`, `\`, `?`, `#`, control characters
/// and `.`/`..` segments, so a tampered attribute cannot send events elsewhere.
pub const BASE_JS: &str = r"((b)=>(/^\/(?!\/)[^\\?#\x00-\x1f]*$/.test(b)&&!/(^|\/)\.\.?(\/|$)/.test(b))?b.replace(/\/+$/,''):'/ds')(document.body.dataset.dsBase||'/ds')";

/// One `#[arg]` as a URL segment: percent-encoded, and, when it is empty, only dots (which a
/// browser's URL parser resolves as `.`/`..` even encoded, so the request would reach another
/// route) or starts with `~`, behind one `~` that the server takes off again.
///
/// ```
/// use dstar::component::encode_arg;
/// assert_eq!(encode_arg("42"), "42");
/// assert_eq!(encode_arg(".."), "~%2E%2E");
/// assert_eq!(encode_arg(""), "~");
/// assert_eq!(encode_arg("~x"), "~~x");
/// ```
pub fn encode_arg(text: &str) -> String {
    let encoded = crate::actions::percent_encode(text);
    if text.is_empty() || text.starts_with('~') || text.bytes().all(|b| b == b'.') {
        format!("~{encoded}")
    } else {
        encoded
    }
}

/// The action for a component event: `@verb(<base> + '/{module}/{event}/{args…}')`, arguments
/// percent-encoded (used by generated code; pages get these from `event("name", args…)`).
///
/// ```
/// use dstar::actions::Verb;
/// let a = dstar::component::component_action(Verb::Post, "app::Drawer", "change_title", &[&42]);
/// assert!(a.to_string().ends_with(" + '/app-Drawer/change_title/42')"));
/// ```
pub fn component_action(verb: Verb, path: &str, event: &str, args: &[&dyn fmt::Display]) -> Action {
    component_action_encoded(verb, &crate::actions::encode_module(path), event, args)
}
