//! The long-lived `SseStream` over a real loopback listener: headers, per-event flushing,
//! disconnect detection, cleanup without leaked work, and bounded memory for a reader that stalls.

use axum::Router;
use axum::routing::get;
use dstar::sse::{Disconnected, SseStream, StreamConfig, stream, stream_with};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, oneshot};

/// Sets its flag when dropped: proves the stream's future was dropped.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn open(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let req =
        format!("GET {path} HTTP/1.1\r\nhost: localhost\r\naccept: text/event-stream\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    tcp
}

/// Reads until `needle` has been seen, within 5 s.
async fn read_until(tcp: &mut TcpStream, seen: &mut Vec<u8>, needle: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(seen).contains(needle) {
        let n = tokio::time::timeout_at(deadline, tcp.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out waiting for {needle:?}; got {:?}",
                    String::from_utf8_lossy(seen)
                )
            })
            .unwrap();
        assert!(n > 0, "connection closed before {needle:?}");
        seen.extend_from_slice(&buf[..n]);
    }
}

async fn wait_for(flag: &AtomicBool) {
    for _ in 0..500 {
        if flag.load(Ordering::SeqCst) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("flag never set");
}

#[tokio::test]
async fn events_are_flushed_one_by_one_with_stream_headers() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let go_rx = Arc::new(Mutex::new(Some(go_rx)));
    let app = Router::new().route(
        "/s",
        get(move || {
            let go_rx = go_rx.clone();
            async move {
                stream(|sse| async move {
                    sse.patch_signals(json!({"n": 1})).await.unwrap();
                    // the second event waits for the test: the first must already be on the wire
                    let rx = go_rx.lock().await.take().unwrap();
                    rx.await.unwrap();
                    sse.patch_signals(json!({"n": 2})).await.unwrap();
                })
            }
        }),
    );
    let addr = serve(app).await;
    let mut tcp = open(addr, "/s").await;
    let mut seen = Vec::new();
    read_until(&mut tcp, &mut seen, "signals {\"n\":1}").await;
    let head = String::from_utf8_lossy(&seen).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(head.contains("cache-control: no-cache"), "{head}");
    assert!(head.contains("connection: keep-alive"), "{head}");
    assert!(head.contains("x-accel-buffering: no"), "{head}");
    go_tx.send(()).unwrap();
    read_until(&mut tcp, &mut seen, "signals {\"n\":2}").await;
    // the driver finished: the chunked body ends
    read_until(&mut tcp, &mut seen, "\r\n0\r\n\r\n").await;
}

#[tokio::test]
async fn a_client_disconnect_drops_the_loop_and_is_reported() {
    let dropped = Arc::new(AtomicBool::new(false));
    let (handle_tx, handle_rx) = oneshot::channel::<SseStream>();
    let handle_tx = Arc::new(Mutex::new(Some(handle_tx)));
    let flag = dropped.clone();
    let app = Router::new().route(
        "/s",
        get(move || {
            let (flag, handle_tx) = (flag.clone(), handle_tx.clone());
            async move {
                stream(|sse| async move {
                    let _guard = DropFlag(flag);
                    handle_tx
                        .lock()
                        .await
                        .take()
                        .unwrap()
                        .send(sse.clone())
                        .unwrap();
                    loop {
                        // a liveness probe every 20 ms: the write fails once the peer is gone
                        if sse.check_connection().await.is_err() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                })
            }
        }),
    );
    let addr = serve(app).await;
    let mut tcp = open(addr, "/s").await;
    let mut seen = Vec::new();
    read_until(&mut tcp, &mut seen, ": \n\n").await;
    let outside = handle_rx.await.unwrap();
    assert!(!outside.is_closed());
    drop(tcp);
    wait_for(&dropped).await;
    // a clone held elsewhere learns of it too
    tokio::time::timeout(Duration::from_secs(5), outside.closed())
        .await
        .unwrap();
    assert_eq!(outside.check_connection().await, Err(Disconnected));
    assert!(outside.patch_signals(json!({"late": true})).await.is_err());
}

#[tokio::test]
async fn a_reader_that_stalls_blocks_the_writer_instead_of_growing_memory() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let app = Router::new().route(
        "/s",
        get(move || {
            let counter = counter.clone();
            async move {
                stream_with(StreamConfig::default().buffer(4), |sse| async move {
                    let payload = "x".repeat(10 * 1024);
                    for _ in 0..100_000 {
                        if sse.patch_signals(json!({ "p": payload })).await.is_err() {
                            return;
                        }
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                })
            }
        }),
    );
    let addr = serve(app).await;
    let tcp = open(addr, "/s").await; // never read
    // wait until the writer stops making progress
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = sent.load(Ordering::SeqCst);
        if now == last {
            break;
        }
        last = now;
    }
    // only what fits in the buffer plus the kernel's socket buffers: a few MiB, not 1 GB
    assert!(
        last < 2_000,
        "writer kept going: {last} events of 10 KiB were accepted"
    );
    drop(tcp);
}

/// A future that counts how often it is polled, around an inner one.
struct CountPolls<F> {
    inner: std::pin::Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: std::future::Future> std::future::Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

#[tokio::test]
async fn the_body_runs_the_writer_only_when_it_was_woken() {
    // Each message wakes the writer once. Taking a frame must not run it again: a needless run
    // re-registers with whatever it waits on (a broadcast channel's shared lock, per stream).
    use axum::response::IntoResponse;
    use http_body_util::BodyExt;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = polls.clone();
    let response = stream(move |sse| CountPolls {
        inner: Box::pin(async move {
            while let Some(n) = rx.recv().await {
                if sse.patch_signals(json!({ "n": n })).await.is_err() {
                    break;
                }
            }
        }),
        polls: counted,
    })
    .into_response();
    let mut body = response.into_body();
    const MESSAGES: usize = 50;
    for n in 0..MESSAGES as u32 {
        tx.send(n).unwrap();
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("a frame in time")
            .expect("the body goes on")
            .unwrap();
        let data = frame.into_data().unwrap();
        assert!(
            String::from_utf8_lossy(&data).contains(&format!("{{\"n\":{n}}}")),
            "{data:?}"
        );
        // hyper asks for the next frame at once; the writer has nothing new and must not run
        let idle = tokio::time::timeout(Duration::from_millis(5), body.frame()).await;
        assert!(idle.is_err(), "no frame without a message");
    }
    let runs = polls.load(Ordering::SeqCst);
    // one run per message (the first run already finds the first message)
    assert_eq!(runs, MESSAGES, "the writer ran {runs} times");
    // closing the channel wakes the writer, which returns: the body ends
    drop(tx);
    let end = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("the body ends in time");
    assert!(end.is_none(), "the body ends when the writer returns");
}

#[tokio::test]
async fn ten_thousand_dropped_topics_leave_no_topic_behind() {
    let pubsub = dstar::stream::PubSub::new();
    for i in 0..10_000 {
        let sub = pubsub.subscribe::<u64>(&format!("room-{i}"));
        drop(sub);
    }
    assert_eq!(pubsub.topic_count(), 0);
    // two subscribers of one topic: it lives until the last one goes
    let a = pubsub.subscribe::<u64>("shared");
    let b = pubsub.subscribe::<u64>("shared");
    drop(a);
    assert_eq!(pubsub.topic_count(), 1);
    assert_eq!(pubsub.publish("shared", 1u64).await, Ok(1));
    drop(b);
    assert_eq!(pubsub.topic_count(), 0);
}
