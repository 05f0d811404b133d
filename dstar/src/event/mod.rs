//! What pages and components share: an event is a method of the impl block that answers one
//! route with Server-Sent Events.
//!
//! - [`Event`] is implemented by every generated event enum (`CounterEvent`, `DrawerEvent`);
//! - handler arguments are axum extractors ([`PartsArg`], and [`BodyArg`] for the last one);
//! - `authorize(head: &RequestHead, access: Access<…Event>)` runs before each event and may refuse
//!   ([`AuthorizeOutcome`]);
//! - a handler returns `()` or `Result<(), E: Display>` ([`EventOutcome`]).
//!
//! [`page`](mod@crate::page) and [`component`](mod@crate::component) build on this module, side by side.

// `Result<_, Response>` is the axum idiom for "or answer with this": boxing it would only cost.
#![allow(clippy::result_large_err)]

mod args;
pub(crate) mod dispatch_base;
pub(crate) mod generated;

pub use args::{BodyArg, PartsArg, RequestHead};
pub use dispatch_base::DispatchBase;
pub(crate) use generated::States;

use crate::actions::Verb;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::fmt;

/// Implemented by the generated event enums of pages and components.
///
/// ```standalone_crate
/// #[derive(Default)]
/// struct Home;
/// #[dstar::page("/home")]
/// impl Home {
///     fn render(&self) -> maud::Markup { maud::html! { "home" } }
///     #[event] async fn ping() {}
/// }
/// use dstar::event::Event;
/// assert_eq!(HomeEvent::ALL, [HomeEvent::Ping]);
/// assert_eq!(HomeEvent::Ping.name(), "ping");
/// ```
pub trait Event: Copy + fmt::Display + fmt::Debug + Send + Sync + 'static {
    /// Every event, in declaration order.
    const ALL: &'static [Self];
    /// The wire name (the URL segment).
    fn name(self) -> &'static str;
    /// The HTTP method the event's route accepts.
    fn verb(self) -> Verb;
}

/// What is being authorized: an event or (pages with a stream) the page's stream.
///
/// ```
/// use dstar::event::Access;
/// #[derive(Clone, Copy, Debug, PartialEq)] enum Ev { Delete }
/// let refuse = |a: Access<Ev>| a == Access::Event(Ev::Delete);
/// assert!(refuse(Access::Event(Ev::Delete)));
/// assert!(!refuse(Access::Stream));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access<E> {
    /// One of the events.
    Event(E),
    /// `POST {path}`, a page's stream.
    Stream,
}

/// The result of `authorize`: `Ok(())`, or any response to refuse with (e.g. a 403).
///
/// ```
/// use dstar::event::AuthorizeOutcome;
/// assert!(true.into_result().is_ok());
/// assert_eq!(false.into_result().unwrap_err().status(), 403);
/// ```
pub trait AuthorizeOutcome {
    /// `Err` to refuse.
    fn into_result(self) -> Result<(), Response>;
}

impl<E: IntoResponse> AuthorizeOutcome for Result<(), E> {
    fn into_result(self) -> Result<(), Response> {
        self.map_err(IntoResponse::into_response)
    }
}

impl AuthorizeOutcome for bool {
    fn into_result(self) -> Result<(), Response> {
        if self {
            Ok(())
        } else {
            Err((StatusCode::FORBIDDEN, "forbidden").into_response())
        }
    }
}

/// The result of an event handler: `()` or `Result<(), E>` where `E: Display`.
///
/// A handler writes its events to its `&mut Sse` argument; it does not return them.
///
/// ```
/// use dstar::event::EventOutcome;
/// assert_eq!(().into_error(), None);
/// assert_eq!(Err::<(), _>("db down").into_error().as_deref(), Some("db down"));
/// ```
#[diagnostic::on_unimplemented(
    message = "an `#[event]` handler cannot return `{Self}`",
    label = "returns `{Self}`",
    note = "event handlers return `()` or `Result<(), E>` with `E: Display` (logged, and shown in the browser console in debug builds)",
    note = "to send events, take `sse: &mut Sse` as an argument and write to it: `sse.patch_signals(…)`"
)]
pub trait EventOutcome {
    /// `Err` with the error's text.
    fn into_error(self) -> Option<String>;
}

impl EventOutcome for () {
    fn into_error(self) -> Option<String> {
        None
    }
}

impl<E: fmt::Display> EventOutcome for Result<(), E> {
    fn into_error(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}

/// `FromStr` error of the generated event enums: the name is not one of the owner's events.
///
/// ```
/// let e = dstar::event::UnknownEvent::new("page", "Counter", "incremnt");
/// assert_eq!(e.to_string(), "unknown event `incremnt` on page `Counter`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEvent {
    kind: &'static str,
    owner: &'static str,
    name: String,
}

impl UnknownEvent {
    /// An unknown `name` on `owner`, a `kind` (`"page"` or `"component"`).
    ///
    /// ```
    /// let e = dstar::event::UnknownEvent::new("component", "Drawer", "x");
    /// assert_eq!(e.to_string(), "unknown event `x` on component `Drawer`");
    /// ```
    pub fn new(kind: &'static str, owner: &'static str, name: &str) -> Self {
        UnknownEvent {
            kind,
            owner,
            name: name.to_owned(),
        }
    }
}

impl fmt::Display for UnknownEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown event `{}` on {} `{}`",
            self.name, self.kind, self.owner
        )
    }
}

impl std::error::Error for UnknownEvent {}

/// Stands in for `event("…")` outside the impl blocks that resolve it, so a misplaced call says
/// where it works instead of "cannot find function". Inside a `#[dstar::page]` or
/// `#[dstar::component]` impl block the macro replaces every `event("name")` before this function
/// is ever looked up; anywhere else it does not compile.
///
/// ```compile_fail
/// use dstar::prelude::*;
/// fn button() -> Markup {
///     html! { button data-on:click=(event("save")) {} } // outside any impl block: an error
/// }
/// ```
pub fn event<N: InsideAnImplBlock>(name: N) -> crate::actions::Action {
    name.unreachable()
}

/// Implemented by no type: see [`event()`].
#[diagnostic::on_unimplemented(
    message = "`event(\"…\")` works only inside a `#[dstar::page]` or `#[dstar::component]` impl block",
    label = "outside the impl block of a page or component",
    note = "inside the impl block, write the event's name as a string literal: `event(\"save\")`",
    note = "elsewhere, name the event by its enum: `NotesEvent::Save.action()`"
)]
pub trait InsideAnImplBlock {
    #[doc(hidden)]
    fn unreachable(self) -> crate::actions::Action;
}

/// One route of a registered page or component, for start-up listings.
///
/// ```
/// let route = dstar::event::RouteInfo { method: "GET", path: "/counter" };
/// assert_eq!(format!("{} {}", route.method, route.path), "GET /counter");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    /// `GET`, `POST`, ….
    pub method: &'static str,
    /// The route path.
    pub path: &'static str,
}
