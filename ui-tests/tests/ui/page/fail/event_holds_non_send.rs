use dstar::prelude::*;
use std::rc::Rc;

#[derive(Default)]
struct Notes;

#[dstar::page("/notes")]
impl Notes {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("save")) { "Save" } }
    }

    #[event]
    async fn save(sse: &mut Sse) {
        let draft = Rc::new(String::from("draft"));
        std::future::ready(()).await;
        sse.console_log(draft.as_str());
    }
}

fn main() {}
