use dstar::prelude::*;

#[derive(Default)]
struct Ticker;

#[dstar::page("/ticker")]
impl Ticker {
    fn render(&self) -> Markup {
        html! { div data-init=(connect()) {} }
    }
}

fn main() {}
