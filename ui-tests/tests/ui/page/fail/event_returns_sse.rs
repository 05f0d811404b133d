use dstar::prelude::*;

#[derive(Default)]
struct Counter;

#[dstar::page("/counter")]
impl Counter {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("reset")) { "Reset" } }
    }

    #[event]
    async fn reset() -> Sse {
        let mut sse = Sse::new();
        sse.patch_signals(json!({ "count": 0 }));
        sse
    }
}

fn main() {}
