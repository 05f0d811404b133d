//! Live pages under load: the leaderboard example (a 100-row table re-rendered whole on every
//! change) as a separate process, measured over loopback TCP in one run:
//!
//! 1. bytes on the wire per update, identity against gzip, br and zstd (after the first render);
//! 2. server CPU per update per stream, each encoding against identity, and the server's memory
//!    per stream once the streams have carried the updates (what each encoder holds);
//! 3. fan-out: time from a bump to each of `FANOUT` (2000) streams getting its update, compressed
//!    (br) against identity.
//!
//! `br` is dstar's default brotli stream writer (its delta writer); `br-lib` is the same page with
//! `StreamBrotli::Library` (Google's reference library), measured in the same run.
//!
//! `cargo build --release --examples && ./target/release/examples/live-bench`
//! Environment: `ROUNDS` (5), `UPDATES` (40 per round), `CPU_STREAMS` (200), `FANOUT` (2000),
//! `CPU_ONLY` (the variants whose CPU to measure, e.g. `identity,br`; all by default; `FANOUT=0`
//! skips the fan-out).
//! Talks only to 127.0.0.1 and stops by itself.

use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};

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
    /// The leaderboard on `port`; `library`: brotli streams by the reference library instead of
    /// dstar's delta writer.
    async fn start(port: u16, library: bool) -> Server {
        let addr = format!("127.0.0.1:{port}");
        let child = dstar_examples::start_sibling("leaderboard", &addr, |command| {
            // every stream of the fan-out compressed (past the default 1024, they would not be)
            command
                .env("BUMP_MS", "0")
                .env("DSTAR_LIVE_RELOAD", "0")
                .env("COMPRESSED_STREAMS", "100000");
            if library {
                command.env("BROTLI_STREAMS", "library");
            }
        })
        .await;
        Server { child, addr }
    }

    /// User + system CPU time of the server so far, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        ticks / 100.0 // USER_HZ
    }

    /// Resident memory of the server, in KB.
    fn rss_kb(&self) -> f64 {
        dstar_examples::rss_kb(self.child.id()) as f64
    }

    async fn bump(&self) {
        let mut tcp = TcpStream::connect(&self.addr).await.unwrap();
        let req = "POST /leaderboard/_event/bump HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = tcp.read_to_end(&mut out).await;
        assert!(out.starts_with(b"HTTP/1.1 200"), "bump failed");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens the page's stream with `encoding` and reads its response head and first event.
async fn open(addr: &str, tab: &str, encoding: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let body = format!("{{\"tabId\":\"{tab}\"}}");
    let req = format!(
        "POST /leaderboard HTTP/1.1\r\nhost: localhost\r\naccept-encoding: {encoding}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
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
    let head = String::from_utf8_lossy(&seen).to_ascii_lowercase();
    if encoding != "identity" {
        assert!(
            head.contains(&format!("content-encoding: {encoding}")),
            "{head}"
        );
    }
    tcp
}

/// Reads what arrives until the connection has been quiet for `quiet`: one update's bytes.
async fn read_update(tcp: &mut TcpStream, quiet: Duration) -> usize {
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0;
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(n > 0, "the stream ended");
    total += n;
    while let Ok(Ok(n)) = tokio::time::timeout(quiet, tcp.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        total += n;
    }
    total
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// What is compared: a label, the client's `Accept-Encoding`, and whether brotli streams are
/// written by the reference library (`br-lib`) rather than dstar's delta writer (`br`).
const VARIANTS: [(&str, &str, bool); 5] = [
    ("identity", "identity", false),
    ("gzip", "gzip", false),
    ("br", "br", false),
    ("zstd", "zstd", false),
    ("br-lib", "br", true),
];

/// Bytes per update for each variant: medians over `updates` bumps, after the first render.
/// One server per brotli writer, bumped together.
async fn bytes_per_update(updates: usize) -> Vec<(String, f64)> {
    let servers = [
        Server::start(21301, false).await,
        Server::start(21302, true).await,
    ];
    let mut streams = Vec::new();
    for (i, (_, accept, library)) in VARIANTS.iter().enumerate() {
        let server = &servers[usize::from(*library)];
        streams.push(open(&server.addr, &format!("bytes-{i}"), accept).await);
    }
    // the first render primes each window; measure the ones after
    let mut sizes: Vec<Vec<f64>> = vec![Vec::new(); VARIANTS.len()];
    for round in 0..=updates {
        for server in &servers {
            server.bump().await;
        }
        for (i, tcp) in streams.iter_mut().enumerate() {
            let n = read_update(tcp, Duration::from_millis(30)).await;
            if round > 0 {
                sizes[i].push(n as f64);
            }
        }
    }
    VARIANTS
        .iter()
        .zip(sizes)
        .map(|((label, _, _), s)| ((*label).to_owned(), median(s)))
        .collect()
}

/// Server CPU per update per stream with `n` streams of `encoding`, and the server's resident
/// memory per stream once they have all carried every update (KB).
async fn cpu_per_update(
    port: u16,
    (encoding, library): (&str, bool),
    n: usize,
    updates: usize,
) -> (f64, f64) {
    let server = Server::start(port, library).await;
    let rss_before = server.rss_kb();
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let gate = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::new();
    for i in 0..n {
        let addr = server.addr.clone();
        let encoding = encoding.to_owned();
        let tx = tx.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.unwrap();
            let mut tcp = open(&addr, &format!("cpu-{i}"), &encoding).await;
            drop(permit);
            let _ = tx.send(());
            let mut buf = vec![0u8; 1 << 16];
            while let Ok(k) = tcp.read(&mut buf).await {
                if k == 0 {
                    break;
                }
            }
        }));
    }
    for _ in 0..n {
        rx.recv().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.cpu_seconds();
    for _ in 0..updates {
        server.bump().await;
        // more than a frame apart: every bump is its own render
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let spent = server.cpu_seconds() - before;
    let kb_per_stream = (server.rss_kb() - rss_before) / n as f64;
    for t in tasks {
        t.abort();
    }
    (spent / (updates * n) as f64 * 1e6, kb_per_stream)
}

/// Time from a bump to each of `n` streams getting its update: p50 and p99 per round, medians.
async fn fanout(
    port: u16,
    (encoding, library): (&str, bool),
    n: usize,
    rounds: usize,
) -> (f64, f64) {
    let server = Server::start(port, library).await;
    let (sent_tx, sent_rx) = watch::channel(Instant::now());
    let (got_tx, mut got_rx) = mpsc::unbounded_channel::<f64>();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
    let gate = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::new();
    for i in 0..n {
        let addr = server.addr.clone();
        let encoding = encoding.to_owned();
        let (got_tx, ready_tx, gate) = (got_tx.clone(), ready_tx.clone(), gate.clone());
        let sent_rx = sent_rx.clone();
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.unwrap();
            let mut tcp = open(&addr, &format!("fan-{i}"), &encoding).await;
            drop(permit);
            let _ = ready_tx.send(());
            let mut buf = vec![0u8; 1 << 16];
            loop {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let at = *sent_rx.borrow();
                        let _ = got_tx.send(at.elapsed().as_secs_f64() * 1000.0);
                    }
                }
            }
        }));
    }
    for _ in 0..n {
        ready_rx.recv().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    while got_rx.try_recv().is_ok() {}
    let (mut p50s, mut p99s) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let _ = sent_tx.send(Instant::now());
        server.bump().await;
        let mut latencies = Vec::with_capacity(n);
        while latencies.len() < n {
            match tokio::time::timeout(Duration::from_secs(10), got_rx.recv()).await {
                Ok(Some(ms)) => latencies.push(ms),
                _ => break,
            }
        }
        // a large update can arrive in several reads: keep the first per stream (approximately)
        tokio::time::sleep(Duration::from_millis(300)).await;
        while got_rx.try_recv().is_ok() {}
        latencies.sort_by(f64::total_cmp);
        p50s.push(percentile(&latencies, 0.5));
        p99s.push(percentile(&latencies, 0.99));
    }
    for t in tasks {
        t.abort();
    }
    (median(p50s), median(p99s))
}

#[tokio::main]
async fn main() {
    let rounds = env_num("ROUNDS", 5);
    let updates = env_num("UPDATES", 40);
    let cpu_streams = env_num("CPU_STREAMS", 200);
    let fan = env_num("FANOUT", 2000);

    println!("== bytes on the wire per update (the leaderboard, 100 rows, one score changed)");
    let sizes = bytes_per_update(updates).await;
    let identity = sizes[0].1;
    for (encoding, bytes) in &sizes {
        println!(
            "  {encoding:<8} median {bytes:>8.0} bytes   {:>7.1} x smaller than identity",
            identity / bytes
        );
    }

    println!(
        "== server CPU per update per stream ({cpu_streams} streams, {updates} updates), and memory per stream after them"
    );
    let mut per: Vec<(String, f64, f64)> = Vec::new();
    // `CPU_ONLY=br,identity` measures only those (identity first, as the baseline)
    let only = std::env::var("CPU_ONLY").ok();
    for (i, (label, accept, library)) in VARIANTS.iter().enumerate() {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|v| v == *label))
        {
            continue;
        }
        let (mut cpu, mut kb) = (Vec::new(), Vec::new());
        for _ in 0..rounds.min(3) {
            let port = 21310 + i as u16;
            let (us, kb_per_stream) =
                cpu_per_update(port, (accept, *library), cpu_streams, updates).await;
            cpu.push(us);
            kb.push(kb_per_stream);
        }
        per.push(((*label).to_owned(), median(cpu), median(kb)));
    }
    // the baseline is identity, or the first variant measured when `CPU_ONLY` leaves it out
    let (base_label, base, base_kb) = per
        .first()
        .map_or((String::new(), 1.0, 0.0), |p| (p.0.clone(), p.1, p.2));
    for (encoding, us, kb) in &per {
        println!(
            "  {encoding:<8} {us:>8.1} µs   {:.2} x {base_label}   {kb:>7.1} KB/stream ({:+.1} KB)",
            us / base,
            kb - base_kb
        );
    }

    if fan == 0 {
        return;
    }
    println!("== fan-out: {fan} streams, one bump at a time ({rounds} rounds, medians)");
    let (ip50, ip99) = fanout(21320, ("identity", false), fan, rounds).await;
    println!("  identity p50 {ip50:.2} ms   p99 {ip99:.2} ms");
    for (port, label, library) in [(21321, "br", false), (21322, "br-lib", true)] {
        let (p50, p99) = fanout(port, ("br", library), fan, rounds).await;
        println!(
            "  {label:<8} p50 {p50:.2} ms   p99 {p99:.2} ms   p99 {:.2} x identity",
            p99 / ip99
        );
    }
}
