//! The bad-input sweep: one test per row. Every bad input gets a clear 4xx with a message, never a
//! 500, a panic, or lost or corrupted state.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/todo.rs"]
mod todo;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use dstar::prelude::*;
use dstar_tests::send;

#[derive(serde::Deserialize)]
struct Form {
    count: i64,
    user: User,
}

#[derive(serde::Deserialize)]
struct User {
    name: String,
}

#[derive(Default)]
struct Probe;

#[dstar::page("/probe")]
impl Probe {
    fn render(&self) -> Markup {
        html! {}
    }

    #[event]
    async fn save(sse: &mut Sse, Signals(f): Signals<Form>) {
        sse.patch_signals(json!({ "count": f.count, "name": f.user.name }));
    }

    #[event(method = "get")]
    async fn search(sse: &mut Sse, Signals(s): Signals) {
        sse.patch_signals(json!({ "n": s.len() }));
    }
}

fn app() -> (axum::Router, todo::Store) {
    let store = todo::Store::default();
    let router = dstar::App::empty()
        .page::<Probe>()
        .component::<todo::DetailDrawer>()
        .state(store.clone())
        .build();
    (router, store)
}

fn drawer() -> String {
    dstar::actions::encode_module(<todo::DetailDrawer as dstar::component::Component>::PATH)
}

async fn call(method: Method, uri: &str, body: impl Into<Body>) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap();
    let (res, body) = send(app().0, req).await;
    (res.status(), String::from_utf8_lossy(&body).into_owned())
}

#[track_caller]
fn expect(got: (StatusCode, String), status: StatusCode, message: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert!(
        got.1.contains(message),
        "expected {message:?} in {:?}",
        got.1
    );
}

#[tokio::test]
async fn malformed_json_in_the_query_or_the_body_is_400() {
    expect(
        call(Method::POST, "/probe/_event/save", "{\"count\": 1,").await,
        StatusCode::BAD_REQUEST,
        "invalid signals: signals: EOF",
    );
    expect(
        call(Method::GET, "/probe/_event/search?datastar=%7Bnope", "").await,
        StatusCode::BAD_REQUEST,
        "invalid signals",
    );
    let m = drawer();
    expect(
        call(Method::POST, &format!("/ds/{m}/change_title/1"), "not json").await,
        StatusCode::BAD_REQUEST,
        "invalid signals",
    );
}

#[tokio::test]
async fn wrong_types_are_400_naming_the_field_path() {
    expect(
        call(
            Method::POST,
            "/probe/_event/save",
            r#"{"count":1,"user":{"name":7}}"#,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "signals.user.name: invalid type: integer `7`, expected a string",
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let big = format!(
        r#"{{"count":1,"user":{{"name":"{}"}}}}"#,
        "x".repeat(2 << 20)
    );
    expect(
        call(Method::POST, "/probe/_event/save", big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "signals payload too large",
    );
}

#[tokio::test]
async fn json_nested_10000_deep_is_400_without_a_stack_overflow() {
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let body = format!(r#"{{"count":1,"user":{{"name":"a"}},"x":{deep}}}"#);
    expect(
        call(Method::POST, "/probe/_event/save", body.clone()).await,
        StatusCode::BAD_REQUEST,
        "recursion limit exceeded",
    );
    let m = drawer();
    expect(
        call(Method::POST, &format!("/ds/{m}/change_title/1"), body).await,
        StatusCode::BAD_REQUEST,
        "recursion limit exceeded",
    );
}

#[tokio::test]
async fn unknown_page_events_component_modules_and_events_are_404() {
    expect(
        call(Method::POST, "/probe/_event/sav", "{}").await,
        StatusCode::NOT_FOUND,
        "unknown event `sav` on page `Probe`",
    );
    expect(
        call(Method::POST, "/ds/no-Such/x", "{}").await,
        StatusCode::NOT_FOUND,
        "unknown component",
    );
    let m = drawer();
    expect(
        call(Method::POST, &format!("/ds/{m}/nope/1"), "{}").await,
        StatusCode::NOT_FOUND,
        "unknown event `nope` on component",
    );
    // nothing is resolved by name outside the registry
    expect(
        call(Method::POST, "/ds/std-process-Command/spawn", "{}").await,
        StatusCode::NOT_FOUND,
        "unknown component",
    );
}

#[tokio::test]
async fn wrong_methods_are_405() {
    assert_eq!(
        call(Method::GET, "/probe/_event/save", "").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        call(Method::POST, "/probe/_event/search", "{}").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let m = drawer();
    assert_eq!(
        call(Method::PUT, &format!("/ds/{m}/change_title/1"), "{}")
            .await
            .0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn invalid_utf8_is_400() {
    let bad = vec![b'{', b'"', b'c', 0xC3, 0x28, b'"', b':', b'1', b'}'];
    expect(
        call(Method::POST, "/probe/_event/save", bad.clone()).await,
        StatusCode::BAD_REQUEST,
        "invalid signals",
    );
    expect(
        call(
            Method::GET,
            "/probe/_event/search?datastar=%7B%22%C3%28%22%3A1%7D",
            "",
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid signals",
    );
    let m = drawer();
    expect(
        call(Method::POST, &format!("/ds/{m}/change_title/%C3%28"), "{}").await,
        StatusCode::BAD_REQUEST,
        "not valid percent-encoded UTF-8",
    );
}

#[tokio::test]
async fn bad_input_leaves_state_intact() {
    let (router, store) = app();
    let before: Vec<String> = store.all().into_iter().map(|t| t.title).collect();
    let m = drawer();
    for body in ["{", r#"{"title": 5}"#, r#"{"title": ""}"#, "\u{0}"] {
        let req = Request::post(format!("/ds/{m}/change_title/1"))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        let (res, _) = send(router.clone(), req).await;
        assert!(
            res.status().is_client_error() || res.status() == StatusCode::OK,
            "{}",
            res.status()
        );
    }
    let after: Vec<String> = store.all().into_iter().map(|t| t.title).collect();
    assert_eq!(before, after);
}
