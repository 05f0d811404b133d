//! Cross-origin protection by Fetch Metadata, with no tokens: tower-http's port of Go 1.25's
//! `CrossOriginProtection`, answering refusals with a one-line reason.

use axum::body::Body;
use axum::http::{HeaderName, Method, Request, StatusCode, header};
use axum::response::Response;
use futures_util::future::Either;
use std::task::{Context, Poll};
use tower::{Layer, Service};
use tower_http::csrf::{Csrf, CsrfLayer, ProtectionError, ProtectionErrorKind};

/// How refusals are answered: a `403` with a one-line reason.
type Refuse = fn(ProtectionError) -> Response<Body>;

/// `Sec-Fetch-Site`, interned once (tower-http looks its headers up by string on every request).
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// The tower layer [`CrossOrigin::layer`] returns.
///
/// ```
/// let layer: dstar::csrf::CrossOriginLayer = dstar::csrf::CrossOrigin::new().layer().unwrap();
/// let app: axum::Router = axum::Router::new().layer(layer);
/// ```
#[derive(Clone)]
pub struct CrossOriginLayer {
    csrf: CsrfLayer<Refuse>,
}

impl std::fmt::Debug for CrossOriginLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossOriginLayer").finish_non_exhaustive()
    }
}

impl<S: Clone> Layer<S> for CrossOriginLayer {
    type Service = CrossOriginService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CrossOriginService {
            inner,
            csrf: self.csrf.clone(),
        }
    }
}

/// The service [`CrossOriginLayer`] wraps around a route.
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
    inner: S,
    csrf: CsrfLayer<Refuse>,
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

/// Refuses unsafe requests (anything but GET, HEAD and OPTIONS) that a browser marks as coming
/// from another site. [`App`](crate::App) turns it on for every route with no configuration:
///
/// - `Sec-Fetch-Site` present and not `same-origin` or `none`: `403`;
/// - else an `Origin` whose host and port differ from `Host` (`:authority` on HTTP/2): `403`;
/// - neither header: allowed (not a browser, e.g. curl or a server-side client);
/// - an origin you trust (`https://admin.example`) is always allowed.
///
/// Behind a proxy that rewrites `Host`, keep the original `Host` (nginx: `proxy_set_header Host
/// $host`) or trust your public origin. Use it by hand on a router of your own:
///
/// ```
/// use dstar::csrf::CrossOrigin;
/// let layer = CrossOrigin::new().trust_origin("https://admin.example").layer().unwrap();
/// let app: axum::Router = axum::Router::new().layer(layer);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CrossOrigin {
    trusted: Vec<String>,
}

impl CrossOrigin {
    /// No trusted origins: only same-origin (and non-browser) unsafe requests pass.
    ///
    /// ```
    /// let layer = dstar::csrf::CrossOrigin::new().layer().unwrap();
    /// ```
    pub fn new() -> Self {
        CrossOrigin::default()
    }

    /// Also allow requests from `origin` (`scheme://host[:port]`, compared byte for byte with
    /// the `Origin` header).
    ///
    /// ```
    /// let check = dstar::csrf::CrossOrigin::new().trust_origin("https://partner.example");
    /// ```
    pub fn trust_origin(mut self, origin: impl Into<String>) -> Self {
        self.trusted.push(origin.into());
        self
    }

    /// The layer. Fails on a trusted origin that is not `scheme://host[:port]`.
    ///
    /// ```
    /// assert!(dstar::csrf::CrossOrigin::new().trust_origin("not an origin").layer().is_err());
    /// ```
    pub fn layer(&self) -> Result<CrossOriginLayer, String> {
        let mut layer = CsrfLayer::new();
        for origin in &self.trusted {
            layer = layer
                .add_trusted_origin(origin)
                .map_err(|e| format!("trusted origin: {e}"))?;
        }
        Ok(CrossOriginLayer {
            csrf: layer.with_rejection_response(refuse as Refuse),
        })
    }
}

fn refuse(error: ProtectionError) -> Response<Body> {
    let reason = match error.kind() {
        ProtectionErrorKind::CrossOriginRequest => {
            "cross-site request refused: the browser marked it as coming from another site (Sec-Fetch-Site)"
        }
        _ => "cross-site request refused: its Origin does not match the Host it was sent to",
    };
    crate::error::refusal(StatusCode::FORBIDDEN, "cross-site request", reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{assert_quiet, quietly};
    use tower::{Layer, ServiceExt};

    #[test]
    fn release_bodies_say_cross_site_and_nothing_more() {
        let route = tower::service_fn(|_req: Request<Body>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Body::from("ran")))
        });
        let service = super::CrossOrigin::new().layer().unwrap().layer(route);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for (name, value) in [
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://<script>.example"),
        ] {
            let req = Request::post("/save")
                .header(name, value)
                .body(Body::empty())
                .unwrap();
            let refused = quietly(|| runtime.block_on(service.clone().oneshot(req)).unwrap());
            assert_quiet(refused, 403, "cross-site request");
        }
    }
}
