//! The leaderboard written by hand: the 100-row table of `leaderboard.rs` with plain axum routes,
//! the `datastar` SDK and an `html!` template, rendered ONCE per change in the bump handler and
//! sent to every open stream through a `tokio::sync::broadcast` of the formatted event (the peer
//! `live-bench` measures dstar's live page against).
//! Run `cargo run --example peer-leaderboard`, then open http://127.0.0.1:3000/leaderboard.
//!
//! - `GET /leaderboard`: the page; `POST /leaderboard`: its stream;
//! - `POST /leaderboard/_event/bump`: a random player scores, the table is rendered and broadcast.
//!
//! Served by `dstar::Server` like the other peers (its connection layer, no page machinery);
//! `PEER_SERVE=axum` serves the same router with plain `axum::serve` instead (TCP_NODELAY on).

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse};
use datastar::prelude::PatchElements;
use dstar::prelude::{DOCTYPE, Markup, html};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// One row (as in `leaderboard.rs`).
struct Player {
    id: u32,
    name: String,
    score: u64,
}

/// The players and the xorshift seed, behind one lock: a bump renders and broadcasts under it,
/// so streams get the renders in the order of the changes.
struct Players {
    players: Vec<Player>,
    seed: u64,
}

#[derive(Clone)]
struct Board {
    players: Arc<Mutex<Players>>,
    /// Every open stream's receiver: one formatted event per change.
    changes: broadcast::Sender<Event>,
}

impl Board {
    fn new() -> Self {
        const NAMES: [&str; 10] = [
            "Ada", "Brian", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustavo", "Hana", "Ivo", "Jun",
        ];
        let players = (0..100u32)
            .map(|id| Player {
                id,
                name: format!("{} {}", NAMES[id as usize % 10], id / 10 + 1),
                score: u64::from(1000 - id * 7),
            })
            .collect();
        Board {
            players: Arc::new(Mutex::new(Players {
                players,
                seed: 0x2545_f491_4f6c_dd1d,
            })),
            changes: broadcast::channel(16).0,
        }
    }
}

/// The stream's action, with the retry options a page that must stay live takes (and the same
/// bytes as dstar's `connect()`, so both send events of the same size).
const CONNECT: &str = "@post(location.pathname.replace(/^\\/+/, '/').replace(/\\/+$/, '') + location.search, {retry: 'always', retryInterval: 500 + Math.floor(Math.random() * 1000), retryScaler: 2, retryMaxWait: 10000, retryMaxCount: Infinity, headers: {'x-dstar-rendered': document.body.dataset.dsRendered || '', 'x-dstar-flash': document.body.dataset.dsFlash || ''}})";

/// The page's `main`, best first (the markup of `leaderboard.rs`).
fn table(players: &[Player]) -> Markup {
    let mut ranked: Vec<&Player> = players.iter().collect();
    ranked.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
    html! {
        main #leaderboard data-init=(CONNECT) data-on:online__window=(CONNECT) {
            h1 { "Leaderboard" }
            button #bump data-on:click="@post('/leaderboard/_event/bump')" { "Bump a random player" }
            table {
                thead { tr { th { "#" } th { "Player" } th { "Score" } } }
                tbody {
                    @for (rank, player) in ranked.iter().enumerate() {
                        tr id=(format!("player-{}", player.id)) {
                            td.rank { (rank + 1) }
                            td.name { (player.name) }
                            td.score { (player.score) }
                        }
                    }
                }
            }
        }
    }
}

async fn page(State(board): State<Board>) -> impl IntoResponse {
    let main = table(&board.players.lock().unwrap().players);
    Html(
        html! {
            (DOCTYPE)
            html {
                head {
                    title { "Leaderboard" }
                    script type="module" src=(dstar::page::client_src()) {}
                }
                body { (main) }
            }
        }
        .into_string(),
    )
}

/// One stream per tab: every change's event, as broadcast (a lagging stream skips ahead).
async fn stream(State(board): State<Board>) -> impl IntoResponse {
    let events = futures_util::stream::unfold(board.changes.subscribe(), |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(event) => return Some((Ok::<Event, Infallible>(event), rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// A random player scores 10; the table is rendered once and sent to every stream.
async fn bump(State(board): State<Board>) -> impl IntoResponse {
    let mut players = board.players.lock().unwrap();
    // xorshift, as in `leaderboard.rs`
    let mut x = players.seed;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    players.seed = x;
    let at = (x % players.players.len() as u64) as usize;
    players.players[at].score += 10;
    let event = PatchElements::new(table(&players.players).into_string()).write_as_axum_sse_event();
    let _ = board.changes.send(event);
    axum::http::StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let routes = dstar::routes! {
        "/leaderboard" => get(page).post(stream),
        "/leaderboard/_event/bump" => post(bump),
    }
    .with_state(Board::new());
    if std::env::var("PEER_SERVE").is_ok_and(|v| v == "axum") {
        use axum::serve::ListenerExt as _;
        let addr = std::env::var("DSTAR_ADDR").unwrap_or_else(|_| dstar::DEFAULT_ADDR.to_owned());
        let listener = tokio::net::TcpListener::bind(&addr).await?.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        println!("axum listening on http://{addr}");
        let (router, listing) = routes.into_parts();
        for route in listing {
            println!("  {:<6} {}", route.method, route.path);
        }
        return axum::serve(listener, router).await;
    }
    dstar::Server::from_routes(routes).run().await
}
