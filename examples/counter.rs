//! The Quick Start: a counter page in one impl block.
//! Run `cargo run --example counter`, then open http://127.0.0.1:3000/counter.

use dstar::prelude::*;

/// The signals the page's buttons send.
#[derive(serde::Deserialize)]
pub struct CounterSignals {
    count: i64,
}

/// The page's server-side state for one render.
pub struct Counter {
    count: i64,
}

#[dstar::page("/counter", layout = dstar_examples::layout)]
impl Counter {
    /// GET /counter: load data, then render.
    async fn mount() -> Self {
        Counter { count: 0 }
    }

    fn render(&self) -> Markup {
        html! {
            div data-signals:count=(self.count) {
                h1 data-text="$count" {}
                span #history { "—" }
                button data-on:click=(event("increment")) { "+1" }
                button data-on:click=(event("reset")) { "Reset" }
            }
        }
    }

    /// POST /counter/_event/increment: the SSE response is already started.
    #[event]
    async fn increment(sse: &mut Sse, Signals(signals): Signals<CounterSignals>) {
        let Some(count) = signals.count.checked_add(1) else {
            sse.patch_elements(history("the count is as high as it goes"));
            return;
        };
        sse.patch_signals(json!({ "count": count }))
            .patch_elements(history(&format!("+1 → {count}")));
    }

    /// POST /counter/_event/reset
    #[event]
    async fn reset(sse: &mut Sse) {
        sse.patch_signals(json!({ "count": 0 }))
            .patch_elements(history("Reset"))
            .console_log("Counter reset");
    }
}

/// A colocated component, used by the handlers' patches.
fn history(last: &str) -> Markup {
    html! { span #history { "Last: " (last) } }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    dstar::serve(dstar::App::new()).await
}
