//! The tower layer of [`Csrf`], and [`Csrf::layer`], which builds it.

use super::Csrf;
use super::service::CsrfService;

/// The tower layer of [`Csrf`].
#[derive(Clone, Debug)]
pub struct CsrfLayer {
    csrf: Csrf,
}

impl<S> tower_layer::Layer<S> for CsrfLayer {
    type Service = CsrfService<S>;
    fn layer(&self, inner: S) -> CsrfService<S> {
        CsrfService {
            inner,
            csrf: self.csrf.clone(),
        }
    }
}

impl Csrf {
    /// The tower layer.
    ///
    /// ```
    /// let router: axum::Router = axum::Router::new().layer(dstar::csrf::Csrf::random().layer());
    /// ```
    pub fn layer(self) -> CsrfLayer {
        CsrfLayer { csrf: self }
    }
}
