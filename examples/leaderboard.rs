//! A live page, re-rendered whole on every change (a "fat morph"): a 100-row leaderboard. The page
//! names its topic (`live = "leaderboard"`); on each message its stream runs `mount` and `render`
//! again and morphs the page, at most once per frame, compressed with one window per connection,
//! so a re-render that changes one score costs a few dozen bytes on the wire.
//! Run `cargo run --example leaderboard`, then open http://127.0.0.1:3000/leaderboard.
//! `BUMP_MS` sets how often a background task bumps a random player (default 500; `0` turns it
//! off, so only the Bump button and `POST /leaderboard/_event/bump` do).

use dstar::axum::extract::{FromRef, State};
use dstar::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The topic the page listens to.
pub const TOPIC: &str = "leaderboard";

/// The players and their scores, and the pub/sub that tells pages about changes.
#[derive(Clone)]
pub struct Board {
    players: Arc<Mutex<Vec<Player>>>,
    seed: Arc<AtomicU64>,
    /// Tells live pages that something changed.
    pub pubsub: PubSub,
}

/// One row.
#[derive(Clone, Debug)]
pub struct Player {
    /// A stable id (the row's DOM id).
    pub id: u32,
    /// The player's name.
    pub name: String,
    /// The score.
    pub score: u64,
}

/// A live page's stream finds its `PubSub` in the state through axum's `FromRef`.
impl FromRef<Board> for PubSub {
    fn from_ref(board: &Board) -> PubSub {
        board.pubsub.clone()
    }
}

impl Default for Board {
    fn default() -> Self {
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
            players: Arc::new(Mutex::new(players)),
            seed: Arc::new(AtomicU64::new(0x2545_f491_4f6c_dd1d)),
            pubsub: PubSub::new(),
        }
    }
}

impl Board {
    /// The players, best first.
    pub fn ranking(&self) -> Vec<Player> {
        let mut players = self.players.lock().unwrap().clone();
        players.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
        players
    }

    /// Raises a random player's score by 10 and tells every live page. Returns the player's id.
    pub async fn bump(&self) -> Result<u32, dstar::stream::PublishError> {
        // xorshift: no RNG dependency for an example
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed.store(x, Ordering::Relaxed);
        let id = {
            let mut players = self.players.lock().unwrap();
            let at = (x % players.len() as u64) as usize;
            players[at].score += 10;
            players[at].id
        };
        self.pubsub.publish(TOPIC, ()).await?;
        Ok(id)
    }
}

/// `/leaderboard`: the whole table, rendered again on every change.
pub struct Leaderboard {
    players: Vec<Player>,
}

#[dstar::page(
    "/leaderboard",
    state = Board,
    title = "Leaderboard",
    live = "leaderboard",
    layout = dstar_examples::layout
)]
impl Leaderboard {
    async fn mount(State(board): State<Board>) -> Self {
        Leaderboard {
            players: board.ranking(),
        }
    }

    fn render(&self) -> Markup {
        html! {
            main #leaderboard data-init=(connect()) data-on:online__window=(connect()) {
                h1 { "Leaderboard" }
                button #bump data-on:click=(event("bump")) { "Bump a random player" }
                table {
                    thead { tr { th { "#" } th { "Player" } th { "Score" } } }
                    tbody {
                        @for (rank, player) in self.players.iter().enumerate() {
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

    /// One live stream per tab. The example has no login, so the scope is fixed.
    fn stream_key(_head: &dstar::event::RequestHead) -> &'static str {
        "leaderboard"
    }

    /// `POST /leaderboard/_event/bump`: a random player scores; every open page re-renders.
    #[event]
    async fn bump(State(board): State<Board>) -> Result<(), dstar::stream::PublishError> {
        board.bump().await.map(|_| ())
    }
}

/// The example's app. `BROTLI_QUALITY`, `BROTLI_LGWIN`, `BROTLI_STREAMS=library` (brotli streams
/// by the reference library, not dstar's delta writer) and `COMPRESSED_STREAMS` (how many streams
/// are compressed at once) tune the stream compression, for live-bench; the defaults are dstar's.
pub fn app(board: Board) -> dstar::App {
    let mut compression = dstar::sse::Compression::default();
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u32>().ok());
    if let (Some(quality), lgwin) = (env("BROTLI_QUALITY"), env("BROTLI_LGWIN")) {
        compression = compression.brotli(quality, lgwin.unwrap_or(17));
    }
    if std::env::var("BROTLI_STREAMS").is_ok_and(|v| v == "library") {
        compression = compression.stream_brotli(dstar::sse::StreamBrotli::Library);
    }
    if let Some(streams) = env("COMPRESSED_STREAMS") {
        compression = compression.max_streams(streams as usize);
    }
    dstar::App::new().state(board).compression(compression)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let board = Board::default();
    let period = std::env::var("BUMP_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(500);
    if period > 0 {
        let bumper = board.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(period));
            loop {
                every.tick().await;
                let _ = bumper.bump().await;
            }
        });
    }
    dstar::serve(app(board)).await
}
