use dstar::prelude::*;

#[derive(Default)]
struct Search;

#[dstar::page("/search")]
impl Search {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("find")) { "Find" } }
    }

    #[event(method = "get", limit = "1MB")]
    async fn find(sse: &mut Sse, Signals(s): Signals) {
        sse.console_log(&s.len().to_string());
    }
}

fn main() {}
