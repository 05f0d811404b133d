//! Cross-origin protection by Fetch Metadata, with no tokens: tower-http's port of Go 1.25's
//! `CrossOriginProtection`, answering refusals with a one-line reason.
//!
//! Files: the settings ([`CrossOrigin`]) here; the tower layer and [`CrossOrigin::layer`] in
//! `layer.rs`; the service, which lets same-origin requests straight through, in `service.rs`;
//! how a refusal is answered in `refusal.rs`.

mod layer;
mod refusal;
mod service;

pub use layer::CrossOriginLayer;
pub use service::CrossOriginService;

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
}
