//! `dstar::serve` against slow and hostile clients: header deadline (slowloris), a write deadline for
//! clients that stop reading, a connection cap that makes new connections wait, a shutdown deadline,
//! and the peer address for handlers.
//! Everything on 127.0.0.1.

use dstar::Server;
use dstar::axum::Router;
use dstar::axum::extract::ConnectInfo;
use dstar::axum::routing::{get, post};
use dstar::prelude::*;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn router() -> Router {
    Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        )
        .route(
            "/forever",
            post(|| async {
                FOREVER_STARTED.notify_one();
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "late"
            }),
        )
        .route(
            "/kept-stream",
            post(|| async {
                dstar::sse::stream(|sse| async move {
                    let _ = sse.patch_signals(json!({ "open": true })).await;
                    // the user keeps a clone of the writer in a task of their own, forever
                    tokio::spawn(async move {
                        let _keep = sse;
                        std::future::pending::<()>().await;
                    });
                })
            }),
        )
}

/// Told when a `/forever` handler starts (a permit is kept if nobody waits yet).
static FOREVER_STARTED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Waits until `check` holds; fails the test with `what` after 10 s.
async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after 10 s waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn start(configure: impl FnOnce(Server) -> Server) -> dstar_tests::Served {
    dstar_tests::serve_on_loopback(router(), configure).await
}

async fn get_once(addr: SocketAddr, path: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads until the server closes the connection; fails the test if it is still open after 10 s.
async fn expect_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open"),
        }
    }
}

#[tokio::test]
async fn a_trickled_header_is_cut_off_and_others_are_served() {
    let (addr, stop, task) = start(|s| s.header_read_timeout(Duration::from_millis(300))).await;
    // slowloris: a header that never ends
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /hello HTTP/1.1\r\nhost: localhost\r\nx-a: ")
        .await
        .unwrap();
    // a client that connects and says nothing at all
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // an HTTP/2 preface that never completes
    let mut half_preface = TcpStream::connect(addr).await.unwrap();
    half_preface.write_all(b"PRI * HT").await.unwrap();
    let served = get_once(addr, "/hello").await;
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    let answer = String::from_utf8_lossy(&expect_closed(&mut slow).await).into_owned();
    assert!(!answer.contains("hello"), "{answer}");
    assert!(expect_closed(&mut silent).await.is_empty());
    assert!(expect_closed(&mut half_preface).await.is_empty());
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_wait_and_nothing_crashes() {
    let (addr, stop, task) = start(|s| s.max_connections(2)).await;
    // two keep-alive connections hold both places
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET /hello HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(tcp);
    }
    // a third connection is accepted by the kernel but not served yet
    let third = tokio::spawn(get_once(addr, "/hello"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!third.is_finished(), "the cap let a third connection in");
    // one place frees up: the waiting connection is served
    drop(held.pop());
    let response = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("the waiting connection was served once a place freed")
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// A route that switches protocols (as a WebSocket route does) and keeps the upgraded connection
/// until its client closes it.
async fn upgrade(mut req: dstar::axum::extract::Request) -> dstar::axum::response::Response {
    let upgraded = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(upgraded) = upgraded.await {
            let mut io = hyper_util::rt::TokioIo::new(upgraded);
            let mut buf = [0u8; 64];
            while matches!(io.read(&mut buf).await, Ok(1..)) {}
        }
    });
    dstar::axum::response::Response::builder()
        .status(101)
        .header("connection", "upgrade")
        .header("upgrade", "echo")
        .body(dstar::axum::body::Body::empty())
        .unwrap()
}

#[tokio::test]
async fn an_upgraded_connection_keeps_its_place_under_the_cap() {
    let router = router().route("/upgrade", get(upgrade));
    let (addr, stop, task) = dstar_tests::serve_on_loopback(router, |s| s.max_connections(1)).await;
    let mut upgraded = TcpStream::connect(addr).await.unwrap();
    upgraded
        .write_all(
            b"GET /upgrade HTTP/1.1\r\nhost: localhost\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n",
        )
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = upgraded.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 101"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    // it left hyper for the handler's task, and still holds the only place
    let second = tokio::spawn(get_once(addr, "/hello"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "an upgraded connection left the cap");
    // it closes: the waiting connection is served
    drop(upgraded);
    let response = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the waiting connection was served once the upgraded one closed")
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn handlers_can_read_the_peer_address() {
    let (addr, stop, task) = start(|s| s).await;
    let response = get_once(addr, "/peer").await;
    assert!(response.ends_with("127.0.0.1"), "{response}");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_has_a_deadline_even_with_a_kept_stream_writer_and_a_hung_handler() {
    // shutdown ends every stream of the process: run in a child so other tests are not touched
    if !dstar_tests::in_child(
        "shutdown_has_a_deadline_even_with_a_kept_stream_writer_and_a_hung_handler",
        "DSTAR_TEST_LIMITS_CHILD",
        "1".as_ref(),
    ) {
        return;
    }
    let (addr, stop, task) = start(|s| s.shutdown_timeout(Duration::from_millis(500))).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /kept-stream HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("\"open\":true") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    let mut hung = TcpStream::connect(addr).await.unwrap();
    hung.write_all(b"POST /forever HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\n\r\n")
        .await
        .unwrap();
    // the handler is running (only this test, alone in its process, calls it)
    tokio::time::timeout(Duration::from_secs(10), FOREVER_STARTED.notified())
        .await
        .expect("the /forever handler started");
    stop.send(()).unwrap();
    // the stream whose writer is still alive elsewhere ends cleanly
    seen.extend(expect_closed(&mut stream).await);
    assert!(
        String::from_utf8_lossy(&seen).contains("0\r\n\r\n"),
        "the stream was cut instead of ended"
    );
    // the hung handler is closed at the deadline, and the server returns
    let late = expect_closed(&mut hung).await;
    assert!(late.is_empty(), "{}", String::from_utf8_lossy(&late));
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the server returned after its shutdown deadline")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_trickled_body_gets_a_408_and_the_handler_never_sees_it() {
    let echo = post(|dstar::Signals(s): dstar::Signals| async move { s.len().to_string() });
    let router = Router::new().route("/signals", echo);
    let (addr, tx, task) =
        dstar_tests::serve_on_loopback(router, |s| s.body_read_timeout(Duration::from_millis(300)))
            .await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"POST /signals HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"a\":")
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&expect_closed(&mut tcp).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.ends_with("the request body did not arrive in time"),
        "{answer}"
    );
    tx.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn bodies_past_the_body_budget_get_a_503_until_others_are_done() {
    let echo = post(|dstar::Signals(s): dstar::Signals| async move { s.len().to_string() });
    // reads its body as it comes, saying how much it has: the slow uploads below
    let held = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = held.clone();
    let hold = post(|body: dstar::axum::body::Body| async move {
        use futures_util::StreamExt as _;
        let mut chunks = body.into_data_stream();
        while let Some(Ok(chunk)) = chunks.next().await {
            counted.fetch_add(chunk.len(), std::sync::atomic::Ordering::SeqCst);
        }
    });
    let router = Router::new().route("/signals", echo).route("/hold", hold);
    let (addr, tx, task) =
        dstar_tests::serve_on_loopback(router, |s| s.body_budget(64 << 10)).await;
    // two clients send 30 KiB of a 40 KiB body, and stop: 60 KiB of the 64 KiB held
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let head = "POST /hold HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 40960\r\n\r\n";
        let part = format!("{head}{}", "x".repeat(30 << 10));
        tcp.write_all(part.as_bytes()).await.unwrap();
        slow.push(tcp);
    }
    // both are held before anything else is sent: a body sent meanwhile could take the budget
    // first and leave a slow one over it instead
    until("the server holds both slow bodies", async || {
        held.load(std::sync::atomic::Ordering::SeqCst) == 2 * (30 << 10)
    })
    .await;
    let whole = format!("{{\"a\":\"{}\"}}", "y".repeat(8 << 10));
    let send = |body: String| async move {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST /signals HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut out));
        assert!(read.await.is_ok(), "no answer within 10 s");
        String::from_utf8_lossy(&out).into_owned()
    };
    // an 8 KiB body does not fit: a 503 the client can retry, not a buffer more (asked again
    // if an answer came back cut: the server answers before reading the whole body)
    let mut answer = String::new();
    until("the 8 KiB body is refused", async || {
        answer = send(whole.clone()).await;
        !answer.is_empty()
    })
    .await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1\r\n"),
        "{answer}"
    );
    assert!(answer.ends_with("(its body budget); try again"), "{answer}");
    // a small body still fits
    let small = send("{\"b\":1}".to_owned()).await;
    assert!(small.starts_with("HTTP/1.1 200"), "{small}");
    // one slow client goes away: its body is dropped, and what it held is given back
    drop(slow.remove(0));
    let mut answer = String::new();
    until("the gone client's share is given back", async || {
        answer = send(whole.clone()).await;
        answer.starts_with("HTTP/1.1 200")
    })
    .await;
    assert!(answer.ends_with("\r\n1"), "{answer}");
    drop(slow);
    tx.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// Set when the flooding stream below ends (its future is dropped or its write fails).
static FLOOD_ENDED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_and_its_stream_ends() {
    struct Ended;
    impl Drop for Ended {
        fn drop(&mut self) {
            FLOOD_ENDED.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let flood = Router::new().route(
        "/flood",
        post(|| async {
            dstar::sse::stream(|sse| async move {
                let _ended = Ended;
                let big = "x".repeat(64 * 1024);
                while sse.patch_signals(json!({ "big": big })).await.is_ok() {}
            })
        }),
    );
    let (addr, _stop, _task) = dstar_tests::serve_on_loopback(flood, |s| {
        s.write_stall_timeout(Duration::from_millis(300))
    })
    .await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"POST /flood HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    assert!(tcp.read(&mut buf).await.unwrap() > 0);
    // from here on the client reads nothing: the socket buffers fill, then every write stalls
    let mut waited = Duration::ZERO;
    while !FLOOD_ENDED.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            waited < Duration::from_secs(20),
            "the stream of a client that stopped reading was never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    drop(tcp);
}

/// An HTTP/2 connection (h2c, prior knowledge) to `addr`: the request sender and the
/// connection's task, which ends when the server closes the connection.
async fn h2_connect(
    addr: SocketAddr,
) -> (
    hyper::client::conn::http2::SendRequest<http_body_util::Empty<bytes::Bytes>>,
    tokio::task::JoinHandle<()>,
) {
    let io = hyper_util::rt::TokioIo::new(TcpStream::connect(addr).await.unwrap());
    let (send, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    (send, tokio::spawn(async move { drop(conn.await) }))
}

fn h2_request(method: &str, path: &str) -> hyper::Request<http_body_util::Empty<bytes::Bytes>> {
    hyper::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .body(http_body_util::Empty::new())
        .unwrap()
}

#[tokio::test]
async fn idle_connections_are_closed_and_open_streams_keep_theirs() {
    use futures_util::StreamExt;
    use http_body_util::BodyExt;
    let idle = Duration::from_secs(1);
    // a response that sends one chunk and then holds on, like a stream (not a dstar stream: other
    // tests in this binary shut their servers down, which ends every dstar stream in the process)
    let held = post(|| async {
        let first = futures_util::stream::once(async {
            Ok::<_, std::convert::Infallible>(bytes::Bytes::from_static(b"open"))
        });
        dstar::axum::body::Body::from_stream(first.chain(futures_util::stream::pending()))
    });
    let router = router().route("/held", held);
    let (addr, _stop, _task) =
        dstar_tests::serve_on_loopback(router, |s| s.idle_timeout(idle)).await;

    // HTTP/2: one request, then nothing; hyper would keep this connection for ever (it pings,
    // the client answers)
    let (mut send, conn) = h2_connect(addr).await;
    let res = send
        .send_request(h2_request("GET", "/hello"))
        .await
        .unwrap();
    assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "hello");
    tokio::time::timeout(Duration::from_secs(10), conn)
        .await
        .expect("an idle HTTP/2 connection was kept open")
        .unwrap();

    // HTTP/2 with a stream open: a request in flight, so never idle, however long it lasts
    let (mut send, conn) = h2_connect(addr).await;
    let res = send
        .send_request(h2_request("POST", "/held"))
        .await
        .unwrap();
    let mut body = res.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("open"));
    tokio::time::sleep(idle * 3).await;
    assert!(
        !conn.is_finished(),
        "a connection with a stream open was closed as idle"
    );
    // the same connection still serves requests next to the stream
    let res = send
        .send_request(h2_request("GET", "/hello"))
        .await
        .unwrap();
    assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "hello");
    // once the stream is gone, the connection is idle again
    drop(body);
    tokio::time::timeout(Duration::from_secs(10), conn)
        .await
        .expect("the connection stayed open after its stream ended")
        .unwrap();

    // HTTP/1.1 keep-alive: closed at the idle deadline, well before the 30 s header deadline
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /hello HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let out = expect_closed(&mut tcp).await;
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"));
}

/// Sends `method path` over an HTTP/2 connection that gives its streams no flow-control credit,
/// and expects the server to close that connection (within 10 s).
async fn expect_parked_request_cut_off(addr: SocketAddr, method: &str, path: &str) {
    let io = hyper_util::rt::TokioIo::new(TcpStream::connect(addr).await.unwrap());
    let (mut send, conn) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .initial_stream_window_size(0)
            .handshake(io)
            .await
            .unwrap();
    let parked = tokio::spawn(async move { drop(conn.await) });
    let res = send.send_request(h2_request(method, path)).await.unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::timeout(Duration::from_secs(10), parked)
        .await
        .unwrap_or_else(|_| panic!("{method} {path}, its client giving no credit, was kept open"))
        .unwrap();
}

/// How many `/events` bodies below have been dropped.
static EVENTS_DROPPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[tokio::test]
async fn an_http2_stream_whose_client_gives_no_credit_is_cut_off() {
    use futures_util::StreamExt;
    use http_body_util::BodyExt;
    use std::sync::atomic::Ordering;
    struct Dropped;
    impl Drop for Dropped {
        fn drop(&mut self) {
            EVENTS_DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }
    // an event stream that sends one event and then holds on (not a dstar stream: other tests in
    // this binary shut their servers down, which ends every dstar stream in the process)
    let events = post(|| async {
        let dropped = Dropped;
        let first = futures_util::stream::once(async {
            Ok::<_, std::convert::Infallible>(bytes::Bytes::from_static(b"data: open\n\n"))
        });
        // pending for ever, and dropped only with the body
        let held = futures_util::stream::poll_fn(move |_| {
            let _keep = &dropped;
            std::task::Poll::Pending
        });
        (
            [("content-type", "text/event-stream")],
            dstar::axum::body::Body::from_stream(first.chain(held)),
        )
    });
    let stall = Duration::from_millis(300);
    let page = get(|| async { "x".repeat(4096) });
    let router = Router::new().route("/events", events).route("/page", page);
    let (addr, _stop, _task) =
        dstar_tests::serve_on_loopback(router, |s| s.write_stall_timeout(stall)).await;

    // a client that reads its stream as it comes is never cut off, however quiet the stream
    let (mut send, healthy) = h2_connect(addr).await;
    let res = send
        .send_request(h2_request("POST", "/events"))
        .await
        .unwrap();
    let mut body = res.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "data: open\n\n");

    // a client that opens a stream and never gives it flow-control credit: hyper holds the
    // stream's first frame for ever and never polls the body again, while the connection's
    // pings go through
    expect_parked_request_cut_off(addr, "POST", "/events").await;
    // the same for a plain response: hyper holds its only frame, the request stays in flight
    // (so the idle deadline never comes), and the connection writes nothing but pings
    expect_parked_request_cut_off(addr, "GET", "/page").await;
    // its body was dropped with the connection; the healthy stream's was not
    let mut waited = Duration::ZERO;
    while EVENTS_DROPPED.load(Ordering::SeqCst) == 0 {
        assert!(
            waited < Duration::from_secs(10),
            "the parked stream's body was never dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    tokio::time::sleep(stall * 4).await;
    assert!(
        !healthy.is_finished(),
        "a quiet but healthy stream was cut off"
    );
    assert_eq!(EVENTS_DROPPED.load(Ordering::SeqCst), 1);
    drop(body);
}
