//! Live-stream statistics, and the route that serves them.

use super::*;
use axum::response::IntoResponse;

/// Counts of live streams and deduplication registry entries, to see leaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StreamStats {
    /// Open long-lived SSE responses.
    pub streams: usize,
    /// Entries in the global [`StreamRegistry`].
    pub registry: usize,
}

/// The current counts.
///
/// ```
/// let stats = dstar::stream::stats();
/// println!("{} live streams", stats.streams);
/// ```
pub fn stats() -> StreamStats {
    StreamStats {
        streams: crate::sse::live_streams(),
        registry: StreamRegistry::global().len(),
    }
}

/// `GET /_dstar/stats` answering [`stats`] as JSON, e.g. `{"streams":3,"registry":2}`, to
/// requests with `Authorization: Bearer <token>`; others get a `401`. Opt-in: merge it into your
/// router (or call `App::with_stats`). Fails on a token shorter than 16 bytes.
///
/// ```
/// let router: axum::Router = dstar::stream::stats_route("a long random stats token").unwrap();
/// assert!(dstar::stream::stats_route::<()>("short").is_err());
/// ```
pub fn stats_route<S: Clone + Send + Sync + 'static>(
    token: &str,
) -> Result<axum::Router<S>, String> {
    use subtle::ConstantTimeEq;
    if token.len() < 16 {
        return Err("the stats token must be at least 16 bytes".to_owned());
    }
    let expected: std::sync::Arc<[u8]> = format!("Bearer {token}").into_bytes().into();
    let handler = move |headers: axum::http::HeaderMap| {
        let expected = expected.clone();
        async move {
            let given = headers
                .get(axum::http::header::AUTHORIZATION)
                .map_or(&[][..], |v| v.as_bytes());
            if bool::from(given.ct_eq(&expected)) {
                axum::Json(stats()).into_response()
            } else {
                crate::error::refusal(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "stats token missing or wrong",
                    "stats need `Authorization: Bearer <token>` (the token given to App::with_stats)",
                )
            }
        }
    };
    Ok(axum::Router::new().route(STATS_PATH, axum::routing::get(handler)))
}

/// Where [`stats_route`] answers.
pub const STATS_PATH: &str = "/_dstar/stats";
