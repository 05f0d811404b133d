// With `on_connect`, `on_disconnect` gets its value back as a second argument.
use dstar::prelude::*;
use dstar::stream::EndReason;

#[derive(Clone, Default)]
struct Lobby {
    pubsub: PubSub,
}

impl dstar::axum::extract::FromRef<Lobby> for PubSub {
    fn from_ref(lobby: &Lobby) -> PubSub {
        lobby.pubsub.clone()
    }
}

#[derive(Default)]
struct Room;

#[dstar::page("/room", state = Lobby, live = "room")]
impl Room {
    fn render(&self) -> Markup {
        html! { div data-init=(connect()) {} }
    }

    async fn on_connect() -> u64 {
        7
    }

    fn on_disconnect(reason: EndReason) {
        let _ = reason;
    }
}

fn main() {}
