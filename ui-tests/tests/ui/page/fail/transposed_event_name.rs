use dstar::prelude::*;

#[derive(Default)]
struct Counter;

#[dstar::page("/counter")]
impl Counter {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("icnrement")) { "+1" } }
    }

    #[event]
    async fn increment(sse: &mut Sse) {
        sse.console_log("+1");
    }
}

fn main() {}
