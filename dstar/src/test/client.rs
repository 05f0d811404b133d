//! [`TestClient`]: drives a `Router` in-process as a browser running Datastar would, with cookies
//! and the page's CSRF token carried across requests.

use super::response::TestResponse;
use super::stream::TestStream;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, header};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;
use tower::ServiceExt;

/// Drives a `Router` in-process, like a browser running Datastar would: signals as JSON bodies (or
/// the `datastar` query for GET and DELETE), the `Datastar-Request` header, cookies carried across
/// requests, and the page's CSRF token sent back on unsafe requests as the `csrf` signal, exactly
/// as the default layout makes the real client send it.
///
/// ```
/// use dstar::prelude::*;
/// use dstar::test::TestClient;
///
/// async fn increment(Signals(s): Signals) -> Sse {
///     let n = s["count"].as_i64().unwrap_or(0) + 1;
///     let mut sse = Sse::new();
///     sse.patch_signals(json!({ "count": n }));
///     sse
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let client = TestClient::new(axum::Router::new().route("/inc", axum::routing::post(increment)));
/// let response = client.post("/inc", json!({ "count": 41 })).await;
/// dstar::test::assert_patched_signals(&response.events(), json!({ "count": 42 }));
/// # });
/// ```
#[derive(Debug)]
pub struct TestClient {
    router: Router,
    cookies: Mutex<BTreeMap<String, String>>,
    csrf: Mutex<Option<String>>,
}

impl TestClient {
    /// A client for `router`.
    ///
    /// ```
    /// let client = dstar::test::TestClient::new(axum::Router::new());
    /// ```
    pub fn new(router: Router) -> Self {
        TestClient {
            router,
            cookies: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(None),
        }
    }

    /// `GET path`, as a browser loads a page. A CSRF token in the page (`data-signals:csrf` or a
    /// `csrf-token` meta tag) is remembered for later requests.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
    /// let page = dstar::test::TestClient::new(app).get("/").await;
    /// assert_eq!(page.text(), "hello");
    /// # });
    /// ```
    pub async fn get(&self, path: &str) -> TestResponse {
        let req = self.request(Method::GET, path, None);
        let response = self.send(req).await;
        if let Some(token) = find_csrf_token(&response.text()) {
            *self.csrf.lock().unwrap() = Some(token);
        }
        response
    }

    /// `POST path` with `signals` as the JSON body: a page event, a component event, an action.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let app = axum::Router::new().route("/x", axum::routing::post(|| async { "ok" }));
    /// let r = dstar::test::TestClient::new(app).post("/x", serde_json::json!({})).await;
    /// r.assert_status(200);
    /// # });
    /// ```
    pub async fn post(&self, path: &str, signals: Value) -> TestResponse {
        self.event(Method::POST, path, signals).await
    }

    /// Any method with `signals`: GET and DELETE put them in the `datastar` query parameter, the
    /// other methods in a JSON body.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use axum::http::Method;
    /// let app = axum::Router::new().route("/x", axum::routing::delete(
    ///     |dstar::Signals(s): dstar::Signals| async move { s["id"].to_string() }));
    /// let r = dstar::test::TestClient::new(app).event(Method::DELETE, "/x", serde_json::json!({"id": 7})).await;
    /// assert_eq!(r.text(), "7");
    /// # });
    /// ```
    pub async fn event(&self, method: Method, path: &str, signals: Value) -> TestResponse {
        let req = self.request(method, path, Some(signals));
        self.send(req).await
    }

    /// `POST path` with `signals`, returning the open stream to read events from.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let app = axum::Router::new().route("/s", axum::routing::post(|| async {
    ///     dstar::sse::stream(|sse| async move { let _ = sse.check_connection().await; })
    /// }));
    /// let stream = dstar::test::TestClient::new(app).stream("/s", serde_json::json!({})).await;
    /// assert_eq!(stream.headers["content-type"], "text/event-stream");
    /// # });
    /// ```
    pub async fn stream(&self, path: &str, signals: Value) -> TestStream {
        let req = self.request(Method::POST, path, Some(signals));
        self.open(req).await
    }

    /// Opens a stream with extra request headers, as `connect()` sends its page's render time
    /// ([`RENDERED_HEADER`](crate::page::RENDERED_HEADER)).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let app = axum::Router::new().route("/s", axum::routing::post(|h: axum::http::HeaderMap| async move {
    ///     let a = h["x-a"].to_str().unwrap().to_owned();
    ///     dstar::sse::stream(move |sse| async move { let _ = sse.patch_signals(serde_json::json!({ "a": a })).await; })
    /// }));
    /// let client = dstar::test::TestClient::new(app);
    /// let mut stream = client.stream_with_headers("/s", serde_json::json!({}), &[("x-a", "1")]).await;
    /// let events = stream.next_events(1, std::time::Duration::from_secs(5)).await;
    /// assert_eq!(events[0].lines("signals"), [r#"{"a":"1"}"#]);
    /// # });
    /// ```
    pub async fn stream_with_headers(
        &self,
        path: &str,
        signals: Value,
        headers: &[(&str, &str)],
    ) -> TestStream {
        let mut req = self.request(Method::POST, path, Some(signals));
        for (name, value) in headers {
            let name = axum::http::HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            let value = HeaderValue::from_str(value).expect("a header value");
            req.headers_mut().append(name, value);
        }
        self.open(req).await
    }

    /// Opens a stream again as a browser's Datastar does after the connection ended: the same
    /// request, with the last event id the previous stream sent as `Last-Event-ID`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let app = axum::Router::new().route("/s", axum::routing::post(|h: axum::http::HeaderMap| async move {
    ///     let last = h["last-event-id"].to_str().unwrap().to_owned();
    ///     dstar::sse::stream(move |sse| async move { let _ = sse.patch_signals(serde_json::json!({ "last": last })).await; })
    /// }));
    /// let client = dstar::test::TestClient::new(app);
    /// let mut stream = client.reconnect("/s", serde_json::json!({}), "v1").await;
    /// let events = stream.next_events(1, std::time::Duration::from_secs(5)).await;
    /// assert_eq!(events[0].lines("signals"), [r#"{"last":"v1"}"#]);
    /// # });
    /// ```
    pub async fn reconnect(&self, path: &str, signals: Value, last_event_id: &str) -> TestStream {
        let mut req = self.request(Method::POST, path, Some(signals));
        let id = HeaderValue::from_str(last_event_id).expect("an id without line breaks");
        req.headers_mut().insert("last-event-id", id);
        self.open(req).await
    }

    async fn open(&self, req: Request<Body>) -> TestStream {
        TestStream::of(self.call(req).await)
    }

    /// A cookie the app has set.
    ///
    /// ```
    /// let client = dstar::test::TestClient::new(axum::Router::new());
    /// assert_eq!(client.cookie("session"), None);
    /// ```
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    /// The CSRF token the client sends on unsafe requests.
    ///
    /// ```
    /// let client = dstar::test::TestClient::new(axum::Router::new());
    /// client.set_csrf_token(Some("t0k3n".into()));
    /// assert_eq!(client.csrf_token().as_deref(), Some("t0k3n"));
    /// ```
    pub fn csrf_token(&self) -> Option<String> {
        self.csrf.lock().unwrap().clone()
    }

    /// Sets (or clears) the CSRF token, e.g. to test a forged request.
    ///
    /// ```
    /// let client = dstar::test::TestClient::new(axum::Router::new());
    /// client.set_csrf_token(None);
    /// ```
    pub fn set_csrf_token(&self, token: Option<String>) {
        *self.csrf.lock().unwrap() = token;
    }

    fn request(&self, method: Method, path: &str, signals: Option<Value>) -> Request<Body> {
        let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        let csrf = self.csrf_token().filter(|_| unsafe_method);
        let mut signals = signals;
        if let (Some(token), Some(Value::Object(map))) = (&csrf, signals.as_mut()) {
            map.entry("csrf")
                .or_insert_with(|| Value::String(token.clone()));
        }
        let in_query = matches!(method, Method::GET | Method::DELETE);
        let uri = match (&signals, in_query) {
            (Some(s), true) => {
                let sep = if path.contains('?') { '&' } else { '?' };
                format!(
                    "{path}{sep}datastar={}",
                    crate::actions::percent_encode(&s.to_string())
                )
            }
            _ => path.to_owned(),
        };
        let mut builder = Request::builder().method(method).uri(uri);
        if signals.is_some() {
            builder = builder.header("datastar-request", "true").header(
                header::ACCEPT,
                "text/event-stream, text/html, application/json",
            );
        }
        let cookies = self.cookies.lock().unwrap();
        if !cookies.is_empty() {
            let line: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            builder = builder.header(header::COOKIE, line.join("; "));
        }
        let body = match (signals, in_query) {
            (Some(s), false) => {
                builder = builder.header(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                Body::from(s.to_string())
            }
            _ => Body::empty(),
        };
        builder.body(body).expect("a valid request")
    }

    /// Runs the request through the router, keeping the cookies it sets.
    async fn call(&self, req: Request<Body>) -> axum::response::Response {
        let response = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("routers are infallible");
        self.keep_cookies(response.headers());
        response
    }

    /// Sends a request you built (custom headers, another method), with the client's cookies.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let app = axum::Router::new().route("/x", axum::routing::get(
    ///     |h: axum::http::HeaderMap| async move { h["x-a"].to_str().unwrap().to_owned() }));
    /// let client = dstar::test::TestClient::new(app);
    /// let req = axum::http::Request::get("/x").header("x-a", "1").body(axum::body::Body::empty()).unwrap();
    /// assert_eq!(client.send(req).await.text(), "1");
    /// # });
    /// ```
    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        let response = self.call(req).await;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    fn keep_cookies(&self, headers: &HeaderMap) {
        let mut cookies = self.cookies.lock().unwrap();
        for value in headers.get_all(header::SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let expired = parts.any(|a| {
                let a = a.trim().to_ascii_lowercase();
                a == "max-age=0" || a.starts_with("max-age=-")
            });
            if expired {
                cookies.remove(name.trim());
            } else {
                cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
}

/// The token of `data-signals:csrf="'…'"` or `<meta name="csrf-token" content="…">`.
fn find_csrf_token(html: &str) -> Option<String> {
    // the attribute holds a JS string literal, HTML-escaped: &quot;…&quot; or '…'
    let unquote = |v: &str| {
        let v = v
            .trim()
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'");
        v.trim_matches(|c| c == '\'' || c == '"').to_owned()
    };
    if let Some(pos) = html.find("data-signals:csrf=\"") {
        let rest = &html[pos + "data-signals:csrf=\"".len()..];
        return rest.find('"').map(|end| unquote(&rest[..end]));
    }
    let pos = html.find("name=\"csrf-token\"")?;
    let tag_start = html[..pos].rfind('<')?;
    let tag_end = pos + html[pos..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let c = tag.find("content=\"")? + "content=\"".len();
    tag[c..].find('"').map(|e| unquote(&tag[c..c + e]))
}
