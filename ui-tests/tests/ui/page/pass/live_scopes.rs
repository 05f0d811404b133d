// The shapes a live page's shared render takes: a `mount` that reads the path (one render per
// URI), and a `render_key` that names who shares one (async, with extractors).
use dstar::axum::extract::{Path, State};
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

struct Room {
    id: u32,
}

#[dstar::page("/rooms/{id}", state = Arena, live = "rooms")]
impl Room {
    async fn mount(State(_arena): State<Arena>, Path(id): Path<u32>) -> Self {
        Room { id }
    }

    fn render(&self) -> Markup {
        html! { p data-init=(connect()) { "room " (self.id) } }
    }
}

struct Team {
    team: String,
}

#[dstar::page("/team", state = Arena, live = "team")]
impl Team {
    async fn mount(headers: dstar::axum::http::HeaderMap) -> Self {
        Team {
            team: format!("{:?}", headers.get("x-team")),
        }
    }

    fn render(&self) -> Markup {
        html! { p data-init=(connect()) { (self.team) } }
    }

    fn authorize(head: &dstar::event::RequestHead) -> bool {
        head.headers.contains_key("x-team")
    }

    async fn render_key(
        headers: dstar::axum::http::HeaderMap,
        State(_arena): State<Arena>,
    ) -> String {
        format!("{:?}", headers.get("x-team"))
    }
}

fn main() {
    let _ = dstar::App::new().state(Arena::default()).build();
}
