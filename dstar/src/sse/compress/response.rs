//! An answer rewritten for its encoding: `Vary`, `Content-Encoding` and `Content-Length`, and the
//! body either compressed whole or wrapped in an [`EncodedBody`].

use super::body::EncodedBody;
use super::config::Compression;
use super::negotiate::Encoding;
use super::predicate::{MAX_PAGE, MIN_PAGE, is_event_stream};
use super::slot::StreamSlot;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// Past this size a page is compressed on the blocking pool, not on a worker thread.
const BLOCKING_PAGE: usize = 64 << 10;

/// Compresses a whole page in one go (no per-stream state to keep).
pub(super) async fn compress_page(
    response: Response,
    encoding: Encoding,
    config: Compression,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "dstar: could not read a page to compress it");
            return (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal server error",
            )
                .into_response();
        }
    };
    let page = bytes.clone();
    let compress = move || config.one_shot(encoding, &page);
    let compressed = if bytes.len() > BLOCKING_PAGE {
        tokio::task::spawn_blocking(compress)
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    } else {
        compress()
    };
    let headers = &mut parts.headers;
    add_vary(headers);
    match compressed {
        Ok(out) => {
            headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(encoding.name()),
            );
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(out.len()));
            // the bytes differ now: a strong validator of the identity body would lie
            if let Some(etag) = headers.get(header::ETAG).cloned() {
                if !etag.as_bytes().starts_with(b"W/") {
                    let mut weak = b"W/".to_vec();
                    weak.extend_from_slice(etag.as_bytes());
                    if let Ok(weak) = HeaderValue::from_bytes(&weak) {
                        headers.insert(header::ETAG, weak);
                    }
                }
            }
            Response::from_parts(parts, Body::from(out))
        }
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// Adds `Vary: accept-encoding` once (not again, and not next to `Vary: *`).
fn add_vary(headers: &mut HeaderMap) {
    let present = headers.get_all(header::VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || t.trim().eq_ignore_ascii_case("accept-encoding"))
        })
    });
    if !present {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// An event stream with `Vary: accept-encoding`, its body wrapped in a streaming encoder when it
/// has an encoding, is not encoded already, is not a finished answer too small to be worth it,
/// and a stream place is free. Any other answer is returned as it is.
pub(super) fn compress_stream(
    mut response: Response,
    encoding: Option<Encoding>,
    config: &Compression,
    streams: &Arc<AtomicUsize>,
) -> Response {
    if !is_event_stream(response.headers()) {
        return response;
    }
    // the answer depends on Accept-Encoding, compressed or not
    add_vary(response.headers_mut());
    let Some(encoding) = encoding else {
        return response;
    };
    if response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    // a finished answer too small to be worth an encoder (bigger ones were compressed in one go)
    let length = http_body::Body::size_hint(response.body()).exact();
    if length.is_some_and(|len| len < MIN_PAGE as u64) {
        return response;
    }
    let Some(slot) = StreamSlot::take(streams, config.max_streams) else {
        tracing::debug!(
            max_streams = config.max_streams,
            "dstar: as many streams as Compression::max_streams are compressed already; this one goes out uncompressed"
        );
        return response;
    };
    let Some(encoder) = config.encoder(encoding) else {
        tracing::warn!(
            encoding = encoding.name(),
            "dstar: the encoder refused its settings; this stream goes out uncompressed"
        );
        return response;
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(encoding.name()),
    );
    headers.remove(header::CONTENT_LENGTH);
    response.map(|body| Body::new(EncodedBody::new(body, encoder, slot)))
}
