//! [`Flash`]: the extractor that shows this request's message and sets the next one.

use super::message::{Level, Message};
use super::state::FlashState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use maud::{Markup, Render, html};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

/// The flash of this request: the message to show now ([`message`](Flash::message), rendered by
/// its [`Render`] impl), and the one to set for the next page load ([`set`](Flash::set)). An
/// extractor; it never fails.
///
/// ```
/// use dstar::flash::Flash;
/// async fn save(flash: Flash) -> axum::response::Redirect {
///     flash.success("Saved");
///     axum::response::Redirect::to("/notes")
/// }
/// let app: axum::Router = dstar::App::empty()
///     .route("/save", axum::routing::post(save))
///     .build();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Flash {
    shown: Option<Message>,
    next: Option<Arc<Mutex<Option<Message>>>>,
}

impl Flash {
    /// The message to show on this page, if any.
    ///
    /// ```
    /// assert!(dstar::flash::Flash::default().message().is_none());
    /// ```
    pub fn message(&self) -> Option<&Message> {
        self.shown.as_ref()
    }

    /// Sets the message for the next page load (replacing one set before in this request).
    /// Without the app's flash layer (a router not built by [`App`](crate::App)) it is dropped
    /// with a warning.
    ///
    /// ```
    /// # fn f(flash: dstar::flash::Flash) {
    /// flash.set(dstar::flash::Level::Warning, "Your session ends in 5 minutes");
    /// # }
    /// ```
    pub fn set(&self, level: Level, text: impl Into<String>) {
        let message = Message {
            level,
            text: text.into(),
        };
        match &self.next {
            Some(next) => *next.lock().unwrap_or_else(|e| e.into_inner()) = Some(message),
            None => tracing::warn!(
                "dstar: a flash message was set, but this router has no flash layer (build it with dstar::App)"
            ),
        }
    }

    /// [`set`](Flash::set) with [`Level::Info`].
    pub fn info(&self, text: impl Into<String>) {
        self.set(Level::Info, text);
    }

    /// [`set`](Flash::set) with [`Level::Success`].
    pub fn success(&self, text: impl Into<String>) {
        self.set(Level::Success, text);
    }

    /// [`set`](Flash::set) with [`Level::Warning`].
    pub fn warning(&self, text: impl Into<String>) {
        self.set(Level::Warning, text);
    }

    /// [`set`](Flash::set) with [`Level::Error`].
    pub fn error(&self, text: impl Into<String>) {
        self.set(Level::Error, text);
    }
}

/// `<div class="flash flash-{level}" role="status">{text}</div>`, or nothing.
///
/// ```
/// use maud::Render;
/// assert_eq!(dstar::flash::Flash::default().render().into_string(), "");
/// ```
impl Render for Flash {
    fn render(&self) -> Markup {
        html! {
            @if let Some(m) = &self.shown {
                div class={ "flash flash-" (m.level.as_str()) } role="status" { (m.text) }
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Flash {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(match parts.extensions.get::<FlashState>() {
            Some(state) => Flash {
                shown: state.shown.as_ref().map(|(m, _)| m.clone()),
                next: Some(state.next.clone()),
            },
            None => Flash::default(),
        })
    }
}
