//! Which answers are compressed, and how: an event stream frame by frame, a whole page of text in
//! one go, anything else not at all.

use axum::http::{HeaderMap, header};
use axum::response::Response;

/// An event stream: compressed frame by frame (a finished answer of a known length may be a
/// page, see [`is_compressible_page`]).
pub(super) fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"))
}

/// A whole response worth compressing in one go: a `200` with text (a page, a script, an event's
/// finished answer) of a known, modest size, that does not forbid transforms.
pub(super) fn is_compressible_page(response: &Response) -> bool {
    let headers = response.headers();
    if response.status() != axum::http::StatusCode::OK
        || headers.contains_key(header::CONTENT_RANGE)
        || headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|cc| cc.to_ascii_lowercase().contains("no-transform"))
    {
        return false;
    }
    let text = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            [
                // an event's finished answer (a long-lived stream has no known length)
                "text/event-stream",
                "text/html",
                "text/css",
                "text/javascript",
                "application/javascript",
                "application/json",
                "image/svg+xml",
            ]
            .iter()
            .any(|t| ct.starts_with(t))
        });
    // a whole body of a known length (a rendered page), not a stream
    let length = http_body::Body::size_hint(response.body()).exact();
    text && length.is_some_and(|len| (MIN_PAGE as u64..=MAX_PAGE as u64).contains(&len))
}

/// Smaller answers are not worth a compressor (a counter's event answer is about 130 bytes:
/// compressed, it saves a few bytes and costs more than the answer itself); bigger ones are not
/// buffered here.
pub(super) const MIN_PAGE: usize = 512;
pub(super) const MAX_PAGE: usize = 1 << 20;
