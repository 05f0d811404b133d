// A live page re-renders itself on every message: `subscribe`/`on_message` make no sense there.
use dstar::axum::extract::State;
use dstar::prelude::*;

#[derive(Clone, Default)]
struct Board {
    pubsub: PubSub,
}

#[derive(Default)]
struct Scores;

#[dstar::page("/scores", state = Board, live = "scores")]
impl Scores {
    fn render(&self) -> Markup {
        html! { p { "scores" } }
    }

    async fn subscribe(State(board): State<Board>) -> Subscription<u32> {
        board.pubsub.subscribe("scores")
    }

    async fn on_message(sse: &mut Sse, score: u32) {
        sse.patch_signals(json!({ "score": score }));
    }
}

fn main() {}
