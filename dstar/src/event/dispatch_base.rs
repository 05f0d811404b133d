//! Where the browser sends component events, known on the server while a request is handled, so
//! a component's action is written as a plain URL (`@post('/ds/app-Drawer/close')`) instead of
//! JavaScript that reads `<body data-ds-base>` in every attribute.

use axum::http::Extensions;
use std::future::Future;
use std::sync::Arc;

/// Where the browser sends component events: the app's prefix and dispatch base (`/ds` by
/// default). [`App`](crate::App) puts it on every request it serves; the default layout writes
/// it as `<body data-ds-base>`, and component actions rendered while dstar handles a request use
/// it directly.
///
/// ```
/// let base = dstar::event::DispatchBase::new("/admin/ds".to_owned());
/// assert_eq!(base.as_str(), "/admin/ds");
/// ```
#[derive(Debug, Clone)]
pub struct DispatchBase(Arc<str>);

tokio::task_local! {
    static CURRENT: DispatchBase;
}

impl DispatchBase {
    /// A base path, as `App` computes it.
    pub fn new(base: String) -> Self {
        DispatchBase(base.into())
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The base the request's app set, if any.
    #[doc(hidden)]
    pub fn of(extensions: &Extensions) -> Option<DispatchBase> {
        extensions.get::<DispatchBase>().cloned()
    }

    /// The base of the request being handled, inside [`render`](Self::render) or
    /// [`handle`](Self::handle).
    pub(crate) fn current() -> Option<DispatchBase> {
        CURRENT.try_with(DispatchBase::clone).ok()
    }
}

/// Runs `render` (a page's `render`) with `base` as the current dispatch base.
#[doc(hidden)]
pub fn render_with<T>(base: Option<DispatchBase>, render: impl FnOnce() -> T) -> T {
    match base {
        Some(base) => CURRENT.sync_scope(base, render),
        None => render(),
    }
}

/// Runs `handler` (an event handler's future) with `base` as the current dispatch base.
#[doc(hidden)]
pub async fn handle_with<F: Future>(base: Option<DispatchBase>, handler: F) -> F::Output {
    match base {
        Some(base) => CURRENT.scope(base, handler).await,
        None => handler.await,
    }
}
