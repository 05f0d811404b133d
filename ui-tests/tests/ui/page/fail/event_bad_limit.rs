use dstar::prelude::*;

#[derive(Default)]
struct Avatar;

#[dstar::page("/avatar")]
impl Avatar {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("upload")) { "Upload" } }
    }

    #[event(limit = "4 megabytes")]
    async fn upload(sse: &mut Sse, Signals(s): Signals) {
        sse.console_log(&s.len().to_string());
    }
}

fn main() {}
