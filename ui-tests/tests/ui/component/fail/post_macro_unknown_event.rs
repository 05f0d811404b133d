use dstar::prelude::*;

pub struct Drawer;

#[dstar::component]
impl Drawer {
    pub fn view() -> Markup {
        html! {}
    }

    #[event]
    async fn close(sse: &mut Sse) {
        sse.remove_elements("#drawer");
    }
}

fn main() {
    let _ = dstar::post!(Drawer, "clsoe");
}
