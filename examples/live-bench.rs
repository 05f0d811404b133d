//! Live pages under load: the leaderboard example (a 100-row table re-rendered whole on every
//! change, rendered ONCE per change for every viewer) as a separate process, measured over
//! loopback TCP against a hand-written peer and the machine's write floor, in one run.
//!
//! `BENCH=peers` (the default): for each viewer count in `VIEWERS` (`2000,10000`), each of
//! `SERVERS` (`dstar,peer,peer-axum,floor`) is started as its own process and gets that many
//! streams (identity encoding: no `Accept-Encoding`) and `BUMPS` (20) bumps, one at a time;
//! `REPEATS` (3) runs of each, interleaved and rotated, and the medians over the runs:
//!
//! - `dstar`: `examples/leaderboard.rs` (`BUMP_MS=0`, `DSTAR_LIVE_RELOAD=0`), served by
//!   `dstar::serve`;
//! - `peer`: `examples/peer-leaderboard.rs`, axum + the `datastar` SDK, rendered once per change
//!   in the bump handler and broadcast (a `tokio::sync::broadcast` of the formatted event), on
//!   `dstar::Server` (its connection layer, no page machinery);
//! - `peer-axum`: the same peer on plain `axum::serve` (`PEER_SERVE=axum`);
//! - `floor`: `examples/write-floor.rs`, hyper 1.x writing one pre-rendered `Bytes` of the
//!   table event's size to every stream per bump (nothing rendered, formatted or copied).
//!
//! Reported, as medians over the bumps: delivery p50 and p99 (bump sent → each stream read the
//! end of its patch), the full fan-out (bump → the last stream), server CPU per change
//! (`/proc/<pid>/stat` utime+stime across the bumps / bumps; 10 ms ticks), memory per stream
//! (RSS with the streams open minus RSS before, / N; and after the bumps), and bytes per change
//! per viewer (what the socket carried, chunk framing included). Then, at `BROWSER_VIEWERS`
//! (the largest count; `0` skips), dstar with a browser's `Accept-Encoding: gzip, deflate, br,
//! zstd` (its default brotli stream writer), with the default compressed-stream cap and with
//! every stream compressed (`COMPRESSED_STREAMS=100000`): bytes and CPU per change against
//! identity, and the bytes of the first change after the streams opened (a compressed stream
//! has nothing to refer back to yet: the whole table, once) apart from each later change's.
//!
//! `BENCH=encodings` runs the former measurements: bytes per update for identity, gzip, br, zstd
//! and `br-lib` (the reference brotli library); CPU and memory per stream per encoding
//! (`ROUNDS` 5, `UPDATES` 40, `CPU_STREAMS` 200, `CPU_ONLY`); fan-out of `FANOUT` (2000) streams,
//! br against identity (`FANOUT=0` skips it). `BENCH=peers,encodings` runs both.
//!
//! Up to 10,000 streams need 10,000 sockets on each side: the bench raises its open-file limit
//! (re-running itself under `sh -c 'ulimit -n …'`) to the hard limit, at most 20,000, and the
//! servers inherit it (dstar's connection cap defaults to that limit less 64).
//!
//! `cargo build --release --examples && ./target/release/examples/live-bench`, or `bench/live.sh`
//! (builds, copies the binaries aside from the shared target directory, runs).
//! Talks only to 127.0.0.1 and stops by itself.

use std::collections::BTreeMap;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The open-file limit (soft, hard) of this process; `u64::MAX` for unlimited.
fn open_file_limits() -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut fields = line.split_whitespace().skip(3);
    let parse = |v: Option<&str>| match v? {
        "unlimited" => Some(u64::MAX),
        n => n.parse().ok(),
    };
    Some((parse(fields.next())?, parse(fields.next())?))
}

/// The most open files a process of the bench may have.
const MAX_OPEN_FILES: u64 = 20_000;

/// Raises the soft open-file limit to the hard one (at most [`MAX_OPEN_FILES`]) when `needed` is
/// above it, by running this program again under `sh -c 'ulimit -n …'`: the workspace forbids
/// `unsafe` (so no `setrlimit` through libc), and the servers started later inherit the limit.
fn raise_open_files(needed: u64) {
    let Some((soft, hard)) = open_file_limits() else {
        return;
    };
    if soft >= needed {
        return;
    }
    let target = hard.min(MAX_OPEN_FILES);
    if target <= soft || std::env::var_os("LIVE_BENCH_RAISED").is_some() {
        eprintln!(
            "live-bench: the open-file limit is {soft} (hard {hard}); {needed} are needed: run `ulimit -n 20000` first"
        );
        return;
    }
    let exe = std::env::current_exe().expect("the running binary");
    let status = Command::new("/bin/sh")
        .arg("-c")
        .arg("ulimit -n \"$1\" || exit 97; shift; exec \"$@\"")
        .arg("live-bench")
        .arg(target.to_string())
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env("LIVE_BENCH_RAISED", "1")
        .status()
        .expect("sh");
    std::process::exit(status.code().unwrap_or(1));
}

fn main() {
    let benches = env_list("BENCH", "peers");
    let viewers: Vec<usize> = env_list("VIEWERS", "2000,10000")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let most = viewers.iter().copied().max().unwrap_or(0);
    raise_open_files(most as u64 + 1000);
    if let Some((soft, hard)) = open_file_limits() {
        println!(
            "open-file limit {soft} (hard {hard}); dstar's default connection cap here: {}",
            soft.saturating_sub(64).min(25_000)
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        if benches.iter().any(|b| b == "peers") {
            peers(&viewers).await;
        }
        if benches.iter().any(|b| b == "encodings") {
            encodings().await;
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The servers
// ---------------------------------------------------------------------------------------------

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    /// The example binary `name` on `port`, with `configure` adding its environment.
    async fn spawn(name: &str, port: u16, configure: impl FnOnce(&mut Command)) -> Server {
        let addr = format!("127.0.0.1:{port}");
        let child = dstar_examples::start_sibling(name, &addr, configure).await;
        Server { child, addr }
    }

    /// The leaderboard on `port`; `library`: brotli streams by the reference library instead of
    /// dstar's delta writer.
    async fn start(port: u16, library: bool) -> Server {
        Server::spawn("leaderboard", port, |command| {
            // every stream of the fan-out compressed (past the default 1024, they would not be)
            command
                .env("BUMP_MS", "0")
                .env("DSTAR_LIVE_RELOAD", "0")
                .env("COMPRESSED_STREAMS", "100000");
            if library {
                command.env("BROTLI_STREAMS", "library");
            }
        })
        .await
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
        assert!(
            out.starts_with(b"HTTP/1.1 2"),
            "bump failed: {}",
            String::from_utf8_lossy(&out[..out.len().min(200)])
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

// ---------------------------------------------------------------------------------------------
// BENCH=peers: dstar against the hand-written peer and the write floor
// ---------------------------------------------------------------------------------------------

/// A server under test: its label, its binary and environment, the `Accept-Encoding` its
/// streams send (`None`: no header, identity).
struct Contender {
    label: &'static str,
    binary: &'static str,
    env: &'static [(&'static str, &'static str)],
    accept: Option<&'static str>,
}

const DSTAR_ENV: &[(&str, &str)] = &[("BUMP_MS", "0"), ("DSTAR_LIVE_RELOAD", "0")];

fn contender(label: &str) -> Option<Contender> {
    Some(match label {
        "dstar" => Contender {
            label: "dstar",
            binary: "leaderboard",
            env: DSTAR_ENV,
            accept: None,
        },
        "peer" => Contender {
            label: "peer",
            binary: "peer-leaderboard",
            env: &[],
            accept: None,
        },
        "peer-axum" => Contender {
            label: "peer-axum",
            binary: "peer-leaderboard",
            env: &[("PEER_SERVE", "axum")],
            accept: None,
        },
        "floor" => Contender {
            label: "floor",
            binary: "write-floor",
            env: &[],
            accept: None,
        },
        _ => return None,
    })
}

/// A browser's `Accept-Encoding`.
const BROWSER: &str = "gzip, deflate, br, zstd";

/// dstar with a browser's encodings: the default compressed-stream cap, and every stream.
const BROWSER_RUNS: [Contender; 2] = [
    Contender {
        label: "br (default cap)",
        binary: "leaderboard",
        env: DSTAR_ENV,
        accept: Some(BROWSER),
    },
    Contender {
        label: "br (every stream)",
        binary: "leaderboard",
        env: &[
            ("BUMP_MS", "0"),
            ("DSTAR_LIVE_RELOAD", "0"),
            ("COMPRESSED_STREAMS", "100000"),
        ],
        accept: Some(BROWSER),
    },
];

/// What one server did for one viewer count.
#[derive(Debug, Clone, Default)]
struct Figures {
    p50_ms: f64,
    p99_ms: f64,
    full_ms: f64,
    cpu_ms_per_change: f64,
    kb_per_stream: f64,
    kb_per_stream_after: f64,
    bytes_per_change: f64,
    /// Bytes per viewer of the first change after the streams opened: a compressed stream has
    /// nothing to refer back to yet, so it carries the whole table once.
    first_change_bytes: f64,
    /// Bytes per change per viewer over the changes after the first.
    later_bytes_per_change: f64,
    /// Streams whose response named a `Content-Encoding`.
    compressed: usize,
    /// Deliveries that never came (within 30 s of their bump), over all bumps.
    missed: usize,
    /// Why the run could not be measured.
    broken: Option<String>,
}

/// How a client stream tells that its patch arrived.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detect {
    /// Identity: the read that holds the end of the table event (`</tbody>`, then the event's
    /// blank line).
    EventEnd,
    /// Compressed (no scanning possible): the first read after the bump.
    AnyRead,
}

/// Finds the ends of table events in a stream's bytes, across reads.
struct Scan {
    buf: Vec<u8>,
    pos: usize,
    /// `</tbody>` seen, the event's blank line not yet.
    in_tail: bool,
}

impl Scan {
    fn new() -> Self {
        Scan {
            buf: Vec::with_capacity(8192),
            pos: 0,
            in_tail: false,
        }
    }

    /// Scans what was appended to `buf`: how many events ended in it. Keeps only the bytes that
    /// could begin a match.
    fn feed(&mut self) -> usize {
        let mut ended = 0;
        loop {
            let needle: &[u8] = if self.in_tail { b"\n\n" } else { b"</tbody>" };
            match memchr::memmem::find(&self.buf[self.pos..], needle) {
                Some(i) => {
                    self.pos += i + needle.len();
                    if self.in_tail {
                        ended += 1;
                    }
                    self.in_tail = !self.in_tail;
                }
                None => {
                    self.pos = self
                        .pos
                        .max(self.buf.len().saturating_sub(needle.len() - 1));
                    break;
                }
            }
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        ended
    }
}

/// `n` open streams, each on its own task.
struct Clients {
    /// (bump number, when the stream got it) per stream per bump.
    arrivals: mpsc::UnboundedReceiver<(usize, Instant)>,
    /// The bump under way (0: none yet).
    round: Arc<AtomicUsize>,
    /// Bytes read by all streams since the first bump.
    bytes: Arc<AtomicU64>,
    /// Streams that ended.
    closed: Arc<AtomicUsize>,
    compressed: usize,
    tasks: JoinSet<()>,
}

/// Opens `n` streams on `addr` (`POST /leaderboard`, 256 connects at a time), each reading its
/// response head before it counts as open. `Err` says what broke when not all opened in time.
async fn open_clients(
    addr: &str,
    n: usize,
    accept: Option<&str>,
    tag: &str,
) -> Result<Clients, String> {
    let detect = if accept.is_some() {
        Detect::AnyRead
    } else {
        Detect::EventEnd
    };
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<bool, String>>();
    let (got_tx, got_rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    let round = Arc::new(AtomicUsize::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(256));
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let (addr, ready_tx, got_tx, gate) = (
            addr.to_owned(),
            ready_tx.clone(),
            got_tx.clone(),
            gate.clone(),
        );
        let (round, bytes, closed) = (round.clone(), bytes.clone(), closed.clone());
        let accept = accept
            .map(|a| format!("accept-encoding: {a}\r\n"))
            .unwrap_or_default();
        let body = format!("{{\"tabId\":\"{tag}-{i}\"}}");
        tasks.spawn(async move {
            let permit = gate.acquire_owned().await.unwrap();
            let req = format!(
                "POST /leaderboard HTTP/1.1\r\nhost: localhost\r\n{accept}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            let opened = tokio::time::timeout(Duration::from_secs(60), async {
                let mut tcp = TcpStream::connect(&addr).await.map_err(|e| format!("connect: {e}"))?;
                tcp.write_all(req.as_bytes()).await.map_err(|e| format!("write: {e}"))?;
                let mut scan = Scan::new();
                let head_end = loop {
                    scan.buf.reserve(4096);
                    let k = tcp.read_buf(&mut scan.buf).await.map_err(|e| format!("read: {e}"))?;
                    if k == 0 {
                        return Err("closed before the response head".to_owned());
                    }
                    if let Some(at) = memchr::memmem::find(&scan.buf, b"\r\n\r\n") {
                        break at + 4;
                    }
                };
                let head = String::from_utf8_lossy(&scan.buf[..head_end]).to_ascii_lowercase();
                if !head.starts_with("http/1.1 200") {
                    return Err(format!("answered {}", head.lines().next().unwrap_or("")));
                }
                let compressed = head.contains("\r\ncontent-encoding:");
                scan.buf.drain(..head_end);
                Ok((tcp, scan, compressed))
            })
            .await
            .unwrap_or_else(|_| Err("no response head within 60 s".to_owned()));
            drop(permit);
            let (mut tcp, mut scan, compressed) = match opened {
                Ok(opened) => opened,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(compressed));
            drop(ready_tx);
            // what came with the head (a stream id) is no patch
            if detect == Detect::EventEnd {
                scan.feed();
            } else {
                scan.buf.clear();
            }
            let mut last = 0;
            loop {
                scan.buf.reserve(4096);
                let k = match tcp.read_buf(&mut scan.buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => k,
                };
                let now = round.load(Ordering::Acquire);
                if now > 0 {
                    bytes.fetch_add(k as u64, Ordering::Relaxed);
                }
                let got = match detect {
                    Detect::EventEnd => scan.feed() > 0,
                    Detect::AnyRead => {
                        scan.buf.clear();
                        true
                    }
                };
                if got && now > 0 && now != last {
                    last = now;
                    let _ = got_tx.send((now, Instant::now()));
                }
            }
            closed.fetch_add(1, Ordering::Relaxed);
        });
    }
    drop(ready_tx);
    let (mut opened, mut compressed) = (0, 0);
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while opened + errors.values().sum::<usize>() < n {
        match tokio::time::timeout_at(deadline, ready_rx.recv()).await {
            Ok(Some(Ok(c))) => {
                opened += 1;
                compressed += usize::from(c);
            }
            Ok(Some(Err(e))) => *errors.entry(e).or_default() += 1,
            Ok(None) | Err(_) => break,
        }
    }
    if opened < n {
        tasks.abort_all();
        let errors: Vec<String> = errors.iter().map(|(e, k)| format!("{k} × {e}")).collect();
        return Err(format!(
            "{opened} of {n} streams opened within 120 s; {}",
            if errors.is_empty() {
                "the rest gave no sign".to_owned()
            } else {
                errors.join("; ")
            }
        ));
    }
    Ok(Clients {
        arrivals: got_rx,
        round,
        bytes,
        closed,
        compressed,
        tasks,
    })
}

/// One server, `n` streams, `bumps` bumps one at a time.
async fn measure(who: &Contender, n: usize, bumps: usize, port: u16) -> Figures {
    let server = Server::spawn(who.binary, port, |command| {
        // the start-up notes (the connection cap) on stdout only, not between the rows
        command.env("RUST_LOG", "warn");
        for (key, value) in who.env {
            command.env(key, value);
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = server.rss_kb();
    let mut clients = match open_clients(&server.addr, n, who.accept, who.label).await {
        Ok(clients) => clients,
        Err(broken) => {
            return Figures {
                broken: Some(broken),
                ..Figures::default()
            };
        }
    };
    // every stream has its head: let the server settle before measuring it
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_open = server.rss_kb();
    let cpu_before = server.cpu_seconds();
    let (mut p50s, mut p99s, mut fulls) = (Vec::new(), Vec::new(), Vec::new());
    let mut missed = 0;
    let mut after_first = 0.0;
    for round in 1..=bumps {
        clients.round.store(round, Ordering::Release);
        let sent = Instant::now();
        server.bump().await;
        let deadline = tokio::time::Instant::from_std(sent + Duration::from_secs(30));
        let mut latencies = Vec::with_capacity(n);
        while latencies.len() < n {
            match tokio::time::timeout_at(deadline, clients.arrivals.recv()).await {
                Ok(Some((r, at))) if r == round => {
                    latencies.push(at.duration_since(sent).as_secs_f64() * 1000.0);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        missed += n - latencies.len();
        latencies.sort_by(f64::total_cmp);
        p50s.push(percentile(&latencies, 0.5));
        p99s.push(percentile(&latencies, 0.99));
        fulls.push(latencies.last().copied().unwrap_or(f64::NAN));
        // let the writes (and, compressed, the last reads) finish before the next bump
        let mut quiet = clients.bytes.load(Ordering::Relaxed);
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = clients.bytes.load(Ordering::Relaxed);
            if now == quiet {
                break;
            }
            quiet = now;
        }
        if round == 1 {
            after_first = quiet as f64;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cpu = server.cpu_seconds() - cpu_before;
    let rss_after = server.rss_kb();
    let bytes = clients.bytes.load(Ordering::Relaxed) as f64;
    let closed = clients.closed.load(Ordering::Relaxed);
    drop(server);
    clients.tasks.abort_all();
    while clients.tasks.join_next().await.is_some() {}
    Figures {
        p50_ms: median(p50s),
        p99_ms: median(p99s),
        full_ms: median(fulls),
        cpu_ms_per_change: cpu * 1000.0 / bumps as f64,
        kb_per_stream: (rss_open - rss_before) / n as f64,
        kb_per_stream_after: (rss_after - rss_before) / n as f64,
        bytes_per_change: bytes / (bumps * n) as f64,
        first_change_bytes: after_first / n as f64,
        later_bytes_per_change: if bumps > 1 {
            (bytes - after_first) / ((bumps - 1) * n) as f64
        } else {
            f64::NAN
        },
        compressed: clients.compressed,
        missed,
        broken: (closed > 0).then(|| format!("{closed} streams ended during the bumps")),
    }
}

fn print_header() {
    println!(
        "  {:<18} {:>8} {:>8} {:>9} {:>11} {:>9} {:>9} {:>11} {:>6}",
        "server",
        "p50 ms",
        "p99 ms",
        "fanout ms",
        "CPU/chg ms",
        "KB/strm",
        "KB after",
        "B/chg/view",
        "missed"
    );
}

fn print_row(label: &str, f: &Figures) {
    if let Some(broken) = f
        .broken
        .as_deref()
        .filter(|_| f.p50_ms.is_nan() || f.p50_ms == 0.0)
    {
        println!("  {label:<18} BROKE: {broken}");
        return;
    }
    println!(
        "  {label:<18} {:>8.2} {:>8.2} {:>9.2} {:>11.2} {:>9.2} {:>9.2} {:>11.0} {:>6}",
        f.p50_ms,
        f.p99_ms,
        f.full_ms,
        f.cpu_ms_per_change,
        f.kb_per_stream,
        f.kb_per_stream_after,
        f.bytes_per_change,
        f.missed
    );
    if let Some(broken) = &f.broken {
        println!("  {:<18} note: {broken}", "");
    }
}

fn print_ratio(label: &str, a: &Figures, b: &Figures) {
    println!(
        "  {label:<18} {:>7.2}x {:>7.2}x {:>8.2}x {:>10.2}x {:>8.2}x {:>8.2}x {:>10.2}x",
        a.p50_ms / b.p50_ms,
        a.p99_ms / b.p99_ms,
        a.full_ms / b.full_ms,
        a.cpu_ms_per_change / b.cpu_ms_per_change,
        a.kb_per_stream / b.kb_per_stream,
        a.kb_per_stream_after / b.kb_per_stream_after,
        a.bytes_per_change / b.bytes_per_change,
    );
}

/// The median of each figure over repeated runs (deliveries missed: their sum).
fn median_figures(runs: &[Figures]) -> Figures {
    let of = |field: fn(&Figures) -> f64| median(runs.iter().map(field).collect());
    Figures {
        p50_ms: of(|f| f.p50_ms),
        p99_ms: of(|f| f.p99_ms),
        full_ms: of(|f| f.full_ms),
        cpu_ms_per_change: of(|f| f.cpu_ms_per_change),
        kb_per_stream: of(|f| f.kb_per_stream),
        kb_per_stream_after: of(|f| f.kb_per_stream_after),
        bytes_per_change: of(|f| f.bytes_per_change),
        first_change_bytes: of(|f| f.first_change_bytes),
        later_bytes_per_change: of(|f| f.later_bytes_per_change),
        compressed: runs.iter().map(|f| f.compressed).max().unwrap_or(0),
        missed: runs.iter().map(|f| f.missed).sum(),
        broken: runs.iter().find_map(|f| f.broken.clone()),
    }
}

/// Runs each of `who` `repeats` times, interleaved and rotated (a b c, b c a, c a b, …: the
/// machine's slow spells, and the clean-up after the run before, fall on all of them alike),
/// printing each run; the medians over the runs.
async fn rounds_of(
    who: &[Contender],
    n: usize,
    bumps: usize,
    repeats: usize,
    port: &mut u16,
) -> Vec<Figures> {
    let mut runs: Vec<Vec<Figures>> = vec![Vec::new(); who.len()];
    for repeat in 1..=repeats {
        // each run begins with another server: none always follows the same one
        for k in 0..who.len() {
            let i = (k + repeat - 1) % who.len();
            let contender = &who[i];
            let figures = measure(contender, n, bumps, *port).await;
            *port += 1;
            print_row(&format!("{} #{repeat}", contender.label), &figures);
            runs[i].push(figures);
            // the last run's sockets close, its memory goes back: let the machine settle
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    runs.iter().map(|r| median_figures(r)).collect()
}

async fn peers(viewers: &[usize]) {
    let bumps = env_num("BUMPS", 20).max(1);
    let repeats = env_num("REPEATS", 3).max(1);
    let servers: Vec<Contender> = env_list("SERVERS", "dstar,peer,peer-axum,floor")
        .iter()
        .filter_map(|s| {
            let c = contender(s);
            if c.is_none() {
                eprintln!("live-bench: unknown server {s:?} (dstar, peer, peer-axum, floor)");
            }
            c
        })
        .collect();
    let mut port = 21400u16;
    let mut identity_at: BTreeMap<usize, Figures> = BTreeMap::new();
    for &n in viewers {
        println!(
            "== {n} viewers, {bumps} bumps one at a time, {repeats} runs per server (identity; each run: medians over its bumps)"
        );
        print_header();
        let summary = rounds_of(&servers, n, bumps, repeats, &mut port).await;
        println!("  -- medians over the {repeats} runs");
        for (who, f) in servers.iter().zip(&summary) {
            print_row(who.label, f);
        }
        let find = |label: &str| {
            servers
                .iter()
                .position(|w| w.label == label)
                .map(|i| &summary[i])
        };
        if let Some(dstar) = find("dstar") {
            identity_at.insert(n, dstar.clone());
            for other in ["peer", "peer-axum", "floor"] {
                if let Some(f) = find(other) {
                    print_ratio(&format!("dstar/{other}"), dstar, f);
                }
            }
        }
    }
    let at = env_num(
        "BROWSER_VIEWERS",
        viewers.iter().copied().max().unwrap_or(0),
    );
    if at == 0 {
        return;
    }
    println!(
        "== {at} viewers, dstar with `Accept-Encoding: {BROWSER}` (default brotli stream writer), {bumps} bumps, {repeats} runs each"
    );
    print_header();
    let identity = match identity_at.get(&at) {
        Some(f) => f.clone(),
        None => {
            let dstar = [contender("dstar").unwrap()];
            rounds_of(&dstar, at, bumps, repeats, &mut port)
                .await
                .remove(0)
        }
    };
    let summary = rounds_of(&BROWSER_RUNS, at, bumps, repeats, &mut port).await;
    println!("  -- medians over the {repeats} runs");
    print_row("identity", &identity);
    for (who, f) in BROWSER_RUNS.iter().zip(&summary) {
        print_row(who.label, f);
    }
    for (who, f) in BROWSER_RUNS.iter().zip(&summary) {
        println!(
            "  {:<18} {} of {at} streams compressed; bytes/change/viewer {:.1} % of identity's; CPU/change {:.2}x identity's",
            who.label,
            f.compressed,
            100.0 * f.bytes_per_change / identity.bytes_per_change,
            f.cpu_ms_per_change / identity.cpu_ms_per_change
        );
        println!(
            "  {:<18} the first change after the streams opened {:.0} bytes/viewer ({:.1} %); each later one {:.0} bytes/viewer ({:.2} % of identity's)",
            "",
            f.first_change_bytes,
            100.0 * f.first_change_bytes / identity.first_change_bytes,
            f.later_bytes_per_change,
            100.0 * f.later_bytes_per_change / identity.later_bytes_per_change
        );
    }
}

// ---------------------------------------------------------------------------------------------
// BENCH=encodings: the encodings against each other (the former live-bench)
// ---------------------------------------------------------------------------------------------

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

/// The former live-bench: encodings against each other.
async fn encodings() {
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
