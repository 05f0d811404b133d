// `frame` sets how often a live page re-renders; this page is not live.
use dstar::prelude::*;

#[derive(Default)]
struct Plain;

#[dstar::page("/plain", frame = "50ms")]
impl Plain {
    fn render(&self) -> Markup {
        html! { p { "plain" } }
    }
}

fn main() {}
