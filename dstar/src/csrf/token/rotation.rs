//! [`CsrfRotation`]: a new CSRF secret with this response, at sign-in and sign-out.

use std::convert::Infallible;
use std::sync::Arc;

/// Gives the visitor a new CSRF secret with this response: every token rendered before is
/// refused from then on. Do it whenever the visitor's privileges change, at sign-in and sign-out
/// ([`Auth`](crate::session::Auth) does it for you), so a token an attacker saw or planted
/// before sign-in is useless after it. A handler takes it as an extractor; without the
/// [`Csrf`](super::Csrf) layer it does nothing.
///
/// ```
/// use dstar::csrf::CsrfRotation;
/// async fn sign_in(rotation: CsrfRotation) -> &'static str {
///     // … check the password, store the user …
///     rotation.rotate();
///     "welcome"
/// }
/// let app: axum::Router = axum::Router::new()
///     .route("/signin", axum::routing::post(sign_in))
///     .layer(dstar::csrf::Csrf::random().layer());
/// ```
#[derive(Clone, Debug, Default)]
pub struct CsrfRotation(Arc<std::sync::atomic::AtomicBool>);

impl CsrfRotation {
    /// Asks for a new secret with this request's response.
    pub fn rotate(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub(super) fn is_requested(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The request's rotation handle (a detached one without the [`Csrf`](super::Csrf) layer).
    pub(crate) fn of(extensions: &axum::http::Extensions) -> CsrfRotation {
        extensions
            .get::<CsrfRotation>()
            .cloned()
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CsrfRotation {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(CsrfRotation::of(&parts.extensions))
    }
}
