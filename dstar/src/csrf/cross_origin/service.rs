//! The service [`CrossOriginLayer`](super::CrossOriginLayer) wraps around a route: requests a
//! browser marks as same-origin pass at once; the others go through tower-http's check.

use super::refusal::Refuse;
use axum::body::Body;
use axum::http::{HeaderName, Method, Request, header};
use axum::response::Response;
use futures_util::future::Either;
use std::task::{Context, Poll};
use tower::{Layer, Service};
use tower_http::csrf::{Csrf, CsrfLayer};

/// `Sec-Fetch-Site`, interned once (tower-http looks its headers up by string on every request).
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// The service [`CrossOriginLayer`](super::CrossOriginLayer) wraps around a route.
///
/// The requests a browser marks as same-origin (and requests from no browser at all) pass
/// straight through, found with interned header names. Every other unsafe request goes through
/// tower-http's check, which decides it.
///
/// ```
/// use axum::{body::Body, http::Request};
/// use tower::{Layer, ServiceExt};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let route = tower::service_fn(|_req: Request<Body>| async {
///     Ok::<_, std::convert::Infallible>(axum::response::Response::new(Body::from("ran")))
/// });
/// let service = dstar::csrf::CrossOrigin::new().layer().unwrap().layer(route);
/// let cross_site = Request::post("/save")
///     .header("sec-fetch-site", "cross-site")
///     .body(Body::empty())
///     .unwrap();
/// assert_eq!(service.clone().oneshot(cross_site).await.unwrap().status(), 403);
/// let same_origin = Request::post("/save")
///     .header("sec-fetch-site", "same-origin")
///     .body(Body::empty())
///     .unwrap();
/// assert_eq!(service.oneshot(same_origin).await.unwrap().status(), 200);
/// # });
/// ```
#[derive(Clone)]
pub struct CrossOriginService<S> {
    pub(super) inner: S,
    pub(super) csrf: CsrfLayer<Refuse>,
}

impl<S> std::fmt::Debug for CrossOriginService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossOriginService").finish_non_exhaustive()
    }
}

impl<S, B> Service<Request<B>> for CrossOriginService<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, <Csrf<S, Refuse> as Service<Request<B>>>::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if passes_at_once(&req) {
            return Either::Left(self.inner.call(req));
        }
        // the service polled ready goes into the check; a clone stays for the next request
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        Either::Right(self.csrf.layer(ready).call(req))
    }
}

/// What tower-http's check lets through before it reads anything else: a safe method, a
/// browser's `Sec-Fetch-Site: same-origin` (or `none`: typed by the user), or neither
/// `Sec-Fetch-Site` nor `Origin` (not a browser). Anything else is left to that check.
fn passes_at_once<B>(req: &Request<B>) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let headers = req.headers();
    match headers.get(SEC_FETCH_SITE).map(|v| v.as_bytes()) {
        Some(b"same-origin" | b"none") => true,
        None | Some(b"") => headers
            .get(header::ORIGIN)
            .is_none_or(|origin| origin.is_empty()),
        Some(_) => false,
    }
}
