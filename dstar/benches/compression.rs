//! A fat-morph update compressed on a long-lived stream, in process: a 100-row leaderboard
//! re-rendered whole after one score changed, sent through `Compression::layer()` on a stream
//! that has already carried 300 updates (so every encoder's window has wrapped at least once).
//!
//! - `render`: the update itself, rendered and formatted as a `datastar-patch-elements` event
//!   (what an identity stream costs per update, before the socket);
//! - `render+{br,zstd,gzip}`: the same, then compressed and flushed by the layer (with the
//!   default settings, and brotli at qualities 2, 4 and 5 for comparison).
//!
//! The encoder's tables are hot here (one stream); with hundreds of streams each update finds
//! its stream's tables cold, which costs more (`live-bench` measures that, over sockets).
//!
//! Before timing, it prints each encoding's bytes on the wire per update (median over 200
//! updates) against identity. `event_answer/*` times the same 10 KB as an event's finished
//! answer, compressed in one go. `cargo bench -p dstar --bench compression`

use axum::body::Body;
use axum::http::Request;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use dstar::prelude::*;
use dstar::sse::{Compression, StreamBrotli};
use futures_util::FutureExt;
use http_body_util::BodyExt;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tower::ServiceExt;

const NAMES: [&str; 10] = [
    "Ada", "Brian", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustavo", "Hana", "Ivo", "Jun",
];

/// The leaderboard: 100 players, one score raised per update (an xorshift picks whom).
struct Board {
    scores: Vec<u64>,
    seed: u64,
}

impl Board {
    fn new() -> Board {
        Board {
            scores: (0..100).map(|id| 1000 - id * 7).collect(),
            seed: 0x2545_f491_4f6c_dd1d,
        }
    }

    /// One update: a score raised, the table rendered whole and formatted as one event.
    fn update(&mut self) -> Bytes {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let at = (self.seed % 100) as usize;
        self.scores[at] += 10;
        let mut ranking: Vec<usize> = (0..100).collect();
        ranking.sort_by(|a, b| self.scores[*b].cmp(&self.scores[*a]).then(a.cmp(b)));
        let mut sse = Sse::with_capacity(16 << 10);
        sse.patch_elements(html! {
            main #leaderboard {
                h1 { "Leaderboard" }
                table {
                    thead { tr { th { "#" } th { "Player" } th { "Score" } } }
                    tbody {
                        @for (rank, id) in ranking.iter().enumerate() {
                            tr id=(format!("player-{id}")) {
                                td.rank { (rank + 1) }
                                td.name { (NAMES[id % 10]) " " (id / 10 + 1) }
                                td.score { (self.scores[*id]) }
                            }
                        }
                    }
                }
            }
        });
        sse.into_bytes()
    }
}

/// A compressed event stream in the making: updates go in, compressed frames come out.
struct Stream {
    tx: mpsc::UnboundedSender<Bytes>,
    body: Body,
}

impl Stream {
    /// A stream through `config.layer()`, for a client accepting `encoding`.
    fn open(config: Compression, encoding: &str) -> Stream {
        let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
        let rx = Arc::new(Mutex::new(Some(rx)));
        let handler = move || {
            let rx = rx.lock().unwrap().take().expect("one stream per router");
            let frames = futures_util::stream::unfold(rx, |mut rx| async move {
                let frame = rx.recv().await?;
                Some((Ok::<_, std::convert::Infallible>(frame), rx))
            });
            async move {
                (
                    [("content-type", "text/event-stream")],
                    Body::from_stream(frames),
                )
            }
        };
        let router = axum::Router::new()
            .route("/stream", axum::routing::post(handler))
            .layer(config.layer());
        let request = Request::post("/stream")
            .header("accept-encoding", encoding)
            .body(Body::empty())
            .unwrap();
        let response = router
            .oneshot(request)
            .now_or_never()
            .expect("the handler answers at once")
            .unwrap();
        Stream {
            tx,
            body: response.into_body(),
        }
    }

    /// Sends one update and returns what reached the wire for it (it is flushed at once).
    fn send(&mut self, update: Bytes) -> Bytes {
        self.tx.send(update).unwrap();
        let frame = self
            .body
            .frame()
            .now_or_never()
            .expect("each update is flushed at once")
            .unwrap()
            .unwrap();
        frame.into_data().unwrap()
    }
}

fn median(mut values: Vec<usize>) -> usize {
    values.sort_unstable();
    values[values.len() / 2]
}

/// What is measured: a label, the server's settings and the client's `Accept-Encoding`.
fn variants() -> Vec<(String, Compression, &'static str)> {
    let mut variants = vec![
        ("identity".to_owned(), Compression::default(), "identity"),
        ("br (default)".to_owned(), Compression::default(), "br"),
        (
            "br library".to_owned(),
            Compression::default().stream_brotli(StreamBrotli::Library),
            "br",
        ),
        ("zstd".to_owned(), Compression::default(), "zstd"),
        ("gzip".to_owned(), Compression::default(), "gzip"),
    ];
    // the library's other qualities at the default window
    for quality in [2, 4, 5] {
        let config = Compression::default()
            .brotli(quality, 17)
            .stream_brotli(StreamBrotli::Library);
        variants.push((format!("br lib q{quality}"), config, "br"));
    }
    variants
}

/// A stream that has carried 300 updates already (every window has wrapped).
fn warm(config: Compression, encoding: &str) -> (Board, Stream) {
    let mut board = Board::new();
    let mut stream = Stream::open(config, encoding);
    for _ in 0..300 {
        stream.send(board.update());
    }
    (board, stream)
}

fn bench(c: &mut Criterion) {
    println!("bytes on the wire per update (median of 200, after 300 updates):");
    let mut identity = 0;
    for (label, config, encoding) in variants() {
        let (mut board, mut stream) = warm(config, encoding);
        let sizes = (0..200)
            .map(|_| stream.send(board.update()).len())
            .collect();
        let bytes = median(sizes);
        if encoding == "identity" {
            identity = bytes;
        }
        println!(
            "  {label:<13} {bytes:>6} B   {:>6.0}x smaller than identity",
            identity as f64 / bytes as f64
        );
    }

    let mut group = c.benchmark_group("fat_morph_update");
    let mut board = Board::new();
    group.bench_function("render", |b| b.iter(|| board.update()));
    for (label, config, encoding) in variants().into_iter().skip(1) {
        let (mut board, mut stream) = warm(config, encoding);
        group.bench_function(format!("render+{label}"), |b| {
            b.iter(|| stream.send(board.update()))
        });
    }
    group.finish();

    // an event's finished answer (the same 10 KB table): compressed in one go, nothing kept
    let mut group = c.benchmark_group("event_answer");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let answer = Board::new().update();
    let router = axum::Router::new()
        .route(
            "/answer",
            axum::routing::post(move || {
                let answer = answer.clone();
                async move { ([("content-type", "text/event-stream")], answer) }
            }),
        )
        .layer(Compression::default().layer());
    for accept in ["identity", "br", "zstd", "gzip"] {
        group.bench_function(accept, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let request = Request::post("/answer")
                        .header("accept-encoding", accept)
                        .body(Body::empty())
                        .unwrap();
                    let response = router.clone().oneshot(request).await.unwrap();
                    response.into_body().collect().await.unwrap().to_bytes()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
