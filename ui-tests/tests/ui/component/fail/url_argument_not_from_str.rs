use dstar::prelude::*;

pub struct Picker;

#[dstar::component]
impl Picker {
    pub fn view() -> Markup {
        html! { button data-on:click=(event("pick", vec!["a".to_owned()])) { "Pick" } }
    }

    #[event]
    async fn pick(sse: &mut Sse, #[arg] ids: Vec<String>) {
        sse.console_log(&ids.join(","));
    }
}

fn main() {}
