//! CSRF: every path to 200 and every path to 403, tokens and Fetch Metadata, and the todo example
//! running protected.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/todo.rs"]
mod todo;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use dstar::csrf::{Csrf, CsrfToken};
use dstar::prelude::*;
use dstar::test::{TestClient, assert_patched_element, assert_patched_signals};
use dstar_tests::send;

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

fn fetch(site: Option<&str>, origin: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/echo")
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
async fn fetch_metadata_mode_needs_no_token() {
    let app = protected(Csrf::fetch_metadata_only().trusted_origin("https://partner.example"));
    let cases = [
        (Some("same-origin"), None, StatusCode::OK),
        (Some("none"), None, StatusCode::OK),
        (
            Some("cross-site"),
            Some("https://evil.example"),
            StatusCode::FORBIDDEN,
        ),
        (
            Some("same-site"),
            Some("https://sub.app.example"),
            StatusCode::FORBIDDEN,
        ),
        (
            Some("cross-site"),
            Some("https://partner.example"),
            StatusCode::OK,
        ),
        (None, Some("https://app.example"), StatusCode::OK),
        (None, Some("https://evil.example"), StatusCode::FORBIDDEN),
        (None, None, StatusCode::OK),
    ];
    for (site, origin, expected) in cases {
        let (code, text) = status(app.clone(), fetch(site, origin)).await;
        assert_eq!(code, expected, "{site:?} {origin:?}: {text}");
    }
    let (_, text) = status(app.clone(), fetch(Some("cross-site"), None)).await;
    assert_eq!(
        text,
        "CSRF check failed: cross-origin request refused (Sec-Fetch-Site: cross-site)"
    );
    let (_, text) = status(app, fetch(None, Some("https://evil.example"))).await;
    assert_eq!(
        text,
        "CSRF check failed: request from the foreign origin https://evil.example refused"
    );
}

#[tokio::test]
async fn tokens_and_fetch_metadata_together_need_both() {
    let app = protected(Csrf::new(KEY).fetch_metadata(true));
    let (cookie, token) = session(app.clone()).await;
    let with = |site: &str| {
        post_json(Some(&cookie))
            .header("sec-fetch-site", site)
            .body(Body::from(json!({ "csrf": token }).to_string()))
            .unwrap()
    };
    assert_eq!(
        status(app.clone(), with("same-origin")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        status(app.clone(), with("cross-site")).await.0,
        StatusCode::FORBIDDEN
    );
    let req = post_json(Some(&cookie))
        .header("sec-fetch-site", "same-origin")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(status(app, req).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_todo_example_runs_protected_and_works_with_the_layout_token() {
    let client = TestClient::new(todo::router(todo::Store::default()));
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
