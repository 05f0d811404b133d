//! The Quick Start counter written by hand: plain axum routes, the `datastar` SDK for the events,
//! and an `html!` template. The peer `bench/compile.sh` times an edit of `counter.rs` against.
//! Run `cargo run --example peer-counter`, then open http://127.0.0.1:3000/counter.

use axum::response::sse::{Event, Sse};
use axum::response::{Html, IntoResponse};
use datastar::axum::ReadSignals;
use datastar::prelude::{ExecuteScript, PatchElements, PatchSignals};
use dstar::prelude::{DOCTYPE, Markup, html};
use std::convert::Infallible;

/// The signals the page's buttons send.
#[derive(serde::Deserialize)]
struct CounterSignals {
    count: i64,
}

async fn page() -> impl IntoResponse {
    let count = 0;
    Html(
        html! {
            (DOCTYPE)
            html {
                head {
                    title { "Counter" }
                    script type="module" src=(dstar::page::client_src()) {}
                }
                body {
                    div data-signals:count=(count) {
                        h1 data-text="$count" {}
                        span #history { "—" }
                        button data-on:click="@post('/counter/_event/increment')" { "+1" }
                        button data-on:click="@post('/counter/_event/reset')" { "Reset" }
                    }
                }
            }
        }
        .into_string(),
    )
}

fn history(last: &str) -> Markup {
    html! { span #history { "Last: " (last) } }
}

fn events(events: Vec<Event>) -> impl IntoResponse {
    Sse::new(futures_util::stream::iter(
        events.into_iter().map(Ok::<_, Infallible>),
    ))
}

async fn increment(ReadSignals(signals): ReadSignals<CounterSignals>) -> impl IntoResponse {
    let count = signals.count + 1;
    events(vec![
        PatchSignals::new(format!("{{\"count\":{count}}}")).write_as_axum_sse_event(),
        PatchElements::new(history(&format!("+1 → {count}")).into_string())
            .write_as_axum_sse_event(),
    ])
}

async fn reset() -> impl IntoResponse {
    events(vec![
        PatchSignals::new("{\"count\":0}").write_as_axum_sse_event(),
        PatchElements::new(history("Reset").into_string()).write_as_axum_sse_event(),
        ExecuteScript::new("console.log(\"Counter reset\")").write_as_axum_sse_event(),
    ])
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let routes = dstar::routes! {
        "/counter" => get(page),
        "/counter/_event/increment" => post(increment),
        "/counter/_event/reset" => post(reset),
    };
    dstar::Server::from_routes(routes).run().await
}
