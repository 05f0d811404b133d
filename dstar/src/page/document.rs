//! The page document: a GET's render wrapped in the page's layout, with what the layout needs
//! from the request (the CSRF token, the component dispatch base).

use super::layout::{Layout, PageContext};
use super::{client_integrity, client_src, page_root};
use crate::event::DispatchBase;
use axum::http::{Extensions, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::Markup;

/// A page document in the making: what the layout needs, read from the GET request before the
/// page's `mount` consumes it.
#[derive(Debug)]
pub struct Document {
    layout: Layout,
    title: &'static str,
    csrf: Option<String>,
    flash: Option<String>,
    /// The app keeps sessions: the page may show a signed-in user's data.
    private: bool,
    /// The scripts' nonce under a strict Content Security Policy.
    nonce: Option<std::sync::Arc<str>>,
    base: DispatchBase,
    /// Taken before `mount` reads anything, so a change before it is always in the render (and
    /// one after it may be missing: its message then makes the stream render the page again).
    rendered: std::time::SystemTime,
}

impl Document {
    /// The document of one page load: its layout, title and the request's extensions.
    pub fn new(
        layout: Layout,
        title: &'static str,
        extensions: &Extensions,
        base: DispatchBase,
    ) -> Self {
        Document {
            layout,
            title,
            csrf: crate::csrf::token_for(extensions),
            flash: crate::flash::page_value(extensions),
            private: crate::session::in_use(extensions),
            nonce: extensions
                .get::<crate::headers::CspNonce>()
                .map(|n| n.0.clone()),
            base,
            rendered: std::time::SystemTime::now(),
        }
    }

    /// The page body in its root element, wrapped in the layout.
    pub fn render(self, body: Markup) -> Response {
        let ctx = PageContext {
            title: self.title,
            client_src: client_src(),
            client_integrity: client_integrity(),
            csrf: self.csrf.as_deref(),
            dispatch_base: self.base.as_str(),
            rendered: self.rendered,
            flash: self.flash.as_deref(),
            nonce: self.nonce.as_deref(),
        };
        let mut response = (self.layout)(&ctx, page_root(body)).into_response();
        // a page holds a per-session CSRF token: no shared cache may keep it; and with
        // sessions, no cache at all, so Back after sign-out cannot show the last user's page
        let cache = if self.private {
            "private, no-store"
        } else {
            "private, no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        response
    }
}
