//! The service of [`CsrfLayer`](super::CsrfLayer): checks each request, hands the handler its
//! token and rotation handle, and sets the session cookie on the answer.

use super::Csrf;
use super::cookie::SECRET_LEN;
use super::rotation::CsrfRotation;
use axum::extract::Request;
use axum::http::header;
use axum::response::Response;
use rand::RngCore;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The service of [`CsrfLayer`](super::CsrfLayer).
#[derive(Clone, Debug)]
pub struct CsrfService<S> {
    pub(super) inner: S,
    pub(super) csrf: Csrf,
}

impl<S> tower_service::Service<Request> for CsrfService<S>
where
    S: tower_service::Service<Request, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let csrf = self.csrf.clone();
        Box::pin(async move {
            let (mut req, new_cookie) = match csrf.check(req).await {
                Ok(v) => v,
                Err(refusal) => return Ok(refusal),
            };
            let secure = csrf.is_secure_extensions(req.extensions());
            let rotation = CsrfRotation::default();
            req.extensions_mut().insert(rotation.clone());
            let mut response = inner.call(req).await?;
            let cookie = if rotation.is_requested() {
                // sign-in or sign-out: a new secret, so a token seen before is worth nothing
                let mut secret = [0u8; SECRET_LEN];
                rand::rng().fill_bytes(&mut secret);
                Some(csrf.cookie(&secret, secure))
            } else {
                new_cookie
            };
            if let Some(cookie) = cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        })
    }
}
