//! The tower layer of [`CrossOrigin`], and [`CrossOrigin::layer`], which builds it on tower-http's
//! check with the trusted origins.

use super::CrossOrigin;
use super::refusal::{Refuse, refuse};
use super::service::CrossOriginService;
use tower::Layer;
use tower_http::csrf::CsrfLayer;

/// The tower layer [`CrossOrigin::layer`] returns.
///
/// ```
/// let layer: dstar::csrf::CrossOriginLayer = dstar::csrf::CrossOrigin::new().layer().unwrap();
/// let app: axum::Router = axum::Router::new().layer(layer);
/// ```
#[derive(Clone)]
pub struct CrossOriginLayer {
    pub(super) csrf: CsrfLayer<Refuse>,
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

impl CrossOrigin {
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
