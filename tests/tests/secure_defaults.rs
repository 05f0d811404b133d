//! Secure by default on every way of serving: the host allow-list (DNS rebinding), one `Host`
//! header, security headers, a strict CSP on request, and panics answered with a `500` while the
//! connection lives on. Each server here runs on 127.0.0.1.

use dstar::headers::SecurityHeaders;
use dstar::prelude::*;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Default)]
struct Home;

#[dstar::page("/home")]
impl Home {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("boom")) { "Boom" } }
    }

    #[event]
    async fn boom() {
        panic!("a bug in a handler");
    }
}

async fn hello() -> &'static str {
    "hello"
}

async fn ticks() -> impl axum::response::IntoResponse {
    dstar::sse::stream(|sse| async move {
        let _ = sse.patch_signals(json!({ "tick": 1 })).await;
    })
}

/// Serves `app` on a free loopback port until the returned sender is dropped.
async fn serve(server: dstar::Server) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let bound = server
        .logging(false)
        .default_addr("127.0.0.1:0")
        .shutdown_on(async {
            let _ = rx.await;
        })
        .bind()
        .await
        .unwrap();
    let addr = bound.local_addr();
    tokio::spawn(bound.run());
    (addr, tx)
}

fn app() -> dstar::App {
    dstar::App::empty()
        .page::<Home>()
        .route("/hello", axum::routing::get(hello))
        .route("/ticks", axum::routing::post(ticks))
}

/// Sends raw requests on one connection and reads until it closes (the last has
/// `Connection: close`).
async fn raw(addr: SocketAddr, requests: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(requests.as_bytes()).await.unwrap();
    let mut out = String::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tcp.read_to_string(&mut out),
    )
    .await;
    out
}

fn status(response: &str) -> &str {
    response.get(9..12).unwrap_or("")
}

#[tokio::test]
async fn a_loopback_server_refuses_other_host_names() {
    let (addr, _stop) = serve(dstar::Server::new(app())).await;
    let port = addr.port();
    for (host, want) in [
        (format!("127.0.0.1:{port}"), "200"),
        (format!("localhost:{port}"), "200"),
        (format!("[::1]:{port}"), "200"),
        (format!("rebind.attacker.example:{port}"), "400"),
        ("localhost.attacker.example".to_owned(), "400"),
    ] {
        let answer = raw(
            addr,
            &format!("GET /hello HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status(&answer), want, "{host}: {answer}");
        if want == "400" {
            assert!(answer.ends_with("bad request: unknown host"), "{answer}");
        }
    }
}

#[tokio::test]
async fn allowed_hosts_are_served_and_a_router_of_your_own_is_checked_too() {
    let (addr, _stop) = serve(dstar::Server::new(app().allowed_hosts(["notes.example"]))).await;
    let ok = raw(
        addr,
        "GET /hello HTTP/1.1\r\nHost: notes.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status(&ok), "200", "{ok}");
    let routes = dstar::routes! { "/hello" => get(hello) };
    let (addr, _stop) = serve(dstar::Server::from_routes(routes)).await;
    let refused = raw(
        addr,
        "GET /hello HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status(&refused), "400", "{refused}");
}

#[tokio::test]
async fn zero_or_several_host_headers_are_refused() {
    let (addr, _stop) = serve(dstar::Server::new(app())).await;
    let port = addr.port();
    let two = raw(
        addr,
        &format!(
            "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(status(&two), "400", "{two}");
    let none = raw(addr, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status(&none), "400", "{none}");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_they_can_change() {
    let client = dstar::test::TestClient::new(app().build());
    for path in ["/home", "/hello"] {
        let page = client.get(path).await;
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
        assert_eq!(page.headers["x-frame-options"], "SAMEORIGIN");
        assert_eq!(
            page.headers["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
        assert!(!page.headers.contains_key("content-security-policy"));
    }
    // an event stream: fetch reads it, nothing frames it or navigates to it, so the document
    // headers stay off (hyper keeps a connection's response headers while the stream is open)
    let stream = client.stream("/ticks", json!({})).await;
    assert_eq!(stream.headers["content-type"], "text/event-stream");
    assert_eq!(stream.headers["x-content-type-options"], "nosniff");
    assert!(!stream.headers.contains_key("x-frame-options"));
    assert!(!stream.headers.contains_key("referrer-policy"));
    let changed = app().security_headers(
        SecurityHeaders::default()
            .frame_options(Some("DENY"))
            .referrer_policy(None),
    );
    let page = dstar::test::TestClient::new(changed.build())
        .get("/home")
        .await;
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(!page.headers.contains_key("referrer-policy"));
}

#[tokio::test]
async fn a_strict_csp_puts_its_nonce_on_the_layouts_scripts() {
    let strict = app().security_headers(SecurityHeaders::default().strict_csp(true));
    let client = dstar::test::TestClient::new(strict.build());
    let page = client.get("/home").await;
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce");
    assert!(
        policy.contains("'strict-dynamic' 'unsafe-eval'"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'self'"), "{policy}");
    let html = page.text();
    assert_eq!(
        html.matches(&format!(r#"nonce="{nonce}""#)).count(),
        2,
        "the client and the glue script: {html}"
    );
    // a fresh nonce per page
    let again = client.get("/home").await;
    assert_ne!(again.headers["content-security-policy"], policy);
}

#[tokio::test]
async fn a_panicking_handler_gets_a_500_and_the_connection_lives_on() {
    let (addr, _stop) = serve(dstar::Server::new(app())).await;
    let port = addr.port();
    let answer = raw(
        addr,
        &format!(
            "POST /home/_event/boom HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 2\r\n\r\n{{}}\
             GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(status(&answer), "500", "{answer}");
    assert!(answer.contains("internal server error"));
    assert!(
        !answer.contains("a bug in a handler"),
        "no internals: {answer}"
    );
    // the same connection answered the next request
    let second = answer.split("HTTP/1.1 ").nth(2).expect("a second answer");
    assert!(second.starts_with("200"), "{answer}");
    assert!(answer.ends_with("hello"));
}

#[tokio::test]
async fn the_counter_does_not_overflow() {
    let app = dstar::App::empty().page::<dstar_examples_counter::Counter>();
    let client = dstar::test::TestClient::new(app.build());
    let events = client
        .post("/counter/_event/increment", json!({ "count": i64::MAX }))
        .await;
    events.assert_status(200);
    dstar::test::assert_patched_element(&events.events(), "#history")
        .contains("as high as it goes");
}

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/counter.rs"]
mod dstar_examples_counter;

#[derive(serde::Deserialize)]
struct Note {
    text: String,
}

async fn echo(Signals(note): Signals<Note>) -> Sse {
    let mut sse = Sse::new();
    sse.patch_signals(json!({ "lines": note.text.lines().count() }));
    sse
}

#[tokio::test]
async fn a_bare_lf_in_a_request_head_is_refused_while_bodies_keep_theirs() {
    let app = app().route("/echo", axum::routing::post(echo));
    let (addr, _stop) = serve(dstar::Server::new(app)).await;
    let port = addr.port();
    let bare = raw(
        addr,
        &format!("GET /hello HTTP/1.1\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(status(&bare), "400", "{bare}");
    let bare_header = raw(
        addr,
        &format!(
            "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{port}\nX-A: 1\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(status(&bare_header), "400", "{bare_header}");
    // a body holds any byte, bare LFs among them (JSON whitespace here), and the next request
    // on the connection is still read as the next request
    let with_lf = "{\"text\":\"x\"}\n";
    let body = "{\n\"text\":\n\"a\\nb\\nc\"\n}";
    let answer = raw(
        addr,
        &format!(
            "POST /echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{with_lf}\
             POST /echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            with_lf.len(),
            body.len(),
        ),
    )
    .await;
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 2, "{answer}");
    assert!(answer.contains(r#""lines":3"#), "{answer}");
}
