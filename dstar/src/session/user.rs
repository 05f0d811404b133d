//! The signed-in user: [`CurrentUser`] reads it, [`Auth`] signs in and out.

// `Result<_, Response>` is the axum idiom for "or answer with this": boxing it would only cost.
#![allow(clippy::result_large_err)]

use super::{DEFAULT_SIGN_IN_PATH, Session, SessionContext};
use crate::csrf::CsrfRotation;
use crate::error::Error;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The session key the signed-in user is stored under.
///
/// ```
/// assert_eq!(dstar::session::USER_KEY, "dstar.user");
/// ```
pub const USER_KEY: &str = "dstar.user";

/// The signed-in user: the `U` that [`Auth::sign_in`] stored, read from the session.
///
/// An extractor for `mount`, events, `authorize`, streams and plain routes. With nobody signed
/// in, the request is answered with [`SignInRequired`]: a page load gets a `303` to the sign-in
/// page, a Datastar request a redirect the browser follows, and a live page's stream a redirect
/// that ends it. Take `Option<CurrentUser<U>>` where anonymous visitors are welcome.
///
/// ```
/// use dstar::session::CurrentUser;
///
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct User { id: i64, name: String }
///
/// async fn hello(CurrentUser(user): CurrentUser<User>) -> String {
///     format!("hello, {}", user.name)
/// }
/// async fn maybe(user: Option<CurrentUser<User>>) -> String {
///     user.map_or("hello, stranger".into(), |CurrentUser(u)| u.name)
/// }
/// let app: axum::Router = dstar::App::empty()
///     .route("/hello", axum::routing::get(hello))
///     .route("/maybe", axum::routing::get(maybe))
///     .sessions(dstar::session::Sessions::memory())
///     .build();
/// ```
#[derive(Debug, Clone)]
pub struct CurrentUser<U>(pub U);

/// The answer to a request that needs a signed-in user and has none: a `303 See Other` to the
/// sign-in page, or for a Datastar request (an event, a stream) a `200` event stream that
/// redirects the browser there.
///
/// ```
/// use axum::response::IntoResponse;
/// let page = dstar::session::SignInRequired::to("/signin", false).into_response();
/// assert_eq!(page.status(), 303);
/// assert_eq!(page.headers()["location"], "/signin");
/// let event = dstar::session::SignInRequired::to("/signin", true).into_response();
/// assert_eq!(event.status(), 200);
/// ```
#[derive(Debug, Clone)]
pub struct SignInRequired {
    to: Arc<str>,
    datastar: bool,
}

impl SignInRequired {
    /// A redirect to `path`; `datastar` for a request made by the Datastar client.
    pub fn to(path: &str, datastar: bool) -> Self {
        SignInRequired {
            to: path.into(),
            datastar,
        }
    }

    fn for_request(parts: &Parts) -> Self {
        let to = parts
            .extensions
            .get::<SessionContext>()
            .map_or_else(|| DEFAULT_SIGN_IN_PATH.into(), |c| c.sign_in.clone());
        SignInRequired {
            to,
            datastar: parts.headers.contains_key("datastar-request"),
        }
    }
}

impl IntoResponse for SignInRequired {
    fn into_response(self) -> Response {
        tracing::debug!(
            to = %crate::error::Escaped(&self.to),
            "dstar: nobody signed in; redirecting to sign-in"
        );
        if self.datastar {
            let mut sse = crate::sse::Sse::new();
            return match sse.redirect(&self.to) {
                Ok(_) => sse.into_response(),
                Err(e) => internal(&e.to_string()),
            };
        }
        match HeaderValue::from_str(&self.to) {
            Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
            Err(_) => internal("the sign-in path is not a valid header value"),
        }
    }
}

fn internal(reason: &str) -> Response {
    tracing::error!(reason = %crate::error::Escaped(reason), "dstar: session");
    let body = if cfg!(debug_assertions) {
        format!("internal server error: {reason}")
    } else {
        "internal server error".to_owned()
    };
    (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
}

fn session_of(parts: &Parts) -> Result<Session, Response> {
    parts.extensions.get::<Session>().cloned().ok_or_else(|| {
        internal(
            "no session in this request: build the app with `App::sessions(Sessions::new(store))`",
        )
    })
}

async fn read_user<U: DeserializeOwned>(parts: &Parts) -> Result<Option<U>, Response> {
    let session = session_of(parts)?;
    match session.get::<U>(USER_KEY).await {
        Ok(user) => Ok(user),
        // stored by an older build whose user type had other fields: signed out, not a 500
        // forever (the visitor signs in again and the session holds the new shape)
        Err(tower_sessions::session::Error::SerdeJson(e)) => {
            tracing::info!(error = %crate::error::Escaped(&e), "dstar: the session's user no longer reads as this build's type; treating the visitor as signed out");
            Ok(None)
        }
        Err(e) => Err(internal(&format!("the session store failed: {e}"))),
    }
}

impl<S, U> FromRequestParts<S> for CurrentUser<U>
where
    S: Send + Sync,
    U: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        match read_user(parts).await? {
            Some(user) => Ok(CurrentUser(user)),
            None => Err(SignInRequired::for_request(parts).into_response()),
        }
    }
}

impl<S, U> OptionalFromRequestParts<S> for CurrentUser<U>
where
    S: Send + Sync,
    U: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Response> {
        Ok(read_user(parts).await?.map(CurrentUser))
    }
}

/// Signs the visitor in and out: an extractor for events and plain routes.
///
/// ```
/// use dstar::session::Auth;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct User { id: i64 }
///
/// async fn sign_out(auth: Auth) -> Result<axum::response::Redirect, dstar::Error> {
///     auth.sign_out().await?;
///     Ok(axum::response::Redirect::to("/signin"))
/// }
/// let app: axum::Router = dstar::App::empty()
///     .route("/signout", axum::routing::post(sign_out))
///     .sessions(dstar::session::Sessions::memory())
///     .build();
/// ```
#[derive(Debug, Clone)]
pub struct Auth {
    session: Session,
    csrf: CsrfRotation,
}

impl Auth {
    /// Signs `user` in: the session is emptied and gets a new id first (so an id planted before
    /// sign-in is worthless, and nothing kept for someone else carries over), then stores the
    /// user under [`USER_KEY`]; with CSRF tokens on, the visitor gets a new CSRF secret too.
    /// Check the password before.
    ///
    /// ```
    /// # async fn f(auth: dstar::session::Auth) -> Result<(), dstar::Error> {
    /// #[derive(serde::Serialize)] struct User { id: i64 }
    /// auth.sign_in(&User { id: 7 }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn sign_in<U: Serialize>(&self, user: &U) -> Result<(), Error> {
        // nothing of the visitor's session before (a planted one, another user's) carries over
        self.session.clear().await;
        self.session.cycle_id().await.map_err(store_error)?;
        self.session
            .insert(USER_KEY, user)
            .await
            .map_err(store_error)?;
        self.csrf.rotate();
        Ok(())
    }

    /// Signs out: deletes the session from the store and gives the visitor a new CSRF secret.
    /// Every tab of the session is signed out at its next request; a live page's stream at its
    /// next render, and a page stream with `authorize` at its next message (both load the
    /// session afresh, and end with a redirect to sign-in).
    ///
    /// ```
    /// # async fn f(auth: dstar::session::Auth) -> Result<(), dstar::Error> {
    /// auth.sign_out().await?;
    /// # Ok(()) }
    /// ```
    pub async fn sign_out(&self) -> Result<(), Error> {
        self.session.flush().await.map_err(store_error)?;
        self.csrf.rotate();
        Ok(())
    }

    /// The signed-in user, if any.
    ///
    /// ```
    /// # async fn f(auth: dstar::session::Auth) -> Result<(), dstar::Error> {
    /// #[derive(serde::Deserialize)] struct User { id: i64 }
    /// let user: Option<User> = auth.user().await?;
    /// # Ok(()) }
    /// ```
    pub async fn user<U: DeserializeOwned>(&self) -> Result<Option<U>, Error> {
        self.session.get(USER_KEY).await.map_err(store_error)
    }

    /// The session itself, for anything else you keep per visitor.
    pub fn session(&self) -> &Session {
        &self.session
    }
}

fn store_error(e: tower_sessions::session::Error) -> Error {
    tracing::error!(error = %crate::error::Escaped(&e), "dstar: the session store failed");
    Error::Session(e.to_string())
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        Ok(Auth {
            session: session_of(parts)?,
            csrf: CsrfRotation::of(&parts.extensions),
        })
    }
}
