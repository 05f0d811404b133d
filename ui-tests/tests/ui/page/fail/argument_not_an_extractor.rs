use dstar::prelude::*;

#[derive(serde::Deserialize)]
struct CounterSignals {
    count: i64,
}

struct Counter;

#[dstar::page("/counter")]
impl Counter {
    fn mount() -> Self {
        Counter
    }

    fn render(&self) -> Markup {
        html! {}
    }

    #[event]
    async fn increment(sse: &mut Sse, signals: CounterSignals) {
        sse.patch_signals(json!({ "count": signals.count + 1 }));
    }
}

fn main() {}
