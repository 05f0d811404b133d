//! The Quick Start counter (`examples/counter.rs`) over HTTP.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/counter.rs"]
mod counter;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use counter::{Counter, CounterEvent};
use dstar::elements::Mode;
use dstar::event::Event;
use dstar::page::Page;
use dstar::test::{TestClient, assert_patched_element, assert_patched_signals};
use dstar_tests::send;
use serde_json::json;

fn app() -> axum::Router {
    dstar::App::empty().page::<Counter>().build()
}

fn post(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .header("datastar-request", "true")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn get_renders_a_full_document_with_signals_and_event_actions() {
    let (res, body) = send(app(), Request::get("/counter").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = String::from_utf8(body.to_vec()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<title>Counter</title>"));
    assert!(html.contains(&format!(
        r#"<script type="module" src="{}""#,
        dstar::page::client_src()
    )));
    assert!(html.contains(r#"<title>Counter</title>"#));
    assert!(html.contains(r#"<div data-signals:count="0">"#));
    assert!(html.contains(
        r#"data-on:click="@post(location.pathname.replace(/^\/+/, '/').replace(/\/+$/, '') + '/_event/increment')""#
    ));
    assert!(html.contains("/_event/reset')\""));
}

#[tokio::test]
async fn increment_patches_the_count_and_the_history() {
    let client = TestClient::new(app());
    let response = client
        .post("/counter/_event/increment", json!({ "count": 41 }))
        .await;
    response.assert_status(200);
    assert_eq!(response.headers["content-type"], "text/event-stream");
    let events = response.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_patched_signals(&events, json!({ "count": 42 }));
    assert_patched_element(&events, "#history")
        .mode(Mode::Outer)
        .contains("Last: +1 → 42");
}

#[tokio::test]
async fn reset_logs_to_the_browser_console() {
    let client = TestClient::new(app());
    // the page first, as a browser would
    client.get("/counter").await.assert_status(200);
    let events = client
        .post("/counter/_event/reset", json!({ "count": 5 }))
        .await
        .events();
    assert_patched_signals(&events, json!({ "count": 0 }));
    assert_patched_element(&events, "#history").contains("Last: Reset");
    assert_patched_element(&events, "body")
        .mode(Mode::Append)
        .contains(r#"<script data-effect="el.remove()">console.log("Counter reset")</script>"#);
}

#[tokio::test]
async fn unknown_events_are_404_with_the_list() {
    let (res, body) = send(app(), post("/counter/_event/incremnt", "{}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        "unknown event `incremnt` on page `Counter`; events here: increment, reset"
    );
}

#[tokio::test]
async fn wrong_methods_are_405() {
    let req = Request::get("/counter/_event/increment")
        .body(Body::empty())
        .unwrap();
    let (res, _) = send(app(), req).await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let req = Request::delete("/counter").body(Body::empty()).unwrap();
    let (res, _) = send(app(), req).await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn malformed_signals_are_400() {
    let (res, body) = send(app(), post("/counter/_event/increment", r#"{"count":"x"}"#)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        r#"invalid signals: signals.count: invalid type: string "x", expected i64"#
    );
    let (res, _) = send(app(), post("/counter/_event/increment", "{")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn the_event_enum_has_wire_names_display_and_from_str() {
    assert_eq!(
        CounterEvent::ALL,
        [CounterEvent::Increment, CounterEvent::Reset]
    );
    assert_eq!(CounterEvent::Increment.to_string(), "increment");
    assert_eq!("reset".parse::<CounterEvent>(), Ok(CounterEvent::Reset));
    let err = "nope".parse::<CounterEvent>().unwrap_err();
    assert_eq!(err.to_string(), "unknown event `nope` on page `Counter`");
    assert_eq!(
        CounterEvent::Reset.action().to_string(),
        "@post(location.pathname.replace(/^\\/+/, '/').replace(/\\/+$/, '') + '/_event/reset')"
    );
    assert_eq!(Counter::PATH, "/counter");
    assert_eq!(Counter::NAME, "Counter");
}

#[test]
fn app_macro_collects_the_page_through_inventory() {
    let app = dstar::App::new();
    let routes: Vec<_> = app
        .routes()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(routes.contains(&"GET /counter".to_owned()), "{routes:?}");
    assert!(routes.contains(&"POST /counter/_event/increment".to_owned()));
    let _router: axum::Router = dstar::app!();
}
