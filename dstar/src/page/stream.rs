//! The page side of a page stream (`POST {path}`): reading the request, claiming the tab's
//! stream, and the first events (the stream id, the catch-up render). The loop itself is
//! [`crate::stream::run`].

// `Result<_, Response>` is the axum idiom for "or answer with this": boxing it would only cost.
#![allow(clippy::result_large_err)]

use super::page_root;
use crate::scripts::ExecuteScript;
use crate::sse::Sse;
use crate::stream::{Claim, Reconnect, Source};
use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::response::Response;
use futures_util::FutureExt as _;
use maud::Markup;
use std::future::Future;
use std::time::SystemTime;

/// A page stream being opened: what the generated stream handler needs between reading the
/// request and running the loop.
#[derive(Debug)]
pub struct StreamOpen {
    page: &'static str,
    tab: Option<String>,
    reconnect: Reconnect,
    /// On a first connect, when the page was rendered (its
    /// [`RENDERED_HEADER`](super::RENDERED_HEADER)).
    rendered: Option<std::time::SystemTime>,
    previous: Option<u64>,
    number: u64,
    /// What deduplicates this stream: the page, its `stream_key` and the CSRF session.
    scope: Option<String>,
    /// The page's own GET request, kept to render it again: for a reconnect's catch-up, and for
    /// every change of a live page. Not kept for a plain stream's first connect. Boxed: the
    /// generated handler's future holds a `StreamOpen` while it sets the stream up.
    template: Option<Box<ViewTemplate>>,
}

impl StreamOpen {
    /// Reads the tab id (from a header, or the signals in the body) and the reconnect headers.
    /// The head is borrowed, and the body handed back for the extractors. `keep` keeps the
    /// page's request, to render it again on every change (a live page) or to authorize every
    /// message (a page with `authorize`).
    pub fn read(
        parts: &Parts,
        body: Body,
        page: &'static str,
        keep: bool,
    ) -> impl Future<Output = Result<(StreamOpen, Body), Response>> + Send + use<> {
        // the head first, so the future holds the body and this, not the head
        let reconnect = Reconnect::from_headers(&parts.headers);
        let rendered = (reconnect == Reconnect::First)
            .then(|| rendered_at(&parts.headers))
            .flatten();
        let template = (keep || reconnect.catches_up() || rendered.is_some())
            .then(|| Box::new(ViewTemplate::new(parts)));
        let open = StreamOpen {
            page,
            tab: None,
            reconnect,
            rendered,
            previous: crate::stream::previous_stream(&parts.headers),
            number: crate::stream::next_stream_number(),
            scope: None,
            template,
        };
        crate::stream::read_tab(parts, body)
            .map(move |read| read.map(|(tab, body)| (StreamOpen { tab, ..open }, body)))
    }

    /// The page's GET request, to render it again (live pages always have one).
    pub fn template(&self) -> ViewTemplate {
        self.template
            .as_deref()
            .cloned()
            .unwrap_or_else(ViewTemplate::empty)
    }

    /// The page's GET request, moved out (what [`template`](StreamOpen::template) clones): a
    /// stream that needs it once takes it without a copy per open stream. An empty request is
    /// left in its place, not `None`: [`renders_first`](StreamOpen::renders_first) still reads
    /// that this stream kept one.
    pub(crate) fn take_template(&mut self) -> ViewTemplate {
        self.template
            .as_deref_mut()
            .map_or_else(ViewTemplate::empty, |kept| {
                std::mem::replace(kept, ViewTemplate::empty())
            })
    }

    /// Reads what scopes this stream's deduplication (`key` is the page's `stream_key`), before
    /// the extractors consume the request.
    pub fn scope(&mut self, key: Option<String>, parts: &Parts) {
        self.scope = crate::stream::dedup_scope(self.page, key, &parts.extensions);
    }

    /// Claims this tab's stream, ending another stream of the same tab, once the request has
    /// passed `authorize` and every extractor.
    pub fn claim(&mut self) -> Result<Option<Claim>, Response> {
        crate::stream::claim_page_stream(
            self.scope.take(),
            self.tab.take(),
            self.previous,
            self.number,
        )
    }

    /// Whether [`first_events`](StreamOpen::first_events) renders the page: on a reconnect, or
    /// when `source` may have missed a message since the page's render.
    pub(crate) fn renders_first(&self, missed_since: impl FnOnce(SystemTime) -> bool) -> bool {
        self.template.is_some()
            && (self.reconnect.catches_up() || self.rendered.is_some_and(missed_since))
    }

    /// The first events of a stream that catches up through a live page's shared render: its
    /// id, or, after a rebuild with live reload on, a reload. No render of its own.
    pub(crate) fn first_events_shared(self) -> Sse {
        stream_start(self.reconnect, self.number, None)
    }

    /// The first events of the stream: its id (sent back as `Last-Event-ID` on a reconnect) and,
    /// on a reconnect, a fresh render of the page root made by `view` (the page's mount and
    /// render), so nothing published while the tab was away is missing; or, after a rebuild with
    /// live reload on, a reload. A `mount` that now refuses (the item was deleted, the session
    /// ended) reloads the page too, which then shows why. On a first connect, the same render
    /// when `source` (already subscribed) may have missed a message since the page's render: it
    /// went stale while the browser loaded it.
    pub fn first_events<S, F, Fut>(self, source: &S, view: F) -> impl Future<Output = Sse>
    where
        S: Source,
        F: FnOnce(Request) -> Fut,
        Fut: Future<Output = Result<Markup, Response>>,
    {
        let renders = self.renders_first(|at| source.missed_since(at));
        let StreamOpen {
            reconnect,
            number,
            template,
            ..
        } = self;
        if renders && !reconnect.catches_up() {
            tracing::debug!("dstar: the page went stale while it loaded; rendering it again");
        }
        // boxed: the page's mount and render run only on a reconnect, and inline their future
        // would make every stream request's future as big as theirs. The future returned holds
        // no more than that box, and the request's head is let go here.
        let catch_up = template
            .filter(|_| renders)
            .map(|template| Box::pin(view(template.request())));
        async move {
            let rendered = match catch_up {
                Some(render) => Some(render.await),
                None => None,
            };
            stream_start(reconnect, number, rendered)
        }
    }
}

fn stream_start(reconnect: Reconnect, number: u64, view: Option<Result<Markup, Response>>) -> Sse {
    let mut sse = Sse::new();
    sse.stream_event_id(crate::stream::stream_id(), number);
    if reconnect.reloads() {
        tracing::debug!("dstar: a new build is serving; reloading the page");
        let _ = sse.send(ExecuteScript::new("location.reload()"));
        return sse;
    }
    match view {
        Some(Ok(markup)) => {
            sse.patch_elements(page_root(markup));
        }
        Some(Err(refusal)) if refusal.status().is_server_error() => {
            // a passing failure (the database blinked): keep the page as it is and stream on
            tracing::warn!(
                status = refusal.status().as_u16(),
                "dstar: the page's catch-up render failed; streaming without it"
            );
        }
        Some(Err(refusal)) => {
            refused(&mut sse, &refusal);
            sse.end_stream();
        }
        None => {}
    }
    sse
}

/// The render time a first connect carries, when it is a plausible one.
fn rendered_at(headers: &axum::http::HeaderMap) -> Option<std::time::SystemTime> {
    let millis: u64 = headers
        .get(super::RENDERED_HEADER)?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_millis(millis))
}

/// A live page's `on_message`: on every change, the page's own mount and render (`view`) with its
/// GET request, morphed into the page root.
pub fn live_renderer<S, V, Fut>(
    state: S,
    template: ViewTemplate,
    view: V,
) -> impl FnMut(()) -> std::pin::Pin<Box<dyn Future<Output = Sse> + Send>> + Send + 'static
where
    S: Clone + Send + Sync + 'static,
    V: Fn(S, Request) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Markup, Response>> + Send + 'static,
{
    move |()| {
        let render = view(state.clone(), template.request());
        Box::pin(async move { live_update(render.await) })
    }
}

/// A live page's update: its root morphed with a fresh render; or, when `mount` now refuses,
/// the refusal (below) and the end of the stream.
pub(crate) fn live_update(view: Result<Markup, Response>) -> Sse {
    let mut sse = Sse::new();
    match view {
        Ok(markup) => {
            sse.patch_elements(page_root(markup));
        }
        Err(refusal) if refusal.status().is_server_error() => {
            tracing::warn!(
                status = refusal.status().as_u16(),
                "dstar: a live page's render failed; the page keeps its last render"
            );
        }
        Err(refusal) => return stream_refused(&refusal),
    }
    sse
}

/// The answer of a page stream whose viewer may no longer see it (`authorize` or `mount` now
/// refuses): the refusal's redirect, or a reload, and the end of the stream.
pub fn stream_refused(refusal: &Response) -> Sse {
    let mut sse = Sse::new();
    refused(&mut sse, refusal);
    sse.end_stream();
    sse
}

/// A page render that now refuses (its user signed out, the item was deleted): a redirect the
/// refusal names (`303` to the sign-in page, say) is followed; anything else reloads the page,
/// which then shows why. Nothing of the page is sent.
fn refused(sse: &mut Sse, refusal: &Response) {
    let status = refusal.status().as_u16();
    let location = refusal
        .headers()
        .get(axum::http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|_| refusal.status().is_redirection());
    if let Some(location) = location {
        if sse.redirect(location).is_ok() {
            tracing::debug!(
                status,
                location = %crate::error::Escaped(location),
                "dstar: a page refused its render; redirecting"
            );
            return;
        }
    }
    tracing::debug!(status, "dstar: a page refused its render; reloading it");
    let _ = sse.send(ExecuteScript::new("location.reload()"));
}

/// The GET request of the page a stream belongs to (the same URI, headers and extensions), kept
/// by the stream so the page's own `mount` can render it again.
#[derive(Debug, Clone)]
pub struct ViewTemplate {
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    extensions: axum::http::Extensions,
}

impl ViewTemplate {
    fn new(parts: &Parts) -> Self {
        let mut headers = parts.headers.clone();
        // what made it a stream request, not a page request
        for name in [
            "content-length",
            "content-type",
            "transfer-encoding",
            "last-event-id",
            "datastar-request",
            "accept",
            crate::csrf::HEADER_NAME,
            crate::stream::TAB_HEADER,
            super::RENDERED_HEADER,
        ] {
            headers.remove(name);
        }
        ViewTemplate {
            uri: parts.uri.clone(),
            headers,
            extensions: parts.extensions.clone(),
        }
    }

    fn empty() -> Self {
        ViewTemplate {
            uri: axum::http::Uri::default(),
            headers: axum::http::HeaderMap::new(),
            extensions: axum::http::Extensions::new(),
        }
    }

    /// The same request without its headers (cookies, authorization): what a shared render of a
    /// `mount` that reads no header keeps of its first viewer's request.
    pub(crate) fn without_headers(&self) -> ViewTemplate {
        ViewTemplate {
            uri: self.uri.clone(),
            headers: axum::http::HeaderMap::new(),
            extensions: self.extensions.clone(),
        }
    }

    /// The page's GET request, as it is now: the session is loaded from its store again, so a
    /// render sees who is signed in now, not who was when the stream opened.
    pub fn fresh_request(&self) -> Request {
        self.request()
    }

    fn request(&self) -> Request {
        let mut req = Request::new(Body::empty());
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
        *req.extensions_mut() = self.extensions.clone();
        crate::session::refresh(req.extensions_mut());
        req
    }
}
