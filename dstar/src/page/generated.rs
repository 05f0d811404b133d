//! What `#[dstar::page]`'s generated code calls to register and route a page (re-exported from
//! `dstar::__private`, not part of the public API).

use super::{Page, PageRegistration};
use crate::event::{DispatchBase, Event as _, States};
use axum::Router;
use axum::response::Response;

/// What `inventory` collects for each page: a pointer to its [`Registered::registration`](super::Registered::registration).
pub struct PageEntry(fn() -> &'static PageRegistration);

impl PageEntry {
    /// The entry of one page's registration.
    pub const fn new(registration: fn() -> &'static PageRegistration) -> Self {
        PageEntry(registration)
    }

    pub(crate) fn registration(&self) -> &'static PageRegistration {
        (self.0)()
    }
}

inventory::collect!(PageEntry);

/// Builds a page's router from the states (used by generated code).
pub fn build_page<P: Page>(states: &States, base: &DispatchBase) -> Result<Router, String> {
    let state: P::State = states.get::<P::State>(&format!("page `{}`", P::NAME))?;
    Ok(P::routes_under(base).with_state(state))
}

/// `404` for `POST {path}` on a page without a stream.
pub async fn no_stream<P: Page>() -> Response {
    super::no_stream_refusal(P::NAME, P::PATH)
}

/// `404` for an event name the page does not have, listing the ones it has (in debug builds).
pub async fn unknown_event<P: Page>(uri: axum::http::Uri) -> Response {
    let known: Vec<&str> = P::Event::ALL.iter().map(|e| e.name()).collect();
    super::unknown_event_refusal(P::NAME, uri.path(), &known)
}
