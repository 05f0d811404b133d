//! [`CsrfToken`]: the session's secret in a request, masked afresh for every page render, and
//! the token or session handle a layout or a stream reads from a request.

use super::cookie::SECRET_LEN;
use axum::http::StatusCode;
use rand::RngCore;
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;

/// The per-request token source, in the request extensions for handlers and layouts.
#[derive(Clone)]
pub struct CsrfToken {
    pub(super) secret: [u8; SECRET_LEN],
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(..)")
    }
}

impl CsrfToken {
    /// A freshly masked token for this session (different on every call, all valid).
    ///
    /// ```
    /// # fn f(token: dstar::csrf::CsrfToken) {
    /// let html = format!(r#"<input type="hidden" name="_csrf_token" value="{}">"#, token.masked());
    /// # }
    /// ```
    pub fn masked(&self) -> String {
        let mut mask = [0u8; SECRET_LEN];
        rand::rng().fill_bytes(&mut mask);
        let mut out = Vec::with_capacity(2 * SECRET_LEN);
        out.extend_from_slice(&mask);
        out.extend(mask.iter().zip(&self.secret).map(|(m, s)| m ^ s));
        hex::encode(out)
    }

    /// A hidden form field with a freshly masked token, for a plain HTML form posted to a route
    /// of the app (a sign-out button, say): `<input type="hidden" name="_csrf_token" value="…">`.
    ///
    /// ```
    /// # fn f(token: dstar::csrf::CsrfToken) {
    /// use dstar::prelude::*;
    /// let form = html! { form method="post" action="/signout" { (token.field()) button { "Sign out" } } };
    /// # }
    /// ```
    pub fn field(&self) -> maud::Markup {
        maud::html! { input type="hidden" name=(crate::csrf::FORM_FIELD) value=(self.masked()); }
    }

    pub(super) fn verify(&self, token: &str) -> bool {
        let mut bytes = [0u8; 2 * SECRET_LEN];
        if hex::decode_to_slice(token.trim(), &mut bytes).is_err() {
            return false;
        }
        let (mask, masked) = bytes.split_at(SECRET_LEN);
        let secret: Vec<u8> = mask.iter().zip(masked).map(|(m, x)| m ^ x).collect();
        secret.ct_eq(&self.secret).into()
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CsrfToken {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "CsrfToken needs the dstar::csrf::Csrf layer",
        ))
    }
}

/// A stable, non-secret handle of the current request's CSRF session, if the layer runs: a hash
/// of the session secret. Stream deduplication puts it in its scope, so a leaked tab id is useless
/// to anyone without the session cookie.
///
/// ```
/// let parts = axum::http::Request::new(()).into_parts().0;
/// assert_eq!(dstar::csrf::session_id(&parts.extensions), None);
/// ```
pub fn session_id(extensions: &axum::http::Extensions) -> Option<String> {
    use sha2::Digest;
    let token = extensions.get::<CsrfToken>()?;
    let digest = Sha256::new()
        .chain_update(b"dstar session id\0")
        .chain_update(token.secret)
        .finalize();
    Some(hex::encode(&digest[..12]))
}

/// A masked token for the current request, if the CSRF layer runs (used by the default layout).
///
/// ```
/// let parts = axum::http::Request::new(()).into_parts().0;
/// assert_eq!(dstar::csrf::token_for(&parts.extensions), None);
/// ```
pub fn token_for(extensions: &axum::http::Extensions) -> Option<String> {
    extensions.get::<CsrfToken>().map(CsrfToken::masked)
}
