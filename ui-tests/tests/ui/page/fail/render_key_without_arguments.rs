// `render_key` reads the viewer's request: a key of no arguments would be one key for everyone,
// which a `mount` that reads only `State` already gets by itself.
use dstar::prelude::*;

#[derive(Clone, Default)]
struct Arena {
    pubsub: PubSub,
}

impl dstar::axum::extract::FromRef<Arena> for PubSub {
    fn from_ref(arena: &Arena) -> PubSub {
        arena.pubsub.clone()
    }
}

#[derive(Default)]
struct Team;

#[dstar::page("/team", state = Arena, live = "team")]
impl Team {
    fn render(&self) -> Markup {
        html! { p data-init=(connect()) { "team" } }
    }

    fn authorize(_head: &dstar::event::RequestHead) -> bool {
        true
    }

    fn render_key() -> String {
        "everyone".to_owned()
    }
}

fn main() {}
