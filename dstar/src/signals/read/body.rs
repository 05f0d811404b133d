//! A request body read under its limit, and the length it declares, to refuse it before reading.

use super::body_error::{BodyOverBudget, caused_by, is_body_timeout};
use super::rejection::SignalsRejection;
use axum::http::header;
use bytes::{Bytes, BytesMut};
use http_body::Body as _;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::future::Future;

/// Reads the body up to `limit` bytes. A body that arrives in one frame (the common case for small
/// JSON) is used as it is, without copying. Under `dstar::serve` a body has
/// [`Server::body_read_timeout`](crate::Server::body_read_timeout) to arrive; past it this is a
/// `408`.
pub(crate) fn read_body(
    body: axum::body::Body,
    limit: usize,
) -> impl Future<Output = Result<Bytes, SignalsRejection>> + Send {
    // frame by frame, into the first frame's bytes or, past it, one buffer: no collector (it
    // carries room for trailers), and the future holds the limited body only once
    let mut body = Limited::new(body, limit);
    async move {
        let mut first: Option<Bytes> = None;
        let mut more: Option<BytesMut> = None;
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(frame) => frame,
                Err(e) if e.is::<LengthLimitError>() => {
                    return Err(SignalsRejection::TooLarge { limit });
                }
                Err(e) if is_body_timeout(&*e) => return Err(SignalsRejection::TimedOut),
                Err(e) if caused_by::<BodyOverBudget>(&*e) => return Err(SignalsRejection::Busy),
                Err(e) => {
                    return Err(SignalsRejection::Malformed(format!(
                        "could not read the request body: {e}"
                    )));
                }
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            // the first frame as it is (the common case: no copy); past it, one buffer
            match (first.as_ref(), more.as_mut()) {
                (None, _) => first = Some(data),
                (Some(_), Some(all)) => all.extend_from_slice(&data),
                (Some(head), None) => {
                    let mut all = BytesMut::with_capacity(head.len() + data.len());
                    all.extend_from_slice(head);
                    all.extend_from_slice(&data);
                    more = Some(all);
                }
            }
            if body.is_end_stream() {
                break;
            }
        }
        Ok(match more {
            Some(all) => all.freeze(),
            None => first.unwrap_or_default(),
        })
    }
}

/// The body length a request declares, to refuse it before reading. hyper's body carries its
/// `Content-Length` as its size hint, so no header is parsed again; a body with no bound of its
/// own size (a stream some layer built) is judged by the header.
pub(crate) fn declared_length(
    headers: &axum::http::HeaderMap,
    body: &axum::body::Body,
) -> Option<u64> {
    if let Some(len) = body.size_hint().exact() {
        return Some(len);
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}
