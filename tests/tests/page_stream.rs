//! Streaming pages: the library-owned loop, PubSub delivery, per-tab deduplication, liveness,
//! cleanup and the disconnect hook. The live-stream count is process-wide, so these tests run
//! one at a time.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/ticker.rs"]
mod ticker;

use dstar::axum::extract::State;
use dstar::event::{Access, RequestHead};
use dstar::prelude::*;
use dstar::stream::{EndReason, stats};
use dstar::test::{TestClient, assert_patched_element, assert_patched_signals};
use serde_json::json;
use std::sync::Mutex;
use std::time::Duration;
use ticker::{AppState, Ticker};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static REASONS: Mutex<Vec<EndReason>> = Mutex::new(Vec::new());

#[derive(Clone, Default)]
struct ProbeState {
    pubsub: PubSub,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Msg(u32);

/// An extractor that refuses requests with `x-break` (a 400), to show a failed extractor cannot
/// end a live stream of the same tab.
struct NotBroken;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for NotBroken {
    type Rejection = (axum::http::StatusCode, &'static str);
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key("x-break") {
            Err((axum::http::StatusCode::BAD_REQUEST, "broken"))
        } else {
            Ok(NotBroken)
        }
    }
}

#[derive(Default)]
struct Probe;

#[dstar::page("/probe", state = ProbeState, idle_check = "50ms")]
impl Probe {
    fn render(&self) -> Markup {
        html! { div data-init=(connect()) {} }
    }

    fn authorize(head: &RequestHead, access: Access<ProbeEvent>) -> bool {
        !(access == Access::Stream && head.headers.contains_key("x-deny"))
    }

    async fn subscribe(State(s): State<ProbeState>, _ok: NotBroken) -> Subscription<Msg> {
        s.pubsub.subscribe("probe")
    }

    /// Odd messages are not for this page: they are logged and skipped.
    async fn on_message(sse: &mut Sse, msg: Msg) -> bool {
        if msg.0 % 2 == 1 {
            return false;
        }
        sse.patch_signals(json!({ "n": msg.0 }));
        true
    }

    fn on_disconnect(reason: EndReason) {
        REASONS.lock().unwrap().push(reason);
    }

    fn stream_key(_head: &RequestHead) -> &'static str {
        "probe"
    }
}

#[derive(Default)]
struct Still;

#[dstar::page("/still")]
impl Still {
    fn render(&self) -> Markup {
        html! {}
    }
}

/// A troubled message handler: it panics on message 7 and hangs (a call that never returns) on
/// any other, to see a panic and shutdown end its stream anyway.
#[derive(Default)]
struct Troubled;

#[dstar::page("/troubled", state = ProbeState)]
impl Troubled {
    fn render(&self) -> Markup {
        html! {}
    }

    async fn subscribe(State(s): State<ProbeState>) -> Subscription<Msg> {
        s.pubsub.subscribe("troubled")
    }

    async fn on_message(_sse: &mut Sse, msg: Msg) {
        if msg.0 == 7 {
            panic!("on_message failed on message {}", msg.0);
        }
        std::future::pending::<()>().await;
    }

    fn on_disconnect(reason: EndReason) {
        REASONS.lock().unwrap().push(reason);
    }
}

fn ticker_app(state: &AppState) -> axum::Router {
    dstar::App::empty()
        .page::<Ticker>()
        .state(state.clone())
        .with_stats(STATS_TOKEN)
        .build()
}

fn probe_app(state: &ProbeState) -> axum::Router {
    dstar::App::empty()
        .page::<Probe>()
        .page::<Still>()
        .page::<Troubled>()
        .state(state.clone())
        .build()
}

async fn settle_to_zero() {
    for _ in 0..200 {
        let s = stats();
        if s.streams == 0 && s.registry == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("streams did not end: {:?}", stats());
}

const WAIT: Duration = Duration::from_secs(5);

const STATS_TOKEN: &str = "page-stream-test-stats-token";

async fn stats_over_http(client: &TestClient) -> dstar::test::TestResponse {
    let req = axum::http::Request::get("/_dstar/stats")
        .header("authorization", format!("Bearer {STATS_TOKEN}"))
        .body(axum::body::Body::empty())
        .unwrap();
    client.send(req).await
}

#[tokio::test]
async fn broadcasts_reach_streams_as_patch_events() {
    let _serial = SERIAL.lock().await;
    let state = AppState::default();
    let client = TestClient::new(ticker_app(&state));
    let mut stream = client.stream("/ticker", json!({ "tabId": "tab-1" })).await;
    assert_eq!(stream.headers["content-type"], "text/event-stream");
    client
        .post("/ticker/_event/bump", json!({}))
        .await
        .assert_status(200);
    let events = stream.next_events(1, WAIT).await;
    assert_patched_signals(&events, json!({ "tick": 1 }));
    state.tick().await.unwrap();
    assert_patched_signals(&stream.next_events(1, WAIT).await, json!({ "tick": 2 }));
    drop(stream);
    settle_to_zero().await;
}

#[tokio::test]
async fn a_disconnected_stream_ends_and_the_counts_return_to_zero() {
    let _serial = SERIAL.lock().await;
    let state = AppState::default();
    let client = TestClient::new(ticker_app(&state));
    let stream = client.stream("/ticker", json!({ "tabId": "tab-x" })).await;
    // without the token the figures stay private
    client.get("/_dstar/stats").await.assert_status(401);
    let r = stats_over_http(&client).await;
    assert_eq!(r.text(), r#"{"streams":1,"registry":1}"#);
    drop(stream);
    settle_to_zero().await;
    assert_eq!(
        stats_over_http(&client).await.text(),
        r#"{"streams":0,"registry":0}"#
    );
    // the topic has no subscriber left
    assert_eq!(
        state.pubsub.publish(ticker::TOPIC, ticker::Tick(0)).await,
        Ok(0)
    );
}

#[tokio::test]
async fn a_second_connect_from_the_same_tab_ends_the_first_at_once() {
    let _serial = SERIAL.lock().await;
    let state = AppState::default();
    let client = TestClient::new(ticker_app(&state));
    let mut first = client.stream("/ticker", json!({ "tabId": "same" })).await;
    let mut second = client.stream("/ticker", json!({ "tabId": "same" })).await;
    let ended = first.until_end(Duration::from_millis(100)).await;
    assert_eq!(
        ended.map(|e| e.len()),
        Some(0),
        "the first stream must end cleanly within 100 ms"
    );
    state.tick().await.unwrap();
    assert_patched_signals(&second.next_events(1, WAIT).await, json!({ "tick": 1 }));
    assert_eq!(stats().registry, 1);
    drop(second);
    settle_to_zero().await;
}

#[tokio::test]
async fn two_tabs_both_stay_live_and_no_tab_means_no_dedup() {
    let _serial = SERIAL.lock().await;
    let state = AppState::default();
    let client = TestClient::new(ticker_app(&state));
    let mut a = client.stream("/ticker", json!({ "tabId": "a" })).await;
    let mut b = client.stream("/ticker", json!({ "tabId": "b" })).await;
    let mut plain1 = client.stream("/ticker", json!({})).await;
    let mut plain2 = client.stream("/ticker", json!({ "tabId": "   " })).await;
    assert_eq!(
        stats(),
        dstar::stream::StreamStats {
            streams: 4,
            registry: 2
        }
    );
    state.tick().await.unwrap();
    for s in [&mut a, &mut b, &mut plain1, &mut plain2] {
        assert_patched_signals(&s.next_events(1, WAIT).await, json!({ "tick": 1 }));
    }
    drop((a, b, plain1, plain2));
    settle_to_zero().await;
}

#[tokio::test]
async fn unhandled_messages_do_not_kill_the_loop() {
    let _serial = SERIAL.lock().await;
    let state = ProbeState::default();
    let client = TestClient::new(probe_app(&state));
    let mut stream = client.stream("/probe", json!({})).await;
    state.pubsub.publish("probe", Msg(1)).await.unwrap();
    state
        .pubsub
        .publish("probe", "a stray string".to_owned())
        .await
        .unwrap();
    state.pubsub.publish("probe", Msg(2)).await.unwrap();
    let events = stream.next_events(1, WAIT).await;
    assert_patched_signals(&events, json!({ "n": 2 }));
    drop(stream);
    settle_to_zero().await;
}

#[tokio::test]
async fn authorize_runs_before_the_stream_opens() {
    let _serial = SERIAL.lock().await;
    let app = probe_app(&ProbeState::default());
    let req = axum::http::Request::post("/probe")
        .header("x-deny", "1")
        .body(axum::body::Body::from("{}"))
        .unwrap();
    let (res, body) = dstar_tests::send(app.clone(), req).await;
    assert_eq!((res.status().as_u16(), &body[..]), (403, &b"forbidden"[..]));
    assert_eq!(stats().streams, 0);
    // a page without a stream answers its POST with a 404
    let req = axum::http::Request::post("/still")
        .body(axum::body::Body::empty())
        .unwrap();
    let (res, body) = dstar_tests::send(app, req).await;
    assert_eq!(res.status(), 404);
    assert!(
        std::str::from_utf8(&body)
            .unwrap()
            .starts_with("page `Still` has no stream")
    );
}

#[tokio::test]
async fn a_refused_connect_does_not_end_the_tabs_live_stream() {
    let _serial = SERIAL.lock().await;
    let state = ProbeState::default();
    let app = probe_app(&state);
    let client = TestClient::new(app.clone());
    let mut live = client.stream("/probe", json!({ "tabId": "victim" })).await;
    // someone who knows the tab id, refused by `authorize`, and another by an extractor
    for header in ["x-deny", "x-break"] {
        let req = axum::http::Request::post("/probe")
            .header(header, "1")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(r#"{"tabId":"victim"}"#))
            .unwrap();
        let (res, _) = dstar_tests::send(app.clone(), req).await;
        assert!(res.status().is_client_error(), "{header}: {}", res.status());
    }
    // the live stream was not taken over: it still gets messages
    state.pubsub.publish("probe", Msg(4)).await.unwrap();
    assert_patched_signals(&live.next_events(1, WAIT).await, json!({ "n": 4 }));
    assert_eq!(stats().streams, 1);
    drop(live);
    settle_to_zero().await;
}

#[tokio::test]
async fn idle_check_detects_a_dead_peer_and_the_hook_runs_once() {
    let _serial = SERIAL.lock().await;
    REASONS.lock().unwrap().clear();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = probe_app(&ProbeState::default());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"POST /probe HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let mut seen = Vec::new();
    // the liveness comment arrives every 50 ms
    while !String::from_utf8_lossy(&seen).contains(": \n\n") {
        let n = tokio::time::timeout(WAIT, tcp.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    assert_eq!(stats().streams, 1);
    drop(tcp); // the peer vanishes without a word
    settle_to_zero().await;
    assert_eq!(*REASONS.lock().unwrap(), [EndReason::ClientGone]);
    server.abort();
}

/// Opens `path` as a stream over a real socket and returns it with the server task.
async fn open_over_tcp(
    state: &ProbeState,
    path: &str,
) -> (
    tokio::net::TcpStream,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = probe_app(state);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    (tcp, server)
}

/// Reads the first bytes of a stream opened by [`open_over_tcp`]: a `200` head.
async fn assert_stream_answers(tcp: &mut tokio::net::TcpStream) {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(WAIT, tcp.read(&mut buf))
        .await
        .expect("the stream answers")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("200 OK"));
}

#[tokio::test]
async fn messages_that_write_nothing_do_not_hold_off_the_liveness_check() {
    let _serial = SERIAL.lock().await;
    let state = ProbeState::default();
    let (mut tcp, server) = open_over_tcp(&state, "/probe").await;
    // odd messages are not for the page: they write nothing, so they check nothing either
    let pubsub = state.pubsub.clone();
    let publisher = tokio::spawn(async move {
        for n in 0.. {
            let _ = pubsub.publish("probe", Msg(2 * n + 1)).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let mut buf = vec![0u8; 4096];
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(": \n\n") {
        let n = tokio::time::timeout(WAIT, tcp.read(&mut buf))
            .await
            .expect("no liveness check while only unhandled messages came")
            .unwrap();
        assert!(n > 0, "the stream ended");
        seen.extend_from_slice(&buf[..n]);
    }
    publisher.abort();
    drop(tcp);
    settle_to_zero().await;
    server.abort();
}

#[tokio::test]
async fn a_panicking_message_handler_ends_its_stream_and_releases_everything() {
    let _serial = SERIAL.lock().await;
    REASONS.lock().unwrap().clear();
    let state = ProbeState::default();
    let (mut tcp, server) = open_over_tcp(&state, "/troubled").await;
    // the response head and the stream's id: the loop runs
    assert_stream_answers(&mut tcp).await;
    let mut buf = vec![0u8; 4096];
    state.pubsub.publish("troubled", Msg(7)).await.unwrap();
    // the stream ends (the chunked body's last chunk), and only the stream: the panic is caught
    let mut seen = Vec::new();
    let ended = tokio::time::timeout(WAIT, async {
        while !seen.ends_with(b"0\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream stayed open after the panic");
    assert!(seen.ends_with(b"0\r\n\r\n"), "a clean end of the body");
    settle_to_zero().await;
    assert_eq!(*REASONS.lock().unwrap(), [EndReason::Closed]);
    // the server goes on serving
    let (mut again, _second) = open_over_tcp(&state, "/probe").await;
    assert_stream_answers(&mut again).await;
    drop(again);
    settle_to_zero().await;
    server.abort();
    _second.abort();
}

#[tokio::test]
async fn the_hook_runs_once_per_stream_for_takeovers_and_departures() {
    let _serial = SERIAL.lock().await;
    REASONS.lock().unwrap().clear();
    let state = ProbeState::default();
    let client = TestClient::new(probe_app(&state));
    let mut first = client.stream("/probe", json!({ "tabId": "t" })).await;
    let second = client.stream("/probe", json!({ "tabId": "t" })).await;
    assert!(first.until_end(Duration::from_millis(100)).await.is_some());
    drop(first);
    drop(second);
    settle_to_zero().await;
    assert_eq!(
        *REASONS.lock().unwrap(),
        [EndReason::Takeover, EndReason::ClientGone]
    );
}

#[tokio::test]
async fn shutdown_ends_every_stream_cleanly() {
    // shutdown is for the whole process: run it in a child process of this test binary
    if !dstar_tests::in_child(
        "shutdown_ends_every_stream_cleanly",
        "DSTAR_TEST_SHUTDOWN_CHILD",
        "1".as_ref(),
    ) {
        return;
    }
    REASONS.lock().unwrap().clear();
    let state = ProbeState::default();
    let client = TestClient::new(probe_app(&state));
    let mut page_stream = client.stream("/probe", json!({ "tabId": "s" })).await;
    let plain = axum::Router::new().route(
        "/plain",
        axum::routing::post(|| async {
            dstar::sse::stream(|_sse| async { std::future::pending::<()>().await })
        }),
    );
    let mut plain_stream = TestClient::new(plain).stream("/plain", json!({})).await;
    // a stream whose message handler hangs is ended too, and says it was shutdown
    let mut stuck_stream = client.stream("/troubled", json!({})).await;
    state.pubsub.publish("troubled", Msg(1)).await.unwrap();
    // read for a while: the loop takes the message and hangs in the handler
    assert!(
        stuck_stream
            .until_end(Duration::from_millis(100))
            .await
            .is_none()
    );
    dstar::sse::shutdown();
    assert!(page_stream.until_end(WAIT).await.is_some());
    assert!(plain_stream.until_end(WAIT).await.is_some());
    assert!(stuck_stream.until_end(WAIT).await.is_some());
    drop((page_stream, plain_stream, stuck_stream));
    settle_to_zero().await;
    assert_eq!(
        *REASONS.lock().unwrap(),
        [EndReason::Shutdown, EndReason::Shutdown]
    );
}

#[tokio::test]
async fn hand_written_streams_are_deduplicated_too() {
    let _serial = SERIAL.lock().await;
    async fn feed(req: axum::extract::Request) -> axum::response::Response {
        use axum::response::IntoResponse;
        let (tab, _req) = match dstar::stream::read_tab_id(req).await {
            Ok(v) => v,
            Err(r) => return r,
        };
        dstar::stream::start_stream("user-7", tab.as_deref(), |sse| async move {
            let _ = sse.patch_signals(json!({ "hello": true })).await;
            std::future::pending::<()>().await;
        })
        .into_response()
    }
    let client = TestClient::new(axum::Router::new().route("/feed", axum::routing::post(feed)));
    let mut first = client.stream("/feed", json!({ "tabId": "t" })).await;
    first.next_events(1, WAIT).await;
    let mut second = client.stream("/feed", json!({ "tabId": "t" })).await;
    second.next_events(1, WAIT).await;
    assert!(first.until_end(Duration::from_millis(100)).await.is_some());
    drop(second);
    settle_to_zero().await;
}

#[tokio::test]
async fn the_tab_can_come_in_a_header_too() {
    let (tab, req) = dstar::stream::read_tab_id(
        axum::http::Request::post("/ticker")
            .header(dstar::stream::TAB_HEADER, "from-header")
            .body(axum::body::Body::from(r#"{"tabId":"from-body","x":1}"#))
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(tab.as_deref(), Some("from-header"));
    // the body was left for the extractors
    let signals: serde_json::Value = dstar::signals::read_signals(req).await.unwrap();
    assert_eq!(signals["x"], 1);
}

#[tokio::test]
async fn registry_slots_are_exact_per_scope_and_tab() {
    let _serial = SERIAL.lock().await;
    use dstar::stream::StreamRegistry;
    use std::future::poll_fn;
    use std::task::Poll;
    let registry = StreamRegistry::global();
    // the same characters split differently are different (scope, tab) pairs
    let a = registry.claim("user-ab", "c");
    let b = registry.claim("user-a", "bc");
    let c = registry.claim("user-a", "b:c");
    async fn pending(claim: &dstar::stream::Claim) -> bool {
        poll_fn(|cx| Poll::Ready(claim.poll_taken_over(cx).is_pending())).await
    }
    assert!(pending(&a).await && pending(&b).await && pending(&c).await);
    // a takeover ends exactly the old holder, and the old holder's drop leaves the new entry
    let b2 = registry.claim("user-a", "bc");
    assert!(
        !pending(&b).await,
        "the older stream of the tab was not told"
    );
    assert!(pending(&a).await && pending(&c).await && pending(&b2).await);
    drop(b);
    assert!(!registry.evict("user-a", "nobody"));
    assert!(
        registry.evict("user-a", "bc"),
        "the newer entry is still held"
    );
    assert!(!pending(&b2).await);
}

#[tokio::test]
async fn a_reconnect_first_gets_a_fresh_render_so_nothing_published_meanwhile_is_missed() {
    let _serial = SERIAL.lock().await;
    let state = AppState::default();
    let client = TestClient::new(ticker_app(&state));
    let mut first = client.stream("/ticker", json!({ "tabId": "rc" })).await;
    state.tick().await.unwrap();
    // a first connect sends its id, then messages: no render (the page was just rendered)
    let events = first.next_events(1, WAIT).await;
    assert_patched_signals(&events, json!({ "tick": 1 }));
    let id = first.last_event_id().expect("the stream's id");
    assert!(
        id.starts_with(&format!("{}.", dstar::stream::stream_id())),
        "{id}"
    );
    // the connection drops; ticks go out while the tab is away
    drop(first);
    state.tick().await.unwrap();
    state.tick().await.unwrap();
    // Datastar reconnects with Last-Event-ID: the page root is morphed with the current state
    let mut again = client
        .reconnect("/ticker", json!({ "tabId": "rc" }), &id)
        .await;
    let events = again.next_events(1, WAIT).await;
    assert_patched_element(&events, "#ds-page")
        .mode(dstar::elements::Mode::Outer)
        .contains(r#"data-signals:tick="3""#);
    // only the page's root, never the layout
    let html = events[0].value("elements").unwrap();
    assert!(!html.contains("<body") && !html.contains("<head"), "{html}");
    // and it goes on live
    state.tick().await.unwrap();
    assert_patched_signals(&again.next_events(1, WAIT).await, json!({ "tick": 4 }));
    drop(again);
    settle_to_zero().await;
}

#[tokio::test]
async fn a_reconnect_to_a_new_build_reloads_the_page_in_debug_builds() {
    let _serial = SERIAL.lock().await;
    let state = AppState::default();
    let client = TestClient::new(ticker_app(&state));
    // live reload is on in debug builds unless DSTAR_LIVE_RELOAD=0; the test needs it on
    if !dstar::stream::live_reload() {
        dstar_tests::skipped("live reload is off in this build");
        return;
    }
    let mut stream = client
        .reconnect(
            "/ticker",
            json!({ "tabId": "lr" }),
            "ds1.0123456789ab.00000000",
        )
        .await;
    let events = stream.next_events(1, WAIT).await;
    assert_eq!(events[0].event, "datastar-patch-elements");
    assert!(
        events[0]
            .value("elements")
            .unwrap()
            .contains("location.reload()"),
        "{events:?}"
    );
    drop(stream);
    settle_to_zero().await;
}

/// A page whose item can disappear while a tab is away.
#[derive(Clone, Default)]
struct Shelf {
    pubsub: PubSub,
    gone: std::sync::Arc<std::sync::atomic::AtomicBool>,
    broken: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

struct Item;

#[dstar::page("/item", state = Shelf)]
impl Item {
    fn mount(State(shelf): State<Shelf>) -> Result<Self, axum::http::StatusCode> {
        if shelf.broken.load(std::sync::atomic::Ordering::SeqCst) {
            Err(axum::http::StatusCode::SERVICE_UNAVAILABLE)
        } else if shelf.gone.load(std::sync::atomic::Ordering::SeqCst) {
            Err(axum::http::StatusCode::NOT_FOUND)
        } else {
            Ok(Item)
        }
    }

    fn render(&self) -> Markup {
        html! { p data-init=(connect()) { "item" } }
    }

    async fn subscribe(State(shelf): State<Shelf>) -> Subscription<Msg> {
        shelf.pubsub.subscribe("shelf")
    }

    async fn on_message(sse: &mut Sse, msg: Msg) {
        sse.patch_signals(json!({ "n": msg.0 }));
    }
}

#[tokio::test]
async fn a_reconnect_whose_mount_now_refuses_reloads_the_page_to_show_why() {
    let _serial = SERIAL.lock().await;
    let shelf = Shelf::default();
    let app = dstar::App::empty()
        .page::<Item>()
        .state(shelf.clone())
        .build();
    let client = TestClient::new(app);
    // a passing failure (a 5xx) keeps the page as it is: no reload, messages go on
    shelf
        .broken
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let mut stream = client
        .reconnect("/item", json!({}), dstar::stream::stream_id())
        .await;
    shelf.pubsub.publish("shelf", Msg(3)).await.unwrap();
    let events = stream.next_events(1, WAIT).await;
    assert_patched_signals(&events, json!({ "n": 3 }));
    drop(stream);
    shelf
        .broken
        .store(false, std::sync::atomic::Ordering::SeqCst);
    // the item is gone: the page reloads to show why
    shelf.gone.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut stream = client
        .reconnect("/item", json!({}), dstar::stream::stream_id())
        .await;
    let events = stream.next_events(1, WAIT).await;
    assert!(
        events[0]
            .value("elements")
            .unwrap()
            .contains("location.reload()")
    );
    drop(stream);
    settle_to_zero().await;
}

#[tokio::test]
async fn with_csrf_sessions_a_leaked_tab_id_cannot_end_another_users_stream() {
    let _serial = SERIAL.lock().await;
    let state = ProbeState::default();
    let app = dstar::App::empty()
        .page::<Probe>()
        .state(state.clone())
        .csrf(dstar::csrf::Csrf::random())
        .build();
    let alice = TestClient::new(app.clone());
    let mallory = TestClient::new(app);
    alice.get("/probe").await.assert_status(200);
    mallory.get("/probe").await.assert_status(200);
    let mut live = alice
        .stream("/probe", json!({ "tabId": "alice-tab" }))
        .await;
    // another session that learned the tab id opens a stream with it
    let mut other = mallory
        .stream("/probe", json!({ "tabId": "alice-tab" }))
        .await;
    state.pubsub.publish("probe", Msg(6)).await.unwrap();
    assert_patched_signals(&live.next_events(1, WAIT).await, json!({ "n": 6 }));
    assert_patched_signals(&other.next_events(1, WAIT).await, json!({ "n": 6 }));
    assert_eq!(stats().registry, 2, "two sessions, two slots");
    // the same session and tab still deduplicates
    let mut again = alice
        .stream("/probe", json!({ "tabId": "alice-tab" }))
        .await;
    assert!(
        live.until_end(WAIT).await.is_some(),
        "the older stream ended"
    );
    state.pubsub.publish("probe", Msg(8)).await.unwrap();
    assert_patched_signals(&again.next_events(1, WAIT).await, json!({ "n": 8 }));
    drop((again, other));
    settle_to_zero().await;
}

#[tokio::test]
async fn two_live_tabs_sharing_an_id_do_not_evict_each_other_forever() {
    let _serial = SERIAL.lock().await;
    let state = AppState::default();
    let client = TestClient::new(ticker_app(&state));
    let mut a = client.stream("/ticker", json!({ "tabId": "twin" })).await;
    state.tick().await.unwrap();
    a.next_events(1, WAIT).await;
    let a_id = a.last_event_id().unwrap();
    // a second live tab with the same id (a copy made some way the layout cannot see) takes over
    let mut b = client.stream("/ticker", json!({ "tabId": "twin" })).await;
    assert!(a.until_end(WAIT).await.is_some());
    // the first tab's Datastar reconnects (retry: 'always'): instead of evicting the second, it
    // is told to draw a new tab id and reload
    let mut back = client
        .reconnect("/ticker", json!({ "tabId": "twin" }), &a_id)
        .await;
    let events = back.next_events(1, WAIT).await;
    let script = events[0].value("elements").unwrap();
    assert!(
        script.contains("sessionStorage.removeItem('_ds_tab'); location.reload()"),
        "{script}"
    );
    // the second tab kept its stream
    state.tick().await.unwrap();
    assert_patched_signals(&b.next_events(1, WAIT).await, json!({ "tick": 2 }));
    // and its own reconnect (a network drop) takes its slot back as usual
    let b_id = b.last_event_id().unwrap();
    drop(b);
    let mut b_again = client
        .reconnect("/ticker", json!({ "tabId": "twin" }), &b_id)
        .await;
    let events = b_again.next_events(1, WAIT).await;
    assert_patched_element(&events, "#ds-page");
    drop((back, b_again));
    settle_to_zero().await;
}

/// The render time a page carries on `<body data-ds-rendered>`.
fn rendered_at(html: &str) -> String {
    let start = html.find("data-ds-rendered=\"").expect("the render time") + 18;
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_owned()
}

#[tokio::test]
async fn a_page_that_went_stale_while_loading_is_rendered_again_by_its_first_stream() {
    let _serial = SERIAL.lock().await;
    let state = AppState::default();
    let client = TestClient::new(ticker_app(&state));
    let page = client.get("/ticker").await.text();
    assert!(page.contains(r#"data-signals:tick="0""#), "{page}");
    let rendered = rendered_at(&page);
    // a tick goes out after the render, before the browser opens the stream: nobody is
    // subscribed yet, so no stream could deliver it
    state.tick().await.unwrap();
    let header = [(dstar::page::RENDERED_HEADER, rendered.as_str())];
    let mut stream = client
        .stream_with_headers("/ticker", json!({ "tabId": "stale" }), &header)
        .await;
    let events = stream.next_events(1, WAIT).await;
    assert_patched_element(&events, "#ds-page")
        .mode(dstar::elements::Mode::Outer)
        .contains(r#"data-signals:tick="1""#);
    drop(stream);

    // a page that is still current gets no render: its stream goes straight to messages (a
    // render time has millisecond precision, and a message in the same millisecond counts as
    // after it: rendered again rather than missed)
    tokio::time::sleep(Duration::from_millis(5)).await;
    let page = client.get("/ticker").await.text();
    let rendered = rendered_at(&page);
    let header = [(dstar::page::RENDERED_HEADER, rendered.as_str())];
    // published on another topic meanwhile: not this page's business
    state.pubsub.publish("elsewhere", 1u32).await.unwrap();
    let mut stream = client
        .stream_with_headers("/ticker", json!({ "tabId": "fresh" }), &header)
        .await;
    state.tick().await.unwrap();
    let events = stream.next_events(1, WAIT).await;
    assert_eq!(events[0].event, "datastar-patch-signals", "{events:?}");
    assert_patched_signals(&events, json!({ "tick": 2 }));
    drop(stream);
    settle_to_zero().await;
}

#[tokio::test]
async fn a_stream_that_fell_behind_ends_and_its_reconnect_catches_up() {
    let _serial = SERIAL.lock().await;
    // room for 4 ticks per subscriber
    let state = AppState {
        pubsub: PubSub::with_capacity(4),
        ..AppState::default()
    };
    let client = TestClient::new(ticker_app(&state));
    let mut stream = client.stream("/ticker", json!({ "tabId": "slow" })).await;
    state.tick().await.unwrap();
    assert_patched_signals(&stream.next_events(1, WAIT).await, json!({ "tick": 1 }));
    let id = stream.last_event_id().expect("the stream's id");
    // the client reads nothing while 10 ticks go out: its stream falls behind, and skipping
    // some would leave the page showing a state that missed changes
    for _ in 0..10 {
        state.tick().await.unwrap();
    }
    // so the stream ends, cleanly (the page's `connect()` retries always)
    let rest = stream
        .until_end(WAIT)
        .await
        .expect("a stream that lost messages should end");
    assert!(rest.is_empty(), "it sends no tick after the gap: {rest:?}");
    // and the reconnect starts with the page as it is now
    let mut again = client
        .reconnect("/ticker", json!({ "tabId": "slow" }), &id)
        .await;
    assert_patched_element(&again.next_events(1, WAIT).await, "#ds-page")
        .contains(r#"data-signals:tick="11""#);
    state.tick().await.unwrap();
    assert_patched_signals(&again.next_events(1, WAIT).await, json!({ "tick": 12 }));
    drop(again);
    settle_to_zero().await;

    // the disconnect hook hears why
    REASONS.lock().unwrap().clear();
    let probe = ProbeState {
        pubsub: PubSub::with_capacity(2),
    };
    let client = TestClient::new(probe_app(&probe));
    let mut stream = client.stream("/probe", json!({ "tabId": "slow" })).await;
    for n in 0..5 {
        probe.pubsub.publish("probe", Msg(n * 2)).await.unwrap();
    }
    assert!(stream.until_end(WAIT).await.is_some());
    settle_to_zero().await;
    assert_eq!(*REASONS.lock().unwrap(), [EndReason::Missed]);
}

#[tokio::test]
async fn test_pages_follow_their_streams_as_browsers_do() {
    use dstar::test::TestPage;
    let _serial = SERIAL.lock().await;
    let state = AppState {
        pubsub: PubSub::with_capacity(4),
        ..AppState::default()
    };
    let app = ticker_app(&state);
    // two browsers
    let mut alice = TestPage::open(app.clone(), "/ticker").await;
    let mut bob = TestPage::open(app, "/ticker").await;
    alice.connect().await;
    bob.connect().await;
    assert_eq!(stats().streams, 2, "two tabs, two streams");
    alice.click("button").await;
    bob.wait_until(|page| page.signals()["tick"] == 1, WAIT)
        .await;
    alice
        .wait_until(|page| page.signals()["tick"] == 1, WAIT)
        .await;
    // Bob's tab falls behind: its stream ends, and the page reconnects and is rendered afresh
    // (the count in the page's text comes only from a render)
    for _ in 0..10 {
        state.tick().await.unwrap();
    }
    assert_eq!(bob.reconnects(), 0);
    bob.wait_until(|page| page.text("#tick") == "11", WAIT)
        .await;
    assert_eq!(bob.signals()["tick"], 11);
    assert_eq!(bob.reconnects(), 1, "one end, one reconnect");
    // and it goes on live, on the same stream
    state.tick().await.unwrap();
    bob.wait_until(|page| page.signals()["tick"] == 12, WAIT)
        .await;
    assert_eq!(bob.reconnects(), 1);
    assert_eq!(alice.reconnects(), 0);
    drop((alice, bob));
    settle_to_zero().await;
}

#[tokio::test]
async fn a_hand_written_stream_without_catch_up_skips_what_it_lost() {
    use dstar::stream::{EndGuard, PageStream};
    let _serial = SERIAL.lock().await;
    let (tx, _) = tokio::sync::broadcast::channel::<u32>(2);
    let feed = {
        let tx = tx.clone();
        axum::routing::post(move || {
            let source = tx.subscribe();
            async move {
                let stream = PageStream {
                    source,
                    idle_check: Duration::from_secs(30),
                    claim: None,
                    guard: EndGuard::none(),
                    first: Sse::new(),
                    catch_up: false,
                };
                dstar::stream::run(stream, |n: u32| async move {
                    let mut sse = Sse::new();
                    sse.patch_signals(json!({ "n": n }));
                    sse
                })
            }
        })
    };
    let client = TestClient::new(axum::Router::new().route("/feed", feed));
    let mut stream = client.stream("/feed", json!({})).await;
    for n in 1..=5 {
        tx.send(n).unwrap();
    }
    // 1 to 3 were lost; the stream goes on with what is left
    assert_patched_signals(&stream.next_events(1, WAIT).await, json!({ "n": 4 }));
    assert_patched_signals(&stream.next_events(1, WAIT).await, json!({ "n": 5 }));
    tx.send(6).unwrap();
    assert_patched_signals(&stream.next_events(1, WAIT).await, json!({ "n": 6 }));
    drop(stream);
    settle_to_zero().await;
}
