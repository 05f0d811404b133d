use dstar::prelude::*;

struct Counter;

#[dstar::page("/counter")]
impl Counter {
    fn mount() -> Self {
        Counter
    }

    fn render(&self) -> Markup {
        html! {}
    }

    #[event(name = "go")]
    async fn start(sse: &mut Sse) {
        sse.console_log("start");
    }

    #[event(name = "go")]
    async fn begin(sse: &mut Sse) {
        sse.console_log("begin");
    }
}

fn main() {}
