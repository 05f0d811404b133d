//! Stream benchmarks over real loopback TCP, dstar against a hand-written axum + `datastar` 0.4.1
//! loop in the same run. Starts `stream-server` (built alongside) as a separate process per run and
//! reads its memory from `/proc`. Talks only to 127.0.0.1 and stops by itself.
//!
//! `cargo build --release --examples && ./target/release/examples/stream-bench`
//! Environment: `STREAMS` (5000), `ROUNDS` (7 broadcasts per fan-out variant: medians of their
//! p50 and p99), `CHURN` (10000), `FLOOD` (100000), `ZOMBIES` (200), and
//! `BENCH=fanout,churn,slow,zombie,redis` to run some parts only (`redis` needs `redis-server`;
//! `CROSS_STREAMS`, default 2000). `BENCH=publish` (only when named) measures Redis publishes per
//! second from 8 concurrent publishers. `BENCH=deploy` (only when named; `DEPLOY_STREAMS`, default
//! 2000) restarts the server under open page streams.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};

/// The stats token stream-bench gives the servers it starts.
const STATS_TOKEN: &str = "stream-bench-stats-token";

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    async fn start(port: u16) -> Server {
        Server::start_with(port, None).await
    }

    async fn start_with(port: u16, redis: Option<&str>) -> Server {
        let addr = format!("127.0.0.1:{port}");
        let child = dstar_examples::start_sibling("stream-server", &addr, |command| {
            command.env("DSTAR_STATS_TOKEN", STATS_TOKEN);
            if let Some(url) = redis {
                // the nodes sign their claim notices with one shared key
                command
                    .env("DSTAR_REDIS_URL", url)
                    .env("DSTAR_SECRET", "stream-bench: one secret for every node");
            }
        })
        .await;
        Server { child, addr }
    }

    fn rss_kb(&self) -> u64 {
        dstar_examples::rss_kb(self.child.id())
    }

    async fn stats(&self) -> String {
        let mut tcp = TcpStream::connect(&self.addr).await.unwrap();
        let req = format!(
            "GET /_dstar/stats HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\nauthorization: Bearer {STATS_TOKEN}\r\n\r\n"
        );
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = tcp.read_to_end(&mut out).await;
        let text = String::from_utf8_lossy(&out).into_owned();
        text.rsplit("\r\n\r\n").next().unwrap_or("").to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One whole request on its own connection (`connection: close`).
async fn request(addr: &str, method: &str, path: &str, body: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Opens a stream and reads its response head.
async fn open(addr: &str, path: &str, body: &str) -> (TcpStream, Vec<u8>) {
    open_after(addr, path, body, None).await
}

/// [`open`], as a browser reconnects after the stream `last_event_id` ended.
async fn open_after(
    addr: &str,
    path: &str,
    body: &str,
    last_event_id: Option<&str>,
) -> (TcpStream, Vec<u8>) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let last = last_event_id
        .map(|id| format!("last-event-id: {id}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n{last}content-length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the response head");
        seen.extend_from_slice(&buf[..n]);
    }
    (tcp, seen)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Opens `n` streams on `addr` + `path` (tabs `{tag}-0`, `{tag}-1`, …), each on its own client
/// task, and waits until all are open. Each task reports the arrival time of every tick event it
/// reads; sending `true` on the watch stops them all.
async fn open_clients(
    addr: &str,
    path: &str,
    n: usize,
    tag: &str,
) -> (mpsc::UnboundedReceiver<Instant>, watch::Sender<bool>) {
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
    let (got_tx, got_rx) = mpsc::unbounded_channel::<Instant>();
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(128));
    for i in 0..n {
        let (addr, ready_tx, got_tx, mut stop_rx, gate) = (
            addr.to_owned(),
            ready_tx.clone(),
            got_tx.clone(),
            stop_rx.clone(),
            gate.clone(),
        );
        let (tag, path) = (tag.to_owned(), path.to_owned());
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await.unwrap();
            let (mut tcp, mut seen) =
                open(&addr, &path, &format!("{{\"tabId\":\"{tag}-{i}\"}}")).await;
            drop(permit);
            let _ = ready_tx.send(());
            let mut buf = [0u8; 4096];
            // every tick event holds `"tick"` once: report each one as it arrives
            seen.clear();
            let mut scanned = 0;
            loop {
                tokio::select! {
                    _ = stop_rx.changed() => return,
                    r = tcp.read(&mut buf) => match r {
                        Ok(0) | Err(_) => return,
                        Ok(k) => {
                            seen.extend_from_slice(&buf[..k]);
                            let at = Instant::now();
                            while let Some(i) = seen[scanned..].windows(6).position(|w| w == b"\"tick\"") {
                                scanned += i + 6;
                                let _ = got_tx.send(at);
                            }
                            if scanned > 4096 {
                                seen.drain(..scanned);
                                scanned = 0;
                            }
                        }
                    }
                }
            }
        });
    }
    for _ in 0..n {
        ready_rx.recv().await.unwrap();
    }
    (got_rx, stop_tx)
}

/// Publishes one broadcast through `bump_path` and waits for `n` deliveries: their latencies in
/// ms, sorted.
async fn broadcast(
    addr: &str,
    bump_path: &str,
    got_rx: &mut mpsc::UnboundedReceiver<Instant>,
    n: usize,
) -> Vec<f64> {
    let t0 = Instant::now();
    request(addr, "POST", bump_path, "{}").await;
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        let at = tokio::time::timeout(Duration::from_secs(30), got_rx.recv())
            .await
            .expect("a stream missed the broadcast")
            .unwrap();
        latencies.push(at.duration_since(t0).as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    latencies
}

struct Fanout {
    /// Resident memory per stream with every stream open, before any event.
    kb_per_stream: f64,
    /// The same after the first broadcast, when every stream has sent one event (hyper keeps a
    /// write queue from a connection's first body write on; a page stream writes its stream id
    /// at once, the hand-written loop only with its first event).
    kb_after_event: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn fanout(variant: &str, n: usize, port: u16) -> Fanout {
    let server = Server::start(port).await;
    let addr = server.addr.clone();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss0 = server.rss_kb();
    let (stream_path, bump_path) = match variant {
        "dstar" => ("/ticker", "/ticker/_event/bump"),
        "idle" => ("/idle", ""),
        "core" => ("/core/stream", "/ticker/_event/bump"),
        _ => ("/sdk/stream", "/sdk/bump"),
    };
    let (mut got_rx, stop_tx) = open_clients(&addr, stream_path, n, "tab").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss1 = server.rss_kb();
    let kb_per_stream = (rss1.saturating_sub(rss0)) as f64 / n as f64;
    if bump_path.is_empty() {
        let _ = stop_tx.send(true);
        return Fanout {
            kb_per_stream,
            kb_after_event: f64::NAN,
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
        };
    }
    // several broadcasts, one at a time: the medians of their p50 and p99 (one broadcast on a
    // shared 2-core machine is too noisy to compare)
    let (mut p50s, mut p99s) = (Vec::new(), Vec::new());
    let mut kb_after_event = f64::NAN;
    for round in 0..env_num("ROUNDS", 7) {
        let latencies = broadcast(&addr, bump_path, &mut got_rx, n).await;
        p50s.push(percentile(&latencies, 0.5));
        p99s.push(percentile(&latencies, 0.99));
        tokio::time::sleep(Duration::from_millis(200)).await;
        if round == 0 {
            kb_after_event = server.rss_kb().saturating_sub(rss0) as f64 / n as f64;
        }
    }
    p50s.sort_by(f64::total_cmp);
    p99s.sort_by(f64::total_cmp);
    let _ = stop_tx.send(true);
    Fanout {
        kb_per_stream,
        kb_after_event,
        p50_ms: percentile(&p50s, 0.5),
        p99_ms: percentile(&p99s, 0.5),
    }
}

async fn churn(variant: &str, cycles: usize, port: u16) -> (u64, u64, String) {
    let path = if variant == "dstar" {
        "/ticker"
    } else {
        "/sdk/stream"
    };
    let server = Server::start(port).await;
    let addr = server.addr.clone();
    let run = |count: usize, offset: usize| {
        let addr = addr.clone();
        async move {
            let gate = Arc::new(Semaphore::new(32));
            let mut tasks = Vec::new();
            for i in 0..count {
                let (addr, gate) = (addr.clone(), gate.clone());
                tasks.push(tokio::spawn(async move {
                    let _permit = gate.acquire_owned().await.unwrap();
                    let (tcp, _) = open(
                        &addr,
                        path,
                        &format!("{{\"tabId\":\"churn-{}\"}}", (i + offset) % 500),
                    )
                    .await;
                    drop(tcp);
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
    };
    // warm up (allocator pools, registry capacity, tokio's slabs), so growth means a leak
    run(cycles / 2, 0).await;
    let settle = || async {
        for _ in 0..500 {
            if server.stats().await.starts_with("{\"streams\":0,") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    settle().await;
    let before = server.rss_kb();
    run(cycles, cycles).await;
    settle().await;
    let after = server.rss_kb();
    if std::env::var_os("CHURN_TWICE").is_some() {
        run(cycles, 2 * cycles).await;
        settle().await;
        println!("  ({variant}) after a second round: {} kB", server.rss_kb());
    }
    (before, after, server.stats().await)
}

async fn slow_reader(variant: &str, events: usize, port: u16) -> (u64, u64, u64, bool, usize) {
    let server = Server::start(port).await;
    let addr = server.addr.clone();
    let path = if variant == "dstar" {
        "/ticker"
    } else {
        "/sdk/stream"
    };
    // one client that never reads
    let (_slow, _) = open(&addr, path, "{\"tabId\":\"slow\"}").await;
    // ten that do, and remember the last tick they saw. A stream that falls behind the flood
    // ends (dstar) so its page catches up: these reconnect as the browser does, and a catch-up
    // render's tick counts as seen
    let (last_tx, last_rx) = watch::channel(0u64);
    let last_tx = Arc::new(last_tx);
    let reconnects = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (addr, last_tx, reconnects) = (addr.clone(), last_tx.clone(), reconnects.clone());
        clients.spawn(async move {
            let body = format!("{{\"tabId\":\"fast-{i}\"}}");
            let mut last_id: Option<String> = None;
            loop {
                let (mut tcp, head) = open_after(&addr, path, &body, last_id.as_deref()).await;
                let mut buf = vec![0u8; 65536];
                let mut tail = String::from_utf8_lossy(&head).into_owned();
                while let Ok(k @ 1..) = tcp.read(&mut buf).await {
                    tail.push_str(&String::from_utf8_lossy(&buf[..k]));
                    // the response's last chunk: it ended (the connection stays open)
                    let ended = tail.ends_with("\r\n0\r\n\r\n");
                    if let Some(id) = tail
                        .find("\nid: ")
                        .and_then(|at| tail[at + 5..].split('\n').next())
                    {
                        last_id = Some(id.trim_end().to_owned());
                    }
                    // a tick patch (`"tick":N`) or a render (`tick="N"`), whichever came last
                    let at = tail.rfind("\"tick\":").map(|p| p + 7);
                    let at = at.max(tail.rfind("tick=\"").map(|p| p + 6));
                    if let Some(pos) = at {
                        let digits: String = tail[pos..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        if let Ok(n) = digits.parse::<u64>() {
                            last_tx.send_if_modified(|v| {
                                if n > *v {
                                    *v = n;
                                    true
                                } else {
                                    false
                                }
                            });
                        }
                        let keep = tail.len().saturating_sub(64);
                        tail.drain(..keep);
                    }
                    if ended {
                        break;
                    }
                }
                // the stream ended: Datastar's connect() retries after 0.5-1.5 s
                reconnects.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_kb();
    let mut peak = before;
    let flood = {
        let addr = addr.clone();
        tokio::spawn(async move { request(&addr, "POST", &format!("/flood/{events}"), "").await })
    };
    let mut rx = last_rx.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut fast_kept_up = false;
    while Instant::now() < deadline {
        peak = peak.max(server.rss_kb());
        if *rx.borrow_and_update() >= events as u64 {
            fast_kept_up = true;
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), rx.changed()).await;
    }
    flood.await.unwrap();
    let after = server.rss_kb();
    let reconnects = reconnects.load(std::sync::atomic::Ordering::Relaxed);
    clients.abort_all();
    (before, peak.max(after), after, fast_kept_up, reconnects)
}

async fn zombie_kill(rounds: usize, port: u16) -> (f64, f64) {
    let server = Server::start(port).await;
    let addr = server.addr.clone();
    let mut times = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let tab = format!("zombie-{i}");
        times.push(takeover_ms(&addr, &addr, &tab, Duration::ZERO).await);
    }
    times.sort_by(f64::total_cmp);
    (percentile(&times, 0.5), percentile(&times, 0.9))
}

/// Opens a stream for `tab` on `old_addr`, then (after `pause`) another for the same tab on
/// `new_addr`: the time in ms from the second request until the old response has ended cleanly
/// (its chunked terminator arrived).
async fn takeover_ms(old_addr: &str, new_addr: &str, tab: &str, pause: Duration) -> f64 {
    let body = format!("{{\"tabId\":\"{tab}\"}}");
    let (mut old, mut seen) = open(old_addr, "/ticker", &body).await;
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
    let t0 = Instant::now();
    let (new, _) = open(new_addr, "/ticker", &body).await;
    let mut buf = [0u8; 1024];
    while !seen.windows(5).any(|w| w == b"0\r\n\r\n") {
        let k = old.read(&mut buf).await.unwrap();
        if k == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..k]);
    }
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    drop(new);
    ms
}

/// Delivery latencies of one broadcast to `n` dstar streams opened on `streams`, published on
/// `bump`.
async fn delivery(streams: &str, bump: &str, n: usize, tag: &str) -> (f64, f64) {
    let (mut got_rx, stop_tx) = open_clients(streams, "/ticker", n, tag).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let latencies = broadcast(bump, "/ticker/_event/bump", &mut got_rx, n).await;
    let _ = stop_tx.send(true);
    (percentile(&latencies, 0.5), percentile(&latencies, 0.99))
}

/// A throwaway redis-server on 127.0.0.1:`port` (no persistence), once it accepts connections.
async fn start_redis(port: u16) -> Child {
    let redis = Command::new("redis-server")
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
        .expect("redis-server (apt-get install redis-server)");
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    redis
}

/// Publishes per second through `PubSub::redis` from `publishers` concurrent tasks, for `seconds`
/// (one subscriber listens, so every publish is delivered). Medians over `rounds`.
async fn publish_rate(publishers: usize, seconds: f64, rounds: usize) {
    let port = 21220;
    let mut redis = start_redis(port).await;
    let pubsub = dstar::stream::PubSub::redis_with_key(
        &format!("redis://127.0.0.1:{port}"),
        dstar::secret::AppKey::random(),
    )
    .unwrap();
    let mut sub = pubsub.subscribe::<u64>("bench");
    let drain = tokio::spawn(async move {
        use dstar::stream::Source;
        while sub.recv_message().await.is_some() {}
    });
    // warm the connection up
    pubsub.publish("bench", 0u64).await.unwrap();
    let mut rates = Vec::new();
    for _ in 0..rounds {
        let until = Instant::now() + Duration::from_secs_f64(seconds);
        let tasks: Vec<_> = (0..publishers)
            .map(|_| {
                let pubsub = pubsub.clone();
                tokio::spawn(async move {
                    let mut sent = 0u64;
                    while Instant::now() < until {
                        pubsub.publish("bench", sent).await.unwrap();
                        sent += 1;
                    }
                    sent
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        rates.push(total as f64 / seconds);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "  {publishers} concurrent publishers: median {:.0} publishes/s over {rounds} rounds of {seconds} s (all: {})",
        rates[rates.len() / 2],
        rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    drain.abort();
    let _ = redis.kill();
    let _ = redis.wait();
}

/// What one deploy-run client saw around the restart.
#[derive(Debug, Default, Clone, Copy)]
struct Reconnected {
    /// Since the new process accepted connections, until this client's stream was live again.
    live_after: Option<Duration>,
    /// Ticks published after the last one the client had (or its catch-up render) and before
    /// the first one it got after reconnecting: missed.
    missed: u64,
}

/// One simulated Datastar client: the stream with `retry: 'always'` and dstar's backoff (a random
/// start of 0.5-1.5 s, doubling to 10 s), sending `Last-Event-ID` back when `catch_up`.
async fn deploy_client(
    addr: String,
    tab: usize,
    catch_up: bool,
    restarted: watch::Receiver<Option<Instant>>,
    done: watch::Receiver<bool>,
) -> Reconnected {
    use rand_like::jitter;
    let mut last_id: Option<String> = None;
    let mut before: Option<u64> = None; // the last tick seen on the old process
    let mut render: Option<u64> = None;
    let mut first_after: Option<u64> = None;
    let mut out = Reconnected::default();
    let mut delay = Duration::from_millis(500 + jitter(tab, 1000));
    let body = format!("{{\"tabId\":\"deploy-{tab}\"}}");
    loop {
        if *done.borrow() {
            break;
        }
        let Ok(mut tcp) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(10));
            continue;
        };
        let header = match (&last_id, catch_up) {
            (Some(id), true) => format!("last-event-id: {id}\r\n"),
            _ => String::new(),
        };
        let req = format!(
            "POST /ticker HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n{header}content-length: {}\r\n\r\n{body}",
            body.len()
        );
        if tcp.write_all(req.as_bytes()).await.is_err() {
            continue;
        }
        let mut buf = vec![0u8; 8192];
        let mut text = String::new();
        let mut live = false;
        loop {
            let n = tokio::select! {
                n = tcp.read(&mut buf) => n.unwrap_or(0),
                _ = async { let mut d = done.clone(); let _ = d.wait_for(|d| *d).await; } => 0,
            };
            if n == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            let restart = *restarted.borrow();
            // complete lines only
            while let Some(end) = text.find('\n') {
                let line: String = text.drain(..=end).collect();
                let line = line.trim_end();
                if let Some(id) = line.strip_prefix("id: ") {
                    // a page stream's first event: this connection is live
                    last_id = Some(id.to_owned());
                    if !live {
                        live = true;
                        delay = Duration::from_millis(500 + jitter(tab, 1000));
                        if let (Some(at), None) = (restart, out.live_after) {
                            out.live_after = Some(at.elapsed());
                        }
                    }
                } else if let Some(v) = line.strip_prefix("data: signals {\"tick\":") {
                    let v: u64 = v.trim_end_matches('}').parse().unwrap_or(0);
                    if restart.is_none() {
                        before = Some(v);
                    } else if first_after.is_none() && v > render.or(before).unwrap_or(0) {
                        first_after = Some(v);
                    }
                } else if let Some(rest) = line
                    .split("data-signals:tick=\"")
                    .nth(1)
                    .filter(|_| restart.is_some() && render.is_none())
                {
                    render = rest.split('"').next().and_then(|v| v.parse().ok());
                }
            }
        }
        if *done.borrow() {
            break;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
    if let Some(first) = first_after {
        let baseline = render.or(before).unwrap_or(0);
        out.missed = first.saturating_sub(baseline + 1);
    }
    out
}

/// A per-client pseudo-random number below `max` (no RNG dependency in the bench).
mod rand_like {
    pub(super) fn jitter(seed: usize, max: u64) -> u64 {
        let mut x = (seed as u64 ^ 0x9e37_79b9_7f4a_7c15).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x >> 31;
        x % max
    }
}

/// `n` streams, the server restarted under them (SIGTERM, then a new process on the same port)
/// while ticks go on: the time until 99 % are live again, and the ticks they missed.
async fn deploy(n: usize, catch_up: bool, port: u16) -> (f64, f64, f64, u64, usize) {
    let addr = format!("127.0.0.1:{port}");
    let server = Server::start(port).await;
    let (restart_tx, restart_rx) = watch::channel::<Option<Instant>>(None);
    let (done_tx, done_rx) = watch::channel(false);
    let clients: Vec<_> = (0..n)
        .map(|i| {
            tokio::spawn(deploy_client(
                addr.clone(),
                i,
                catch_up,
                restart_rx.clone(),
                done_rx.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // ticks every 10 ms from outside, each retried until a process takes it: contiguous values
    let (stop_tx, stop_rx) = watch::channel(false);
    let ticker_addr = addr.clone();
    let publisher = tokio::spawn(async move {
        let mut next = 1u64;
        while !*stop_rx.borrow() {
            let path = format!("/tick/{next}");
            if let Ok(mut tcp) = TcpStream::connect(&ticker_addr).await {
                let req = format!(
                    "POST {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
                );
                let mut out = Vec::new();
                if tcp.write_all(req.as_bytes()).await.is_ok()
                    && tcp.read_to_end(&mut out).await.is_ok()
                    && out.starts_with(b"HTTP/1.1 200")
                {
                    next += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    // the deploy: a graceful stop (open streams end at once), then the new process
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    let mut server = server;
    let _ = server.child.wait();
    drop(server);
    let server = Server::start(port).await;
    let _ = restart_tx.send(Some(Instant::now()));
    tokio::time::sleep(Duration::from_secs(12)).await;
    let _ = stop_tx.send(true);
    let _ = publisher.await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = done_tx.send(true);
    let mut live = Vec::new();
    let mut missed = 0;
    let mut missing_clients = 0;
    for client in clients {
        let r = client.await.unwrap();
        missed += r.missed;
        missing_clients += usize::from(r.missed > 0);
        if let Some(t) = r.live_after {
            live.push(t.as_secs_f64() * 1000.0);
        }
    }
    drop(server);
    live.sort_by(f64::total_cmp);
    let share = live.len() as f64 / n as f64;
    (
        percentile(&live, 0.5),
        percentile(&live, 0.99),
        share,
        missed,
        missing_clients,
    )
}

/// Two stream-server nodes sharing a Redis: fan-out across nodes next to in-process, and
/// cross-node same-tab takeover.
async fn cross_node(n: usize, rounds: usize) {
    let redis_port = 21210;
    let mut redis = start_redis(redis_port).await;
    let url = format!("redis://127.0.0.1:{redis_port}");
    // the in-process figure from the same run: one server, no Redis
    let alone = Server::start(21213).await;
    let (ip50, ip99) = delivery(&alone.addr, &alone.addr, n, "alone").await;
    drop(alone);
    let a = Server::start_with(21211, Some(&url)).await;
    let b = Server::start_with(21212, Some(&url)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (lp50, lp99) = delivery(&b.addr, &b.addr, n, "local").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (xp50, xp99) = delivery(&b.addr, &a.addr, n, "cross").await;
    println!("  {n} streams, one broadcast:");
    println!("    in-process PubSub (no Redis):  p50 {ip50:7.2} ms   p99 {ip99:7.2} ms");
    println!("    Redis, published on B itself:  p50 {lp50:7.2} ms   p99 {lp99:7.2} ms");
    println!("    Redis, published on node A:    p50 {xp50:7.2} ms   p99 {xp99:7.2} ms");
    let mut times = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let tab = format!("zombie-x-{i}");
        // a short pause: the claim's announcement reaches node B before the reconnect
        times.push(takeover_ms(&a.addr, &b.addr, &tab, Duration::from_millis(5)).await);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "  cross-node zombie kill ({rounds} rounds, reconnect on B ends A's stream): median {:.3} ms   p90 {:.3} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.9)
    );
    drop((a, b));
    let _ = redis.kill();
    let _ = redis.wait();
}

#[tokio::main]
async fn main() {
    let streams = env_num("STREAMS", 5000);
    let cycles = env_num("CHURN", 10_000);
    let flood = env_num("FLOOD", 100_000);
    let zombies = env_num("ZOMBIES", 200);

    let only = std::env::var("BENCH").unwrap_or_default();
    let run = |part: &str| only.is_empty() || only.split(',').any(|p| p == part);
    if run("fanout") {
        println!(
            "== fan-out: {streams} streams, {} broadcasts one at a time (same run, fresh server each; medians over the broadcasts)",
            env_num("ROUNDS", 7)
        );
        let floor = fanout("idle", streams, 21100).await;
        let sdk = fanout("sdk", streams, 21101).await;
        let ds = fanout("dstar", streams, 21102).await;
        println!(
            "  floor (an open SSE response doing nothing): {:6.2} KB/stream",
            floor.kb_per_stream
        );
        println!(
            "  hand-written axum + datastar: {:6.2} KB/stream ({:6.2} after an event)   p50 {:7.2} ms   p99 {:7.2} ms",
            sdk.kb_per_stream, sdk.kb_after_event, sdk.p50_ms, sdk.p99_ms
        );
        println!(
            "  dstar page stream:            {:6.2} KB/stream ({:6.2} after an event)   p50 {:7.2} ms   p99 {:7.2} ms",
            ds.kb_per_stream, ds.kb_after_event, ds.p50_ms, ds.p99_ms
        );
        println!(
            "  memory ratio dstar/hand-written: {:.2} ({:.2} after an event)   p99 ratio: {:.2}",
            ds.kb_per_stream / sdk.kb_per_stream,
            ds.kb_after_event / sdk.kb_after_event,
            ds.p99_ms / sdk.p99_ms
        );
        println!(
            "  over the floor: hand-written {:+.2} KB, dstar {:+.2} KB",
            sdk.kb_per_stream - floor.kb_per_stream,
            ds.kb_per_stream - floor.kb_per_stream
        );

        if std::env::var_os("FANOUT_VARIANTS").is_some() {
            let core = fanout("core", streams, 21107).await;
            println!(
                "  dstar core only (sse::stream):  {:6.2} KB/stream   p50 {:7.2} ms   p99 {:7.2} ms",
                core.kb_per_stream, core.p50_ms, core.p99_ms
            );
            return;
        }
    }
    if run("churn") {
        println!("== churn: {cycles} connect/disconnect cycles (dstar)");
        for (variant, port) in [("sdk", 21108), ("dstar", 21103)] {
            let (before, after, stats) = churn(variant, cycles, port).await;
            println!(
                "  {variant:<5}: RSS {before} kB -> {after} kB ({:+.2} %), stats after: {stats}",
                (after as f64 - before as f64) / before as f64 * 100.0
            );
        }
    }
    if run("slow") {
        for (variant, port) in [("sdk", 21104), ("dstar", 21106)] {
            println!(
                "== slow reader ({variant}): one client never reads while {flood} events are broadcast"
            );
            let (before, peak, after, kept_up, reconnects) =
                slow_reader(variant, flood, port).await;
            println!(
                "  RSS before {before} kB, peak {peak} kB (+{} kB), after {after} kB; the other 10 streams got the last event: {kept_up} ({reconnects} reconnects after falling behind)",
                peak.saturating_sub(before)
            );
        }
    }
    if only.split(',').any(|p| p == "redis")
        || (only.is_empty()
            && Command::new("redis-server")
                .arg("--version")
                .output()
                .is_ok())
    {
        println!("== cross-node over Redis (two stream-server processes)");
        cross_node(env_num("CROSS_STREAMS", 2000), zombies).await;
    }
    if only.split(',').any(|p| p == "publish") {
        println!("== Redis publish throughput (in-process PubSub::redis)");
        publish_rate(8, 3.0, 5).await;
    }
    if only.split(',').any(|p| p == "deploy") {
        let n = env_num("DEPLOY_STREAMS", 2000);
        println!(
            "== deploy: {n} page streams, the server restarted under them (SIGTERM, new process, same port) while ticks go on every 10 ms"
        );
        for (catch_up, label) in [
            (true, "with the catch-up render"),
            (false, "without it (no Last-Event-ID)"),
        ] {
            let (p50, p99, share, missed, clients) = deploy(n, catch_up, 21107).await;
            println!(
                "  {label}: live again p50 {p50:.0} ms, p99 {p99:.0} ms after the new process accepted ({:.1} % reconnected); missed ticks {missed} (on {clients} streams)",
                share * 100.0
            );
        }
    }
    if run("zombie") {
        println!(
            "== zombie kill: {zombies} same-tab reconnects (dstar), client-side time to the old response's end"
        );
        let (p50, p90) = zombie_kill(zombies, 21105).await;
        println!("  median {p50:.3} ms   p90 {p90:.3} ms");
    }
}
