use dstar::prelude::*;

pub struct Drawer;

#[dstar::component]
impl Drawer {
    pub fn view() -> Markup {
        html! {}
    }

    #[event(name = "save")]
    async fn save_title(sse: &mut Sse) {
        sse.console_log("title");
    }

    #[event(name = "save")]
    async fn save_body(sse: &mut Sse) {
        sse.console_log("body");
    }
}

fn main() {}
