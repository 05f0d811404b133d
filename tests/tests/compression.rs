//! Compressed event streams: one encoder per response, flushed at every event. The test decodes
//! the body incrementally, frame by frame, and checks each event is readable the moment it is
//! sent, not only when the stream ends.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/ticker.rs"]
mod ticker;

use axum::body::Body;
use axum::http::Request;
use dstar::sse::{Compression, StreamBrotli};
use http_body_util::BodyExt;
use std::io::Write;
use std::time::Duration;
use ticker::{AppState, Ticker};
use tower::ServiceExt;

/// A streaming decoder of one content coding: feed it compressed bytes, read what decodes so far.
enum Decoder {
    Brotli(Box<brotli_decompressor::DecompressorWriter<Vec<u8>>>),
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    Zstd(zstd::stream::write::Decoder<'static, Vec<u8>>),
}

impl Decoder {
    fn new(encoding: &str) -> Decoder {
        match encoding {
            "br" => Decoder::Brotli(Box::new(brotli_decompressor::DecompressorWriter::new(
                Vec::new(),
                4096,
            ))),
            "gzip" => Decoder::Gzip(flate2::write::GzDecoder::new(Vec::new())),
            "zstd" => Decoder::Zstd(zstd::stream::write::Decoder::new(Vec::new()).unwrap()),
            other => panic!("unexpected encoding {other}"),
        }
    }

    /// Everything decoded so far.
    fn feed(&mut self, bytes: &[u8]) -> String {
        let out = match self {
            Decoder::Brotli(d) => {
                d.write_all(bytes).unwrap();
                d.flush().unwrap();
                d.get_ref()
            }
            Decoder::Gzip(d) => {
                d.write_all(bytes).unwrap();
                d.flush().unwrap();
                d.get_ref()
            }
            Decoder::Zstd(d) => {
                d.write_all(bytes).unwrap();
                d.flush().unwrap();
                d.get_ref()
            }
        };
        String::from_utf8_lossy(out).into_owned()
    }
}

fn app(state: &AppState, compression: Compression) -> axum::Router {
    dstar::App::empty()
        .page::<Ticker>()
        .state(state.clone())
        .compression(compression)
        .build()
}

/// Opens the ticker's stream; the tab id is unique per call (the dedup registry is global).
async fn open(app: axum::Router, accept: &str) -> axum::response::Response {
    static TABS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let tab = TABS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let req = Request::post("/ticker")
        .header("accept-encoding", accept)
        .header("content-type", "application/json")
        .body(Body::from(format!(r#"{{"tabId":"compress-{tab}"}}"#)))
        .unwrap();
    app.oneshot(req).await.unwrap()
}

#[tokio::test]
async fn every_event_decodes_the_moment_it_is_sent_in_each_encoding() {
    let library = Compression::default().stream_brotli(StreamBrotli::Library);
    for (accept, expected, compression) in [
        // dstar's delta writer, then the reference library
        ("gzip, deflate, br, zstd", "br", Compression::default()),
        ("br", "br", library),
        ("zstd, gzip", "zstd", Compression::default()),
        ("gzip", "gzip", Compression::default()),
    ] {
        let state = AppState::default();
        let response = open(app(&state, compression), accept).await;
        assert_eq!(response.headers()["content-encoding"], expected, "{accept}");
        assert_eq!(response.headers()["vary"], "accept-encoding");
        assert!(response.headers().get("content-length").is_none());
        let mut body = response.into_body();
        let mut decoder = Decoder::new(expected);
        let mut decoded = String::new();
        let mut wire = 0;
        // the stream's first event, its id
        while !decoded.contains("id: ds1.") {
            let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
                .await
                .expect("the id event was held back")
                .unwrap()
                .unwrap();
            let data = frame.into_data().unwrap();
            wire += data.len();
            decoded = decoder.feed(&data);
        }
        for n in 1..=5u64 {
            state.tick().await.unwrap();
            let want = format!("data: signals {{\"tick\":{n}}}\n\n");
            // nothing else is sent until the next tick: the event must decode from what came so far
            while !decoded.ends_with(&want) {
                let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
                    .await
                    .unwrap_or_else(|_| panic!("{expected}: tick {n} was held back in the encoder; decoded so far: {decoded:?}"))
                    .unwrap_or_else(|| panic!("{expected}: the stream ended; decoded so far: {decoded:?}"))
                    .unwrap();
                let data = frame.into_data().unwrap();
                wire += data.len();
                decoded = decoder.feed(&data);
            }
        }
        println!(
            "{expected}: {wire} bytes on the wire for {} decoded",
            decoded.len()
        );
    }
}

#[tokio::test]
async fn identity_when_the_client_accepts_nothing_or_compression_is_off() {
    let state = AppState::default();
    let response = open(app(&state, Compression::default()), "identity").await;
    assert!(response.headers().get("content-encoding").is_none());
    assert_eq!(response.headers()["vary"], "accept-encoding");
    let response = open(app(&state, Compression::off()), "br").await;
    assert!(response.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn events_and_full_pages_are_compressed_too() {
    let state = AppState::default();
    let app = app(&state, Compression::default());
    // the full page, compressed in one go
    let req = Request::get("/ticker")
        .header("accept-encoding", "gzip")
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(req).await.unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let mut decoder = Decoder::new("gzip");
    assert!(decoder.feed(&bytes).contains("<!DOCTYPE html>"));
}

/// The answer of an event handler (a finished `Sse` batch): compressed in one go when it is big
/// enough to gain from it, sent as it is when it is tiny (an encoder would cost more than the whole
/// answer), and `Vary: accept-encoding` either way.
#[tokio::test]
async fn an_event_answer_is_compressed_in_one_go_unless_it_is_tiny() {
    use dstar::prelude::*;
    let app = axum::Router::new()
        .route(
            "/small",
            axum::routing::post(|| async {
                let mut sse = Sse::new();
                sse.patch_signals(json!({ "count": 42 }));
                sse
            }),
        )
        .route(
            "/big",
            axum::routing::post(|| async {
                let mut sse = Sse::new();
                sse.patch_elements(html! { ul #list { @for i in 0..200 { li { "item " (i) } } } });
                sse
            }),
        )
        .layer(Compression::default().layer());
    let post = |path: &str, accept: &str| {
        Request::post(path)
            .header("accept-encoding", accept)
            .body(Body::empty())
            .unwrap()
    };

    let small = app
        .clone()
        .oneshot(post("/small", "gzip, deflate, br, zstd"))
        .await
        .unwrap();
    assert!(small.headers().get("content-encoding").is_none());
    assert_eq!(small.headers()["vary"], "accept-encoding");

    let identity = app.clone().oneshot(post("/big", "identity")).await.unwrap();
    let identity = identity.into_body().collect().await.unwrap().to_bytes();
    for (accept, expected) in [
        ("gzip, deflate, br, zstd", "br"),
        ("zstd", "zstd"),
        ("gzip", "gzip"),
    ] {
        let big = app.clone().oneshot(post("/big", accept)).await.unwrap();
        assert_eq!(big.headers()["content-encoding"], expected);
        assert_eq!(big.headers()["vary"], "accept-encoding");
        let length: usize = big.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let wire = big.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(wire.len(), length);
        assert!(
            wire.len() * 4 < identity.len(),
            "{expected}: {} of {}",
            wire.len(),
            identity.len()
        );
        let decoded = Decoder::new(expected).feed(&wire);
        assert_eq!(decoded.as_bytes(), &identity[..], "{expected}");
    }
}

/// Memory stays bounded: past `max_streams` compressed streams, a new one goes out uncompressed,
/// and a place frees up when a compressed stream ends.
#[tokio::test]
async fn past_max_streams_a_stream_goes_out_uncompressed() {
    let state = AppState::default();
    let app = app(&state, Compression::default().max_streams(2));
    let first = open(app.clone(), "br").await;
    let second = open(app.clone(), "br").await;
    assert_eq!(first.headers()["content-encoding"], "br");
    assert_eq!(second.headers()["content-encoding"], "br");
    let third = open(app.clone(), "br").await;
    assert!(third.headers().get("content-encoding").is_none());
    assert_eq!(third.headers()["vary"], "accept-encoding");
    // the uncompressed one still streams
    let mut body = third.into_body();
    let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(frame.into_data().unwrap().starts_with(b"id: ds1."));
    // a client goes: its place is free again
    drop(first);
    let fourth = open(app, "br").await;
    assert_eq!(fourth.headers()["content-encoding"], "br");
    drop(second);
}

/// A page whose events answer big and small, for the path through `App` (its cross-origin check
/// and CSRF layers, then compression).
#[derive(Default)]
struct Answers;

#[dstar::page("/answers")]
impl Answers {
    fn render(&self) -> dstar::prelude::Markup {
        use dstar::prelude::*;
        html! { button data-on:click=(event("fill")) { "fill" } }
    }

    #[event]
    async fn fill(sse: &mut dstar::Sse) {
        use dstar::prelude::*;
        sse.patch_elements(html! { ul #list { @for i in 0..200 { li { "item " (i) } } } });
    }

    #[event]
    async fn count(sse: &mut dstar::Sse) {
        sse.patch_signals(serde_json::json!({ "count": 42 }));
    }
}

#[tokio::test]
async fn through_app_an_event_answer_is_compressed_unless_it_is_tiny() {
    let app = dstar::App::empty().page::<Answers>().build();
    let post = |path: &str| {
        Request::post(path)
            .header("accept-encoding", "gzip, deflate, br, zstd")
            .header("content-type", "application/json")
            .header("datastar-request", "true")
            .body(Body::from("{}"))
            .unwrap()
    };
    let big = app
        .clone()
        .oneshot(post("/answers/_event/fill"))
        .await
        .unwrap();
    assert_eq!(big.status(), 200);
    assert_eq!(big.headers()["content-encoding"], "br");
    let wire = big.into_body().collect().await.unwrap().to_bytes();
    assert!(Decoder::new("br").feed(&wire).contains("<li>item 199</li>"));

    let small = app.oneshot(post("/answers/_event/count")).await.unwrap();
    assert_eq!(small.status(), 200);
    assert!(small.headers().get("content-encoding").is_none());
    assert_eq!(small.headers()["vary"], "accept-encoding");
}
