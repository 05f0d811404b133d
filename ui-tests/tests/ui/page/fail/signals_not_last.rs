use dstar::axum::http::HeaderMap;
use dstar::prelude::*;

#[derive(serde::Deserialize)]
struct Form {
    text: String,
}

#[derive(Default)]
struct Notes;

#[dstar::page("/notes")]
impl Notes {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("save")) { "Save" } }
    }

    #[event]
    async fn save(sse: &mut Sse, Signals(form): Signals<Form>, headers: HeaderMap) {
        sse.console_log(&format!("{} {}", form.text, headers.len()));
    }
}

fn main() {}
