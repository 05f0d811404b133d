//! Where the browser sends component events, known on the server while a request is handled, so
//! a component's action is written as a plain URL (`@post('/ds/app-Drawer/close')`) instead of
//! JavaScript that reads `<body data-ds-base>` in every attribute.

use std::future::Future;
use std::sync::Arc;

/// Where the browser sends component events: the app's prefix and dispatch base (`/ds` by
/// default). [`App`](crate::App) hands it to every page and component route it builds; the
/// default layout writes it as `<body data-ds-base>`, and component actions rendered while dstar
/// handles a request use it directly.
///
/// ```
/// let base = dstar::event::DispatchBase::new("/admin/ds".to_owned());
/// assert_eq!(base.as_str(), "/admin/ds");
/// ```
#[derive(Debug, Clone)]
pub struct DispatchBase(Arc<str>);

impl Default for DispatchBase {
    /// `/ds`.
    fn default() -> Self {
        DispatchBase::new(crate::actions::DEFAULT_DISPATCH_BASE.to_owned())
    }
}

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

    /// The base of the request being handled, inside [`render`](Self::render) or
    /// [`handle`](Self::handle).
    pub(crate) fn current() -> Option<DispatchBase> {
        CURRENT.try_with(DispatchBase::clone).ok()
    }
}

/// Runs `render` (a page's `render`) with `base` as the current dispatch base.
#[doc(hidden)]
pub fn render_with<T>(base: DispatchBase, render: impl FnOnce() -> T) -> T {
    CURRENT.sync_scope(base, render)
}

/// Runs `handler` (an event handler's future) with `base` as the current dispatch base.
#[doc(hidden)]
pub async fn handle_with<F: Future>(base: DispatchBase, handler: F) -> F::Output {
    CURRENT.scope(base, handler).await
}

/// A generated handler that takes the dispatch base, as an axum handler that passes `base` to it
/// (a route knows its base when the app builds it: no per-request layer).
#[doc(hidden)]
pub fn with_base<S, F, Fut>(
    handler: F,
    base: &DispatchBase,
) -> impl FnOnce(axum::extract::State<S>, axum::extract::Request) -> Fut + Clone + Send + Sync + 'static
where
    F: FnOnce(axum::extract::State<S>, axum::extract::Request, DispatchBase) -> Fut
        + Clone
        + Send
        + Sync
        + 'static,
{
    let base = base.clone();
    move |state, req| handler(state, req, base)
}
