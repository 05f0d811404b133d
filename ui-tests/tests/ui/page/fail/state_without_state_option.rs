use dstar::axum::extract::State;
use dstar::prelude::*;

#[derive(Clone)]
struct Db;

#[derive(Default)]
struct Inbox;

#[dstar::page("/inbox")]
impl Inbox {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("refresh")) { "Refresh" } }
    }

    #[event]
    async fn refresh(sse: &mut Sse, State(_db): State<Db>) {
        sse.console_log("refreshed");
    }
}

fn main() {}
