use dstar::prelude::*;

pub struct Drawer;

#[dstar::component]
impl Drawer {
    pub fn view(id: u64) -> Markup {
        html! { input data-on:change=(event("change_titel", id)); }
    }

    #[event]
    async fn change_title(sse: &mut Sse, #[arg] id: u64) {
        sse.console_log(id);
    }
}

fn main() {}
