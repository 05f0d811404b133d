//! The functional core without pages or dispatch: a counter on plain axum routes, and a ticker
//! whose stream loop is written by hand.
//!
//! ```text
//! cargo run --example plain      # then open http://127.0.0.1:3000/
//! ```

use axum::Router;
use axum::response::IntoResponse;
use dstar::prelude::*;
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::broadcast;

#[derive(Deserialize)]
struct Counter {
    #[serde(default)]
    count: i64,
}

async fn page() -> Markup {
    html! {
        (DOCTYPE)
        html {
            head {
                title { "dstar without dispatch" }
                script type="module" src=(dstar::page::client_src())
                    integrity=[dstar::page::client_integrity()]
                    crossorigin=[dstar::page::client_integrity().map(|_| "anonymous")] {}
            }
            body {
                div data-signals:count="0" {
                    h1 data-text="$count" {}
                    span #history { "—" }
                    button data-on:click=(actions::post("/counter/increment")) { "+1" }
                }
                div data-signals:tick="0"
                    data-init=(actions::post("/ticker/stream").options("{retryMaxCount: Infinity}"))
                    data-on:online__window=(actions::post("/ticker/stream").options("{retryMaxCount: Infinity}")) {
                    "tick: " span data-text="$tick" {}
                }
            }
        }
    }
}

/// `POST /counter/increment`: read signals, answer with one batch of events.
async fn increment(Signals(c): Signals<Counter>) -> Sse {
    let count = c.count.saturating_add(1);
    let mut sse = Sse::new();
    sse.patch_signals(json!({ "count": count }))
        .patch_elements(html! { span #history { "Last: +1 → " (count) } });
    sse
}

/// `POST /ticker/stream`: a hand-rolled loop over a broadcast channel.
async fn ticker(
    axum::extract::State(ticks): axum::extract::State<broadcast::Sender<u64>>,
) -> impl IntoResponse {
    let mut rx = ticks.subscribe();
    dstar::sse::stream(|sse| async move {
        loop {
            tokio::select! {
                tick = rx.recv() => match tick {
                    Ok(n) => {
                        if sse.patch_signals(json!({ "tick": n })).await.is_err() {
                            break;
                        }
                    }
                    // a slow stream skips ticks instead of holding the publisher up
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                // liveness check every 30 s: a dead peer is noticed on the write
                _ = tokio::time::sleep(Duration::from_secs(30)) => {
                    if sse.check_connection().await.is_err() {
                        break;
                    }
                }
            }
        }
    })
}

/// The example's routes, listed for start-up by `dstar::routes!`; the tick source is passed in
/// so tests can drive it.
pub fn routes(ticks: broadcast::Sender<u64>) -> dstar::Routes {
    dstar::routes! {
        "/" => get(page),
        "/counter/increment" => post(increment),
        "/ticker/stream" => post(ticker),
    }
    .with_state(ticks)
}

/// The example's router.
pub fn app(ticks: broadcast::Sender<u64>) -> Router {
    routes(ticks).into_parts().0
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (ticks, _) = broadcast::channel(16);
    let publisher = ticks.clone();
    tokio::spawn(async move {
        for n in 1.. {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let _ = publisher.send(n);
        }
    });
    dstar::Server::from_routes(routes(ticks)).run().await
}
