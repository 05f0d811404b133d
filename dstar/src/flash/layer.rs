//! The flash layer, which [`App`](crate::App) puts on every route.

use super::key::FlashKey;
use super::service::FlashService;

/// The flash layer, which [`App`](crate::App) puts on every route: reads the message to show
/// (from the cookie, or from the page's stream header), sets the next one, and clears the cookie
/// once a page showed it.
#[derive(Clone)]
pub(crate) struct FlashLayer {
    key: FlashKey,
}

impl FlashLayer {
    pub(crate) fn new(key: FlashKey) -> Self {
        FlashLayer { key }
    }
}

impl<S> tower_layer::Layer<S> for FlashLayer {
    type Service = FlashService<S>;
    fn layer(&self, inner: S) -> FlashService<S> {
        FlashService {
            inner,
            key: self.key.clone(),
        }
    }
}
