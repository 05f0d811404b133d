//! A name that is no identifier gets the event-name error, not a panic in the macro.
use dstar::prelude::*;

#[derive(Default)]
struct Counter;

#[dstar::page("/counter")]
impl Counter {
    fn render(&self) -> Markup {
        html! {}
    }

    #[event(name = "x²")]
    async fn square(sse: &mut Sse) {
        sse.console_log("²");
    }
}

fn main() {}
