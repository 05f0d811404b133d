//! Sessions and the signed-in user, on [tower-sessions](https://docs.rs/tower-sessions), the
//! session layer of the axum ecosystem.
//!
//! Turn them on with [`App::sessions`](crate::App::sessions); every route of the app (pages,
//! events, streams, components, plain routes) then gets a [`Session`] in its request:
//!
//! - handlers take [`Session`] (tower-sessions' own extractor) for anything per visitor;
//! - [`CurrentUser<U>`] is the signed-in user, a `U` of yours stored at sign-in. A request with
//!   nobody signed in is sent to the sign-in page: a page load with a `303`, a Datastar event
//!   with a redirect the browser follows. `Option<CurrentUser<U>>` lets anonymous visitors in;
//! - [`Auth`] signs in and out: [`Auth::sign_in`] gives the session a new id (a session id an
//!   attacker planted before sign-in is worth nothing after it) and a new CSRF secret when the
//!   token layer runs; [`Auth::sign_out`] deletes the session.
//!
//! **Live pages read the session afresh.** A live page renders again on every change with the
//! request its stream was opened with; its [`Session`] is loaded from the store again for every
//! render, so a tab whose user signed out elsewhere is sent to sign-in by its next render and
//! gets no more data. The same holds for a stream's catch-up render.
//!
//! Stream deduplication includes the session: a tab id that leaked cannot end a stream of
//! another visitor, with no `stream_key` to write.
//!
//! ```standalone_crate,no_run
//! use dstar::prelude::*;
//! use dstar::session::{Auth, CurrentUser, MemoryStore, Sessions};
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct User { id: i64, email: String }
//!
//! struct Account { user: User }
//!
//! #[dstar::page("/account")]
//! impl Account {
//!     // signed out: a 303 to /signin (a Datastar event: a redirect)
//!     async fn mount(CurrentUser(user): CurrentUser<User>) -> Self {
//!         Account { user }
//!     }
//!     fn render(&self) -> Markup {
//!         html! { p { "Signed in as " (self.user.email) } }
//!     }
//!     #[event]
//!     async fn sign_out(sse: &mut Sse, auth: Auth) -> Result<(), dstar::Error> {
//!         auth.sign_out().await?;
//!         sse.redirect("/signin")?;
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let sessions = Sessions::new(MemoryStore::default()).sign_in_path("/signin");
//!     dstar::serve(dstar::App::new().sessions(sessions)).await
//! }
//! ```

mod user;

pub use tower_sessions::session::{Error as SessionError, Id};
pub use tower_sessions::session_store::ExpiredDeletion;
pub use tower_sessions::{Expiry, MemoryStore, Session, SessionStore};
pub use user::{Auth, CurrentUser, SignInRequired, USER_KEY};

use axum::Router;
use axum::http::Extensions;
use std::fmt;
use std::sync::Arc;
use tower_sessions::SessionManagerLayer;
use tower_sessions::cookie::SameSite;

/// The session cookie's name.
///
/// ```
/// assert_eq!(dstar::session::COOKIE_NAME, "dstar_session");
/// ```
pub const COOKIE_NAME: &str = "dstar_session";

/// Where [`CurrentUser`] sends a visitor nobody signed in as, unless
/// [`Sessions::sign_in_path`] says otherwise.
///
/// ```
/// assert_eq!(dstar::session::DEFAULT_SIGN_IN_PATH, "/signin");
/// ```
pub const DEFAULT_SIGN_IN_PATH: &str = "/signin";

/// Puts the session layer, configured as a [`Sessions`] says, around a router.
type WrapRouter = Arc<dyn Fn(&Sessions, Router) -> Router + Send + Sync>;

/// Session settings for [`App::sessions`](crate::App::sessions): a store and the cookie.
///
/// The cookie is `dstar_session`, `HttpOnly`, `SameSite=Lax`, `Path=/`, and lasts two weeks from
/// the last request that changed the session ([`expiry`](Sessions::expiry)). Served over HTTPS by
/// `dstar::serve`, it is `Secure` on its own; behind a proxy that ends TLS, say so with
/// [`secure`](Sessions::secure).
///
/// Any [`SessionStore`] works: [`MemoryStore`] for one process (sessions end with it), or a
/// database store such as `tower-sessions-sqlx-store` so that sessions survive a restart and are
/// shared by every node.
///
/// ```
/// use dstar::session::{MemoryStore, Sessions};
/// let sessions = Sessions::new(MemoryStore::default())
///     .sign_in_path("/login")
///     .secure(false);
/// let app = dstar::App::empty().sessions(sessions);
/// ```
#[derive(Clone)]
pub struct Sessions {
    layer: WrapRouter,
    fresh: Arc<dyn Fn(&Session) -> Session + Send + Sync>,
    sign_in: Arc<str>,
    secure: bool,
    expiry: Expiry,
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("sign_in", &self.sign_in)
            .field("secure", &self.secure)
            .field("expiry", &self.expiry)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions kept in `store`.
    ///
    /// ```
    /// let sessions = dstar::session::Sessions::new(dstar::session::MemoryStore::default());
    /// ```
    pub fn new<S: SessionStore + Clone>(store: S) -> Self {
        let shared = Arc::new(store.clone());
        Sessions {
            layer: Arc::new(move |config: &Sessions, router: Router| {
                router.layer(
                    SessionManagerLayer::new(store.clone())
                        .with_name(COOKIE_NAME)
                        .with_http_only(true)
                        .with_same_site(SameSite::Lax)
                        .with_path("/")
                        .with_secure(config.secure)
                        .with_expiry(config.expiry),
                )
            }),
            fresh: Arc::new(move |session: &Session| {
                Session::new(session.id(), shared.clone(), session.expiry())
            }),
            sign_in: DEFAULT_SIGN_IN_PATH.into(),
            secure: false,
            expiry: Expiry::OnInactivity(tower_sessions::cookie::time::Duration::days(14)),
        }
    }

    /// Sessions in process memory: they end when the process does (fine for tests and demos).
    ///
    /// ```
    /// let sessions = dstar::session::Sessions::memory();
    /// ```
    pub fn memory() -> Self {
        Sessions::new(MemoryStore::default())
    }

    /// Where [`CurrentUser`] sends a visitor nobody signed in as (default `/signin`). A path of
    /// this app, so that the redirect stays on the same origin.
    ///
    /// ```
    /// let sessions = dstar::session::Sessions::memory().sign_in_path("/login");
    /// ```
    pub fn sign_in_path(mut self, path: &str) -> Self {
        self.sign_in = path.into();
        self
    }

    /// Marks the cookie `Secure` on every response (default: only on responses `dstar::serve`
    /// sends over HTTPS, so local development over plain HTTP keeps its sessions). Turn it on
    /// behind a proxy that ends TLS.
    ///
    /// ```
    /// let sessions = dstar::session::Sessions::memory().secure(true);
    /// ```
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }

    /// How long a session lasts (default: two weeks after the last change).
    ///
    /// ```
    /// use dstar::session::{Expiry, Sessions};
    /// let sessions = Sessions::memory().expiry(Expiry::OnSessionEnd); // a browser-session cookie
    /// ```
    pub fn expiry(mut self, expiry: Expiry) -> Self {
        self.expiry = expiry;
        self
    }

    /// The sign-in path, for listings and errors.
    pub(crate) fn sign_in(&self) -> &str {
        &self.sign_in
    }

    /// The session layer around `router`, and what handlers and re-renders need from it.
    pub(crate) fn wrap(&self, router: Router) -> Router {
        let inner = router.layer(axum::Extension(SessionContext {
            fresh: self.fresh.clone(),
            sign_in: self.sign_in.clone(),
        }));
        (self.layer)(self, inner)
    }
}

/// What the session layer leaves in every request for dstar: how to load the session afresh
/// (for re-renders) and where sign-in is.
#[derive(Clone)]
pub(crate) struct SessionContext {
    fresh: Arc<dyn Fn(&Session) -> Session + Send + Sync>,
    pub(crate) sign_in: Arc<str>,
}

impl fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionContext")
            .field("sign_in", &self.sign_in)
            .finish_non_exhaustive()
    }
}

/// Replaces the request's [`Session`] with one that loads from the store again: a re-render of a
/// page (a live page's change, a stream's catch-up) runs with the request its stream was opened
/// with, and must see the session as it is now, not as it was then.
pub(crate) fn refresh(extensions: &mut Extensions) {
    let Some(context) = extensions.get::<SessionContext>() else {
        return;
    };
    if let Some(session) = extensions.get::<Session>() {
        let fresh = (context.fresh)(session);
        extensions.insert(fresh);
    }
}

/// Whether the app keeps sessions (the request went through the session layer).
pub(crate) fn in_use(extensions: &Extensions) -> bool {
    extensions.get::<SessionContext>().is_some()
}

/// A stable, non-secret handle of the request's session, when it has one (a hash of its id), for
/// stream deduplication scopes.
pub(crate) fn scope_of(extensions: &Extensions) -> Option<String> {
    use sha2::Digest;
    let id = extensions.get::<Session>()?.id()?;
    let digest = sha2::Sha256::new()
        .chain_update(b"dstar session scope\0")
        .chain_update(id.0.to_le_bytes())
        .finalize();
    Some(hex::encode(&digest[..12]))
}
