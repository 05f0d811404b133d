//! A live page: a counter fed by a background publisher through `PubSub`, one stream per tab.
//! Run `cargo run --example ticker`, then open http://127.0.0.1:3000/ticker.
//! `TICK_MS` sets the publisher's period (default 1000); `TICK_MS=0` turns it off, so only the
//! `bump` event publishes. `TICKER_HEADING` replaces the heading's "Tick". With
//! `DSTAR_STATS_TOKEN` set, `GET /_dstar/stats` shows the live streams. With
//! `DSTAR_REDIS_URL=redis://127.0.0.1:6379`, several processes share ticks and tabs (see README).

use dstar::axum::extract::State;
use dstar::event::RequestHead;
use dstar::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The topic every ticker stream subscribes to.
pub const TOPIC: &str = "ticker";

/// Shared by the page's handlers and the publisher.
#[derive(Clone, Default)]
pub struct AppState {
    /// Broadcasts ticks to every open stream.
    pub pubsub: PubSub,
    /// The last tick published.
    pub ticks: Arc<AtomicU64>,
}

impl AppState {
    /// Publishes the next tick to every stream (on every node, with Redis).
    pub async fn tick(&self) -> Result<u64, dstar::stream::PublishError> {
        let n = self.ticks.fetch_add(1, Ordering::SeqCst) + 1;
        self.pubsub.publish(TOPIC, Tick(n)).await?;
        Ok(n)
    }
}

/// One tick, as published.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Tick(pub u64);

/// The ticker page: the last tick, then every new one live.
pub struct Ticker {
    tick: u64,
}

#[dstar::page("/ticker", state = AppState, idle_check = "10s")]
impl Ticker {
    /// Renders the current tick. A stream that reconnects (after a restart, a deploy, a network
    /// drop) runs this again and morphs the page, so no tick published meanwhile is missed.
    async fn mount(State(app): State<AppState>) -> Self {
        Ticker {
            tick: app.ticks.load(Ordering::SeqCst),
        }
    }

    fn render(&self) -> Markup {
        let heading = std::env::var("TICKER_HEADING").unwrap_or_else(|_| "Tick".to_owned());
        html! {
            div #ticker data-signals:tick=(self.tick) data-init=(connect()) data-on:online__window=(connect()) {
                h1 { (heading) " " span #tick data-text="$tick" { (self.tick) } }
                button data-on:click=(event("bump")) { "Bump" }
            }
        }
    }

    /// POST /ticker: where this page's stream gets its messages.
    async fn subscribe(State(app): State<AppState>) -> Subscription<Tick> {
        app.pubsub.subscribe(TOPIC)
    }

    /// Each message becomes a patch; the library owns the loop.
    async fn on_message(sse: &mut Sse, tick: Tick) {
        sse.patch_signals(json!({ "tick": tick.0 }));
    }

    /// One live stream per tab. The example has no login, so the scope is fixed.
    fn stream_key(_head: &RequestHead) -> &'static str {
        "ticker"
    }

    /// POST /ticker/_event/bump: one tick to every open stream at once. A failed publish (Redis
    /// down) is logged and shown in the browser console in debug builds.
    #[event]
    async fn bump(State(app): State<AppState>) -> Result<(), dstar::stream::PublishError> {
        app.tick().await.map(|_| ())
    }
}

/// The example's app: the ticker page (and `GET /_dstar/stats` when `DSTAR_STATS_TOKEN` is set).
pub fn app(state: AppState) -> dstar::App {
    dstar::App::new().state(state)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // DSTAR_REDIS_URL=redis://127.0.0.1:6379 shares ticks and tabs with every other process
    let state = AppState {
        pubsub: PubSub::from_env(),
        ..AppState::default()
    };
    let period = std::env::var("TICK_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1000);
    if period > 0 {
        let publisher = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(period));
            loop {
                every.tick().await;
                if let Err(e) = publisher.tick().await {
                    eprintln!("ticker: {e}");
                }
            }
        });
    }
    dstar::serve(app(state)).await
}
