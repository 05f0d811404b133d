//! Three versions of the counter's `increment` endpoint, for `bench/load.sh`:
//!
//! - `POST /dstar/increment`: dstar's `Signals` extractor and `Sse` batch;
//! - `POST /sdk/increment`: hand-written axum + the `datastar` 0.4.1 SDK;
//! - `POST /ceiling/increment`: the same bytes, precomputed (the ceiling).
//!
//! Each reads `{"count":41}`, patches the signal `count` to 42 and patches the `#history` span.

use axum::Router;
use axum::response::IntoResponse;
use axum::response::sse::{Event, Sse as AxumSse};
use axum::routing::post;
use dstar::prelude::*;
use serde::Deserialize;
use std::convert::Infallible;

#[derive(Deserialize)]
struct Counter {
    count: i64,
}

async fn with_dstar(Signals(c): Signals<Counter>) -> Sse {
    let count = c.count + 1;
    let mut sse = Sse::with_capacity(256);
    sse.patch_signals(json!({ "count": count }))
        .patch_elements(html! { span #history { "Last: +1 → " (count) } });
    sse
}

async fn with_sdk(
    datastar::axum::ReadSignals(c): datastar::axum::ReadSignals<Counter>,
) -> impl IntoResponse {
    use datastar::prelude::{PatchElements, PatchSignals};
    let count = c.count + 1;
    let signals = PatchSignals::new(format!("{{\"count\":{count}}}"));
    let history = PatchElements::new(format!("<span id=\"history\">Last: +1 → {count}</span>"));
    let events: [Result<Event, Infallible>; 2] = [
        Ok(signals.write_as_axum_sse_event()),
        Ok(history.write_as_axum_sse_event()),
    ];
    AxumSse::new(futures_util::stream::iter(events))
}

/// The exact bytes the dstar handler sends for `{"count":41}`.
fn precomputed() -> bytes::Bytes {
    let mut sse = Sse::new();
    sse.patch_signals(json!({ "count": 42 }))
        .patch_elements(html! { span #history { "Last: +1 → " (42) } });
    sse.into_bytes()
}

/// The three endpoints.
pub fn app() -> Router {
    let bytes = precomputed();
    let ceiling = move || {
        let bytes = bytes.clone();
        async move {
            (
                [
                    ("content-type", "text/event-stream"),
                    ("cache-control", "no-cache"),
                ],
                bytes,
            )
        }
    };
    Router::new()
        .route("/dstar/increment", post(with_dstar))
        .route("/sdk/increment", post(with_sdk))
        .route("/ceiling/increment", post(ceiling))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    use dstar::event::RouteInfo;
    let routes = vec![
        RouteInfo {
            method: "POST",
            path: "/dstar/increment",
        },
        RouteInfo {
            method: "POST",
            path: "/sdk/increment",
        },
        RouteInfo {
            method: "POST",
            path: "/ceiling/increment",
        },
    ];
    dstar::Server::from_router(app(), routes).run().await
}
