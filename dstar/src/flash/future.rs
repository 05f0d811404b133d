//! The future of the flash layer: the inner answer, with the flash cookie set or cleared.

use super::cookie::{mark_secure, set_cookie};
use super::key::{FlashKey, MAX_AGE_SECS};
use super::message::Message;
use axum::http::header;
use axum::response::Response;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// The future of the flash layer: the inner answer, with the flash cookie set or cleared. Not
    /// boxed: every request of an [`App`](crate::App) goes through it.
    pub(crate) struct FlashFuture<F> {
        #[pin]
        pub(super) inner: F,
        pub(super) key: FlashKey,
        pub(super) next: Arc<Mutex<Option<Message>>>,
        pub(super) clears: bool,
        pub(super) over_tls: bool,
    }
}

impl<F> Future for FlashFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(mut response) = std::task::ready!(this.inner.poll(cx));
        let next = this.next.lock().unwrap_or_else(|e| e.into_inner()).take();
        let is_page = response.status().is_success()
            && response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("text/html"));
        let cookie = match next {
            Some(message) => this
                .key
                .sign(&message)
                .and_then(|v| set_cookie(&v, MAX_AGE_SECS)),
            // shown (or unreadable): gone from the next page load
            None if *this.clears && is_page => set_cookie("", 0),
            None => None,
        };
        if let Some(cookie) = cookie {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        if *this.over_tls {
            mark_secure(response.headers_mut());
        }
        Poll::Ready(Ok(response))
    }
}
