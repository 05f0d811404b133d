use dstar::prelude::*;

struct Counter;

#[dstar::page("/counter")]
impl Counter {
    fn mount() -> Self {
        Counter
    }

    fn render(&self) -> Markup {
        html! {
            button data-on:click=(event("incremnt")) { "+1" }
        }
    }

    #[event]
    async fn increment(sse: &mut Sse) {
        sse.patch_signals(json!({ "count": 1 }));
    }

    #[event]
    async fn reset(sse: &mut Sse) {
        sse.patch_signals(json!({ "count": 0 }));
    }
}

fn main() {}
