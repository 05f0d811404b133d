// A live page listens on a PubSub in its state: without `state = T` there is nowhere to find it.
use dstar::prelude::*;

#[derive(Default)]
struct Scores;

#[dstar::page("/scores", live = "scores")]
impl Scores {
    fn render(&self) -> Markup {
        html! { p data-init=(connect()) { "scores" } }
    }
}

fn main() {}
