//! Scale-out over a real Redis: two app processes (the ticker example) share broadcasts and
//! per-tab deduplication, and survive a Redis restart. Needs `redis-server` (`.ci/run` installs
//! it); the tests start their own on a free loopback port, without persistence, and stop it.

use dstar_tests::{Proc, example_binary, free_port, wait_port};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn have_redis() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-server is missing on CI: .ci/run must install it"
        );
        dstar_tests::skipped("redis-server not installed");
    }
    found
}

async fn redis_server(port: u16) -> Proc {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let p = Proc(child);
    wait_port(port).await;
    p
}

const SECRET: &str = "the shared secret of every node in this test";

async fn node(port: u16, redis: u16) -> Proc {
    let child = Command::new(example_binary("ticker"))
        .env("DSTAR_ADDR", format!("127.0.0.1:{port}"))
        .env("DSTAR_REDIS_URL", format!("redis://127.0.0.1:{redis}"))
        // every node signs its claim notices with the same key
        .env("DSTAR_SECRET", SECRET)
        .env("TICK_MS", "0")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let p = Proc(child);
    wait_port(port).await;
    p
}

async fn request(port: u16, path: &str) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{{}}"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

struct Stream {
    tcp: TcpStream,
    seen: String,
}

impl Stream {
    async fn open(port: u16, tab: &str) -> Stream {
        Stream::open_after(port, tab, None).await
    }

    /// Opens the stream as the browser does again after `last_event_id`'s stream ended.
    async fn reconnect(port: u16, tab: &str, last_event_id: &str) -> Stream {
        Stream::open_after(port, tab, Some(last_event_id)).await
    }

    async fn open_after(port: u16, tab: &str, last_event_id: Option<&str>) -> Stream {
        let body = format!("{{\"tabId\":\"{tab}\"}}");
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let last = last_event_id
            .map(|id| format!("last-event-id: {id}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "POST /ticker HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n{last}content-length: {}\r\n\r\n{body}",
            body.len()
        );
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut s = Stream {
            tcp,
            seen: String::new(),
        };
        assert!(
            s.wait_for("\r\n\r\n", Duration::from_secs(5)).await,
            "no response head"
        );
        s
    }

    /// Opens the stream again as the browser does after this one ended, and checks that it
    /// starts with the catch-up render.
    async fn reconnect_after(&self, port: u16, tab: &str) -> Stream {
        let id = self.event_id().expect("the stream's id");
        let mut again = Stream::reconnect(port, tab, &id).await;
        assert!(
            again.wait_for("ds-page", Duration::from_secs(5)).await,
            "no catch-up render: {}",
            again.seen
        );
        again
    }

    /// The stream's id (its first event), which the browser sends back when it reconnects.
    fn event_id(&self) -> Option<String> {
        let start = self.seen.find("\nid: ")? + 5;
        let len = self.seen[start..].find('\n')?;
        Some(self.seen[start..start + len].to_owned())
    }

    /// Whether the response ended (its last chunk came) within `timeout`.
    async fn ended(&mut self, timeout: Duration) -> bool {
        self.wait_for("\r\n0\r\n\r\n", timeout).await
    }

    /// Reads until `needle` shows up (true) or the time runs out or the stream ends (false).
    async fn wait_for(&mut self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        while !self.seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.tcp.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                _ => return false,
            }
        }
        true
    }
}

#[tokio::test]
async fn two_nodes_share_broadcasts_dedup_and_survive_a_redis_restart() {
    if !have_redis() {
        return;
    }
    let redis_port = free_port();
    let mut redis = redis_server(redis_port).await;
    let (pa, pb) = (free_port(), free_port());
    let _a = node(pa, redis_port).await;
    let _b = node(pb, redis_port).await;
    // both nodes' subscribers are up (each listens for claim notices from the start)
    until_subscribers(redis_port, REGISTRY, 2).await;

    // a broadcast on A reaches a stream on B (once B subscribed: Redis keeps nothing for later)
    let mut on_b = Stream::open(pb, "tab-b").await;
    until_subscribers(redis_port, TICKER, 1).await;
    let bump = request(pa, "/ticker/_event/bump").await;
    assert!(bump.starts_with("HTTP/1.1 200"), "{bump}");
    assert!(
        on_b.wait_for("\"tick\":1", Duration::from_secs(5)).await,
        "B got: {}",
        on_b.seen
    );

    // a same-tab reconnect on B ends the stream on A, cleanly
    let mut on_a = Stream::open(pa, "shared-tab").await;
    // A's stream is set up (claimed, then subscribed): both nodes hear the topic
    until_subscribers(redis_port, TICKER, 2).await;
    let started = Instant::now();
    let _again_on_b = Stream::open(pb, "shared-tab").await;
    assert!(
        on_a.wait_for("0\r\n\r\n", Duration::from_secs(3)).await,
        "A's stream did not end: {}",
        on_a.seen
    );
    println!("cross-node takeover in {:?}", started.elapsed());

    // Redis goes away: streams stay open, publishing fails visibly
    drop(redis); // killed and reaped: its port is closed
    assert!(
        TcpStream::connect(("127.0.0.1", redis_port)).await.is_err(),
        "Redis still accepts connections"
    );
    let during = request(pa, "/ticker/_event/bump").await;
    assert!(during.starts_with("HTTP/1.1 200"), "{during}");
    if cfg!(debug_assertions) {
        assert!(
            during.contains("console.error"),
            "the failure should reach the console: {during}"
        );
    }
    // Redis comes back. B cannot know what was published before its subscriber got back, so
    // its stream ends, and the page reconnects: a fresh render, then broadcasts again
    redis = redis_server(redis_port).await;
    assert!(
        on_b.ended(Duration::from_secs(20)).await,
        "B's stream went on as if nothing was missed: {}",
        on_b.seen
    );
    let mut again = on_b.reconnect_after(pb, "tab-b").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut delivered = false;
    while Instant::now() < deadline && !delivered {
        let _ = request(pa, "/ticker/_event/bump").await;
        // a tick patch (`"tick":N`): only the stream's messages write one
        delivered = again
            .wait_for("\"tick\":", Duration::from_millis(500))
            .await;
    }
    assert!(
        delivered,
        "no broadcast after the Redis restart; B saw: {}",
        again.seen
    );
    drop(redis);
}

/// A TCP relay in front of Redis that can go silent: the connections it carries then stay open
/// but pass nothing on, as when a Redis host vanishes or a NAT forgets the flow. Connections made
/// after that pass data again.
struct Relay {
    port: u16,
    silence: std::sync::Arc<std::sync::Mutex<std::sync::Arc<std::sync::atomic::AtomicBool>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(redis: u16) -> Relay {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let silence = Arc::new(Mutex::new(Arc::new(AtomicBool::new(false))));
        let current = silence.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", redis)).await else {
                    continue;
                };
                let silent = current.lock().unwrap().clone();
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                for (mut from, mut to) in [(cr, sw), (sr, cw)] {
                    let silent = silent.clone();
                    tokio::spawn(async move {
                        let mut buf = [0u8; 16 * 1024];
                        while let Ok(n @ 1..) = from.read(&mut buf).await {
                            if silent.load(Ordering::SeqCst) {
                                // hold both ends open, pass nothing on
                                std::future::pending::<()>().await;
                            }
                            if to.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            }
        });
        Relay {
            port,
            silence,
            task,
        }
    }

    /// The connections open now go silent; later ones pass data.
    fn go_silent(&self) {
        let mut current = self.silence.lock().unwrap();
        current.store(true, std::sync::atomic::Ordering::SeqCst);
        *current = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn a_silent_redis_connection_is_replaced_and_its_pages_catch_up() {
    if !have_redis() {
        return;
    }
    let redis_port = free_port();
    let _redis = redis_server(redis_port).await;
    let relay = Relay::start(redis_port).await;
    let (pa, pb) = (free_port(), free_port());
    let _a = node(pa, redis_port).await;
    let _b = node(pb, relay.port).await; // B reaches Redis through the relay
    until_subscribers(redis_port, REGISTRY, 2).await;
    let mut on_b = Stream::open(pb, "tab-b").await;
    until_subscribers(redis_port, TICKER, 1).await;
    request(pa, "/ticker/_event/bump").await;
    assert!(
        on_b.wait_for("\"tick\":1}", Duration::from_secs(5)).await,
        "B got: {}",
        on_b.seen
    );
    // B's connections go silent: no error, no FIN, nothing more from Redis
    relay.go_silent();
    let silent = Instant::now();
    request(pa, "/ticker/_event/bump").await;
    // B's subscriber pings, hears nothing, connects again through the relay, and tells its
    // streams they missed messages: the page reconnects and catches up
    assert!(
        on_b.ended(Duration::from_secs(25)).await,
        "B's stream stayed on a silent connection: {}",
        on_b.seen
    );
    println!("silent connection replaced after {:?}", silent.elapsed());
    assert!(
        !on_b.seen.contains("\"tick\":2}"),
        "the tick sent into the silence arrived: {}",
        on_b.seen
    );
    let mut again = on_b.reconnect_after(pb, "tab-b").await;
    // B's new stream subscribes again (its old one's end let the topic go); when Redis has it
    // cannot be told from here (the silent connection still counts as a subscriber there), so A
    // publishes until one arrives: tick 3, or a later one
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut delivered = false;
    while Instant::now() < deadline && !delivered {
        request(pa, "/ticker/_event/bump").await;
        delivered = again
            .wait_for("\"tick\":", Duration::from_millis(500))
            .await;
    }
    assert!(
        delivered,
        "no broadcast on the new connection: {}",
        again.seen
    );
    // B publishes again too: its publishing connection went silent with the other, and was
    // replaced rather than waited on (B's own count starts at 1)
    let started = Instant::now();
    let bump = request(pb, "/ticker/_event/bump").await;
    assert!(!bump.contains("console.error"), "{bump}");
    assert!(started.elapsed() < dstar::stream::REDIS_PUBLISH_TIMEOUT);
    assert!(
        again.wait_for("\"tick\":1}", Duration::from_secs(5)).await,
        "B's own publish did not arrive: {}",
        again.seen
    );
}

#[tokio::test]
async fn publishing_while_redis_is_down_fails_fast() {
    if !have_redis() {
        return;
    }
    let port = free_port(); // nothing listens here
    let pubsub = dstar::stream::PubSub::redis_with_key(
        &format!("redis://127.0.0.1:{port}"),
        dstar::secret::AppKey::random(),
    )
    .unwrap();
    let started = Instant::now();
    let err = pubsub.publish("t", 1u32).await.unwrap_err();
    assert!(
        err.to_string().starts_with("publish failed: Redis"),
        "{err}"
    );
    assert!(started.elapsed() <= dstar::stream::REDIS_PUBLISH_TIMEOUT + Duration::from_secs(1));
}

/// The channel every node listens on for claim notices.
const REGISTRY: &str = "dstar:registry";
/// The ticker example's topic, as a Redis channel.
const TICKER: &str = "dstar:t:ticker";

/// The length of the whole RESP reply at the start of `buf`, once all of it is there.
fn resp_len(buf: &[u8]) -> Option<usize> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&buf[1..end]).ok()?;
    let after = end + 2;
    match buf[0] {
        b'+' | b'-' | b':' => Some(after),
        b'$' => {
            let len: i64 = line.parse().ok()?;
            let whole = after + usize::try_from(len).map_or(0, |n| n + 2);
            (buf.len() >= whole).then_some(whole)
        }
        b'*' => {
            let items: i64 = line.parse().ok()?;
            let mut at = after;
            for _ in 0..items.max(0) {
                at += resp_len(&buf[at..])?;
            }
            Some(at)
        }
        other => panic!("not a RESP reply: {:?}", other as char),
    }
}

/// Sends one command to the Redis at `port` over raw RESP; returns its whole reply.
async fn redis_command(port: u16, args: &[&str]) -> String {
    let mut command = format!("*{}\r\n", args.len());
    for arg in args {
        command.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(command.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    while resp_len(&reply).is_none() {
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .expect("Redis answers within 5 s")
            .unwrap();
        assert!(n > 0, "Redis closed the connection mid-reply: {reply:?}");
        reply.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(reply).unwrap()
}

/// The last integer (`:n`) of a RESP reply.
fn last_integer(reply: &str) -> usize {
    reply
        .split("\r\n")
        .filter_map(|line| line.strip_prefix(':'))
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no integer in {reply:?}"))
}

/// `PUBSUB NUMSUB channel`: how many connections are subscribed to `channel`.
async fn redis_subscribers(port: u16, channel: &str) -> usize {
    last_integer(&redis_command(port, &["PUBSUB", "NUMSUB", channel]).await)
}

/// Waits until exactly `n` connections are subscribed to `channel` (a subscriber reaches Redis a
/// little after the node or stream that asked for it; Redis pub/sub keeps nothing for a
/// subscriber that comes later); fails the test after 10 s.
async fn until_subscribers(port: u16, channel: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let held = redis_subscribers(port, channel).await;
        if held == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{held} subscribers of {channel}, not {n}, after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `PUBSUB CHANNELS dstar:t:*` over raw RESP: how many topic channels Redis still holds for us.
async fn redis_topic_channels(port: u16) -> usize {
    let reply = redis_command(port, &["PUBSUB", "CHANNELS", "dstar:t:*"]).await;
    reply
        .strip_prefix('*')
        .and_then(|r| r.split("\r\n").next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("unexpected reply {reply:?}"))
}

/// Waits until Redis holds exactly `n` of our topic channels (subscribes and unsubscribes reach
/// it in order, a little later); fails the test after `within`.
async fn until_redis_holds(port: u16, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let held = redis_topic_channels(port).await;
        if held == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Redis holds {held} topic channels, not {n}, after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A Redis `PubSub` on the server at `port`, with a key of its own.
fn redis_pubsub(port: u16) -> dstar::stream::PubSub {
    dstar::stream::PubSub::redis_with_key(
        &format!("redis://127.0.0.1:{port}"),
        dstar::secret::AppKey::random(),
    )
    .unwrap()
}

#[tokio::test]
async fn topics_without_subscribers_are_forgotten_in_memory_and_in_redis() {
    if !have_redis() {
        return;
    }
    let redis_port = free_port();
    let _redis = redis_server(redis_port).await;
    let pubsub = redis_pubsub(redis_port);
    // one topic that stays, to see the subscription connection is really up
    let kept = pubsub.subscribe::<u64>("kept");
    until_redis_holds(redis_port, 1, Duration::from_secs(10)).await;
    for i in 0..10_000 {
        let sub = pubsub.subscribe::<u64>(&format!("room-{i}"));
        drop(sub);
    }
    assert_eq!(
        pubsub.topic_count(),
        1,
        "only the kept topic is left in memory"
    );
    // Redis unsubscribes in order behind the subscribes
    until_redis_holds(redis_port, 1, Duration::from_secs(20)).await;
    drop(kept);
    assert_eq!(pubsub.topic_count(), 0);
}

/// Publishes `payload` on a Redis channel over raw RESP; returns how many subscribers got it.
async fn redis_publish(port: u16, channel: &str, payload: &str) -> usize {
    last_integer(&redis_command(port, &["PUBLISH", channel, payload]).await)
}

/// Publishes a claim notice, and checks that it reached the one node's subscriber (else a notice
/// that ends nothing would prove nothing).
async fn notify_node(port: u16, notice: &str) {
    let receivers = redis_publish(port, REGISTRY, notice).await;
    assert_eq!(receivers, 1, "the node did not hear the notice {notice}");
}

/// A claim notice as a node signs it (see the Redis backend): lengths and parts, then the time.
fn notice(key: &[u8], node: &str, scope: &str, tab: &str, at: u64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    for part in [node, scope, tab] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.update(&at.to_be_bytes());
    let mac: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    serde_json::json!({ "node": node, "scope": scope, "tab": tab, "at": at, "mac": mac })
        .to_string()
}

#[tokio::test]
async fn forged_and_stale_claim_notices_end_no_stream() {
    if !have_redis() {
        return;
    }
    let redis_port = free_port();
    let _redis = redis_server(redis_port).await;
    let port = free_port();
    let _node = node(port, redis_port).await;
    // the node's subscriber hears claim notices
    until_subscribers(redis_port, REGISTRY, 1).await;
    let mut live = Stream::open(port, "victim").await;
    // the stream is set up: claimed, then subscribed
    until_subscribers(redis_port, TICKER, 1).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    let key = *dstar::secret::AppKey::new(SECRET).bytes();
    let wrong_key = *dstar::secret::AppKey::new("not the nodes' secret").bytes();
    // forged: signed with another key, or not signed at all
    notify_node(
        redis_port,
        &notice(&wrong_key, "evil", "ticker", "victim", now + 1),
    )
    .await;
    notify_node(
        redis_port,
        &serde_json::json!({ "node": "evil", "scope": "ticker", "tab": "victim", "at": now + 1, "mac": "" }).to_string(),
    )
    .await;
    // genuine but stale: a claim older than the live stream (late, reordered or replayed)
    notify_node(
        redis_port,
        &notice(&key, "other", "ticker", "victim", now - 60_000_000),
    )
    .await;
    assert!(
        !live.wait_for("0\r\n\r\n", Duration::from_millis(700)).await,
        "a forged or stale notice ended the stream: {}",
        live.seen
    );
    // a genuine, newer claim from another node does end it
    notify_node(
        redis_port,
        &notice(&key, "other", "ticker", "victim", now + 10_000_000),
    )
    .await;
    assert!(
        live.wait_for("0\r\n\r\n", Duration::from_secs(3)).await,
        "a genuine newer claim did not end the stream: {}",
        live.seen
    );
}

#[tokio::test]
async fn a_node_tells_a_stale_page_only_from_topics_it_heard_since_the_render() {
    use dstar::stream::Source;
    if !have_redis() {
        return;
    }
    let redis_port = free_port();
    let _redis = redis_server(redis_port).await;
    let pubsub = redis_pubsub(redis_port);
    let mut watched = pubsub.subscribe::<u64>("watched");
    until_redis_holds(redis_port, 1, Duration::from_secs(10)).await;
    // renders are compared allowing 2 s of clock difference between nodes
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let rendered = std::time::SystemTime::now();
    assert!(
        !watched.missed_since(rendered),
        "subscribed since before the render, and nothing came: the page is current"
    );
    // a topic this node starts hearing only now cannot vouch for the time before
    let late = pubsub.subscribe::<u64>("late");
    assert!(late.missed_since(rendered));
    // a message after the render (from any node: it comes back through Redis)
    pubsub.publish("watched", 7u64).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), watched.recv_message()).await;
    assert_eq!(got.unwrap(), Some(7));
    assert!(watched.missed_since(rendered));
}
