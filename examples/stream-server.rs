//! The server `stream-bench` measures: the same ticker stream built with dstar and hand-written
//! with axum + the `datastar` 0.4.1 SDK over a `tokio::sync::broadcast` channel.
//!
//! - `POST /ticker` (dstar page stream, per-tab dedup) and `POST /ticker/_event/bump`
//! - `POST /sdk/stream` (hand-written) and `POST /sdk/bump`
//! - `POST /idle`: an open SSE response that does nothing (the per-connection floor)
//! - `POST /flood/{n}`: publishes `n` ticks to both at once (for the slow-reader run)
//! - `POST /tick/{n}`: publishes tick `n` to the dstar streams (for the deploy run)
//! - `GET /_dstar/stats` (with `DSTAR_STATS_TOKEN` set, as stream-bench does)

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse as AxumSse};
use axum::routing::post;
use dstar::event::RequestHead;
use dstar::prelude::*;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::broadcast;

/// Shared by both versions.
#[derive(Clone)]
pub struct BenchState {
    pubsub: PubSub,
    sdk: broadcast::Sender<u64>,
    ticks: Arc<AtomicU64>,
}

impl BenchState {
    fn next(&self) -> u64 {
        self.ticks.fetch_add(1, Ordering::SeqCst) + 1
    }
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Tick(u64);

#[derive(serde::Serialize)]
struct TickSignals {
    tick: u64,
}

/// The dstar version: a page stream.
pub struct BenchTicker {
    tick: u64,
}

#[dstar::page("/ticker", state = BenchState)]
impl BenchTicker {
    /// The current tick: what a reconnecting stream's catch-up render shows.
    fn mount(State(s): State<BenchState>) -> Self {
        BenchTicker {
            tick: s.ticks.load(Ordering::SeqCst),
        }
    }

    fn render(&self) -> Markup {
        html! { div data-signals:tick=(self.tick) data-init=(connect()) {} }
    }

    async fn subscribe(State(s): State<BenchState>) -> Subscription<Tick> {
        s.pubsub.subscribe("ticks")
    }

    async fn on_message(sse: &mut Sse, tick: Tick) {
        // typed signals: the idiomatic form, and like the hand-written one, no map per message
        sse.patch_signals(TickSignals { tick: tick.0 });
    }

    fn stream_key(_head: &RequestHead) -> &'static str {
        "bench"
    }

    #[event]
    async fn bump(State(s): State<BenchState>) {
        let _ = s.pubsub.publish("ticks", Tick(s.next())).await;
    }
}

/// The hand-written version, as the SDK's own examples do it.
async fn sdk_stream(State(s): State<BenchState>) -> impl IntoResponse {
    let rx = s.sdk.subscribe();
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(n) => {
                    let event = datastar::prelude::PatchSignals::new(format!("{{\"tick\":{n}}}"))
                        .write_as_axum_sse_event();
                    return Some((Ok::<Event, Infallible>(event), rx));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    AxumSse::new(events).keep_alive(KeepAlive::default())
}

/// dstar's core alone: `sse::stream` and a PubSub loop, no page layer, no registry.
async fn core_stream(State(s): State<BenchState>) -> impl IntoResponse {
    let mut sub: Subscription<Tick> = s.pubsub.subscribe("ticks");
    dstar::sse::stream(|sse| async move {
        use dstar::stream::Source;
        while let Some(tick) = sub.recv_message().await {
            if sse.patch_signals(json!({ "tick": tick.0 })).await.is_err() {
                break;
            }
        }
    })
}

/// The floor: an SSE response that stays open and does nothing (hyper's and axum's own cost).
async fn idle() -> impl IntoResponse {
    let events = futures_util::stream::pending::<Result<Event, Infallible>>();
    AxumSse::new(events)
}

async fn sdk_bump(State(s): State<BenchState>) -> &'static str {
    let _ = s.sdk.send(s.next());
    "ok"
}

/// Publishes tick `n` to the dstar streams and makes it the current one (the deploy run drives
/// the ticks from outside, so they continue across a restart).
async fn set_tick(State(s): State<BenchState>, Path(n): Path<u64>) -> &'static str {
    s.ticks.store(n, Ordering::SeqCst);
    let _ = s.pubsub.publish("ticks", Tick(n)).await;
    "ok"
}

async fn flood(State(s): State<BenchState>, Path(n): Path<u64>) -> &'static str {
    for _ in 0..n {
        let tick = s.next();
        let _ = s.pubsub.publish("ticks", Tick(tick)).await;
        let _ = s.sdk.send(tick);
        if tick % 1024 == 0 {
            tokio::task::yield_now().await;
        }
    }
    "ok"
}

/// Both versions in one router.
pub fn app() -> axum::Router {
    let state = BenchState {
        // DSTAR_REDIS_URL turns this into one node of several (the cross-node benchmark)
        pubsub: PubSub::from_env(),
        sdk: broadcast::channel(256).0,
        ticks: Arc::new(AtomicU64::new(0)),
    };
    let extra = axum::Router::new()
        .route("/sdk/stream", post(sdk_stream))
        .route("/sdk/bump", post(sdk_bump))
        .route("/idle", post(idle))
        .route("/core/stream", post(core_stream))
        .route("/flood/{n}", post(flood))
        .route("/tick/{n}", post(set_tick))
        .with_state(state.clone());
    dstar::App::empty()
        .page::<BenchTicker>()
        .state(state)
        .build()
        .merge(extra)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    use dstar::event::RouteInfo;
    let routes = vec![
        RouteInfo {
            method: "POST",
            path: "/ticker",
        },
        RouteInfo {
            method: "POST",
            path: "/ticker/_event/bump",
        },
        RouteInfo {
            method: "POST",
            path: "/sdk/stream",
        },
        RouteInfo {
            method: "POST",
            path: "/sdk/bump",
        },
        RouteInfo {
            method: "POST",
            path: "/idle",
        },
        RouteInfo {
            method: "POST",
            path: "/flood/{n}",
        },
        RouteInfo {
            method: "POST",
            path: "/tick/{n}",
        },
        RouteInfo {
            method: "GET",
            path: "/_dstar/stats",
        },
    ];
    dstar::Server::from_router(app(), routes).run().await
}
