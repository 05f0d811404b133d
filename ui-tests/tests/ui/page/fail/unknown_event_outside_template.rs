use dstar::prelude::*;

struct Counter;

#[dstar::page("/counter")]
impl Counter {
    fn mount() -> Self {
        Counter
    }

    fn render(&self) -> Markup {
        let action = event("rest");
        html! { button data-on:click=(action) { "Reset" } }
    }

    #[event]
    async fn reset(sse: &mut Sse) {
        sse.patch_signals(json!({ "count": 0 }));
    }
}

fn main() {}
