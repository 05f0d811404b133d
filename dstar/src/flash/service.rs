//! The service of the flash layer: reads the message to show (from the cookie, or from a page
//! stream's header) and leaves it, with a slot for the next one, in the request.

use super::HEADER_NAME;
use super::cookie::cookie_value;
use super::future::FlashFuture;
use super::key::{FlashKey, PAGE_MAX_AGE_SECS};
use super::state::FlashState;
use axum::extract::Request;
use axum::response::Response;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// The service of the flash layer.
#[derive(Clone)]
pub(crate) struct FlashService<S> {
    pub(super) inner: S,
    pub(super) key: FlashKey,
}

impl<S> tower_service::Service<Request> for FlashService<S>
where
    S: tower_service::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = FlashFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let key = &self.key;
        let from_cookie = cookie_value(req.headers());
        let from_header = req
            .headers()
            .get(HEADER_NAME)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty());
        let had_cookie = from_cookie.is_some();
        // the cookie first (a page load); else the header (a page's stream, for its
        // re-renders), whose copy lasts as long as a page stays open, a day
        let shown = from_cookie
            .as_deref()
            .and_then(|value| key.verify(value).map(|m| (m, value.to_owned())))
            .or_else(|| {
                from_header.and_then(|value| {
                    key.verify_within(value, PAGE_MAX_AGE_SECS)
                        .map(|m| (m, value.to_owned()))
                })
            });
        if had_cookie && shown.is_none() {
            tracing::debug!(
                "dstar: a flash cookie did not verify (forged, altered or expired); ignored"
            );
        }
        let next = Arc::new(Mutex::new(None));
        let shows_page = req.method() == axum::http::Method::GET
            && !req.headers().contains_key("datastar-request");
        let over_tls = req
            .extensions()
            .get::<crate::headers::ServedOverTls>()
            .is_some();
        req.extensions_mut().insert(FlashState {
            shown,
            next: next.clone(),
        });
        FlashFuture {
            inner: self.inner.call(req),
            key: self.key.clone(),
            next,
            clears: had_cookie && shows_page,
            over_tls,
        }
    }
}
