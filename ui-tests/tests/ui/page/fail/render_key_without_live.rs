// `render_key` says who shares a live page's render: it means nothing on a page without `live`.
use dstar::prelude::*;

#[derive(Default)]
struct Team;

#[dstar::page("/team")]
impl Team {
    fn render(&self) -> Markup {
        html! { p { "team" } }
    }

    fn render_key(head: &dstar::event::RequestHead) -> String {
        head.uri.path().to_owned()
    }
}

fn main() {}
