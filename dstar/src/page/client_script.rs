use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use std::sync::OnceLock;

/// The Datastar client the default layout loads: the v1.0.4 bundle from its CDN (the version the
/// browser tests run).
///
/// ```
/// assert!(dstar::page::DEFAULT_CLIENT_SRC.ends_with("@v1.0.4/bundles/datastar.js"));
/// ```
pub const DEFAULT_CLIENT_SRC: &str =
    "https://cdn.jsdelivr.net/gh/starfederation/datastar@v1.0.4/bundles/datastar.js";

/// The Subresource Integrity hash of [`DEFAULT_CLIENT_SRC`]: the browser refuses to run the
/// script if the CDN ever serves other bytes.
///
/// ```
/// assert!(dstar::page::DEFAULT_CLIENT_INTEGRITY.starts_with("sha384-"));
/// ```
pub const DEFAULT_CLIENT_INTEGRITY: &str =
    "sha384-twbOvafhSBQ0rJDNPzJdUw6DRvthVgAVfSIG1BQVmCiNO7Qh2zeVn7T5qstgjJ9q";

/// The integrity hash for [`client_src`]: [`DEFAULT_CLIENT_INTEGRITY`] for the default bundle,
/// `DSTAR_CLIENT_INTEGRITY` for a `DSTAR_CLIENT_SRC` of your own, none for a file served by the
/// app itself (`DSTAR_CLIENT_FILE`, same origin).
///
/// ```
/// if std::env::var_os("DSTAR_CLIENT_SRC").is_none() && std::env::var_os("DSTAR_CLIENT_FILE").is_none() {
///     assert_eq!(dstar::page::client_integrity(), Some(dstar::page::DEFAULT_CLIENT_INTEGRITY));
/// }
/// ```
pub fn client_integrity() -> Option<&'static str> {
    static INTEGRITY: OnceLock<Option<String>> = OnceLock::new();
    INTEGRITY
        .get_or_init(|| {
            if std::env::var_os("DSTAR_CLIENT_FILE").is_some() {
                None
            } else if std::env::var_os("DSTAR_CLIENT_SRC").is_some() {
                std::env::var("DSTAR_CLIENT_INTEGRITY").ok()
            } else {
                Some(DEFAULT_CLIENT_INTEGRITY.to_owned())
            }
        })
        .as_deref()
}

/// Where dstar serves the client when `DSTAR_CLIENT_FILE` is set.
///
/// ```
/// assert_eq!(dstar::page::CLIENT_PATH, "/_dstar/datastar.js");
/// ```
pub const CLIENT_PATH: &str = "/_dstar/datastar.js";

/// The client script URL: [`CLIENT_PATH`] when `DSTAR_CLIENT_FILE` is set, else
/// `DSTAR_CLIENT_SRC`, else [`DEFAULT_CLIENT_SRC`]. Read once per process.
///
/// ```
/// assert!(dstar::page::client_src().ends_with(".js"));
/// ```
pub fn client_src() -> &'static str {
    static SRC: OnceLock<String> = OnceLock::new();
    SRC.get_or_init(|| {
        if std::env::var_os("DSTAR_CLIENT_FILE").is_some() {
            CLIENT_PATH.to_owned()
        } else {
            std::env::var("DSTAR_CLIENT_SRC").unwrap_or_else(|_| DEFAULT_CLIENT_SRC.to_owned())
        }
    })
}

/// `GET /_dstar/datastar.js` serving the file named by `DSTAR_CLIENT_FILE`, for offline
/// development and browser tests. Empty when the variable is unset. [`App`](crate::App) adds it.
///
/// ```
/// let router: axum::Router = dstar::page::client_script_route();
/// ```
pub fn client_script_route<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let Some(file) = std::env::var_os("DSTAR_CLIENT_FILE") else {
        return Router::new();
    };
    Router::new().route(
        CLIENT_PATH,
        axum::routing::get(move || {
            let file = file.clone();
            async move {
                match tokio::fs::read(&file).await {
                    Ok(bytes) => (
                        [
                            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                            (header::CACHE_CONTROL, "no-cache"),
                        ],
                        bytes,
                    )
                        .into_response(),
                    Err(e) => crate::error::refusal(
                        StatusCode::NOT_FOUND,
                        "no client script",
                        format!("DSTAR_CLIENT_FILE {}: {e}", file.to_string_lossy()),
                    ),
                }
            }
        }),
    )
}
