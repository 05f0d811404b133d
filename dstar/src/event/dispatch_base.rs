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
pub fn render_with<T>(base: DispatchBase, render: impl FnOnce() -> T) -> T {
    CURRENT.sync_scope(base, render)
}

/// Runs `handler` (an event handler's future) with `base` as the current dispatch base. The
/// scope's own future, not an `async fn` around it, which would hold the handler's future twice.
pub fn handle_with<F: Future>(base: DispatchBase, handler: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(base, handler)
}

/// A generated handler with the dispatch base its route was built with: an axum
/// [`Handler`](axum::handler::Handler) that calls it with the router's state and the request
/// as they are (a route knows its base when the app builds it: no per-request layer).
///
/// The generated handler's own future is the route's future: no extractor runs in front of it
/// and no wrapper future is added around it, so the one allocation per request axum makes for
/// it is as small as the handler's own state.
#[derive(Clone)]
pub struct WithBase<F> {
    handler: F,
    base: DispatchBase,
}

/// The [`Handler`](axum::handler::Handler) marker of [`WithBase`].
#[derive(Debug, Clone, Copy)]
pub struct BaseHandler;

/// `handler` with the dispatch base `base`, as an axum handler.
pub fn with_base<F>(handler: F, base: &DispatchBase) -> WithBase<F> {
    WithBase {
        handler,
        base: base.clone(),
    }
}

impl<S, F, Fut> axum::handler::Handler<BaseHandler, S> for WithBase<F>
where
    S: Send + Sync + 'static,
    F: FnOnce(axum::extract::State<S>, axum::extract::Request, DispatchBase) -> Fut
        + Clone
        + Send
        + Sync
        + 'static,
    Fut: Future<Output = axum::response::Response> + Send + 'static,
{
    type Future = Fut;

    fn call(self, req: axum::extract::Request, state: S) -> Fut {
        (self.handler)(axum::extract::State(state), req, self.base)
    }
}
