//! Multi-user notes on SQLite: sign-up and sign-in (argon2 passwords), sessions kept in the
//! database, forms that validate as you type, a live list of notes, who is online, an avatar
//! upload and one-time flash messages.
//!
//! Run `cargo run --example notes`, then open http://127.0.0.1:3000/signup (in two browsers, to
//! see the notes and the online list move). The database is `NOTES_DB` (default `notes.db`),
//! migrated at start; nothing is lost across a restart.

mod account;
mod db;
mod layout;
mod notes;
mod profile;

use axum::extract::FromRef;
use axum::response::Redirect;
use axum::routing::{get, post};
use dstar::csrf::Csrf;
use dstar::presence::Presence;
use dstar::session::ExpiredDeletion as _;
use dstar::session::Sessions;
use dstar::stream::PubSub;
use tower_sessions_sqlx_store::SqliteStore;

/// What every page and route shares.
#[derive(Clone)]
pub(crate) struct AppState {
    db: db::Db,
    pubsub: PubSub,
    presence: Presence,
}

/// Live pages find their `PubSub` in the state.
impl FromRef<AppState> for PubSub {
    fn from_ref(app: &AppState) -> PubSub {
        app.pubsub.clone()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::var("NOTES_DB").unwrap_or_else(|_| "notes.db".to_owned());
    let db = db::Db::open(&path).await?;
    // sessions live in the same database, so a restart signs nobody out
    let store = SqliteStore::new(db.pool().clone());
    store.migrate().await?;
    // expired sessions are refused when read; this deletes their rows once an hour
    let expired = store.clone();
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            if let Err(e) = expired.delete_expired().await {
                tracing::warn!(error = %e, "notes: could not delete expired sessions");
            }
        }
    });
    let pubsub = PubSub::from_env(); // Redis with DSTAR_REDIS_URL: presence then spans nodes
    let app = AppState {
        presence: Presence::new(&pubsub),
        pubsub,
        db,
    };
    let avatars = get(profile::serve_avatar).with_state(app.clone());
    dstar::serve(
        dstar::App::new()
            .state(app)
            .csrf(Csrf::from_env())
            .sessions(Sessions::new(store).sign_in_path("/signin"))
            .route("/", get(|| async { Redirect::to("/notes") }))
            .route("/signout", post(account::sign_out))
            .route("/avatar/{id}", avatars),
    )
    .await?;
    Ok(())
}
