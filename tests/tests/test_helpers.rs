//! `dstar::test`: the parser by the SSE spec, signal folding, element assertions, the client.

use axum::Router;
use axum::http::{HeaderMap, Method};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use dstar::elements::Mode;
use dstar::prelude::*;
use dstar::test::{
    TestClient, assert_patched_element, assert_patched_signals, parse_events, patched_signals,
};
use std::time::Duration;

#[test]
fn the_parser_follows_the_sse_line_rules() {
    let body = b": comment\r\n\
        event: datastar-patch-elements\r\n\
        id: 7\r\
        retry: 2500\n\
        data: elements <div>\r\n\
        data: elements </div>\r\
        data\n\
        retry: nope\n\
        \n\
        data: no event field\n\
        \n\
        \n\n\
        event: unterminated\n\
        data: never dispatched";
    let events = parse_events(body);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].event, "datastar-patch-elements");
    assert_eq!(events[0].id.as_deref(), Some("7"));
    assert_eq!(events[0].retry, Some(2500));
    assert_eq!(events[0].data, ["elements <div>", "elements </div>", ""]);
    assert_eq!(
        events[0].value("elements").as_deref(),
        Some("<div>\n</div>")
    );
    assert_eq!(events[1].event, "message");
    assert_eq!(events[1].data, ["no event field"]);
}

#[test]
fn patched_signals_fold_merge_patches() {
    let mut sse = Sse::new();
    sse.patch_signals(json!({ "user": { "name": "Ann", "theme": "dark" }, "count": 1 }))
        .patch_signals(json!({ "count": 2 }))
        .remove_signals("user.theme")
        .unwrap()
        .send(PatchSignals::new(json!({ "count": 99, "fresh": true })).only_if_missing(true))
        .unwrap();
    let events = parse_events(sse.as_bytes());
    assert_eq!(
        patched_signals(&events),
        json!({ "user": { "name": "Ann" }, "count": 2, "fresh": true })
    );
    assert_patched_signals(&events, json!({ "user": { "name": "Ann" } }));
}

#[test]
#[should_panic(expected = "signals.user.name: expected \"Bob\", got \"Ann\"")]
fn signal_mismatches_name_the_path() {
    let mut sse = Sse::new();
    sse.patch_signals(json!({ "user": { "name": "Ann" } }));
    assert_patched_signals(
        &parse_events(sse.as_bytes()),
        json!({ "user": { "name": "Bob" } }),
    );
}

#[test]
#[should_panic(expected = "signals.missing: expected 1, but it was never patched")]
fn missing_signals_are_reported() {
    assert_patched_signals(&[], json!({ "missing": 1 }));
}

#[test]
fn element_patches_are_found_by_selector_or_top_level_id() {
    let mut sse = Sse::new();
    sse.patch_elements(html! { span #history { "Last: +1 → 42" } div #other { p #inner {} } })
        .send(
            PatchElements::new("<li>x</li>")
                .selector("#list")
                .mode(Mode::Append),
        )
        .unwrap();
    let events = parse_events(sse.as_bytes());
    assert_patched_element(&events, "#history")
        .mode(Mode::Outer)
        .contains("Last: +1 → 42");
    assert_patched_element(&events, "#other").matches(r#"<p id="inner">"#);
    assert_patched_element(&events, "#list")
        .mode(Mode::Append)
        .contains("<li>x</li>");
    let result = std::panic::catch_unwind(|| {
        assert_patched_element(&events, "#inner");
    });
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.starts_with("no element patch targets `#inner`; patches sent:"),
        "{message}"
    );
    assert!(
        message.contains("selector Some(\"#list\"), mode append"),
        "{message}"
    );
}

#[test]
#[should_panic(expected = "has mode `append`, expected `inner`")]
fn a_wrong_mode_is_reported() {
    let mut sse = Sse::new();
    sse.send(
        PatchElements::new("<li></li>")
            .selector("#l")
            .mode(Mode::Append),
    )
    .unwrap();
    assert_patched_element(&parse_events(sse.as_bytes()), "#l").mode(Mode::Inner);
}

async fn page() -> impl IntoResponse {
    (
        [("set-cookie", "session=abc; HttpOnly; Path=/")],
        Html(r#"<body data-signals:csrf="'tok123'"><p>page</p></body>"#),
    )
}

use axum::response::Html;

async fn echo(method: Method, headers: HeaderMap, Signals(s): Signals) -> Sse {
    let mut sse = Sse::new();
    sse.patch_signals(json!({
        "method": method.as_str(),
        "signals": s,
        "cookie": headers.get("cookie").and_then(|v| v.to_str().ok()),
        "header_token": headers.get("x-csrf-token").and_then(|v| v.to_str().ok()),
    }));
    sse
}

fn app() -> Router {
    Router::new()
        .route("/", get(page))
        .route("/echo", post(echo).delete(echo).get(echo))
        .route(
            "/ticks",
            post(|| async {
                dstar::sse::stream(|sse| async move {
                    for n in 1..=3 {
                        let _ = sse.patch_signals(json!({ "tick": n })).await;
                    }
                })
            }),
        )
}

#[tokio::test]
async fn the_client_carries_cookies_and_the_csrf_token() {
    let client = TestClient::new(app());
    // before the page: no cookie, no token
    let r = client.post("/echo", json!({ "a": 1 })).await;
    assert_patched_signals(
        &r.events(),
        json!({ "signals": { "a": 1 }, "cookie": null, "header_token": null }),
    );

    client.get("/").await.assert_status(200);
    assert_eq!(client.cookie("session").as_deref(), Some("abc"));
    assert_eq!(client.csrf_token().as_deref(), Some("tok123"));

    let r = client.post("/echo", json!({ "a": 1 })).await;
    assert_patched_signals(
        &r.events(),
        // as the real client sends it: a signal, no header
        json!({ "method": "POST", "signals": { "a": 1, "csrf": "tok123" }, "cookie": "session=abc", "header_token": null }),
    );
    // DELETE sends signals in the query, and is unsafe: the token goes along
    let r = client
        .event(Method::DELETE, "/echo", json!({ "id": 5 }))
        .await;
    assert_patched_signals(
        &r.events(),
        json!({ "method": "DELETE", "signals": { "id": 5, "csrf": "tok123" } }),
    );
    // GET is safe: signals in the query, no token
    let r = client
        .event(Method::GET, "/echo", json!({ "q": "x" }))
        .await;
    assert_patched_signals(
        &r.events(),
        json!({ "method": "GET", "signals": { "q": "x" }, "header_token": null }),
    );
}

#[tokio::test]
async fn streams_are_read_event_by_event() {
    let client = TestClient::new(app());
    let mut stream = client.stream("/ticks", json!({})).await;
    let first = stream.next_events(2, Duration::from_secs(5)).await;
    assert_eq!(first[0].lines("signals"), [r#"{"tick":1}"#]);
    assert_eq!(first[1].lines("signals"), [r#"{"tick":2}"#]);
    let rest = stream
        .until_end(Duration::from_secs(5))
        .await
        .expect("the stream ends");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].lines("signals"), [r#"{"tick":3}"#]);
}

#[tokio::test]
#[should_panic(expected = "the stream ended before 4 more event(s) arrived")]
async fn a_stream_that_ends_early_is_reported() {
    let client = TestClient::new(app());
    let mut stream = client.stream("/ticks", json!({})).await;
    stream.next_events(4, Duration::from_secs(5)).await;
}
