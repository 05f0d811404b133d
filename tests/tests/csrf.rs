//! CSRF: every path to 200 and every path to 403 (and 413/415), tokens and the default
//! cross-origin check, and the todo example running protected.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/todo.rs"]
mod todo;

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use dstar::csrf::{Csrf, CsrfToken};
use dstar::prelude::*;
use dstar::test::{TestClient, assert_patched_element, assert_patched_signals};
use dstar_tests::send;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const KEY: &[u8] = b"a test key that is long enough, 32+ bytes";

async fn echo(Signals(s): Signals) -> Sse {
    let mut sse = Sse::new();
    sse.patch_signals(json!({ "got": s }));
    sse
}

fn routes() -> Router {
    Router::new()
        .route(
            "/",
            get(|token: CsrfToken| async move { format!("token {}", token.masked()) }),
        )
        .route("/echo", post(echo))
        .route("/form", post(|body: String| async move { body }))
}

fn protected(csrf: Csrf) -> Router {
    routes().layer(csrf.layer())
}

/// A client that loaded a page: it has the session cookie; returns it and a masked token.
async fn session(app: Router) -> (String, String) {
    let (res, body) = send(app, Request::get("/").body(Body::empty()).unwrap()).await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let token = std::str::from_utf8(&body)
        .unwrap()
        .strip_prefix("token ")
        .unwrap()
        .to_owned();
    (cookie, token)
}

fn post_json(cookie: Option<&str>) -> axum::http::request::Builder {
    let mut b = Request::post("/echo").header("content-type", "application/json");
    if let Some(c) = cookie {
        b = b.header("cookie", c);
    }
    b
}

async fn status(app: Router, req: Request<Body>) -> (StatusCode, String) {
    let (res, body) = send(app, req).await;
    (res.status(), String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn safe_methods_pass_and_get_a_session_cookie() {
    let app = protected(Csrf::new(KEY));
    let (cookie, token) = session(app.clone()).await;
    assert!(cookie.starts_with("dstar_csrf="));
    assert_eq!(token.len(), 128);
    // masked afresh per render
    let (_, again) = session(app).await;
    assert_ne!(token, again);
}

#[tokio::test]
async fn each_token_source_passes_and_the_body_stays_readable() {
    let app = protected(Csrf::new(KEY));
    let (cookie, token) = session(app.clone()).await;
    // the csrf signal in a JSON body; the handler still reads every signal
    let body = json!({ "csrf": token, "count": 1 }).to_string();
    let req = post_json(Some(&cookie)).body(Body::from(body)).unwrap();
    let (code, text) = status(app.clone(), req).await;
    assert_eq!(code, StatusCode::OK, "{text}");
    assert!(text.contains(r#""count":1"#), "{text}");
    // the x-csrf-token header
    let req = post_json(Some(&cookie))
        .header("x-csrf-token", &token)
        .body(Body::from(r#"{"count":2}"#))
        .unwrap();
    assert_eq!(status(app.clone(), req).await.0, StatusCode::OK);
    // the _csrf_token form field
    let req = Request::post("/form")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(Body::from(format!("title=hi&_csrf_token={token}")))
        .unwrap();
    let (code, text) = status(app, req).await;
    assert_eq!(code, StatusCode::OK);
    assert!(text.starts_with("title=hi&"), "{text}");
}

#[tokio::test]
async fn missing_wrong_stale_and_cross_session_tokens_are_403() {
    let app = protected(Csrf::new(KEY));
    let (cookie, token) = session(app.clone()).await;
    let (other_cookie, other_token) = session(app.clone()).await;
    let send_with = |cookie: Option<String>, token: Option<String>| {
        let app = app.clone();
        async move {
            let body = match token {
                Some(t) => json!({ "csrf": t }),
                None => json!({}),
            };
            let req = post_json(cookie.as_deref())
                .body(Body::from(body.to_string()))
                .unwrap();
            status(app, req).await
        }
    };
    let (code, text) = send_with(Some(cookie.clone()), None).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert!(
        text.starts_with("CSRF check failed: missing token"),
        "{text}"
    );
    let (code, text) = send_with(Some(cookie.clone()), Some("00".repeat(64))).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert!(text.contains("does not match this session"), "{text}");
    let (code, _) = send_with(Some(cookie.clone()), Some("not hex".into())).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    // another session's token with this session's cookie
    let (code, text) = send_with(Some(cookie.clone()), Some(other_token)).await;
    assert_eq!(
        (code, text.contains("does not match this session")),
        (StatusCode::FORBIDDEN, true)
    );
    // a stale token: the session was replaced (new cookie), the old page's token no longer works
    let (code, _) = send_with(Some(other_cookie), Some(token.clone())).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    // no session cookie at all, or a forged one
    let (code, text) = send_with(None, Some(token.clone())).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert!(text.contains("no CSRF session"), "{text}");
    let forged = format!("dstar_csrf={}.{}", "ab".repeat(32), "cd".repeat(32));
    assert_eq!(
        send_with(Some(forged), Some(token)).await.0,
        StatusCode::FORBIDDEN
    );
}

/// How many times the app's event handlers ran: refusals must leave it alone. One per app, so
/// tests running in parallel do not see each other's events.
#[derive(Clone, Default)]
struct Ran(Arc<AtomicUsize>);

impl Ran {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A dstar app with one page event and one DELETE event, protected the default way: cross-origin
/// checks with no configuration (and tokens when `csrf` is given).
fn app(configure: impl FnOnce(dstar::App) -> dstar::App) -> Router {
    counted_app(configure).0
}

/// [`app`], and the count of its handlers that ran.
fn counted_app(configure: impl FnOnce(dstar::App) -> dstar::App) -> (Router, Ran) {
    #[derive(Default)]
    struct Guarded;
    // stateless: `App::new()` (the todo example below) registers every page, this one too
    #[dstar::page("/guarded")]
    impl Guarded {
        fn render(&self) -> Markup {
            html! { p { "guarded" } }
        }
        #[event]
        async fn touch(sse: &mut Sse, Extension(ran): Extension<Ran>) {
            ran.0.fetch_add(1, Ordering::SeqCst);
            sse.patch_signals(json!({ "touched": true }));
        }
        #[event(method = "delete")]
        async fn wipe(sse: &mut Sse, Extension(ran): Extension<Ran>) {
            ran.0.fetch_add(1, Ordering::SeqCst);
            sse.patch_signals(json!({ "wiped": true }));
        }
    }
    let ran = Ran::default();
    let app = configure(dstar::App::empty().page::<Guarded>())
        .build()
        .layer(Extension(ran.clone()));
    (app, ran)
}

fn fetch(method: &str, site: Option<&str>, origin: Option<&str>) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri("/guarded/_event/touch")
        .header("host", "app.example")
        .header("content-type", "application/json");
    if let Some(s) = site {
        b = b.header("sec-fetch-site", s);
    }
    if let Some(o) = origin {
        b = b.header("origin", o);
    }
    b.body(Body::from("{}")).unwrap()
}

#[tokio::test]
async fn cross_site_requests_are_refused_with_no_configuration() {
    let (app, ran) = counted_app(|a| a.trust_origin("https://partner.example"));
    let refused = [
        (Some("cross-site"), Some("https://evil.example")),
        (Some("same-site"), Some("https://sub.app.example")),
        (Some("cross-site"), None),
        (None, Some("https://evil.example")),
        (None, Some("http://app.example:8080")),
        // an empty Sec-Fetch-Site says nothing: the Origin decides
        (Some(""), Some("https://evil.example")),
    ];
    for (site, origin) in refused {
        let (code, text) = status(app.clone(), fetch("POST", site, origin)).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{site:?} {origin:?}: {text}");
        assert!(text.starts_with("cross-site request refused: "), "{text}");
        assert!(!text.contains('\n'), "one line: {text}");
    }
    assert_eq!(ran.count(), 0, "a refused event ran");
    let allowed = [
        (Some("same-origin"), None),
        (Some("none"), None),
        (Some("cross-site"), Some("https://partner.example")),
        (None, Some("https://app.example")),
        (None, None),
        // the browser's Sec-Fetch-Site is believed over the Origin
        (Some("same-origin"), Some("https://evil.example")),
        // empty headers count as absent ones
        (Some(""), None),
        (None, Some("")),
        (Some(""), Some("")),
    ];
    for (site, origin) in allowed {
        let (code, text) = status(app.clone(), fetch("POST", site, origin)).await;
        assert_eq!(code, StatusCode::OK, "{site:?} {origin:?}: {text}");
    }
    assert_eq!(ran.count(), allowed.len(), "every allowed event ran");
    // GET is safe: a cross-site link still loads the page
    let (code, _) = status(
        app.clone(),
        Request::get("/guarded")
            .header("sec-fetch-site", "cross-site")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
}

#[tokio::test]
async fn http2_requests_compare_the_origin_with_the_authority() {
    let app = app(|a| a);
    // HTTP/2 has no Host header: the request target carries the authority
    let req = Request::post("https://app.example/guarded/_event/touch")
        .header("origin", "https://app.example")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(status(app.clone(), req).await.0, StatusCode::OK);
    let req = Request::post("https://app.example/guarded/_event/touch")
        .header("origin", "https://evil.example")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(status(app, req).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_cross_site_text_plain_form_is_refused_and_signals_want_json() {
    let (app, ran) = counted_app(|a| a);
    // <form method=post enctype=text/plain> on another site: the browser adds Origin
    let forged = Request::post("/guarded/_event/touch")
        .header("host", "app.example")
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain")
        .body(Body::from(r#"{"x":"=y"}"#))
        .unwrap();
    assert_eq!(status(app.clone(), forged).await.0, StatusCode::FORBIDDEN);
    assert_eq!(ran.count(), 0, "a refused event ran");
    // the signals reader itself reads JSON only: text/plain and forms are a 415 saying why
    let plain = Request::post("/echo")
        .header("content-type", "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    let (code, text) = status(routes(), plain).await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        text.contains("expected `Content-Type: application/json`"),
        "{text}"
    );
    let form = Request::post("/echo")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("a=1"))
        .unwrap();
    let (code, text) = status(routes(), form).await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(text.contains("`Form` extractor"), "{text}");
    // JSON with parameters, +json, and no content type at all (curl, scripts) are read
    for ct in [
        Some("application/json; charset=utf-8"),
        Some("application/merge-patch+json"),
        None,
    ] {
        let mut b = Request::post("/echo");
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        let (code, text) = status(routes(), b.body(Body::from(r#"{"a":1}"#)).unwrap()).await;
        assert_eq!(code, StatusCode::OK, "{ct:?}: {text}");
    }
}

#[tokio::test]
async fn tokens_and_cross_origin_checks_work_together() {
    let app = app(|a| a.csrf(Csrf::new(KEY)));
    let client = TestClient::new(app);
    client.get("/guarded").await.assert_status(200);
    assert!(client.csrf_token().is_some());
    client
        .post("/guarded/_event/touch", json!({}))
        .await
        .assert_status(200);
    // a token does not make a cross-site request acceptable
    let token = client.csrf_token().unwrap();
    let cookie = format!("dstar_csrf={}", client.cookie("dstar_csrf").unwrap());
    let req = Request::post("/guarded/_event/touch")
        .header("host", "app.example")
        .header("sec-fetch-site", "cross-site")
        .header("cookie", cookie)
        .header("content-type", "application/json")
        .body(Body::from(json!({ "csrf": token }).to_string()))
        .unwrap();
    let app = app_with_tokens();
    assert_eq!(status(app, req).await.0, StatusCode::FORBIDDEN);
}

fn app_with_tokens() -> Router {
    app(|a| a.csrf(Csrf::new(KEY)))
}

#[tokio::test]
async fn delete_events_carry_the_token_in_the_datastar_query_as_the_real_client_sends_it() {
    let (app, ran) = counted_app(|a| a.csrf(Csrf::new(KEY)));
    let client = TestClient::new(app);
    client.get("/guarded").await.assert_status(200);
    let r = client
        .event(
            axum::http::Method::DELETE,
            "/guarded/_event/wipe",
            json!({}),
        )
        .await;
    r.assert_status(200);
    assert_patched_signals(&r.events(), json!({ "wiped": true }));
    assert_eq!(ran.count(), 1);
    // the same DELETE without the token is refused
    let token = client.csrf_token().unwrap();
    client.set_csrf_token(None);
    let wipe = || {
        client.event(
            axum::http::Method::DELETE,
            "/guarded/_event/wipe",
            json!({}),
        )
    };
    wipe().await.assert_status(403);
    // a token that does not match (stale: the page outlived its session) makes the page
    // reload once, to get a fresh one; the handler does not run either way
    let flipped = if token.starts_with('0') { "1" } else { "0" };
    client.set_csrf_token(Some(format!("{flipped}{}", &token[1..])));
    let r = wipe().await;
    r.assert_status(200);
    let script = r.events()[0].value("elements").unwrap();
    assert!(script.contains("location.reload()"), "{script}");
    assert!(
        script.contains("_ds_csrf_reload"),
        "at most once per 10 s: {script}"
    );
    assert_eq!(ran.count(), 1, "a refused event ran");
}

#[tokio::test]
async fn a_malformed_cookie_among_several_does_not_stop_the_search() {
    let app = protected(Csrf::new(KEY));
    let (cookie, token) = session(app.clone()).await;
    let forged = format!("dstar_csrf={}.{}", "ab".repeat(32), "cd".repeat(32));
    let line = format!("junk; =; theme=dark; dstar_csrf=not-even-hex; {forged}; {cookie}; x=\"y");
    // someone else's cookie with a non-ASCII byte in the same header must not hide ours
    let mut bytes = b"other=caf\xc3\xa9; ".to_vec();
    bytes.extend_from_slice(line.as_bytes());
    let line = axum::http::HeaderValue::from_bytes(&bytes).unwrap();
    let req = post_json(None)
        .header("cookie", line)
        .body(Body::from(json!({ "csrf": token }).to_string()))
        .unwrap();
    let (code, text) = status(app, req).await;
    assert_eq!(code, StatusCode::OK, "{text}");
}

#[tokio::test]
async fn several_session_cookies_refuse_unsafe_requests_and_a_page_load_gets_a_fresh_one() {
    let app = protected(Csrf::new(KEY));
    let (mine, token) = session(app.clone()).await;
    // cookie tossing: an attacker's own valid session, planted with a more specific path or
    // over plain HTTP, is sent first; the first that verified used to win
    let (planted, planted_token) = session(app.clone()).await;
    let both = format!("{planted}; {mine}");
    for (token, datastar) in [
        (&planted_token, false),
        (&token, false),
        (&planted_token, true),
    ] {
        let mut req = post_json(Some(&both));
        if datastar {
            // not a reload: the planted cookie would still be there
            req = req.header("datastar-request", "true");
        }
        let req = req
            .body(Body::from(json!({ "csrf": token }).to_string()))
            .unwrap();
        let (code, text) = status(app.clone(), req).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{text}");
        assert!(text.contains("several CSRF session cookies"), "{text}");
    }
    // each alone passes
    for (cookie, token) in [(&mine, &token), (&planted, &planted_token)] {
        let req = post_json(Some(cookie))
            .body(Body::from(json!({ "csrf": token }).to_string()))
            .unwrap();
        assert_eq!(status(app.clone(), req).await.0, StatusCode::OK);
    }
    // a page load with both uses neither: it gets a new session, and its token is the new one's
    let req = Request::get("/")
        .header("cookie", &both)
        .body(Body::empty())
        .unwrap();
    let (res, body) = send(app.clone(), req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = res.headers()["set-cookie"].to_str().unwrap();
    let fresh = fresh.split(';').next().unwrap().to_owned();
    assert!(fresh.starts_with("dstar_csrf="), "{fresh}");
    assert!(fresh != mine && fresh != planted, "{fresh}");
    let page_token = std::str::from_utf8(&body)
        .unwrap()
        .strip_prefix("token ")
        .unwrap();
    for (cookie, expected) in [
        (&fresh, StatusCode::OK),
        (&planted, StatusCode::FORBIDDEN),
        (&mine, StatusCode::FORBIDDEN),
    ] {
        let req = post_json(Some(cookie))
            .body(Body::from(json!({ "csrf": page_token }).to_string()))
            .unwrap();
        assert_eq!(status(app.clone(), req).await.0, expected, "{cookie}");
    }
}

#[tokio::test]
async fn a_wrong_token_on_a_datastar_request_reloads_the_page_marked_as_refused() {
    let client = TestClient::new(app_with_tokens());
    client.get("/guarded").await.assert_status(200);
    let token = client.csrf_token().unwrap();
    client.set_csrf_token(Some("00".repeat(64)));
    let r = client.post("/guarded/_event/touch", json!({})).await;
    // a 200: Datastar runs the scripts of 200s only, and this one reloads the page
    r.assert_status(200);
    assert_eq!(
        r.headers
            .get("x-dstar-refused")
            .map(|v| v.to_str().unwrap()),
        Some("csrf"),
        "monitoring counts it: {:?}",
        r.headers
    );
    let script = r.events()[0].value("elements").unwrap();
    assert!(script.contains("location.reload()"), "{script}");
    // an event that passes carries no such mark
    client.set_csrf_token(Some(token));
    let r = client.post("/guarded/_event/touch", json!({})).await;
    r.assert_status(200);
    assert_patched_signals(&r.events(), json!({ "touched": true }));
    assert!(
        r.headers.get("x-dstar-refused").is_none(),
        "{:?}",
        r.headers
    );
}

#[tokio::test]
async fn the_cookie_is_http_only_lax_and_host_prefixed_when_secure() {
    let (res, _) = send(
        protected(Csrf::new(KEY)),
        Request::get("/").body(Body::empty()).unwrap(),
    )
    .await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("dstar_csrf="), "{cookie}");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(
        cookie.contains("Max-Age="),
        "a session restore keeps it: {cookie}"
    );
    let secure = protected(Csrf::new(KEY).secure_cookie(true));
    let (res, body) = send(
        secure.clone(),
        Request::get("/").body(Body::empty()).unwrap(),
    )
    .await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-dstar_csrf="), "{cookie}");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    // over HTTPS only the __Host- cookie counts: a plain one planted by a sibling does not
    let token = std::str::from_utf8(&body)
        .unwrap()
        .strip_prefix("token ")
        .unwrap();
    let pair = cookie.split(';').next().unwrap();
    let planted = pair.replacen("__Host-dstar_csrf", "dstar_csrf", 1);
    for (cookie, expected) in [
        (pair.to_owned(), StatusCode::OK),
        (planted, StatusCode::FORBIDDEN),
    ] {
        let req = post_json(Some(&cookie))
            .body(Body::from(json!({ "csrf": token }).to_string()))
            .unwrap();
        assert_eq!(status(secure.clone(), req).await.0, expected, "{cookie}");
    }
}

#[tokio::test]
async fn bodies_the_layer_cannot_read_get_413_and_415_not_403() {
    let app = protected(Csrf::new(KEY));
    let (cookie, _) = session(app.clone()).await;
    // declared too large: refused before a byte of the body is read
    let (tx, body) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    let req = Request::post("/echo")
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .header("content-length", (2u64 << 20).to_string())
        .body(Body::from_stream(tokio_stream_of(body)))
        .unwrap();
    let (code, text) = status(app.clone(), req).await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    drop(tx);
    // a chunked body (no declared length) over the limit: refused once the limit is passed
    let chunks = futures_util::stream::iter(
        (0..40).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 32 * 1024]))),
    );
    let req = Request::post("/echo")
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .body(Body::from_stream(chunks))
        .unwrap();
    assert_eq!(
        status(app.clone(), req).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // multipart: a clear 415 naming the header to use
    let req = Request::post("/form")
        .header("cookie", &cookie)
        .header("content-type", "multipart/form-data; boundary=x")
        .body(Body::from("--x--"))
        .unwrap();
    let (code, text) = status(app, req).await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{text}");
    assert!(text.contains("x-csrf-token"), "{text}");
}

/// A body stream that never yields unless the test sends (it never does).
fn tokio_stream_of(
    rx: tokio::sync::mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

#[tokio::test]
async fn the_todo_example_runs_protected_and_works_with_the_layout_token() {
    let client = TestClient::new(
        todo::app(todo::Store::default())
            .csrf(Csrf::new(KEY))
            .build(),
    );
    let m =
        dstar::actions::encode_module(<todo::DetailDrawer as dstar::component::Component>::PATH);
    // without a page (no cookie, no token): refused
    client
        .post(&format!("/ds/{m}/change_title/1"), json!({ "title": "x" }))
        .await
        .assert_status(403);
    // the page puts the token on <body> as the csrf signal; the client sends it back
    let page = client.get("/todos").await.text();
    assert!(page.contains("data-signals:csrf=\""), "{page}");
    assert!(client.csrf_token().is_some());
    let r = client
        .post(
            &format!("/ds/{m}/change_title/1"),
            json!({ "title": "Safe" }),
        )
        .await;
    r.assert_status(200);
    assert_patched_element(&r.events(), "#todo-1-title").contains("Safe");
    assert_patched_signals(&r.events(), json!({ "saved": true }));
    // a forged request from another site without the token
    client.set_csrf_token(None);
    client
        .post(
            &format!("/ds/{m}/change_title/1"),
            json!({ "title": "Evil" }),
        )
        .await
        .assert_status(403);
}

/// One HTTP/1.1 request to 127.0.0.1:`port`; returns the whole response as text.
async fn raw(port: u16, method: &str, path: &str, cookie: Option<&str>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let cookie = cookie.map_or(String::new(), |c| format!("cookie: {c}\r\n"));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nsec-fetch-site: same-origin\r\n{cookie}connection: close\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_restart_keeps_the_old_pages_token_valid_with_no_key_configured() {
    use dstar_tests::{Proc, example_binary, free_port, wait_port};
    let dir = std::env::temp_dir().join(format!("dstar-restart-key-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_port();
    let start = || {
        let child = std::process::Command::new(example_binary("todo"))
            .env("DSTAR_ADDR", format!("127.0.0.1:{port}"))
            .env("DSTAR_SECRET_FILE", dir.join("secret"))
            .env_remove("DSTAR_SECRET")
            .env_remove("DSTAR_CSRF_KEY")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Proc(child)
    };
    let first = start();
    wait_port(port).await;
    let page = raw(port, "GET", "/todos", None).await;
    let cookie = page
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let token = page
        .split("data-signals:csrf=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|quoted| quoted.replace("&quot;", "").trim_matches('\'').to_owned())
        .expect("a token on <body>");
    drop(first);
    // a new process: nothing but the key file carries over
    let _second = start();
    wait_port(port).await;
    let module = dstar::actions::encode_module("todo::DetailDrawer");
    let signals = json!({ "csrf": token }).to_string();
    let query = dstar::actions::percent_encode(&signals);
    let path = format!("/ds/{module}/delete/1?datastar={query}");
    let response = raw(port, "DELETE", &path, Some(&cookie)).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("selector #todo-1"), "{response}");
    // the same request with a made-up session is still refused
    let forged = format!("dstar_csrf={}.{}", "ab".repeat(32), "cd".repeat(32));
    let response = raw(port, "DELETE", &path, Some(&forged)).await;
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    let _ = std::fs::remove_dir_all(&dir);
}
