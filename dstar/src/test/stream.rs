//! [`TestStream`]: an open event stream whose events are read as they come.

use super::{SseEvent, parse_events};
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::BodyExt;
use std::time::Duration;

/// An open SSE response whose events are read as they come.
#[derive(Debug)]
pub struct TestStream {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    body: Body,
    buf: Vec<u8>,
    seen: usize,
}

impl TestStream {
    /// The stream of a response just received.
    pub(super) fn of(response: axum::response::Response) -> TestStream {
        let (parts, body) = response.into_parts();
        TestStream {
            status: parts.status,
            headers: parts.headers,
            body,
            buf: Vec::new(),
            seen: 0,
        }
    }

    /// The events a browser dispatches: events without data (such as a page stream's first,
    /// id-only event) only set the last event id.
    fn dispatched(&self) -> Vec<SseEvent> {
        parse_events(&self.buf)
            .into_iter()
            .filter(|e| !e.data.is_empty())
            .collect()
    }

    /// The last `id:` the stream sent so far, which a browser would send back as `Last-Event-ID`
    /// when it reconnects (a page stream sends one first).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let app = axum::Router::new().route("/s", axum::routing::post(|| async {
    ///     dstar::sse::stream(|sse| async move {
    ///         let mut first = dstar::Sse::new();
    ///         first.event_id("v1").patch_signals(serde_json::json!({ "a": 1 }));
    ///         let _ = sse.send(first).await;
    ///         std::future::pending::<()>().await;
    ///     })
    /// }));
    /// let mut stream = dstar::test::TestClient::new(app).stream("/s", serde_json::json!({})).await;
    /// stream.next_events(1, std::time::Duration::from_secs(5)).await;
    /// assert_eq!(stream.last_event_id().as_deref(), Some("v1"));
    /// # });
    /// ```
    pub fn last_event_id(&self) -> Option<String> {
        parse_events(&self.buf)
            .into_iter()
            .filter_map(|e| e.id)
            .next_back()
    }

    /// Waits for the next `n` events, at most `timeout` in all. Panics on timeout or end of
    /// stream, showing what did arrive.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// let app = axum::Router::new().route("/s", axum::routing::post(|| async {
    ///     dstar::sse::stream(|sse| async move {
    ///         let _ = sse.patch_signals(serde_json::json!({ "tick": 1 })).await;
    ///         std::future::pending::<()>().await;
    ///     })
    /// }));
    /// let client = dstar::test::TestClient::new(app);
    /// let mut stream = client.stream("/s", serde_json::json!({})).await;
    /// let events = stream.next_events(1, Duration::from_secs(5)).await;
    /// assert_eq!(events[0].lines("signals"), [r#"{"tick":1}"#]);
    /// # });
    /// ```
    #[track_caller]
    pub fn next_events(
        &mut self,
        n: usize,
        timeout: Duration,
    ) -> impl Future<Output = Vec<SseEvent>> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                let all = self.dispatched();
                if all.len() >= self.seen + n {
                    let out = all[self.seen..self.seen + n].to_vec();
                    self.seen += n;
                    return out;
                }
                let frame = tokio::time::timeout_at(deadline, self.body.frame()).await;
                let got = || String::from_utf8_lossy(&self.buf).into_owned();
                match frame {
                    Err(_) => panic!(
                        "{caller}: timed out after {timeout:?} waiting for {n} event(s); the stream sent:\n{}",
                        got()
                    ),
                    Ok(None) => panic!(
                        "{caller}: the stream ended before {n} more event(s) arrived; it sent:\n{}",
                        got()
                    ),
                    Ok(Some(Err(e))) => panic!("{caller}: the stream failed: {e}"),
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            self.buf.extend_from_slice(&data);
                        }
                    }
                }
            }
        }
    }

    /// Why this is not an event stream (its status and body), when it is not one.
    pub(crate) async fn refusal(&mut self) -> Option<String> {
        let is_stream = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if self.status == StatusCode::OK && is_stream {
            return None;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, self.body.frame()).await {
            if let Ok(data) = frame.into_data() {
                self.buf.extend_from_slice(&data);
            }
        }
        Some(format!(
            "{}: {}",
            self.status,
            String::from_utf8_lossy(&self.buf)
        ))
    }

    /// The events not yet returned, reading at least one frame when there are none: what came,
    /// or the stream's end (with what came before it), or nothing by `deadline`.
    pub(crate) async fn next_batch(&mut self, deadline: tokio::time::Instant) -> Batch {
        loop {
            let all = self.dispatched();
            if all.len() > self.seen {
                let out = all[self.seen..].to_vec();
                self.seen = all.len();
                return Batch::Events(out);
            }
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return Batch::Nothing,
                Ok(None) | Ok(Some(Err(_))) => return Batch::Ended,
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    /// Reads until the stream ends (or `timeout`), returning the events not yet returned. Returns
    /// `None` if the stream is still open at the deadline.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let app = axum::Router::new().route("/s", axum::routing::post(|| async {
    ///     dstar::sse::stream(|sse| async move { let _ = sse.check_connection().await; })
    /// }));
    /// let mut stream = dstar::test::TestClient::new(app).stream("/s", serde_json::json!({})).await;
    /// assert_eq!(stream.until_end(std::time::Duration::from_secs(5)).await.map(|e| e.len()), Some(0));
    /// # });
    /// ```
    pub async fn until_end(&mut self, timeout: Duration) -> Option<Vec<SseEvent>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => {
                    let all = self.dispatched();
                    let rest = all[self.seen.min(all.len())..].to_vec();
                    self.seen = all.len();
                    return Some(rest);
                }
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

/// What [`TestStream::next_batch`] read.
pub(crate) enum Batch {
    /// Events not returned before.
    Events(Vec<SseEvent>),
    /// The stream ended, after every event already returned.
    Ended,
    /// Nothing came by the deadline.
    Nothing,
}
