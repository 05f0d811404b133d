//! A typo in the attribute is reported without hiding the mistake in the body.
use dstar::prelude::*;

#[derive(Default)]
struct Counter;

#[dstar::page("/counter", titel = "Counter")]
impl Counter {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("incremnt")) { "+1" } }
    }

    #[event]
    async fn increment(sse: &mut Sse) {
        sse.console_log("+1");
    }
}

fn main() {}
