use dstar::prelude::*;

#[derive(Default)]
struct Ticker;

#[dstar::page("/ticker", idle_check = "10 seconds")]
impl Ticker {
    fn render(&self) -> Markup {
        html! {}
    }
}

fn main() {}
