use dstar::prelude::*;

struct Counter;

#[dstar::page("counter/")]
impl Counter {
    fn mount() -> Self {
        Counter
    }

    fn render(&self) -> Markup {
        html! {}
    }
}

fn main() {}
