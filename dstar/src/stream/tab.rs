use super::StreamRegistry;
use crate::signals::{SignalsConfig, SignalsRejection};
use crate::sse::{SseStream, StreamResponse, stream};
use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;
use std::future::Future;

/// A header a client may send the tab id in, instead of (or besides) the `tabId` signal.
pub const TAB_HEADER: &str = "x-dstar-tab";

/// A usable `tabId`: a string of 1 to 64 bytes that is not blank.
///
/// ```
/// use dstar::stream::valid_tab_id;
/// assert!(valid_tab_id("3f2a-…"));
/// assert!(!valid_tab_id("   "));
/// assert!(!valid_tab_id(&"x".repeat(65)));
/// ```
pub fn valid_tab_id(tab: &str) -> bool {
    !tab.is_empty() && tab.len() <= 64 && !tab.trim().is_empty()
}

/// Reads the tab id from a request and gives the request back whole, so extractors can still
/// read the body: the [`TAB_HEADER`] header when present, else the
/// `tabId` signal (GET and DELETE: the `datastar` query parameter; other methods: the body,
/// buffered within the signals limit, a bigger body being a 413). An absent, invalid or
/// non-string id is `None`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let req = axum::http::Request::post("/ticker")
///     .body(axum::body::Body::from(r#"{"tabId":"t-1","x":1}"#))
///     .unwrap();
/// let (tab, req) = dstar::stream::read_tab_id(req).await.unwrap();
/// assert_eq!(tab.as_deref(), Some("t-1"));
/// let signals: serde_json::Value = dstar::signals::read_signals(req).await.unwrap();
/// assert_eq!(signals["x"], 1);
/// # });
/// ```
#[allow(clippy::result_large_err)]
pub async fn read_tab_id(req: Request) -> Result<(Option<String>, Request), Response> {
    let (parts, body) = req.into_parts();
    let (tab, body) = read_tab(&parts, body).await?;
    Ok((tab, Request::from_parts(parts, body)))
}

/// [`read_tab_id`] on a request already split: the head is only borrowed, and read before the
/// future runs, so the future holds the body only.
#[allow(clippy::result_large_err)]
pub(crate) fn read_tab(
    parts: &Parts,
    body: Body,
) -> impl Future<Output = Result<(Option<String>, Body), Response>> + Send + use<> {
    enum Source {
        Ready(Option<String>, Body),
        Query(Vec<u8>, Body),
        Body(Body, usize),
    }
    // a client may send the tab in a header: then the body is left alone for the extractors
    let source = if let Some(tab) = parts.headers.get(TAB_HEADER).and_then(|v| v.to_str().ok()) {
        Source::Ready(Some(tab.to_owned()).filter(|t| valid_tab_id(t)), body)
    } else if crate::signals::read::reads_query(&parts.method) {
        let raw = crate::signals::read::query_param(parts.uri.query().unwrap_or(""), "datastar")
            .unwrap_or_default();
        Source::Query(raw, body)
    } else {
        Source::Body(body, SignalsConfig::limit_of(&parts.extensions))
    };
    async move {
        match source {
            Source::Ready(tab, body) => Ok((tab, body)),
            Source::Query(raw, body) => Ok((tab_signal(&raw), body)),
            Source::Body(body, limit) => {
                let bytes = crate::signals::read::read_body(body, limit)
                    .await
                    .map_err(SignalsRejection::into_response)?;
                // the same buffer serves the extractors after us: no copy
                Ok((tab_signal(&bytes), Body::from(bytes)))
            }
        }
    }
}

/// The `tabId` signal of a signals object, if it is a usable id.
fn tab_signal(json: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Tab<'a> {
        // borrowed unless escaped; a tabId that is not a string makes the whole read fail: None
        #[serde(rename = "tabId", borrow)]
        tab_id: Option<Cow<'a, str>>,
    }
    serde_json::from_slice::<Tab<'_>>(json)
        .ok()
        .and_then(|t| t.tab_id)
        .filter(|t| valid_tab_id(t))
        .map(Cow::into_owned)
}

/// A long-lived stream with per-tab deduplication: like [`stream`](crate::sse::stream), but a
/// newer stream for the same (`scope_key`, `tab_id`) ends this one at once, cleanly. (A client
/// that asked for `retry: 'always'` reconnects after a clean end: keep tab ids unique per live
/// tab, as the default layout's are, so the only client left to reconnect is the newer one.)
/// Without a valid `tab_id` it is a plain stream.
///
/// ```
/// use dstar::prelude::*;
/// async fn feed(req: axum::extract::Request) -> axum::response::Response {
///     use axum::response::IntoResponse;
///     let (tab, _req) = match dstar::stream::read_tab_id(req).await {
///         Ok(v) => v,
///         Err(response) => return response,
///     };
///     let user_id = "user-1"; // from your session
///     dstar::stream::start_stream(user_id, tab.as_deref(), |sse| async move {
///         let _ = sse.patch_signals(json!({ "online": true })).await;
///         std::future::pending::<()>().await; // …your loop
///     })
///     .into_response()
/// }
/// ```
pub fn start_stream<F, Fut>(scope_key: &str, tab_id: Option<&str>, f: F) -> StreamResponse
where
    F: FnOnce(SseStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(tab) = tab_id.filter(|t| valid_tab_id(t)) else {
        return stream(f);
    };
    let claim = StreamRegistry::global().claim(scope_key, tab);
    stream(move |sse| {
        let fut = f(sse);
        async move {
            tokio::select! {
                _ = fut => {}
                _ = claim.taken_over() => {}
            }
            drop(claim);
        }
    })
}
