use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt as _;
use std::future::Future;

/// A handler argument that is not the last one: any axum `FromRequestParts` extractor.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a dstar handler argument",
    label = "not an axum extractor",
    note = "handler arguments are axum extractors (`State`, `Path`, `HeaderMap`, …), `Signals<T>` (last), or `&mut Sse`",
    note = "only the last argument may read the request body (e.g. `Signals<T>`)"
)]
///
/// ```
/// fn is_arg<T: dstar::event::PartsArg<()>>() {}
/// is_arg::<axum::http::HeaderMap>();
/// ```
pub trait PartsArg<S>: Sized {
    /// Runs the extractor; a rejection becomes its response.
    fn extract(parts: &mut Parts, state: &S)
    -> impl Future<Output = Result<Self, Response>> + Send;
}

// The extractor's own future, mapped: an `async fn` (or an `async` block awaiting it) would keep a
// second copy of it, and these futures are part of every handler's future.
impl<S: Send + Sync, T: FromRequestParts<S>> PartsArg<S> for T {
    fn extract(
        parts: &mut Parts,
        state: &S,
    ) -> impl Future<Output = Result<Self, Response>> + Send {
        T::from_request_parts(parts, state).map(|r| r.map_err(IntoResponse::into_response))
    }
}

/// The last handler argument: any axum `FromRequest` extractor, such as `Signals<T>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a dstar handler argument",
    label = "not an axum extractor or signals type",
    note = "handler arguments are axum extractors (`State`, `Path`, `HeaderMap`, …), `Signals<T>` for signals, or `&mut Sse`",
    note = "for typed signals write `Signals(s): Signals<{Self}>` and derive `serde::Deserialize`"
)]
///
/// ```
/// fn is_last_arg<T: dstar::event::BodyArg<(), M>, M>() {}
/// is_last_arg::<dstar::Signals, _>();
/// ```
pub trait BodyArg<S, M>: Sized {
    /// Runs the extractor; a rejection becomes its response.
    fn extract(req: Request, state: &S) -> impl Future<Output = Result<Self, Response>> + Send;
}

impl<S: Send + Sync, M, T: FromRequest<S, M>> BodyArg<S, M> for T {
    fn extract(req: Request, state: &S) -> impl Future<Output = Result<Self, Response>> + Send {
        T::from_request(req, state).map(|r| r.map_err(IntoResponse::into_response))
    }
}

/// The request line and headers, for `authorize` hooks.
///
/// ```
/// use dstar::event::{Access, RequestHead};
/// #[derive(Clone, Copy, Debug, PartialEq)] enum Ev { Go }
/// fn authorize(head: &RequestHead, _access: Access<Ev>) -> bool {
///     head.headers.contains_key("x-user")
/// }
/// ```
#[derive(Debug)]
pub struct RequestHead {
    /// The method.
    pub method: axum::http::Method,
    /// The URI.
    pub uri: axum::http::Uri,
    /// The headers.
    pub headers: axum::http::HeaderMap,
}

impl RequestHead {
    /// Lends the request's head to a hook (`authorize`, `stream_key`) without copying its headers:
    /// they move out of `parts` and back with [`RequestHead::give_back`].
    #[doc(hidden)]
    pub fn take(parts: &mut Parts) -> Self {
        RequestHead {
            method: parts.method.clone(),
            uri: std::mem::take(&mut parts.uri),
            headers: std::mem::take(&mut parts.headers),
        }
    }

    /// Puts a head taken with [`RequestHead::take`] back into `parts`.
    #[doc(hidden)]
    pub fn give_back(self, parts: &mut Parts) {
        parts.uri = self.uri;
        parts.headers = self.headers;
    }
}
