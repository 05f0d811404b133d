//! The notes database: SQLite through sqlx, migrated at start. Passwords are argon2 hashes.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::str::FromStr;

/// Who is signed in: what the session keeps (the password never leaves `users`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct User {
    pub(crate) id: i64,
    pub(crate) email: String,
}

/// One note, with its author's email.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct Note {
    pub(crate) id: i64,
    pub(crate) author: String,
    pub(crate) body: String,
    pub(crate) created_at: i64,
}

/// The pool, cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Db(SqlitePool);

impl Db {
    /// Opens (or creates) the database file and runs the migrations.
    pub(crate) async fn open(path: &str) -> Result<Db, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(path)?
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("notes/migrations").run(&pool).await?;
        Ok(Db(pool))
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.0
    }

    /// A new user, or `None` when the email is taken.
    pub(crate) async fn create_user(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, Error> {
        let hash = hash_password(password).await?;
        let inserted = sqlx::query_as::<_, (i64,)>(
            "INSERT INTO users (email, password_hash) VALUES (?, ?)
             ON CONFLICT (email) DO NOTHING RETURNING id",
        )
        .bind(email)
        .bind(hash)
        .fetch_optional(&self.0)
        .await?;
        Ok(inserted.map(|(id,)| User {
            id,
            email: email.to_owned(),
        }))
    }

    /// The user whose email and password these are. The hash is checked even when nobody has
    /// the email, so the answer takes as long either way.
    pub(crate) async fn check_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, Error> {
        let row = sqlx::query_as::<_, (i64, String, String)>(
            "SELECT id, email, password_hash FROM users WHERE email = ?",
        )
        .bind(email)
        .fetch_optional(&self.0)
        .await?;
        let hash = row
            .as_ref()
            .map_or(DUMMY_HASH, |(_, _, hash)| hash.as_str())
            .to_owned();
        let ok = verify_password(password, hash).await?;
        Ok(row.filter(|_| ok).map(|(id, email, _)| User { id, email }))
    }

    pub(crate) async fn notes(&self) -> Result<Vec<Note>, Error> {
        Ok(sqlx::query_as::<_, Note>(
            "SELECT notes.id, users.email AS author, notes.body, notes.created_at
             FROM notes JOIN users ON users.id = notes.user_id
             ORDER BY notes.created_at DESC, notes.id DESC LIMIT 100",
        )
        .fetch_all(&self.0)
        .await?)
    }

    pub(crate) async fn add_note(&self, user: i64, body: &str) -> Result<(), Error> {
        sqlx::query("INSERT INTO notes (user_id, body) VALUES (?, ?)")
            .bind(user)
            .bind(body)
            .execute(&self.0)
            .await?;
        Ok(())
    }

    /// When the user's avatar last changed (0: none), to version its URL.
    pub(crate) async fn avatar_version(&self, user: i64) -> Result<i64, Error> {
        Ok(
            sqlx::query_as::<_, (i64,)>("SELECT avatar_at FROM users WHERE id = ?")
                .bind(user)
                .fetch_optional(&self.0)
                .await?
                .map_or(0, |(at,)| at),
        )
    }

    pub(crate) async fn avatar(&self, user: i64) -> Result<Option<(String, Vec<u8>)>, Error> {
        let row = sqlx::query_as::<_, (Option<String>, Option<Vec<u8>>)>(
            "SELECT avatar_mime, avatar FROM users WHERE id = ?",
        )
        .bind(user)
        .fetch_optional(&self.0)
        .await?;
        Ok(row.and_then(|(mime, bytes)| mime.zip(bytes)))
    }

    pub(crate) async fn set_avatar(
        &self,
        user: i64,
        mime: &str,
        bytes: &[u8],
    ) -> Result<(), Error> {
        sqlx::query(
            "UPDATE users SET avatar = ?, avatar_mime = ?,
             avatar_at = max(avatar_at + 1, unixepoch('subsec') * 1000) WHERE id = ?",
        )
        .bind(bytes)
        .bind(mime)
        .bind(user)
        .execute(&self.0)
        .await?;
        Ok(())
    }
}

/// A hash of a password nobody has, for the timing of a sign-in with an unknown email.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$oKQ4tS8wgbZcnPl4uMqh5GfXoUqTDLrEbWFM1pePpXI";

/// Argon2 is deliberately slow (and takes 19 MiB a hash): at most two at once, off the async
/// workers, so a flood of sign-in attempts queues instead of taking the machine. A request
/// that waits more than two seconds is told the server is busy. (Unoptimised it takes seconds
/// a hash: this workspace builds argon2 and blake2 with `opt-level = 3` in debug builds too, in
/// its `Cargo.toml`; do the same in yours.)
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn hashing_slot() -> Result<tokio::sync::SemaphorePermit<'static>, Error> {
    match tokio::time::timeout(std::time::Duration::from_secs(2), HASHING.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(Error::Busy),
    }
}

async fn hash_password(password: &str) -> Result<String, Error> {
    let password = password.to_owned();
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Hash(e.to_string()))
    })
    .await
    .map_err(|e| Error::Hash(e.to_string()))?
}

async fn verify_password(password: &str, hash: String) -> Result<bool, Error> {
    let password = password.to_owned();
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| Error::Hash(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| Error::Hash(e.to_string()))?
}

/// What can fail on the server. Logged, and a 500 for a page (the event handler's answer keeps
/// the page as it was).
#[derive(Debug)]
pub(crate) enum Error {
    Db(sqlx::Error),
    Hash(String),
    /// Too many passwords being checked at once.
    Busy,
    Dstar(dstar::Error),
    Publish(dstar::stream::PublishError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Db(e) => write!(f, "database: {e}"),
            Error::Hash(e) => write!(f, "password hash: {e}"),
            Error::Busy => f.write_str("the server is busy; try again in a moment"),
            Error::Dstar(e) => write!(f, "{e}"),
            Error::Publish(e) => write!(f, "{e}"),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(e)
    }
}

impl From<dstar::Error> for Error {
    fn from(e: dstar::Error) -> Self {
        Error::Dstar(e)
    }
}

impl From<dstar::stream::PublishError> for Error {
    fn from(e: dstar::stream::PublishError) -> Self {
        Error::Publish(e)
    }
}

impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        tracing::error!(error = %self, "notes: request failed");
        (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "something went wrong",
        )
            .into_response()
    }
}
