//! CSRF tokens: a per-session secret in a signed cookie, and a token masked afresh for every page
//! render, which every unsafe request must carry.
//!
//! Files: the settings ([`Csrf`]) here; the signed session cookie in `cookie.rs`; the per-request
//! token ([`CsrfToken`]) in `masked.rs`; [`CsrfRotation`] in `rotation.rs`; the tower layer and
//! [`Csrf::layer`] in `layer.rs`; its service in `service.rs`; the check of one request, and where
//! its token is found, in `check.rs`; how a failed check is answered in `refusal.rs`.

mod check;
mod cookie;
mod layer;
mod masked;
mod refusal;
mod rotation;
mod service;

pub use cookie::{COOKIE_NAME, SECURE_COOKIE_NAME};
pub use layer::CsrfLayer;
pub use masked::{CsrfToken, session_id, token_for};
pub use rotation::CsrfRotation;
pub use service::CsrfService;

use crate::secret::AppKey;
use std::fmt;
use std::sync::Arc;

/// Token protection: a per-session secret in a signed cookie, and a token masked afresh for every
/// page render that every unsafe request must carry. Cheap to clone.
///
/// Turn it on with [`App::csrf`](crate::App::csrf); the default layout then sends the token with
/// every Datastar action.
///
/// ```
/// use dstar::csrf::Csrf;
/// // in production: Csrf::from_env() (DSTAR_SECRET, or a key file that survives restarts)
/// let app = dstar::App::empty().csrf(Csrf::new(b"a secret key of at least 32 bytes!!"));
/// ```
#[derive(Clone)]
pub struct Csrf {
    inner: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    key: AppKey,
    secure_cookie: bool,
}

impl fmt::Debug for Csrf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Csrf")
            .field("key", &self.inner.key)
            .field("secure_cookie", &self.inner.secure_cookie)
            .finish()
    }
}

impl Csrf {
    /// Token protection with a server key (keep it secret and stable across restarts, e.g. from
    /// an environment variable). The key is hashed to 32 bytes.
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::new(b"a secret key of at least 32 bytes!!");
    /// ```
    pub fn new(key: impl AsRef<[u8]>) -> Self {
        Csrf::with_key(AppKey::new(key))
    }

    /// Token protection with an [`AppKey`].
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::with_key(dstar::secret::AppKey::random());
    /// ```
    pub fn with_key(key: AppKey) -> Self {
        Csrf {
            inner: Arc::new(Config {
                key,
                secure_cookie: false,
            }),
        }
    }

    /// Token protection with a random key: sessions end with the process (fine for tests).
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::random();
    /// ```
    pub fn random() -> Self {
        Csrf::with_key(AppKey::random())
    }

    /// Token protection keyed by [`AppKey::from_env`]: `DSTAR_SECRET` when set, else a key file
    /// generated once (`.dstar/secret`), so tokens survive a restart with no configuration.
    ///
    /// ```no_run
    /// let csrf = dstar::csrf::Csrf::from_env();
    /// ```
    pub fn from_env() -> Self {
        Csrf::with_key(AppKey::from_env())
    }

    /// The key, and where it came from.
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::new("k");
    /// assert_eq!(csrf.key().source(), &dstar::secret::KeySource::Given);
    /// ```
    pub fn key(&self) -> &AppKey {
        &self.inner.key
    }

    /// Always mark the session cookie `Secure` and use the `__Host-` name, e.g. behind a proxy
    /// that terminates TLS. (`dstar::serve` over TLS does it on its own.)
    ///
    /// ```
    /// let csrf = dstar::csrf::Csrf::random().secure_cookie(true);
    /// ```
    pub fn secure_cookie(mut self, on: bool) -> Self {
        self.config_mut().secure_cookie = on;
        self
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.inner)
    }
}
