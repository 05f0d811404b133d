//! The machine's write floor for the leaderboard's fan-out: a hand-written hyper 1.x HTTP/1.1
//! server that renders nothing. The leaderboard's table event (the 100-row table of
//! `leaderboard.rs` in dstar's page root, formatted as dstar formats a live frame) is built ONCE
//! at start; each bump broadcasts that one `Bytes` to every open stream, which hands it to hyper
//! as it is (no copy, no formatting, no compression, no timers).
//!
//! - `POST /leaderboard`: answers `text/event-stream` and then writes every broadcast event;
//! - `POST /leaderboard/_event/bump`: broadcasts the event (`204`).
//!
//! Listens on `DSTAR_ADDR` (default `127.0.0.1:3000`). `live-bench` measures it beside dstar's
//! leaderboard and its hand-written peer.

use bytes::Bytes;
use dstar::prelude::{Markup, html};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Empty, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast;

type Body = UnsyncBoxBody<Bytes, Infallible>;

struct Floor {
    /// The one pre-rendered event every bump sends.
    event: Bytes,
    changes: broadcast::Sender<Bytes>,
}

/// The leaderboard's first render, as its live frame carries it: same markup, same attribute
/// values as dstar's `connect()` and `event("bump")` give, inside dstar's page root.
fn table() -> Markup {
    const NAMES: [&str; 10] = [
        "Ada", "Brian", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustavo", "Hana", "Ivo", "Jun",
    ];
    // what dstar's `connect()` and `event("bump")` write, byte for byte
    let connect = "@post(location.pathname.replace(/^\\/+/, '/').replace(/\\/+$/, '') + location.search, {retry: 'always', retryInterval: 500 + Math.floor(Math.random() * 1000), retryScaler: 2, retryMaxWait: 10000, retryMaxCount: Infinity, headers: {'x-dstar-rendered': document.body.dataset.dsRendered || '', 'x-dstar-flash': document.body.dataset.dsFlash || ''}})";
    let bump =
        "@post(location.pathname.replace(/^\\/+/, '/').replace(/\\/+$/, '') + '/_event/bump')";
    html! {
        main #leaderboard data-init=(connect) data-on:online__window=(connect) {
            h1 { "Leaderboard" }
            button #bump data-on:click=(bump) { "Bump a random player" }
            table {
                thead { tr { th { "#" } th { "Player" } th { "Score" } } }
                tbody {
                    @for id in 0..100u32 {
                        tr id=(format!("player-{id}")) {
                            td.rank { (id + 1) }
                            td.name { (NAMES[id as usize % 10]) " " (id / 10 + 1) }
                            td.score { (1000 - id * 7) }
                        }
                    }
                }
            }
        }
    }
}

async fn handle(req: Request<Incoming>, floor: Arc<Floor>) -> Result<Response<Body>, Infallible> {
    let response = match (req.method(), req.uri().path()) {
        (&Method::POST, "/leaderboard") => {
            let frames =
                futures_util::stream::unfold(floor.changes.subscribe(), |mut rx| async move {
                    loop {
                        match rx.recv().await {
                            Ok(bytes) => return Some((Ok(Frame::data(bytes)), rx)),
                            Err(broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(broadcast::error::RecvError::Closed) => return None,
                        }
                    }
                });
            Response::builder()
                .header(CONTENT_TYPE, "text/event-stream")
                .header(CACHE_CONTROL, "no-cache")
                .body(StreamBody::new(frames).boxed_unsync())
        }
        (&Method::POST, "/leaderboard/_event/bump") => {
            let _ = floor.changes.send(floor.event.clone());
            Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Empty::new().boxed_unsync())
        }
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Empty::new().boxed_unsync()),
    };
    Ok(response.expect("a valid response"))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut sse = dstar::sse::Sse::new();
    sse.patch_elements(dstar::page::page_root(table()));
    let floor = Arc::new(Floor {
        event: sse.into_bytes(),
        changes: broadcast::channel(16).0,
    });
    let addr = std::env::var("DSTAR_ADDR").unwrap_or_else(|_| dstar::DEFAULT_ADDR.to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("write floor (hyper) listening on http://{addr}");
    println!("  POST   /leaderboard");
    println!("  POST   /leaderboard/_event/bump");
    println!(
        "  note: every bump sends the same {} bytes",
        floor.event.len()
    );
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let floor = floor.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, floor.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}
