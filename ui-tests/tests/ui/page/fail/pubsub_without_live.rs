// `pubsub` only means something on a `live` page.
use dstar::prelude::*;

#[derive(Clone, Default)]
struct Shop {
    pubsub: PubSub,
}

#[derive(Default)]
struct Stock;

#[dstar::page("/stock", state = Shop)]
impl Stock {
    fn render(&self) -> Markup {
        html! { p { "stock" } }
    }

    fn pubsub(shop: &Shop) -> PubSub {
        shop.pubsub.clone()
    }
}

fn main() {}
