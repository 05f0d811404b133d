use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use std::sync::OnceLock;

/// The Datastar client the default layout loads: the v1.0.0 bundle from its CDN.
///
/// ```
/// assert!(dstar::page::DEFAULT_CLIENT_SRC.ends_with("/datastar.js"));
/// ```
pub const DEFAULT_CLIENT_SRC: &str =
    "https://cdn.jsdelivr.net/gh/starfederation/datastar@v1.0.0/bundles/datastar.js";

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
/// development and browser tests. Empty when the variable is unset. [`App`](super::App) adds it.
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
                    Err(e) => (
                        StatusCode::NOT_FOUND,
                        format!("DSTAR_CLIENT_FILE {}: {e}", file.to_string_lossy()),
                    )
                        .into_response(),
                }
            }
        }),
    )
}
