//! The signed session cookie that holds a visitor's CSRF secret: its names, how it is signed and
//! verified, and which of a request's cookies is the session.

use super::Csrf;
use ::cookie::{Cookie, SameSite};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The length of a session secret, in bytes.
pub(super) const SECRET_LEN: usize = 32;
/// The session cookie's name over plain HTTP.
pub const COOKIE_NAME: &str = "dstar_csrf";
/// The session cookie's name over HTTPS: the `__Host-` prefix makes browsers refuse it unless it
/// is `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain or a plain-HTTP response
/// cannot plant a session of its own.
pub const SECURE_COOKIE_NAME: &str = "__Host-dstar_csrf";

impl Csrf {
    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(self.inner.key.bytes()).expect("any key length")
    }

    /// Whether this request gets the `__Host-` cookie: served over TLS, or configured so.
    pub(super) fn is_secure(&self, parts: &Parts) -> bool {
        self.is_secure_extensions(&parts.extensions)
    }

    pub(super) fn is_secure_extensions(&self, extensions: &axum::http::Extensions) -> bool {
        self.inner.secure_cookie || extensions.get::<crate::headers::ServedOverTls>().is_some()
    }

    /// The session secret from the cookie, if present and correctly signed. Malformed cookies,
    /// and ours with a bad signature, are skipped: the search goes on through every cookie. Two
    /// or more that verify are [`Existing::Several`]: one was planted (cookie tossing from a
    /// sibling subdomain or over plain HTTP, with a path or domain of its own), and which is
    /// the visitor's own cannot be told, so none is used.
    pub(super) fn session(&self, headers: &HeaderMap, secure: bool) -> Existing {
        let name = if secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        };
        // byte by byte: one cookie of someone else's with a non-ASCII byte must not hide ours
        // borrowed when the header is valid UTF-8, as it nearly always is: no copy per request
        let lines: Vec<std::borrow::Cow<'_, str>> = headers
            .get_all(header::COOKIE)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()))
            .collect();
        let mut verified = lines
            .iter()
            .flat_map(|text| Cookie::split_parse(text.as_ref()))
            .filter_map(Result::ok)
            .filter(|cookie| cookie.name() == name)
            .filter_map(|cookie| self.verify_cookie(cookie.value()));
        match (verified.next(), verified.next()) {
            (None, _) => Existing::Missing,
            (Some(secret), None) => Existing::One(secret),
            (Some(_), Some(_)) => Existing::Several,
        }
    }

    /// Whether the request carries a cookie of ours that did not verify (a key that changed).
    pub(super) fn has_stale_cookie(&self, headers: &HeaderMap, secure: bool) -> bool {
        let name = if secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        };
        headers.get_all(header::COOKIE).iter().any(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .split(';')
                .any(|pair| pair.trim_start().starts_with(&format!("{name}=")))
        })
    }

    fn verify_cookie(&self, value: &str) -> Option<[u8; SECRET_LEN]> {
        let (secret, tag) = value.split_once('.')?;
        let mut secret_bytes = [0u8; SECRET_LEN];
        hex::decode_to_slice(secret, &mut secret_bytes).ok()?;
        let tag = hex::decode(tag).ok()?;
        let mut mac = self.mac();
        mac.update(&secret_bytes);
        mac.verify_slice(&tag).ok()?;
        Some(secret_bytes)
    }

    pub(super) fn cookie(&self, secret: &[u8], secure: bool) -> HeaderValue {
        let mut mac = self.mac();
        mac.update(secret);
        let value = format!(
            "{}.{}",
            hex::encode(secret),
            hex::encode(mac.finalize().into_bytes())
        );
        let name = if secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        };
        let cookie = Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            // not a browser-session cookie: a restored session must not mint one secret per tab
            .max_age(::cookie::time::Duration::days(400))
            .build();
        HeaderValue::from_str(&cookie.to_string()).expect("hex is a valid header value")
    }
}

/// The session cookies of ours a request carries that verify.
#[derive(Clone, Copy)]
pub(super) enum Existing {
    /// None (or none that verifies).
    Missing,
    /// Exactly one: the session.
    One([u8; SECRET_LEN]),
    /// Two or more: one of them was planted.
    Several,
}
