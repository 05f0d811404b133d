use dstar::prelude::*;

struct Counter;

#[dstar::page("/counter")]
impl Counter {
    fn mount() -> Self {
        Counter
    }

    fn render(&self) -> Markup {
        html! { button data-on:click=(event("add", 5)) {} }
    }

    #[event]
    async fn add(sse: &mut Sse) {
        sse.console_log("add");
    }
}

fn main() {}
