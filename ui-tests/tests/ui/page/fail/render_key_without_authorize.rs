// A page that names who shares its render must say who may see it: with `render_key`, no
// viewer's own `mount` runs, so only `authorize` can refuse a viewer.
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

struct Team {
    team: String,
}

#[dstar::page("/teams/{team}", state = Arena, live = "teams")]
impl Team {
    async fn mount(dstar::axum::extract::Path(team): dstar::axum::extract::Path<String>) -> Self {
        Team { team }
    }

    fn render(&self) -> Markup {
        html! { p data-init=(connect()) { (self.team) } }
    }

    fn render_key(head: &dstar::event::RequestHead) -> String {
        head.uri.path().to_owned()
    }
}

fn main() {}
