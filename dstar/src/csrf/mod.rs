//! Protection against cross-site request forgery (CSRF), as tower layers.
//!
//! Two layers:
//!
//! - **[`CrossOrigin`]**, on by default in [`App`](crate::App) (off with
//!   [`App::cross_origin_protection(false)`](crate::App::cross_origin_protection)): an unsafe
//!   request (anything but GET, HEAD and OPTIONS) that a browser marks as cross-site
//!   (`Sec-Fetch-Site`, else `Origin` against `Host`) gets a `403`, as with Go 1.25's
//!   `CrossOriginProtection`. Requests with neither header (not from a browser) pass. Trust other
//!   origins with [`App::trust_origin`](crate::App::trust_origin).
//! - **[`Csrf`]** tokens, opt-in with [`App::csrf`](crate::App::csrf): a per-session secret in a
//!   signed, `HttpOnly`, `SameSite=Lax` cookie (`__Host-` and `Secure` over HTTPS), and a token masked
//!   afresh per page render. Datastar sends no CSRF header of its own, so the token travels as a
//!   signal: the default layout puts `data-signals:csrf` on `<body>`, and every action sends it —
//!   in the JSON body (POST, PUT, PATCH), or in the `datastar` query parameter (GET, DELETE).
//!   An `x-csrf-token` header or a `_csrf_token` form field work too. The body stays readable.
//!
//! A refused request gets a `403` (or `413`/`415` for a body the layer cannot read) with a
//! one-line reason.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use dstar::csrf::Csrf;
//! // tokens keyed by DSTAR_SECRET, or by a key file generated once (.dstar/secret)
//! dstar::serve(dstar::App::new().csrf(Csrf::from_env())).await
//! # }
//! ```
//!
//! Files: [`CrossOrigin`] in `cross_origin/` (settings, layer, service, refusal); [`Csrf`] tokens
//! in `token/` (settings, session cookie, masked token, rotation, layer, service, check, refusals);
//! the names a token travels under here.

mod cross_origin;
mod token;

pub use cross_origin::{CrossOrigin, CrossOriginLayer, CrossOriginService};
pub use token::{
    COOKIE_NAME, Csrf, CsrfLayer, CsrfRotation, CsrfService, CsrfToken, SECURE_COOKIE_NAME,
    session_id, token_for,
};

/// The header a token may come in.
pub const HEADER_NAME: &str = "x-csrf-token";
/// The form field a token may come in.
pub const FORM_FIELD: &str = "_csrf_token";
/// The signal a token comes in (set on `<body>` by the default layout).
pub const SIGNAL: &str = "csrf";
